import numpy as np
import pytest
import torch

from studio import Registry, StudioError, interpolate, sample
from studio.tasks.latent import latents, parse_class_mix, parse_seeds, slerp
from studio.validate import MAX_SEED

from .conftest import same_picture


def arr(image):
    return np.asarray(image, dtype=np.int16)


@pytest.fixture
def models(ckpt_root):
    registry = Registry(ckpt_root)
    return registry.get("tiny-latent"), registry.get("tiny-classes")


def test_seed_determinism_and_variety(models):
    g, _ = models
    a = sample(g, [1, 2, 1])
    assert a[0].size == (64, 64) and a[0].mode == "RGB"
    assert np.array_equal(arr(a[0]), arr(a[2]))
    assert not np.array_equal(arr(a[0]), arr(a[1]))
    assert np.array_equal(arr(sample(g, 1)[0]), arr(a[0]))


def test_latents_are_drawn_on_cpu_per_seed():
    z = latents([7, 8], 16)
    assert z.device.type == "cpu"
    assert torch.equal(z[0], torch.randn(16, generator=torch.Generator().manual_seed(7)))


def test_truncation_zero_gives_one_picture(models):
    g, c = models
    pics = sample(g, [1, 2, 3], truncation=0.0)
    assert all(np.array_equal(arr(pics[0]), arr(p)) for p in pics)
    pics = sample(c, [1, 2, 3], truncation=0.0, classes="squares")
    assert all(np.array_equal(arr(pics[0]), arr(p)) for p in pics)
    assert not np.array_equal(arr(sample(g, [1], 0.5)[0]), arr(sample(g, [1], 1.0)[0]))


def test_class_by_name_index_and_mix(models):
    _, c = models
    by_name = sample(c, [3], classes="stripes")[0]
    assert np.array_equal(arr(by_name), arr(sample(c, [3], classes=2)[0]))
    assert np.array_equal(arr(by_name), arr(sample(c, [3], classes="STRIPES")[0]))
    assert np.array_equal(arr(by_name), arr(sample(c, [3], classes={"stripes": 1.0, "circles": 0.0})[0]))
    assert np.array_equal(arr(by_name), arr(sample(c, [3], classes=[0, 0, 5])[0]))
    mixed = arr(sample(c, [3], classes={"stripes": 0.5, "circles": 0.5})[0])
    circles = arr(sample(c, [3], classes="circles")[0])
    assert not np.array_equal(mixed, arr(by_name)) and not np.array_equal(mixed, circles)


@pytest.mark.parametrize("classes,message", [(None, "Choose a class"), ("hats", "Unknown class"), (7, "out of range"),
                                             ({"circles": -1}, "not negative"), ({"circles": 0}, "positive"),
                                             ({"circles": float("nan")}, "finite")])
def test_class_errors(models, classes, message):
    with pytest.raises(StudioError, match=message):
        sample(models[1], [1], classes=classes)


def test_unconditional_refuses_a_class(models):
    with pytest.raises(StudioError, match="not class-conditional"):
        sample(models[0], [1], classes="circles")


@pytest.mark.parametrize("seed", [-1, MAX_SEED + 1, 2**40, 1.5, float("nan"), float("inf"), "x", None, True])
def test_bad_seeds(models, seed):
    with pytest.raises(StudioError, match="[Ss]eed"):
        sample(models[0], [seed])


@pytest.mark.parametrize("psi", [-0.1, 1.5, float("nan"), float("inf"), "a", None])
def test_bad_truncation(models, psi):
    with pytest.raises(StudioError, match="Truncation"):
        sample(models[0], [1], truncation=psi)


def test_extreme_seeds_work(models):
    assert len(sample(models[0], [0, MAX_SEED])) == 2


def test_interpolate_ends_on_the_seeds(models):
    g, c = models
    frames = interpolate(g, 4, 9, 5, truncation=0.9)
    assert len(frames) == 5
    a, b = sample(g, [4, 9], truncation=0.9)
    assert same_picture(frames[0], a) and same_picture(frames[-1], b)
    assert len(interpolate(c, 1, 2, 3, classes={"circles": 1, "squares": 1}, mode="lerp")) == 3
    for bad in (1, 0, 10_000, 2.5):
        with pytest.raises(StudioError, match="Frames"):
            interpolate(g, 1, 2, bad)
    with pytest.raises(StudioError, match="mode"):
        interpolate(g, 1, 2, 3, mode="cubic")


def test_slerp_keeps_the_norm_of_orthogonal_unit_vectors():
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    path = slerp(a, b, torch.linspace(0, 1, 7))
    assert torch.allclose(path.norm(dim=1), torch.ones(7), atol=1e-6)
    assert torch.allclose(path[0], a) and torch.allclose(path[-1], b, atol=1e-6)


def test_parse_seeds_and_class_mix():
    assert parse_seeds("1,2,5-8") == [1, 2, 5, 6, 7, 8]
    assert parse_seeds(" 3 ") == [3]
    for bad in ("", "a", "5-2", "-3", "1-99999"):
        with pytest.raises(StudioError):
            parse_seeds(bad)
    assert parse_class_mix("faces") == "faces"
    assert parse_class_mix("faces=0.7, animals=0.3") == {"faces": 0.7, "animals": 0.3}
    with pytest.raises(StudioError):
        parse_class_mix("faces=x")
