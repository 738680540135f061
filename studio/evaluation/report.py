"""The one reader of the figures `studio eval` stores: each figure beside its floor (what
real pictures score against other real ones), in the feature space that measured it.

`report` is what `studio eval` prints and `card_lines` what the app's model card shows;
both take their figures from `figure_lines`, so the terminal and the card say the same
(the card without the terminal's column padding).
Stored figures may come from an older evaluation: a missing figure reads "?".
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..tasks.latent import DEFAULT_TRUNCATION

AT_APP_PSI = f"psi_{DEFAULT_TRUNCATION}"  # the key of the figures at the app's starting truncation


def _num(value: Any, spec: str) -> str:
    """A stored figure in format `spec`, or "?" when it is missing."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(value, spec)
    return "?"


def _is_pix2pix(m: dict) -> bool:
    """Whether `m` holds a sketch (pix2pix) model's figures rather than a GAN's."""
    return "psnr_db" in m or "l1" in m


def summary(m: dict) -> str:
    """What was compared with what, and in which feature space."""
    space = f" ({m['feature_space']})" if m.get("feature_space") else ""
    if _is_pix2pix(m):
        return f"{m.get('n_heldout', '?')} held-out pairs{space}"
    return f"{m.get('n_generated', '?')} generated vs {m.get('n_heldout', '?')} held-out real images{space}"


def _pix2pix_lines(m: dict) -> list[str]:
    """A sketch model's figures: L1 and PSNR on held-out pairs, FD of its outputs."""
    lines = [f"L1   {_num(m.get('l1'), '.4f')}   (an all-white picture: {_num(m.get('l1_floor_white'), '.4f')})",
             f"PSNR {_num(m.get('psnr_db'), '.2f')} dB"]
    if "fd" in m:
        lines.append(f"FD   {_num(m['fd'], '.3f')}   floor: train vs held-out "
                     f"{_num(m.get('fd_floor_train_vs_heldout'), '.3f')}")
    if "fd_app_input" in m:
        lines.append(f"FD   {_num(m['fd_app_input'], '.3f')}   with the sketches redrawn as the app does "
                     "(prepare_sketch)")
    if m.get("delta_e_cie76"):
        errors = ", ".join(f"{k} {_num(v, '.2f')}" for k, v in m["delta_e_cie76"].items())
        lines.append(f"Colour error inside the drawn regions (CIELAB delta E, hint dots from the target): {errors}")
    return lines


def _gan_lines(m: dict) -> list[str]:
    """A GAN's figures: FD, KID, distinct grid cells, FD at the app's truncation, the class probe."""
    floors = [f"train vs held-out {_num(m.get('fd_floor_train_vs_heldout'), '.3f')}"]
    if "fd_floor_heldout_halves" in m:
        floors.append(f"held-out halves {_num(m['fd_floor_heldout_halves'], '.3f')}")
    lines = [f"FD  {_num(m.get('fd'), '10.3f')}   floor: {', '.join(floors)}"]
    if "kid" in m:
        lines.append(f"KID {_num(m['kid'], '10.5f')}   floor: train vs held-out "
                     f"{_num(m.get('kid_floor_train_vs_heldout'), '.5f')}")
    lines += _inception_lines(m.get("inception") or {})
    if "grid_distinct_of_64" in m:
        lines.append(f"grid of seeds 0-63: {m['grid_distinct_of_64']} of 64 pictures distinct (no other cell "
                     f"closer than the closest two of 64 real pictures)")
    app = m.get(AT_APP_PSI) or {}
    if "fd" in app:
        lines.append(f"FD  {_num(app['fd'], '10.3f')}   at truncation psi {DEFAULT_TRUNCATION} (the app's default)")
    lines += _truncation_lines(m.get("truncation") or {})
    if m.get("probe_min_ratio") is not None:
        at_app = (f"; at psi {DEFAULT_TRUNCATION} {_num(app['probe_min_ratio'], '.0%')}"
                  if app.get("probe_min_ratio") is not None else "")
        lines.append(f"class probe on generated pictures: at worst {_num(m['probe_min_ratio'], '.0%')} of its "
                     f"accuracy on real held-out ones{at_app}")
    return lines


def _truncation_lines(table: dict) -> list[str]:
    """FD, KID and distinct grid cells at each measured psi, towards the mean w and the nearest cluster."""
    lines = []
    for psi, row in table.items():
        said = [f"towards {'the mean' if towards == 'mean' else 'a ' + towards}: FD {_num(f.get('fd'), '.3f')}, "
                f"KID {_num(f.get('kid'), '.5f')}, {_num(f.get('grid_distinct_of_64'), 'd')} of 64 distinct"
                for towards, f in row.items()]
        lines.append(f"at truncation psi {psi}: " + "; ".join(said))
    return lines


def _inception_lines(inc: dict) -> list[str]:
    """Inception FID beside its floor, and IS beside the held-out pictures' own (`studio eval --inception`)."""
    if "fid" not in inc:
        return []
    return [f"FID {_num(inc['fid'], '10.3f')}   floor: train vs held-out "
            f"{_num(inc.get('fid_floor_train_vs_heldout'), '.3f')} ({inc.get('feature_space', 'Inception')})",
            f"IS  {_num(inc.get('is_mean'), '10.3f')}   ± {_num(inc.get('is_std'), '.3f')}; the held-out real "
            f"pictures {_num(inc.get('is_heldout_real'), '.3f')}"]


def figure_lines(m: dict) -> list[str]:
    """One line per stored headline figure, each beside its floor; [] when none is known."""
    if _is_pix2pix(m):
        return _pix2pix_lines(m)
    return _gan_lines(m) if "fd" in m else []


def _probe_lines(m: dict) -> list[str]:
    """Per class: the probe's accuracy on real and generated pictures, and what it took them for."""
    app = m.get(AT_APP_PSI) or {}
    lines = []
    for cls, row in m.get("probe", {}).items():
        at_app = app.get("probe", {}).get(cls)
        lines.append(f"probe {cls:16s} real held-out {row['real_heldout']:.3f}  generated {row['generated']:.3f} "
                     f"(ratio {row['ratio']})" + (f", at psi {DEFAULT_TRUNCATION} {at_app['generated']:.3f} "
                                                  f"(ratio {at_app['ratio']})" if at_app else "")
                     + (f"; else mostly {row['mistaken_for']['class']} ({row['mistaken_for']['share']:.0%})"
                        if row.get("mistaken_for") else ""))
    return lines


def _merged_lines(m: dict) -> list[str]:
    """Per merged class: which of its source folders its real and generated pictures look like."""
    def read(shares: dict[str, float]) -> str:
        return ", ".join(f"{folder} {share:.0%}" for folder, share in shares.items())

    return [f"merged class {cls}, read by a probe of its folders: real held-out {read(row['heldout'])} "
            f"(truly {read(row['heldout_true'])}); generated {read(row['generated'])}; at psi "
            f"{DEFAULT_TRUNCATION} {read(row[f'generated_{AT_APP_PSI}'])}"
            for cls, row in m.get("merged_classes", {}).items()]


def report(name: str, result: dict) -> str:
    """What `studio eval` prints: the comparison, its figure lines, then the per-class details."""
    lines = figure_lines(result) + _probe_lines(result) + _merged_lines(result)
    return "\n".join([f"{name}: {summary(result)}", *("  " + line for line in lines)])


def as_prose(line: str) -> str:
    """A figure line for running text (Markdown collapses the terminal's column padding):
    a dash after a figure where the terminal leaves a gap, single spaces elsewhere."""
    return re.sub(r" {2,}", " ", re.sub(r"( [\d.%?]+) {3,}", r"\1 — ", line.strip()))


def card_lines(m: dict) -> list[str]:
    """The model card's lines for stored figures `m` (none when nothing was measured)."""
    if not m:
        return []
    figures = figure_lines(m)
    if not figures:
        return ["Metrics: " + ", ".join(f"{k} {v}" for k, v in m.items())]
    return [f"Measured by `studio eval`: {summary(m)}", *map(as_prose, figures)]


LOSS_NAMES = {"ns": "non-saturating logistic loss", "hinge": "hinge loss",
              "wgan-gp": "Wasserstein loss with gradient penalty"}


def recipe_line(recipe: dict) -> str | None:
    """How a checkpoint was trained, in one line: its loss, penalties, optimiser and schedule."""
    if not recipe:
        return None
    loss = recipe.get("loss", "")
    parts = [LOSS_NAMES.get(loss, loss if "loss" in loss else f"{loss} loss")] if loss else []
    if recipe.get("loss") == "wgan-gp":
        parts.append(f"penalty weight {recipe.get('gp_weight', '?')}, {recipe.get('n_critic', '?')} critic steps per "
                     "generator step")
    if recipe.get("r1"):
        parts.append(f"R1 gamma {recipe['r1']:g}")
    if "lr" in recipe:
        schedule = recipe.get("lr_schedule", "constant")
        warmup = f" after a {recipe['lr_warmup']:,}-image warm-up" if recipe.get("lr_warmup") else ""
        optimizer = recipe.get("optimizer", "Adam")  # pix2pix's names its rate already: "Adam 0.0002 (0.5, 0.999)"
        rate = "" if f"{recipe['lr']:g}" in optimizer.split() else f" {recipe['lr']:g}"
        parts.append(f"{optimizer}{rate}, {schedule} schedule{warmup}")
    elif recipe.get("optimizer"):
        parts.append(recipe["optimizer"])
    return f"Trained with: recipe `{recipe.get('name', '?')}`, " + "; ".join(parts) if parts else None


def print_json(result: dict) -> None:
    """What `studio eval --json` prints."""
    print(json.dumps(result, indent=2))
