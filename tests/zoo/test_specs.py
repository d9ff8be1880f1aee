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
                 "densenet121", "squeezenet1_1", "deepsea", "vgg11", "vgg13", "vgg19",
                 "resnet18", "resnet34", "resnet101", "resnet152", "resnet20", "resnet32",
                 "resnet44", "resnet56", "resnet110", "densenet169", "densenet201",
                 "squeezenet1_0"):
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


@pytest.mark.parametrize(("name", "options"), [
    ("alexnet", {"layout": "two_tower"}),
    ("vgg11_bn", {"num_classes": 10, "input_shape": (3, 32, 32), "hidden": 512}),
    ("googlenet", {}),
    ("dilation8", {"context": "basic", "same_padding": True, "input_shape": (3, 64, 64)}),
    ("resnet50", {"stride_on": "1x1"}),
    ("resnet20", {"shortcut": "A"}),
    ("squeezenet1_0", {}),
    ("densenet_bc_100", {"depth": 40}),
    ("mobilenet_v1", {"alpha": 0.5, "input_shape": (3, 128, 128)}),
])
def test_python_zoo_models_round_trip_through_the_spec_format(name, options):
    with torch.device("meta"):
        model = zoo.create(name, **options)
    shape = model.default_input_shape
    text = striate.to_spec(model, shape).to_yaml()
    rebuilt = striate.build(striate.load_spec(text), device="meta")
    assert count(rebuilt, shape) == count(model, shape)
    assert output_shape(rebuilt, shape) == output_shape(model, shape)


# what a spec cannot say: partial connections and RBF output, time integration, cropped
# skips, switches, gated skips, two strands (docs/zoo.md, "YAML specs")
PYTHON_ONLY = {"lenet5_1998", "tdnn", "fcn32s", "fcn16s", "fcn8s", "segnet", "wavenet",
               "deepbind"}


@pytest.mark.parametrize("name", [n for n in zoo.names() if n not in PYTHON_ONLY])
def test_every_expressible_zoo_model_becomes_a_spec(name):
    # the other 36 of the 44, at their defaults: to_spec gives a checked spec with the same
    # parameters and output shape (inferred on meta by load_spec)
    with torch.device("meta"):
        model = zoo.create(name)
    spec = striate.to_spec(model, model.default_input_shape)
    assert spec.params == sum(p.numel() for p in model.parameters())
    assert spec.output_shape == output_shape(model, model.default_input_shape)


def test_the_python_only_list_is_the_documented_eight():
    assert len(zoo.names()) - len(PYTHON_ONLY) == 36


@pytest.mark.parametrize("name", sorted(PYTHON_ONLY - {"fcn32s", "fcn16s"}))
def test_python_only_models_are_refused_by_to_spec(name):
    from striate.spec.errors import SpecError

    with torch.device("meta"):
        model = zoo.create(name)
    with pytest.raises(SpecError):
        striate.to_spec(model, model.default_input_shape)
