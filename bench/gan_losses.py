"""Side by side: the GAN losses, R1 and learning-rate schedules on one data set, at equal images seen.

    python bench/gan_losses.py --data ~/.cache/studio/datasets/emoji64 --images 400000 --out runs/losses \
        [--parallel 8] [--time-limit 420] [--configs ns,hinge] [--schedules constant,cosine]

Every configuration trains the studio `dcgan` recipe from the same seed with one option changed
(its own process; `--parallel` of them at once, e.g. on one GPU). A configuration that does
not finish within `--time-limit` seconds is stopped; all are then compared at the largest
number of images every one of them reached (snapshots every quarter). Each is measured with
`studio eval` (EfficientNet-Lite0 features, held-out split, floors beside), its images/s
taken from its own training record, and its 8x8 grid of seeds 0-63 saved. Writes
`<out>/table.json`, `<out>/table.md` and `<out>/grid-<config>.png`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LOSSES = {
    "ns": [],
    "hinge": ["--loss", "hinge"],
    "wgan-gp": ["--loss", "wgan-gp", "--d-norm", "none"],
    "ns+r1": ["--r1", "0.1"],
    # WGAN-GP with its paper's optimiser (Gulrajani et al.: Adam 1e-4, betas (0, 0.9)).
    "wgan-gp-paper": ["--loss", "wgan-gp", "--d-norm", "none", "--lr", "1e-4", "--beta1", "0", "--beta2", "0.9"],
    # One critic step per generator step, from each initialisation of G (wgan-gp's default is torch).
    "wgan-gp-1": ["--loss", "wgan-gp", "--d-norm", "none", "--n-critic", "1"],
    "wgan-gp-1-dcgan-init": ["--loss", "wgan-gp", "--d-norm", "none", "--n-critic", "1", "--g-init", "dcgan"],
}
SCHEDULES = {"constant": [], "cosine": ["--lr-schedule", "cosine"]}


def train_images(data: Path) -> int:
    from studio.data.folder import load_folder

    return len(load_folder(data, size=64, split="train").images)


def command(name: str, flags: list[str], args: argparse.Namespace, size: int) -> list[str]:
    quarters = ",".join(str(args.images * k // 4) for k in (1, 2, 3))
    return [sys.executable, "-m", "studio", "train", "dcgan", "--data", str(args.data), "--name", name,
            "--checkpoints", str(args.out / "ck"), "--run-dir", str(args.out / "runs" / name),
            "--max-images", str(args.images), "--epochs", repr(args.images / size), "--snapshots", quarters,
            "--save-every", "120", "--no-monitor", "--seed", "0", *(["--threads", str(args.threads)] if args.threads else []),
            *flags]


def run_all(jobs: dict[str, list[str]], args: argparse.Namespace) -> None:
    """Run the training commands, `--parallel` at a time, each stopped past the time limit."""
    pending, running = list(jobs.items()), {}
    start = time.monotonic()
    while pending or running:
        while pending and len(running) < args.parallel:
            name, cmd = pending.pop(0)
            log = (args.out / f"train-{name}.log").open("w")
            running[name] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT), log)
        for name, (process, log) in list(running.items()):
            if process.poll() is not None or time.monotonic() - start > args.time_limit:
                if process.poll() is None:
                    process.terminate()
                    process.wait()
                    print(f"{name}: stopped at the time limit")
                log.close()
                del running[name]
        time.sleep(2)


def reached(name: str, out: Path) -> dict[int, Path]:
    """Images seen -> checkpoint folder, for every snapshot and the final checkpoint of a run."""
    found = {int(p.parent.name): p for p in (out / "runs" / name / "snapshots").glob(f"*/{name}")}
    final = out / "ck" / name / "studio.json"
    if final.exists():
        found[json.loads(final.read_text())["training"]["images_seen"]] = final.parent
    return found


def measure(name: str, folder: Path, out: Path, n: int) -> dict:
    import studio
    from studio.evaluation.evaluate import evaluate
    from studio.imaging.convert import grid

    registry = studio.Registry(folder.parent)
    figures = evaluate(name, registry, n=n, save=False)
    spec = registry.spec(name)
    grid(studio.sample(registry.get(name), list(range(64)), truncation=1.0), columns=8).save(out / f"grid-{name}.png")
    training = json.loads((out / "ck" / name / "studio.json").read_text())["training"] \
        if (out / "ck" / name / "studio.json").exists() else spec.raw["training"]
    rate = training["images_seen"] / max(training["seconds"], 1e-9)
    return {"images_seen": spec.raw["training"]["images_seen"], "images_per_s": round(rate, 1),
            "device": training["device"], **{k: figures[k] for k in (
                "fd", "fd_floor_train_vs_heldout", "kid", "kid_floor_train_vs_heldout", "grid_distinct_of_64")}}


def table(rows: dict[str, dict]) -> str:
    lines = ["| configuration | images seen | FD (floor) | KID (floor) | distinct of 64 | images/s |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['images_seen']:,} | {r['fd']:.2f} ({r['fd_floor_train_vs_heldout']:.2f}) | "
                     f"{r['kid']:.4f} ({r['kid_floor_train_vs_heldout']:.4f}) | {r['grid_distinct_of_64']} | "
                     f"{r['images_per_s']:.0f} |")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--images", type=int, default=400_000)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--parallel", type=int, default=1)
    p.add_argument("--threads", type=int)
    p.add_argument("--time-limit", type=float, default=float("inf"))
    p.add_argument("--configs", default="ns,hinge,wgan-gp,ns+r1")
    p.add_argument("--schedules", default=",".join(SCHEDULES))
    p.add_argument("--n", type=int, default=2000, help="generated pictures per evaluation")
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    size = train_images(args.data)
    names = {f"{loss}-{schedule}".replace("+", "-"): LOSSES[loss] + SCHEDULES[schedule]
             for loss in args.configs.split(",") for schedule in args.schedules.split(",")}
    run_all({name: command(name, flags, args, size) for name, flags in names.items()}, args)
    common = min((max(reached(name, args.out), default=0) for name in names), default=0)
    rows = {}
    for name in names:
        snapshots = reached(name, args.out)
        at = max((k for k in snapshots if k <= common), default=None)
        if at is not None:
            rows[name] = measure(name, snapshots[at], args.out, args.n)
            print(name, rows[name], flush=True)
    (args.out / "table.json").write_text(json.dumps(rows, indent=1) + "\n")
    (args.out / "table.md").write_text(table(rows) + "\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
