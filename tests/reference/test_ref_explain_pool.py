"""`striate explain pool`: output size rounded down (PyTorch) and up (Caffe)."""

import json

import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from striate.cli import main
from striate.reference.animate import INPUT, slide_geometry
from striate.reference.explain_pool import explain_pool


def run(capsys, *argv):
    code = main(["explain", "pool", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_floor_and_ceil(capsys):
    # GoogLeNet's 3x3/2 max pooling on 112x112: (112 − 3)/2 + 1 = 55.5; Caffe gives 56.
    code, out, _ = run(capsys, "--input", "112", "--kernel", "3", "--stride", "2",
                       "--channels", "64")
    assert code == 0
    assert "height: (112 − 3 + 2·0)/2 + 1 = 55.50" in out
    assert "not an integer: PyTorch gives 55, Caffe and ceil_mode=True give 56" in out
    assert "output: 55x55" in out
    assert "with ceil_mode: 56x56" in out
    assert f"64·55·55 = {64 * 55 * 55:,}" in out
    assert "Parameters: 0" in out


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_output_size_matches_torch(ceil_mode):
    for size, k, s, p in [(112, 3, 2, 0), (7, 2, 2, 0), (6, 3, 2, 1), (13, 3, 2, 0)]:
        e = explain_pool(size, k, s, p, ceil_mode=ceil_mode)
        out = F.max_pool2d(torch.zeros(1, 1, size, size), k, s, p, ceil_mode=ceil_mode)
        assert e.output_size == tuple(out.shape[-2:])


def test_stride_defaults_to_kernel(capsys):
    code, out, _ = run(capsys, "--input", "28", "--kernel", "2", "--kind", "avg")
    assert code == 0
    assert "(28 − 2 + 2·0)/2 + 1 = 14" in out
    assert "mean of its 4 inputs" in out


def test_ceil_mode_animation_shows_the_overhang(tmp_path, capsys):
    gif = tmp_path / "pool.gif"
    code, out, _ = run(capsys, "--input", "6", "--kernel", "3", "--stride", "2",
                       "--ceil-mode", "--animate", str(gif), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["output_size"] == [3, 3]
    assert data["animation"] == str(gif)
    with Image.open(gif) as im:
        assert im.n_frames == 9
    # The grid is the 6x6 input plus one overhang row and column that the last window uses.
    g = slide_geometry(6, 3, 2, ceil_mode=True)
    assert g.kinds.shape == (7, 7)
    assert (g.kinds == INPUT).sum() == 36
    assert g.taps[-1][-1] == (6, 6)


@pytest.mark.parametrize(("argv", "message"), [
    (["--input", "5", "--kernel", "3", "--padding", "2"],
     "--padding 2 along height is more than half the kernel (3)"),
    (["--input", "5", "--kernel", "2", "--dilation", "2", "--kind", "avg"],
     "average pooling has no dilation"),
    (["--input", "1x1", "--kernel", "2x1", "--stride", "1", "--padding", "1x0",
      "--dilation", "2x1"], "pooling window 0 covers padding only"),
    (["--input", "7", "--kernel", "2", "--strict"],
     "height axis: (7 − 2 + 2·0)/2 + 1 = 3.50 does not fit"),
    (["--input", "2", "--kernel", "3"], "the window (3) is larger than the padded input (2)"),
])
def test_user_mistakes(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1


def test_strict_suggests_ceil_mode_and_accepts_it(capsys):
    # (112 − 3)/2 + 1 = 55.5: GoogLeNet's Caffe pools round up to 56 and see every input
    code, _, err = run(capsys, "--input", "112", "--kernel", "3", "--stride", "2", "--strict")
    assert code == 2
    assert err.strip() == ("striate: error: height axis: (112 − 3 + 2·0)/2 + 1 = 55.50 does not "
                           "fit; use stride=1 or ceil_mode=True (--ceil-mode)")
    code, out, _ = run(capsys, "--input", "112", "--kernel", "3", "--stride", "2", "--strict",
                       "--ceil-mode")
    assert code == 0
    assert "output: 56x56" in out
