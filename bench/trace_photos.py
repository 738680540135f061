"""The README's tracing figure: each example photo above its line art (`studio edges`).

    python bench/trace_photos.py [--detail 0.4] [--out assets/photos/traced.png]

Also prints how clean the lines are: per photo, the number of connected line pieces and
the share of line pixels in pieces smaller than 30 px (specks), at details 0, 0.4 and 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
from skimage.measure import label

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from studio import edges  # noqa: E402
from studio.imaging.convert import grid  # noqa: E402

SPECK = 30  # px: a line piece smaller than this is a speck


def cleanliness(lines: Image.Image) -> tuple[int, float]:
    """(connected line pieces, share of line pixels in specks) of black-on-white line art."""
    ink = np.asarray(lines.convert("L")) < 128
    sizes = np.bincount(label(ink, connectivity=2).ravel())[1:]
    return len(sizes), float(sizes[sizes < SPECK].sum() / max(1, sizes.sum()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--detail", type=float, default=0.4)
    parser.add_argument("--out", default=str(REPO / "assets" / "photos" / "traced.png"))
    args = parser.parse_args()
    photos = sorted((REPO / "assets" / "photos").glob("*.jpg"))
    tiles, traced = [], []
    for path in photos:
        for detail in (0.0, 0.4, 1.0):
            pieces, specks = cleanliness(edges(str(path), detail))
            print(f"{path.stem:10s} detail {detail:.1f}: {pieces:4d} line pieces, {100 * specks:5.1f}% of ink in specks")
        tiles.append(ImageOps.pad(Image.open(path).convert("RGB"), (256, 256), color="white"))
        traced.append(ImageOps.pad(edges(str(path), args.detail), (256, 256), color="white"))
    grid(tiles + traced, columns=len(photos)).save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
