"""What the tabs share: the device queue, error conversion, model pickers and info."""

from __future__ import annotations

import functools
import inspect
import json
import random
import tempfile
from pathlib import Path
from typing import Any, Callable

import gradio as gr
from PIL import Image

from .. import settings
from ..checkpoints import Registry, Spec
from ..errors import StudioError
from ..imaging.convert import gif_bytes, upscale
from ..validate import MAX_SEED

# Every event that runs a model joins this queue, so the device serves one job at a time
# (two CPU threads are already busy with one); raise it on a GPU with STUDIO_CONCURRENCY.
DEVICE_QUEUE = "device"
DISPLAY_SIZE = 256  # GAN pictures are enlarged to this for the screen
NEIGHBOURS = 9  # the seed grid: the current seed in the middle of a 3x3


def device_event(**kwargs: Any) -> dict[str, Any]:
    """Keyword arguments for an event that runs a model."""
    return {"concurrency_id": DEVICE_QUEUE, "concurrency_limit": settings.concurrency(), **kwargs}


def _on_studio_error(fn: Callable, handle: Callable[[StudioError], Any]) -> Callable:
    """`fn`, with a StudioError turned into `handle(exc)`'s value (returned, or yielded as the
    last update of a generator handler, which stays a generator so Gradio still streams it)."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def streaming(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from fn(*args, **kwargs)
            except StudioError as exc:
                yield handle(exc)

        return streaming

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StudioError as exc:
            return handle(exc)

    return wrapper


def user_errors(fn: Callable) -> Callable:
    """Show a StudioError as a readable toast (gr.Error) instead of a generic failure."""
    def handle(exc: StudioError) -> Any:
        raise gr.Error(str(exc), print_exception=False) from None

    return _on_studio_error(fn, handle)


def keep_outputs(n_outputs: int) -> Callable[[Callable], Callable]:
    """Decorator: on a StudioError, leave every output as it was and put the message in the last.

    For events whose outputs are the user's work (a picture, a plot, a drawing), which an
    error badge would hide. The handler's last output must be a message line."""
    def handle(exc: StudioError) -> tuple:
        return (*[gr.skip()] * (n_outputs - 1), f"**Could not do that.** {exc}")

    return lambda fn: _on_studio_error(fn, handle)


_RAW_UPLOADS: set[str] = set()  # elem_ids of the image inputs made by upload_image
_decode_upload = gr.Image.preprocess


def _preprocess_upload(self: gr.Image, payload: Any) -> Any:
    if (self.elem_id in _RAW_UPLOADS and payload is not None and payload.path
            and not (payload.url or "").startswith("data:")):
        return str(payload.path)
    return _decode_upload(self, payload)


# Keyed by elem_id on the class, not set on the instance nor subclassed: Gradio rebuilds a
# session's components from their settings (losing instance attributes), and a subclass
# breaks the front end's lazy loading of the components in a tab.
gr.Image.preprocess = _preprocess_upload


def upload_image(elem_id: str, **kwargs: Any) -> gr.Image:
    """An image input that hands an upload to the handler as its path, undecoded.

    gr.Image decodes uploads itself, before the handler runs, and a file that is not a
    picture then fails with Gradio's own message and the server's upload path. Here the
    studio's reader (imageio.open_image) decides and says what is wrong."""
    _RAW_UPLOADS.add(elem_id)
    return gr.Image(type="filepath", image_mode=None, elem_id=elem_id, **kwargs)


def model_info(spec: Spec) -> str:
    """Markdown card: what the model is, what it was trained on, what it measured."""
    raw = spec.raw
    training = raw.get("training", {})
    lines = [f"**{spec.name}**: `{spec.arch}`, {spec.image_size} px, task `{spec.task}`"]
    if spec.labels:
        lines.append("Classes: " + ", ".join(spec.labels))
    if training:
        lines.append(f"Trained on {training.get('images_seen', '?'):,} images seen" if isinstance(training.get("images_seen"), int)
                     else "Training: " + json.dumps(training))
    if raw.get("licence"):
        lines.append(f"Licence: {raw['licence']}")
    lines += metric_lines(raw.get("metrics") or {})
    return "  \n".join(lines)


def metric_lines(m: dict) -> list[str]:
    """The figures `studio eval` stored, each beside its floor (what real data scores)."""
    if not m:
        return []
    lines = []
    if "l1" in m:
        lines.append(f"Held-out L1 {m['l1']} (all white: {m.get('l1_floor_white', '?')}), PSNR {m.get('psnr_db', '?')} dB")
    if "fd" in m:
        lines.append(f"FD {m['fd']} (real vs real: {m.get('fd_floor_train_vs_heldout', '?')})"
                     + (f", KID {m['kid']}" if "kid" in m else ""))
    if "grid_distinct_of_64" in m:
        lines.append(f"{m['grid_distinct_of_64']} of 64 seeds distinct")
    if m.get("probe_min_ratio") is not None:
        lines.append(f"Class probe on generated pictures: at worst {m['probe_min_ratio']:.0%} of its accuracy on real ones")
    if lines:
        lines[0] = "Measured (EfficientNet-Lite0 features, `studio eval`): " + lines[0]
    return lines or ["Metrics: " + ", ".join(f"{k} {v}" for k, v in m.items())]


def no_models_message(task: str, kind: str) -> str:
    return (f"**No {task} checkpoint is installed.** This tab shows pictures from a trained model only.  \n"
            f"Put one in `checkpoints/` or train one: `studio data emoji --out data/emoji` then "
            f"`studio train {kind} --data data/emoji --name my-model`.")


def random_seed() -> int:
    """A fresh seed for the dice button."""
    return random.randint(0, MAX_SEED)


def neighbour_seeds(seed: int) -> list[int]:
    """NEIGHBOURS consecutive seeds centred on `seed`, kept inside [0, MAX_SEED]."""
    start = min(max(0, seed - NEIGHBOURS // 2), MAX_SEED - NEIGHBOURS + 1)
    return list(range(start, start + NEIGHBOURS))


def as_int(value: Any, what: str) -> int:
    """Widget number -> int, with a clear message for empty or non-whole values."""
    if value is None or value == "":
        raise StudioError(f"{what} is empty.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise StudioError(f"{what} must be a whole number, got {value!r}.") from None
    if number != number or number in (float("inf"), float("-inf")) or number != int(number):
        raise StudioError(f"{what} must be a whole number, got {value!r}.")
    return int(number)


def gallery(images: list[Image.Image], seeds: list[int]) -> list[tuple[Image.Image, str]]:
    return [(upscale(im, DISPLAY_SIZE // 2), f"seed {s}") for im, s in zip(images, seeds)]


def write_gif(frames: list[Image.Image], stem: str) -> str:
    """Save a looping GIF to a temporary file Gradio can serve; returns its path."""
    folder = Path(tempfile.gettempdir()) / "studio-gifs"
    folder.mkdir(exist_ok=True)
    path = folder / f"{stem}.gif"
    path.write_bytes(gif_bytes([upscale(f, DISPLAY_SIZE) for f in frames]))
    return str(path)


def model_picker(registry: Registry, task: str) -> gr.Dropdown:
    names = registry.names(task)
    return gr.Dropdown(names, value=names[0] if names else None, label="Model", interactive=True, scale=2)
