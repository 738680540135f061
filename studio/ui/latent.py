"""Tab 1, "Latent explorer": sample an unconditional GAN by seed and truncation."""

from __future__ import annotations

from .explorer import build_explorer
from .interface import Tab, TabContext, TabParts


def build(context: TabContext) -> TabParts:
    """The explorer over the unconditional (latent) checkpoints."""
    return build_explorer(context.registry, task="latent", train_kind="dcgan")


TAB = Tab("latent", "Latent explorer", build)
