"""How well a sketch model follows colour hints: the mean CIELAB colour error (CIE76 delta E)
between its pictures and the targets inside the drawn regions, with a given number of hint
dots taken from each target (tasks/hints.py; the same dots for every model)."""

from __future__ import annotations

import numpy as np
import torch
from skimage.color import rgb2lab

from ..data.pairs import PairSet
from ..imaging.convert import from_uint8, to_uint8
from ..tasks.hints import colour_regions, no_hints, simulate_hints
from ..tasks.sketch import takes_hints

DOTS = (0, 5, 20)  # hint dots per drawing in the table


def generator_input(model: torch.nn.Module, sketches: torch.Tensor, hints: torch.Tensor | None = None
                    ) -> torch.Tensor:
    """uint8 sketches (B, 3, S, S) -> the model's input in [-1, 1], with the hints' 4 channels
    (none given: zeros) for a hint model."""
    x = from_uint8(sketches)
    if not takes_hints(model):
        return x
    return torch.cat([x, hints if hints is not None else no_hints(len(x), x.shape[-1])], dim=1)


def delta_e(outputs: torch.Tensor, targets: torch.Tensor, regions: torch.Tensor) -> float:
    """Mean CIE76 delta E over `regions` (B, S, S) of uint8 outputs vs targets (B, 3, S, S)."""
    lab = [rgb2lab(t.permute(0, 2, 3, 1).numpy()) for t in (outputs, targets)]
    error = np.linalg.norm(lab[0] - lab[1], axis=-1)  # (B, S, S)
    return float(error[regions.numpy()].mean())


@torch.no_grad()
def hint_errors(model: torch.nn.Module, pairs: PairSet, dots: tuple[int, ...] = DOTS) -> dict[str, float]:
    """{"<n> dots": delta E} on `pairs`; a model without hints gets the no-hint figure only."""
    device = next(model.parameters()).device
    regions = torch.stack([colour_regions(t, s) for t, s in zip(pairs.pictures, pairs.sketches)])
    result = {}
    for n in dots if takes_hints(model) else (0,):
        hints = torch.stack([simulate_hints(t, s, n, gen=torch.Generator().manual_seed(i))
                             for i, (t, s) in enumerate(zip(pairs.pictures, pairs.sketches))])
        outputs = torch.cat([model(generator_input(model, pairs.sketches[i:i + 32], hints[i:i + 32]).to(device)).cpu()
                             for i in range(0, len(hints), 32)])
        result[f"{n} dots"] = round(delta_e(to_uint8(outputs), pairs.pictures, regions), 2)
    return result
