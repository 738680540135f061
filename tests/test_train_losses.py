"""The GAN training options: losses, penalties, learning-rate schedules (issue: the GAN toolbox)."""

from __future__ import annotations

import json
import math

import pytest
import torch
from safetensors.torch import load_file

from studio import Registry, sample
from studio.train.gan import GanConfig, train_gan
from studio.train.losses import d_loss, g_loss, gradient_penalty, r1_penalty, top_k
from studio.train.schedules import lr_factor

from .conftest import make_image_folder

OPTIONS = {
    "hinge": {"loss": "hinge"},
    "wgan-gp": {"loss": "wgan-gp", "d_norm": "none", "n_critic": 2},
    "ns-r1": {"r1": 1.0},
    "cosine-warmup": {"lr_schedule": "cosine", "lr_warmup": 16},
    "step": {"lr_schedule": "step", "lr_step": 16, "lr_gamma": 0.5},
    "top-k": {"top_k": 0.5},
}


def config(tmp_path, data, name, **kw):
    return GanConfig(data=str(data), name=name, batch=8, width=4, z_dim=8, checkpoints=str(tmp_path / "ck"),
                     run_dir=str(tmp_path / "runs" / name), threads=1, amp=False,
                     **{"monitor": False, **kw})


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_option_trains_loads_and_resumes_bit_for_bit(tmp_path, option):
    data = make_image_folder(tmp_path / "flat")
    kw = OPTIONS[option]
    kw = {**kw, "epochs": 8}  # 6 training pictures: a 48-image run, stopped halfway once and resumed
    train_gan(config(tmp_path, data, "whole", **kw))
    train_gan(config(tmp_path, data, "halves", **kw), max_images=24)
    train_gan(config(tmp_path, data, "halves", **kw), resume=True)
    whole, halves = (load_file(str(tmp_path / "runs" / n / "state.safetensors")) for n in ("whole", "halves"))
    assert whole.keys() == halves.keys() and all(torch.equal(whole[k], halves[k]) for k in whole)
    spec = Registry(tmp_path / "ck").spec("whole")
    assert all(spec.raw["recipe"][key] == value for key, value in kw.items() if key != "epochs")
    assert sample(Registry(tmp_path / "ck").get("whole"), [0, 1])[0].size == (64, 64)
    rows = [json.loads(line) for line in (tmp_path / "runs" / "whole" / "losses.jsonl").read_text().splitlines()]
    assert all("lr" in row for row in rows)


def test_schedules_are_their_closed_forms():
    total = 1000
    assert lr_factor(300, total) == 1.0
    assert lr_factor(250, total, "linear") == pytest.approx(0.75)
    assert lr_factor(250, total, "cosine") == pytest.approx((1 + math.cos(math.pi / 4)) / 2)
    assert lr_factor(total, total, "cosine") == pytest.approx(0.0)
    assert lr_factor(250, total, "step", step=100, gamma=0.5) == pytest.approx(0.25)
    assert lr_factor(50, total, "cosine", warmup=200) == pytest.approx(0.25 * (1 + math.cos(math.pi * 0.05)) / 2)


def test_a_run_ends_at_the_rate_its_schedule_gives(tmp_path):
    data = make_image_folder(tmp_path / "flat")
    train_gan(config(tmp_path, data, "cos", lr_schedule="cosine", epochs=8), max_images=40)
    state = json.loads((tmp_path / "runs" / "cos" / "state.json").read_text())
    last_step_images = 32  # the rate is set before each step from the images seen so far
    expected = 2e-4 * (1 + math.cos(math.pi * last_step_images / 48)) / 2  # planned: 8 epochs of 6 pictures
    rates = {g["lr"] for opt in state["optimizers"].values() for g in opt["param_groups"]}
    assert len(rates) == 1 and rates.pop() == pytest.approx(expected)


def test_gradient_penalty_and_r1_on_a_toy_critic():
    w = torch.tensor([3.0, 4.0]).view(1, 2, 1, 1)  # critic(x) = <w, x>: gradient w everywhere, |w| = 5
    real, fake = torch.randn(4, 2, 1, 1), torch.randn(4, 2, 1, 1)
    assert gradient_penalty(lambda x: (w * x).sum(dim=(1, 2, 3)), real, fake).item() == pytest.approx((5 - 1) ** 2)
    # critic(x) = |x|^2 / 2: gradient x, so R1 is the mean squared norm of the real pictures.
    r1 = r1_penalty(lambda x: 0.5 * x.square().sum(dim=(1, 2, 3)), real)
    assert r1.item() == pytest.approx(real.square().sum(dim=(1, 2, 3)).mean().item())


def test_losses_on_known_logits():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    assert d_loss("hinge", real, fake).item() == pytest.approx((0 + 2) / 2 + (1.5 + 0) / 2)
    assert d_loss("wgan-gp", real, fake).item() == pytest.approx(-1.25 - 0.5)
    assert g_loss("hinge", fake).item() == pytest.approx(1.25)
    softplus = lambda v: math.log1p(math.exp(v))  # noqa: E731
    assert d_loss("ns", real, fake).item() == pytest.approx((softplus(-2) + softplus(1)) / 2 + (softplus(0.5) + softplus(-3)) / 2)


def test_top_k_keeps_the_fakes_rated_most_real():
    fake = torch.tensor([0.5, -3.0, 2.0, 1.0, -1.0])
    assert sorted(top_k(fake, 0.5).tolist()) == [0.5, 1.0, 2.0]  # ceil(2.5) of 5
    assert top_k(fake, 0.01).tolist() == [2.0]
    assert top_k(fake, 1.0) is fake
    grad = torch.zeros(5, requires_grad=True)
    g_loss("ns", top_k(fake + grad, 0.4)).backward()  # the two best fakes take all the gradient
    assert (grad.grad != 0).tolist() == [False, False, True, True, False]


def test_collapse_monitor_warns_below_the_stated_fraction():
    from studio.train.monitor import COLLAPSE_FRACTION, DiversityMonitor

    real = torch.randint(0, 256, (16, 3, 64, 64), dtype=torch.uint8)
    real[:8, :, :32] = 255  # two kinds of picture, so that the real ones are spread out
    monitor = DiversityMonitor(real)
    as_generated = real.float() / 127.5 - 1
    spread = monitor.measure(as_generated)
    assert spread["diversity_ratio"] == pytest.approx(1.0, abs=1e-3) and monitor.warning(spread, 5) is None
    copies = monitor.measure(as_generated[:1].expand(16, -1, -1, -1))
    assert copies["diversity"] == pytest.approx(0.0, abs=1e-3) and copies["diversity_ratio"] < COLLAPSE_FRACTION
    assert "possible mode collapse at step 5" in monitor.warning(copies, 5)


def test_tensorboard_events_and_the_diversity_log(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    data = make_image_folder(tmp_path / "flat")
    train_gan(config(tmp_path, data, "board", tensorboard=True, monitor=True, lr_schedule="linear", epochs=30))
    events = EventAccumulator(str(tmp_path / "runs" / "board" / "tensorboard"))
    events.Reload()
    scalars = set(events.Tags()["scalars"])
    assert {"loss_d", "loss_g", "lr", "images_per_s", "diversity", "diversity_ratio"} <= scalars
    assert "samples" in events.Tags()["images"]
    rows = [json.loads(line) for line in (tmp_path / "runs" / "board" / "losses.jsonl").read_text().splitlines()]
    assert any("diversity" in row for row in rows) and (tmp_path / "runs" / "board" / "diversity.png").exists()


def test_wgan_gp_starts_its_generator_where_first_pictures_differ():
    """Under N(0, 0.02) the first pictures are nearly equal, so a WGAN critic's gradient at them is nearly
    one vector and G learns only the mean picture: wgan-gp starts G from PyTorch's initialisation."""
    from studio.models import build
    from studio.models.dcgan import init_torch_default

    wgan = GanConfig(data="d", name="n", loss="wgan-gp", d_norm="none")
    assert wgan.g_init == "torch" and GanConfig(data="d", name="n").g_init == "dcgan"
    assert GanConfig(data="d", name="n", loss="wgan-gp", d_norm="none", g_init="dcgan").g_init == "dcgan"
    torch.manual_seed(0)
    g, z = build("dcgan", {"width": 8, "z_dim": 16}), torch.randn(16, 16)
    with torch.no_grad():
        before = g(z).std(dim=0).mean()  # (3, 64, 64) spread over the batch, averaged
        init_torch_default(g)
        after = g(z).std(dim=0).mean()
    assert after > 2.5 * before
