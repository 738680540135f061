"""Tab 3, "Sketch to image": draw line art, a pix2pix checkpoint colours it in as you draw.

The Sketchpad's value (a dict of background, layers and composite) is flattened into one
picture here, by `canvas_picture`: the core takes pictures only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image

from ..checkpoints import Registry
from ..errors import StudioError
from ..imaging.convert import upscale
from ..imaging.files import open_image, to_rgb
from ..tasks.sketch import edges, sketch_to_image
from .events import device_event, keep_outputs, upload_image, user_errors
from .interface import Tab, TabContext, TabParts
from .widgets import model_info, no_models_message

ASSETS = Path(__file__).resolve().parents[2] / "assets"
CANVAS = 384  # px; every stroke uploads the canvas, so it stays small
OUTPUT = 384
SEND_TO = "style"  # the tab the result can be sent to


def example_drawings() -> list[str]:
    """The example drawings offered under the pad."""
    return [str(p) for p in sorted((ASSETS / "sketches").glob("*.png"))]


def _as_picture(value: Any) -> Image.Image:
    """A canvas layer (a PIL image or an array) as a PIL image."""
    return value if isinstance(value, Image.Image) else Image.fromarray(np.asarray(value))


def canvas_picture(value: Any) -> Any:
    """A gr.Sketchpad / gr.ImageEditor value -> one RGB picture: its composite, else its layers
    over its background. Anything that is not such a dict (None, a picture) is passed on."""
    if not isinstance(value, dict):
        return value
    composite = value.get("composite")
    if composite is not None:
        return to_rgb(composite) if isinstance(composite, Image.Image) else open_image(composite, "drawing")[0]
    background = value.get("background")
    base = None if background is None else _as_picture(background)
    for layer in (x for x in value.get("layers") or [] if x is not None):
        layer = _as_picture(layer).convert("RGBA")
        base = layer if base is None else Image.alpha_composite(base.convert("RGBA").resize(layer.size), layer)
    if base is None:
        raise StudioError("The canvas is empty: draw something first.")
    return to_rgb(base)


class Handlers:
    """The tab's event handlers over `registry`."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def colour(self, name: str, drawing: dict | None) -> Image.Image:
        """The core call shared by the live update and the Generate button."""
        return upscale(sketch_to_image(self.registry.get(name), canvas_picture(drawing)), OUTPUT)

    @user_errors
    def generate(self, name: str, drawing: dict | None) -> tuple:
        """The drawing coloured in by a sketch model, and a message line."""
        return self.colour(name, drawing), ""

    def live_update(self, name: str, drawing: dict | None, live: bool) -> tuple:
        """After a stroke: the picture if live is on; a problem goes quietly to the message line."""
        if not live:
            return gr.skip(), gr.skip()
        try:
            return self.colour(name, drawing), ""
        except StudioError as exc:  # e.g. an empty canvas after Clear: say so quietly, no toast
            return None, str(exc)

    @staticmethod
    @keep_outputs(2)
    def trace(photo: str | None, detail: float) -> tuple:
        """A photo's outlines as line art (for the canvas), and a message line."""
        if photo is None:
            raise StudioError("Upload a photo or picture first.")
        return edges(photo, detail), ""


@dataclass(frozen=True)
class Widgets:
    """The tab's components."""

    pad: gr.Sketchpad
    result: gr.Image
    message: gr.Markdown
    model: gr.Dropdown
    live: gr.Checkbox
    generate: gr.Button
    send: gr.Button
    photo: gr.Image
    detail: gr.Slider
    trace: gr.Button


def _side_column(registry: Registry, names: list[str]) -> dict[str, Any]:
    """Model, live switch, buttons, photo tracing and the model card."""
    model = gr.Dropdown(names, value=names[0], label="Model", interactive=True, elem_id="sketch-model",
                        visible=len(names) > 1)
    live = gr.Checkbox(True, label="Live: update after every stroke", elem_id="sketch-live")
    generate = gr.Button("Generate", variant="primary", elem_id="sketch-generate")
    send = gr.Button("Send to style transfer", elem_id="sketch-send")
    with gr.Accordion("Start from a photo", open=False):
        photo = upload_image(label="Photo", height=180, elem_id="sketch-photo")
        detail = gr.Slider(0, 1, value=0.4, step=0.1, label="Detail")
        trace = gr.Button("Trace its outlines onto the canvas", elem_id="sketch-trace")
    gr.Markdown(model_info(registry.spec(names[0])), elem_id="sketch-info")
    return {"model": model, "live": live, "generate": generate, "send": send, "photo": photo, "detail": detail,
            "trace": trace}


def layout(registry: Registry, names: list[str]) -> Widgets:
    """Make the tab's widgets: the pad, the result, the side column, the example drawings."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=320):
            pad = gr.Sketchpad(label="Draw here", type="pil",
                               image_mode="RGBA", canvas_size=(CANVAS, CANVAS), format="png", layers=False,
                               brush=gr.Brush(default_size=6, colors=["#000000"], color_mode="fixed"),
                               eraser=gr.Eraser(default_size=24), elem_id="sketch-pad")
        with gr.Column(scale=3, min_width=320):
            result = gr.Image(label="Picture", type="pil", format="png", interactive=False, height=OUTPUT + 40,
                              buttons=["download"], elem_id="sketch-result")
            message = gr.Markdown(elem_id="sketch-message")
        with gr.Column(scale=2, min_width=240):
            side = _side_column(registry, names)
    drawings = example_drawings()
    if drawings:
        gr.Examples(drawings, inputs=[pad], label="Start from a drawing (held-out OpenMoji line art, CC BY-SA 4.0)",
                    examples_per_page=12)
    return Widgets(pad=pad, result=result, message=message, **side)


def wire(w: Widgets, handlers: Handlers) -> None:
    """Connect the widgets' events: live updates, Generate (/sketch) and tracing (/edges)."""
    w.pad.change(handlers.live_update, [w.model, w.pad, w.live], [w.result, w.message],
                 **device_event(api_visibility="private", trigger_mode="always_last", show_progress="minimal"))
    w.generate.click(handlers.generate, [w.model, w.pad], [w.result, w.message], **device_event(api_name="sketch"))
    w.trace.click(handlers.trace, [w.photo, w.detail], [w.pad, w.message], api_name="edges")


def build(context: TabContext) -> TabParts:
    """Lay out and wire the tab; its result can be sent to the style tab."""
    names = context.registry.names("sketch")
    if not names:
        gr.Markdown(no_models_message("sketch", "pix2pix", data="openmoji"))
        return TabParts()
    widgets = layout(context.registry, names)
    wire(widgets, Handlers(context.registry))
    return TabParts(picture_out=widgets.result, send=widgets.send, send_to=SEND_TO)


TAB = Tab("sketch", "Sketch to image", build)
