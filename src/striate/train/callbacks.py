"""Hooks into the training loop: the progress bar, TensorBoard, and user callbacks.

A callback subclasses :class:`Callback` and overrides any of its methods; the trainer
calls them in order. ``record`` is the dict that goes to ``metrics.jsonl``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


class Callback:
    """Base class: every hook does nothing."""

    def on_train_start(self, trainer: Any) -> None:
        """Before the first step (also after a resume)."""

    def on_epoch_start(self, trainer: Any, epoch: int) -> None:
        """At the start of each epoch (0-based)."""

    def on_step_end(self, trainer: Any, loss: float, correct: int, seen: int) -> None:
        """After each optimiser step, with the batch's loss and correct predictions."""

    def on_epoch_end(self, trainer: Any, record: dict[str, Any]) -> None:
        """After validation at the end of an epoch."""

    def on_train_end(self, trainer: Any, status: str) -> None:
        """When training stops, however it stops (``status`` says how)."""


class ProgressBar(Callback):
    """A tqdm bar per epoch with the live loss, accuracy and images/s, on stderr."""

    def __init__(self, every: int = 5) -> None:
        self.every = every
        self.bar: Any = None
        self.loss = 0.0
        self.correct = 0
        self.seen = 0

    def on_epoch_start(self, trainer: Any, epoch: int) -> None:
        from tqdm.auto import tqdm

        self.close()
        self.loss, self.correct, self.seen = 0.0, 0, 0
        self.bar = tqdm(total=trainer.steps_per_epoch, initial=trainer.batch_in_epoch,
                        desc=f"epoch {epoch + 1}/{trainer.config.epochs}", unit="step",
                        leave=False, file=sys.stderr, dynamic_ncols=True)

    def on_step_end(self, trainer: Any, loss: float, correct: int, seen: int) -> None:
        if self.bar is None:
            return
        self.loss += loss * seen
        self.correct += correct
        self.seen += seen
        self.bar.update(1)
        if self.bar.n % self.every == 0 or self.bar.n == self.bar.total:
            rate = self.bar.format_dict.get("rate") or 0.0
            self.bar.set_postfix(loss=f"{self.loss / self.seen:.3f}",
                                 acc=f"{100 * self.correct / self.seen:.1f}%",
                                 img_s=f"{rate * trainer.config.batch_size:.0f}",
                                 refresh=False)

    def on_epoch_end(self, trainer: Any, record: dict[str, Any]) -> None:
        self.close()

    def on_train_end(self, trainer: Any, status: str) -> None:
        self.close()

    def close(self) -> None:
        """Close the current bar, if any."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class TensorBoard(Callback):
    """Scalars per epoch in ``RUN/tensorboard`` (only when ``tensorboard`` is installed)."""

    def __init__(self, folder: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(folder))

    def on_epoch_end(self, trainer: Any, record: dict[str, Any]) -> None:
        for key, value in record.items():
            if key not in ("epoch", "step") and isinstance(value, (int, float)):
                self.writer.add_scalar(key, value, record["epoch"])
        self.writer.flush()

    def on_train_end(self, trainer: Any, status: str) -> None:
        self.writer.close()


def tensorboard_available() -> bool:
    """Whether ``torch.utils.tensorboard`` can be imported (needs the tensorboard package)."""
    import importlib.util

    return importlib.util.find_spec("tensorboard") is not None
