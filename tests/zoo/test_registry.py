"""The zoo's registry: names, info, create, options and errors."""

from __future__ import annotations

import pytest
import torch

import striate.zoo as zoo
from striate.layers.errors import ConfigError, ShapeError
from striate.zoo.registry import register


def test_names_and_info():
    names = zoo.names()
    assert len(names) == len(set(names))
    for required in ("lenet5", "alexnet", "vgg16", "vgg16_bn", "keras_mnist", "keras_cifar10",
                     "cs231n_cifar", "tdnn"):
        assert required in names
    info = zoo.info("vgg16")
    assert info.family == "VGG"
    assert info.year == 2014
    assert info.input_shape == (3, 224, 224)
    assert "Simonyan" in info.paper
    assert zoo.names(family="VGG") == [n for n in names if n.startswith("vgg")]
    # `striate zoo list --family resnet` found nothing: families match in any letter case
    assert zoo.names(family="resnet") == zoo.names(family="ResNet") == [
        "resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]


def test_create_sets_zoo_config_and_default_input():
    model = zoo.create("lenet5", num_classes=7, input_shape=(1, 28, 28))
    assert model.zoo_config == {
        "name": "lenet5",
        "options": {"num_classes": 7, "input_shape": [1, 28, 28], "original": False},
    }
    assert model.default_input_shape == (1, 28, 28)
    out = model(torch.zeros(3, 1, 28, 28))
    assert out.shape == (3, 7)
    # the recorded options rebuild the same architecture
    again = zoo.create(model.zoo_config["name"], **model.zoo_config["options"])
    assert [p.shape for p in again.parameters()] == [p.shape for p in model.parameters()]


def test_unknown_name_suggests_close_names():
    with pytest.raises(ConfigError, match=r"unknown zoo model 'vgg61'; did you mean .*vgg16"):
        zoo.create("vgg61")
    with pytest.raises(ConfigError, match="did you mean"):
        zoo.info("lenet")


@pytest.mark.parametrize(("typed", "meant"), [("VGG16", "vgg16"), ("ResNet-50", "resnet50"),
                                           ("mobilenet-v1", "mobilenet_v1")])
def test_names_in_another_case_or_spelling_are_suggested(typed, meant):
    # the paper's spelling found no suggestion at all ("VGG16" is not close to "vgg16")
    with pytest.raises(ConfigError, match=rf"unknown zoo model '{typed}'; did you mean "
                                          rf"{meant}\? "):
        zoo.create(typed)


def test_unknown_option_lists_the_options():
    with pytest.raises(ConfigError, match=r"lenet5: unknown option 'orignal'; did you mean "
                                          r"original\? its options are: original"):
        zoo.create("lenet5", orignal=True)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "10"])
def test_bad_num_classes(bad):
    with pytest.raises(ConfigError, match="num_classes must be a positive integer"):
        zoo.create("lenet5", num_classes=bad)


@pytest.mark.parametrize("bad", [(1, 32), (1, 0, 32), "32x32", (1, 32.0, 32)])
def test_bad_input_shape(bad):
    with pytest.raises(ConfigError, match=r"lenet5: input_shape must be 3 positive integers"):
        zoo.create("lenet5", input_shape=bad)


@pytest.mark.parametrize(("name", "shape", "fixed"), [
    ("lenet5", (28, 28, 1), "(1, 28, 28)"), ("resnet20", (32, 32, 3), "(3, 32, 32)"),
    ("deepbind", (101, 4), "(4, 101)")])
def test_a_channels_last_input_shape_is_refused_with_the_fix(name, shape, fixed):
    # resnet20 used to build a 32-channel net on 32x3 inputs without a word
    with torch.device("meta"), pytest.raises(ConfigError) as err:
        zoo.create(name, input_shape=shape)
    assert str(err.value) == (f"{name}: input_shape {shape} looks channels-last; striate "
                              f"shapes are channels first, like {zoo.info(name).input_shape}: "
                              f"use {fixed}")


def test_smallest_input_of_a_non_square_input_counts_from_its_short_side():
    # a 32x8 input fails at pool4; the answer is 32x32 (it said 33x33 for any too-narrow
    # input whose long side was 32, because the search started above the long side)
    with torch.device("meta"), pytest.raises(ShapeError) as err:
        zoo.create("vgg16", input_shape=(3, 32, 8))
    assert str(err.value).endswith("the smallest input vgg16 accepts is 32x32")


def test_too_small_input_is_one_line_with_layer_formula_and_smallest_size():
    with pytest.raises(ShapeError) as err:
        zoo.create("lenet5", input_shape=(1, 8, 8))
    text = str(err.value)
    assert "\n" not in text
    # 8 → conv1 4 → pool1 2, and conv2's 5x5 window no longer fits: (2 − 5 + 0)/1 + 1
    assert text.startswith("lenet5, input (1, 8, 8): features.conv2 (Conv2d k=5 s=1)")
    assert "(2 − 5 + 2·0)/1 + 1 = -2" in text
    # the smallest input: 16 → 12 → 6 → 2 → 1
    assert text.endswith("the smallest input lenet5 accepts is 16x16")


def test_vgg_input_too_small_names_the_pooling_layer():
    with torch.device("meta"), pytest.raises(ShapeError) as err:
        zoo.create("vgg16", input_shape=(3, 16, 16))
    text = str(err.value)
    assert text.startswith("vgg16, input (3, 16, 16): features.pool5 (MaxPool2d k=2 s=2)")
    assert text.endswith("is 32x32")  # five 2x2 poolings: 2^5


def test_duplicate_registration_raises():
    with pytest.raises(ValueError, match="registered twice"):
        register("lenet5", family="x", year=1, paper="x", params=None, input_shape=(1, 2, 2),
                 description="x")(lambda *, num_classes=1, input_shape=(1, 2, 2): None)


def test_builder_must_accept_the_reserved_arguments():
    with pytest.raises(ValueError, match="has no argument 'input_shape'"):
        register("zz_broken", family="x", year=1, paper="x", params=None, input_shape=(1,),
                 description="x")(lambda *, num_classes=1: None)
    assert "zz_broken" not in zoo.names()


@pytest.mark.parametrize(("name", "options", "message"), [
    ("alexnet", {"lrn": "yes"},
     "alexnet: option lrn must be true or false (default True). Received: lrn='yes'"),
    ("keras_mnist", {"hidden": 1.5},
     "keras_mnist: option hidden must be an integer (default 1000). Received: hidden=1.5"),
    ("mobilenet_v1", {"alpha": "big"}, "mobilenet_v1: option alpha must be a number"),
    ("wavenet", {"layers": 0}, "wavenet: layers and stacks must be at least 1"),
    ("cs231n_cifar", {"kernel": 4}, "cs231n_cifar: kernel must be odd"),
])
def test_bad_option_values(name, options, message):
    with torch.device("meta"), pytest.raises(ConfigError) as err:
        zoo.create(name, **options)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_a_value_the_layers_refuse_names_the_model_and_the_options():
    with torch.device("meta"), pytest.raises(ConfigError) as err:
        zoo.create("vgg16", hidden=0)
    text = str(err.value)
    assert text.startswith("vgg16: ")
    assert "out_features" in text  # the layer's own complaint, in between
    assert text.endswith("(options given: hidden=0)")


def test_int_is_accepted_where_the_default_is_a_float():
    with torch.device("meta"):
        model = zoo.create("mobilenet_v1", alpha=1)
    assert sum(p.numel() for p in model.parameters()) == 4_231_976
