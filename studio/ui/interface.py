"""The contract between the app and its tabs: what a tab is built from (TabContext), what
a built tab hands back (TabParts), and how the app lists a tab (Tab)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import gradio as gr

from ..checkpoints import Registry


@dataclass(frozen=True)
class TabContext:
    """What every tab is built over: the installed checkpoints, and the weights style
    transfer's VGG19 uses (a file, "random" for tests, None to find or fetch them)."""

    registry: Registry
    vgg_weights: str | None = None


@dataclass(frozen=True)
class TabParts:
    """What a built tab gives the app to wire across tabs; a tab leaves out what it lacks.

    on_load:     keyword arguments of an event to run when the page loads (`Blocks.load`).
    picture_out: a picture `send` hands to another tab.
    picture_in:  an input that takes the pictures other tabs send.
    send:        a button that sends `picture_out` to tab `send_to`'s `picture_in` and opens that tab.
    """

    on_load: dict[str, Any] | None = None
    picture_out: gr.Image | None = None
    picture_in: gr.Image | None = None
    send: gr.Button | None = None
    send_to: str | None = None

    def __post_init__(self) -> None:
        if self.send is not None and (self.picture_out is None or self.send_to is None):
            raise ValueError("A send button needs picture_out and send_to.")


@dataclass(frozen=True)
class Tab:
    """One tab of the app: its id (for gr.Tabs(selected=...) and TabParts.send_to), its
    title, and the function that lays it out inside an open gr.Tab."""

    id: str
    title: str
    build: Callable[[TabContext], TabParts]
