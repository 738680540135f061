"""Read aligned image pairs for pix2pix: line art (A) and the picture it should become (B).

Two layouts: a folder with `sketch/` and `color/` sub-folders holding files of the
same names (what `studio data openmoji` writes), or a flat folder of side-by-side
`A|B` images (the pix2pix convention). A `dataset.json` with `heldout.names` (file
stems) defines the held-out split. Unreadable files are skipped and counted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..errors import StudioError
from ..imaging.convert import on_white
from .folder import IMAGE_SUFFIXES


@dataclass
class PairSet:
    sketches: torch.Tensor  # (N, 3, S, S) uint8, black lines on white
    pictures: torch.Tensor  # (N, 3, S, S) uint8
    names: list[str]
    skipped: int = 0


def _rgb(image: Image.Image, size: int) -> np.ndarray:
    if image.mode in ("RGBA", "LA", "P", "PA"):
        image = on_white(image)
    return np.asarray(image.convert("RGB").resize((size, size), Image.LANCZOS), dtype=np.uint8)


def load_pairs(root: str | Path, size: int = 128, split: str = "train") -> PairSet:
    """Load the pairs under `root` (either layout) for `split` in train, heldout, all."""
    root = Path(root)
    if not root.is_dir():
        raise StudioError(f"Data folder {root} does not exist.")
    meta = root / "dataset.json"
    held = set(json.loads(meta.read_text()).get("heldout", {}).get("names", [])) if meta.exists() else set()
    aligned = (root / "sketch").is_dir() and (root / "color").is_dir()
    files = sorted(p for p in (root / "sketch" if aligned else root).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    keep = {"train": lambda n: n not in held, "heldout": lambda n: n in held, "all": lambda n: True}
    if split not in keep:
        raise StudioError(f"split must be train, heldout or all, not {split!r}.")
    sketches, pictures, names, skipped = [], [], [], 0
    for path in files:
        if not keep[split](path.stem):
            continue
        try:
            if aligned:
                with Image.open(path) as a, Image.open(root / "color" / path.name) as b:
                    pair = _rgb(a, size), _rgb(b, size)
            else:
                with Image.open(path) as ab:
                    w, h = ab.size
                    pair = _rgb(ab.crop((0, 0, w // 2, h)), size), _rgb(ab.crop((w // 2, 0, w, h)), size)
        except (OSError, ValueError, Image.DecompressionBombError):
            skipped += 1
            continue
        sketches.append(pair[0])
        pictures.append(pair[1])
        names.append(path.stem)
    if not names:
        raise StudioError(f"No readable image pairs in {root} (split {split}); {skipped} unreadable.")
    to_tensor = lambda arrays: torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()  # noqa: E731
    return PairSet(to_tensor(sketches), to_tensor(pictures), names, skipped)
