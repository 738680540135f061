"""`studio eval`: measure a checkpoint against the held-out split of its data set.

Every figure is printed beside its real-vs-real floor, so a number can be read
without knowing the feature space: a perfect generator would score about the floor.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .. import validate
from ..checkpoints import Registry, Spec, update_metrics
from ..data.folder import ImageSet, load_folder
from ..data.pairs import load_pairs
from ..errors import StudioError
from ..imaging.convert import from_uint8, to_uint8
from ..imaging.memory import reuse_large_buffers
from ..tasks import latent
from ..tasks.latent import DEFAULT_TRUNCATION, latents
from ..tasks.mixing import TOWARDS, is_style_based, style_based
from ..tasks.sketch import model_input, takes_hints, trained_stroke
from ..models.efficientnet_lite import load_efficientnet_lite0
from .hints import generator_input, hint_errors
from .inception import Extractor, inception_metrics, load_inception
from .metrics import fd, kid, probe_accuracy, probe_confusions, probe_predict, train_probe
from .report import AT_APP_PSI

FEATURE_SIZE = 224  # EfficientNet-Lite0's training resolution


@torch.no_grad()
def features(images: torch.Tensor, net: torch.nn.Module, batch: int = 50) -> np.ndarray:
    """uint8 (N, 3, S, S) or float [-1, 1] images -> (N, 1280) float64 features."""
    device = next(net.parameters()).device
    out = []
    with reuse_large_buffers():  # 224 px activations of a batch: tens of MB, reused every batch
        for start in range(0, len(images), batch):
            x = images[start:start + batch].to(device)
            x = x.float() / 255 if x.dtype == torch.uint8 else (x.float().clamp(-1, 1) + 1) / 2  # [0, 1]
            x = F.interpolate(x, size=(FEATURE_SIZE, FEATURE_SIZE), mode="bilinear", antialias=True, align_corners=False)
            out.append(net(x).double().cpu().numpy())
    return np.concatenate(out)


@torch.no_grad()
def generate(model: torch.nn.Module, n: int, labels: np.ndarray | None = None, seed_offset: int = 10_000_000,
             psi: float = 1.0, towards: str = "mean") -> torch.Tensor:
    """n generator outputs (N, 3, S, S) in [-1, 1] at truncation psi (of w `towards` the mean or
    a cluster for a style-based model, of z otherwise), seeds from `seed_offset`, one class each."""
    z = latents(range(seed_offset, seed_offset + n), model.z_dim)
    y = F.one_hot(torch.as_tensor(labels[:n]), model.n_classes).float() if labels is not None else None
    if is_style_based(model):
        return latent.generate(model, z, y, batch=100, style_psi=psi, towards=towards)
    return latent.generate(model, psi * z, y, batch=100)


def data_folder(spec: Spec, data: str | None) -> Path:
    path = Path(data or spec.raw.get("data", {}).get("path", ""))
    if not data and not path.is_dir():
        raise StudioError(f"The data set of {spec.name} is not at {path!s}; pass --data DIR.")
    if not path.is_dir():
        raise StudioError(f"Data folder {path} does not exist.")
    return path


def distinct_cells(f_grid: np.ndarray, f_real: np.ndarray) -> tuple[int, float]:
    """How many of a grid's pictures are not near-repeats of another cell of the grid.

    A cell is a repeat when its nearest other cell (feature distance) is closer than
    the closest pair among as many real pictures: no two real emoji are that alike."""
    def nearest(f: np.ndarray) -> np.ndarray:
        d = np.sqrt(np.maximum(((f[:, None, :] - f[None, :, :]) ** 2).sum(-1), 0))
        np.fill_diagonal(d, np.inf)
        return d.min(axis=1)

    threshold = float(nearest(f_real).min())
    return int((nearest(f_grid) >= threshold).sum()), threshold


def learned_classes(spec: Spec) -> tuple[bool, list[str] | None, dict[str, str] | None]:
    """Whether a GAN is conditional, its classes, and the class folders it learned as one."""
    conditional = spec.task == "conditional"
    classes = list(spec.labels) if conditional else None
    merge = spec.raw.get("data", {}).get("merged") if conditional else None
    return conditional, classes, merge


def gan_splits(spec: Spec, data: Path) -> tuple[ImageSet, ImageSet]:
    """The held-out and the training pictures of a GAN's data set, as the model learned its classes."""
    conditional, classes, merge = learned_classes(spec)
    heldout = load_folder(data, spec.image_size, conditional=conditional, split="heldout", classes=classes, merge=merge)
    train = load_folder(data, spec.image_size, conditional=conditional, split="train", classes=classes, merge=merge)
    if len(heldout.images) < 20:
        raise StudioError(f"{data} has only {len(heldout.images)} held-out images; rebuild it with a held-out split.")
    return heldout, train


def evaluate_gan(model: torch.nn.Module, spec: Spec, splits: tuple[ImageSet, ImageSet], n: int = 2000,
                 seed: int = 0, truncations: Sequence[float] = ()) -> dict:
    """FD and KID against held-out real images (+ per-class probe accuracy for conditional models;
    + the figures at each of `truncations` for an unconditional style-based model)."""
    conditional, classes, merge = learned_classes(spec)
    heldout, train = splits
    net = load_efficientnet_lite0()
    rng = np.random.default_rng(seed)
    # Generated classes follow the held-out class frequencies, so FD compares like with like.
    gen_labels = rng.choice(heldout.labels.numpy(), n) if conditional else None
    f_gen = features(generate(model, n, gen_labels), net)
    f_held = features(heldout.images, net)
    train_idx = rng.choice(len(train.images), min(n, len(train.images)), replace=False)
    f_train = features(train.images[train_idx], net)
    half = rng.permutation(len(f_held))
    a, b = f_held[half[: len(half) // 2]], f_held[half[len(half) // 2:]]
    result = {
        "feature_space": "EfficientNet-Lite0 (ImageNet) pooled 1280-d, 224 px; not Inception FID",
        "n_generated": n, "n_heldout": len(f_held), "n_train_sample": len(f_train),
        "fd": round(fd(f_gen, f_held), 3),
        "fd_floor_train_vs_heldout": round(fd(f_train, f_held), 3),
        "fd_floor_heldout_halves": round(fd(a, b), 3),
        "kid": round(kid(f_gen, f_held), 5),
        "kid_floor_train_vs_heldout": round(kid(f_train, f_held), 5),
    }
    # The 8x8 grid of seeds 0-63 that checkpoints/README.md shows (classes in turn).
    grid_labels = np.arange(64) % len(classes) if conditional else None
    real_64 = heldout.images[rng.choice(len(heldout.images), min(64, len(heldout.images)), replace=False)]
    f_real_64 = features(real_64, net)
    distinct, threshold = distinct_cells(features(generate(model, 64, grid_labels, seed_offset=0), net), f_real_64)
    result["grid_distinct_of_64"] = distinct
    result["grid_repeat_threshold"] = round(threshold, 3)
    if truncations:
        result["truncation"] = truncation_table(model, truncations, n, net, f_held, f_real_64)
    if conditional:
        f_train_all = features(train.images, net)
        probe = train_probe(f_train_all, train.labels.numpy(), len(classes))
        real_acc = probe_accuracy(probe, f_held, heldout.labels.numpy(), len(classes))
        result.update(probe_table(classes, real_acc, probe, f_gen, gen_labels))
        # The same seeds at the truncation the app starts at: what a user first sees.
        f_app = features(generate(model, n, gen_labels, psi=DEFAULT_TRUNCATION), net)
        app = probe_table(classes, real_acc, probe, f_app, gen_labels)
        result[AT_APP_PSI] = {"fd": round(fd(f_app, f_held), 3), **app}
        if merge:
            result["merged_classes"] = merged_shares(classes, train, heldout, f_train_all, f_held,
                                                     {"generated": f_gen, f"generated_{AT_APP_PSI}": f_app}, gen_labels)
    return result


def truncation_table(model: torch.nn.Module, psis: Sequence[float], n: int, net: torch.nn.Module,
                     f_held: np.ndarray, f_real_64: np.ndarray) -> dict:
    """For an unconditional style-based model: FD, KID and distinct cells of the 8x8 grid at each
    truncation psi, with w moved towards the mean w and towards its nearest cluster."""
    table = {}
    for psi in psis:
        row = {}
        for towards in TOWARDS:
            f_gen = features(generate(model, n, psi=psi, towards=towards), net)
            f_grid = features(generate(model, 64, seed_offset=0, psi=psi, towards=towards), net)
            row[towards] = {"fd": round(fd(f_gen, f_held), 3), "kid": round(kid(f_gen, f_held), 5),
                            "grid_distinct_of_64": distinct_cells(f_grid, f_real_64)[0]}
        table[str(psi)] = row
    return table


def merged_shares(classes: list[str], train: ImageSet, heldout: ImageSet, f_train: np.ndarray, f_held: np.ndarray,
                  f_generated: dict[str, np.ndarray], gen_labels: np.ndarray) -> dict:
    """For each class merged from several folders: which of its folders its pictures look like.

    The class probe cannot tell a merged class that draws only one of its folders from one
    that draws them all, so a second probe, trained to name the folders, reads the real
    held-out pictures of the class and the generated ones; shares per folder, and `else`."""
    train_folders, held_folders = (np.array([f.split("/")[0] for f in s.files]) for s in (train, heldout))
    folders = sorted(set(train_folders))
    probe = train_probe(f_train, np.searchsorted(folders, train_folders), len(folders))

    def shares(names: np.ndarray, sources: list[str]) -> dict[str, float]:
        return {**{f: round(float(np.mean(names == f)), 3) for f in sources},
                "else": round(float(np.mean(~np.isin(names, sources))), 3)}

    def read(f: np.ndarray) -> np.ndarray:  # (N, D) features -> (N,) folder names
        return np.array(folders)[probe_predict(probe, f)]

    out = {}
    for k, cls in enumerate(classes):
        sources = sorted(set(train_folders[train.labels.numpy() == k]))
        if len(sources) < 2:
            continue
        held = heldout.labels.numpy() == k
        out[cls] = {"heldout_true": shares(held_folders[held], sources), "heldout": shares(read(f_held[held]), sources),
                    **{key: shares(read(f[gen_labels == k]), sources) for key, f in f_generated.items()}}
    return out


def probe_table(classes: list[str], real_acc: list[float], probe: torch.nn.Linear, f_gen: np.ndarray,
                gen_labels: np.ndarray) -> dict:
    """Per-class probe accuracy on real held-out and generated pictures, their ratio and its minimum,
    and the class the probe most often names instead for the generated ones."""
    gen_acc = probe_accuracy(probe, f_gen, gen_labels, len(classes))
    confused = probe_confusions(probe, f_gen, gen_labels, len(classes))
    table = {c: {"real_heldout": round(r, 3), "generated": round(g, 3), "ratio": round(g / r, 3) if r > 0 else None,
                 "mistaken_for": {"class": classes[m[0]], "share": round(m[1], 3)} if m else None}
             for c, r, g, m in zip(classes, real_acc, gen_acc, confused)}
    ratios = [v["ratio"] for v in table.values() if v["ratio"] is not None]
    return {"probe": table, "probe_min_ratio": min(ratios) if ratios else None}


@torch.no_grad()
def evaluate_pix2pix(model: torch.nn.Module, spec: Spec, data: Path) -> dict:
    """L1 and PSNR of the outputs on held-out pairs, FD of outputs vs held-out pictures (all
    without hints), and the colour error inside the drawn regions without and with hints."""
    t0 = time.monotonic()
    heldout = load_pairs(data, spec.image_size, split="heldout")
    train = load_pairs(data, spec.image_size, split="train")
    device = next(model.parameters()).device
    outputs = torch.cat([model(generator_input(model, heldout.sketches[i:i + 32]).to(device)).cpu()
                         for i in range(0, len(heldout.names), 32)])  # (N, 3, S, S) in [-1, 1], no hints
    target = from_uint8(heldout.pictures)
    error = (outputs.clamp(-1, 1) - target).abs().mean(dim=(1, 2, 3))  # per pair, on the [-1, 1] scale
    mse = ((outputs.clamp(-1, 1) - target) / 2).square().mean(dim=(1, 2, 3))  # on the [0, 1] scale
    # The same sketches as the app hands them to the model: skeleton redrawn with the
    # training pen, re-centred (prepare_sketch). No pixel targets line up any more, so FD only.
    stroke = trained_stroke(spec.raw)
    app_inputs = torch.cat([model_input(Image.fromarray(s.permute(1, 2, 0).numpy()), spec.image_size, stroke,
                                        with_hints=takes_hints(model))
                            for s in heldout.sketches])  # (N, 3, S, S) uint8 -> (N, 3 or 7, S, S) in [-1, 1]
    app_outputs = torch.cat([model(app_inputs[i:i + 32].to(device)).cpu() for i in range(0, len(app_inputs), 32)])
    net = load_efficientnet_lite0()
    f_out, f_held = features(outputs, net), features(heldout.pictures, net)
    f_app = features(app_outputs, net)
    f_train = features(train.pictures[: max(len(heldout.names), 500)], net)
    return {
        "feature_space": "EfficientNet-Lite0 (ImageNet) pooled 1280-d, 224 px; not Inception FID",
        "n_heldout": len(heldout.names),
        "l1": round(error.mean().item(), 4),
        "psnr_db": round((10 * torch.log10(1 / mse.clamp_min(1e-10))).mean().item(), 2),
        "l1_floor_white": round((1 - target).abs().mean().item(), 4),  # an all-white output, for scale
        "fd": round(fd(f_out, f_held), 3),
        "fd_app_input": round(fd(f_app, f_held), 3),
        "fd_floor_train_vs_heldout": round(fd(f_train, f_held), 3),
        "delta_e_cie76": hint_errors(model, heldout),
        "seconds": round(time.monotonic() - t0, 1),
    }


def evaluate_inception(model: torch.nn.Module, spec: Spec, splits: tuple[ImageSet, ImageSet], n: int,
                       extract: Extractor, seed: int = 0) -> dict:
    """Inception FID and IS of the same generated pictures as `evaluate_gan`'s, against the held-out split."""
    conditional = spec.task == "conditional"
    heldout, train = splits
    rng = np.random.default_rng(seed)
    gen_labels = rng.choice(heldout.labels.numpy(), n) if conditional else None
    real = train.images[rng.choice(len(train.images), min(n, len(train.images)), replace=False)]
    return inception_metrics(extract, to_uint8(generate(model, n, gen_labels)), heldout.images, real)


def evaluate(name: str, registry: Registry, n: int = 2000, data: str | None = None, save: bool = True,
             inception: str | None = None, truncations: Sequence[float] = ()) -> dict:
    """Measure checkpoint `name`; with `save`, store the figures in its studio.json. `inception`:
    also Inception FID and IS, with the weights file at that path ("" : in torch's hub cache).
    `truncations`: also the figures at these psi, towards the mean and a cluster (an
    unconditional style-based model)."""
    spec = registry.spec(name)
    if not 20 <= n <= 50_000:
        raise StudioError(f"--n must be between 20 and 50000, got {n}.")
    truncations = [validate.unit("Truncation", psi) for psi in truncations]
    if truncations and (spec.task != "latent" or not style_based(spec)):
        raise StudioError("--truncation measures an unconditional style-based model (such as emoji64-style).")
    if inception is not None and spec.task == "sketch":
        raise StudioError("--inception measures GAN checkpoints (latent or conditional), not sketch models.")
    extract = load_inception(inception or None, registry.device) if inception is not None else None  # fails early
    if spec.task == "sketch":
        result = evaluate_pix2pix(registry.get(name), spec, data_folder(spec, data))
    else:
        t0 = time.monotonic()
        splits = gan_splits(spec, data_folder(spec, data))  # read once, for both
        result = {**evaluate_gan(registry.get(name), spec, splits, n, truncations=truncations),
                  "seconds": round(time.monotonic() - t0, 1)}
        if extract is not None:
            result["inception"] = evaluate_inception(registry.get(name), spec, splits, n, extract)
    if save:
        update_metrics(spec.path, result)
        registry.refresh()
    return result
