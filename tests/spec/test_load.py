"""load_spec: the format's forms, and every mistake reported with its line and column."""

import pytest

from striate.layers.errors import StriateError
from striate.spec.errors import SpecError
from striate.spec.load import load_spec


def problems(text):
    with pytest.raises(SpecError) as info:
        load_spec(text)
    return [(p.line, p.column, p.message) for p in info.value.problems]


def test_entry_forms_are_equivalent():
    forms = [
        "  - dense: {out: 10, act: relu}\n",
        "  - dense: 10\n    act: relu\n",
        "  - {type: dense, out_features: 10, act: relu}\n",
    ]
    shapes = set()
    for form in forms:
        spec = load_spec("input: [5]\nlayers:\n" + form)
        shapes.add(tuple((n.name, n.out_shape) for n in spec.plan.nodes))
        assert spec.params == 5 * 10 + 10
    assert shapes == {(("dense1", (10,)), ("dense1_relu", (10,)))}


def test_json_is_accepted():
    spec = load_spec('{"input": [1, 8, 8], "layers": [{"conv": {"out": 2, "kernel": 3}}, '
                     '"flatten", {"dense": 3}]}')
    # (8 - 3)/1 + 1 = 6 -> 2·6·6 = 72 features
    assert spec.params == (9 * 2 + 2) + (72 * 3 + 3)


def test_unknown_option_suggests_the_right_name_at_its_position():
    text = "input: [1, 28, 28]\nlayers:\n  - conv: {out: 32, kernal: 5}\n"
    [(line, col, msg)] = problems(text)
    assert (line, col) == (3, 21)
    assert "unknown option 'kernal'; did you mean kernel?" in msg


def test_unknown_type_suggests():
    [(line, col, msg)] = problems("input: [3, 8, 8]\nlayers:\n  - flaten\n")
    assert (line, col) == (3, 5)
    assert "unknown layer type 'flaten'; did you mean flatten?" in msg


@pytest.mark.parametrize(("shape", "fix"), [("[28, 28, 1]", "[1, 28, 28]"),
                                           ("[101, 4]", "[4, 101]")])
def test_a_channels_last_input_gets_a_hint(shape, fix):
    # [H, W, C] only shows up as a window that does not fit; the message says why
    layer = "{out: 8, kernel: 3}" if "28" in shape else "{out: 8, kernel: 24}"
    [(line, _, msg)] = problems(f"input: {shape}\nlayers:\n  - conv: {layer}\n")
    assert line == 3
    assert "is larger than the padded input" in msg
    assert msg.endswith(f"; shapes are channels first: did you mean `input: {fix}`?")
    # a channels-first input with the same mistake gets no such hint
    [(_, _, msg)] = problems("input: [3, 2, 2]\nlayers:\n  - conv: {out: 8, kernel: 3}\n")
    assert "channels first" not in msg


def test_every_problem_is_reported_at_once():
    text = ("input: [1, 28, 28]\n"           # 1
            "layers:\n"                      # 2
            "  - conv: {out: 0, kernel: 3}\n"  # 3: zero size
            "  - pool: {kind: maks}\n"         # 4: unknown kind
            "  - dropout: 'half'\n"            # 5: wrong type
            "  - dense: {out: 4, from: later}\n"  # 6: from a later layer
            "  - dense: {out: 2, name: later}\n"
            "  - blah\n")                       # 8: unknown type
    found = problems(text)
    lines = [p[0] for p in found]
    assert lines == sorted(lines)
    assert {3, 4, 5, 6, 8} <= set(lines)
    text_all = "\n".join(m for _, _, m in found)
    assert "out: expected a positive integer" in text_all
    assert "pool kind 'maks' is unknown; did you mean max?" in text_all
    assert "p: expected a number, got 'half'" in text_all
    assert "names a layer that comes later" in text_all
    assert "unknown layer type 'blah'" in text_all


def test_error_message_lists_one_located_line_per_problem(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text("input: [1, 8, 8]\nlayers:\n  - conv: {out: -1, kernel: 3}\n  - bogus\n")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    lines = str(info.value).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{path}:3:")
    assert lines[1].startswith(f"{path}:4:5: unknown layer type 'bogus'")
    assert isinstance(info.value, StriateError)


def test_shape_error_carries_the_formula_and_the_line():
    text = "input: [1, 7, 7]\nlayers:\n  - flatten\n  - conv: {out: 4, kernel: 3}\n"
    [(line, _, msg)] = problems(text)
    assert line == 4
    assert "conv needs a (C, L) or (C, H, W) input" in msg
    text = "input: [1, 7, 7]\nlayers:\n  - dense: 3\n  - conv: {out: 4, kernel: 9}\n"
    found = problems(text)
    assert found[0][0] == 3
    assert "add `- flatten` before it" in found[0][2]
    text = "input: [1, 7, 7]\nlayers:\n  - conv: {out: 4, kernel: 9}\n"
    [(line, _, msg)] = problems(text)
    # (W − K + 2P)/S + 1 = (7 − 9 + 0)/1 + 1 = −1: the window is larger than the input
    assert line == 3
    assert "(7 − 9 + 2·0)/1 + 1 = -1" in msg
    assert msg.startswith("conv1 (Conv2d)")


def test_merge_of_incompatible_shapes_is_located():
    text = ("input: [3, 8, 8]\nlayers:\n"
            "  - conv: {out: 4, kernel: 3, padding: 1, name: a}\n"
            "  - conv: {out: 5, kernel: 3, padding: 1, name: b, from: input}\n"
            "  - add: [a, b]\n")
    [(line, col, msg)] = problems(text)
    assert (line, col) == (5, 5)
    assert msg.startswith("add1 (Add):")
    assert "(4, 8, 8)" in msg
    assert "(5, 8, 8)" in msg


def test_from_unknown_name_suggests_and_duplicates_are_refused():
    text = ("input: [4]\nlayers:\n  - dense: {out: 3, name: head}\n"
            "  - dense: {out: 2, from: haed}\n  - dense: {out: 2, name: head}\n")
    msgs = [m for _, _, m in problems(text)]
    assert any("`from: haed` names no layer; did you mean head?" in m for m in msgs)
    assert any("the name 'head' is used twice" in m for m in msgs)


def test_a_folder_name_is_not_read_as_spec_text(tmp_path, monkeypatch):
    # "model" (a folder, no extension) was parsed as the YAML string 'model'
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model").mkdir()
    with pytest.raises(SpecError, match=r"^model is a folder; a spec is a .yaml or .json file "
                                        r"\(for a model folder use striate.load\)$"):
        load_spec("model")


def test_top_level_mistakes():
    msgs = [m for _, _, m in problems("inputs: [1, 2]\nlayer: []\n")]
    assert any("unknown top-level key 'inputs'; did you mean input" in m for m in msgs)
    assert any("missing `input:`" in m for m in msgs)
    msgs = [m for _, _, m in problems("input: [0, -2]\nlayers: [flatten]\n")]
    assert any("`input:` must be 1 to 3 positive sizes" in m for m in msgs)


@pytest.mark.parametrize(("text", "needle"), [
    ("input: [1]\nlayers: [flatten]\nx: &a [1]\ny: *a\n", "anchors and aliases"),
    ("input: [1]\nlayers: [flatten]\ninput: [2]\n", "duplicate key 'input'"),
    ("input: [1\n", "not valid YAML"),
    ("[" * 5000 + "]" * 5000, "nesting deeper than"),
    ("", "the spec is empty"),
    ("- 1\n- 2\n", "a spec is a mapping"),
    ("input: [1]\nlayers:\n  - dense: {out: 99999999999999999999}\n", "absurdly large"),
    ("input: [1]\nlayers:\n  - dense: {out: 3, repeat: 100000}\n", "repeat must be"),
    ("input: [1]\nlayers:\n  - dense: 3\n    conv: 3\n", "two layer types"),
    ("version: 2\ninput: [1]\nlayers: [relu]\n", "version 2 is not a spec version"),
    ("input: [1]\nlayers:\n  - dense: !!python/object:os.system ls\n", "not valid YAML"),
])
def test_malformed_specs_raise_spec_errors(text, needle):
    with pytest.raises(SpecError) as info:
        load_spec(text)
    assert needle in str(info.value)


def test_size_bound(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("input: [1]\nlayers:\n" + "  - relu\n" * 200_000)
    with pytest.raises(SpecError, match="the limit is 1,000,000"):
        load_spec(big)


def test_inline_activation_and_repeat_names():
    spec = load_spec("input: [3, 16, 16]\nlayers:\n"
                     "  - conv: {out: 8, kernel: 3, padding: same, act: relu, repeat: 2}\n"
                     "  - conv: {out: 8, kernel: 3, stride: 2, padding: 1, name: down, "
                     "repeat: 2}\n")
    names = [n.name for n in spec.plan.nodes]
    assert names == ["conv1", "conv1_relu", "conv2", "conv2_relu", "down_1", "down_2"]
    shapes = {n.name: n.out_shape for n in spec.plan.nodes}
    # a repeated entry's stride applies to its first copy only:
    # floor((16 − 3 + 2)/2) + 1 = 8, then (8 − 3 + 2)/1 + 1 = 8
    assert shapes["down_1"] == (8, 8, 8)
    assert shapes["down_2"] == (8, 8, 8)


def test_networks_with_absurdly_many_modules_are_refused():
    # 1,000 bottlenecks of about 10 modules each pass the 10,000-module budget
    [(line, _, msg)] = problems("input: [3, 8, 8]\nlayers:\n"
                                "  - bottleneck: {mid: 1, repeat: 1000}\n")
    assert line == 3
    assert "more than 10,000" in msg
    msgs = [m for _, _, m in problems("input: [3, 8, 8]\nlayers:\n"
                                      "  - dense_block: {layers: 100000, growth: 2}\n")]
    assert msgs == ["dense_block: layers: 100000 is too large; the limit is 1,000"]


@pytest.mark.parametrize(("layers", "needle"), [
    ("  - add\n", "add merges several inputs but receives one"),
    ("  - unpool: {kernel: 2}\n", "unpooling needs `from: [x, pool]`"),
    ("  - pool: {kind: max, kernel: 2, name: p}\n  - unpool: {kernel: 2, from: [p, p]}\n",
     "`return_indices: true`"),
])
def test_merges_and_unpooling_need_their_inputs(layers, needle):
    [(_, _, msg)] = problems("input: [3, 8, 8]\nlayers:\n" + layers)
    assert needle in msg
