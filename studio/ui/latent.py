"""Tab 1, "Latent explorer": sample an unconditional GAN by seed and truncation; for a
style-based model also pick the noise and mix styles (ui/mixing.py)."""

from __future__ import annotations

from .explorer import build_explorer
from .interface import Tab, TabContext, TabParts


def build(context: TabContext) -> TabParts:
    """The explorer over the unconditional (latent) checkpoints, with the style-based models' controls."""
    return build_explorer(context.registry, task="latent", train_kind="dcgan", style=True)


TAB = Tab("latent", "Latent explorer", build)
