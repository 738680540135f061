"""What the tabs show: the model card, seed helpers, gallery captions, walk GIFs, the
message for a tab with no model."""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path

from PIL import Image

from ..checkpoints import Spec
from ..evaluation.report import card_lines, recipe_line
from ..imaging.convert import gif_bytes, upscale
from ..validate import MAX_SEED

DISPLAY_SIZE = 256  # GAN pictures are enlarged to this for the screen
NEIGHBOURS = 9  # the seed grid: the current seed in the middle of a 3x3
ICONS = Path(__file__).resolve().parents[2] / "assets" / "icons"
DICE_ICON = str(ICONS / "dice.svg")  # an SVG, not an emoji: it draws where no emoji font is installed


def model_info(spec: Spec) -> str:
    """Markdown card: what the model is, what it was trained on, what it measured."""
    raw = spec.raw
    training = raw.get("training", {})
    lines = [f"**{spec.name}**: `{spec.arch}`, {spec.image_size} px, task `{spec.task}`"]
    if spec.labels:
        lines.append("Classes: " + ", ".join(spec.labels))
    if training:
        seen = training.get("images_seen")
        lines.append(f"Trained on {seen:,} images seen" if isinstance(seen, int)
                     else "Training: " + json.dumps(training))
    if recipe_line(raw.get("recipe") or {}):
        lines.append(recipe_line(raw["recipe"]))
    if raw.get("licence"):
        lines.append(f"Licence: {raw['licence']}")
    lines += card_lines(raw.get("metrics") or {})
    return "  \n".join(lines)


def no_models_message(task: str, kind: str, data: str = "emoji") -> str:
    """What a tab shows in place of its controls when no checkpoint of `task` is installed."""
    return (f"**No {task} checkpoint is installed.** This tab shows pictures from a trained model only.  \n"
            f"Put one in `checkpoints/` or train one: `studio data {data} --out data/{data}` then "
            f"`studio train {kind} --data data/{data} --name my-model`.")


def random_seed() -> int:
    """A fresh seed for the dice button."""
    return random.randint(0, MAX_SEED)


def neighbour_seeds(seed: int) -> list[int]:
    """NEIGHBOURS consecutive seeds centred on `seed`, kept inside [0, MAX_SEED]."""
    start = min(max(0, seed - NEIGHBOURS // 2), MAX_SEED - NEIGHBOURS + 1)
    return list(range(start, start + NEIGHBOURS))


def gallery(images: list[Image.Image], seeds: list[int]) -> list[tuple[Image.Image, str]]:
    """Gallery items: each picture enlarged for the grid, captioned with its seed, the number
    alone (the grid's title says they are seeds) so that ten digits fit a cell."""
    return [(upscale(im, DISPLAY_SIZE // 2), str(s)) for im, s in zip(images, seeds)]


def caption_seed(caption: str) -> int:
    """The seed a grid caption (made by `gallery`) shows."""
    return int(caption)


def write_gif(frames: list[Image.Image], stem: str) -> str:
    """Save a looping GIF to a temporary file Gradio can serve; returns its path."""
    folder = Path(tempfile.gettempdir()) / "studio-gifs"
    folder.mkdir(exist_ok=True)
    path = folder / f"{stem}.gif"
    path.write_bytes(gif_bytes([upscale(f, DISPLAY_SIZE) for f in frames]))
    return str(path)
