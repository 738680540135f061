"""Turning whatever a user supplies into a clean RGB picture, or a clear refusal.

Accepted: a PIL image, a path, bytes, or an array (H, W), (H, W, 3) or (H, W, 4),
uint8 / uint16 / float. Handled: EXIF orientation, 16-bit, CMYK, palette and
transparent images (composited on white), animated images (first frame, with a
note). Refused with a message: unreadable or truncated files, images smaller than
MIN_SIDE or larger than MAX_PIXELS.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import StudioError
from .convert import on_white

MIN_SIDE = 16
MAX_PIXELS = 40_000_000  # 40 MP: a phone photo is 12-50 MP; beyond that is almost surely a mistake


def _from_array(array: np.ndarray) -> Image.Image:
    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise StudioError(f"An image array must be (H, W), (H, W, 3) or (H, W, 4); got shape {a.shape}.")
    if a.dtype == np.uint16:
        a = (a / 257).round().astype(np.uint8)
    elif np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise StudioError("The image holds NaN or infinite values.")
        scale = 255.0 if a.max(initial=0) <= 1.0 else 1.0
        a = np.clip(a * scale, 0, 255).round().astype(np.uint8)
    elif a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    return Image.fromarray(a)


def open_image(value: Any, what: str = "image") -> tuple[Image.Image, list[str]]:
    """Any supported input -> (RGB picture, notes for the user). Raises StudioError if unusable."""
    image, notes = _open(value, what)
    return to_rgb(image), notes


def open_rgba(value: Any, what: str = "image") -> Image.Image:
    """Any supported input -> an RGBA picture, its transparency kept (opaque where it has none)."""
    image = _open(value, what)[0]
    return to_rgb(image).convert("RGBA") if image.mode in ("I;16", "I;16B", "I;16L", "I", "F") \
        else image.convert("RGBA")


def _open(value: Any, what: str) -> tuple[Image.Image, list[str]]:
    """Read and check any supported input, in its own mode."""
    notes: list[str] = []
    if value is None:
        raise StudioError(f"No {what} was given.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if isinstance(value, Image.Image):
                image = value
            elif isinstance(value, np.ndarray):
                image = _from_array(value)
            elif isinstance(value, (bytes, bytearray)):
                image = Image.open(io.BytesIO(value))
            elif isinstance(value, (str, Path)):
                image = Image.open(value)
            else:
                raise StudioError(f"Cannot read the {what} from a {type(value).__name__}.")
            w, h = image.size
            if w * h > MAX_PIXELS:
                raise StudioError(f"The {what} is {w}x{h} pixels; the limit is {MAX_PIXELS // 1_000_000} megapixels. "
                                  "Scale it down first.")
            if getattr(image, "is_animated", False):
                notes.append(f"The {what} is animated; its first frame is used.")
                image.seek(0)
            image = ImageOps.exif_transpose(image)
            image.load()  # decode now, so a truncated file fails here
    except StudioError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise StudioError(f"The {what} is larger than {MAX_PIXELS // 1_000_000} megapixels; scale it down first.") from None
    except UnidentifiedImageError:
        raise StudioError(f"The {what} could not be read as a picture: it is not a PNG, JPEG, WebP, GIF, BMP or "
                          "TIFF file.") from None
    except (OSError, ValueError, SyntaxError) as exc:
        reason = str(exc).replace(str(value), "the file") if isinstance(value, (str, Path)) else str(exc)
        raise StudioError(f"The {what} could not be read as a picture ({reason}).") from None
    w, h = image.size
    if min(w, h) < MIN_SIDE:
        raise StudioError(f"The {what} is only {w}x{h} pixels; give at least {MIN_SIDE}x{MIN_SIDE}.")
    return image, notes


def to_rgb(image: Image.Image) -> Image.Image:
    """Any mode -> RGB; transparency is composited on white, 16-bit and float are rescaled."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(image, dtype=np.float64)
        top = 65535.0 if a.max(initial=0) > 255 else 255.0
        image = Image.fromarray((a / top * 255).clip(0, 255).round().astype(np.uint8))
    elif image.mode == "F":
        a = np.nan_to_num(np.asarray(image, dtype=np.float64))
        top = 1.0 if a.max(initial=0) <= 1.0 else 255.0
        image = Image.fromarray((a / top * 255).clip(0, 255).round().astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        return on_white(image)
    return image.convert("RGB")


def fit_within(image: Image.Image, longest: int) -> Image.Image:
    """Resize so that the longer side is `longest` (up or down), keeping the aspect ratio."""
    w, h = image.size
    scale = longest / max(w, h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return image if size == image.size else image.resize(size, Image.LANCZOS)
