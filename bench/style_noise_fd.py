"""FD and KID of a style-based checkpoint with its noise inputs as in training and with them off.

    python bench/style_noise_fd.py --checkpoints .runs/emoji64-style-slow/snapshots/650000 emoji64-style-slow

The same evaluation as `studio eval` (2,000 pictures against the held-out split, EfficientNet-Lite0
features), once with fresh random noise maps (as `studio eval` draws them) and once with every
layer's noise off: how much of a snapshot's FD its noise inputs cost.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio import Registry  # noqa: E402
from studio.evaluation.evaluate import data_folder, evaluate_gan, gan_splits  # noqa: E402


class WithoutNoise(nn.Module):
    """The generator's interface for the evaluation, every noise map off."""

    def __init__(self, g: nn.Module) -> None:
        super().__init__()
        self.g, self.z_dim, self.n_classes = g, g.z_dim, g.n_classes

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.g(z, y, noise=[None] * len(self.g.layers))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("name")
    p.add_argument("--checkpoints", default="checkpoints")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    registry = Registry(args.checkpoints)
    spec, model = registry.spec(args.name), registry.get(args.name)
    splits = gan_splits(spec, data_folder(spec, None))
    for label, g in (("random noise", model), ("noise off", WithoutNoise(model).eval())):
        torch.manual_seed(0)
        r = evaluate_gan(g, spec, splits)
        print(f"{label}: FD {r['fd']} (floor {r['fd_floor_train_vs_heldout']}), KID {r['kid']}, "
              f"distinct {r['grid_distinct_of_64']} of 64", flush=True)
    noise = [round(float(layer.noise_strength), 3) if layer.noise_strength is not None else None
             for layer in model.layers]
    print(f"noise strengths per layer ({', '.join(map(str, model.resolutions[:-1]))} px): {noise}")


if __name__ == "__main__":
    main()
