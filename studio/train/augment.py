"""Augmentations for training.

GANs: differentiable augmentation (Zhao et al. 2020, "DiffAugment") for small data sets,
applied to real and generated images alike before the discriminator, so D cannot
memorise the few thousand training pictures while G still learns the clean
distribution. pix2pix: paired flips and shifts of sketch and picture, and stroke
changes on the sketch only. All ops take and return (B, 3, H, W) in [-1, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..errors import StudioError


def color(x: torch.Tensor) -> torch.Tensor:
    b = x.shape[0]
    x = x + (torch.rand(b, 1, 1, 1, device=x.device) - 0.5)  # brightness
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (torch.rand(b, 1, 1, 1, device=x.device) * 2) + mean  # saturation
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (torch.rand(b, 1, 1, 1, device=x.device) + 0.5) + mean  # contrast


def translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift by up to `ratio` of the size, padding with white (the emoji background: 1.0)."""
    b, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sh, sh + 1, (b, 1, 1), device=x.device)
    dx = torch.randint(-sw, sw + 1, (b, 1, 1), device=x.device)
    gy, gx = torch.meshgrid(torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij")
    gy = (gy[None] + dy).clamp(-1, h)  # -1 and h index the padding
    gx = (gx[None] + dx).clamp(-1, w)
    padded = F.pad(x, (1, 1, 1, 1), value=1.0)
    idx = (gy + 1) * (w + 2) + (gx + 1)  # (B, H, W) flat index into the padded map
    flat = padded.flatten(2)  # (B, C, (H+2)(W+2))
    return flat.gather(2, idx.flatten(1)[:, None].expand(-1, x.shape[1], -1)).view_as(x)


def cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Blank a random square of `ratio` of the size (to mid grey, 0)."""
    b, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + 1 - ch % 2, (b, 1, 1), device=x.device)
    cx = torch.randint(0, w + 1 - cw % 2, (b, 1, 1), device=x.device)
    gy, gx = torch.meshgrid(torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij")
    inside = ((gy[None] - cy).abs() < ch // 2) & ((gx[None] - cx).abs() < cw // 2)
    return x * (~inside)[:, None].to(x.dtype)


POLICIES = {"color": color, "translation": translation, "cutout": cutout}


def diff_augment(x: torch.Tensor, policy: str) -> torch.Tensor:
    """Apply the comma-separated `policy` (e.g. "color,translation,cutout"); "" is identity."""
    for name in filter(None, policy.split(",")):
        x = POLICIES[name](x)
    return x


def check_policy(policy: str) -> str:
    """A DiffAugment policy with known names only."""
    unknown = [op for op in filter(None, policy.split(",")) if op not in POLICIES]
    if unknown:
        raise StudioError(f"Unknown augmentation {', '.join(unknown)}; choose from {', '.join(POLICIES)}.")
    return policy


PAIR_AUGMENTS = ("flip", "shift", "width", "drop")


def jitter_strokes(sketch: torch.Tensor) -> torch.Tensor:
    """Per picture: thinner (max-pool lightens dark lines), as is, or thicker (min-pool)."""
    choice = torch.randint(0, 3, (sketch.shape[0],))
    thin = F.max_pool2d(sketch, 3, 1, 1)
    thick = -F.max_pool2d(-sketch, 3, 1, 1)
    pick = choice.view(-1, 1, 1, 1).to(sketch.device)
    return torch.where(pick == 0, thin, torch.where(pick == 2, thick, sketch))


def drop_strokes(sketch: torch.Tensor, p: float = 0.5, max_boxes: int = 3) -> torch.Tensor:
    """Whiten up to `max_boxes` random rectangles of some sketches: missing or unfinished lines."""
    b, _, h, w = sketch.shape
    out = sketch.clone()
    for i in torch.nonzero(torch.rand(b) < p).flatten().tolist():
        for _ in range(int(torch.randint(1, max_boxes + 1, ()))):
            bh, bw = (int(v) for v in torch.randint(h // 12, h // 4, (2,)))
            y, x = int(torch.randint(0, h - bh, ())), int(torch.randint(0, w - bw, ()))
            out[i, :, y:y + bh, x:x + bw] = 1.0
    return out


def parse_augment(policy: str) -> tuple[str, ...]:
    ops = tuple(filter(None, (op.strip() for op in policy.split(","))))
    unknown = [op for op in ops if op not in PAIR_AUGMENTS]
    if unknown:
        raise StudioError(f"Unknown pix2pix augmentation {', '.join(unknown)}; choose from {', '.join(PAIR_AUGMENTS)}.")
    return ops


def augment_pair(sketch: torch.Tensor, picture: torch.Tensor,
                 policy: str = ",".join(PAIR_AUGMENTS)) -> tuple[torch.Tensor, torch.Tensor]:
    """Paired flips and shifts, then sketch-only stroke jitter and drops; all in [-1, 1]."""
    ops = parse_augment(policy)
    sketch, picture = sketch.clone(), picture.clone()
    if "flip" in ops:
        flip = torch.rand(sketch.shape[0]) < 0.5
        sketch[flip], picture[flip] = sketch[flip].flip(3), picture[flip].flip(3)
    if "shift" in ops:
        both = translation(torch.cat([sketch, picture], dim=1), ratio=1 / 16)  # one shift for the pair
        sketch, picture = both[:, :3], both[:, 3:]
    if "width" in ops:
        sketch = jitter_strokes(sketch)
    if "drop" in ops:
        sketch = drop_strokes(sketch)
    return sketch, picture
