"""Conversions between tensors and pictures, grids and GIFs."""

from __future__ import annotations

import io
import math
from typing import Sequence

import numpy as np
import torch
from PIL import Image


def from_uint8(batch: torch.Tensor) -> torch.Tensor:
    """uint8 (B, 3, H, W) in [0, 255] -> float32 in [-1, 1], what the generators take and make."""
    return batch.float() / 127.5 - 1


def on_white(image: Image.Image) -> Image.Image:
    """A picture with transparency -> RGB, composited on white (as the emoji are shown)."""
    rgba = image.convert("RGBA")
    return Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("RGB")


def to_uint8(batch: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) in [-1, 1] -> uint8 in [0, 255], as the pictures are saved."""
    return ((batch.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def to_pil(batch: torch.Tensor) -> list[Image.Image]:
    """(B, 3, H, W) in [-1, 1] -> B RGB pictures."""
    array = to_uint8(batch).permute(0, 2, 3, 1).cpu().numpy()
    return [Image.fromarray(a, "RGB") for a in array]


def grid(images: Sequence[Image.Image], columns: int | None = None, pad: int = 2, background=(255, 255, 255)) -> Image.Image:
    """Tile equally sized pictures into one, `columns` wide (default: square-ish)."""
    if not images:
        raise ValueError("grid() needs at least one image")
    columns = columns or math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / columns)
    w, h = images[0].size
    sheet = Image.new("RGB", (columns * (w + pad) + pad, rows * (h + pad) + pad), background)
    for i, image in enumerate(images):
        sheet.paste(image, (pad + (i % columns) * (w + pad), pad + (i // columns) * (h + pad)))
    return sheet


def gif_bytes(frames: Sequence[Image.Image], duration_ms: int = 80, bounce: bool = True) -> bytes:
    """An endlessly looping GIF of `frames` (there and back again when `bounce`)."""
    frames = list(frames)
    if bounce and len(frames) > 2:
        frames = frames + frames[-2:0:-1]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=duration_ms, loop=0)
    return buffer.getvalue()


def upscale(image: Image.Image, size: int) -> Image.Image:
    """Enlarge a small picture for display, keeping it sharp (nearest for integer factors)."""
    if image.width >= size:
        return image
    factor = size / image.width
    resample = Image.NEAREST if factor == int(factor) else Image.LANCZOS
    return image.resize((size, round(image.height * factor)), resample)


def as_array(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"))
