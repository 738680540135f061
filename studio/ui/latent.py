"""Tab 1, "Latent explorer": sample an unconditional GAN by seed and truncation."""

from __future__ import annotations

from ..checkpoints import Registry
from .explorer import build_explorer


def build(registry: Registry) -> dict | None:
    return build_explorer(registry, task="latent", train_kind="dcgan")
