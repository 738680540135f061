"""OpenMoji line art -> colour pairs for pix2pix (the `sketch` task).

OpenMoji draws every emoji twice on one grid: black line art and the same drawing
coloured, so the two renders are pixel-aligned. Layout written to `out`:
    dataset.json          source, licence (CC-BY-SA-4.0), groups, the held-out split
    sketch/<HEX>.png      line art, black on white, RGB
    color/<HEX>.png       the coloured emoji on white, RGB
"""

from __future__ import annotations

import io
import json
import random
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from ..errors import StudioError
from .packages import npm_tarball, unpack

SOURCE = {"npm": "openmoji@17.0.0", "licence": "CC-BY-SA-4.0",
          "attribution": "All emojis designed by OpenMoji, the open-source emoji and icon project. License: CC BY-SA 4.0"}
EXCLUDED_GROUPS = ("flags", "component")


def render_svg(path: Path, size: int) -> Image.Image:
    """Render an SVG with resvg (no system libraries) on white, as RGB."""
    try:
        import resvg_py
    except ImportError:
        raise StudioError("Rendering OpenMoji needs the package `resvg-py` (pip install -e \".[data]\").") from None
    png = resvg_py.svg_to_bytes(svg_path=str(path), width=size, height=size, background="#ffffff")
    return Image.open(io.BytesIO(bytes(png))).convert("RGB")


def build_openmoji(out: Path, size: int = 128, heldout_fraction: float = 0.1, seed: int = 0,
                   root: Path | None = None) -> dict:
    """Build the pairs into `out`; `root` is an unpacked `openmoji` package (default: fetched from npm)."""
    if root is None:
        root = unpack(npm_tarball(SOURCE["npm"]), ("package/black/svg/", "package/color/svg/", "package/data/openmoji.json"))
    entries = json.loads((root / "package/data/openmoji.json").read_text())
    entries = [e for e in entries if not e.get("skintone") and e["group"] not in EXCLUDED_GROUPS]
    rng = random.Random(seed)
    (out / "sketch").mkdir(parents=True, exist_ok=True)
    (out / "color").mkdir(parents=True, exist_ok=True)
    names, groups, skipped, empty, heldout = [], {}, 0, 0, []
    for entry in tqdm(entries, desc="openmoji", unit="pair"):
        hexcode = entry["hexcode"]
        black = root / "package/black/svg" / f"{hexcode}.svg"
        colour = root / "package/color/svg" / f"{hexcode}.svg"
        try:
            sketch, picture = render_svg(black, size), render_svg(colour, size)
        except (OSError, ValueError, RuntimeError):
            skipped += 1
            continue
        if (np.asarray(sketch.convert("L")) < 128).sum() < 20:  # no line art to learn from
            empty += 1
            continue
        sketch.save(out / "sketch" / f"{hexcode}.png")
        picture.save(out / "color" / f"{hexcode}.png")
        names.append(hexcode)
        groups[hexcode] = entry["group"]
        if rng.random() < heldout_fraction:
            heldout.append(hexcode)
    description = {
        "name": "openmoji-pairs", "image_size": size, "task": "sketch",
        "sources": {"openmoji": SOURCE}, "licence": SOURCE["licence"],
        "excluded": {"groups": list(EXCLUDED_GROUPS), "skin_tones": True},
        "total": len(names), "skipped_unreadable": skipped, "skipped_empty_sketch": empty,
        "counts": dict(sorted(Counter(groups.values()).items())),
        "groups": groups,
        "heldout": {"fraction": heldout_fraction, "seed": seed, "by": "emoji", "names": sorted(heldout)},
    }
    (out / "dataset.json").write_text(json.dumps(description, indent=1))
    return description
