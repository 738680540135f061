"""What a person waits for in a real browser: GAN slider moves and sketch strokes.

    python bench/browser_latency.py [--checkpoints DIR] [--out assets/hand-drawn]

Serves the app on a loopback port in headless Debian Chromium (Playwright). In the
two GAN tabs it types seeds and drags the truncation slider, and times each change to
the new picture in the page (and, for a style-based model, each 4x4 style-mixing figure
from the Mix click, then the switch to truncation towards a cluster and moves with it on).
In the "Sketch to image" tab it draws each of six objects stroke by stroke with the mouse
on the canvas, as a person would: Brush tool, press, move, release (with --hints, then
a few colour hints: a brush colour from the palette, a short stroke inside a shape). After every
release it waits for the output picture to change and records the time from the
release to the new picture in the page (the canvas upload, the queue, the model, the
download and the render). Saves, per drawing, the canvas as drawn and the model's
picture into --out, plus `hand-drawn.png` (sketch above, result below) for the README.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from studio import Registry  # noqa: E402
from studio.imaging.convert import grid  # noqa: E402
from tests.browser_util import CHROMIUM, CHROMIUM_ARGS, src  # noqa: E402

RESULT = "#sketch-result img"  # the sketch tab's picture

Stroke = list[tuple[float, float]]  # points in [0, 1] canvas coordinates


def arc(cx: float, cy: float, rx: float, ry: float, start: float = 0, end: float = 360, n: int = 24) -> Stroke:
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in np.linspace(start, end, n)]


def heart() -> Stroke:
    t = np.linspace(0, 2 * math.pi, 40)
    x, y = 16 * np.sin(t) ** 3, 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
    return [(0.5 + 0.018 * a, 0.47 - 0.018 * b) for a, b in zip(x, y)]


DRAWINGS: dict[str, list[Stroke]] = {
    "smiley": [arc(0.5, 0.5, 0.3, 0.3), arc(0.4, 0.42, 0.03, 0.05, n=10), arc(0.6, 0.42, 0.03, 0.05, n=10),
               arc(0.5, 0.55, 0.16, 0.12, 20, 160, 12)],
    "sun": [arc(0.5, 0.5, 0.16, 0.16)] + [[(0.5 + 0.22 * math.cos(a), 0.5 + 0.22 * math.sin(a)),
                                          (0.5 + 0.33 * math.cos(a), 0.5 + 0.33 * math.sin(a))]
                                         for a in np.linspace(0, 2 * math.pi, 9)[:-1]],
    "house": [[(0.25, 0.45), (0.25, 0.8), (0.75, 0.8), (0.75, 0.45)], [(0.18, 0.48), (0.5, 0.2), (0.82, 0.48)],
              [(0.44, 0.8), (0.44, 0.6), (0.56, 0.6), (0.56, 0.8)], [(0.3, 0.52), (0.4, 0.52), (0.4, 0.6),
                                                                     (0.3, 0.6), (0.3, 0.52)]],
    "tree": [[(0.45, 0.85), (0.46, 0.6)], [(0.55, 0.85), (0.54, 0.6)], [(0.4, 0.85), (0.6, 0.85)],
             arc(0.5, 0.4, 0.25, 0.22, 120, 420, 30)],
    "heart": [heart()],
    "fish": [arc(0.45, 0.5, 0.25, 0.15, 30, 330, 26), [(0.66, 0.42), (0.85, 0.3), (0.85, 0.7), (0.66, 0.58)],
             arc(0.3, 0.46, 0.025, 0.025, n=8)],
}


# Colour hints as an artist might drop them, with --hints: (brush colour, a short stroke), in
# [0, 1] canvas coordinates, after the lines are drawn.
HINTS: dict[str, list[tuple[str, Stroke]]] = {
    "smiley": [("rgb(253, 216, 53)", [(0.5, 0.28), (0.52, 0.29)]), ("rgb(253, 216, 53)", [(0.3, 0.6), (0.31, 0.62)])],
    "sun": [("rgb(253, 216, 53)", [(0.47, 0.47), (0.53, 0.53)]), ("rgb(251, 140, 0)", [(0.56, 0.44), (0.57, 0.45)])],
    "house": [("rgb(229, 57, 53)", [(0.45, 0.38), (0.55, 0.38)]), ("rgb(30, 136, 229)", [(0.66, 0.62), (0.67, 0.7)]),
              ("rgb(121, 85, 72)", [(0.5, 0.7), (0.5, 0.72)])],
    "tree": [("rgb(67, 160, 71)", [(0.42, 0.35), (0.58, 0.4)]), ("rgb(121, 85, 72)", [(0.5, 0.72), (0.5, 0.78)])],
    "heart": [("rgb(229, 57, 53)", [(0.45, 0.45), (0.55, 0.5)])],
    "fish": [("rgb(251, 140, 0)", [(0.4, 0.55), (0.5, 0.52)]), ("rgb(251, 140, 0)", [(0.78, 0.45), (0.78, 0.55)])],
}


def pick_colour(page, colour: str) -> None:
    """Choose a brush colour from the pad's palette (the Color button's swatches)."""
    page.click('#sketch-pad button[aria-label="Color"]')
    page.click(f'#sketch-pad button.color[style*="{colour}"]')
    page.click('#sketch-pad button[aria-label="Brush"]')  # closes the palette, brush still active


def stroke(page, box: dict, points: Stroke) -> None:
    """Draw one stroke; [0, 1] coordinates span a square centred on the canvas element."""
    side = min(box["width"], box["height"])
    left, top = box["x"] + (box["width"] - side) / 2, box["y"] + (box["height"] - side) / 2
    (x0, y0), rest = points[0], points[1:]
    page.mouse.move(left + side * x0, top + side * y0)
    page.mouse.down()
    for x, y in rest:
        page.mouse.move(left + side * x, top + side * y, steps=3)
    page.mouse.up()


def wait_new(page, selector: str, old: str | None, timeout: float = 30.0) -> str | None:
    """The src of `selector`'s picture once it differs from `old`; None if it has not within `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = src(page, selector)
        if new and new != old:
            return new
        time.sleep(0.01)
    return None


def gan_latency(page, port: int, tab: str, prefix: str, moves: int = 8) -> list[float]:
    """Seconds from each seed entry or slider release to the new picture, first one first."""
    page.goto(f"http://127.0.0.1:{port}/")
    page.wait_for_selector("#latent-picture img", timeout=60_000)
    page.get_by_role("tab", name=tab).click()
    page.wait_for_selector(f"#{prefix}-picture img", timeout=60_000)
    return move_latency(page, prefix, moves)


def move_latency(page, prefix: str, moves: int, first_seed: int = 100) -> list[float]:
    """Seconds from each seed entry (even moves) or slider release (odd) to the new picture."""
    picture = f"#{prefix}-picture img"
    times = []
    for i in range(moves):
        old = src(page, picture)
        t0 = time.monotonic()
        if i % 2 == 0:
            page.fill(f"#{prefix}-seed input", str(first_seed + i))
            page.press(f"#{prefix}-seed input", "Enter")
        else:
            slider = page.locator(f"#{prefix}-psi input[type=range]")
            slider.fill(str(round(0.3 + 0.08 * i, 2)))
            slider.dispatch_event("pointerup")
        wait_new(page, picture, old)
        times.append(time.monotonic() - t0)
    return times


def mixing_latency(page, levels: tuple[str, ...] = ("coarse", "middle", "fine")) -> list[float]:
    """Seconds from each Mix click (4 seeds x 4 style seeds, one per level) to the new figure, in
    the Latent explorer, whose picked model must be style-based."""
    figure = "#latent-mix-figure img"
    times = []
    for level in levels:
        old = src(page, figure)
        page.get_by_label(level).check()
        t0 = time.monotonic()
        page.click("#latent-mix")
        wait_new(page, figure, old)
        times.append(time.monotonic() - t0)
    return times


def towards_latency(page, moves: int = 6) -> list[float]:
    """Seconds from choosing truncation towards a cluster (its first use fits the centres) to the
    new picture, then from each move with it on; back to the mean after."""
    picture, radio = "#latent-picture img", page.locator("#latent-towards")
    old, t0 = src(page, picture), time.monotonic()
    radio.get_by_label("cluster").check()
    wait_new(page, picture, old)
    times = [time.monotonic() - t0, *move_latency(page, "latent", moves, first_seed=200)]
    radio.get_by_label("mean").check()
    return times


def canvas_upload(folder: Path) -> Image.Image:
    """The newest canvas the browser uploaded (RGBA with ink; outputs are RGB), on white."""
    for path in sorted(folder.rglob("*.png"), key=lambda p: p.stat().st_mtime, reverse=True):
        with Image.open(path) as picture:
            if picture.mode != "RGBA":
                continue
            sheet = Image.new("RGBA", picture.size, "white")
            sheet.alpha_composite(picture)
            sheet = sheet.convert("RGB")
        if np.asarray(sheet.convert("L")).min() < 128:
            return sheet
    raise RuntimeError(f"no uploaded drawing in {folder}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoints", default=str(REPO / "checkpoints"))
    parser.add_argument("--out", default=str(REPO / "assets" / "hand-drawn"))
    parser.add_argument("--screenshots", help="folder for a screenshot of each tab after its moves")
    parser.add_argument("--hints", action="store_true", help="also drop colour hints on each drawing (HINTS)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    # The canvas uploads land here: the last one of a drawing is what the model was given.
    uploads = Path(tempfile.mkdtemp())
    os.environ["GRADIO_TEMP_DIR"] = str(uploads)
    from studio.ui.app import build_app
    from tests.conftest import free_port

    registry = Registry(args.checkpoints)
    if not registry.names("sketch"):
        sys.exit(f"no sketch model in {args.checkpoints}")
    demo = build_app(registry, vgg_weights="random")
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    latencies: list[float] = []
    sketches, results = [], []
    profile = tempfile.mkdtemp()
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True,
                                                            args=CHROMIUM_ARGS, viewport={"width": 1300, "height": 1000})
            page = context.new_page()
            for tab, prefix in (("Latent explorer", "latent"), ("Class-conditional", "conditional")):
                if not registry.names(prefix):
                    continue
                ms = [round(t * 1000) for t in gan_latency(page, port, tab, prefix)]
                print(f"{tab}: first move to picture {ms[0]} ms, "
                      f"then median {statistics.median(ms[1:]):.0f} ms, max {max(ms[1:])} ms")
                if prefix == "latent" and getattr(registry.get(registry.names("latent")[0]), "style_based", False):
                    ms = [round(t * 1000) for t in mixing_latency(page)]
                    print(f"Style mixing, 4x4 figure, coarse / middle / fine: {ms} ms")
                    ms = [round(t * 1000) for t in towards_latency(page)]
                    print(f"Truncate towards cluster: {ms[0]} ms to the picture, then moves median "
                          f"{statistics.median(ms[1:]):.0f} ms, max {max(ms[1:])} ms")
                if args.screenshots:
                    page.click(f"#{prefix}-walk")
                    page.wait_for_selector(f"#{prefix}-strip img", timeout=30_000)
                    page.wait_for_timeout(1000)
                    page.evaluate("window.scrollTo(0, 0)")  # the tab's top: model, seed, picture, neighbours
                    page.screenshot(path=str(Path(args.screenshots) / f"screenshot-{prefix}.png"))
                    panel = page.locator(f"#{prefix}-mixing")
                    if panel.is_visible():
                        panel.screenshot(path=str(Path(args.screenshots) / f"screenshot-{prefix}-mixing.png"))
            for name, strokes in DRAWINGS.items():
                page.goto(f"http://127.0.0.1:{port}/")
                page.get_by_role("tab", name="Sketch to image").click(timeout=60_000)
                page.wait_for_selector("#sketch-pad canvas", timeout=60_000)
                page.click('#sketch-pad button[aria-label="Brush"]')
                canvas = page.locator("#sketch-pad canvas").first
                box = canvas.bounding_box()
                result = src(page, RESULT)
                hints = HINTS[name] if args.hints else []
                for colour, points in [(None, points) for points in strokes] + hints:
                    if colour:
                        pick_colour(page, colour)
                    stroke(page, box, points)
                    t0 = time.monotonic()
                    result = wait_new(page, RESULT, result)
                    if result is None:
                        raise TimeoutError("the picture did not change after the stroke")
                    latencies.append(time.monotonic() - t0)
                name = f"{name}-hints" if args.hints else name
                canvas_upload(uploads).save(out / f"{name}-sketch.png")
                body = page.request.get(result if result.startswith("http") else f"http://127.0.0.1:{port}{result}").body()
                (out / f"{name}-result.png").write_bytes(body)
                sketches.append(Image.open(out / f"{name}-sketch.png").convert("RGB").resize((192, 192)))
                results.append(Image.open(out / f"{name}-result.png").convert("RGB").resize((192, 192)))
                print(f"{name}: {len(strokes)} strokes, last release-to-picture {latencies[-1] * 1000:.0f} ms")
                if args.screenshots:
                    page.screenshot(path=str(Path(args.screenshots) / "screenshot-sketch.png"))
            context.close()
    finally:
        demo.close()
        shutil.rmtree(profile, ignore_errors=True)
        shutil.rmtree(uploads, ignore_errors=True)
    grid(sketches + results, columns=len(sketches)).save(out / ("hand-drawn-hints.png" if args.hints else "hand-drawn.png"))
    ms = sorted(x * 1000 for x in latencies)
    print(f"\nmachine: {platform.machine()}, {len(ms)} strokes on the 384 px canvas")
    print(f"release-to-picture: median {statistics.median(ms):.0f} ms, "
          f"p95 {ms[min(len(ms) - 1, int(0.95 * len(ms)))]:.0f} ms, max {ms[-1]:.0f} ms")


if __name__ == "__main__":
    main()
