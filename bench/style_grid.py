"""The style-transfer evaluation grid: photos x paintings with the shipped defaults, and a table.

    python bench/style_grid.py [--size 384] [--steps 100] [--network lite0] [--judge lite2]
                               [--set key=value ...] [--out assets/style-grid.png]

Rows are photos, columns paintings (first row: the paintings; first column: the photos).
Beside each result, two figures that do not come from the network being optimised:
  style  Gram distance to the painting measured in the `--judge` network (its default style
         layers; per layer ||G(x) - G(painting)|| / ||G(painting)||, averaged), divided by
         the photo's own distance: below 1 the result is nearer the painting than the photo was
  edges  correlation of the Sobel edge magnitudes of the result and the photo (grey, after a
         Gaussian blur of 1 px): 1 means the photo's edges all survive
The table goes to stdout (Markdown) and next to the grid as JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFilter

from studio.imaging.files import fit_within
from studio.tasks.style.engine import stylize
from studio.tasks.style.losses import gram, to_tensor
from studio.tasks.style.networks import build_features, get_network

ASSETS = Path(__file__).resolve().parents[1] / "assets"
PHOTOS = ["chelsea", "astronaut", "coffee", "rocket"]
PAINTINGS = ["van-gogh-cafe-terrace", "hokusai-great-wave", "kandinsky-composition-viii", "van-gogh-night-cafe",
             "hiroshige-shrine-in-snow", "bruegel-harvesters"]


def style_distance(judge, picture: Image.Image, painting: Image.Image, size: int) -> float:
    net, layers = judge
    a = net(to_tensor(fit_within(picture, size), torch.device("cpu")))
    b = net(to_tensor(fit_within(painting, size), torch.device("cpu")))
    return float(np.mean([(gram(a[k]) - gram(b[k])).norm().item() / gram(b[k]).norm().item() for k in layers]))


def edge_map(picture: Image.Image) -> np.ndarray:
    grey = np.asarray(picture.convert("L").filter(ImageFilter.GaussianBlur(1)), np.float32) / 255
    x = torch.from_numpy(grey)[None, None]
    kx = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])[None, None]
    gx, gy = F.conv2d(x, kx, padding=1), F.conv2d(x, kx.transpose(2, 3), padding=1)
    return (gx.square() + gy.square()).sqrt()[0, 0].numpy()


def edge_correlation(result: Image.Image, photo: Image.Image) -> float:
    a, b = edge_map(result), edge_map(photo.resize(result.size, Image.LANCZOS))
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def parse_value(text: str):
    if "," in text:
        return tuple(parse_value(t) for t in text.split(","))
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False, "none": None}.get(text.lower(), text)


def sheet(photos: list[Image.Image], paintings: list[Image.Image], results: list[list[Image.Image]],
          labels: list[list[str]], cell: int) -> Image.Image:
    rows, cols = len(photos) + 1, len(paintings) + 1
    out = Image.new("RGB", (cols * cell, rows * cell + rows * 16), "white")
    draw = ImageDraw.Draw(out)

    def put(im: Image.Image, r: int, c: int, label: str = "") -> None:
        im = fit_within(im, cell)
        y = r * (cell + 16)
        out.paste(im, (c * cell + (cell - im.width) // 2, y + (cell - im.height) // 2))
        draw.text((c * cell + 4, y + cell + 2), label, fill="black")

    for c, p in enumerate(paintings, 1):
        put(p, 0, c)
    for r, (photo, row, row_labels) in enumerate(zip(photos, results, labels), 1):
        put(photo, r, 0)
        for c, (im, label) in enumerate(zip(row, row_labels), 1):
            put(im, r, c, label)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--steps", type=int, default=None, help="default: the engine's")
    ap.add_argument("--network", default="lite0")
    ap.add_argument("--judge", default="lite2")
    ap.add_argument("--photos", default=",".join(PHOTOS))
    ap.add_argument("--paintings", default=",".join(PAINTINGS))
    ap.add_argument("--set", action="append", default=[], help="another StyleSettings field, key=value")
    ap.add_argument("--cell", type=int, default=192)
    ap.add_argument("--out", default=str(ASSETS / "style-grid.png"))
    args = ap.parse_args()
    overrides = {k: parse_value(v) for k, v in (s.split("=", 1) for s in args.set)}
    if args.steps:
        overrides["steps"] = args.steps
    judge_net = get_network(args.judge)
    judge = (build_features(judge_net, list(judge_net.style_layers), None, torch.device("cpu"))[0],
             list(judge_net.style_layers))
    photos = [Image.open(ASSETS / "photos" / f"{n}.jpg").convert("RGB") for n in args.photos.split(",")]
    paintings = [Image.open(ASSETS / "styles" / f"{n}.jpg").convert("RGB") for n in args.paintings.split(",")]
    results, labels, table = [], [], []
    for pname, photo in zip(args.photos.split(","), photos):
        row, row_labels = [], []
        for sname, painting in zip(args.paintings.split(","), paintings):
            t0 = time.perf_counter()
            last = None
            for step in stylize(photo, painting, size=args.size, network=args.network, **overrides):
                last = step.image or last
            seconds = time.perf_counter() - t0
            # The judge's own network must not be the one optimised; its figures use the judge's cache.
            ratio = (style_distance(judge, last, painting, args.size)
                     / style_distance(judge, photo, painting, args.size))
            edges = edge_correlation(last, photo)
            table.append({"photo": pname, "painting": sname, "style": round(ratio, 3), "edges": round(edges, 3),
                          "seconds": round(seconds, 1)})
            print(f"{pname:10s} {sname:28s} style {ratio:.3f} edges {edges:.3f} {seconds:.1f} s", flush=True)
            row.append(last)
            row_labels.append(f"style {ratio:.2f}  edges {edges:.2f}")
        results.append(row)
        labels.append(row_labels)
    out = Path(args.out)
    sheet(photos, paintings, results, labels, args.cell).save(out)
    summary = {"network": args.network, "judge": args.judge, "size": args.size, "overrides": overrides,
               "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads",
               "mean_style": round(float(np.mean([r["style"] for r in table])), 3),
               "mean_edges": round(float(np.mean([r["edges"] for r in table])), 3), "results": table}
    out.with_suffix(".json").write_text(json.dumps(summary, indent=1))
    print(f"mean style {summary['mean_style']}, mean edges {summary['mean_edges']}; wrote {out}")


if __name__ == "__main__":
    main()
