"""Rotation and zoom in one resampling, for the training loop.

``striate.data.Augment`` does the shifts, flips and colour jitter; rotation and scaling are
done here together so that an image is interpolated once, not twice. Random numbers come
from the generator of the batch, which the trainer derives from (seed, epoch, batch).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def rotate_and_scale(x: torch.Tensor, generator: torch.Generator, rotate: float,
                     scale: float) -> torch.Tensor:
    """Rotate each image by U(-rotate, rotate) degrees and zoom by U(1-scale, 1+scale).

    Bilinear, zeros outside. Shape: ``(N, C, H, W)`` -> same.
    """
    u = torch.rand(2, x.shape[0], generator=generator, device=generator.device)
    u = u.to(x.device) * 2 - 1
    return warp(x, u[0] * (rotate * math.pi / 180), 1 + u[1] * scale)


def warp(x: torch.Tensor, angle: torch.Tensor, zoom: torch.Tensor) -> torch.Tensor:
    """Rotate image ``i`` by ``angle[i]`` radians (counter-clockwise as displayed, y down)
    and zoom it by ``zoom[i]`` about its centre. Shape: ``(N, C, H, W)`` -> same."""
    n, _, h, w = x.shape
    # output pixel centres in [-1, 1] (align_corners=False), mapped to where they sample
    # the input; dividing by the zoom enlarges the digit, the h/w factors keep non-square
    # images undistorted. Written out because affine_grid costs more than the sampling.
    xs = (torch.arange(w, device=x.device, dtype=x.dtype) * 2 + 1) / w - 1
    ys = (torch.arange(h, device=x.device, dtype=x.dtype) * 2 + 1) / h - 1
    cos = (torch.cos(angle) / zoom).to(x.dtype).view(n, 1, 1)
    sin = (torch.sin(angle) / zoom).to(x.dtype).view(n, 1, 1)
    gx = cos * xs.view(1, 1, w) - sin * (h / w) * ys.view(1, h, 1)
    gy = sin * (w / h) * xs.view(1, 1, w) + cos * ys.view(1, h, 1)
    grid = torch.stack([gx, gy], dim=-1)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
