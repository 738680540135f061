"""Every training setting, declared once: a dataclass field per knob, with its default (or
one per recipe), its help text, its range and the value runs saved before it existed had.

The `studio train` flags, the checks, the run state's record of what changed on a resume
and the checkpoint's `recipe` block are all made from these declarations, so a new knob
is one line here (and the code that uses it).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from typing import Any

from .. import validate
from ..errors import StudioError
from ..knobs import UNSET, check_knobs, int_list, knob, knobs
from .augment import check_policy, parse_augment
from .losses import LOSSES
from .schedules import SCHEDULES

RECIPES = ("studio", "reference")


def _pairs(text: str, form: str) -> dict[str, str]:
    pairs = [part.split("=") for part in text.split(",") if part.strip()]
    if not pairs or any(len(pair) != 2 or not all(side.strip() for side in pair) for pair in pairs):
        raise argparse.ArgumentTypeError(f"expected {form} pairs separated by commas, got {text!r}")
    return {left.strip(): right.strip() for left, right in pairs}


def class_merges(text: str) -> dict[str, str]:
    """'fruit & veg=food & drink,b=a' -> {'fruit & veg': 'food & drink', 'b': 'a'}."""
    return _pairs(text, "FROM=TO class")


def class_factors(text: str) -> dict[str, float]:
    """'fruit & veg=4,weather=0.5' -> {'fruit & veg': 4.0, 'weather': 0.5}."""
    try:
        return {name: float(factor) for name, factor in _pairs(text, "CLASS=FACTOR").items()}
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected CLASS=FACTOR pairs with numbers for factors, got {text!r}") from None


@dataclass
class TrainConfig:
    """What every trainer takes. Subclasses add their own knobs; `check` adds cross-field rules."""

    data: str = knob(help="training pictures: a folder (see `studio data`)")
    name: str = knob(help="the checkpoint's and the run's name", learns=False)
    recipe: str = knob("studio", "a set of defaults: studio, or the reference paper's", choices=RECIPES)
    epochs: float = knob(100.0, "passes over the training pictures", lo=0, what="Epochs", learns=False)
    seed: int = knob(0, "seed of the initial weights, batches and augmentation", lo=0, hi=validate.MAX_SEED,
                     what="Seed")
    threads: int | None = knob(None, "torch CPU threads", lo=1, hi=1024, what="Threads", learns=False, metavar="N")
    checkpoints: str = knob("checkpoints", "where the checkpoint is written", flag="", learns=False)
    run_dir: str | None = knob(None, "where state, logs and sample grids go (default: <data cache>/runs/NAME)",
                               learns=False)
    save_every_s: float = knob(600.0, "seconds between saves", flag="save-every", lo=0, what="Save interval", metavar="SECONDS",
                               learns=False)
    snapshots: tuple[int, ...] = knob((), "images seen at which to keep a copy of the checkpoint, e.g. 50000,100000",
                                      parse=int_list, learns=False, metavar="IMAGES,...")
    init_from: str | None = knob(None, "start the generator from this checkpoint (a name under --checkpoints, or "
                                 "a folder): fine-tune a shipped model on your pictures", metavar="CHECKPOINT",
                                 learns=False)
    branch_from: str | None = knob(None, "a new run (--name) that goes on from another run's last save (a run name "
                                   "or folder), e.g. to try other settings from the same point; that run is left "
                                   "as it was", metavar="RUN", learns=False)
    half: bool = knob(True, "store the shipped generator in float16", flag="", learns=False)
    tensorboard: bool = knob(False, "also write TensorBoard events (losses, learning rates, images/s, diversity, "
                             "sample grids) to <run>/tensorboard (needs the tensorboard extra)", learns=False)
    amp: bool = knob(True, "train in float32 everywhere (default: bfloat16 autocast on a GPU and on CPUs with "
                     "AMX, where it is fast)", flag="fp32")

    def __post_init__(self) -> None:
        check_knobs(self, self.recipe)
        self.snapshots = tuple(int(n) for n in self.snapshots)
        self.check()

    def check(self) -> None:
        """Rules that involve several knobs."""

    def learned(self) -> dict[str, Any]:
        """The knobs that shape what is learned: the checkpoint's recipe block."""
        return {name: getattr(self, name) for name, k in knobs(self) if k.learns and name != "data"}


def added_later(config: type | object) -> dict[str, Any]:
    """Knob -> the value runs saved before it existed trained with."""
    return {name: k.old for name, k in knobs(config) if k.old is not UNSET}


def bookkeeping(config: type | object) -> set[str]:
    """Knobs that say how a run is driven: never recorded as changes on a resume."""
    return {name for name, k in knobs(config) if not k.learns}


@dataclass
class GanConfig(TrainConfig):
    """The 64x64 GANs (`dcgan`, and `cgan` with `conditional`). Recipes: `studio` (spectral-norm D,
    DiffAugment, EMA, auxiliary class loss) and `reference` (pytorch/examples' DCGAN)."""

    conditional: bool = knob(False, "learn one generator per class (cgan, cstylegan)", flag="")
    batch: int = knob(64, "pictures per step (per process)", lo=1, hi=65536, what="Batch")
    image_size: int = knob(64, "picture side in pixels", lo=8, hi=1024, what="Image size")
    width: int | None = knob(None, "channel width of G and D", per_recipe={"studio": 32, "reference": 64},
                             lo=1, hi=4096, what="Width")
    z_dim: int | None = knob(None, "latent size", per_recipe={"studio": 128, "reference": 100}, lo=1, hi=4096,
                             what="Latent size")
    d_norm: str | None = knob(None, "normalisation of D: sn (spectral), bn (batch) or none",
                              per_recipe={"studio": "sn", "reference": "bn"}, choices=("sn", "bn", "none"))
    augment: str | None = knob(None, "DiffAugment policy on real and fake, e.g. color,translation,cutout; '' for "
                               "none", per_recipe={"studio": "color,translation,cutout", "reference": ""})
    mirror: bool | None = knob(None, "x-flip real pictures at random", flag="",
                               per_recipe={"studio": True, "reference": False})
    ema_kimg: float | None = knob(None, "half-life of the generator's moving average in thousands of images "
                                  "(0 ships the raw generator); a resumed run may lengthen it",
                                  per_recipe={"studio": 10.0, "reference": 0.0}, lo=0, what="The EMA half-life",
                                  metavar="KIMG")
    lr: float = knob(2e-4, "Adam learning rate of both networks, before the schedule; a resumed run goes on with "
                     "the new one")
    beta1: float = knob(0.5, "Adam beta1 of both networks", lo=0, hi=0.999, what="beta1")
    beta2: float = knob(0.999, "Adam beta2 of both networks", lo=0, hi=0.9999, what="beta2", old=0.999)
    loss: str = knob("ns", "ns (non-saturating logistic), hinge, or wgan-gp (Wasserstein with gradient penalty; "
                     "its critic has no batch norm)", choices=LOSSES, old="ns")
    g_init: str | None = knob(None, "initial weights of G: dcgan (N(0, 0.02), the DCGAN paper) or torch (PyTorch's "
                              "defaults: the first pictures differ more, and a WGAN-GP critic pushes nearly equal "
                              "pictures all one way) (default: torch for wgan-gp, else dcgan)",
                              choices=("dcgan", "torch"), old="dcgan")
    gp_weight: float = knob(10.0, "wgan-gp: weight of the gradient penalty", lo=0, what="The gradient penalty weight",
                            old=10.0, metavar="WEIGHT")
    n_critic: int | None = knob(None, "discriminator steps per generator step (default: 5 for wgan-gp, else 1)",
                                lo=1, hi=100, what="--n-critic", old=1, metavar="N")
    r1: float = knob(0.0, "R1 penalty weight gamma on real pictures, applied lazily every 16 discriminator steps; "
                     "0 for none", lo=0, what="The R1 weight", old=0.0, metavar="GAMMA")
    lr_schedule: str = knob("constant", "learning-rate schedule over the run's images: constant, linear or cosine "
                            "(down to 0 at the end), or step", choices=SCHEDULES, old="constant")
    lr_warmup: int = knob(0, "images over which the learning rate ramps up from 0", lo=0, hi=10**12,
                          what="--lr-warmup", old=0, metavar="IMAGES")
    lr_step: int = knob(0, "step schedule: images between decays", lo=0, hi=10**12, what="--lr-step", old=0,
                        metavar="IMAGES")
    lr_gamma: float = knob(0.1, "step schedule: factor of each decay", lo=0, hi=1, what="--lr-gamma", old=0.1,
                           metavar="G")
    class_loss: float | None = knob(None, "cgan: weight of the auxiliary class loss (D names real pictures' "
                                    "class, G is rewarded when it reads its own); 0 for none",
                                    per_recipe={"studio": 1.0, "reference": 0.0}, lo=0, what="The class loss",
                                    metavar="WEIGHT")
    twin_loss: float = knob(0.0, "cgan: weight of a twin classifier's loss (TAC-GAN: a second head names the "
                            "class of generated pictures, G is rewarded when it cannot); a resumed run may add it",
                            lo=0, what="The twin loss", old=0.0, metavar="WEIGHT")
    class_balance: float = knob(0.0, "cgan: how much to even out the classes in the batches, 0 (the data's own "
                                "mix) to 1 (every class equally often): class c is drawn in proportion to "
                                "count_c^(1-ALPHA), and the folders of a merged class likewise inside it",
                                lo=0, hi=1, what="The class balance", old=0.0, metavar="ALPHA")
    mode_seeking: float = knob(0.0, "weight of MSGAN's mode-seeking term (G is rewarded when two latents of the "
                               "same class give different pictures); a resumed run may add it", lo=0,
                               what="The mode-seeking weight", old=0.0, metavar="WEIGHT")
    top_k: float = knob(1.0, "share of each batch's generated pictures whose adversarial loss trains G: those D "
                        "rates most real (top-k training); 1 for all; a resumed run may change it", lo=0.01, hi=1,
                        what="The top-k share", old=1.0, metavar="SHARE")
    merge_classes: dict[str, str] = knob({}, "cgan: count a class folder's pictures as another class, e.g. "
                                         "'fruit & veg=food & drink'", parse=class_merges, old={},
                                         metavar="FROM=TO,...")
    class_weights: dict[str, float] = knob({}, "cgan: multiply a class's share of the batches, on top of "
                                           "--class-balance, e.g. 'fruit & veg=4'", parse=class_factors, old={},
                                           metavar="CLASS=FACTOR,...")
    d_warmup: int = knob(0, "with --init-from: images for which the fresh discriminator trains alone before the "
                         "loaded generator starts to learn", lo=0, hi=10**12, what="--d-warmup", learns=False,
                         metavar="IMAGES")
    monitor: bool = knob(True, "measure the diversity of every sample grid, to warn of mode collapse",
                         flag="no-monitor", learns=False)
    sample_every_img: int = knob(20000, "images between sample grids of the raw generator", lo=1, hi=10**12,
                                 what="The sample interval", learns=False, metavar="IMAGES")
    extra: dict = knob({}, "recorded in studio.json as given (licence, metrics)", flag="", learns=False)

    def check(self) -> None:
        check_policy(self.augment)
        if not self.lr > 0 or not math.isfinite(self.lr):
            raise StudioError(f"The learning rate must be above 0, not {self.lr}.")
        if self.n_critic is None:
            self.n_critic = 5 if self.loss == "wgan-gp" else 1
        if self.g_init is None:
            self.g_init = "torch" if self.loss == "wgan-gp" else "dcgan"
        if self.loss == "wgan-gp" and self.d_norm == "bn":
            raise StudioError("A WGAN-GP critic has no batch norm (the penalty is per picture): use --d-norm sn or none.")
        if self.lr_schedule == "step" and not self.lr_step:
            raise StudioError("--lr-schedule step needs --lr-step IMAGES (images between decays).")
        if (self.merge_classes or self.class_weights) and not self.conditional:
            raise StudioError("Merging or weighing classes needs a conditional model (cgan or cstylegan).")
        if not self.conditional:  # no classes to learn (and studio.json says so)
            self.class_loss = self.twin_loss = self.class_balance = 0.0
        if self.twin_loss and not self.class_loss:
            raise StudioError(f"The twin loss needs a class loss above 0 (twin {self.twin_loss}, "
                              f"class {self.class_loss}).")
        if self.d_warmup and (self.branch_from or not self.init_from):
            raise StudioError("--d-warmup is a number of images, for a new run started with --init-from (a resumed "
                              "run keeps its own): the fresh discriminator learns alone before the generator "
                              "follows it.")


@dataclass
class Pix2PixConfig(TrainConfig):
    """pix2pix (line art -> colour): U-Net G, 70x70 PatchGAN D, L1 + adversarial loss. Recipes: `studio`
    (instance norm, no dropout, EMA) and `reference` (the paper's batch norm and dropout)."""

    batch: int = knob(16, "pairs per step (per process)", lo=1, hi=65536, what="Batch")
    image_size: int = knob(128, "picture side in pixels", lo=16, hi=1024, what="Image size")
    width: int = knob(32, "channel width of G and D", lo=1, hi=4096, what="Width")
    norm: str | None = knob(None, "normalisation: instance or batch", flag="",
                            per_recipe={"studio": "instance", "reference": "batch"}, choices=("instance", "batch"))
    norm_min_size: int | None = knob(None, "no normalisation on maps smaller than this", flag="",
                                     per_recipe={"studio": 8, "reference": 1})
    dropout: float | None = knob(None, "dropout in the decoder", flag="", per_recipe={"studio": 0.0, "reference": 0.5},
                                 lo=0, hi=0.9, what="Dropout")
    augment: str | None = knob(None, "any of flip,shift,width,drop: paired flips and shifts, stroke width jitter "
                               "and dropped strokes on the sketch; '' for none", per_recipe={"studio": "",
                                                                                             "reference": ""})
    ema_kimg: float | None = knob(None, "half-life of the generator's moving average in thousands of images "
                                  "(0 ships the raw generator)", flag="", per_recipe={"studio": 10.0, "reference": 0.0},
                                  lo=0, what="The EMA half-life")
    l1_weight: float = knob(100.0, "weight of the L1 loss against the target picture", flag="", lo=0, what="L1 weight")
    hints: bool = knob(False, "a colour-hint model: the generator also takes colour hints, simulated from each "
                       "target picture (none for a fifth of the drawings); --init-from a model without hints "
                       "starts from its weights")
    lr: float = knob(2e-4, "Adam learning rate of both networks", flag="")
    beta1: float = knob(0.5, "Adam beta1 of both networks", flag="", lo=0, hi=0.999, what="beta1")

    def check(self) -> None:
        self.augment = ",".join(parse_augment(self.augment))


@dataclass
class StyleGanConfig(GanConfig):
    """The style-based generator (models/stylegan.py) and its residual discriminator, with
    StyleGAN2's optimiser settings, lazy R1 and style-mixing regularisation; the losses,
    schedules and augmentation of GanConfig apply as they do to dcgan, and with `conditional`
    (cstylegan) the class options as they do to cgan, bar the twin classifier."""

    recipe: str = knob("studio", "a set of defaults (one for this trainer)", choices=("studio",))
    width: int | None = knob(32, "channel width at the top resolution (doubling per halving, at most 8x)", lo=1,
                             hi=4096, what="Width")
    d_width: int | None = knob(None, "the discriminator's channel width at the top resolution (default: --width)",
                               lo=1, hi=4096, what="The discriminator width", metavar="WIDTH", old=None)
    w_dim: int = knob(128, "size of w, the style vector", lo=1, hi=4096, what="w size")
    mapping_layers: int = knob(4, "fully connected layers of the mapping network z -> w", lo=1, hi=16,
                               what="Mapping layers")
    noise_from: int = knob(32, "smallest resolution (px) whose layers take per-pixel noise; 4: every layer, as "
                           "in StyleGAN2", lo=4, hi=4096, what="The noise resolution", old=4, metavar="PX")
    mix_prob: float = knob(0.9, "share of training pictures that take a second latent's styles from a random "
                           "layer on (style-mixing regularisation)", lo=0, hi=1, what="The mixing probability")
    lr: float = knob(0.002, "Adam learning rate of both networks, before the schedule")
    beta1: float = knob(0.0, "Adam beta1 of both networks", lo=0, hi=0.999, what="beta1")
    beta2: float = knob(0.99, "Adam beta2 of both networks", lo=0, hi=0.9999, what="beta2")
    r1: float = knob(0.05, "R1 penalty weight gamma on real pictures, applied lazily every 16 discriminator "
                     "steps; 0 for none", lo=0, what="The R1 weight", metavar="GAMMA")
    d_norm: str | None = knob("none", "the residual discriminator has no normalisation", flag="", choices=("none",))
    g_init: str | None = knob("equalised", "the style generator's own initialisation: N(0, 1), scaled at run time",
                              flag="", choices=("equalised",), old="equalised")

    def check(self) -> None:
        super().check()
        if self.twin_loss:
            raise StudioError("The style-based discriminator has no twin classifier: leave --twin-loss at 0.")


CONFIGS = {"dcgan": GanConfig, "cgan": GanConfig, "stylegan": StyleGanConfig, "cstylegan": StyleGanConfig,
           "pix2pix": Pix2PixConfig}  # `studio train KIND` (tasks.TRAINERS)
