"""The zoo with the rest of striate: model files, receptive fields, one training step."""

from __future__ import annotations

import pytest
import torch

import striate
import striate.zoo as zoo
from striate.arith.receptive import receptive_fields
from striate.zoo.wavenet import receptive_field


@pytest.mark.parametrize(("name", "options", "shape"), [
    ("lenet5_1998", {}, (1, 32, 32)),  # buffers (the RBF prototypes) and custom layers
    ("deepbind", {"pooling": "maxavg", "num_classes": 2}, (4, 50)),
    ("resnet20", {"shortcut": "B"}, (3, 32, 32)),
])
def test_save_and_load_round_trip(tmp_path, name, options, shape):
    torch.manual_seed(0)
    model = zoo.create(name, input_shape=shape, **options).eval()
    striate.save(model, tmp_path / "model")
    again = striate.load(tmp_path / "model").eval()
    assert again.zoo_config == model.zoo_config
    x = torch.rand(2, *shape)
    with torch.no_grad():
        assert torch.equal(again(x), model(x))


def test_receptive_fields_agree_with_the_papers():
    with torch.device("meta"):
        wave = zoo.create("wavenet", input_shape=(256, 200), layers=4, stacks=2)
        vgg = zoo.create("vgg16")
    # output t of a causal stack sees t − (rf − 1) … t: size rf, padding rf − 1
    rf = receptive_fields(wave, (256, 200))[""]
    assert rf.size == (receptive_field(4, 2),)
    assert rf.padding == (receptive_field(4, 2) - 1,)
    # VGG-16's pool5 units see 212x212 pixels with a jump of 32 (Araujo et al., Distill 2019)
    pool5 = receptive_fields(vgg, (3, 224, 224))["features.pool5"]
    assert (pool5.size, pool5.stride) == ((212, 212), (32, 32))


@pytest.mark.parametrize("name", ["lenet5_1998", "tdnn", "mnist1d_cnn"])
def test_a_few_steps_of_sgd_lower_the_loss(name):
    torch.manual_seed(0)
    model = zoo.create(name)
    shape, classes = model.default_input_shape, zoo.info(name).num_classes
    x = torch.randn(16, *shape)
    y = torch.randint(0, classes, (16,))
    opt = torch.optim.SGD(model.parameters(), lr=0.05 if name != "lenet5_1998" else 0.005)
    loss_fn = torch.nn.CrossEntropyLoss()
    first = loss_fn(model(x), y).item()
    for _ in range(5):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    assert loss_fn(model(x), y).item() < first
    assert all(p.grad is not None for p in model.parameters())
