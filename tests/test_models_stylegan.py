"""The style-based generator: shapes, demodulation, its mean w through a save and a load,
and a few training steps that resume bit for bit."""

import json

import pytest
import torch
from safetensors.torch import load_file

from studio import Registry, sample
from studio.errors import StudioError
from studio.models import build
from studio.models.stylegan import MappingNetwork, ModulatedConv
from studio.train.gan import train_gan
from studio.train.recipes import StyleGanConfig

from .conftest import make_image_folder

TINY = {"z_dim": 8, "w_dim": 8, "width": 4, "image_size": 32, "mapping_layers": 2}


def test_mapping_and_synthesis_shapes():
    g = build("stylegan", TINY).eval()
    z = torch.randn(5, 8)
    assert MappingNetwork(8, 16, 3)(z).shape == (5, 16)
    ws = g.ws(z)
    assert ws.shape == (5, g.n_ws, 8) and g.n_ws == len(g.layers) + 1  # a w per conv layer and the last tRGB
    assert g.resolutions == (4, 8, 8, 16, 16, 32, 32, 32)
    noise = [torch.randn(1, *s) for s in g.noise_shapes()]
    assert g.synthesis(ws, noise).shape == (5, 3, 32, 32)


def test_noise_only_from_its_resolution_up():
    torch.manual_seed(0)
    g = build("stylegan", {**TINY, "noise_from": 16}).eval()
    assert [layer.noise_strength is not None for layer in g.layers] == [False, False, False, True, True, True, True]
    assert build("stylegan", TINY).layers[0].noise_strength is not None  # the default: every layer, as before
    with torch.no_grad():
        for layer in g.layers[3:]:
            layer.noise_strength.fill_(0.5)
        ws = g.ws(torch.randn(2, 8))
        noise = [torch.randn(1, *s) for s in g.noise_shapes()]
        picture = g.synthesis(ws, noise)
        coarse = [torch.randn_like(n) if n.shape[-1] < 16 else n for n in noise]
        fine = [torch.randn_like(n) if n.shape[-1] == 32 else n for n in noise]
        assert torch.equal(g.synthesis(ws, coarse), picture)  # 4-8 px layers ignore their maps
        assert not torch.allclose(g.synthesis(ws, fine), picture)


def test_demodulation_keeps_unit_output_variance():
    torch.manual_seed(0)
    conv = ModulatedConv(64, 64, 3, w_dim=16)
    with torch.no_grad():
        conv.affine.bias.uniform_(0.2, 3.0)  # styles far from 1: without demodulation the scale would follow them
    x, w = torch.randn(8, 64, 16, 16), torch.randn(8, 16)
    with torch.no_grad():
        std = conv(x, w)[:, :, 2:-2, 2:-2].std().item()  # away from the zero padding
        conv.demodulate = False
        raw = conv(x, w)[:, :, 2:-2, 2:-2].std().item()
    assert std == pytest.approx(1.0, abs=0.05)
    assert abs(raw - 1.0) > 0.3


def config(tmp_path, data, name, **kw):
    return StyleGanConfig(data=str(data), name=name, batch=8, width=4, z_dim=8, w_dim=8, mapping_layers=2,
                          image_size=32, checkpoints=str(tmp_path / "ck"), run_dir=str(tmp_path / "runs" / name),
                          threads=1, monitor=False, **kw)


def test_training_ships_w_avg_and_the_registry_loads_it(tmp_path):
    data = make_image_folder(tmp_path / "flat")
    train_gan(config(tmp_path, data, "style"), max_images=24)
    registry = Registry(tmp_path / "ck")
    spec = registry.spec("style")
    assert spec.raw["arch"] == "stylegan" and spec.raw["recipe"]["mix_prob"] == 0.9
    shipped = load_file(str(tmp_path / "ck" / "style" / "model.safetensors"))
    assert shipped["w_avg"].abs().sum() > 0  # the running mean moved during training and was saved
    model = registry.get("style")
    assert torch.equal(model.w_avg, shipped["w_avg"])
    a, b = sample(model, [4], truncation=0.0)[0], sample(model, [9], truncation=0.0)[0]
    assert a.size == (32, 32) and a.tobytes() == b.tobytes()  # psi 0: the picture of the mean w


def test_a_resumed_run_takes_exactly_the_same_steps(tmp_path):
    data = make_image_folder(tmp_path / "flat")
    train_gan(config(tmp_path, data, "straight", r1=1.0), max_images=48)
    train_gan(config(tmp_path, data, "interrupted", r1=1.0), max_images=24)
    assert json.loads((tmp_path / "runs" / "interrupted" / "state.json").read_text())["info"]["step"] == 3
    train_gan(config(tmp_path, data, "interrupted", r1=1.0), resume=True, max_images=48)
    a = load_file(str(tmp_path / "runs" / "straight" / "state.safetensors"))
    b = load_file(str(tmp_path / "runs" / "interrupted" / "state.safetensors"))
    assert a.keys() == b.keys() and any("w_avg" in k for k in a)
    for key in a:
        if key != "rng.torch":
            assert torch.equal(a[key], b[key]), key


def test_resuming_with_other_networks_names_the_flags_to_give(tmp_path):
    data = make_image_folder(tmp_path / "flat")
    train_gan(config(tmp_path, data, "run", noise_from=4), max_images=8)
    with pytest.raises(StudioError, match=r"--noise-from 4 \(not 32\)"):
        train_gan(config(tmp_path, data, "run"), resume=True, max_images=16)


def test_the_discriminator_takes_its_own_width(tmp_path):
    data = make_image_folder(tmp_path / "flat")
    train_gan(config(tmp_path, data, "run", d_width=8), max_images=8)
    spec = Registry(tmp_path / "ck").spec("run")
    assert spec.raw["arch_args"]["width"] == 4 and spec.raw["recipe"]["d_arch_args"]["width"] == 8
    with pytest.raises(StudioError, match=r"--d-width 8\.$"):  # the same discriminator; no "(not None)"
        train_gan(config(tmp_path, data, "run"), resume=True, max_images=16)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU here")
def test_a_seed_is_the_same_picture_on_the_gpu(tmp_path):
    from .conftest import make_style
    make_style(tmp_path)
    cpu = Registry(tmp_path, device="cpu").get("tiny-style")
    gpu = Registry(tmp_path, device="cuda").get("tiny-style")
    for towards in ("mean", "cluster"):
        a, b = sample(cpu, [1, 2], 0.5, towards=towards)[0], sample(gpu, [1, 2], 0.5, towards=towards)[0]
        diff = torch.tensor(list(a.tobytes()), dtype=torch.int16) - torch.tensor(list(b.tobytes()), dtype=torch.int16)
        assert diff.abs().max() <= 2  # float differences between devices, not another picture
    assert torch.equal(cpu.clusters(), gpu.clusters().cpu())  # fitted on the CPU for either
