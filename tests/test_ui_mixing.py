"""The Latent explorer's style-based controls: the noise dropdown, the towards radio and the
style-mixing panel are shown for a style-based model only, and the Class-conditional tab stays
as it was."""

import gradio as gr
import numpy as np
import pytest
from PIL import Image

import studio
from studio import Registry
from studio.ui.app import build_app
from studio.ui.explorer import Handlers
from studio.ui.mixing import MixHandlers, enlarged
from studio.ui.widgets import neighbour_seeds

from .conftest import make_all, make_style


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    return Registry(make_all(tmp_path_factory.mktemp("mixing") / "checkpoints"))


def components(demo):
    return {c["props"].get("elem_id"): c for c in demo.get_config_file()["components"]}


def endpoint_inputs(demo, name):
    config = demo.get_config_file()
    labels = {c["id"]: c["props"].get("label") for c in config["components"]}
    (dep,) = [d for d in config["dependencies"] if d.get("api_name") == name]
    return [labels[i] for i in dep["inputs"]]


def test_the_panel_is_hidden_while_a_dcgan_is_picked(registry):
    assert registry.names("latent")[0] == "tiny-latent"  # the explorer opens on the DCGAN
    by_id = components(build_app(registry, vgg_weights="random"))
    assert not any(by_id[f"latent-{part}"]["props"]["visible"] for part in ("mixing", "noise", "towards"))
    assert by_id["latent-mix-levels"]["props"]["info"].startswith("coarse 4-8 px: pose and shape")


def test_the_panel_is_shown_for_a_style_model(tmp_path):
    make_style(tmp_path)
    by_id = components(build_app(Registry(tmp_path), vgg_weights="random"))
    assert all(by_id[f"latent-{part}"]["props"]["visible"] for part in ("mixing", "noise", "towards"))
    assert by_id["latent-towards"]["props"]["value"] == "mean"  # the average picture at psi 0, as documented


def test_picking_a_model_shows_or_hides_the_panel(registry):
    handlers = MixHandlers(registry)
    assert [u["visible"] for u in handlers.on_model("tiny-style")] == [True, True, True, False]  # noise, towards,
    assert [u["visible"] for u in handlers.on_model("tiny-latent")] == [False, False, False, True]  # panel, path


def test_the_class_conditional_tab_is_unchanged(registry):
    demo = build_app(registry, vgg_weights="random")
    by_id = components(demo)
    assert not {"conditional-noise", "conditional-mixing", "conditional-mix"} & set(by_id)
    assert endpoint_inputs(demo, "sample_class") == ["Model", "Seed", "Truncation ψ", "Class", "Mix with", "Mix amount"]
    style_inputs = ["Noise", "Truncate towards"]  # last: optional
    assert endpoint_inputs(demo, "sample") == ["Model", "Seed", "Truncation ψ", *style_inputs]
    assert endpoint_inputs(demo, "style_mix") == ["Model", "Seeds (the layout, down the left)",
                                                  "Style seeds (the style, across the top)",
                                                  "Levels the style seeds give", "Truncation ψ", *style_inputs]


def test_the_explorer_passes_the_noise_mode(registry):
    handlers = Handlers(registry, style=True)
    seeded = [np.asarray(handlers.explore("tiny-style", 3, 1.0, "seed", "mean")[0]) for _ in range(2)]
    fresh = [np.asarray(handlers.explore("tiny-style", 3, 1.0, "random", "mean")[0]) for _ in range(2)]
    assert np.array_equal(*seeded) and not np.array_equal(*fresh)
    strip, gif, message = handlers.walk("tiny-style", 1, 2, 3, 0.7, "slerp", "none", "mean")
    assert len(strip) == 3 and gif.endswith("-slerp-none.gif") and message == ""


def test_the_explorer_passes_towards_and_a_dcgan_ignores_its_hidden_radio(registry):
    handlers = Handlers(registry, style=True)
    picture, grid, message = handlers.explore("tiny-style", 3, 0.0, "seed", "cluster")
    expected = studio.sample(registry.get("tiny-style"), neighbour_seeds(3), 0.0, towards="cluster")[3]  # one batch
    shown = np.asarray(picture.resize(expected.size, Image.NEAREST))
    assert message == "" and np.array_equal(shown, np.asarray(expected))
    strip, gif, message = handlers.walk("tiny-style", 1, 2, 3, 0.7, "slerp", "seed", "cluster")
    assert gif.endswith("-slerp-cluster.gif") and message == ""
    picture, grid, message = handlers.explore("tiny-latent", 3, 0.5, "seed", "cluster")  # left on from a style model
    assert message == "" and len(grid) == 9


def test_mix_makes_the_figure_and_an_error_keeps_it(registry):
    handlers = MixHandlers(registry)
    figure, message = handlers.mix("tiny-style", "1-2", "5", "middle", 0.6, "seed", "cluster")
    expected = studio.mixing_figure(registry.get("tiny-style"), [1, 2], [5], "middle", 0.6, "seed", "cluster")
    assert message == "" and np.array_equal(np.asarray(figure), np.asarray(enlarged(expected)))
    assert figure.size == (expected.width * 9, expected.height * 9)  # 70 px wide, enlarged 9x to about 640
    for args, problem in [(("tiny-latent", "1", "2", "coarse", 1.0, "seed"), "needs an unconditional style-based model"),
                          (("tiny-style", "1-20", "2", "coarse", 1.0, "seed"), "Give 1 to 16 seeds"),
                          (("tiny-style", "1", "two", "coarse", 1.0, "seed"), "Cannot read seeds 'two'"),
                          (("tiny-style", "1", "2", "fine", 1.0, "seed"), "No layer of this model works at 64-4096 px")]:
        kept, said = handlers.mix(*args)
        assert kept == gr.skip() and said.startswith("**Could not do that.**") and problem in said


def test_enlarged_keeps_big_figures_and_pixels_sharp():
    small = Image.new("RGB", (172, 172), "red")
    assert enlarged(small).size == (688, 688)
    assert enlarged(Image.new("RGB", (322, 322))).size == (644, 644)  # 4 x 4 seeds of 64 px
    assert enlarged(Image.new("RGB", (1088, 1088))).size == (1088, 1088)
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 255, (70, 104, 3), dtype=np.uint8))
    big = enlarged(noise)
    assert big.size == (104 * 6, 70 * 6) and np.array_equal(np.asarray(big.resize(noise.size, Image.NEAREST)),
                                                           np.asarray(noise))
