"""Colour hints: read from a picture, placed like their drawing, simulated from a target,
taken by a hint model through the core, the CLI and the canvas."""

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from studio import Registry, StudioError, save_checkpoint, sketch_to_image
from studio.cli import main
from studio.models import build
from studio.tasks.hints import Placement, colour_regions, place_hints, random_hints, simulate_hints
from studio.tasks.sketch import model_input, place_sketch
from studio.ui.sketch import split_hints


def circle_drawing(size=384, box=(60, 100, 260, 300)):
    im = Image.new("RGB", (size, size), "white")
    ImageDraw.Draw(im).ellipse(box, outline="black", width=6)
    return im


def dot(size=384, centre=(160, 200), colour=(230, 40, 40, 255), radius=8):
    hints = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    x, y = centre
    ImageDraw.Draw(hints).ellipse([x - radius, y - radius, x + radius, y + radius], fill=colour)
    return hints


def test_hints_go_where_their_drawing_goes():
    drawing = circle_drawing()
    lines, placement = place_sketch(drawing, 128)
    assert placement.source == drawing.size
    x = place_hints(dot(), placement, 128)[0]  # (4, S, S)
    ys, xs = np.nonzero(x[3].numpy())
    ink = np.asarray(lines.convert("L")) < 128
    iy, ix = np.nonzero(ink)
    # The dot was at the circle's centre; it lands at the centre of the placed circle, in red.
    assert abs(ys.mean() - (iy.min() + iy.max()) / 2) < 1.5 and abs(xs.mean() - (ix.min() + ix.max()) / 2) < 1.5
    assert 20 <= len(ys) <= 80  # a 17 px dot at half the size (the 200 px circle fills 96 px)
    red = x[:3, ys, xs].mean(dim=1)
    assert red[0] > 0.7 and red[1] < -0.5 and red[2] < -0.5
    assert (x[:3][:, x[3] == 0] == 0).all()  # no colour where there is no hint


def test_a_placement_is_a_scale_and_a_shift():
    x = place_hints(dot(size=64, centre=(10, 20), radius=2), Placement(0.5, 3.0, 7.0, (64, 64)), 32)[0]
    ys, xs = np.nonzero(x[3].numpy())
    assert abs(xs.mean() - 8) <= 1 and abs(ys.mean() - 17) <= 1


def test_hint_picture_of_another_size_or_not_a_picture(tmp_path):
    drawing = circle_drawing()
    model = build("pix2pix-unet", {"image_size": 32, "width": 4, "hints": True}).eval()
    with pytest.raises(StudioError, match="must be the drawing's size, 384x384"):
        sketch_to_image(model, drawing, dot(size=200))
    (tmp_path / "fake.png").write_text("not a picture")
    with pytest.raises(StudioError, match="hint picture could not be read"):
        sketch_to_image(model, drawing, str(tmp_path / "fake.png"))


def test_only_a_hint_model_takes_hints():
    plain = build("pix2pix-unet", {"image_size": 32, "width": 4}).eval()
    with pytest.raises(StudioError, match="does not take colour hints"):
        sketch_to_image(plain, circle_drawing(), dot())
    assert model_input(circle_drawing(), 32).shape == (1, 3, 32, 32)
    assert model_input(circle_drawing(), 32, with_hints=True).shape == (1, 7, 32, 32)
    assert model_input(circle_drawing(), 32, with_hints=True)[:, 3:].abs().sum() == 0  # no hints: zeros


def test_a_hint_model_colours_with_its_hints(tmp_path):
    torch.manual_seed(0)
    model = build("pix2pix-unet", {"image_size": 64, "width": 4, "hints": True})
    save_checkpoint(model, "h", {"task": "sketch", "image_size": 64}, root=tmp_path)
    model = Registry(tmp_path).get("h")
    plain, red, blue = (sketch_to_image(model, circle_drawing(), h) for h in (None, dot(), dot(colour=(0, 0, 255, 255))))
    assert plain.size == red.size == (64, 64)
    assert plain.tobytes() != red.tobytes() != blue.tobytes()
    circle_drawing().save(tmp_path / "d.png")
    dot().save(tmp_path / "hints.png")
    assert main(["sketch", "h", "--input", str(tmp_path / "d.png"), "--hints", str(tmp_path / "hints.png"),
                 "--out", str(tmp_path / "o.png"), "--checkpoints", str(tmp_path)]) == 0
    assert Image.open(tmp_path / "o.png").tobytes() == red.tobytes()


def target_pair(size=64):
    """A yellow disc with a black outline on white, and its line art."""
    target, sketch = Image.new("RGB", (size, size), "white"), Image.new("RGB", (size, size), "white")
    ImageDraw.Draw(target).ellipse([8, 8, 56, 56], fill=(250, 210, 40), outline="black", width=3)
    ImageDraw.Draw(sketch).ellipse([8, 8, 56, 56], outline="black", width=3)
    as_tensor = lambda im: torch.from_numpy(np.array(im)).permute(2, 0, 1).contiguous()  # noqa: E731
    return as_tensor(target), as_tensor(sketch)


def test_simulated_hints_are_dots_of_the_local_colour_inside_the_regions():
    target, sketch = target_pair()
    gen = torch.Generator().manual_seed(0)
    hints = simulate_hints(target, sketch, dots=5, gen=gen)
    mask = hints[3] > 0
    assert hints.shape == (4, 64, 64) and 5 <= mask.sum() <= 5 * 13
    colours = ((hints[:3, mask] + 1) * 127.5).round()
    assert (colours - torch.tensor([250.0, 210, 40])[:, None]).abs().max() < 40  # yellow
    regions = colour_regions(target, sketch)
    assert regions[32, 32] and not regions[0, 0] and not regions[32, 9]  # inside; the white page; the line
    assert simulate_hints(target, sketch, dots=0).abs().sum() == 0
    strokes = simulate_hints(target, sketch, dots=0, strokes=3, gen=torch.Generator().manual_seed(1))
    assert strokes[3].sum() > 0


def test_training_hints_none_for_some_and_at_most_forty():
    target, sketch = target_pair()
    batch = random_hints(target.expand(200, -1, -1, -1), sketch.expand(200, -1, -1, -1),
                         torch.Generator().manual_seed(0))
    counts = batch[:, 3].sum(dim=(1, 2))
    assert 0.1 < (counts == 0).float().mean() < 0.35  # about a fifth get none
    assert counts.max() <= 40 * 25 and (counts > 0).sum() > 120


def test_the_canvas_splits_into_black_lines_and_colour_hints():
    canvas = circle_drawing()
    ImageDraw.Draw(canvas).ellipse([150, 190, 170, 210], fill="#fdd835")
    lines, hints = split_hints(canvas)
    a, h = np.asarray(lines), np.asarray(hints)
    assert (a[195:205, 155:165] == 255).all()  # the dot is gone from the drawing
    assert (h[195:205, 155:165, 3] == 255).all() and (h[195:205, 155:165, :3] == (0xFD, 0xD8, 0x35)).all()
    assert h[100, 160, 3] == 0 and a[100:106, 160].min() < 50  # the black line is a line
    assert split_hints(circle_drawing())[1] is None


def test_the_hint_model_spreads_a_dot_into_a_colour_field():
    from studio.models.pix2pix import HintSpread

    hints = torch.zeros(1, 4, 64, 64)
    hints[0, :, 30:33, 30:33] = torch.tensor([0.8, -0.6, 0.2, 1.0])[:, None, None]  # a 3x3 dot, mask 1
    field = HintSpread(64)(hints)[0]
    assert torch.allclose(field[:, 31, 31], torch.tensor([0.8, -0.6, 0.2, 1.0]), atol=1e-4)  # on the dot: itself
    assert torch.allclose(field[:3, 31, 36] / field[3, 31, 36], torch.tensor([0.8, -0.6, 0.2]), atol=1e-4)
    assert 0.05 < field[3, 31, 42] < 1  # further: less sure
    assert field[:, 0, 63].abs().max() == 0  # far away: nothing
