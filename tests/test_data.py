"""The data-set builders on small fake package trees (no network); the real download is slow-marked."""

import json
import shutil

import pytest
from PIL import Image

from studio import StudioError
from studio.data.emoji import build_emoji
from studio.data.folder import load_folder

SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 72 72"><circle cx="36" cy="36" r="{r}" fill="{fill}" stroke="#000" stroke-width="2"/></svg>'


def fake_emoji_tree(root):
    entries = [
        {"unified": "1F600", "image": "1f600.png", "non_qualified": None, "category": "Smileys & Emotion", "subcategory": "face-smiling"},
        {"unified": "1F436", "image": "1f436.png", "non_qualified": None, "category": "Animals & Nature", "subcategory": "animal-mammal",
         "skin_variations": {"1F3FB": {"image": "1f436-1f3fb.png"}}},
        {"unified": "1F1EB-1F1F7", "image": "1f1eb-1f1f7.png", "non_qualified": None, "category": "Flags", "subcategory": "country-flag"},
        {"unified": "2764-FE0F", "image": "2764-fe0f.png", "non_qualified": "2764", "category": "Smileys & Emotion", "subcategory": "heart"},
    ]
    roots = {}
    for style, folder, ext, size in [("google", "img/google/64", ".png", 64), ("twitter", "img/twitter/64", ".png", 64),
                                     ("fluent3d", "assets", ".webp", 256)]:
        base = root / style
        (base / "package" / folder).mkdir(parents=True)
        (base / "package/emoji.json").write_text(json.dumps(entries))
        for i, e in enumerate(entries):
            stem = e["image"][:-4] if style != "fluent3d" or not e["non_qualified"] else e["non_qualified"].lower()
            Image.new("RGBA", (size, size), (50 * i, 100, 200, 255)).save(base / "package" / folder / f"{stem}{ext}")
        roots[style] = base
    (roots["twitter"] / "package/img/twitter/64/1f600.png").write_bytes(b"corrupt")  # skipped, counted
    return roots


def test_emoji_builder_on_a_fake_tree(tmp_path):
    info = build_emoji(tmp_path / "out", roots=fake_emoji_tree(tmp_path / "pkg"), heldout_fraction=0.5)
    assert info["counts"] == {"animals": 3, "faces": 2, "other": 3}  # no flag, no skin tone
    assert info["skipped_unreadable"] == {"twitter": 1}
    held = info["heldout"]["files"]
    styles_of = {f.split("-", 1)[1] for f in held}
    assert all(f"{style}-{code}" in {p.split("/")[1] for p in held} for code in styles_of
               for style in ("google", "fluent3d"))  # every style of a held-out emoji is held out
    image = Image.open(next((tmp_path / "out/animals").glob("fluent3d-*.png")))
    assert image.size == (64, 64) and image.mode == "RGB"
    data = load_folder(tmp_path / "out", conditional=True, split="all")
    assert data.classes == ["animals", "faces"] and len(data.images) == 5


def test_load_folder_can_count_one_class_folder_as_another(tmp_path):
    from .conftest import make_image_folder

    root = make_image_folder(tmp_path / "d", classes=["apples", "dishes", "faces"], per_class=3)
    data = load_folder(root, conditional=True, split="all", merge={"apples": "dishes"})
    assert data.classes == ["dishes", "faces"]
    by_folder = {f.split("/")[0]: int(label) for f, label in zip(data.files, data.labels)}
    assert by_folder == {"apples": 0, "dishes": 0, "faces": 1} and len(data.images) == 9
    with pytest.raises(StudioError, match="Cannot merge pears"):
        load_folder(root, conditional=True, split="all", merge={"pears": "dishes"})


def test_openmoji_builder_on_a_fake_tree(tmp_path):
    pytest.importorskip("resvg_py")
    from studio.data.openmoji import build_openmoji
    from studio.data.pairs import load_pairs

    pkg = tmp_path / "openmoji"
    for folder in ("black", "color"):
        (pkg / "package" / folder / "svg").mkdir(parents=True)
    entries = [{"hexcode": "1F600", "group": "smileys-emotion", "skintone": ""},
               {"hexcode": "1F44D-1F3FB", "group": "people-body", "skintone": "1"},
               {"hexcode": "1F1EB", "group": "flags", "skintone": ""},
               {"hexcode": "1F431", "group": "animals-nature", "skintone": ""}]
    (pkg / "package/data").mkdir(parents=True)
    (pkg / "package/data/openmoji.json").write_text(json.dumps(entries))
    for e in entries:
        (pkg / "package/black/svg" / f"{e['hexcode']}.svg").write_text(SVG.format(r=20, fill="none"))
        (pkg / "package/color/svg" / f"{e['hexcode']}.svg").write_text(SVG.format(r=20, fill="#fcea2b"))
    (pkg / "package/color/svg/1F431.svg").write_text("<svg broken")
    info = build_openmoji(tmp_path / "out", size=64, root=pkg)
    assert info["total"] == 1 and info["skipped_unreadable"] == 1
    pairs = load_pairs(tmp_path / "out", 64, split="all")
    sketch, colour = pairs.sketches[0], pairs.pictures[0]
    assert sketch.float().mean() > colour.float().mean()  # the colour version is filled in


@pytest.mark.slow
def test_real_packages_download_and_build(tmp_path, monkeypatch):
    if not shutil.which("npm"):
        pytest.skip("npm is not installed")
    monkeypatch.setenv("STUDIO_DATA", str(tmp_path / "cache"))
    info = build_emoji(tmp_path / "emoji")
    assert info["total"] > 4000 and len(info["classes"]) == 11
