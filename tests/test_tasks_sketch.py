"""Sketch to image: what people really draw and upload, normalised the same way."""

import io

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw, ImageFilter

from studio import Registry, StudioError, edges, sketch_to_image, save_checkpoint
from studio.cli import main
from studio.models import build
from studio.tasks.sketch import FILL, ink, prepare_sketch, stroke_width, thin


def drawing(size=(300, 200), width=4, offset=(20, 30), scale=1.0, mode="RGB", invert=False):
    """A house: a square with a roof, black on white (or inverted)."""
    im = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(im)
    x, y = offset
    s = 80 * scale
    d.rectangle([x, y + s * 0.5, x + s, y + s * 1.5], outline="black", width=width)
    d.line([x, y + s * 0.5, x + s / 2, y, x + s, y + s * 0.5], fill="black", width=width)
    if invert:
        im = Image.eval(im, lambda v: 255 - v)
    return im.convert(mode)


def mask(picture):
    return np.asarray(picture.convert("L")) < 128


def near(m, pixels):
    """Pixels within `pixels` of the mask (a square dilation)."""
    return np.asarray(Image.fromarray(m.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(2 * pixels + 1))) > 127


def test_output_is_black_lines_on_white_centred_at_the_training_fill():
    p = prepare_sketch(drawing(), 128)
    assert p.size == (128, 128) and p.mode == "RGB"
    m = mask(p)
    ys, xs = np.nonzero(m)
    assert abs(max(np.ptp(ys), np.ptp(xs)) + 1 - 128 * FILL) <= 4
    assert abs((ys.min() + ys.max()) / 2 - 63.5) <= 3 and abs((xs.min() + xs.max()) / 2 - 63.5) <= 3
    assert m.mean() < 0.2  # lines, not a filled blob


def test_inverted_offcentre_thick_and_rgba_drawings_normalise_alike():
    reference = mask(prepare_sketch(drawing(), 128))
    variants = [drawing(invert=True), drawing(offset=(200, 100), size=(400, 300)), drawing(width=14, scale=1.0),
                drawing(mode="RGBA"), drawing(mode="L"), drawing(scale=3, size=(800, 600))]
    near_reference = near(reference, 4)
    for variant in variants:
        m = mask(prepare_sketch(variant, 128))
        # The same house in the same place: each one's lines lie within 4 px of the other's.
        assert (m & near_reference).sum() > 0.85 * m.sum()
        assert (reference & near(m, 4)).sum() > 0.85 * reference.sum()


def test_transparent_png_is_composited_on_white():
    strokes = Image.new("RGBA", (256, 256), (0, 0, 0, 0))
    ImageDraw.Draw(strokes).ellipse([60, 60, 200, 200], outline=(0, 0, 0, 255), width=5)
    assert mask(prepare_sketch(strokes, 64)).sum() > 20


@pytest.mark.parametrize("value", [Image.new("RGB", (300, 300), "white"), Image.new("RGB", (300, 300), "black"),
                                   np.full((64, 64, 4), 255, np.uint8)])
def test_empty_canvas_is_a_clear_message(value):
    with pytest.raises(StudioError, match="empty"):
        prepare_sketch(value, 128)


def test_stroke_width_is_matched_to_training():
    for brush in (2, 6, 16):
        p = prepare_sketch(drawing(width=brush, scale=2, size=(400, 400)), 128, stroke_px=3.0)
        assert 2.0 <= stroke_width(mask(p)) <= 4.5, brush


def test_thinning_gives_one_pixel_lines():
    m = np.zeros((30, 30), bool)
    m[10:17, 3:27] = True  # a 7 px thick bar
    skeleton = thin(m)
    assert 15 <= skeleton.sum() <= 26 and skeleton[:, 8:22].sum(axis=0).max() == 1


def test_ink_polarity():
    assert ink(drawing()).mean() < 0.2 and ink(drawing(invert=True)).mean() < 0.2


def test_sketch_to_image_and_bad_files(tmp_path):
    torch.manual_seed(0)
    save_checkpoint(build("pix2pix-unet", {"image_size": 64, "width": 4}), "s", {"task": "sketch", "image_size": 64},
                    root=tmp_path)
    model = Registry(tmp_path).get("s")
    buffer = io.BytesIO()
    drawing().save(buffer, format="JPEG")
    out = sketch_to_image(model, buffer.getvalue())
    assert out.size == (64, 64) and out.mode == "RGB"
    values = np.asarray(out)
    assert values.min() >= 0 and values.max() <= 255 and values.std() > 0
    png = io.BytesIO()
    drawing().save(png, format="PNG")
    with pytest.raises(StudioError, match="could not be read"):
        sketch_to_image(model, png.getvalue()[:200])  # truncated
    drawing().save(tmp_path / "d.png")
    assert main(["sketch", "s", "--input", str(tmp_path / "d.png"), "--out", str(tmp_path / "o.png"),
                 "--checkpoints", str(tmp_path)]) == 0
    assert Image.open(tmp_path / "o.png").size == (64, 64)


def test_edges_make_line_art(tmp_path):
    photo = Image.new("RGB", (200, 160), (200, 180, 160))
    ImageDraw.Draw(photo).ellipse([40, 30, 160, 130], fill=(40, 80, 160))
    lines = edges(photo)
    m = mask(lines)
    assert lines.mode == "RGB" and 0.005 < m.mean() < 0.3
    assert m[30:130, 40:160].sum() > 0.8 * m.sum()  # the lines are where the shape is
    photo.save(tmp_path / "p.png")
    assert main(["edges", "--input", str(tmp_path / "p.png"), "--out", str(tmp_path / "l.png")]) == 0


def test_tracing_a_textured_photo_gives_connected_lines_not_specks():
    """A disc on a grainy background, as fur or film grain would be: one closed outline."""
    from skimage.measure import label

    rng = np.random.default_rng(0)
    photo = np.full((240, 240, 3), 170, np.float32)
    yy, xx = np.mgrid[:240, :240]
    photo[(yy - 120) ** 2 + (xx - 120) ** 2 < 70 ** 2] = (60, 90, 150)
    photo += rng.normal(0, 18, photo.shape)  # grain
    for detail in (0.0, 0.4, 1.0):
        m = mask(edges(Image.fromarray(photo.clip(0, 255).astype(np.uint8))), )
        parts = label(m, connectivity=2)
        sizes = np.bincount(parts.ravel())[1:]
        assert len(sizes) <= 3 and sizes.max() > 0.8 * m.sum(), (detail, sorted(sizes)[-5:])  # one outline
        ring = np.abs(np.hypot(yy - 120, xx - 120) - 70) < 6
        assert m[ring].mean() > 0.2 and m[~near(ring, 3)].sum() < 0.05 * m.sum()  # on the disc's edge, nowhere else
