"""Learning-rate schedules as pure functions of the global step.

Being a pure function of (step, total steps) is what lets a resumed run land on exactly
the same learning rate as an uninterrupted one: nothing but the step needs saving.
"""

from __future__ import annotations

import math

from striate.train.config import TrainConfig

ONECYCLE_WARMUP = 0.25  # share of the run spent rising, as in Smith & Topin (2019)
ONECYCLE_START = 1 / 25  # initial lr = peak / 25 (Smith & Topin's div_factor)
ONECYCLE_END = 1e-4  # final lr = peak * 1e-4


def lr_factor(config: TrainConfig, step: int, steps_per_epoch: int) -> float:
    """Multiplier of ``config.lr`` for optimiser step ``step`` (0-based).

    - ``constant``: 1 after the warm-up.
    - ``step``: ``gamma ** (epoch // step_size)``.
    - ``cosine``: ``(1 + cos(pi * t)) / 2`` over the steps after the warm-up.
    - ``onecycle``: linear rise from ``1/25`` to 1 over the warm-up (25% of the run unless
      ``warmup_epochs`` is set), then cosine annealing down to ``1e-4``.
    """
    total = max(1, config.epochs * steps_per_epoch)
    warm = round(config.warmup_epochs * steps_per_epoch)
    if config.schedule == "onecycle":
        warm = warm or round(ONECYCLE_WARMUP * total)
        if step < warm:
            return ONECYCLE_START + (1 - ONECYCLE_START) * step / warm
        t = min(1.0, (step - warm) / max(1, total - warm - 1))
        return ONECYCLE_END + (1 - ONECYCLE_END) * (1 + math.cos(math.pi * t)) / 2
    if step < warm:
        return (step + 1) / (warm + 1)
    if config.schedule == "constant":
        return 1.0
    if config.schedule == "step":
        return config.gamma ** ((step // steps_per_epoch) // config.step_size)
    t = min(1.0, (step - warm) / max(1, total - warm))
    return (1 + math.cos(math.pi * t)) / 2
