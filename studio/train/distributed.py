"""Where a trainer runs: one CPU process by default, a GPU when there is one, several
processes under `torchrun --nproc_per_node N` (DistributedDataParallel).

Under torchrun every process draws its own batches (seeded by rank), gradients are
averaged across processes, and only rank 0 writes logs, state and checkpoints.
"""

from __future__ import annotations

import contextlib
import gc
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ..device import pick_device


@dataclass(frozen=True)
class Placement:
    rank: int
    world: int
    device: torch.device
    amp: bool  # bfloat16 autocast: on CUDA, and on CPUs with AMX (fp32 elsewhere, where bf16 is slow)

    @property
    def main(self) -> bool:
        return self.rank == 0

    def autocast(self) -> contextlib.AbstractContextManager:
        if not self.amp:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)


def setup(amp: bool = True) -> Placement:
    """Join the process group when launched by torchrun; pick the device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    rank = dist.get_rank() if world > 1 else 0
    if torch.cuda.is_available() and world > 1:
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    else:
        device = pick_device()
    return Placement(rank, world, device, amp and fast_bfloat16(device))


def fast_bfloat16(device: torch.device) -> bool:
    """Whether bfloat16 autocast speeds training up here: on CUDA, and on CPUs with AMX tiles,
    where oneDNN runs bf16 convolutions on them. Without AMX, CPU bf16 is emulated and slow,
    so those CPUs stay in float32."""
    if device.type == "cuda":
        return True
    amx = getattr(torch.cpu, "_is_amx_tile_supported", None)
    return device.type == "cpu" and amx is not None and bool(amx())


def wrap(model: nn.Module, placement: Placement) -> nn.Module:
    """The module to train with: DDP across processes, the module itself otherwise.

    Buffers are not broadcast: spectral norm's power-iteration vectors are updated in
    place on every forward, which DDP's broadcast would race with.
    """
    if placement.world == 1:
        return model
    ids = [placement.device.index] if placement.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids, broadcast_buffers=False)


def seed_rank(seed: int, place: Placement, step: int = 0) -> None:
    """Under torchrun, give each rank its own random stream (its own batches and augmentation)."""
    if place.world > 1:
        torch.manual_seed(seed + 100_003 * place.rank + step)


def teardown() -> None:
    """Leave the process group and free what training left (DDP wrappers: drop them first, see
    Trainer.unwrap) while Python still runs. Left to the collection at interpreter exit, a gloo
    worker thread can be left needing the GIL that exit no longer gives, and the rank aborts
    ("terminate called without an active exception").
    """
    if dist.is_initialized():
        dist.destroy_process_group()
    gc.collect()
