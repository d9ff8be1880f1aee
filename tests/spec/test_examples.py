"""The networks of the course notes, written as specs: parameter counts and shapes."""

from pathlib import Path

import pytest
import torch

import striate
from striate.spec.build import build
from striate.spec.load import load_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def conv(c_in, c_out, k, bias=True):
    """Parameters of a k x k convolution: k·k·C_in·C_out weights + C_out biases."""
    return k * k * c_in * c_out + (c_out if bias else 0)


def dense(f_in, f_out):
    return f_in * f_out + f_out


# Keras MNIST (notes: "Specifying CNN in Code (Keras)"), valid padding: 28-5+1=24 -> 12 -> 8 -> 4
KERAS_MNIST = conv(1, 32, 5) + conv(32, 64, 5) + dense(4 * 4 * 64, 1000) + dense(1000, 10)
# Keras CIFAR-10 (notes: "Example with RGB Images (2/4)"): 32-3+1=30 -> 15
KERAS_CIFAR = conv(3, 32, 3) + dense(15 * 15 * 32, 512) + dense(512, 10)
# CS231n [INPUT-CONV-RELU-POOL-FC]: 12 filters keep 32x32, pool to 16x16x12, FC to 10
CS231N = conv(3, 12, 3) + dense(16 * 16 * 12, 10)
# LeNet-5: 32 -> 28 -> 14 -> 10 -> 5, C5 = dense over 16·5·5
LENET5 = conv(1, 6, 5) + conv(6, 16, 5) + dense(400, 120) + dense(120, 84) + dense(84, 10)
BN = 2  # gamma and beta per channel
SMALL_RESNET = (conv(3, 16, 3, False) + BN * 16 + 2 * (conv(16, 16, 3, False) + BN * 16)
                + conv(16, 32, 3, False) + conv(32, 32, 3, False) + conv(16, 32, 1, False)
                + 3 * BN * 32 + dense(32, 10))

CASES = {
    "keras_mnist.yaml": (KERAS_MNIST, 1_087_106, (10,)),
    "keras_cifar10.yaml": (KERAS_CIFAR, 3_692_938, (10,)),
    "cs231n_cifar.yaml": (CS231N, 31_066, (10,)),
    "lenet5.yaml": (LENET5, 61_706, (10,)),
    "small_resnet.yaml": (SMALL_RESNET, SMALL_RESNET, (10,)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_params_match_the_published_numbers(name):
    formula, published, out_shape = CASES[name]
    assert formula == published
    spec = load_spec(EXAMPLES / name)
    model = build(spec)
    assert sum(p.numel() for p in model.parameters()) == published
    assert spec.params == published
    assert spec.output_shape == out_shape
    model.eval()
    y = model(torch.rand(2, *spec.input_shape))
    assert tuple(y.shape) == (2, *out_shape)


def test_keras_mnist_shapes_follow_the_valid_padding_formula():
    spec = load_spec(EXAMPLES / "keras_mnist.yaml")
    shapes = {n.name: n.out_shape for n in spec.plan.nodes}
    # (W - K + 2P)/S + 1 with P = 0: 28 -> 24, pool 12, 12 -> 8, pool 4
    assert shapes["conv1"] == (32, 24, 24)
    assert shapes["pool1"] == (32, 12, 12)
    assert shapes["conv2"] == (64, 8, 8)
    assert shapes["pool2"] == (64, 4, 4)
    assert shapes["flatten1"] == (1024,)


def test_dna_example_picks_1d_layers_from_the_input_rank():
    model = build(EXAMPLES / "dna_motif.yaml")
    assert type(model.conv1).__name__ == "Conv1d"
    assert type(model.pool1).__name__ == "MaxPool1d"
    # 101 - 24 + 1 = 78 positions, max-pooled over all 78
    assert model(torch.rand(3, 4, 101)).shape == (3, 1)


def test_segnet_example_passes_switches_to_unpooling():
    model = build(EXAMPLES / "tiny_segnet.yaml").eval()
    x = torch.rand(1, 3, 32, 32)
    assert model(x).shape == (1, 3, 32, 32)
    assert model.pool1.return_indices


def test_example_summaries():
    from striate.arith.summary import summary

    for name, (_, published, out_shape) in CASES.items():
        spec = load_spec(EXAMPLES / name)
        table = summary(build(spec, device="meta"), spec.input_shape)
        assert table.totals["params"] == published
        assert table.layers[-1].output_shape == [out_shape]
        # the per-layer rows (one output shape per call) agree with the inferred shapes
        inferred = {n.name: n.out_shape for n in spec.plan.nodes}
        rows = {r.name: r.output_shape[0] for r in table.layers if r.name in inferred}
        assert rows == {k: inferred[k] for k in rows}
        assert len(rows) == len(inferred)


def test_lazy_top_level_exports():
    assert striate.load_spec is load_spec
    assert striate.build is build


@pytest.mark.parametrize(("name", "published"), [
    ("resnet50.yaml", 25_557_032),  # He et al. 2016; torchvision resnet50
    ("densenet121.yaml", 7_978_856),  # Huang et al. 2017; torchvision densenet121
])
def test_big_networks_fit_on_one_screen_and_match_published_counts(name, published):
    text = (EXAMPLES / name).read_text()
    assert sum(1 for line in text.splitlines() if line.strip().startswith("- ")) <= 16
    spec = load_spec(EXAMPLES / name)
    assert spec.params == published
    model = build(spec, device="meta")
    assert sum(p.numel() for p in model.parameters()) == published
    assert spec.output_shape == (1000,)


def test_googlenet_with_auxiliary_heads_has_three_outputs():
    # Caffe's bvlc_googlenet train_val.prototxt: 13,378,280 parameters with both aux heads
    spec = load_spec(EXAMPLES / "googlenet.yaml")
    assert spec.params == 13_378_280
    assert spec.output_shape == ((1000,), (1000,), (1000,))
    shapes = {n.name: n.out_shape for n in spec.plan.nodes}
    # ceil-mode pooling: 224 -> 112 -> 56 -> 28 -> 14 -> 7
    assert shapes["i4a"] == (512, 14, 14)
    assert shapes["i4d"] == (528, 14, 14)
    model = build(spec, device="meta")
    assert model.outputs == ("main", "aux1", "aux2")


def test_fcn_example_crops_upsampled_scores():
    spec = load_spec(EXAMPLES / "tiny_fcn.yaml")
    shapes = {n.name: n.out_shape for n in spec.plan.nodes}
    # transposed convolution: (W − 1)·S − 2P + K = (8 − 1)·2 + 4 = 18, then (16 − 1)·2 + 4 = 34
    assert shapes["up1"] == (3, 18, 18)
    assert shapes["up2"] == (3, 34, 34)
    assert shapes["up1_cropped"] == (3, 16, 16)
    assert spec.output_shape == (3, 32, 32)
    x = torch.rand(1, 3, 32, 32)
    assert build(spec)(x).shape == (1, 3, 32, 32)
