"""The emoji data set: Noto, Twitter and Fluent 3D emoji as 64x64 RGB on white, with classes.

Layout written to `out`:
    dataset.json            sources, licences, classes, counts, the held-out split
    <class>/<style>-<code>.png

The held-out split is by emoji (all styles of one emoji fall on the same side),
so figures computed on it measure pictures the model has never seen in any style.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from ..imaging.convert import on_white
from .packages import npm_tarball, unpack

SOURCES = {
    "google": {"npm": "emoji-datasource-google@16.0.0", "licence": "Apache-2.0 (Noto Emoji images), MIT (emoji-datasource data)",
               "attribution": "Noto Emoji by Google"},
    "twitter": {"npm": "emoji-datasource-twitter@16.0.0", "licence": "CC-BY-4.0 (Twemoji graphics), MIT (data)",
                "attribution": "Twemoji by Twitter, Inc and other contributors, CC-BY-4.0"},
    "fluent3d": {"npm": "@lobehub/fluent-emoji-3d@1.1.0", "licence": "MIT (Fluent Emoji by Microsoft)",
                 "attribution": "Fluent Emoji by Microsoft"},
}

# Unicode subcategory -> merged class a person can read. Subcategories not listed
# (people, hands, symbols, hearts) stay in the unconditional set only.
CLASS_OF_SUBCATEGORY = {
    **{s: "faces" for s in ("face-smiling", "face-affection", "face-tongue", "face-hand", "face-neutral-skeptical",
                            "face-sleepy", "face-unwell", "face-hat", "face-glasses", "face-concerned",
                            "face-negative", "face-costume", "cat-face", "monkey-face")},
    **{s: "animals" for s in ("animal-mammal", "animal-bird", "animal-amphibian", "animal-reptile",
                              "animal-marine", "animal-bug")},
    **{s: "plants" for s in ("plant-flower", "plant-other")},
    **{s: "fruit & veg" for s in ("food-fruit", "food-vegetable")},
    **{s: "food & drink" for s in ("food-prepared", "food-asian", "food-sweet", "drink", "dishware")},
    **{s: "transport" for s in ("transport-ground", "transport-air", "transport-water")},
    **{s: "places" for s in ("place-map", "place-geographic", "place-building", "place-religious", "place-other", "hotel")},
    "sky & weather": "weather",
    **{s: "sport & games" for s in ("sport", "game", "award-medal", "event")},
    "clothing": "clothing",
    **{s: "objects" for s in ("tool", "household", "office", "book-paper", "light & video", "computer", "mail",
                              "musical-instrument", "money", "sound", "other-object", "medical", "writing",
                              "science", "phone", "lock", "music")},
}
EXCLUDED_CATEGORIES = ("Flags", "Component")
UNCLASSED = "other"  # folder for emoji that belong to no merged class


def _on_white(image: Image.Image, size: int) -> Image.Image:
    """Composite an RGBA emoji on white, then resize (compositing first avoids dark fringes)."""
    rgb = on_white(image)
    return rgb if rgb.size == (size, size) else rgb.resize((size, size), Image.LANCZOS)


def _style_files(roots: dict[str, Path], entry: dict) -> dict[str, Path]:
    """The image file of this emoji in each style that has it."""
    stem = entry["image"].rsplit(".", 1)[0]
    candidates = {
        "google": [roots["google"] / "package/img/google/64" / entry["image"]],
        "twitter": [roots["twitter"] / "package/img/twitter/64" / entry["image"]],
        "fluent3d": [roots["fluent3d"] / "package/assets" / f"{stem}.webp"]
        + ([roots["fluent3d"] / "package/assets" / f"{entry['non_qualified'].lower()}.webp"] if entry.get("non_qualified") else []),
    }
    found = {}
    for style, paths in candidates.items():
        for path in paths:
            if path.exists():
                found[style] = path
                break
    return found


def build_emoji(out: Path, size: int = 64, heldout_fraction: float = 0.1, seed: int = 0,
                roots: dict[str, Path] | None = None) -> dict:
    """Build the data set into `out`; returns the `dataset.json` contents.

    `roots` maps each style to an unpacked package folder; by default the npm
    packages are fetched (once) into the data cache.
    """
    if roots is None:
        roots = {style: unpack(npm_tarball(src["npm"]), ("package/img/", "package/assets/", "package/emoji.json"))
                 for style, src in SOURCES.items()}
    entries = json.loads((roots["google"] / "package/emoji.json").read_text())
    # Base emoji only: skin-tone variants live under `skin_variations` and are never
    # listed as entries of their own, so skipping them is skipping that field.
    entries = [e for e in entries if e["category"] not in EXCLUDED_CATEGORIES]
    rng = random.Random(seed)
    heldout_codes = {e["unified"] for e in entries if rng.random() < heldout_fraction}

    out.mkdir(parents=True, exist_ok=True)
    files, heldout, skipped = [], [], Counter()
    for entry in tqdm(entries, desc="emoji", unit="emoji"):
        cls = CLASS_OF_SUBCATEGORY.get(entry["subcategory"], UNCLASSED)
        for style, path in _style_files(roots, entry).items():
            rel = f"{cls}/{style}-{entry['unified'].lower()}.png"
            try:
                with Image.open(path) as image:
                    picture = _on_white(image, size)
            except (OSError, ValueError):
                skipped[style] += 1
                continue
            (out / cls).mkdir(exist_ok=True)
            picture.save(out / rel)
            files.append(rel)
            if entry["unified"] in heldout_codes:
                heldout.append(rel)

    counts = Counter(f.split("/")[0] for f in files)
    description = {
        "name": "emoji",
        "image_size": size,
        "sources": SOURCES,
        "licence": "mixed: see sources; Twemoji images require attribution (CC-BY-4.0)",
        "excluded": {"categories": list(EXCLUDED_CATEGORIES), "skin_tones": True},
        "classes": sorted(c for c in counts if c != UNCLASSED),
        "unclassed_folder": UNCLASSED,
        "counts": dict(sorted(counts.items())),
        "total": len(files),
        "skipped_unreadable": dict(skipped),
        "heldout": {"fraction": heldout_fraction, "seed": seed, "by": "emoji", "files": sorted(heldout)},
    }
    (out / "dataset.json").write_text(json.dumps(description, indent=1))
    return description
