"""Train pix2pix (line art -> colour) and write a `sketch` checkpoint.

Two recipes:
  studio     instance norm (not on maps under 8x8), no dropout, EMA of G (half-life
             10k images), no augmentation.
  reference  the pix2pix paper's settings: batch norm, dropout 0.5, no augmentation,
             no EMA.
Both: U-Net G, 70x70 PatchGAN D, L1 weight 100 + adversarial, Adam 2e-4 (0.5, 0.999).

Augmentation is a policy any recipe can take (`augment="flip,shift,width,drop"`): paired
x-flips and shifts, and, on the sketch only, stroke width jitter and dropped strokes.
On the OpenMoji pairs the full policy cost held-out L1 at equal images seen (25k:
0.144 with it, 0.117 without; checkpoints/README.md), so the studio recipe goes
without: the app already redraws every drawing with the training pen.
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from ..checkpoints import save_checkpoint
from ..data.pairs import load_pairs
from ..errors import StudioError
from ..imaging.convert import grid, to_pil
from ..models import build
from .augment import translation
from .distributed import setup, teardown, wrap
from .run import Run, ema_beta, ema_update, init_generator

RECIPES = {
    "studio": {"norm": "instance", "norm_min_size": 8, "dropout": 0.0, "augment": "", "ema_kimg": 10.0},
    "reference": {"norm": "batch", "norm_min_size": 1, "dropout": 0.5, "augment": "", "ema_kimg": 0.0},
}
AUGMENTS = ("flip", "shift", "width", "drop")
L1_WEIGHT = 100.0


@dataclass
class Pix2PixConfig:
    data: str
    name: str
    recipe: str = "studio"
    epochs: float = 100.0
    batch: int = 16
    image_size: int = 128
    width: int = 32
    augment: str | None = None  # None: the recipe's; else a comma-separated subset of AUGMENTS
    seed: int = 0
    threads: int | None = None
    checkpoints: str = "checkpoints"
    run_dir: str | None = None
    save_every_s: float = 600.0
    snapshots: tuple[int, ...] = ()  # images seen at which to keep a copy of the checkpoint
    init_from: str | None = None  # checkpoint folder whose generator to start from
    branch_from: str | None = None  # another run (name or folder) whose saved state to go on from
    half: bool = True
    amp: bool = True  # bfloat16 autocast where it is fast (CUDA, CPUs with AMX)


def jitter_strokes(sketch: torch.Tensor) -> torch.Tensor:
    """Per picture: thinner (max-pool lightens dark lines), as is, or thicker (min-pool)."""
    choice = torch.randint(0, 3, (sketch.shape[0],))
    thin = F.max_pool2d(sketch, 3, 1, 1)
    thick = -F.max_pool2d(-sketch, 3, 1, 1)
    pick = choice.view(-1, 1, 1, 1).to(sketch.device)
    return torch.where(pick == 0, thin, torch.where(pick == 2, thick, sketch))


def drop_strokes(sketch: torch.Tensor, p: float = 0.5, max_boxes: int = 3) -> torch.Tensor:
    """Whiten up to `max_boxes` random rectangles of some sketches: missing or unfinished lines."""
    b, _, h, w = sketch.shape
    out = sketch.clone()
    for i in torch.nonzero(torch.rand(b) < p).flatten().tolist():
        for _ in range(int(torch.randint(1, max_boxes + 1, ()))):
            bh, bw = (int(v) for v in torch.randint(h // 12, h // 4, (2,)))
            y, x = int(torch.randint(0, h - bh, ())), int(torch.randint(0, w - bw, ()))
            out[i, :, y:y + bh, x:x + bw] = 1.0
    return out


def parse_augment(policy: str) -> tuple[str, ...]:
    ops = tuple(filter(None, (op.strip() for op in policy.split(","))))
    unknown = [op for op in ops if op not in AUGMENTS]
    if unknown:
        raise StudioError(f"Unknown pix2pix augmentation {', '.join(unknown)}; choose from {', '.join(AUGMENTS)}.")
    return ops


def augment_pair(sketch: torch.Tensor, picture: torch.Tensor,
                 policy: str = ",".join(AUGMENTS)) -> tuple[torch.Tensor, torch.Tensor]:
    """Paired flips and shifts, then sketch-only stroke jitter and drops; all in [-1, 1]."""
    ops = parse_augment(policy)
    sketch, picture = sketch.clone(), picture.clone()
    if "flip" in ops:
        flip = torch.rand(sketch.shape[0]) < 0.5
        sketch[flip], picture[flip] = sketch[flip].flip(3), picture[flip].flip(3)
    if "shift" in ops:
        both = translation(torch.cat([sketch, picture], dim=1), ratio=1 / 16)  # one shift for the pair
        sketch, picture = both[:, :3], both[:, 3:]
    if "width" in ops:
        sketch = jitter_strokes(sketch)
    if "drop" in ops:
        sketch = drop_strokes(sketch)
    return sketch, picture


def train_pix2pix(cfg: Pix2PixConfig, resume: bool = False, max_images: int | None = None) -> Path:
    """Train (or continue) and write `checkpoints/<name>` (task `sketch`)."""
    if cfg.recipe not in RECIPES:
        raise StudioError(f"Unknown recipe {cfg.recipe!r}; choose {', '.join(RECIPES)}.")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    r = dict(RECIPES[cfg.recipe])
    if cfg.augment is not None:
        r["augment"] = ",".join(parse_augment(cfg.augment))
    data = load_pairs(cfg.data, cfg.image_size, split="train")
    print(f"data: {len(data.names)} pairs from {cfg.data}" + (f", {data.skipped} unreadable skipped" if data.skipped else ""))
    meta = Path(cfg.data) / "dataset.json"
    dataset = json.loads(meta.read_text()) if meta.exists() else {}

    torch.manual_seed(cfg.seed)  # weights, batches and augmentation: resumable exactly
    place = setup(amp=cfg.amp)
    g_args = {"image_size": cfg.image_size, "width": cfg.width, "norm": r["norm"], "dropout": r["dropout"],
              "norm_min_size": r["norm_min_size"]}
    d_args = {"width": cfg.width, "norm": r["norm"]}
    g = build("pix2pix-unet", g_args).to(place.device, memory_format=torch.channels_last)
    d = build("patchgan", d_args).to(place.device, memory_format=torch.channels_last)
    g_ema = copy.deepcopy(g).eval().requires_grad_(False)
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    run = Run(cfg.name, cfg.run_dir, {"g": g, "d": d, "g_ema": g_ema}, {"opt_g": opt_g, "opt_d": opt_d},
              {**asdict(cfg), "augment": r["augment"]}, resume, cfg.save_every_s, ["loss_l1", "loss_g_adv", "loss_d"],
              place, branch_from=cfg.branch_from)
    info = run.info
    if cfg.init_from and not run.resumed:
        init_generator(cfg.init_from, g, g_ema, info)
    if place.world > 1 and not run.resumed:
        torch.manual_seed(cfg.seed + 100_003 * place.rank)  # each rank its own batches
    g_train, d_train = wrap(g, place), wrap(d, place)
    total_images = max_images or int(cfg.epochs * len(data.names))
    preview = data.sketches[torch.linspace(0, len(data.names) - 1, 8).long()].float() / 127.5 - 1  # spread over groups

    def write_checkpoint() -> Path:
        shipped = copy.deepcopy(g_ema if r["ema_kimg"] > 0 else g).eval()
        with torch.no_grad():
            coloured = shipped(preview.to(place.device))
            grid(to_pil(preview) + to_pil(coloured), columns=8).save(run.path / f"preview-{info['images_seen']:09d}.png")
        description = {
            "task": "sketch", "image_size": cfg.image_size,
            "licence": dataset.get("licence", "as the training data"),
            "data": {"path": str(cfg.data), "train_pairs": len(data.names),
                     **{k: dataset[k] for k in ("name", "sources", "excluded", "total") if k in dataset},
                     "heldout": {k: v for k, v in dataset.get("heldout", {}).items() if k != "names"}},
            "recipe": {"name": cfg.recipe, **r, "batch": cfg.batch, "l1_weight": L1_WEIGHT, "d_arch_args": d_args,
                       "loss": "L1 + non-saturating logistic", "optimizer": "Adam 2e-4 (0.5, 0.999)"},
            "training": run.training_record(),
            "sketch": {"lines": "black on white", "input_range": "[-1, 1]"},
        }
        return save_checkpoint(shipped, cfg.name, description, root=cfg.checkpoints, half=cfg.half)

    g.train(), d.train()
    bar = tqdm(total=total_images, initial=info["images_seen"], unit="img", desc=cfg.name, smoothing=0.05,
               disable=not place.main)
    n = len(data.names)
    while info["images_seen"] < total_images:
        idx = torch.randint(0, n, (cfg.batch,))
        sketch = data.sketches[idx].float() / 127.5 - 1  # (B, 3, S, S) in [-1, 1]
        target = data.pictures[idx].float() / 127.5 - 1
        if r["augment"]:
            sketch, target = augment_pair(sketch, target, r["augment"])
        sketch = sketch.to(place.device, memory_format=torch.channels_last)
        target = target.to(place.device, memory_format=torch.channels_last)
        with place.autocast():
            fake = g_train(sketch)
            d_real, d_fake = d_train(sketch, target).float(), d_train(sketch, fake.detach()).float()
        loss_d = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()

        with place.autocast():
            loss_adv = F.softplus(-d_train(sketch, fake).float()).mean()
        loss_l1 = (fake.float() - target).abs().mean()
        opt_g.zero_grad(set_to_none=True)
        (loss_adv + L1_WEIGHT * loss_l1).backward()
        opt_g.step()

        run.step(cfg.batch, {"loss_l1": loss_l1.item(), "loss_g_adv": loss_adv.item(), "loss_d": loss_d.item()})
        if r["ema_kimg"] > 0:
            ema_update(g_ema, g, ema_beta(info["images_seen"], cfg.batch, r["ema_kimg"]))
        bar.update(cfg.batch)
        if info["step"] % 20 == 0:
            bar.set_postfix(l1=round(loss_l1.item(), 4), d=round(loss_d.item(), 3))
        run.maybe_save(info["images_seen"] >= total_images, write_checkpoint)
    bar.close()
    run.close()
    teardown()
    return Path(cfg.checkpoints) / cfg.name
