"""Every registered layer keeps the contract of base.py: output_shape equals the real
forward's shape, config() rebuilds an identical module, and the registry knows it."""

import json

import pytest
import torch

import striate.layers as L
from striate.layers.registry import LAYERS, get_layer

# (layer, per-sample input shape) for every plain layer
CASES = [
    (L.Conv2d(3, 10, 5, padding=2), (3, 32, 32)),
    (L.Conv2d(4, 6, (3, 5), stride=(2, 1), padding="same", groups=2, bias=False), (4, 9, 8)),
    (L.Conv1d(4, 8, 3, dilation=2, padding="causal"), (4, 20)),
    (L.Conv1d(4, 8, 4, stride=3, padding="valid", padding_mode="reflect"), (4, 20)),
    (L.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1), (4, 5, 5)),
    (L.ConvTranspose1d(4, 2, 4, stride=2), (4, 7)),
    (L.SeparableConv2d(4, 8, 3, stride=2, padding=1, mid_norm=True, mid_activation="relu"),
     (4, 9, 9)),
    (L.MaxPool2d(3, 2, ceil_mode=True), (2, 6, 6)),
    (L.MaxPool1d(2), (2, 9)),
    (L.AvgPool2d(2, padding=1), (2, 7, 7)),
    (L.AvgPool1d(3, 2), (2, 9)),
    (L.L2Pool2d(2), (2, 6, 6)),
    (L.StochasticPool2d(2), (2, 6, 6)),
    (L.GlobalAvgPool2d(), (5, 4, 4)),
    (L.GlobalAvgPool2d(keepdim=True), (5, 4, 4)),
    (L.GlobalAvgPool1d(), (5, 9)),
    (L.GlobalMaxPool1d(), (5, 9)),
    (L.GlobalMaxPool2d(keepdim=True), (5, 4, 4)),
    (L.MaxoutPool(3), (6, 4, 4)),
    (L.Dense(7, 12), (12,)),
    (L.Dense(7), (12,)),
    (L.Flatten(), (3, 4, 5)),
    (L.Flatten(2), (3, 4, 5)),
    (L.Dropout(0.3), (3, 4)),
    (L.Dropout2d(0.3), (3, 4, 4)),
    (L.Identity(), (3, 4)),
    (L.BatchNorm2d(3), (3, 4, 4)),
    (L.BatchNorm1d(3), (3,)),
    (L.BatchNorm1d(3), (3, 8)),
    (L.LocalResponseNorm(5, k=2.0), (8, 4, 4)),
    (L.ReLU(), (3, 4)),
    (L.ReLU6(), (3, 4)),
    (L.LeakyReLU(0.2), (3, 4)),
    (L.ELU(), (3, 4)),
    (L.GELU(), (3, 4)),
    (L.Tanh(), (3, 4)),
    (L.Sigmoid(), (3, 4)),
    (L.Softmax(), (10,)),
    (L.LogSoftmax(), (10,)),
]


def _params(module):
    return [(n, tuple(p.shape)) for n, p in module.named_parameters()]


@pytest.mark.parametrize(("layer", "shape"), CASES, ids=lambda v: type(v).__name__)
def test_output_shape_is_the_forward_shape(layer, shape):
    layer.eval()
    out = layer(torch.randn(2, *shape))
    assert tuple(out.shape[1:]) == layer.output_shape(shape)


@pytest.mark.parametrize(("layer", "shape"), CASES, ids=lambda v: type(v).__name__)
def test_config_round_trip(layer, shape):
    layer(torch.randn(2, *shape))  # a lazy Dense learns its input size
    config = json.loads(json.dumps(layer.config()))
    rebuilt = type(layer)(**config)
    rebuilt(torch.randn(2, *shape))
    assert _params(rebuilt) == _params(layer)
    assert rebuilt.config() == layer.config()
    assert rebuilt.output_shape(shape) == layer.output_shape(shape)


def test_every_class_is_registered_and_exported():
    exported = {getattr(L, n) for n in L.__all__ if isinstance(getattr(L, n), type)}
    for name, cls in LAYERS.items():
        assert get_layer(name) is cls
        assert cls.type_name == name
        assert cls in exported, name


def test_unknown_layer_suggests_close_names():
    with pytest.raises(L.ConfigError, match="did you mean conv2d"):
        get_layer("conv2")


@pytest.mark.parametrize("cls", [L.Conv2d, L.Dense, L.MaxPool2d, L.BatchNorm2d])
def test_subclasses_the_torch_module(cls):
    torch_cls = getattr(torch.nn, cls.__name__.replace("Dense", "Linear"))
    assert issubclass(cls, torch_cls)
    assert issubclass(cls, L.Layer)


def test_shape_preserving_layers_have_no_window_and_no_macs():
    for layer, shape in CASES:
        if isinstance(layer, (L.ReLU, L.Tanh, L.BatchNorm2d, L.Dropout, L.Softmax)):
            assert layer.rf() is None
            assert layer.macs(shape) == 0


@pytest.mark.parametrize("shape", [(3, 8.5, 8), (True, 8, 8), ("3", 8, 8)])
def test_a_size_that_is_not_an_integer_is_a_shape_error(shape):
    with pytest.raises(L.ShapeError, match=r"^Conv2d\(k=3, s=1\): a shape is a tuple of ints"):
        L.Conv2d(3, 4, 3).output_shape(shape)


def test_integral_sizes_of_any_type_are_accepted():
    import numpy as np

    conv = L.Conv2d(3, 4, 3)
    expected = (4, 6, 6)  # (8 − 3)/1 + 1 = 6
    assert conv.output_shape((np.int64(3), 8, 8)) == expected
    assert conv.output_shape(torch.Size([3, 8, 8])) == expected
    assert conv.output_shape((3, 8.0, 8)) == expected


@pytest.mark.parametrize(("make", "message"), [
    (lambda: L.Conv2d(0, 4, 3),
     "Conv2d: in_channels must be a positive integer. Received: in_channels=0"),
    (lambda: L.Dense(0), "Dense: out_features must be a positive integer. Received: "
     "out_features=0"),
    (lambda: L.BatchNorm2d(0), "BatchNorm2d: num_features must be a positive integer. "
     "Received: num_features=0"),
    (lambda: L.ConvTranspose1d(1, 1, 3, output_padding=1), "ConvTranspose1d: output_padding"),
    # a block names its own option, not the argument of the conv inside it
    (lambda: L.blocks.Fire(64, 0, 64, 64),
     "Fire: squeeze must be a positive integer. Received: squeeze=0"),
    (lambda: L.blocks.InceptionBlock(192, 64, 96, 0, 16, 32, 32),
     "InceptionBlock: c3 must be a positive integer. Received: c3=0"),
])
def test_constructor_errors_name_the_layer(make, message):
    with pytest.raises(L.ConfigError) as info:
        make()
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)
