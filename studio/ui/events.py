"""How the tabs' events run: the device queue, StudioError -> what the user sees, raw uploads,
one log line (not a traceback) for each refused request."""

from __future__ import annotations

import functools
import inspect
import logging
from typing import Any, Callable

import gradio as gr

from .. import settings
from ..errors import StudioError

# Every event that runs a model joins this queue, so the device serves one job at a time
# (two CPU threads are already busy with one); raise it on a GPU with STUDIO_CONCURRENCY.
DEVICE_QUEUE = "device"
LOG = logging.getLogger("studio.ui")


def device_event(**kwargs: Any) -> dict[str, Any]:
    """Keyword arguments for an event that runs a model."""
    return {"concurrency_id": DEVICE_QUEUE, "concurrency_limit": settings.concurrency(), **kwargs}


def log_refusal(where: str, reason: object) -> None:
    """One line in the server log for a request refused for its values (no traceback: nothing is broken)."""
    LOG.warning("Refused %s: %s", where, " ".join(str(reason).split())[:300])


def _on_studio_error(fn: Callable, handle: Callable[[StudioError], Any]) -> Callable:
    """`fn`, with a StudioError logged in one line and turned into `handle(exc)`'s value (returned,
    or yielded as the last update of a generator handler, which stays a generator so Gradio
    still streams it)."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def streaming(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from fn(*args, **kwargs)
            except StudioError as exc:
                log_refusal(fn.__name__, exc)
                yield handle(exc)

        return streaming

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StudioError as exc:
            log_refusal(fn.__name__, exc)
            return handle(exc)

    return wrapper


def user_errors(fn: Callable) -> Callable:
    """Show a StudioError as a readable toast (gr.Error) instead of a generic failure."""
    def handle(exc: StudioError) -> Any:
        raise gr.Error(str(exc), print_exception=False) from None

    return _on_studio_error(fn, handle)


def keep_outputs(n_outputs: int) -> Callable[[Callable], Callable]:
    """Decorator: on a StudioError, leave every output as it was and put the message in the last.

    For events whose outputs are the user's work (a picture, a plot, a drawing), which an
    error badge would hide. The handler's last output must be a message line."""
    def handle(exc: StudioError) -> tuple:
        return (*[gr.skip()] * (n_outputs - 1), f"**Could not do that.** {exc}")

    return lambda fn: _on_studio_error(fn, handle)


_RAW_UPLOADS: set[str] = set()  # elem_ids of the image inputs made by upload_image
_decode_upload = gr.Image.preprocess


def _preprocess_upload(self: gr.Image, payload: Any) -> Any:
    """gr.Image.preprocess, except that an upload into an upload_image input stays a path."""
    if (self.elem_id in _RAW_UPLOADS and payload is not None and payload.path
            and not (payload.url or "").startswith("data:")):
        return str(payload.path)
    return _decode_upload(self, payload)


# Keyed by elem_id on the class, not set on the instance nor subclassed: Gradio rebuilds a
# session's components from their settings (losing instance attributes), and a subclass
# breaks the front end's lazy loading of the components in a tab.
gr.Image.preprocess = _preprocess_upload


def upload_image(elem_id: str, **kwargs: Any) -> gr.Image:
    """An image input that hands an upload to the handler as its path, undecoded.

    gr.Image decodes uploads itself, before the handler runs, and a file that is not a
    picture then fails with Gradio's own message and the server's upload path. Here the
    studio's reader (imaging.files.open_image) decides and says what is wrong."""
    _RAW_UPLOADS.add(elem_id)
    return gr.Image(type="filepath", image_mode=None, elem_id=elem_id, **kwargs)


def log_refusals(demo: gr.Blocks) -> gr.Blocks:
    """Make Gradio's own refusals of a request's values one log line each.

    Gradio checks inputs before the handler runs (a number out of a slider's range, a choice
    not in a dropdown, a value of the wrong type, an unreadable file) and prints a full
    traceback for each refusal. Whatever fails there is the request's fault, not the
    server's: it is logged in one line and sent back as the same message. Faults in a
    handler or in turning its results into outputs keep their tracebacks."""
    check = demo.preprocess_data

    @functools.wraps(check)
    async def preprocess_data(block_fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await check(block_fn, *args, **kwargs)
        except Exception as exc:
            log_refusal(f"/{block_fn.api_name or block_fn.name}", exc.message if isinstance(exc, gr.Error) else exc)
            if isinstance(exc, gr.Error):
                exc.print_exception = False
                raise
            raise gr.Error(str(exc), print_exception=False) from exc

    demo.preprocess_data = preprocess_data
    return demo
