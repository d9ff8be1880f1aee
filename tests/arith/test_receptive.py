"""Receptive fields (Araujo et al., Distill 2019) through chains, branches and merges."""

from __future__ import annotations

import warnings

import pytest
import torch
from arith_models import MiniInception, TorchBasicBlock, context_module, resnet50, vgg16
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch import nn

import striate.layers as sl
from striate.arith.receptive import ReceptiveField, receptive_fields
from striate.arith.summary import summary
from striate.layers.blocks import BasicBlock, InceptionBlock
from striate.layers.errors import ConfigError, ShapeError


def test_vgg16_conv_and_pool_layers():
    rf = receptive_fields(vgg16(striate=False), (3, 224, 224))
    names = [f"0.{i}" for i, m in enumerate(vgg16(striate=False)[0])
             if not isinstance(m, nn.ReLU)]
    # conv1_1 … pool5 (Araujo et al. / the usual VGG-16 table)
    assert [rf[n].size[0] for n in names] == [3, 5, 6, 10, 14, 16, 24, 32, 40, 44, 60, 76,
                                              92, 100, 132, 164, 196, 212]
    assert rf[names[-1]] == ReceptiveField((212, 212), (32, 32), (90, 90))


def test_vgg16_striate_layers_give_the_same_fields():
    shape = (3, 224, 224)
    theirs = receptive_fields(vgg16(striate=False), shape)
    ours = receptive_fields(vgg16(striate=True), shape)
    assert ours == theirs


def test_yu_koltun_context_module():
    rf = receptive_fields(context_module(), (4, 128, 128))
    # Yu & Koltun (ICLR 2016), table 1: receptive field 3, 5, 9, 17, 33, 65, 67
    assert [rf[str(i)].size for i in range(7)] == [(s, s) for s in (3, 5, 9, 17, 33, 65, 67)]
    assert all(rf[str(i)].stride == (1, 1) for i in range(7))
    # padding = dilation keeps the field centred: P = (r − 1)/2
    assert all(rf[str(i)].padding[0] == (rf[str(i)].size[0] - 1) // 2 for i in range(7))


def test_residual_block_takes_the_max_over_its_paths():
    rf = receptive_fields(TorchBasicBlock(4, 8, stride=2), (4, 16, 16))
    # main path: 3x3/2 then 3x3 → 3 + 2·2 = 7; shortcut 1x1/2 → 1
    assert rf["conv2"].size == (7, 7)
    assert rf["downsample"].size == (1, 1)
    assert rf[""] == ReceptiveField((7, 7), (2, 2), (3, 3))
    # the ReLU module is called twice; its last call follows the add
    assert rf["relu"] == rf[""]


class WideShortcut(nn.Module):
    """A residual block whose shortcut sees more than its main path."""

    def __init__(self) -> None:
        super().__init__()
        self.main = nn.Conv2d(2, 2, 3, padding=1)
        self.shortcut = nn.Conv2d(2, 2, 5, padding=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.main(x) + self.shortcut(x))


def test_merge_is_the_max_whichever_path_is_wider():
    rf = receptive_fields(WideShortcut(), (2, 9, 9))
    assert rf["main"].size == (3, 3)
    assert rf[""] == ReceptiveField((5, 5), (1, 1), (2, 2))


def test_inception_concat_takes_the_max_over_branches():
    rf = receptive_fields(MiniInception(), (4, 12, 12))
    assert [rf[n].size[0] for n in ("b1", "b3", "b5", "bp")] == [1, 3, 5, 3]
    assert rf[""].size == (5, 5)


def test_striate_blocks():
    rf = receptive_fields(BasicBlock(4, 8, stride=2), (4, 16, 16))
    assert rf[""] == ReceptiveField((7, 7), (2, 2), (3, 3))
    rf = receptive_fields(InceptionBlock(4, 2, 2, 2, 2, 2, 2), (4, 16, 16))
    assert rf[""] == ReceptiveField((5, 5), (1, 1), (2, 2))


def test_resnet50_stem_and_stages():
    rf = receptive_fields(resnet50(), (3, 224, 224))
    assert rf["conv1"] == ReceptiveField((7, 7), (2, 2), (3, 3))
    assert rf["maxpool"] == ReceptiveField((11, 11), (4, 4), (5, 5))
    assert rf["layer4"].stride == (32, 32)


class StrideClash(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(1, 1, 1, stride=2)  # 8 → 4, jump 2
        self.b = nn.Conv2d(1, 1, 5)  # 8 → 4, jump 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.a(x) + self.b(x)


def test_paths_meeting_with_different_strides_raise_naming_the_node():
    with pytest.raises(ShapeError) as info:
        receptive_fields(StrideClash(), (1, 8, 8))
    assert str(info.value) == (
        "StrideClash (the add in its forward): paths that meet here have effective strides "
        "1 and 2; their receptive fields cannot be merged: make the strides along both "
        "paths multiply to the same value")


class Untraceable(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(1, 2, 3)
        self.b = nn.Conv2d(2, 2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.a(x)
        if x.shape[-1] > 3:  # data-dependent control flow: fx cannot trace it
            x = self.b(x)
        return x


def test_untraceable_model_falls_back_on_the_call_order_and_says_so():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rf = receptive_fields(Untraceable(), (1, 8, 8))
    assert rf["b"].size == (5, 5)
    assert rf[""].size == (5, 5)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1
    assert messages[0].startswith("receptive fields: Untraceable cannot be traced by torch.fx (")
    assert messages[0].endswith("they follow the order of the module calls as a chain, which "
                                "ignores branches")


def _grad_support(model: nn.Module, x: torch.Tensor, unit: tuple[int, int]
                  ) -> tuple[tuple[int, int], ...]:
    x = x.clone().requires_grad_(True)
    model(x)[0, 0, unit[0], unit[1]].backward()
    nonzero = x.grad[0, 0].nonzero()
    return tuple((int(nonzero[:, a].min()), int(nonzero[:, a].max())) for a in range(2))


def test_fields_match_the_inputs_a_unit_really_depends_on():
    """Brute force: with positive weights the gradient of one output unit is non-zero
    exactly on its receptive field, clipped to the input. (43 is a size where no layer
    drops trailing inputs; where one does, the last units' fields are an upper bound.)"""
    model = nn.Sequential(
        nn.Conv2d(1, 1, 3, stride=2, padding=1), nn.AvgPool2d(2),
        nn.Conv2d(1, 1, 3, dilation=2, padding=2),
        nn.Conv2d(1, 1, (3, 5), stride=(1, 2), padding=(1, 2)), sl.Conv2d(1, 1, 3))
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    size = 43
    field = receptive_fields(model, (1, size, size))[""]
    out = model(torch.ones(1, 1, size, size)).shape[2:]
    for unit in [(0, 0), (1, 1), (out[0] - 1, out[1] - 1), (out[0] // 2, 0)]:
        expected = tuple((max(a, 0), min(b, size - 1)) for a, b in field.span(unit))
        assert _grad_support(model, torch.ones(1, 1, size, size), unit) == expected


class SliceAndPad(nn.Module):
    """The CIFAR ResNets' option-A shortcut (a strided slice) and a functional pad."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.nn.functional.pad(x, (2, 2, 1, 1))
        return self.conv(x[:, :, 1::2, ::2])


def test_functional_pad_and_strided_slices_are_windows():
    rf = receptive_fields(SliceAndPad(), (1, 10, 10))
    # pad: P = (1, 2); slice: start (1, 0), step 2 → P = (1 − 1, 2 − 0) = (0, 2), j = 2;
    # 3x3 conv: r = 1 + 2·2 = 5
    assert rf["conv"] == ReceptiveField((5, 5), (2, 2), (0, 2))


@st.composite
def _chains(draw):
    layers = []
    for _ in range(draw(st.integers(1, 4))):
        k = draw(st.integers(1, 5))
        s = draw(st.integers(1, 3))
        if draw(st.booleans()):
            d = draw(st.integers(1, 3))
            layers.append(("conv", k, s, draw(st.integers(0, d * (k - 1))), d))
        else:
            layers.append(("avg", k, s, draw(st.integers(0, k // 2)), 1))
    return layers, draw(st.integers(16, 48))


@settings(max_examples=30, deadline=None)
@given(_chains())
def test_fields_bound_the_real_dependence_of_random_chains(case):
    """Any chain of 1-D convolutions and average pools: every unit depends only on inputs
    inside its receptive field, and on both of its ends (those inside the input) when no
    layer drops inputs."""
    spec, length = case
    layers = []
    for kind, k, s, p, d in spec:
        if kind == "conv":
            conv = nn.Conv1d(1, 1, k, s, p, d)
            nn.init.ones_(conv.weight)
            nn.init.zeros_(conv.bias)
            layers.append(conv)
        else:
            layers.append(nn.AvgPool1d(k, s, p))
    model = nn.Sequential(*layers)
    try:
        result = summary(model, (1, length))
    except ShapeError:
        assume(False)  # a window larger than its input: not this test's subject
    field = receptive_fields(model, (1, length))[""]
    exact = not any(r.dropped_inputs for r in result.rows)
    x = torch.ones(1, 1, length, requires_grad=True)
    out = model(x)
    for unit in range(out.shape[-1]):
        (grad,) = torch.autograd.grad(out[0, 0, unit], x, retain_graph=True)
        support = grad[0, 0].nonzero()[:, 0]
        if support.numel() == 0:
            continue  # a dilated window whose taps all fall on padding
        first, last = field.span((unit,))[0]
        low, high = int(support.min()), int(support.max())
        assert first <= low
        assert high <= last
        # The ends of a field are taps of the composed kernel; clipped ends may fall
        # between the taps of a dilated one.
        if exact and first >= 0:
            assert low == first
        if exact and last < length:
            assert high == last


def test_span_takes_one_index_per_axis_or_one_int():
    field = ReceptiveField((212, 212), (32, 32), (90, 90))  # VGG-16's pool5
    # unit u sees u·32 − 90 … u·32 − 90 + 211
    assert field.span(6) == field.span((6, 6)) == ((6 * 32 - 90, 6 * 32 - 90 + 211),) * 2
    assert field.span((0, 1)) == ((-90, 121), (-58, 153))
    with pytest.raises(ConfigError, match=r"unit \(1, 2, 3\) has 3 axes but the field has 2"):
        field.span((1, 2, 3))


def test_a_bad_input_names_the_layer_as_the_summary_does():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 8, 7))
    with pytest.raises(ShapeError) as from_fields:
        receptive_fields(model, (3, 6, 6))
    with pytest.raises(ShapeError) as from_summary:
        summary(model, (3, 6, 6))
    # 6 − 3 + 1 = 4 rows reach the 7x7 convolution
    assert str(from_fields.value) == str(from_summary.value) == (
        "2 (Conv2d k=7 s=1): the window (7) is larger than the padded input (4): "
        "(4 − 7 + 2·0)/1 + 1 = -2; use a smaller kernel or more padding")
