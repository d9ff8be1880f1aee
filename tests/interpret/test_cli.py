"""`striate interpret METHOD RUN`: figures from a model folder, one-line errors, exit 2."""

import numpy as np
import pytest
from PIL import Image

from striate.cli import main


@pytest.fixture(scope="module")
def lenet_folder(tmp_path_factory):
    import torch

    import striate
    from striate.zoo import create

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("m") / "lenet"
    striate.save(create("lenet5"), path, classes=[str(i) for i in range(10)],
                 normalization=([0.13], [0.31]), input_shape=(1, 32, 32),
                 metadata={"data": "mnist-bundled"})
    return path


def _png(path, shape):
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 255, size=shape).astype(np.uint8)
    Image.fromarray(arr).save(path)
    return str(path)


def _error(capsys):
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err  # one line, no traceback
    return err


def test_filters_then_no_overwrite_without_force(lenet_folder, tmp_path, capsys):
    out = tmp_path / "f.png"
    assert main(["interpret", "filters", str(lenet_folder), "--out", str(out)]) == 0
    assert "features.conv1: 6 filters of shape (1, 5, 5)" in capsys.readouterr().out
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert main(["interpret", "filters", str(lenet_folder), "--out", str(out)]) == 2
    assert "already exists; pass --force" in _error(capsys)
    assert main(["interpret", "filters", str(lenet_folder), "--out", str(out), "--force"]) == 0


def test_unknown_layer_lists_the_valid_ones(lenet_folder, tmp_path, capsys):
    img = _png(tmp_path / "d.png", (28, 28))
    code = main(["interpret", "deconvnet", str(lenet_folder), "--image", img,
                 "--layer", "features.conv3"])
    assert code == 2
    err = _error(capsys)
    assert err.startswith("striate: error: --layer: no layer named 'features.conv3'")
    assert "did you mean features.conv2, features.conv1" in err
    assert "valid layers: features, features.conv1" in err


def test_deconvnet_through_tanh_says_which_layer(lenet_folder, tmp_path, capsys):
    img = _png(tmp_path / "d.png", (28, 28))
    args = ["interpret", "deconvnet", str(lenet_folder), "--image", img,
            "--layer", "features.conv2", "--out", str(tmp_path / "r.png")]
    assert main(args) == 2
    assert "cannot go back through features.tanh1 (Tanh)" in _error(capsys)
    assert main([*args, "--smooth", "derivative"]) == 0
    assert "features.conv2: channel" in capsys.readouterr().out


def test_wrong_channels_or_size_of_an_image(lenet_folder, tmp_path, capsys):
    rgb = _png(tmp_path / "rgb.png", (32, 32, 3))
    assert main(["interpret", "occlusion", str(lenet_folder), "--image", rgb]) == 2
    assert "features.conv1 (Conv2d) takes 1 input channel(s), the input has 3" in \
        _error(capsys)
    big = _png(tmp_path / "big.png", (40, 40))
    assert main(["interpret", "saliency", str(lenet_folder), "--image", big]) == 2
    assert "the input is 40x40, the model takes 32x32" in _error(capsys)


def test_occlusion_and_gradcam_on_an_image(lenet_folder, tmp_path, capsys):
    img = _png(tmp_path / "d.png", (28, 28))
    assert main(["interpret", "occlusion", str(lenet_folder), "--image", img, "--size", "8",
                 "--stride", "8", "--out", str(tmp_path / "o.png")]) == 0
    assert "16 positions" in capsys.readouterr().out  # starts 0, 8, 16, 24 on 32 pixels
    assert main(["interpret", "saliency", str(lenet_folder), "--image", img, "--method",
                 "gradcam", "--out", str(tmp_path / "s.png")]) == 0
    assert "gradcam for class" in capsys.readouterr().out


def test_mutation_map_of_a_sequence(tmp_path, capsys):
    import striate
    from striate.zoo import create

    path = tmp_path / "deepbind"
    striate.save(create("deepbind", input_shape=(4, 40)), path, input_shape=(4, 40))
    seq = "ACGT" * 10
    assert main(["interpret", "mutation-map", str(path), "--sequence", seq, "--out",
                 str(tmp_path / "m.png")]) == 0
    assert "reference output" in capsys.readouterr().out
    assert main(["interpret", "mutation-map", str(path), "--sequence", "ACGX" * 10]) == 2
    assert "letters other than ACGT: X" in _error(capsys)


def test_missing_run_folder(tmp_path, capsys):
    assert main(["interpret", "filters", str(tmp_path / "nope")]) == 2
    assert "no such run or model folder" in _error(capsys)


def test_top_patches_from_the_data_set_the_model_names(lenet_folder, tmp_path, capsys):
    # the data set comes from the model's metadata ("mnist-bundled"), its test split
    out = tmp_path / "t.png"
    assert main(["interpret", "top-patches", str(lenet_folder), "--layer", "features.conv1",
                 "--limit", "64", "--k", "4", "--out", str(out)]) == 0
    assert "features.conv1: receptive field (5, 5), 6 channels, top-4" in capsys.readouterr().out
    assert out.stat().st_size > 1000
    assert main(["interpret", "top-patches", str(lenet_folder), "--layer", "features.conv1",
                 "--channels", "9"]) == 2
    assert "features.conv1 has 6 channels (0…5), got [9]" in _error(capsys)
