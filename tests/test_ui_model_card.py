"""The app's model card and `studio eval`'s report read stored figures through one formatter."""

import pytest

from studio import Registry
from studio.checkpoints.format import update_metrics
from studio.evaluation import report as formatter
from studio.ui.widgets import model_info

from .conftest import make_conditional, make_latent, make_sketch

SPACE = "EfficientNet-Lite0 (ImageNet) pooled 1280-d, 224 px; not Inception FID"
GAN = {"feature_space": SPACE, "n_generated": 2000, "n_heldout": 533, "n_train_sample": 2000, "fd": 124.926,
       "fd_floor_train_vs_heldout": 49.484, "fd_floor_heldout_halves": 82.131, "kid": 0.08478,
       "kid_floor_train_vs_heldout": 0.00201, "grid_distinct_of_64": 61, "grid_repeat_threshold": 7.742}
PROBE = {"circles": {"real_heldout": 0.9, "generated": 0.8, "ratio": 0.889,
                     "mistaken_for": {"class": "squares", "share": 0.1}}}
CONDITIONAL = {**GAN, "probe": PROBE, "probe_min_ratio": 0.889,
               "psi_0.8": {"fd": 120.5, "probe": PROBE, "probe_min_ratio": 0.95}}
PIX2PIX = {"feature_space": SPACE, "n_heldout": 236, "l1": 0.114, "psnr_db": 19.12, "l1_floor_white": 0.3521,
           "fd": 88.409, "fd_app_input": 112.706, "fd_floor_train_vs_heldout": 64.62}


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    root = tmp_path_factory.mktemp("cards")
    for make, metrics in ((make_latent, GAN), (make_conditional, CONDITIONAL), (make_sketch, PIX2PIX)):
        update_metrics(make(root), metrics)
    return Registry(root)


@pytest.mark.parametrize("name", ["tiny-latent", "tiny-classes", "tiny-sketch"])
def test_card_and_report_show_the_same_figures_beside_their_floors(registry, name):
    metrics = registry.spec(name).raw["metrics"]
    card, printed = model_info(registry.spec(name)), formatter.report(name, metrics)
    figures = formatter.figure_lines(metrics)
    assert len(figures) >= 3 and all("?" not in line for line in figures)
    assert formatter.summary(metrics) in card and formatter.summary(metrics) in printed
    for line in figures:
        assert line in printed and formatter.as_prose(line) in card
    assert SPACE in card and SPACE in printed  # the feature space is named
    assert "floor: train vs held-out" in card
    assert ("all-white picture" if name == "tiny-sketch" else "held-out halves") in card


def test_both_use_the_one_formatter(registry, monkeypatch):
    monkeypatch.setattr(formatter, "figure_lines", lambda m: ["FIGURES FROM THE ONE FORMATTER"])
    assert "FIGURES FROM THE ONE FORMATTER" in model_info(registry.spec("tiny-latent"))
    assert "FIGURES FROM THE ONE FORMATTER" in formatter.report("tiny-latent", GAN)


def test_the_class_probe_summary_and_details():
    printed = formatter.report("c", CONDITIONAL)
    assert "class probe on generated pictures: at worst 89% of its accuracy on real held-out ones; at psi 0.8 95%" \
        in printed
    assert "probe circles" in printed and "else mostly squares (10%)" in printed  # details: the terminal only
    assert "probe circles" not in "\n".join(formatter.card_lines(CONDITIONAL))


def test_inception_figures_from_studio_eval_inception():
    inception = {"feature_space": "InceptionV3", "fid": 40.5, "fid_floor_train_vs_heldout": 10.25, "is_mean": 3.5,
                 "is_std": 0.25, "is_heldout_real": 4.125}
    printed = formatter.report("g", {**GAN, "inception": inception})
    assert "  FID     40.500   floor: train vs held-out 10.250 (InceptionV3)" in printed
    assert "  IS       3.500   ± 0.250; the held-out real pictures 4.125" in printed
    card = formatter.card_lines({**GAN, "inception": inception})
    assert "FID 40.500 — floor: train vs held-out 10.250 (InceptionV3)" in card
    assert "IS 3.500 — ± 0.250; the held-out real pictures 4.125" in card


def test_older_or_partial_figures_still_make_a_card():
    older = {"fd": 12.5, "fd_floor_train_vs_heldout": 3.0}
    lines = formatter.card_lines(older)
    assert lines[0] == "Measured by `studio eval`: ? generated vs ? held-out real images"
    assert lines[1:] == ["FD 12.500 — floor: train vs held-out 3.000"]
    assert formatter.card_lines({}) == []
    assert formatter.card_lines({"something": 1}) == ["Metrics: something 1"]


def test_shipped_checkpoints_cards():
    for spec in Registry().list():
        metrics = spec.raw.get("metrics") or {}
        card = model_info(spec)
        assert all(formatter.as_prose(line) in card for line in formatter.figure_lines(metrics)), spec.name


def test_the_card_says_how_a_gan_was_trained_and_in_which_space_it_was_measured(tmp_path):
    from studio import save_checkpoint
    from studio.models import build

    recipe = {"name": "studio", "loss": "hinge", "r1": 0.5, "lr": 2e-4, "lr_schedule": "cosine", "lr_warmup": 5000,
              "optimizer": "Adam"}
    save_checkpoint(build("dcgan", {"z_dim": 8, "width": 4}), "hinged",
                    {"task": "latent", "image_size": 64, "recipe": recipe, "metrics": GAN}, root=tmp_path)
    card = model_info(Registry(tmp_path).spec("hinged"))
    assert "Trained with: recipe `studio`, hinge loss; R1 gamma 0.5; Adam 0.0002, cosine schedule after a " \
           "5,000-image warm-up" in card
    assert "EfficientNet-Lite0" in card
