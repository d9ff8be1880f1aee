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
    # affine_grid maps output to input coordinates: dividing by the zoom enlarges the digit;
    # the h/w factors keep non-square images undistorted
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    zero = torch.zeros_like(cos)
    theta = torch.stack([torch.stack([cos, -sin * (h / w), zero], dim=1),
                         torch.stack([sin * (w / h), cos, zero], dim=1)], dim=1)
    grid = F.affine_grid(theta.to(x.dtype), [n, x.shape[1], h, w], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
