"""Occlusion sensitivity (Zeiler & Fergus 2013, figure 7): slide a grey square over the
image and watch the probability of the true class, of the predicted class, and the total
activation of the feature map that was strongest on the intact image.

The occluded copies are built and run ``batch_size`` at a time, so a 224x224 image with a
32x32 square costs ``positions / batch_size`` forward passes, not one per position.
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
    conv_layers,
    make_preprocess,
    model_device,
)
from striate.interpret._rules import evaluating
from striate.layers.errors import ConfigError


@dataclass
class OcclusionMaps:
    """Occlusion maps of one image.

    Attributes:
        image: ``(C, H, W)`` the image on the display scale.
        positions: ``(rows, cols, 2)`` top-left corner of the square at each grid position.
        size, stride: the square's side and step.
        true_prob: ``(rows, cols)`` probability of ``label`` (None without a label).
        pred_prob: ``(rows, cols)`` probability of the class predicted on the intact image.
        feature: ``(rows, cols)`` total activation of the strongest map of ``layer``.
        label, predicted, channel, layer: what the maps follow.
        base: the three values on the intact image.
        projection: ``(C, H, W)`` the DeconvNet projection of the strongest map on the intact
            image (the paper's figure 7 c), or None (not asked, or not invertible: ``note``).
    """

    image: np.ndarray
    positions: np.ndarray
    size: int
    stride: int
    true_prob: np.ndarray | None
    pred_prob: np.ndarray
    feature: np.ndarray | None
    label: int | None
    predicted: int
    channel: int | None
    layer: str | None
    base: dict[str, float]
    projection: np.ndarray | None = None
    note: str = ""

    def pixel_map(self, values: np.ndarray) -> np.ndarray:
        """A per-pixel map: each pixel gets the mean of the values of the squares covering
        it (NaN where no square reached)."""
        h, w = self.image.shape[1:]
        total = np.zeros((h, w))
        count = np.zeros((h, w))
        for (r, c), v in zip(self.positions.reshape(-1, 2), values.ravel(), strict=True):
            total[r:r + self.size, c:c + self.size] += v
            count[r:r + self.size, c:c + self.size] += 1
        with np.errstate(invalid="ignore"):
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _starts(n: int, size: int, stride: int) -> list[int]:
    starts = list(range(0, n - size + 1, stride))
    if starts[-1] != n - size:  # cover the far border too
        starts.append(n - size)
    return starts


def occlusion(model: nn.Module, image: Tensorish, *, label: int | None = None, size: int = 8,
              stride: int = 4, fill: float | list[float] | None = None,
              layer: str | None = None, batch_size: int = 64, project: bool = True,
              smooth: str = "error", preprocess: Any = None, normalization: Any = None,
              ) -> OcclusionMaps:
    """Occlusion maps of one image ``(C, H, W)`` for a classifier.

    Args:
        label: the true class (its probability is mapped when given).
        size, stride: the grey square's side and step, in pixels.
        fill: the square's value on the display scale (default: the data mean when the
            normalisation is known, else 0.5 grey).
        layer: whose strongest map to follow (default: the last convolution).
        project: also project that map to pixel space with a DeconvNet (``smooth`` as in
            :func:`~striate.interpret.deconvnet`); a network it cannot invert leaves
            ``projection`` None and says why in ``note``.

    Shape:
        maps: ``(rows, cols)`` with rows = len(range(0, H − size + 1, stride)) (+1 if the
        last square does not reach the border)

    Raises:
        ConfigError: a square larger than the image or a bad option.
        ShapeError: an image the model cannot take.
    """
    raw = torch.as_tensor(np.asarray(image)) if isinstance(image, np.ndarray) else image
    prep = make_preprocess(model, preprocess, normalization, tuple(raw.shape))
    disp = prep.display(raw[None])[0]
    check_input(model, tuple(disp.shape))
    if disp.dim() != 3:
        raise ConfigError(f"occlusion needs an image (C, H, W), got shape {tuple(disp.shape)}")
    h, w = disp.shape[1:]
    for name, v in (("size", size), ("stride", stride)):
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise ConfigError(f"{name} must be a positive integer, got {v!r}").at(f"--{name}")
    if size > min(h, w):
        raise ConfigError(f"the square ({size}) is larger than the image ({h}x{w}); use "
                          f"--size {min(h, w) // 4 or 1}").at("--size")
    if layer is None:
        convs = conv_layers(model)
        layer = convs[-1] if convs else None
    fill = prep.fill if fill is None else fill
    fill_t = torch.as_tensor(fill, dtype=disp.dtype).reshape(-1, 1, 1).expand(
        disp.shape[0], size, size)
    rows, cols = _starts(h, size, stride), _starts(w, size, stride)
    positions = np.array([[(r, c) for c in cols] for r in rows], dtype=np.int64)
    flat = positions.reshape(-1, 2)
    device = model_device(model)
    names = [layer] if layer else []

    def run(batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        found, out = capture(model, prep.model_input(batch).to(device), names, stop=False)
        if out is None or out.dim() != 2:
            raise ConfigError(f"occlusion needs a classifier with outputs (N, classes), got "
                              f"{None if out is None else tuple(out.shape)}; use saliency "
                              "for segmentation outputs")
        feat = found[layer].reshape(batch.shape[0], found[layer].shape[1], -1).sum(2) \
            if layer else None
        return torch.softmax(out.float(), dim=1), feat

    with evaluating(model), torch.no_grad():
        probs0, feat0 = run(disp[None])
        n_classes = probs0.shape[1]
        if label is not None and not 0 <= int(label) < n_classes:
            raise ConfigError(f"label {label} is outside the model's {n_classes} classes"
                              ).at("--label")
        pred = int(probs0[0].argmax())
        channel = int(feat0[0].argmax()) if feat0 is not None else None
        true_p, pred_p, feat = [], [], []
        for s in range(0, len(flat), batch_size):
            chunk = flat[s:s + batch_size]
            batch = disp.expand(len(chunk), *disp.shape).clone()
            for i, (r, c) in enumerate(chunk):
                batch[i, :, r:r + size, c:c + size] = fill_t
            probs, f = run(batch)
            pred_p.append(probs[:, pred].cpu())
            if label is not None:
                true_p.append(probs[:, int(label)].cpu())
            if f is not None:
                feat.append(f[:, channel].cpu())
    shape = positions.shape[:2]
    base = {"pred_prob": float(probs0[0, pred])}
    if label is not None:
        base["true_prob"] = float(probs0[0, int(label)])
    if feat0 is not None:
        base["feature"] = float(feat0[0, channel])
    projection, note = None, ""
    if project and layer is not None:
        from striate.interpret.deconvnet import deconvnet
        from striate.layers.errors import StriateError

        try:
            projection = deconvnet(model, disp, layer, channel=channel, keep="map",
                                   smooth=smooth, preprocess=prep).images[0]
        except StriateError as err:
            note = str(err)
    return OcclusionMaps(
        projection=projection, note=note,
        image=disp.cpu().numpy(), positions=positions, size=size, stride=stride,
        true_prob=torch.cat(true_p).reshape(shape).numpy() if true_p else None,
        pred_prob=torch.cat(pred_p).reshape(shape).numpy(),
        feature=torch.cat(feat).reshape(shape).numpy() if feat else None,
        label=None if label is None else int(label), predicted=pred, channel=channel,
        layer=layer, base=base)


def save_occlusion(result: OcclusionMaps, path: str | os.PathLike[str], *,
                   classes: list[str] | None = None, force: bool = False) -> Path:
    """Draw the image and its occlusion maps (per pixel, the mean over covering squares)."""
    from striate.interpret._plot import as_image, pyplot, save_figure

    plt = pyplot()

    def name(c: int | None) -> str:
        return str(c) if c is None or not classes or c >= len(classes) else classes[c]

    panels = [(result.feature, f"{result.layer} map {result.channel}: total activation",
               "magma")]
    if result.true_prob is not None:
        panels.append((result.true_prob, f"p(true = {name(result.label)})", "RdBu"))
    panels.append((result.pred_prob, f"p(predicted = {name(result.predicted)})", "RdBu"))
    panels = [p for p in panels if p[0] is not None]
    extra = 1 if result.projection is not None else 0
    fig, axes = plt.subplots(1, len(panels) + 1 + extra,
                             figsize=(3.0 * (len(panels) + 1 + extra), 3.3), squeeze=False)
    if extra:
        from striate.interpret._common import normalise01

        proj, pcmap = as_image(normalise01(result.projection), normalise=False)
        axes[0, -1].imshow(proj, cmap=pcmap, vmin=0, vmax=1)
        axes[0, -1].set_title(f"map {result.channel} projected (DeconvNet)", fontsize=8)
    img, cmap = as_image(result.image, normalise=False)
    axes[0, 0].imshow(img, cmap=cmap, vmin=0, vmax=1)
    axes[0, 0].set_title(f"input (square {result.size}, step {result.stride})", fontsize=8)
    for ax, (vals, title, cm) in zip(axes[0, 1:1 + len(panels)], panels, strict=True):
        pix = result.pixel_map(vals)
        kw = {"vmin": 0.0, "vmax": 1.0} if "p(" in title else {}
        im = ax.imshow(pix, cmap=cm, interpolation="nearest", **kw)
        ax.set_title(title, fontsize=8)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    return save_figure(fig, path, force=force)
