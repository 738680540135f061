"""Colour hints for sketch models: dots and short strokes of colour dropped inside the lines,
which a hint model spreads over the region they fall in (after Zhang et al. 2017,
"Real-Time User-Guided Image Colorization with Learned Deep Priors").

A hint picture is RGBA, the size of the drawing; its opaque pixels are hints. A hint
model takes the line art (3 channels) and 4 more: the hints' colour where there is a
hint and 0 elsewhere, on the [-1, 1] scale, and the hint mask (1 where there is one).
Training simulates hints from the target picture (`random_hints`), evaluation places a
fixed number of dots (`simulate_hints`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..imaging.files import open_rgba
from ..models.pix2pix import HINT_CHANNELS

OPAQUE = 128  # alpha from which a (scaled) hint pixel counts
WHITE = 235  # a target pixel with every channel above this is background, not a region to colour
LINE = 128  # a sketch pixel darker than this is a line


@dataclass(frozen=True)
class Placement:
    """Where a drawing of `source` (width, height) went in the model's frame:
    model (x, y) = drawing (x, y) * scale + (dx, dy)."""

    scale: float
    dx: float
    dy: float
    source: tuple[int, int]


def hint_input(rgb: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Hint colours (B, 3, S, S) in [-1, 1] and mask (B, 1, S, S) in {0, 1} -> (B, 4, S, S)."""
    return torch.cat([rgb * mask, mask], dim=1)


def no_hints(batch: int, size: int) -> torch.Tensor:
    """The 4 hint channels of drawings without hints: (batch, 4, size, size) zeros."""
    return torch.zeros(batch, HINT_CHANNELS, size, size)


def place_hints(value: Any, placement: Placement, size: int) -> torch.Tensor:
    """A hint picture (RGBA, the drawing's size) moved and scaled like its drawing -> (1, 4, size, size)."""
    hints = open_rgba(value, "hint picture")
    if hints.size != placement.source:
        raise ValueError(f"The hint picture is {hints.size[0]}x{hints.size[1]} pixels; it must be the drawing's "
                         f"size, {placement.source[0]}x{placement.source[1]}.")
    w, h = (max(1, round(side * placement.scale)) for side in hints.size)
    scaled = hints.resize((w, h), Image.BOX)  # (Pillow averages RGBA premultiplied: no dark fringes)
    frame = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    frame.paste(scaled, (round(placement.dx), round(placement.dy)))
    a = np.asarray(frame, dtype=np.float32)
    mask = torch.from_numpy(a[..., 3] >= OPAQUE).float()[None, None]  # (1, 1, S, S)
    rgb = torch.from_numpy(a[..., :3] / 127.5 - 1).permute(2, 0, 1)[None]  # (1, 3, S, S)
    return hint_input(rgb, mask)


def colour_regions(target: torch.Tensor, sketch: torch.Tensor) -> torch.Tensor:
    """Where hints make sense: coloured target pixels off the lines. uint8 (3, S, S) pair -> (S, S) bool."""
    return (target.min(dim=0).values <= WHITE) & (sketch.min(dim=0).values >= LINE)


def _stamp(spot: torch.Tensor, y: int, x: int, radius: int) -> None:
    """Set a disc of `radius` px around (y, x) in the (S, S) bool map `spot`, clipped to it."""
    r = torch.arange(-radius, radius + 1)
    disc = r[:, None].square() + r[None, :].square() <= radius * radius + 0.5
    size = spot.shape[0]
    y0, y1, x0, x1 = max(0, y - radius), min(size, y + radius + 1), max(0, x - radius), min(size, x + radius + 1)
    spot[y0:y1, x0:x1] |= disc[y0 - y + radius:y1 - y + radius, x0 - x + radius:x1 - x + radius]


def _stroke(regions: torch.Tensor, blurred: torch.Tensor, start: tuple[int, int], gen: torch.Generator | None
            ) -> list[tuple[int, int]]:
    """Points of a short straight stroke from `start`, ending where it would leave the start's colour."""
    angle = torch.rand((), generator=gen).item() * 2 * math.pi
    length = 4 + torch.randint(0, 13, (), generator=gen).item()
    size, colour = regions.shape[0], blurred[:, start[0], start[1]]
    points = []
    for t in range(length):
        y, x = round(start[0] + t * math.sin(angle)), round(start[1] + t * math.cos(angle))
        if not (0 <= y < size and 0 <= x < size and regions[y, x]) or (blurred[:, y, x] - colour).abs().sum() > 60:
            break
        points.append((y, x))
    return points


def simulate_hints(target: torch.Tensor, sketch: torch.Tensor, dots: int, strokes: int = 0,
                   gen: torch.Generator | None = None) -> torch.Tensor:
    """Hints an artist might give for `target`: dots (radius 1-2 px) and short strokes inside
    its coloured regions, each in the target's local colour. uint8 (3, S, S) pair -> (4, S, S)."""
    size = target.shape[-1]
    regions = colour_regions(target, sketch)
    where = regions.nonzero()  # (K, 2)
    blurred = F.avg_pool2d(target[None].float(), 3, 1, 1, count_include_pad=False)[0]  # (3, S, S) 0..255
    rgb, mask = torch.zeros(3, size, size), torch.zeros(size, size, dtype=torch.bool)
    if len(where) == 0:
        return hint_input(rgb[None], mask[None, None].float())[0]
    for i in range(dots + strokes):
        y, x = where[torch.randint(0, len(where), (), generator=gen)].tolist()
        colour = blurred[:, y, x] / 127.5 - 1
        spot = torch.zeros_like(mask)
        if i < dots:
            _stamp(spot, y, x, 1 + torch.randint(0, 2, (), generator=gen).item())
        else:
            for py, px in _stroke(regions, blurred, (y, x), gen):
                _stamp(spot, py, px, 1)
        mask |= spot
        rgb[:, spot] = colour[:, None]
    return hint_input(rgb[None], mask[None, None].float())[0]


def random_hints(targets: torch.Tensor, sketches: torch.Tensor, gen: torch.Generator | None = None) -> torch.Tensor:
    """Training hints for a batch (uint8 (B, 3, S, S) pairs -> (B, 4, S, S)): a fifth of the
    drawings get none, the others a geometric number (mean 8, at most 40), a third of them strokes."""
    out = []
    for target, sketch in zip(targets, sketches):
        none = torch.rand((), generator=gen).item() < 0.2
        n = 0 if none else min(40, int(torch.empty(()).geometric_(1 / 8, generator=gen).item()))
        strokes = int(torch.binomial(torch.tensor(float(n)), torch.tensor(1 / 3), generator=gen).item())
        out.append(simulate_hints(target, sketch, n - strokes, strokes, gen))
    return torch.stack(out)
