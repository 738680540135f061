"""Load test over loopback: N concurrent gradio_client sessions, the queue bound, a soak.

    python bench/load.py [--checkpoints DIR] [--sessions 1,4,16] [--seconds 30]
                         [--soak 300] [--queue-size 8]

Starts `studio serve` in its own process (style transfer with random VGG weights,
which cost the same time as real ones), then:
  1. for each N: N client sessions, each in its own thread, send a mix of requests
     (latent sample, class sample, sketch, a 10-step 64 px style transfer) back to back
     for --seconds (and at most 200 requests each); p50/p95 latency per kind,
     throughput and errors;
  2. the queue bound: with the server's queue at --queue-size, a burst of
     4 x queue-size style jobs at once; counts the jobs refused, checks each refusal
     came quickly with a message, and that the server still answers afterwards;
  3. a soak of --soak seconds at N=4: the server's RSS at the start and end.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pictures(folder: Path) -> dict[str, str]:
    drawing = Image.new("RGB", (384, 384), "white")
    d = ImageDraw.Draw(drawing)
    d.ellipse([80, 80, 300, 300], outline="black", width=6)
    d.arc([140, 160, 240, 250], 20, 160, fill="black", width=6)
    photo = Image.fromarray(np.random.default_rng(0).integers(0, 255, (96, 128, 3), dtype=np.uint8))
    paths = {"drawing": folder / "drawing.png", "photo": folder / "photo.png"}
    drawing.save(paths["drawing"])
    photo.save(paths["photo"])
    return {k: str(v) for k, v in paths.items()}


class Requests:
    """One kind of request per method; each returns when the server's answer is complete."""

    def __init__(self, client, models: dict[str, list[str]], files: dict[str, str], labels: list[str]):
        from gradio_client import handle_file

        self.client, self.models, self.labels = client, models, labels
        self.drawing = {"background": handle_file(files["drawing"]), "layers": [],
                        "composite": handle_file(files["drawing"])}
        self.photo = handle_file(files["photo"])
        self.kinds = [k for k in ("latent", "conditional", "sketch") if models.get(k)] + ["style"]

    def send(self, kind: str, rng: random.Random) -> None:
        c, m = self.client, self.models
        if kind == "latent":
            c.predict(m["latent"][0], rng.randrange(2**32), rng.random(), api_name="/sample")
        elif kind == "conditional":
            c.predict(m["conditional"][0], rng.randrange(2**32), 0.8, rng.choice(self.labels), "(none)", 0.5,
                      api_name="/sample_class")
        elif kind == "sketch":
            c.predict(m["sketch"][0], self.drawing, api_name="/sketch")
        else:
            c.predict(self.photo, self.photo, 64, 10, 5, False, "lbfgs", api_name="/stylize")


def drive(url: str, n: int, seconds: float, setup: dict, max_per_session: int = 200):
    """n sessions sending mixed requests back to back; returns (latencies by kind, errors, count, wall)."""
    from gradio_client import Client

    clients = [Client(url, verbose=False) for _ in range(n)]
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def session(i: int) -> None:
        rng = random.Random(i)
        requests = Requests(clients[i], **setup)
        for _ in range(max_per_session):
            if time.monotonic() > stop_at:
                break
            kind = rng.choice(requests.kinds)
            t0 = time.monotonic()
            try:
                requests.send(kind, rng)
                with lock:
                    latencies[kind].append(time.monotonic() - t0)
            except Exception as exc:  # noqa: BLE001 -- a load test counts every failure
                with lock:
                    errors.append(f"{kind}: {type(exc).__name__}: {str(exc)[:120]}")

    t0 = time.monotonic()
    threads = [threading.Thread(target=session, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    for c in clients:
        c.close()
    return latencies, errors, sum(len(v) for v in latencies.values()), wall


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


def burst(url: str, queue_size: int, files: dict[str, str]) -> None:
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False)
    photo = handle_file(files["photo"])
    t0 = time.monotonic()
    jobs = [client.submit(photo, photo, 64, 20, 5, False, "lbfgs", api_name="/stylize") for _ in range(4 * queue_size)]
    quick = 0  # refusals that arrived within 5 s of the burst: polite, not hung
    while time.monotonic() - t0 < 5:
        quick = sum(1 for job in jobs if job.done() and job.exception() is not None)
        time.sleep(0.1)
    refused, done, other = [], 0, []
    for job in jobs:
        try:
            job.result(timeout=600)
            done += 1
        except Exception as exc:  # noqa: BLE001
            (refused if "queue" in str(exc).lower() else other).append(str(exc)[:100])
    print(f"burst of {len(jobs)} style jobs against a queue of {queue_size}: {done} completed, "
          f"{len(refused)} refused ({quick} of them within 5 s), {len(other)} other errors")
    if refused:
        print(f"  refusal message: {refused[0]!r}")
    for message in other[:3]:
        print(f"  other error: {message!r}")
    t0 = time.monotonic()
    client.predict(photo, photo, 64, 10, 5, False, "lbfgs", api_name="/stylize")
    print(f"  the server still answers: a 10-step style transfer {1000 * (time.monotonic() - t0):.0f} ms after the burst")
    client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoints", default=str(REPO / "checkpoints"))
    parser.add_argument("--sessions", default="1,4,16")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--soak", type=float, default=300)
    parser.add_argument("--queue-size", type=int, default=8)
    parser.add_argument("--port", type=int, default=7877)
    args = parser.parse_args()

    sys.path.insert(0, str(REPO))
    from studio import Registry

    registry = Registry(args.checkpoints)
    models = {task: registry.names(task) for task in ("latent", "conditional", "sketch")}
    labels = list(registry.spec(models["conditional"][0]).labels) if models["conditional"] else []
    env = {**os.environ, "STUDIO_QUEUE_SIZE": str(args.queue_size)}
    server = subprocess.Popen([sys.executable, "-m", "studio.cli", "--checkpoints", args.checkpoints, "serve",
                               "--port", str(args.port), "--vgg-weights", "random"], env=env, cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{args.port}/"
    try:
        import urllib.request

        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    sys.exit("the server did not start")
                time.sleep(0.5)
        files = pictures(Path(tempfile.mkdtemp()))
        setup = {"models": models, "files": files, "labels": labels}
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores; models: "
              + ", ".join(f"{k}={v[0]}" for k, v in models.items() if v) + "; style: 64 px, 10 L-BFGS steps, random VGG19")
        drive(url, 1, 5, setup)  # warm-up: first model loads
        print(f"\n| N | requests | throughput (req/s) | errors | " + " | ".join(
            f"{k} p50 / p95 (ms)" for k in ("latent", "conditional", "sketch", "style")) + " |")
        print("|---|---|---|---|" + "---|" * 4)
        for n in [int(x) for x in args.sessions.split(",")]:
            lat, errors, count, wall = drive(url, n, args.seconds, setup)
            cells = [f"{pct(lat[k], 0.5):.0f} / {pct(lat[k], 0.95):.0f}" if lat.get(k) else "-"
                     for k in ("latent", "conditional", "sketch", "style")]
            print(f"| {n} | {count} | {count / wall:.1f} | {len(errors)} | " + " | ".join(cells) + " |")
            for e in errors[:3]:
                print(f"  error: {e}")
        print()
        burst(url, args.queue_size, files)
        if args.soak > 0:
            start = rss_mb(server.pid)
            lat, errors, count, wall = drive(url, 4, args.soak, setup, max_per_session=10**6)
            end = rss_mb(server.pid)
            all_ms = [x for v in lat.values() for x in v]
            print(f"\nsoak: {wall:.0f} s at N=4, {count} requests, {len(errors)} errors, "
                  f"p50 {statistics.median(all_ms) * 1000:.0f} ms; server RSS {start:.0f} MB at start, {end:.0f} MB at end")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
