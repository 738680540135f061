"""A style-based generator after StyleGAN2 (Karras et al. 2020), sized for a CPU, and its
residual discriminator with a minibatch standard-deviation layer.

Generator: a mapping network z -> w (pixel-normalised z, fully connected layers at a
hundredth of the learning rate), then a synthesis network from a learned 4x4 constant to
the picture. Every layer takes its own w (so layers can take different ones: style
mixing), which scales the layer's input channels (modulation); the convolution's output is
divided by its expected scale (demodulation), per-pixel noise adds stochastic detail (in the
layers from `noise_from` px up; StyleGAN2 has it in all), and each resolution adds its RGB
to the upsampled picture so far (skip outputs). Truncation moves w towards `w_avg`, the
running mean of w kept while training, or towards the nearest of a few typical styles:
k-means centres of w (multi-modal truncation, Mokady et al. 2022). On a varied data set the
mean of w lies between the modes and draws none of them; a centre draws one.

The convolutions modulate activations rather than weights (StyleGAN2's non-fused path):
the same result, with plain convolutions, which the CPU runs fastest. All weights use
equalised learning rates (drawn from N(0, 1), scaled at run time).

A class-conditional pair (`n_classes` > 0) feeds an embedding of the class weights into the
mapping network, truncates towards the class's own mean w, and judges with a projection
discriminator.

Shapes: z (B, z_dim), y (B, K) class weights, w (B, w_dim), ws (B, n_ws, w_dim), pictures
(B, 3, S, S), about [-1, 1].
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

from . import register

SQRT2 = math.sqrt(2.0)
W_AVG_BETA = 0.995  # the running mean of w moves by 0.5% of each batch's mean
CENTRE_SAMPLES = 1024  # latents averaged for a class's mean w (a fixed set: the same mean every time)
TOWARDS = ("mean", "cluster")  # what truncation moves w towards
CLUSTERS = 64  # typical styles (k-means centres of w) for truncation towards a cluster
CLUSTER_SAMPLES = 10_000  # latents the centres are fitted to (a fixed set: the same centres every time)
KMEANS_STEPS = 50


def lrelu(x: torch.Tensor) -> torch.Tensor:
    """Leaky ReLU scaled to keep unit variance (StyleGAN's `lrelu` gain)."""
    return F.leaky_relu(x, 0.2) * SQRT2


class EqualLinear(nn.Module):
    """A linear layer with an equalised learning rate; `lr_mul` slows it down (the mapping network)."""

    def __init__(self, cin: int, cout: int, bias_init: float = 0.0, lr_mul: float = 1.0, activate: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin) / lr_mul)
        self.bias = nn.Parameter(torch.full((cout,), float(bias_init) / lr_mul))
        self.scale, self.lr_mul, self.activate = lr_mul / math.sqrt(cin), lr_mul, activate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)
        return lrelu(x) if self.activate else x


class EqualConv2d(nn.Module):
    """A convolution with an equalised learning rate, optionally halving the resolution after it."""

    def __init__(self, cin: int, cout: int, kernel: int, bias: bool = True, down: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None
        self.scale, self.down = 1 / math.sqrt(cin * kernel * kernel), down

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.conv2d(x, self.weight * self.scale, self.bias, padding=self.weight.shape[-1] // 2)
        return F.avg_pool2d(x, 2) if self.down else x


def pixel_norm(x: torch.Tensor) -> torch.Tensor:
    """Scale each row (B, D) to unit mean square."""
    return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + 1e-8)


class MappingNetwork(nn.Module):
    """z (B, z_dim) -> w (B, w_dim): pixel norm, then `layers` fully connected layers at lr x 0.01.

    With classes (StyleGAN2-ADA's conditioning), class weights y (B, K) are embedded to w_dim,
    pixel-normed and concatenated to z: one-hot rows pick a class, convex mixes blend them."""

    def __init__(self, z_dim: int, w_dim: int, layers: int, n_classes: int = 0):
        super().__init__()
        self.embed = EqualLinear(n_classes, w_dim) if n_classes else None
        dims = [z_dim + (w_dim if n_classes else 0)] + [w_dim] * layers
        self.net = nn.Sequential(*[EqualLinear(a, b, lr_mul=0.01, activate=True) for a, b in zip(dims, dims[1:])])

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        x = pixel_norm(z)
        if self.embed is not None:
            if y is None:
                raise ValueError("a class-conditional generator needs class weights y (B, n_classes)")
            x = torch.cat([x, pixel_norm(self.embed(y.to(z.dtype)))], dim=1)  # (B, z_dim + w_dim)
        return self.net(x)


class ModulatedConv(nn.Module):
    """A k x k convolution whose input channels w scales (modulation), demodulated by default.
    With `up`, the input is first enlarged 2x bilinearly (a transposed convolution of stride 2
    left a checkerboard texture in training)."""

    def __init__(self, cin: int, cout: int, kernel: int, w_dim: int, demodulate: bool = True, up: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, kernel, kernel))
        self.affine = EqualLinear(w_dim, cin, bias_init=1.0)  # styles start at 1: the plain convolution
        self.scale, self.demodulate, self.up = 1 / math.sqrt(cin * kernel * kernel), demodulate, up

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)  # (B, cin)
        weight = self.weight * self.scale  # (cout, cin, k, k)
        x = x * styles[:, :, None, None]
        if self.up:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        x = F.conv2d(x, weight, padding=weight.shape[-1] // 2)
        if self.demodulate:  # divide by the output's expected scale for these styles: (B, cout)
            d = torch.rsqrt(styles.square() @ weight.square().sum(dim=(2, 3)).t() + 1e-8)
            x = x * d[:, :, None, None]
        return x


class StyleLayer(nn.Module):
    """Modulated convolution, per-pixel noise (a learned strength per layer; a layer built
    without noise ignores its map), bias, leaky ReLU."""

    def __init__(self, cin: int, cout: int, w_dim: int, up: bool = False, noise: bool = True):
        super().__init__()
        self.conv = ModulatedConv(cin, cout, 3, w_dim, up=up)
        self.noise_strength = nn.Parameter(torch.zeros(())) if noise else None
        self.bias = nn.Parameter(torch.zeros(cout))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        x = self.conv(x, w)
        if noise is not None and self.noise_strength is not None:  # (B or 1, 1, H, W)
            x = x + self.noise_strength * noise
        return lrelu(x + self.bias[None, :, None, None])


class ToRGB(nn.Module):
    """A modulated 1x1 convolution to RGB, without demodulation (StyleGAN2's tRGB)."""

    def __init__(self, cin: int, w_dim: int, channels: int = 3):
        super().__init__()
        self.conv = ModulatedConv(cin, channels, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.conv(x, w) + self.bias[None, :, None, None]


def kmeans(x: torch.Tensor, k: int, steps: int = KMEANS_STEPS, seed: int = 1) -> torch.Tensor:
    """Lloyd's k-means of points x (N, D) from k of them drawn by `seed` -> centres (k, D);
    a centre left without points keeps its place."""
    centres = x[torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:k]].clone()
    for _ in range(steps):
        nearest = torch.cdist(x, centres).argmin(dim=1)  # (N,)
        sums = torch.zeros_like(centres).index_add_(0, nearest, x)
        counts = torch.bincount(nearest, minlength=k).to(x.dtype)[:, None]  # (k, 1)
        moved = torch.where(counts > 0, sums / counts.clamp_min(1), centres)
        if torch.equal(moved, centres):
            break
        centres = moved
    return centres


def channels_at(width: int, image_size: int) -> dict[int, int]:
    """Channels per resolution, 4 .. image_size: `width` at the top, doubling per halving, capped at 8x."""
    sizes = [4 * 2**i for i in range(int(math.log2(image_size)) - 1)]
    return {s: min(8 * width, width * image_size // s) for s in sizes}


@register("stylegan")
class StyleGenerator(nn.Module):
    """z (B, z_dim) -> picture (B, 3, S, S), about [-1, 1] (unbounded), through w and one w per layer.
    With `n_classes`, class weights y (B, K) enter the mapping network too."""

    style_based = True

    def __init__(self, z_dim: int = 128, w_dim: int = 128, width: int = 32, image_size: int = 64,
                 mapping_layers: int = 4, channels: int = 3, noise_from: int = 4, n_classes: int = 0):
        super().__init__()
        if image_size < 8 or image_size & (image_size - 1):
            raise ValueError(f"image_size must be a power of two of at least 8, got {image_size}")
        if n_classes == 1 or n_classes < 0:
            raise ValueError(f"a conditional generator needs n_classes >= 2 (0: unconditional), got {n_classes}")
        self.z_dim, self.w_dim, self.image_size, self.n_classes = z_dim, w_dim, image_size, n_classes
        self.mapping = MappingNetwork(z_dim, w_dim, mapping_layers, n_classes)
        ch = channels_at(width, image_size)
        sizes = sorted(ch)
        self.const = nn.Parameter(torch.randn(1, ch[4], 4, 4))
        # Noise only from `noise_from` px up: at 4-16 px a little noise moves whole shapes.
        layers = [StyleLayer(ch[4], ch[4], w_dim, noise=noise_from <= 4)]
        rgbs, resolutions = [ToRGB(ch[4], w_dim, channels)], [4]
        for lo, hi in zip(sizes, sizes[1:]):
            noisy = noise_from <= hi
            layers += [StyleLayer(ch[lo], ch[hi], w_dim, up=True, noise=noisy),
                       StyleLayer(ch[hi], ch[hi], w_dim, noise=noisy)]
            rgbs.append(ToRGB(ch[hi], w_dim, channels))
            resolutions += [hi, hi]
        self.layers, self.rgbs = nn.ModuleList(layers), nn.ModuleList(rgbs)
        # Each w the synthesis takes, with the resolution it acts at: the conv layers, then the last tRGB.
        self.resolutions = tuple(resolutions + [image_size])
        self.register_buffer("w_avg", torch.zeros(w_dim))
        if n_classes:  # the latents a class's mean w is taken over (rebuilt from the seed, not saved)
            z = torch.randn(CENTRE_SAMPLES, z_dim, generator=torch.Generator().manual_seed(0))
            self.register_buffer("centre_z", z, persistent=False)

    @property
    def n_ws(self) -> int:
        return len(self.resolutions)

    def noise_shapes(self) -> list[tuple[int, int, int]]:
        """The (1, H, W) shape of each layer's noise input (drawn for every layer, so that a seed's
        maps do not depend on which layers use theirs)."""
        return [(1, r, r) for r in self.resolutions[:-1]]

    def centre(self, y: torch.Tensor | None) -> torch.Tensor:
        """What truncation moves w towards: `w_avg`, or for class weights y (B, K) the mean w of
        each row's class (mix), over a fixed set of latents: (w_dim,) or (B, w_dim)."""
        if not self.n_classes:
            return self.w_avg
        rows, row_of = torch.unique(y, dim=0, return_inverse=True)  # a batch holds few class mixes
        z = self.centre_z.to(y.dtype)
        means = torch.stack([self.mapping(z, row.expand(len(z), -1)).mean(0) for row in rows])
        return means[row_of]

    @torch.no_grad()
    def clusters(self) -> torch.Tensor:
        """(CLUSTERS, w_dim) typical styles: k-means centres of the w of a fixed set of latents,
        fitted on first use and kept until the model trains again. Fitted by a CPU copy of the
        mapping network, so that the centres (and a seed's picture) do not depend on the device."""
        if self.n_classes:
            raise ValueError("a conditional generator truncates towards its class's mean w, not a cluster")
        if getattr(self, "_clusters", None) is None:
            z = torch.randn(CLUSTER_SAMPLES, self.z_dim, generator=torch.Generator().manual_seed(0))
            mapping = copy.deepcopy(self.mapping).float().cpu()
            self._clusters = kmeans(mapping(z), CLUSTERS)
        return self._clusters.to(self.w_avg.device)

    def train(self, mode: bool = True) -> StyleGenerator:
        self._clusters = None  # training moves w: the centres are fitted again when next used
        return super().train(mode)

    def ws(self, z: torch.Tensor, psi: float = 1.0, y: torch.Tensor | None = None,
           towards: str = "mean") -> torch.Tensor:
        """z (B, z_dim), class weights y (B, K) if conditional -> ws (B, n_ws, w_dim), truncated by
        psi (1: none, 0: the centre) towards the mean w (of y's class) or each w's nearest cluster."""
        if towards not in TOWARDS:
            raise ValueError(f"towards must be one of {TOWARDS}, got {towards!r}")
        w = self.mapping(z, y)
        if psi != 1.0:
            if towards == "cluster":
                centres = self.clusters().to(w.dtype)
                centre = centres[torch.cdist(w, centres).argmin(dim=1)]  # (B, w_dim)
            else:
                centre = self.centre(y)
            w = centre + psi * (w - centre)
        return w[:, None, :].expand(-1, self.n_ws, -1)

    def synthesis(self, ws: torch.Tensor, noise: list[torch.Tensor | None] | None = None) -> torch.Tensor:
        """ws (B, n_ws, w_dim) -> pictures; `noise`: one (B or 1, 1, H, W) map per layer, or None for none."""
        noise = noise if noise is not None else [None] * len(self.layers)
        x = self.const.expand(ws.shape[0], -1, -1, -1)
        x = self.layers[0](x, ws[:, 0], noise[0])
        rgb = self.rgbs[0](x, ws[:, 1])
        for i in range(1, len(self.layers), 2):
            x = self.layers[i](x, ws[:, i], noise[i])
            x = self.layers[i + 1](x, ws[:, i + 1], noise[i + 1])
            rgb = F.interpolate(rgb, scale_factor=2, mode="bilinear", align_corners=False)
            rgb = rgb + self.rgbs[(i + 1) // 2](x, ws[:, i + 2])
        return rgb  # unbounded, as in StyleGAN2: pictures are clamped to [-1, 1] when shown

    def random_noise(self, batch: int, device: torch.device | str) -> list[torch.Tensor]:
        return [torch.randn(batch, *shape, device=device) for shape in self.noise_shapes()]

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None, psi: float = 1.0,
                noise: list[torch.Tensor | None] | None = None, mix_prob: float = 0.0,
                towards: str = "mean") -> torch.Tensor:
        """Pictures for latents z, truncated by psi `towards` the mean or a cluster (`ws`); with no
        `noise` given, fresh random noise (as in training).

        In training mode, `w_avg` follows the batches' mean w, and with probability `mix_prob`
        a picture takes a second latent's w from a random layer on (style-mixing regularisation:
        layers learn not to rely on their neighbours having the same style)."""
        if noise is None:
            noise = self.random_noise(z.shape[0], z.device)
        ws = self.ws(z, psi, y, towards)
        if self.training:
            with torch.no_grad():
                self.w_avg.lerp_(ws[:, 0].mean(0).float(), 1.0 - W_AVG_BETA)
            if mix_prob > 0:
                ws = self.mixed(ws, mix_prob, y)
        return self.synthesis(ws, noise)

    def mixed(self, ws: torch.Tensor, mix_prob: float, y: torch.Tensor | None = None) -> torch.Tensor:
        """ws with, for a `mix_prob` share of the pictures, a second random latent's w (of the
        same class) from a random layer on."""
        b = ws.shape[0]
        other = self.ws(torch.randn(b, self.z_dim, device=ws.device), y=y)
        cutoff = torch.randint(1, self.n_ws, (b,), device=ws.device)
        cutoff = torch.where(torch.rand(b, device=ws.device) < mix_prob, cutoff, torch.full_like(cutoff, self.n_ws))
        take = torch.arange(self.n_ws, device=ws.device)[None, :] >= cutoff[:, None]  # (B, n_ws)
        return torch.where(take[:, :, None], other, ws)


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions, the second halving the resolution, beside a 1x1 downsampled skip."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv1 = EqualConv2d(cin, cin, 3)
        self.conv2 = EqualConv2d(cin, cout, 3, down=True)
        self.skip = EqualConv2d(cin, cout, 1, bias=False, down=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.skip(x) + lrelu(self.conv2(lrelu(self.conv1(x))))) / SQRT2


@register("stylegan-d")
class StyleDiscriminator(nn.Module):
    """picture (B, 3, S, S) -> real/fake logit (B,): residual blocks down to 4x4, the minibatch
    standard deviation as an extra channel (so D can see a batch that lacks variety), a 3x3
    convolution and two fully connected layers.

    With `n_classes`, a projection discriminator (Miyato & Koyama 2018, as in StyleGAN2-ADA):
    the logit adds <embed(y), h> / sqrt(C) for the last features h (B, C); with `classifier`,
    a head on h also names the class (the auxiliary class loss of the GAN trainer)."""

    def __init__(self, width: int = 32, image_size: int = 64, channels: int = 3, group: int = 4,
                 n_classes: int = 0, classifier: bool = False):
        super().__init__()
        self.n_classes = n_classes
        ch = channels_at(width, image_size)
        sizes = sorted(ch, reverse=True)
        self.from_rgb = EqualConv2d(channels, ch[image_size], 1)
        self.blocks = nn.Sequential(*[ResidualBlock(ch[hi], ch[lo]) for hi, lo in zip(sizes, sizes[1:])])
        self.group = group
        self.conv = EqualConv2d(ch[4] + 1, ch[4], 3)
        self.fc = EqualLinear(ch[4] * 16, ch[4], activate=True)
        self.out = EqualLinear(ch[4], 1)
        self.embed = EqualLinear(n_classes, ch[4]) if n_classes else None
        self.classifier = EqualLinear(ch[4], n_classes) if n_classes and classifier else None

    def minibatch_std(self, x: torch.Tensor) -> torch.Tensor:
        """Append the mean standard deviation over groups of pictures as one more channel."""
        b, c, h, w = x.shape
        g = min(self.group, b)
        while b % g:
            g -= 1
        std = x.reshape(g, -1, c, h, w).float().var(dim=0, unbiased=False).add(1e-8).sqrt()  # (B/g, C, H, W)
        std = std.mean(dim=(1, 2, 3)).to(x.dtype)  # (B/g,)
        return torch.cat([x, std.repeat(g)[:, None, None, None].expand(b, 1, h, w)], dim=1)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None, with_classes: bool = False
                ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor, None]:
        x = self.blocks(lrelu(self.from_rgb(x)))  # (B, C, 4, 4)
        x = lrelu(self.conv(self.minibatch_std(x)))
        h = self.fc(x.flatten(1))  # (B, C)
        logit = self.out(h).flatten()  # (B,)
        if self.embed is not None:
            if y is None:
                raise ValueError("a projection discriminator needs class weights y (B, n_classes)")
            logit = logit + (self.embed(y.to(h.dtype)) * h).sum(dim=1) / math.sqrt(h.shape[1])
        if not with_classes:
            return logit
        if self.classifier is None:
            raise ValueError("this discriminator was built without a classifier head")
        return logit, self.classifier(h), None  # (B,), (B, n_classes), no twin head
