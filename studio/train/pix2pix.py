"""Train pix2pix (line art -> colour) and write a `sketch` checkpoint.

The knobs and the two recipes (`studio`: instance norm, no dropout, EMA;
`reference`: the paper's batch norm and dropout 0.5) are declared in recipes.py
(Pix2PixConfig); the loop every trainer shares is loop.py. Both recipes: U-Net G,
70x70 PatchGAN D, L1 + adversarial loss, Adam (0.5, 0.999). Augmentation
(`augment="flip,shift,width,drop"`) is in augment.py.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from ..data.pairs import load_pairs
from ..imaging.convert import from_uint8, grid, to_pil, to_uint8
from ..tasks.hints import random_hints, simulate_hints
from ..models import build
from .augment import augment_pair
from .distributed import Placement
from .loop import Preview, Trainer, train
from .recipes import Pix2PixConfig

__all__ = ["Pix2PixConfig", "Pix2PixTrainer", "train_pix2pix"]


class Pix2PixTrainer(Trainer):
    """Line art -> picture: `backward_D`, `backward_G`, `optimize_parameters` as in pix2pix."""

    kind = "pix2pix"
    plot_keys = ("loss_l1", "loss_g_adv", "loss_d")

    def __init__(self, cfg: Pix2PixConfig) -> None:
        super().__init__(cfg)
        self.data = load_pairs(cfg.data, cfg.image_size, split="train")
        print(f"data: {len(self.data.names)} pairs from {cfg.data}"
              + (f", {self.data.skipped} unreadable skipped" if self.data.skipped else ""))
        spread = torch.linspace(0, len(self.data.names) - 1, 8).long()  # spread over the groups
        self.preview_sketches = from_uint8(self.data.sketches[spread])
        self.preview_input = self.preview_sketches
        if self.cfg.hints:  # the same 10 dots on each preview sketch every time, shown on the sketch
            hints = torch.stack([simulate_hints(self.data.pictures[i], self.data.sketches[i], 10,
                                                gen=torch.Generator().manual_seed(k)) for k, i in enumerate(spread)])
            self.preview_input = torch.cat([self.preview_sketches, hints], dim=1)  # (8, 7, S, S)
            self.preview_sketches = torch.where(hints[:, 3:] > 0, hints[:, :3], self.preview_sketches)

    @property
    def size(self) -> int:
        return len(self.data.names)

    def build(self, place: Placement) -> None:
        cfg = self.cfg
        self.place = place
        g_args = {"image_size": cfg.image_size, "width": cfg.width, "norm": cfg.norm, "dropout": cfg.dropout,
                  "norm_min_size": cfg.norm_min_size, **({"hints": True} if cfg.hints else {})}
        self.d_args = {"width": cfg.width, "norm": cfg.norm}
        self.g = build("pix2pix-unet", g_args).to(place.device, memory_format=torch.channels_last)
        self.d = build("patchgan", self.d_args).to(place.device, memory_format=torch.channels_last)
        self.g_ema = copy.deepcopy(self.g).eval().requires_grad_(False)
        self.optimizers = {name: torch.optim.Adam(net.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
                           for name, net in (("opt_g", self.g), ("opt_d", self.d))}

    def batch(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Sketches, their pictures and G's input, (B, 3, S, S) in [-1, 1], augmented as the recipe
        says; G's input is the sketch, and for a hint model hints from the picture: (B, 7, S, S)."""
        cfg, device = self.cfg, self.place.device
        idx = torch.randint(0, self.size, (cfg.batch,))
        sketch, target = from_uint8(self.data.sketches[idx]), from_uint8(self.data.pictures[idx])
        if cfg.augment:
            sketch, target = augment_pair(sketch, target, cfg.augment)
        g_in = sketch
        if cfg.hints:
            g_in = torch.cat([sketch, random_hints(to_uint8(target), to_uint8(sketch))], dim=1)
        return tuple(t.to(device, memory_format=torch.channels_last) for t in (sketch, target, g_in))

    def backward_D(self, sketch: torch.Tensor, target: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """D: the real pair -> 1, the generated pair -> 0 (softplus form of BCE)."""
        with self.place.autocast():
            d_real, d_fake = self.d_train(sketch, target).float(), self.d_train(sketch, fake.detach()).float()
        loss_d = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
        loss_d.backward()
        return loss_d

    def backward_G(self, sketch: torch.Tensor, target: torch.Tensor, fake: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor]:
        """G: fool D on the pair, and stay near the target picture (L1)."""
        with self.place.autocast():
            loss_adv = F.softplus(-self.d_train(sketch, fake).float()).mean()
        loss_l1 = (fake.float() - target).abs().mean()
        (loss_adv + self.cfg.l1_weight * loss_l1).backward()
        return loss_adv, loss_l1

    def optimize_parameters(self, step: int, images_seen: int) -> tuple[dict[str, float], bool]:
        opt_g, opt_d = self.optimizers["opt_g"], self.optimizers["opt_d"]
        sketch, target, g_in = self.batch()
        with self.place.autocast():
            fake = self.g_train(g_in)
        opt_d.zero_grad(set_to_none=True)
        loss_d = self.backward_D(sketch, target, fake)
        opt_d.step()
        opt_g.zero_grad(set_to_none=True)
        loss_adv, loss_l1 = self.backward_G(sketch, target, fake)
        opt_g.step()
        return {"loss_l1": loss_l1.item(), "loss_g_adv": loss_adv.item(), "loss_d": loss_d.item()}, True

    @torch.no_grad()
    def preview(self, g: torch.nn.Module, folder: Path, images_seen: int) -> Preview:
        """Eight held-in sketches over what `g` makes of them, `preview-<images>.png`."""
        coloured = g(self.preview_input.to(self.place.device))
        sheet = grid(to_pil(self.preview_sketches) + to_pil(coloured), columns=8)
        sheet.save(folder / f"preview-{images_seen:09d}.png")
        return sheet, {}

    def description(self) -> dict[str, Any]:
        return {"data": self.data_record({"train_pairs": self.size}, "names"),
                "sketch": {"lines": "black on white", "input_range": "[-1, 1]",
                           **({"hints": "4 more channels: hint colours (0 where none) and mask"} if self.cfg.hints
                              else {})}}

    def recipe_extra(self) -> dict[str, Any]:
        return {"d_arch_args": self.d_args, "loss": "L1 + non-saturating logistic",
                "optimizer": f"Adam {self.cfg.lr:g} ({self.cfg.beta1}, 0.999)"}


def train_pix2pix(cfg: Pix2PixConfig, resume: bool = False, max_images: int | None = None) -> Path:
    """Train (or continue) and write `checkpoints/<name>` (task `sketch`)."""
    return train(Pix2PixTrainer(cfg), resume, max_images)
