"""The training loop: deterministic, resumable to the identical result, and fast on a CPU.

Determinism comes from deriving every random choice from ``(seed, epoch, batch)``: the
shuffle of each epoch and the augmentation of each batch use fresh generators seeded from
those numbers, the learning rate is a pure function of the step, and the global RNG (used
by dropout) is saved in every checkpoint. A resumed run therefore replays exactly the
steps the interrupted one would have taken.
"""

from __future__ import annotations

import contextlib
import copy
import math
import signal
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from striate.layers.errors import ShapeError, StriateError
from striate.train import checkpoint as ckpt
from striate.train.augment import rotate_and_scale
from striate.train.callbacks import Callback, ProgressBar, TensorBoard, tensorboard_available
from striate.train.config import TrainConfig
from striate.train.evaluate import evaluate
from striate.train.metrics import Metrics
from striate.train.prepare import (
    Labelled,
    Preprocess,
    as_labelled,
    channel_stats,
    check_labelled,
    fit_input,
    split_validation,
)
from striate.train.run import (
    CONFIG,
    RUN_FORMAT,
    Run,
    RunError,
    describe_model,
    prepare_folder,
    read_json,
    resume_config,
    save_model,
    write_json,
    write_metrics,
)
from striate.train.schedule import lr_factor
from striate.train.setup import (
    build_optimizer,
    default_threads,
    epoch_order,
    mix_seed,
    resolve_device,
    resolve_precision,
)


class DivergedError(StriateError):
    """The loss became NaN or infinite."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training; a checkpoint was saved first (when the run has a folder)."""


class Trainer:
    """Trains a classifier; see :func:`fit` for the one-call form.

    Args:
        model: any ``nn.Module`` mapping a batch ``(N, *input_shape)`` to logits
            ``(N, classes)``.
        config: the training options (defaults: the demo's recipe).
        out: the run folder; None keeps everything in memory (no checkpoints).
        resume: continue the run in ``out`` from its newest checkpoint.
        force: allow ``out`` to be a non-empty folder that is not resumed.
        callbacks: extra hooks (a progress bar is added when ``config.progress``).
        input_shape: the model's per-sample input; default ``model.default_input_shape``
            or the data's. Smaller samples are zero-padded to it (28x28 digits → 32x32).
        model_info: JSON-able description of where the model came from (stored in the run).
        extra: more JSON-able facts for the run's ``config.json`` (e.g. ``data_root``).
    """

    def __init__(self, model: nn.Module, config: TrainConfig | None = None, *,
                 out: str | Path | None = None, resume: bool = False, force: bool = False,
                 callbacks: Sequence[Callback] = (), input_shape: Sequence[int] | None = None,
                 model_info: dict[str, Any] | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        self.model = model
        self.out = Path(out) if out is not None else None
        self.resume = resume
        self.saved: dict[str, Any] | None = None
        if resume:
            if self.out is None:
                raise RunError("resume needs the run folder; pass out=").at("--resume")
            prepare_folder(self.out, resume=True)
            self.saved = read_json(self.out / CONFIG, "run configuration")
            config = resume_config(self.saved, config)
        elif self.out is not None:
            prepare_folder(self.out, force=force)
        self.config = config or TrainConfig()
        self.callbacks = list(callbacks)
        if self.config.progress:
            self.callbacks.insert(0, ProgressBar())
        self.input_shape = tuple(input_shape) if input_shape else getattr(
            model, "default_input_shape", None)
        self.model_info = model_info or describe_model(model)
        self.extra = dict(extra or {})
        self.device = resolve_device(self.config.device)
        self.amp_dtype = resolve_precision(self.config.precision, self.device)
        self.steps_per_epoch = 0
        self.batch_in_epoch = 0
        self.epoch = 0
        self.step = 0
        self.history: list[dict[str, Any]] = []
        self.sums: dict[str, Any] = {"loss": 0.0, "correct": 0, "seen": 0}
        self.lr = self.config.lr
        self.data_name = ""
        self.ema_model: nn.Module | None = None
        self._stop_requested = False
        self.warp = False

    # -- setup ---------------------------------------------------------------------------
    def _prepare(self, data: Any, val_data: Any) -> tuple[Labelled, Labelled | None]:
        cfg = self.config
        train = as_labelled(data)
        if val_data is not None:
            val = check_labelled(as_labelled(val_data, classes=train.classes))
        else:
            train, val = split_validation(train, cfg.val_fraction, cfg.seed)
        raw_shape = tuple(int(s) for s in train.x.shape[1:])
        want = self.input_shape
        if self.saved is not None:
            self.preprocess = Preprocess.from_dict(self.saved["preprocess"])
            if tuple(self.preprocess.raw_shape) != raw_shape:
                raise ShapeError(f"{train.name}: samples are {raw_shape} but the run was "
                                 f"trained on {tuple(self.preprocess.raw_shape)}; resume with "
                                 "the same data").at("--resume")
        else:
            shape = fit_input(raw_shape, want, train.name)
            self.preprocess = Preprocess(raw_shape, shape)
            self.preprocess.mean, self.preprocess.std = channel_stats(train, self.preprocess)
        self.classes = list(train.classes)
        self.data_name = train.name
        self._check_outputs(train.name)
        return train, val

    def _check_outputs(self, name: str) -> None:
        probe = torch.zeros((2, *self.preprocess.input_shape), device=self.device)
        was = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                out = self.model(probe)
        except (RuntimeError, StriateError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ShapeError(f"{name}: the model cannot take inputs "
                             f"{tuple(self.preprocess.input_shape)} ({first}); build it for "
                             "this data's shape") from None
        finally:
            self.model.train(was)
        if not torch.is_tensor(out) or out.ndim != 2 or out.shape[1] != len(self.classes):
            got = tuple(out.shape[1:]) if torch.is_tensor(out) else type(out).__name__
            raise ShapeError(f"{name}: the model outputs {got} per sample but the data has "
                             f"{len(self.classes)} classes; build it with "
                             f"num_classes={len(self.classes)}")
        if self.saved is None:
            # a model ending in softmax (the Keras examples) gives probabilities, not logits
            sums = out.float().sum(dim=1)
            is_probs = bool((out >= 0).all()) and bool(torch.allclose(
                sums, torch.ones_like(sums), atol=1e-4))
            self.preprocess.outputs = "probs" if is_probs else "logits"

    def _write_config(self, data_name: str, n_train: int, n_val: int) -> None:
        from striate import __version__

        write_json(self.out / CONFIG, {
            **self.extra, "format": RUN_FORMAT, "striate": __version__, "torch": torch.__version__,
            "data": data_name, "classes": self.classes, "n_train": n_train, "n_val": n_val,
            "preprocess": self.preprocess.to_dict(), "model": self.model_info,
            "train": self.config.to_dict()})

    # -- the loop ------------------------------------------------------------------------
    def fit(self, data: Any, val_data: Any = None, *, stop_after: int | None = None) -> Run:
        """Train on ``data`` (name, ArrayDataset or ``(x, y)``); returns the :class:`Run`.

        Args:
            val_data: a validation set; default ``config.val_fraction`` of ``data``.
            stop_after: stop (without the final save) after this global step, as if the
                process were killed there; for testing resume.

        Raises:
            DivergedError: a NaN/inf loss (the newest checkpoint is from before it).
            TrainingInterrupted: Ctrl-C (after saving a checkpoint).
        """
        cfg = self.config
        if self.device.type == "cpu":
            torch.set_num_threads(cfg.threads or default_threads())
        self.model.to(self.device)
        train, val = self._prepare(data, val_data)
        n = len(train)
        self.steps_per_epoch = math.ceil(n / cfg.batch_size)
        self.channels_last = cfg.channels_last == "on" or (
            cfg.channels_last == "auto" and len(self.preprocess.input_shape) == 3)
        model = self.model.to(self.device)
        if self.channels_last:
            model.to(memory_format=torch.channels_last)
        self.optimizer = build_optimizer(model, cfg)
        self.ema_model = self._make_ema() if cfg.ema else None
        self.scaler = torch.amp.GradScaler("cuda") if self.amp_dtype == torch.float16 else None
        self.best: dict[str, Any] = {"value": None, "epoch": None, "bad_epochs": 0}
        self.best_weights: dict[str, torch.Tensor] | None = None
        train_x = train.x.to(self.device)
        train_y = train.y.to(self.device)
        if self.resume:
            self._restore()
        else:
            torch.manual_seed(cfg.seed)
            if self.out is not None:
                self._write_config(train.name, n, len(val) if val else 0)
                write_metrics(self.out, [])
        if self.out is not None and tensorboard_available():
            self.callbacks.append(TensorBoard(self.out / "tensorboard"))
        from striate.data import Augment

        images = len(self.preprocess.input_shape) == 3
        self.warp = images and bool(cfg.rotate or cfg.scale)
        augment = None
        if len(self.preprocess.input_shape) >= 2:
            # rotation happens in rotate_and_scale, together with the zoom
            augment = Augment(crop_padding=cfg.crop_padding, flip=cfg.flip,
                              jitter=cfg.jitter if images else 0.0)
        status = "finished"
        for cb in self.callbacks:
            cb.on_train_start(self)
        try:
            with self._sigint():
                while self.epoch < cfg.epochs:
                    stopped = self._run_epoch(train_x, train_y, augment, val, stop_after)
                    if stopped == "killed":
                        for cb in self.callbacks:
                            cb.on_train_end(self, "killed")
                        return self._as_run("killed")
                    if stopped == "early":
                        status = "early-stopped"
                        break
        except BaseException as err:
            for cb in self.callbacks:
                cb.on_train_end(self, type(err).__name__)
            raise
        for cb in self.callbacks:
            cb.on_train_end(self, status)
        return self._finish(status)

    def _run_epoch(self, train_x: torch.Tensor, train_y: torch.Tensor, augment: Any,
                   val: Labelled | None, stop_after: int | None) -> str | None:
        cfg = self.config
        epoch = self.epoch
        order = epoch_order(cfg.seed, epoch, train_x.shape[0]).to(self.device)
        for cb in self.callbacks:
            cb.on_epoch_start(self, epoch)
        started = time.perf_counter()
        timed_samples = 0
        self.model.train()
        for batch in range(self.batch_in_epoch, self.steps_per_epoch):
            idx = order[batch * cfg.batch_size:(batch + 1) * cfg.batch_size]
            loss, correct = self._step(train_x[idx], train_y[idx], augment, epoch, batch)
            seen = int(idx.numel())
            self.sums["loss"] += loss * seen
            self.sums["correct"] += correct
            self.sums["seen"] += seen
            timed_samples += seen
            self.batch_in_epoch = batch + 1
            self.step += 1
            for cb in self.callbacks:
                cb.on_step_end(self, loss, correct, seen)
            if stop_after is not None and self.step >= stop_after:
                return "killed"
            if self._stop_requested:
                path = self._checkpoint()
                where = f"; checkpoint saved at step {self.step} in {path.parent}" if path \
                    else ""
                raise TrainingInterrupted(f"training interrupted at step {self.step}{where}; "
                                          "continue with --resume")
            if self.out is not None and self.step % cfg.checkpoint_every == 0 \
                    and self.batch_in_epoch < self.steps_per_epoch:
                self._checkpoint()
        elapsed = time.perf_counter() - started
        record = self._end_epoch(val, timed_samples, elapsed)
        stop = self._early_stop(record)
        self.epoch += 1
        self.batch_in_epoch = 0
        self.sums = {"loss": 0.0, "correct": 0, "seen": 0}
        if self.out is not None:
            write_metrics(self.out, self.history)
            self._checkpoint()
        return "early" if stop else None

    def _step(self, xb: torch.Tensor, yb: torch.Tensor, augment: Any, epoch: int, batch: int
              ) -> tuple[float, int]:
        cfg = self.config
        pre = self.preprocess
        x = pre.scale(xb)
        if self.warp or (augment is not None and augment.enabled):
            gen = torch.Generator().manual_seed(mix_seed(cfg.seed, epoch, batch, 2))
            if self.warp:
                x = rotate_and_scale(x, gen, cfg.rotate, cfg.scale)
            if augment is not None and augment.enabled:
                x = augment(x, generator=gen)
        x = pre.normalize(x)
        if self.channels_last and x.ndim == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        lr = cfg.lr * lr_factor(cfg, self.step, self.steps_per_epoch)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.lr = lr
        with self._autocast():
            logits = self.model(x)
            log_probs = pre.log_probs(logits)
            loss = F.nll_loss(log_probs, yb)
            if cfg.label_smoothing:
                # same as cross_entropy(label_smoothing=e): (1-e)*NLL + e*mean(-log p)
                smooth = -log_probs.mean(dim=1).mean()
                loss = (1 - cfg.label_smoothing) * loss + cfg.label_smoothing * smooth
        value = float(loss.detach())
        if not math.isfinite(value):
            last = ckpt.list_checkpoints(self.out / "checkpoints") if self.out else []
            keep = f"; the last good checkpoint is {last[-1]}" if last else ""
            raise DivergedError(f"loss became {value} at step {self.step + 1} (epoch "
                                   f"{epoch + 1}, lr {lr:.3g}){keep}; lower --lr or set "
                                   "--clip-grad-norm 1.0")
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            if cfg.clip_grad_norm:
                self.scaler.unscale_(self.optimizer)
                nn.utils.clip_grad_norm_(self.model.parameters(), cfg.clip_grad_norm)
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            if cfg.clip_grad_norm:
                nn.utils.clip_grad_norm_(self.model.parameters(), cfg.clip_grad_norm)
            self.optimizer.step()
        if self.ema_model is not None:
            self._update_ema()
        correct = int((logits.detach().argmax(1) == yb).sum())
        return value, correct

    def _make_ema(self) -> nn.Module:
        try:
            ema = copy.deepcopy(self.model).eval()
        except Exception as err:  # a module holding something deepcopy cannot copy
            raise StriateError(f"the weight average needs a copy of the model, and "
                               f"copy.deepcopy failed ({type(err).__name__}: {err}); "
                               "train without it with --ema 0").at("--ema") from None
        for p in ema.parameters():
            p.requires_grad_(False)
        mine, theirs = ema.state_dict(), self.model.state_dict()
        self._ema_float = ([mine[k] for k, v in theirs.items() if v.is_floating_point()],
                           [v for v in theirs.values() if v.is_floating_point()])
        self._ema_other = [(mine[k], v) for k, v in theirs.items() if not v.is_floating_point()]
        return ema

    def _update_ema(self) -> None:
        # the (1 + t)/(10 + t) ramp keeps the first steps from dragging the random init along
        decay = min(self.config.ema, (1 + self.step) / (10 + self.step))
        with torch.no_grad():
            torch._foreach_lerp_(self._ema_float[0], self._ema_float[1], 1.0 - decay)
            for mine, theirs in self._ema_other:
                mine.copy_(theirs)

    @property
    def eval_model(self) -> nn.Module:
        """The model that is validated and kept: the weight average when ``ema`` is on."""
        return self.ema_model if self.ema_model is not None else self.model

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def _end_epoch(self, val: Labelled | None, samples: int, elapsed: float
                   ) -> dict[str, Any]:
        seen = max(1, self.sums["seen"])
        record: dict[str, Any] = {
            "epoch": self.epoch + 1, "step": self.step, "lr": self.lr,
            "train_loss": self.sums["loss"] / seen, "train_acc": self.sums["correct"] / seen,
            "seconds": round(elapsed, 3),
            "images_per_s": round(samples / elapsed, 1) if elapsed > 0 else None}
        if val is not None:
            metrics = self.evaluate(val)
            record.update(val_loss=metrics.loss, val_acc=metrics.top1, val_top5=metrics.top5)
        self.history.append(record)
        for cb in self.callbacks:
            cb.on_epoch_end(self, record)
        return record

    def _early_stop(self, record: dict[str, Any]) -> bool:
        cfg = self.config
        if cfg.monitor not in record:
            return False
        value = record[cfg.monitor]
        sign = 1 if cfg.monitor == "val_loss" else -1
        best = self.best["value"]
        if best is None or sign * value < sign * best:
            self.best.update(value=value, epoch=record["epoch"], bad_epochs=0)
            if cfg.restore_best:
                self.best_weights = {k: v.detach().clone()
                                     for k, v in self.eval_model.state_dict().items()}
                if self.out is not None:
                    ckpt.save_weights(self.out / "checkpoints" / "best.safetensors",
                                      self.eval_model)
            return False
        self.best["bad_epochs"] += 1
        return bool(cfg.early_stopping) and self.best["bad_epochs"] >= cfg.early_stopping

    def evaluate(self, data: Any, split: str = "test") -> Metrics:
        """Metrics of the current model on ``data`` (a name, ArrayDataset, ``(x, y)``)."""
        return evaluate(self.eval_model, data, self.preprocess, split=split,
                        classes=self.classes,
                        batch_size=self.config.eval_batch_size,
                        channels_last=getattr(self, "channels_last", False))

    # -- checkpoints ---------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch, "step": self.step,
                "sums": dict(self.sums), "history": self.history, "best": dict(self.best),
                "lr": self.lr,
                "scaler": self.scaler.state_dict() if self.scaler is not None else None}

    def _checkpoint(self) -> Path | None:
        if self.out is None:
            return None
        extra = None
        if self.ema_model is not None:
            extra = {f"ema.{k}": v for k, v in self.ema_model.state_dict().items()}
        return ckpt.save_checkpoint(self.out / "checkpoints", self.step, self.model,
                                    self.optimizer, self._state(), extra=extra)

    def _restore(self) -> None:
        meta, tensors = ckpt.latest_checkpoint(self.out / "checkpoints")
        ckpt.restore(meta, tensors, self.model, self.optimizer)
        if self.ema_model is not None:
            with torch.no_grad():
                for k, v in self.ema_model.state_dict().items():
                    v.copy_(tensors[f"ema.{k}"])
        state = meta["state"]
        self.epoch, self.batch_in_epoch = state["epoch"], state["batch_in_epoch"]
        self.step, self.sums = state["step"], state["sums"]
        self.history, self.best, self.lr = state["history"], state["best"], state["lr"]
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        best_file = self.out / "checkpoints" / "best.safetensors"
        if self.config.restore_best and best_file.is_file():
            self.best_weights = ckpt.load_weights(best_file)
        write_metrics(self.out, self.history)

    @contextlib.contextmanager
    def _sigint(self) -> Iterator[None]:
        def handler(signum: int, frame: Any) -> None:
            self._stop_requested = True
            # a second Ctrl-C stops at once
            signal.signal(signal.SIGINT, previous)

        try:
            previous = signal.signal(signal.SIGINT, handler)
        except ValueError:  # not the main thread: leave Ctrl-C alone
            yield
            return
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    # -- the end -------------------------------------------------------------------------
    def _as_run(self, status: str) -> Run:
        self.model.eval()
        return Run(model=self.model, classes=self.classes, preprocess=self.preprocess,
                   config=self.config, data_name=self._data_name(),
                   path=self.out, history=self.history, status=status,
                   best_epoch=self.best["epoch"], info={**(self.saved or {}), **self.extra})

    def _finish(self, status: str) -> Run:
        if self.out is not None:
            self._checkpoint()  # the last step's state, so that a resume can add epochs
        if self.config.restore_best and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)
        elif self.ema_model is not None:
            self.model.load_state_dict(self.ema_model.state_dict())
        self.model.eval()
        if self.out is not None:
            if self.channels_last:
                self.model.to(memory_format=torch.contiguous_format)
            model_file = save_model(self.model, self.out / "model", self.classes,
                                    self.preprocess, {"data": self._data_name(),
                                                      "run": str(self.out)})
            write_json(self.out / "result.json", {
                "status": status, "best_epoch": self.best["epoch"], "epochs": self.epoch,
                "steps": self.step, "model_file": model_file,
                "last": self.history[-1] if self.history else None})
        return self._as_run(status)

    def _data_name(self) -> str:
        if self.saved is not None:
            return str(self.saved.get("data", ""))
        return self.data_name



def fit(model: nn.Module, data: Any, config: TrainConfig | None = None, *,
        val_data: Any = None, out: str | Path | None = None, resume: bool = False,
        force: bool = False, callbacks: Sequence[Callback] = (),
        input_shape: Sequence[int] | None = None) -> Run:
    """Train ``model`` on ``data`` with ``config`` and return the :class:`Run`.

    ``data`` is a data set name (e.g. ``"mnist-bundled"``), an ``ArrayDataset`` or an
    ``(x, y)`` pair of uint8 images / float arrays and integer labels.
    """
    trainer = Trainer(model, config, out=out, resume=resume, force=force,
                      callbacks=callbacks, input_shape=input_shape)
    return trainer.fit(data, val_data)
