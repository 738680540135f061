"""Train the 64x64 GANs: unconditional DCGAN (`dcgan`) and class-conditional (`cgan`).

Two recipes:
  studio     width 32, z 128, spectral-norm D, DiffAugment (color, translation,
             cutout) on real and fake, x-flips, EMA of G (`ema_kimg`: half-life
             10k images, with ramp-up), non-saturating loss, Adam 2e-4 (0.5,
             0.999). Conditional models add an auxiliary class loss
             (`class_loss`, weight 1): D also classifies real pictures, G is
             rewarded when D reads its class; without it the generator learned
             to draw much the same picture for every class (checkpoints/
             README.md). `twin_loss` adds TAC-GAN's twin classifier, trained on
             fakes, meant to counter the auxiliary loss's pull towards one
             picture per class (off by default: here it cost classes). Batches
             follow the data's own class mix unless `class_balance` evens it out
             (and `class_weights` weighs chosen classes up or down on top).
             `mode_seeking` adds MSGAN's term (Mao et al. 2019): G is rewarded
             when two latents of the same class give pictures that differ (off
             by default: here it spread the pictures but cost FD).
  reference  pytorch/examples DCGAN: nz 100, ngf = ndf = 64, batch-norm D, BCE,
             Adam 2e-4 beta1 0.5, no augmentation, no EMA.

The run directory (outside the repo, under the data cache) holds the resumable
state, loss log, loss plot and fixed-noise sample grids; the checkpoint folder
receives the EMA generator (or the raw one for the reference recipe).
"""

from __future__ import annotations

import contextlib
import copy
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from ..checkpoints import save_checkpoint
from ..data.folder import load_folder
from ..errors import StudioError
from ..imaging.convert import save_grid
from ..models import build
from .augment import diff_augment
from .distributed import setup, teardown, wrap
from .run import Run, ema_beta, ema_update, init_generator

RECIPES = {
    "studio": {"z_dim": 128, "width": 32, "d_norm": "sn", "augment": "color,translation,cutout", "mirror": True,
               "ema_kimg": 10.0, "lr": 2e-4, "beta1": 0.5, "class_loss": 1.0, "twin_loss": 0.0,
               "class_balance": 0.0, "mode_seeking": 0.0},
    "reference": {"z_dim": 100, "width": 64, "d_norm": "bn", "augment": "", "mirror": False,
                  "ema_kimg": 0.0, "lr": 2e-4, "beta1": 0.5, "class_loss": 0.0, "twin_loss": 0.0,
                  "class_balance": 0.0, "mode_seeking": 0.0},
}

# Switches added after runs had been saved, with the value those runs had (off); see Run.
ADDED_LATER = {"twin_loss": 0.0, "class_balance": 0.0, "mode_seeking": 0.0, "merge_classes": {}, "class_weights": {}}

# Recipe settings a GanConfig may set (None: the recipe's).
OVERRIDABLE = ("width", "z_dim", "augment", "lr", "ema_kimg", "class_loss", "twin_loss", "class_balance",
               "mode_seeking")


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
    lr: float | None = None  # Adam learning rate of G and D (a resumed run takes the new one)
    ema_kimg: float | None = None  # half-life of the generator's EMA in thousands of images; 0: ship the raw G
    class_loss: float | None = None  # weight of the auxiliary class loss (conditional only)
    twin_loss: float | None = None  # weight of the twin classifier's loss (conditional, with a class loss)
    class_balance: float | None = None  # 0: draw pictures uniformly; 1: every class equally often (conditional only)
    mode_seeking: float | None = None  # weight of MSGAN's mode-seeking term (0: off)
    merge_classes: dict[str, str] = field(default_factory=dict)  # class folder -> class it counts as (conditional)
    class_weights: dict[str, float] = field(default_factory=dict)  # class -> factor on its share of batches
    seed: int = 0
    threads: int | None = None
    checkpoints: str = "checkpoints"
    run_dir: str | None = None  # default: <data cache>/runs/<name>
    save_every_s: float = 600.0
    snapshots: tuple[int, ...] = ()  # images seen at which to keep a copy of the checkpoint
    init_from: str | None = None  # checkpoint folder whose generator to start from
    d_warmup: int = 0  # with init_from: images for which D trains alone against the loaded, frozen G
    branch_from: str | None = None  # another run (name or folder) whose saved state to go on from
    sample_every_img: int = 20000
    half: bool = True  # store the shipped generator in fp16
    amp: bool = True  # bfloat16 autocast where it is fast (CUDA, CPUs with AMX)
    extra: dict = field(default_factory=dict)  # recorded in studio.json as given

    def resolved(self) -> dict:
        base = dict(RECIPES[self.recipe])
        for key in OVERRIDABLE:
            if getattr(self, key) is not None:
                base[key] = getattr(self, key)
        return base


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


def train_gan(cfg: GanConfig, resume: bool = False, max_images: int | None = None) -> Path:
    """Train (or continue training) and write `checkpoints/<name>`; returns the checkpoint path."""
    if cfg.recipe not in RECIPES:
        raise StudioError(f"Unknown recipe {cfg.recipe!r}; choose {', '.join(RECIPES)}.")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    r = cfg.resolved()
    if (cfg.merge_classes or cfg.class_weights) and not cfg.conditional:
        raise StudioError("Merging or weighing classes needs a conditional model (cgan).")
    data = load_folder(cfg.data, size=cfg.image_size, conditional=cfg.conditional, split="train",
                       merge=cfg.merge_classes)
    n_classes = len(data.classes)
    meta = Path(cfg.data) / "dataset.json"
    dataset = json.loads(meta.read_text()) if meta.exists() else {}
    if not r["lr"] > 0:
        raise StudioError(f"The learning rate must be above 0, not {r['lr']}.")
    if not r["ema_kimg"] >= 0:
        raise StudioError(f"The EMA half-life must be 0 (no EMA) or more, not {r['ema_kimg']}.")
    if not r["mode_seeking"] >= 0:
        raise StudioError(f"The mode-seeking weight must be 0 (off) or more, not {r['mode_seeking']}.")
    if cfg.conditional and r["twin_loss"] and not (r["twin_loss"] > 0 and r["class_loss"] > 0):
        raise StudioError(f"The twin loss must be above 0 and needs a class loss above 0 "
                          f"(twin {r['twin_loss']}, class {r['class_loss']}).")
    if cfg.d_warmup < 0 or (cfg.d_warmup and (resume or cfg.branch_from or not cfg.init_from)):
        raise StudioError("--d-warmup is a number of images, for a new run started with --init-from (a resumed "
                          "run keeps its own): the fresh discriminator learns alone before the generator follows it.")
    folders = [f.split("/")[0] for f in data.files] if cfg.merge_classes else None
    draw_weights = weigh_classes(class_draw_weights(data.labels, n_classes, r["class_balance"], folders), data.labels,
                                 data.classes, cfg.class_weights) if n_classes else None
    print(f"data: {len(data.images)} images from {cfg.data}" + (f", {n_classes} classes" if n_classes else "")
          + (f", {data.skipped} unreadable skipped" if data.skipped else ""))

    # Initial weights, batches, latents and augmentations all draw from the global torch
    # RNG, which the state saves: an interrupted and resumed run takes exactly the same steps.
    # (Under torchrun, DDP copies rank 0's initial weights to every rank.)
    torch.manual_seed(cfg.seed)
    place = setup(amp=cfg.amp)
    g_args = {"z_dim": r["z_dim"], "width": r["width"], "image_size": cfg.image_size}
    d_args = {"width": r["width"], "image_size": cfg.image_size, "norm": r["d_norm"]}
    if not cfg.conditional:
        r["class_loss"] = r["twin_loss"] = r["class_balance"] = 0.0  # no classes to learn (and studio.json says so)
    class_w, twin_w, ms_w = r["class_loss"], r["twin_loss"], r["mode_seeking"]
    if cfg.conditional:
        g_args["n_classes"] = d_args["n_classes"] = n_classes
        if class_w > 0:
            d_args["classifier"] = True
        if twin_w > 0:
            d_args["twin"] = True
    g = build("cgan" if cfg.conditional else "dcgan", g_args)
    d = build("cgan-d" if cfg.conditional else "dcgan-d", d_args)
    # channels-last is about 8% faster for these convolutions on the CPU (bench/train_throughput.py).
    g = g.to(place.device, memory_format=torch.channels_last)
    d = d.to(place.device, memory_format=torch.channels_last)
    g_ema = copy.deepcopy(g).eval().requires_grad_(False)

    def adam(params) -> torch.optim.Adam:
        return torch.optim.Adam(params, lr=r["lr"], betas=(r["beta1"], 0.999))

    opt_g = adam(g.parameters())
    # The twin head has an optimizer of its own, so a run resumed with a twin loss keeps D's.
    d_optimizers = {"opt_d": adam([p for name, p in d.named_parameters() if not name.startswith("twin.")])}
    if twin_w > 0:
        d_optimizers["opt_twin"] = adam(d.twin.parameters())
    run = Run(cfg.name, cfg.run_dir, {"g": g, "d": d, "g_ema": g_ema}, {"opt_g": opt_g, **d_optimizers},
              {**asdict(cfg), **{k: r[k] for k in OVERRIDABLE}}, resume,
              cfg.save_every_s, ["loss_d", "loss_g"], place, optional=("d.twin.", "opt_twin"),
              branch_from=cfg.branch_from, added_later=ADDED_LATER,
              classes=data.classes if cfg.conditional else None, saved_classes=dataset.get("classes"))
    info = run.info
    if cfg.init_from and not run.resumed:
        init_generator(cfg.init_from, g, g_ema, info)
        if cfg.d_warmup:
            info["init_from"]["d_warmup"] = cfg.d_warmup
    # A fresh D is near chance against a good G, whose first updates would follow its noise.
    start = info.get("init_from", {})
    warmup_until = start.get("images_seen", 0) + start.get("d_warmup", 0)
    if place.world > 1 and not run.resumed:
        torch.manual_seed(cfg.seed + 100_003 * place.rank)  # each rank its own batches
    g_train, d_train = wrap(g, place), wrap(d, place)

    total_images = max_images or int(cfg.epochs * len(data.images))
    fixed_gen = torch.Generator().manual_seed(cfg.seed + 777)
    fixed_z = torch.randn(64, r["z_dim"], generator=fixed_gen)
    fixed_y = F.one_hot(torch.arange(64) % n_classes, n_classes).float() if n_classes else None

    def write_checkpoint() -> Path:
        shipped = g_ema if r["ema_kimg"] > 0 else g
        shipped = copy.deepcopy(shipped)
        if r["ema_kimg"] > 0:
            recalibrate_batchnorm(shipped, n_classes, r["z_dim"])
        shipped.eval()
        save_grid(shipped, fixed_z, fixed_y, run.path / f"samples-{info['images_seen']:09d}.png")
        description = {
            "task": "conditional" if cfg.conditional else "latent",
            "image_size": cfg.image_size,
            "labels": data.classes,
            "licence": cfg.extra.get("licence", dataset.get("licence", "as the training data")),
            "data": {"path": str(cfg.data), "train_images": len(data.images), "classes": data.classes,
                     **({"merged": cfg.merge_classes} if cfg.merge_classes else {}),
                     **{k: dataset[k] for k in ("name", "sources", "excluded", "total") if k in dataset},
                     "heldout": {k: v for k, v in dataset.get("heldout", {}).items() if k != "files"}},
            "recipe": {"name": cfg.recipe, **r, "batch": cfg.batch, "d_arch_args": d_args, "loss": "non-saturating logistic",
                       "optimizer": "Adam"},
            "training": run.training_record(),
            "metrics": cfg.extra.get("metrics", {}),
        }
        return save_checkpoint(shipped, cfg.name, description, root=cfg.checkpoints, half=cfg.half)

    g.train(), d.train()
    last_sample = info["images_seen"]
    bar = tqdm(total=total_images, initial=info["images_seen"], unit="img", desc=cfg.name, smoothing=0.05,
               disable=not place.main)
    n = len(data.images)
    while info["images_seen"] < total_images:
        if draw_weights is None:
            idx = torch.randint(0, n, (cfg.batch,))
        else:
            idx = torch.multinomial(draw_weights, cfg.batch, replacement=True)
        real = data.images[idx].float().div_(127.5).sub_(1.0)  # (B, 3, S, S) in [-1, 1]
        if r["mirror"]:
            flip = torch.rand(cfg.batch) < 0.5
            real[flip] = real[flip].flip(3)
        real = real.to(place.device, memory_format=torch.channels_last)
        y = F.one_hot(data.labels[idx], n_classes).float().to(place.device) if n_classes else None
        z = torch.randn(cfg.batch, r["z_dim"]).to(place.device)
        y_fake = y  # the fakes' classes follow the real ones'
        if ms_w > 0 and y is not None:  # ... with the second half of the batch the first's again, for the pairs
            y_fake = torch.cat([y[:cfg.batch // 2]] * 2 + [y[2 * (cfg.batch // 2):]])

        # Discriminator: real -> 1, fake -> 0 (softplus form of BCE); with a class
        # loss it also learns to name the class of real pictures (never of fakes, so
        # it cannot be rewarded for calling easy fakes by their label), and the twin
        # head, when there is one, learns to name the class of fakes.
        aug = r["augment"]
        logs = {}
        warming = info["images_seen"] < warmup_until  # D alone: G (and so its EMA) stays as loaded
        with place.autocast():
            with torch.no_grad() if warming else contextlib.nullcontext():
                fake = g_train(z, y_fake)
            if class_w > 0:
                d_real, c_real, _ = d_train(diff_augment(real, aug), y, with_classes=True)
            else:
                d_real = d_train(diff_augment(real, aug), y)
            d_real = d_real.float()
            if twin_w > 0:
                d_fake, _, t_fake = d_train(diff_augment(fake.detach(), aug), y_fake, with_classes=True)
            else:
                d_fake = d_train(diff_augment(fake.detach(), aug), y_fake)
            d_fake = d_fake.float()
        loss_d = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
        if class_w > 0:
            loss_cls_real = F.cross_entropy(c_real.float(), y)
            loss_d = loss_d + class_w * loss_cls_real
            logs["loss_cls_real"] = loss_cls_real.item()
        if twin_w > 0:
            loss_twin = F.cross_entropy(t_fake.float(), y_fake)
            loss_d = loss_d + twin_w * loss_twin
            logs["loss_twin"] = loss_twin.item()
        for opt in d_optimizers.values():
            opt.zero_grad(set_to_none=True)
        loss_d.backward()
        for opt in d_optimizers.values():
            opt.step()

        # Generator: make D call the fakes real (non-saturating), and of their class;
        # with a twin, also make the twin head's guess of their class poor (TAC-GAN):
        # together the two terms ask for the real pictures' spread within each class.
        if not warming:
            with place.autocast():
                if class_w > 0:
                    d_out, c_fake, t_fake = d_train(diff_augment(fake, aug), y_fake, with_classes=True)
                    loss_cls_fake = F.cross_entropy(c_fake.float(), y_fake)
                    logs["loss_cls_fake"] = loss_cls_fake.item()
                else:
                    d_out, loss_cls_fake = d_train(diff_augment(fake, aug), y_fake), 0.0
                loss_g = F.softplus(-d_out.float()).mean() + class_w * loss_cls_fake
                if twin_w > 0:
                    loss_g = loss_g - twin_w * F.cross_entropy(t_fake.float(), y_fake)
            if ms_w > 0:
                loss_ms = mode_seeking_term(fake.float(), z)
                loss_g = loss_g + ms_w * loss_ms
                logs["loss_ms"] = loss_ms.item()
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            logs["loss_g"] = loss_g.item()

        row = {"loss_d": loss_d.item(), "d_real": d_real.mean().item(), "d_fake": d_fake.mean().item(), **logs}
        run.step(cfg.batch, row)
        if r["ema_kimg"] > 0 and not warming:
            ema_update(g_ema, g, ema_beta(info["images_seen"], cfg.batch, r["ema_kimg"]))
        bar.update(cfg.batch)
        if info["step"] % 20 == 0:
            bar.set_postfix({k: round(row[k], 3) for k in ("loss_d", "loss_g") if k in row})
        saved = run.maybe_save(info["images_seen"] >= total_images, write_checkpoint)
        if place.main and not saved and not warming and info["images_seen"] - last_sample >= cfg.sample_every_img:
            sampler = g_ema if r["ema_kimg"] > 0 else g
            save_grid(sampler, fixed_z, fixed_y, run.path / f"samples-{info['images_seen']:09d}-raw.png", train_mode_bn=True)
            last_sample = info["images_seen"]
    bar.close()
    run.close()
    teardown()
    return Path(cfg.checkpoints) / cfg.name
