"""The summary: shapes, parameters, MACs, activation memory, conventions, failures."""

from __future__ import annotations

import math
from collections import OrderedDict

import pytest
import torch
from arith_models import Scale, SmallNet, resnet50, vgg16
from torch import nn

import striate
import striate.layers as sl
from striate.arith.summary import summary
from striate.layers.errors import ConfigError, ShapeError

# CS231n notes, "VGGNet in detail" (seeds/003): every CONV/POOL/FC row's output shape and
# weight count (the table counts weights only, no biases).
CS231N_VGG = [
    ((64, 224, 224), (3 * 3 * 3) * 64), ((64, 224, 224), (3 * 3 * 64) * 64),
    ((64, 112, 112), 0),
    ((128, 112, 112), (3 * 3 * 64) * 128), ((128, 112, 112), (3 * 3 * 128) * 128),
    ((128, 56, 56), 0),
    ((256, 56, 56), (3 * 3 * 128) * 256), ((256, 56, 56), (3 * 3 * 256) * 256),
    ((256, 56, 56), (3 * 3 * 256) * 256), ((256, 28, 28), 0),
    ((512, 28, 28), (3 * 3 * 256) * 512), ((512, 28, 28), (3 * 3 * 512) * 512),
    ((512, 28, 28), (3 * 3 * 512) * 512), ((512, 14, 14), 0),
    ((512, 14, 14), (3 * 3 * 512) * 512), ((512, 14, 14), (3 * 3 * 512) * 512),
    ((512, 14, 14), (3 * 3 * 512) * 512), ((512, 7, 7), 0),
    ((4096,), 7 * 7 * 512 * 4096), ((4096,), 4096 * 4096), ((1000,), 4096 * 1000),
]


@pytest.fixture(scope="module")
def vgg_summaries():
    shape = (3, 224, 224)
    return summary(vgg16(striate=True), shape), summary(vgg16(striate=False), shape)


@pytest.mark.parametrize("which", [0, 1], ids=["striate", "torch.nn"])
def test_vgg16_reproduces_the_cs231n_table(vgg_summaries, which):
    s = vgg_summaries[which]
    rows = [r for r in s.rows if not r.is_group and r.type not in ("ReLU", "Flatten")]
    assert [r.output_shape[0] for r in rows] == [shape for shape, _ in CS231N_VGG]
    # params = the table's weights + one bias per output channel / unit
    assert [r.params for r in rows] == [
        w + (shape[0] if w else 0) for shape, w in CS231N_VGG]
    assert [r.activations for r in rows] == [math.prod(shape) for shape, _ in CS231N_VGG]
    assert s.totals["params"] == 138_357_544  # "TOTAL params: 138M parameters"


@pytest.mark.parametrize("which", [0, 1], ids=["striate", "torch.nn"])
def test_vgg16_activation_total_is_the_true_sum_not_the_notes_24m(vgg_summaries, which):
    t = vgg_summaries[which].totals
    input_values = 224 * 224 * 3
    assert t["input_activations"] == input_values
    # The table's per-layer memory column (input included) sums to 15,237,608 values
    # (~58 MiB), not the "24M * 4 bytes ~= 93MB" of its last line.
    assert t["activations"] == input_values + sum(math.prod(s) for s, _ in CS231N_VGG)
    assert t["activations"] == 15_237_608
    assert t["activation_bytes"] == 15_237_608 * 4
    assert round(t["activation_bytes"] / 2**20) == 58
    # conv MACs: output values x 3*3*C_in; FC: weights
    conv_fc = sum(math.prod(s) * (w // s[0]) for s, w in CS231N_VGG if w)
    assert t["macs"] == conv_fc
    assert t["flops"] == 2 * t["macs"]
    assert t["train_bytes"] == 2 * t["param_bytes"] + 2 * t["forward_bytes"]


def test_plain_torch_and_striate_models_agree_row_for_row(vgg_summaries):
    ours, plain = vgg_summaries
    assert len(ours.rows) == len(plain.rows)
    fields = ("name", "depth", "output_shape", "params", "trainable_params", "macs",
              "activations", "receptive_field", "effective_stride", "effective_padding")
    for a, b in zip(ours.rows, plain.rows, strict=True):
        assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]
        assert a.type.replace("Dense", "Linear") == b.type


def _seq_pair(lib):
    dense = (lambda i, o: sl.Dense(o, i)) if lib is sl else nn.Linear
    with torch.device("meta"):
        return lib.Sequential(
            lib.Conv1d(4, 8, 7, stride=2, padding=3), lib.BatchNorm1d(8), lib.ReLU(),
            lib.MaxPool1d(3, 2), lib.Conv1d(8, 8, 3, dilation=2, padding=2),
            lib.AvgPool1d(2), lib.Flatten(), dense(8 * 12, 5))


def test_sequence_models_agree_row_for_row():
    a, b = summary(_seq_pair(sl), (4, 101)), summary(_seq_pair(nn), (4, 101))
    keys = ("output_shape", "params", "macs", "activations", "receptive_field",
            "effective_stride", "effective_padding", "dropped_inputs")
    assert [[getattr(r, k) for k in keys] for r in a.rows] == \
        [[getattr(r, k) for k in keys] for r in b.rows]
    conv0 = a.rows[0]
    assert conv0.output_shape == [(8, 51)]  # (101 − 7 + 2·3)/2 + 1 = 51
    assert conv0.macs == 8 * 51 * 7 * 4


def test_resnet50_macs_and_params_match_torchvision():
    s = summary(resnet50(), (3, 224, 224), depth=1)
    # torchvision's table for resnet50: 25,557,032 params, 4.09 G (multiply-adds)
    assert s.totals["params"] == 25_557_032
    assert round(s.totals["macs"] / 1e9, 2) == 4.09
    assert not s.totals["macs_partial"]
    # ResNet's 7x7/2 conv on 224 drops only a padding zero: not flagged
    conv1 = next(r for r in s.rows if r.name == "conv1")
    assert conv1.dropped_inputs == ()


def test_depth_collapses_containers_into_sums():
    model = SmallNet()
    full, folded = summary(model, (3, 32, 32)), summary(model, (3, 32, 32), depth=1)
    assert [r.name for r in folded.layers] == ["features", "classifier"]
    for group in folded.layers:
        leaves = [r for r in full.rows if r.name.startswith(group.name + ".")]
        assert group.params == sum(r.params for r in leaves)
        assert group.macs == sum(r.macs for r in leaves)
        assert group.activations == sum(r.activations for r in leaves)
    assert folded.totals == full.totals
    assert summary(model, (3, 32, 32), depth=0).layers == []


def test_inplace_and_views_add_no_activation_memory():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(inplace=True), nn.ReLU(), nn.Flatten(),
                          nn.Identity())
    rows = summary(model, (1, 5, 5)).rows
    assert [r.activations for r in rows] == [2 * 3 * 3, 0, 2 * 3 * 3, 0, 0]


def test_batch_size_scales_memory_not_per_sample_counts():
    one, four = summary(SmallNet(), (3, 32, 32)), summary(SmallNet(), (3, 32, 32),
                                                          batch_size=4)
    assert four.totals["activations"] == one.totals["activations"]
    assert four.totals["forward_bytes"] == 4 * one.totals["forward_bytes"]
    assert [r.output_shape for r in four.rows] == [r.output_shape for r in one.rows]


def test_real_weights_are_untouched_and_state_restored():
    model = SmallNet()
    model.train()
    model.features[1].eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    summary(model, (3, 32, 32))
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) and after[k].device.type == "cpu"
               for k in before)
    assert model.training
    assert not model.features[1].training
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    assert all("forward" not in vars(m) for m in model.modules())  # batch-norm shortcut gone


def test_batch_norm_with_the_wrong_rank():
    model = nn.Sequential(nn.Conv1d(1, 4, 3), nn.BatchNorm2d(4))
    with pytest.raises(ShapeError, match=r"^1 \(BatchNorm2d\): expects per-sample inputs "
                       r"with 3 axes but received shape \(4, 6\); use BatchNorm1d$"):
        summary(model, (1, 8))


def test_batch_norm_with_the_wrong_channel_count():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(3))
    with pytest.raises(ShapeError, match=r"^1 \(BatchNorm2d\): expects 3 channels but "
                       r"received shape \(4, 6, 6\); use num_features=4$"):
        summary(model, (1, 8, 8))


def test_unknown_leaf_with_parameters_is_question_mark_and_totals_partial():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), Scale(), nn.GELU())
    s = summary(model, (1, 6, 6))
    assert [r.macs for r in s.rows] == [2 * 4 * 4 * 9, None, 0]
    assert s.totals["macs_partial"] is True
    assert any("1 (Scale)" in n for n in s.notes)
    table = str(s)
    assert "(partial: see notes)" in table
    scale_line = table.splitlines()[5].split()
    assert scale_line[:2] == ["1", "Scale"]
    assert scale_line[4] == "?"


def test_shared_module_counted_once():
    conv = nn.Conv2d(2, 2, 3, padding=1)

    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = conv

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(self.conv(x))

    s = summary(Twice(), (2, 8, 8))
    assert [(r.name, r.call, r.params) for r in s.rows] == [("conv", 1, 38), ("conv", 2, 0)]
    assert s.totals["params"] == 2 * 2 * 9 + 2
    assert s.totals["macs"] == 2 * (2 * 8 * 8 * 9 * 2)
    assert [r.receptive_field for r in s.rows] == [(3, 3), (5, 5)]


def test_lazy_dense_is_counted_and_left_uninitialised():
    model = sl.Sequential(sl.Conv2d(1, 4, 3), sl.Flatten(), sl.Dense(10))
    s = summary(model, (1, 8, 8))
    assert [r.params for r in s.rows] == [40, 0, 4 * 6 * 6 * 10 + 10]
    assert s.totals["params"] == 40 + 1450
    assert model[2].lazy


def test_forward_failure_shows_rows_so_far_and_names_the_layer():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(100, 10))
    with pytest.raises(ShapeError) as info:
        summary(model, (1, 8, 8))
    err = info.value
    assert str(err) == ("2 (Linear): expects 100 input features on the last axis but "
                        "received shape (144,); use in_features=144")
    assert [r.name for r in err.partial.rows] == ["0", "1"]
    table = str(err.partial)
    assert table.rstrip().splitlines()[-1] == f"error: {err}"


def test_kernel_larger_than_padded_input_is_one_line():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Conv2d(4, 4, 7))
    with pytest.raises(ShapeError, match=r"^1 \(Conv2d k=7 s=1\): the window \(7\) is larger "
                       r"than the padded input \(4\): \(4 − 7 \+ 2·0\)/1 \+ 1 = -2; use a "
                       r"smaller kernel or more padding$"):
        summary(model, (1, 6, 6))


def _features_net(lib):
    with torch.device("meta"):
        features = lib.Sequential(lib.Conv2d(1, 4, 3), lib.ReLU(), lib.BatchNorm2d(4),
                                  lib.Conv2d(4, 4, 3, stride=3))
        return nn.Sequential(OrderedDict(features=features))


@pytest.mark.parametrize("lib", [nn, sl], ids=["torch.nn", "striate"])
def test_strict_raises_with_formula_and_fix(lib):
    model = _features_net(lib)
    loose = summary(model, (1, 9, 9))
    row = next(r for r in loose.rows if r.name == "features.3")
    assert row.dropped_inputs == (1, 1)  # (7 − 3)/3 → 2 windows cover 6 of 7
    assert "features.3 *" in str(loose)
    with pytest.raises(ShapeError) as info:
        summary(model, (1, 9, 9), strict=True)
    assert str(info.value) == ("features.3 (Conv2d k=3 s=3): (7 − 3 + 2·0)/3 + 1 = 2.33 does "
                               "not fit; use padding=1 or stride=2")
    assert [r.name for r in info.value.partial.rows][-1] == "features.2"


@pytest.mark.parametrize("shape", [(3, -1, 4), (3, 2.5, 4), (), "3xax4", (True, 3)])
def test_bad_input_shape_is_a_config_error(shape):
    with pytest.raises(ConfigError, match=r"positive integer|empty"):
        summary(SmallNet(), shape)


def test_top_level_export_and_string_shape():
    s = striate.summary(SmallNet(), "3x32x32")
    assert s.input_shapes == [(3, 32, 32)]
    assert s.totals["params"] == sum(p.numel() for p in SmallNet().parameters())


def test_uncalled_modules_are_noted():
    class WithAux(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.main = nn.Linear(4, 2)
            self.aux = nn.Linear(4, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.main(x)

    s = summary(WithAux(), (4,))
    assert s.totals["params"] == 10 + 15
    assert any(n.startswith("15 parameters belong to modules the forward did not call")
               and "aux" in n for n in s.notes)


def test_shared_interface_names():
    import striate.arith

    assert striate.arith.summary is summary is striate.summary
    assert callable(striate.arith.summary)
    assert striate.arith.receptive.receptive_fields is striate.receptive_fields


def test_input_shape_defaults_to_the_models():
    from striate import zoo

    with torch.device("meta"):
        model = zoo.create("lenet5")
    assert summary(model).input_shapes == [tuple(model.default_input_shape)]
    with pytest.raises(ConfigError, match=r"^SmallNet has no default_input_shape; give the "):
        summary(SmallNet())


@pytest.mark.parametrize("lib", [nn, sl], ids=["torch.nn", "striate"])
def test_strict_pool_suggests_ceil_mode_as_the_layer_does(lib):
    pool = lib.MaxPool2d(3, 2)
    with pytest.raises(ShapeError) as info:
        summary(nn.Sequential(pool), (1, 8, 8), strict=True)
    # (8 − 3)/2 + 1 = 3.5 (no padding makes 8 − 3 + 2P even); Caffe's ceil_mode rounds up
    assert str(info.value) == ("0 (MaxPool2d k=3 s=2): (8 − 3 + 2·0)/2 + 1 = 3.50 does not "
                               "fit; use stride=1 or ceil_mode=True")
    with pytest.raises(ShapeError, match=r"use stride=1 or ceil_mode=True$"):
        sl.MaxPool2d(3, 2).output_shape((1, 8, 8), strict=True)
    # with ceil_mode the 8 inputs are all seen: ceil((8 − 3)/2) + 1 = 4
    assert summary(nn.Sequential(lib.MaxPool2d(3, 2, ceil_mode=True)), (1, 8, 8),
                   strict=True).rows[0].output_shape == [(1, 4, 4)]


def test_partial_summary_says_it_is_incomplete():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(100, 10))
    assert summary(model, (1, 7, 7)).totals["complete"] is True
    with pytest.raises(ShapeError) as info:
        summary(model, (1, 8, 8))
    assert info.value.partial.totals["complete"] is False
    assert "The forward stopped at an error" in str(info.value.partial)


def test_shape_strings_as_python_writes_them():
    model = nn.Sequential(nn.Linear(784, 10))
    assert summary(model, "(784,)").input_shapes == [(784,)]
    assert summary(model, "784").input_shapes == [(784,)]


@pytest.mark.parametrize("lib", [nn, sl], ids=["torch.nn", "striate"])
def test_common_input_shape_mistakes_say_what_to_write(lib):
    model = nn.Sequential(lib.Conv2d(3, 8, 3))
    # the batch axis left in
    with pytest.raises(ShapeError, match=r"received shape \(1, 3, 32, 32\); shapes are per "
                       r"sample, without the batch axis"):
        summary(model, (1, 3, 32, 32))
    # channels last, as images are stored
    with pytest.raises(ShapeError, match=r"received shape \(32, 32, 3\) \(32 channels\); the "
                       r"channels come first \(channels-last data\?\): use \(3, 32, 32\)$"):
        summary(model, (32, 32, 3))
    # a real channel mismatch keeps the usual fix
    with pytest.raises(ShapeError, match=r"received shape \(1, 32, 32\) \(1 channels\); (use|set) "
                       r"in_channels=1 or fix the layer before it$"):
        summary(model, (1, 32, 32))


def test_grayscale_input_with_a_batch_axis_is_not_read_as_three_spatial_axes():
    with pytest.raises(ShapeError, match=r"^0 \(Conv2d\): expects a per-sample input with 3 axes "
                       r"\(C, …\) but received shape \(1, 1, 28, 28\); shapes are per sample, "
                       r"without the batch axis: use \(1, 28, 28\)$"):
        summary(nn.Sequential(nn.Conv2d(1, 8, 3)), (1, 1, 28, 28))
