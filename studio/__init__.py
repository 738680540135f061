"""Studio: a browser-based art studio for generative models.

The core (everything here but `studio.ui`) never imports gradio, so it can be used
from scripts, notebooks and the `studio` command line.
"""

from .checkpoints import Registry, Spec, load_model, save_checkpoint
from .errors import StudioError
from .tasks.latent import interpolate, sample
from .tasks.mixing import mixing_figure, style_mix
from .tasks.sketch import edges, sketch_to_image
from .tasks.style.engine import StyleStep, stylize
from .tasks.style.settings import StyleSettings

__all__ = ["Registry", "Spec", "StudioError", "StyleSettings", "StyleStep", "edges", "interpolate", "load_model", "mixing_figure", "sample",
           "save_checkpoint", "sketch_to_image", "style_mix", "stylize"]
__version__ = "0.1.0"
