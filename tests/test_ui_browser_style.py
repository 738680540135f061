"""Style transfer as a new user meets it: the real app on the shipped checkpoints, no VGG19
anywhere, in headless Chromium. An example pair runs on the built-in network, streams the
picture and the loss plot, stops, downloads; a wrong upload leaves the picture in place."""

import time

import pytest
from PIL import Image

from .browser_util import ARTIFACTS, loaded_page, save_screenshot, served, wait_for_change

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    from studio import Registry
    from studio.tasks.style.networks import default_network
    from studio.ui.app import build_app

    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TORCH_HOME", str(home / "torch"))  # an empty hub cache
        env.delenv("STUDIO_VGG_WEIGHTS", raising=False)
        assert default_network() == "lite1"  # no VGG19 anywhere
        with served(build_app(Registry())) as url:
            yield url


@pytest.fixture
def page(app_url, tmp_path):
    with loaded_page(app_url, tmp_path) as page:
        page.get_by_role("tab", name="Style transfer").click()
        page.wait_for_selector("#style-run", timeout=30_000)
        yield page


def test_an_example_pair_streams_stops_and_downloads(page, tmp_path):
    assert "EfficientNet-Lite1" in page.inner_text("#style-network-note")
    page.locator("#style-examples button, #style-examples tr").nth(1).click()  # the first example pair
    page.wait_for_selector("#style-content img", timeout=10_000)
    page.wait_for_selector("#style-style img", timeout=10_000)
    page.locator("#style-steps input[type=number]").fill("500")
    page.locator("#style-steps input[type=number]").press("Enter")
    t0 = time.monotonic()
    page.click("#style-run")
    page.wait_for_selector("#style-result img", timeout=30_000)
    print(f"Run to first streamed picture: {time.monotonic() - t0:.2f} s")
    status = lambda: page.inner_text("#style-status")  # noqa: E731
    first = wait_for_change(status, "", timeout=30)
    assert "half size" in first  # the status says why the run starts small
    wait_for_change(status, first, timeout=30)
    page.wait_for_selector("#style-plot canvas, #style-plot svg", timeout=30_000)
    time.sleep(4)  # long enough for the full-size half of the run to begin
    page.click("#style-stop")
    time.sleep(1.5)
    frozen = status()
    time.sleep(2.0)
    assert status() == frozen and "Step" in frozen and "500/500" not in frozen
    with page.expect_download(timeout=10_000) as download:
        page.locator("#style-result a[download]").first.dispatch_event("click")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    saved = ARTIFACTS / "style-lite1-download.png"
    download.value.save_as(saved)
    assert max(Image.open(saved).size) in (192, 384)
    save_screenshot(page, "browser-style-lite1")

    # A text file named like a photo: the studio's message, and the picture stays.
    fake = tmp_path / "holiday.jpg"
    fake.write_text("not a picture\n")
    before = page.get_attribute("#style-result img", "src")
    page.set_input_files("#style-content input[type=file]", str(fake))
    time.sleep(1.0)
    page.click("#style-run")
    deadline = time.monotonic() + 30
    while "Could not" not in status() and time.monotonic() < deadline:
        time.sleep(0.2)
    message = status()
    assert "could not be read as a picture" in message and "/tmp" not in message, message
    assert page.get_attribute("#style-result img", "src") == before
    assert not page.locator("#style-result .error, #style-plot .error").count()
    save_screenshot(page, "browser-style-bad-upload")
