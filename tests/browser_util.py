"""Shared pieces of the browser tests: a served app and a headless Chromium page."""

from __future__ import annotations

import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("STUDIO_ARTIFACTS", Path(__file__).resolve().parent.parent / "artifacts"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def browser_page(tmp_path: Path):
    """(playwright, context, page) on Debian's Chromium; skips when it is not installed."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    pw = sync_playwright().start()
    context = pw.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True,
                                                    args=CHROMIUM_ARGS, viewport={"width": 1300, "height": 1000})
    return pw, context, context.new_page()


@contextmanager
def served(demo, **launch):
    """Launch a built app on a free loopback port (with `launch`'s extra arguments, e.g. the
    studio's launch_kwargs() for its CSS); yields its URL, closes it afterwards."""
    from .conftest import free_port

    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@contextmanager
def loaded_page(url: str, tmp_path: Path):
    """A Chromium page on the app at `url`, once the page-load render has arrived."""
    pw, context, page = browser_page(tmp_path)
    try:
        page.goto(url)
        page.wait_for_selector("#latent-picture img", timeout=30_000)
        yield page
    finally:
        context.close()
        pw.stop()


def src(page, selector: str) -> str | None:
    """The src of the first element `selector` matches (an output picture), or None."""
    element = page.query_selector(selector)
    return element.get_attribute("src") if element else None


def draw(page, points, canvas: str = "#sketch-pad canvas") -> None:
    """One mouse stroke through `points`, (x, y) in [0, 1] of the canvas' box: press, move, release."""
    box = page.locator(canvas).first.bounding_box()
    (x0, y0), rest = points[0], points[1:]
    page.mouse.move(box["x"] + box["width"] * x0, box["y"] + box["height"] * y0)
    page.mouse.down()
    for x, y in rest:
        page.mouse.move(box["x"] + box["width"] * x, box["y"] + box["height"] * y, steps=10)
    page.mouse.up()


def wait_for_change(read, old, timeout: float = 15.0):
    """Poll `read()` until it differs from `old`; returns the new value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = read()
        if value and value != old:
            return value
        time.sleep(0.1)
    raise AssertionError(f"value stayed {old!r} for {timeout} s")


def save_screenshot(page, name: str) -> Path:
    """Full-page screenshot into the artefacts folder, checked not to be blank."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    pixels = np.asarray(Image.open(path).convert("L"), dtype=np.float32)
    assert pixels.std() > 10, f"screenshot {path} is blank"
    return path
