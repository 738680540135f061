"""The GAN trainer on a tiny data set made here: checkpoints, resume, bad files."""

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from studio import Registry, StudioError, sample
from studio.train import gan
from studio.train.gan import GanConfig, class_draw_weights, mode_seeking_term, train_gan, weigh_classes
from studio.train.run import Run

from .conftest import make_image_folder


def config(tmp_path, data, name, conditional=False, **kw):
    return GanConfig(data=str(data), name=name, conditional=conditional, batch=8, width=4, z_dim=8,
                     checkpoints=str(tmp_path / "ck"), run_dir=str(tmp_path / "runs" / name), threads=1,
                     **{"monitor": False, **kw})


def test_dcgan_trains_and_registry_loads(tmp_path):
    data = make_image_folder(tmp_path / "flat")
    train_gan(config(tmp_path, data, "flat"), max_images=16)
    registry = Registry(tmp_path / "ck")
    spec = registry.spec("flat")
    assert spec.task == "latent" and spec.raw["training"]["images_seen"] == 16
    assert spec.raw["data"]["train_images"] == 6  # the broken file was skipped
    assert spec.raw["recipe"]["class_loss"] == 0.0  # no classes, no class loss
    assert sample(registry.get("flat"), [1, 2])[0].size == (64, 64)
    run = tmp_path / "runs" / "flat"
    assert (run / "losses.jsonl").exists() and list(run.glob("samples-*.png"))


def test_cgan_trains_with_classes(tmp_path):
    data = make_image_folder(tmp_path / "classes", classes=["blocks", "lines"])
    train_gan(config(tmp_path, data, "cond", conditional=True), max_images=16)
    registry = Registry(tmp_path / "ck")
    assert registry.spec("cond").labels == ("blocks", "lines")
    recipe = registry.spec("cond").raw["recipe"]  # the studio recipe's default class loss
    assert recipe["class_loss"] == 1.0 and recipe["d_arch_args"]["classifier"] is True
    assert len(sample(registry.get("cond"), [1], classes={"blocks": 0.5, "lines": 0.5})) == 1


def test_class_loss_teaches_the_discriminator_the_classes(tmp_path):
    data = make_image_folder(tmp_path / "classes", classes=["blocks", "lines"])
    train_gan(config(tmp_path, data, "ac", conditional=True, class_loss=1.0), max_images=8 * 160)
    raw = Registry(tmp_path / "ck").spec("ac").raw
    assert raw["recipe"]["class_loss"] == 1.0 and raw["recipe"]["d_arch_args"]["classifier"] is True
    logs = [json.loads(line) for line in (tmp_path / "runs" / "ac" / "losses.jsonl").read_text().splitlines()]
    cls = [row["loss_cls_real"] for row in logs]  # means over 20 steps
    assert len(cls) == 8 and all("loss_cls_fake" in row for row in logs)
    # Two classes start at ln 2 = 0.69; blocks vs lines is easy to tell apart.
    assert sum(cls[-2:]) / 2 < 0.6 * cls[0], cls


def test_projection_discriminator_classifier_head():
    from studio.models import build

    d = build("cgan-d", {"n_classes": 3, "width": 4, "image_size": 64, "classifier": True}).eval()  # fixed SN
    x, y = torch.randn(2, 3, 64, 64), torch.eye(3)[:2]
    logit, classes, twin = d(x, y, with_classes=True)
    assert logit.shape == (2,) and classes.shape == (2, 3) and twin is None and torch.equal(d(x, y), logit)
    d = build("cgan-d", {"n_classes": 3, "width": 4, "image_size": 64, "classifier": True, "twin": True}).eval()
    logit, classes, twin = d(x, y, with_classes=True)
    assert twin.shape == (2, 3) and not torch.equal(twin, classes)  # a head of its own
    with pytest.raises(ValueError, match="without a classifier"):
        build("cgan-d", {"n_classes": 3, "width": 4, "image_size": 64})(x, y, with_classes=True)


def test_reference_recipe_ships_the_raw_generator(tmp_path):
    data = make_image_folder(tmp_path / "flat")
    train_gan(config(tmp_path, data, "ref", recipe="reference"), max_images=8)
    raw = Registry(tmp_path / "ck").spec("ref").raw
    assert raw["recipe"]["name"] == "reference" and raw["recipe"]["d_norm"] == "bn" and raw["recipe"]["ema_kimg"] == 0


def test_resume_takes_exactly_the_same_steps(tmp_path):
    data = make_image_folder(tmp_path / "flat")
    train_gan(config(tmp_path, data, "straight"), max_images=32)
    train_gan(config(tmp_path, data, "interrupted"), max_images=16)
    state = json.loads((tmp_path / "runs" / "interrupted" / "state.json").read_text())
    assert state["info"]["step"] == 2
    train_gan(config(tmp_path, data, "interrupted"), resume=True, max_images=32)
    a = load_file(str(tmp_path / "runs" / "straight" / "state.safetensors"))
    b = load_file(str(tmp_path / "runs" / "interrupted" / "state.safetensors"))
    assert a.keys() == b.keys()
    assert any(k.startswith("opt_g.state.") for k in a)
    for key in a:
        if key != "rng.torch":
            assert torch.equal(a[key], b[key]), key


def test_resuming_with_other_settings_is_recorded(tmp_path):
    data = make_image_folder(tmp_path / "classes", classes=["blocks", "lines"])
    train_gan(config(tmp_path, data, "stronger", conditional=True), max_images=16)
    train_gan(config(tmp_path, data, "stronger", conditional=True, class_loss=3.0, save_every_s=60.0), resume=True,
              max_images=32)
    raw = Registry(tmp_path / "ck").spec("stronger").raw
    assert raw["recipe"]["class_loss"] == 3.0
    assert raw["training"]["changes"] == [{"images_seen": 16, "class_loss": [1.0, 3.0]}]  # save_every_s: bookkeeping
    train_gan(config(tmp_path, data, "stronger", conditional=True, class_loss=3.0), resume=True, max_images=40)
    assert len(Registry(tmp_path / "ck").spec("stronger").raw["training"]["changes"]) == 1  # nothing new


def test_a_branch_goes_on_from_another_runs_state_and_leaves_it_as_it_was(tmp_path):
    data = make_image_folder(tmp_path / "classes", classes=["blocks", "lines"])
    train_gan(config(tmp_path, data, "trunk", conditional=True), max_images=160)  # 20 steps: one loss-log row
    trunk = tmp_path / "runs" / "trunk"
    saved = {f: (trunk / f).read_bytes() for f in ("state.json", "state.safetensors", "losses.jsonl")}
    train_gan(config(tmp_path, data, "fork", conditional=True, class_loss=3.0, branch_from=str(trunk)), max_images=176)
    assert {f: (trunk / f).read_bytes() for f in saved} == saved
    training = Registry(tmp_path / "ck").spec("fork").raw["training"]
    assert training["branched_from"] == {"run": "trunk", "images_seen": 160}
    assert training["changes"] == [{"images_seen": 160, "class_loss": [1.0, 3.0]}]
    assert (tmp_path / "runs" / "fork" / "losses.jsonl").read_bytes() == saved["losses.jsonl"] != b""
    # The same steps as resuming the trunk itself with the new setting.
    train_gan(config(tmp_path, data, "trunk", conditional=True, class_loss=3.0), resume=True, max_images=176)
    a = load_file(str(trunk / "state.safetensors"))
    b = load_file(str(tmp_path / "runs" / "fork" / "state.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a if k != "rng.torch")
    with pytest.raises(StudioError, match="another --name"):
        train_gan(config(tmp_path, data, "fork", conditional=True, branch_from=str(trunk)), max_images=200)
    with pytest.raises(StudioError, match="leave out --resume"):
        train_gan(config(tmp_path, data, "fork", conditional=True, branch_from=str(trunk)), resume=True, max_images=200)
    with pytest.raises(StudioError, match="no saved run state"):
        train_gan(config(tmp_path, data, "twig", conditional=True, branch_from=str(tmp_path / "nothing")),
                  max_images=200)
    assert not (tmp_path / "runs" / "twig").exists()


def test_a_run_goes_on_with_two_classes_merged_keeping_the_kept_classes_weights(tmp_path):
    data = make_image_folder(tmp_path / "classes", classes=["blocks", "dots", "lines"])
    train_gan(config(tmp_path, data, "three", conditional=True), max_images=16)
    three = load_file(str(tmp_path / "runs" / "three" / "state.safetensors"))
    merged = {"blocks": "lines"}  # -> classes dots, lines: saved indices 1, 2
    train_gan(config(tmp_path, data, "two", conditional=True, merge_classes=merged, class_balance=1.0,
                     branch_from=str(tmp_path / "runs" / "three")), max_images=24)
    spec = Registry(tmp_path / "ck").spec("two")
    assert spec.labels == ("dots", "lines") and spec.raw["data"]["merged"] == merged
    assert spec.raw["data"]["train_images"] == 18  # the pictures of all three folders
    assert spec.raw["training"]["changes"] == [{"images_seen": 16, "merge_classes": [{}, merged],
                                                "class_balance": [0.0, 1.0]}]
    # Exactly the kept classes' rows of every class-indexed weight and optimiser moment: load
    # the saved state into two-class models as the branch did, and write it out again.
    from studio.models import build
    from studio.train.state import load_state, save_state

    g = build("cgan", {"n_classes": 2, "z_dim": 8, "width": 4})
    d = build("cgan-d", {"n_classes": 2, "width": 4, "classifier": True})
    modules = {"g": g, "d": d, "g_ema": build("cgan", {"n_classes": 2, "z_dim": 8, "width": 4})}
    optimizers = {"opt_g": torch.optim.Adam(g.parameters()), "opt_d": torch.optim.Adam(d.parameters())}
    load_state(tmp_path / "runs" / "three" / "state", modules, optimizers, keep_classes=[1, 2])
    save_state(tmp_path / "again", modules, optimizers, {})
    two = load_file(str(tmp_path / "again.safetensors"))
    assert two.keys() == three.keys()
    changed = [k for k in two if two[k].shape != three[k].shape]
    assert {"g.norms.0.gain", "g_ema.norms.0.bias", "d.classifier.weight", "d.embed.weight_orig", "d.embed.weight_v"
            } <= set(changed) and sum(k.startswith("opt_") for k in changed) >= 8  # and their moments
    for key in two:
        if key in changed:  # classes along dim 0 (G's norms, D's class head) or 1 (D's projection)
            dim = next(i for i, (a, b) in enumerate(zip(two[key].shape, three[key].shape)) if a != b)
            assert torch.equal(two[key], three[key].index_select(dim, torch.tensor([1, 2]))), key
        elif key != "rng.torch":
            assert torch.equal(two[key], three[key]), key
    # Split apart again: blocks starts from the rows of the class it was merged into (lines).
    assert Run._kept_classes(["dots", "lines"], ["blocks", "dots", "lines"], merged) == [1, 0, 1]
    train_gan(config(tmp_path, data, "split", conditional=True, class_balance=1.0,
                     branch_from=str(tmp_path / "runs" / "two")),
              max_images=32)
    spec = Registry(tmp_path / "ck").spec("split")
    assert spec.labels == ("blocks", "dots", "lines") and "merged" not in spec.raw["data"]
    assert spec.raw["training"]["changes"][-1] == {"images_seen": 24, "merge_classes": [merged, {}]}
    with pytest.raises(StudioError, match="no class waves"):  # neither saved nor merged: refused
        Run._kept_classes(["dots", "lines"], ["blocks", "dots", "lines", "waves"], merged)
    with pytest.raises(StudioError, match="no class blocks"):  # left out, not merged: cannot come back
        Run._kept_classes(["dots", "lines"], ["blocks", "dots", "lines"], {})


def test_refuses_to_overwrite_a_run_and_to_resume_nothing(tmp_path):
    data = make_image_folder(tmp_path / "flat")
    with pytest.raises(StudioError, match="no saved state"):
        train_gan(config(tmp_path, data, "x"), resume=True, max_images=8)
    train_gan(config(tmp_path, data, "y"), max_images=8)
    with pytest.raises(StudioError, match="--resume"):
        train_gan(config(tmp_path, data, "y"), max_images=8)


def test_conditional_needs_class_folders(tmp_path):
    data = make_image_folder(tmp_path / "flat")
    with pytest.raises(StudioError, match="two class sub-folders"):
        train_gan(config(tmp_path, data, "c", conditional=True), max_images=8)


@pytest.mark.slow
def test_two_processes_under_torchrun(tmp_path):
    """DistributedDataParallel on the CPU (gloo): both ranks train, rank 0 writes."""
    import shutil
    import subprocess
    import sys

    data = make_image_folder(tmp_path / "flat")
    torchrun = shutil.which("torchrun") or str(Path(sys.executable).parent / "torchrun")
    cmd = [torchrun, "--nproc_per_node", "2", "--master_port", "29517", "-m", "studio", "train", "dcgan",
           "--data", str(data), "--name", "ddp", "--width", "4", "--z-dim", "8", "--batch", "4", "--max-images", "32",
           "--threads", "1", "--checkpoints", str(tmp_path / "ck"), "--run-dir", str(tmp_path / "run")]
    subprocess.run(cmd, check=True, timeout=300)
    spec = Registry(tmp_path / "ck").spec("ddp")
    assert spec.raw["training"]["processes"] == 2 and spec.raw["training"]["images_seen"] == 32


def test_snapshots_keep_the_checkpoint_at_given_images_seen(tmp_path):
    data = make_image_folder(tmp_path / "flat")
    train_gan(config(tmp_path, data, "snap", snapshots=(16,)), max_images=32)
    root = tmp_path / "runs" / "snap" / "snapshots" / "16"
    assert Registry(root).spec("snap").raw["training"]["images_seen"] == 16
    assert Registry(tmp_path / "ck").spec("snap").raw["training"]["images_seen"] == 32
    # A resumed run does not take a milestone it has already passed.
    train_gan(config(tmp_path, data, "snap", snapshots=(16, 40)), resume=True, max_images=48)
    assert Registry(root).spec("snap").raw["training"]["images_seen"] == 16
    assert Registry(root.parent / "40").spec("snap").raw["training"]["images_seen"] == 40


def test_init_from_a_checkpoint_continues_its_generator(tmp_path):
    data = make_image_folder(tmp_path / "flat")
    train_gan(config(tmp_path, data, "base"), max_images=16)
    base = tmp_path / "ck" / "base"
    train_gan(config(tmp_path, data, "tuned", init_from=str(base)), max_images=24)
    spec = Registry(tmp_path / "ck").spec("tuned")
    assert spec.raw["training"]["images_seen"] == 24
    assert spec.raw["training"]["init_from"] == {"checkpoint": "base", "images_seen": 16}
    with pytest.raises(StudioError, match="init-from"):
        train_gan(GanConfig(data=str(data), name="wide", batch=8, width=8, z_dim=8, checkpoints=str(tmp_path / "ck"),
                            run_dir=str(tmp_path / "runs" / "wide"), init_from=str(base)), max_images=8)


def test_d_warmup_trains_the_discriminator_alone_first(tmp_path):
    data = make_image_folder(tmp_path / "flat")
    train_gan(config(tmp_path, data, "base"), max_images=16)
    base = tmp_path / "ck" / "base"
    loaded = {k: v for k, v in load_file(str(base / "model.safetensors")).items()
              if "running_" not in k and "num_batches" not in k}  # weights, not BatchNorm statistics
    # 16 images of warm-up, in two sittings: the resume finishes it without being told again.
    train_gan(config(tmp_path, data, "warm", init_from=str(base), d_warmup=16, save_every_s=0), max_images=24)
    state = load_file(str(tmp_path / "runs" / "warm" / "state.safetensors"))
    for key, value in loaded.items():
        assert torch.equal(state[f"g.{key}"].half(), value), key  # G as loaded
    assert "opt_g.state.0.exp_avg" not in state  # no generator step taken
    train_gan(config(tmp_path, data, "warm", save_every_s=0), resume=True, max_images=40)
    state = load_file(str(tmp_path / "runs" / "warm" / "state.safetensors"))
    assert "opt_g.state.0.exp_avg" in state
    assert any(not torch.equal(state[f"g.{key}"].half(), value) for key, value in loaded.items())
    assert Registry(tmp_path / "ck").spec("warm").raw["training"]["init_from"] == {
        "checkpoint": "base", "images_seen": 16, "d_warmup": 16}
    for bad in ({"d_warmup": 8}, {"d_warmup": -1, "init_from": str(base)}):
        with pytest.raises(StudioError, match="d-warmup"):
            train_gan(config(tmp_path, data, "cold", **bad), max_images=8)


def test_class_balance_evens_out_the_classes_drawn():
    labels = torch.tensor([0] * 90 + [1] * 10)
    assert class_draw_weights(labels, 2, 0.0) is None  # the data's own mix: plain uniform draws
    for balance, share_of_small in ((1.0, 0.5), (0.5, 10**0.5 / (90**0.5 + 10**0.5))):
        w = class_draw_weights(labels, 2, balance)
        assert w[labels == 1].sum() / w.sum() == pytest.approx(share_of_small)
    with pytest.raises(StudioError, match="between 0 and 1"):
        class_draw_weights(labels, 2, 1.5)


def test_class_balance_evens_out_the_parts_of_a_merged_class():
    # class 1 merges a folder of 10 pictures ("fruit") into one of 30 ("food")
    labels = torch.tensor([0] * 90 + [1] * 10 + [1] * 30)
    folders = ["a"] * 90 + ["fruit"] * 10 + ["food"] * 30
    for balance, fruit_share in ((1.0, 0.5), (0.5, 10**0.5 / (10**0.5 + 30**0.5))):
        w = class_draw_weights(labels, 2, balance, folders)
        plain = class_draw_weights(labels, 2, balance)
        assert w[90:100].sum() / w[90:].sum() == pytest.approx(fruit_share)
        assert w[90:].sum() / w.sum() == pytest.approx(plain[90:].sum() / plain.sum())  # the class keeps its share
        assert torch.equal(w[:90], plain[:90])  # a class of one folder: the same weights, bit for bit
    assert class_draw_weights(labels, 2, 0.0, folders) is None


def test_class_weights_multiply_a_class_share_of_the_batches():
    labels = torch.tensor([0] * 90 + [1] * 10 + [2] * 50)
    classes = ["a", "fruit", "c"]
    even = class_draw_weights(labels, 3, 1.0)  # each class a third
    w = weigh_classes(even, labels, classes, {"fruit": 4.0})
    assert w[labels == 1].sum() / w.sum() == pytest.approx(4 / 6)
    assert w[labels == 0].sum() / w.sum() == pytest.approx(1 / 6)
    natural = weigh_classes(None, labels, classes, {"fruit": 2.0})  # on the data's own mix
    assert natural[labels == 1].sum() / natural.sum() == pytest.approx(20 / 160)
    assert weigh_classes(even, labels, classes, {}) is even
    for bad, message in (({"apples": 2.0}, "No class 'apples'"), ({"fruit": 0.0}, "above 0"),
                         ({"fruit": float("nan")}, "above 0")):
        with pytest.raises(StudioError, match=message):
            weigh_classes(even, labels, classes, bad)


def test_out_of_range_settings_are_refused_before_a_run_starts(tmp_path):
    data = make_image_folder(tmp_path / "classes", classes=["blocks", "lines"])
    for name, kw, message in (("a", {"class_balance": -0.5}, "from 0 to 1"), ("b", {"lr": 0.0}, "above 0"),
                              ("c", {"ema_kimg": -1.0}, "EMA half-life"),
                              ("d", {"class_weights": {"circles": 2.0}}, "No class 'circles'")):
        with pytest.raises(StudioError, match=message):
            train_gan(config(tmp_path, data, name, conditional=True, **kw), max_images=8)
        assert not (tmp_path / "runs" / name).exists()


def test_resuming_with_class_balance_a_new_learning_rate_and_a_longer_average(tmp_path):
    data = make_image_folder(tmp_path / "classes", classes=["blocks", "lines"])
    train_gan(config(tmp_path, data, "even", conditional=True), max_images=16)
    train_gan(config(tmp_path, data, "even", conditional=True, class_balance=1.0, lr=5e-5, ema_kimg=100.0),
              resume=True, max_images=32)
    raw = Registry(tmp_path / "ck").spec("even").raw
    assert raw["recipe"]["class_balance"] == 1.0 and raw["recipe"]["lr"] == 5e-5 and raw["recipe"]["ema_kimg"] == 100
    assert raw["training"]["changes"] == [{"images_seen": 16, "lr": [2e-4, 5e-5], "ema_kimg": [10.0, 100.0],
                                           "class_balance": [0.0, 1.0]}]
    state = json.loads((tmp_path / "runs" / "even" / "state.json").read_text())
    assert {g["lr"] for opt in state["optimizers"].values() for g in opt["param_groups"]} == {5e-5}


def test_resume_forgets_loss_rows_logged_after_the_last_save(tmp_path):
    data = make_image_folder(tmp_path / "flat")
    train_gan(config(tmp_path, data, "killed"), max_images=16)
    log = tmp_path / "runs" / "killed" / "losses.jsonl"
    saved_rows = log.read_text()
    # A run killed after its last save: rows for steps that the resumed run takes again, one cut short.
    log.write_text(saved_rows + json.dumps({"step": 99, "images": 792, "loss_d": 1.0}) + '\n{"step": 10')
    train_gan(config(tmp_path, data, "killed"), resume=True, max_images=160)  # logs a row at step 20
    assert [json.loads(row)["images"] for row in log.read_text().splitlines()] == [160]


def test_twin_classifier_can_be_added_to_a_resumed_run(tmp_path):
    data = make_image_folder(tmp_path / "classes", classes=["blocks", "lines"])
    train_gan(config(tmp_path, data, "tac", conditional=True), max_images=16)
    state_dir = tmp_path / "runs" / "tac"
    before = load_file(str(state_dir / "state.safetensors"))
    train_gan(config(tmp_path, data, "tac", conditional=True, twin_loss=1.0), resume=True, max_images=16 + 8 * 20)
    raw = Registry(tmp_path / "ck").spec("tac").raw
    assert raw["recipe"]["twin_loss"] == 1.0 and raw["recipe"]["d_arch_args"]["twin"] is True
    assert raw["training"]["changes"] == [{"images_seen": 16, "twin_loss": [0.0, 1.0]}]
    after = load_file(str(state_dir / "state.safetensors"))
    assert "d.twin.weight" not in before and "d.twin.weight" in after and "opt_twin.state.0.exp_avg" in after
    # D's own optimizer went on from its saved moments: 2 + 20 steps, not 20 afresh.
    assert after["opt_d.state.0.step"].item() == 22 and after["opt_twin.state.0.step"].item() == 20
    rows = [json.loads(line) for line in (state_dir / "losses.jsonl").read_text().splitlines()]
    assert "loss_twin" in rows[-1]
    # ... and taken away again: the saved twin head is left out.
    train_gan(config(tmp_path, data, "tac", conditional=True), resume=True, max_images=16 + 8 * 21)
    assert "d.twin.weight" not in load_file(str(state_dir / "state.safetensors"))


def test_a_twin_classifier_needs_a_class_loss(tmp_path):
    data = make_image_folder(tmp_path / "classes", classes=["blocks", "lines"])
    for name, kw in (("a", {"twin_loss": 1.0, "class_loss": 0.0}), ("b", {"twin_loss": -1.0})):
        with pytest.raises(StudioError, match="twin loss"):
            train_gan(config(tmp_path, data, name, conditional=True, **kw), max_images=8)
        assert not (tmp_path / "runs" / name).exists()


def test_mode_seeking_term_is_the_inverse_of_how_much_the_pairs_differ():
    z = torch.cat([torch.zeros(3, 4), torch.ones(3, 4)])  # halves 1 apart in every latent
    fake = torch.cat([torch.zeros(3, 3, 2, 2), torch.full((3, 3, 2, 2), 0.5)])
    assert mode_seeking_term(fake, z).item() == pytest.approx(2.0, rel=1e-4)
    assert mode_seeking_term(torch.zeros(6, 3, 2, 2), z).item() == pytest.approx(1e5)  # one picture: heavily penalised


def test_mode_seeking_pairs_latents_of_the_same_class(tmp_path, monkeypatch):
    data = make_image_folder(tmp_path / "classes", classes=["blocks", "lines"])
    labels_seen = []
    built = gan.build

    def spy(name, args):
        model = built(name, args)
        if name == "cgan":
            model.register_forward_pre_hook(lambda m, inputs: labels_seen.append(inputs[1]) if m.training else None)
        return model

    monkeypatch.setattr(gan, "build", spy)
    train_gan(config(tmp_path, data, "ms", conditional=True, mode_seeking=1.0), max_images=8 * 20)
    batches = [y for y in labels_seen if y.shape[0] == 8]
    assert len(batches) == 20 and all(torch.equal(y[:4], y[4:]) for y in batches)
    assert any(not torch.equal(y[0], y[1]) for y in batches)  # the pairs differ from each other
    raw = Registry(tmp_path / "ck").spec("ms").raw
    assert raw["recipe"]["mode_seeking"] == 1.0
    rows = [json.loads(line) for line in (tmp_path / "runs" / "ms" / "losses.jsonl").read_text().splitlines()]
    assert rows[-1]["loss_ms"] > 0
    with pytest.raises(StudioError, match="mode-seeking"):
        train_gan(config(tmp_path, data, "neg", conditional=True, mode_seeking=-1.0), max_images=8)
    assert not (tmp_path / "runs" / "neg").exists()


def test_switching_on_a_setting_that_an_older_state_lacks_is_recorded(tmp_path):
    data = make_image_folder(tmp_path / "classes", classes=["blocks", "lines"])
    train_gan(config(tmp_path, data, "old", conditional=True), max_images=16)
    state = tmp_path / "runs" / "old" / "state.json"
    meta = json.loads(state.read_text())
    del meta["info"]["config"]["mode_seeking"]  # saved before the setting existed
    state.write_text(json.dumps(meta))
    train_gan(config(tmp_path, data, "old", conditional=True, mode_seeking=1.0), resume=True, max_images=24)
    changes = Registry(tmp_path / "ck").spec("old").raw["training"]["changes"]
    assert changes == [{"images_seen": 16, "mode_seeking": [0.0, 1.0]}]


def test_bfloat16_autocast_only_where_it_is_fast(monkeypatch):
    from studio.train import distributed

    for amx in (False, True):
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda amx=amx: amx, raising=False)
        monkeypatch.setattr(distributed, "pick_device", lambda: torch.device("cpu"))
        assert distributed.setup(amp=True).amp is amx
        assert distributed.setup(amp=False).amp is False  # --fp32


def test_a_bfloat16_run_trains_and_ships_a_loadable_generator(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True, raising=False)
    data = make_image_folder(tmp_path / "classes", classes=["blocks", "lines"])
    train_gan(config(tmp_path, data, "bf16", conditional=True), max_images=8 * 20)  # one logged row
    registry = Registry(tmp_path / "ck")
    assert registry.spec("bf16").raw["training"]["bf16_autocast"] is True
    logs = [json.loads(line) for line in (tmp_path / "runs" / "bf16" / "losses.jsonl").read_text().splitlines()]
    assert len(logs) == 1 and all(torch.isfinite(torch.tensor(row[k])) for k in ("loss_d", "loss_g") for row in logs)
    image = sample(registry.get("bf16"), [3], classes="lines")[0]
    assert image.size == (64, 64)


def test_resuming_on_a_machine_with_another_precision_is_recorded(tmp_path, monkeypatch):
    from studio.train import distributed

    monkeypatch.setattr(distributed, "pick_device", lambda: torch.device("cpu"))  # a CPU with AMX, then without
    data = make_image_folder(tmp_path / "classes", classes=["blocks", "lines"])
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True, raising=False)
    train_gan(config(tmp_path, data, "moved", conditional=True), max_images=16)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)
    train_gan(config(tmp_path, data, "moved", conditional=True), resume=True, max_images=24)
    training = Registry(tmp_path / "ck").spec("moved").raw["training"]
    assert training["bf16_autocast"] is False
    assert training["changes"] == [{"images_seen": 16, "bf16_autocast": [True, False]}]
