"""Environment variables are read in one module (studio/settings.py) and documented; numbers
from users are checked by one module (studio/validate.py)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

import studio
from studio import StudioError, settings, validate

ROOT = Path(studio.__file__).resolve().parent


def test_only_settings_reads_studio_variables_and_the_readme_lists_them():
    readers = [p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*.py")
               if re.search(r"environ[^\n]*STUDIO_", p.read_text())]
    assert readers == []  # settings.py reads them through _get
    used = set(re.findall(r'"(STUDIO_[A-Z0-9_]+)"', (ROOT / "settings.py").read_text()))
    assert used == set(settings.VARIABLES)
    readme = (ROOT.parent / "README.md").read_text()
    assert [name for name in settings.VARIABLES if name not in readme] == []


def test_variables_are_read_when_asked(monkeypatch, tmp_path):
    monkeypatch.setenv("STUDIO_CHECKPOINTS", str(tmp_path))
    monkeypatch.setenv("STUDIO_QUEUE_SIZE", "5")
    assert settings.checkpoints_root() == tmp_path and settings.queue_size() == 5
    monkeypatch.setenv("STUDIO_CONCURRENCY", "two")
    with pytest.raises(StudioError, match="STUDIO_CONCURRENCY='two' must be a whole number"):
        settings.concurrency()


@pytest.mark.parametrize("value,ok", [(0, True), ("12", True), (2.0, True), (validate.MAX_SEED, True),
                                      (-1, False), (1.5, False), (math.nan, False), (True, False), (None, False),
                                      ("", False), ("x", False), (validate.MAX_SEED + 1, False), (10**20, False)])
def test_seed(value, ok):
    if ok:
        assert validate.seed(value) == int(float(value))
    else:
        with pytest.raises(StudioError, match="Seed must be a whole number from 0 to 4294967295"):
            validate.seed(value)


def test_numbers_name_their_setting_and_range():
    assert validate.unit("Truncation", "0.5") == 0.5
    with pytest.raises(StudioError, match="Truncation must be a number from 0 to 1, got 2"):
        validate.unit("Truncation", 2)
    with pytest.raises(StudioError, match="Class weight must be a number that is finite and not negative"):
        validate.weight("Class weight", math.inf)
    assert validate.whole("Frames", 2**53 + 1, 0, 2**60) == 2**53 + 1  # big integers stay exact
