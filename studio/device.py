"""Which torch device the studio computes on."""

from __future__ import annotations

import torch

from . import settings
from .errors import StudioError


def pick_device(preferred: str | None = None) -> torch.device:
    """CUDA when present, else Apple MPS, else CPU; `STUDIO_DEVICE` (or `preferred`) overrides."""
    wanted = preferred or settings.device_name()
    if wanted:
        try:
            device = torch.device(wanted)
        except RuntimeError as exc:
            raise StudioError(f"STUDIO_DEVICE={wanted!r} is not a torch device name ({exc}).") from exc
        if device.type == "cuda" and not torch.cuda.is_available():
            raise StudioError(f"Device {wanted!r} was asked for, but CUDA is not available here.")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise StudioError(f"Device {wanted!r} was asked for, but Apple MPS is not available here.")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
