"""Learning-rate schedules, checked against their closed forms."""

from __future__ import annotations

import itertools
import math

import pytest

from striate.train.config import TrainConfig
from striate.train.schedule import ONECYCLE_END, ONECYCLE_START, lr_factor


def test_onecycle_rises_for_a_quarter_then_anneals():
    cfg = TrainConfig(epochs=4, schedule="onecycle")  # 4 epochs x 25 steps = 100 steps
    f = [lr_factor(cfg, s, 25) for s in range(100)]
    assert f[0] == pytest.approx(1 / 25)  # Smith & Topin: start at peak / div_factor(25)
    assert max(f) == pytest.approx(1.0)
    assert f.index(max(f)) == 25  # the peak after 25% of the steps
    assert f[-1] == pytest.approx(ONECYCLE_END)
    assert f[10] == pytest.approx(ONECYCLE_START + (1 - ONECYCLE_START) * 10 / 25)
    assert all(a >= b for a, b in itertools.pairwise(f[25:]))


def test_step_decays_by_gamma_every_step_size_epochs():
    cfg = TrainConfig(epochs=9, schedule="step", step_size=3, gamma=0.1)
    assert [lr_factor(cfg, e * 10, 10) for e in range(9)] == pytest.approx(
        [1, 1, 1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01])


def test_cosine_with_warmup():
    cfg = TrainConfig(epochs=10, schedule="cosine", warmup_epochs=1)
    steps = 10
    assert lr_factor(cfg, 0, steps) == pytest.approx(1 / 11)  # linear warm-up over 10 steps
    assert lr_factor(cfg, 10, steps) == pytest.approx(1.0)
    mid = 10 + 45  # half way through the 90 cosine steps
    assert lr_factor(cfg, mid, steps) == pytest.approx((1 + math.cos(math.pi / 2)) / 2)


def test_constant():
    cfg = TrainConfig(schedule="constant")
    assert {lr_factor(cfg, s, 7) for s in range(70)} == {1.0}
