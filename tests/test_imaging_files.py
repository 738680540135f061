"""What users upload: every odd mode and size becomes an RGB picture or a clear refusal."""

import io

import numpy as np
import pytest
from PIL import Image

from studio import StudioError
from studio.imaging.files import MAX_PIXELS, open_image


def encoded(image, fmt="PNG", **kw):
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kw)
    return buffer.getvalue()


@pytest.mark.parametrize("image", [
    Image.fromarray((np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16)),  # 16-bit grey
    Image.new("CMYK", (40, 30), (0, 255, 0, 0)),
    Image.new("RGB", (40, 30), "red").convert("P", palette=Image.ADAPTIVE),
    Image.new("RGBA", (40, 30), (255, 0, 0, 0)),  # fully transparent -> white
    Image.new("LA", (40, 30), (0, 128)),
    Image.new("1", (40, 30), 1),
    Image.new("F", (40, 30), 0.5),
])
def test_modes_become_rgb(image):
    picture, notes = open_image(image)
    assert picture.mode == "RGB" and picture.size == image.size and notes == []


def test_transparent_is_composited_on_white():
    picture, _ = open_image(Image.new("RGBA", (20, 20), (255, 0, 0, 0)))
    assert picture.getpixel((5, 5)) == (255, 255, 255)


def test_cmyk_jpeg_and_sixteen_bit_png_files():
    cmyk = encoded(Image.new("CMYK", (40, 30), (0, 255, 255, 0)), "JPEG")
    assert open_image(cmyk)[0].getpixel((5, 5))[0] > 200  # red
    grey16 = encoded(Image.fromarray(np.full((30, 40), 65535, np.uint16)))
    assert open_image(grey16)[0].getpixel((5, 5)) == (255, 255, 255)


def test_exif_rotation_is_applied():
    image = Image.new("RGB", (60, 20), "blue")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    picture, _ = open_image(encoded(image, "JPEG", exif=exif.tobytes()))
    assert picture.size == (20, 60)


def test_animated_gif_uses_the_first_frame_and_says_so():
    frames = [Image.new("RGB", (30, 30), c) for c in ("red", "green")]
    data = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    picture, notes = open_image(data, "style picture")
    assert picture.getpixel((1, 1))[0] > 200 and "animated" in notes[0]


@pytest.mark.parametrize("value,message", [
    (b"\x89PNG\r\n\x1a\n garbage", "could not be read"),
    (encoded(Image.new("RGB", (100, 100), "red"))[:120], "could not be read"),  # truncated
    (Image.new("RGB", (1, 1)), "at least 16x16"),
    (np.zeros((5, 5, 2)), "must be"),
    (np.full((20, 20, 3), np.nan), "NaN"),
    (None, "No image"),
    (12345, "Cannot read"),
])
def test_refusals(value, message):
    with pytest.raises(StudioError, match=message):
        open_image(value)


def test_huge_images_are_refused_before_decoding():
    huge = encoded(Image.new("L", (10000, 10000)))  # 100 MP: compresses to a few hundred kB
    with pytest.raises(StudioError, match="megapixels"):
        open_image(huge)
    assert 10000 * 10000 > MAX_PIXELS


def test_arrays_of_each_dtype():
    assert open_image(np.full((20, 20, 3), 0.5))[0].getpixel((0, 0)) == (128, 128, 128)
    assert open_image(np.full((20, 20), 65535, np.uint16))[0].getpixel((0, 0)) == (255, 255, 255)
    assert open_image(np.zeros((20, 20, 4), np.uint8))[0].getpixel((0, 0)) == (255, 255, 255)
