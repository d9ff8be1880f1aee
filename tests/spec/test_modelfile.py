"""Model files: a folder with the spec (or zoo name), safetensors weights and meta.json."""

import json

import pytest
import torch

import striate
from striate.spec.build import build
from striate.spec.errors import SpecError
from striate.spec.modelfile import ModelFileError, load, save

SPEC = ("name: tiny\ninput: [1, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3, act: relu}\n"
        "  - batchnorm\n  - flatten\n  - dense: 3\n")


@pytest.fixture
def model():
    torch.manual_seed(0)
    m = build(SPEC)
    m.train()
    m(torch.rand(4, 1, 8, 8))  # moves the batch-norm running statistics off their defaults
    return m


def test_save_and_load_give_the_same_outputs_and_metadata(tmp_path, model):
    path = save(model, tmp_path / "tiny", classes=["a", "b", "c"],
                normalization=([0.5], [0.25]), metadata={"dataset": "digits"})
    assert sorted(p.name for p in path.iterdir()) == ["meta.json", "spec.yaml",
                                                      "weights.safetensors"]
    loaded = load(path)
    model.eval()
    x = torch.rand(2, 1, 8, 8)
    torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)
    meta = loaded.striate_meta
    assert meta["classes"] == ["a", "b", "c"]
    assert meta["normalization"] == {"mean": [0.5], "std": [0.25]}
    assert meta["input_shape"] == (1, 8, 8)
    assert meta["striate_version"] == striate.__version__
    assert meta["metadata"] == {"dataset": "digits"}
    assert not loaded.training
    assert striate.load is load
    assert striate.save is save


def test_no_overwrite_without_force_and_atomic_replace(tmp_path, model):
    path = save(model, tmp_path / "m")
    with pytest.raises(ModelFileError, match="exists; pass force=True"):
        save(model, path)
    save(model, path, force=True, classes=["x", "y", "z"])
    assert load(path).striate_meta["classes"] == ["x", "y", "z"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no temp or old folders left
    other = tmp_path / "not_a_model"
    other.mkdir()
    (other / "precious.txt").write_text("keep me")
    with pytest.raises(ModelFileError, match="not a striate model folder"):
        save(model, other, force=True)
    assert (other / "precious.txt").read_text() == "keep me"


def test_zoo_models_are_saved_by_name(tmp_path):
    zoo = pytest.importorskip("striate.zoo")
    torch.manual_seed(0)
    model = zoo.create("lenet5")
    path = save(model, tmp_path / "lenet")
    arch = json.loads((path / "architecture.json").read_text())
    assert arch == {"zoo": "lenet5", "options": model.zoo_config["options"]}
    loaded = load(path)
    x = torch.rand(2, *model.default_input_shape)
    model.eval()
    torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)
    arch["options"]["num_classes"] = 2_000_000_000  # 84·2e9 weights: refused on meta first
    (path / "architecture.json").write_text(json.dumps(arch))
    with pytest.raises(ModelFileError, match="refusing to allocate"):
        load(path)
    arch["options"]["num_classes"] = model.zoo_config["options"]["num_classes"]
    (path / "architecture.json").write_text(json.dumps(arch))
    on_meta = load(path, device="meta")
    assert all(p.is_meta for p in on_meta.parameters())
    from striate.cli import main

    assert main(["check", str(path)]) == 0


def test_a_sequential_of_striate_layers_loads_back(tmp_path):
    # save wrote the Sequential's own tensor names (0.weight) and load, which builds the
    # spec (conv1.weight), refused the folder it had just written
    from striate.layers import BatchNorm2d, Conv2d, Dense, Flatten, ReLU

    torch.manual_seed(0)
    seq = torch.nn.Sequential(Conv2d(1, 4, 3), BatchNorm2d(4), ReLU(), Flatten(), Dense(3, 144))
    seq.train()
    seq(torch.rand(4, 1, 8, 8))  # running statistics off their defaults
    path = save(seq, tmp_path / "seq", input_shape=(1, 8, 8))
    loaded = load(path)
    x = torch.rand(2, 1, 8, 8)
    torch.testing.assert_close(loaded(x), seq.eval()(x), rtol=0, atol=0)


def test_class_names_must_match_the_outputs(tmp_path, model):
    with pytest.raises(ModelFileError, match=r"^2 class names for a model with 3 outputs; give "
                                             r"one name per output, in output order$"):
        save(model, tmp_path / "m", classes=["a", "b"])
    assert not (tmp_path / "m").exists()
    zoo = pytest.importorskip("striate.zoo")
    with torch.device("meta"):
        lenet = zoo.create("lenet5", num_classes=4)
    with pytest.raises(ModelFileError, match="3 class names for a model with 4 outputs"):
        save(lenet, tmp_path / "z", classes=["a", "b", "c"])
    # one binary score (DeepBind-style) is named by its two classes
    binary = build("input: [4, 20]\nlayers:\n  - conv: {out: 2, kernel: 5}\n  - flatten\n"
                   "  - dense: 1\n")
    assert load(save(binary, tmp_path / "b", classes=["background", "motif"])
                ).striate_meta["classes"] == ["background", "motif"]


def test_a_model_that_is_neither_spec_nor_zoo_is_refused(tmp_path):
    with pytest.raises(ModelFileError, match="neither built from a spec nor a zoo model"):
        save(torch.nn.Sequential(torch.nn.Linear(2, 2)), tmp_path / "x", input_shape=(2,))


def test_weights_that_do_not_match_are_refused(tmp_path, model):
    path = save(model, tmp_path / "m")
    (path / "spec.yaml").write_text(SPEC.replace("dense: 3", "dense: 5"))
    with pytest.raises(ModelFileError, match="has shape"):
        load(path)
    (path / "weights.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(ModelFileError):
        load(path)


def test_oversized_or_foreign_files_are_refused(tmp_path, model):
    path = save(model, tmp_path / "m")
    with open(path / "weights.safetensors", "ab") as f:
        f.truncate(20_000_000)  # far more bytes than the spec's weights
    with pytest.raises(ModelFileError, match="does not belong to it"):
        load(path)
    (path / "meta.json").write_text(json.dumps({"format": "pickle"}))
    with pytest.raises(ModelFileError, match="not a striate model"):
        load(path)
    (path / "meta.json").write_text("[" * 500_000 + "]" * 500_000)
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load(path)
    (path / "meta.json").write_text("x" * 2_000_000)
    with pytest.raises(ModelFileError, match="the limit is"):
        load(path)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelFileError, match=r"empty is a folder but not a striate model folder "
                                             r"\(no meta.json\)"):
        load(tmp_path / "empty")


def test_a_broken_spec_in_a_model_file_is_a_spec_error(tmp_path, model):
    path = save(model, tmp_path / "m")
    (path / "spec.yaml").write_text(SPEC.replace("kernel: 3", "kernal: 3"))
    with pytest.raises(SpecError, match="did you mean kernel"):
        load(path)


def test_wrapped_models_are_saved_as_the_model_inside(tmp_path, model):
    path = save(torch.nn.DataParallel(model), tmp_path / "m")
    loaded = load(path)
    assert set(loaded.state_dict()) == set(model.state_dict())
