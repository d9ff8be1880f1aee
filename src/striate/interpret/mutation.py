"""Sequence models (DeepBind, Alipanahi et al., Nature Biotechnology 2015): in-silico
mutation maps and position weight matrices of first-layer filters.

A mutation map scores every single-base substitution of a one-hot sequence ``(4, L)``: the
change of the model's output when base ``b`` is put at position ``i``. A filter's position
weight matrix counts the bases of the subsequences that activate it most over a data set.
"""

from __future__ import annotations

import os
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
    data_arrays,
    first_conv,
    iter_batches,
    model_device,
    run_model,
    take,
)
from striate.interpret._rules import evaluating
from striate.interpret.patches import RunningTopK
from striate.layers.errors import ConfigError, ShapeError

DNA = "ACGT"
RNA = "ACGU"


@dataclass
class MutationMap:
    """Output change for every substitution.

    Attributes:
        sequence: ``(4, L)`` the one-hot input. letters: the sequence as text.
        delta: ``(4, L)`` output(mutant with base b at i) − output(reference); 0 where b is
            the reference base.
        reference: the output on the unmutated sequence. output: the output index followed.
    """

    sequence: np.ndarray
    letters: str
    delta: np.ndarray
    reference: float
    output: int
    alphabet: str = DNA


def _check_one_hot(seq: torch.Tensor) -> None:
    if seq.dim() != 2 or seq.shape[0] != 4:
        raise ShapeError(f"a mutation map needs a one-hot sequence (4, L), got shape "
                         f"{tuple(seq.shape)}").at("input")
    sums = seq.sum(dim=0)
    if not torch.all((sums == 1) | (sums == 0)):
        raise ShapeError("the sequence is not one-hot: some positions do not sum to 1; "
                         "encode each base as one of the 4 unit vectors").at("input")


def _score(out: Any, output: int) -> torch.Tensor:
    out = out.reshape(out.shape[0], -1)
    if not 0 <= output < out.shape[1]:
        raise ConfigError(f"output {output} is outside the model's {out.shape[1]} outputs"
                          ).at("--output")
    return out[:, output]


def mutation_map(model: nn.Module, sequence: Tensorish, *, output: int = 0,
                 batch_size: int = 256, alphabet: str = DNA) -> MutationMap:
    """The change of output ``output`` for each of the ``3·L`` substitutions of ``sequence``.

    Shape:
        delta: ``(4, L)``, rows in ``alphabet`` order (A, C, G, T)

    Raises:
        ShapeError: a sequence that is not one-hot ``(4, L)`` or that the model cannot take.
    """
    seq = torch.as_tensor(np.asarray(sequence), dtype=torch.float32) \
        if isinstance(sequence, np.ndarray) else sequence.float()
    _check_one_hot(seq)
    try:
        check_input(model, tuple(seq.shape))
    except ShapeError as err:
        # an image model given a DNA sequence: say what a mutation map needs, not only the shape
        raise ShapeError(f"{err.message}; a mutation map needs a model over one-hot DNA "
                         f"(4, L) sequences, such as zoo deepbind", err.where) from None
    length = seq.shape[1]
    device = model_device(model)
    # every (position, base) variant, 4·L of them, run batch_size at a time
    variants = [(i, b) for i in range(length) for b in range(4)]
    delta = torch.zeros(4, length)
    with evaluating(model), torch.no_grad():
        ref = float(_score(run_model(model, seq[None].to(device)), output)[0])
        for s in range(0, len(variants), batch_size):
            chunk = variants[s:s + batch_size]
            batch = seq.expand(len(chunk), 4, length).clone()
            for j, (i, b) in enumerate(chunk):
                batch[j, :, i] = 0
                batch[j, b, i] = 1
            scores = _score(run_model(model, batch.to(device)), output).cpu()
            for j, (i, b) in enumerate(chunk):
                delta[b, i] = scores[j] - ref
    letters = "".join(alphabet[int(c)] if float(seq[:, i].sum()) > 0 else "N"
                      for i, c in enumerate(seq.argmax(dim=0)))
    delta[seq.bool()] = 0.0  # the reference base is no mutation
    return MutationMap(seq.numpy(), letters, delta.numpy(), ref, output, alphabet)


def save_mutation_map(result: MutationMap, path: str | os.PathLike[str], *,
                      force: bool = False) -> Path:
    """Draw the mutation map as a heat-map (blue: loss, red: gain) with the sequence
    written under it."""
    from striate.interpret._plot import pyplot, save_figure

    plt = pyplot()
    length = result.delta.shape[1]
    fig, ax = plt.subplots(figsize=(max(4.0, 0.16 * length + 1.5), 2.0))
    lim = float(np.abs(result.delta).max()) or 1.0
    im = ax.imshow(result.delta, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto",
                   interpolation="nearest")
    ax.set_yticks(range(4), list(result.alphabet))
    ax.set_xticks(range(length), list(result.letters), fontsize=7 if length <= 80 else 5.5,
                  family="monospace")
    ax.set_title(f"mutation map: output {result.output}, reference {result.reference:.3g}",
                 fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02, label="Δ output")
    return save_figure(fig, path, force=force)


@dataclass
class FilterPWMs:
    """Position weight matrices of a convolution's filters.

    Attributes:
        layer: the convolution. pwms: ``(F, 4, w)`` base frequencies per filter and offset
            (columns sum to 1). counts: how many subsequences each matrix counts.
    """

    layer: str
    pwms: np.ndarray
    counts: np.ndarray
    alphabet: str = DNA


def filter_pwms(model: nn.Module, data: Any, *, layer: str | None = None, top: int = 100,
                batch_size: int = 256, limit: int | None = None) -> FilterPWMs:
    """Turn each filter of a 1-D convolution into a position weight matrix from the ``top``
    subsequences (one per sequence, at its strongest position) that activate it most.

    Raises:
        ConfigError: a layer that is no Conv1d, or a bad option.
    """
    from striate.interpret._common import find_layer

    name, conv = first_conv(model) if layer is None else (layer, find_layer(model, layer))
    if not isinstance(conv, nn.Conv1d):
        raise ConfigError(f"{name} is a {type(conv).__name__}; PWMs need a Conv1d over one-hot "
                          "sequences").at("--layer")
    x, _, _ = data_arrays(data)
    check_input(model, tuple(take(x, slice(0, 1)).shape[1:]))
    tk: RunningTopK | None = None
    device = model_device(model)
    with evaluating(model), torch.no_grad():
        for start, raw in iter_batches(x, batch_size, limit):
            act = capture(model, raw.float().to(device), [name])[0][name]
            best, pos = act.max(dim=2)
            if tk is None:
                tk = RunningTopK(act.shape[1], top)
            idx = torch.arange(start, start + act.shape[0]).expand(act.shape[1], -1)
            tk.update(best.T, idx, pos.T)
        if tk is None:
            raise ConfigError("the data set is empty")
        n_f = tk.values.shape[0]
        width = conv.kernel_size[0]
        pwms = np.zeros((n_f, 4, width), dtype=np.float64)
        counts = np.zeros(n_f, dtype=np.int64)
        for f in range(n_f):
            keep = (tk.index[f] >= 0) & (tk.values[f] > 0)
            if not bool(keep.any()):
                continue
            # the windows are read from what the convolution really saw (a model may pad
            # or transform the sequence in its forward), one batch per filter
            seen = _conv_input(model, conv, take(x, tk.index[f][keep].numpy()).float()
                               .to(device))
            for row, p in enumerate(tk.pos[f][keep].tolist()):
                at = p * conv.stride[0] + conv.dilation[0] * np.arange(width)
                pwms[f] += seen[row][:, at].cpu().numpy()
            counts[f] = int(keep.sum())
    totals = pwms.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        pwms = np.where(totals > 0, pwms / np.maximum(totals, 1e-12), 0.25)
    return FilterPWMs(layer=name, pwms=pwms.astype(np.float32), counts=counts)


def _conv_input(model: nn.Module, conv: nn.Conv1d, x: torch.Tensor) -> torch.Tensor:
    """The input of ``conv`` (after its own zero padding) on its first call for ``x``."""
    from striate.interpret._common import StopForward

    got: list[torch.Tensor] = []

    def hook(_m: nn.Module, args: Any) -> None:
        got.append(args[0].detach())
        raise StopForward

    handle = conv.register_forward_pre_hook(hook)
    try:
        run_model(model, x)
    except StopForward:
        pass
    finally:
        handle.remove()
    if conv.padding == "same":  # PyTorch puts the odd extra zero on the right
        total = conv.dilation[0] * (conv.kernel_size[0] - 1)
        pads = (total // 2, total - total // 2)
    else:
        pad = conv.padding[0] if isinstance(conv.padding, tuple) else 0
        pads = (pad, pad)
    return torch.nn.functional.pad(got[0], pads) if any(pads) else got[0]


def information_content(pwm: np.ndarray) -> np.ndarray:
    """Bits per column of a PWM ``(4, w)``: ``2 + Σ p·log2 p`` (Schneider & Stephens 1990)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = np.where(pwm > 0, pwm * np.log2(pwm), 0.0).sum(axis=0)
    return 2.0 + ent


def save_pwms(result: FilterPWMs, path: str | os.PathLike[str], *, max_filters: int = 16,
              force: bool = False) -> Path:
    """Draw each filter's PWM as a sequence logo (letter height = frequency x information)."""
    from matplotlib.patches import PathPatch
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    from striate.interpret._common import grid_side
    from striate.interpret._plot import pyplot, save_figure

    plt = pyplot()
    colours = {"A": "tab:green", "C": "tab:blue", "G": "orange", "T": "tab:red", "U": "tab:red"}
    n = min(len(result.pwms), max_filters)
    rows, cols = grid_side(n)
    width = result.pwms.shape[2]
    fig, axes = plt.subplots(rows, cols, figsize=(cols * (0.25 * width + 0.6), rows * 1.3 + 0.4),
                             squeeze=False)
    for f, ax in enumerate(axes.ravel()):
        if f >= n:
            ax.axis("off")
            continue
        pwm = result.pwms[f]
        bits = information_content(pwm)
        for col in range(width):
            y = 0.0
            for b in np.argsort(pwm[:, col]):
                h = float(pwm[b, col] * bits[col])
                if h <= 1e-3:
                    continue
                letter = result.alphabet[b]
                tp = TextPath((0, 0), letter, size=1, prop={"family": "monospace",
                                                            "weight": "bold"})
                ext = tp.get_extents()
                tr = Affine2D().translate(-ext.x0, -ext.y0).scale(
                    0.9 / ext.width, h / ext.height).translate(col + 0.05, y)
                ax.add_patch(PathPatch(tr.transform_path(tp), color=colours.get(letter, "k"),
                                       lw=0))
                y += h
        ax.set_xlim(0, width)
        ax.set_ylim(0, 2)
        ax.set_xticks([])
        ax.set_yticks([0, 1, 2] if f % cols == 0 else [])
        ax.set_title(f"filter {f} ({result.counts[f]})", fontsize=7)
    fig.suptitle(f"{result.layer}: position weight matrices (bits)", fontsize=9)
    return save_figure(fig, path, force=force)
