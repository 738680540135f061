"""The app: assembles the tabs over one registry and one device queue."""

from __future__ import annotations

import gradio as gr

from .. import settings
from ..checkpoints import Registry
from ..errors import StudioError
from . import conditional, latent, sketch, style

TITLE = "Studio"
CSS = """
.gradio-container {max-width: 1280px !important; margin: auto}
#studio-header h1 {margin-bottom: 0}
"""


def build_app(registry: Registry | None = None, vgg_weights: str | None = None) -> gr.Blocks:
    """The Blocks app over `registry` (default: the default checkpoint folder).

    `vgg_weights` is passed to style transfer (a file, or "random" for tests)."""
    registry = registry or Registry()
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.Markdown("# Studio\nExplore GANs trained by the studio, turn a drawing into a picture, "
                    "restyle a photo after a painting.",
                    elem_id="studio-header")
        loads = []
        with gr.Tabs() as tabs:
            with gr.Tab("Latent explorer", id="latent"):
                loads.append(latent.build(registry))
            with gr.Tab("Class-conditional", id="conditional"):
                loads.append(conditional.build(registry))
            with gr.Tab("Sketch to image", id="sketch"):
                sketch_parts = sketch.build(registry)
            with gr.Tab("Style transfer", id="style"):
                style_content = style.build(vgg_weights)
        if sketch_parts is not None:
            result, send = sketch_parts
            send.click(lambda picture: (picture, gr.Tabs(selected="style")), [result], [style_content, tabs],
                       api_visibility="private")
        for load in filter(None, loads):
            demo.load(**load, concurrency_id="device", api_visibility="private")
        if registry.problems:
            gr.Markdown("**Unreadable checkpoints** (the others work):  \n"
                        + "  \n".join(f"`{name}`: {problem}" for name, problem in registry.problems.items()))
    demo.queue(max_size=settings.queue_size(), default_concurrency_limit=1)
    return demo


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
