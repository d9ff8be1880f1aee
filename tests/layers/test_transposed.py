import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from striate.layers import ConfigError, Conv2d, ConvTranspose1d, ConvTranspose2d, ShapeError


def test_transposed_conv_shapes_and_macs():
    t = ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)
    # (5 − 1)·2 − 2·1 + 3 + 1 = 10
    assert t.output_shape((4, 5, 5)) == (2, 10, 10) == tuple(t(torch.randn(1, 4, 5, 5)).shape[1:])
    assert t.macs((4, 5, 5)) == 4 * 5 * 5 * 3 * 3 * 2
    assert t.rf() is None
    t1 = ConvTranspose1d(4, 6, 4, stride=2, groups=2)
    assert t1.output_shape((4, 7)) == (6, 16) == tuple(t1(torch.randn(1, 4, 7)).shape[1:])
    assert t1.macs((4, 7)) == 4 * 7 * 4 * 6 // 2
    with pytest.raises(ShapeError, match="is not a positive size"):
        ConvTranspose1d(1, 1, 1, padding=1).output_shape((1, 1))
    with pytest.raises(ConfigError, match="output_padding must be smaller"):
        ConvTranspose2d(1, 1, 3, stride=1, output_padding=1)


def test_transposed_conv_is_the_gradient_of_conv():
    conv = Conv2d(2, 3, 3, stride=2, bias=False)
    t = ConvTranspose2d(3, 2, 3, stride=2, bias=False)
    with torch.no_grad():
        t.weight.copy_(conv.weight)
    x = torch.randn(1, 2, 7, 7, requires_grad=True)
    g = torch.randn(1, 3, 3, 3)
    (conv(x) * g).sum().backward()
    torch.testing.assert_close(t(g), x.grad)


def test_transposed_conv_output_size_picks_the_size_lost_by_the_stride():
    # conv 3/2 maps both 7 and 8 to 3; output_size chooses which one to go back to
    t = ConvTranspose2d(1, 1, 3, stride=2)
    assert t(torch.randn(1, 1, 3, 3)).shape[-1] == 7
    assert t(torch.randn(1, 1, 3, 3), output_size=[8, 8]).shape[-1] == 8


@settings(max_examples=25, deadline=None)
@given(size=st.integers(1, 8), kernel=st.integers(1, 4), stride=st.integers(1, 3),
       padding=st.integers(0, 2), dilation=st.integers(1, 2), extra=st.integers(0, 2))
def test_transposed_output_shape_matches_forward(size, kernel, stride, padding, dilation, extra):
    output_padding = min(extra, max(stride, dilation) - 1)
    t = ConvTranspose2d(2, 4, kernel, stride, padding, output_padding, dilation=dilation)
    x = torch.randn(1, 2, size, size)
    try:
        expected = t.output_shape((2, size, size))
    except ShapeError:
        with pytest.raises(ShapeError):
            t(x)
        return
    assert tuple(t(x).shape[1:]) == expected


@pytest.mark.parametrize("layer", [ConvTranspose2d(1, 1, 4, padding=2),
                                   ConvTranspose1d(1, 1, 4, padding=2)], ids=["2d", "1d"])
def test_forward_raises_where_the_padding_eats_the_whole_output(layer):
    # (1 − 1)·1 − 2·2 + 4 = 0: recent PyTorch returns an empty map instead of failing
    x = torch.ones((1, 1) + (1,) * (layer._dims))
    with pytest.raises(ShapeError, match=r"\(1 − 1\)·1 − 2·2 \+ 4 \+ 0 = 0 is not a positive "
                       r"size; use less padding$"):
        layer(x)
    assert layer(torch.ones((0, 1) + (2,) * layer._dims)).shape[0] == 0  # an empty batch is fine
