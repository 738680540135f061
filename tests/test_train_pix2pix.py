"""pix2pix: the model, its augmentation, training, resume and evaluation on tiny pairs."""

import json

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from safetensors.torch import load_file

from studio import Registry, StudioError
from studio.cli import main
from studio.data.pairs import load_pairs
from studio.models import build
from studio.train.augment import augment_pair, drop_strokes, jitter_strokes
from studio.train.pix2pix import Pix2PixConfig, train_pix2pix


def make_pairs(root, n=10, size=32, side_by_side=False):
    """Circles and boxes: black outline (sketch) and the same shape filled with colour."""
    rng = np.random.default_rng(0)
    for folder in ("sketch", "color"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        a, b = Image.new("RGB", (size, size), "white"), Image.new("RGB", (size, size), "white")
        box = [int(v) for v in sorted(rng.integers(2, size - 2, 2))] * 2
        box = [box[0], box[0], box[1], box[1]] if box[1] - box[0] > 4 else [4, 4, size - 4, size - 4]
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        shape = ImageDraw.Draw(a).ellipse if i % 2 else ImageDraw.Draw(a).rectangle
        shape(box, outline="black", width=2)
        (ImageDraw.Draw(b).ellipse if i % 2 else ImageDraw.Draw(b).rectangle)(box, fill=colour, outline="black", width=2)
        if side_by_side:
            ab = Image.new("RGB", (2 * size, size))
            ab.paste(a, (0, 0))
            ab.paste(b, (size, 0))
            ab.save(root / f"p{i:02d}.png")
        else:
            a.save(root / "sketch" / f"p{i:02d}.png")
            b.save(root / "color" / f"p{i:02d}.png")
    if side_by_side:
        (root / "sketch").rmdir()
        (root / "color").rmdir()
    (root / "dataset.json").write_text(json.dumps({"heldout": {"names": ["p00", "p01", "p02"]}, "licence": "test"}))
    return root


def test_unet_shapes_and_value_range():
    g = build("pix2pix-unet", {"image_size": 32, "width": 4}).eval()
    out = g(torch.rand(2, 3, 32, 32) * 2 - 1)
    assert out.shape == (2, 3, 32, 32) and out.abs().max() <= 1
    d = build("patchgan", {"width": 4})
    assert d(out, out).dim() == 4


def test_pairs_both_layouts(tmp_path):
    aligned = load_pairs(make_pairs(tmp_path / "a"), 32, split="train")
    side = load_pairs(make_pairs(tmp_path / "b", side_by_side=True), 32, split="train")
    assert len(aligned.names) == len(side.names) == 7
    assert torch.equal(aligned.sketches, side.sketches) and torch.equal(aligned.pictures, side.pictures)
    assert len(load_pairs(tmp_path / "a", 32, split="heldout").names) == 3


def test_augmentation_keeps_pairs_aligned_and_changes_strokes():
    torch.manual_seed(0)
    sketch = torch.ones(4, 3, 32, 32)
    sketch[:, :, 10:22, 15:17] = -1  # a 2 px vertical line
    thick = jitter_strokes(sketch)
    widths = {int((row[0, 16] < 0).sum()) for row in thick}
    assert len(widths) > 1 or (thick != sketch).any()
    assert (drop_strokes(sketch, p=1.0) >= sketch).all()  # dropping only whitens
    s, p = augment_pair(sketch, sketch.clone())
    assert s.shape == p.shape == sketch.shape
    off_centre = torch.ones(4, 3, 32, 32)
    off_centre[:, :, 4:28, 3:6] = -1
    s, p = augment_pair(off_centre, off_centre.clone(), "flip,shift")  # geometric only: the pair stays identical
    assert torch.equal(s, p) and not torch.equal(s, off_centre)
    s, p = augment_pair(sketch, sketch.clone(), "")
    assert torch.equal(s, sketch) and torch.equal(p, sketch)
    with pytest.raises(StudioError, match="Unknown pix2pix augmentation blur"):
        augment_pair(sketch, sketch, "flip,blur")


def test_trains_resumes_exactly_and_evaluates(tmp_path, capsys):
    data = make_pairs(tmp_path / "pairs")

    def cfg(name):
        return Pix2PixConfig(data=str(data), name=name, batch=2, image_size=32, width=4, threads=1,
                             augment="flip,shift,width,drop",
                             checkpoints=str(tmp_path / "ck"), run_dir=str(tmp_path / "runs" / name))

    train_pix2pix(cfg("straight"), max_images=8)
    train_pix2pix(cfg("resumed"), max_images=4)
    train_pix2pix(cfg("resumed"), resume=True, max_images=8)
    a = load_file(str(tmp_path / "runs/straight/state.safetensors"))
    b = load_file(str(tmp_path / "runs/resumed/state.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a if k != "rng.torch")
    registry = Registry(tmp_path / "ck")
    spec = registry.spec("straight")
    assert spec.task == "sketch" and spec.raw["recipe"]["norm"] == "instance"
    assert spec.raw["recipe"]["augment"] == "flip,shift,width,drop"
    assert registry.get("straight")(torch.zeros(1, 3, 32, 32)).shape == (1, 3, 32, 32)
    capsys.readouterr()
    assert main(["eval", "straight", "--checkpoints", str(tmp_path / "ck"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_heldout"] == 3 and 0 < result["l1"] < 2 and result["psnr_db"] > 0


def test_reference_recipe(tmp_path):
    data = make_pairs(tmp_path / "pairs")
    cfg = Pix2PixConfig(data=str(data), name="ref", recipe="reference", batch=2, image_size=32, width=4,
                        checkpoints=str(tmp_path / "ck"), run_dir=str(tmp_path / "run"))
    train_pix2pix(cfg, max_images=4)
    raw = Registry(tmp_path / "ck").spec("ref").raw
    assert raw["recipe"]["norm"] == "batch" and raw["recipe"]["dropout"] == 0.5 and raw["recipe"]["augment"] == ""


def test_init_from_a_sketch_checkpoint(tmp_path):
    data = make_pairs(tmp_path / "pairs")

    def cfg(name, **kw):
        return Pix2PixConfig(data=str(data), name=name, batch=2, image_size=32, width=4, threads=1,
                             checkpoints=str(tmp_path / "ck"), run_dir=str(tmp_path / "runs" / name), **kw)

    train_pix2pix(cfg("base"), max_images=4)
    train_pix2pix(cfg("more", init_from=str(tmp_path / "ck" / "base")), max_images=8)
    training = Registry(tmp_path / "ck").spec("more").raw["training"]
    assert training["images_seen"] == 8 and training["init_from"]["checkpoint"] == "base"


def test_a_hint_model_starts_from_a_plain_one_and_evaluates_with_hints(tmp_path, capsys):
    data = make_pairs(tmp_path / "pairs")

    def cfg(name, **kw):
        return Pix2PixConfig(data=str(data), name=name, batch=2, image_size=32, threads=1,
                             checkpoints=str(tmp_path / "ck"), run_dir=str(tmp_path / "runs" / name), **{"width": 4, **kw})

    train_pix2pix(cfg("plain"), max_images=4)
    registry = Registry(tmp_path / "ck")
    plain = registry.get("plain")
    hinted = build("pix2pix-unet", {**plain.arch_args, "hints": True}).eval()
    hinted.load_state_dict(hinted.adapt_state(plain.state_dict(), plain.arch_args))
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():  # without hints (zeros), the plain model's picture; hints change it from the start
        assert torch.allclose(hinted(torch.cat([x, torch.zeros(2, 4, 32, 32)], dim=1)), plain(x), atol=1e-5)
        assert not torch.allclose(hinted(torch.cat([x, torch.rand(2, 4, 32, 32)], dim=1)), plain(x), atol=1e-3)
    train_pix2pix(cfg("hints", hints=True, init_from=str(tmp_path / "ck" / "plain")), max_images=8)
    train_pix2pix(cfg("hints", hints=True), resume=True, max_images=12)
    registry.refresh()
    assert registry.spec("hints").raw["arch_args"]["hints"] is True and registry.spec("hints").raw["recipe"]["hints"]
    assert registry.spec("hints").raw["training"]["init_from"]["checkpoint"] == "plain"
    capsys.readouterr()
    assert main(["eval", "hints", "--checkpoints", str(tmp_path / "ck"), "--json"]) == 0
    errors = json.loads(capsys.readouterr().out)["delta_e_cie76"]
    assert set(errors) == {"0 dots", "5 dots", "20 dots"} and all(v > 0 for v in errors.values())
    with pytest.raises(StudioError, match="give matching"):
        train_pix2pix(cfg("wider", hints=True, width=8, init_from=str(tmp_path / "ck" / "plain")), max_images=4)
