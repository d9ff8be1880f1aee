"""Activations: element-wise non-linearities (shape-preserving, 0 MACs, no parameters)."""

from __future__ import annotations

from typing import Any

from torch import nn

from striate.layers._util import as_shape
from striate.layers.base import Layer, Shape
from striate.layers.errors import ConfigError
from striate.layers.registry import register_layer


class _Activation(Layer):
    def output_shape(self, in_shape: Shape, *, strict: bool = False) -> Shape:
        return as_shape(in_shape, type(self).__name__)


def _inplace(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"inplace must be True or False. Received: inplace={value!r}")
    return value


@register_layer("relu")
class ReLU(_Activation, nn.ReLU):
    """``max(0, x)``."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(_inplace(inplace))

    def config(self) -> dict[str, Any]:
        return {"inplace": self.inplace}


@register_layer("relu6")
class ReLU6(_Activation, nn.ReLU6):
    """``min(max(0, x), 6)`` (MobileNet)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(_inplace(inplace))

    def config(self) -> dict[str, Any]:
        return {"inplace": self.inplace}


@register_layer("leaky_relu")
class LeakyReLU(_Activation, nn.LeakyReLU):
    """``x`` for ``x > 0``, else ``negative_slope·x``."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__(negative_slope, _inplace(inplace))

    def config(self) -> dict[str, Any]:
        return {"negative_slope": self.negative_slope, "inplace": self.inplace}


@register_layer("elu")
class ELU(_Activation, nn.ELU):
    """``x`` for ``x > 0``, else ``alpha·(exp(x) − 1)``."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__(alpha, _inplace(inplace))

    def config(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "inplace": self.inplace}


@register_layer("gelu")
class GELU(_Activation, nn.GELU):
    """``x·Φ(x)``."""

    def __init__(self, approximate: str = "none") -> None:
        if approximate not in ("none", "tanh"):
            raise ConfigError(
                f"approximate must be 'none' or 'tanh'. Received: approximate={approximate!r}"
            )
        super().__init__(approximate)

    def config(self) -> dict[str, Any]:
        return {"approximate": self.approximate}


@register_layer("tanh")
class Tanh(_Activation, nn.Tanh):
    """Hyperbolic tangent, output in (−1, 1)."""

    def config(self) -> dict[str, Any]:
        return {}


@register_layer("sigmoid")
class Sigmoid(_Activation, nn.Sigmoid):
    """``1/(1 + exp(−x))``, output in (0, 1)."""

    def config(self) -> dict[str, Any]:
        return {}


def _dim(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"dim must be an integer. Received: dim={value!r}")
    return value


@register_layer("softmax")
class Softmax(_Activation, nn.Softmax):
    """``exp(x_i)/Σ_j exp(x_j)`` along ``dim`` (1 = the class axis of a batch)."""

    def __init__(self, dim: int = 1) -> None:
        super().__init__(_dim(dim))

    def config(self) -> dict[str, Any]:
        return {"dim": self.dim}


@register_layer("log_softmax")
class LogSoftmax(_Activation, nn.LogSoftmax):
    """``log(softmax(x))`` along ``dim``, computed stably."""

    def __init__(self, dim: int = 1) -> None:
        super().__init__(_dim(dim))

    def config(self) -> dict[str, Any]:
        return {"dim": self.dim}
