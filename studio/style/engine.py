"""Gatys-style neural style transfer as an iterator of steps.

The picture is optimised directly: x = sigmoid(u) keeps it in [0, 1] without clamping
(clamping inside the closure makes L-BFGS spike). Losses, following the PyTorch
neural-style tutorial's normalisation so that one set of weights works at every size:
  content  mean squared difference of `conv4_2` activations
  style    mean over layers of the mean squared difference of Gram matrices,
           each Gram divided by C*H*W of its layer
  tv       mean squared difference of neighbouring pixels
Coarse-to-fine: optimise at half size, upsample, continue at full size.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import torch
import torch.nn.functional as F
from PIL import Image

from ..device import pick_device
from ..errors import StudioError
from ..imageio import fit_within, open_image
from ..memory import reuse_large_buffers
from .vgg import VGGFeatures, resolve_weights

CONTENT_LAYERS = ("conv4_2",)
STYLE_LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")
OPTIMIZERS = ("lbfgs", "adam")
ADAM_LR = 0.1  # on the logit of the picture; about 0.025 on [0, 1] mid-grey
MAX_SIZE, MIN_SIZE, MAX_STEPS = 2048, 32, 5000


@dataclass
class StyleStep:
    """One optimisation step: losses so far, and (sometimes) the current picture."""

    step: int  # 1-based, over all scales
    steps: int
    size: int  # longer side of the picture being optimised now
    content: float
    style: float
    tv: float
    total: float
    seconds: float
    image: Image.Image | None = None
    notes: list[str] = field(default_factory=list)  # things the user should know (first step only)
    weights_source: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"step": self.step, "style": self.style, "content": self.content, "tv": self.tv,
                "total": self.total, "seconds": round(self.seconds, 3)}


class _Gram(torch.autograd.Function):
    """G = f^T f for f (N, C), with the backward as one matmul: dL/df = f (dG + dG^T)."""

    @staticmethod
    def forward(ctx, f: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(f)
        return f.t() @ f

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (f,) = ctx.saved_tensors
        return f @ (grad + grad.t())


def gram(feature: torch.Tensor) -> torch.Tensor:
    """(1, C, H, W) -> (C, C) Gram matrix divided by C*H*W.

    For a channels-last map, (H*W, C) is a free view of its memory, so no copy is made.
    """
    _, c, h, w = feature.shape
    flat = feature.permute(0, 2, 3, 1).reshape(h * w, c)  # free for channels-last
    return _Gram.apply(flat) / (c * h * w)


def total_variation(x: torch.Tensor) -> torch.Tensor:
    return (x[..., 1:, :] - x[..., :-1, :]).square().mean() + (x[..., :, 1:] - x[..., :, :-1]).square().mean()


# YIQ for colour preservation: transfer on luminance (Y) only, keep the content's chroma (I, Q).
_RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
_YIQ_TO_RGB = torch.linalg.inv(_RGB_TO_YIQ)


def rgb_to_yiq(x: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,bjhw->bihw", _RGB_TO_YIQ.to(x), x)


def yiq_to_rgb(x: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,bjhw->bihw", _YIQ_TO_RGB.to(x), x)


def luminance(x: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) -> the luminance repeated on 3 channels."""
    return rgb_to_yiq(x)[:, :1].expand(-1, 3, -1, -1).contiguous()


def to_tensor(image: Image.Image, device: torch.device) -> torch.Tensor:
    t = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8).view(image.height, image.width, 3)
    return t.permute(2, 0, 1)[None].float().div(255).to(device)  # (1, 3, H, W) in [0, 1]


def to_image(x: torch.Tensor) -> Image.Image:
    array = (x[0].detach().clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(array, "RGB")


_features_cache: dict[tuple, tuple[VGGFeatures, str]] = {}
_cache_lock = threading.Lock()


def features_net(weights: str | Path | None, taps: Sequence[str], device: torch.device) -> tuple[VGGFeatures, str]:
    """A VGGFeatures for these weights and layers, built once per process."""
    source_key = str(weights) if weights is not None else None
    key = (source_key, tuple(taps), str(device))
    with _cache_lock:
        if key not in _features_cache:
            state, source = resolve_weights(weights)
            _features_cache.clear()  # keep one network: they are 80 MB each
            _features_cache[key] = (VGGFeatures(state, list(taps)).to(device), source)
        return _features_cache[key]


def _check(name: str, value: Any, lo: float, hi: float, integer: bool = False) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise StudioError(f"{name} must be a number, got {value!r}.") from None
    if not math.isfinite(number) or not lo <= number <= hi or (integer and number != int(number)):
        kind = "a whole number" if integer else "a number"
        raise StudioError(f"{name} must be {kind} from {lo:g} to {hi:g}, got {value!r}.")
    return int(number) if integer else number


def stylize(content: Any, style: Any | Sequence[Any], *, size: int = 256, steps: int = 100, optimizer: str = "lbfgs",
            style_weight: float = 1e6, content_weight: float = 1.0, tv_weight: float = 10.0,
            style_blend: Sequence[float] | None = None, style_scale: float = 1.0, preserve_colors: bool = False,
            init: str = "content", multiscale: bool = True, seed: int | None = None, weights: str | Path | None = None,
            image_every: int = 10, content_layers: Sequence[str] = CONTENT_LAYERS,
            style_layers: Sequence[str] = STYLE_LAYERS, device: str | torch.device | None = None) -> Iterator[StyleStep]:
    """Optimise a picture with `content`'s layout in `style`'s texture; the iterator yields every step.

    Inputs, pictures and weights are checked before this returns, so a bad input raises
    StudioError here rather than at the first step.
    `style` is one picture or a list; `style_blend` weights them (normalised to sum 1).
    `size` is the longer side of the result. Every `image_every` steps, at the end of each
    scale and at the last step, the step carries the current picture. Closing the iterator
    (or breaking out of the loop) stops the work.
    """
    size = _check("Size", size, MIN_SIZE, MAX_SIZE, integer=True)
    steps = _check("Steps", steps, 1, MAX_STEPS, integer=True)
    image_every = _check("image_every", image_every, 1, MAX_STEPS, integer=True)
    style_weight = _check("Style weight", style_weight, 0, 1e12)
    content_weight = _check("Content weight", content_weight, 0, 1e12)
    tv_weight = _check("TV weight", tv_weight, 0, 1e12)
    style_scale = _check("Style scale", style_scale, 0.1, 4.0)
    if optimizer not in OPTIMIZERS:
        raise StudioError(f"Optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}.")
    if init not in ("content", "noise"):
        raise StudioError(f"init must be 'content' or 'noise', got {init!r}.")
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    if not styles:
        raise StudioError("Give at least one style picture.")
    blend = [1.0] * len(styles) if style_blend is None else [_check("Style blend weight", w, 0, 1e6) for w in style_blend]
    if len(blend) != len(styles) or sum(blend) <= 0:
        raise StudioError(f"style_blend needs {len(styles)} non-negative weights with a positive sum, got {style_blend!r}.")
    blend = [w / sum(blend) for w in blend]

    notes: list[str] = []
    content_image, content_notes = open_image(content, "content picture")
    notes += content_notes
    style_images = []
    for i, s in enumerate(styles):
        picture, style_notes = open_image(s, f"style picture {i + 1}" if len(styles) > 1 else "style picture")
        style_images.append(picture)
        notes += style_notes

    device = pick_device(str(device)) if device is not None else pick_device()
    taps = list(dict.fromkeys([*content_layers, *style_layers]))
    net, source = features_net(weights, taps, device)
    if str(weights) == "random":
        notes.append("Running with RANDOM VGG19 weights: for tests and benchmarks only.")

    return _optimise(content_image, style_images, blend, notes, net, source, size=size, steps=steps,
                     optimizer=optimizer, style_weight=style_weight, content_weight=content_weight,
                     tv_weight=tv_weight, style_scale=style_scale, preserve_colors=preserve_colors, init=init,
                     multiscale=multiscale, seed=seed, image_every=image_every, content_layers=list(content_layers),
                     style_layers=list(style_layers), device=device)


def _optimise(*args: Any, **kwargs: Any) -> Iterator[StyleStep]:
    """The optimisation loop, with large freed buffers kept for the next step (studio.memory)."""
    with reuse_large_buffers():
        yield from _steps(*args, **kwargs)


def _steps(content_image: Image.Image, style_images: list[Image.Image], blend: list[float], notes: list[str],
           net: VGGFeatures, source: str, *, size: int, steps: int, optimizer: str, style_weight: float,
           content_weight: float, tv_weight: float, style_scale: float, preserve_colors: bool, init: str,
           multiscale: bool, seed: int | None, image_every: int, content_layers: list[str], style_layers: list[str],
           device: torch.device) -> Iterator[StyleStep]:
    """The optimisation loop behind `stylize` (inputs already checked)."""
    scales = [size // 2, size] if multiscale and size >= 128 else [size]
    per_scale = [steps // 2, steps - steps // 2] if len(scales) == 2 and steps >= 2 else [steps]
    scales = scales[-len(per_scale):]
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    t0 = time.monotonic()
    step = 0
    x: torch.Tensor | None = None
    for scale, scale_steps in zip(scales, per_scale):
        target_content_img = to_tensor(fit_within(content_image, scale), device)
        h, w = target_content_img.shape[-2:]
        content_in = luminance(target_content_img) if preserve_colors else target_content_img
        with torch.no_grad():
            content_targets = {k: v.detach().clone() for k, v in net(content_in).items() if k in content_layers}
            style_targets = {layer: 0.0 for layer in style_layers}
            for picture, weight in zip(style_images, blend):
                s = to_tensor(fit_within(picture, max(MIN_SIZE, round(scale * style_scale))), device)
                feats = net(luminance(s) if preserve_colors else s)
                for layer in style_layers:
                    style_targets[layer] = style_targets[layer] + weight * gram(feats[layer])

        if x is None:
            start = content_in if init == "content" else torch.rand(content_in.shape, generator=gen).to(device)
        else:
            start = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
        u = torch.logit(start.clamp(1e-3, 1 - 1e-3)).detach().contiguous()  # L-BFGS wants flat-viewable grads
        u.requires_grad_(True)
        if optimizer == "lbfgs":
            # No early stop: the step budget and the Stop button end a run.
            opt: torch.optim.Optimizer = torch.optim.LBFGS([u], lr=1.0, max_iter=1, history_size=50,
                                                           tolerance_grad=0.0, tolerance_change=0.0)
        else:
            opt = torch.optim.Adam([u], lr=ADAM_LR)
        terms: dict[str, torch.Tensor] = {}
        # The losses are means over pixels, so gradients shrink with the picture's size, and
        # the optimisers have absolute thresholds (L-BFGS skips curvature pairs with
        # y.s < 1e-10, Adam adds eps 1e-8): on small gradients L-BFGS fell back to plain
        # gradient steps and stalled. So the objective the optimiser sees is rescaled once
        # per size, to a largest gradient of 1 at the start; the reported losses are not.
        grad_scale: list[float] = []

        def closure() -> torch.Tensor:
            opt.zero_grad(set_to_none=True)
            picture = torch.sigmoid(u)
            feats = net(picture)
            c = sum(F.mse_loss(feats[k], content_targets[k]) for k in content_layers) / len(content_layers)
            s = sum(F.mse_loss(gram(feats[k]), style_targets[k]) for k in style_layers) / len(style_layers)
            tv = total_variation(picture)
            total = content_weight * c + style_weight * s + tv_weight * tv
            total.backward()
            terms.update(content=c.detach(), style=s.detach(), tv=tv.detach(), total=total.detach())
            if not grad_scale:
                grad_scale.append(1.0 / max(u.grad.abs().max().item(), 1e-30))
            u.grad.mul_(grad_scale[0])
            return total.detach() * grad_scale[0]

        for i in range(scale_steps):
            opt.step(closure)
            step += 1
            last = i == scale_steps - 1
            with torch.no_grad():
                x = torch.sigmoid(u)
            show = last or step % image_every == 0
            image = None
            if show:
                picture = x
                if preserve_colors:  # the optimised luminance with the content's chroma
                    yiq = rgb_to_yiq(target_content_img)
                    yiq[:, :1] = rgb_to_yiq(x)[:, :1]
                    picture = yiq_to_rgb(yiq)
                image = to_image(picture)
            yield StyleStep(step=step, steps=steps, size=max(h, w), content=terms["content"].item() * content_weight,
                            style=terms["style"].item() * style_weight, tv=terms["tv"].item() * tv_weight,
                            total=terms["total"].item(), seconds=time.monotonic() - t0, image=image,
                            notes=notes if step == 1 else [], weights_source=source if step == 1 else "")
