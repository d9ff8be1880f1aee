"""Helpers shared by the training tests (and the SIGKILL subprocess): a tiny CNN."""

from __future__ import annotations

import torch
from torch import nn

from striate.train import TrainConfig

# 240 samples, batch 32 -> 8 steps per epoch (the last one partial), 3 epochs = 24 steps
RESUME_CFG = TrainConfig(epochs=3, batch_size=32, progress=False, threads=1,
                         checkpoint_every=5, restore_best=False, val_fraction=0.2, ema=0.9)


def tiny_cnn(seed: int = 0, dropout: float = 0.0, batchnorm: bool = False) -> nn.Module:
    """Conv-ReLU-pool twice and a linear classifier, for (1, 8, 8) inputs."""
    torch.manual_seed(seed)
    layers: list[nn.Module] = [nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                               nn.Conv2d(8, 16, 3, padding=1)]
    if batchnorm:
        layers.append(nn.BatchNorm2d(16))
    layers += [nn.ReLU(), nn.MaxPool2d(2), nn.Flatten()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(64, 10))
    return nn.Sequential(*layers)
