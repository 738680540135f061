"""Fixtures: tiny random checkpoints and image folders, made in each test's tmp_path."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from studio import save_checkpoint
from studio.models import build

LABELS = ["circles", "squares", "stripes"]


def same_picture(a, b) -> bool:
    """Two pictures (PIL or arrays) equal up to one level of rounding: on some CPUs (seen on an
    AVX2-only one) a float result depends on the batch it was computed in, which can flip a
    pixel's last level."""
    return int(np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16)).max()) <= 1


def make_latent(root: Path, name: str = "tiny-latent", width: int = 8) -> Path:
    torch.manual_seed(0)
    return save_checkpoint(build("dcgan", {"z_dim": 16, "width": width}), name,
                           {"task": "latent", "image_size": 64, "licence": "test"}, root=root)


def make_conditional(root: Path, name: str = "tiny-classes") -> Path:
    torch.manual_seed(1)
    g = build("cgan", {"n_classes": len(LABELS), "z_dim": 16, "width": 8})
    with torch.no_grad():  # random class-norm parameters, so that classes really differ
        for p in g.parameters():
            if p.dim() == 2 and p.shape[0] == len(LABELS):
                p.normal_(0, 0.5)
    return save_checkpoint(g, name, {"task": "conditional", "image_size": 64, "labels": LABELS}, root=root)


def make_sketch(root: Path, name: str = "tiny-sketch") -> Path:
    torch.manual_seed(2)
    return save_checkpoint(build("pix2pix-unet", {"image_size": 64, "width": 4}), name,
                           {"task": "sketch", "image_size": 64, "licence": "test"}, root=root)


def make_style(root: Path, name: str = "tiny-style") -> Path:
    """A tiny style-based generator (task latent), with a mean w off the origin and noise
    that shows, so truncation and the noise modes change its pictures."""
    torch.manual_seed(3)
    g = build("stylegan", {"z_dim": 8, "w_dim": 8, "width": 4, "image_size": 32, "mapping_layers": 2})
    with torch.no_grad():
        g.w_avg.normal_()
        for layer in g.layers:
            layer.noise_strength.fill_(0.5)
    return save_checkpoint(g, name, {"task": "latent", "image_size": 32, "licence": "test"}, root=root)


def make_all(root: Path) -> Path:
    """One tiny checkpoint of every kind, for app and browser tests."""
    make_latent(root)
    make_conditional(root)
    make_sketch(root)
    make_style(root)
    return root


@pytest.fixture
def ckpt_root(tmp_path: Path) -> Path:
    root = tmp_path / "checkpoints"
    make_latent(root)
    make_conditional(root)
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_image_folder(root: Path, classes: list[str] | None = None, per_class: int = 6, size: int = 64) -> Path:
    """Coloured shapes on white, one sub-folder per class (or flat), plus one corrupt file."""
    rng = np.random.default_rng(0)
    folders = [root / c for c in classes] if classes else [root]
    for k, folder in enumerate(folders):
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            a = np.full((size, size, 3), 255, np.uint8)
            c = rng.integers(0, 200, 3)
            lo, hi = rng.integers(4, size // 3), rng.integers(2 * size // 3, size - 4)
            if k % 2 == 0:
                a[lo:hi, lo:hi] = c
            else:
                a[lo:hi:3, :] = c
            Image.fromarray(a).save(folder / f"img{i}.png")
    (folders[0] / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    return root


@pytest.fixture
def page(app_url, tmp_path):
    """A headless Chromium page on the module's served app (`app_url`, a fixture of the module)."""
    from .browser_util import loaded_page

    with loaded_page(app_url, tmp_path) as page:
        yield page
