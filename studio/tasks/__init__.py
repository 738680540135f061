"""What the studio does with a model (inference shared by the CLI, the UI and tests),
and the one table that ties each task to its trainer and its data set.

latent.py    sample and walk an unconditional or class-conditional GAN
sketch.py    line art -> picture with a pix2pix checkpoint; photo -> line art
style/       Gatys' style transfer over a feature network
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    name: str  # what a checkpoint's studio.json calls it
    trainer: str  # `studio train TRAINER` makes a checkpoint of this task
    data: str  # `studio data DATA` builds pictures to train it on


TASKS = {task.name: task for task in (Task("latent", "dcgan", "emoji"), Task("conditional", "cgan", "emoji"),
                                      Task("sketch", "pix2pix", "openmoji"))}
TRAINERS = {task.trainer: task for task in TASKS.values()}
