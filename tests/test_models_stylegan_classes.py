"""The class-conditional style-based pair (cstylegan): classes into the mapping network,
truncation towards the class's mean w, a projection discriminator, and training that
resumes bit for bit."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import studio
from studio import Registry, StudioError, save_checkpoint
from studio.models import build
from studio.train.gan import train_gan
from studio.train.recipes import StyleGanConfig
from studio.ui.conditional import CLASS_HOOKS, NO_MIX
from studio.ui.explorer import Handlers

from .conftest import make_conditional, make_image_folder

TINY = {"z_dim": 8, "w_dim": 8, "width": 4, "image_size": 32, "mapping_layers": 2, "n_classes": 3}
CLASSES = ["circles", "squares", "stripes"]


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    g = build("stylegan", TINY).eval()
    with torch.no_grad():
        g.mapping.embed.weight.mul_(3)  # classes far apart, so that their pictures differ
    g.spec = None
    return g


def one_hot(*classes: int) -> torch.Tensor:
    return torch.eye(3)[list(classes)]


def test_the_class_enters_the_mapping_network(model):
    z = torch.randn(2, 8)
    ws_a, ws_b = model.ws(z, y=one_hot(0, 0)), model.ws(z, y=one_hot(1, 1))
    assert ws_a.shape == (2, model.n_ws, 8) and not torch.allclose(ws_a, ws_b)
    with pytest.raises(ValueError, match="needs class weights"):
        model.ws(z)
    with pytest.raises(ValueError, match="n_classes >= 2"):
        build("stylegan", {**TINY, "n_classes": 1})
    assert "centre_z" not in model.state_dict()  # rebuilt from its seed, never saved


def test_truncation_moves_towards_the_class_mean(model):
    z = torch.randn(4, 8)
    y = one_hot(0, 1, 1, 2)
    centre = model.centre(y)
    assert torch.allclose(centre[1], centre[2]) and not torch.allclose(centre[0], centre[1])
    assert torch.allclose(centre[3], model.mapping(model.centre_z, one_hot(2).expand(len(model.centre_z), -1)).mean(0))
    w1, w_half = model.ws(z, 1.0, y)[:, 0], model.ws(z, 0.5, y)[:, 0]
    assert torch.allclose(w_half, centre + 0.5 * (w1 - centre), atol=1e-5)


def test_psi_0_is_one_picture_per_class(model):
    model.spec = None
    a = [np.asarray(p) for p in studio.sample(model, [1, 2, 3], truncation=0.0, classes=0)]
    b = np.asarray(studio.sample(model, [1], truncation=0.0, classes=1)[0])
    assert (a[0] == a[1]).all() and (a[0] == a[2]).all() and not (a[0] == b).all()
    mix = np.asarray(studio.sample(model, [1], truncation=0.0, classes={0: 1, 1: 1})[0])
    assert not (mix == a[0]).all() and not (mix == b).all()
    with pytest.raises(StudioError, match="Choose a class"):
        studio.sample(model, [1])


def test_the_projection_discriminator_reads_the_class():
    torch.manual_seed(0)
    d = build("stylegan-d", {"width": 4, "image_size": 32, "n_classes": 3, "classifier": True})
    with torch.no_grad():
        d.embed.weight.mul_(10)
    x = torch.randn(4, 3, 32, 32)
    logit, classes, twin = d(x, one_hot(0, 1, 2, 0), with_classes=True)
    assert logit.shape == (4,) and classes.shape == (4, 3) and twin is None
    assert not torch.allclose(logit, d(x, one_hot(1, 2, 0, 1)))
    with pytest.raises(ValueError, match="needs class weights"):
        d(x)


def config(tmp_path, data, name, **kw):
    return StyleGanConfig(data=str(data), name=name, conditional=True, batch=6, width=4, z_dim=8, w_dim=8,
                          mapping_layers=2, image_size=32, checkpoints=str(tmp_path / "ck"),
                          run_dir=str(tmp_path / "runs" / name), threads=1, monitor=False, **kw)


def test_training_resumes_bit_for_bit_and_ships_a_conditional_model(tmp_path):
    data = make_image_folder(tmp_path / "classes", classes=CLASSES)
    train_gan(config(tmp_path, data, "straight", r1=1.0), max_images=36)
    train_gan(config(tmp_path, data, "interrupted", r1=1.0), max_images=18)
    train_gan(config(tmp_path, data, "interrupted", r1=1.0), resume=True, max_images=36)
    a = load_file(str(tmp_path / "runs" / "straight" / "state.safetensors"))
    b = load_file(str(tmp_path / "runs" / "interrupted" / "state.safetensors"))
    assert a.keys() == b.keys() and any("classifier" in k for k in a)  # the auxiliary class head (default on)
    for key in a:
        if key != "rng.torch":
            assert torch.equal(a[key], b[key]), key
    spec = Registry(tmp_path / "ck").spec("straight")
    assert spec.task == "conditional" and list(spec.labels) == CLASSES and spec.raw["arch"] == "stylegan"
    assert spec.raw["arch_args"]["n_classes"] == 3
    pictures = studio.sample(Registry(tmp_path / "ck").get("straight"), [1, 2], classes="squares", truncation=0.7)
    assert [p.size for p in pictures] == [(32, 32)] * 2
    assert json.loads((tmp_path / "runs" / "straight" / "state.json").read_text())["info"]["step"] == 6


def test_no_twin_classifier(tmp_path):
    with pytest.raises(StudioError, match="no twin classifier"):
        config(tmp_path, tmp_path, "run", twin_loss=1.0).check()


def test_the_class_tab_explores_a_style_based_model(tmp_path):
    torch.manual_seed(0)
    save_checkpoint(build("stylegan", TINY), "tiny-style-classes",
                    {"task": "conditional", "image_size": 32, "labels": CLASSES}, root=tmp_path)
    handlers = Handlers(Registry(tmp_path), CLASS_HOOKS)
    picture, grid, message = handlers.explore("tiny-style-classes", 5, 0.7, "squares", "circles", 0.5)
    assert message == "" and len(grid) == 9 and picture.size[0] >= 32
    strip, gif, message = handlers.walk("tiny-style-classes", 5, 6, 3, 0.7, "slerp", "squares", NO_MIX, 0.5)
    assert message == "" and len(strip) == 3
    assert handlers.path_shown("tiny-style-classes")["visible"] is False  # it walks straight in w
    make_conditional(tmp_path)
    assert Handlers(Registry(tmp_path), CLASS_HOOKS).path_shown("tiny-classes")["visible"] is True  # slerp or lerp in z
