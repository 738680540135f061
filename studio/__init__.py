"""Studio: a browser-based art studio for generative models.

The core (everything here but `studio.ui`) never imports gradio, so it can be used
from scripts, notebooks and the `studio` command line.
"""

from .checkpoints import Registry, Spec, load_model, save_checkpoint
from .errors import StudioError
from .sampling import interpolate, sample
from .sketch import edges, sketch_to_image
from .style.engine import StyleStep, stylize

__all__ = ["Registry", "Spec", "StudioError", "StyleStep", "edges", "interpolate", "load_model", "sample",
           "save_checkpoint", "sketch_to_image", "stylize"]
__version__ = "0.1.0"
