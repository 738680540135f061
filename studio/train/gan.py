"""Train the 64x64 GANs: unconditional DCGAN (`dcgan`) and class-conditional (`cgan`).

Two recipes:
  studio     width 32, z 128, spectral-norm D, DiffAugment (color, translation,
             cutout) on real and fake, x-flips, EMA of G (half-life 10k images with
             ramp-up), non-saturating loss, Adam 2e-4 (0.5, 0.999).
  reference  pytorch/examples DCGAN: nz 100, ngf = ndf = 64, batch-norm D, BCE,
             Adam 2e-4 beta1 0.5, no augmentation, no EMA.

The run directory (outside the repo, under the data cache) holds the resumable
state, loss log, loss plot and fixed-noise sample grids; the checkpoint folder
receives the EMA generator (or the raw one for the reference recipe).
"""

from __future__ import annotations

import copy
import json
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from ..checkpoints import check_name, save_checkpoint
from ..data.folder import load_folder
from ..data.packages import data_dir
from ..errors import StudioError
from ..images import save_grid
from ..models import build
from .augment import diff_augment
from .plot import plot_losses
from .state import load_state, save_state, state_exists

RECIPES = {
    "studio": {"z_dim": 128, "width": 32, "d_norm": "sn", "augment": "color,translation,cutout", "mirror": True,
               "ema_kimg": 10.0, "lr": 2e-4, "beta1": 0.5},
    "reference": {"z_dim": 100, "width": 64, "d_norm": "bn", "augment": "", "mirror": False,
                  "ema_kimg": 0.0, "lr": 2e-4, "beta1": 0.5},
}


@dataclass
class GanConfig:
    data: str
    name: str
    conditional: bool = False
    recipe: str = "studio"
    epochs: float = 100.0
    batch: int = 64
    image_size: int = 64
    width: int | None = None  # None: the recipe's
    z_dim: int | None = None
    augment: str | None = None
    seed: int = 0
    threads: int | None = None
    checkpoints: str = "checkpoints"
    run_dir: str | None = None  # default: <data cache>/runs/<name>
    save_every_s: float = 600.0
    sample_every_img: int = 20000
    half: bool = True  # store the shipped generator in fp16
    extra: dict = field(default_factory=dict)  # recorded in studio.json as given

    def resolved(self) -> dict:
        base = dict(RECIPES[self.recipe])
        for key in ("width", "z_dim", "augment"):
            if getattr(self, key) is not None:
                base[key] = getattr(self, key)
        return base


@torch.no_grad()
def ema_update(ema: torch.nn.Module, model: torch.nn.Module, beta: float) -> None:
    for p_ema, p in zip(ema.parameters(), model.parameters()):
        p_ema.lerp_(p, 1.0 - beta)


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
    for _ in range(batches):
        z = torch.randn(batch, z_dim, generator=gen)
        y = F.one_hot(torch.randint(0, n_classes, (batch,), generator=gen), n_classes).float() if n_classes else None
        g(z, y)
    for m, momentum in zip(bns, saved):
        m.momentum = momentum
    g.eval()


def train_gan(cfg: GanConfig, resume: bool = False, max_images: int | None = None) -> Path:
    """Train (or continue training) and write `checkpoints/<name>`; returns the checkpoint path."""
    check_name(cfg.name)
    if cfg.recipe not in RECIPES:
        raise StudioError(f"Unknown recipe {cfg.recipe!r}; choose {', '.join(RECIPES)}.")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    r = cfg.resolved()
    run = Path(cfg.run_dir) if cfg.run_dir else data_dir() / "runs" / cfg.name
    run.mkdir(parents=True, exist_ok=True)
    state_path = run / "state"

    data = load_folder(cfg.data, size=cfg.image_size, conditional=cfg.conditional, split="train")
    n_classes = len(data.classes)
    meta = Path(cfg.data) / "dataset.json"
    dataset = json.loads(meta.read_text()) if meta.exists() else {}
    print(f"data: {len(data.images)} images from {cfg.data}" + (f", {n_classes} classes" if n_classes else "")
          + (f", {data.skipped} unreadable skipped" if data.skipped else ""))

    # Initial weights, batches, latents and augmentations all draw from the global torch
    # RNG, which the state saves: an interrupted and resumed run takes exactly the same steps.
    torch.manual_seed(cfg.seed)
    g_args = {"z_dim": r["z_dim"], "width": r["width"], "image_size": cfg.image_size}
    d_args = {"width": r["width"], "image_size": cfg.image_size, "norm": r["d_norm"]}
    if cfg.conditional:
        g_args["n_classes"] = d_args["n_classes"] = n_classes
    g = build("cgan" if cfg.conditional else "dcgan", g_args)
    d = build("cgan-d" if cfg.conditional else "dcgan-d", d_args)
    # channels-last is about 8% faster for these convolutions on the CPU (bench/train_throughput.py).
    g, d = g.to(memory_format=torch.channels_last), d.to(memory_format=torch.channels_last)
    g_ema = copy.deepcopy(g).eval().requires_grad_(False)
    opt_g = torch.optim.Adam(g.parameters(), lr=r["lr"], betas=(r["beta1"], 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=r["lr"], betas=(r["beta1"], 0.999))
    modules, optimizers = {"g": g, "d": d, "g_ema": g_ema}, {"opt_g": opt_g, "opt_d": opt_d}

    info = {"images_seen": 0, "step": 0, "seconds": 0.0, "config": asdict(cfg)}
    if resume:
        if not state_exists(state_path):
            raise StudioError(f"--resume: no saved state in {run}.")
        info = load_state(state_path, modules, optimizers)
        print(f"resumed at step {info['step']}, {info['images_seen']} images seen")
    elif state_exists(state_path):
        raise StudioError(f"{run} already holds a run; pass --resume to continue it or choose another --name.")

    total_images = max_images or int(cfg.epochs * len(data.images))
    fixed_gen = torch.Generator().manual_seed(cfg.seed + 777)
    fixed_z = torch.randn(64, r["z_dim"], generator=fixed_gen)
    fixed_y = F.one_hot(torch.arange(64) % n_classes, n_classes).float() if n_classes else None
    log = (run / "losses.jsonl").open("a")

    def write_checkpoint() -> Path:
        shipped = g_ema if r["ema_kimg"] > 0 else g
        shipped = copy.deepcopy(shipped)
        if r["ema_kimg"] > 0:
            recalibrate_batchnorm(shipped, n_classes, r["z_dim"])
        shipped.eval()
        save_grid(shipped, fixed_z, fixed_y, run / f"samples-{info['images_seen']:09d}.png")
        description = {
            "task": "conditional" if cfg.conditional else "latent",
            "image_size": cfg.image_size,
            "labels": data.classes,
            "licence": cfg.extra.get("licence", dataset.get("licence", "as the training data")),
            "data": {"path": str(cfg.data), "train_images": len(data.images), "classes": data.classes,
                     **{k: dataset[k] for k in ("name", "sources", "excluded", "total") if k in dataset},
                     "heldout": {k: v for k, v in dataset.get("heldout", {}).items() if k != "files"}},
            "recipe": {"name": cfg.recipe, **r, "batch": cfg.batch, "d_arch_args": d_args, "loss": "non-saturating logistic",
                       "optimizer": "Adam"},
            "training": {"images_seen": info["images_seen"], "steps": info["step"],
                         "seconds": round(info["seconds"], 1), "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
                         "torch_threads": torch.get_num_threads(), "device": "cpu"},
            "metrics": cfg.extra.get("metrics", {}),
        }
        return save_checkpoint(shipped, cfg.name, description, root=cfg.checkpoints, half=cfg.half)

    g.train(), d.train()
    last_save, last_sample = time.monotonic(), info["images_seen"]
    t0 = time.monotonic() - info["seconds"]
    bar = tqdm(total=total_images, initial=info["images_seen"], unit="img", desc=cfg.name, smoothing=0.05)
    n = len(data.images)
    while info["images_seen"] < total_images:
        idx = torch.randint(0, n, (cfg.batch,))
        real = data.images[idx].float().div_(127.5).sub_(1.0)  # (B, 3, S, S) in [-1, 1]
        real = real.contiguous(memory_format=torch.channels_last)
        if r["mirror"]:
            flip = torch.rand(cfg.batch) < 0.5
            real[flip] = real[flip].flip(3)
        y = F.one_hot(data.labels[idx], n_classes).float() if n_classes else None
        z = torch.randn(cfg.batch, r["z_dim"])

        # Discriminator: real -> 1, fake -> 0 (softplus form of BCE).
        fake = g(z, y)
        aug = r["augment"]
        d_real = d(diff_augment(real, aug), y)
        d_fake = d(diff_augment(fake.detach(), aug), y)
        loss_d = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()

        # Generator: make D call the fakes real (non-saturating).
        loss_g = F.softplus(-d(diff_augment(fake, aug), y)).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()

        info["step"] += 1
        info["images_seen"] += cfg.batch
        if r["ema_kimg"] > 0:
            # Half-life in images, ramped up over the first images (StyleGAN2's rampup 0.05).
            ema_nimg = min(r["ema_kimg"] * 1000, info["images_seen"] * 0.05)
            ema_update(g_ema, g, 0.5 ** (cfg.batch / max(ema_nimg, 1e-8)))
        info["seconds"] = time.monotonic() - t0
        bar.update(cfg.batch)
        if info["step"] % 20 == 0:
            row = {"step": info["step"], "images": info["images_seen"], "seconds": round(info["seconds"], 2),
                   "loss_d": round(loss_d.item(), 4), "loss_g": round(loss_g.item(), 4),
                   "d_real": round(d_real.mean().item(), 3), "d_fake": round(d_fake.mean().item(), 3)}
            log.write(json.dumps(row) + "\n")
            bar.set_postfix(loss_d=row["loss_d"], loss_g=row["loss_g"])
        done = info["images_seen"] >= total_images
        if done or time.monotonic() - last_save > cfg.save_every_s:
            log.flush()
            save_state(state_path, modules, optimizers, info)
            write_checkpoint()
            plot_losses(run / "losses.jsonl", run / "losses.png", ["loss_d", "loss_g"])
            last_save = time.monotonic()
        elif info["images_seen"] - last_sample >= cfg.sample_every_img:
            sampler = g_ema if r["ema_kimg"] > 0 else g
            save_grid(sampler, fixed_z, fixed_y, run / f"samples-{info['images_seen']:09d}-raw.png", train_mode_bn=True)
            last_sample = info["images_seen"]
    bar.close()
    log.close()
    return Path(cfg.checkpoints) / cfg.name
