"""Gatys-style neural style transfer as an iterator of steps, over any feature network.

The picture is optimised through a parameterisation that keeps it in [0, 1] without
clamping (clamping inside the closure makes L-BFGS spike): x = sigmoid(u), with u either
the pixels' logits or the sum of a Laplacian pyramid's upsampled levels, which lets
coarse changes move as fast as fine ones and damps single-pixel noise.
Coarse-to-fine: optimise at half size, upsample, continue at full size.
The losses are in losses.py; the networks, and their default layers and weights, in
networks.py; every setting in settings.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from ...device import pick_device
from ...errors import StudioError
from ...imaging.files import fit_within, open_image
from ...imaging.memory import reuse_large_buffers
from .losses import gram, luminance, match_colours, to_image, to_tensor, total_variation, with_chroma_of
from .networks import FeatureNetwork, build_features, default_network, get_network
from .settings import MIN_SIZE, StyleSettings

ADAM_LR = 0.1  # on the logit of the picture; about 0.025 on [0, 1] mid-grey
PYRAMID_LEVELS = 4


@dataclass
class StyleStep:
    """One optimisation step: losses so far, and (sometimes) the current picture."""

    step: int  # 1-based, over all scales
    steps: int
    size: int  # longer side of the picture being optimised now
    content: float
    style: float
    tv: float
    total: float
    seconds: float
    image: Image.Image | None = None
    notes: list[str] = field(default_factory=list)  # things the user should know (first step only)
    weights_source: str = ""
    network: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"step": self.step, "style": self.style, "content": self.content, "tv": self.tv,
                "total": self.total, "seconds": round(self.seconds, 3)}


@dataclass
class _Run:
    """A run's inputs once checked: pictures, the built network and the resolved settings."""

    content: Image.Image
    styles: list[Image.Image]
    blend: list[float]
    notes: list[str]
    network: FeatureNetwork
    net: nn.Module
    source: str
    settings: StyleSettings  # with every network default filled in
    style_layers: dict[str, float]
    device: torch.device


def stylize(content: Any, style: Any | Sequence[Any], settings: StyleSettings | None = None,
            **overrides: Any) -> Iterator[StyleStep]:
    """Optimise a picture with `content`'s layout in `style`'s texture; the iterator yields every step.

    `settings` (or keyword overrides of its fields, e.g. `size=384, network="lite0"`) say
    how; see StyleSettings. Inputs, pictures and the network are checked before this
    returns, so a bad input raises StudioError here rather than at the first step.
    `style` is one picture or a list (weighted by `style_blend`). Every `image_every`
    steps, at the end of each scale and at the last step, the step carries the current
    picture. Closing the iterator (or breaking out of the loop) stops the work.
    """
    settings = (settings or StyleSettings()).with_overrides(**overrides)
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    if not styles:
        raise StudioError("Give at least one style picture.")
    blend = settings.blend(len(styles))
    content_image, notes = open_image(content, "content picture")
    style_images = []
    for i, s in enumerate(styles):
        picture, style_notes = open_image(s, f"style picture {i + 1}" if len(styles) > 1 else "style picture")
        style_images.append(picture)
        notes += style_notes
    run = _prepare(content_image, style_images, blend, notes, settings)
    return _optimise(run)


def _prepare(content: Image.Image, styles: list[Image.Image], blend: list[float], notes: list[str],
             settings: StyleSettings) -> _Run:
    """Resolve the network and its defaults, and build it on the device."""
    network = get_network(settings.network or default_network())
    style_layers = (dict(network.style_layers) if settings.style_layers is None
                    else {layer: 1.0 for layer in settings.style_layers})
    lite = network.name != "vgg19"
    settings = settings.with_overrides(
        network=network.name,
        style_weight=network.style_weight if settings.style_weight is None else settings.style_weight,
        tv_weight=network.tv_weight if settings.tv_weight is None else settings.tv_weight,
        content_layers=settings.content_layers or network.content_layers,
        match_colours=lite if settings.match_colours is None else settings.match_colours,
        parameterisation=settings.parameterisation or ("pyramid" if lite else "pixels"))
    device = pick_device(str(settings.device)) if settings.device is not None else pick_device()
    taps = list(dict.fromkeys([*settings.content_layers, *style_layers]))
    net, source = build_features(network, taps, settings.weights, device)
    if str(settings.weights) == "random":
        notes.append(f"Running with RANDOM {network.title} weights: for tests and benchmarks only.")
    return _Run(content, styles, blend, notes, network, net, source, settings, style_layers, device)


def _optimise(run: _Run) -> Iterator[StyleStep]:
    """The optimisation loop, with large freed buffers kept for the next step (studio.imaging.memory)."""
    with reuse_large_buffers():
        yield from _steps(run)


def _schedule(size: int, steps: int, multiscale: bool) -> list[tuple[int, int]]:
    """(size, steps) of each scale: half the steps at half size first when that is worth it."""
    if multiscale and size >= 128 and steps >= 2:
        return [(size // 2, steps // 2), (size, steps - steps // 2)]
    return [(size, steps)]


def _targets(run: _Run, scale: int) -> tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """(content picture at this scale, content maps, blended style Grams) with no gradient."""
    s = run.settings
    picture = to_tensor(fit_within(run.content, scale), run.device)
    content_in = luminance(picture) if s.preserve_colors else picture
    with torch.no_grad():
        content_maps = {k: v.detach().clone() for k, v in run.net(content_in).items() if k in s.content_layers}
        grams: dict[str, torch.Tensor] = {}
        for style, weight in zip(run.styles, run.blend):
            x = to_tensor(fit_within(style, max(MIN_SIZE, round(scale * s.style_scale))), run.device)
            maps = run.net(luminance(x) if s.preserve_colors else x)
            for layer in run.style_layers:
                grams[layer] = grams.get(layer, 0.0) + weight * gram(maps[layer])
    return picture, content_maps, grams


def _start(run: _Run, picture: torch.Tensor, previous: torch.Tensor | None) -> torch.Tensor:
    """Where a scale's optimisation starts: the previous scale upsampled, else the chosen init."""
    s = run.settings
    if previous is not None:
        return F.interpolate(previous, size=picture.shape[-2:], mode="bilinear", align_corners=False)
    if s.init == "noise":
        gen = torch.Generator().manual_seed(s.seed) if s.seed is not None else None
        return torch.rand(picture.shape, generator=gen).to(run.device)
    if s.preserve_colors:
        return luminance(picture)
    if s.match_colours:
        style = to_tensor(fit_within(run.styles[max(range(len(run.blend)), key=run.blend.__getitem__)], 256), run.device)
        return match_colours(picture, style)
    return picture


class Parameterisation:
    """x = sigmoid(sum of the levels, each upsampled to full size); one level is plain pixels."""

    def __init__(self, start: torch.Tensor, levels: int):
        h, w = start.shape[-2:]
        logits = torch.logit(start.clamp(1e-3, 1 - 1e-3))
        self.size = (h, w)
        self.params = [logits.detach().contiguous().requires_grad_(True)]  # L-BFGS wants flat-viewable grads
        for k in range(1, levels):
            shape = (1, 3, max(1, h >> k), max(1, w >> k))
            self.params.append(torch.zeros(shape, device=start.device, requires_grad=True))

    def picture(self) -> torch.Tensor:
        u = self.params[0]
        for p in self.params[1:]:
            u = u + F.interpolate(p, size=self.size, mode="bilinear", align_corners=False)
        return torch.sigmoid(u)


def _optimizer(name: str, params: list[torch.Tensor]) -> torch.optim.Optimizer:
    if name == "lbfgs":  # no early stop: the step budget and the Stop button end a run
        return torch.optim.LBFGS(params, lr=1.0, max_iter=1, history_size=50, tolerance_grad=0.0, tolerance_change=0.0)
    return torch.optim.Adam(params, lr=ADAM_LR)


def _closure(run: _Run, image: Parameterisation, opt: torch.optim.Optimizer, content_maps: dict[str, torch.Tensor],
             grams: dict[str, torch.Tensor], terms: dict[str, torch.Tensor]):
    """The objective for the optimiser, rescaled once to a largest gradient of 1.

    The losses are means over pixels, so gradients shrink with the picture's size, and the
    optimisers have absolute thresholds (L-BFGS skips curvature pairs with y.s < 1e-10,
    Adam adds eps 1e-8): on small gradients L-BFGS fell back to plain gradient steps and
    stalled. The reported losses are not rescaled.
    """
    s = run.settings
    total_layer_weight = sum(run.style_layers.values())
    grad_scale: list[float] = []

    def closure() -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        picture = image.picture()
        maps = run.net(picture)
        c = sum(F.mse_loss(maps[k], content_maps[k]) for k in s.content_layers) / len(s.content_layers)
        st = sum(w * F.mse_loss(gram(maps[k]), grams[k]) for k, w in run.style_layers.items()) / total_layer_weight
        tv = total_variation(picture)
        total = s.content_weight * c + s.style_weight * st + s.tv_weight * tv
        total.backward()
        terms.update(content=c.detach(), style=st.detach(), tv=tv.detach(), total=total.detach())
        if not grad_scale:
            grad_scale.append(1.0 / max(max(p.grad.abs().max().item() for p in image.params), 1e-30))
        for p in image.params:
            p.grad.mul_(grad_scale[0])
        return total.detach() * grad_scale[0]

    return closure


def _steps(run: _Run) -> Iterator[StyleStep]:
    """The optimisation loop behind `stylize` (inputs already checked)."""
    s = run.settings
    t0 = time.monotonic()
    step = 0
    x: torch.Tensor | None = None
    for scale, scale_steps in _schedule(s.size, s.steps, s.multiscale):
        picture, content_maps, grams = _targets(run, scale)
        image = Parameterisation(_start(run, picture, x), PYRAMID_LEVELS if s.parameterisation == "pyramid" else 1)
        opt = _optimizer(s.optimizer, image.params)
        terms: dict[str, torch.Tensor] = {}
        closure = _closure(run, image, opt, content_maps, grams, terms)
        for i in range(scale_steps):
            opt.step(closure)
            step += 1
            with torch.no_grad():
                x = image.picture()
            shown = None
            if i == scale_steps - 1 or step % s.image_every == 0:
                shown = to_image(with_chroma_of(x, picture) if s.preserve_colors else x)
            first = step == 1
            yield StyleStep(step=step, steps=s.steps, size=max(picture.shape[-2:]),
                            content=terms["content"].item() * s.content_weight,
                            style=terms["style"].item() * s.style_weight, tv=terms["tv"].item() * s.tv_weight,
                            total=terms["total"].item(), seconds=time.monotonic() - t0, image=shown,
                            notes=run.notes if first else [], weights_source=run.source if first else "",
                            network=run.network.name)
