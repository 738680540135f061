"""Metrics against direct computations, and `studio eval` end to end on a tiny data set."""

import json

import numpy as np
import pytest
import torch

from studio import Registry
from studio.cli import main
from studio.models.efficientnet_lite import load_efficientnet_lite0
from studio.evaluation.report import report
from studio.evaluation.metrics import fd, kid, probe_accuracy, probe_confusions, train_probe

from .conftest import make_conditional, make_image_folder, make_style


def test_fd_of_a_set_with_itself_is_zero_and_grows_with_noise():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 16))
    assert abs(fd(a, a)) < 1e-6
    small, large = fd(a, a + rng.normal(0, 0.1, a.shape)), fd(a, a + rng.normal(0, 1.0, a.shape))
    assert 0 < small < large


def test_fd_matches_the_closed_form_for_diagonal_gaussians():
    rng = np.random.default_rng(1)
    a = rng.normal(0, 1, size=(20000, 3))
    b = rng.normal(2, 2, size=(20000, 3))
    expected = 3 * 2**2 + 3 * (1 + 4 - 2 * 2)  # |mu|^2 + tr(S1 + S2 - 2 sqrt(S1 S2))
    assert fd(a, b) == pytest.approx(expected, rel=0.05)


def test_kid_is_near_zero_for_one_distribution_and_positive_for_two():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(300, 8)), rng.normal(size=(300, 8))
    same = abs(kid(a, b, subsets=10, subset_size=200))
    shifted = kid(a, b + 0.3, subsets=10, subset_size=200)
    assert same < 0.1 * shifted < kid(a, b + 1.0, subsets=10, subset_size=200)


def test_probe_separates_separable_classes():
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(-2, 1, (50, 4)), rng.normal(2, 1, (50, 4))])
    y = np.array([0] * 50 + [1] * 50)
    probe = train_probe(x, y, 2)
    assert min(probe_accuracy(probe, x, y, 2)) > 0.95


def test_probe_confusions_name_the_class_taken_instead():
    rng = np.random.default_rng(4)
    centres = np.array([[-4.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    x = np.concatenate([rng.normal(c, 0.5, (40, 2)) for c in centres])
    probe = train_probe(x, np.repeat([0, 1, 2], 40), 3)
    # "Generated" class 0 drawn three quarters from cluster 2, a quarter from its own; class 1 true; no class 2.
    fake = np.concatenate([rng.normal(centres[2], 0.5, (30, 2)), rng.normal(centres[0], 0.5, (10, 2)),
                           rng.normal(centres[1], 0.5, (20, 2))])
    labels = np.array([0] * 40 + [1] * 20)
    confused = probe_confusions(probe, fake, labels, 3)
    assert confused[0] == (2, pytest.approx(0.75))
    assert confused[1] is None and confused[2] is None


def test_feature_network_recognises_a_cat():
    skimage_data = pytest.importorskip("skimage.data")
    net = load_efficientnet_lite0()
    cat = torch.from_numpy(skimage_data.chelsea().copy()).permute(2, 0, 1)[None].float() / 255
    cat = torch.nn.functional.interpolate(cat, size=(224, 224), mode="bilinear", antialias=True)
    assert net(cat, logits=True).argmax().item() in range(281, 286)  # ImageNet's domestic cats


def test_eval_command_writes_figures(tmp_path, capsys):
    data = make_image_folder(tmp_path / "data", classes=["circles", "squares", "stripes"], per_class=20)
    files = sorted(p.relative_to(data).as_posix() for p in data.rglob("img1*.png"))
    (data / "dataset.json").write_text(json.dumps({"heldout": {"files": files}}))
    root = tmp_path / "ck"
    make_conditional(root, "c")
    assert main(["eval", "c", "--n", "30", "--data", str(data), "--checkpoints", str(root), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["fd"] > 0 and result["fd_floor_heldout_halves"] >= 0
    assert set(result["probe"]) == {"circles", "squares", "stripes"}
    at_app = result["psi_0.8"]  # the same seeds at the app's starting truncation
    assert set(at_app["probe"]) == set(result["probe"]) and at_app["fd"] != result["fd"]
    assert at_app["probe_min_ratio"] == min(row["ratio"] for row in at_app["probe"].values())
    mistaken = [row["mistaken_for"] for row in result["probe"].values() if row["mistaken_for"]]
    assert mistaken and all(m["class"] in result["probe"] and 0 < m["share"] <= 1 for m in mistaken)
    assert Registry(root).spec("c").raw["metrics"]["fd"] == result["fd"]


def test_eval_counts_merged_class_folders_as_the_class_the_model_learned(tmp_path, capsys):
    data = make_image_folder(tmp_path / "data", classes=["circles", "rings", "squares", "stripes"], per_class=20)
    files = sorted(p.relative_to(data).as_posix() for p in data.rglob("img1*.png"))  # 11 per folder
    (data / "dataset.json").write_text(json.dumps({"heldout": {"files": files}}))
    root = tmp_path / "ck"
    spec_file = make_conditional(root, "c") / "studio.json"
    spec_file.write_text(json.dumps({**json.loads(spec_file.read_text()), "data": {"merged": {"rings": "circles"}}}))
    assert main(["eval", "c", "--n", "30", "--data", str(data), "--checkpoints", str(root), "--json", "--no-save"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_heldout"] == 44  # 33 without the rings
    assert set(result["probe"]) == {"circles", "squares", "stripes"}
    # Which folder the merged class's pictures look like, real and generated: shares of each, and of neither.
    circles = result["merged_classes"]["circles"]
    assert set(circles) == {"heldout_true", "heldout", "generated", "generated_psi_0.8"}
    assert circles["heldout_true"] == {"circles": 0.5, "rings": 0.5, "else": 0.0}
    assert all(set(shares) == {"circles", "rings", "else"} and abs(sum(shares.values()) - 1) < 0.01
               for shares in circles.values())
    assert list(result["merged_classes"]) == ["circles"]  # squares and stripes each come from one folder
    assert "merged class circles, read by a probe of its folders: real held-out circles" in report("c", result)


def test_distinct_cells_counts_repeats():
    from studio.evaluation.evaluate import distinct_cells

    rng = np.random.default_rng(0)
    real = rng.normal(size=(64, 16))
    varied = rng.normal(size=(64, 16))
    assert distinct_cells(varied, real)[0] >= 60
    collapsed = np.repeat(rng.normal(size=(8, 16)), 8, axis=0) + rng.normal(scale=1e-3, size=(64, 16))
    assert distinct_cells(collapsed, real)[0] == 0


def test_eval_of_a_sketch_model(tmp_path, capsys):
    from .conftest import make_sketch
    from .test_train_pix2pix import make_pairs

    data = make_pairs(tmp_path / "pairs", n=12, size=64)
    (data / "dataset.json").write_text(json.dumps({"heldout": {"names": [f"p{i:02d}" for i in range(6)]}}))
    root = tmp_path / "ck"
    make_sketch(root)
    assert main(["eval", "tiny-sketch", "--data", str(data), "--checkpoints", str(root), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_heldout"] == 6 and 0 < result["l1"] <= 2 and result["psnr_db"] > 0
    assert result["fd"] > 0 and result["fd_app_input"] > 0


def test_eval_measures_truncation_towards_the_mean_and_a_cluster(tmp_path, capsys):
    data = make_image_folder(tmp_path / "data", classes=["circles", "squares"], per_class=40, size=32)
    files = sorted(p.relative_to(data).as_posix() for p in data.rglob("img1*.png"))
    (data / "dataset.json").write_text(json.dumps({"heldout": {"files": files}}))
    root = tmp_path / "ck"
    make_style(root)
    args = ["--n", "30", "--data", str(data), "--checkpoints", str(root)]
    assert main(["eval", "tiny-style", *args, "--json", "--truncation", "0.5", "0"]) == 0
    table = json.loads(capsys.readouterr().out)["truncation"]
    assert list(table) == ["0.5", "0.0"] and all(set(row) == {"mean", "cluster"} for row in table.values())
    assert all(0 <= f["grid_distinct_of_64"] <= 64 and f["fd"] > 0 for row in table.values() for f in row.values())
    assert all(row["mean"]["fd"] != row["cluster"]["fd"] for row in table.values())
    stored = Registry(root).spec("tiny-style").raw["metrics"]
    assert "at truncation psi 0.5: towards the mean: FD" in report("tiny-style", stored)
    make_conditional(root, "c")
    assert main(["eval", "c", *args, "--truncation", "0.5"]) == 2
    assert "--truncation measures an unconditional style-based model" in capsys.readouterr().err
