"""What the studio does with a model (inference shared by the CLI, the UI and tests),
and the one table that ties each task to its trainer and its data set.

latent.py    sample and walk an unconditional or class-conditional GAN
mixing.py    a style-based GAN: truncation and walks in w, noise per seed, style mixing
sketch.py    line art (and colour hints) -> picture with a pix2pix checkpoint; photo -> line art
hints.py     colour hints: placed like their drawing, simulated for training and evaluation
style/       Gatys' style transfer over a feature network
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    name: str  # what a checkpoint's studio.json calls it
    trainers: tuple[str, ...]  # `studio train TRAINER` makes a checkpoint of this task (the first: the usual one)
    data: str  # `studio data DATA` builds pictures to train it on

    @property
    def trainer(self) -> str:
        return self.trainers[0]


TASKS = {task.name: task for task in (Task("latent", ("dcgan", "stylegan"), "emoji"),
                                      Task("conditional", ("cgan", "cstylegan"), "emoji"),
                                      Task("sketch", ("pix2pix",), "openmoji"))}
TRAINERS = {trainer: task for task in TASKS.values() for trainer in task.trainers}
