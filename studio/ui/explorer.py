"""The seed explorer both GAN tabs are made of: seed, dice, truncation, a grid of
neighbouring seeds and a walk between two seeds. The class-conditional tab adds
its class controls through ClassHooks; the Latent explorer adds, for style-based models,
a noise choice, what truncation moves towards and the style-mixing panel (mixing.py).

Three parts, kept apart: `layout` makes the widgets, `Handlers` turns widget values
into pictures, `wire` connects the widgets' events to the handlers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import gradio as gr

from .. import validate
from ..checkpoints import Registry, Spec
from ..imaging.convert import upscale
from ..tasks.latent import DEFAULT_TRUNCATION, MAX_FRAMES, ClassSpec, interpolate, sample
from ..tasks.mixing import style_based
from ..validate import MAX_SEED
from .events import DEVICE_QUEUE, device_event, keep_outputs, user_errors
from .interface import TabParts
from .mixing import MixWidgets, mixing_panel, noise_dropdown, towards_for, towards_radio, wire_mixing
from .widgets import (DICE_ICON, DISPLAY_SIZE, caption_seed, gallery, model_info, neighbour_seeds,
                      no_models_message, random_seed, write_gif)

STRIP_HEIGHT = 150  # px: one row of ten frames; more frames scroll
GIF_BOX_HEIGHT = 100  # px: the GIF's file box, empty or holding one file


@dataclass(frozen=True)
class ClassHooks:
    """How a tab adds class controls to the explorer.

    controls: lays the controls out for a model (called inside the explorer's first column).
    classes_of: the controls' values -> the core's class spec.
    updates: one update per control for a newly picked model.
    wire: connects the controls' own events (e.g. showing one control as another changes), if any.
    """

    controls: Callable[[Spec], list[gr.components.Component]]
    classes_of: Callable[..., ClassSpec]
    updates: Callable[[Spec], list[Any]]
    wire: Callable[[list[gr.components.Component]], None] | None = None


@dataclass(frozen=True)
class Widgets:
    """The explorer's components."""

    model: gr.Dropdown
    classes: list[gr.components.Component]
    seed: gr.Number
    dice: gr.Button
    psi: gr.Slider
    info: gr.Markdown
    picture: gr.Image
    message: gr.Markdown
    grid: gr.Gallery
    to_seed: gr.Number
    frames: gr.Slider
    path: gr.Radio
    walk: gr.Button
    strip: gr.Gallery
    gif: gr.File
    walk_message: gr.Markdown
    noise: gr.Dropdown | None = None  # with style controls only
    towards: gr.Radio | None = None
    mixing: MixWidgets | None = None


def _controls(names: list[str], first: Spec, tag: str, hooks: ClassHooks | None, style: bool) -> dict[str, Any]:
    """The first column: model, class controls, seed and dice, truncation, with `style` what it
    moves towards and the noise, and the model card."""
    model = gr.Dropdown(names, value=names[0], label="Model", interactive=True, elem_id=f"{tag}-model")
    classes = hooks.controls(first) if hooks else []
    with gr.Row():
        seed = seed_box("Seed", 0, f"{tag}-seed", scale=4)
        dice = gr.Button("Random", icon=DICE_ICON, scale=1, min_width=60, elem_id=f"{tag}-dice")
    psi = gr.Slider(0.0, 1.0, value=DEFAULT_TRUNCATION, step=0.05, label="Truncation ψ",
                    info="Lower: more typical pictures; 0 gives every seed the same one.", elem_id=f"{tag}-psi")
    towards = towards_radio(first, tag) if style else None
    noise = noise_dropdown(first, tag) if style else None
    info = gr.Markdown(model_info(first), elem_id=f"{tag}-info")
    return {"model": model, "classes": classes, "seed": seed, "dice": dice, "psi": psi, "info": info, "noise": noise,
            "towards": towards}


def seed_box(label: str, value: int, elem_id: str, scale: int | None = None) -> gr.Number:
    """A seed input. No precision or bounds: Gradio would round 1.5 or refuse -5 with its own
    error before the handler runs; validate.seed refuses both with the range instead."""
    return gr.Number(value=value, precision=None, step=1, label=label, info=f"0 to {MAX_SEED}", scale=scale,
                     elem_id=elem_id)


def _walk_controls(tag: str, straight: bool = False) -> dict[str, Any]:
    """The walk accordion's contents: target seed, frames, path, button, strip, GIF and message line.
    The strip has the accordion's width, so that every frame shows (10 across); the GIF's box
    is wide enough for its file name."""
    with gr.Row():
        to_seed = seed_box("To seed", 1, f"{tag}-to-seed")
        frames = gr.Slider(2, min(32, MAX_FRAMES), value=10, step=1, label="Frames")
        path = gr.Radio(["slerp", "lerp"], value="slerp", label="Path", info="slerp stays on the Gaussian shell",
                        visible=not straight, elem_id=f"{tag}-path")  # (a style-based model walks straight in w)
        walk = gr.Button("Walk", variant="primary", elem_id=f"{tag}-walk")
    strip = gr.Gallery(label="Walk", show_label=False, columns=10, height=STRIP_HEIGHT, format="png",
                       allow_preview=True, interactive=False, object_fit="contain", elem_id=f"{tag}-strip")
    with gr.Row(equal_height=False):
        gif = gr.File(label="Animated GIF", height=GIF_BOX_HEIGHT, scale=1, min_width=320, elem_id=f"{tag}-gif")
        with gr.Column(scale=1, min_width=280):
            walk_message = gr.Markdown(elem_id=f"{tag}-walk-message")
    return {"to_seed": to_seed, "frames": frames, "path": path, "walk": walk, "strip": strip, "gif": gif,
            "walk_message": walk_message}


def layout(names: list[str], first: Spec, tag: str, hooks: ClassHooks | None = None, style: bool = False) -> Widgets:
    """Make the explorer's widgets for models `names` (the card and classes of `first`), with
    `style` the noise dropdown, the towards radio and the style-mixing panel too (shown while
    `first` is style-based); elem_ids are "<tag>-seed", "<tag>-picture", ... for browser tests and custom CSS."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            controls = _controls(names, first, tag, hooks, style)
        with gr.Column(scale=2, min_width=280):
            picture = gr.Image(label="Picture", type="pil", format="png", height=DISPLAY_SIZE + 40,
                               interactive=False, buttons=["download"], elem_id=f"{tag}-picture")
            message = gr.Markdown(elem_id=f"{tag}-message")
        with gr.Column(scale=2, min_width=280):
            # The title sits above the grid: a gallery's own label floats over its first row.
            gr.Markdown("**Neighbouring seeds**: click one to go there", elem_id=f"{tag}-grid-title")
            grid = gr.Gallery(label="Neighbouring seeds", show_label=False, columns=3, rows=3,
                              height=DISPLAY_SIZE + 190, format="png", allow_preview=False, interactive=False,
                              object_fit="contain", elem_id=f"{tag}-grid")
    with gr.Accordion("Walk between two seeds", open=True):
        walk = _walk_controls(tag, straight=style_based(first))
    mixing = mixing_panel(first, tag) if style else None
    return Widgets(**controls, picture=picture, message=message, grid=grid, **walk, mixing=mixing)


class Handlers:
    """The explorer's event handlers over `registry`: widget values in, pictures out.

    Each validates the seeds it is given once and passes ints on. The values after the
    fixed ones (`extras`) are the class controls', then, with `style`, the noise mode and what
    truncation moves towards."""

    def __init__(self, registry: Registry, hooks: ClassHooks | None = None, style: bool = False) -> None:
        self.registry = registry
        self.hooks = hooks
        self.style = style

    def _options(self, name: str, extras: tuple) -> tuple[ClassSpec, str, str]:
        """The extra controls' values -> the core's class spec (None without class controls), noise
        mode and towards (`mean` for a model that is not style-based: its radio is hidden)."""
        class_args, noise, towards = (extras[:-2], *extras[-2:]) if self.style else (extras, "seed", "mean")
        classes = self.hooks.classes_of(*class_args) if self.hooks else None
        return classes, noise, towards_for(self.registry.spec(name), towards)

    @keep_outputs(3)
    def explore(self, name: str, seed: float, truncation: float, *extras: Any) -> tuple:
        """The picture of a seed, the 3x3 grid of its neighbouring seeds (one batch) and a
        message line; on a wrong value both pictures stay and the line says why."""
        centre = validate.seed(seed)
        seeds = neighbour_seeds(centre)
        classes, noise, towards = self._options(name, extras)
        images = sample(self.registry.get(name), seeds, truncation, classes, noise, towards)
        return upscale(images[seeds.index(centre)], DISPLAY_SIZE), gallery(images, seeds), ""

    @keep_outputs(3)
    def walk(self, name: str, seed_a: float, seed_b: float, frames: float, truncation: float, mode: str,
             *extras: Any) -> tuple:
        """The pictures on a walk from one seed to another, the same as a looping GIF, and a message line."""
        a, b = validate.seed(seed_a), validate.seed(seed_b, "To seed")
        classes, noise, towards = self._options(name, extras)
        pictures = interpolate(self.registry.get(name), a, b, frames, truncation, classes, mode, noise=noise,
                               towards=towards)
        stem = (f"{name}-{a}-{b}-{len(pictures)}-{mode}" + ("" if noise == "seed" else f"-{noise}")
                + ("" if towards == "mean" else f"-{towards}"))
        return [upscale(p, DISPLAY_SIZE // 2) for p in pictures], write_gif(pictures, stem), ""

    @user_errors
    def path_shown(self, name: str) -> Any:
        """The walk's slerp/lerp choice shows for models that walk in z, not for style-based ones."""
        return gr.update(visible=not style_based(self.registry.spec(name)))

    @staticmethod
    def pick(event: gr.SelectData) -> int:
        """The seed of the grid cell that was clicked, read from its caption: the grid shows the
        last good seed's neighbours even while the seed box holds a refused value."""
        return caption_seed(event.value["caption"])

    @user_errors
    def on_model(self, name: str) -> Any:
        """A model's card (Markdown), and new choices for the class controls; the card alone
        without class controls (Gradio takes a list returned to one output as its value)."""
        spec = self.registry.spec(name)
        if not self.hooks:
            return model_info(spec)
        return [model_info(spec), *self.hooks.updates(spec)]


def wire(w: Widgets, handlers: Handlers, api_suffix: str = "") -> dict[str, Any]:
    """Connect the widgets' events; returns the page-load event's keyword arguments."""
    extras = [*w.classes, *([w.noise, w.towards] if w.noise is not None else [])]
    explore_io = {"fn": handlers.explore, "inputs": [w.model, w.seed, w.psi, *extras],
                  "outputs": [w.picture, w.grid, w.message]}
    again = device_event(api_visibility="private", trigger_mode="always_last")  # the same call, not an endpoint
    w.seed.change(**explore_io, **device_event(api_name=f"sample{api_suffix}", trigger_mode="always_last"))
    # .change, not .release: a slider releases only on pointer-up or when its number box loses
    # focus, so typed values, Enter and arrow keys would not redraw.
    for control in [w.psi, *extras]:
        control.change(**explore_io, **again)
    if handlers.hooks and handlers.hooks.wire:
        handlers.hooks.wire(w.classes)
    w.model.change(handlers.on_model, [w.model], [w.info, *w.classes],
                   api_name=f"model_info{api_suffix}").then(**explore_io, **again)
    w.dice.click(random_seed, None, [w.seed], api_name=f"random_seed{api_suffix}")
    w.grid.select(handlers.pick, None, [w.seed], api_visibility="private")
    w.walk.click(handlers.walk, [w.model, w.seed, w.to_seed, w.frames, w.psi, w.path, *extras],
                 [w.strip, w.gif, w.walk_message],
                 **device_event(api_name=f"interpolate{api_suffix}", trigger_mode="always_last"))
    if w.mixing is not None and w.noise is not None:  # the panel's model event sets the path's visibility too
        wire_mixing(w.mixing, w.model, w.psi, w.noise, w.towards, w.path, handlers.registry)
    else:
        w.model.change(handlers.path_shown, [w.model], [w.path], api_visibility="private")
    return {**explore_io, "concurrency_id": DEVICE_QUEUE, "api_visibility": "private"}


def build_explorer(registry: Registry, task: str, train_kind: str, api_suffix: str = "",
                   hooks: ClassHooks | None = None, style: bool = False) -> TabParts:
    """Lay out and wire the explorer for the checkpoints of `task`; with none, say how to
    train one (`studio train <train_kind>`). Endpoints are named "/sample<api_suffix>", ...;
    `style` adds the noise and towards choices (the last inputs of /sample and /interpolate) and
    `/style_mix`."""
    names = registry.names(task)
    if not names:
        gr.Markdown(no_models_message(task, train_kind))
        return TabParts()
    widgets = layout(names, registry.spec(names[0]), tag=task, hooks=hooks, style=style)
    return TabParts(on_load=wire(widgets, Handlers(registry, hooks, style=style), api_suffix))
