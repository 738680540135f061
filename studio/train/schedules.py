"""Learning-rate schedules as closed forms of the images seen, so that a resumed run (which
knows its image count) continues its schedule exactly and nothing needs saving.

factor(images) = warm-up ramp * decay, applied to every optimiser's base rate:
  ramp      min(1, images / warmup), 1 without a warm-up
  constant  1
  linear    1 - images / total (down to 0 at the end of the run)
  cosine    (1 + cos(pi * images / total)) / 2
  step      gamma ** floor(images / step)  (torch's StepLR, counted in images)
"""

from __future__ import annotations

import math

import torch

SCHEDULES = ("constant", "linear", "cosine", "step")


def lr_factor(images: int, total: int, schedule: str = "constant", warmup: int = 0, step: int = 0,
              gamma: float = 0.1) -> float:
    """The multiple of the base learning rate after `images` of a run of `total` images."""
    ramp = min(1.0, images / warmup) if warmup > 0 else 1.0
    progress = min(1.0, images / total) if total > 0 else 0.0
    if schedule == "constant":
        decay = 1.0
    elif schedule == "linear":
        decay = 1.0 - progress
    elif schedule == "cosine":
        decay = 0.5 * (1.0 + math.cos(math.pi * progress))
    elif schedule == "step":
        decay = gamma ** (images // step) if step > 0 else 1.0
    else:
        raise ValueError(f"unknown schedule {schedule!r}")
    return ramp * decay


def set_lr(optimizers: dict[str, torch.optim.Optimizer], lr: float) -> None:
    for opt in optimizers.values():
        for group in opt.param_groups:
            group["lr"] = lr
