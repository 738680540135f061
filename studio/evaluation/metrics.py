"""Distances between sets of features, and a linear probe.

fd:  Fréchet distance between Gaussians fitted to two feature sets (the formula of
     FID, in whatever feature space the features come from).
kid: kernel distance, the unbiased MMD^2 with the cubic polynomial kernel, averaged
     over random subsets (Bińkowski et al. 2018); unbiased at small sample sizes.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def fd(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between feature sets a (N, D) and b (M, D)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # tr sqrt(A B) = tr sqrt(sqrt(A) B sqrt(A)): two symmetric eigen-decompositions instead
    # of a general matrix square root (exact for PSD A and B).
    w, v = np.linalg.eigh(cov_a)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    tr_covmean = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ cov_b @ root_a), 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * tr_covmean)


def kid(a: np.ndarray, b: np.ndarray, subsets: int = 50, subset_size: int = 500, seed: int = 0) -> float:
    """Mean unbiased MMD^2 with kernel k(x, y) = (x.y / D + 1)^3 over random subsets."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    n = min(len(a), len(b), subset_size)
    d = a.shape[1]
    rng = np.random.default_rng(seed)
    total = 0.0
    for _ in range(subsets):
        x = a[rng.choice(len(a), n, replace=False)]
        y = b[rng.choice(len(b), n, replace=False)]
        kxx, kyy, kxy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3
        total += ((kxx.sum() - np.trace(kxx)) + (kyy.sum() - np.trace(kyy))) / (n * (n - 1)) - 2 * kxy.mean()
    return float(total / subsets)


def train_probe(features: np.ndarray, labels: np.ndarray, n_classes: int, steps: int = 300,
                weight_decay: float = 1e-3) -> torch.nn.Linear:
    """A linear classifier on standardised features (full-batch L-BFGS, seeded)."""
    torch.manual_seed(0)
    x = torch.as_tensor(features, dtype=torch.float32)
    y = torch.as_tensor(labels, dtype=torch.long)
    mean, std = x.mean(0), x.std(0).clamp_min(1e-6)
    probe = torch.nn.Linear(x.shape[1], n_classes)
    opt = torch.optim.LBFGS(probe.parameters(), lr=1.0, max_iter=steps, line_search_fn="strong_wolfe")
    xs = (x - mean) / std

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(probe(xs), y) + weight_decay * probe.weight.square().sum()
        loss.backward()
        return loss

    opt.step(closure)
    probe.register_buffer("mean", mean)
    probe.register_buffer("std", std)
    return probe


@torch.no_grad()
def probe_predict(probe: torch.nn.Linear, features: np.ndarray) -> np.ndarray:
    """Class index the probe names for each row of features (N, D) -> (N,)."""
    x = torch.as_tensor(features, dtype=torch.float32)
    return probe((x - probe.mean) / probe.std).argmax(1).numpy()


def probe_accuracy(probe: torch.nn.Linear, features: np.ndarray, labels: np.ndarray, n_classes: int) -> list[float]:
    """Accuracy per class (NaN for a class with no examples)."""
    predicted = probe_predict(probe, features)
    labels = np.asarray(labels)
    return [float((predicted[labels == k] == k).mean()) if (labels == k).any() else float("nan") for k in range(n_classes)]


def probe_confusions(probe: torch.nn.Linear, features: np.ndarray, labels: np.ndarray,
                     n_classes: int) -> list[tuple[int, float] | None]:
    """Per class, the class the probe most often names instead, and the share of that class's
    examples it takes (None for a class with no examples or no mistakes)."""
    predicted = probe_predict(probe, features)
    labels = np.asarray(labels)
    out: list[tuple[int, float] | None] = []
    for k in range(n_classes):
        wrong = np.bincount(predicted[labels == k], minlength=n_classes)
        total, wrong[k] = wrong.sum(), 0
        out.append((int(wrong.argmax()), float(wrong.max() / total)) if wrong.any() else None)
    return out
