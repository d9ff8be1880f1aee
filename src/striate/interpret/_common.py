"""What every interpretation method shares: finding layers, checking inputs, preprocessing,
walking a data set in batches and capturing activations with hooks.

Nothing here holds a whole data set: :func:`iter_batches` yields one batch at a time.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from striate.layers.errors import ConfigError, ShapeError

Tensorish = torch.Tensor | np.ndarray

#: module types whose weights slide over the input (the "conv layers" of a network)
CONV_TYPES = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


def leaf_names(model: nn.Module) -> list[str]:
    """Qualified names of the modules without children, in registration order."""
    return [name for name, mod in model.named_modules() if name and not any(mod.children())]


def find_layer(model: nn.Module, name: str, *, where: str = "--layer") -> nn.Module:
    """The sub-module called ``name`` (as in ``named_modules()``).

    Raises:
        ConfigError: naming the closest and all valid names when ``name`` is not there.
    """
    modules = dict(model.named_modules())
    if name and name in modules:
        return modules[name]
    valid = [n for n in modules if n]
    close = difflib.get_close_matches(name, valid, n=3)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    shown = ", ".join(valid[:40]) + (f", … ({len(valid)} in all)" if len(valid) > 40 else "")
    raise ConfigError(f"no layer named {name!r} in {type(model).__name__}; {hint}valid layers: "
                      f"{shown}").at(where)


def conv_layers(model: nn.Module) -> list[str]:
    """Names of the convolution modules, in registration order."""
    return [n for n, m in model.named_modules() if isinstance(m, CONV_TYPES)]


def first_conv(model: nn.Module) -> tuple[str, nn.Module]:
    """The first convolution of ``model`` (its first layer of filters).

    Raises:
        ConfigError: when the model has no convolution.
    """
    for name, mod in model.named_modules():
        if isinstance(mod, CONV_TYPES):
            return name, mod
    raise ConfigError(f"{type(model).__name__} has no convolution layer (Conv1d/Conv2d); "
                      "filters need one")


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter (CPU for a model without any)."""
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def expected_input_shape(model: nn.Module) -> tuple[int, ...] | None:
    """The per-sample input shape the model declares, if it declares one.

    Looked for in ``model.striate_meta["input_shape"]`` (a model file), then
    ``model.default_input_shape`` (a zoo model).
    """
    meta = getattr(model, "striate_meta", None)
    if isinstance(meta, dict) and meta.get("input_shape"):
        return tuple(int(v) for v in meta["input_shape"])
    shape = getattr(model, "default_input_shape", None)
    return tuple(int(v) for v in shape) if shape else None


def check_input(model: nn.Module, shape: Sequence[int], *, where: str = "input") -> None:
    """Check a per-sample input shape's channels and number of axes against the model.

    Raises:
        ShapeError: an input with the wrong number of channels or axes.
    """
    shape = tuple(int(v) for v in shape)
    expected = expected_input_shape(model)
    try:
        name, conv = first_conv(model)
    except ConfigError:
        name, conv = None, None
    if conv is not None and conv.in_channels != shape[0]:
        raise ShapeError(f"{name} ({type(conv).__name__}) takes {conv.in_channels} input "
                         f"channel(s), the input has {shape[0]} (shape {shape}); convert the "
                         f"input to {conv.in_channels} channel(s)").at(where)
    if expected is not None and len(expected) != len(shape):
        raise ShapeError(f"the model expects inputs of shape {expected}, got {shape}"
                         ).at(where)
    # another spatial size is allowed (fully convolutional and adaptive-pooling networks take
    # any); a network that cannot take it fails in run_model with the size it was built for
    if conv is not None and len(shape) - 1 != conv.weight.dim() - 2:
        raise ShapeError(f"{name} ({type(conv).__name__}) takes {conv.weight.dim() - 2}-D "
                         f"inputs, got shape {shape}").at(where)


def run_model(model: nn.Module, x: torch.Tensor) -> Any:
    """``model(x)``, turning a shape failure deep inside torch into a one-line ShapeError."""
    try:
        return model(x)
    except RuntimeError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        if any(w in first for w in ("size", "shape", "channels", "dimension", "mat1")):
            expected = expected_input_shape(model)
            fix = (f"resize, crop or pad the input to {expected}" if expected else
                   "check the input's size and channels")
            raise ShapeError(f"the model cannot take inputs of shape {tuple(x.shape[1:])} "
                             f"({first}); {fix}").at("input") from err
        raise


@dataclass
class Preprocess:
    """How raw samples become model inputs.

    Samples are first put on the *display* scale (uint8 divided by 255, floats kept), padded
    with zeros to ``size`` (centred, e.g. 28x28 digits to LeNet-5's 32x32), then normalised
    with ``mean``/``std`` per channel, or handed to ``fn`` when given.
    """

    mean: Sequence[float] | None = None
    std: Sequence[float] | None = None
    size: Sequence[int] | None = None
    fn: Callable[[torch.Tensor], torch.Tensor] | None = None

    def display(self, x: Tensorish) -> torch.Tensor:
        """A float batch on the 0–1 scale (for uint8), padded to ``size``."""
        t = torch.as_tensor(np.asarray(x)) if isinstance(x, np.ndarray) else x
        t = t.float() / 255.0 if t.dtype == torch.uint8 else t.float()
        if self.size is not None:
            t = pad_to(t, tuple(self.size))
        return t

    def model_input(self, disp: torch.Tensor) -> torch.Tensor:
        """A display-scale batch normalised for the model."""
        if self.fn is not None:
            return self.fn(disp)
        if self.mean is None or self.std is None:
            return disp
        view = (1, -1) + (1,) * (disp.dim() - 2)
        mean = torch.as_tensor(self.mean, dtype=disp.dtype, device=disp.device).view(view)
        std = torch.as_tensor(self.std, dtype=disp.dtype, device=disp.device).view(view)
        return (disp - mean) / std

    def __call__(self, x: Tensorish) -> torch.Tensor:
        return self.model_input(self.display(x))

    @property
    def fill(self) -> float | list[float]:
        """A neutral grey on the display scale: the data mean when known, else 0.5."""
        return list(self.mean) if self.mean is not None and self.fn is None else 0.5


def pad_to(x: torch.Tensor, size: tuple[int, ...]) -> torch.Tensor:
    """Zero-pad the trailing axes of a batch ``(N, C, *spatial)`` to ``size``, centred."""
    spatial = tuple(x.shape[2:])
    if spatial == tuple(size):
        return x
    if len(size) != len(spatial) or any(s > t for s, t in zip(spatial, size, strict=True)):
        got, want = "x".join(map(str, spatial)), "x".join(map(str, size))
        raise ShapeError(f"the input is {got}, the model takes {want} (smaller inputs are "
                         f"padded); resize or crop the input to {want}").at("input")
    pads: list[int] = []
    for s, t in reversed(list(zip(spatial, size, strict=True))):
        pads += [(t - s) // 2, t - s - (t - s) // 2]
    return torch.nn.functional.pad(x, pads)


def make_preprocess(model: nn.Module, preprocess: Any = None,
                    normalization: Any = None, sample_shape: Sequence[int] | None = None,
                    ) -> Preprocess:
    """A :class:`Preprocess` from what the caller gave.

    Args:
        preprocess: a Preprocess, a callable on display-scale batches, or None.
        normalization: ``(mean, std)`` or ``{"mean": ..., "std": ...}`` per channel.
        sample_shape: a raw sample's shape; when the model declares a larger input, samples
            are padded to it (the 28x28 digits of a 32x32 LeNet-5).
    """
    if isinstance(preprocess, Preprocess):
        return preprocess
    if all(hasattr(preprocess, a) for a in ("input_shape", "mean", "std", "scale")):
        # a training run's Preprocess: 0–1 scale, centred zero padding, normalisation
        return Preprocess(mean=list(preprocess.mean) or None, std=list(preprocess.std) or None,
                          size=tuple(preprocess.input_shape[1:]))
    if preprocess is not None and not callable(preprocess):
        raise ConfigError(f"preprocess must be callable, got {type(preprocess).__name__}")
    mean = std = None
    if normalization is None:
        meta = getattr(model, "striate_meta", None)
        normalization = meta.get("normalization") if isinstance(meta, dict) else None
    if isinstance(normalization, dict):
        mean, std = normalization.get("mean"), normalization.get("std")
    elif normalization is not None:
        mean, std = normalization
    size = None
    expected = expected_input_shape(model)
    if (sample_shape is not None and expected is not None
            and len(expected) == len(sample_shape)
            and tuple(expected[1:]) != tuple(sample_shape[1:])
            and all(s <= e for s, e in zip(sample_shape[1:], expected[1:], strict=True))):
        size = tuple(expected[1:])
    return Preprocess(mean=mean, std=std, size=size, fn=preprocess)


def data_arrays(data: Any) -> tuple[Tensorish, np.ndarray | None, list[str] | None]:
    """``(x, y, classes)`` of an ArrayDataset, an ``(x, y)`` pair or a bare array/tensor."""
    if hasattr(data, "x"):
        y = getattr(data, "y", None)
        return data.x, None if y is None else np.asarray(y), getattr(data, "classes", None)
    if isinstance(data, tuple) and len(data) == 2:
        return data[0], np.asarray(data[1]), None
    if isinstance(data, torch.Tensor | np.ndarray):
        return data, None, None
    raise ConfigError(f"expected a data set (an object with .x and .y), an (x, y) pair or an "
                      f"array, got {type(data).__name__}")


def take(x: Tensorish, index: Any) -> torch.Tensor:
    """Rows of an array or tensor as a tensor (no copy of the rest)."""
    rows = x[index]
    return torch.as_tensor(np.ascontiguousarray(rows)) if isinstance(rows, np.ndarray) else rows


def iter_batches(x: Tensorish, batch_size: int, limit: int | None = None,
                 ) -> Iterator[tuple[int, torch.Tensor]]:
    """``(start, raw batch)`` over the first ``limit`` rows of ``x``, ``batch_size`` at a time."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}"
                          ).at("--batch-size")
    n = len(x) if limit is None else min(len(x), limit)
    for start in range(0, n, batch_size):
        yield start, take(x, slice(start, min(start + batch_size, n)))


class StopForward(Exception):  # noqa: N818 (a signal, not an error)
    """Raised by a hook to end a forward pass once the wanted layers have run."""


def capture(model: nn.Module, x: torch.Tensor, names: Sequence[str], *, stop: bool = True,
            keep_graph: bool = False) -> tuple[dict[str, torch.Tensor], Any]:
    """Run ``model(x)`` and return the outputs of the layers ``names`` (and the model output).

    With ``stop`` the pass ends as soon as every named layer has run (the output is then
    None), which saves the rest of the network. With ``keep_graph`` the captured tensors
    stay in the autograd graph.
    """
    modules = {n: find_layer(model, n) for n in names}
    found: dict[str, torch.Tensor] = {}

    def hook_for(name: str) -> Callable[..., None]:
        def hook(_mod: nn.Module, _inp: Any, out: Any) -> None:
            out = out[0] if isinstance(out, tuple) else out
            found[name] = out if keep_graph else out.detach()
            if stop and len(found) == len(modules):
                raise StopForward

        return hook

    handles = [m.register_forward_hook(hook_for(n)) for n, m in modules.items()]
    output = None
    try:
        output = run_model(model, x)
    except StopForward:
        pass
    finally:
        for h in handles:
            h.remove()
    missing = [n for n in names if n not in found]
    if missing:
        raise ConfigError(f"layer(s) {', '.join(missing)} never ran in the forward pass of "
                          f"{type(model).__name__}; pick a layer the forward pass uses")
    return found, output


def last_spatial_layer(model: nn.Module, x: torch.Tensor) -> str:
    """The last leaf module whose output still has spatial maps larger than 1x1 (Grad-CAM's
    usual layer: the last convolutional block's output)."""
    order: list[str] = []
    handles = []
    for name, mod in model.named_modules():
        if name and not any(mod.children()):
            def hook(_m: nn.Module, _i: Any, out: Any, name: str = name) -> None:
                out = out[0] if isinstance(out, tuple) else out
                if isinstance(out, torch.Tensor) and out.dim() >= 3 and \
                        math.prod(out.shape[2:]) > 1:
                    order.append(name)

            handles.append(mod.register_forward_hook(hook))
    try:
        with torch.no_grad():
            run_model(model, x)
    finally:
        for h in handles:
            h.remove()
    if not order:
        raise ConfigError(f"{type(model).__name__} has no layer with spatial maps; "
                          "pass --layer").at("--layer")
    return order[-1]


def normalise01(a: np.ndarray) -> np.ndarray:
    """Scale an array to 0–1 (a constant array becomes 0.5)."""
    lo, hi = float(np.min(a)), float(np.max(a))
    return np.full_like(a, 0.5, dtype=np.float32) if hi - lo < 1e-12 else \
        ((a - lo) / (hi - lo)).astype(np.float32)


def grid_side(n: int) -> tuple[int, int]:
    """Rows and columns of a near-square grid of ``n`` cells."""
    cols = max(1, math.ceil(math.sqrt(n)))
    return max(1, math.ceil(n / cols)), cols
