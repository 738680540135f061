"""Sampling a style-based generator (models/stylegan.py): truncation and walks in w, noise
per seed, and style mixing.

A seed fixes the latent z and, by default, the noise maps too: both are drawn on the CPU
from `torch.Generator().manual_seed(seed)`, z first, so a seed gives one picture on every
device. Noise modes: `seed` (the default), `const` (one set of maps for every seed),
`random` (fresh maps each time) and `none`.
Truncation moves w `towards` the mean w (`mean`: psi 0 gives every seed the same, average
picture) or towards each w's nearest cluster (`cluster`: psi 0 gives the cluster's typical
picture); models/stylegan.py.
Style mixing: seed A gives the layout, seed B the style, from a level on: `coarse` takes
B's w at 4-8 px, `middle` at 16-32 px, `fine` at 64 px and up, or (first, last) in pixels.
"""

from __future__ import annotations

from typing import Sequence

import torch
from PIL import Image
from torch import nn

from .. import validate
from ..checkpoints import Spec
from ..errors import StudioError
from ..imaging.convert import grid, to_pil
from ..models import ARCHS
from ..models.stylegan import TOWARDS

NOISE_MODES = ("seed", "const", "random", "none")
LEVELS = {"coarse": (4, 8), "middle": (16, 32), "fine": (64, 4096)}
CONST_NOISE_SEED = 0x5EED
BATCH = 32
MAX_MIX = 16  # seeds per side of a mixing grid


def is_style_based(model: nn.Module) -> bool:
    return bool(getattr(model, "style_based", False))


def style_based(spec: Spec) -> bool:
    """Whether a checkpoint's architecture is style-based, read from its card without building it."""
    return is_style_based(ARCHS.get(spec.arch))


def mixes_styles(model: nn.Module) -> bool:
    """Whether a model is unconditional and style-based: it mixes styles and truncates towards clusters."""
    return is_style_based(model) and not model.n_classes


def draw(model: nn.Module, seed: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The seed's latent (z_dim,) and noise maps [(1, H, W)], drawn on the CPU in that order."""
    gen = torch.Generator().manual_seed(validate.seed(seed))
    z = torch.randn(model.z_dim, generator=gen)
    return z, [torch.randn(shape, generator=gen) for shape in model.noise_shapes()]


def inputs(model: nn.Module, seeds: Sequence[int], noise: str) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
    """Latents (N, z_dim) and noise maps [(N or 1, 1, H, W) or None] for `seeds` under noise mode `noise`."""
    if noise not in NOISE_MODES:
        raise StudioError(f"Noise must be one of {', '.join(NOISE_MODES)}, got {noise!r}.")
    drawn = [draw(model, s) for s in seeds]
    z = torch.stack([d[0] for d in drawn])
    if noise == "seed":
        maps = [torch.stack([d[1][i] for d in drawn]) for i in range(len(model.noise_shapes()))]
    elif noise == "const":
        maps = [m[None] for m in draw(model, CONST_NOISE_SEED)[1]]
    elif noise == "random":
        maps = [torch.randn(len(seeds), *shape) for shape in model.noise_shapes()]
    else:
        maps = [None] * len(model.noise_shapes())
    return z, maps


def check_towards(model: nn.Module, towards: str) -> str:
    """`towards` if the model can truncate towards it; a StudioError saying why not otherwise."""
    if towards not in TOWARDS:
        raise StudioError(f"Truncate towards must be one of {', '.join(TOWARDS)}, got {towards!r}.")
    if towards == "cluster" and not mixes_styles(model):
        raise StudioError("Truncation towards a cluster needs an unconditional style-based model (such as "
                          "emoji64-style); this one truncates towards the mean.")
    return towards


def class_rows(y: torch.Tensor | None, n: int) -> torch.Tensor | None:
    """Class weights as n rows (n, K): (K,) is repeated for every row, (n, K) kept, None stays None."""
    return None if y is None else (y.expand(n, -1) if y.dim() == 1 else y)


@torch.no_grad()
def ws_of(model: nn.Module, z: torch.Tensor, psi: float, y: torch.Tensor | None = None,
          towards: str = "mean") -> torch.Tensor:
    """(N, z_dim) CPU latents, with class weights y ((K,) for all or (N, K)) for a conditional
    model -> (N, n_ws, w_dim) CPU styles, truncated by psi `towards` the mean or a cluster."""
    device = next(model.parameters()).device
    y = class_rows(y, len(z))
    return torch.cat([model.ws(z[i:i + BATCH].to(device), psi, None if y is None else y[i:i + BATCH].to(device),
                               towards).cpu() for i in range(0, len(z), BATCH)])


@torch.no_grad()
def synthesize(model: nn.Module, ws: torch.Tensor, noise: list[torch.Tensor | None]) -> list[Image.Image]:
    """Pictures from styles (N, n_ws, w_dim) and noise maps, in batches on the model's device."""
    device = next(model.parameters()).device
    out: list[Image.Image] = []
    for i in range(0, len(ws), BATCH):
        maps = [None if m is None else (m if m.shape[0] == 1 else m[i:i + BATCH]).to(device) for m in noise]
        out.extend(to_pil(model.synthesis(ws[i:i + BATCH].to(device), maps)))
    return out


def sample_styles(model: nn.Module, seeds: Sequence[int], psi: float, noise: str = "seed",
                  y: torch.Tensor | None = None, towards: str = "mean") -> list[Image.Image]:
    """One picture per seed (of class weights y for a conditional model); psi moves w towards
    the mean w (of the class) or the nearest cluster. At psi 0 every seed has the centre's w,
    and seed noise gives way to the constant noise: the average picture, the same for every
    seed (or the cluster's picture, the same for every seed in it)."""
    z, maps = inputs(model, seeds, "const" if noise == "seed" and psi == 0 else noise)
    return synthesize(model, ws_of(model, z, psi, y, towards), maps)


def walk_styles(model: nn.Module, seed_a: int, seed_b: int, frames: int, psi: float,
                noise: str = "seed", y: torch.Tensor | None = None, towards: str = "mean") -> list[Image.Image]:
    """`frames` pictures along the straight line in w from seed_a to seed_b (seed_a's noise throughout)."""
    z, maps = inputs(model, [seed_a, seed_b], noise)
    wa, wb = ws_of(model, z, psi, y, towards)
    t = torch.linspace(0.0, 1.0, frames)[:, None, None]
    ws = (1 - t) * wa + t * wb
    maps = [None if m is None else m[:1] for m in maps]
    return synthesize(model, ws, maps)


def level_range(levels: str | Sequence[int]) -> tuple[int, int]:
    """A level name or (first, last) resolution in pixels -> the resolutions B's styles take."""
    if isinstance(levels, str):
        if levels not in LEVELS:
            raise StudioError(f"Levels must be one of {', '.join(LEVELS)} or (first, last) in pixels, got {levels!r}.")
        return LEVELS[levels]
    try:
        first, last = (validate.whole("Level", v, 1, 4096) for v in levels)
    except (TypeError, ValueError):
        raise StudioError(f"Levels must be one of {', '.join(LEVELS)} or (first, last) in pixels, "
                          f"got {levels!r}.") from None
    if first > last:
        raise StudioError(f"The first level ({first} px) must not be above the last ({last} px).")
    return first, last


def mix_ws(model: nn.Module, ws_a: torch.Tensor, ws_b: torch.Tensor, levels: str | Sequence[int]) -> torch.Tensor:
    """ws_a (N, n_ws, w_dim) with the layers at `levels` taken from ws_b (N, n_ws, w_dim)."""
    first, last = level_range(levels)
    take = torch.tensor([first <= r <= last for r in model.resolutions])  # (n_ws,)
    if not take.any():
        raise StudioError(f"No layer of this model works at {first}-{last} px; its layers work at "
                          f"{sorted(set(model.resolutions))} px.")
    return torch.where(take[None, :, None], ws_b, ws_a)


def _check(seeds: Sequence[int], what: str) -> list[int]:
    seeds = [validate.seed(s, what) for s in seeds]
    if not 1 <= len(seeds) <= MAX_MIX:
        raise StudioError(f"Give 1 to {MAX_MIX} {what.lower()}s, got {len(seeds)}.")
    return seeds


def style_mix(model: nn.Module, seeds: Sequence[int], style_seeds: Sequence[int], levels: str | Sequence[int] = "middle",
              truncation: float = 1.0, noise: str = "seed", towards: str = "mean") -> list[Image.Image]:
    """Row-major pictures: for each seed (the layout) and each style seed (the style at `levels`)."""
    if not mixes_styles(model):
        raise StudioError("Style mixing needs an unconditional style-based model (such as emoji64-style).")
    seeds, style_seeds = _check(seeds, "Seed"), _check(style_seeds, "Style seed")
    psi, towards = validate.unit("Truncation", truncation), check_towards(model, towards)
    za, maps = inputs(model, seeds, noise)
    ws_a = ws_of(model, za, psi, towards=towards)
    ws_b = ws_of(model, inputs(model, style_seeds, "none")[0], psi, towards=towards)
    rows, cols = len(seeds), len(style_seeds)
    mixed = mix_ws(model, ws_a.repeat_interleave(cols, 0), ws_b.repeat(rows, 1, 1), levels)
    maps = [None if m is None else (m if m.shape[0] == 1 else m.repeat_interleave(cols, 0)) for m in maps]
    return synthesize(model, mixed, maps)


def mixing_figure(model: nn.Module, seeds: Sequence[int], style_seeds: Sequence[int],
                  levels: str | Sequence[int] = "middle", truncation: float = 1.0, noise: str = "seed",
                  towards: str = "mean") -> Image.Image:
    """The StyleGAN paper's figure: the style seeds' pictures across the top, the seeds' down the
    left, and each cell the seed's layout in the style seed's style."""
    mixes = style_mix(model, seeds, style_seeds, levels, truncation, noise, towards)
    psi = validate.unit("Truncation", truncation)
    tops = sample_styles(model, style_seeds, psi, noise, towards=towards)
    lefts = sample_styles(model, seeds, psi, noise, towards=towards)
    blank = Image.new("RGB", mixes[0].size, "white")
    cols = len(style_seeds)
    cells = [blank, *tops]
    for r, left in enumerate(lefts):
        cells += [left, *mixes[r * cols:(r + 1) * cols]]
    return grid(cells, columns=cols + 1)
