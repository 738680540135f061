"""Checkpoints: the folder format (format.py) and the registry over a folder of them (registry.py)."""

from .format import (NAME_PATTERN, SPEC_FILE, WEIGHTS_FILE, Spec, check_name, load_model, read_spec, save_checkpoint,
                     update_metrics)
from .registry import Registry, default_registry, resolve

__all__ = ["NAME_PATTERN", "SPEC_FILE", "WEIGHTS_FILE", "Registry", "Spec", "check_name", "default_registry",
           "load_model", "read_spec", "resolve", "save_checkpoint", "update_metrics"]
