"""The Gradio app builds and answers every endpoint through gradio_client on loopback."""

import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from studio import Registry

from .conftest import free_port


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from studio.ui.app import build_app

    from .conftest import make_all

    root = make_all(tmp_path_factory.mktemp("app") / "checkpoints")
    (root / "broken").mkdir()
    (root / "broken" / "studio.json").write_text("{")
    demo = build_app(Registry(root), vgg_weights="random")
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield Client(f"http://127.0.0.1:{port}/", verbose=False)
    demo.close()


def test_endpoints_are_named(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/sample", "/interpolate", "/random_seed", "/model_info", "/sample_class", "/interpolate_class",
            "/random_seed_class", "/model_info_class", "/sketch", "/edges", "/stylize"} <= names


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


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    from PIL import ImageDraw

    folder = tmp_path_factory.mktemp("pictures")
    drawing = Image.new("RGB", (200, 200), "white")
    ImageDraw.Draw(drawing).ellipse([40, 40, 160, 160], outline="black", width=5)
    drawing.save(folder / "drawing.png")
    photo = Image.new("RGB", (120, 90), (180, 90, 40))
    ImageDraw.Draw(photo).rectangle([30, 20, 90, 70], fill=(20, 40, 200))
    photo.save(folder / "photo.jpg")
    (folder / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\nnot a png at all")
    return folder


def test_sketch_endpoint(client, pictures):
    value = {"background": handle_file(str(pictures / "drawing.png")), "layers": [], "composite": handle_file(str(pictures / "drawing.png"))}
    picture, message = client.predict("tiny-sketch", value, api_name="/sketch")
    assert Image.open(picture).size == (384, 384) and message == ""
    empty = Image.new("RGB", (100, 100), "white")
    empty.save(pictures / "empty.png")
    blank = {"background": handle_file(str(pictures / "empty.png")), "layers": [], "composite": handle_file(str(pictures / "empty.png"))}
    with pytest.raises(Exception, match="empty"):
        client.predict("tiny-sketch", blank, api_name="/sketch")


def test_edges_endpoint(client, pictures):
    lines = client.predict(handle_file(str(pictures / "photo.jpg")), 0.4, api_name="/edges")
    assert lines["composite"] or lines["background"]


def test_stylize_streams_and_can_be_cancelled(client, pictures):
    job = client.submit(handle_file(str(pictures / "photo.jpg")), handle_file(str(pictures / "photo.jpg")), 64, 10, 5,
                        False, "lbfgs", api_name="/stylize")
    picture, plot, status = job.result(timeout=120)
    assert Image.open(picture).size == (64, 48) and "Step 10/10" in status
    assert len(job.outputs()) >= 2  # it streamed
    long = client.submit(handle_file(str(pictures / "photo.jpg")), handle_file(str(pictures / "photo.jpg")), 64, 500, 5,
                         False, "adam", api_name="/stylize")
    import time

    deadline = time.monotonic() + 60
    while not long.outputs() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert long.cancel() or long.done()
    time.sleep(1)
    assert long.done()
    assert client.predict("tiny-latent", 1, 0.7, api_name="/sample")[0]  # still serving


def test_stylize_refuses_a_corrupt_picture(client, pictures):
    with pytest.raises(Exception):
        client.predict(handle_file(str(pictures / "corrupt.png")), handle_file(str(pictures / "photo.jpg")), 64, 10, 5,
                       False, "lbfgs", api_name="/stylize")
    assert client.predict("tiny-latent", 1, 0.7, api_name="/sample")[0]


def test_auth_protects_the_app(tmp_path):
    from studio.ui.app import build_app

    from .conftest import make_latent

    make_latent(tmp_path)
    demo = build_app(Registry(tmp_path))
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, auth=("ada", "pw"))
    try:
        url = f"http://127.0.0.1:{port}/"
        with pytest.raises(Exception):
            Client(url, verbose=False, auth=("ada", "wrong"))
        assert Client(url, verbose=False, auth=("ada", "pw")).predict("tiny-latent", 1, 0.5, api_name="/sample")[0]
    finally:
        demo.close()


def test_cli_auth_must_be_user_colon_password(capsys):
    from studio.cli import main

    assert main(["serve", "--auth", "nocolon"]) == 2
    assert "USER:PASSWORD" in capsys.readouterr().err
