"""Training throughput (images/s) of each trainer against its reference recipe, in one run.

    python bench/train_throughput.py [--steps 8] [--threads N]

Runs the real trainers (`train_gan`, `train_pix2pix`) on a synthetic data set written to
a temporary folder. Each configuration is trained twice, for `steps` and for 2 x `steps`
optimisation steps; the difference cancels start-up and the final checkpoint write, so
what is left is the steady-state time per step. The last two rows train the width-48
conditional model in float32 and with the default precision (bfloat16 autocast where it
is fast: a GPU, or a CPU with AMX tiles; float32 elsewhere, where both rows are the same).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from studio.train.distributed import fast_bfloat16
from studio.train.gan import GanConfig, train_gan
from studio.train.recipes import StyleGanConfig
from studio.train.pix2pix import Pix2PixConfig, train_pix2pix


def synthetic_folder(root: Path, n: int, size: int, pairs: bool) -> Path:
    rng = np.random.default_rng(0)
    for sub in (["sketch", "color"] if pairs else ["a", "b"]):
        (root / sub).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(root / sub / f"{i}.png")
    return root


def images_per_second(train, make_cfg, batch: int, steps: int, tmp: Path, tag: str) -> float:
    # An untimed run first pays the one-time costs (oneDNN kernel selection, first allocations):
    # without it the first configuration's short run paid them and came out slower than its long one.
    train(make_cfg(f"{tag}-warm", tmp), max_images=2 * batch)
    times = []
    for k, n_steps in enumerate((steps, 2 * steps)):
        cfg = make_cfg(f"{tag}-{k}", tmp)
        t = time.perf_counter()
        train(cfg, max_images=n_steps * batch)
        times.append(time.perf_counter() - t)
    return steps * batch / (times[1] - times[0])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--threads", type=int)
    p.add_argument("--only", help="comma-separated row tags to run, e.g. d-s,sg16,sg32")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"machine: {platform.machine()} {platform.processor()}, {os.cpu_count()} cpus, "
          f"{torch.get_num_threads()} torch threads, torch {torch.__version__}, "
          f"bfloat16 autocast {'on' if fast_bfloat16(torch.device('cpu')) else 'off'} by default")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        gan_data = synthetic_folder(tmp / "gan", 128, 64, pairs=False)
        pair_data = synthetic_folder(tmp / "pairs", 64, 128, pairs=True)

        def gan(recipe: str, conditional: bool = False, width: int | None = None, amp: bool = True):
            return lambda name, t: GanConfig(data=str(gan_data), name=name, recipe=recipe, conditional=conditional,
                                             width=width, amp=amp, checkpoints=str(t / "ck"),
                                             run_dir=str(t / "runs" / name), threads=args.threads, monitor=False)

        def style(width: int):
            return lambda name, t: StyleGanConfig(data=str(gan_data), name=name, width=width, checkpoints=str(t / "ck"),
                                                  run_dir=str(t / "runs" / name), threads=args.threads, monitor=False)

        def pix(recipe: str, width: int):
            return lambda name, t: Pix2PixConfig(data=str(pair_data), name=name, recipe=recipe, width=width,
                                                 checkpoints=str(t / "ck"), run_dir=str(t / "runs" / name),
                                                 threads=args.threads)

        rows = [
            ("dcgan, studio recipe (width 32, SN-D, DiffAugment, EMA)", train_gan, gan("studio"), 64, "d-s"),
            ("dcgan, reference recipe (pytorch/examples: nf 64, BN-D)", train_gan, gan("reference"), 64, "d-r"),
            ("cgan, studio recipe (width 32, projection D)", train_gan, gan("studio", True), 64, "c-s"),
            ("pix2pix 128 px, studio recipe (width 16, instance norm)", train_pix2pix, pix("studio", 16), 16, "p-s"),
            ("pix2pix 128 px, reference settings (width 16, BN, dropout)", train_pix2pix, pix("reference", 16), 16, "p-r"),
            ("cgan, studio recipe, width 48, float32 (--fp32)", train_gan, gan("studio", True, 48, False), 64, "c48-32"),
            ("cgan, studio recipe, width 48, default precision", train_gan, gan("studio", True, 48), 64, "c48"),
            ("stylegan, width 16 (G+D 1.87M parameters; dcgan studio 1.91M)", train_gan, style(16), 64, "sg16"),
            ("stylegan, width 32 (G+D 6.98M parameters)", train_gan, style(32), 64, "sg32"),
        ]
        rows = [row for row in rows if not args.only or row[-1] in args.only.split(",")]
        results = {}
        for label, train, make_cfg, batch, tag in rows:
            results[tag] = images_per_second(train, make_cfg, batch, args.steps, tmp, tag)
            print(f"{label:62s} {results[tag]:7.1f} images/s", flush=True)
        for a, b, what in (("d-s", "d-r", "studio dcgan recipe vs reference"),
                           ("c48", "c48-32", "cgan width 48, default precision vs float32"),
                           ("sg16", "d-s", "stylegan width 16 vs dcgan studio, equal parameters"),
                           ("sg32", "d-s", "stylegan width 32 vs dcgan studio")):
            if a in results and b in results:
                print(f"{what}: {results[a] / results[b]:.2f}x the images per second")


if __name__ == "__main__":
    main()
