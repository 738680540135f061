"""Settings declared once: a dataclass field per knob, with its default, help text, range
and CLI flag. `check_knobs` fills per-recipe defaults and checks ranges and choices;
`add_flags` makes the command-line flags. Used by the training recipes and the
style-transfer settings.
"""

from __future__ import annotations

import argparse
import math
import typing
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Callable

from . import validate
from .errors import StudioError

UNSET = object()  # Knob.old for settings every saved run has


@dataclass(frozen=True)
class Knob:
    """How one config field is offered, checked and recorded."""

    help: str
    per_recipe: dict[str, Any] | None = None  # the field's default is None: "the recipe's", filled from here
    flag: str | None = None  # the CLI flag without '--'; None: from the field name; "": no flag
    parse: Callable[[str], Any] | None = None  # CLI text -> value, for types argparse cannot convert
    choices: tuple[Any, ...] | None = None
    lo: float | None = None  # checked range, with `what` naming the setting in the message
    hi: float = math.inf
    what: str = ""
    old: Any = UNSET  # the value runs saved before this knob existed trained with (an off switch)
    learns: bool = True  # False: it says how a run is driven (paths, cadence), not what it learns
    metavar: str | None = None


def knob(default: Any = MISSING, help: str = "", **kw: Any) -> Any:
    """A dataclass field described by a Knob; mutable defaults are copied per instance."""
    meta = {"knob": Knob(help, **kw)}
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


def knobs(config: type | object) -> list[tuple[str, Knob]]:
    return [(f.name, f.metadata["knob"]) for f in fields(config) if "knob" in f.metadata]


def flag(name: str, k: Knob) -> str:
    """The command-line flag of knob `name` (`--noise-from`), or the name itself for a knob without one."""
    return "--" + (k.flag or name.replace("_", "-")) if k.flag != "" else name


def check_knobs(settings: object, recipe: str | None = None) -> None:
    """Fill each None knob that has per-recipe defaults with `recipe`'s, then check choices and ranges
    (works on frozen dataclasses too)."""
    for name, k in knobs(settings):
        value = getattr(settings, name)
        if value is None and k.per_recipe is not None:
            value = k.per_recipe.get(recipe)
        if k.choices is not None and value is not None and value not in k.choices:
            raise StudioError(f"{k.what or name} must be one of {', '.join(map(str, k.choices))}, not {value!r}.")
        if k.lo is not None and value is not None:
            value = validate.number(k.what or name, value, k.lo, k.hi, integer=field_type(type(settings), name) is int)
        object.__setattr__(settings, name, value)


def int_list(text: str) -> tuple[int, ...]:
    """'1000,2000' -> (1000, 2000)."""
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole numbers separated by commas, got {text!r}") from None


def fields_of(config: type) -> dict[str, Any]:
    return {f.name: f for f in fields(config)}


def field_type(config: type, name: str) -> Any:
    """The plain type of a field (int for `int | None`)."""
    hint = typing.get_type_hints(config)[name]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if args and typing.get_origin(hint) is not dict else hint


def _default_text(config: type, name: str, k: Knob, default: Any) -> str:
    if k.per_recipe is not None:
        return "default: " + ", ".join(f"{r} {v!r}" if isinstance(v, str) else f"{r} {v}" for r, v in k.per_recipe.items())
    if default in (MISSING, None, (), "") or field_type(config, name) is bool:
        return ""
    return f"default: {default}"


def _flag_options(config: type, name: str, k: Knob, default: Any) -> dict[str, Any]:
    """argparse options for one knob; `default` is what leaving the flag out gives."""
    spec = fields_of(config)[name]
    required = spec.default is MISSING and spec.default_factory is MISSING
    text = _default_text(config, name, k, default)
    options: dict[str, Any] = {"dest": name, "required": required, "help": k.help + (f" ({text})" if text else "")}
    kind = field_type(config, name)
    if kind is bool:  # a flag flips the default; with no default (None: decided later) both ways are offered
        options["action"] = argparse.BooleanOptionalAction if default is None else (
            "store_false" if default else "store_true")
    else:
        options.update(type=k.parse or kind, metavar=k.metavar)
        if k.choices is not None:
            options["choices"] = k.choices
    return options


def add_flags(parser: argparse.ArgumentParser, config: type, defaults: dict[str, Any] | None = None) -> None:
    """One flag per knob of `config`. A flag left out keeps the dataclass default (argparse.SUPPRESS)
    unless `defaults` gives this command line its own."""
    defaults = defaults or {}
    for name, k in knobs(config):
        if k.flag == "":
            continue
        own = name in defaults
        options = _flag_options(config, name, k, defaults[name] if own else fields_of(config)[name].default)
        options["default"] = defaults[name] if own else argparse.SUPPRESS
        parser.add_argument(flag(name, k), **options)
