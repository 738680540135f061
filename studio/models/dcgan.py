"""DCGAN-style generator and discriminator for square RGB images (64x64 by default).

The generator maps a Gaussian latent z (B, z_dim) to an image (B, 3, S, S) in [-1, 1]
by doubling the resolution from 4x4 up to S. Widths halve as resolution doubles,
capped at 8x the base width, as in Radford et al. (2015).

Both networks take an optional class-weight vector y (B, n_classes) that the
conditional subclasses (cgan.py) use; the unconditional ones ignore it.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils import spectral_norm

from . import register


def _widths(width: int, image_size: int) -> list[int]:
    """Channel counts from the 4x4 stage up to the last hidden stage (S/2 x S/2)."""
    n = int(math.log2(image_size)) - 2  # number of x2 stages from 4 to S
    if 2 ** (n + 2) != image_size or n < 1:
        raise ValueError(f"image_size must be a power of two >= 8, got {image_size}")
    return [width * min(8, 2 ** (n - 1 - i)) for i in range(n)]


def _init_dcgan(module: nn.Module) -> None:
    """N(0, 0.02) convolutions and N(1, 0.02) norm gains, as in the DCGAN paper."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d) and m.affine:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def init_torch_default(module: nn.Module) -> None:
    """PyTorch's own initialisation of every convolution and linear layer (Kaiming-uniform, a = sqrt(5)):
    its output layer starts several times larger than under N(0, 0.02), so the first pictures already differ."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            m.reset_parameters()


def _up(cin: int, cout: int, mode: str) -> nn.Module:
    """x2 upsampling convolution: transposed 4x4 (DCGAN) or nearest + 3x3 (fewer checkerboards)."""
    if mode == "deconv":
        return nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False)
    if mode == "nearest":
        return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, cout, 3, 1, 1, bias=False))
    raise ValueError(f"upsample must be 'deconv' or 'nearest', got {mode!r}")


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm whose gain and bias are linear in the class weights y (B, K).

    Linear in y means a mix of classes (soft y) blends their affine parameters,
    which is what makes class mixing in the studio meaningful.
    """

    def __init__(self, channels: int, n_classes: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, affine=False)
        self.gain = nn.Parameter(torch.zeros(n_classes, channels))  # 1 + gain
        self.bias = nn.Parameter(torch.zeros(n_classes, channels))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x = self.bn(x)
        g = 1.0 + y @ self.gain  # (B, C)
        b = y @ self.bias
        return x * g[:, :, None, None] + b[:, :, None, None]


@register("dcgan")
class Generator(nn.Module):
    """z (B, z_dim) -> image (B, 3, S, S) in [-1, 1]."""

    n_classes = 0

    def __init__(self, z_dim: int = 128, width: int = 48, image_size: int = 64, upsample: str = "deconv", channels: int = 3):
        super().__init__()
        self.z_dim, self.image_size = z_dim, image_size
        widths = _widths(width, image_size)
        # 1x1 -> 4x4 projection of the latent, then x2 stages.
        self.stem = nn.ConvTranspose2d(z_dim, widths[0], 4, 1, 0, bias=False)
        self.ups = nn.ModuleList(_up(a, b, upsample) for a, b in zip(widths[:-1], widths[1:]))
        self.norms = nn.ModuleList(self._norm(c) for c in widths)
        self.out = _up(widths[-1], channels, upsample)
        _init_dcgan(self)

    def _norm(self, channels: int) -> nn.Module:
        return nn.BatchNorm2d(channels)

    def _apply_norm(self, i: int, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        return self.norms[i](x)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        x = self.stem(z[:, :, None, None])  # (B, 8w, 4, 4)
        x = torch.relu(self._apply_norm(0, x, y))
        for i, up in enumerate(self.ups, start=1):
            x = torch.relu(self._apply_norm(i, up(x), y))  # resolution x2, width /2
        return torch.tanh(self.out(x))  # (B, 3, S, S) in [-1, 1]


@register("dcgan-d")
class Discriminator(nn.Module):
    """image (B, 3, S, S) in [-1, 1] -> real/fake logit (B,).

    norm: "bn" (the DCGAN paper: batch norm after every layer but the first),
    "sn" (spectral norm on every weight, steadier on small data sets) or "none".
    """

    n_classes = 0

    def __init__(self, width: int = 48, image_size: int = 64, norm: str = "sn", channels: int = 3):
        super().__init__()
        if norm not in ("bn", "sn", "none"):
            raise ValueError(f"norm must be 'bn', 'sn' or 'none', got {norm!r}")
        sn = spectral_norm if norm == "sn" else (lambda m: m)
        widths = _widths(width, image_size)[::-1]  # w, 2w, 4w, 8w for 64 px
        layers: list[nn.Module] = []
        cin = channels
        for i, c in enumerate(widths):
            layers.append(sn(nn.Conv2d(cin, c, 4, 2, 1, bias=norm != "bn")))
            if norm == "bn" and i > 0:
                layers.append(nn.BatchNorm2d(c))
            layers.append(nn.LeakyReLU(0.2))
            cin = c
        self.features = nn.Sequential(*layers)  # (B, 8w, 4, 4)
        self.head = sn(nn.Conv2d(cin, 1, 4, 1, 0, bias=False))
        _init_dcgan(self)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x)).flatten()
