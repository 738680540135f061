"""Tab 3, "Sketch to image": draw line art, a pix2pix checkpoint colours it in as you draw."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from ..checkpoints import Registry
from ..errors import StudioError
from ..imaging.convert import upscale
from ..tasks.sketch import edges, sketch_to_image
from .common import upload_image, device_event, keep_outputs, model_info, no_models_message, user_errors

ASSETS = Path(__file__).resolve().parents[2] / "assets"
CANVAS = 384  # px; every stroke uploads the canvas, so it stays small
OUTPUT = 384


def example_drawings() -> list[str]:
    return [str(p) for p in sorted((ASSETS / "sketches").glob("*.png"))]


def build(registry: Registry) -> tuple[gr.Image, gr.Button] | None:
    """Lay out the tab; returns (result picture, send-to-style button) for the app to wire, or None."""
    names = registry.names("sketch")
    if not names:
        gr.Markdown(no_models_message("sketch", "pix2pix").replace("studio data emoji --out data/emoji",
                                                                    "studio data openmoji --out data/openmoji")
                    .replace("--data data/emoji", "--data data/openmoji"))
        return None

    def colour(name: str, drawing: dict | None):
        """The core call shared by the live update and the Generate button."""
        return upscale(sketch_to_image(registry.get(name), drawing), OUTPUT)

    @user_errors
    def generate(name: str, drawing: dict | None):
        return colour(name, drawing), ""

    def live_update(name: str, drawing: dict | None, live: bool):
        if not live:
            return gr.skip(), gr.skip()
        try:
            return colour(name, drawing), ""
        except StudioError as exc:  # e.g. an empty canvas after Clear: say so quietly, no toast
            return None, str(exc)

    @keep_outputs(2)
    def trace(photo: str | None, detail: float):
        if photo is None:
            raise StudioError("Upload a photo or picture first.")
        return edges(photo, detail), ""

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
            model = gr.Dropdown(names, value=names[0], label="Model", interactive=True, elem_id="sketch-model",
                                visible=len(names) > 1)
            live = gr.Checkbox(True, label="Live: update after every stroke", elem_id="sketch-live")
            go = gr.Button("Generate", variant="primary", elem_id="sketch-generate")
            send = gr.Button("Send to style transfer", elem_id="sketch-send")
            with gr.Accordion("Start from a photo", open=False):
                photo = upload_image(label="Photo", height=180, elem_id="sketch-photo")
                detail = gr.Slider(0, 1, value=0.4, step=0.1, label="Detail")
                trace_button = gr.Button("Trace its outlines onto the canvas", elem_id="sketch-trace")
            gr.Markdown(model_info(registry.spec(names[0])), elem_id="sketch-info")
    drawings = example_drawings()
    if drawings:
        gr.Examples(drawings, inputs=[pad], label="Start from a drawing (held-out OpenMoji line art, CC BY-SA 4.0)",
                    examples_per_page=12)

    pad.change(live_update, [model, pad, live], [result, message],
               **device_event(api_visibility="private", trigger_mode="always_last", show_progress="minimal"))
    go.click(generate, [model, pad], [result, message], **device_event(api_name="sketch"))
    trace_button.click(trace, [photo, detail], [pad, message], api_name="edges")
    return result, send
