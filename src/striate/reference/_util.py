"""Small helpers shared by the reference implementations: argument checks and padding."""

from __future__ import annotations

import numpy as np

from striate.layers.errors import ConfigError, ShapeError
from striate.layers.formulas import window_fit

Pair = int | tuple[int, int]


def pair(name: str, value: Pair, *, minimum: int = 1) -> tuple[int, int]:
    """``3`` -> ``(3, 3)``; ``(3, 2)`` stays; anything else (or below ``minimum``) raises."""
    values = (value, value) if isinstance(value, int | np.integer) else tuple(value)
    if len(values) != 2 or any(
        isinstance(v, bool) or not isinstance(v, int | np.integer) or v < minimum for v in values
    ):
        raise ConfigError(
            f"{name} must be an integer ≥ {minimum} or a pair of them. Received: {name}={value!r}"
        )
    return int(values[0]), int(values[1])


def as_batch(name: str, x: np.ndarray, ndim: int = 4) -> np.ndarray:
    """Check that ``x`` is a float array of ``ndim`` dimensions (``(N, C, H, W)`` by default)."""
    x = np.asarray(x)
    if x.ndim != ndim:
        raise ShapeError(
            f"{name} must have {ndim} dimensions (N, C, H, W). Received shape {x.shape}; "
            "add a batch axis with x[None] for a single sample"
        )
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    return x


def out_size(size: int, kernel: int, stride: int, padding: int, dilation: int, axis: str,
             ceil_mode: bool = False) -> int:
    """Output size along one axis, from :func:`striate.layers.formulas.window_fit`."""
    try:
        return window_fit(size, kernel, stride, padding, dilation, ceil_mode).output
    except ShapeError as err:
        raise err.at(f"{axis} axis") from None


def pad_hw(x: np.ndarray, before: tuple[int, int], after: tuple[int, int],
           value: float = 0.0) -> np.ndarray:
    """Pad (positive amounts) or crop (negative amounts) the last two axes.

    Transposed convolution needs the negative case: its "heavy" padding ``k_eff − 1 − p``
    is negative when the forward padding ``p`` exceeded ``k_eff − 1``.
    """
    grow = [(0, 0)] * (x.ndim - 2) + [(max(b, 0), max(a, 0)) for b, a in zip(before, after,
                                                                           strict=True)]
    x = np.pad(x, grow, constant_values=value)
    h, w = x.shape[-2:]
    top, left = max(-before[0], 0), max(-before[1], 0)
    bottom, right = h - max(-after[0], 0), w - max(-after[1], 0)
    return x[..., top:bottom, left:right]
