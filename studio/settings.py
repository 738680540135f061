"""Every `STUDIO_*` environment variable and default location, declared once.

Each accessor reads the environment when it is called (nothing is frozen at import,
so a test or a launcher may set a variable first); `VARIABLES` is the list the
README documents.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import StudioError

REPO = Path(__file__).resolve().parent.parent

VARIABLES = {
    "STUDIO_CHECKPOINTS": "checkpoint folder (default: ./checkpoints when it exists, else the repository's)",
    "STUDIO_DATA": "downloads, built data sets and training runs (default: ~/.cache/studio)",
    "STUDIO_DEVICE": "torch device to compute on, e.g. cpu, cuda:1, mps (default: CUDA, else MPS, else CPU)",
    "STUDIO_VGG_WEIGHTS": "a VGG19 weights file for style transfer, for deployments that keep weights elsewhere",
    "STUDIO_FETCH_VGG19": "1: app.py (Hugging Face Spaces) fetches VGG19's weights at start-up",
    "STUDIO_CONCURRENCY": "model jobs the app runs at once (default 1; raise it on a GPU)",
    "STUDIO_QUEUE_SIZE": "requests the app keeps waiting before it refuses more (default 32)",
    "STUDIO_MAX_UPLOAD": "largest upload the app accepts (default 20mb)",
}


def _get(name: str) -> str:
    assert name in VARIABLES, name  # every variable is declared above
    return os.environ.get(name, "").strip()


def _positive_int(name: str, default: int) -> int:
    text = _get(name)
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise StudioError(f"{name}={text!r} must be a whole number of at least 1.")
    return int(text)


def checkpoints_root() -> Path:
    """`STUDIO_CHECKPOINTS`, else `./checkpoints` when it exists, else the repository's `checkpoints/`."""
    if _get("STUDIO_CHECKPOINTS"):
        return Path(_get("STUDIO_CHECKPOINTS"))
    here = Path("checkpoints")
    return here if here.is_dir() else REPO / "checkpoints"


def data_root() -> Path:
    """`STUDIO_DATA`, else `~/.cache/studio` (created): downloads and builds never land inside the repo."""
    path = Path(_get("STUDIO_DATA") or Path.home() / ".cache" / "studio")
    path.mkdir(parents=True, exist_ok=True)
    return path


def device_name() -> str:
    """`STUDIO_DEVICE`, or '' for the automatic choice."""
    return _get("STUDIO_DEVICE")


def vgg_weights() -> Path | None:
    return Path(_get("STUDIO_VGG_WEIGHTS")) if _get("STUDIO_VGG_WEIGHTS") else None


def fetch_vgg19_at_start() -> bool:
    return _get("STUDIO_FETCH_VGG19") == "1"


def concurrency() -> int:
    return _positive_int("STUDIO_CONCURRENCY", 1)


def queue_size() -> int:
    return _positive_int("STUDIO_QUEUE_SIZE", 32)


def max_upload() -> str:
    return _get("STUDIO_MAX_UPLOAD") or "20mb"
