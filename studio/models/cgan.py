"""Class-conditional pair: conditional-batch-norm generator, projection discriminator.

Classes enter as weights y (B, n_classes): one-hot for a single class, any convex
combination for a mix. Projection discriminator after Miyato & Koyama (2018), with an
optional auxiliary classifier head on the same features (AC-GAN, Odena et al. 2017):
trained on real pictures only, it gives the generator a direct class signal. An
optional twin classifier (TAC-GAN, Gong et al. 2019) learns to name the class of
generated pictures; the generator is rewarded when it cannot, which is meant to cancel
the auxiliary loss's pull towards one easy picture per class.
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
    """logit = head(h) + <embed(y), sum-pooled h>, h the (B, 8w, 4, 4) features.

    With `classifier=True` it also predicts class logits (B, n_classes) from the pooled h,
    and with `twin=True` a second set from a head trained on generated pictures.
    """

    def __init__(self, n_classes: int, width: int = 48, image_size: int = 64, norm: str = "sn", channels: int = 3,
                 classifier: bool = False, twin: bool = False):
        super().__init__(width=width, image_size=image_size, norm=norm, channels=channels)
        self.n_classes = n_classes
        channels_out = self.head.weight.shape[1]
        embed = nn.Linear(n_classes, channels_out, bias=False)
        nn.init.normal_(embed.weight, 0.0, 0.02)
        self.embed = spectral_norm(embed) if norm == "sn" else embed
        # No spectral norm here: a 1-Lipschitz head could not make confident class logits.
        self.classifier = nn.Linear(channels_out, n_classes) if classifier else None
        self.twin = nn.Linear(channels_out, n_classes) if twin else None

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None, with_classes: bool = False
                ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        if y is None:
            raise ValueError("a projection discriminator needs class weights y (B, n_classes)")
        h = self.features(x)  # (B, 8w, 4, 4)
        pooled = h.sum(dim=(2, 3))  # (B, 8w)
        logit = self.head(h).flatten() + (self.embed(y) * pooled).sum(dim=1)  # (B,)
        if not with_classes:
            return logit
        if self.classifier is None:
            raise ValueError("this discriminator was built without a classifier head")
        mean = pooled / (h.shape[2] * h.shape[3])  # (B, 8w)
        twin = self.twin(mean) if self.twin is not None else None
        return logit, self.classifier(mean), twin  # (B,), (B, n_classes), (B, n_classes) or None
