"""A dependency-free loss plot: JSONL log -> PNG line chart (drawn with Pillow)."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image, ImageDraw

COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40)]


def plot_losses(log: Path, out: Path, keys: list[str], x_key: str = "images", size=(640, 320), smooth: int = 10) -> None:
    """Plot `keys` of each JSONL row against `x_key`, moving-average smoothed over `smooth` rows."""
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    if len(rows) < 2:
        return
    w, h, m = size[0], size[1], 40
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    xs = [r[x_key] for r in rows]
    series = {}  # key -> (x, smoothed value) for the rows that log it (a D warm-up logs no loss_g)
    for key in keys:
        kept = [(r[x_key], r[key]) for r in rows if key in r]
        values = [v for _, v in kept]
        series[key] = [(x, sum(values[max(0, i - smooth + 1):i + 1]) / len(values[max(0, i - smooth + 1):i + 1]))
                       for i, (x, _) in enumerate(kept)]
    series = {key: points for key, points in series.items() if points}
    if not series:
        return
    lo = min(y for points in series.values() for _, y in points)
    hi = max(y for points in series.values() for _, y in points)
    hi = hi if hi > lo else lo + 1
    x0, x1 = xs[0], xs[-1] if xs[-1] > xs[0] else xs[0] + 1

    def point(x: float, y: float) -> tuple[float, float]:
        return m + (x - x0) / (x1 - x0) * (w - 2 * m), h - m - (y - lo) / (hi - lo) * (h - 2 * m)

    draw.rectangle([m, m, w - m, h - m], outline=(180, 180, 180))
    for i, (key, points) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        draw.line([point(x, y) for x, y in points], fill=colour, width=2)
        draw.text((m + 5 + 90 * i, 8), key, fill=colour)
    draw.text((4, m - 12), f"{hi:.3g}", fill="black")
    draw.text((4, h - m), f"{lo:.3g}", fill="black")
    draw.text((w - m - 60, h - m + 8), f"{x_key} {x1:,}", fill="black")
    image.save(out)
