"""The core never imports gradio: scripts and the CLI stay light, the UI stays thin."""

import subprocess
import sys


def test_core_does_not_import_gradio():
    code = (
        "import sys, studio, studio.cli, studio.settings, studio.validate, studio.knobs, studio.checkpoints, "
        "studio.tasks.latent, studio.tasks.sketch, studio.tasks.style.engine, studio.imaging.convert, "
        "studio.train.gan, studio.train.pix2pix, studio.evaluation.evaluate, studio.evaluation.report, "
        "studio.data.emoji, studio.data.folder\n"
        "bad = [m for m in sys.modules if m == 'gradio' or m.startswith('gradio.')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_ui_is_the_only_gradio_user():
    from pathlib import Path

    import studio

    root = Path(studio.__file__).parent
    offenders = [p for p in root.rglob("*.py") if "ui" not in p.relative_to(root).parts
                 and "import gradio" in p.read_text()]
    assert offenders == []
