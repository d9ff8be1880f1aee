"""Saliency: gradient saliency (Simonyan et al. 2014), guided backpropagation
(Springenberg et al. 2015) and Grad-CAM (Selvaraju et al. 2017).

The target is a class logit for a classifier ``(N, K)`` or, for a segmentation output
``(N, K, H, W)``, the class logit summed over a region (a mask; by default the pixels
predicted as that class), so the maps answer "why is *this region* labelled *road*".
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from striate.interpret._common import (
    Tensorish,
    capture,
    check_input,
    last_spatial_layer,
    make_preprocess,
    model_device,
    run_model,
)
from striate.interpret._rules import backward_rule, evaluating
from striate.layers.errors import ConfigError, ShapeError

METHODS = ("gradient", "guided", "gradcam")


@dataclass
class Saliency:
    """A saliency map of one input.

    Attributes:
        method: gradient, guided or gradcam.
        image: ``(C, *spatial)`` the input on the display scale.
        map: ``(*spatial)`` the map at input resolution (≥ 0 for gradient and Grad-CAM).
        raw: ``(C, *spatial)`` the signed input gradient (gradient/guided) or the Grad-CAM
            map at the layer's own resolution.
        target: the class followed. layer: Grad-CAM's layer (None otherwise).
        mask: the output region summed (segmentation), or None.
    """

    method: str
    image: np.ndarray
    map: np.ndarray
    raw: np.ndarray
    target: int
    layer: str | None
    mask: np.ndarray | None


def _objective(out: torch.Tensor, target: int | None, mask: Tensorish | None,
               ) -> tuple[torch.Tensor, int, np.ndarray | None]:
    if out.dim() < 2:
        raise ConfigError(f"saliency needs outputs (N, classes, …), got {tuple(out.shape)}")
    k = out.shape[1]
    if target is None:
        flat = out.detach().reshape(out.shape[0], k, -1)
        target = int(flat.mean(dim=2)[0].argmax()) if out.dim() > 2 else int(flat[0, :, 0]
                                                                             .argmax())
    if not 0 <= int(target) < k:
        raise ConfigError(f"target {target} is outside the model's {k} classes").at("--target")
    target = int(target)
    logit = out[0, target]
    if out.dim() == 2:
        if mask is not None:
            raise ConfigError("a mask only applies to segmentation outputs (N, K, H, W); "
                              f"this model outputs {tuple(out.shape)}").at("--mask")
        return logit, target, None
    if mask is None:
        region = out.detach()[0].argmax(dim=0) == target
        if not bool(region.any()):
            region = torch.ones_like(region)
    else:
        region = torch.as_tensor(np.asarray(mask), device=out.device).bool()
        if tuple(region.shape) != tuple(out.shape[2:]):
            raise ShapeError(f"the mask has shape {tuple(region.shape)}, the output's maps are "
                             f"{tuple(out.shape[2:])}").at("--mask")
    return (logit * region).sum(), target, region.cpu().numpy()


def saliency(model: nn.Module, x: Tensorish, *, method: str = "gradient",
             target: int | None = None, mask: Tensorish | None = None,
             layer: str | None = None, preprocess: Any = None, normalization: Any = None,
             ) -> Saliency:
    """A saliency map of one sample for the class ``target`` (default: the predicted one).

    Args:
        method: ``"gradient"`` (|∂y/∂x| max over channels), ``"guided"`` (guided
            backpropagation) or ``"gradcam"``.
        mask: for segmentation outputs, the region ``(H', W')`` whose class logits are summed.
        layer: Grad-CAM's layer (default: the last convolution's activation).

    Raises:
        ConfigError: an unknown method, layer or target. ShapeError: a bad input or mask.
    """
    if method not in METHODS:
        raise ConfigError(f"unknown saliency method {method!r}; use one of "
                          f"{', '.join(METHODS)}").at("--method")
    raw = torch.as_tensor(np.asarray(x)) if isinstance(x, np.ndarray) else x
    prep = make_preprocess(model, preprocess, normalization, tuple(raw.shape))
    disp = prep.display(raw[None])
    check_input(model, tuple(disp.shape[1:]))
    inp = prep.model_input(disp).to(model_device(model)).detach()
    with evaluating(model), torch.enable_grad():
        if method == "gradcam":
            layer = layer or last_spatial_layer(model, inp)
            found, out = capture(model, inp, [layer], stop=False, keep_graph=True)
            act = found[layer]
            if act.dim() < 3:
                raise ConfigError(f"Grad-CAM needs a layer with spatial maps; {layer} outputs "
                                  f"{tuple(act.shape[1:])}").at("--layer")
            obj, target, region = _objective(out, target, mask)
            (grad,) = torch.autograd.grad(obj, act)
            weights = grad.mean(dim=tuple(range(2, grad.dim())), keepdim=True)
            cam = F.relu((weights * act).sum(dim=1, keepdim=True)).detach()
            mode = "bilinear" if cam.dim() == 4 else "linear"
            up = F.interpolate(cam, size=tuple(inp.shape[2:]), mode=mode, align_corners=False)
            return Saliency(method, disp[0].cpu().numpy(), up[0, 0].cpu().numpy(),
                            cam[0, 0].cpu().numpy(), target, layer, region)
        inp.requires_grad_(True)
        with backward_rule(model, "guided" if method == "guided" else "gradient"):
            out = run_model(model, inp)
            obj, target, region = _objective(out, target, mask)
            (grad,) = torch.autograd.grad(obj, inp)
    g = grad[0].cpu().numpy()
    smap = np.abs(g).max(axis=0) if method == "gradient" else np.clip(g, 0, None).max(axis=0)
    return Saliency(method, disp[0].cpu().numpy(), smap, g, target, None, region)


def save_saliency(result: Saliency, path: str | os.PathLike[str], *,
                  classes: list[str] | None = None, force: bool = False) -> Path:
    """Draw the input, the map, and the map over the input into a PNG."""
    from striate.interpret._common import normalise01
    from striate.interpret._plot import as_image, pyplot, save_figure

    plt = pyplot()
    name = classes[result.target] if classes and result.target < len(classes) \
        else str(result.target)
    if result.image.ndim == 2:  # a sequence (C, L): the input above, the map below
        fig, axes = plt.subplots(2, 1, figsize=(max(5.0, 0.1 * result.image.shape[1]), 3.0),
                                 sharex=True, squeeze=False)
        axes[0, 0].imshow(result.image, aspect="auto", cmap="gray_r", interpolation="nearest")
        axes[0, 0].set_title(f"{result.method}: class {name}"
                             + (f" ({result.layer})" if result.layer else ""), fontsize=8)
        axes[1, 0].bar(np.arange(result.map.size), result.map, width=1.0, color="tab:red")
        axes[1, 0].set_xlim(-0.5, result.map.size - 0.5)
        axes[0, 0].set_yticks(range(result.image.shape[0]))
        return save_figure(fig, path, force=force)
    fig, axes = plt.subplots(1, 3, figsize=(8.0, 3.0), squeeze=False)
    img, cmap = as_image(result.image, normalise=False)
    heat = normalise01(result.map)
    axes[0, 0].imshow(img, cmap=cmap, vmin=0, vmax=1)
    axes[0, 0].set_title("input", fontsize=8)
    if result.mask is not None:
        axes[0, 0].contour(result.mask.astype(float), levels=[0.5], colors="yellow",
                           extent=(-0.5, img.shape[1] - 0.5, img.shape[0] - 0.5, -0.5))
    axes[0, 1].imshow(heat, cmap="inferno")
    axes[0, 1].set_title(f"{result.method}: class {name}", fontsize=8)
    axes[0, 2].imshow(img, cmap=cmap, vmin=0, vmax=1)
    axes[0, 2].imshow(heat, cmap="jet", alpha=0.45)
    axes[0, 2].set_title("overlay" + (f" ({result.layer})" if result.layer else ""), fontsize=8)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    return save_figure(fig, path, force=force)
