"""Sketch to image latency, batch 1: drawing preprocessing + pix2pix generator.

    python bench/sketch_latency.py [--model NAME] [--runs 30] [--threads N]

For 128 and 256 px, times `prepare_sketch` on a 384x384 canvas drawing (what the
browser sends), the generator forward pass, and `sketch_to_image` end to end; medians
after warm-up. Without --model it uses U-Nets of the shipped width (16) with random
weights: latency does not depend on the weights.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch
from PIL import Image, ImageDraw

from studio import Registry, sketch_to_image
from studio.models import build
from studio.tasks.sketch import prepare_sketch


def canvas_drawing(size: int = 384) -> Image.Image:
    """A cat's head as a person might draw it: a few thick strokes on a transparent layer."""
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    d.ellipse([90, 110, 300, 320], outline=(0, 0, 0, 255), width=8)
    d.polygon([(100, 160), (120, 60), (170, 120)], outline=(0, 0, 0, 255), width=8)
    d.polygon([(290, 160), (270, 60), (220, 120)], outline=(0, 0, 0, 255), width=8)
    d.ellipse([150, 180, 170, 200], fill=(0, 0, 0, 255))
    d.ellipse([220, 180, 240, 200], fill=(0, 0, 0, 255))
    d.line([(160, 260), (195, 280), (230, 260)], fill=(0, 0, 0, 255), width=6)
    return layer


def median_ms(fn, runs: int) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="a sketch checkpoint (default: random U-Nets, width 16)")
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--threads", type=int)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"machine: {platform.machine()} {platform.processor()}, {os.cpu_count()} cpus, "
          f"{torch.get_num_threads()} torch threads, torch {torch.__version__}")
    value = {"background": Image.new("RGBA", (384, 384), (255, 255, 255, 255)), "layers": [canvas_drawing()],
             "composite": None}
    models = {}
    if args.model:
        model = Registry().get(args.model)
        models[model.image_size] = model
    else:
        for size in (128, 256):
            models[size] = build("pix2pix-unet", {"image_size": size, "width": args.width}).eval().requires_grad_(False)
    with torch.no_grad():
        for size, model in models.items():
            x = torch.zeros(1, 3, size, size)
            pre = median_ms(lambda: prepare_sketch(value, size), args.runs)
            net = median_ms(lambda: model(x), args.runs)
            full = median_ms(lambda: sketch_to_image(model, value), args.runs)
            print(f"{size} px: preprocessing {pre:6.1f} ms, generator {net:6.1f} ms, sketch_to_image {full:6.1f} ms")


if __name__ == "__main__":
    main()
