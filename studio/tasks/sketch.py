"""Sketch to image: normalise what a person drew (and place its colour hints), run a pix2pix
checkpoint; photo to line art.

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
from skimage import filters, morphology, restoration
from torch import nn

from ..errors import StudioError
from ..imaging.files import open_image
from ..imaging.convert import to_pil
from ..checkpoints import resolve
from .hints import Placement, no_hints, place_hints

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


def _square_crop(mask: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """Crop a binary map to its bounding box and centre that in a square; also the (y, x) of
    the map's pixel that lands on the square's corner (square = map shifted by that)."""
    ys, xs = np.nonzero(mask)
    crop = mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    h, w = crop.shape
    side = max(h, w)
    square = np.zeros((side, side), dtype=bool)
    top, left = (side - h) // 2, (side - w) // 2
    square[top:top + h, left:left + w] = crop
    return square, (ys.min() - top, xs.min() - left)


def prepare_sketch(value: Any, size: int, stroke_px: float | None = None) -> Image.Image:
    """The drawing as the model's training input: (size, size) RGB, black lines on white."""
    return place_sketch(value, size, stroke_px)[0]


def place_sketch(value: Any, size: int, stroke_px: float | None = None) -> tuple[Image.Image, Placement]:
    """`prepare_sketch`, and where the drawing went in the frame (for its colour hints)."""
    mask = ink(value) > 0.5
    if mask.sum() < MIN_INK_PIXELS:
        raise StudioError("The canvas is empty: draw something first.")
    inner = max(8, round(size * FILL))
    # 1. At twice the target size, reduce the lines to their one-pixel skeleton, so that
    #    the brush width no longer matters (a thick stroke is a line, not a shape).
    work = 2 * inner
    square, corner = _square_crop(mask)
    scaled = Image.fromarray(square.astype(np.uint8) * 255).resize((work, work), Image.BOX)
    skeleton = thin(np.asarray(scaled, dtype=np.float32) / 255 > 0.25)
    if skeleton.sum() < 2:
        raise StudioError("The drawing is too small to see: draw it bigger.")
    # 2. Fit the skeleton (not the brush's outer edge) to the training fill, centred.
    skeleton, corner2 = _square_crop(skeleton)
    scale = (inner - 1) / max(1, skeleton.shape[0] - 1)
    ys, xs = np.nonzero(skeleton)
    offset = (size - inner) // 2
    # drawing px -> square (- corner) -> work (* zoom) -> skeleton square (- corner2) -> frame (* scale + offset)
    zoom = work / square.shape[0]
    placement = Placement(float(zoom * scale), float((-corner[1] * zoom - corner2[1]) * scale + offset),
                          float((-corner[0] * zoom - corner2[0]) * scale + offset), (mask.shape[1], mask.shape[0]))
    lines = np.zeros((size, size), dtype=np.uint8)
    lines[np.round(ys * scale).astype(int) + offset, np.round(xs * scale).astype(int) + offset] = 255
    # 3. Redraw with a pen of the training stroke width, anti-aliased like the training renders.
    pen = max(1, int(round(stroke_px or STROKE_FRACTION * size)) | 1)  # odd
    picture = Image.fromarray(lines)
    if pen > 1:
        picture = picture.filter(ImageFilter.MaxFilter(pen))
    picture = picture.filter(ImageFilter.GaussianBlur(0.5))
    return Image.eval(picture, lambda v: 255 - v).convert("RGB"), placement


def trained_stroke(description: dict) -> float | None:
    """The pen width (px) a sketch checkpoint's studio.json records, if any."""
    return description.get("sketch", {}).get("stroke_px") or None


def model_input(sketch: Any, size: int, stroke_px: float | None = None, hints: Any = None,
                with_hints: bool = False) -> torch.Tensor:
    """The drawing as a generator's input: (1, 3, size, size) in [-1, 1]; `with_hints` (a hint
    model) adds its hints' 4 channels (none given: zeros): (1, 7, size, size)."""
    picture, placement = place_sketch(sketch, size, stroke_px)
    x = torch.from_numpy(np.asarray(picture, dtype=np.float32) / 127.5 - 1).permute(2, 0, 1)[None]
    if not with_hints:
        return x
    if hints is None:
        return torch.cat([x, no_hints(1, size)], dim=1)
    try:
        return torch.cat([x, place_hints(hints, placement, size)], dim=1)
    except ValueError as exc:
        raise StudioError(str(exc)) from None


def takes_hints(model: nn.Module) -> bool:
    """Whether a sketch model was trained with colour hints."""
    return bool(getattr(model, "hints", False))


@torch.no_grad()
def sketch_to_image(model: nn.Module | str, sketch: Any, hints: Any = None) -> Image.Image:
    """Turn a line drawing into a coloured picture with a `sketch` checkpoint. `hints`: an RGBA
    picture the drawing's size whose opaque pixels are colour hints, for a hint model."""
    model = resolve(model)
    spec = getattr(model, "spec", None)
    if hints is not None and not takes_hints(model):
        raise StudioError(f"{spec.name if spec else 'This model'} does not take colour hints: pick a model trained "
                          "with hints (studio train pix2pix --hints), or leave the hints out.")
    size = getattr(model, "image_size", None) or (spec.image_size if spec else 128)
    x = model_input(sketch, size, trained_stroke(spec.raw if spec else {}), hints, takes_hints(model))
    device = next(model.parameters()).device
    return to_pil(model(x.to(device)))[0]  # (1, 3, S, S) in [-1, 1] -> picture


def edges(image: Any, detail: float = 0.4) -> Image.Image:
    """A photo or picture -> black-on-white line art: clean, connected lines one pen wide.

    The dark side of a difference of Gaussians (XDoG's edge map) after a total-variation
    smoothing that flattens texture (fur, grain), thinned to a skeleton, with specks and
    short fragments removed, redrawn 3 px wide. `detail` in [0, 1]: higher keeps finer
    and shorter lines. The result can be drawn on and fed to `sketch_to_image`.
    """
    picture = open_image(image, "picture")[0]
    picture.thumbnail((512, 512))
    detail = float(np.clip(detail, 0, 1))
    grey = np.asarray(picture.convert("L"), dtype=np.float32) / 255
    grey = restoration.denoise_tv_chambolle(grey, weight=0.12 - 0.05 * detail)
    sigma = 1.8 - 0.9 * detail  # 1.8 px (outlines only) .. 0.9 px (fine lines)
    dog = filters.gaussian(grey, sigma) - filters.gaussian(grey, 1.6 * sigma)
    # The dark side of edges: the darkest few percent of the DoG, if they are edges at all
    # (below a contrast floor; on a plain or grainy area the darkest few percent are noise).
    lines = dog < min(np.percentile(dog, 6 + 5 * detail), -(0.006 - 0.003 * detail))
    lines = morphology.remove_small_objects(lines, max_size=int(60 - 40 * detail))
    skeleton = morphology.skeletonize(lines)
    skeleton = morphology.remove_small_objects(skeleton, max_size=int(40 - 28 * detail), connectivity=2)
    pen = morphology.dilation(skeleton, morphology.disk(1))
    return Image.fromarray(np.where(pen, 0, 255).astype(np.uint8)).convert("RGB")
