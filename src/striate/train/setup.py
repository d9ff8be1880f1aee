"""Setting up a run: device, precision, threads, optimiser, and the seeded data order."""

from __future__ import annotations

import os

import torch
from torch import nn

from striate.layers.errors import StriateError
from striate.train.config import TrainConfig


def mix_seed(*values: int) -> int:
    """A 63-bit seed from several integers (seed, epoch, batch, stream), the same on
    every platform and Python version."""
    h = 0x9E3779B97F4A7C15
    for v in values:
        h = (h ^ (v & 0xFFFFFFFFFFFFFFFF)) * 0xBF58476D1CE4E5B9 & 0xFFFFFFFFFFFFFFFF
        h ^= h >> 31
    return h & 0x7FFFFFFFFFFFFFFF


def epoch_order(seed: int, epoch: int, n: int) -> torch.Tensor:
    """The shuffle of epoch ``epoch``: a permutation of ``n`` derived from (seed, epoch)."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(mix_seed(seed, epoch, 1)))


def resolve_device(name: str) -> torch.device:
    """``auto`` is CUDA when available, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise StriateError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N"
                           ).at("--device") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise StriateError("CUDA is not available on this machine; use --device cpu"
                           ).at("--device")
    return device


def resolve_precision(name: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype, or None for float32. ``auto``: bf16 (or fp16) on CUDA only."""
    if name == "fp32" or (name == "auto" and device.type != "cuda"):
        return None
    if name == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type != "cuda" and name == "fp16":
        raise StriateError("fp16 needs a CUDA device; use --precision bf16 or fp32"
                           ).at("--precision")
    return torch.bfloat16 if name == "bf16" else torch.float16


def default_threads() -> int:
    """The cores this process may use, less those other processes keep busy.

    On a shared machine, more intra-op threads than idle cores makes PyTorch's thread pool
    wait on descheduled threads: a LeNet-5 step measured 10x slower with 2 threads than
    with 1 on two cores under a load of 9. The 1-minute load average tells how many are
    busy.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    try:
        busy = round(os.getloadavg()[0])
    except (AttributeError, OSError):
        busy = 0
    return max(1, min(cores, cores - busy))


def build_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """The optimiser of ``config``; no weight decay on biases and normalisation weights."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim > 1 else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": config.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    groups = [g for g in groups if g["params"]]
    if not groups:
        raise StriateError("the model has no trainable parameters")
    # foreach: one kernel per step for all tensors (PyTorch enables it only on CUDA)
    if config.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum,
                               nesterov=config.nesterov and config.momentum > 0, foreach=True)
    if config.optimizer == "rmsprop":
        return torch.optim.RMSprop(groups, lr=config.lr, momentum=config.momentum,
                                   foreach=True)
    cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    # the fused kernel does the whole update in one pass over each tensor: a LeNet-5 step
    # on the CPU measured 10-15% faster than with foreach (benchmarks/bench_train.py)
    fused = _fused_adam_supported(model)
    return cls(groups, lr=config.lr, betas=tuple(config.betas),
               **({"fused": True} if fused else {"foreach": True}))


def _fused_adam_supported(model: nn.Module) -> bool:
    """Fused Adam(W) runs on CPU tensors from PyTorch 2.4 and on CUDA, float params only."""
    major, minor = (int(part) for part in torch.__version__.split(".")[:2])
    params = [p for p in model.parameters() if p.requires_grad]
    return (major, minor) >= (2, 4) and all(
        p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params)
