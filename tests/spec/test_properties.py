"""Property-based tests: inferred shapes equal real ones; malformed specs only ever raise
SpecError (never another exception, never a hang)."""

import json
from pathlib import Path

import pytest
import torch
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from striate.layers.errors import ConfigError
from striate.spec.build import build
from striate.spec.errors import SpecError
from striate.spec.load import load_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FAST = settings(max_examples=40, deadline=3000,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def out_size(w, k, s, p, d=1):
    """The notes' formula with dilation, rounded down as PyTorch does."""
    return (w + 2 * p - d * (k - 1) - 1) // s + 1


@st.composite
def chains(draw):
    """A valid chain of conv/pool layers then flatten and dense; returns (spec text, shape)."""
    rank = draw(st.sampled_from([2, 3]))
    channels = draw(st.integers(1, 4))
    size = draw(st.integers(6, 24))
    shape = (channels, size) if rank == 2 else (channels, size, size)
    lines = [f"input: {list(shape)}", "layers:"]
    c, w = channels, size
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            k = draw(st.integers(1, 5))
            d = draw(st.integers(1, 2))
            p = draw(st.integers(0, 2))
            s = draw(st.integers(1, 3))
            if d * (k - 1) + 1 > w + 2 * p:
                continue
            c = draw(st.integers(1, 6))
            act = draw(st.sampled_from(["", ", act: relu", ", act: tanh"]))
            lines.append(f"  - conv: {{out: {c}, kernel: {k}, stride: {s}, padding: {p}, "
                         f"dilation: {d}{act}}}")
            w = out_size(w, k, s, p, d)
        else:
            k = draw(st.integers(1, 3))
            s = draw(st.integers(1, 3))
            if k > w:
                continue
            kind = draw(st.sampled_from(["max", "avg"]))
            lines.append(f"  - pool: {{kind: {kind}, kernel: {k}, stride: {s}}}")
            w = out_size(w, k, s, 0)
    lines.append("  - flatten")
    features = c * w ** (rank - 1)
    out = draw(st.integers(1, 5))
    lines.append(f"  - dense: {out}")
    return "\n".join(lines) + "\n", (out,), features


@FAST
@given(chains())
def test_inferred_shapes_equal_real_shapes(case):
    text, expected, features = case
    spec = load_spec(text)
    assert spec.output_shape == expected
    flat = next(n for n in spec.plan.nodes if n.name.startswith("flatten"))
    assert flat.out_shape == (features,)
    model = build(spec).eval()
    x = torch.rand(2, *spec.input_shape)
    env = {"input": x}
    with torch.no_grad():
        for node in spec.plan.nodes:
            env[node.name] = model[node.name](*(env[r] for r in node.inputs))
            assert tuple(env[node.name].shape[1:]) == node.out_shape, node.name


def must_be_spec_error_or_valid(text):
    """load_spec either gives a spec that builds, or raises SpecError with located lines;
    any other exception fails the test."""
    error = None
    try:
        spec = load_spec(text)
    except SpecError as err:
        error = err
    if error is not None:
        assert error.problems
        assert all("\n" not in p.message for p in error.problems)
        return None
    build(spec, device="meta")
    return spec


@settings(max_examples=60, deadline=2000)
@given(st.binary(max_size=300))
def test_random_bytes(data):
    must_be_spec_error_or_valid(data)


scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                    st.floats(allow_nan=True), st.text(max_size=8),
                    st.sampled_from(["relu", "conv", "same", "valid", "max", "input"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=20)


@FAST
@given(values)
def test_random_documents(data):
    must_be_spec_error_or_valid(json.dumps(data) if data == data else "x")


type_names = st.sampled_from(["conv", "pool", "dense", "flatten", "dropout", "relu", "add",
                              "concat", "batchnorm", "residual", "bottleneck", "dense_block",
                              "transition", "fire", "inception", "unpool", "crop", "deconv",
                              "separable", "lrn", "maxout", "softmax", "kernal"])
option_names = st.sampled_from(["out", "kernel", "stride", "padding", "dilation", "p", "kind",
                                "from", "name", "repeat", "act", "bias", "groups", "mid",
                                "layers", "growth", "squeeze", "c1", "dim", "offset"])
entries = st.one_of(type_names, st.dictionaries(
    type_names, st.one_of(scalars, st.dictionaries(option_names, values, max_size=4)),
    min_size=1, max_size=2))


@FAST
@given(st.lists(st.integers(-2, 40), min_size=0, max_size=4), st.lists(entries, max_size=6))
def test_random_layer_lists(shape, layers):
    text = yaml.safe_dump({"input": shape, "layers": layers})
    must_be_spec_error_or_valid(text)


@FAST
@given(st.data())
def test_mutated_examples(data):
    path = data.draw(st.sampled_from(sorted(EXAMPLES.glob("*.yaml"))))
    text = path.read_text()
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 6)))
        text = text[:i] + data.draw(st.sampled_from(
            ["", "0", "-1", "9" * 12, "[", "]", "{", ":", "x", "\n  - ", "  ", "'", "&a", "*a",
             "conv", "from: input", "repeat: 999"])) + text[j:]
    must_be_spec_error_or_valid(text)


def test_deep_nesting_and_huge_sizes_do_not_hang():
    deep = "input: [1]\nlayers:\n  - dense: " + "[" * 100_000 + "]" * 100_000 + "\n"
    assert must_be_spec_error_or_valid(deep) is None
    # 4 M x 4 M weights would need 64 TB: refused before anything is allocated
    huge = "input: [4000000]\nlayers:\n  - dense: 4000000\n"
    spec = load_spec(huge)
    assert spec.params == 4_000_000 * 4_000_000 + 4_000_000
    with pytest.raises(ConfigError, match="max_params"):
        build(spec)
    assert sum(p.numel() for p in build(spec, device="meta").parameters()) == spec.params


BLOCKS = {
    "residual": lambda d: {"out": d(st.sampled_from([4, 8])), "stride": d(st.integers(1, 2))},
    "bottleneck": lambda d: {"mid": d(st.sampled_from([2, 4])), "stride": d(st.integers(1, 2))},
    "dense_block": lambda d: {"layers": d(st.integers(1, 2)), "growth": 4},
    "transition": lambda d: {"out": d(st.integers(1, 6))},
    "fire": lambda d: {"squeeze": 2, "expand1x1": d(st.integers(1, 4)), "expand3x3": 4},
    "inception": lambda d: {"c1": 2, "c3_reduce": 2, "c3": 3, "c5_reduce": 2, "c5": 2,
                            "pool_proj": d(st.integers(1, 3))},
    "separable": lambda d: {"out": d(st.integers(1, 6)), "kernel": 3, "padding": 1},
    "deconv": lambda d: {"out": d(st.integers(1, 4)), "kernel": d(st.integers(1, 3)),
                         "stride": d(st.integers(1, 2))},
}


@settings(max_examples=10, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_blocks_and_merges_infer_real_shapes(data):
    """Random chains of blocks, with a skip merged by add or concat: inferred == real."""
    draw = data.draw
    lines = ["input: [3, 8, 8]", "layers:", "  - conv: {out: 4, kernel: 3, padding: 1, "
             "name: stem}"]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(sorted(BLOCKS)))
        opts = ", ".join(f"{k}: {v}" for k, v in BLOCKS[kind](draw).items())
        lines.append(f"  - {kind}: {{{opts}}}")
    merge = draw(st.sampled_from(["add", "concat"]))
    lines.append("  - conv: {out: 4, kernel: 1, name: side, from: stem}")
    lines.append(f"  - {merge}: [stem, side]")
    spec = load_spec("\n".join(lines) + "\n")
    model = build(spec).eval()
    env = {"input": torch.rand(2, 3, 8, 8)}
    with torch.no_grad():
        for node in spec.plan.nodes:
            env[node.name] = model[node.name](*(env[r] for r in node.inputs))
            assert tuple(env[node.name].shape[1:]) == node.out_shape, node.name
        assert tuple(model(env["input"]).shape[1:]) == spec.output_shape
