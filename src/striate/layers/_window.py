"""Sliding-window shape checks shared by convolution and pooling layers (private)."""

from __future__ import annotations

from striate.layers.errors import ShapeError
from striate.layers.formulas import WindowFit, require_fit, window_fit


def fit_axes(
    describe: str,
    sizes: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    pads: list[tuple[int, int]],
    dilation: tuple[int, ...],
    ceil_mode: bool = False,
) -> list[WindowFit]:
    """``window_fit`` on every spatial axis, its ShapeError prefixed with the layer."""
    fits = []
    for size, k, s, pad, d in zip(sizes, kernel, stride, pads, dilation, strict=True):
        try:
            fits.append(window_fit(size, k, s, pad, d, ceil_mode))
        except ShapeError as err:
            raise ShapeError(f"{describe}: {err.message}") from None
    return fits


def spatial_output(
    describe: str,
    sizes: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    pads: list[tuple[int, int]],
    dilation: tuple[int, ...],
    *,
    ceil_mode: bool = False,
    strict: bool = False,
    also: str = "",
) -> tuple[int, ...]:
    """Output sizes per spatial axis; with ``strict`` a window that drops inputs raises
    (``also`` is one more fix to suggest, e.g. ``ceil_mode=True`` for a pool)."""
    fits = fit_axes(describe, sizes, kernel, stride, pads, dilation, ceil_mode)
    if strict:
        for size, k, s, pad, d in zip(sizes, kernel, stride, pads, dilation, strict=True):
            require_fit(size, k, s, pad, d, describe, ceil_mode=ceil_mode, also=also)
    return tuple(f.output for f in fits)


def dropped(
    describe: str,
    sizes: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    pads: list[tuple[int, int]],
    dilation: tuple[int, ...],
    ceil_mode: bool = False,
) -> tuple[int, ...]:
    """Trailing (padded) inputs that no window covers, per spatial axis."""
    return tuple(f.dropped for f in fit_axes(describe, sizes, kernel, stride, pads, dilation,
                                              ceil_mode))


def compact(values: tuple[int, ...]) -> int | list[int]:
    """JSON form of a per-axis tuple: one int when all axes agree, else a list."""
    return values[0] if len(set(values)) == 1 else list(values)


def ceil_fix(module: object) -> str:
    """``ceil_mode=True`` as one more fix for a pool that rounds down (Caffe rounds up)."""
    return "ceil_mode=True" if getattr(module, "ceil_mode", None) is False else ""
