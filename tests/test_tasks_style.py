"""Style transfer: the maths against direct formulas, the optimisation, options, weights, errors."""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from studio import StudioError
from studio.cli import main
from studio.tasks.style.engine import stylize
from studio.tasks.style.losses import gram, luminance, rgb_to_yiq, total_variation, yiq_to_rgb
from studio.models.vgg19 import HOW_TO_GET, VGGFeatures, fetch_vgg19, random_state, reference_features, resolve_weights


def picture(seed, size=(64, 48)):
    rng = np.random.default_rng(seed)
    base = np.zeros((size[1], size[0], 3), np.uint8)
    base[:, : size[0] // 2] = rng.integers(0, 255, 3)
    base[:, size[0] // 2:] = rng.integers(0, 255, 3)
    return Image.fromarray(np.clip(base + rng.integers(0, 40, base.shape), 0, 255).astype(np.uint8))


def test_gram_matches_the_formula_and_its_gradient():
    f = torch.randn(1, 8, 5, 6, dtype=torch.float64).contiguous(memory_format=torch.channels_last).requires_grad_()
    flat = f.detach().reshape(8, 30)
    assert torch.allclose(gram(f), flat @ flat.t() / (8 * 30))
    assert torch.autograd.gradcheck(lambda x: gram(x), (f,))


def test_tv_and_colour_transforms():
    x = torch.zeros(1, 3, 4, 4)
    x[..., 2:] = 1.0
    assert total_variation(x).item() == pytest.approx(4 / 12)  # 4 of 12 horizontal pairs differ by 1
    rgb = torch.rand(1, 3, 5, 5)
    assert torch.allclose(yiq_to_rgb(rgb_to_yiq(rgb)), rgb, atol=1e-5)
    grey = luminance(rgb)
    assert torch.allclose(grey[:, 0], grey[:, 1]) and torch.allclose(grey[:, 0], rgb_to_yiq(rgb)[:, 0])


def test_vgg_features_equal_torchvision_layers():
    state = random_state(1)
    taps = ["conv1_1", "conv3_1", "conv4_2"]
    x = torch.rand(1, 3, 40, 36)
    ours, theirs = VGGFeatures(state, taps)(x), reference_features(state, x, taps)
    for t in taps:
        assert torch.allclose(ours[t], theirs[t], rtol=1e-4, atol=1e-5), t


@pytest.mark.parametrize("network", ["vgg19", "lite1"])
def test_loss_halves_within_30_steps(network):
    steps = list(stylize(picture(0), picture(1), size=64, steps=30, weights="random", seed=0, multiscale=False,
                         network=network))
    assert len(steps) == 30 and steps[-1].image.size == (64, 48)
    assert steps[-1].total <= 0.5 * steps[0].total
    assert [s.step for s in steps if s.image is not None] == [10, 20, 30]


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_optimisation_does_not_depend_on_the_scale_of_the_loss(optimizer):
    # Tiny losses give tiny gradients (as large pictures do: the losses are means over
    # pixels); torch's L-BFGS and Adam have absolute thresholds that stalled such runs.
    def totals(scale):
        return [s.total / scale for s in stylize(picture(0), picture(1), size=64, steps=12, weights="random",
                                                 network="vgg19", parameterisation="pixels",
                                                 seed=0, multiscale=False, optimizer=optimizer, style_weight=1e6 * scale,
                                                 content_weight=scale, tv_weight=10 * scale)]
    plain, tiny = totals(1.0), totals(1e-9)
    assert tiny[-1] <= 0.7 * tiny[0]
    assert tiny[-1] == pytest.approx(plain[-1], rel=0.02)


@pytest.mark.parametrize("options", [
    {"optimizer": "adam"}, {"preserve_colors": True}, {"init": "noise", "seed": 3},
    {"style_blend": [0.7, 0.3], "style": "two"}, {"style_scale": 0.5}, {"multiscale": True, "size": 128},
    {"tv_weight": 0.0, "content_weight": 0.0}, {"network": "lite1", "parameterisation": "pixels"},
    {"network": "vgg19", "parameterisation": "pyramid", "match_colours": True}, {"network": "lite1", "match_colours": False},
])
def test_every_option_runs(options):
    options = dict(options)
    style = [picture(1), picture(2)] if options.pop("style", None) == "two" else picture(1)
    size = options.pop("size", 64)
    steps = list(stylize(picture(0), style, size=size, steps=4, weights="random", **options))
    assert len(steps) == 4 and steps[-1].image is not None and max(steps[-1].image.size) == size
    assert all(np.isfinite(s.total) for s in steps)


def test_multiscale_runs_small_then_full():
    sizes = [s.size for s in stylize(picture(0), picture(1), size=128, steps=6, weights="random")]
    assert sizes == [64, 64, 64, 128, 128, 128]


def test_stopping_the_iterator_stops_the_work():
    it = stylize(picture(0), picture(1), size=64, steps=1000, weights="random")
    first = next(it)
    it.close()
    assert first.step == 1
    with pytest.raises(StopIteration):
        next(it)


@pytest.mark.parametrize("kwargs,message", [
    ({"size": 5}, "Size"), ({"steps": 0}, "Steps"), ({"steps": float("nan")}, "Steps"), ({"optimizer": "sgd"}, "Optimizer"),
    ({"style_weight": -1}, "Style weight"), ({"init": "zeros"}, "init"), ({"style_blend": [1, 2]}, "style_blend"),
    ({"network": "resnet"}, "Style network must be one of"), ({"parameterisation": "fourier"}, "parameterisation"),
    ({"colour": True}, "Unknown style setting"), ({"network": "vgg19", "style_layers": ["conv9_9"]}, "Unknown VGG19 layer"),
])
def test_bad_options_are_refused_before_any_work(kwargs, message):
    with pytest.raises(StudioError, match=message):
        stylize(picture(0), picture(1), weights="random", **kwargs)


def test_a_weights_file_is_for_vgg19_only():
    with pytest.raises(StudioError, match="for VGG19 only"):
        stylize(picture(0), picture(1), network="lite1", weights="my.pth")


def test_bad_pictures_are_refused():
    with pytest.raises(StudioError, match="could not be read"):
        stylize(b"not an image", picture(1), weights="random")
    with pytest.raises(StudioError, match="at least 16x16"):
        stylize(Image.new("RGB", (1, 1)), picture(1), weights="random")


def test_weights_from_every_accepted_format(tmp_path):
    state = random_state(2)
    save_file(state, str(tmp_path / "features.safetensors"))
    torch.save(state, tmp_path / "features.pth")
    full = {f"features.{k}": v for k, v in state.items()} | {"classifier.0.weight": torch.zeros(2, 2)}
    torch.save(full, tmp_path / "full.pth")
    for name in ("features.safetensors", "features.pth", "full.pth"):
        loaded, source = resolve_weights(tmp_path / name)
        assert source.endswith(name) and all(torch.equal(loaded[k], state[k]) for k in state)
    torch.save({"0.weight": torch.zeros(3)}, tmp_path / "wrong.pth")
    with pytest.raises(StudioError, match="not a torchvision VGG19"):
        resolve_weights(tmp_path / "wrong.pth")
    (tmp_path / "corrupt.safetensors").write_bytes(b"junk")
    with pytest.raises(StudioError, match="could not be read"):
        resolve_weights(tmp_path / "corrupt.safetensors")
    with pytest.raises(StudioError, match="does not exist"):
        resolve_weights(tmp_path / "none.pth")


def test_missing_weights_say_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("STUDIO_VGG_WEIGHTS", raising=False)
    with pytest.raises(StudioError, match="studio fetch vgg19") as info:
        resolve_weights(None, root=tmp_path / "checkpoints")
    assert str(info.value) == HOW_TO_GET


def test_fetch_keeps_the_features_as_fp16_safetensors(tmp_path, monkeypatch):
    # torchvision's download is replaced: tests never touch the network.
    import torchvision.models._api as api

    state = random_state(3)
    calls = []

    def download(url, **kwargs):
        calls.append((url, kwargs))
        return {f"features.{k}": v for k, v in state.items()} | {"classifier.0.weight": torch.zeros(4, 4)}

    monkeypatch.setattr(api, "load_state_dict_from_url", download)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("STUDIO_VGG_WEIGHTS", raising=False)
    target = fetch_vgg19(tmp_path / "checkpoints")
    assert target == tmp_path / "checkpoints" / "vgg19" / target.name and target.suffix == ".safetensors"
    assert calls[0][0].endswith("vgg19-dcbb9e9d.pth") and calls[0][1]["check_hash"] is True
    loaded, source = resolve_weights(None, root=tmp_path / "checkpoints")
    assert source == str(target) and set(loaded) == set(state)
    assert all(torch.equal(loaded[k], state[k].half().float()) for k in state)
    assert fetch_vgg19(tmp_path / "checkpoints") == target and len(calls) == 1  # once only

    def offline(url, **kwargs):
        raise OSError("Name or service not known")

    monkeypatch.setattr(api, "load_state_dict_from_url", offline)
    with pytest.raises(StudioError, match="could not be downloaded"):
        fetch_vgg19(tmp_path / "elsewhere")
    assert not (tmp_path / "elsewhere" / "vgg19").exists()


def test_cli_writes_picture_and_log(tmp_path, capsys):
    picture(0).save(tmp_path / "c.png")
    picture(1).save(tmp_path / "s.jpg")
    out, log = tmp_path / "out.png", tmp_path / "log.jsonl"
    code = main(["stylize", "--content", str(tmp_path / "c.png"), "--style", str(tmp_path / "s.jpg"), "--size", "64",
                 "--steps", "3", "--vgg-weights", "random", "--out", str(out), "--log", str(log)])
    assert code == 0 and Image.open(out).size == (64, 48)
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3] and set(rows[0]) == {"step", "style", "content", "tv", "total", "seconds"}
