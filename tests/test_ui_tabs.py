"""Every tab is built the same way and returns the same shape (TabParts); the app wires
what passes between tabs from those parts alone."""

import gradio as gr
import pytest

from studio import Registry
from studio.ui.app import TABS, build_app, build_tabs, wire_sends
from studio.ui.interface import Tab, TabContext, TabParts

from .conftest import make_all


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    return Registry(make_all(tmp_path_factory.mktemp("tabs") / "checkpoints"))


@pytest.mark.parametrize("installed", [True, False])
def test_every_tab_returns_tab_parts(registry, tmp_path, installed):
    context = TabContext(registry if installed else Registry(tmp_path), vgg_weights="random")
    with gr.Blocks(analytics_enabled=False):
        with gr.Tabs():
            parts = build_tabs(TABS, context)
    assert list(parts) == [tab.id for tab in TABS] == ["latent", "conditional", "sketch", "style"]
    assert all(isinstance(p, TabParts) for p in parts.values())
    assert (parts["latent"].on_load is not None) == installed == (parts["conditional"].on_load is not None)
    assert (parts["sketch"].send is not None) == installed
    assert isinstance(parts["style"].picture_in, gr.Image)  # style needs no checkpoint


def test_the_send_button_is_wired_through_the_parts(registry):
    demo = build_app(registry, vgg_weights="random")
    by_elem = {c["props"].get("elem_id"): c["id"] for c in demo.get_config_file()["components"]}
    sends = [d for d in demo.get_config_file()["dependencies"]
             if [by_elem["sketch-send"], "click"] in [list(t) for t in d["targets"]]]
    assert len(sends) == 1
    assert sends[0]["inputs"] == [by_elem["sketch-result"]] and by_elem["style-content"] in sends[0]["outputs"]


def test_a_send_to_a_tab_that_takes_no_pictures_is_refused():
    with gr.Blocks(analytics_enabled=False):
        picture, button = gr.Image(), gr.Button()
        with gr.Tabs() as tabs:
            pass
        parts = {"a": TabParts(picture_out=picture, send=button, send_to="b"), "b": TabParts()}
        with pytest.raises(ValueError, match="takes no pictures"):
            wire_sends(parts, tabs)
    with pytest.raises(ValueError, match="picture_out and send_to"):
        TabParts(send=button)


def test_a_new_tab_needs_no_change_to_the_app(registry):
    def build(context: TabContext) -> TabParts:
        gr.Markdown("hello", elem_id="extra-tab")
        return TabParts()

    with gr.Blocks(analytics_enabled=False) as demo:
        with gr.Tabs():
            parts = build_tabs((*TABS, Tab("extra", "Extra", build)), TabContext(registry, "random"))
    assert parts["extra"] == TabParts()
    assert "extra-tab" in {c["props"].get("elem_id") for c in demo.get_config_file()["components"]}


def test_the_walk_names_the_seed_that_is_wrong_and_keeps_the_strip(registry):
    from studio.ui.explorer import Handlers

    strip, gif, message = Handlers(registry).walk("tiny-latent", 1, -1, 3, 0.5, "slerp")
    assert strip == gif == gr.skip()  # the strip and the GIF stay
    assert "To seed must be a whole number from 0 to 4294967295" in message


def test_a_wrong_seed_keeps_the_picture_and_the_grid(registry):
    from studio.ui.explorer import Handlers

    picture, grid, message = Handlers(registry).explore("tiny-latent", 1.5, 0.5)
    assert picture == grid == gr.skip() and "whole number from 0 to 4294967295, got 1.5" in message
    picture, grid, message = Handlers(registry).explore("tiny-latent", 4294967295, 0.5)
    assert message == "" and [caption for _, caption in grid] == [str(s) for s in range(4294967287, 4294967296)]


def test_a_grid_click_goes_to_the_seed_in_the_cells_caption():
    from studio.ui.explorer import Handlers

    event = gr.SelectData(None, {"index": 2, "value": {"image": {"path": "x.png"}, "caption": "4294967289"}})
    assert Handlers.pick(event) == 4294967289


def test_the_mix_amount_shows_only_while_another_class_is_picked(registry):
    from studio.ui.conditional import amount_shown, class_updates

    assert [amount_shown("circles", other)["visible"] for other in ("(none)", "circles", "squares", None)] == [
        False, False, True, False]
    assert class_updates(registry.spec("tiny-classes"))[2]["visible"] is False  # a new model: no mix
    demo = build_app(registry, vgg_weights="random")
    amount = next(c for c in demo.get_config_file()["components"] if c["props"].get("elem_id") == "class-amount")
    assert amount["props"]["visible"] is False  # hidden at first: "Mix with" starts at (none)
