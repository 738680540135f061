"""Tab 2, "Class-conditional": the explorer plus a class picker and a two-class mix."""

from __future__ import annotations

from typing import Any

import gradio as gr

from ..checkpoints import Spec
from ..tasks.latent import ClassSpec
from .explorer import ClassHooks, build_explorer
from .interface import Tab, TabContext, TabParts

NO_MIX = "(none)"


def class_controls(spec: Spec) -> list[gr.components.Component]:
    """The class picker, the class to mix in, and how much of it."""
    labels = list(spec.labels)
    main = gr.Dropdown(labels, value=labels[0], label="Class", interactive=True, elem_id="class-main")
    other = gr.Dropdown([NO_MIX, *labels], value=NO_MIX, label="Mix with", interactive=True, elem_id="class-other")
    amount = gr.Slider(0.0, 1.0, value=0.5, step=0.05, label="Mix amount", visible=False,
                       info="0: only the class above, 1: only the mixed-in class", elem_id="class-amount")
    return [main, other, amount]


def class_updates(spec: Spec) -> list:
    """New choices for the class controls when the model changes: no mix, so the mix amount
    hides (its value stays)."""
    labels = list(spec.labels)
    return [gr.update(choices=labels, value=labels[0]), gr.update(choices=[NO_MIX, *labels], value=NO_MIX),
            gr.update(visible=False)]


def mixing(main: str, other: str | None) -> bool:
    """Whether the controls ask for a mix of two classes."""
    return bool(other) and other not in (NO_MIX, main)


def amount_shown(main: str, other: str | None) -> Any:
    """The mix amount shows only while a second class is picked."""
    return gr.update(visible=mixing(main, other))


def wire_class_controls(controls: list[gr.components.Component]) -> None:
    """Show the mix amount while "Mix with" names another class, hide it otherwise."""
    main, other, amount = controls
    for control in (main, other):
        control.change(amount_shown, [main, other], [amount], api_visibility="private", queue=False)


def classes_of(main: str, other: str | None, amount: float) -> ClassSpec:
    """Widget values -> the core's class spec: one class, or a weighting of two."""
    if not mixing(main, other):
        return main
    return {main: 1.0 - float(amount), other: float(amount)}


CLASS_HOOKS = ClassHooks(controls=class_controls, classes_of=classes_of, updates=class_updates,
                         wire=wire_class_controls)


def build(context: TabContext) -> TabParts:
    """The explorer over the class-conditional checkpoints, with class controls."""
    return build_explorer(context.registry, task="conditional", train_kind="cgan", api_suffix="_class",
                          hooks=CLASS_HOOKS)


TAB = Tab("conditional", "Class-conditional", build)
