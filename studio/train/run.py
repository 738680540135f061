"""A training run's folder: resumable state, what changed on a resume, the loss log and plot, the save cadence and snapshots."""

from __future__ import annotations

import json
import platform
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from PIL import Image

from .. import settings
from ..checkpoints import check_name
from ..errors import StudioError
from ..knobs import flag, knobs
from .distributed import Placement, seed_rank
from .plot import plot_losses
from .recipes import TrainConfig, added_later, bookkeeping
from .state import load_state, save_state, saved_info, state_exists


def open_board(folder: Path) -> Any:
    """A TensorBoard event writer in `folder`; a clear error if the optional package is missing."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise StudioError("--tensorboard needs the tensorboard package: pip install -e \".[tensorboard]\" "
                          "(the CSV log and PNG plots need nothing).") from None
    return SummaryWriter(log_dir=str(folder / "tensorboard"))


def machine() -> str:
    return f"{platform.machine()} {platform.processor() or ''}".strip()


def _logged_images(row: str) -> float:
    """Images seen at a loss-log row; infinity for a row cut short (the run was killed mid-write)."""
    try:
        return json.loads(row).get("images", 0)
    except ValueError:
        return float("inf")


@dataclass
class Nets:
    """What a run saves and restores: the networks, their optimisers, the parts a resumed run
    may add or drop (see state.load_state), and the log's columns to plot."""

    modules: dict[str, torch.nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    optional: tuple[str, ...] = ()
    plot_keys: tuple[str, ...] = ()


class Run:
    """A training run's folder: resumable state, loss log and plot, periodic saves."""

    def __init__(self, cfg: TrainConfig, nets: Nets, resume: bool, placement: Placement,
                 classes: list[str] | None = None, saved_classes: list[str] | None = None):
        """`classes`: a conditional run's classes, saved with its state; a run may go on with
        fewer (say two merged into one), each keeping its rows of the class-indexed weights,
        or split a class it had merged apart again (both parts start from its rows).
        `saved_classes`: the classes of states saved before runs recorded theirs.
        `cfg.branch_from`: another run (a name under the runs folder, or its folder) whose saved
        state this new run goes on from, as if resumed, leaving that run as it was."""
        check_name(cfg.name)
        runs = settings.data_root() / "runs"
        self.path = Path(cfg.run_dir) if cfg.run_dir else runs / cfg.name
        self.state = self.path / "state"
        source = self._branch_source(cfg.branch_from, runs, resume) if cfg.branch_from else None
        self.path.mkdir(parents=True, exist_ok=True)
        self.nets, self.save_every_s = nets, cfg.save_every_s
        self.placement = placement
        self.added_later, self.bookkeeping = added_later(cfg), bookkeeping(cfg)
        self.flags = {name: flag(name, k) for name, k in knobs(cfg)}  # for messages
        config = asdict(cfg)
        self.info: dict[str, Any] = {"images_seen": 0, "step": 0, "seconds": 0.0, "config": config}
        self.resumed = resume or source is not None  # weights and RNG come from a saved state
        if self.resumed:
            self._resume(source, config, classes, saved_classes)
        elif state_exists(self.state):
            raise StudioError(f"{self.path} already holds a run; pass --resume to continue it or choose another --name.")
        if classes is not None:
            self.info["classes"] = list(classes)
        self.info["bf16_autocast"] = self.placement.amp
        self.log = (self.path / "losses.jsonl").open("a") if self.placement.main else None
        self.board = open_board(self.path) if cfg.tensorboard and self.placement.main else None
        self._t0 = time.monotonic() - self.info["seconds"]
        self._rate_from = (self.info["images_seen"], time.monotonic())  # images/s since the last log row
        self._last_save = time.monotonic()
        # Milestones already passed (a resumed run) are not taken again.
        self._snapshots = sorted(int(n) for n in cfg.snapshots if int(n) > self.info["images_seen"])

    def _resume(self, source: Path | None, config: dict[str, Any], classes: list[str] | None,
                saved_classes: list[str] | None) -> None:
        """Load the saved state (this run's, or the branch source's) and record what changed."""
        if source is None and not state_exists(self.state):
            raise StudioError(f"--resume: no saved state in {self.path}.")
        saved = source or self.state
        saved_run = saved_info(saved)
        keep = self._kept_classes(saved_run.get("classes", saved_classes), classes,
                                  saved_run["config"].get("merge_classes"))
        try:
            self.info = load_state(saved, self.nets.modules, self.nets.optimizers, self.nets.optional,
                                   keep_classes=keep)
        except RuntimeError:  # torch's key or shape mismatch: the networks were built with other settings
            changed = self._changes(saved_run["config"], config)
            told = ", ".join(f"{self.flags.get(k, k)} {a}" + ("" if b is None else f" (not {b})")
                             for k, (a, b) in changed.items())
            raise StudioError(f"The run saved in {saved.parent} has networks of another shape than these "
                              f"settings build; resume with the flags it was started with"
                              f"{': ' + told if told else ''}.") from None
        if source is not None:
            self.info["branched_from"] = {"run": source.parent.name, "images_seen": self.info["images_seen"]}
            self._copy_log(source.parent / "losses.jsonl")
            print(f"branched from {source.parent}")
        # The saved RNG is rank 0's: give each rank its own stream.
        seed_rank(config.get("seed", 0), self.placement, self.info["step"])
        print(f"resumed at step {self.info['step']}, {self.info['images_seen']} images seen")
        self._record_changes(config)
        self._drop_log_after(self.info["images_seen"])

    @staticmethod
    def _kept_classes(saved: list[str] | None, classes: list[str] | None,
                      saved_merge: dict[str, str] | None = None) -> list[int] | None:
        """For each class of this run, its index among the saved state's; None when they are the same.

        A class the saved run had merged into another (`saved_merge`) and this run keeps apart
        starts from the rows of the class it was part of: the split begins where the merged
        class stood, and the class loss then pulls the two apart."""
        if classes is None or saved is None or list(saved) == list(classes):
            return None
        source = {c: c if c in saved else (saved_merge or {}).get(c) for c in classes}  # class -> saved class
        new = [c for c in classes if source[c] not in saved]
        if new:
            raise StudioError(f"The saved run has no class {', '.join(new)} (it has {', '.join(saved)}): a run can go "
                              "on with fewer classes, merged or left out, or split a merged class apart again, "
                              "but not with new ones.")
        return [saved.index(source[c]) for c in classes]

    def _branch_source(self, branch_from: str, runs: Path, resume: bool) -> Path:
        """The saved state a branch starts from; refuses what would mix two runs."""
        if resume:
            raise StudioError("--branch-from starts a new run from another run's state; leave out --resume.")
        for folder in (Path(branch_from), runs / branch_from):
            if state_exists(folder / "state"):
                break
        else:
            raise StudioError(f"--branch-from {branch_from}: no saved run state in that folder nor in {runs}.")
        if state_exists(self.state):
            raise StudioError(f"{self.path} already holds a run; choose another --name for the branch.")
        return folder / "state"

    def _copy_log(self, log: Path) -> None:
        """The branch's loss log and plot start with its source's history."""
        if self.placement.main and log.exists():
            shutil.copyfile(log, self.path / "losses.jsonl")

    def _drop_log_after(self, images_seen: int) -> None:
        """A run killed after its last save logged steps that it now takes again: forget those rows."""
        log = self.path / "losses.jsonl"
        if not self.placement.main or not log.exists():
            return
        rows = log.read_text().splitlines(keepends=True)
        kept = [row for row in rows if _logged_images(row) <= images_seen]
        if len(kept) < len(rows):
            log.write_text("".join(kept))

    def _changes(self, saved: dict[str, Any], config: dict[str, Any]) -> dict[str, list[Any]]:
        """Knob -> [saved value, this run's] for the learned settings that differ."""
        before = {**self.added_later, **saved}
        # (A None before is a recipe default that older states did not resolve: unknown, not a change.)
        return {k: [before.get(k), v] for k, v in config.items()
                if k not in self.bookkeeping and before.get(k) is not None and before.get(k) != v}

    def _record_changes(self, config: dict[str, Any]) -> None:
        """A run resumed with other settings (say a higher class loss) keeps the list of what
        changed at which image count, for studio.json."""
        before = {**self.added_later, **self.info["config"]}
        changed = self._changes(self.info["config"], config)
        # The precision is not a setting but follows the machine (bfloat16 where it is fast, see
        # distributed.setup): a run moved between machines records the switch like a setting.
        was = self.info.get("bf16_autocast")  # None: a state saved before runs recorded it
        if was is not None and was != self.placement.amp:
            changed["bf16_autocast"] = [was, self.placement.amp]
        if changed:
            self.info.setdefault("changes", []).append({"images_seen": self.info["images_seen"], **changed})
            print("resumed with changes: " + ", ".join(f"{k} {a} -> {b}" for k, (a, b) in changed.items()))
        self.info["config"] = {**before, **config}  # what the run goes on with

    def step(self, batch: int, losses: dict[str, float]) -> None:
        """Count one optimisation step (`batch` per process); log losses every 20 steps."""
        self.info["step"] += 1
        self.info["images_seen"] += batch * self.placement.world
        self.info["seconds"] = time.monotonic() - self._t0
        if self.log is not None and self.info["step"] % 20 == 0:
            images, since = self._rate_from
            self._rate_from = (self.info["images_seen"], time.monotonic())
            rate = (self.info["images_seen"] - images) / max(time.monotonic() - since, 1e-9)
            self.record({**losses, "images_per_s": rate})

    def record(self, figures: dict[str, float], note: str | None = None) -> None:
        """Write figures (and a note) at the current step: the loss log, and TensorBoard if on."""
        if self.log is None:
            return
        row = {"step": self.info["step"], "images": self.info["images_seen"],
               "seconds": round(self.info["seconds"], 2), **{k: round(v, 4) for k, v in figures.items()}}
        self.log.write(json.dumps({**row, **({"note": note} if note else {})}) + "\n")
        if self.board is not None:
            for key, value in figures.items():
                self.board.add_scalar(key, value, self.info["images_seen"])
            if note:
                self.board.add_text("notes", note, self.info["images_seen"])

    def image(self, tag: str, picture: Image.Image) -> None:
        """A picture (a sample grid) at the current image count, for TensorBoard."""
        if self.board is not None:
            self.board.add_image(tag, np.asarray(picture.convert("RGB")), self.info["images_seen"], dataformats="HWC")

    def maybe_save(self, done: bool, write_checkpoint: Callable[[], Any]) -> bool:
        """Save state and checkpoint when done or every `save_every_s`; True if it saved.

        When the images seen pass one of the config's `snapshots`, the checkpoint is also
        copied to `<run>/snapshots/<images>/<name>`, a registry root of its own, so that
        recipes can be compared at equal images seen (`studio --checkpoints ... eval`)."""
        if not self.placement.main:
            return False
        due = [n for n in self._snapshots if n <= self.info["images_seen"]]
        if not (done or due or time.monotonic() - self._last_save >= self.save_every_s):
            return False
        self.log.flush()
        save_state(self.state, self.nets.modules, self.nets.optimizers, self.info)
        path = Path(write_checkpoint())
        if due:  # one write serves both the save and the snapshot
            self._snapshots = [n for n in self._snapshots if n > self.info["images_seen"]]
            target = self.path / "snapshots" / str(due[-1]) / path.name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(path, target)
        self.log.flush()  # with what the checkpoint's preview measured
        plot_losses(self.path / "losses.jsonl", self.path / "losses.png", list(self.nets.plot_keys))
        plot_losses(self.path / "losses.jsonl", self.path / "diversity.png", ["diversity", "diversity_real"], smooth=1)
        self._last_save = time.monotonic()
        return True

    def training_record(self) -> dict[str, Any]:
        """What studio.json records about the training itself."""
        return {"images_seen": self.info["images_seen"], "steps": self.info["step"],
                **({"init_from": self.info["init_from"]} if self.info.get("init_from") else {}),
                **({"branched_from": self.info["branched_from"]} if self.info.get("branched_from") else {}),
                **({"changes": self.info["changes"]} if self.info.get("changes") else {}),
                "seconds": round(self.info["seconds"], 1), "machine": machine(),
                "torch_threads": torch.get_num_threads(), "device": str(self.placement.device),
                "processes": self.placement.world, "bf16_autocast": self.placement.amp}

    def close(self) -> None:
        if self.log is not None:
            self.log.close()
        if self.board is not None:
            self.board.close()
