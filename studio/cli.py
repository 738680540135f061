"""The `studio` command line: the same core as the app, from a terminal."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import StudioError
from .knobs import add_flags
from .tasks import TASKS, TRAINERS
from .tasks.mixing import LEVELS, NOISE_MODES, TOWARDS
from .tasks.style.settings import StyleSettings
from .train.recipes import CONFIGS

NOISE_HELP = ("a style-based model's noise maps: seed (drawn from each seed), const (the same for every seed), "
              "random (fresh each time), none")
TOWARDS_HELP = ("what truncation moves w towards: mean (psi 0: the average picture for every seed) or cluster "
                "(each seed's nearest typical style; unconditional style-based models)")
# The command line renders bigger and longer than the Python API's defaults: it runs once, unattended.
STYLIZE_DEFAULTS = {"size": 384, "steps": 200}


def _checkpoint_folder(args: argparse.Namespace, name: str | None) -> str | None:
    """A checkpoint given by folder, or by name under --checkpoints."""
    if name is None or Path(name).is_dir():
        return name
    from . import settings
    from .checkpoints import check_name

    return str(Path(args.checkpoints or settings.checkpoints_root()) / check_name(name))


def _registry(args: argparse.Namespace):
    from .checkpoints import Registry

    return Registry(args.checkpoints)


def cmd_list(args: argparse.Namespace) -> None:
    registry = _registry(args)
    specs = registry.list()
    if args.json:
        rows = [{"name": s.name, "task": s.task, "arch": s.arch, "image_size": s.image_size, "labels": list(s.labels),
                 "metrics": s.raw.get("metrics", {})} for s in specs]
        print(json.dumps({"checkpoints": rows, "problems": registry.problems}, indent=2))
        return
    if not specs:
        print(f"No checkpoints in {registry.root}. Train one with `studio train dcgan --data DIR --name NAME`.")
    for spec in specs:
        print(spec.summary)
    for name, problem in registry.problems.items():
        print(f"unreadable: {name}: {problem}", file=sys.stderr)


def cmd_sample(args: argparse.Namespace) -> None:
    from .imaging.convert import grid
    from .tasks.latent import parse_class_mix, parse_seeds, sample

    if not args.out and not args.out_dir:
        raise StudioError("Give --out GRID.png or --out-dir DIR.")
    model = _registry(args).get(args.model)
    seeds = parse_seeds(args.seeds)
    classes = parse_class_mix(args.class_) if args.class_ else None
    images = sample(model, seeds, truncation=args.truncation, classes=classes, noise=args.noise, towards=args.towards)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        grid(images).save(args.out)
        print(f"wrote {args.out} ({len(images)} images)")
    if args.out_dir:
        out = Path(args.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for seed, image in zip(seeds, images):
            image.save(out / f"seed{seed}.png")
        print(f"wrote {len(images)} images to {out}")


def cmd_interpolate(args: argparse.Namespace) -> None:
    from .imaging.convert import gif_bytes
    from .tasks.latent import interpolate, parse_class_mix

    model = _registry(args).get(args.model)
    classes = parse_class_mix(args.class_) if args.class_ else None
    frames = interpolate(model, args.from_, args.to, args.frames, truncation=args.truncation, classes=classes,
                         mode=args.mode, noise=args.noise, towards=args.towards)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".gif":
        out.write_bytes(gif_bytes(frames, duration_ms=args.frame_ms))
    else:
        from .imaging.convert import grid

        grid(frames, columns=len(frames)).save(out)
    print(f"wrote {out} ({len(frames)} frames)")


def parse_levels(text: str) -> str | tuple[int, int]:
    """'coarse' -> 'coarse'; '8-32' -> (8, 32): the levels, in pixels, a style seed's styles take."""
    text = str(text).strip()
    if text in LEVELS:
        return text
    first, sep, last = text.partition("-")
    if sep and first.strip().isdigit() and last.strip().isdigit():
        return int(first), int(last)
    raise StudioError(f"Cannot read levels {text!r}: use {', '.join(LEVELS)} or FIRST-LAST in pixels, like 8-32.")


def cmd_mix(args: argparse.Namespace) -> None:
    from .tasks.latent import parse_seeds
    from .tasks.mixing import mixing_figure

    model = _registry(args).get(args.model)
    figure = mixing_figure(model, parse_seeds(args.seeds), parse_seeds(args.style_seeds), parse_levels(args.levels),
                           truncation=args.truncation, noise=args.noise, towards=args.towards)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    figure.save(args.out)
    print(f"wrote {args.out} ({figure.width}x{figure.height})")


def cmd_serve(args: argparse.Namespace) -> None:
    from .ui.app import serve

    auth = None
    if args.auth:
        user, sep, password = args.auth.partition(":")
        if not sep or not user or not password:
            raise StudioError("--auth takes USER:PASSWORD.")
        auth = (user, password)
    serve(checkpoints=args.checkpoints, host=args.host, port=args.port, share=args.share, auth=auth,
          vgg_weights=args.vgg_weights)


def cmd_data(args: argparse.Namespace) -> None:
    if args.kind == "emoji":
        from .data.emoji import build_emoji

        info = build_emoji(Path(args.out), size=args.size or 64)
        print(f"wrote {info['total']} images in {len(info['classes'])} classes to {args.out}")
    else:
        from .data.openmoji import build_openmoji

        info = build_openmoji(Path(args.out), size=args.size or 128)
        print(f"wrote {info['total']} line-art/colour pairs to {args.out}")


def cmd_train(args: argparse.Namespace) -> None:
    from dataclasses import fields

    from .train import run_trainer

    config = CONFIGS[args.kind]
    given = {f.name: getattr(args, f.name) for f in fields(config) if hasattr(args, f.name)}
    given["init_from"] = _checkpoint_folder(args, given.get("init_from"))
    if hasattr(config, "conditional"):  # the GAN trainers: those of the conditional task learn classes
        given["conditional"] = args.kind in TASKS["conditional"].trainers
    cfg = config(**given)
    print(f"wrote {run_trainer(args.kind, cfg, resume=args.resume, max_images=args.max_images)}")


def cmd_eval(args: argparse.Namespace) -> None:
    from .evaluation.evaluate import evaluate
    from .evaluation.report import print_json, report

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    result = evaluate(args.model, _registry(args), n=args.n, data=args.data, save=not args.no_save,
                      inception=args.inception, truncations=args.truncation)
    if args.json:
        print_json(result)
    else:
        print(report(args.model, result))


def cmd_stylize(args: argparse.Namespace) -> None:
    from dataclasses import fields

    from tqdm import tqdm

    from .tasks.style.engine import stylize

    given = {f.name: getattr(args, f.name) for f in fields(StyleSettings) if hasattr(args, f.name)}
    settings = StyleSettings(**given, image_every=max(1, args.steps))
    steps = stylize(args.content, args.style, settings)
    log = open(args.log, "w") if args.log else None
    last = None
    try:
        with tqdm(total=args.steps, unit="step", desc="stylize") as bar:
            for step in steps:
                if step.weights_source:
                    tqdm.write(f"network: {step.network}, weights: {step.weights_source}")
                for note in step.notes:
                    tqdm.write(f"note: {note}")
                if log:
                    log.write(json.dumps(step.as_dict()) + "\n")
                bar.update(1)
                bar.set_postfix(total=f"{step.total:.4g}", size=step.size)
                if step.image is not None:
                    last = step.image
    finally:
        if log:
            log.close()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    last.save(args.out)
    print(f"wrote {args.out}")


def cmd_sketch(args: argparse.Namespace) -> None:
    from .tasks.sketch import sketch_to_image

    picture = sketch_to_image(_registry(args).get(args.model), args.input, hints=args.hints)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    picture.save(args.out)
    print(f"wrote {args.out}")


def cmd_edges(args: argparse.Namespace) -> None:
    from .tasks.sketch import edges

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    edges(args.input, detail=args.detail).save(args.out)
    print(f"wrote {args.out}")


def cmd_fetch(args: argparse.Namespace) -> None:
    from .models.vgg19 import fetch_vgg19

    print(f"VGG19 features saved at {fetch_vgg19(args.checkpoints)}")


def _add_sampling(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    s = sub.add_parser("list", parents=[common], help="list installed checkpoints")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("sample", parents=[common], help="sample a GAN checkpoint")
    s.add_argument("model")
    s.add_argument("--seeds", required=True, help="e.g. 1,2,5-8")
    s.add_argument("--truncation", type=float, default=1.0, help="psi in [0, 1]")
    s.add_argument("--class", dest="class_", help="NAME, INDEX or NAME=W,NAME=W")
    s.add_argument("--out", help="one grid PNG")
    s.add_argument("--out-dir", help="one PNG per seed, seed<N>.png")
    s.add_argument("--noise", choices=NOISE_MODES, default="seed", help=NOISE_HELP)
    s.add_argument("--towards", choices=TOWARDS, default="mean", help=TOWARDS_HELP)
    s.set_defaults(func=cmd_sample)

    s = sub.add_parser("interpolate", parents=[common], help="walk between two seeds")
    s.add_argument("model")
    s.add_argument("--from", dest="from_", type=int, required=True)
    s.add_argument("--to", type=int, required=True)
    s.add_argument("--frames", type=int, default=16)
    s.add_argument("--truncation", type=float, default=1.0)
    s.add_argument("--class", dest="class_")
    s.add_argument("--mode", choices=["slerp", "lerp"], default="slerp")
    s.add_argument("--frame-ms", type=int, default=80)
    s.add_argument("--noise", choices=NOISE_MODES, default="seed", help=NOISE_HELP)
    s.add_argument("--towards", choices=TOWARDS, default="mean", help=TOWARDS_HELP)
    s.add_argument("--out", required=True, help="walk.gif, or a PNG strip")
    s.set_defaults(func=cmd_interpolate)

    s = sub.add_parser("mix", parents=[common], help="style mixing: seeds' layouts in the style seeds' styles")
    s.add_argument("model", help="a style-based checkpoint")
    s.add_argument("--seeds", default="1-4", help="the layouts, down the left (default 1-4)")
    s.add_argument("--style-seeds", default="10-13", help="the styles, across the top (default 10-13)")
    s.add_argument("--levels", default="middle", help="where the style seeds' styles go: coarse (4-8 px: pose, "
                   "shape), middle (16-32 px: features), fine (64 px and up: colour, texture) or FIRST-LAST in px")
    s.add_argument("--truncation", type=float, default=1.0, help="psi in [0, 1]")
    s.add_argument("--noise", choices=NOISE_MODES, default="seed", help=NOISE_HELP)
    s.add_argument("--towards", choices=TOWARDS, default="mean", help=TOWARDS_HELP)
    s.add_argument("--out", required=True, help="the figure, a PNG")
    s.set_defaults(func=cmd_mix)


def _add_making(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Data, training and evaluation."""
    s = sub.add_parser("data", parents=[common], help="build a training data set")
    s.add_argument("kind", choices=["emoji", "openmoji"], help="emoji: 64 px colour emoji with classes; "
                   "openmoji: line-art -> colour pairs for pix2pix")
    s.add_argument("--out", required=True)
    s.add_argument("--size", type=int, help="picture size (default 64 for emoji, 128 for openmoji)")
    s.set_defaults(func=cmd_data)

    s = sub.add_parser("train", parents=[common], help="train a model and write a checkpoint")
    kinds = s.add_subparsers(dest="kind", required=True)
    for kind, task in TRAINERS.items():
        k = kinds.add_parser(kind, parents=[common], help=f"a {task.name} model (data: `studio data {task.data}`)")
        add_flags(k, CONFIGS[kind])
        k.add_argument("--max-images", type=int, help="stop after this many images seen (schedules still plan for --epochs)")
        k.add_argument("--resume", action="store_true", help="go on with the run --name from its last save")
        k.set_defaults(func=cmd_train)

    s = sub.add_parser("eval", parents=[common], help="measure a checkpoint on its held-out data")
    s.add_argument("model")
    s.add_argument("--n", type=int, default=2000, help="generated images")
    s.add_argument("--data", help="data folder (default: the one recorded in studio.json)")
    s.add_argument("--json", action="store_true")
    s.add_argument("--no-save", action="store_true", help="do not write the figures into studio.json")
    s.add_argument("--threads", type=int)
    s.add_argument("--truncation", type=float, nargs="+", default=[], metavar="PSI",
                   help="also the figures at these psi, towards the mean w and towards the nearest cluster "
                        "(an unconditional style-based model)")
    s.add_argument("--inception", nargs="?", const="", metavar="FILE",
                   help="also Inception FID and IS through torch-fidelity (the metrics extra), with its "
                        "InceptionV3 weights file (default: the one in torch's hub cache; nothing is downloaded)")
    s.set_defaults(func=cmd_eval)


def _add_pictures(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Style transfer, sketches, tracing, and the weights style transfer can fetch."""
    s = sub.add_parser("stylize", parents=[common], help="neural style transfer (Gatys' Gram matrices)")
    s.add_argument("--content", required=True)
    s.add_argument("--style", required=True, action="append", help="repeat for several styles")
    add_flags(s, StyleSettings, defaults=STYLIZE_DEFAULTS)
    s.add_argument("--out", required=True)
    s.add_argument("--log", help="JSONL file: one line of losses per step")
    s.set_defaults(func=cmd_stylize)

    s = sub.add_parser("sketch", parents=[common], help="turn a line drawing into a picture")
    s.add_argument("model")
    s.add_argument("--input", required=True, help="PNG/JPEG line drawing, black on white or white on black")
    s.add_argument("--hints", help="colour hints for a hint model: an RGBA picture the drawing's size whose opaque "
                   "pixels are hints (dots or short strokes of the colour a region should take)")
    s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_sketch)

    s = sub.add_parser("edges", parents=[common], help="trace a photo's outlines as line art")
    s.add_argument("--input", required=True)
    s.add_argument("--detail", type=float, default=0.4, help="0 (outlines only) to 1 (fine lines)")
    s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_edges)

    s = sub.add_parser("fetch", parents=[common], help="download weights that cannot ship (needs internet once)")
    s.add_argument("what", choices=["vgg19"])
    s.set_defaults(func=cmd_fetch)


def parser() -> argparse.ArgumentParser:
    # --checkpoints is accepted before or after the sub-command.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--checkpoints", default=argparse.SUPPRESS,
                        help="checkpoint folder (default: $STUDIO_CHECKPOINTS or ./checkpoints)")
    p = argparse.ArgumentParser(prog="studio", description="Browser-based art studio for generative models.",
                                parents=[common])
    sub = p.add_subparsers(dest="command", required=True)
    _add_sampling(sub, common)
    s = sub.add_parser("serve", parents=[common], help="start the web app")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=7860)
    s.add_argument("--share", action="store_true", help="also make a public share link")
    s.add_argument("--auth", help="USER:PASSWORD required to open the app")
    s.add_argument("--vgg-weights", help="VGG19 weights file for style transfer ('random': tests only)")
    s.set_defaults(func=cmd_serve)
    _add_making(sub, common)
    _add_pictures(sub, common)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "checkpoints", None) is None:
        from . import settings

        args.checkpoints = str(settings.checkpoints_root())
    try:
        args.func(args)
    except StudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
