"""Checkpoints and atomic writes: a damaged file is detected, never half-read."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from striate.fileio import atomic_write_bytes, atomic_write_text
from striate.train.checkpoint import (
    CheckpointError,
    latest_checkpoint,
    list_checkpoints,
    restore,
    save_checkpoint,
)


def _model_and_optimizer():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    opt = torch.optim.AdamW(model.parameters(), lr=0.1, betas=(0.8, 0.9))
    model(torch.randn(5, 4)).sum().backward()
    opt.step()
    return model, opt


def test_round_trip_restores_weights_optimizer_and_rng(tmp_path):
    model, opt = _model_and_optimizer()
    save_checkpoint(tmp_path, 7, model, opt, {"epoch": 1})
    expected_next = torch.rand(3)  # what the global RNG gives right after the save
    twin, twin_opt = _model_and_optimizer()
    with torch.no_grad():
        for p in twin.parameters():
            p.add_(1.0)
    meta, tensors = latest_checkpoint(tmp_path)
    restore(meta, tensors, twin, twin_opt)
    assert meta["state"] == {"epoch": 1}
    for a, b in zip(model.state_dict().values(), twin.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert twin_opt.state_dict()["param_groups"][0]["betas"] == (0.8, 0.9)
    for pid, state in opt.state_dict()["state"].items():
        for key, value in state.items():
            assert torch.equal(torch.as_tensor(value),
                               torch.as_tensor(twin_opt.state_dict()["state"][pid][key]))
    assert torch.equal(torch.rand(3), expected_next)


def test_only_the_newest_checkpoints_are_kept(tmp_path):
    model, opt = _model_and_optimizer()
    for step in (1, 2, 3):
        save_checkpoint(tmp_path, step, model, opt, {}, keep=2)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-00000002.json",
                                                           "step-00000003.json"]
    assert not (tmp_path / "step-00000001.safetensors").exists()


def test_a_truncated_checkpoint_falls_back_to_the_previous_one(tmp_path):
    model, opt = _model_and_optimizer()
    save_checkpoint(tmp_path, 1, model, opt, {"n": 1})
    save_checkpoint(tmp_path, 2, model, opt, {"n": 2})
    newest = tmp_path / "step-00000002.safetensors"
    newest.write_bytes(newest.read_bytes()[:100])
    meta, _ = latest_checkpoint(tmp_path)
    assert meta["state"] == {"n": 1}
    (tmp_path / "step-00000001.safetensors").unlink()
    with pytest.raises(CheckpointError, match=r"step-00000002.json: tensor file is 100 bytes "
                                              r"and does not match its record"):
        latest_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match=r"no checkpoint to resume from"):
        latest_checkpoint(tmp_path / "empty")


def test_weights_of_another_model_are_refused(tmp_path):
    model, opt = _model_and_optimizer()
    save_checkpoint(tmp_path, 1, model, opt, {})
    meta, tensors = latest_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match=r"checkpoint weights do not fit this model"):
        restore(meta, tensors, nn.Linear(4, 2), None)


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "f.txt"
    atomic_write_text(target, "old")

    def failing(tmp):
        tmp.write_text("half")
        raise OSError("disk full")

    from striate.fileio import atomic_write

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, failing)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]  # no temporary left behind
    atomic_write_bytes(target, b"new")
    assert target.read_text() == "new"
