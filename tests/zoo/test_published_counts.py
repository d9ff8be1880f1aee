"""Parameter counts and multiply-adds against the published numbers (built on meta)."""

from __future__ import annotations

import pytest
import torch

import striate.zoo as zoo
from striate.zoo._probe import count

# (name, options, parameters, source)
PUBLISHED = [
    ("lenet5", {}, 61_706, "modern LeNet-5: 156 + 2,416 + 48,120 + 10,164 + 850"),
    ("lenet5_1998", {}, 60_000, "LeCun et al. 1998 §II-B: 'about 60,000 trainable'"),
    ("lenet5", {"original": True}, 60_000, "the same network as an option"),
    ("keras_mnist", {}, 1_087_106, "Keras summary of the notes' MNIST model"),
    ("keras_cifar10", {}, 3_692_938, "Keras summary of the notes' CIFAR-10 model"),
    ("cs231n_cifar", {}, 3 * 9 * 12 + 12 + 16 * 16 * 12 * 10 + 10, "conv 3x3x3x12 + FC"),
    ("tdnn", {}, 16 * 3 * 8 + 8 + 8 * 5 * 3 + 3, "Waibel et al. 1989, Fig. 1"),
    ("alexnet", {}, 61_100_840, "torchvision alexnet"),
    ("alexnet", {"layout": "two_tower"}, 60_965_224, "Caffe bvlc_alexnet deploy.prototxt"),
    ("alexnet", {"layout": "merged"}, 62_378_344, "notes: '62.3 millions of parameters'"),
    ("vgg11", {}, 132_863_336, "torchvision vgg11"),
    ("vgg13", {}, 133_047_848, "torchvision vgg13"),
    ("vgg16", {}, 138_357_544, "torchvision vgg16"),
    ("vgg19", {}, 143_667_240, "torchvision vgg19"),
    ("vgg11_bn", {}, 132_868_840, "torchvision vgg11_bn"),
    ("vgg16_bn", {}, 138_365_992, "torchvision vgg16_bn"),
    ("vgg19_bn", {}, 143_678_248, "torchvision vgg19_bn"),
]


@pytest.mark.parametrize(("name", "options", "params", "source"), PUBLISHED,
                         ids=[f"{p[0]}-{'-'.join(map(str, p[1].values()))}" for p in PUBLISHED])
def test_parameter_count(name, options, params, source):
    with torch.device("meta"):
        model = zoo.create(name, **options)
    got, _ = count(model, model.default_input_shape)
    assert got == params, source


def test_registered_params_match_the_built_model():
    for name in zoo.names():
        info = zoo.info(name)
        if info.params is None:
            continue
        with torch.device("meta"):
            model = zoo.create(name)
        assert sum(p.numel() for p in model.parameters()) == info.params, name


@pytest.mark.parametrize(("name", "options", "macs", "rel", "source"), [
    # torchvision's tables give GFLOPS meaning multiply-adds of conv + dense layers
    ("alexnet", {}, 0.714e9, 0.005, "torchvision alexnet 0.71 GFLOPS"),
    ("vgg16", {}, 15.47e9, 0.005, "torchvision vgg16 15.47 GFLOPS"),
    ("vgg19", {}, 19.63e9, 0.005, "torchvision vgg19 19.63 GFLOPS"),
])
def test_macs(name, options, macs, rel, source):
    with torch.device("meta"):
        model = zoo.create(name, **options)
    _, got = count(model, model.default_input_shape)
    assert got == pytest.approx(macs, rel=rel), source


def test_lenet5_macs_by_formula():
    # conv1 28·28·6·25, conv2 10·10·16·150, dense 400·120 + 120·84 + 84·10
    expected = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 400 * 120 + 120 * 84 + 84 * 10
    _, got = count(zoo.create("lenet5"), (1, 32, 32))
    assert got == expected
