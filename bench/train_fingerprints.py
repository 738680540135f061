"""Fingerprints of tiny training runs through `studio train`, to prove a trainer refactor
takes exactly the same steps.

    python bench/train_fingerprints.py --out before.json
    python bench/train_fingerprints.py --compare before.json

Each run trains on pictures made here (the tests' own makers) for a few steps from seed 0,
single process, float32; a resumed run is included. Each run is reduced to the SHA-256 of
its shipped generator's tensors and of its saved training state (weights, optimiser
moments, RNG): equal hashes mean the same steps were taken.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import sys
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studio.cli import main as studio  # noqa: E402
from tests.conftest import make_image_folder  # noqa: E402
from tests.test_train_pix2pix import make_pairs  # noqa: E402

GAN = ["--batch", "8", "--width", "4", "--z-dim", "8", "--max-images", "32", "--fp32", "--threads", "1"]
PIX = ["--batch", "4", "--width", "4", "--image-size", "32", "--max-images", "16", "--fp32", "--threads", "1"]
RUNS = {
    "dcgan studio": ["dcgan", "flat", *GAN],
    "dcgan reference": ["dcgan", "flat", *GAN, "--recipe", "reference"],
    "cgan class+twin+ms+balance": ["cgan", "classes", *GAN, "--twin-loss", "1", "--mode-seeking", "0.5",
                                   "--class-balance", "1", "--class-weights", "b=2", "--lr", "1e-4", "--ema-kimg", "1"],
    "cgan merged": ["cgan", "classes", *GAN, "--merge-classes", "c=a", "--augment", "translation"],
    "pix2pix studio augment": ["pix2pix", "pairs", *PIX, "--augment", "flip,shift,width,drop"],
    "pix2pix reference": ["pix2pix", "pairs", *PIX, "--recipe", "reference"],
}


def digest(tensors: dict[str, torch.Tensor]) -> str:
    h = hashlib.sha256()
    for key in sorted(tensors):
        h.update(key.encode())
        h.update(tensors[key].reshape(-1).contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]


def train(tmp: Path, key: str, argv: list[str], extra: list[str] = ()) -> dict[str, str]:
    kind, data, *flags = argv
    name = key.replace(" ", "-").replace("+", "-")
    args = ["train", kind, "--data", str(tmp / data), "--name", name, "--checkpoints", str(tmp / "ck"),
            "--run-dir", str(tmp / "runs" / name), *flags, *extra]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        if studio(args) != 0:
            raise SystemExit(f"{key} failed: {err.getvalue()}")
    return {"generator": digest(load_file(str(tmp / "ck" / name / "model.safetensors"))),
            "state": digest(load_file(str(tmp / "runs" / name / "state.safetensors")))}


def fingerprints() -> dict[str, dict[str, str]]:
    torch.set_num_threads(1)
    out = {}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        make_image_folder(tmp / "flat")
        make_image_folder(tmp / "classes", ["a", "b", "c"])
        make_pairs(tmp / "pairs")
        for key, argv in RUNS.items():
            out[key] = train(tmp, key, argv)
        half = [a if a != "32" else "16" for a in RUNS["dcgan studio"]]
        train(tmp, "dcgan resumed", half)
        out["dcgan resumed"] = train(tmp, "dcgan resumed", RUNS["dcgan studio"], ["--resume"])
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out")
    p.add_argument("--compare")
    args = p.parse_args()
    now = fingerprints()
    if args.out:
        Path(args.out).write_text(json.dumps(now, indent=1) + "\n")
        print(f"wrote {len(now)} run fingerprints to {args.out}")
    if args.compare:
        before = json.loads(Path(args.compare).read_text())
        differ = [k for k in before if before[k] != now.get(k)]
        for k in differ:
            print(f"  {k}: before {before[k]}, now {now.get(k)}")
        print(f"{len(before)} runs compared: " + ("identical" if not differ else "DIFFERENT"))
        return 1 if differ else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
