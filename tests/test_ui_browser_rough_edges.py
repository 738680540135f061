"""The rough edges a new user met by trying every tab (issue 34), each driven in headless
Chromium as that user did: typing and arrow keys on the truncation slider, wrong seeds,
long seeds, the walk, the dice, the class mix, the sketch pad, tracing, wrong uploads."""

import io
import time

import numpy as np
import pytest
from PIL import Image, ImageDraw

from studio import Registry

from .browser_util import draw, save_screenshot, served, src, wait_for_change
from .conftest import make_all

pytestmark = pytest.mark.browser

BADGES = "[data-testid=status-tracker] .error"  # Gradio's red "Error" badge over an output


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    from studio.ui.app import build_app, launch_kwargs

    root = make_all(tmp_path_factory.mktemp("rough") / "checkpoints")
    with served(build_app(Registry(root), vgg_weights="random"), **launch_kwargs()) as url:
        yield url


def srcs(page, selector):
    return [img.get_attribute("src") for img in page.query_selector_all(selector)]


def text(page, selector):
    return page.inner_text(selector).strip()


def badges(page, selector):
    return page.locator(f"{selector} {BADGES}").count()


def wait_for_text(page, selector, part, timeout=20.0):
    """Wait until the element's text holds `part`; returns the text."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if part in text(page, selector):
            return text(page, selector)
        time.sleep(0.1)
    raise AssertionError(f"{selector} never said {part!r}; it says {text(page, selector)!r}")


def set_seed(page, value, box="#latent-seed input"):
    page.fill(box, str(value))
    page.press(box, "Enter")


def picture_pixels(page, selector):
    """The pixels of the picture an <img> shows, fetched from the server."""
    data = page.request.get(page.get_attribute(selector, "src")).body()
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.float32)


# Latent explorer


def test_a_typed_truncation_redraws(page):
    picture = "#latent-picture img"
    first = src(page, picture)
    number = page.locator("#latent-psi input[type=number]")
    number.fill("0.3")
    number.press("Enter")
    wait_for_change(lambda: src(page, picture), first, timeout=20)


def test_arrow_keys_on_the_truncation_slider_redraw(page):
    picture = "#latent-picture img"
    first = src(page, picture)
    page.locator("#latent-psi input[type=range]").focus()
    page.keyboard.press("ArrowLeft")  # one step down: 0.75
    wait_for_change(lambda: src(page, picture), first, timeout=20)
    assert page.input_value("#latent-psi input[type=number]") == "0.75"


def test_a_grid_click_right_after_typing_truncation_moves_the_seed(page):
    set_seed(page, 7)
    page.wait_for_function("document.querySelectorAll('#latent-grid .caption-label')[4]?.innerText.includes('7')",
                           timeout=20_000)
    page.locator("#latent-psi input[type=number]").fill("0.5")
    page.locator("#latent-grid .thumbnail-item").nth(8).click()  # the number box loses focus on this click
    assert wait_for_change(lambda: page.input_value("#latent-seed input"), "7", timeout=20) == "11"


@pytest.mark.parametrize("seed,said", [("-5", "got -5"), ("4294967296", "got 4294967296"),
                                       ("12345678901234567890", "got 1"), ("1.5", "got 1.5")])
def test_a_wrong_seed_keeps_the_pictures_and_says_the_range(page, seed, said):
    picture, grid = "#latent-picture img", "#latent-grid img"
    set_seed(page, 30)
    page.wait_for_function("document.querySelectorAll('#latent-grid .caption-label')[4]?.innerText.includes('30')",
                           timeout=20_000)
    page.wait_for_function("(document.querySelector('#latent-message')?.innerText ?? '').trim() === ''",
                           timeout=20_000)
    shown, cells = src(page, picture), srcs(page, grid)
    set_seed(page, seed)
    page.wait_for_function(f"""document.querySelector('#latent-picture {BADGES}')
        || document.querySelector('#latent-message')?.innerText.includes('{said}')""", timeout=20_000)
    time.sleep(1.0)  # nothing else arrives
    assert badges(page, "#latent-picture") == 0 and badges(page, "#latent-grid") == 0
    assert src(page, picture) == shown and srcs(page, grid) == cells
    message = text(page, "#latent-message")
    assert "from 0 to 4294967295" in message and message.count("Could not do that") == 1
    set_seed(page, 31)  # a good seed again: a new picture, and the message goes
    wait_for_change(lambda: src(page, picture), shown, timeout=20)
    page.wait_for_function("document.querySelector('#latent-message').innerText.trim() === ''", timeout=20_000)


def test_a_wrong_walk_keeps_the_strip_and_the_gif(page):
    page.click("#latent-walk")
    page.wait_for_selector("#latent-strip img", timeout=20_000)
    page.wait_for_selector("#latent-gif a[download]", timeout=20_000)
    frames, gif = srcs(page, "#latent-strip img"), page.get_attribute("#latent-gif a[download]", "href")
    set_seed(page, -1, "#latent-to-seed input")
    page.click("#latent-walk")
    page.wait_for_function(f"""document.querySelector('#latent-strip {BADGES}')
        || document.querySelector('#latent-walk-message')?.innerText.includes('To seed')""", timeout=20_000)
    assert badges(page, "#latent-strip") == 0 and badges(page, "#latent-gif") == 0
    assert srcs(page, "#latent-strip img") == frames
    assert page.get_attribute("#latent-gif a[download]", "href") == gif
    assert "To seed must be a whole number from 0 to 4294967295" in text(page, "#latent-walk-message")


def clipped(page, selector):
    """The elements matched whose text does not fit their box (cut off with an ellipsis)."""
    return page.evaluate(f"""[...document.querySelectorAll('{selector}')]
        .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)""")


def inside(page, selector, frame):
    """Whether every element matched lies inside the visible box of `frame`."""
    return page.evaluate(f"""(() => {{
        const box = document.querySelector('{frame}').getBoundingClientRect();
        return [...document.querySelectorAll('{selector}')].every(e => {{ const r = e.getBoundingClientRect();
            return r.left >= box.left - 1 && r.right <= box.right + 1 && r.top >= box.top - 1
                && r.bottom <= box.bottom + 1; }}); }})()""")


def test_long_seeds_the_grid_the_walk_and_the_gif_are_readable(page):
    set_seed(page, 4294967295)  # the last seed: its neighbours are the nine before it
    first_caption = "document.querySelector('#latent-grid .caption-label')?.innerText.includes('4294967287')"
    page.wait_for_function(first_caption, timeout=20_000)
    captions = page.locator("#latent-grid .caption-label").all_inner_texts()
    assert [c.replace("seed", "").strip() for c in captions] == [str(s) for s in range(4294967287, 4294967296)]
    assert clipped(page, "#latent-grid .caption-label") == []
    # Nothing (such as the gallery's own label) lies over the grid's first row.
    covered = page.evaluate("""(() => { const cell = document.querySelector('#latent-grid .thumbnail-item');
        const r = cell.getBoundingClientRect(); const top = document.elementFromPoint(r.left + 12, r.top + 8);
        return !cell.contains(top); })()""")
    assert not covered

    page.click("#latent-walk")
    page.wait_for_function("document.querySelectorAll('#latent-strip img').length === 10", timeout=20_000)
    assert inside(page, "#latent-strip .thumbnail-item", "#latent-strip .grid-wrap")  # every frame shows
    page.wait_for_selector("#latent-gif .stem", timeout=20_000)
    assert clipped(page, "#latent-gif .stem") == [], "the GIF's name is cut"
    page.locator("#latent-strip").scroll_into_view_if_needed()
    save_screenshot(page, "rough-latent")


def test_the_dice_draws_without_an_emoji_font(page):
    dice = page.locator("#latent-dice")
    assert all(ord(ch) < 0x2000 for ch in dice.inner_text()), dice.inner_text()  # no emoji to draw as a box
    icon = dice.locator("img")
    assert icon.count() == 1
    page.wait_for_function("document.querySelector('#latent-dice img').naturalWidth > 0", timeout=10_000)
    seed = page.input_value("#latent-seed input")
    dice.click()
    wait_for_change(lambda: page.input_value("#latent-seed input"), seed, timeout=20)


# Class-conditional


def pick_option(page, dropdown, name):
    page.click(f"{dropdown} input")
    page.get_by_role("option", name=name).click()
    page.wait_for_selector("[role=option]", state="detached")


def test_the_mix_amount_shows_only_with_a_class_to_mix_in(page):
    page.get_by_role("tab", name="Class-conditional").click()
    page.wait_for_selector("#conditional-picture img", timeout=20_000)
    assert not page.locator("#class-amount").is_visible()
    pick_option(page, "#class-other", "squares")
    page.wait_for_selector("#class-amount", state="visible", timeout=10_000)
    save_screenshot(page, "rough-conditional-mixing")
    pick_option(page, "#class-other", "(none)")
    page.wait_for_selector("#class-amount", state="hidden", timeout=10_000)
    page.locator("#conditional-strip").scroll_into_view_if_needed()
    save_screenshot(page, "rough-conditional")


# Sketch


def open_sketch(page):
    page.get_by_role("tab", name="Sketch to image").click()
    page.wait_for_selector("#sketch-pad canvas", timeout=20_000)
    time.sleep(0.5)  # the pad sets itself up


def ensure_brush(page):
    """Pick the pad's Brush unless it is picked already."""
    brush = page.locator('#sketch-pad button[aria-label="Brush"]')
    if "highlight" not in (brush.get_attribute("class") or ""):
        brush.click()


def photo_file(tmp_path):
    path = tmp_path / "photo.png"
    picture = Image.new("RGB", (160, 120), (200, 160, 120))
    ImageDraw.Draw(picture).ellipse([40, 20, 120, 100], fill=(30, 60, 160))
    picture.save(path)
    return path


def first_example(page):
    """The first example drawing under the pad (the only examples on the page until the style tab opens)."""
    return page.locator("button.gallery-item:visible").first


def open_tracing(page):
    page.get_by_text("Start from a photo").click()
    page.wait_for_selector("#sketch-photo input[type=file]", state="attached", timeout=10_000)


def test_the_pad_starts_with_the_brush(page):
    open_sketch(page)
    draw(page, [(0.3, 0.3), (0.7, 0.7)])  # no click on the Brush first
    assert page.evaluate("String(window.getSelection())") == ""  # no page text selected
    page.wait_for_selector("#sketch-result img", timeout=20_000)  # the stroke was drawn, and coloured in


def test_with_live_on_an_example_and_a_tracing_make_pictures(page, tmp_path):
    open_sketch(page)
    first_example(page).click()
    page.wait_for_selector("#sketch-result img", timeout=20_000)
    example = src(page, "#sketch-result img")
    open_tracing(page)
    page.set_input_files("#sketch-photo input[type=file]", str(photo_file(tmp_path)))
    page.wait_for_selector("#sketch-photo img", timeout=10_000)
    page.click("#sketch-trace")
    wait_for_change(lambda: src(page, "#sketch-result img"), example, timeout=20)


def test_a_tracing_can_be_undone(page, tmp_path):
    open_sketch(page)
    ensure_brush(page)
    draw(page, [(0.3, 0.3), (0.7, 0.3), (0.7, 0.7), (0.3, 0.7), (0.3, 0.3)])
    page.wait_for_selector("#sketch-result img", timeout=20_000)
    drawn_src = src(page, "#sketch-result img")
    drawn = picture_pixels(page, "#sketch-result img")
    open_tracing(page)
    page.set_input_files("#sketch-photo input[type=file]", str(photo_file(tmp_path)))
    page.wait_for_selector("#sketch-photo img", timeout=10_000)
    page.click("#sketch-trace")
    page.wait_for_selector("#sketch-undo", state="visible", timeout=20_000)
    traced_src = wait_for_change(lambda: src(page, "#sketch-result img"), drawn_src, timeout=20)
    traced = picture_pixels(page, "#sketch-result img")
    page.click("#sketch-undo")
    wait_for_change(lambda: src(page, "#sketch-result img"), traced_src, timeout=20)
    undone = picture_pixels(page, "#sketch-result img")
    assert np.abs(undone - drawn).mean() < np.abs(traced - drawn).mean() / 4  # the drawing is back
    page.wait_for_selector("#sketch-undo", state="hidden", timeout=10_000)
    save_screenshot(page, "rough-sketch")


def test_sketch_errors_leave_no_error_badge(page):
    open_sketch(page)
    page.click("#sketch-generate")  # nothing drawn yet
    wait_for_text(page, "#sketch-message", "empty")
    time.sleep(0.5)
    assert badges(page, "#sketch-result") == 0 and badges(page, "#sketch-message") == 0
    first_example(page).click()
    page.wait_for_selector("#sketch-result img", timeout=20_000)
    assert badges(page, "#sketch-result") == 0 and badges(page, "#sketch-message") == 0


# Every tab: a wrong upload


def test_a_wrong_upload_gets_the_studios_message_in_every_image_input(page, tmp_path):
    fake = tmp_path / "holiday.jpg"
    fake.write_text("not a picture\n")
    photo = photo_file(tmp_path)
    open_sketch(page)
    ensure_brush(page)
    draw(page, [(0.3, 0.3), (0.7, 0.7)])
    page.wait_for_selector("#sketch-result img", timeout=20_000)
    shown = src(page, "#sketch-result img")
    open_tracing(page)
    page.set_input_files("#sketch-photo input[type=file]", str(fake))
    time.sleep(1.0)
    page.click("#sketch-trace")
    message = wait_for_text(page, "#sketch-message", "could not be read as a picture")
    assert "/tmp" not in message and "preprocess" not in message
    assert src(page, "#sketch-result img") == shown and badges(page, "#sketch-pad") == 0

    page.get_by_role("tab", name="Style transfer").click()
    page.wait_for_selector("#style-run", timeout=20_000)
    for bad, good in (("#style-content", "#style-style"), ("#style-style", "#style-content")):
        page.set_input_files(f"{good} input[type=file]", str(photo))
        page.set_input_files(f"{bad} input[type=file]", str(fake))
        time.sleep(1.0)
        page.click("#style-run")
        status = wait_for_text(page, "#style-status", "could not be read as a picture", timeout=30)
        assert "/tmp" not in status and "preprocess" not in status
        assert badges(page, "#style-result") == 0 and badges(page, "#style-status") == 0
        page.click("#style-status")  # blur, for the next upload
    toasts = page.locator("[data-testid=toast-body]").all_inner_texts()
    assert not any("preprocess" in t or "/tmp" in t for t in toasts), toasts
