"""The zoo's registry: model name → builder and its published facts.

A family module registers each architecture with the numbers its paper (or the reference
implementation) publishes::

    @register("vgg16", family="VGG", year=2014, paper="Simonyan & Zisserman, ICLR 2015",
              params=138_357_544, input_shape=(3, 224, 224), fixed={"depth": 16})
    def vgg(*, depth: int, num_classes: int = 1000, input_shape=(3, 224, 224), ...): ...

``fixed`` binds builder arguments for that name (one builder, several names); every other
keyword argument of the builder is a user option of :func:`create`.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch.nn as nn

from striate.layers.errors import ConfigError

Builder = Callable[..., nn.Module]


@dataclass(frozen=True)
class ModelInfo:
    """What the zoo knows about one model before building it.

    Attributes:
        name: the zoo name (``resnet50``).
        family: the architecture family (``ResNet``).
        year: year of the paper.
        paper: citation of the paper that defines it.
        params: the published parameter count at the default classes and input (None where
            the paper publishes none; the count striate builds is then documented instead).
        input_shape: default per-sample input shape, e.g. ``(3, 224, 224)``.
        num_classes: default number of outputs (classes, or tracks for multi-label models).
        description: one line for ``striate zoo list``.
        task: ``classification``, ``segmentation``, ``multilabel``, ``regression`` or
            ``sequence`` (per-time-step classes), so a trainer can pick its loss.
        options: user options of :func:`create` with their defaults.
    """

    name: str
    family: str
    year: int
    paper: str
    params: int | None
    input_shape: tuple[int, ...]
    num_classes: int
    description: str
    task: str = "classification"
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Entry:
    info: ModelInfo
    builder: Builder
    fixed: dict[str, Any]


_MODELS: dict[str, _Entry] = {}
# Arguments that create() handles itself rather than passing as free options.
_RESERVED = ("num_classes", "input_shape")


def register(
    name: str,
    *,
    family: str,
    year: int,
    paper: str,
    params: int | None,
    input_shape: tuple[int, ...],
    description: str,
    num_classes: int = 1000,
    task: str = "classification",
    fixed: dict[str, Any] | None = None,
) -> Callable[[Builder], Builder]:
    """Decorator: register ``builder`` under ``name`` with its published facts.

    Raises:
        ValueError: if ``name`` is already registered (a programming error, not a user's).
    """

    def decorate(builder: Builder) -> Builder:
        if name in _MODELS:
            raise ValueError(f"zoo model {name!r} is registered twice")
        bound = dict(fixed or {})
        sig = inspect.signature(builder)
        for key in (*bound, *_RESERVED):
            if key not in sig.parameters:
                raise ValueError(f"zoo builder {builder.__name__} has no argument {key!r}")
        options = {
            p.name: p.default
            for p in sig.parameters.values()
            if p.name not in bound and p.name not in _RESERVED
            and p.default is not inspect.Parameter.empty
        }
        info = ModelInfo(name, family, year, paper, params, tuple(input_shape), num_classes,
                         description, task, options)
        _MODELS[name] = _Entry(info, builder, bound)
        return builder

    return decorate


def _entry(name: str) -> _Entry:
    _load_families()
    if name not in _MODELS:
        # compare lower-case and without separators: "VGG16", "ResNet-50" are near misses
        folded = {m.replace("_", ""): m for m in _MODELS}
        key = str(name).lower().replace("-", "").replace("_", "")
        close = [folded[key]] if key in folded else difflib.get_close_matches(
            str(name).lower(), list(_MODELS), n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise ConfigError(
            f"unknown zoo model {name!r}{hint} (`striate zoo list` shows all {len(_MODELS)})"
        )
    return _MODELS[name]


def _load_families() -> None:
    import striate.zoo  # noqa: F401  (imports every family module, which registers)


def names(family: str | None = None) -> list[str]:
    """The registered model names, oldest paper first (optionally of one family, in any
    letter case: ``resnet`` is ``ResNet``)."""
    _load_families()
    order = sorted(_MODELS, key=lambda n: _MODELS[n].info.year)  # stable: registration order
    want = None if family is None else str(family).lower()
    return [n for n in order if want is None or _MODELS[n].info.family.lower() == want]


def info(name: str) -> ModelInfo:
    """The published facts of model ``name``.

    Raises:
        ConfigError: for an unknown name, with the closest names.
    """
    return _entry(name).info


def _check_options(name: str, options: dict[str, Any], allowed: dict[str, Any]) -> None:
    for key in options:
        if key not in allowed:
            close = difflib.get_close_matches(key, list(allowed), n=2, cutoff=0.5)
            hint = f"did you mean {' or '.join(close)}? " if close else ""
            known = ", ".join(allowed) or "none"
            raise ConfigError(
                f"{name}: unknown option {key!r}; {hint}its options are: {known}"
            )


def _check_types(name: str, options: dict[str, Any], defaults: dict[str, Any]) -> None:
    """Each option must have the kind of value its default has (a YAML/CLI ``yes`` is not a
    bool, ``1.5`` is not a channel count)."""
    for key, value in options.items():
        default = defaults.get(key)
        if default is None:
            continue
        if isinstance(default, bool):
            ok, kind = isinstance(value, bool), "true or false"
        elif isinstance(default, int):
            ok, kind = isinstance(value, int) and not isinstance(value, bool), "an integer"
        elif isinstance(default, float):
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            kind = "a number"
        elif isinstance(default, str):
            ok, kind = isinstance(value, str), "a string"
        else:
            continue
        if not ok:
            raise ConfigError(f"{name}: option {key} must be {kind} (default {default!r}). "
                              f"Received: {key}={value!r}")


def _check_input_shape(name: str, shape: Any, default: tuple[int, ...]) -> tuple[int, ...]:
    ok = isinstance(shape, list | tuple) and all(
        isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape
    )
    if not ok or len(shape) != len(default):
        raise ConfigError(
            f"{name}: input_shape must be {len(default)} positive integers like "
            f"{tuple(default)}. Received: {shape!r}"
        )
    shape = tuple(shape)
    if (len(shape) >= 2 and default[0] <= 4 and shape[-1] == default[0]
            and shape[0] != default[0] and shape[0] > 4):
        # (H, W, C) as NumPy / Keras / PIL write it; a 32-channel 32x3 input is not meant
        fixed = (shape[-1], *shape[:-1])
        raise ConfigError(f"{name}: input_shape {shape} looks channels-last; striate shapes "
                          f"are channels first, like {tuple(default)}: use {fixed}")
    return shape


def create(
    name: str,
    num_classes: int | None = None,
    input_shape: tuple[int, ...] | None = None,
    **options: Any,
) -> nn.Module:
    """Build the zoo model ``name``.

    Builds on the current default device, so ``with torch.device("meta"): create("vgg16")``
    costs no memory. The model carries ``zoo_config = {"name": ..., "options": {...}}``
    (every option, so that ``create(**zoo_config)``-style rebuilding is exact) and
    ``default_input_shape``.

    Args:
        name: a name from :func:`names`.
        num_classes: number of outputs (default: the paper's).
        input_shape: per-sample input, e.g. ``(1, 32, 32)`` (default: the paper's); the
            classifier is sized for it.
        **options: architecture options of the family (see ``info(name).options``).

    Raises:
        ConfigError: unknown name or option, or an invalid value.
        ShapeError: the input is too small for the model's downsampling (names the layer
            and gives the formula).
    """
    entry = _entry(name)
    spec = entry.info
    _check_options(name, options, spec.options)
    _check_types(name, options, spec.options)
    classes = spec.num_classes if num_classes is None else num_classes
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 1:
        raise ConfigError(f"{name}: num_classes must be a positive integer. "
                          f"Received: {num_classes!r}")
    shape = _check_input_shape(
        name, spec.input_shape if input_shape is None else input_shape, spec.input_shape
    )
    full = {**spec.options, **options}
    model = _build_checked(entry, classes, shape, full)
    model.zoo_config = {
        "name": name,
        "options": {"num_classes": classes, "input_shape": list(shape), **full},
    }
    model.default_input_shape = shape
    return model


def _try_build(entry: _Entry, classes: int, shape: tuple[int, ...], full: dict[str, Any]
               ) -> nn.Module:
    from striate.zoo._probe import check_model_input

    model = entry.builder(num_classes=classes, input_shape=shape, **entry.fixed, **full)
    check_model_input(model, shape, entry.info.name)
    return model


def _build_checked(entry: _Entry, classes: int, shape: tuple[int, ...], full: dict[str, Any]
                   ) -> nn.Module:
    """Build, or raise one line: model, input, the layer, the formula, the smallest input."""
    from striate.layers.errors import ShapeError, StriateError
    from striate.zoo._probe import located

    try:
        return _try_build(entry, classes, shape, full)
    except ShapeError as err:
        error = located(err, entry.info.name, shape)
        smallest = _smallest_input(entry, classes, shape, full)
        if smallest is not None:
            size = "x".join([str(smallest)] * (len(shape) - 1))
            error = type(error)(f"{error}; the smallest input {entry.info.name} accepts "
                                f"is {size}")
        raise error from None
    except StriateError as err:  # a layer refused an option value: say which model
        name = entry.info.name
        if str(err).startswith(f"{name}:"):
            raise
        chosen = {k: v for k, v in full.items() if v != entry.info.options.get(k)}
        given = ", ".join(f"{k}={v!r}" for k, v in chosen.items())
        message = f"{name}: {err}" + (f" (options given: {given})" if given else "")
        try:
            error = type(err)(message)
        except TypeError:  # an error class with its own constructor
            error = ConfigError(message)
        raise error from None


def _smallest_input(entry: _Entry, classes: int, shape: tuple[int, ...],
                    full: dict[str, Any]) -> int | None:
    """The smallest square (or 1-D) input size above ``shape`` that builds, by bisection
    on the meta device; None when even 4096 does not."""
    import torch

    from striate.layers.errors import StriateError

    def fits(size: int) -> bool:
        try:
            with torch.device("meta"):
                _try_build(entry, classes, (shape[0], *[size] * (len(shape) - 1)), full)
        except StriateError:
            return False
        return True

    # a square of the shortest side fails too (a 32x3 input says nothing about 32x32)
    low, high = min(shape[1:]), 4096
    if not fits(high):
        return None
    while high - low > 1:
        mid = (low + high) // 2
        if fits(mid):
            high = mid
        else:
            low = mid
    return high
