"""Train the 64x64 GANs: unconditional DCGAN (`dcgan`) and class-conditional (`cgan`).

The knobs and the two recipes (`studio`, `reference`) are declared in recipes.py
(GanConfig); the loop every trainer shares is loop.py. Here: the data and class draws,
building G and D, and one step: `d_step` (real -> 1, fake -> 0, plus the optional class
and twin heads), `g_step` (non-saturating, plus the optional class, twin and
mode-seeking terms). Each optional term is a small function below.
"""

from __future__ import annotations

import contextlib
import copy
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from ..data.folder import load_folder
from ..errors import StudioError
from ..imaging.convert import from_uint8, grid, to_pil
from ..models import build
from ..models.dcgan import init_torch_default
from .augment import diff_augment
from .distributed import Placement
from .losses import R1_INTERVAL, d_loss, g_loss, gradient_penalty, r1_penalty, top_k
from .loop import Preview, Trainer, train
from .monitor import DiversityMonitor
from .schedules import lr_factor, set_lr
from .recipes import GanConfig, StyleGanConfig

__all__ = ["GanConfig", "GanTrainer", "StyleGanTrainer", "class_draw_weights", "mode_seeking_term", "train_gan", "weigh_classes"]


def mode_seeking_term(fake: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """MSGAN's term, 1 / (mean |G(z1) - G(z2)| / mean |z1 - z2|), over pairs made of the
    batch's two halves (drawn with the same classes): small when the pictures differ."""
    h = fake.shape[0] // 2
    ratio = (fake[:h] - fake[h:2 * h]).abs().mean() / (z[:h] - z[h:2 * h]).abs().mean()
    return 1.0 / (ratio + 1e-5)


def class_draw_weights(labels: torch.Tensor, n_classes: int, balance: float,
                       folders: list[str] | None = None) -> torch.Tensor | None:
    """Per-picture draw weights that give class c a share of batches proportional to count_c ** (1 - balance).

    0 keeps the data's own mix (None: uniform draws), 1 shows every class equally often.
    Fake labels follow the real ones, so a small class also gets more generator updates.
    `folders` (each picture's source folder) evens out a merged class's parts the same
    way inside it: at 1, fruit & veg and food & drink each make half of `food & drink`'s
    draws, so the generator is shown the smaller part as often as the larger.
    """
    if not 0.0 <= balance <= 1.0:
        raise StudioError(f"The class balance must be between 0 and 1, not {balance}.")
    if balance == 0.0:
        return None
    counts = torch.bincount(labels, minlength=n_classes).clamp(min=1).double()  # (C,)
    weights = counts.pow(-balance)[labels]  # (N,)
    if folders is None:
        return weights
    names = sorted(set(folders))
    part = torch.tensor([names.index(f) for f in folders])  # (N,) source folder index
    part_counts = torch.bincount(part, minlength=len(names)).double()  # (F,)
    share = part_counts.pow(1.0 - balance)  # (F,) a part's share inside its class, before normalising
    class_of_part = labels[[folders.index(name) for name in names]]  # (F,) the class each folder counts as
    class_share = torch.zeros(n_classes, dtype=torch.double).index_add_(0, class_of_part, share)  # (C,)
    # A class with one folder gets a factor of exactly 1, so its weights stay as without `folders`.
    return weights * (share[part] / class_share[labels]) * (counts[labels] / part_counts[part])


def weigh_classes(weights: torch.Tensor | None, labels: torch.Tensor, classes: list[str],
                  factors: dict[str, float]) -> torch.Tensor | None:
    """Per-picture draw weights with each named class's share of batches multiplied by its
    factor before normalising: {"fruit & veg": 4} over 11 evenly drawn classes gives it 4/14."""
    if not factors:
        return weights
    unknown = sorted(set(factors) - set(classes))
    if unknown:
        raise StudioError(f"No class {', '.join(map(repr, unknown))} to weigh; the classes are {', '.join(classes)}.")
    bad = {name: w for name, w in factors.items() if not 0.0 < w < float("inf")}
    if bad:
        raise StudioError(f"A class weight must be above 0 and finite, not {bad}.")
    per_class = torch.tensor([float(factors.get(name, 1.0)) for name in classes], dtype=torch.double)  # (C,)
    base = torch.ones(len(labels), dtype=torch.double) if weights is None else weights
    return base * per_class[labels]


@torch.no_grad()
def recalibrate_batchnorm(g: torch.nn.Module, n_classes: int, z_dim: int, batches: int = 16, batch: int = 64) -> None:
    """Recompute BatchNorm running statistics for these weights (the EMA copy never ran in train mode)."""
    bns = [m for m in g.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches below
    g.train()
    gen = torch.Generator().manual_seed(1234)
    device = next(g.parameters()).device
    for _ in range(batches):
        z = torch.randn(batch, z_dim, generator=gen).to(device)
        y = F.one_hot(torch.randint(0, n_classes, (batch,), generator=gen), n_classes).float().to(device) if n_classes else None
        g(z, y)
    for m, momentum in zip(bns, saved):
        m.momentum = momentum
    g.eval()


def class_loss_real(c_real: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """D learns to name the class of real pictures (never of fakes, so it cannot be
    rewarded for calling easy fakes by their label)."""
    return F.cross_entropy(c_real.float(), y)


def twin_loss_fake(t_fake: torch.Tensor, y_fake: torch.Tensor) -> torch.Tensor:
    """TAC-GAN's twin head learns to name the class of fakes; G is rewarded when it cannot."""
    return F.cross_entropy(t_fake.float(), y_fake)


class GanTrainer(Trainer):
    """dcgan / cgan: load the pictures, build G and D, one step of each."""

    plot_keys = ("loss_d", "loss_g")
    optional = ("d.twin.", "opt_twin")  # the twin head and its optimiser may be added to a resumed run

    def __init__(self, cfg: GanConfig) -> None:
        super().__init__(cfg)
        self.kind = "cgan" if cfg.conditional else "dcgan"
        self.arch = self.kind  # the generator's registered architecture (the discriminator's: "<arch>-d")
        data = load_folder(cfg.data, size=cfg.image_size, conditional=cfg.conditional, split="train",
                           merge=cfg.merge_classes)
        self.data, self.n_classes = data, len(data.classes)
        folders = [f.split("/")[0] for f in data.files] if cfg.merge_classes else None
        self.draw_weights = weigh_classes(class_draw_weights(data.labels, self.n_classes, cfg.class_balance, folders),
                                          data.labels, data.classes, cfg.class_weights) if self.n_classes else None
        self.classes = data.classes if cfg.conditional else None
        self.last_g: dict[str, float] = {}
        print(f"data: {len(data.images)} images from {cfg.data}" + (f", {self.n_classes} classes" if self.n_classes else "")
              + (f", {data.skipped} unreadable skipped" if data.skipped else ""))

    @property
    def size(self) -> int:
        return len(self.data.images)

    def build(self, place: Placement) -> None:
        cfg, k = self.cfg, self.n_classes
        self.place = place
        g_args, self.d_args = self.arch_args()
        if cfg.conditional:
            g_args["n_classes"] = self.d_args["n_classes"] = k
            self.d_args.update({"classifier": True} if cfg.class_loss > 0 else {})
            self.d_args.update({"twin": True} if cfg.twin_loss > 0 else {})
        # channels-last suits these convolutions on the CPU (bench/train_throughput.py).
        self.g = build(self.arch, g_args).to(place.device, memory_format=torch.channels_last)
        if cfg.g_init == "torch":
            init_torch_default(self.g)
        self.d = build(f"{self.arch}-d", self.d_args).to(place.device, memory_format=torch.channels_last)
        self.g_ema = copy.deepcopy(self.g).eval().requires_grad_(False)

        def adam(params) -> torch.optim.Adam:
            return torch.optim.Adam(params, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))

        # The twin head has an optimizer of its own, so a run resumed with a twin loss keeps D's.
        self.optimizers = {"opt_g": adam(self.g.parameters()),
                           "opt_d": adam([p for name, p in self.d.named_parameters() if not name.startswith("twin.")])}
        if cfg.twin_loss > 0:
            self.optimizers["opt_twin"] = adam(self.d.twin.parameters())
        fixed = torch.Generator().manual_seed(cfg.seed + 777)
        self.fixed_z = torch.randn(64, cfg.z_dim, generator=fixed)
        self.fixed_y = F.one_hot(torch.arange(64) % k, k).float() if k else None
        self.fixed_noise = self.fixed_noise_maps(fixed)
        real = self.data.images[torch.randperm(self.size, generator=fixed)[:64]]  # the yardstick's real batch
        self.monitor = DiversityMonitor(real, place.device) if cfg.monitor and place.main else None

    def arch_args(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The generator's and the discriminator's arch_args."""
        cfg = self.cfg
        return ({"z_dim": cfg.z_dim, "width": cfg.width, "image_size": cfg.image_size},
                {"width": cfg.width, "image_size": cfg.image_size, "norm": cfg.d_norm})

    def fixed_noise_maps(self, fixed: torch.Generator) -> list[torch.Tensor] | None:
        """The noise inputs of the preview grid's generator (none for a DCGAN)."""
        return None

    def generator_kwargs(self) -> dict[str, Any]:
        """What the training steps pass the generator besides z and y."""
        return {}

    def started(self, info: dict[str, Any]) -> None:
        """With --d-warmup, D trains alone against the loaded G until `self.warming` images:
        a fresh D is near chance against a good G, whose first updates would follow its noise."""
        super().started(info)
        if self.cfg.d_warmup and "init_from" in info and "d_warmup" not in info["init_from"]:
            info["init_from"]["d_warmup"] = self.cfg.d_warmup
        start = info.get("init_from", {})
        self.warming = start.get("images_seen", 0) + start.get("d_warmup", 0)

    def batch(self) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor, torch.Tensor | None]:
        """Real pictures (B, 3, S, S) in [-1, 1], their classes (B, K), latents (B, z), the fakes' classes."""
        cfg, k, device = self.cfg, self.n_classes, self.place.device
        if self.draw_weights is None:
            idx = torch.randint(0, self.size, (cfg.batch,))
        else:
            idx = torch.multinomial(self.draw_weights, cfg.batch, replacement=True)
        real = from_uint8(self.data.images[idx])  # (B, 3, S, S) in [-1, 1]
        if cfg.mirror:
            flip = torch.rand(cfg.batch) < 0.5
            real[flip] = real[flip].flip(3)
        real = real.to(device, memory_format=torch.channels_last)
        y = F.one_hot(self.data.labels[idx], k).float().to(device) if k else None
        z = torch.randn(cfg.batch, cfg.z_dim).to(device)
        y_fake = y  # the fakes' classes follow the real ones'
        if cfg.mode_seeking > 0 and y is not None:  # ... with the second half the first's again, for the pairs
            half = cfg.batch // 2
            y_fake = torch.cat([y[:half]] * 2 + [y[2 * half:]])
        return real, y, z, y_fake

    def discriminate(self, x: torch.Tensor, y: torch.Tensor | None, heads: bool):
        """D's logits of augmented `x`, with its class and twin heads' logits when `heads`."""
        out = self.d_train(diff_augment(x, self.cfg.augment), y, **({"with_classes": True} if heads else {}))
        return out if heads else (out, None, None)

    def d_step(self, real: torch.Tensor, y, fake: torch.Tensor, y_fake, lazy_r1: bool = False) -> dict[str, float]:
        """Discriminator: real -> real, fake -> fake under the chosen loss, plus its optional heads
        and penalties (gradient penalty for wgan-gp; R1 every R1_INTERVAL steps)."""
        cfg, logs = self.cfg, {}
        with self.place.autocast():
            d_real, c_real, _ = self.discriminate(real, y, cfg.class_loss > 0)
            d_fake, _, t_fake = self.discriminate(fake.detach(), y_fake, cfg.twin_loss > 0)
        d_real, d_fake = d_real.float(), d_fake.float()
        loss_d = d_loss(cfg.loss, d_real, d_fake)
        critic = lambda x: self.discriminate(x, y, False)[0]  # noqa: E731  (penalties in float32)
        if cfg.loss == "wgan-gp":
            logs["gp"] = term = gradient_penalty(critic, real, fake)
            loss_d = loss_d + cfg.gp_weight * term
        if lazy_r1:  # lazy regularisation: every R1_INTERVAL steps, that many times as strong
            logs["r1"] = term = r1_penalty(critic, real)
            loss_d = loss_d + (cfg.r1 / 2 * R1_INTERVAL) * term
        if cfg.class_loss > 0:
            logs["loss_cls_real"] = term = class_loss_real(c_real, y)
            loss_d = loss_d + cfg.class_loss * term
        if cfg.twin_loss > 0:
            logs["loss_twin"] = term = twin_loss_fake(t_fake, y_fake)
            loss_d = loss_d + cfg.twin_loss * term
        d_optimizers = [opt for name, opt in self.optimizers.items() if name != "opt_g"]
        for opt in d_optimizers:
            opt.zero_grad(set_to_none=True)
        loss_d.backward()
        for opt in d_optimizers:
            opt.step()
        return {"loss_d": loss_d.item(), "d_real": d_real.mean().item(), "d_fake": d_fake.mean().item(),
                **{key: value.item() for key, value in logs.items()}}

    def g_step(self, fake: torch.Tensor, z: torch.Tensor, y_fake) -> dict[str, float]:
        """Generator: make D call the fakes real (non-saturating) and of their class; with a twin,
        also make the twin's guess of their class poor (together: the real spread within each
        class); with mode seeking, make two latents of one class give different pictures."""
        cfg, logs = self.cfg, {}
        with self.place.autocast():
            d_out, c_fake, t_fake = self.discriminate(fake, y_fake, cfg.class_loss > 0)
            loss_g = g_loss(cfg.loss, top_k(d_out.float(), cfg.top_k))
            if cfg.class_loss > 0:
                logs["loss_cls_fake"] = term = F.cross_entropy(c_fake.float(), y_fake)
                loss_g = loss_g + cfg.class_loss * term
            if cfg.twin_loss > 0:
                loss_g = loss_g - cfg.twin_loss * twin_loss_fake(t_fake, y_fake)
        if cfg.mode_seeking > 0:
            logs["loss_ms"] = term = mode_seeking_term(fake.float(), z)
            loss_g = loss_g + cfg.mode_seeking * term
        self.optimizers["opt_g"].zero_grad(set_to_none=True)
        loss_g.backward()
        self.optimizers["opt_g"].step()
        return {**{key: value.item() for key, value in logs.items()}, "loss_g": loss_g.item()}

    def optimize_parameters(self, step: int, images_seen: int) -> tuple[dict[str, float], bool]:
        cfg = self.cfg
        lr = cfg.lr * lr_factor(images_seen, self.total_images, cfg.lr_schedule, cfg.lr_warmup, cfg.lr_step,
                                cfg.lr_gamma)
        set_lr(self.optimizers, lr)
        real, y, z, y_fake = self.batch()
        # D alone while warming up (G, and so its EMA, stays as loaded), and between G's steps.
        train_g = images_seen >= self.warming and step % cfg.n_critic == 0
        with self.place.autocast(), contextlib.nullcontext() if train_g else torch.no_grad():
            fake = self.g_train(z, y_fake, **self.generator_kwargs())
        row = self.d_step(real, y, fake, y_fake, lazy_r1=cfg.r1 > 0 and step % R1_INTERVAL == 0)
        if train_g:
            self.last_g = self.g_step(fake, z, y_fake)
        return {**row, **self.last_g, "lr": lr}, train_g  # the last G step's figures on the critic's steps too

    def shipped(self) -> torch.nn.Module:
        g = super().shipped()
        if self.ema_kimg > 0:  # the EMA weights never ran in train mode: their BN statistics are stale
            recalibrate_batchnorm(g, self.n_classes, self.cfg.z_dim)
        return g.eval()

    @torch.no_grad()
    def preview(self, g: torch.nn.Module, folder: Path, images_seen: int, suffix: str = "",
                train_mode_bn: bool = False) -> Preview:
        """The fixed latents' 8x8 grid, `samples-<images>.png`, and its diversity."""
        was_training = g.training
        g.train(train_mode_bn)
        device = self.place.device
        y = self.fixed_y.to(device) if self.fixed_y is not None else None
        noise = {"noise": [n.to(device) for n in self.fixed_noise]} if self.fixed_noise is not None else {}
        pictures = g(self.fixed_z.to(device), y, **noise).clamp(-1, 1)  # (64, 3, S, S) in [-1, 1]
        g.train(was_training)
        sheet = grid(to_pil(pictures))
        sheet.save(folder / f"samples-{images_seen:09d}{suffix}.png")
        return sheet, self.monitor.measure(pictures) if self.monitor is not None else {}

    def every_sample(self, folder: Path, images_seen: int) -> Preview | None:
        if images_seen - self.last_sample < self.cfg.sample_every_img:
            return None
        self.last_sample = images_seen
        return self.preview(self.g_ema if self.ema_kimg > 0 else self.g, folder, images_seen, "-raw",
                            train_mode_bn=True)

    def description(self) -> dict[str, Any]:
        cfg, data = self.cfg, self.data
        record = self.data_record({"train_images": len(data.images), "classes": data.classes}, "files")
        if cfg.merge_classes:
            record["merged"] = cfg.merge_classes
        return {"labels": data.classes, "data": record, "metrics": cfg.extra.get("metrics", {}),
                **({"licence": cfg.extra["licence"]} if "licence" in cfg.extra else {})}

    def recipe_extra(self) -> dict[str, Any]:
        return {"d_arch_args": self.d_args, "optimizer": "Adam"}


class StyleGanTrainer(GanTrainer):
    """stylegan / cstylegan: the GAN trainer's steps for the style-based pair (class-conditional
    with `conditional`), with style-mixing regularisation, the running mean of w carried into
    the shipped generator, and fixed noise in the previews."""

    def __init__(self, cfg: StyleGanConfig) -> None:
        super().__init__(cfg)
        self.kind, self.arch = ("cstylegan" if cfg.conditional else "stylegan"), "stylegan"

    def arch_args(self) -> tuple[dict[str, Any], dict[str, Any]]:
        cfg = self.cfg
        return ({"z_dim": cfg.z_dim, "w_dim": cfg.w_dim, "width": cfg.width, "image_size": cfg.image_size,
                 "mapping_layers": cfg.mapping_layers, "noise_from": cfg.noise_from},
                {"width": cfg.d_width or cfg.width, "image_size": cfg.image_size})

    def fixed_noise_maps(self, fixed: torch.Generator) -> list[torch.Tensor]:
        return [torch.randn(1, *shape, generator=fixed) for shape in self.g.noise_shapes()]

    def generator_kwargs(self) -> dict[str, Any]:
        return {"mix_prob": self.cfg.mix_prob}

    def shipped(self) -> torch.nn.Module:
        g = Trainer.shipped(self)  # no batch norm to recalibrate
        g.w_avg.copy_(self.g.w_avg)  # a buffer the training G keeps, not a weight to average
        return g.eval()


def train_gan(cfg: GanConfig, resume: bool = False, max_images: int | None = None) -> Path:
    """Train (or continue training) and write `checkpoints/<name>`; returns the checkpoint path."""
    if cfg.d_warmup and resume:
        raise StudioError("--d-warmup is a number of images, for a new run started with --init-from (a resumed "
                          "run keeps its own): the fresh discriminator learns alone before the generator follows it.")
    return train((StyleGanTrainer if isinstance(cfg, StyleGanConfig) else GanTrainer)(cfg), resume, max_images)
