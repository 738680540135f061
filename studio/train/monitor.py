"""A mode-collapse monitor: how far apart a fixed batch of generated pictures lies in the
evaluation feature space (EfficientNet-Lite0, as `studio eval`), beside the same figure for
as many real pictures. A generator that collapses draws near-copies, and its figure falls
towards 0; below COLLAPSE_FRACTION of the real one the run says so.

The yardstick is only measured, never trained through: no gradient reaches the GAN from it.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import StudioError
from ..evaluation.evaluate import features
from ..models.efficientnet_lite import load_efficientnet_lite0

COLLAPSE_FRACTION = 0.5


def mean_pairwise_distance(f: np.ndarray) -> float:
    """Mean Euclidean distance between the rows of (N, D) features, over all N(N-1)/2 pairs."""
    squared = (f * f).sum(1)
    d2 = np.maximum(squared[:, None] + squared[None, :] - 2 * f @ f.T, 0)
    n = len(f)
    return float(np.sqrt(d2)[np.triu_indices(n, 1)].mean())


class DiversityMonitor:
    """Measures generated batches against `real` pictures (uint8 (N, 3, S, S)) measured once."""

    def __init__(self, real: torch.Tensor, device: torch.device | str = "cpu") -> None:
        try:
            with torch.random.fork_rng(devices=[]):  # building the network must not move the run's RNG
                self.net = load_efficientnet_lite0(device)
        except StudioError as exc:  # the yardstick is an optional extra
            self.net, self.real = None, 0.0
            print(f"collapse monitor off: {exc}")
            return
        self.real = mean_pairwise_distance(features(real, self.net))

    def measure(self, pictures: torch.Tensor) -> dict[str, float]:
        """Figures for generated pictures (N, 3, S, S) in [-1, 1]; {} when the monitor is off."""
        if self.net is None:
            return {}
        diversity = mean_pairwise_distance(features(pictures.detach().float(), self.net))
        return {"diversity": round(diversity, 4), "diversity_real": round(self.real, 4),
                "diversity_ratio": round(diversity / self.real, 4)}

    @staticmethod
    def warning(figures: dict[str, float], step: int) -> str | None:
        """A one-line warning when the generated pictures are collapsing, else None."""
        ratio = figures.get("diversity_ratio")
        if ratio is None or ratio >= COLLAPSE_FRACTION:
            return None
        return (f"possible mode collapse at step {step}: the sample grid's pictures are {ratio:.0%} as far apart as "
                f"real ones (EfficientNet-Lite0 features; warned below {COLLAPSE_FRACTION:.0%})")
