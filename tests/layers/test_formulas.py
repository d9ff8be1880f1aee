import pytest

from striate.layers.errors import ShapeError
from striate.layers.formulas import (
    causal_padding,
    conv_params,
    require_fit,
    same_padding,
    transposed_direct_padding,
    transposed_output,
    window_fit,
    zero_inserted,
)


@pytest.mark.parametrize(("stride", "padding", "expected"), [(1, 0, 5), (2, 0, 3), (1, 1, 7)])
def test_notes_7x7_input_3x3_kernel(stride, padding, expected):
    assert window_fit(7, 3, stride, padding).output == expected
    assert window_fit(7, 3, stride, padding).fits


def test_stride_3_does_not_fit_and_says_what_would():
    fit = window_fit(7, 3, 3)
    assert (fit.output, fit.dropped) == (2, 1)
    with pytest.raises(ShapeError) as err:
        require_fit(7, 3, 3)
    assert str(err.value) == "(7 − 3 + 2·0)/3 + 1 = 2.33 does not fit; use padding=1 or stride=2"


def test_kernel_larger_than_padded_input():
    with pytest.raises(ShapeError, match="larger than the padded input"):
        window_fit(2, 5, 1, 1)


def test_same_padding_matches_tensorflow_for_strided_windows():
    # TF: out = ceil(W/S), total = max((out-1)*S + k - W, 0), the odd zero goes after.
    assert same_padding(224, 7, 2) == (2, 3)
    assert same_padding(8, 3, 2) == (0, 1)
    assert same_padding(7, 3, 1) == (1, 1)


def test_causal_and_transposed():
    assert causal_padding(2, 4) == (4, 0)
    assert transposed_output(3, 3, 2, 1) == 5


def test_conv_params_of_the_notes():
    # 32x32x3 input, ten 5x5 filters: (5·5·3 + 1)·10 = 760 parameters
    assert conv_params(3, 10, (5, 5)) == 760


def test_ceil_mode_like_caffe():
    assert window_fit(112, 3, 2, ceil_mode=True).output == 56
    assert window_fit(6, 3, 2, ceil_mode=True).output == 3


def test_transposed_convolution_as_a_direct_one():
    # notes / Dumoulin & Visin §4: a 2x2 input, 3x3 kernel, stride 2 → insert 1 zero: 3,
    # pad 3 − 1 − 0 = 2 on each side: 7, slide 3x3 with stride 1: 5 = transposed_output
    assert zero_inserted(2, 2) == (2 - 1) * 2 + 1 == 3
    assert transposed_direct_padding(3, 0) == 2
    assert window_fit(3 + 2 * 2, 3).output == transposed_output(2, 3, 2) == 5
    # padding 2 on a 3-tap kernel dilated by 2 (k_eff 5): 5 − 1 − 2 = 2; P > k_eff − 1 crops
    assert transposed_direct_padding(3, 2, dilation=2) == 2
    assert transposed_direct_padding(3, 3) == -1


def test_ceil_mode_overhang():
    # 5 inputs, 2-wide windows, stride 2, ceil_mode: 3 windows cover 6 cells, 1 past the end
    fit = window_fit(5, 2, 2, ceil_mode=True)
    assert (fit.output, fit.overhang, fit.dropped) == (3, 1, 0)
    assert window_fit(5, 2, 2).overhang == 0  # rounding down never overhangs
