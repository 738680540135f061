"""The seed explorer both GAN tabs are made of: seed, dice, truncation, a grid of
neighbouring seeds and a walk between two seeds. The class-conditional tab adds
its class controls through `add_class_controls` / `classes_of`."""

from __future__ import annotations

from typing import Any, Callable

import gradio as gr

from ..checkpoints import Registry, Spec
from ..imaging.convert import upscale
from .. import validate
from ..tasks.latent import DEFAULT_TRUNCATION, MAX_FRAMES, ClassSpec, interpolate, sample
from ..validate import MAX_SEED
from .common import (DISPLAY_SIZE, as_int, device_event, gallery, model_info, neighbour_seeds, no_models_message,
                     random_seed, user_errors, write_gif)

ClassControls = Callable[[Spec], list[gr.components.Component]]


def build_explorer(registry: Registry, task: str, train_kind: str, api_suffix: str = "",
                   add_class_controls: ClassControls | None = None,
                   classes_of: Callable[..., ClassSpec] | None = None,
                   class_updates: Callable[[Spec], list[Any]] | None = None) -> dict | None:
    """Lay out and wire the explorer; returns the page-load event to register, or None when no model.

    `class_updates(spec)` returns one update per class control for a newly picked model.
    """
    names = registry.names(task)
    if not names:
        gr.Markdown(no_models_message(task, train_kind))
        return None
    first = registry.spec(names[0])
    tag = task  # element ids: "<task>-seed", ... for browser tests and custom CSS

    def classes(args: tuple) -> ClassSpec:
        return classes_of(*args) if classes_of else None

    @user_errors
    def explore(name: str, seed: float, truncation: float, *class_args: Any):
        centre = validate.seed(seed)
        seeds = neighbour_seeds(centre)  # the picture and its grid come from one batch
        images = sample(registry.get(name), seeds, truncation, classes(class_args))
        return upscale(images[seeds.index(centre)], DISPLAY_SIZE), gallery(images, seeds)

    @user_errors
    def walk(name: str, seed_a: float, seed_b: float, frames: float, truncation: float, mode: str, *class_args: Any):
        a, b = as_int(seed_a, "Seed"), as_int(seed_b, "To seed")
        pictures = interpolate(registry.get(name), a, b, as_int(frames, "Frames"), truncation, classes(class_args), mode)
        return [upscale(p, DISPLAY_SIZE // 2) for p in pictures], write_gif(pictures, f"{name}-{a}-{b}-{len(pictures)}-{mode}")

    def pick(seed: float, event: gr.SelectData) -> int:
        return neighbour_seeds(as_int(seed, "Seed"))[event.index]

    @user_errors
    def on_model(name: str):
        spec = registry.spec(name)
        return [model_info(spec)] + (class_updates(spec) if class_updates else [])

    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            model = gr.Dropdown(names, value=names[0], label="Model", interactive=True, elem_id=f"{tag}-model")
            class_inputs = add_class_controls(first) if add_class_controls else []
            with gr.Row():
                seed = gr.Number(value=0, precision=0, minimum=0, maximum=MAX_SEED, label="Seed", scale=4,
                                 elem_id=f"{tag}-seed")
                dice = gr.Button("🎲 Random", scale=1, min_width=60, elem_id=f"{tag}-dice")
            psi = gr.Slider(0.0, 1.0, value=DEFAULT_TRUNCATION, step=0.05, label="Truncation ψ",
                            info="Lower: more typical pictures; 0 gives every seed the same one.", elem_id=f"{tag}-psi")
            info = gr.Markdown(model_info(first), elem_id=f"{tag}-info")
        with gr.Column(scale=2, min_width=280):
            image = gr.Image(label="Picture", type="pil", format="png", height=DISPLAY_SIZE + 40,
                             interactive=False, buttons=["download"], elem_id=f"{tag}-picture")
        with gr.Column(scale=2, min_width=280):
            grid = gr.Gallery(label="Neighbouring seeds (click one to go there)", columns=3, rows=3,
                              height=DISPLAY_SIZE + 190, format="png", allow_preview=False, interactive=False,
                              object_fit="contain", elem_id=f"{tag}-grid")
    with gr.Accordion("Walk between two seeds", open=True):
        with gr.Row():
            seed_b = gr.Number(value=1, precision=0, minimum=0, maximum=MAX_SEED, label="To seed", elem_id=f"{tag}-to-seed")
            frames = gr.Slider(2, min(32, MAX_FRAMES), value=10, step=1, label="Frames")
            mode = gr.Radio(["slerp", "lerp"], value="slerp", label="Path", info="slerp stays on the Gaussian shell")
            walk_button = gr.Button("Walk", variant="primary", elem_id=f"{tag}-walk")
        with gr.Row():
            strip = gr.Gallery(label="Walk", columns=10, height=180, format="png", allow_preview=True, interactive=False, scale=4,
                               elem_id=f"{tag}-strip")
            gif = gr.File(label="Animated GIF", scale=1, elem_id=f"{tag}-gif")

    explore_io = {"fn": explore, "inputs": [model, seed, psi, *class_inputs], "outputs": [image, grid]}
    seed.change(**explore_io, **device_event(api_name=f"sample{api_suffix}", trigger_mode="always_last"))
    psi.release(**explore_io, **device_event(api_visibility="private", trigger_mode="always_last"))
    for control in class_inputs:
        trigger = control.release if isinstance(control, gr.Slider) else control.change
        trigger(**explore_io, **device_event(api_visibility="private", trigger_mode="always_last"))
    model.change(on_model, [model], [info, *class_inputs],
                 api_name=f"model_info{api_suffix}").then(
        **explore_io, **device_event(api_visibility="private", trigger_mode="always_last"))
    dice.click(random_seed, None, [seed], api_name=f"random_seed{api_suffix}")
    grid.select(pick, [seed], [seed], api_visibility="private")
    walk_button.click(walk, [model, seed, seed_b, frames, psi, mode, *class_inputs], [strip, gif],
                      **device_event(api_name=f"interpolate{api_suffix}", trigger_mode="always_last"))
    return explore_io
