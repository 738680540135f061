"""The pieces of Gatys' objective, and the colour maths around it.

Losses are normalised so that one set of weights works at every picture size:
  content  mean squared difference of the content layers' maps
  style    weighted mean over layers of the mean squared difference of Gram matrices,
           each Gram divided by C*H*W of its layer
  tv       mean squared difference of neighbouring pixels
"""

from __future__ import annotations

import torch
from PIL import Image


class _Gram(torch.autograd.Function):
    """G = f^T f for f (N, C), with the backward as one matmul: dL/df = f (dG + dG^T)."""

    @staticmethod
    def forward(ctx, f: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(f)
        return f.t() @ f

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (f,) = ctx.saved_tensors
        return f @ (grad + grad.t())


def gram(feature: torch.Tensor) -> torch.Tensor:
    """(1, C, H, W) -> (C, C) Gram matrix divided by C*H*W.

    For a channels-last map, (H*W, C) is a free view of its memory, so no copy is made.
    """
    _, c, h, w = feature.shape
    flat = feature.permute(0, 2, 3, 1).reshape(h * w, c)  # free for channels-last
    return _Gram.apply(flat) / (c * h * w)


def total_variation(x: torch.Tensor) -> torch.Tensor:
    return (x[..., 1:, :] - x[..., :-1, :]).square().mean() + (x[..., :, 1:] - x[..., :, :-1]).square().mean()


# YIQ for colour preservation: transfer on luminance (Y) only, keep the content's chroma (I, Q).
_RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
_YIQ_TO_RGB = torch.linalg.inv(_RGB_TO_YIQ)


def rgb_to_yiq(x: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,bjhw->bihw", _RGB_TO_YIQ.to(x), x)


def yiq_to_rgb(x: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,bjhw->bihw", _YIQ_TO_RGB.to(x), x)


def luminance(x: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) -> the luminance repeated on 3 channels."""
    return rgb_to_yiq(x)[:, :1].expand(-1, 3, -1, -1).contiguous()


def with_chroma_of(x: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """x's luminance with `reference`'s chroma (both (1, 3, H, W) in [0, 1])."""
    yiq = rgb_to_yiq(reference)
    yiq[:, :1] = rgb_to_yiq(x)[:, :1]
    return yiq_to_rgb(yiq)


def match_colours(x: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """x with its pixels' mean and covariance mapped onto `reference`'s (an affine colour map).

    (1, 3, H, W) in [0, 1] -> the same, clamped. The map is the symmetric one
    (Cholesky-free: C_ref^1/2 C_x^-1/2), which keeps hues in place as far as it can.
    """
    def stats(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        flat = t[0].reshape(3, -1).double()
        mean = flat.mean(1, keepdim=True)
        centred = flat - mean
        return mean, centred @ centred.t() / flat.shape[1] + 1e-5 * torch.eye(3, dtype=torch.float64, device=t.device)

    def sqrtm(c: torch.Tensor, power: float) -> torch.Tensor:
        values, vectors = torch.linalg.eigh(c)
        return vectors @ torch.diag(values.clamp_min(1e-8) ** power) @ vectors.t()

    mean_x, cov_x = stats(x)
    mean_r, cov_r = stats(reference)
    transform = sqrtm(cov_r, 0.5) @ sqrtm(cov_x, -0.5)
    flat = transform @ (x[0].reshape(3, -1).double() - mean_x) + mean_r
    return flat.reshape(x.shape).to(x.dtype).clamp(0, 1)


def to_tensor(image: Image.Image, device: torch.device) -> torch.Tensor:
    t = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8).view(image.height, image.width, 3)
    return t.permute(2, 0, 1)[None].float().div(255).to(device)  # (1, 3, H, W) in [0, 1]


def to_image(x: torch.Tensor) -> Image.Image:
    array = (x[0].detach().clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(array, "RGB")
