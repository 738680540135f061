"""Shared pieces of the browser tests: a served app and a headless Chromium page."""

from __future__ import annotations

import os
import shutil
import time
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
