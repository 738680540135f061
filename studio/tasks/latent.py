"""Sampling and latent walks for the GAN checkpoints (tasks `latent` and `conditional`).

Latents are drawn on the CPU from `torch.Generator().manual_seed(seed)`, then moved
to the model's device: a seed gives the same picture on every device.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence, Union

import torch
from PIL import Image
from torch import nn

from .. import validate
from ..checkpoints import resolve
from ..errors import StudioError
from ..imaging.convert import to_pil
from .mixing import check_towards, class_rows, is_style_based, sample_styles, walk_styles

MAX_IMAGES = 1024  # one call; keeps a typo from allocating gigabytes
MAX_FRAMES = 256
BATCH = 64
DEFAULT_TRUNCATION = 0.8  # the app's starting psi; `studio eval` also measures the class probe there

ClassSpec = Union[None, int, str, Mapping[Union[str, int], float], Sequence[float]]


def latents(seeds: Iterable[int], z_dim: int) -> torch.Tensor:
    """(N, z_dim) standard normal latents, one row per seed, drawn on the CPU."""
    return torch.stack([torch.randn(z_dim, generator=torch.Generator().manual_seed(validate.seed(s))) for s in seeds])


def labels_of(model: nn.Module) -> tuple[str, ...]:
    spec = getattr(model, "spec", None)
    if spec is not None and spec.labels:
        return spec.labels
    return tuple(str(i) for i in range(model.n_classes))


def class_weights(model: nn.Module, classes: ClassSpec) -> torch.Tensor | None:
    """Class weights (K,) summing to 1 for a conditional model; None for an unconditional one.

    `classes`: a class name or index, a mapping of names/indices to weights (a mix),
    or a sequence of K weights.
    """
    k = getattr(model, "n_classes", 0)
    names = labels_of(model) if k else ()
    if not k:
        if classes not in (None, "", {}, []):
            raise StudioError("This model is not class-conditional; leave the class empty.")
        return None
    if classes is None or classes == "" or classes == {} or classes == []:
        raise StudioError(f"Choose a class: {', '.join(names)}.")

    def index(key: int | str) -> int:
        if isinstance(key, bool):
            raise StudioError(f"Unknown class {key!r}; classes: {', '.join(names)}.")
        if isinstance(key, int) or (isinstance(key, str) and key.strip().isdigit() and key.strip() not in names):
            i = int(key)
            if not 0 <= i < k:
                raise StudioError(f"Class index {i} is out of range 0..{k - 1}.")
            return i
        lowered = [n.lower() for n in names]
        if isinstance(key, str) and key.strip().lower() in lowered:
            return lowered.index(key.strip().lower())
        raise StudioError(f"Unknown class {key!r}; classes: {', '.join(names)}.")

    weights = torch.zeros(k)
    if isinstance(classes, (int, str)):
        weights[index(classes)] = 1.0
    elif isinstance(classes, Mapping):
        for key, w in classes.items():
            weights[index(key)] += validate.weight("Class weight", w)
    elif isinstance(classes, Sequence) and len(classes) == k and all(isinstance(w, (int, float)) for w in classes):
        weights = torch.tensor([validate.weight("Class weight", w) for w in classes], dtype=torch.float32)
    else:
        raise StudioError(f"Classes must be a name, an index, a name->weight mix or {k} weights; got {classes!r}.")
    if weights.sum() <= 0:
        raise StudioError("A class mix needs at least one positive weight.")
    return weights / weights.sum()


@torch.no_grad()
def generate(model: nn.Module, z: torch.Tensor, y: torch.Tensor | None = None, batch: int = BATCH,
             style_psi: float = 1.0, towards: str = "mean") -> torch.Tensor:
    """The generator's pictures (N, 3, S, S) in [-1, 1], on the CPU, from CPU-drawn latents
    z (N, z_dim) and class weights y, (K,) for all or (N, K) one row each; in batches.
    `style_psi`: a style-based model's truncation in w `towards` the mean or a cluster (with
    random noise, as in training)."""
    device = next(model.parameters()).device
    options = {"psi": style_psi, "towards": towards} if style_psi != 1.0 else {}
    y, out = class_rows(y, len(z)), []
    for start in range(0, len(z), batch):
        zb = z[start:start + batch].to(device)
        yb = None if y is None else y[start:start + batch].to(device)
        out.append(model(zb, yb, **options).cpu())
    return torch.cat(out)


def render(model: nn.Module, z: torch.Tensor, y: torch.Tensor | None) -> list[Image.Image]:
    """`generate`, as pictures."""
    return to_pil(generate(model, z, y))


def sample(model: nn.Module | str, seeds: Sequence[int] | int, truncation: float = 1.0,
           classes: ClassSpec = None, noise: str = "seed", towards: str = "mean") -> list[Image.Image]:
    """One picture per seed. `truncation` psi in [0, 1] moves the latent towards the mean one (z
    towards 0; w towards the mean w for a style-based model): psi 0 gives every seed the same,
    average picture, psi 1 the full variety. An unconditional style-based model can truncate
    `towards="cluster"` instead: each w towards its nearest typical style. `noise`: a style-based
    model's noise maps (mixing.py)."""
    model = resolve(model)
    seeds = [seeds] if isinstance(seeds, (int, float, str)) else list(seeds)
    if not seeds:
        raise StudioError("Give at least one seed.")
    if len(seeds) > MAX_IMAGES:
        raise StudioError(f"At most {MAX_IMAGES} seeds per call, got {len(seeds)}.")
    psi, towards = validate.unit("Truncation", truncation), check_towards(model, towards)
    y = class_weights(model, classes)
    if is_style_based(model):
        return sample_styles(model, seeds, psi, noise, y, towards)
    z = latents(seeds, model.z_dim) * psi  # mean latent of N(0, I) is 0
    return render(model, z, y)


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation of (D,) vectors at times t (F,) -> (F, D); lerp when nearly parallel."""
    cos = torch.dot(a, b) / (a.norm() * b.norm()).clamp_min(1e-12)
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    t = t[:, None]
    if omega.abs() < 1e-4:
        return (1 - t) * a + t * b
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)


def interpolate(model: nn.Module | str, seed_a: int, seed_b: int, frames: int, truncation: float = 1.0,
                classes: ClassSpec = None, mode: str = "slerp", **style: str) -> list[Image.Image]:
    """`frames` pictures walking from seed_a's latent to seed_b's (both ends included); a
    style-based model walks in a straight line in w whatever the `mode`. `style`: `noise` and
    `towards`, as in `sample`."""
    model = resolve(model)
    frames = validate.whole("Frames", frames, 2, MAX_FRAMES)
    if mode not in ("slerp", "lerp"):
        raise StudioError(f"Interpolation mode must be 'slerp' or 'lerp', got {mode!r}.")
    noise, towards = style.pop("noise", "seed"), style.pop("towards", "mean")
    if style:
        raise TypeError(f"interpolate() got unexpected keyword arguments {sorted(style)}")
    psi, towards = validate.unit("Truncation", truncation), check_towards(model, towards)
    y = class_weights(model, classes)
    if is_style_based(model):
        return walk_styles(model, seed_a, seed_b, frames, psi, noise, y, towards)
    za, zb = latents([seed_a, seed_b], model.z_dim)
    t = torch.linspace(0.0, 1.0, frames)
    z = slerp(za, zb, t) if mode == "slerp" else (1 - t[:, None]) * za + t[:, None] * zb
    return render(model, z * psi, y)


def parse_seeds(text: str) -> list[int]:
    """'1,2,5-8' -> [1, 2, 5, 6, 7, 8]."""
    seeds: list[int] = []
    for part in filter(None, (p.strip() for p in str(text).split(","))):
        lo, sep, hi = part.partition("-")
        try:
            if sep and lo:
                a, b = int(lo), int(hi)
                if b < a:
                    raise StudioError(f"Seed range {part!r} runs backwards.")
                if b - a >= MAX_IMAGES:
                    raise StudioError(f"Seed range {part!r} is longer than {MAX_IMAGES}.")
                seeds.extend(range(a, b + 1))
            else:
                seeds.append(int(part))
        except ValueError:
            raise StudioError(f"Cannot read seeds {text!r}: use numbers and ranges like 1,2,5-8.") from None
    if not seeds:
        raise StudioError("Give at least one seed, e.g. 1,2,5-8.")
    return [validate.seed(s) for s in seeds]


def parse_class_mix(text: str) -> ClassSpec:
    """'faces' -> 'faces'; 'faces=0.7,animals=0.3' -> {'faces': 0.7, 'animals': 0.3}."""
    text = str(text).strip()
    if "=" not in text:
        return text
    mix: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, weight = part.rpartition("=")
        if not name:
            raise StudioError(f"Cannot read class mix {text!r}: use NAME=WEIGHT,NAME=WEIGHT.")
        mix[name.strip()] = validate.weight("Class weight", weight)
    return mix
