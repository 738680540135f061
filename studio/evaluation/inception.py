"""Inception FID and Inception Score through torch-fidelity, the library the field uses for them
(an optional extra: pip install -e ".[metrics]").

The weights are the file torch-fidelity expects (`weights-inception-2015-12-05-6726825d.pth`,
InceptionV3 ported from TensorFlow), given as a path or already in torch's hub cache; nothing is
fetched here. The file is read as plain tensors (`weights_only=True`) before torch-fidelity
sees a copy written from those tensors, so no code in it is ever unpickled.
"""

from __future__ import annotations

import pickle
import tempfile
from pathlib import Path
from typing import Callable

import torch

from ..errors import StudioError

WEIGHTS_FILE = "weights-inception-2015-12-05-6726825d.pth"
WEIGHTS_URL = f"https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/{WEIGHTS_FILE}"
FEATURES, LOGITS = "2048", "logits_unbiased"
FEATURE_SPACE = "InceptionV3 (torch-fidelity, TF-ported weights), pool 2048-d, 299 px: Inception FID and IS"

Extractor = Callable[[torch.Tensor], dict[str, torch.Tensor]]  # uint8 (N, 3, H, W) -> {name: (N, D)}


def weights_file(path: str | Path | None) -> Path:
    """The weights file given, else the one in torch's hub cache; a one-line error if absent."""
    found = Path(path) if path else Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILE
    if not found.is_file():
        raise StudioError(f"No Inception weights at {found}: download {WEIGHTS_URL} once (on a machine with "
                          f"internet) and pass its path to --inception, or put it in {found.parent}.")
    return found


def _read_state(path: Path) -> dict[str, torch.Tensor]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as exc:
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise StudioError(f"{path.name} is not a PyTorch weights file that can be read safely ({reason}).") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise StudioError(f"{path.name} does not hold a state dict of tensors; --inception needs {WEIGHTS_FILE}.")
    return state


def load_inception(path: str | Path | None = None, device: torch.device | str = "cpu") -> Extractor:
    """torch-fidelity's InceptionV3 on the checked weights, as a function of uint8 pictures."""
    try:
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    except ImportError:
        raise StudioError('--inception needs torch-fidelity: pip install -e ".[metrics]".') from None
    file = weights_file(path)
    state = _read_state(file)
    with tempfile.TemporaryDirectory() as folder:
        checked = Path(folder) / WEIGHTS_FILE
        torch.save(state, checked)  # only the tensors read above
        try:
            net = FeatureExtractorInceptionV3("inception-v3-compat", [FEATURES, LOGITS],
                                              feature_extractor_weights_path=str(checked), verbose=False)
        except RuntimeError as exc:  # load_state_dict: other keys or shapes
            raise StudioError(f"{file.name} is not the InceptionV3 torch-fidelity expects "
                              f"({str(exc).splitlines()[0][:160]}).") from None
    net = net.to(device)

    @torch.no_grad()
    def extract(images: torch.Tensor) -> dict[str, torch.Tensor]:
        features, logits = net(images.to(device))
        return {FEATURES: features.cpu(), LOGITS: logits.cpu()}

    return extract


def extract_all(extract: Extractor, images: torch.Tensor, batch: int = 64) -> dict[str, torch.Tensor]:
    """Features of uint8 pictures (N, 3, H, W), in batches."""
    parts = [extract(images[i:i + batch]) for i in range(0, len(images), batch)]
    return {key: torch.cat([p[key] for p in parts]).double() for key in parts[0]}


def inception_metrics(extract: Extractor, generated: torch.Tensor, heldout: torch.Tensor,
                      train: torch.Tensor) -> dict[str, float | str]:
    """Inception FID (generated vs held-out, beside train vs held-out) and IS (beside the held-out
    pictures' own), for uint8 pictures (N, 3, H, W)."""
    from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric
    from torch_fidelity.metric_isc import isc_features_to_metric

    gen, held, real = (extract_all(extract, x) for x in (generated, heldout, train))

    def fid(a: dict, b: dict) -> float:
        stats = [fid_features_to_statistics(x[FEATURES]) for x in (a, b)]
        return fid_statistics_to_metric(*stats, verbose=False)["frechet_inception_distance"]

    score, score_real = (isc_features_to_metric(x[LOGITS], splits=min(10, len(x[LOGITS]))) for x in (gen, held))
    return {"feature_space": FEATURE_SPACE, "fid": round(fid(gen, held), 3),
            "fid_floor_train_vs_heldout": round(fid(real, held), 3),
            "is_mean": round(score["inception_score_mean"], 3), "is_std": round(score["inception_score_std"], 3),
            "is_heldout_real": round(score_real["inception_score_mean"], 3)}
