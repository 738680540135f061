"""The Latent explorer's controls for style-based models: the noise choice, what truncation moves
towards, and the style-mixing panel (the StyleGAN paper's figure), all shown only while such a
model is picked.

The panel's Mix button is the `/style_mix` endpoint: model, seeds, style seeds, levels,
truncation, noise, towards -> the figure and a message line (empty when all went well).
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr
from PIL import Image

from ..checkpoints import Registry, Spec
from ..imaging.convert import upscale
from ..tasks.latent import parse_seeds
from ..tasks.mixing import LEVELS, NOISE_MODES, TOWARDS, mixing_figure, style_based
from .events import device_event, keep_outputs, user_errors

FIGURE_WIDTH = 640  # px; the figure is enlarged by the nearest whole factor to about this, for the screen
LEVEL_INFO = "coarse 4-8 px: pose and shape; middle 16-32 px: features; fine 64 px: colour and texture"
NOISE_INFO = "Per-pixel detail: seed (each seed's own), const (the same for every seed), random (fresh each time), none"
TOWARDS_INFO = ("mean: the average style (ψ 0: one picture for every seed); "
                "cluster: the seed's nearest typical style (ψ 0: that cluster's picture)")


def noise_dropdown(first: Spec, tag: str) -> gr.Dropdown:
    """The noise mode of a style-based model's pictures (hidden for other models)."""
    return gr.Dropdown(list(NOISE_MODES), value="seed", label="Noise", info=NOISE_INFO, interactive=True,
                       visible=style_based(first), elem_id=f"{tag}-noise")


def towards_radio(first: Spec, tag: str) -> gr.Radio:
    """What a style-based model's truncation moves w towards (hidden for other models)."""
    return gr.Radio(list(TOWARDS), value="mean", label="Truncate towards", info=TOWARDS_INFO,
                    visible=style_based(first), elem_id=f"{tag}-towards")


def towards_for(spec: Spec, towards: str) -> str:
    """The radio's value for a style-based model; `mean` for others, whose radio is hidden."""
    return towards if style_based(spec) else "mean"


@dataclass(frozen=True)
class MixWidgets:
    """The style-mixing panel's components."""

    panel: gr.Accordion
    seeds: gr.Textbox
    style_seeds: gr.Textbox
    levels: gr.Radio
    mix: gr.Button
    figure: gr.Image
    message: gr.Markdown


def mixing_panel(first: Spec, tag: str) -> MixWidgets:
    """The "Style mixing" accordion, visible when `first` is style-based; elem_ids "<tag>-mix-...".
    The explorer's truncation slider, towards radio and noise dropdown apply to the figure too."""
    with gr.Accordion("Style mixing", open=True, visible=style_based(first), elem_id=f"{tag}-mixing") as panel:
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=280):
                seeds = gr.Textbox("1-4", label="Seeds (the layout, down the left)", max_lines=1,
                                   elem_id=f"{tag}-mix-seeds")
                style_seeds = gr.Textbox("10-13", label="Style seeds (the style, across the top)", max_lines=1,
                                         elem_id=f"{tag}-mix-style-seeds")
                levels = gr.Radio(list(LEVELS), value="middle", label="Levels the style seeds give", info=LEVEL_INFO,
                                  elem_id=f"{tag}-mix-levels")
                mix = gr.Button("Mix", variant="primary", elem_id=f"{tag}-mix")
            with gr.Column(scale=2, min_width=280):
                figure = gr.Image(label="Style mixing", type="pil", format="png", interactive=False, height=FIGURE_WIDTH,
                                  buttons=["download"], elem_id=f"{tag}-mix-figure")
                message = gr.Markdown(elem_id=f"{tag}-mix-message")
    return MixWidgets(panel, seeds, style_seeds, levels, mix, figure, message)


def enlarged(figure: Image.Image) -> Image.Image:
    """The figure enlarged by a whole factor (sharp pixels) to about FIGURE_WIDTH; a wider one as it is."""
    return upscale(figure, figure.width * max(1, round(FIGURE_WIDTH / figure.width)))


class MixHandlers:
    """The panel's handlers over `registry`."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    @keep_outputs(2)
    def mix(self, name: str, seeds: str, style_seeds: str, levels: str, truncation: float, noise: str,
            towards: str = "mean") -> tuple:
        """The mixing figure of seeds (rows) x style seeds (columns), and a message line."""
        figure = mixing_figure(self.registry.get(name), parse_seeds(seeds), parse_seeds(style_seeds), levels,
                               truncation, noise, towards)
        return enlarged(figure), ""

    @user_errors
    def on_model(self, name: str) -> tuple:
        """Show the noise dropdown, the towards radio and the panel for a style-based model, hide
        them for others; the walk's slerp/lerp choice the other way round (a style-based walk goes
        straight in w)."""
        shown = style_based(self.registry.spec(name))
        return (*[gr.update(visible=shown)] * 3, gr.update(visible=not shown))


def wire_mixing(w: MixWidgets, model: gr.Dropdown, psi: gr.Slider, noise: gr.Dropdown, towards: gr.Radio,
                path: gr.Radio, registry: Registry) -> None:
    """Connect the panel: the model dropdown shows or hides it (and `noise` and `towards`, and the
    walk's `path` the other way round); Mix is `/style_mix`."""
    handlers = MixHandlers(registry)
    model.change(handlers.on_model, [model], [noise, towards, w.panel, path], api_visibility="private")
    w.mix.click(handlers.mix, [model, w.seeds, w.style_seeds, w.levels, psi, noise, towards], [w.figure, w.message],
                **device_event(api_name="style_mix"))
