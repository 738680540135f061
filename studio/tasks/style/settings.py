"""Every setting of a style-transfer run, declared once with its default and checked once."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Sequence

import torch

from ...errors import StudioError
from ... import validate
from ...validate import number

OPTIMIZERS = ("lbfgs", "adam")
INITS = ("content", "noise")
PARAMETERISATIONS = ("pixels", "pyramid")
MAX_SIZE, MIN_SIZE, MAX_STEPS = 2048, 32, 5000


@dataclass(frozen=True)
class StyleSettings:
    """How to run `stylize`. `None` for a network-dependent setting means the network's default."""

    size: int = 256  # longer side of the result, px
    steps: int = 100  # optimiser steps, over all scales
    network: str | None = None  # "vgg19", "lite0", ...; None: VGG19 when installed, else the offline network
    optimizer: str = "lbfgs"
    style_weight: float | None = None
    content_weight: float = 1.0
    tv_weight: float | None = None
    style_blend: tuple[float, ...] | None = None  # weights of several style pictures
    style_scale: float = 1.0  # style picture size relative to the result
    preserve_colors: bool = False  # keep the photo's colours: transfer on luminance only
    init: str = "content"  # or "noise"
    match_colours: bool | None = None  # start from the photo recoloured to the painting's palette
    parameterisation: str | None = None  # "pixels", or "pyramid": a Laplacian pyramid of the picture
    multiscale: bool = True  # half size first, then full size
    seed: int | None = None
    weights: str | Path | None = None  # a VGG19 weights file, or "random" (tests only)
    image_every: int = 10  # a picture every this many steps (and at each scale's end)
    content_layers: tuple[str, ...] | None = None
    style_layers: tuple[str, ...] | None = None
    device: str | torch.device | None = None

    def __post_init__(self) -> None:
        checks = {"size": ("Size", MIN_SIZE, MAX_SIZE, True), "steps": ("Steps", 1, MAX_STEPS, True),
                  "image_every": ("image_every", 1, MAX_STEPS, True),
                  "style_weight": ("Style weight", 0, 1e12, False), "content_weight": ("Content weight", 0, 1e12, False),
                  "tv_weight": ("TV weight", 0, 1e12, False), "style_scale": ("Style scale", 0.1, 4.0, False)}
        for key, (what, lo, hi, integer) in checks.items():
            if getattr(self, key) is not None:
                object.__setattr__(self, key, number(what, getattr(self, key), lo, hi, integer))
        for key, what, allowed in (("optimizer", "Optimizer", OPTIMIZERS), ("init", "init", INITS),
                                   ("parameterisation", "parameterisation", (None, *PARAMETERISATIONS))):
            if getattr(self, key) not in allowed:
                names = ", ".join(str(a) for a in allowed if a is not None)
                raise StudioError(f"{what} must be one of {names}, got {getattr(self, key)!r}.")
        if self.seed is not None:
            object.__setattr__(self, "seed", validate.seed(self.seed))
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
        weights = [number("Style blend weight", w, 0, 1e6) for w in self.style_blend]
        if len(weights) != n_styles or sum(weights) <= 0:
            raise StudioError(f"style_blend needs {n_styles} non-negative weights with a positive sum, "
                              f"got {list(self.style_blend)!r}.")
        return [w / sum(weights) for w in weights]
