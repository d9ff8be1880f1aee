"""The sliding-window GIF of `striate explain conv --animate`."""

import numpy as np
import pytest
from PIL import Image

from striate.cli import main
from striate.layers.errors import ConfigError
from striate.reference.animate import (
    INPUT,
    INSERTED,
    PADDING,
    animate_conv,
    render_frames,
    slide_geometry,
)


def test_cli_writes_one_frame_per_output(tmp_path, capsys):
    out = tmp_path / "conv.gif"
    code = main(["explain", "conv", "--input", "5", "--kernel", "3", "--stride", "2",
                 "--padding", "1", "--animate", str(out)])
    assert code == 0
    assert "9 frames" in capsys.readouterr().out
    with Image.open(out) as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == 3 * 3  # (5 − 3 + 2·1)/2 + 1 = 3 per axis
    assert [p.name for p in tmp_path.iterdir()] == ["conv.gif"]  # no temp file left


def test_existing_gif_needs_force(tmp_path, capsys):
    out = tmp_path / "conv.gif"
    out.write_bytes(b"keep me")
    argv = ["explain", "conv", "--input", "4", "--kernel", "3", "--animate", str(out)]
    assert main(argv) == 2
    assert "already exists; pass --force" in capsys.readouterr().err
    assert out.read_bytes() == b"keep me"
    assert main([*argv, "--force"]) == 0
    with Image.open(out) as gif:
        assert gif.n_frames == 4


def test_transposed_grid_has_inserted_zeros_and_heavy_padding():
    g = slide_geometry(2, 3, stride=2, transposed=True)
    # 2 inputs → 3 after zero insertion → 7 after padding by k − 1 − p = 2.
    assert g.kinds.shape == (7, 7)
    assert g.kinds[2, 2] == INPUT
    assert g.kinds[2, 3] == INSERTED
    assert g.kinds[0, 0] == PADDING
    assert (g.kinds == INPUT).sum() == 4
    assert g.output_size == (5, 5)
    assert len(g.taps) == 25


def test_dilated_window_skips_inputs():
    g = slide_geometry(7, 3, dilation=2)
    assert g.taps[0] == ((0, 0), (0, 2), (0, 4), (2, 0), (2, 2), (2, 4), (4, 0), (4, 2), (4, 4))


def test_frames_shade_the_window(tmp_path):
    frames = render_frames(slide_geometry(4, 3), cell=20)
    assert len(frames) == 4
    first, last = (np.asarray(f) for f in (frames[0], frames[-1]))
    assert not np.array_equal(first, last)
    dark = np.array([31, 78, 156])
    # 9 shaded input cells in every frame, each 20x20 pixels (less its outline).
    for frame in (first, last):
        assert (np.abs(frame.astype(int) - dark).sum(axis=-1) == 0).sum() >= 9 * 18 * 18


def test_too_many_frames_refused(tmp_path):
    with pytest.raises(ConfigError, match="limit is 400 frames"):
        animate_conv(tmp_path / "big.gif", 64, 3)
    assert not (tmp_path / "big.gif").exists()


def test_png_sheet_holds_every_frame(tmp_path, capsys):
    out = tmp_path / "conv.png"
    assert main(["explain", "conv", "--input", "5", "--kernel", "3", "--stride", "2",
                 "--padding", "1", "--animate", str(out)]) == 0
    frame_w, frame_h = render_frames(slide_geometry(5, 3, 2, 1))[0].size
    with Image.open(out) as sheet:
        assert sheet.format == "PNG"
        # 9 frames on a 3x3 grid with 8-pixel gaps.
        assert sheet.size == (3 * (frame_w + 8) + 8, 3 * (frame_h + 8) + 8)


def test_other_file_types_refused_before_any_output(tmp_path, capsys):
    code = main(["explain", "conv", "--input", "5", "--kernel", "3", "--animate",
                 str(tmp_path / "conv.jpg")])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert "write a .gif (animation) or a .png" in err
