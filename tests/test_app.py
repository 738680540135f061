"""The Gradio app builds and answers every endpoint through gradio_client on loopback."""

import numpy as np
import pytest
from gradio_client import Client
from PIL import Image

from studio import Registry

from .conftest import free_port


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from studio.ui.app import build_app

    from .conftest import make_conditional, make_latent

    root = tmp_path_factory.mktemp("app") / "checkpoints"
    make_latent(root)
    make_conditional(root)
    (root / "broken").mkdir()
    (root / "broken" / "studio.json").write_text("{")
    demo = build_app(Registry(root))
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield Client(f"http://127.0.0.1:{port}/", verbose=False)
    demo.close()


def test_endpoints_are_named(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/sample", "/interpolate", "/random_seed", "/model_info",
            "/sample_class", "/interpolate_class", "/random_seed_class", "/model_info_class"} <= names


def test_sample_endpoint(client):
    image, grid = client.predict("tiny-latent", 5, 0.7, api_name="/sample")
    picture = Image.open(image)
    assert picture.size == (256, 256)
    assert len(grid) == 9 and [g["caption"] for g in grid][4] == "seed 5"
    again, _ = client.predict("tiny-latent", 5, 0.7, api_name="/sample")
    assert np.array_equal(np.asarray(picture), np.asarray(Image.open(again)))


def test_class_endpoints_and_mix(client):
    pure, _ = client.predict("tiny-classes", 3, 1.0, "circles", "(none)", 0.5, api_name="/sample_class")
    mixed, _ = client.predict("tiny-classes", 3, 1.0, "circles", "squares", 0.5, api_name="/sample_class")
    assert not np.array_equal(np.asarray(Image.open(pure)), np.asarray(Image.open(mixed)))
    strip, gif = client.predict("tiny-classes", 1, 2, 4, 0.8, "slerp", "stripes", "(none)", 0.0,
                                api_name="/interpolate_class")
    assert len(strip) == 4 and Image.open(gif).format == "GIF"
    info = client.predict("tiny-classes", api_name="/model_info_class")
    assert "circles" in info[0]


def test_interpolate_and_dice(client):
    strip, gif = client.predict("tiny-latent", 1, 2, 3, 1.0, "lerp", api_name="/interpolate")
    assert len(strip) == 3 and gif.endswith(".gif")
    assert 0 <= client.predict(api_name="/random_seed") < 2**32


@pytest.mark.parametrize("args,message", [
    (("tiny-latent", -1, 0.7), "minimum"),
    (("tiny-latent", 2**33, 0.7), "maximum"),
    (("tiny-latent", 1, 1.5), "maximum"),
    (("nope", 1, 0.7), "not in the list of choices"),
])
def test_bad_input_is_refused_and_server_keeps_serving(client, args, message):
    with pytest.raises(Exception, match=message):
        client.predict(*args, api_name="/sample")
    assert client.predict("tiny-latent", 1, 0.7, api_name="/sample")[0]


def test_bad_class_is_a_clear_error(client):
    with pytest.raises(Exception, match="not in the list of choices|Unknown class"):
        client.predict("tiny-classes", 1, 0.7, "hats", "(none)", 0.5, api_name="/sample_class")
