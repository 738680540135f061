"""Tab 4, "Style transfer": drop a photo and a painting, watch the picture and the losses
change step by step, stop whenever it looks right."""

from __future__ import annotations

import time
from pathlib import Path

import gradio as gr
import pandas as pd

from ..style.engine import stylize
from ..style.vgg import HOW_TO_GET, RANDOM, find_weights
from .common import user_errors

ASSETS = Path(__file__).resolve().parents[2] / "assets"
STREAM_EVERY_S = 0.25  # at most four updates a second: each one resends the loss table
TERMS = ("style", "content", "total")


def style_weight(strength: float) -> float:
    """Slider 1..10 -> style weight: each step doubles it; 5 is the tutorial's 1e6."""
    return 1e6 * 2.0 ** (float(strength) - 5.0)


def examples() -> list[list[str]]:
    photos = sorted((ASSETS / "photos").glob("*.jpg"))
    paintings = sorted((ASSETS / "styles").glob("*.jpg"))
    return [[str(photo), str(painting)] for photo, painting in zip(photos * 4, paintings)][: len(paintings)]


def build(vgg_weights: str | None = None) -> gr.Image:
    """Lay out the tab; returns the content picture input (other tabs can send pictures to it)."""
    if vgg_weights == RANDOM:
        gr.Markdown("**Test mode: random VGG19 weights.** The pictures mean nothing; this is for tests.")
    elif vgg_weights is None and find_weights() is None:
        gr.Markdown(f"**No VGG19 weights installed.** {HOW_TO_GET}", elem_id="style-no-weights")

    @user_errors
    def run(content: str | None, style: str | None, size: float, steps: float, strength: float, preserve: bool,
            optimizer: str):
        job = stylize(content, style, size=size, steps=steps, optimizer=optimizer,
                      style_weight=style_weight(strength), preserve_colors=bool(preserve), weights=vgg_weights,
                      image_every=5)
        rows: list[dict] = []
        picture, shown = None, 0.0
        for step in job:
            for note in step.notes:
                gr.Warning(note)
            rows += [{"step": step.step, "loss": getattr(step, term), "term": term} for term in TERMS]
            picture = step.image or picture
            now = time.monotonic()
            if step.image is not None or now - shown > STREAM_EVERY_S or step.step == step.steps:
                shown = now
                status = (f"Step {step.step}/{step.steps} at {step.size} px, {step.seconds:.1f} s; "
                          f"total loss {step.total:.4g}")
                yield picture, pd.DataFrame(rows), status

    with gr.Row(equal_height=True):
        content = gr.Image(label="Photo (content)", type="filepath", image_mode=None, sources=["upload", "clipboard"],
                           height=300, elem_id="style-content")
        style = gr.Image(label="Painting (style)", type="filepath", image_mode=None, sources=["upload", "clipboard"],
                         height=300, elem_id="style-style")
        result = gr.Image(label="Result", type="pil", format="png", interactive=False, height=300,
                          buttons=["download"], elem_id="style-result")
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            size = gr.Slider(64, 512, value=256, step=32, label="Size (longer side, px)",
                             info="256 px takes about a second a step on a laptop CPU", elem_id="style-size")
            steps = gr.Slider(10, 500, value=100, step=10, label="Steps", elem_id="style-steps")
            strength = gr.Slider(1, 10, value=5, step=0.5, label="Style strength", elem_id="style-strength")
            preserve = gr.Checkbox(False, label="Keep the photo's colours", elem_id="style-preserve")
            optimizer = gr.Radio([("L-BFGS", "lbfgs"), ("Adam", "adam")], value="lbfgs", label="Optimizer",
                                 elem_id="style-optimizer")
            with gr.Row():
                go = gr.Button("Run", variant="primary", elem_id="style-run")
                stop = gr.Button("Stop", variant="stop", elem_id="style-stop")
            status = gr.Markdown(elem_id="style-status")
        with gr.Column(scale=2):
            plot = gr.LinePlot(x="step", y="loss", color="term", title="Losses", height=300, elem_id="style-plot",
                               y_title="weighted loss")
    gr.Examples(examples(), inputs=[content, style], label="Examples: a photo and a painting (public domain)")
    # Style runs take minutes: they get their own queue so that they never hold up the GAN tabs.
    event = go.click(run, [content, style, size, steps, strength, preserve, optimizer], [result, plot, status],
                     api_name="stylize", concurrency_id="style", concurrency_limit=1)
    stop.click(None, None, None, cancels=[event])  # API clients cancel with Job.cancel()
    return content
