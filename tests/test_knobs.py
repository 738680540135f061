"""Settings declared once (studio/knobs.py): per-recipe defaults, checks, the flags made from
them, and a new training knob that is a single declaration."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import pytest

from studio import StudioError
from studio.knobs import add_flags, knob, knobs
from studio.tasks.style.settings import StyleSettings
from studio.train.recipes import CONFIGS, GanConfig, Pix2PixConfig, added_later, bookkeeping


def test_recipe_defaults_fill_what_is_not_given():
    studio, reference = GanConfig(data="d", name="n"), GanConfig(data="d", name="n", recipe="reference", width=16)
    assert (studio.width, studio.z_dim, studio.d_norm, studio.ema_kimg) == (32, 128, "sn", 10.0)
    assert (reference.width, reference.z_dim, reference.d_norm, reference.ema_kimg) == (16, 100, "bn", 0.0)
    assert Pix2PixConfig(data="d", name="n", recipe="reference").dropout == 0.5


@pytest.mark.parametrize("config,kw,message", [
    (GanConfig, {"recipe": "fancy"}, "recipe must be one of studio, reference"),
    (GanConfig, {"width": 0}, "Width must be a whole number from 1"),
    (GanConfig, {"batch": 2.5}, "Batch must be a whole number"),
    (GanConfig, {"augment": "colour"}, "Unknown augmentation colour"),
    (GanConfig, {"class_weights": {"a": 2.0}}, "needs a conditional model"),
    (Pix2PixConfig, {"augment": "flip,spin"}, "Unknown pix2pix augmentation spin"),
])
def test_bad_settings_name_the_setting(config, kw, message):
    with pytest.raises(StudioError, match=message):
        config(data="d", name="n", **kw)


def test_every_knob_has_help_and_one_flag():
    for config in {*CONFIGS.values(), StyleSettings}:
        names = [k.flag or name for name, k in knobs(config) if k.flag != ""]
        assert len(names) == len(set(names)), config
        assert all(k.help for _, k in knobs(config)), config


def test_a_new_knob_is_one_declaration():
    @dataclass
    class WithWarmth(GanConfig):
        warmth: float = knob(0.25, "how warm the pictures are", lo=0, hi=1, what="Warmth", old=0.0)

    parser = argparse.ArgumentParser()
    add_flags(parser, WithWarmth)
    args = vars(parser.parse_args(["--data", "d", "--name", "n", "--warmth", "0.5"]))
    cfg = WithWarmth(**args)
    assert cfg.warmth == 0.5 and cfg.learned()["warmth"] == 0.5  # recorded in the checkpoint's recipe
    assert added_later(WithWarmth)["warmth"] == 0.0 and "warmth" not in bookkeeping(WithWarmth)
    assert "how warm the pictures are (default: 0.25)" in " ".join(parser.format_help().split())
    with pytest.raises(StudioError, match="Warmth must be a number from 0 to 1"):
        WithWarmth(data="d", name="n", warmth=2)


def test_flags_keep_defaults_out_unless_given():
    parser = argparse.ArgumentParser()
    add_flags(parser, StyleSettings, defaults={"size": 384})
    args = vars(parser.parse_args(["--no-multiscale", "--no-match-colours"]))
    assert args == {"size": 384, "multiscale": False, "match_colours": False}
    assert StyleSettings(**args).steps == StyleSettings().steps
