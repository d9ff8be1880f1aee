"""`striate explain conv` and the explanation it prints, run in-process."""

import json

import numpy as np
import pytest

from striate.cli import main
from striate.layers.errors import ConfigError, ShapeError
from striate.reference import conv_matrix
from striate.reference.explain import explain_conv, parse_channels, parse_pair


def run(capsys, *argv):
    code = main(["explain", "conv", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_output_size_formula_per_axis(capsys):
    code, out, _ = run(capsys, "--input", "7x7", "--kernel", "3", "--stride", "2",
                       "--padding", "1")
    assert code == 0
    # (W − K + 2P)/S + 1 = (7 − 3 + 2·1)/2 + 1 = 4 (CS231n's worked example).
    assert "(W − K + 2P)/S + 1" in out
    assert "height: (7 − 3 + 2·1)/2 + 1 = 4" in out
    assert "width:  (7 − 3 + 2·1)/2 + 1 = 4" in out
    assert "output: 4x4" in out


def test_parameter_count_760(capsys):
    # 3 → 10 channels with a 5x5 kernel: (5·5·3 + 1)·10 = 760 (CS231n notes).
    code, out, _ = run(capsys, "--input", "32", "--kernel", "5", "--channels", "3:10")
    assert code == 0
    assert "(5·5·3 + 1)·10 = 760" in out
    # 28·28 outputs per channel, each a dot product of 5·5·3 = 75 terms.
    assert f"10·28·28 outputs × 75 = {10 * 28 * 28 * 75:,}" in out


def test_groups_divide_the_parameters():
    e = explain_conv(8, 3, channels=(4, 8), groups=2)
    assert e.params == (3 * 3 * 4 // 2 + 1) * 8


def test_matrix_of_the_notes_4x4_3x3(capsys):
    code, out, _ = run(capsys, "--input", "4x4", "--kernel", "3")
    assert code == 0
    rows = [line for line in out.splitlines() if line.startswith("  [")]
    assert len(rows) == 4
    # The first row of the notes' matrix: w00 w01 w02 0 w10 w11 w12 0 w20 w21 w22 0 0 0 0 0.
    assert rows[0].split()[1:-1] == ["w00", "w01", "w02", "0", "w10", "w11", "w12", "0",
                                     "w20", "w21", "w22", "0", "0", "0", "0", "0"]
    assert rows[3].split()[1:-1] == ["0", "0", "0", "0", "0", "w00", "w01", "w02", "0",
                                     "w10", "w11", "w12", "0", "w20", "w21", "w22"]
    assert "y = C·x with C (4x16)" in out
    assert "Cᵀ" in out


def test_matrix_labels_agree_with_conv_matrix():
    e = explain_conv((5, 4), (2, 3), stride=(2, 1), padding=1)
    w = np.arange(1.0, 7.0).reshape(2, 3)
    dense = conv_matrix((5, 4), w, stride=(2, 1), padding=1)
    labels = e.to_dict()["matrix"]
    rebuilt = [[0.0 if c == "0" else w[int(c[1]), int(c[2])] for c in row] for row in labels]
    np.testing.assert_array_equal(rebuilt, dense)


def test_large_input_skips_the_matrix(capsys):
    _, out, _ = run(capsys, "--input", "28", "--kernel", "5")
    assert "  [" not in out
    assert "printed for up to 36 inputs" in out


def test_not_fitting_is_explained_with_a_suggestion(capsys):
    code, out, _ = run(capsys, "--input", "7", "--kernel", "3", "--stride", "3")
    assert code == 0
    assert "(7 − 3 + 2·0)/3 + 1 = 2.33" in out
    assert "does not fit: PyTorch rounds down to 2" in out
    assert "use padding=1 or stride=2" in out


def test_strict_refuses_a_window_that_does_not_fit(capsys):
    code, _, err = run(capsys, "--input", "7", "--kernel", "3", "--stride", "3", "--strict")
    assert code == 2
    assert err.strip() == ("striate: error: height axis: (7 − 3 + 2·0)/3 + 1 = 2.33 does not "
                           "fit; use padding=1 or stride=2")
    assert "Traceback" not in err


def test_transposed_derivation(capsys):
    # Dumoulin & Visin (2016), relationship 10 / notes: K=3, S=2, P=0 on 2x2 gives 5x5.
    code, out, _ = run(capsys, "--input", "2", "--kernel", "3", "--stride", "2", "--transposed")
    assert code == 0
    assert "(W − 1)·S − 2P + K + output_padding" in out
    assert "height: (2 − 1)·2 − 2·0 + 3 = 5" in out
    assert "insert S − 1 = 1 zero(s) between values: (2 − 1)·2 + 1 = 3" in out
    assert "pad with k_eff − 1 − P = 3 − 1 − 0 = 2 zero(s) on each side: 7" in out
    assert "slide the flipped kernel with stride 1: (7 − 3 + 2·0)/1 + 1 = 5" in out
    assert "C (4x25)" in out
    assert "as Cᵀ·y (25x4)" in out
    # the per-axis steps line up as the output-size lines do
    assert "\n  height: insert S − 1" in out
    assert "\n  width:  insert S − 1" in out


def test_transposed_output_padding_and_crop():
    e = explain_conv(3, 3, 2, 1, transposed=True, output_padding=1)
    assert e.output_size == (6, 6)  # (3 − 1)·2 − 2·1 + 3 + 1
    assert e.matrix is not None
    assert e.matrix.shape == (9, 36)
    cropped = explain_conv(4, 1, 1, 1, transposed=True)
    assert cropped.output_size == (2, 2)
    assert "crop k_eff − 1 − P = -1" in cropped.direct_steps[0]


def test_dilation_formula(capsys):
    _, out, _ = run(capsys, "--input", "7", "--kernel", "3", "--dilation", "2")
    assert "(W − (d·(K − 1) + 1) + 2P)/S + 1" in out
    assert "(7 − 5 (kernel 3, dilation 2) + 2·0)/1 + 1 = 3" in out


def test_json_format(capsys):
    code, out, _ = run(capsys, "--input", "4", "--kernel", "3", "--channels", "1:2",
                       "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["output_size"] == [2, 2]
    assert data["params"] == (3 * 3 * 1 + 1) * 2
    assert data["matrix"][0][:3] == ["w00", "w01", "w02"]


@pytest.mark.parametrize(("argv", "message"), [
    (["--input", "7xa", "--kernel", "3"], "--input '7xa' is not a size"),
    (["--input", "7x-2", "--kernel", "3"], "--input '7x-2' must be ≥ 1 along both axes"),
    (["--input", "7", "--kernel", "3", "--stride", "0"], "--stride '0' must be ≥ 1"),
    (["--input", "3", "--kernel", "5"],
     "height axis: the window (5) is larger than the padded input (3)"),
    (["--input", "7", "--kernel", "3", "--channels", "3-10"], "--channels '3-10' must be IN:OUT"),
    (["--input", "7", "--kernel", "3", "--channels", "4:6", "--groups", "4"],
     "--groups 4 must divide both channel counts 4:6"),
    (["--input", "7", "--kernel", "3", "--output-padding", "1"],
     "--output-padding only applies to a transposed convolution"),
    (["--input", "3", "--kernel", "3", "--stride", "2", "--transposed", "--output-padding", "2"],
     "--output-padding 2 along height must be smaller than the stride (2)"),
    (["--input", "2", "--kernel", "3", "--stride", "2", "--padding", "3", "--transposed"],
     "output (2 − 1)·2 − 2·3 + 3 = -1 is not positive"),
])
def test_user_mistakes_exit_2_with_one_line(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("striate: error: ")
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_explain_without_topic_shows_help(capsys):
    assert main(["explain"]) == 2
    assert "conv" in capsys.readouterr().out


def test_parsers():
    assert parse_pair("7x5", "--input") == (7, 5)
    assert parse_pair("7", "--input") == (7, 7)
    assert parse_pair((3, 2), "--kernel") == (3, 2)
    assert parse_pair("0", "--padding", minimum=0) == (0, 0)
    assert parse_channels("3:10") == (3, 10)
    with pytest.raises(ConfigError):
        parse_pair("3x", "--kernel")
    with pytest.raises(ShapeError):
        explain_conv(2, 3)


@pytest.mark.parametrize(("word", "hint"), [
    ("same", "('same' at stride 1 is --padding (K − 1)/2 for an odd kernel, e.g. 1 for 3x3)"),
    ("valid", "('valid' is --padding 0)"),
])
def test_padding_words_of_the_layers_say_which_number_to_write(capsys, word, hint):
    code, out, err = run(capsys, "--input", "5", "--kernel", "3", "--padding", word)
    assert code == 2
    assert out == ""
    assert err.strip() == (f"striate: error: --padding '{word}' is not a size; write one "
                           f"integer or HxW with integers ≥ 0, e.g. --padding 1 {hint}")


def test_groups_without_channels_is_a_mistake(capsys):
    code, out, err = run(capsys, "--input", "7", "--kernel", "3", "--groups", "2")
    assert (code, out) == (2, "")
    assert err.strip() == ("striate: error: --groups 2 splits channels, and none are given; add "
                           "--channels IN:OUT with both divisible by 2, e.g. --channels 2:4")
