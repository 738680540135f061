"""Every registered architecture, built tiny: output shape and range, and a weights round trip
through safetensors that gives the same outputs. A new architecture must be added to TINY."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file, save_file

from studio.models import ARCHS, build

K = 3  # classes of the conditional archs
TINY = {
    "dcgan": {"z_dim": 8, "width": 4},
    "cgan": {"n_classes": K, "z_dim": 8, "width": 4},
    "dcgan-d": {"width": 4},
    "cgan-d": {"n_classes": K, "width": 4, "classifier": True, "twin": True},
    "pix2pix-unet": {"image_size": 32, "width": 4},
    "patchgan": {"width": 4},
    "stylegan": {"z_dim": 8, "w_dim": 8, "width": 4, "image_size": 32, "mapping_layers": 2},
    "stylegan-d": {"width": 4, "image_size": 32},
}


def inputs(arch: str, model: torch.nn.Module) -> tuple[torch.Tensor, ...]:
    """A batch of 2 of what `arch` takes: latents and class weights, or pictures in [-1, 1]."""
    gen = torch.Generator().manual_seed(0)
    y = torch.softmax(torch.randn(2, K, generator=gen), dim=1)
    picture = torch.rand(2, 3, 64, 64, generator=gen) * 2 - 1
    small = torch.rand(2, 3, 32, 32, generator=gen) * 2 - 1
    return {"dcgan": (torch.randn(2, 8, generator=gen),), "cgan": (torch.randn(2, 8, generator=gen), y),
            "dcgan-d": (picture,), "cgan-d": (picture, y), "pix2pix-unet": (small,),
            "patchgan": (small, small), "stylegan": (torch.randn(2, 8, generator=gen), None, 1.0, fixed_noise(model)),
            "stylegan-d": (small,)}[arch]


def fixed_noise(model: torch.nn.Module) -> list[torch.Tensor] | None:
    """The same noise maps on every call, so that two runs can be compared."""
    gen = torch.Generator().manual_seed(1)
    return [torch.randn(1, *s, generator=gen) for s in model.noise_shapes()] if hasattr(model, "noise_shapes") else None


def test_every_registered_arch_is_covered():
    assert sorted(TINY) == sorted(ARCHS)


@pytest.mark.parametrize("arch", sorted(TINY))
def test_arch_shapes_range_and_weights_round_trip(arch, tmp_path):
    torch.manual_seed(0)
    model = build(arch, TINY[arch]).eval()
    assert model.arch_name == arch and model.arch_args == TINY[arch]
    x = inputs(arch, model)
    with torch.no_grad():
        out = model(*x)
    assert torch.isfinite(out).all()
    if arch in ("dcgan", "cgan", "pix2pix-unet", "stylegan"):  # generators: pictures of the input's size
        side = 32 if arch in ("pix2pix-unet", "stylegan") else 64
        assert out.shape == (2, 3, side, side)
        assert arch == "stylegan" or out.abs().max() <= 1  # (a style-based generator's output is unbounded)
    else:  # discriminators: a logit per picture, or per patch
        assert out.shape[0] == 2
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp_path / "w.safetensors"))
    again = build(arch, TINY[arch]).eval()
    again.load_state_dict(load_file(str(tmp_path / "w.safetensors")), strict=True)
    with torch.no_grad():
        assert torch.equal(again(*x), out)
