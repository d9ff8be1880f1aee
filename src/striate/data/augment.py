"""Batched data augmentation on tensors: random crop with padding, horizontal flip, small
rotations and colour jitter, on the CPU or the GPU, reproducible from a ``torch.Generator``.

Every random number comes from the generator given to the call (drawn on the generator's
device), so the same seed gives the same batch on any machine, and augmenting never
touches the global random state.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, overload

import torch
import torch.nn.functional as F

from striate.data.errors import DataError

# ITU-R BT.601 luma weights, the usual grey level for the saturation jitter
_LUMA = (0.299, 0.587, 0.114)


def _number(name: str, value: Any) -> float:
    """``value`` as a float, or a DataError naming the option (``rotate="x"`` is a typo)."""
    if isinstance(value, bool):
        raise DataError(f"Augment: {name}={value!r} must be a number, not a switch")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DataError(f"Augment: {name}={value!r} must be a number (e.g. {name}=0.1)"
                        ) from None


@dataclass(frozen=True)
class Augment:
    """Random augmentation of float batches ``(N, C, H, W)`` (or ``(N, C, L)``).

    Args:
        crop_padding: pad each side with this many zeros, then crop back at a random
            offset: the content shifts by up to ``crop_padding`` pixels per axis (the CIFAR
            recipe uses 4).
        flip: mirror each image left-right with probability 1/2.
        rotate: rotate each image by an angle drawn uniformly from ``[-rotate, rotate]``
            degrees (bilinear, zeros outside).
        jitter: scale brightness, contrast and (for 3 channels) saturation by factors
            drawn from ``[1 - jitter, 1 + jitter]``, after the geometric steps; the
            result is clamped to 0–1, so apply it before normalising.

    Shape: output = input. Sequences ``(N, C, L)`` accept ``crop_padding`` (a shift
    along L) and ``flip`` (reversal) only.

    Raises:
        DataError: a negative or out-of-range option, a uint8 batch, an unsupported rank.
    """

    crop_padding: int = 0
    flip: bool = False
    rotate: float = 0.0
    jitter: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.crop_padding, bool) or not isinstance(self.crop_padding, int) \
                or self.crop_padding < 0:
            raise DataError(f"Augment: crop_padding={self.crop_padding!r} must be an integer "
                            ">= 0 (pixels of padding, e.g. 4)")
        if not 0.0 <= _number("rotate", self.rotate) <= 180.0:
            raise DataError(f"Augment: rotate={self.rotate} must be between 0 and 180 "
                            "degrees (e.g. 10)")
        if not 0.0 <= _number("jitter", self.jitter) < 1.0:
            raise DataError(f"Augment: jitter={self.jitter} must be in [0, 1) (e.g. 0.2 "
                            "for factors 0.8–1.2)")

    @property
    def enabled(self) -> bool:
        """Whether the augmentation changes anything."""
        return bool(self.crop_padding or self.flip or self.rotate or self.jitter)

    def config(self) -> dict[str, Any]:
        """The constructor arguments, JSON-able."""
        return asdict(self)

    @overload
    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None
                 ) -> torch.Tensor: ...

    @overload
    def __call__(self, x: torch.Tensor, generator: torch.Generator | None,
                 mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None,
                 mask: torch.Tensor | None = None
                 ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Augment a batch; with ``mask`` (int ``(N, H, W)``), move it with the image.

        The mask follows the geometric steps (crop, flip, rotation with nearest
        sampling; uncovered pixels become 0) and ignores the colour jitter.
        """
        self._check(x, mask)
        if not self.enabled:
            return x if mask is None else (x, mask)
        n = x.shape[0]

        def uniform(*shape: int) -> torch.Tensor:
            dev = generator.device if generator is not None else torch.device("cpu")
            return torch.rand(shape, generator=generator, device=dev).to(x.device)

        m = None if mask is None else mask[:, None]
        if self.rotate:
            angles = torch.deg2rad((2.0 * uniform(n) - 1.0) * float(self.rotate))
            x, m = _rotate(x, angles, m)
        mirror = uniform(n) < 0.5 if self.flip else None
        if self.crop_padding:
            offsets = torch.floor(uniform(2, n) * (2 * self.crop_padding + 1)).long()
            offsets = offsets.clamp_(max=2 * self.crop_padding)
            x = _crop(x, offsets, self.crop_padding, mirror)
            if m is not None:
                m = _crop(m, offsets, self.crop_padding, mirror)
        elif mirror is not None:
            x = torch.where(mirror.view(-1, *[1] * (x.ndim - 1)), x.flip(-1), x)
            if m is not None:
                m = torch.where(mirror.view(-1, 1, 1, 1), m.flip(-1), m)
        if self.jitter:
            # last, so the zeros brought in by rotation and padding change with the rest of
            # the image instead of showing as a dark frame
            x = _jitter(x, 1.0 + self.jitter * (2.0 * uniform(3, n) - 1.0))
        return x if m is None else (x, m[:, 0])

    def _check(self, x: torch.Tensor, mask: torch.Tensor | None) -> None:
        if not isinstance(x, torch.Tensor):
            raise DataError(f"Augment: expected a tensor batch, got {type(x).__name__}")
        if not x.is_floating_point():
            raise DataError(f"Augment: got a {str(x.dtype).removeprefix('torch.')} batch; "
                            "convert it first with striate.data.to_float(x) (0–1 floats)")
        if x.ndim == 3:
            if self.rotate or self.jitter:
                raise DataError("Augment: rotate and jitter need images (N, C, H, W), got "
                                f"sequences {tuple(x.shape)}; use crop_padding/flip only")
        elif x.ndim != 4:
            raise DataError(f"Augment: expected (N, C, H, W) or (N, C, L), got "
                            f"{tuple(x.shape)}")
        if mask is not None and (x.ndim != 4 or tuple(mask.shape) != (x.shape[0],
                                                                       *x.shape[2:])):
            raise DataError(f"Augment: mask {tuple(mask.shape)} must be (N, H, W) matching "
                            f"the images {tuple(x.shape)}")


def _jitter(x: torch.Tensor, factors: torch.Tensor) -> torch.Tensor:
    """Brightness, contrast, saturation factors ``(3, N)``, applied in that order."""
    bright, contrast, saturation = (f.to(x.dtype).view(-1, *[1] * (x.ndim - 1))
                                    for f in factors)
    x = (x * bright).clamp(0.0, 1.0)
    if x.shape[1] == 3:
        luma = torch.tensor(_LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        grey = (x * luma).sum(dim=1, keepdim=True)
    else:
        grey = x.mean(dim=1, keepdim=True)
    mean = grey.mean(dim=(1, 2, 3), keepdim=True)
    x = ((x - mean) * contrast + mean).clamp(0.0, 1.0)
    if x.shape[1] == 3:
        grey = (x * luma).sum(dim=1, keepdim=True)
        x = ((x - grey) * saturation + grey).clamp(0.0, 1.0)
    return x


def _rotate(x: torch.Tensor, angles: torch.Tensor, mask: torch.Tensor | None
            ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Rotate each image about its centre; angles in radians, ``(N,)``."""
    h, w = x.shape[-2:]
    cos, sin = torch.cos(angles), torch.sin(angles)
    # the grid is in [-1, 1] per axis; the H/W factors keep non-square images undistorted
    theta = torch.stack([torch.stack([cos, -sin * (h / w), torch.zeros_like(cos)], dim=-1),
                         torch.stack([sin * (w / h), cos, torch.zeros_like(cos)], dim=-1)],
                        dim=1).to(x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if mask is not None:
        moved = F.grid_sample(mask.to(x.dtype), grid, mode="nearest", padding_mode="zeros",
                              align_corners=False)
        mask = moved.round().to(mask.dtype)
    return out, mask


def _crop(x: torch.Tensor, offsets: torch.Tensor, pad: int,
          mirror: torch.Tensor | None) -> torch.Tensor:
    """Zero-pad by ``pad`` and crop back at per-sample offsets ``(2, N)`` in ``0..2*pad``,
    mirroring the samples where ``mirror`` is set, in one gather.

    The padding is never built: indices are clamped into the image and the positions
    that fall in the padding are zeroed, which is several times faster on the CPU than
    padding then cropping. Sequences ``(N, C, L)`` use only the second row of offsets.
    """
    n, c = x.shape[:2]
    width = x.shape[-1]
    cols = torch.arange(width, device=x.device).expand(n, width)
    if mirror is not None:
        # reading the window's columns backwards is the flip, at no extra pass
        cols = torch.where(mirror[:, None], width - 1 - cols, cols)
    cols = offsets[1][:, None] - pad + cols
    col_ok = (cols >= 0) & (cols < width)
    cols = cols.clamp(0, width - 1)
    if x.ndim == 3:
        out = torch.gather(x, 2, cols[:, None, :].expand(n, c, width))
        return out * col_ok[:, None, :]
    h = x.shape[-2]
    rows = offsets[0][:, None] - pad + torch.arange(h, device=x.device)
    row_ok = (rows >= 0) & (rows < h)
    rows = rows.clamp(0, h - 1)
    flat = (rows[:, :, None] * width + cols[:, None, :]).reshape(n, 1, h * width)
    out = torch.gather(x.reshape(n, c, -1), 2, flat.expand(n, c, h * width))
    keep = (row_ok[:, :, None] & col_ok[:, None, :])[:, None]
    return out.reshape(n, c, h, width) * keep
