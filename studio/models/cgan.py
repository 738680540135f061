"""Class-conditional pair: conditional-batch-norm generator, projection discriminator.

Classes enter as weights y (B, n_classes): one-hot for a single class, any convex
combination for a mix. Projection discriminator after Miyato & Koyama (2018).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import spectral_norm

from . import register
from .dcgan import ConditionalBatchNorm2d, Discriminator, Generator


@register("cgan")
class ConditionalGenerator(Generator):
    """(z (B, z_dim), y (B, K)) -> image (B, 3, S, S) in [-1, 1]; every norm is class-conditional."""

    def __init__(self, n_classes: int, z_dim: int = 128, width: int = 48, image_size: int = 64,
                 upsample: str = "deconv", channels: int = 3):
        if n_classes < 2:
            raise ValueError(f"a conditional generator needs n_classes >= 2, got {n_classes}")
        self.n_classes = n_classes  # read by _norm during super().__init__
        super().__init__(z_dim=z_dim, width=width, image_size=image_size, upsample=upsample, channels=channels)

    def _norm(self, channels: int) -> nn.Module:
        return ConditionalBatchNorm2d(channels, self.n_classes)

    def _apply_norm(self, i: int, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        if y is None:
            raise ValueError("a conditional generator needs class weights y (B, n_classes)")
        return self.norms[i](x, y)


@register("cgan-d")
class ProjectionDiscriminator(Discriminator):
    """logit = head(h) + <embed(y), sum-pooled h>, h the (B, 8w, 4, 4) features."""

    def __init__(self, n_classes: int, width: int = 48, image_size: int = 64, norm: str = "sn", channels: int = 3):
        super().__init__(width=width, image_size=image_size, norm=norm, channels=channels)
        self.n_classes = n_classes
        channels_out = self.head.weight.shape[1]
        embed = nn.Linear(n_classes, channels_out, bias=False)
        nn.init.normal_(embed.weight, 0.0, 0.02)
        self.embed = spectral_norm(embed) if norm == "sn" else embed

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if y is None:
            raise ValueError("a projection discriminator needs class weights y (B, n_classes)")
        h = self.features(x)  # (B, 8w, 4, 4)
        projection = (self.embed(y) * h.sum(dim=(2, 3))).sum(dim=1)  # (B,)
        return self.head(h).flatten() + projection
