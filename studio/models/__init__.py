"""Architectures, registered by name so that a checkpoint's `arch` picks the class."""

from __future__ import annotations

from typing import Callable

from torch import nn

from ..errors import StudioError

ARCHS: dict[str, type[nn.Module]] = {}


def register(name: str) -> Callable[[type[nn.Module]], type[nn.Module]]:
    """Class decorator: make `name` buildable from a checkpoint description."""

    def wrap(cls: type[nn.Module]) -> type[nn.Module]:
        ARCHS[name] = cls
        cls.arch_name = name
        return cls

    return wrap


def build(arch: str, arch_args: dict) -> nn.Module:
    """Instantiate architecture `arch` with keyword arguments `arch_args`."""
    if arch not in ARCHS:
        raise StudioError(f"Unknown architecture {arch!r}; known: {', '.join(sorted(ARCHS))}.")
    try:
        model = ARCHS[arch](**arch_args)
    except (TypeError, ValueError) as exc:
        raise StudioError(f"Bad arch_args for {arch!r}: {exc}.") from exc
    model.arch_args = dict(arch_args)  # what save_checkpoint records
    return model


from . import cgan, dcgan, pix2pix, stylegan  # noqa: E402,F401  (registers the architectures)
