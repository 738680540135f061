"""Training: the knobs (recipes.py), the shared loop (loop.py), the trainers (gan.py, pix2pix.py)."""

from __future__ import annotations

from pathlib import Path

from .recipes import TrainConfig


def run_trainer(kind: str, cfg: TrainConfig, resume: bool = False, max_images: int | None = None) -> Path:
    """Train with the trainer of `studio train KIND`; returns the checkpoint folder."""
    if kind == "pix2pix":  # dcgan, cgan and stylegan share the GAN trainer
        from .pix2pix import train_pix2pix

        return train_pix2pix(cfg, resume, max_images)
    from .gan import train_gan

    return train_gan(cfg, resume, max_images)
