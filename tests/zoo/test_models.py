"""Behaviour of the zoo models: real forward passes on small inputs, options, structure."""

from __future__ import annotations

import pytest
import torch

import striate.zoo as zoo
from striate.layers.errors import ConfigError
from striate.zoo._probe import output_shape
from striate.zoo.lenet import C3_TABLE
from striate.zoo.wavenet import receptive_field


@pytest.mark.parametrize(("name", "options", "in_shape", "out_shape"), [
    ("lenet5", {}, (1, 32, 32), (10,)),
    ("lenet5", {}, (1, 28, 28), (10,)),
    ("lenet5_1998", {}, (1, 32, 32), (10,)),
    ("keras_mnist", {}, (1, 28, 28), (10,)),
    ("keras_cifar10", {"hidden": 32}, (3, 32, 32), (10,)),
    ("cs231n_cifar", {}, (3, 32, 32), (10,)),
    ("tdnn", {}, (16, 15), (3,)),
    ("mnist1d_cnn", {}, (1, 40), (10,)),
    ("resnet20", {}, (3, 32, 32), (10,)),
    ("densenet_bc_100", {"depth": 16, "growth": 4}, (3, 32, 32), (10,)),
    ("deepbind", {}, (4, 101), (1,)),
    ("vgg11", {"hidden": 64}, (3, 32, 32), (10,)),
    ("mobilenet_v1", {"alpha": 0.25}, (3, 32, 32), (10,)),
])
def test_real_forward_on_small_inputs(name, options, in_shape, out_shape):
    torch.manual_seed(0)
    model = zoo.create(name, num_classes=out_shape[0], input_shape=in_shape, **options)
    model.eval()
    with torch.no_grad():
        out = model(torch.rand(2, *in_shape))
    assert out.shape == (2, *out_shape)
    assert torch.isfinite(out).all()


def test_lenet5_1998_connection_table():
    model = zoo.create("lenet5_1998")
    c3 = model.features.c3
    # Table I: 6 maps see 3 inputs, 9 see 4, one sees all 6: 60 connections of 5x5
    assert sorted(len(g) for g in C3_TABLE) == [3] * 6 + [4] * 9 + [6]
    assert sum(p.numel() for p in c3.parameters()) == 60 * 25 + 16
    # C3 map 0 reads S2 maps 0, 1, 2 only: changing map 3 leaves it untouched
    x = torch.randn(1, 6, 14, 14)
    y = x.clone()
    y[:, 3] += 1.0
    with torch.no_grad():
        assert torch.equal(c3(x)[:, 0], c3(y)[:, 0])
        assert not torch.equal(c3(x)[:, 3], c3(y)[:, 3])  # map 3 reads 3, 4, 5
    # the RBF prototypes are fixed: buffers, not parameters
    assert "centers" in dict(model.named_buffers()).keys() | {
        k.split(".")[-1] for k, _ in model.named_buffers()}
    assert all("centers" not in k for k, _ in model.named_parameters())


def test_alexnet_two_tower_groups_and_layout_error():
    with torch.device("meta"):
        model = zoo.create("alexnet", layout="two_tower")
    groups = {k: m.groups for k, m in model.features.named_children() if k.startswith("conv")}
    assert groups == {"conv1": 1, "conv2": 2, "conv3": 1, "conv4": 2, "conv5": 2}
    assert output_shape(model.features, (3, 227, 227)) == (256, 6, 6)
    with pytest.raises(ConfigError, match="layout must be one of single, two_tower, merged"):
        zoo.create("alexnet", layout="three")


def test_vgg16_on_cifar_resizes_the_classifier():
    with torch.device("meta"):
        model = zoo.create("vgg16", num_classes=10, input_shape=(3, 32, 32))
    assert model.classifier.fc6.in_features == 512  # 512 x 1 x 1 after five poolings
    assert model.classifier.fc8.out_features == 10


def test_resnet_stride_placement():
    with torch.device("meta"):
        v15 = zoo.create("resnet50")
        v1 = zoo.create("resnet50", stride_on="1x1")
    block, old = v15.features.layer2[0], v1.features.layer2[0]
    assert (block.conv1.stride, block.conv2.stride) == ((1, 1), (2, 2))
    assert (old.conv1.stride, old.conv2.stride) == ((2, 2), (1, 1))
    with pytest.raises(ConfigError, match="stride_on must be '3x3' or '1x1'"):
        zoo.create("resnet18", stride_on="7x7")


def test_cifar_resnet_option_a_shortcut_pads_zeros():
    model = zoo.create("resnet20")
    shortcut = model.features.layer2[0].shortcut
    assert not list(shortcut.parameters())
    x = torch.randn(1, 16, 32, 32)
    y = shortcut(x)
    assert y.shape == (1, 32, 16, 16)
    assert torch.equal(y[:, :16], x[:, :, ::2, ::2])
    assert torch.count_nonzero(y[:, 16:]) == 0


def test_googlenet_five_by_five_branches_and_aux_heads():
    with torch.device("meta"):
        model = zoo.create("googlenet", aux=True)
    five = [m for m in model.features.inception3a.branch5.modules()
            if isinstance(m, torch.nn.Conv2d)]
    assert [m.kernel_size for m in five] == [(1, 1), (5, 5)]
    x = torch.empty(2, 3, 224, 224, device="meta")
    model.train()
    main, aux1, aux2 = model(x)
    assert main.shape == aux1.shape == aux2.shape == (2, 1000)
    assert aux1 is not main
    model.eval()
    assert model(x).shape == (2, 1000)
    # each aux head: avgpool 5/3 on 14x14 → 4x4, conv 1x1 to 128, fc 2,048 → 1,024 → classes
    assert model.aux1.fc1.in_features == 128 * 4 * 4


@pytest.mark.parametrize("name", ["fcn32s", "fcn16s", "fcn8s"])
def test_fcn_outputs_the_input_resolution(name):
    with torch.device("meta"):
        model = zoo.create(name, num_classes=5, input_shape=(3, 100, 130))
    assert output_shape(model, (3, 100, 130)) == (5, 100, 130)
    assert output_shape(model, (3, 500, 500)) == (5, 500, 500)


def test_fcn_upsampling_starts_bilinear():
    from striate.zoo.fcn import _upscore

    w = _upscore(2, 64, 32).weight.detach()  # FCN-32s's final 64x64/32 layer, 2 classes
    assert w.shape == (2, 2, 64, 64)
    assert w[0, 1].abs().sum() == 0  # channel c only feeds channel c
    assert torch.allclose(w[0, 0], w[1, 1])
    assert w[0, 0].max() <= 1.0
    assert w[0, 0, 31, 31] == pytest.approx(w[0, 0, 32, 32])  # symmetric around the centre


def test_segnet_restores_odd_sizes_with_switches():
    with torch.device("meta"):
        model = zoo.create("segnet")
    assert output_shape(model, (3, 360, 480)) == (11, 360, 480)
    pools = [m for m in model.modules() if isinstance(m, torch.nn.MaxPool2d)]
    assert len(pools) == 5
    assert all(p.return_indices for p in pools)
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in model.modules())


def test_dilated_network_sizes():
    with torch.device("meta"):
        valid = zoo.create("dilation8")
        same = zoo.create("dilation8", context="basic", same_padding=True,
                          input_shape=(3, 64, 64))
    assert output_shape(valid, (3, 900, 900)) == (21, 66, 66)  # the Caffe model's output
    assert output_shape(same, (3, 64, 64)) == (21, 8, 8)
    dilations = [m.dilation[0] for n, m in same.classifier.named_children()
                 if n.startswith("ct_conv")]
    assert dilations == [1, 1, 2, 4, 8, 16, 1]


def test_wavenet_is_causal_with_the_documented_receptive_field():
    torch.manual_seed(0)
    model = zoo.create("wavenet", input_shape=(8, 120), num_classes=8, residual_channels=4,
                       dilation_channels=4, skip_channels=8, layers=4, stacks=2).double()
    rf = receptive_field(layers=4, stacks=2)
    assert rf == 2 + 2 * 15
    x = torch.randn(1, 8, 120, dtype=torch.float64)
    with torch.no_grad():
        base = model(x)
        t = 60
        bumped = x.clone()
        bumped[..., t] += 1.0
        diff = (model(bumped) - base).abs().sum(1)[0]
    assert base.shape == (1, 8, 120)
    assert diff[:t].max() == 0  # nothing before t sees input t
    changed = torch.nonzero(diff > 0).flatten()
    assert changed.min() == t
    assert changed.max() == t + rf - 1  # the last output that sees input t
    with torch.device("meta"):
        full = zoo.create("wavenet")
    assert len(full.layers) == 30
    assert [layer.dilated.dilation[0] for layer in full.layers[:10]] == [2 ** i for i in
                                                                        range(10)]


def test_wavenet_takes_sequences_shorter_than_its_dilations():
    # causal padding keeps every length: the input check used to read the torch padding (0)
    # of the causal convolutions and refuse anything under 513 samples
    with torch.device("meta"):
        short = zoo.create("wavenet", input_shape=(256, 100))
    assert output_shape(short, (256, 100)) == (256, 100)
    assert output_shape(short, (256, 1)) == (256, 1)


def test_deepbind_scores_both_strands():
    torch.manual_seed(0)
    model = zoo.create("deepbind", pooling="maxavg").eval()
    x = torch.nn.functional.one_hot(torch.randint(0, 4, (3, 101)), 4).transpose(1, 2).float()
    rc = x.flip(1, 2)  # A<->T, C<->G and reversed
    with torch.no_grad():
        assert torch.allclose(model(x), model(rc))
        single = zoo.create("deepbind", both_strands=False).eval()
        assert not torch.allclose(single(x), single(rc))
        # a sequence shorter than a motif still works: m − 1 positions of 0.25 on each side
        assert model(x[..., :10]).shape == (3, 1)
    with pytest.raises(ConfigError, match="both_strands needs one-hot DNA with 4 channels"):
        zoo.create("deepbind", input_shape=(5, 101))


def test_deepsea_layout():
    with torch.device("meta"):
        model = zoo.create("deepsea")
        probs = zoo.create("deepsea", sigmoid=True)
    assert output_shape(model.features, (4, 1000)) == (960, 53)
    assert output_shape(model, (4, 1000)) == (919,)
    assert isinstance(probs.classifier[-1], torch.nn.Sigmoid)


def test_every_model_documents_its_paper():
    for name in zoo.names():
        info = zoo.info(name)
        assert info.paper, name
        assert 0 < len(info.description) <= 90, name
        entry = zoo.registry._entry(name)
        assert entry.builder.__doc__, name
        module_doc = __import__(entry.builder.__module__, fromlist=["_"]).__doc__
        assert module_doc, name
        assert any(str(y) in module_doc for y in (info.year, info.year + 1)), name


def test_every_model_accepts_another_class_count():
    for name in zoo.names():
        info = zoo.info(name)
        with torch.device("meta"):
            model = zoo.create(name, num_classes=7)
        out = output_shape(model, info.input_shape)
        assert out[0] == 7, name
        if info.task == "segmentation":
            assert len(out) == 3, name
        elif info.task == "sequence":
            assert out == (7, info.input_shape[1])
        else:
            assert out == (7,), name


@pytest.mark.parametrize(("name", "options", "smallest"), [
    ("vgg16", {}, 32),            # five 2x2 poolings
    ("alexnet", {}, 67),          # conv1 (67 − 11)/4 + 1 = 15, pools → 7 → 3 → 1
    ("resnet50", {}, 1),          # padded convolutions and global pooling take anything
    # 79 → 40 → 20 (pools round up) → 10 → 5 at 4a, where the aux head pools 5x5; 78 → 4
    ("googlenet", {"aux": True}, 79),
    ("squeezenet1_1", {}, 25),    # 25 → 12 → 6 → 3 → 1; 24 → 11 → 5 → 2 → none
    ("lenet5", {}, 16),           # 16 → 12 → 6 → 2 → 1
])
def test_smallest_input(name, options, smallest):
    from striate.layers.errors import ShapeError

    with torch.device("meta"):
        zoo.create(name, input_shape=(3 if name != "lenet5" else 1, smallest, smallest),
                   **options)
        if smallest > 1:
            with pytest.raises(ShapeError, match=f"the smallest input {name} accepts is "
                                                 f"{smallest}x{smallest}"):
                zoo.create(name, input_shape=(3 if name != "lenet5" else 1, smallest - 1,
                                              smallest - 1), **options)
