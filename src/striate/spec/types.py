"""YAML short names and option aliases → the registered striate layer classes.

A spec entry names a type either by a short name of this table (``conv``, ``pool``,
``residual``…) or by a name registered in :data:`striate.layers.registry.LAYERS`. Short
names that depend on the input (``conv`` is ``Conv1d`` on ``(C, L)`` and ``Conv2d`` on
``(C, H, W)``; ``pool`` also depends on ``kind:``) are resolved once the input shape is
known. Options are checked against the class's constructor signature.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from striate.layers.errors import ConfigError


@dataclass(frozen=True)
class TypeInfo:
    """A short name: the class name for each input rank (0 = any rank) and its defaults."""

    classes: dict[int, tuple[str, ...]]
    doc: str
    fixed: dict[str, Any] = field(default_factory=dict)


def _any(*names: str) -> dict[int, tuple[str, ...]]:
    return {0: names}


def _by_rank(one: str, two: str) -> dict[int, tuple[str, ...]]:
    # rank 2 = (C, L) sequences → 1-D layer; rank 3 = (C, H, W) images → 2-D layer
    return {2: (one,), 3: (two,)}


SHORT: dict[str, TypeInfo] = {
    "conv": TypeInfo(_by_rank("Conv1d", "Conv2d"), "convolution, 1-D or 2-D by input rank"),
    "conv1d": TypeInfo(_any("Conv1d"), "1-D convolution"),
    "conv2d": TypeInfo(_any("Conv2d"), "2-D convolution"),
    "deconv": TypeInfo(_by_rank("ConvTranspose1d", "ConvTranspose2d"), "transposed convolution"),
    "separable": TypeInfo(_any("SeparableConv2d"), "depthwise-separable convolution"),
    "pool": TypeInfo({}, "pooling; kind: max | avg | l2 | stochastic | global | maxout"),
    "maxpool": TypeInfo(_by_rank("MaxPool1d", "MaxPool2d"), "max pooling"),
    "avgpool": TypeInfo(_by_rank("AvgPool1d", "AvgPool2d"), "average pooling"),
    "l2pool": TypeInfo(_any("L2Pool2d"), "L2-norm pooling"),
    "stochastic_pool": TypeInfo(_any("StochasticPool2d"), "stochastic pooling"),
    "global_pool": TypeInfo(_by_rank("GlobalAvgPool1d", "GlobalAvgPool2d"),
                            "global average pooling"),
    "maxout": TypeInfo(_any("MaxoutPool"), "cross-channel max pooling (maxout)"),
    "unpool": TypeInfo(_by_rank("MaxUnpool1d", "MaxUnpool2d"), "max unpooling with switches"),
    "dense": TypeInfo(_any("Dense"), "fully connected layer"),
    "flatten": TypeInfo(_any("Flatten"), "flatten to a vector"),
    "dropout": TypeInfo(_any("Dropout"), "dropout"),
    "batchnorm": TypeInfo({1: ("BatchNorm1d",), 2: ("BatchNorm1d",), 3: ("BatchNorm2d",)},
                          "batch normalisation"),
    "lrn": TypeInfo(_any("LocalResponseNorm"), "local response normalisation"),
    "relu": TypeInfo(_any("ReLU"), "ReLU"),
    "leaky_relu": TypeInfo(_any("LeakyReLU"), "leaky ReLU"),
    "tanh": TypeInfo(_any("Tanh"), "tanh"),
    "sigmoid": TypeInfo(_any("Sigmoid"), "sigmoid"),
    "softmax": TypeInfo(_any("Softmax"), "softmax"),
    "add": TypeInfo(_any("Add"), "elementwise sum of inputs"),
    "concat": TypeInfo(_any("Concat"), "concatenation of inputs along channels"),
    "crop": TypeInfo(_any("Crop"), "crop to the size of a reference input"),
    "residual": TypeInfo(_any("BasicBlock"), "residual block (two 3x3 convolutions)"),
    "bottleneck": TypeInfo(_any("Bottleneck"), "bottleneck residual block (1x1-3x3-1x1)"),
    "inception": TypeInfo(_any("InceptionBlock"), "inception module"),
    "aux_head": TypeInfo(_any("AuxHead", "InceptionAux"), "GoogLeNet auxiliary classifier"),
    "dense_block": TypeInfo(_any("DenseBlock"), "DenseNet dense block"),
    "transition": TypeInfo(_any("Transition"), "DenseNet transition layer"),
    "fire": TypeInfo(_any("Fire"), "SqueezeNet fire module"),
}

POOL_KINDS = {"max": "maxpool", "avg": "avgpool", "average": "avgpool", "l2": "l2pool",
              "stochastic": "stochastic_pool", "global": "global_pool", "maxout": "maxout"}

# short option → constructor parameters it may stand for (the first the class has wins)
ALIASES: dict[str, tuple[str, ...]] = {
    "out": ("out_channels", "out_features", "num_classes"),
    "in": ("in_channels", "in_features", "num_features"),
    "kernel": ("kernel_size",),
    "pad": ("padding",),
    "rate": ("p",),
    "growth": ("growth_rate",),
    "layers": ("num_layers",),
    "mid": ("mid_channels",),
}
# the alias written back by to_spec
PREFERRED_ALIAS = {"out_channels": "out", "out_features": "out", "kernel_size": "kernel",
                   "mid_channels": "mid", "num_layers": "layers", "growth_rate": "growth"}

# constructor parameters filled from the input shape when the spec leaves them out
INFERRED = ("in_channels", "in_features", "num_features")

# keys of an entry that are not layer options
RESERVED = ("name", "from", "repeat", "act", "type")

# window options where [3, 3] and 3 mean the same thing
WINDOW_OPTIONS = ("kernel_size", "stride", "padding", "dilation", "output_padding")


def registry() -> dict[str, type]:
    """Registered layer classes by spec name (importing striate.layers registers them)."""
    from striate.layers.registry import LAYERS

    try:
        import striate.layers
        import striate.layers.blocks  # noqa: F401
    except ImportError:  # blocks not written yet: the plain layers still work
        pass
    return LAYERS


def class_by_name(name: str) -> type | None:
    """The registered class whose Python name is ``name``, else None."""
    for cls in registry().values():
        if cls.__name__ == name:
            return cls
    return None


def known_type(name: str) -> bool:
    """True for a short name of this table or a registered layer name."""
    return name in SHORT or name in registry()


def suggest(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str:
    """``; did you mean X?`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(str(word), sorted(choices), n=2, cutoff=cutoff)
    return f"; did you mean {' or '.join(close)}?" if close else ""


def type_names() -> list[str]:
    """Every name a spec may use as a layer type."""
    return sorted(set(SHORT) | set(registry()))


def resolve(name: str, rank: int, kind: str | None = None) -> type:
    """The class for type ``name`` on an input of ``rank`` axes.

    Raises:
        ConfigError: the name is unknown, the input rank does not suit it, or the layer is
            not available in this version of striate.layers.
    """
    if name == "pool":
        short = POOL_KINDS.get(kind or "max") if isinstance(kind, (str, type(None))) else None
        if short is None:
            hint = suggest(str(kind), POOL_KINDS, 0.5)
            raise ConfigError(f"pool kind {kind!r} is unknown{hint}; use one of "
                              f"{', '.join(POOL_KINDS)}")
        name = short
    layers = registry()
    if name not in SHORT:
        if name in layers:
            return layers[name]
        raise ConfigError(f"unknown layer type {name!r}{suggest(name, type_names())}")
    info = SHORT[name]
    names = info.classes.get(rank) or info.classes.get(0)
    if not names:
        ranks = {1: "(F,)", 2: "(C, L)", 3: "(C, H, W)"}
        fits = " or ".join(ranks.get(r, str(r)) for r in sorted(info.classes))
        raise ConfigError(f"{name} needs a {fits} input but receives {rank} axes; "
                          "check the layers before it (a flatten too early?)")
    for cls_name in names:
        cls = class_by_name(cls_name)
        if cls is not None:
            return cls
    raise ConfigError(f"{name} ({names[0]}) is not available in this version of striate.layers")


def short_name(cls: type) -> str:
    """The short name to_spec writes for ``cls``: the table's name, else its registered one."""
    for short, info in SHORT.items():
        if short in ("conv1d", "conv2d"):
            continue
        if any(cls.__name__ in names for names in info.classes.values()):
            return short
    return getattr(cls, "type_name", cls.__name__.lower())


def parameters(cls: type) -> tuple[dict[str, inspect.Parameter], bool]:
    """The constructor's named parameters, and whether it also takes ``**kwargs``."""
    try:
        sig = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return {}, True
    params = {}
    var_kw = False
    for p in list(sig.parameters.values())[1:]:
        if p.kind is p.VAR_KEYWORD:
            var_kw = True
        elif p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            params[p.name] = p
    return params, var_kw


def canonical(option: str, params: dict[str, inspect.Parameter]) -> str | None:
    """The constructor parameter ``option`` stands for, or None if it is unknown."""
    if option in params:
        return option
    for target in ALIASES.get(option, ()):
        if target in params:
            return target
    return None


def option_names(params: dict[str, inspect.Parameter]) -> list[str]:
    """Options a user may write for a class: its parameters and their aliases."""
    names = [p for p in params if p not in INFERRED]
    names += [a for a, targets in ALIASES.items() if any(t in params for t in targets)]
    return names


def option_list(params: dict[str, inspect.Parameter]) -> str:
    """The options of a class for a message: ``out (out_channels), kernel (kernel_size), …``."""
    return ", ".join(f"{PREFERRED_ALIAS[p]} ({p})" if p in PREFERRED_ALIAS else p
                     for p in params if p not in INFERRED) or "none"


def primary_option(cls: type, params: dict[str, inspect.Parameter]) -> str | None:
    """The option a bare value stands for (``dense: 10``, ``dropout: 0.5``): the first
    required parameter that is not inferred, else the first parameter."""
    required = [n for n, p in params.items()
                if p.default is inspect.Parameter.empty and n not in INFERRED]
    if required:
        return required[0]
    rest = [n for n in params if n not in INFERRED]
    return rest[0] if rest else None
