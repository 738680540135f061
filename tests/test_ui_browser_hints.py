"""Colour hints in a real headless Chromium: lines drawn in black, hints dropped in two
palette colours with the mouse, and what reaches the hint model."""

import io
import time
from contextlib import contextmanager

import numpy as np
import pytest
import torch
from PIL import Image

from studio import Registry, save_checkpoint
from studio.models import build
from studio.ui import sketch as sketch_tab

from .browser_util import draw, loaded_page, save_screenshot, served, src, wait_for_change
from .conftest import make_all

pytestmark = pytest.mark.browser

RED, BLUE = "rgb(229, 57, 53)", "rgb(30, 136, 229)"


@pytest.fixture(scope="module")
def calls(tmp_path_factory):
    """The app with a tiny hint model first in the sketch tab; every core call's hints recorded."""
    from studio.ui.app import build_app

    root = make_all(tmp_path_factory.mktemp("hints") / "checkpoints")
    torch.manual_seed(4)
    save_checkpoint(build("pix2pix-unet", {"image_size": 64, "width": 4, "hints": True}), "a-hints",
                    {"task": "sketch", "image_size": 64, "licence": "test", "featured": True}, root=root)
    seen = []
    real = sketch_tab.sketch_to_image

    def spy(model, drawing, hints=None):
        seen.append((drawing, hints))
        return real(model, drawing, hints)

    sketch_tab.sketch_to_image = spy
    try:
        with served(build_app(Registry(root), vgg_weights="random")) as url:
            yield url, seen
    finally:
        sketch_tab.sketch_to_image = real


@contextmanager
def loaded_page_without_gans(url, tmp_path):
    """A page on an app that may have no GAN tab's picture to wait for."""
    from .browser_util import browser_page

    pw, context, page = browser_page(tmp_path)
    try:
        page.goto(url)
        yield page
    finally:
        context.close()
        pw.stop()


def next_call(seen, has, timeout: float = 20.0):
    """The first recorded call whose hints (an RGBA array) satisfy `has`, waited for: a stroke can
    send the canvas more than once, so a changed picture does not mean the last stroke arrived."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for drawing, hints in list(seen):
            if hints is not None and has(np.asarray(hints)):
                return drawing, hints
        time.sleep(0.1)
    raise AssertionError(f"no call with the expected hints in {timeout} s ({len(seen)} calls)")


def pick_colour(page, colour):
    page.click('#sketch-pad button[aria-label="Color"]')
    page.click(f'#sketch-pad button.color[style*="{colour}"]')
    page.click('#sketch-pad button[aria-label="Brush"]')  # closes the palette, brush still active


def test_hints_in_two_colours_reach_the_model_where_they_were_dropped(calls, tmp_path):
    url, seen = calls
    with loaded_page(url, tmp_path) as page:
        page.get_by_role("tab", name="Sketch to image").click()
        page.click('#sketch-pad button[aria-label="Brush"]')
        draw(page, [(0.2, 0.3), (0.8, 0.3), (0.8, 0.7), (0.2, 0.7), (0.2, 0.3)])  # a box
        draw(page, [(0.5, 0.3), (0.5, 0.7)])  # split in two
        page.wait_for_selector("#sketch-result img", timeout=20_000)
        plain = src(page, "#sketch-result img")
        pick_colour(page, RED)
        draw(page, [(0.33, 0.48), (0.37, 0.52)])  # a short red stroke in the left half
        next_call(seen, lambda a: a[:, : a.shape[1] // 2, 3].any())
        pick_colour(page, BLUE)
        draw(page, [(0.63, 0.48), (0.67, 0.52)])  # a blue one in the right half
        drawing, hints = next_call(seen, lambda a: a[:, a.shape[1] // 2:, 3].any())
        wait_for_change(lambda: src(page, "#sketch-result img"), plain, timeout=20)
        save_screenshot(page, "browser-sketch-hints")
    a = np.asarray(hints)  # RGBA, the canvas' size; opaque where a hint is
    ys, xs = np.nonzero(a[..., 3])
    w = a.shape[1]
    left, right = xs < w / 2, xs >= w / 2
    assert left.any() and right.any()
    assert np.abs(a[ys[left], xs[left], :3].mean(0) - (229, 57, 53)).max() < 30  # red on the left
    assert np.abs(a[ys[right], xs[right], :3].mean(0) - (30, 136, 229)).max() < 30  # blue on the right
    lines = np.asarray(drawing.convert("L")) < 128
    assert lines.sum() > 100 and not lines[ys, xs].any()  # the lines stay black; hints are not lines
    assert seen[0][1] is None  # before any hint: none passed


@pytest.mark.slow
def test_the_shipped_hint_model_paints_each_half_its_hints_colour(tmp_path):
    """The shipped sketch2emoji-hints, through the browser: a box split in two, red in one half,
    blue in the other; each half of the picture comes out nearer its hint's colour."""
    from pathlib import Path

    from studio.ui.app import build_app

    shipped = Path(__file__).resolve().parents[1] / "checkpoints"
    if not (shipped / "sketch2emoji-hints").is_dir():
        pytest.skip("sketch2emoji-hints is not installed")
    root = tmp_path / "checkpoints"
    root.mkdir()
    (root / "sketch2emoji-hints").symlink_to(shipped / "sketch2emoji-hints")
    with served(build_app(Registry(root), vgg_weights="random")) as url, loaded_page_without_gans(url, tmp_path) as page:
        page.get_by_role("tab", name="Sketch to image").click()
        page.wait_for_selector("#sketch-pad canvas", timeout=30_000)
        page.click('#sketch-pad button[aria-label="Brush"]')
        draw(page, [(0.2, 0.25), (0.8, 0.25), (0.8, 0.75), (0.2, 0.75), (0.2, 0.25)])
        draw(page, [(0.5, 0.25), (0.5, 0.75)])
        page.wait_for_selector("#sketch-result img", timeout=30_000)
        before = src(page, "#sketch-result img")
        for colour, x in ((RED, 0.35), (BLUE, 0.65)):
            pick_colour(page, colour)
            draw(page, [(x - 0.03, 0.5), (x + 0.03, 0.5)])
        # A stroke can send the canvas more than once: wait for the picture the last one makes.
        deadline = time.monotonic() + 30
        while True:
            before = wait_for_change(lambda: src(page, "#sketch-result img"), before, timeout=30)
            left, right = half_colours(page, before)
            if (left[0] > left[2] + 40 and right[2] > right[0] + 40) or time.monotonic() > deadline:
                break
        save_screenshot(page, "browser-sketch-hints-shipped")
    assert left[0] > left[2] + 40 and right[2] > right[0] + 40, (left, right)  # red left, blue right


def half_colours(page, url: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean RGB of the picture's left and right halves, middle third, away from the dividing line."""
    picture = np.asarray(Image.open(io.BytesIO(page.request.get(url).body())).convert("RGB"), dtype=float)
    h, w, _ = picture.shape
    middle = picture[h // 3:2 * h // 3]
    return middle[:, w // 4:w // 2 - 8].mean((0, 1)), middle[:, w // 2 + 8:3 * w // 4].mean((0, 1))
