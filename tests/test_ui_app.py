"""The Gradio app builds and answers every endpoint through gradio_client on loopback."""

import re

import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from studio import Registry, StudioError

from .conftest import free_port


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from studio.ui.app import build_app, launch_kwargs

    from .conftest import make_all

    root = make_all(tmp_path_factory.mktemp("app") / "checkpoints")
    (root / "broken").mkdir()
    (root / "broken" / "studio.json").write_text("{")
    demo = build_app(Registry(root), vgg_weights="random")
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_kwargs())
    yield Client(f"http://127.0.0.1:{port}/", verbose=False)
    demo.close()


def test_endpoints_are_named(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/sample", "/interpolate", "/random_seed", "/model_info", "/sample_class", "/interpolate_class",
            "/random_seed_class", "/model_info_class", "/sketch", "/edges", "/stylize", "/style_mix"} <= names


def test_model_info_is_the_card(client):
    assert client.predict("tiny-latent", api_name="/model_info").startswith("**tiny-latent**: `dcgan`")


def test_style_mix_endpoint(client, tmp_path):
    import studio

    from .conftest import make_style

    figure, message = client.predict("tiny-style", "1-4", "10-12", "coarse", 0.7, "const", api_name="/style_mix")
    picture = Image.open(figure)
    assert message == "" and picture.size == ((4 * 34 + 2) * 5, (5 * 34 + 2) * 5) == (690, 860)  # enlarged 5x
    model = studio.Registry(make_style(tmp_path).parent).get("tiny-style")  # the same weights
    expected = studio.mixing_figure(model, [1, 2, 3, 4], [10, 11, 12], "coarse", 0.7, "const")
    assert np.array_equal(np.asarray(picture.convert("RGB").resize(expected.size, Image.NEAREST)), np.asarray(expected))
    kept, message = client.predict("tiny-latent", "1-4", "10-12", "coarse", 0.7, "seed", api_name="/style_mix")
    assert kept == {"__type__": "update"} and "needs an unconditional style-based model" in message  # no picture, one message
    with pytest.raises(Exception, match="not in the list of choices"):
        client.predict("tiny-style", "1", "2", "everything", 0.7, "seed", api_name="/style_mix")


def test_sample_and_walk_take_the_noise_mode(client):
    seeded = [np.asarray(Image.open(client.predict("tiny-style", 3, 1.0, api_name="/sample")[0])) for _ in range(2)]
    none = np.asarray(Image.open(client.predict("tiny-style", 3, 1.0, "none", api_name="/sample")[0]))
    assert np.array_equal(*seeded) and not np.array_equal(seeded[0], none)
    strip, gif, message = client.predict("tiny-style", 1, 2, 3, 1.0, "slerp", "random", api_name="/interpolate")
    assert len(strip) == 3 and gif.endswith(".gif") and message == ""


def test_sample_walk_and_mix_take_towards(client):
    mean, cluster = (np.asarray(Image.open(client.predict("tiny-style", 3, 0.0, "seed", t, api_name="/sample")[0]))
                     for t in ("mean", "cluster"))
    assert not np.array_equal(mean, cluster)
    strip, gif, message = client.predict("tiny-style", 1, 2, 3, 0.5, "slerp", "seed", "cluster",
                                         api_name="/interpolate")
    assert len(strip) == 3 and gif.endswith("-cluster.gif") and message == ""
    figure, message = client.predict("tiny-style", "1", "2", "coarse", 0.5, "seed", "cluster", api_name="/style_mix")
    assert figure and message == ""


def test_sample_endpoint(client):
    image, grid, message = client.predict("tiny-latent", 5, 0.7, api_name="/sample")
    picture = Image.open(image)
    assert picture.size == (256, 256) and message == ""
    assert len(grid) == 9 and [g["caption"] for g in grid][4] == "5"  # the seed alone: ten digits fit a cell
    again, _, _ = client.predict("tiny-latent", 5, 0.7, api_name="/sample")
    assert np.array_equal(np.asarray(picture), np.asarray(Image.open(again)))


def test_class_endpoints_and_mix(client):
    pure, _, _ = client.predict("tiny-classes", 3, 1.0, "circles", "(none)", 0.5, api_name="/sample_class")
    mixed, _, _ = client.predict("tiny-classes", 3, 1.0, "circles", "squares", 0.5, api_name="/sample_class")
    assert not np.array_equal(np.asarray(Image.open(pure)), np.asarray(Image.open(mixed)))
    strip, gif, _ = client.predict("tiny-classes", 1, 2, 4, 0.8, "slerp", "stripes", "(none)", 0.0,
                                   api_name="/interpolate_class")
    assert len(strip) == 4 and Image.open(gif).format == "GIF"
    info = client.predict("tiny-classes", api_name="/model_info_class")
    assert "circles" in info[0]


def test_interpolate_and_dice(client):
    strip, gif, _ = client.predict("tiny-latent", 1, 2, 3, 1.0, "lerp", api_name="/interpolate")
    assert len(strip) == 3 and gif.endswith(".gif")
    assert 0 <= client.predict(api_name="/random_seed") < 2**32


@pytest.mark.parametrize("args,message", [
    (("tiny-latent", 1, 1.5), "maximum"),
    (("nope", 1, 0.7), "not in the list of choices"),
])
def test_bad_input_is_refused_and_server_keeps_serving(client, args, message):
    with pytest.raises(Exception, match=message):
        client.predict(*args, api_name="/sample")
    assert client.predict("tiny-latent", 1, 0.7, api_name="/sample")[0]


@pytest.mark.parametrize("seed", [-5, -1, 2**32, 2**33, 12345678901234567890, 1.5, "abc"])
def test_a_wrong_seed_leaves_the_pictures_and_says_the_range(client, seed):
    # The studio's check, not Gradio's (which would refuse -5 with its own words and round 1.5).
    picture, grid, message = client.predict("tiny-latent", seed, 0.7, api_name="/sample")
    assert picture == grid == {"__type__": "update"}  # left as they were
    assert message.startswith("**Could not do that.**") and "whole number from 0 to 4294967295" in message
    strip, gif, message = client.predict("tiny-latent", 1, seed, 3, 0.7, "slerp", api_name="/interpolate")
    assert strip == gif == {"__type__": "update"} and "To seed must be a whole number" in message


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
    (folder / "notes.jpg").write_text("a text file named like a photo\n")
    return folder


def test_sketch_endpoint(client, pictures):
    value = {"background": handle_file(str(pictures / "drawing.png")), "layers": [], "composite": handle_file(str(pictures / "drawing.png"))}
    picture, message = client.predict("tiny-sketch", value, api_name="/sketch")
    assert Image.open(picture).size == (384, 384) and message == ""
    empty = Image.new("RGB", (100, 100), "white")
    empty.save(pictures / "empty.png")
    blank = {"background": handle_file(str(pictures / "empty.png")), "layers": [], "composite": handle_file(str(pictures / "empty.png"))}
    kept, message = client.predict("tiny-sketch", blank, api_name="/sketch")  # no Error badge: the picture stays
    assert kept == {"__type__": "update"} and "Could not do that" in message and "empty" in message


def test_the_sketch_endpoint_reads_colours_as_hints(client, pictures):
    from PIL import ImageDraw

    hinted = Image.open(pictures / "drawing.png").convert("RGB")
    ImageDraw.Draw(hinted).ellipse([90, 90, 110, 110], fill=(229, 57, 53))  # a red dot inside the circle
    hinted.save(pictures / "hinted.png")
    value = {"background": handle_file(str(pictures / "hinted.png")), "layers": [],
             "composite": handle_file(str(pictures / "hinted.png"))}
    picture, message = client.predict("tiny-sketch", value, api_name="/sketch")  # a model without hints
    assert Image.open(picture).size == (384, 384) and "does not take colour hints" in message


def test_edges_endpoint(client, pictures):
    lines, message = client.predict(handle_file(str(pictures / "photo.jpg")), 0.4, api_name="/edges")
    assert (lines["composite"] or lines["background"]) and message == ""


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


@pytest.mark.parametrize("name", ["corrupt.png", "notes.jpg"])
def test_a_bad_upload_gets_the_studios_message(client, pictures, name):
    # No exception: the outputs the user had stay, and the message line says what is wrong.
    bad, photo = handle_file(str(pictures / name)), handle_file(str(pictures / "photo.jpg"))
    for args in ((bad, photo), (photo, bad)):
        picture, plot, status = client.predict(*args, 64, 10, 5, False, "lbfgs", api_name="/stylize")
        assert picture == {"__type__": "update"} and "could not be read as a picture" in status  # left as it was
        assert "/tmp" not in status and "gradio" not in status.lower() and "preprocess" not in status
    lines, message = client.predict(bad, 0.4, api_name="/edges")
    assert "could not be read as a picture" in message and "/tmp" not in message
    assert client.predict("tiny-latent", 1, 0.7, api_name="/sample")[0]


def test_choosing_vgg19_fetches_it_once_or_says_how(monkeypatch):
    from studio.models import vgg19 as vgg
    from studio.ui.style import ensure_network

    monkeypatch.setattr(vgg, "find_weights", lambda root=None: None)
    calls = []
    monkeypatch.setattr("studio.ui.style.fetch_vgg19", lambda: calls.append(1))
    assert ensure_network("vgg19", None) is True and calls == [1]  # fetched (with a progress bar)
    assert ensure_network("lite1", None) is False and ensure_network("vgg19", "random") is False and calls == [1]

    def offline():
        raise StudioError("VGG19's weights could not be downloaded (no internet?).")

    monkeypatch.setattr("studio.ui.style.fetch_vgg19", offline)
    with pytest.raises(StudioError, match="could not be downloaded"):
        ensure_network("vgg19", None)


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


def odd_pictures(folder):
    """Each file a user might drop: (file name, expected message or None for a picture)."""
    import io

    from PIL import ImageDraw

    base = Image.new("RGB", (120, 90), (200, 120, 40))
    ImageDraw.Draw(base).ellipse([20, 10, 100, 80], fill=(30, 60, 200))
    buffer = io.BytesIO()
    base.save(buffer, format="PNG")
    (folder / "truncated.png").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    Image.fromarray((np.arange(90 * 120, dtype=np.uint16).reshape(90, 120) * 7)).save(folder / "sixteen.png")
    base.convert("CMYK").save(folder / "cmyk.jpg")
    base.convert("P", palette=Image.ADAPTIVE).save(folder / "palette.png")
    Image.new("RGB", (1, 1), "red").save(folder / "one.png")
    Image.new("L", (10000, 10000), 255).save(folder / "huge.png")
    frames = [Image.new("RGB", (60, 40), c) for c in ("red", "blue")]
    frames[0].save(folder / "animated.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees when shown
    base.save(folder / "rotated.jpg", exif=exif)
    return {"truncated.png": "could not be read|truncated|not a picture", "sixteen.png": None, "cmyk.jpg": None,
            "palette.png": None, "one.png": "only 1x1 pixels", "huge.png": "too large|pixels", "animated.gif": None,
            "rotated.jpg": None}


def test_odd_pictures_get_a_picture_or_a_clear_message(client, pictures):
    for name, message in odd_pictures(pictures).items():
        picture = handle_file(str(pictures / name))
        if message is None:
            result, _, status = client.predict(picture, handle_file(str(pictures / "photo.jpg")), 64, 10, 5, False,
                                               "lbfgs", api_name="/stylize")
            assert Image.open(result).mode == "RGB", name
            if name == "rotated.jpg":  # EXIF orientation applied: portrait
                assert Image.open(result).height > Image.open(result).width
            lines, _ = client.predict(picture, 0.4, api_name="/edges")
            assert lines["background"] or lines["composite"], name
        else:
            _, _, status = client.predict(picture, handle_file(str(pictures / "photo.jpg")), 64, 10, 5, False, "lbfgs",
                                          api_name="/stylize")
            assert re.search(message, status), (name, status)
            _, said = client.predict(picture, 0.4, api_name="/edges")
            assert re.search(message, said), (name, said)
        assert client.predict("tiny-latent", 1, 0.7, api_name="/sample")[0], name  # still serving


def rest_call(client, api: str, body: str) -> tuple[str, str]:
    """POST raw JSON (which may hold NaN/Infinity, which gradio_client will not send) to the
    REST API; returns the final server-sent event and its data."""
    import json
    import urllib.request

    base = client.src.rstrip("/")
    request = urllib.request.Request(f"{base}/gradio_api/call/{api}", data=body.encode(),
                                     headers={"Content-Type": "application/json"})
    event_id = json.loads(urllib.request.urlopen(request, timeout=30).read())["event_id"]
    stream = urllib.request.urlopen(f"{base}/gradio_api/call/{api}/{event_id}", timeout=120).read().decode()
    events = [line[len("event: "):] for line in stream.splitlines() if line.startswith("event: ")]
    data = [line[len("data: "):] for line in stream.splitlines() if line.startswith("data: ")]
    return events[-1], data[-1]


# Over plain REST every input is sent, the Latent explorer's noise mode and towards last (gradio_client
# fills them in).
@pytest.mark.parametrize("api,body", [
    ("sample", '["tiny-latent", 1, NaN, "seed", "mean"]'),
    ("sample", '["tiny-latent", 1, Infinity, "seed", "mean"]'),
    ("sample", '["tiny-latent", NaN, 0.5, "seed", "mean"]'),
    ("sample", '["tiny-latent", -Infinity, 0.5, "seed", "mean"]'),
    ("interpolate", '["tiny-latent", 1, 2, 3, NaN, "slerp", "seed", "mean"]'),
    ("interpolate", '["tiny-latent", 1, 2, 1000000, 0.5, "slerp", "seed", "mean"]'),
    ("sample", '["tiny-style", 1, 0.5, "loud", "mean"]'),
    ("sample", '["tiny-style", 1, 0.5, "seed", "median"]'),
    ("sample_class", '["tiny-classes", 1, 0.5, "circles", "squares", NaN]'),
    ("sample_class", '["nope", 1, 0.5, "circles", "(none)", 0.5]'),
])
def test_non_finite_and_out_of_range_values_are_refused(client, api, body):
    event, data = rest_call(client, api, '{"data": ' + body + "}")
    # Gradio's own check refuses some values (an error event); the studio's (seeds) leaves the outputs and says why.
    assert event == "error" or (event == "complete" and "Could not do that" in data), (event, data)
    assert any(word in data for word in ("finite", "between", "maximum", "minimum", "not in the list", "must be",
                                         "NaN", "infinity")), data
    assert client.predict("tiny-latent", 1, 0.7, api_name="/sample")[0]


def test_a_non_finite_mixing_truncation_is_refused(client):
    event, data = rest_call(client, "style_mix", '{"data": ["tiny-style", "1", "2", "coarse", NaN, "seed", "mean"]}')
    assert event == "complete" and "Could not do that" in data and "Truncation" in data, data  # the figure stays


def test_non_finite_style_settings_are_refused(client, pictures):
    import httpx

    with (pictures / "photo.jpg").open("rb") as f:
        photo = httpx.post(client.src.rstrip("/") + "/gradio_api/upload", files={"files": f}).json()[0]
    for settings in ("NaN, 10, 5", "64, 10, Infinity"):
        body = ('{"data": [{"path": "%s", "meta": {"_type": "gradio.FileData"}}, {"path": "%s", "meta": '
                '{"_type": "gradio.FileData"}}, %s, false, "lbfgs", "lite1"]}') % (photo, photo, settings)
        event, data = rest_call(client, "stylize", body)
        # Gradio's own check refuses some values (an error event); the studio's leaves the outputs and says why.
        assert event == "error" or (event == "complete" and "Could not do that" in data), (event, data)
        assert any(word in data for word in ("finite", "between", "maximum", "minimum", "must be")), data
    assert client.predict("tiny-latent", 1, 0.7, api_name="/sample")[0]


def test_a_sketch_with_a_corrupt_layer_is_a_clear_error(client, pictures):
    bad = handle_file(str(pictures / "corrupt.png"))
    with pytest.raises(Exception, match="cannot identify image file"):
        client.predict("tiny-sketch", {"background": bad, "layers": [], "composite": bad}, api_name="/sketch")
    assert client.predict("tiny-latent", 1, 0.7, api_name="/sample")[0]


def test_a_refused_request_is_one_log_line_not_a_traceback(client, capfd, caplog):
    import logging

    caplog.set_level(logging.WARNING, logger="studio")
    capfd.readouterr()
    refused = [("tiny-latent", -5, 0.7), ("tiny-latent", "abc", 0.7), ("tiny-latent", 1, 1.5), ("nope", 1, 0.7)]
    for args in refused:  # the studio's check (seeds), then Gradio's (the slider's range, the dropdown's choices)
        try:
            client.predict(*args, api_name="/sample")
        except Exception:
            pass
    err = capfd.readouterr().err
    assert "Traceback" not in err, err
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("studio") and "Refused" in r.getMessage()]
    assert len(lines) == len(refused) and all("\n" not in line for line in lines), lines
    assert "from 0 to 4294967295" in lines[0] and "not in the list of choices" in lines[-1]


def test_a_real_fault_keeps_its_traceback(client, capfd, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the generator fell over")

    monkeypatch.setattr("studio.ui.explorer.sample", broken)
    capfd.readouterr()
    with pytest.raises(Exception):
        client.predict("tiny-latent", 1, 0.7, api_name="/sample")
    err = capfd.readouterr().err
    assert "Traceback" in err and "the generator fell over" in err
