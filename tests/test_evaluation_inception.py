"""Inception FID / IS through torch-fidelity (`studio eval --inception`): the glue on tiny random
networks, the safe loading of the weights file, and the FD formula against a closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from studio import StudioError
from studio.evaluation.inception import FEATURES, LOGITS, WEIGHTS_FILE, inception_metrics, load_inception
from studio.evaluation.metrics import fd

fidelity = pytest.importorskip("torch_fidelity")


def test_fd_of_rotated_gaussians_is_the_closed_form():
    """Covariances R diag(a) R^T and R diag(b) R^T commute: FD = |mu_a - mu_b|^2 + sum (sqrt a - sqrt b)^2."""
    rng = np.random.default_rng(0)
    d, n = 6, 4000
    rotation, _ = np.linalg.qr(rng.normal(size=(d, d)))
    a, b = np.linspace(0.5, 3, d), np.linspace(2, 0.2, d)

    def exact(mu: np.ndarray, variances: np.ndarray) -> np.ndarray:
        """n points whose sample mean and covariance are exactly mu and R diag(variances) R^T."""
        z = rng.normal(size=(n, d))
        z -= z.mean(0)
        z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False)).T)  # whitened: covariance I
        return mu + z * np.sqrt(variances) @ rotation.T

    mu_a, mu_b = np.zeros(d), np.full(d, 0.5)
    expected = float(((mu_a - mu_b) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum())
    assert fd(exact(mu_a, a), exact(mu_b, b)) == pytest.approx(expected, rel=1e-9)


def tiny_extractor(classes: int = 10):
    """A random network with torch-fidelity's interface: uint8 pictures -> pool features and logits."""
    torch.manual_seed(0)
    body = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, 2), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
                               torch.nn.Flatten())
    head = torch.nn.Linear(8, classes)

    @torch.no_grad()
    def extract(images: torch.Tensor) -> dict[str, torch.Tensor]:
        h = body(images.float() / 127.5 - 1)
        return {FEATURES: h, LOGITS: head(h)}

    return extract


def pictures(n: int, seed: int, bright: int = 0) -> torch.Tensor:
    return (torch.randint(0, 200, (n, 3, 32, 32), generator=torch.Generator().manual_seed(seed)) + bright).to(torch.uint8)


def test_the_metrics_agree_with_our_own_fd_and_bound_the_inception_score():
    extract = tiny_extractor()
    generated, heldout, train = pictures(60, 1, bright=50), pictures(60, 2), pictures(60, 3)
    m = inception_metrics(extract, generated, heldout, train)
    ours = fd(extract(generated)[FEATURES].double().numpy(), extract(heldout)[FEATURES].double().numpy())
    assert m["fid"] == pytest.approx(ours, abs=5e-4)  # (reported to 3 decimals)
    assert m["fid"] > m["fid_floor_train_vs_heldout"]
    assert 1.0 <= m["is_mean"] <= 10 and 1.0 <= m["is_heldout_real"] <= 10
    assert "InceptionV3" in m["feature_space"]


def test_missing_or_wrong_weights_get_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(StudioError, match=f"No Inception weights at .*{WEIGHTS_FILE}: download https://"):
        load_inception()
    text = tmp_path / "weights.pth"
    text.write_text("not weights")
    with pytest.raises(StudioError, match="not a PyTorch weights file that can be read safely"):
        load_inception(text)
    code = tmp_path / "code.pth"
    torch.save({"w": torch.zeros(1), "run": math.sqrt}, code)  # a pickled function: refused, never run
    with pytest.raises(StudioError, match="read safely"):
        load_inception(code)
    other = tmp_path / "other.pth"
    torch.save({"conv.weight": torch.zeros(1)}, other)
    with pytest.raises(StudioError, match="not the InceptionV3 torch-fidelity expects"):
        load_inception(other)
    for error in (text, code, other):
        with pytest.raises(StudioError) as info:
            load_inception(error)
        assert "\n" not in str(info.value)


def test_torch_fidelitys_inception_on_random_weights(tmp_path, monkeypatch):
    """The whole path on the library's own network, with random weights of the right layout."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    with monkeypatch.context() as patch:  # build it once without weights, only to learn their layout
        patch.setattr(FeatureExtractorInceptionV3, "load_state_dict", lambda self, state: None)
        patch.setattr(torch, "load", lambda *args, **kwargs: {})
        net = FeatureExtractorInceptionV3("inception-v3-compat", [FEATURES, LOGITS],
                                          feature_extractor_weights_path="unused")
    torch.save(net.state_dict(), tmp_path / WEIGHTS_FILE)
    extract = load_inception(tmp_path / WEIGHTS_FILE)
    out = extract(pictures(4, 0))
    assert out[FEATURES].shape == (4, 2048) and out[LOGITS].shape == (4, 1008)
