"""Tab 4, "Style transfer": drop a photo and a painting, watch the picture and the losses
change step by step, stop whenever it looks right."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import gradio as gr
import pandas as pd

from ..tasks.style.engine import StyleStep, stylize
from ..tasks.style.networks import NETWORKS, OFFLINE_DEFAULT, RANDOM, VGG19, default_network, get_network
from ..models.vgg19 import fetch_vgg19
from .common import upload_image, keep_outputs

ASSETS = Path(__file__).resolve().parents[2] / "assets"
STREAM_EVERY_S = 0.25  # at most four updates a second: each one resends the loss table
TERMS = ("style", "content", "total")
RESULT_HEIGHT = 512


def style_weight(network: str, strength: float) -> float:
    """Slider 1..10 -> style weight: each step doubles it; 5 is the network's default."""
    return get_network(network).style_weight * 2.0 ** (float(strength) - 5.0)


def examples() -> list[list[str]]:
    photos = sorted((ASSETS / "photos").glob("*.jpg"))
    paintings = sorted((ASSETS / "styles").glob("*.jpg"))
    return [[str(photo), str(painting)] for photo, painting in zip(photos * 4, paintings)][: len(paintings)]


def network_choices() -> list[tuple[str, str]]:
    """(label, name) of every network this machine can run, VGG19 always (it can be fetched)."""
    choices = [(f"{n.title} (built in, offline)" if name == OFFLINE_DEFAULT else n.title, name)
               for name, n in NETWORKS.items() if name != "vgg19" and n.installed()]
    vgg = "VGG19 (installed)" if VGG19.installed() else "VGG19 (downloads 548 MB once)"
    return [(vgg, "vgg19"), *choices]


def network_note(name: str) -> str:
    if name == "vgg19":
        return ("VGG19, the network of Gatys et al.: the classic look, several times slower on a CPU."
                + ("" if VGG19.installed() else " Its weights are downloaded on the first run (internet needed once; "
                   "or `studio fetch vgg19`)."))
    return (f"{get_network(name).title}: an ImageNet network that ships with the studio and works offline. "
            "For VGG19, pick it here (downloads once) or run `studio fetch vgg19`.")


def needs_fetch(network: str, vgg_weights: str | None) -> bool:
    return network == "vgg19" and vgg_weights is None and not VGG19.installed()


def ensure_network(network: str, vgg_weights: str | None) -> bool:
    """Fetch VGG19's weights if it was chosen and is not installed; True if it fetched.
    Offline, the StudioError says in one line what to do."""
    if not needs_fetch(network, vgg_weights):
        return False
    fetch_vgg19()
    return True


def status_line(step: StyleStep, size: int) -> str:
    half = (" (the first half of the steps runs at half size: quicker, and it settles the layout)"
            if step.size < size else "")
    return (f"Step {step.step}/{step.steps} at {step.size} px{half}, {step.seconds:.1f} s; "
            f"total loss {step.total:.4g}")


def build(vgg_weights: str | None = None) -> gr.Image:
    """Lay out the tab; returns the content picture input (other tabs can send pictures to it)."""
    if vgg_weights == RANDOM:
        gr.Markdown("**Test mode: random network weights.** The pictures mean nothing; this is for tests.")

    @keep_outputs(3)
    def run(content: str | None, style: str | None, size: float, steps: float, strength: float, preserve: bool,
            optimizer: str, network: str | None, progress: gr.Progress = gr.Progress(track_tqdm=True)) -> Iterator:
        network = network or default_network()
        if needs_fetch(network, vgg_weights):
            yield gr.skip(), gr.skip(), "Downloading VGG19's weights (548 MB, once)..."
            ensure_network(network, vgg_weights)
        weights = vgg_weights if network == "vgg19" or vgg_weights == RANDOM else None
        job = stylize(content, style, size=size, steps=steps, optimizer=optimizer, network=network,
                      style_weight=style_weight(network, strength), preserve_colors=bool(preserve), weights=weights,
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
                yield picture or gr.skip(), pd.DataFrame(rows), status_line(step, int(size))

    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=320):
            with gr.Row():
                content = upload_image(label="Photo (content)", sources=["upload", "clipboard"], height=220,
                                      elem_id="style-content")
                style = upload_image(label="Painting (style)", sources=["upload", "clipboard"], height=220,
                                    elem_id="style-style")
            network = gr.Dropdown(network_choices(), value=default_network(), label="Network",
                                  elem_id="style-network")
            note = gr.Markdown(network_note(default_network()), elem_id="style-network-note")
            size = gr.Slider(64, 512, value=384, step=32, label="Size (longer side, px)",
                             info="larger is slower", elem_id="style-size")
            steps = gr.Slider(10, 500, value=100, step=10, label="Steps", elem_id="style-steps")
            strength = gr.Slider(1, 10, value=5, step=0.5, label="Style strength", elem_id="style-strength")
            preserve = gr.Checkbox(False, label="Keep the photo's colours", elem_id="style-preserve")
            optimizer = gr.Radio([("L-BFGS", "lbfgs"), ("Adam", "adam")], value="lbfgs", label="Optimizer",
                                 elem_id="style-optimizer")
            with gr.Row():
                go = gr.Button("Run", variant="primary", elem_id="style-run")
                stop = gr.Button("Stop", variant="stop", elem_id="style-stop")
            status = gr.Markdown(elem_id="style-status")
        with gr.Column(scale=3, min_width=320):
            result = gr.Image(label="Result", type="pil", format="png", interactive=False, height=RESULT_HEIGHT,
                              buttons=["download"], elem_id="style-result")
            plot = gr.LinePlot(x="step", y="loss", color="term", title="Losses", height=240, elem_id="style-plot",
                               y_title="weighted loss")
    gr.Examples(examples(), inputs=[content, style], examples_per_page=4, elem_id="style-examples",
                label="Examples: a photo and a painting (public domain)")
    network.change(network_note, [network], [note], api_visibility="private")
    # Style runs take minutes: they get their own queue so that they never hold up the GAN tabs.
    event = go.click(run, [content, style, size, steps, strength, preserve, optimizer, network],
                     [result, plot, status], api_name="stylize", concurrency_id="style", concurrency_limit=1)
    stop.click(None, None, None, cancels=[event])  # API clients cancel with Job.cancel()
    return content
