"""The YAML specs shipped in ``striate/zoo/specs`` build the same networks as the zoo."""

from __future__ import annotations

import pytest
import torch

import striate
import striate.zoo as zoo
from striate.zoo._probe import count, output_shape
from striate.zoo.specs import spec_names, spec_path

SHIPPED = spec_names()


def test_the_expected_specs_ship():
    for name in ("lenet5", "keras_mnist", "keras_cifar10", "cs231n_cifar", "mnist1d_cnn",
                 "alexnet", "zfnet", "vgg16", "googlenet", "resnet50", "mobilenet_v1",
                 "densenet121", "squeezenet1_1", "deepsea"):
        assert name in SHIPPED
    assert set(SHIPPED) <= set(zoo.names())
    assert spec_path("fcn8s") is None  # Python-only: skip connections with crops


@pytest.mark.parametrize("name", SHIPPED)
def test_spec_builds_the_zoo_network(name):
    spec = striate.load_spec(spec_path(name))
    info = zoo.info(name)
    assert tuple(spec.input_shape) == info.input_shape
    built = striate.build(spec, device="meta")
    with torch.device("meta"):
        reference = zoo.create(name)
    params, macs = count(built, info.input_shape)
    assert (params, macs) == count(reference, info.input_shape)
    if info.params is not None:
        assert params == info.params  # the published count, through the spec format too
    assert output_shape(built, info.input_shape) == (info.num_classes,)
