"""Entry point for Hugging Face Spaces (`app_file`): the same app as `studio serve`."""

from studio.ui.app import build_app, launch_kwargs

demo = build_app()

if __name__ == "__main__":
    demo.launch(**launch_kwargs())
