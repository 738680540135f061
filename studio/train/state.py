"""Resumable training state without pickles: tensors in safetensors, the rest in JSON.

Optimiser state dicts are flattened to `prefix.state.<param>.<key>` tensors plus
their JSON-able `param_groups`; written to a temporary file, then renamed, so an
interrupted save leaves the previous state intact.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file


def _flatten_optimizer(prefix: str, state_dict: dict) -> tuple[dict[str, torch.Tensor], dict]:
    tensors = {}
    for index, slots in state_dict["state"].items():
        for key, value in slots.items():
            tensors[f"{prefix}.state.{index}.{key}"] = torch.as_tensor(value).detach().cpu().contiguous()
    return tensors, {"param_groups": state_dict["param_groups"]}


def _unflatten_optimizer(prefix: str, tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    state: dict[int, dict[str, torch.Tensor]] = {}
    head = f"{prefix}.state."
    for name, value in tensors.items():
        if name.startswith(head):
            index, key = name[len(head):].split(".", 1)
            state.setdefault(int(index), {})[key] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def save_state(path: Path, modules: dict[str, torch.nn.Module], optimizers: dict[str, torch.optim.Optimizer],
               info: dict[str, Any]) -> None:
    """Write `path.safetensors` and `path.json` atomically."""
    tensors: dict[str, torch.Tensor] = {}
    meta: dict[str, Any] = {"info": info, "optimizers": {}}
    for name, module in modules.items():
        for key, value in module.state_dict().items():
            tensors[f"{name}.{key}"] = value.detach().cpu().contiguous()
    for name, opt in optimizers.items():
        flat, opt_meta = _flatten_optimizer(name, opt.state_dict())
        tensors.update(flat)
        meta["optimizers"][name] = opt_meta
    tensors["rng.torch"] = torch.get_rng_state()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_w, tmp_j = path.with_suffix(".safetensors.tmp"), path.with_suffix(".json.tmp")
    save_file(tensors, str(tmp_w))
    tmp_j.write_text(json.dumps(meta))
    os.replace(tmp_w, path.with_suffix(".safetensors"))
    os.replace(tmp_j, path.with_suffix(".json"))


def saved_info(path: Path) -> dict:
    """The `info` of a saved state, without loading its tensors."""
    return json.loads(path.with_suffix(".json").read_text())["info"]


def _select_classes(value: torch.Tensor, shape: torch.Size, keep: list[int] | None) -> torch.Tensor:
    """Take the rows of the classes in `keep` (saved class indices, in the new order) along
    every dimension where the saved tensor has one entry per saved class and the built one
    one per kept class. Only tensors whose shape changed are touched: nothing else in a
    model depends on the number of classes."""
    if keep is None or value.shape == shape or value.dim() != len(shape):
        return value
    for dim, (was, now) in enumerate(zip(value.shape, shape)):
        if was != now and now == len(keep):
            value = value.index_select(dim, torch.tensor(keep))
    return value


def load_state(path: Path, modules: dict[str, torch.nn.Module], optimizers: dict[str, torch.optim.Optimizer],
               optional: tuple[str, ...] = (), keep_classes: list[int] | None = None) -> dict:
    """Restore what `save_state` wrote into `modules` and `optimizers`; returns `info`.

    `optional` names parts a resumed run may add or drop, as prefixes of the saved names
    (`"d.twin."` for a head, `"opt_twin"` for its optimizer): one missing from the saved
    state keeps its fresh initial values, one saved but no longer built is left out.
    `keep_classes` (saved class indices, one per class of the built models) carries a
    conditional run on with fewer classes, or with a merged class split apart (an index
    taken twice): the class-indexed weights and their optimiser moments take those
    classes' rows. Everything else must match exactly.
    """
    tensors = load_file(str(path.with_suffix(".safetensors")))
    meta = json.loads(path.with_suffix(".json").read_text())

    for name, module in modules.items():
        head = f"{name}."
        built = module.state_dict()
        saved = {k[len(head):]: v for k, v in tensors.items() if k.startswith(head)}
        saved = {k: _select_classes(v, built[k].shape, keep_classes) if k in built else v for k, v in saved.items()}
        new = [k for k in built if k not in saved and (head + k).startswith(optional)]
        saved = {k: v for k, v in saved.items() if k in built or not (head + k).startswith(optional)}
        module.load_state_dict({**{k: built[k] for k in new}, **saved}, strict=True)
        if new:
            print(f"{name}: {', '.join(new)} not in the saved state; starting afresh")
    for name, opt in optimizers.items():
        if name not in meta["optimizers"] and name.startswith(optional):
            continue
        # The saved moments and step counts carry on; the settings (learning rate, betas) are the
        # ones the optimizer was built with, so a run resumed with a new --lr uses it.
        settings = [{k: v for k, v in group.items() if k != "params"} for group in opt.param_groups]
        state = _unflatten_optimizer(name, tensors, meta["optimizers"][name])
        if keep_classes is not None:
            params = [p for group in opt.param_groups for p in group["params"]]  # the saved state's indices
            for index, slots in state["state"].items():
                for key, value in slots.items():
                    if index < len(params):
                        slots[key] = _select_classes(value, params[index].shape, keep_classes)
        opt.load_state_dict(state)
        for group, kept in zip(opt.param_groups, settings):
            group.update(kept)
    torch.set_rng_state(tensors["rng.torch"])
    return meta["info"]


def state_exists(path: Path) -> bool:
    return path.with_suffix(".safetensors").exists() and path.with_suffix(".json").exists()
