"""Every setting of a style-transfer run, declared once with its default, range, help and
`studio stylize` flag, and checked once."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Sequence

import torch

from ... import validate
from ...errors import StudioError
from ...knobs import check_knobs, knob
from . import NETWORK_NAMES

MAX_SIZE, MIN_SIZE, MAX_STEPS = 2048, 32, 5000


def floats(text: str) -> tuple[float, ...]:
    """'0.7,0.3' -> (0.7, 0.3)."""
    try:
        return tuple(float(w) for w in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 0.7,0.3, got {text!r}") from None


@dataclass(frozen=True)
class StyleSettings:
    """How to run `stylize`. `None` for a network-dependent setting means the network's default."""

    size: int = knob(256, "longer side of the result, px", lo=MIN_SIZE, hi=MAX_SIZE, what="Size")
    steps: int = knob(100, "optimiser steps, over all scales", lo=1, hi=MAX_STEPS, what="Steps")
    network: str | None = knob(None, "feature network (default: vgg19 when its weights are installed, else lite1, "
                               "which ships with the studio)", choices=NETWORK_NAMES, what="Style network")
    optimizer: str = knob("lbfgs", "optimiser of the picture", choices=("lbfgs", "adam"), what="Optimizer")
    style_weight: float | None = knob(None, "weight of the style loss (default: the network's)", lo=0, hi=1e12,
                                      what="Style weight")
    content_weight: float = knob(1.0, "weight of the content loss", lo=0, hi=1e12, what="Content weight")
    tv_weight: float | None = knob(None, "weight of the total-variation smoothing (default: the network's)", lo=0,
                                   hi=1e12, what="TV weight")
    style_blend: tuple[float, ...] | None = knob(None, "weights of several style pictures, e.g. 0.7,0.3",
                                                 parse=floats)
    style_scale: float = knob(1.0, "style picture size relative to the result", lo=0.1, hi=4.0, what="Style scale")
    preserve_colors: bool = knob(False, "keep the photo's colours: transfer on luminance only")
    init: str = knob("content", "start from the photo or from noise", choices=("content", "noise"), what="init")
    match_colours: bool | None = knob(None, "start from the photo recoloured to the painting's palette (default: "
                                      "on for the EfficientNet networks)")
    parameterisation: str | None = knob(None, "optimise the pixels or a Laplacian pyramid of the picture (default: "
                                        "pyramid for the EfficientNet networks)", choices=("pixels", "pyramid"),
                                        what="parameterisation")
    multiscale: bool = knob(True, "optimise at full size only", flag="no-multiscale")
    seed: int | None = knob(None, "seed of the noise start", lo=0, hi=validate.MAX_SEED, what="Seed")
    weights: str | Path | None = knob(None, "a VGG19 weights file (safetensors or .pth state dict), or 'random' "
                                      "(tests only)", flag="vgg-weights")
    image_every: int = knob(10, "a picture every this many steps (and at each scale's end)", flag="", lo=1,
                            hi=MAX_STEPS, what="image_every")
    content_layers: tuple[str, ...] | None = knob(None, "the network's layers compared with the photo", flag="")
    style_layers: tuple[str, ...] | None = knob(None, "the network's layers compared with the painting", flag="")
    device: str | torch.device | None = knob(None, "torch device (default: settings.device_name())", flag="")

    def __post_init__(self) -> None:
        check_knobs(self)
        for key in ("style_blend", "content_layers", "style_layers"):
            value = getattr(self, key)
            if value is not None and not isinstance(value, tuple):
                object.__setattr__(self, key, tuple(value) if isinstance(value, Sequence) else value)

    def with_overrides(self, **overrides: Any) -> StyleSettings:
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise StudioError(f"Unknown style setting(s) {', '.join(unknown)}; settings are {', '.join(sorted(known))}.")
        return replace(self, **overrides)

    def blend(self, n_styles: int) -> list[float]:
        """The style pictures' weights, normalised to sum 1."""
        if self.style_blend is None:
            return [1.0 / n_styles] * n_styles
        weights = [validate.number("Style blend weight", w, 0, 1e6) for w in self.style_blend]
        if len(weights) != n_styles or sum(weights) <= 0:
            raise StudioError(f"style_blend needs {n_styles} non-negative weights with a positive sum, "
                              f"got {list(self.style_blend)!r}.")
        return [w / sum(weights) for w in weights]
