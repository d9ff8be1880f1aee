import pytest
import torch

from striate.layers import (
    Conv2d,
    Dense,
    Flatten,
    MaxPool2d,
    ReLU,
    SeparableConv2d,
    Sequential,
    ShapeError,
    get_layer,
)
from striate.layers.blocks import Fire


def _lenet():
    return Sequential(Conv2d(1, 6, 5), ReLU(), MaxPool2d(2), Conv2d(6, 16, 5), ReLU(),
                      MaxPool2d(2), Flatten(), Dense(120), ReLU(), Dense(84), ReLU(), Dense(10))


def test_sequential_folds_shapes_and_macs():
    net = _lenet()
    assert net.output_shape((1, 32, 32)) == (10,)
    # LeNet-5 on 32x32: C1 28·28·6·25, C3 10·10·16·150, then 400·120, 120·84, 84·10
    expected = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 400 * 120 + 120 * 84 + 84 * 10
    assert net.macs((1, 32, 32)) == expected == 416_520
    assert net(torch.randn(2, 1, 32, 32)).shape == (2, 10)
    assert sum(p.numel() for p in net.parameters()) == 61_706  # LeCun et al. 1998, modern form


def test_sequential_error_names_the_child_and_strict_goes_through():
    net = _lenet()
    with pytest.raises(ShapeError) as err:
        net.output_shape((1, 8, 8))
    assert str(err.value).startswith("3: Conv2d(k=5, s=1): the window (5) is larger than the "
                                     "padded input (2)")
    with pytest.raises(ShapeError, match=r"^2: MaxPool2d\(k=2, s=2\): \(27 − 2 \+ 2·0\)/2 \+ 1"):
        net.output_shape((1, 31, 31), strict=True)
    assert err.value.at("model").where == "model"


def test_separable_conv_parameters_against_a_full_convolution():
    sep = SeparableConv2d(32, 64, 3, padding=1, bias=False)
    assert sum(p.numel() for p in sep.parameters()) == 3 * 3 * 32 + 32 * 64
    full = Conv2d(32, 64, 3, padding=1, bias=False)
    assert sum(p.numel() for p in full.parameters()) == 3 * 3 * 32 * 64
    assert sep.output_shape((32, 14, 14)) == full.output_shape((32, 14, 14))
    assert sep.macs((32, 14, 14)) == 14 * 14 * (9 * 32 + 32 * 64)
    assert sep.rf() == full.rf()
    mobilenet = SeparableConv2d(32, 64, 3, padding=1, mid_norm=True, mid_activation="relu")
    assert [type(m).__name__ for m in mobilenet.children()] == [
        "Conv2d", "BatchNorm2d", "ReLU", "Conv2d"]


def test_blocks_are_in_the_registry():
    assert get_layer("fire") is Fire
    for name in ("basic_block", "bottleneck", "inception", "inception_aux", "dense_block",
                 "transition", "zero_pad_shortcut"):
        assert get_layer(name).type_name == name
