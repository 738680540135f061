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
from ..tasks.sketch import edges, sketch_to_image, takes_hints
from .events import device_event, keep_outputs, upload_image
from .interface import Tab, TabContext, TabParts
from .widgets import model_info, no_models_message

ASSETS = Path(__file__).resolve().parents[2] / "assets"
CANVAS = 384  # px; every stroke uploads the canvas, so it stays small
OUTPUT = 384
SEND_TO = "style"  # the tab the result can be sent to
# Run once on page load: the pad starts with no tool, and a drag on it selects the page's
# text until the Brush is picked, so pick it whenever the pad appears (its tab renders lazily).
BRUSH_FIRST_JS = """() => {
  const arm = () => {
    const pad = document.querySelector('#sketch-pad');
    const brush = pad && pad.querySelector('button[aria-label="Brush"]');
    if (!brush || pad.dataset.brushArmed) return;
    pad.dataset.brushArmed = '1';
    brush.click();
  };
  new MutationObserver(arm).observe(document.body, {childList: true, subtree: true});
  arm();
}"""
HINT_SATURATION = 32  # a canvas pixel whose channels differ by more than this is a colour hint
BRUSH_COLOURS = ["#000000", "#e53935", "#fb8c00", "#fdd835", "#43a047", "#1e88e5", "#8e24aa", "#795548",
                 "#f48fb1"]  # black draws lines; the others drop colour hints
HOW_TO_DRAW = ("Draw lines in black. To choose a colour, pick it from the palette button under the brush and "
               "drop a dot or a short stroke inside the shape: a hint model paints the shape that colour.")


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


def split_hints(picture: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """The canvas as one RGB picture -> (the line drawing, its colour hints as RGBA or None).

    Black and greys are lines; a pixel of any colour (channels further apart than
    HINT_SATURATION) is a hint, and is whitened in the drawing."""
    a = np.asarray(picture.convert("RGB"))
    hint = a.max(axis=2).astype(np.int16) - a.min(axis=2) > HINT_SATURATION  # (H, W)
    if not hint.any():
        return picture, None
    lines = a.copy()
    lines[hint] = 255
    hints = np.dstack([a, np.where(hint, 255, 0).astype(np.uint8)])
    return Image.fromarray(lines), Image.fromarray(hints, "RGBA")


class Handlers:
    """The tab's event handlers over `registry`."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def colour(self, name: str, drawing: dict | None) -> tuple[Image.Image, str]:
        """The core call shared by the live update and the Generate button: the picture and a note."""
        model = self.registry.get(name)
        lines, hints = split_hints(canvas_picture(drawing))
        note = ""
        if hints is not None and not takes_hints(model):
            hints, note = None, f"{name} does not take colour hints: it chose the colours itself."
        return upscale(sketch_to_image(model, lines, hints), OUTPUT), note

    @keep_outputs(2)
    def generate(self, name: str, drawing: dict | None) -> tuple:
        """The drawing coloured in by a sketch model, and a message line (on an error the picture stays)."""
        return self.colour(name, drawing)

    def live_update(self, name: str, drawing: dict | None, live: bool) -> tuple:
        """After a stroke, an example or a tracing: the picture if live is on; a problem goes
        quietly to the message line and the last picture stays."""
        if not live:
            return gr.skip(), gr.skip()
        try:
            return self.colour(name, drawing)
        except StudioError as exc:  # e.g. an empty canvas after Clear: say so quietly, no toast
            return gr.skip(), str(exc)

    def after_trace(self, name: str, drawing: dict | None, live: bool, message: str) -> tuple:
        """After a tracing: the live picture and the Undo button, unless the tracing failed
        (its message line says why)."""
        if message:
            return gr.skip(), gr.skip(), gr.update(visible=False)
        return *self.live_update(name, drawing, live), gr.update(visible=True)

    @staticmethod
    @keep_outputs(2)
    def trace(photo: str | None, detail: float) -> tuple:
        """A photo's outlines as line art (for the canvas), and a message line."""
        if photo is None:
            raise StudioError("Upload a photo or picture first.")
        return edges(photo, detail), ""

    @staticmethod
    def undo(previous: Any) -> tuple:
        """The canvas as it was before the last tracing, and the Undo button hidden."""
        return previous, None, gr.update(visible=False)


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
    undo: gr.Button
    previous: gr.State  # the canvas before the last tracing
    examples: gr.Examples | None


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
        undo = gr.Button("Undo tracing (bring the drawing back)", visible=False, elem_id="sketch-undo")
    gr.Markdown(model_info(registry.spec(names[0])), elem_id="sketch-info")
    return {"model": model, "live": live, "generate": generate, "send": send, "photo": photo, "detail": detail,
            "trace": trace, "undo": undo}


def layout(registry: Registry, names: list[str]) -> Widgets:
    """Make the tab's widgets: the pad, the result, the side column, the example drawings."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=320):
            pad = gr.Sketchpad(label="Draw here", type="pil",
                               image_mode="RGBA", canvas_size=(CANVAS, CANVAS), format="png", layers=False,
                               brush=gr.Brush(default_size=6, colors=BRUSH_COLOURS, default_color="#000000",
                                              color_mode="defaults"),
                               eraser=gr.Eraser(default_size=24), elem_id="sketch-pad")
            gr.Markdown(HOW_TO_DRAW, elem_id="sketch-how")
        with gr.Column(scale=3, min_width=320):
            result = gr.Image(label="Picture", type="pil", format="png", interactive=False, height=OUTPUT + 40,
                              buttons=["download"], elem_id="sketch-result")
            message = gr.Markdown(elem_id="sketch-message")
        with gr.Column(scale=2, min_width=240):
            side = _side_column(registry, names)
    drawings = example_drawings()
    examples = None
    if drawings:
        examples = gr.Examples(drawings, inputs=[pad], examples_per_page=12, elem_id="sketch-examples",
                               label="Start from a drawing (held-out OpenMoji line art, CC BY-SA 4.0)")
    return Widgets(pad=pad, result=result, message=message, **side, previous=gr.State(), examples=examples)


def remember(drawing: Any) -> Any:
    """The canvas as it is, for the Undo tracing button."""
    return drawing


def wire(w: Widgets, handlers: Handlers) -> None:
    """Connect the widgets' events: live updates (after a stroke, an example, a tracing or its
    undoing), Generate (/sketch), and tracing (/edges), which keeps the canvas it replaces for Undo."""
    live_io = {"fn": handlers.live_update, "inputs": [w.model, w.pad, w.live], "outputs": [w.result, w.message],
               **device_event(api_visibility="private", trigger_mode="always_last", show_progress="minimal")}
    w.pad.change(**live_io)
    if w.examples is not None:  # a canvas set by an example sends no change event
        w.examples.load_input_event.then(**live_io)
    w.generate.click(handlers.generate, [w.model, w.pad], [w.result, w.message], **device_event(api_name="sketch"))
    w.trace.click(remember, [w.pad], [w.previous], api_visibility="private", queue=False).then(
        handlers.trace, [w.photo, w.detail], [w.pad, w.message], api_name="edges").then(
        handlers.after_trace, [w.model, w.pad, w.live, w.message], [w.result, w.message, w.undo],
        **device_event(api_visibility="private", show_progress="minimal"))
    w.undo.click(handlers.undo, [w.previous], [w.pad, w.previous, w.undo], api_visibility="private").then(**live_io)


def build(context: TabContext) -> TabParts:
    """Lay out and wire the tab; its result can be sent to the style tab."""
    names = context.registry.names("sketch")
    if not names:
        gr.Markdown(no_models_message("sketch", "pix2pix", data="openmoji"))
        return TabParts()
    widgets = layout(context.registry, names)
    wire(widgets, Handlers(context.registry))
    return TabParts(on_load={"fn": None, "js": BRUSH_FIRST_JS}, picture_out=widgets.result, send=widgets.send,
                    send_to=SEND_TO)


TAB = Tab("sketch", "Sketch to image", build)
