"""The GAN losses and penalties, apart from the loop (as StyleGAN's training/loss.py).

Losses take the discriminator's logits (B,) and return a scalar:
  ns       non-saturating logistic (Goodfellow et al. 2014): D: softplus(-D(x)) + softplus(D(G(z))),
           G: softplus(-D(G(z)))
  hinge    (Lim & Ye 2017; Miyato et al. 2018): D: relu(1 - D(x)) + relu(1 + D(G(z))), G: -D(G(z))
  wgan-gp  Wasserstein with gradient penalty (Gulrajani et al. 2017): D: D(G(z)) - D(x) plus
           `gradient_penalty`, G: -D(G(z)); the critic takes several steps per generator step
`top_k` keeps the fakes D rates most real for the generator's loss (top-k training, Sinha et al.
2020: the worst fakes' gradients point away from the real pictures' modes).
Penalties take a critic (pictures -> logits) and pictures: `gradient_penalty` on random
mixes of real and fake, `r1_penalty` (Mescheder et al. 2018) on real pictures, applied
lazily every R1_INTERVAL discriminator steps and scaled by it (StyleGAN2).
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

LOSSES = ("ns", "hinge", "wgan-gp")
R1_INTERVAL = 16

Critic = Callable[[torch.Tensor], torch.Tensor]


def d_loss(kind: str, d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """The discriminator's (critic's) loss on logits of real and generated pictures."""
    if kind == "ns":
        return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
    if kind == "hinge":
        return F.relu(1.0 - d_real).mean() + F.relu(1.0 + d_fake).mean()
    if kind == "wgan-gp":
        return d_fake.mean() - d_real.mean()
    raise ValueError(f"unknown loss {kind!r}")


def g_loss(kind: str, d_fake: torch.Tensor) -> torch.Tensor:
    """The generator's loss on the discriminator's logits of its pictures."""
    if kind == "ns":
        return F.softplus(-d_fake).mean()
    if kind in ("hinge", "wgan-gp"):
        return -d_fake.mean()
    raise ValueError(f"unknown loss {kind!r}")


def top_k(d_fake: torch.Tensor, share: float) -> torch.Tensor:
    """The largest ceil(share * B) of the logits (B,): the fakes the generator's loss takes."""
    if share >= 1.0:
        return d_fake
    return d_fake.topk(max(1, math.ceil(share * d_fake.shape[0]))).values


def _input_gradient(critic: Critic, x: torch.Tensor) -> torch.Tensor:
    """d critic(x).sum() / dx, kept in the graph so that the penalty trains the critic."""
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).float().sum(), x, create_graph=True)
    return grad.flatten(1)  # (B, C*H*W)


def gradient_penalty(critic: Critic, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """mean (|grad critic(x_hat)| - 1)^2 at x_hat = e * real + (1 - e) * fake, e ~ U(0, 1) per picture."""
    e = torch.rand(real.shape[0], 1, 1, 1, device=real.device)
    mixed = e * real.detach() + (1.0 - e) * fake.detach()
    return (_input_gradient(critic, mixed).norm(dim=1) - 1.0).square().mean()


def r1_penalty(critic: Critic, real: torch.Tensor) -> torch.Tensor:
    """mean |grad critic(x)|^2 over real pictures x (the caller weighs it by gamma / 2)."""
    return _input_gradient(critic, real).square().sum(dim=1).mean()
