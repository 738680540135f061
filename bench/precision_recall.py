"""Precision and recall (Kynkäänniemi et al. 2019) of unconditional GAN checkpoints, side by side.

    python bench/precision_recall.py emoji64-style emoji64 \
        --extra b16-610k=.runs/emoji64-style-b16/snapshots/610000/emoji64-style-b16

Precision: the share of generated pictures that fall inside the real pictures' manifold (in
EfficientNet-Lite0 feature space, each real picture's ball reaching its k-th nearest real
neighbour): how many pictures look like some real emoji, a measure of the "recognisable cells"
that FD mixes with variety. Recall: the share of real pictures inside the generated manifold
(the variety). The floor row: held-out real pictures against the training ones.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio import Registry  # noqa: E402
from studio.checkpoints.format import read_spec  # noqa: E402
from studio.evaluation.evaluate import data_folder, features, gan_splits, generate  # noqa: E402
from studio.models.efficientnet_lite import load_efficientnet_lite0  # noqa: E402


def radii(f: np.ndarray, k: int) -> np.ndarray:
    """Each row's distance to its k-th nearest other row."""
    d = torch.cdist(torch.from_numpy(f), torch.from_numpy(f))
    return d.kthvalue(k + 1, dim=1).values.numpy()  # k + 1: the row itself is at 0


def inside(f: np.ndarray, manifold: np.ndarray, r: np.ndarray) -> float:
    """The share of rows of f within some manifold row's radius."""
    d = torch.cdist(torch.from_numpy(f), torch.from_numpy(manifold))
    return float((d <= torch.from_numpy(r)[None, :]).any(dim=1).double().mean())


def precision_recall(f_real: np.ndarray, f_gen: np.ndarray, k: int) -> tuple[float, float]:
    return inside(f_gen, f_real, radii(f_real, k)), inside(f_real, f_gen, radii(f_gen, k))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", help="checkpoints in --checkpoints")
    p.add_argument("--extra", action="append", default=[], metavar="LABEL=FOLDER",
                   help="a checkpoint folder elsewhere (a snapshot), under a label")
    p.add_argument("--checkpoints", default="checkpoints")
    p.add_argument("--n", type=int, default=2000, help="pictures per side")
    p.add_argument("--k", type=int, default=3)
    p.add_argument("--psi", type=float, default=1.0, help="truncation (in w for a style-based model)")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    registry = Registry(args.checkpoints)
    models = {name: (registry.get(name), registry.spec(name)) for name in args.names}
    for item in args.extra:
        label, folder = item.split("=", 1)
        spec = read_spec(Path(folder))
        models[label] = (Registry(Path(folder).parent).get(spec.name), spec)
    first_spec = next(iter(models.values()))[1]
    heldout, train = gan_splits(first_spec, data_folder(first_spec, None))
    net = load_efficientnet_lite0()
    rng = np.random.default_rng(0)
    f_train = features(train.images[rng.choice(len(train.images), min(args.n, len(train.images)), replace=False)], net)
    f_held = features(heldout.images, net)
    print(f"k={args.k}; psi {args.psi}; real: {len(f_train)} training pictures; EfficientNet-Lite0 features")
    print("| pictures | precision | recall |\n| --- | --- | --- |")
    prec, rec = precision_recall(f_train, f_held, args.k)
    print(f"| held-out real ({len(f_held)}, the floor) | {prec:.3f} | {rec:.3f} |")
    for label, (model, _) in models.items():
        torch.manual_seed(0)  # the noise maps `generate` draws
        prec, rec = precision_recall(f_train, features(generate(model, args.n, psi=args.psi), net), args.k)
        print(f"| {label} ({args.n}) | {prec:.3f} | {rec:.3f} |")


if __name__ == "__main__":
    main()
