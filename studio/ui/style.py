"""Tab 4, "Style transfer": drop a photo and a painting, watch the picture and the losses
change step by step, stop whenever it looks right."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import gradio as gr
import pandas as pd

from ..models.vgg19 import fetch_vgg19
from ..tasks.style.engine import StyleStep, stylize
from ..tasks.style.networks import NETWORKS, OFFLINE_DEFAULT, RANDOM, VGG19, default_network, get_network
from .events import keep_outputs, upload_image
from .interface import Tab, TabContext, TabParts

ASSETS = Path(__file__).resolve().parents[2] / "assets"
STREAM_EVERY_S = 0.25  # at most four updates a second: each one resends the loss table
TERMS = ("style", "content", "total")
RESULT_HEIGHT = 512


def style_weight(network: str, strength: float) -> float:
    """Slider 1..10 -> style weight: each step doubles it; 5 is the network's default."""
    return get_network(network).style_weight * 2.0 ** (float(strength) - 5.0)


def examples() -> list[list[str]]:
    """Example (photo, painting) pairs: each painting once, the photos in turn."""
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
    """The line under the network picker: what the network is and what choosing it costs."""
    if name == "vgg19":
        return ("VGG19, the network of Gatys et al.: the classic look, several times slower on a CPU."
                + ("" if VGG19.installed() else " Its weights are downloaded on the first run (internet needed once; "
                   "or `studio fetch vgg19`)."))
    return (f"{get_network(name).title}: an ImageNet network that ships with the studio and works offline. "
            "For VGG19, pick it here (downloads once) or run `studio fetch vgg19`.")


def needs_fetch(network: str, vgg_weights: str | None) -> bool:
    """Whether running `network` must first download VGG19's weights."""
    return network == "vgg19" and vgg_weights is None and not VGG19.installed()


def ensure_network(network: str, vgg_weights: str | None) -> bool:
    """Fetch VGG19's weights if it was chosen and is not installed; True if it fetched.
    Offline, the StudioError says in one line what to do."""
    if not needs_fetch(network, vgg_weights):
        return False
    fetch_vgg19()
    return True


def status_line(step: StyleStep, size: int) -> str:
    """The status under the buttons: step, size, time, total loss."""
    half = (" (the first half of the steps runs at half size: quicker, and it settles the layout)"
            if step.size < size else "")
    return (f"Step {step.step}/{step.steps} at {step.size} px{half}, {step.seconds:.1f} s; "
            f"total loss {step.total:.4g}")


def stream(job: Iterator[StyleStep], size: float) -> Iterator[tuple]:
    """A style run's steps -> (picture, loss table, status) updates, at most one every
    STREAM_EVERY_S unless a step brings a new picture or is the last."""
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


def run_handler(vgg_weights: str | None) -> Callable[..., Iterator[tuple]]:
    """The Run button's handler; `vgg_weights` as for build_app."""

    # The /stylize endpoint's inputs are the two pictures, then `settings` by name (size,
    # steps, strength, preserve, optimizer, network; see Widgets.settings). `progress` is
    # Gradio's tracker: it shows VGG19's download (a tqdm bar) when the weights are fetched.
    @keep_outputs(3)
    def run(content: str | None, style: str | None, progress: gr.Progress = gr.Progress(track_tqdm=True),
            **settings: Any) -> Iterator:
        """Stream the stylised picture, the loss table and a status line, step by step."""
        network = settings["network"] or default_network()
        if needs_fetch(network, vgg_weights):
            yield gr.skip(), gr.skip(), "Downloading VGG19's weights (548 MB, once)..."
            ensure_network(network, vgg_weights)
        weights = vgg_weights if network == "vgg19" or vgg_weights == RANDOM else None
        job = stylize(content, style, size=settings["size"], steps=settings["steps"], optimizer=settings["optimizer"],
                      network=network, style_weight=style_weight(network, settings["strength"]),
                      preserve_colors=bool(settings["preserve"]), weights=weights, image_every=5)
        yield from stream(job, settings["size"])

    return run


@dataclass(frozen=True)
class Widgets:
    """The tab's components."""

    content: gr.Image
    style: gr.Image
    network: gr.Dropdown
    note: gr.Markdown
    size: gr.Slider
    steps: gr.Slider
    strength: gr.Slider
    preserve: gr.Checkbox
    optimizer: gr.Radio
    run: gr.Button
    stop: gr.Button
    status: gr.Markdown
    result: gr.Image
    plot: gr.LinePlot

    def settings(self) -> dict[str, gr.components.Component]:
        """The run's settings by name: after the two pictures, the /stylize endpoint's inputs in this order."""
        return {"size": self.size, "steps": self.steps, "strength": self.strength, "preserve": self.preserve,
                "optimizer": self.optimizer, "network": self.network}


def _settings_column() -> dict[str, Any]:
    """The pictures to combine, the run's settings, Run and Stop, the status line."""
    with gr.Row():
        content = upload_image(label="Photo (content)", sources=["upload", "clipboard"], height=220,
                               elem_id="style-content")
        style = upload_image(label="Painting (style)", sources=["upload", "clipboard"], height=220,
                             elem_id="style-style")
    network = gr.Dropdown(network_choices(), value=default_network(), label="Network", elem_id="style-network")
    note = gr.Markdown(network_note(default_network()), elem_id="style-network-note")
    size = gr.Slider(64, 512, value=384, step=32, label="Size (longer side, px)",
                     info="larger is slower", elem_id="style-size")
    steps = gr.Slider(10, 500, value=100, step=10, label="Steps", elem_id="style-steps")
    strength = gr.Slider(1, 10, value=5, step=0.5, label="Style strength", elem_id="style-strength")
    preserve = gr.Checkbox(False, label="Keep the photo's colours", elem_id="style-preserve")
    optimizer = gr.Radio([("L-BFGS", "lbfgs"), ("Adam", "adam")], value="lbfgs", label="Optimizer",
                         elem_id="style-optimizer")
    with gr.Row():
        run = gr.Button("Run", variant="primary", elem_id="style-run")
        stop = gr.Button("Stop", variant="stop", elem_id="style-stop")
    status = gr.Markdown(elem_id="style-status")
    return {"content": content, "style": style, "network": network, "note": note, "size": size, "steps": steps,
            "strength": strength, "preserve": preserve, "optimizer": optimizer, "run": run, "stop": stop,
            "status": status}


def layout() -> Widgets:
    """Make the tab's widgets: settings beside the result and loss plot, examples below."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=320):
            settings = _settings_column()
        with gr.Column(scale=3, min_width=320):
            result = gr.Image(label="Result", type="pil", format="png", interactive=False, height=RESULT_HEIGHT,
                              buttons=["download"], elem_id="style-result")
            plot = gr.LinePlot(x="step", y="loss", color="term", title="Losses", height=240, elem_id="style-plot",
                               y_title="weighted loss")
    gr.Examples(examples(), inputs=[settings["content"], settings["style"]], examples_per_page=4,
                elem_id="style-examples", label="Examples: a photo and a painting (public domain)")
    return Widgets(**settings, result=result, plot=plot)


def wire(w: Widgets, run: Callable[..., Iterator[tuple]]) -> None:
    """Connect the widgets' events: the network note, Run (/stylize) and Stop."""
    w.network.change(network_note, [w.network], [w.note], api_visibility="private")
    # Style runs take minutes: they get their own queue so that they never hold up the GAN tabs.
    event = w.run.click(run, [w.content, w.style], [w.result, w.plot, w.status], inputs_kwargs=w.settings(),
                        api_name="stylize", concurrency_id="style", concurrency_limit=1)
    w.stop.click(None, None, None, cancels=[event])  # API clients cancel with Job.cancel()


def build(context: TabContext) -> TabParts:
    """Lay out and wire the tab; its photo input takes pictures other tabs send."""
    if context.vgg_weights == RANDOM:
        gr.Markdown("**Test mode: random network weights.** The pictures mean nothing; this is for tests.")
    widgets = layout()
    wire(widgets, run_handler(context.vgg_weights))
    return TabParts(picture_in=widgets.content)


TAB = Tab("style", "Style transfer", build)
