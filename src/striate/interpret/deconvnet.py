"""DeconvNet reconstructions (Zeiler & Fergus, "Visualizing and Understanding Convolutional
Networks", ECCV 2014 / arXiv 2013).

Forward to a target layer, recording the max-pooling switches; keep one unit (or a whole
feature map) and zero the rest; go back down to pixel space through unpooling with the
switches, rectification of the signal and the transposed filters. Mathematically that is
backpropagation with the ReLU's backward replaced by a ReLU of the signal (see
:mod:`striate.interpret._rules`): max pooling's backward *is* unpooling through the
switches, a convolution's backward *is* the transposed convolution with the same filters.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from striate.interpret._common import (
    Tensorish,
    capture,
    check_input,
    make_preprocess,
    model_device,
)
from striate.interpret._rules import backward_rule, evaluating, leaves_before, not_invertible
from striate.layers.errors import ConfigError


@dataclass
class Reconstruction:
    """DeconvNet projections of one unit (or feature map) per sample.

    Attributes:
        layer: the target layer.
        images: ``(N, C, *spatial)`` reconstructions in the model's input space.
        inputs: ``(N, C, *spatial)`` the inputs on the display scale (0–1 for pixels).
        channels: ``(N,)`` the kept channel of each sample.
        units: ``(N, ndim)`` the kept unit's position in the feature map (-1 for a whole map).
        activations: ``(N,)`` the kept unit's activation (the map's maximum for a whole map).
        field: the layer's receptive field (drawn as a box around each kept unit), or None.
    """

    layer: str
    images: np.ndarray
    inputs: np.ndarray
    channels: np.ndarray
    units: np.ndarray
    activations: np.ndarray
    field: Any = None


SMOOTH = ("error", "derivative")


def check_invertible(model: nn.Module, x: torch.Tensor, layer: str) -> None:
    """Raise when a layer between the input and ``layer`` has no DeconvNet rule.

    Raises:
        ConfigError: naming the first such layer and its type.
    """
    for name, mod in leaves_before(model, x, layer):
        if not_invertible(mod) and name != layer:
            raise ConfigError(
                f"DeconvNet cannot go back through {name} ({type(mod).__name__}): only "
                "rectifiers (ReLU), max/average pooling and linear layers can be inverted; "
                f"pick a layer before {name}, pass smooth='derivative' (--smooth derivative) "
                "to go back through it by its derivative, or use saliency"
            ).at("--layer")


def deconvnet(model: nn.Module, x: Tensorish, layer: str, *, channel: int | Sequence[int] |
              None = None, unit: Sequence[int] | Sequence[Sequence[int]] | None = None,
              keep: str = "unit", smooth: str = "error", preprocess: Any = None,
              normalization: Any = None, with_field: bool = True) -> Reconstruction:
    """Project units of ``layer`` back to the input with a DeconvNet.

    Args:
        x: one raw sample ``(C, H, W)`` or a batch ``(N, C, H, W)`` (uint8 or float).
        channel: the feature map to keep, one for all samples or one per sample (default:
            the map with the strongest unit of each sample).
        unit: the position in the map to keep, one for all or one per sample (default: the
            map's strongest unit).
        keep: ``"unit"`` keeps one unit, ``"map"`` keeps the whole feature map.
        smooth: what to do at a smooth nonlinearity (tanh, sigmoid) on the way down, which
            the paper's DeconvNet has no rule for: ``"error"`` (default) refuses,
            ``"derivative"`` multiplies the signal by its local derivative (a departure
            from the paper, for tanh networks such as LeNet-5).
        with_field: also compute the layer's receptive field (to draw the unit's box).

    Shape:
        images: same as the (padded) input batch, ``(N, C, *spatial)``

    Raises:
        ConfigError: unknown layer, channel out of range, or a layer on the way down that
            DeconvNet cannot invert (Tanh, sigmoid, …).
    """
    if keep not in ("unit", "map"):
        raise ConfigError(f"keep must be 'unit' or 'map', got {keep!r}").at("--keep")
    if smooth not in SMOOTH:
        raise ConfigError(f"smooth must be 'error' or 'derivative', got {smooth!r}"
                          ).at("--smooth")
    raw = torch.as_tensor(np.asarray(x)) if isinstance(x, np.ndarray) else x
    single = raw.dim() == _input_dims(model, raw)
    raw = raw[None] if single else raw
    prep = make_preprocess(model, preprocess, normalization, tuple(raw.shape[1:]))
    disp = prep.display(raw)
    check_input(model, tuple(disp.shape[1:]))
    device = model_device(model)
    inp = prep.model_input(disp).to(device)
    with evaluating(model):
        if smooth == "error":
            check_invertible(model, inp[:1], layer)
        inp = inp.detach().requires_grad_(True)
        with backward_rule(model, "deconvnet"), torch.enable_grad():
            found, _ = capture(model, inp, [layer], keep_graph=True)
            act = found[layer]
            signal, chans, units, values = _keep(act.detach(), channel, unit, keep, layer)
            (grad,) = torch.autograd.grad(act, inp, signal)
    field = None
    if with_field and keep == "unit" and units.shape[1] in (1, 2):
        from striate.interpret.receptive import receptive_field
        from striate.layers.errors import StriateError

        try:
            field = receptive_field(model, tuple(disp.shape[1:]), layer)
        except StriateError:
            field = None  # only the box is lost
    return Reconstruction(layer=layer, images=grad.float().cpu().numpy(),
                          inputs=disp.cpu().numpy(), channels=chans, units=units,
                          activations=values, field=field)


def _input_dims(model: nn.Module, raw: torch.Tensor) -> int:
    from striate.interpret._common import CONV_TYPES

    for mod in model.modules():
        if isinstance(mod, CONV_TYPES):
            return mod.weight.dim() - 1
    return raw.dim() if raw.dim() <= 3 else raw.dim() - 1


def _per_sample(value: Any, n: int, what: str) -> list[Any]:
    if value is None:
        return [None] * n
    if isinstance(value, int | np.integer):
        return [int(value)] * n
    seq = list(value)
    if what == "unit" and seq and isinstance(seq[0], int | np.integer):
        return [tuple(int(v) for v in seq)] * n
    if len(seq) != n:
        raise ConfigError(f"{what} has {len(seq)} entries for a batch of {n}")
    return seq


def _keep(act: torch.Tensor, channel: Any, unit: Any, keep: str, layer: str,
          ) -> tuple[torch.Tensor, np.ndarray, np.ndarray, np.ndarray]:
    """The backward signal: zero except the kept unit (with its activation) or map."""
    n, c = act.shape[0], act.shape[1] if act.dim() > 1 else 1
    spatial = tuple(act.shape[2:])
    flat = act.reshape(n, c, -1)
    chans = _per_sample(channel, n, "channel")
    units = _per_sample(unit, n, "unit")
    signal = torch.zeros_like(flat)
    out_c = np.zeros(n, dtype=np.int64)
    out_u = np.full((n, len(spatial)), -1, dtype=np.int64)
    out_v = np.zeros(n, dtype=np.float32)
    for i in range(n):
        ch = chans[i]
        if ch is None:
            ch = int(flat[i].max(dim=1).values.argmax())
        if not 0 <= ch < c:
            raise ConfigError(f"{layer} has {c} channels (0…{c - 1}), got channel {ch}"
                              ).at("--channel")
        if keep == "map":
            signal[i, ch] = flat[i, ch]
            out_v[i] = float(flat[i, ch].max())
        else:
            u = units[i]
            if u is None:
                pos = int(flat[i, ch].argmax())
            else:
                if len(u) != len(spatial):
                    raise ConfigError(
                        f"{layer}'s maps have {len(spatial)} axes {spatial}; unit {tuple(u)} "
                        f"gives {len(u)} coordinate(s); give {len(spatial)}, e.g. "
                        f"{','.join('0' * len(spatial))}").at("--unit")
                if any(not 0 <= a < s for a, s in zip(u, spatial, strict=True)):
                    raise ConfigError(f"{layer}'s maps are {spatial}; unit {tuple(u)} is "
                                      "outside them").at("--unit")
                pos = int(np.ravel_multi_index(tuple(u), spatial)) if spatial else 0
            signal[i, ch, pos] = flat[i, ch, pos]
            out_v[i] = float(flat[i, ch, pos])
            out_u[i] = np.unravel_index(pos, spatial) if spatial else ()
        out_c[i] = ch
    return signal.reshape(act.shape), out_c, out_u, out_v


def save_deconvnet(result: Reconstruction, path: str | os.PathLike[str], *,
                   force: bool = False) -> Path:
    """Draw each input beside its reconstruction (scaled to 0–1) into a PNG."""
    from striate.interpret._plot import draw_grid, pyplot, save_figure

    plt = pyplot()
    n = len(result.images)
    fig, axes = plt.subplots(n, 2, figsize=(3.2, 1.6 * n + 0.4), squeeze=False)
    images: list[np.ndarray] = []
    titles: list[str] = []
    for i in range(n):
        images += [result.inputs[i], result.images[i]]
        where = "" if result.units[i][0] < 0 else f" at {tuple(int(v) for v in result.units[i])}"
        titles += ["input", f"ch {result.channels[i]}{where}"]
    draw_grid(axes, images, titles=titles)
    if result.field is not None and len(result.field.size) == 2:
        from matplotlib.patches import Rectangle

        for i in range(n):
            (r0, r1), (c0, c1) = result.field.full_box(result.units[i])
            for ax in axes[i]:
                ax.add_patch(Rectangle((c0 - 0.5, r0 - 0.5), c1 - c0, r1 - r0, fill=False,
                                       edgecolor="tab:red", lw=1))
    fig.suptitle(f"DeconvNet: {result.layer}", fontsize=9)
    return save_figure(fig, path, force=force)
