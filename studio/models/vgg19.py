"""VGG19 features in torchvision's layer layout, and where their weights come from.

Weights are looked for, in order: `checkpoints/vgg19/vgg19-features.safetensors`
(written by `studio fetch vgg19`), torchvision's own cache file (read with
`weights_only=True`), else the user is told how to get them. A file given
explicitly may be safetensors or a `.pth` holding either the `features` state dict
(`0.weight`, ...) or a whole VGG19 state dict (`features.0.weight`, ...).
`"random"` gives seeded random weights, for tests and benchmarks only.
`STUDIO_VGG_WEIGHTS` sets a default file for deployments that keep weights elsewhere.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from .. import settings
from ..errors import StudioError
from .winograd import WinogradConv3x3

# torchvision's vgg19().features: 16 3x3 convolutions in 5 blocks, each block ending in a max-pool.
BLOCKS = [(64, 2), (128, 2), (256, 4), (512, 4), (512, 4)]
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
FEATURES_FILE = "vgg19-features.safetensors"
TORCHVISION_FILE = "vgg19-dcbb9e9d.pth"  # VGG19_Weights.IMAGENET1K_V1
RANDOM = "random"
HOW_TO_GET = ("VGG19's ImageNet weights are not installed. On a machine with internet, run "
              "`studio fetch vgg19` once (it saves checkpoints/vgg19/{file}); or pass a file you have with "
              "`--vgg-weights PATH` (CLI) / `weights=PATH` (Python): safetensors or .pth holding a torchvision "
              "VGG19 state dict. Without it, style transfer runs on EfficientNet-Lite1 (`--network lite1`), "
              "which works offline.").format(file=FEATURES_FILE)


def layer_table() -> dict[str, int]:
    """'conv1_1' -> index of that convolution in torchvision's `features` Sequential."""
    table, index = {}, 0
    for block, (_, convs) in enumerate(BLOCKS, start=1):
        for conv in range(1, convs + 1):
            table[f"conv{block}_{conv}"] = index
            index += 2  # conv, relu
        index += 1  # max-pool
    return table


LAYERS = layer_table()


def expected_shapes() -> dict[str, tuple[int, ...]]:
    shapes, cin = {}, 3
    for name, index in LAYERS.items():
        cout = BLOCKS[int(name[4]) - 1][0]
        shapes[f"{index}.weight"], shapes[f"{index}.bias"] = (cout, cin, 3, 3), (cout,)
        cin = cout
    return shapes


def random_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """Seeded Kaiming-initialised weights (torchvision's init), for tests and benchmarks."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in expected_shapes().items():
        if key.endswith("weight"):
            fan_out = shape[0] * 9
            state[key] = torch.randn(shape, generator=gen) * (2.0 / fan_out) ** 0.5
        else:
            state[key] = torch.zeros(shape)
    return state


def _read_file(path: Path) -> dict[str, torch.Tensor]:
    if not path.exists():
        raise StudioError(f"VGG19 weights file {path} does not exist.")
    try:
        if path.suffix == ".safetensors":
            state = load_file(str(path))
        else:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
    except (SafetensorError, OSError, RuntimeError, ValueError, EOFError) as exc:
        raise StudioError(f"VGG19 weights file {path} could not be read ({exc}).") from None
    if not isinstance(state, dict):
        raise StudioError(f"VGG19 weights file {path} does not hold a state dict.")
    return {k: v.float() for k, v in _features(state, str(path)).items()}


def _features(state: dict, origin: str) -> dict[str, torch.Tensor]:
    """The `features` part of a torchvision VGG19 state dict (full or features only), checked."""
    if any(k.startswith("features.") for k in state):
        state = {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}
    expected = expected_shapes()
    wrong = [k for k, shape in expected.items() if k not in state or tuple(state[k].shape) != shape]
    if wrong:
        raise StudioError(f"{origin} is not a torchvision VGG19 state dict (missing or misshapen: {', '.join(wrong[:4])}).")
    return {k: state[k] for k in expected}


def torchvision_cache() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / TORCHVISION_FILE


def features_file(root: str | Path | None = None) -> Path:
    return Path(root or settings.checkpoints_root()) / "vgg19" / FEATURES_FILE


def find_weights(root: str | Path | None = None) -> Path | None:
    """The weights file that `resolve_weights(None)` would read, without reading it."""
    if settings.vgg_weights():
        return settings.vgg_weights()
    return next((p for p in (features_file(root), torchvision_cache()) if p.exists()), None)


def resolve_weights(weights: str | Path | None = None, root: str | Path | None = None) -> tuple[dict[str, torch.Tensor], str]:
    """(features state dict, where it came from), or a StudioError saying how to get weights."""
    if weights is not None and str(weights) == RANDOM:
        return random_state(), "random weights (for tests and benchmarks only: the pictures mean nothing)"
    if weights is not None:
        return _read_file(Path(weights)), str(weights)
    found = find_weights(root)
    if found is None:
        raise StudioError(HOW_TO_GET)
    return _read_file(found), str(found)


def fetch_vgg19(root: str | Path | None = None) -> Path:
    """Download torchvision's IMAGENET1K_V1 VGG19 once and keep its features as fp16 safetensors."""
    from torchvision.models import VGG19_Weights

    target = features_file(root)
    if target.exists():
        return target
    try:
        # The state dict only (torchvision's hub cache keeps the file): building the whole
        # model would also allocate its 120 M-parameter classifier just to throw it away.
        full = VGG19_Weights.IMAGENET1K_V1.get_state_dict(progress=True, check_hash=True)
    except (OSError, RuntimeError) as exc:  # URLError is an OSError
        raise StudioError(f"VGG19's weights could not be downloaded ({type(exc).__name__}: no internet?). Run "
                          "`studio fetch vgg19` once on a machine with internet, or choose EfficientNet-Lite1, "
                          "which works offline.") from None
    features = {k: v.half().contiguous() for k, v in _features(full, VGG19_Weights.IMAGENET1K_V1.url).items()}
    target.parent.mkdir(parents=True, exist_ok=True)
    save_file(features, str(target))
    (target.parent / "README.json").write_text(json.dumps({
        "what": "VGG19 convolutional features, torchvision IMAGENET1K_V1, stored as fp16",
        "licence": "torchvision (BSD-3-Clause); weights from the VGG authors (CC-BY-4.0)",
        "source": "torchvision.models.VGG19_Weights.IMAGENET1K_V1"}, indent=2))
    return target


class VGGFeatures(nn.Module):
    """(B, 3, H, W) RGB in [0, 1] -> {layer name: post-ReLU activation (B, C, h, w)}.

    Built only up to the deepest layer asked for. The ImageNet normalisation is
    folded into the first convolution (with the input padded by the mean colour, so
    borders are exact), the other convolutions run by Winograd's algorithm on the CPU
    (winograd.py), ReLUs run in place, and maps are channels-last.
    """

    def __init__(self, state: dict[str, torch.Tensor], taps: list[str]):
        super().__init__()
        unknown = [t for t in taps if t not in LAYERS]
        if unknown:
            raise StudioError(f"Unknown VGG19 layer(s) {unknown}; layers are {', '.join(LAYERS)}.")
        self.taps = list(taps)
        deepest = max(LAYERS[t] for t in taps)
        mean = torch.tensor(MEAN).view(1, 3, 1, 1)
        std = torch.tensor(STD).view(1, 3, 1, 1)
        self.register_buffer("mean", mean, persistent=False)
        self.layers = nn.ModuleList()
        self.names: list[str | None] = []
        index_to_name = {v: k for k, v in LAYERS.items()}
        for index in range(deepest + 1):
            if index in index_to_name:
                w, b = state[f"{index}.weight"].clone(), state[f"{index}.bias"].clone()
                if index == 0:  # conv((x - m) / s) == conv'(x) with w' = w / s, b' = b - sum(w * m / s)
                    b = b - (w * (mean / std)).sum(dim=(1, 2, 3))
                    w = w / std
                if index == 0:  # padding 0: the input arrives padded with the mean colour
                    conv = nn.Conv2d(w.shape[1], w.shape[0], 3, padding=0)
                    conv.weight.data.copy_(w)
                    conv.bias.data.copy_(b)
                else:
                    conv = WinogradConv3x3(w, b)
                self.layers.append(conv)
                self.layers.append(nn.ReLU(inplace=True))
                self.names += [None, index_to_name[index] if index_to_name[index] in taps else None]
            elif index - 1 in index_to_name:
                continue  # the ReLU, added with its convolution
            else:
                self.layers.append(nn.MaxPool2d(2, 2))
                self.names.append(None)
        self.requires_grad_(False).eval()
        self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        # Pad with the mean colour: after the folded normalisation that is the zero padding
        # the original network saw.
        x = F.pad(x - self.mean, (1, 1, 1, 1)) + self.mean
        x = x.contiguous(memory_format=torch.channels_last)
        out = {}
        for layer, name in zip(self.layers, self.names):
            x = layer(x)
            if name is not None:
                out[name] = x
        return out


def reference_features(state: dict[str, torch.Tensor], x: torch.Tensor, taps: list[str]) -> dict[str, torch.Tensor]:
    """The plain computation (normalise, torchvision's layers), to check VGGFeatures against."""
    from torchvision.models import vgg19

    net = vgg19().features
    net.load_state_dict(state, strict=False)
    x = (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
    want = {LAYERS[t] + 1: t for t in taps}  # the ReLU after each tapped convolution
    out = {}
    for i, layer in enumerate(net):
        x = layer(x) if not isinstance(layer, nn.ReLU) else torch.relu(x)
        if i in want:
            out[want[i]] = x
        if len(out) == len(taps):
            break
    return out

