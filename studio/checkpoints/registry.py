"""The model registry: every checkpoint's description read up front, models built on first use.

It keeps a bounded number of built models (least recently used evicted) on the
device `pick_device` chooses. `default_registry()` is the one over the default
checkpoint folder that the Python API and the CLI share.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

from .. import settings
from ..device import pick_device
from ..errors import StudioError
from ..tasks import TASKS
from .format import NAME_PATTERN, SPEC_FILE, WEIGHTS_FILE, Spec, check_name, load_model, read_spec


class Registry:
    """All checkpoints under `root`, read up front; models built on first `get`.

    Thread-safe: Gradio runs handlers in threads. At most `max_loaded` models stay
    built; the least recently used one is dropped past that.
    """

    def __init__(self, root: str | Path | None = None, device: str | torch.device | None = None, max_loaded: int = 4):
        self.root = Path(root) if root is not None else settings.checkpoints_root()
        self.device = pick_device(str(device) if device is not None else None)
        self.max_loaded = max(1, int(max_loaded))
        self._specs: dict[str, Spec] = {}
        self.problems: dict[str, str] = {}  # folder name -> why it could not be read
        self._loaded: OrderedDict[str, nn.Module] = OrderedDict()
        self._lock = threading.RLock()
        self.refresh()

    def refresh(self) -> None:
        """Re-read every `studio.json` under the root (new, changed or removed checkpoints)."""
        specs, problems = {}, {}
        if self.root.is_dir():
            for folder in sorted(self.root.iterdir()):
                if not folder.is_dir() or folder.name.startswith(".") or not NAME_PATTERN.fullmatch(folder.name):
                    continue
                if not (folder / SPEC_FILE).exists() and not (folder / WEIGHTS_FILE).exists():
                    continue  # not a model folder (e.g. the VGG features live elsewhere)
                try:
                    specs[folder.name] = read_spec(folder)
                except StudioError as exc:
                    problems[folder.name] = str(exc)
        with self._lock:
            self._specs, self.problems = specs, problems
            for name in [n for n in self._loaded if n not in specs]:
                del self._loaded[name]

    def list(self, task: str | None = None) -> list[Spec]:
        """Specs of the readable checkpoints, optionally of one task: those whose studio.json
        says `"featured": true` first (a tab opens on the first), then by name."""
        if task is not None and task not in TASKS:
            raise StudioError(f"Unknown task {task!r}; tasks are {', '.join(TASKS)}.")
        specs = [s for s in self._specs.values() if task is None or s.task == task]
        return sorted(specs, key=lambda s: (s.raw.get("featured") is not True, s.name))

    def names(self, task: str | None = None) -> list[str]:
        return [s.name for s in self.list(task)]

    def spec(self, name: str) -> Spec:
        """The description of checkpoint `name`; unknown names list the available ones."""
        check_name(name)
        if name in self._specs:
            return self._specs[name]
        if name in self.problems:
            raise StudioError(self.problems[name])
        available = ", ".join(self._specs) or "none"
        raise StudioError(f"No checkpoint named {name!r} in {self.root}. Available: {available}.")

    def get(self, name: str) -> nn.Module:
        """The built model `name` on the registry's device (built and cached on first use)."""
        spec = self.spec(name)
        with self._lock:
            if name in self._loaded:
                self._loaded.move_to_end(name)
                return self._loaded[name]
            model = load_model(spec, self.device)
            self._loaded[name] = model
            while len(self._loaded) > self.max_loaded:
                self._loaded.popitem(last=False)
            return model

    def loaded(self) -> list[str]:
        """Names of the models built now, least recently used first."""
        with self._lock:
            return list(self._loaded)

    def unload(self, name: str | None = None) -> None:
        """Drop one built model, or all of them, and free their memory."""
        with self._lock:
            if name is None:
                self._loaded.clear()
            else:
                self._loaded.pop(name, None)
        if self.device.type == "cuda":
            torch.cuda.empty_cache()


_default: Registry | None = None
_default_lock = threading.Lock()


def default_registry() -> Registry:
    """The registry over the default checkpoint folder, created on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Registry()
        return _default


def resolve(model: nn.Module | str) -> nn.Module:
    """A model, or a checkpoint name looked up in the default registry."""
    return default_registry().get(model) if isinstance(model, str) else model
