"""Top-k patches: the input patches that excite each feature map most over a data set
(Zeiler & Fergus 2013, figure 2: "the top 9 activations in a random subset of feature maps
across the validation data, projected down to pixel space" beside "the corresponding image
patches").

The data set is scanned once, batch by batch; per channel a running top-k (k values, image
indices and unit positions) is merged with each batch's per-image maxima, so memory is
``O(batch · activations + channels · k)`` whatever the data set's size. Each winner is
cropped from its image with the unit's receptive field, clipped at the borders.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from striate.interpret._common import (
    capture,
    check_input,
    data_arrays,
    iter_batches,
    make_preprocess,
    model_device,
    take,
)
from striate.interpret._rules import evaluating
from striate.interpret.receptive import receptive_field
from striate.layers.errors import ConfigError


class RunningTopK:
    """The k largest values per row seen so far, with a payload (sample index, position).

    Memory is ``rows · k`` whatever the number of updates.
    """

    def __init__(self, rows: int, k: int) -> None:
        self.k = k
        self.values = torch.full((rows, k), -torch.inf)
        self.index = torch.full((rows, k), -1, dtype=torch.long)
        self.pos = torch.full((rows, k), -1, dtype=torch.long)

    def update(self, values: torch.Tensor, index: torch.Tensor, pos: torch.Tensor) -> None:
        """Merge candidates ``(rows, m)`` (values, sample indices, positions)."""
        v = torch.cat([self.values, values.float().cpu()], dim=1)
        i = torch.cat([self.index, index.cpu()], dim=1)
        p = torch.cat([self.pos, pos.cpu()], dim=1)
        top = torch.topk(v, min(self.k, v.shape[1]), dim=1)
        self.values = top.values
        self.index = torch.gather(i, 1, top.indices)
        self.pos = torch.gather(p, 1, top.indices)


@dataclass
class ChannelPatches:
    """The top-k of one channel, strongest first (fewer when the data set is smaller)."""

    channel: int
    values: np.ndarray
    indices: np.ndarray
    units: np.ndarray
    boxes: list[tuple[slice, ...]]
    patches: list[np.ndarray]
    reconstructions: list[np.ndarray] = field(default_factory=list)


@dataclass
class TopPatches:
    """Top-k patches of several channels of one layer.

    Attributes:
        layer: the layer scanned.
        smooth: how the DeconvNet went through smooth nonlinearities.
        field: its receptive field (size, effective stride, effective padding).
        channels: per channel, the values, sample indices, units, crop boxes, the crops
            (display scale) and, when asked, their DeconvNet reconstructions (same crops).
    """

    layer: str
    field: Any
    channels: list[ChannelPatches]
    smooth: str = "error"


def top_patches(model: nn.Module, data: Any, layer: str, *, k: int = 9,
                channels: Sequence[int] | None = None, max_channels: int = 16,
                batch_size: int = 64, limit: int | None = None, deconv: bool = True,
                smooth: str = "error", preprocess: Any = None, normalization: Any = None,
                ) -> TopPatches:
    """Find the ``k`` inputs that activate each channel of ``layer`` most, and crop them.

    Each image counts once per channel, at its strongest unit.

    Args:
        data: an ArrayDataset (``.x`` uint8 images or float sequences), ``(x, y)`` or array.
        channels: the channels to return (default: the first ``max_channels``); all are
            scanned anyway.
        limit: scan only the first ``limit`` samples.
        deconv: also project each winner to pixel space with a DeconvNet.
        smooth: passed to :func:`~striate.interpret.deconvnet` (tanh networks).

    Raises:
        ConfigError: an unknown layer, a layer without channels, or a bad channel.
        ShapeError: samples the model cannot take.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k <= 0:
        raise ConfigError(f"k must be a positive integer, got {k!r}").at("--k")
    x, _, _ = data_arrays(data)
    if len(x) == 0:
        raise ConfigError("the data set is empty")
    prep = make_preprocess(model, preprocess, normalization, tuple(x.shape[1:]))
    first = prep.display(take(x, slice(0, 1)))
    check_input(model, tuple(first.shape[1:]))
    device = model_device(model)
    top: RunningTopK | None = None
    spatial: tuple[int, ...] = ()
    with evaluating(model), torch.no_grad():
        for start, raw in iter_batches(x, batch_size, limit):
            found, _ = capture(model, prep(raw).to(device), [layer])
            act = found[layer]
            if act.dim() < 2:
                raise ConfigError(f"{layer} outputs shape {tuple(act.shape)}; top-k patches "
                                  "need channels").at("--layer")
            spatial = tuple(act.shape[2:])
            flat = act.reshape(act.shape[0], act.shape[1], -1)
            best, pos = flat.max(dim=2)  # (N, C): one candidate per image and channel
            if top is None:
                top = RunningTopK(act.shape[1], k)
            idx = torch.arange(start, start + act.shape[0]).expand(act.shape[1], -1)
            top.update(best.T, idx, pos.T)
    if top is None:
        raise ConfigError(f"no samples scanned (limit={limit})").at("--limit")
    n_ch = top.values.shape[0]
    chosen = list(range(min(n_ch, max_channels))) if channels is None else list(channels)
    bad = [c for c in chosen if not 0 <= c < n_ch]
    if bad:
        raise ConfigError(f"{layer} has {n_ch} channels (0…{n_ch - 1}), got {bad}"
                          ).at("--channel")
    if deconv and smooth == "error":  # fail before drawing anything
        from striate.interpret.deconvnet import check_invertible

        with evaluating(model):
            check_invertible(model, prep.model_input(first).to(device), layer)
    rf = receptive_field(model, tuple(first.shape[1:]), layer)
    bounds = tuple(first.shape[2:])
    out = []
    for c in chosen:
        ok = top.index[c] >= 0
        idx = top.index[c][ok].numpy()
        units = np.array([np.unravel_index(int(p), spatial) for p in top.pos[c][ok]],
                         dtype=np.int64).reshape(len(idx), len(spatial))
        images = prep.display(take(x, idx)).numpy()
        boxes = [rf.box(u, bounds) for u in units]
        patches = [img[(slice(None), *b)] for img, b in zip(images, boxes, strict=True)]
        out.append(ChannelPatches(c, top.values[c][ok].numpy(), idx, units, boxes, patches))
    if deconv:
        _reconstruct(model, x, layer, out, batch_size, prep, smooth)
    return TopPatches(layer=layer, field=rf, channels=out, smooth=smooth)


def _reconstruct(model: nn.Module, x: Any, layer: str, chans: list[ChannelPatches],
                 batch_size: int, prep: Any, smooth: str) -> None:
    """DeconvNet projections of every winner, ``batch_size`` winners (any channels) per
    pass, cropped like their patches."""
    from striate.interpret.deconvnet import deconvnet

    jobs = [(ch, j) for ch in chans for j in range(len(ch.indices))]
    for ch in chans:
        ch.reconstructions = [np.empty(0)] * len(ch.indices)
    for s in range(0, len(jobs), batch_size):
        part = jobs[s:s + batch_size]
        rec = deconvnet(model, take(x, np.array([ch.indices[j] for ch, j in part])), layer,
                        channel=[ch.channel for ch, _ in part],
                        unit=[tuple(ch.units[j]) for ch, j in part], preprocess=prep,
                        smooth=smooth, with_field=False)
        for (ch, j), image in zip(part, rec.images, strict=True):
            ch.reconstructions[j] = image[(slice(None), *ch.boxes[j])]


def _full_size(patch: np.ndarray, box: tuple[slice, ...], unit: Sequence[int], rf: Any,
               fill: float) -> np.ndarray:
    """Put a clipped crop back at its place in a receptive-field-sized canvas."""
    canvas = np.full((patch.shape[0], *rf.size), fill, dtype=np.float32)
    starts = [s0 for s0, _ in rf.full_box(unit)]
    where = tuple(slice(b.start - s, b.stop - s) for b, s in zip(box, starts, strict=True))
    canvas[(slice(None), *where)] = patch
    return canvas


def _cell(img: np.ndarray) -> np.ndarray:
    """A crop as a drawable ``(1 or 3, h, w)`` image (sequences ``(4, L)`` as a grey map)."""
    if img.ndim == 2:
        return img[None]
    return img if img.shape[0] in (1, 3) else img.reshape(1, img.shape[0], -1)


def save_top_patches(result: TopPatches, path: str | os.PathLike[str], *,
                     force: bool = False) -> Path:
    """Draw, per channel, the DeconvNet reconstructions (left, 3x3) beside their patches
    (right, 3x3), as in Zeiler & Fergus's figure 2. Clipped patches keep their place in a
    grey receptive-field-sized cell; each reconstruction is scaled to 0–1 on its own."""
    from striate.interpret._common import grid_side, normalise01
    from striate.interpret._plot import mosaic, pyplot, save_figure, show_mosaic

    plt = pyplot()
    chans = result.channels
    k = max((len(c.indices) for c in chans), default=1)
    # images in a square (3x3 for k = 9); sequence windows stacked one above the other
    side = 1 if len(result.field.size) == 1 else max(1, int(np.ceil(np.sqrt(k))))
    with_rec = any(c.reconstructions for c in chans)
    blocks = []
    for ch in chans:
        patches, recs = [], []
        for j in range(len(ch.indices)):
            patches.append(_cell(_full_size(ch.patches[j], ch.boxes[j], ch.units[j],
                                            result.field, 0.5)))
            if with_rec:
                rec = _full_size(ch.reconstructions[j], ch.boxes[j], ch.units[j],
                                 result.field, 0.0)
                recs.append(_cell(normalise01(rec)))
        if not patches:
            continue
        parts = [mosaic(recs, side), mosaic(patches, side)] if with_rec else \
            [mosaic(patches, side)]
        height = max(p.shape[0] for p in parts)
        chans_n = max(p.shape[2] for p in parts)
        gap = np.ones((height, max(2, parts[0].shape[1] // 8), chans_n), np.float32)
        padded = [np.concatenate([np.broadcast_to(p, (p.shape[0], p.shape[1], chans_n)),
                                  np.ones((height - p.shape[0], p.shape[1], chans_n))], 0)
                  for p in parts]
        block = np.concatenate([padded[0], gap, *padded[1:]] if len(padded) > 1 else padded, 1)
        blocks.append((ch.channel, np.transpose(block, (2, 0, 1))))
    if not blocks:
        raise ConfigError(f"{result.layer}: no patches to draw")
    rows, cols = grid_side(len(blocks))
    h, w = blocks[0][1].shape[1:]
    gap = max(3, h // 5)
    tiles = mosaic([b for _, b in blocks], cols, gap=gap, background=1.0)
    scale = 1.8 / max(h, w)
    fig, ax = plt.subplots(figsize=(min(max(cols * w * scale * 1.6, 4.0), 15),
                                    min(max(rows * h * scale * 1.6, 3.0), 15)))
    show_mosaic(ax, tiles)
    for b, (channel, _) in enumerate(blocks):
        r, c = divmod(b, cols)
        ax.text(gap + c * (w + gap), gap + r * (h + gap) - 0.6, f"ch {channel}", fontsize=6,
                va="bottom", ha="left")
    size = "x".join(map(str, result.field.size))
    what = "DeconvNet (left) and patches (right)" if with_rec else "patches"
    if with_rec and result.smooth == "derivative":
        what += "; tanh passed by its derivative"
    ax.set_title(f"{result.layer}: top-{k} {what}, receptive field {size}", fontsize=9)
    return save_figure(fig, path, force=force, dpi=150)
