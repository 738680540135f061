"""The `studio` command line: the same core as the app, from a terminal."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import StudioError
from .tasks.style import NETWORK_NAMES


def _int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole numbers separated by commas, got {text!r}") from None


def _pairs(text: str, form: str) -> dict[str, str]:
    """'a=b, c=d' -> {'a': 'b', 'c': 'd'}; refuses anything else, naming the expected `form`."""
    pairs = [part.split("=") for part in text.split(",") if part.strip()]
    if not pairs or any(len(pair) != 2 or not all(side.strip() for side in pair) for pair in pairs):
        raise argparse.ArgumentTypeError(f"expected {form} pairs separated by commas, got {text!r}")
    return {left.strip(): right.strip() for left, right in pairs}


def _class_merges(text: str) -> dict[str, str]:
    """'fruit & veg=food & drink,b=a' -> {'fruit & veg': 'food & drink', 'b': 'a'}."""
    return _pairs(text, "FROM=TO class")


def _class_weights(text: str) -> dict[str, float]:
    """'fruit & veg=4,weather=0.5' -> {'fruit & veg': 4.0, 'weather': 0.5}."""
    try:
        return {name: float(factor) for name, factor in _pairs(text, "CLASS=FACTOR").items()}
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected CLASS=FACTOR pairs with numbers for factors, got {text!r}") from None


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
    images = sample(model, seeds, truncation=args.truncation, classes=classes)
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
    frames = interpolate(model, args.from_, args.to, args.frames, truncation=args.truncation, classes=classes, mode=args.mode)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".gif":
        out.write_bytes(gif_bytes(frames, duration_ms=args.frame_ms))
    else:
        from .imaging.convert import grid

        grid(frames, columns=len(frames)).save(out)
    print(f"wrote {out} ({len(frames)} frames)")


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
    if args.kind == "pix2pix":
        from .train.pix2pix import Pix2PixConfig, train_pix2pix

        if args.d_warmup:
            raise StudioError("--d-warmup is for dcgan and cgan runs.")

        cfg = Pix2PixConfig(data=args.data, name=args.name, recipe=args.recipe, epochs=args.epochs,
                            batch=args.batch or 16, image_size=args.image_size or 128, width=args.width or 32,
                            augment=args.augment,
                            seed=args.seed, threads=args.threads, checkpoints=args.checkpoints, run_dir=args.run_dir,
                            save_every_s=args.save_every, snapshots=args.snapshots,
                            init_from=_checkpoint_folder(args, args.init_from), branch_from=args.branch_from,
                            amp=not args.fp32)
        print(f"wrote {train_pix2pix(cfg, resume=args.resume, max_images=args.max_images)}")
        return
    from .train.gan import GanConfig, train_gan

    cfg = GanConfig(data=args.data, name=args.name, conditional=args.kind == "cgan", recipe=args.recipe,
                    epochs=args.epochs, batch=args.batch or 64, image_size=args.image_size or 64, width=args.width,
                    z_dim=args.z_dim, augment=args.augment, class_loss=args.class_loss,
                    twin_loss=args.twin_loss, mode_seeking=args.mode_seeking, ema_kimg=args.ema_kimg,
                    class_balance=args.class_balance, lr=args.lr, merge_classes=args.merge_classes,
                    class_weights=args.class_weights,
                    seed=args.seed, threads=args.threads, checkpoints=args.checkpoints, run_dir=args.run_dir,
                    save_every_s=args.save_every, snapshots=args.snapshots,
                    init_from=_checkpoint_folder(args, args.init_from), d_warmup=args.d_warmup,
                    branch_from=args.branch_from, amp=not args.fp32)
    path = train_gan(cfg, resume=args.resume, max_images=args.max_images)
    print(f"wrote {path}")


def cmd_eval(args: argparse.Namespace) -> None:
    from .evaluation.evaluate import evaluate, print_json, report

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    result = evaluate(args.model, _registry(args), n=args.n, data=args.data, save=not args.no_save)
    if args.json:
        print_json(result)
    else:
        print(report(args.model, result))


def cmd_stylize(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from .tasks.style.engine import stylize

    blend = None
    if args.style_blend:
        try:
            blend = [float(w) for w in args.style_blend.split(",")]
        except ValueError:
            raise StudioError(f"--style-blend takes numbers like 0.7,0.3, got {args.style_blend!r}.") from None
    steps = stylize(args.content, args.style, size=args.size, steps=args.steps, optimizer=args.optimizer,
                    network=args.network, style_weight=args.style_weight, content_weight=args.content_weight,
                    tv_weight=args.tv_weight, style_blend=blend, style_scale=args.style_scale,
                    preserve_colors=args.preserve_colors, init=args.init, match_colours=args.match_colours,
                    parameterisation=args.parameterisation, multiscale=not args.no_multiscale, seed=args.seed,
                    weights=args.vgg_weights, image_every=max(1, args.steps))
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

    picture = sketch_to_image(_registry(args).get(args.model), args.input)
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


def parser() -> argparse.ArgumentParser:
    # --checkpoints is accepted before or after the sub-command.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--checkpoints", default=argparse.SUPPRESS,
                        help="checkpoint folder (default: $STUDIO_CHECKPOINTS or ./checkpoints)")
    p = argparse.ArgumentParser(prog="studio", description="Browser-based art studio for generative models.",
                                parents=[common])
    sub = p.add_subparsers(dest="command", required=True)

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
    s.add_argument("--out", required=True, help="walk.gif, or a PNG strip")
    s.set_defaults(func=cmd_interpolate)

    s = sub.add_parser("serve", parents=[common], help="start the web app")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=7860)
    s.add_argument("--share", action="store_true", help="also make a public share link")
    s.add_argument("--auth", help="USER:PASSWORD required to open the app")
    s.add_argument("--vgg-weights", help="VGG19 weights file for style transfer ('random': tests only)")
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("data", parents=[common], help="build a training data set")
    s.add_argument("kind", choices=["emoji", "openmoji"], help="emoji: 64 px colour emoji with classes; "
                   "openmoji: line-art -> colour pairs for pix2pix")
    s.add_argument("--out", required=True)
    s.add_argument("--size", type=int, help="picture size (default 64 for emoji, 128 for openmoji)")
    s.set_defaults(func=cmd_data)

    s = sub.add_parser("train", parents=[common], help="train a model and write a checkpoint")
    s.add_argument("kind", choices=["dcgan", "cgan", "pix2pix"])
    s.add_argument("--data", required=True, help="image folder (one sub-folder per class for cgan; "
                   "sketch/ + color/ or side-by-side A|B pictures for pix2pix)")
    s.add_argument("--name", required=True)
    s.add_argument("--recipe", choices=["studio", "reference"], default="studio")
    s.add_argument("--epochs", type=float, default=100)
    s.add_argument("--max-images", type=int, help="stop after this many images seen (overrides --epochs)")
    s.add_argument("--batch", type=int, help="default 64 (GANs), 16 (pix2pix)")
    s.add_argument("--image-size", type=int, help="default 64 (GANs), 128 (pix2pix)")
    s.add_argument("--width", type=int)
    s.add_argument("--z-dim", type=int)
    s.add_argument("--augment", help="GANs: DiffAugment policy, e.g. color,translation,cutout; pix2pix: any of "
                   "flip,shift,width,drop; '' for none (default: the recipe's)")
    s.add_argument("--class-loss", type=float, metavar="WEIGHT",
                   help="cgan: weight of the auxiliary class loss (D names real pictures' class, G is rewarded "
                        "when it reads its own); 0 for none (default: 1 in the studio recipe, 0 in the reference)")
    s.add_argument("--twin-loss", type=float, metavar="WEIGHT",
                   help="cgan: weight of a twin classifier's loss (TAC-GAN: a second head names the class of "
                        "generated pictures, G is rewarded when it cannot), usually the class loss's; 0 for none "
                        "(default); a resumed run may add it")
    s.add_argument("--mode-seeking", type=float, metavar="WEIGHT",
                   help="GANs: weight of MSGAN's mode-seeking term (G is rewarded when two latents of the same "
                        "class give different pictures); 0 for none (default); a resumed run may add it")
    s.add_argument("--lr", type=float, help="GANs: Adam learning rate of both networks (default: the recipe's, 2e-4); "
                   "a resumed run goes on with the new one, e.g. lower for a last phase")
    s.add_argument("--ema-kimg", type=float, metavar="KIMG",
                   help="GANs: half-life of the generator's moving average in thousands of images (default: the "
                        "recipe's, 10; 0 ships the raw generator); a resumed run may lengthen it")
    s.add_argument("--class-balance", type=float, metavar="ALPHA",
                   help="cgan: how much to even out the classes in the batches, 0 (the data's own mix, default) "
                        "to 1 (every class equally often); class c is drawn in proportion to count_c^(1-ALPHA), and "
                        "the folders of a merged class likewise inside it")
    s.add_argument("--merge-classes", type=_class_merges, default={}, metavar="FROM=TO,...",
                   help="cgan: count a class folder's pictures as another class, e.g. 'fruit & veg=food & drink'; "
                        "a resumed or branched run keeps the kept classes' weights")
    s.add_argument("--class-weights", type=_class_weights, default={}, metavar="CLASS=FACTOR,...",
                   help="cgan: multiply a class's share of the batches (real pictures and fake labels), on top of "
                        "--class-balance, e.g. 'fruit & veg=4'")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--threads", type=int)
    s.add_argument("--run-dir", help="where state, logs and sample grids go (default: the data cache)")
    s.add_argument("--save-every", type=float, default=600, help="seconds between saves")
    s.add_argument("--snapshots", type=_int_list, default=(),
                   help="images seen at which to keep a copy of the checkpoint, e.g. 50000,100000")
    s.add_argument("--init-from", metavar="CHECKPOINT",
                   help="start the generator from this checkpoint (a name under --checkpoints, or a folder): "
                        "fine-tune a shipped model on your pictures")
    s.add_argument("--d-warmup", type=int, default=0, metavar="IMAGES",
                   help="GANs with --init-from: images for which the fresh discriminator trains alone before "
                        "the loaded generator starts to learn (a resumed run finishes its warm-up)")
    s.add_argument("--fp32", action="store_true",
                   help="train in float32 everywhere (default: bfloat16 autocast on a GPU and on CPUs with AMX, "
                        "where it trained the width-48 cgan about 2x as fast)")
    start = s.add_mutually_exclusive_group()
    start.add_argument("--resume", action="store_true", help="go on with the run --name from its last save")
    start.add_argument("--branch-from", metavar="RUN",
                       help="a new run (--name) that goes on from another run's last save (a run name or "
                            "folder), e.g. to try other settings from the same point; that run is left as it was")
    s.set_defaults(func=cmd_train)

    s = sub.add_parser("stylize", parents=[common], help="neural style transfer (Gatys' Gram matrices)")
    s.add_argument("--content", required=True)
    s.add_argument("--style", required=True, action="append", help="repeat for several styles")
    s.add_argument("--style-blend", help="weights of the styles, e.g. 0.7,0.3")
    s.add_argument("--size", type=int, default=384, help="longer side of the result")
    s.add_argument("--steps", type=int, default=200)
    s.add_argument("--network", choices=NETWORK_NAMES,
                   help="feature network (default: vgg19 when its weights are installed, else lite1, which ships "
                        "with the studio)")
    s.add_argument("--optimizer", choices=["lbfgs", "adam"], default="lbfgs")
    s.add_argument("--style-weight", type=float, help="default: the network's")
    s.add_argument("--content-weight", type=float, default=1.0)
    s.add_argument("--tv-weight", type=float, help="default: the network's")
    s.add_argument("--match-colours", action=argparse.BooleanOptionalAction,
                   help="start from the photo recoloured to the painting's palette (default: on for the "
                        "EfficientNet networks)")
    s.add_argument("--parameterisation", choices=["pixels", "pyramid"],
                   help="optimise the pixels or a Laplacian pyramid (default: pyramid for the EfficientNet networks)")
    s.add_argument("--style-scale", type=float, default=1.0, help="style picture size relative to the result")
    s.add_argument("--preserve-colors", action="store_true", help="transfer luminance only, keep the content's colours")
    s.add_argument("--init", choices=["content", "noise"], default="content")
    s.add_argument("--no-multiscale", action="store_true", help="optimise at full size only")
    s.add_argument("--seed", type=int)
    s.add_argument("--vgg-weights", help="safetensors/.pth VGG19 state dict, or 'random' (tests only)")
    s.add_argument("--out", required=True)
    s.add_argument("--log", help="JSONL file: one line of losses per step")
    s.set_defaults(func=cmd_stylize)

    s = sub.add_parser("sketch", parents=[common], help="turn a line drawing into a picture")
    s.add_argument("model")
    s.add_argument("--input", required=True, help="PNG/JPEG line drawing, black on white or white on black")
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

    s = sub.add_parser("eval", parents=[common], help="measure a checkpoint on its held-out data")
    s.add_argument("model")
    s.add_argument("--n", type=int, default=2000, help="generated images")
    s.add_argument("--data", help="data folder (default: the one recorded in studio.json)")
    s.add_argument("--json", action="store_true")
    s.add_argument("--no-save", action="store_true", help="do not write the figures into studio.json")
    s.add_argument("--threads", type=int)
    s.set_defaults(func=cmd_eval)
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
