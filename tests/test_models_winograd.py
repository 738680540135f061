"""Winograd F(4x4, 3x3) convolution against torch's direct convolution."""

import pytest
import torch
import torch.nn.functional as F

from studio.models.winograd import WinogradConv3x3


@pytest.mark.parametrize("shape", [(2, 5, 7, 16, 16),  # whole tiles
                                   (1, 8, 3, 13, 16),  # rows hang over: cropped
                                   (1, 6, 4, 16, 10),  # columns hang over
                                   (2, 3, 9, 9, 17)])  # both
def test_forward_and_input_gradient_equal_direct_convolution(shape):
    b, c, k, h, w = shape
    gen = torch.Generator().manual_seed(0)
    weight, bias = torch.randn(k, c, 3, 3, generator=gen), torch.randn(k, generator=gen)
    x = torch.randn(b, c, h, w, generator=gen).requires_grad_(True)
    x_ref = x.detach().clone().requires_grad_(True)
    y = WinogradConv3x3(weight, bias)(x)
    y_ref = F.conv2d(x_ref, weight, bias, padding=1)
    grad = torch.randn(y.shape, generator=gen)
    (y * grad).sum().backward()
    (y_ref * grad).sum().backward()
    assert y.shape == y_ref.shape
    assert (y - y_ref).abs().max() <= 1e-5 * y_ref.abs().max()
    assert (x.grad - x_ref.grad).abs().max() <= 1e-5 * x_ref.grad.abs().max()


def test_output_can_be_modified_in_place_and_is_channels_last():
    conv = WinogradConv3x3(torch.randn(4, 3, 3, 3), torch.zeros(4))
    for h, w in [(16, 16), (13, 16), (16, 13)]:
        x = torch.randn(1, 3, h, w, requires_grad=True)
        y = torch.relu_(conv(x))  # as VGGFeatures does
        y.sum().backward()
        assert y.is_contiguous(memory_format=torch.channels_last)
        assert x.grad is not None and x.grad.abs().sum() > 0


def test_small_maps_and_other_dtypes_take_the_direct_convolution():
    conv = WinogradConv3x3(torch.randn(4, 3, 3, 3), torch.zeros(4))
    small = torch.randn(1, 3, 4, 4)  # under 8x8
    assert torch.equal(conv(small), F.conv2d(small, conv.weight, conv.bias, padding=1))
    conv64 = WinogradConv3x3(torch.randn(4, 3, 3, 3, dtype=torch.float64), torch.zeros(4, dtype=torch.float64))
    x = torch.randn(1, 3, 12, 12, dtype=torch.float64)
    assert torch.equal(conv64(x), F.conv2d(x, conv64.weight, conv64.bias, padding=1))
    # and fp32 at 12x12 does go through Winograd: close, not bit-equal
    x32 = x.float()
    conv32 = WinogradConv3x3(conv64.weight.float(), conv64.bias.float())
    assert not torch.equal(conv32(x32), F.conv2d(x32, conv32.weight, conv32.bias, padding=1))


def test_rejects_other_kernel_sizes():
    with pytest.raises(ValueError, match="3x3"):
        WinogradConv3x3(torch.randn(4, 3, 5, 5), torch.zeros(4))
