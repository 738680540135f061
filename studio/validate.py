"""The one place user-supplied numbers are checked: each check returns the clean value
or raises a StudioError that names the setting and its range."""

from __future__ import annotations

import math
from typing import Any

from .errors import StudioError

MAX_SEED = 2**32 - 1


def number(what: str, value: Any, lo: float, hi: float, integer: bool = False) -> float:
    """`value` as a finite number in [lo, hi] (an int if `integer`), else a StudioError saying so."""
    kind = "a whole number" if integer else "a number"
    bounds = f"from {_show(lo)} to {_show(hi)}" if math.isfinite(hi) else f"of at least {_show(lo)}"
    if lo == 0 and not math.isfinite(hi):
        bounds = "that is finite and not negative"
    if isinstance(value, bool) or value is None or value == "":
        raise StudioError(f"{what} must be {kind} {bounds}, got {value!r}.")
    try:
        x = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise StudioError(f"{what} must be {kind} {bounds}, got {value!r}.") from None
    if not math.isfinite(x) or not lo <= x <= hi or (integer and x != int(x)):
        raise StudioError(f"{what} must be {kind} {bounds}, got {value!r}.")
    if integer:  # exact for big integers, which float() would round
        return int(value) if isinstance(value, int) else int(x)
    return x


def _show(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def whole(what: str, value: Any, lo: float, hi: float) -> int:
    """`value` as an int in [lo, hi]."""
    return int(number(what, value, lo, hi, integer=True))


def seed(value: Any, what: str = "Seed") -> int:
    """An integer seed in [0, 2**32 - 1]."""
    return whole(what, value, 0, MAX_SEED)


def unit(what: str, value: Any) -> float:
    """A finite number in [0, 1]."""
    return number(what, value, 0.0, 1.0)


def weight(what: str, value: Any) -> float:
    """A finite number of at least 0."""
    return number(what, value, 0.0, math.inf)
