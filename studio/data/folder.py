"""Read any folder of images into memory: flat (unconditional) or one sub-folder per class.

If the folder has a `dataset.json` with a `heldout` list (as the studio's builders
write), `split="train"` leaves those files out and `split="heldout"` keeps only them.
Unreadable files are skipped and counted, never fatal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from ..errors import StudioError
from ..imaging.convert import on_white

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}


@dataclass
class ImageSet:
    images: torch.Tensor  # (N, 3, S, S) uint8
    labels: torch.Tensor  # (N,) int64, class index; all zero when unconditional
    classes: list[str]  # class names ([] when unconditional)
    files: list[str] = field(default_factory=list)  # relative paths, same order as images
    skipped: int = 0  # unreadable files


def _square_rgb(path: Path, size: int) -> np.ndarray:
    """Open, composite transparency on white, centre-crop to square, resize: (S, S, 3) uint8."""
    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image)
        if image.mode in ("RGBA", "LA", "P", "PA"):
            image = on_white(image)
        image = ImageOps.fit(image.convert("RGB"), (size, size), Image.LANCZOS)
        return np.asarray(image, dtype=np.uint8)


def heldout_files(root: Path) -> set[str]:
    """The held-out list from `root/dataset.json`, or an empty set."""
    meta = root / "dataset.json"
    if not meta.exists():
        return set()
    return set(json.loads(meta.read_text()).get("heldout", {}).get("files", []))


def load_folder(root: str | Path, size: int = 64, conditional: bool = False, split: str = "train",
                classes: list[str] | None = None, merge: dict[str, str] | None = None) -> ImageSet:
    """Load images under `root`; with `conditional`, each sub-folder is a class.

    `merge` counts a sub-folder's pictures as another class ({"fruit & veg": "food &
    drink"}). `classes` restricts (and orders) the classes; by default every class
    that holds images after merging, sorted, except the builders' `other` folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise StudioError(f"Data folder {root} does not exist.")
    if split not in ("train", "heldout", "all"):
        raise StudioError(f"split must be train, heldout or all, not {split!r}.")
    held = heldout_files(root)
    paths = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    rel = [p.relative_to(root).as_posix() for p in paths]
    if split == "train":
        keep = [r not in held for r in rel]
    elif split == "heldout":
        keep = [r in held for r in rel]
    else:
        keep = [True] * len(rel)
    paths = [p for p, k in zip(paths, keep) if k]

    if conditional:
        present = sorted({p.relative_to(root).parts[0] for p in paths if len(p.relative_to(root).parts) > 1})
        merge = merge or {}
        unknown = sorted(set(merge) - set(present))
        if unknown:
            raise StudioError(f"Cannot merge {', '.join(unknown)}: no such class sub-folder in {root} ({present}).")
        class_of = {folder: merge.get(folder, folder) for folder in present if folder != "other"}
        classes = classes or sorted(set(class_of.values()))
        if len(classes) < 2:
            raise StudioError(f"A conditional data set needs at least two class sub-folders in {root} (after merging); "
                              f"found {present}.")
        index = {c: i for i, c in enumerate(classes)}
        index = {folder: index[c] for folder, c in class_of.items() if c in index}  # folder -> class index
        paths = [p for p in paths if p.relative_to(root).parts[0] in index]
    else:
        classes, index = [], {}

    arrays, labels, files, skipped = [], [], [], 0
    for path in paths:
        try:
            arrays.append(_square_rgb(path, size))
        except (OSError, ValueError, Image.DecompressionBombError):
            skipped += 1
            continue
        relpath = path.relative_to(root)
        labels.append(index[relpath.parts[0]] if conditional else 0)
        files.append(relpath.as_posix())
    if not arrays:
        raise StudioError(f"No readable images in {root} (split {split}); {skipped} unreadable.")
    images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
    return ImageSet(images, torch.tensor(labels, dtype=torch.long), classes, files, skipped)
