"""Style transfer against the structure of the official PyTorch neural-style tutorial.

    python bench/style_transfer.py [--weights PATH|random] [--budget-256 S] [--budget-512 S]

Both run in this process on the same pictures (assets/photos/chelsea.jpg in the style
of assets/styles/hokusai-great-wave.jpg) with the same VGG19 weights and the same
layers: content conv4_2, style conv1_1 ... conv5_1 (post-ReLU), TV weight 0. Printed:
  1. time per L-BFGS evaluation at 256 and 512 px (forward + backward through VGG19,
     timed from one evaluation's start to the next so that each side's optimiser work
     counts), with the FLOP/s it reaches against this machine's fp32 matmul peak. The
     FLOPs are those of the direct convolution; the studio computes most layers by
     Winograd's F(4x4, 3x3) with a quarter of the multiplications, so its figure is an
     effective rate and can pass the peak;
  2. the loss each reaches within the same wall-clock budget, measured on its final
     picture by one shared loss function (plain torchvision layers, full size).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image, ImageOps
from torch import nn
from torchvision.models import vgg19

from studio.imaging.files import fit_within
from studio.tasks.style.engine import CONTENT_LAYERS, STYLE_LAYERS, VGGFeatures, gram, stylize, to_tensor
from studio.models.vgg19 import LAYERS, MEAN, STD, reference_features, resolve_weights

ASSETS = Path(__file__).resolve().parents[1] / "assets"
STYLE_WEIGHT = 1e6


# ---- the tutorial's structure (Normalization, ContentLoss, StyleLoss in an nn.Sequential) ----
def gram_matrix(x: torch.Tensor) -> torch.Tensor:
    a, b, c, d = x.size()
    features = x.view(a * b, c * d)
    return torch.mm(features, features.t()).div(a * b * c * d)


class ContentLoss(nn.Module):
    def __init__(self, target: torch.Tensor):
        super().__init__()
        self.target = target.detach()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.loss = F.mse_loss(x, self.target)
        return x


class StyleLoss(nn.Module):
    def __init__(self, target_feature: torch.Tensor):
        super().__init__()
        self.target = gram_matrix(target_feature).detach()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.loss = F.mse_loss(gram_matrix(x), self.target)
        return x


class Normalization(nn.Module):
    def __init__(self):
        super().__init__()
        self.mean = torch.tensor(MEAN).view(-1, 1, 1)
        self.std = torch.tensor(STD).view(-1, 1, 1)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        return (img - self.mean) / self.std


def tutorial_model(state: dict, style_img: torch.Tensor, content_img: torch.Tensor):
    """The tutorial's get_style_model_and_losses, with losses after our layers' ReLUs."""
    cnn = vgg19().features.eval()
    cnn.load_state_dict(state, strict=False)
    name_of = {LAYERS[k] + 1: k for k in LAYERS}  # ReLU index -> conv name
    model = nn.Sequential(Normalization())
    content_losses, style_losses = [], []
    for i, layer in enumerate(cnn):
        if isinstance(layer, nn.ReLU):
            layer = nn.ReLU(inplace=False)
        model.add_module(str(i), layer)
        name = name_of.get(i)
        if name in CONTENT_LAYERS:
            loss = ContentLoss(model(content_img).detach())
            model.add_module(f"content_{name}", loss)
            content_losses.append(loss)
        if name in STYLE_LAYERS:
            loss = StyleLoss(model(style_img).detach())
            model.add_module(f"style_{name}", loss)
            style_losses.append(loss)
        if len(content_losses) == len(CONTENT_LAYERS) and len(style_losses) == len(STYLE_LAYERS):
            break
    model.requires_grad_(False)
    return model, style_losses, content_losses


class OutOfBudget(Exception):
    """Raised inside the closure when the time or evaluation budget is spent."""


def run_tutorial(state, content: Image.Image, style: Image.Image, size: int, budget_s: float | None, iterations: int | None):
    """The tutorial's run_style_transfer: L-BFGS on the picture, clamped inside the closure."""
    c = to_tensor(fit_within(content, size), torch.device("cpu"))
    s = to_tensor(fit_within(style, size), torch.device("cpu"))
    model, style_losses, content_losses = tutorial_model(state, s, c)
    img = c.contiguous().clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS([img])  # the tutorial's defaults: max_iter 20 evaluations per step
    evaluations = [0]
    starts = []  # perf_counter at the start of each evaluation
    grad_scale: list[float] = []
    t0 = time.monotonic()

    def closure():
        # One tutorial step runs up to 20 evaluations: check the budget at each one.
        if budget_s is not None and time.monotonic() - t0 >= budget_s or \
                iterations is not None and evaluations[0] >= iterations:
            raise OutOfBudget
        starts.append(time.perf_counter())
        with torch.no_grad():
            img.clamp_(0, 1)
        optimizer.zero_grad()
        model(img)
        loss = STYLE_WEIGHT * sum(sl.loss for sl in style_losses) / len(style_losses) + \
            sum(cl.loss for cl in content_losses) / len(content_losses)
        loss.backward()
        evaluations[0] += 1
        # The one change to the tutorial: its objective rescaled to a largest first gradient
        # of 1, as the studio does. torch's L-BFGS has absolute thresholds (tolerance_grad
        # 1e-7, curvature pairs need y.s > 1e-10); on small gradients (random weights, large
        # pictures) the tutorial as written stops moving, and the race would measure that.
        if not grad_scale:
            grad_scale.append(1.0 / max(img.grad.abs().max().item(), 1e-30))
        img.grad.mul_(grad_scale[0])
        return loss.detach() * grad_scale[0]

    try:
        while True:
            optimizer.step(closure)
    except OutOfBudget:
        pass
    with torch.no_grad():
        img.clamp_(0, 1)
    # Start to start: an evaluation's time includes the optimiser's own work after it,
    # as the studio's per-step times do.
    return img.detach(), [b - a for a, b in zip(starts, starts[1:])], evaluations[0]


def run_ours(state_source, content, style, size, budget_s, iterations, multiscale):
    """studio.stylize with its defaults (L-BFGS through a sigmoid) and TV weight 0."""
    times, last = [], None
    t0 = time.monotonic()
    job = stylize(content, style, size=size, steps=5000 if iterations is None else iterations, tv_weight=0.0,
                  multiscale=multiscale, weights=state_source, image_every=1)
    previous = time.perf_counter()
    for step in job:
        now = time.perf_counter()
        times.append(now - previous)
        previous = now
        last = step.image
        if budget_s is not None and time.monotonic() - t0 >= budget_s:
            job.close()
            break
    return to_tensor(last, torch.device("cpu")), times


def shared_loss(state, picture: torch.Tensor, content: Image.Image, style: Image.Image, size: int) -> float:
    """One definition for both: the content + weighted style loss of a picture at `size`."""
    taps = list(dict.fromkeys([*CONTENT_LAYERS, *STYLE_LAYERS]))
    c = to_tensor(fit_within(content, size), torch.device("cpu"))
    s = to_tensor(fit_within(style, size), torch.device("cpu"))
    with torch.no_grad():
        fp, fc, fs = (reference_features(state, x, taps) for x in (picture, c, s))
        content_term = sum(F.mse_loss(fp[k], fc[k]) for k in CONTENT_LAYERS) / len(CONTENT_LAYERS)
        style_term = sum(F.mse_loss(gram_matrix(fp[k]), gram_matrix(fs[k])) for k in STYLE_LAYERS) / len(STYLE_LAYERS)
    return float(content_term + STYLE_WEIGHT * style_term)


def vgg_flops(h: int, w: int) -> float:
    """FLOPs of one forward through conv1_1..conv5_1 (the deepest layer used) at h x w."""
    total, cin = 0.0, 3
    deepest = max(LAYERS[t] for t in STYLE_LAYERS + CONTENT_LAYERS)
    for name, index in LAYERS.items():
        if index > deepest:
            break
        block = int(name[4])
        cout = [64, 128, 256, 512, 512][block - 1]
        scale = 2 ** (block - 1)
        total += 2 * cin * cout * 9 * (h // scale) * (w // scale)
        cin = cout
    return total


def matmul_peak() -> float:
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(10):
        t = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t)
    return 2 * 2048**3 / min(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", default="random", help="VGG19 weights file, or 'random'")
    p.add_argument("--iterations", type=int, default=6, help="timed evaluations per method and size")
    p.add_argument("--budget-256", type=float, default=30.0, help="seconds of optimisation at 256 px")
    p.add_argument("--budget-512", type=float, default=90.0, help="seconds of optimisation at 512 px")
    args = p.parse_args()
    state, source = resolve_weights(args.weights)
    content = Image.open(ASSETS / "photos/chelsea.jpg").convert("RGB")
    # The tutorial needs both pictures the same size: crop the painting to the photo's shape.
    style = ImageOps.fit(Image.open(ASSETS / "styles/hokusai-great-wave.jpg").convert("RGB"), content.size)
    peak = matmul_peak()
    print(f"machine: {platform.machine()} {platform.processor()}, {os.cpu_count()} cpus, {torch.get_num_threads()} "
          f"torch threads, torch {torch.__version__}; fp32 matmul peak {peak / 1e9:.0f} GFLOP/s; weights: {source}")

    print("\n1. time per evaluation (forward + backward), median after one warm-up")
    per_step = {}
    for size in (256, 512):
        picture = fit_within(content, size)
        flops = 2 * vgg_flops(picture.height, picture.width)  # input gradients only: backward ~ forward
        _, ref_times, _ = run_tutorial(state, content, style, size, None, args.iterations + 1)
        _, our_times = run_ours(args.weights, content, style, size, None, args.iterations + 1, multiscale=False)
        ref, ours = statistics.median(ref_times[1:]), statistics.median(our_times[1:])
        per_step[size] = ours
        print(f"  {size} px: tutorial {ref * 1000:7.0f} ms, studio {ours * 1000:7.0f} ms, speed-up {ref / ours:.2f}x; "
              f"studio reaches {flops / ours / 1e9:.0f} effective GFLOP/s = {flops / ours / peak:.0%} of the matmul peak "
              f"(the tutorial {flops / ref / 1e9:.0f} = {flops / ref / peak:.0%})")

    print("\n2. loss within the same wall-clock budget (shared loss function, lower is better)")
    for size, budget in ((256, args.budget_256), (512, args.budget_512)):
        ref_img, _, evaluations = run_tutorial(state, content, style, size, budget, None)
        ref_loss = shared_loss(state, ref_img, content, style, size)
        rows = [f"  {size} px, {budget:.0f} s: tutorial {ref_loss:.4g} ({evaluations} evaluations)"]
        for multiscale in (True, False):
            # Plan the steps to fit the budget: a half-size step costs about a quarter of a full one,
            # and multiscale spends half its steps at half size.
            cost = 0.625 if multiscale else 1.0
            steps = max(2, int(budget / (per_step[size] * cost)))
            img, times = run_ours(args.weights, content, style, size, budget * 1.5, steps, multiscale)
            loss = shared_loss(state, img, content, style, size)
            rows.append(f"studio {'multiscale' if multiscale else 'single-scale'} {loss:.4g} "
                        f"({len(times)} steps, {loss / ref_loss:.2f} of the tutorial's)")
        print("; ".join(rows))


if __name__ == "__main__":
    main()
