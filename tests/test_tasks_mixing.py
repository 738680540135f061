"""Sampling a style-based generator: seeds, truncation in w (towards the mean or a cluster), noise
modes, walks and style mixing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import studio
from studio import StudioError
from studio.models import build
from studio.models.stylegan import CLUSTERS, kmeans
from studio.tasks.mixing import inputs, level_range, mix_ws, ws_of

from .conftest import same_picture


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    g = build("stylegan", {"z_dim": 8, "w_dim": 8, "width": 4, "image_size": 32, "mapping_layers": 2}).eval()
    with torch.no_grad():
        g.w_avg.normal_()  # a mean w that is not the origin
        for layer in g.layers:
            layer.noise_strength.fill_(0.5)  # noise that shows
    return g


def arrays(pictures):
    return [np.asarray(p, dtype=np.int16) for p in pictures]


def test_a_seed_is_one_picture_and_psi_0_is_the_average_picture(model):
    a, b = arrays(studio.sample(model, [3, 4, 3])), arrays(studio.sample(model, [3]))
    assert (a[0] == a[2]).all() and same_picture(a[0], b[0]) and not same_picture(a[0], a[1])
    mean = arrays(studio.sample(model, [1, 2, 99], truncation=0.0))
    assert (mean[0] == mean[1]).all() and (mean[0] == mean[2]).all()


def test_noise_modes(model):
    seeded, const, none = (arrays(studio.sample(model, [1, 1], noise=mode)) for mode in ("seed", "const", "none"))
    assert (seeded[0] == seeded[1]).all() and not (seeded[0] == const[0]).all() and not (const[0] == none[0]).all()
    random = arrays(studio.sample(model, [1, 1], noise="random"))
    assert not (random[0] == random[1]).all()
    with pytest.raises(StudioError, match="Noise must be one of seed, const, random, none"):
        studio.sample(model, [1], noise="loud")


def test_truncation_moves_w_towards_the_mean(model):
    z, _ = inputs(model, [5], "none")
    w1, w_half = ws_of(model, z, 1.0), ws_of(model, z, 0.5)
    assert torch.allclose(w_half, model.w_avg + 0.5 * (w1 - model.w_avg), atol=1e-5)


def test_a_walk_in_w_starts_and_ends_at_its_seeds(model):
    walk = arrays(studio.interpolate(model, 1, 2, 5, truncation=0.9))
    ends = arrays(studio.sample(model, [1], truncation=0.9))
    assert len(walk) == 5 and same_picture(walk[0], ends[0]) and not same_picture(walk[1], ends[0])


def test_mixing_takes_the_style_seeds_w_at_the_chosen_levels(model):
    a, b = torch.zeros(1, model.n_ws, 8), torch.ones(1, model.n_ws, 8)
    took = mix_ws(model, a, b, "coarse")[0, :, 0]
    assert took.tolist() == [float(4 <= r <= 8) for r in model.resolutions]
    assert level_range((8, 16)) == (8, 16) and level_range("fine")[0] == 64
    everything = arrays(studio.style_mix(model, [1], [2], levels=(1, 4096), noise="none"))
    assert (everything[0] == arrays(studio.sample(model, [2], noise="none"))[0]).all()
    grid = studio.style_mix(model, [1, 2], [3, 4, 5], levels="middle")
    assert len(grid) == 6 and studio.mixing_figure(model, [1, 2], [3, 4, 5]).size == (4 * 34 + 2, 3 * 34 + 2)


@pytest.mark.parametrize("kwargs,message", [({"levels": "huge"}, "Levels must be one of coarse, middle, fine"),
                                            ({"levels": (32, 8)}, "must not be above"),
                                            ({"levels": (128, 256)}, "No layer of this model works at 128-256 px"),
                                            ({"truncation": 2}, "Truncation must be a number from 0 to 1")])
def test_mixing_errors(model, kwargs, message):
    with pytest.raises(StudioError, match=message):
        studio.style_mix(model, [1], [2], **kwargs)


def test_only_unconditional_style_based_models_mix():
    with pytest.raises(StudioError, match="needs an unconditional style-based model"):
        studio.style_mix(build("dcgan", {"z_dim": 8, "width": 4}), [1], [2])
    conditional = build("stylegan", {"z_dim": 8, "w_dim": 8, "width": 4, "image_size": 32, "n_classes": 3})
    with pytest.raises(StudioError, match="needs an unconditional style-based model"):
        studio.style_mix(conditional, [1], [2])


def test_kmeans_finds_separated_clusters():
    gen = torch.Generator().manual_seed(0)
    truth = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    points = torch.cat([c + 0.1 * torch.randn(200, 2, generator=gen) for c in truth])
    found = kmeans(points, 3)
    assert torch.cdist(truth, found).min(dim=1).values.max() < 0.05  # each true centre has a found one on it


def test_truncation_towards_a_cluster_moves_w_towards_its_nearest_centre(model):
    z, _ = inputs(model, range(40), "none")
    centres = model.clusters()
    assert centres.shape == (CLUSTERS, 8) and torch.equal(centres, model.clusters())  # fitted once, kept
    w1, w0, w_half = (ws_of(model, z, psi, towards="cluster")[:, 0] for psi in (1.0, 0.0, 0.5))
    nearest = centres[torch.cdist(w1, centres).argmin(dim=1)]
    assert torch.equal(w1, ws_of(model, z, 1.0)[:, 0])  # psi 1: untouched
    assert torch.allclose(w0, nearest) and torch.allclose(w_half, nearest + 0.5 * (w1 - nearest), atol=1e-5)
    assert len(torch.unique(w0, dim=0)) > 1  # psi 0: one typical style per cluster, not one for all


def test_cluster_truncation_at_psi_0_gives_each_cluster_one_picture(model):
    pictures = arrays(studio.sample(model, range(40), truncation=0.0, towards="cluster"))
    z, _ = inputs(model, range(40), "none")
    cluster = torch.cdist(ws_of(model, z, 1.0)[:, 0], model.clusters()).argmin(dim=1).tolist()
    first = {}
    for picture, k in zip(pictures, cluster):
        assert (picture == pictures[first.setdefault(k, cluster.index(k))]).all()
    assert len(set(cluster)) > 1 and not all((p == pictures[0]).all() for p in pictures)


def test_centres_are_fitted_again_after_training():
    g = build("stylegan", {"z_dim": 8, "w_dim": 8, "width": 4, "image_size": 32, "mapping_layers": 2}).eval()
    before = g.clusters()
    with torch.no_grad():
        g.mapping.net[0].weight.mul_(2.0)  # as a training step would move it
    assert torch.equal(g.clusters(), before)  # kept while the model is not trained
    g.train().eval()
    assert not torch.equal(g.clusters(), before)


def test_towards_a_cluster_in_walks_and_mixing(model):
    walk = arrays(studio.interpolate(model, 1, 2, 4, truncation=0.3, towards="cluster"))
    ends = arrays(studio.sample(model, [1, 2], truncation=0.3, towards="cluster"))
    assert same_picture(walk[0], ends[0])
    # All levels from B, without noise (a mix keeps A's noise): B's picture, truncated the same way.
    everything = arrays(studio.style_mix(model, [1], [2], levels=(1, 4096), truncation=0.3, noise="none",
                                         towards="cluster"))
    assert (everything[0] == arrays(studio.sample(model, [2], 0.3, noise="none", towards="cluster"))[0]).all()


def test_towards_errors(model):
    with pytest.raises(StudioError, match="Truncate towards must be one of mean, cluster"):
        studio.sample(model, [1], 0.5, towards="median")
    dcgan = build("dcgan", {"z_dim": 8, "width": 4})
    conditional = build("stylegan", {"z_dim": 8, "w_dim": 8, "width": 4, "image_size": 32, "n_classes": 3})
    for other, classes in ((dcgan, None), (conditional, 0)):
        with pytest.raises(StudioError, match="Truncation towards a cluster needs an unconditional style-based"):
            studio.sample(other, [1], 0.5, classes=classes, towards="cluster")
    assert len(studio.sample(dcgan, [1], 0.5, towards="mean")) == 1
