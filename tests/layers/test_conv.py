import json
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from striate.layers import ConfigError, Conv1d, Conv2d, ShapeError
from striate.layers.base import RFParams
from striate.layers.formulas import conv_params

X = torch.tensor([[0.0, 1, 2], [3, 4, 5], [6, 7, 8]])
K = torch.tensor([[0.0, 1], [2, 3]])


def _single(kernel, flip=False):
    conv = Conv2d(1, 1, 2, bias=False, flip_kernel=flip)
    with torch.no_grad():
        conv.weight.copy_(kernel.view(1, 1, 2, 2))
    return conv


def test_cross_correlation_of_the_notes():
    out = _single(K)(X.view(1, 1, 3, 3))
    assert out.view(2, 2).tolist() == [[19, 25], [37, 43]]


def test_flip_kernel_is_true_convolution():
    # True convolution, by hand: y[i, j] = sum_{a,b} x[i + a, j + b] * k[1 - a, 1 - b]
    expected = [[sum(X[i + a, j + b] * K[1 - a, 1 - b] for a in range(2) for b in range(2)).item()
                 for j in range(2)] for i in range(2)]
    out = _single(K, flip=True)(X.view(1, 1, 3, 3))
    assert out.view(2, 2).tolist() == expected == [[5, 11], [23, 29]]


def test_ten_5x5_filters_on_32x32x3():
    conv = Conv2d(3, 10, 5, stride=1, padding=2)
    assert conv.output_shape((3, 32, 32)) == (10, 32, 32)
    assert sum(p.numel() for p in conv.parameters()) == (5 * 5 * 3 + 1) * 10 == 760
    assert conv.macs((3, 32, 32)) == 32 * 32 * 10 * 5 * 5 * 3


@settings(max_examples=40, deadline=None)
@given(
    size=st.tuples(st.integers(1, 12), st.integers(1, 12)),
    kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.one_of(st.integers(0, 2), st.sampled_from(["same", "valid"])),
    dilation=st.integers(1, 2),
    groups=st.sampled_from([1, 2]),
)
def test_conv2d_output_shape_matches_forward(size, kernel, stride, padding, dilation, groups):
    conv = Conv2d(2, 4, kernel, stride, padding, dilation, groups=groups)
    x = torch.randn(1, 2, *size)
    try:
        expected = conv.output_shape((2, *size))
    except ShapeError:
        with pytest.raises(ShapeError):
            conv(x)
        return
    assert tuple(conv(x).shape[1:]) == expected
    assert conv.macs((2, *size)) == math.prod(expected) * math.prod(kernel) * 2 // groups
    assert sum(p.numel() for p in conv.parameters()) == conv_params(2, 4, kernel, groups)
    if padding == "same":
        assert expected[1:] == tuple(math.ceil(w / s) for w, s in zip(size, stride, strict=True))


@settings(max_examples=30, deadline=None)
@given(length=st.integers(1, 20), kernel=st.integers(1, 5), stride=st.integers(1, 3),
       dilation=st.integers(1, 3), padding=st.sampled_from([0, 1, "same", "causal", "valid"]))
def test_conv1d_output_shape_matches_forward(length, kernel, stride, dilation, padding):
    conv = Conv1d(3, 2, kernel, stride, padding, dilation)
    x = torch.randn(2, 3, length)
    try:
        expected = conv.output_shape((3, length))
    except ShapeError:
        with pytest.raises(ShapeError):
            conv(x)
        return
    assert tuple(conv(x).shape[1:]) == expected


def test_same_padding_on_strided_conv_gives_ceil():
    conv = Conv2d(1, 1, 3, stride=2, padding="same")
    for w in (7, 8, 224):
        assert conv.output_shape((1, w, w)) == (1, math.ceil(w / 2), math.ceil(w / 2))
        assert conv(torch.randn(1, 1, w, w)).shape[-1] == math.ceil(w / 2)
    # stride 1, odd kernel: PyTorch's own symmetric padding
    assert Conv2d(1, 1, 5, padding="same").padding == (2, 2)


def test_same_padding_puts_the_odd_zero_after_like_tensorflow():
    # W=8, k=3, S=2: out 4, total padding (4-1)*2 + 3 - 8 = 1, all of it on the right.
    conv = Conv1d(1, 1, 3, stride=2, padding="same", bias=False)
    with torch.no_grad():
        conv.weight.fill_(1.0)
    out = conv(torch.arange(1.0, 9.0).view(1, 1, 8))
    assert out.view(-1).tolist() == [1 + 2 + 3, 3 + 4 + 5, 5 + 6 + 7, 7 + 8 + 0]


def test_causal_conv_never_sees_the_future():
    conv = Conv1d(2, 3, 3, dilation=2, padding="causal")
    x = torch.randn(1, 2, 16)
    y = conv(x)
    assert y.shape[-1] == 16
    for t in (0, 5, 15):
        x2 = x.clone()
        x2[..., t + 1:] = torch.randn_like(x2[..., t + 1:])
        torch.testing.assert_close(conv(x2)[..., : t + 1], y[..., : t + 1])
        if t < 15:
            assert not torch.allclose(conv(x2)[..., t + 1:], y[..., t + 1:])
    assert conv.rf() == RFParams((3,), (1,), (4,), (2,))


def test_rf_reports_window():
    assert Conv2d(3, 8, 7, stride=2, padding=3).rf() == RFParams((7, 7), (2, 2), (3, 3), (1, 1))
    assert Conv2d(3, 8, 3, dilation=2, padding="same").rf().padding == (2, 2)
    assert Conv2d(3, 8, 3, padding="valid").rf().padding == (0, 0)


def test_window_that_does_not_fit():
    conv = Conv2d(1, 1, 3, stride=3)
    assert conv.output_shape((1, 7, 7)) == (1, 2, 2)  # floor, as PyTorch
    assert conv.dropped_inputs((1, 7, 7)) == (1, 1)
    assert conv.dropped_inputs((1, 9, 9)) == (0, 0)
    with pytest.raises(ShapeError) as err:
        conv.output_shape((1, 7, 7), strict=True)
    assert str(err.value) == (
        "Conv2d(k=3, s=3): (7 − 3 + 2·0)/3 + 1 = 2.33 does not fit; use padding=1 or stride=2"
    )


def test_kernel_larger_than_input_raises_in_output_shape_and_forward():
    conv = Conv2d(1, 1, 5)
    message = ("Conv2d(k=5, s=1): the window (5) is larger than the padded input (3): "
               "(3 − 5 + 2·0)/1 + 1 = -1; use a smaller kernel or more padding")
    with pytest.raises(ShapeError) as err:
        conv.output_shape((1, 3, 3))
    assert str(err.value) == message
    with pytest.raises(ShapeError) as err:
        conv(torch.zeros(1, 1, 3, 3))
    assert str(err.value) == message


def test_wrong_channels_and_rank():
    conv = Conv2d(3, 8, 3)
    with pytest.raises(ShapeError, match=r"expects 3 input channels but received shape "
                                         r"\(1, 28, 28\) \(1 channels\); set in_channels=1"):
        conv(torch.zeros(2, 1, 28, 28))
    with pytest.raises(ShapeError, match=r"per-sample input \(C, H, W\) \(3 axes\) but received "
                                         r"shape \(28, 28\)"):
        conv.output_shape((28, 28))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"out_channels": 0}, "out_channels must be a positive integer. Received: out_channels=0"),
    ({"kernel_size": -1}, "kernel_size must be a positive integer or 2 of them. "
                          "Received: kernel_size=-1"),
    ({"kernel_size": 2.5}, "Received: kernel_size=2.5"),
    ({"groups": 3}, "groups must divide in_channels and out_channels. Received: groups=3, "
                    "in_channels=4, out_channels=8"),
    ({"padding": "full"}, "Received: padding='full'"),
    ({"padding": "causal"}, "padding='causal' is for sequences (Conv1d)"),
    ({"padding": -1}, "padding must be a non-negative integer or 2 of them"),
])
def test_config_errors_name_the_argument(kwargs, message):
    args = {"in_channels": 4, "out_channels": 8, "kernel_size": 3, **kwargs}
    with pytest.raises(ConfigError) as err:
        Conv2d(**args)
    assert message in str(err.value)


def test_config_round_trip_keeps_string_padding_and_flip():
    conv = Conv1d(4, 8, 5, stride=2, padding="same", flip_kernel=True, bias=False)
    rebuilt = Conv1d(**json.loads(json.dumps(conv.config())))
    assert rebuilt.config() == conv.config()
    rebuilt.load_state_dict(conv.state_dict())
    x = torch.randn(2, 4, 11)
    torch.testing.assert_close(rebuilt(x), conv(x))


def test_size_dependent_padding_traces_with_fx():
    # "same" with a stride pads by an amount that depends on the input size: fx must keep it
    for conv, x in ((Conv2d(2, 3, 3, stride=2, padding="same"), torch.randn(1, 2, 7, 7)),
                    (Conv1d(2, 3, 3, padding="causal", flip_kernel=True), torch.randn(1, 2, 7))):
        traced = torch.fx.symbolic_trace(conv)
        torch.testing.assert_close(traced(x), conv(x))
        if isinstance(conv, Conv2d):
            torch.testing.assert_close(traced(torch.randn(1, 2, 8, 8)).shape[-1], 4)


def test_repr_shows_the_padding_as_given():
    assert repr(Conv2d(3, 4, 3, stride=2, padding="same", flip_kernel=True)) == (
        "Conv2d(3, 4, kernel_size=(3, 3), stride=(2, 2), padding='same', flip_kernel=True)")
    assert repr(Conv1d(3, 4, 3, padding="causal")).endswith("padding='causal')")


def test_rf_of_strided_same_padding_follows_the_input_size():
    conv = Conv2d(1, 1, 3, stride=2, padding="same")
    # W = 8: total padding (4 − 1)·2 + 3 − 8 = 1, none before; W = 7: total 2, one before
    assert conv.rf((1, 8, 8)).padding == (0, 0)
    assert conv.rf((1, 7, 7)).padding == (1, 1)
    assert conv.rf().padding == (0, 0)  # without a size: sizes divisible by the stride
