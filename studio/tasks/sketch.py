"""Sketch to image: normalise what a person drew, run a pix2pix checkpoint; photo to line art.

A drawing arrives as a picture in many forms (a PIL image, a path, bytes or an array,
as imaging.files.open_image reads them; black-on-white or white-on-black, any size, any
mode; the app flattens its canvas into one picture first). `prepare_sketch` turns it into
what the model was trained on: black lines on white, the drawing cropped to its
bounding box, centred, scaled to fill the same share of the frame as the training
line art, thresholded, with strokes thickened or thinned to the training width.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from PIL import Image, ImageFilter
from torch import nn

from ..errors import StudioError
from ..imaging.files import open_image
from ..imaging.convert import to_pil
from ..checkpoints import resolve

FILL = 0.75  # the drawing's longer side over the frame, as in the OpenMoji training line art (median)
STROKE_FRACTION = 3.2 / 128  # training stroke width over the frame (OpenMoji at 128 px: median 3.2 px)
MIN_INK_PIXELS = 12


def ink(value: Any) -> np.ndarray:
    """A picture of a drawing -> ink map (H, W) in [0, 1], 1 where there is a line, whatever its polarity."""
    picture = open_image(value, "drawing")[0]
    grey = np.asarray(picture.convert("L"), dtype=np.float32) / 255.0
    # Lines are the minority: if most of the picture is dark, it is white lines on black.
    return grey if np.median(grey) < 0.5 else 1.0 - grey


def thin(mask: np.ndarray, max_iterations: int = 64) -> np.ndarray:
    """Zhang-Suen thinning: a binary drawing -> its one-pixel-wide skeleton."""
    img = np.pad(mask.astype(np.uint8), 1)
    for _ in range(max_iterations):
        changed = False
        for first in (True, False):
            p2, p3, p4 = img[:-2, 1:-1], img[:-2, 2:], img[1:-1, 2:]
            p5, p6, p7 = img[2:, 2:], img[2:, 1:-1], img[2:, :-2]
            p8, p9 = img[1:-1, :-2], img[:-2, :-2]
            ring = [p2, p3, p4, p5, p6, p7, p8, p9, p2]
            neighbours = sum(ring[:8])
            transitions = sum(((a == 0) & (b == 1)).astype(np.uint8) for a, b in zip(ring[:-1], ring[1:]))
            if first:
                cond = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
            else:
                cond = (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            remove = (img[1:-1, 1:-1] == 1) & (neighbours >= 2) & (neighbours <= 6) & (transitions == 1) & cond
            if remove.any():
                img[1:-1, 1:-1][remove] = 0
                changed = True
        if not changed:
            break
    return img[1:-1, 1:-1].astype(bool)


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width of a binary line drawing: a line of width w loses 2/w of its area
    to a one-pixel erosion, so w = 2 * area / (area - eroded area)."""
    area = mask.sum()
    eroded = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).filter(ImageFilter.MinFilter(3))) > 127
    lost = area - eroded.sum()
    return float(2 * area / lost) if lost > 0 else 1.0


def _square_crop(mask: np.ndarray) -> np.ndarray:
    """Crop a binary map to its bounding box and centre that in a square."""
    ys, xs = np.nonzero(mask)
    crop = mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    h, w = crop.shape
    side = max(h, w)
    square = np.zeros((side, side), dtype=bool)
    square[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = crop
    return square


def prepare_sketch(value: Any, size: int, stroke_px: float | None = None) -> Image.Image:
    """The drawing as the model's training input: (size, size) RGB, black lines on white."""
    mask = ink(value) > 0.5
    if mask.sum() < MIN_INK_PIXELS:
        raise StudioError("The canvas is empty: draw something first.")
    inner = max(8, round(size * FILL))
    # 1. At twice the target size, reduce the lines to their one-pixel skeleton, so that
    #    the brush width no longer matters (a thick stroke is a line, not a shape).
    work = 2 * inner
    square = _square_crop(mask)
    scaled = Image.fromarray(square.astype(np.uint8) * 255).resize((work, work), Image.BOX)
    skeleton = thin(np.asarray(scaled, dtype=np.float32) / 255 > 0.25)
    if skeleton.sum() < 2:
        raise StudioError("The drawing is too small to see: draw it bigger.")
    # 2. Fit the skeleton (not the brush's outer edge) to the training fill, centred.
    skeleton = _square_crop(skeleton)
    scale = (inner - 1) / max(1, skeleton.shape[0] - 1)
    ys, xs = np.nonzero(skeleton)
    offset = (size - inner) // 2
    lines = np.zeros((size, size), dtype=np.uint8)
    lines[np.round(ys * scale).astype(int) + offset, np.round(xs * scale).astype(int) + offset] = 255
    # 3. Redraw with a pen of the training stroke width, anti-aliased like the training renders.
    pen = max(1, int(round(stroke_px or STROKE_FRACTION * size)) | 1)  # odd
    picture = Image.fromarray(lines)
    if pen > 1:
        picture = picture.filter(ImageFilter.MaxFilter(pen))
    picture = picture.filter(ImageFilter.GaussianBlur(0.5))
    return Image.eval(picture, lambda v: 255 - v).convert("RGB")


def trained_stroke(description: dict) -> float | None:
    """The pen width (px) a sketch checkpoint's studio.json records, if any."""
    return description.get("sketch", {}).get("stroke_px") or None


def model_input(sketch: Any, size: int, stroke_px: float | None = None) -> torch.Tensor:
    """The drawing as a generator's input: (1, 3, size, size) in [-1, 1]."""
    picture = prepare_sketch(sketch, size, stroke_px)
    return torch.from_numpy(np.asarray(picture, dtype=np.float32) / 127.5 - 1).permute(2, 0, 1)[None]


@torch.no_grad()
def sketch_to_image(model: nn.Module | str, sketch: Any) -> Image.Image:
    """Turn a line drawing into a coloured picture with a `sketch` checkpoint."""
    model = resolve(model)
    spec = getattr(model, "spec", None)
    size = getattr(model, "image_size", None) or (spec.image_size if spec else 128)
    x = model_input(sketch, size, trained_stroke(spec.raw if spec else {}))
    device = next(model.parameters()).device
    return to_pil(model(x.to(device)))[0]  # (1, 3, S, S) in [-1, 1] -> picture


def edges(image: Any, detail: float = 0.5) -> Image.Image:
    """A photo or picture -> black-on-white line art (eXtended Difference of Gaussians).

    `detail` in [0, 1]: higher keeps finer lines. The result can be drawn on and fed to
    `sketch_to_image`.
    """
    picture = open_image(image, "picture")[0]
    picture.thumbnail((512, 512))
    grey = picture.convert("L")
    grey = grey.filter(ImageFilter.MedianFilter(5))  # flatten texture (fur, grain) before looking for edges
    detail = float(np.clip(detail, 0, 1))
    sigma = 2.4 - detail * 1.4  # 2.4 (outlines only) .. 1.0 (fine lines)
    a = np.asarray(grey.filter(ImageFilter.GaussianBlur(sigma)), dtype=np.float32) / 255
    b = np.asarray(grey.filter(ImageFilter.GaussianBlur(sigma * 1.6)), dtype=np.float32) / 255
    dog = a - 0.98 * b
    lines = dog < np.percentile(dog, 5 + 7 * detail)  # the dark side of edges: outlines
    cleaned = Image.fromarray((~lines).astype(np.uint8) * 255).filter(ImageFilter.MedianFilter(3))
    return cleaned.convert("RGB")
