"""3x3 convolutions (stride 1, padding 1) by Winograd's F(4x4, 3x3) algorithm, for the CPU.

Style transfer on VGG19 spends almost all its time in 3x3 convolutions, forward and
backward. Winograd's minimal filtering computes each 4x4 output tile from a 6x6 input tile with
36 multiplications per channel pair instead of 144, so the same convolution costs a
quarter of the multiply-adds, done as 36 independent matmuls (Lavin & Gray 2015,
"Fast Algorithms for Convolutional Neural Networks"). The tile transforms are small
matmuls too. In fp32 the result differs from the direct convolution by about 1e-5 of
its largest value, well inside what an optimised picture can see.

Only the gradient with respect to the input is computed (the network is frozen): it
is the same kind of convolution, with the kernel flipped and its channels swapped, so
the backward runs through Winograd as well, and nothing from the forward is kept.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

M = 4  # output tile side
A = M + 2  # input tile side
# F(4x4, 3x3) with interpolation points 0, 1, -1, 2, -2, inf: input transform B^T,
# kernel transform G, output transform A^T.
BT = [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
      [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]]
G = [[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
     [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]]
AT = [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]]
CHUNK = 1 << 22  # floats of transformed tiles per chunk (16 MB)
MIN_PIXELS = 8 * 8  # smaller maps are mostly tile padding: the direct convolution wins


def transform_kernel(weight: torch.Tensor) -> torch.Tensor:
    """(K, C, 3, 3) kernel -> (36, C, K): G g G^T per channel pair, one matmul operand per tile position."""
    g = torch.tensor(G, dtype=torch.float64)
    k, c = weight.shape[:2]
    gg = torch.kron(g, g)  # (36, 9): the whole 3x3 -> 6x6 map as one matrix
    u = gg @ weight.double().reshape(k * c, 9).T  # (36, K*C)
    return u.view(A * A, k, c).transpose(1, 2).to(weight.dtype).contiguous()


def winograd(x: torch.Tensor, u: torch.Tensor, bt2: torch.Tensor, at2: torch.Tensor,
             bias: torch.Tensor | None = None) -> torch.Tensor:
    """(B, C, H, W) -> (B, K, H, W), both channels-last; u from transform_kernel,
    bt2 = kron(B^T, B^T) (36, 36), at2 = kron(A^T, A^T) (16, 36), bias (K,) or None."""
    b, c, h, w = x.shape
    k = u.shape[2]
    th, tw = -(-h // M), -(-w // M)  # tiles down and across; the last ones may hang over
    # (B, 4th+2, 4tw+2, C): padding 1, plus whatever completes the last tiles
    xp = F.pad(x.permute(0, 2, 3, 1), (0, 0, 1, 1 + M * tw - w, 1, 1 + M * th - h)).contiguous()
    sb, sh, sw, _ = xp.stride()
    # Overlapping 6x6 tiles, 4 apart, as a view: (6, 6, B, th, tw, C)
    tiles = xp.as_strided((A, A, b, th, tw, c), (sh, sw, sb, M * sh, M * sw, 1))
    # Tiles back into place, with the bias added in the same pass. `out` is (B, K, 4th, 4tw)
    # channels-last, so that what is returned is no view (autograd lets the ReLU after
    # it run in place); it is written through its (B, th, 4, tw, 4, K) view.
    out = torch.empty((b, k, M * th, M * tw), dtype=x.dtype, device=x.device, memory_format=torch.channels_last)
    tiled = out.permute(0, 2, 3, 1).view(b, th, M, tw, M, k)
    # A few rows of tiles at a time: the transformed tiles take 36/16 of their maps' memory,
    # which at 2048 px would be gigabytes, and chunks stay in cache between the passes.
    rows = max(1, CHUNK // (A * A * tw * max(c, k)))
    for i in range(b):
        for r0 in range(0, th, rows):
            r1 = min(th, r0 + rows)
            n = (r1 - r0) * tw
            v = (bt2 @ tiles[:, :, i, r0:r1].reshape(A * A, n * c)).view(A * A, n, c)  # (36, n, C)
            m = torch.bmm(v, u)  # (36, n, K): the convolution itself
            y = (at2 @ m.view(A * A, n * k)).view(M, M, r1 - r0, tw, k).permute(2, 0, 3, 1, 4)  # (r, 4, tw, 4, K)
            if bias is None:
                tiled[i, r0:r1].copy_(y)
            else:
                torch.add(y, bias, out=tiled[i, r0:r1])
    if M * th != h or M * tw != w:
        out = out[:, :, :h, :w].clone(memory_format=torch.channels_last)  # a copy, never a view
    return out


class _Conv3x3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, u, u_back, bt2, at2, bias):  # noqa: D102 (autograd protocol)
        ctx.save_for_backward(u_back, bt2, at2)
        return winograd(x, u, bt2, at2, bias)

    @staticmethod
    def backward(ctx, grad):  # noqa: D102
        u_back, bt2, at2 = ctx.saved_tensors
        grad = grad.contiguous(memory_format=torch.channels_last)
        return winograd(grad, u_back, bt2, at2), None, None, None, None, None


class WinogradConv3x3(nn.Module):
    """A frozen 3x3, stride 1, padding 1 convolution: Winograd F(4x4, 3x3) for fp32
    maps on the CPU of at least 8x8 pixels, the direct convolution otherwise."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor):
        super().__init__()
        if weight.shape[2:] != (3, 3):
            raise ValueError(f"WinogradConv3x3 takes a 3x3 kernel, not {tuple(weight.shape[2:])}")
        self.register_buffer("weight", weight.contiguous(memory_format=torch.channels_last))
        self.register_buffer("bias", bias.clone())
        # The backward's kernel: flipped in space, input and output channels swapped.
        self.register_buffer("u", transform_kernel(weight), persistent=False)
        self.register_buffer("u_back", transform_kernel(weight.flip(2, 3).transpose(0, 1)), persistent=False)
        bt, at = torch.tensor(BT, dtype=weight.dtype), torch.tensor(AT, dtype=weight.dtype)
        self.register_buffer("bt2", torch.kron(bt, bt), persistent=False)
        self.register_buffer("at2", torch.kron(at, at), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "cpu" or x.dtype != torch.float32 or x.shape[2] * x.shape[3] < MIN_PIXELS:
            return F.conv2d(x, self.weight, self.bias, padding=1)
        x = x.contiguous(memory_format=torch.channels_last)
        return _Conv3x3.apply(x, self.u, self.u_back, self.bt2, self.at2, self.bias)
