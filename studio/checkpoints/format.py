"""The checkpoint format: reading, checking, writing and loading one checkpoint folder.

A checkpoint is a folder `<root>/<name>/` with
    model.safetensors   the generator's state dict (fp16 or fp32 on disk)
    studio.json         what to build and what it is: format, arch, task, arch_args,
                        image_size, labels, licence, data, recipe, metrics

Saving goes through `save_checkpoint`, so trainers and tests write exactly what the
registry (registry.py) reads.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from .. import settings
from ..errors import StudioError
from ..models import ARCHS, build
from ..tasks import TASKS

FORMAT_VERSION = 1
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")
WEIGHTS_FILE, SPEC_FILE = "model.safetensors", "studio.json"


def check_name(name: str) -> str:
    """Return `name` if it is a valid checkpoint name, else raise: no paths, no `..`."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or len(name) > 64:
        raise StudioError(
            f"Invalid checkpoint name {name!r}: use lower-case letters, digits and '-', starting with a letter or digit."
        )
    return name


@dataclass(frozen=True)
class Spec:
    """The parsed `studio.json` of one checkpoint."""

    name: str
    path: Path
    arch: str
    task: str
    arch_args: dict[str, Any]
    image_size: int
    labels: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def summary(self) -> str:
        """One line for pickers and `studio list`."""
        extra = f", {len(self.labels)} classes" if self.labels else ""
        return f"{self.name} ({self.task}, {self.arch}, {self.image_size}px{extra})"


def read_spec(folder: Path) -> Spec:
    """Parse and validate `folder/studio.json` without touching the weights."""
    path = folder / SPEC_FILE
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise StudioError(f"Checkpoint {folder}: {SPEC_FILE} is missing.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StudioError(f"Checkpoint {folder}: {SPEC_FILE} is not valid JSON ({exc}).") from None
    if not isinstance(raw, dict):
        raise StudioError(f"Checkpoint {folder}: {SPEC_FILE} must hold a JSON object.")
    problems = []
    if raw.get("format") != FORMAT_VERSION:
        problems.append(f"format must be {FORMAT_VERSION}, got {raw.get('format')!r}")
    if raw.get("arch") not in ARCHS:
        problems.append(f"unknown arch {raw.get('arch')!r} (known: {', '.join(sorted(ARCHS))})")
    if raw.get("task") not in TASKS:
        problems.append(f"task must be one of {', '.join(TASKS)}, got {raw.get('task')!r}")
    if not isinstance(raw.get("arch_args", {}), dict):
        problems.append("arch_args must be an object")
    if not isinstance(raw.get("image_size"), int):
        problems.append("image_size must be an integer")
    labels = raw.get("labels") or []
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        problems.append("labels must be a list of class names")
    elif raw.get("task") == "conditional" and len(labels) < 2:
        problems.append("a conditional checkpoint needs at least two labels")
    if problems:
        raise StudioError(f"Checkpoint {folder}: " + "; ".join(problems) + ".")
    return Spec(folder.name, folder, raw["arch"], raw["task"], dict(raw.get("arch_args", {})),
                raw["image_size"], tuple(labels), raw)


def save_checkpoint(model: nn.Module, name: str, description: dict[str, Any], root: str | Path | None = None,
                    half: bool = False) -> Path:
    """Write `model` as checkpoint `name` under `root`; atomic: a crash never leaves a broken folder.

    `description` must give at least `task` and `image_size`; `arch` and
    `arch_args` come from the model (its registered name and `arch_args` attribute)
    unless given. With `half`, floating tensors are stored as fp16.
    """
    check_name(name)
    root = Path(root) if root is not None else settings.checkpoints_root()
    root.mkdir(parents=True, exist_ok=True)
    spec = {"format": FORMAT_VERSION, "name": name, "arch": getattr(model, "arch_name", None),
            "arch_args": getattr(model, "arch_args", {}), **description}
    spec["format"], spec["name"] = FORMAT_VERSION, name
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    spec["weights_dtype"] = "float16" if half else "float32"
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
    try:
        save_file(state, str(tmp / WEIGHTS_FILE))
        (tmp / SPEC_FILE).write_text(json.dumps(spec, indent=2) + "\n")
        read_spec(tmp)  # refuse to publish a description the registry would reject
        final = root / name
        if final.exists():
            old = root / f".{name}-old-{os.getpid()}"
            final.rename(old)
            tmp.rename(final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root / name


def update_metrics(folder: Path, metrics: dict[str, Any]) -> None:
    """Merge `metrics` into `folder/studio.json` (atomic replace)."""
    path = Path(folder) / SPEC_FILE
    raw = json.loads(path.read_text())
    raw["metrics"] = {**raw.get("metrics", {}), **metrics}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(raw, indent=2) + "\n")
    os.replace(tmp, path)


def load_model(spec: Spec, device: torch.device | str = "cpu") -> nn.Module:
    """Build `spec`'s architecture, strictly load its weights, eval mode, no grad, on `device`."""
    model = build(spec.arch, spec.arch_args)
    try:
        state = load_file(str(spec.path / WEIGHTS_FILE))
    except FileNotFoundError:
        raise StudioError(f"Checkpoint {spec.path}: {WEIGHTS_FILE} is missing.") from None
    except (SafetensorError, OSError, ValueError) as exc:
        raise StudioError(f"Checkpoint {spec.path}: {WEIGHTS_FILE} is corrupt or unreadable ({exc}).") from None
    expected = model.state_dict()
    mismatched = [f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}" for k, v in expected.items()
                  if k in state and state[k].shape != v.shape]
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if mismatched or missing or unexpected:
        detail = "; ".join(filter(None, [
            f"shape mismatch: {', '.join(mismatched[:3])}" if mismatched else "",
            f"missing: {', '.join(missing[:5])}" if missing else "",
            f"unexpected: {', '.join(unexpected[:5])}" if unexpected else "",
        ]))
        raise StudioError(f"Checkpoint {spec.path}: weights do not match arch {spec.arch!r} with its arch_args ({detail}).")
    state = {k: v.to(expected[k].dtype) for k, v in state.items()}
    model.load_state_dict(state, strict=True)
    model.eval().requires_grad_(False)
    model.spec = spec
    return model.to(device)
