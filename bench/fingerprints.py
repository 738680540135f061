"""Fingerprints of what the shipped checkpoints and tools make, to prove a refactor changed nothing.

    python bench/fingerprints.py --out before.json          # on the old code
    python bench/fingerprints.py --compare before.json      # on the new code: lists every difference

Covers, through the public API only (so the same script runs on both sides): seeds 0-63
of every latent and conditional checkpoint at psi 1 and 0.8 (a class mix too), a walk,
every example drawing through every sketch checkpoint, photo tracing, and a short
style-transfer run on the offline network. Each picture is reduced to the SHA-256 of
its pixels; equal hashes mean pixel-identical pictures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import studio  # noqa: E402

SEEDS = list(range(64))


def digest(images) -> list[str]:
    return [hashlib.sha256(np.asarray(im.convert("RGB")).tobytes()).hexdigest()[:16] for im in images]


def fingerprints() -> dict[str, list[str]]:
    torch.set_num_threads(2)
    registry = studio.Registry(ROOT / "checkpoints", device="cpu")
    out: dict[str, list[str]] = {}
    for spec in registry.list():
        model = registry.get(spec.name)
        if spec.task == "latent":
            for psi in (1.0, 0.8):
                out[f"{spec.name} psi {psi}"] = digest(studio.sample(model, SEEDS, truncation=psi))
            out[f"{spec.name} walk"] = digest(studio.interpolate(model, 3, 7, 8, truncation=0.9))
        elif spec.task == "conditional":
            for label in spec.labels:
                out[f"{spec.name} {label}"] = digest(studio.sample(model, SEEDS, truncation=1.0, classes=label))
            mix = {spec.labels[0]: 0.6, spec.labels[1]: 0.4}
            out[f"{spec.name} mix"] = digest(studio.sample(model, SEEDS[:16], truncation=0.8, classes=mix))
            out[f"{spec.name} walk"] = digest(studio.interpolate(model, 3, 7, 8, classes=spec.labels[2], mode="lerp"))
        elif spec.task == "sketch":
            drawings = sorted((ROOT / "assets" / "sketches").glob("*.png"))
            out[f"{spec.name} examples"] = digest(studio.sketch_to_image(model, str(p)) for p in drawings)
    photos = sorted((ROOT / "assets" / "photos").glob("*.jpg"))
    out["edges"] = digest(studio.edges(str(p), detail=d) for p in photos for d in (0.0, 0.4, 1.0))
    paintings = sorted((ROOT / "assets" / "styles").glob("*.jpg"))
    steps = studio.stylize(str(photos[0]), str(paintings[0]), size=96, steps=12, network="lite1", seed=0,
                           image_every=4)
    out["stylize lite1"] = digest(step.image for step in steps if step.image is not None)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", help="write the fingerprints here")
    p.add_argument("--compare", help="compare with fingerprints written before")
    args = p.parse_args()
    now = fingerprints()
    if args.out:
        Path(args.out).write_text(json.dumps(now, indent=1) + "\n")
        print(f"wrote {sum(map(len, now.values()))} fingerprints in {len(now)} groups to {args.out}")
    if args.compare:
        before = json.loads(Path(args.compare).read_text())
        differ = [f"{key}: {sum(a != b for a, b in zip(before[key], now.get(key, [])))} of {len(before[key])} differ"
                  for key in before if before[key] != now.get(key)]
        missing = sorted(set(before) ^ set(now))
        print(f"{len(before)} groups, {sum(map(len, before.values()))} pictures compared")
        for line in differ + [f"only on one side: {k}" for k in missing]:
            print("  " + line)
        print("identical" if not differ and not missing else "DIFFERENT")
        return 1 if differ or missing else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
