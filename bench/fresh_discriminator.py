"""How fast a fresh discriminator learns to tell a trained style generator's pictures from real ones.

    python bench/fresh_discriminator.py emoji64-style [more checkpoints] --steps 800 [--augment '']

Trains a new `StyleDiscriminator` alone, as `studio train stylegan` trains one (non-saturating
loss, lazy R1, Adam (0, 0.99), x-flipped real pictures, DiffAugment on real and fake; the fakes
without style mixing), against each checkpoint's generator in turn for `--steps` steps: given several snapshots of one run,
oldest first, a curriculum. Every `--every` steps it prints the held-out AUC against each stage
and against the last checkpoint: the share of (held-out real, new fake) pairs it scores the right
way round, with and without the augmentation; 0.5 is chance: how far a discriminator that starts
afresh (as with `--init-from`) is from giving the generator a signal.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.checkpoints.format import Spec, load_model, read_spec  # noqa: E402
from studio.evaluation.evaluate import data_folder, gan_splits  # noqa: E402
from studio.imaging.convert import from_uint8  # noqa: E402
from studio.models.stylegan import StyleDiscriminator  # noqa: E402
from studio.train.augment import diff_augment  # noqa: E402
from studio.train.losses import R1_INTERVAL, d_loss, r1_penalty  # noqa: E402


def spec_of(name: str, checkpoints: Path) -> Spec:
    """A checkpoint folder's description, or that of a name under `checkpoints`."""
    return read_spec(Path(name) if Path(name).is_dir() else checkpoints / name)


@torch.no_grad()
def held_out_auc(d: torch.nn.Module, g: torch.nn.Module, real: torch.Tensor, augment: str) -> float:
    """P(D scores a held-out real picture above a new fake), real (N, 3, S, S) in [-1, 1]."""
    with torch.random.fork_rng():  # the same fakes and augmentations at every report; training's draws untouched
        torch.manual_seed(123)
        fake = torch.cat([g(torch.randn(len(chunk), g.z_dim)) for chunk in real.split(128)])
        a, b = d(diff_augment(real, augment)), d(diff_augment(fake, augment))
    return (a[:, None] > b[None, :]).double().mean().item()


def d_step(d: torch.nn.Module, opt: torch.optim.Optimizer, g: torch.nn.Module, train: torch.Tensor,
           args: argparse.Namespace, step: int, rng: torch.Generator) -> float:
    """One step of the trainer's discriminator update against `g`'s pictures; returns its loss."""
    real = from_uint8(train[torch.randint(0, len(train), (args.batch,), generator=rng)])
    flip = torch.rand(args.batch, generator=rng) < 0.5
    real[flip] = real[flip].flip(3)
    with torch.no_grad():
        fake = g(torch.randn(args.batch, g.z_dim, generator=rng))

    def critic(x: torch.Tensor) -> torch.Tensor:
        return d(diff_augment(x, args.augment))

    loss = d_loss("ns", critic(real), critic(fake))
    if step % R1_INTERVAL == 0:  # lazy R1, as in training
        loss = loss + args.r1 / 2 * R1_INTERVAL * r1_penalty(critic, real)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.item()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", help="generators to train against, in order: names or folders")
    p.add_argument("--checkpoints", type=Path, default=Path("checkpoints"))
    p.add_argument("--data", help="the data set (default: the last checkpoint's, from its studio.json)")
    p.add_argument("--steps", type=int, default=400, help="steps against each checkpoint")
    p.add_argument("--every", type=int, default=200)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=0.002)
    p.add_argument("--r1", type=float, default=0.05)
    p.add_argument("--augment", default="color,translation,cutout")
    p.add_argument("--threads", type=int)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    specs = [spec_of(name, args.checkpoints) for name in args.models]
    heldout, train = gan_splits(specs[-1], data_folder(specs[-1], args.data))
    train, held = train.images, from_uint8(heldout.images)
    gens = [load_model(spec).eval() for spec in specs]
    d = StyleDiscriminator(width=args.width, image_size=specs[-1].image_size)
    opt = torch.optim.Adam(d.parameters(), args.lr, betas=(0.0, 0.99))
    rng, step, start = torch.Generator().manual_seed(1), 0, time.perf_counter()
    print(f"{len(train)} training, {len(held)} held-out pictures; augment {args.augment!r}; "
          f"AUC against each stage, then against {args.models[-1]} with / without augmentation")
    for name, g in zip(args.models, gens):
        for _ in range(args.steps):
            loss = d_step(d, opt, g, train, args, step, rng)
            step += 1
            if step % args.every == 0:
                aucs = [held_out_auc(d, g, held, args.augment), held_out_auc(d, gens[-1], held, args.augment),
                        held_out_auc(d, gens[-1], held, "")]
                print(f"{name:28s} step {step:5d} ({time.perf_counter() - start:5.0f} s) loss {loss:.3f}  "
                      f"AUC {aucs[0]:.3f}  last {aucs[1]:.3f} / {aucs[2]:.3f}", flush=True)


if __name__ == "__main__":
    main()
