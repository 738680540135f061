"""The skeleton every trainer shares: seeding, the run folder, resuming, progress, EMA,
periodic saves and snapshots, teardown.

A trainer (gan.py, pix2pix.py) is a `Trainer`: it reads its data, builds its networks
and optimisers in `build`, takes one optimisation step in `optimize_parameters` and
describes its checkpoint; `train` drives it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch import nn
from tqdm import tqdm

from ..checkpoints import load_model, read_spec, save_checkpoint
from ..errors import StudioError
from ..tasks import TRAINERS
from .distributed import Placement, seed_rank, setup, teardown, wrap
from .monitor import DiversityMonitor
from .recipes import TrainConfig
from .run import Nets, Run

LOG_EVERY = 20  # steps between progress-bar updates (the loss log's cadence is Run's)
Preview = tuple[Image.Image | None, dict[str, float]]  # a progress picture and figures measured on it


class Trainer:
    """One trainer's data, networks and step. Subclasses set `kind` (a key of tasks.TRAINERS),
    `plot_keys`, and implement the methods that raise NotImplementedError."""

    kind = ""
    plot_keys: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()  # state parts a resumed run may add or drop (see state.load_state)

    def __init__(self, cfg: TrainConfig) -> None:
        self.cfg = cfg
        meta = Path(cfg.data) / "dataset.json"
        self.dataset: dict[str, Any] = json.loads(meta.read_text()) if meta.exists() else {}
        self.classes: list[str] | None = None  # a conditional run's classes, saved with its state
        self.last_sample = 0  # images seen at the last progress picture
        self.total_images = 0  # the run's planned length, where learning-rate schedules end
        self.g: nn.Module
        self.d: nn.Module
        self.g_ema: nn.Module
        self.optimizers: dict[str, torch.optim.Optimizer] = {}

    @property
    def size(self) -> int:
        """Training examples: one epoch."""
        raise NotImplementedError

    @property
    def ema_kimg(self) -> float:
        return float(getattr(self.cfg, "ema_kimg", 0.0) or 0.0)

    def build(self, place: Placement) -> None:
        """Build `g`, `d`, `g_ema` on `place.device` and `optimizers`."""
        raise NotImplementedError

    def wrap(self, place: Placement) -> None:
        """The modules the steps call: DDP across processes, the modules themselves otherwise."""
        self.g_train, self.d_train = wrap(self.g, place), wrap(self.d, place)

    def unwrap(self) -> None:
        """Drop the DDP wrappers, so that teardown can collect them."""
        self.g_train, self.d_train = self.g, self.d

    def started(self, info: dict[str, Any]) -> None:
        """Called once the run's state is in place (new, resumed or branched), before the first step."""
        self.last_sample = info["images_seen"]

    def optimize_parameters(self, step: int, images_seen: int) -> tuple[dict[str, float], bool]:
        """Optimisation step `step` (0-based): D, and G when due; returns the log row and whether G was updated."""
        raise NotImplementedError

    def shipped(self) -> nn.Module:
        """A copy of the generator to publish (the EMA one where there is one), in eval mode."""
        return copy.deepcopy(self.g_ema if self.ema_kimg > 0 else self.g).eval()

    def preview(self, g: nn.Module, folder: Path, images_seen: int) -> Preview:
        """Save a picture of what `g` makes now, beside each saved checkpoint; returns it and any
        figures measured on it."""
        return None, {}

    def every_sample(self, folder: Path, images_seen: int) -> Preview | None:
        """Between saves: a progress picture, when one is due."""
        return None

    def description(self) -> dict[str, Any]:
        """The trainer's own parts of studio.json (the loop adds task, data, recipe, training)."""
        return {}

    def recipe_extra(self) -> dict[str, Any]:
        """What the checkpoint's recipe block records besides the knobs (losses, D's arch_args)."""
        return {}

    def data_record(self, counts: dict[str, int], list_key: str) -> dict[str, Any]:
        """The description's `data` block: where the pictures came from and the held-out split."""
        dataset = self.dataset
        return {"path": str(self.cfg.data), **counts,
                **{k: dataset[k] for k in ("name", "sources", "excluded", "total") if k in dataset},
                "heldout": {k: v for k, v in dataset.get("heldout", {}).items() if k != list_key}}


def write_checkpoint(trainer: Trainer, run: Run) -> Path:
    """Publish the trainer's generator with its description as checkpoint `cfg.name`."""
    cfg = trainer.cfg
    shipped = trainer.shipped()
    show(run, *trainer.preview(shipped, run.path, run.info["images_seen"]))
    description = {"task": TRAINERS[trainer.kind].name, "image_size": cfg.image_size,
                   "licence": trainer.dataset.get("licence", "as the training data"), **trainer.description()}
    learned = {k: v for k, v in cfg.learned().items() if k != "recipe"}
    description["recipe"] = {"name": cfg.recipe, **learned, **trainer.recipe_extra()}
    description["training"] = run.training_record()
    return save_checkpoint(shipped, cfg.name, description, root=cfg.checkpoints, half=cfg.half)


def show(run: Run, picture: Image.Image | None, figures: dict[str, float]) -> None:
    """Hand a preview to the run's logs; say so when its figures warn of mode collapse."""
    if picture is not None:
        run.image("samples", picture)
    if figures:
        note = DiversityMonitor.warning(figures, run.info["step"])
        run.record(figures, note)
        if note:
            tqdm.write(f"warning: {note}")


@torch.no_grad()
def ema_update(ema: nn.Module, model: nn.Module, beta: float) -> None:
    for p_ema, p in zip(ema.parameters(), model.parameters()):
        p_ema.lerp_(p, 1.0 - beta)


def ema_beta(images_seen: int, batch: int, ema_kimg: float) -> float:
    """Decay for a half-life of `ema_kimg` thousand images, ramped up over the first
    images (StyleGAN2's ramp-up 0.05) so that early EMA weights are not the initial noise."""
    ema_nimg = min(ema_kimg * 1000, images_seen * 0.05)
    return 0.5 ** (batch / max(ema_nimg, 1e-8))


def init_generator(folder: str | Path, g: nn.Module, g_ema: nn.Module, info: dict[str, Any]) -> None:
    """Start G and its EMA from a checkpoint's weights (D starts afresh): fine-tuning a
    shipped model on other pictures. The images-seen count goes on from the checkpoint's,
    so the EMA keeps its half-life; the start is recorded in `info["init_from"]`, which a
    resume keeps."""
    spec = read_spec(Path(folder))
    state = load_model(spec).state_dict()  # the registry's strict, checked load; fp16 on disk -> fp32
    if spec.arch != getattr(g, "arch_name", None) or spec.arch_args != g.arch_args:
        # A generator may start from another shape of its arch (e.g. a sketch model gaining hints).
        adapt = getattr(g, "adapt_state", None) if spec.arch == getattr(g, "arch_name", None) else None
        try:
            state = adapt(state, spec.arch_args) if adapt else None
        except ValueError:
            state = None
        if state is None:
            raise StudioError(f"--init-from {folder}: it is {spec.arch} {spec.arch_args}, this run builds "
                              f"{getattr(g, 'arch_name', '?')} {g.arch_args}; give matching --width/--z-dim/classes.")
    g.load_state_dict(state, strict=True)
    g_ema.load_state_dict(state, strict=True)
    seen = int(spec.raw.get("training", {}).get("images_seen", 0))
    info["images_seen"] = seen
    info["init_from"] = {"checkpoint": spec.name, "images_seen": seen}
    print(f"generator initialised from {spec.path} ({seen} images seen); discriminator afresh")


def open_run(trainer: Trainer, place: Placement, resume: bool) -> Run:
    """The run folder, new or resumed, with the generator started from `init_from` if asked."""
    cfg = trainer.cfg
    nets = Nets({"g": trainer.g, "d": trainer.d, "g_ema": trainer.g_ema}, trainer.optimizers, trainer.optional,
                trainer.plot_keys)
    run = Run(cfg, nets, resume, place, trainer.classes, trainer.dataset.get("classes"))
    if cfg.init_from and not run.resumed:
        init_generator(cfg.init_from, trainer.g, trainer.g_ema, run.info)
    if not run.resumed:  # (a resumed run reseeds each rank in Run)
        seed_rank(cfg.seed, place)
    return run


def train(trainer: Trainer, resume: bool = False, max_images: int | None = None) -> Path:
    """Train (or continue training) and write the checkpoint; returns its folder."""
    cfg = trainer.cfg
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    # Initial weights, batches, latents and augmentations all draw from the global torch RNG,
    # which the state saves: an interrupted and resumed run takes exactly the same steps.
    # (Under torchrun, DDP copies rank 0's initial weights to every rank.)
    torch.manual_seed(cfg.seed)
    place = setup(amp=cfg.amp)
    trainer.build(place)
    run = open_run(trainer, place, resume)
    trainer.wrap(place)
    info = run.info
    # Schedules plan for the whole run (--epochs); --max-images may stop it earlier, as an interruption would.
    trainer.total_images = int(cfg.epochs * trainer.size)
    total = max_images or trainer.total_images
    trainer.started(info)
    trainer.g.train(), trainer.d.train()
    bar = tqdm(total=total, initial=info["images_seen"], unit="img", desc=cfg.name, smoothing=0.05,
               disable=not place.main)
    while info["images_seen"] < total:
        row, g_stepped = trainer.optimize_parameters(info["step"], info["images_seen"])
        run.step(cfg.batch, row)
        if trainer.ema_kimg > 0 and g_stepped:
            ema_update(trainer.g_ema, trainer.g, ema_beta(info["images_seen"], cfg.batch, trainer.ema_kimg))
        bar.update(cfg.batch)
        if info["step"] % LOG_EVERY == 0:
            bar.set_postfix({k: round(v, 3) for k, v in row.items() if k in trainer.plot_keys[:2]})
        saved = run.maybe_save(info["images_seen"] >= total, lambda: write_checkpoint(trainer, run))
        if place.main and not saved and g_stepped:
            show(run, *(trainer.every_sample(run.path, info["images_seen"]) or (None, {})))
    bar.close()
    run.close()
    trainer.unwrap()
    teardown()
    return Path(cfg.checkpoints) / cfg.name
