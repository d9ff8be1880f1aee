"""Parameter counts and multiply-adds against the published numbers (built on meta)."""

from __future__ import annotations

import pytest
import torch

import striate.zoo as zoo
from striate.zoo._probe import count

_CACHE: dict[tuple, tuple[int, int]] = {}


def counted(name: str, **options) -> tuple[int, int]:
    """Parameters and MACs of a zoo model built on meta at its default input (memoised: the
    same model is checked for parameters and MACs)."""
    key = (name, tuple(sorted(options.items())))
    if key not in _CACHE:
        with torch.device("meta"):
            model = zoo.create(name, **options)
        _CACHE[key] = count(model, model.default_input_shape)
    return _CACHE[key]


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
    ("zfnet", {}, 62_357_608, "Zeiler & Fergus Fig. 3 widths: conv 3,726,464 + dense"),
    ("googlenet", {}, 6_998_552, "Caffe bvlc_googlenet deploy.prototxt"),
    ("googlenet", {"aux": True}, 13_378_280, "Caffe bvlc_googlenet train_val.prototxt"),
    ("resnet18", {}, 11_689_512, "torchvision resnet18"),
    ("resnet34", {}, 21_797_672, "torchvision resnet34"),
    ("resnet50", {}, 25_557_032, "torchvision resnet50"),
    ("resnet50", {"stride_on": "1x1"}, 25_557_032, "the stride moves, no parameter does"),
    ("resnet101", {}, 44_549_160, "torchvision resnet101; KaimingHe ResNet-101-deploy"),
    ("resnet152", {}, 60_192_808, "torchvision resnet152; KaimingHe ResNet-152-deploy"),
    ("resnet20", {}, 269_722, "He et al. Table 6: 0.27 M; option A"),
    ("resnet20", {"shortcut": "B"}, 269_722 + (16 * 32 + 2 * 32) + (32 * 64 + 2 * 64),
     "two 1x1 projections with BN"),
    ("mobilenet_v1", {}, 4_231_976, "Caffe shicai/MobileNet-Caffe; paper Table 8: 4.2 M"),
    ("densenet121", {}, 7_978_856, "torchvision densenet121"),
    ("densenet169", {}, 14_149_480, "torchvision densenet169"),
    ("densenet201", {}, 20_013_928, "torchvision densenet201"),
    ("squeezenet1_0", {}, 1_248_424, "forresti/SqueezeNet v1.0 deploy.prototxt"),
    ("squeezenet1_1", {}, 1_235_496, "forresti/SqueezeNet v1.1 deploy.prototxt"),
    ("fcn32s", {}, 136_152_917, "fcn.berkeleyvision.org voc-fcn32s"),
    ("fcn8s", {}, 134_489_759, "fcn.berkeleyvision.org voc-fcn8s deploy"),
    ("fcn16s", {}, 134_489_759 - 7_056 - 5_397 - 112_896 + 21 * 21 * 32 * 32,
     "fcn8s without upscore_pool4/score_pool3, upscore16 32x32 instead of upscore8"),
    ("dilation8", {}, 141_149_720, "fyu/dilation dilation8_pascal_voc_deploy.prototxt"),
    ("dilated_frontend", {}, 134_346_581, "the same without the context module"),
    ("deepsea", {}, 4 * 8 * 320 + 320 + 320 * 8 * 480 + 480 + 480 * 8 * 960 + 960
     + 50_880 * 925 + 925 + 925 * 919 + 919, "Zhou & Troyanskaya 2015, Methods"),
    ("mnist1d_cnn", {}, 5_210, "mnist1d ConvBase"),
]


@pytest.mark.parametrize(("name", "options", "params", "source"), PUBLISHED,
                         ids=[f"{p[0]}-{'-'.join(map(str, p[1].values()))}" for p in PUBLISHED])
def test_parameter_count(name, options, params, source):
    got, _ = counted(name, **options)
    assert got == params, source


def test_registered_params_match_the_built_model():
    for name in zoo.names():
        info = zoo.info(name)
        if info.params is None:
            continue
        assert counted(name)[0] == info.params, name


@pytest.mark.parametrize(("name", "options", "macs", "rel", "source"), [
    # torchvision's tables give GFLOPS meaning multiply-adds of conv + dense layers
    ("alexnet", {}, 0.714e9, 0.005, "torchvision alexnet 0.71 GFLOPS"),
    ("vgg16", {}, 15.47e9, 0.005, "torchvision vgg16 15.47 GFLOPS"),
    ("vgg19", {}, 19.63e9, 0.005, "torchvision vgg19 19.63 GFLOPS"),
    ("resnet18", {}, 1.814e9, 0.002, "torchvision resnet18 1.81 GFLOPS"),
    ("resnet50", {}, 4.089e9, 0.002, "torchvision resnet50 4.09 GFLOPS"),
    ("resnet50", {"stride_on": "1x1"}, 3.86e9, 0.002, "stride on 1x1: the original 3.86 G"),
    ("resnet152", {}, 11.51e9, 0.002, "torchvision resnet152 11.51 GFLOPS"),
    ("densenet121", {}, 2.834e9, 0.002, "torchvision densenet121 2.83 GFLOPS"),
    ("mobilenet_v1", {}, 569e6, 0.002, "Howard et al. Table 8: 569 M mult-adds"),
    ("mobilenet_v1", {"alpha": 0.75}, 325e6, 0.01, "Table 6: 0.75 MobileNet-224 325 M"),
    ("mobilenet_v1", {"alpha": 0.5}, 149e6, 0.01, "Table 6: 0.5 MobileNet-224 149 M"),
    ("mobilenet_v1", {"alpha": 0.25}, 41e6, 0.03, "Table 6: 0.25 MobileNet-224 41 M"),
    ("googlenet", {}, 1.5e9, 0.06, "Szegedy et al. §5: 'a budget of 1.5 billion multiply-adds'"),
])
def test_macs(name, options, macs, rel, source):
    _, got = counted(name, **options)
    assert got == pytest.approx(macs, rel=rel), source


def test_lenet5_macs_by_formula():
    # conv1 28·28·6·25, conv2 10·10·16·150, dense 400·120 + 120·84 + 84·10
    expected = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 400 * 120 + 120 * 84 + 84 * 10
    _, got = count(zoo.create("lenet5"), (1, 32, 32))
    assert got == expected


@pytest.mark.parametrize(("size", "macs"), [(192, 418e6), (160, 290e6), (128, 186e6)])
def test_mobilenet_resolution_multiplier(size, macs):
    # Howard et al. Table 7: 1.0 MobileNet at 192, 160 and 128 pixels
    with torch.device("meta"):
        model = zoo.create("mobilenet_v1", input_shape=(3, size, size))
    params, got = count(model, (3, size, size))
    assert params == 4_231_976  # the resolution changes no parameter
    assert got == pytest.approx(macs, rel=0.01)


@pytest.mark.parametrize(("alpha", "params"), [(0.75, 2.6e6), (0.5, 1.3e6), (0.25, 0.5e6)])
def test_mobilenet_width_multiplier_params(alpha, params):
    # Table 6, rounded to 0.1 M
    with torch.device("meta"):
        model = zoo.create("mobilenet_v1", alpha=alpha)
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(params, abs=0.05e6)


@pytest.mark.parametrize("n", [3, 5, 7, 9, 18])
def test_cifar_resnets_by_formula(n):
    # conv1 + BN: 432 + 32; fc: 650; stage 1: n·2·(2,304 + 32); stage 2: 4,608 + 9,216 + 128
    # then (n − 1)·2·(9,216 + 64); stage 3: 18,432 + 36,864 + 256, then (n − 1)·2·(36,864 + 128)
    expected = 97_216 * n - 21_926
    assert counted(f"resnet{6 * n + 2}")[0] == expected


def test_cifar_resnet_table6_rounded():
    # He et al. Table 6: 0.27 M, 0.46 M, 0.66 M, 0.85 M, 1.7 M
    for depth, millions in ((20, 0.27), (32, 0.46), (44, 0.66), (56, 0.85), (110, 1.7)):
        got = counted(f"resnet{depth}")[0] / 1e6
        assert got == pytest.approx(millions, abs=0.05 if depth == 110 else 0.005), depth


def test_densenet_bc_and_segnet_against_rounded_paper_figures():
    # Huang et al. Table 2: DenseNet-BC (L=100, k=12) 0.8 M; Badrinarayanan et al. Table 6: 29.5 M
    assert counted("densenet_bc_100")[0] / 1e6 == pytest.approx(0.8, abs=0.05)
    assert counted("segnet")[0] / 1e6 == pytest.approx(29.5, abs=0.06)
