"""Every tab in a real headless Chromium, driven as a person would: typing, dragging,
clicking, drawing with the mouse, dropping files, stopping a run, downloading."""

import time

import numpy as np
import pytest
from PIL import Image, ImageDraw

from studio import Registry

from .browser_util import ARTIFACTS, draw, save_screenshot, served, src, wait_for_change
from .conftest import make_all

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    from studio.ui.app import build_app

    root = make_all(tmp_path_factory.mktemp("browser") / "checkpoints")
    with served(build_app(Registry(root), vgg_weights="random")) as url:
        yield url


def test_latent_explorer(page):
    picture = "#latent-picture img"
    first = src(page, picture)
    page.fill("#latent-seed input", "7")
    page.press("#latent-seed input", "Enter")
    after_seed = wait_for_change(lambda: src(page, picture), first)

    page.locator("#latent-psi input[type=range]").fill("0.3")
    page.locator("#latent-psi input[type=range]").dispatch_event("pointerup")
    after_psi = wait_for_change(lambda: src(page, picture), after_seed)

    # Click the last neighbour: the seed moves to it and the picture follows.
    page.locator("#latent-grid .thumbnail-item").nth(8).click()
    wait_for_change(lambda: page.input_value("#latent-seed input"), "7")
    assert page.input_value("#latent-seed input") == "11"
    wait_for_change(lambda: src(page, picture), after_psi)

    page.click("#latent-walk")
    page.wait_for_selector("#latent-strip img", timeout=15_000)
    assert page.locator("#latent-strip img").count() == 10
    save_screenshot(page, "browser-latent")


def pick_option(page, dropdown, name):
    page.click(f"{dropdown} input")
    page.get_by_role("option", name=name).click()
    page.wait_for_selector("[role=option]", state="detached")  # the list has closed


def test_style_mixing_in_the_latent_explorer(page):
    panel, noise, towards, figure = "#latent-mixing", "#latent-noise", "#latent-towards", "#latent-mix-figure img"
    assert not any(page.locator(part).is_visible() for part in (panel, noise, towards))  # a DCGAN is picked
    assert page.locator("#latent-path").is_visible()
    first = src(page, "#latent-picture img")
    pick_option(page, "#latent-model", "tiny-style")
    page.wait_for_selector(panel, state="visible", timeout=15_000)
    assert page.locator(noise).is_visible() and page.locator(towards).is_visible()
    assert not page.locator("#latent-path").is_visible()  # a style-based walk goes straight in w
    styled = wait_for_change(lambda: src(page, "#latent-picture img"), first)  # the style model's picture

    pick_option(page, "#latent-noise", "none")  # a new noise mode redraws the picture
    noiseless = wait_for_change(lambda: src(page, "#latent-picture img"), styled)
    page.locator(towards).get_by_label("cluster").check()  # so does truncating towards a cluster
    wait_for_change(lambda: src(page, "#latent-picture img"), noiseless)
    page.get_by_label("coarse").check()
    page.fill("#latent-mix-seeds input, #latent-mix-seeds textarea", "1-3")
    page.click("#latent-mix")
    page.wait_for_selector(figure, timeout=20_000)
    page.wait_for_function(f"document.querySelector('{figure}').naturalWidth > 0")
    size = page.evaluate(f"[document.querySelector('{figure}').naturalWidth, document.querySelector('{figure}').naturalHeight]")
    assert size == [(5 * 34 + 2) * 4, (4 * 34 + 2) * 4]  # 1 + 4 style seeds across, 1 + 3 seeds down, enlarged 4x
    assert page.inner_text("#latent-mix-message").strip() == ""
    page.locator(panel).scroll_into_view_if_needed()
    save_screenshot(page, "browser-style-mixing")

    # An error leaves the figure and says why in one line.
    shown = src(page, figure)
    page.fill("#latent-mix-style-seeds input, #latent-mix-style-seeds textarea", "0-99")
    page.click("#latent-mix")
    page.wait_for_function("document.querySelector('#latent-mix-message').innerText.includes('Could not do that')",
                           timeout=15_000)
    assert "Give 1 to 16 style seeds, got 100" in page.inner_text("#latent-mix-message")
    assert src(page, figure) == shown

    styled = src(page, "#latent-picture img")
    pick_option(page, "#latent-model", "tiny-latent")  # back to the DCGAN: the panel goes
    page.wait_for_selector(panel, state="hidden", timeout=15_000)
    assert not page.locator(noise).is_visible() and not page.locator(towards).is_visible()
    wait_for_change(lambda: src(page, "#latent-picture img"), styled)  # the hidden radio still says cluster:
    assert page.inner_text("#latent-message").strip() == ""  # the DCGAN draws all the same


def test_class_conditional(page):
    page.get_by_role("tab", name="Class-conditional").click()
    picture = "#conditional-picture img"
    page.wait_for_selector(picture, timeout=15_000)
    first = src(page, picture)
    page.click("#class-main input")
    page.get_by_role("option", name="squares").click()
    squares = wait_for_change(lambda: src(page, picture), first)
    page.wait_for_selector("[role=option]", state="detached")  # the first list has closed
    page.click("#class-other input")
    page.get_by_role("option", name="stripes").click()
    wait_for_change(lambda: src(page, picture), squares)
    save_screenshot(page, "browser-conditional")


def test_sketch_to_image(page):
    page.get_by_role("tab", name="Sketch to image").click()
    page.click('#sketch-pad button[aria-label="Brush"]')
    t0 = time.monotonic()
    draw(page, [(0.3, 0.3), (0.7, 0.3), (0.7, 0.7), (0.3, 0.7), (0.3, 0.3)])
    page.wait_for_selector("#sketch-result img", timeout=20_000)
    first = src(page, "#sketch-result img")
    print(f"stroke release to picture: {time.monotonic() - t0:.2f} s (including the stroke itself)")
    draw(page, [(0.35, 0.35), (0.65, 0.65)])
    wait_for_change(lambda: src(page, "#sketch-result img"), first, timeout=20)
    save_screenshot(page, "browser-sketch")

    # "Send to style transfer" (wired by the app from the tabs' parts) opens the style tab with the picture.
    page.click("#sketch-send")
    page.wait_for_selector("#style-content img", timeout=15_000)
    assert page.get_by_role("tab", name="Style transfer").get_attribute("aria-selected") == "true"
    save_screenshot(page, "browser-sketch-sent")


def test_style_transfer(page, tmp_path):
    page.get_by_role("tab", name="Style transfer").click()
    photo, painting = tmp_path / "photo.png", tmp_path / "painting.png"
    a = Image.new("RGB", (160, 120), (200, 160, 120))
    ImageDraw.Draw(a).ellipse([40, 20, 120, 100], fill=(30, 60, 160))
    a.save(photo)
    b = Image.fromarray(np.random.default_rng(0).integers(0, 255, (100, 100, 3), dtype=np.uint8))
    b.save(painting)
    # Drop the photo onto its input as a file drop, and pick the painting through the file input.
    data = photo.read_bytes()
    handle = page.evaluate_handle(
        """(bytes) => { const dt = new DataTransfer();
            dt.items.add(new File([new Uint8Array(bytes)], 'photo.png', {type: 'image/png'})); return dt; }""",
        list(data))
    target = page.locator("#style-content .upload-container, #style-content button").first
    for event in ("dragenter", "dragover", "drop"):
        target.dispatch_event(event, {"dataTransfer": handle})
    page.set_input_files("#style-style input[type=file]", str(painting))
    page.wait_for_selector("#style-content img", timeout=10_000)
    page.wait_for_selector("#style-style img", timeout=10_000)
    page.locator("#style-size input[type=number]").fill("64")
    page.locator("#style-size input[type=number]").press("Enter")
    page.locator("#style-steps input[type=number]").fill("500")
    page.locator("#style-steps input[type=number]").press("Enter")
    page.click("#style-run")
    status = lambda: page.inner_text("#style-status")  # noqa: E731
    wait_for_change(status, "", timeout=60)
    first = status()
    wait_for_change(status, first, timeout=60)  # the run moves on: more steps, a longer loss plot
    page.wait_for_selector("#style-result img", timeout=60_000)
    page.click("#style-stop")
    time.sleep(1.5)
    frozen = status()
    time.sleep(2.0)
    assert status() == frozen and "Step" in frozen and "500/500" not in frozen
    assert page.query_selector("#style-result img") is not None  # Stop kept the last picture
    with page.expect_download(timeout=10_000) as download:
        # Dispatched to the link itself: after a cancelled run, Playwright's hit test reports the
        # result's status overlay over the link, though the overlay is hidden when queried.
        page.locator("#style-result a[download]").first.dispatch_event("click")
    saved = ARTIFACTS / "style-result-download.png"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    download.value.save_as(saved)
    assert Image.open(saved).size == (64, 48)
    save_screenshot(page, "browser-style")
