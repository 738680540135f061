"""Per-image sampling latency of a 64x64 generator: batch 1 and batch 16, median of many runs.

    python bench/sample_latency.py [--model NAME] [--runs 200] [--threads N]

Times `studio.sample` end to end (CPU latent draw, generator, conversion to PIL)
and the bare generator forward pass side by side, after warm-up. Without --model
it uses a generator of the shipped default size (width 32, z 128) with random
weights: latency does not depend on the weights.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch

import studio
from studio.models import build


def median_ms(fn, runs: int) -> float:
    for _ in range(5):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="checkpoint name (default: random weights, default size)")
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.model:
        model = studio.Registry().get(args.model)
    else:
        model = build("dcgan", {"z_dim": 128, "width": 32}).eval().requires_grad_(False)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, device {next(model.parameters()).device}")
    print(f"model: {args.model or 'dcgan width 32 z 128 (random weights)'}, "
          f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters")
    with torch.no_grad():
        for batch in (1, 16):
            seeds = list(range(batch))
            full = median_ms(lambda: studio.sample(model, seeds, truncation=0.8), args.runs) / batch
            z = torch.randn(batch, model.z_dim)
            bare = median_ms(lambda: model(z), args.runs) / batch
            print(f"batch {batch:2d}: studio.sample {full:6.2f} ms/image, generator forward {bare:6.2f} ms/image")


if __name__ == "__main__":
    main()
