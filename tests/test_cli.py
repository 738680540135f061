import json

import pytest
from PIL import Image

from studio.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_list(ckpt_root, capsys):
    code, out, _ = run(capsys, "list", "--checkpoints", str(ckpt_root))
    assert code == 0 and "tiny-classes (conditional, cgan, 64px, 3 classes)" in out and "tiny-latent" in out
    code, out, _ = run(capsys, "--checkpoints", str(ckpt_root), "list", "--json")
    rows = json.loads(out)["checkpoints"]
    assert [r["name"] for r in rows] == ["tiny-classes", "tiny-latent"]
    assert rows[0]["labels"] == ["circles", "squares", "stripes"]


def test_list_empty_says_how_to_train(tmp_path, capsys):
    code, out, _ = run(capsys, "list", "--checkpoints", str(tmp_path))
    assert code == 0 and "studio train" in out


def test_sample_grid_and_dir(ckpt_root, tmp_path, capsys):
    grid = tmp_path / "grid.png"
    code, _, _ = run(capsys, "sample", "tiny-latent", "--seeds", "1,2,5-8", "--truncation", "0.7",
                     "--out", str(grid), "--checkpoints", str(ckpt_root))
    assert code == 0 and Image.open(grid).size == (3 * 66 + 2, 2 * 66 + 2)
    out_dir = tmp_path / "seeds"
    code, _, _ = run(capsys, "sample", "tiny-classes", "--seeds", "3-4", "--class", "circles=0.7,squares=0.3",
                     "--out-dir", str(out_dir), "--checkpoints", str(ckpt_root))
    assert code == 0 and sorted(p.name for p in out_dir.iterdir()) == ["seed3.png", "seed4.png"]


def test_interpolate_gif(ckpt_root, tmp_path, capsys):
    gif = tmp_path / "walk.gif"
    code, _, _ = run(capsys, "interpolate", "tiny-classes", "--from", "1", "--to", "2", "--frames", "6",
                     "--class", "stripes", "--out", str(gif), "--checkpoints", str(ckpt_root))
    image = Image.open(gif)
    assert code == 0 and image.format == "GIF" and image.n_frames == 10  # there and back


def test_errors_are_one_line_without_traceback(ckpt_root, tmp_path, capsys):
    for argv, message in [
        (["sample", "nope", "--seeds", "1", "--out", str(tmp_path / "x.png")], "No checkpoint named 'nope'"),
        (["sample", "../x", "--seeds", "1", "--out", str(tmp_path / "x.png")], "Invalid checkpoint name"),
        (["sample", "tiny-latent", "--seeds", "-5", "--out", str(tmp_path / "x.png")], "from 0 to 4294967295"),
        (["sample", "tiny-latent", "--seeds", "1", "--truncation", "2", "--out", str(tmp_path / "x.png")], "Truncation"),
        (["sample", "tiny-classes", "--seeds", "1", "--class", "hats", "--out", str(tmp_path / "x.png")], "Unknown class"),
        (["sample", "tiny-latent", "--seeds", "1"], "--out"),
        (["train", "cgan", "--data", str(tmp_path), "--name", "x", "--lr", "0"], "learning rate must be above 0"),
        (["train", "dcgan", "--data", str(tmp_path), "--name", "x", "--d-warmup", "10"], "--init-from"),
    ]:
        code, _, err = run(capsys, *argv, "--checkpoints", str(ckpt_root))
        assert code == 2 and message in err and "Traceback" not in err


def test_train_flags_come_from_each_trainers_knobs(capsys):
    """Each trainer offers its own knobs: a flag of another trainer is refused by argparse."""
    with pytest.raises(SystemExit):
        main(["train", "pix2pix", "--data", "d", "--name", "x", "--d-warmup", "10"])
    assert "unrecognized arguments: --d-warmup" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "dcgan", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--class-loss" in help_text and "default: studio 32, reference 64" in help_text


def test_merge_classes_takes_from_to_pairs(tmp_path, capsys):
    from studio.train.recipes import class_merges

    assert class_merges("fruit & veg=food & drink, b=a") == {"fruit & veg": "food & drink", "b": "a"}
    with pytest.raises(SystemExit):
        main(["train", "cgan", "--data", str(tmp_path), "--name", "x", "--merge-classes", "fruit"])
    assert "FROM=TO" in capsys.readouterr().err


def test_class_weights_take_class_factor_pairs(tmp_path, capsys):
    from studio.train.recipes import class_factors

    assert class_factors("fruit & veg=3, weather=0.5") == {"fruit & veg": 3.0, "weather": 0.5}
    for bad, message in (("fruit & veg", "separated by commas"), ("fruit & veg=lots", "numbers for factors")):
        with pytest.raises(SystemExit):
            main(["train", "cgan", "--data", str(tmp_path), "--name", "x", "--class-weights", bad])
        assert message in capsys.readouterr().err


@pytest.fixture
def style_root(ckpt_root):
    from .conftest import make_style

    make_style(ckpt_root)
    return ckpt_root


def test_mix_writes_the_mixing_figure(style_root, tmp_path, capsys):
    import numpy as np

    import studio

    out = tmp_path / "figures" / "mix.png"
    code, printed, _ = run(capsys, "mix", "tiny-style", "--seeds", "1-3", "--style-seeds", "10,11", "--levels", "coarse",
                           "--truncation", "0.8", "--noise", "const", "--out", str(out), "--checkpoints", str(style_root))
    figure = Image.open(out)
    assert code == 0 and figure.format == "PNG" and figure.size == (3 * 34 + 2, 4 * 34 + 2)  # 32 px cells + a corner
    assert f"wrote {out} (104x138)" in printed
    model = studio.Registry(style_root).get("tiny-style")
    same = studio.mixing_figure(model, [1, 2, 3], [10, 11], "coarse", truncation=0.8, noise="const")
    assert np.array_equal(np.asarray(figure), np.asarray(same))
    code, _, _ = run(capsys, "mix", "tiny-style", "--levels", "8-16", "--out", str(tmp_path / "b.png"),
                     "--checkpoints", str(style_root))
    assert code == 0 and Image.open(tmp_path / "b.png").size == (5 * 34 + 2,) * 2  # default seeds 1-4 x 10-13


def test_mix_errors_are_one_line(style_root, tmp_path, capsys):
    out = ["--out", str(tmp_path / "x.png"), "--checkpoints", str(style_root)]
    for argv, message in [
        (["tiny-latent"], "Style mixing needs an unconditional style-based model"),
        (["tiny-style", "--levels", "huge"], "Cannot read levels 'huge': use coarse, middle, fine or FIRST-LAST"),
        (["tiny-style", "--levels", "8-x"], "Cannot read levels '8-x'"),
        (["tiny-style", "--levels", "64-8"], "must not be above the last"),
        (["tiny-style", "--levels", "128-256"], "No layer of this model works at 128-256 px"),
        (["tiny-style", "--seeds", "1-17"], "Give 1 to 16 seeds, got 17"),
        (["tiny-style", "--style-seeds", "0-20"], "Give 1 to 16 style seeds, got 21"),
        (["tiny-style", "--truncation", "1.5"], "Truncation"),
    ]:
        code, _, err = run(capsys, "mix", *argv, *out)
        assert code == 2 and message in err and "Traceback" not in err and err.count("\n") == 1, err
    assert not (tmp_path / "x.png").exists()


def test_sample_and_interpolate_take_a_noise_mode(style_root, tmp_path, capsys):
    import numpy as np

    def sample(model, noise, name):
        args = ["sample", model, "--seeds", "1,2", "--out", str(tmp_path / name), "--checkpoints", str(style_root)]
        assert run(capsys, *args, *(["--noise", noise] if noise else []))[0] == 0
        return np.asarray(Image.open(tmp_path / name))

    assert np.array_equal(sample("tiny-style", None, "a.png"), sample("tiny-style", "seed", "b.png"))
    assert not np.array_equal(sample("tiny-style", "seed", "b.png"), sample("tiny-style", "none", "c.png"))
    assert not np.array_equal(sample("tiny-style", "random", "d.png"), sample("tiny-style", "random", "e.png"))
    assert np.array_equal(sample("tiny-latent", "none", "f.png"), sample("tiny-latent", None, "g.png"))  # DCGAN: no noise
    gif = tmp_path / "walk.gif"
    code, _, _ = run(capsys, "interpolate", "tiny-style", "--from", "1", "--to", "2", "--frames", "4", "--noise", "const",
                     "--out", str(gif), "--checkpoints", str(style_root))
    assert code == 0 and Image.open(gif).n_frames == 6
    with pytest.raises(SystemExit):
        main(["sample", "tiny-style", "--seeds", "1", "--noise", "loud", "--out", str(tmp_path / "x.png")])
    assert "invalid choice: 'loud'" in capsys.readouterr().err


def test_sample_interpolate_and_mix_take_towards(style_root, tmp_path, capsys):
    import numpy as np

    import studio
    from studio.imaging.convert import grid

    model = studio.Registry(style_root).get("tiny-style")
    out = tmp_path / "c.png"
    args = ["--checkpoints", str(style_root), "--truncation", "0.2", "--towards", "cluster"]
    assert run(capsys, "sample", "tiny-style", "--seeds", "1-6", "--out", str(out), *args)[0] == 0
    same = studio.sample(model, range(1, 7), 0.2, towards="cluster")
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(grid(same)))
    assert run(capsys, "interpolate", "tiny-style", "--from", "1", "--to", "2", "--frames", "3",
               "--out", str(tmp_path / "w.png"), *args)[0] == 0
    assert run(capsys, "mix", "tiny-style", "--out", str(tmp_path / "m.png"), *args)[0] == 0
    code, _, err = run(capsys, "sample", "tiny-latent", "--seeds", "1", "--out", str(tmp_path / "x.png"), *args)
    assert code == 2 and "Truncation towards a cluster needs an unconditional style-based model" in err
