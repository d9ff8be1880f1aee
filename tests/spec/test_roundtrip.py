"""spec -> model -> spec -> model gives the same structure, parameters and output."""

from pathlib import Path

import pytest
import torch

from striate.layers import Conv2d, Dense, Flatten, MaxPool2d, ReLU
from striate.spec.build import build
from striate.spec.dump import to_spec
from striate.spec.errors import SpecError
from striate.spec.load import load_spec

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "examples").glob("*.yaml")) + sorted(
    (ROOT / "src" / "striate" / "zoo" / "specs").glob("*.yaml"))
# checked on meta only; resnet20.yaml runs the CIFAR blocks with real weights for them all
BIG = {"resnet50.yaml", "densenet121.yaml", "resnet32.yaml", "resnet44.yaml", "resnet56.yaml",
       "resnet110.yaml"}


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def structure(model):
    return [(name, type(m).__name__, m.config() if hasattr(m, "config") else None)
            for name, m in model.named_children()]


@pytest.mark.parametrize("path", SPECS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_round_trip(path):
    spec = load_spec(path)
    # real weights and a forward pass only for small networks; the rest is checked on meta
    big = path.name in BIG or spec.params > 2_000_000 or _numel(spec.input_shape) > 3 * 64 * 64
    device = "meta" if big else None
    model = build(spec, device=device)
    again = to_spec(model)
    assert again.to_dict() == to_spec(build(again, device="meta")).to_dict()
    model2 = build(again, device=device)
    assert structure(model2) == structure(model)
    assert again.params == spec.params
    assert again.output_shape == spec.output_shape
    assert model2.graph == model.graph
    if big:
        return
    model2.load_state_dict(model.state_dict())
    model.eval()
    model2.eval()
    x = torch.rand(2, *spec.input_shape)
    torch.testing.assert_close(model2(x), model(x), rtol=0, atol=0)


def test_to_spec_of_a_sequential_of_striate_layers():
    seq = torch.nn.Sequential(Conv2d(1, 4, 3), ReLU(), MaxPool2d(2),
                              torch.nn.Sequential(Flatten(), Dense(10, in_features=4 * 13 * 13)))
    spec = to_spec(seq, (1, 28, 28))
    assert [e.type for e in spec.layers] == ["conv", "relu", "pool", "flatten", "dense"]
    model = build(spec)
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in seq.parameters())
    model.load_state_dict(dict(zip(model.state_dict(), seq.state_dict().values(), strict=True)))
    x = torch.rand(2, 1, 28, 28)
    torch.testing.assert_close(model(x), seq(x))


def test_to_spec_refuses_plain_torch_modules():
    seq = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3))
    with pytest.raises(SpecError, match=r"torch.nn.modules.conv.Conv2d, not a striate layer"):
        to_spec(seq, (1, 8, 8))
    with pytest.raises(SpecError, match="pass input_shape"):
        to_spec(torch.nn.Sequential(ReLU()))


def test_yaml_text_round_trip_is_stable():
    text = (ROOT / "examples" / "small_resnet.yaml").read_text()
    once = to_spec(build(load_spec(text))).to_yaml()
    twice = to_spec(build(load_spec(once))).to_yaml()
    assert once == twice
    assert "add: [stem, branch1]" in once


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*.yaml")), ids=lambda p: p.name)
def test_loaded_spec_writes_back_to_an_equivalent_spec(path):
    spec = load_spec(path)
    again = load_spec(spec.to_yaml())
    assert again.to_dict() == spec.to_dict()
    assert [(n.name, n.cls, n.kwargs, n.inputs, n.out_shape) for n in again.plan.nodes] == [
        (n.name, n.cls, n.kwargs, n.inputs, n.out_shape) for n in spec.plan.nodes]
    assert load_spec(spec.to_json()).to_dict() == spec.to_dict()


@pytest.mark.parametrize("name", ["lenet5", "keras_cifar10", "mnist1d_cnn"])
def test_zoo_python_models_made_of_striate_layers_become_specs(name):
    zoo = pytest.importorskip("striate.zoo")
    torch.manual_seed(0)
    model = zoo.create(name).eval()
    spec = to_spec(model)
    assert spec.params == sum(p.numel() for p in model.parameters())
    rebuilt = build(spec).eval()
    pairs = zip(rebuilt.state_dict(), model.state_dict().values(), strict=True)
    rebuilt.load_state_dict(dict(pairs))
    x = torch.rand(2, *model.default_input_shape)
    torch.testing.assert_close(rebuilt(x), model(x), rtol=0, atol=0)


def test_python_glue_outside_layers_is_refused_with_its_name():
    class Glue(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = Conv2d(1, 2, 3, padding=1)
            self.b = Conv2d(1, 2, 3, padding=1)

        def forward(self, x):
            return torch.cat([self.a(x), self.b(x)], 1)

    with pytest.raises(SpecError, match="uses call_function cat outside a striate layer"):
        to_spec(Glue(), (1, 8, 8))


def test_traced_merges_get_names_and_from():
    from striate.layers import Add

    class Skip(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = Conv2d(1, 2, 3, padding=1)
            self.b = Conv2d(1, 2, 1)
            self.merge = Add()

        def forward(self, x):
            return self.merge(self.a(x), self.b(x))

    model = Skip()
    spec = to_spec(model, (1, 8, 8))
    assert spec.to_dict()["layers"] == [
        {"conv": {"out": 2, "kernel": 3, "padding": 1, "name": "a"}},
        {"conv": {"out": 2, "kernel": 1, "name": "b", "from": "input"}},
        {"add": ["a", "b"]},
    ]
    rebuilt = build(spec)
    rebuilt.load_state_dict(dict(zip(rebuilt.state_dict(), model.state_dict().values(),
                                     strict=True)))
    x = torch.rand(2, 1, 8, 8)
    torch.testing.assert_close(rebuilt(x), model(x))


# keras_mnist.yaml spells out Keras's strides=(1, 1) and pool strides=(2, 2), both defaults
CANONICAL = [p for p in sorted((ROOT / "examples").glob("*.yaml")) if p.name != "keras_mnist.yaml"]


@pytest.mark.parametrize("path", CANONICAL, ids=lambda p: p.name)
def test_spec_to_model_to_spec_is_the_identity(path):
    spec = load_spec(path)
    assert to_spec(build(spec, device="meta")).to_dict() == spec.to_dict()


def test_defaults_written_out_are_dropped_once():
    spec = load_spec(ROOT / "examples" / "keras_mnist.yaml")
    again = to_spec(build(spec, device="meta")).to_dict()
    assert again["layers"][0] == {"conv": {"out": 32, "kernel": 5, "padding": "valid",
                                           "act": "relu"}}
    assert again["layers"][1] == {"pool": {"kind": "max", "kernel": 2}}
    assert again["layers"][2:] == spec.to_dict()["layers"][2:]
