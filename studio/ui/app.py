"""The app: lays out its tabs over one registry and one device queue, and wires what
passes between tabs from the parts each tab returns (interface.TabParts)."""

from __future__ import annotations

from typing import Any, Callable

import gradio as gr

from .. import settings
from ..checkpoints import Registry
from ..errors import StudioError
from . import conditional, latent, sketch, style
from .events import log_refusals
from .interface import Tab, TabContext, TabParts

TITLE = "Studio"
CSS = """
.gradio-container {max-width: 1280px !important; margin: auto}
#studio-header h1 {margin-bottom: 0}
#latent-grid .caption-label, #conditional-grid .caption-label {white-space: normal; overflow-wrap: anywhere}
#latent-strip .grid-container, #conditional-strip .grid-container {
  grid-template-columns: repeat(var(--grid-cols), minmax(0, 1fr)) !important}
"""
TABS: tuple[Tab, ...] = (latent.TAB, conditional.TAB, sketch.TAB, style.TAB)


def build_tabs(tabs: tuple[Tab, ...], context: TabContext) -> dict[str, TabParts]:
    """Lay out each tab in its own gr.Tab (inside an open gr.Tabs); returns its parts by tab id."""
    parts = {}
    for tab in tabs:
        with gr.Tab(tab.title, id=tab.id):
            parts[tab.id] = tab.build(context)
    return parts


def _send_to(tab_id: str) -> Callable[[Any], tuple]:
    """A send button's handler: the picture for the receiving input, and that tab opened."""
    def send(picture: Any) -> tuple:
        return picture, gr.Tabs(selected=tab_id)

    return send


def wire_sends(parts: dict[str, TabParts], tabs: gr.Tabs) -> None:
    """Each send button puts its tab's picture into the receiving tab's input and opens that tab."""
    for sender in parts.values():
        if sender.send is None:
            continue
        receiver = parts.get(sender.send_to)
        if receiver is None or receiver.picture_in is None:
            raise ValueError(f"Tab {sender.send_to!r} takes no pictures.")
        sender.send.click(_send_to(sender.send_to), [sender.picture_out], [receiver.picture_in, tabs],
                          api_visibility="private")


def build_app(registry: Registry | None = None, vgg_weights: str | None = None) -> gr.Blocks:
    """The Blocks app over `registry` (default: the default checkpoint folder).

    `vgg_weights` is passed to style transfer (a file, or "random" for tests)."""
    registry = registry or Registry()
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.Markdown("# Studio\nExplore GANs trained by the studio, turn a drawing into a picture, "
                    "restyle a photo after a painting.",
                    elem_id="studio-header")
        with gr.Tabs() as tabs:
            parts = build_tabs(TABS, TabContext(registry, vgg_weights))
        wire_sends(parts, tabs)
        for on_load in (p.on_load for p in parts.values() if p.on_load):
            demo.load(**on_load)
        if registry.problems:
            gr.Markdown("**Unreadable checkpoints** (the others work):  \n"
                        + "  \n".join(f"`{name}`: {problem}" for name, problem in registry.problems.items()))
    demo.queue(max_size=settings.queue_size(), default_concurrency_limit=1)
    return log_refusals(demo)


def launch_kwargs() -> dict:
    """What every launch passes: upload limit, look, and show_error so that a value Gradio
    itself cannot convert (NaN for a seed, a corrupt canvas layer sent over the API) comes
    back with its reason instead of a bare "Error"."""
    return {"max_file_size": settings.max_upload(), "css": CSS, "theme": gr.themes.Soft(), "show_error": True}


def serve(checkpoints: str | None = None, host: str = "127.0.0.1", port: int = 7860, share: bool = False,
          auth: tuple[str, str] | None = None, vgg_weights: str | None = None) -> None:
    """Start the app and block until interrupted."""
    demo = build_app(Registry(checkpoints), vgg_weights=vgg_weights)
    try:
        demo.launch(server_name=host, server_port=port, share=share, auth=auth, prevent_thread_lock=True,
                    **launch_kwargs())
    except OSError as exc:
        raise StudioError(f"Cannot start the server on {host}:{port}: {exc}") from None
    if share:
        if demo.share_url:
            print(f"Public link (valid for a week, anyone with it can use the app): {demo.share_url}")
        else:
            print("No public link: the share tunnel could not be made (no internet, or the tunnel service is "
                  f"unreachable). The app is still running locally at {demo.local_url}")
    try:
        demo.block_thread()
    except KeyboardInterrupt:
        demo.close()
