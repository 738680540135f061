"""The GAN tabs in a real headless Chromium: seeds, truncation, the neighbour grid, classes."""

import pytest

from studio import Registry

from .browser_util import browser_page, save_screenshot, wait_for_change
from .conftest import free_port, make_conditional, make_latent

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    from studio.ui.app import build_app

    root = tmp_path_factory.mktemp("browser") / "checkpoints"
    make_latent(root)
    make_conditional(root)
    demo = build_app(Registry(root))
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture
def page(app_url, tmp_path):
    pw, context, page = browser_page(tmp_path)
    page.goto(app_url)
    page.wait_for_selector("#latent-picture img", timeout=30_000)  # the page-load render arrived
    yield page
    context.close()
    pw.stop()


def src(page, selector):
    element = page.query_selector(selector)
    return element.get_attribute("src") if element else None


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


def test_class_conditional(page):
    page.get_by_role("tab", name="Class-conditional").click()
    picture = "#conditional-picture img"
    page.wait_for_selector(picture, timeout=15_000)
    first = src(page, picture)
    page.click("#class-main input")
    page.get_by_role("option", name="squares").click()
    squares = wait_for_change(lambda: src(page, picture), first)
    page.click("#class-other input")
    page.get_by_role("option", name="stripes").click()
    wait_for_change(lambda: src(page, picture), squares)
    save_screenshot(page, "browser-conditional")
