"""pix2pix: a U-Net generator (line art -> colour picture) and a 70x70 PatchGAN.

After Isola et al. (2017) and pytorch-CycleGAN-and-pix2pix, with what the studio
needs for a live preview: instance norm (no batch statistics, so the output of one
sketch does not depend on others) and no dropout at inference. Instance norm over a
4x4 or 2x2 map throws away each channel's mean and scale, which may be where the deep
levels carry global content (what colour the whole thing is); `norm_min_size` leaves
maps smaller than that unnormalised.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from . import register


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    raise ValueError(f"norm must be 'instance' or 'batch', got {kind!r}")


@register("pix2pix-unet")
class UNetGenerator(nn.Module):
    """sketch (B, 3, S, S) in [-1, 1] -> picture (B, 3, S, S) in [-1, 1].

    log2(S) stride-2 levels down to 1x1 and back up, each decoder level
    concatenating the encoder features of its resolution (the U-Net skips).
    """

    def __init__(self, image_size: int = 128, width: int = 32, norm: str = "instance", dropout: float = 0.0,
                 norm_min_size: int = 1):
        super().__init__()
        depth = int(math.log2(image_size))
        if 2**depth != image_size or depth < 3:
            raise ValueError(f"image_size must be a power of two >= 8, got {image_size}")
        self.image_size = image_size
        widths = [width * min(2**i, 8) for i in range(depth)]  # encoder outputs, 64 px ... 1 px
        self.down = nn.ModuleList()
        cin = 3
        for i, c in enumerate(widths):
            layers: list[nn.Module] = [] if i == 0 else [nn.LeakyReLU(0.2)]
            layers.append(nn.Conv2d(cin, c, 4, 2, 1, bias=norm != "batch"))
            # No norm on the input layer, nor on the 1x1 bottleneck, nor on maps under norm_min_size.
            if 0 < i < depth - 1 and image_size >> (i + 1) >= norm_min_size:
                layers.append(_norm(norm, c))
            self.down.append(nn.Sequential(*layers))
            cin = c
        self.up = nn.ModuleList()
        for i in reversed(range(depth)):
            cin = widths[i] if i == depth - 1 else widths[i] * 2  # from below, plus the skip
            cout = 3 if i == 0 else widths[i - 1]
            layers = [nn.ReLU(), nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=i == 0 or norm != "batch")]
            if i > 0:
                if image_size >> i >= norm_min_size:
                    layers.append(_norm(norm, cout))
                if dropout > 0 and i >= depth - 3:  # the three innermost decoder levels, as in pix2pix
                    layers.append(nn.Dropout(dropout))
            else:
                layers.append(nn.Tanh())
            self.up.append(nn.Sequential(*layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for layer in self.down:
            x = layer(x)
            skips.append(x)  # (B, C_i, S / 2^(i+1), ...)
        x = skips.pop()
        for layer in self.up:
            x = layer(x)
            if skips:
                x = torch.cat([x, skips.pop()], dim=1)
        return x


@register("patchgan")
class PatchDiscriminator(nn.Module):
    """(sketch, picture) pair -> a map of real/fake logits, each seeing a 70x70 patch."""

    def __init__(self, width: int = 32, norm: str = "instance", n_layers: int = 3):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(6, width, 4, 2, 1), nn.LeakyReLU(0.2)]
        c = width
        for i in range(1, n_layers + 1):
            cout = width * min(2**i, 8)
            stride = 2 if i < n_layers else 1
            layers += [nn.Conv2d(c, cout, 4, stride, 1, bias=False), _norm(norm, cout), nn.LeakyReLU(0.2)]
            c = cout
        layers.append(nn.Conv2d(c, 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, sketch: torch.Tensor, picture: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([sketch, picture], dim=1))
