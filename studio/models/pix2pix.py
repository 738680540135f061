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
import torch.nn.functional as F
from torch import nn

from . import register

HINT_CHANNELS = 4  # a hint model's extra input: hint colours (3) and the hint mask (1)


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    raise ValueError(f"norm must be 'instance' or 'batch', got {kind!r}")


class HintSpread(nn.Module):
    """Sparse colour hints -> a dense colour field the first convolution can use at once.

    (B, 4, S, S) hint colours (0 where none) and mask -> (B, 4, S, S): around each pixel,
    the Gaussian-weighted mean colour of the hints near it (sigma `SPREAD` of the side),
    times a confidence that is 1 on a hint and falls off with distance from the hints, and
    that confidence. A dot alone touches a few pixels of a 4x4 stride-2 convolution; the
    field reaches the whole region it was dropped in, and the lines say where it stops."""

    SPREAD = 1 / 16

    def __init__(self, image_size: int):
        super().__init__()
        sigma = max(1.0, image_size * self.SPREAD)
        r = torch.arange(-int(3 * sigma), int(3 * sigma) + 1, dtype=torch.float32)
        kernel = torch.exp(-0.5 * (r / sigma) ** 2)
        self.register_buffer("kernel", kernel / kernel.max(), persistent=False)  # 1 at the centre

    def blur(self, x: torch.Tensor) -> torch.Tensor:
        """Separable Gaussian blur of every channel, zero outside the frame."""
        c, k = x.shape[1], self.kernel.to(x.dtype)
        pad = len(k) // 2
        x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), padding=(0, pad), groups=c)
        return F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), padding=(pad, 0), groups=c)

    def forward(self, hints: torch.Tensor) -> torch.Tensor:
        spread = self.blur(hints)  # (B, 4, S, S): colour sums, weight sums
        weight = spread[:, 3:]
        colour = spread[:, :3] / weight.clamp_min(1e-3)
        confidence = weight.clamp(max=1.0)
        return torch.cat([colour * confidence, confidence], dim=1)


@register("pix2pix-unet")
class UNetGenerator(nn.Module):
    """sketch (B, 3, S, S) in [-1, 1] -> picture (B, 3, S, S) in [-1, 1]; with `hints`, the
    sketch and its colour hints (B, 3 + 4, S, S) (tasks/hints.py) -> picture.

    log2(S) stride-2 levels down to 1x1 and back up, each decoder level
    concatenating the encoder features of its resolution (the U-Net skips).
    """

    def __init__(self, image_size: int = 128, width: int = 32, norm: str = "instance", dropout: float = 0.0,
                 norm_min_size: int = 1, hints: bool = False):
        super().__init__()
        depth = int(math.log2(image_size))
        if 2**depth != image_size or depth < 3:
            raise ValueError(f"image_size must be a power of two >= 8, got {image_size}")
        self.image_size, self.hints = image_size, bool(hints)
        widths = [width * min(2**i, 8) for i in range(depth)]  # encoder outputs, 64 px ... 1 px
        self.spread = HintSpread(image_size) if self.hints else None
        self.down = nn.ModuleList()
        cin = 3 + HINT_CHANNELS * self.hints
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

    def adapt_state(self, state: dict[str, torch.Tensor], arch_args: dict) -> dict[str, torch.Tensor]:
        """The weights of a generator without hints (`arch_args`), for this one with hints: the
        input layer keeps its weights on the sketch and its own fresh ones on the hint channels,
        so with no hints (zeros there) it is the plain model, and hints reach every layer from
        the first step (zero weights there would leave them unseen for thousands of steps)."""
        plain = {k: v for k, v in self.arch_args.items() if k != "hints"}
        if not self.hints or arch_args.get("hints") or {k: v for k, v in arch_args.items() if k != "hints"} != plain:
            raise ValueError("only a generator without hints, otherwise the same, can start one with hints")
        first = "down.0.0.weight"  # (C, 3, 4, 4) -> (C, 7, 4, 4)
        fresh = self.state_dict()[first][:, 3:].to(state[first])
        return {**state, first: torch.cat([state[first], fresh], dim=1)}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.spread is not None:  # (B, 7, S, S): sketch, sparse hints -> sketch, colour field
            x = torch.cat([x[:, :3], self.spread(x[:, 3:].float()).to(x.dtype)], dim=1)
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
