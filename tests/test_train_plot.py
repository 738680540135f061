"""The loss plot drawn from a run's JSONL log."""

import json

from PIL import Image

from studio.train.plot import COLOURS, plot_losses


def test_a_series_missing_from_early_rows_starts_where_it_is_logged(tmp_path):
    # A discriminator warm-up logs loss_d alone; loss_g appears halfway.
    rows = [{"images": i * 100, "loss_d": 1.0 + 0.01 * i, **({"loss_g": 2.0} if i >= 50 else {})} for i in range(100)]
    log = tmp_path / "losses.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    plot_losses(log, tmp_path / "losses.png", ["loss_d", "loss_g"])
    image = Image.open(tmp_path / "losses.png").convert("RGB")
    w, h = image.size
    g_columns = {x for x in range(40, w - 40) for y in range(40, h - 40) if image.getpixel((x, y)) == COLOURS[1]}
    d_columns = {x for x in range(40, w - 40) for y in range(40, h - 40) if image.getpixel((x, y)) == COLOURS[0]}
    assert min(d_columns) < 50 and min(g_columns) > w // 2 - 10 and max(g_columns) > w - 60


def test_no_plot_before_two_rows_or_without_the_keys(tmp_path):
    log = tmp_path / "losses.jsonl"
    log.write_text(json.dumps({"images": 1, "loss_d": 1.0}) + "\n" + json.dumps({"images": 2, "loss_d": 0.9}) + "\n")
    plot_losses(log, tmp_path / "none.png", ["loss_g"])
    assert not (tmp_path / "none.png").exists()
