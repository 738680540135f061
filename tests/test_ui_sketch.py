"""The sketch tab flattens a Sketchpad value into one picture; the core takes pictures only."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from studio import StudioError
from studio.tasks.sketch import prepare_sketch
from studio.ui.sketch import canvas_picture


def mask(picture):
    return np.asarray(picture.convert("L")) < 128


def strokes(size=256):
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ImageDraw.Draw(layer).ellipse([60, 60, 200, 200], outline=(0, 0, 0, 255), width=5)
    return layer


def test_layers_over_the_background_read_as_the_composite():
    layer = strokes()
    value = {"background": Image.new("RGBA", (256, 256), (255, 255, 255, 255)), "layers": [layer], "composite": None}
    from_layers = mask(prepare_sketch(canvas_picture(value), 64))
    composite = Image.alpha_composite(value["background"], layer)
    flat = {"background": None, "layers": [], "composite": composite}
    from_composite = mask(prepare_sketch(canvas_picture(flat), 64))
    assert from_layers.sum() > 20 and (from_layers == from_composite).mean() > 0.97


def test_the_canvas_becomes_one_rgb_picture():
    layer = strokes()
    for value in ({"background": None, "layers": [layer], "composite": None},
                  {"background": np.full((256, 256, 3), 255, np.uint8), "layers": [np.asarray(layer)],
                   "composite": None},
                  {"background": None, "layers": [], "composite": np.asarray(layer)}):
        picture = canvas_picture(value)
        assert isinstance(picture, Image.Image) and picture.mode == "RGB" and picture.size == (256, 256)
        assert mask(picture).sum() > 100  # the strokes, on white


@pytest.mark.parametrize("value", [{"background": None, "layers": [], "composite": None},
                                   {"background": None, "layers": [None], "composite": None},
                                   {"composite": np.full((64, 64, 4), 255, np.uint8)}])
def test_an_empty_canvas_is_a_clear_message(value):
    with pytest.raises(StudioError, match="empty"):
        prepare_sketch(canvas_picture(value), 128)


def test_what_is_not_a_canvas_value_passes_through():
    picture = strokes()
    assert canvas_picture(picture) is picture and canvas_picture(None) is None
    with pytest.raises(StudioError, match="No drawing was given"):
        prepare_sketch(canvas_picture(None), 64)


def test_the_core_takes_pictures_not_gradio_values():
    with pytest.raises(StudioError, match="Cannot read the drawing from a dict"):
        prepare_sketch({"background": None, "layers": [], "composite": strokes()}, 64)


@pytest.fixture(scope="module")
def handlers(tmp_path_factory):
    from studio import Registry
    from studio.ui.sketch import Handlers

    from .conftest import make_sketch

    root = tmp_path_factory.mktemp("sketch") / "checkpoints"
    make_sketch(root)
    return Handlers(Registry(root))


def canvas():
    layer = strokes(128)
    return {"background": Image.new("RGBA", (128, 128), "white"), "layers": [layer], "composite": None}


def test_an_error_leaves_the_picture_and_says_why(handlers):
    import gradio as gr

    empty = {"background": None, "layers": [], "composite": None}
    picture, message = handlers.generate("tiny-sketch", empty)  # no gr.Error: no Error badges on the outputs
    assert picture == gr.skip() and "Could not do that" in message and "empty" in message
    picture, message = handlers.live_update("tiny-sketch", empty, True)
    assert picture == gr.skip() and "empty" in message
    picture, message = handlers.live_update("tiny-sketch", canvas(), True)
    assert isinstance(picture, Image.Image) and message == ""


def test_after_a_tracing_live_makes_the_picture_and_offers_undo(handlers):
    import gradio as gr

    picture, message, undo = handlers.after_trace("tiny-sketch", canvas(), True, "")
    assert isinstance(picture, Image.Image) and message == "" and undo["visible"] is True
    assert handlers.after_trace("tiny-sketch", canvas(), False, "")[:2] == (gr.skip(), gr.skip())  # live off
    failed = handlers.after_trace("tiny-sketch", canvas(), True, "**Could not do that.** Upload a photo first.")
    assert failed[:2] == (gr.skip(), gr.skip()) and failed[2]["visible"] is False  # the message stays
    before = canvas()
    restored, kept, undo = handlers.undo(before)
    assert restored is before and kept is None and undo["visible"] is False
