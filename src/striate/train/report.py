"""The HTML report of a run: one self-contained file (PNGs embedded as data URIs).

It shows the model summary, the learning curves, the test metrics with the confusion
matrix, misclassified test examples, and any extra figures (the interpretation pictures).
The PNGs are also kept next to the report for slides.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from striate.fileio import atomic_write, atomic_write_text
from striate.train.config import TrainConfig
from striate.train.metrics import Metrics


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110,
                                               bbox_inches="tight"))
    _pyplot().close(fig)
    return path


def curve_labels(config: TrainConfig | None) -> tuple[str, str]:
    """Legends for the training and validation curves: what makes them differ (smoothed
    labels and augmentation on the training side, the weight average on the other)."""
    if config is None:
        return "training", "validation"
    train = [name for name, on in (
        ("smoothed labels", config.label_smoothing > 0),
        ("augmented", config.crop_padding or config.rotate or config.scale or config.flip
         or config.jitter)) if on]
    return ("training" + (f" ({', '.join(train)})" if train else ""),
            "validation" + (" (weight average)" if config.ema else ""))


def plot_learning_curves(history: Sequence[dict[str, Any]], path: Path,
                         config: TrainConfig | None = None) -> Path:
    """Loss and accuracy per epoch, training and validation."""
    plt = _pyplot()
    train_label, val_label = curve_labels(config)
    epochs = [r["epoch"] for r in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.4))
    ax_loss.plot(epochs, [r["train_loss"] for r in history], "o-", ms=3, label=train_label)
    if history and "val_loss" in history[0]:
        ax_loss.plot(epochs, [r["val_loss"] for r in history], "s-", ms=3, label=val_label)
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="Loss")
    ax_loss.legend(fontsize=8)
    ax_acc.plot(epochs, [100 * r["train_acc"] for r in history], "o-", ms=3, label="training")
    if history and "val_acc" in history[0]:
        ax_acc.plot(epochs, [100 * r["val_acc"] for r in history], "s-", ms=3,
                    label=val_label)
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
    ax_acc.legend(fontsize=8)
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def plot_confusion(metrics: Metrics, path: Path) -> Path:
    """The confusion matrix with counts in the cells (rows: true class)."""
    plt = _pyplot()
    m = metrics.confusion
    n = len(m)
    names = metrics.classes or [str(i) for i in range(n)]
    size = min(12.0, 1.2 + 0.45 * n)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(np.log1p(m), cmap="Blues")
    if n <= 30:
        threshold = np.log1p(m).max() / 2
        for i in range(n):
            for j in range(n):
                if m[i, j]:
                    ax.text(j, i, str(int(m[i, j])), ha="center", va="center", fontsize=8,
                            color="white" if np.log1p(m[i, j]) > threshold else "black")
        ax.set_xticks(range(n), names, rotation=90 if n > 10 else 0, fontsize=8)
        ax.set_yticks(range(n), names, fontsize=8)
    ax.set(xlabel="predicted class", ylabel="true class",
           title=f"Confusion matrix ({metrics.count} samples, top-1 "
                 f"{100 * metrics.top1:.2f}%)")
    fig.tight_layout()
    return _save(fig, path)


def plot_misclassified(raw: torch.Tensor, labels: torch.Tensor, probs: torch.Tensor,
                       classes: Sequence[str], path: Path, limit: int = 32) -> Path | None:
    """A grid of misclassified samples titled ``true → predicted (probability)``."""
    predicted = probs.argmax(1)
    wrong = torch.nonzero(predicted != labels).flatten()[:limit]
    if wrong.numel() == 0 or raw.ndim != 4:
        return None
    plt = _pyplot()
    cols = min(8, wrong.numel())
    rows = (wrong.numel() + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(1.4 * cols, 1.65 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, wrong.tolist(), strict=False):
        image = raw[i].float()
        image = image / 255.0 if raw.dtype == torch.uint8 else image
        if image.shape[0] == 1:
            ax.imshow(image[0].numpy(), cmap="gray", vmin=0, vmax=1)
        else:
            ax.imshow(image[:3].permute(1, 2, 0).clamp(0, 1).numpy())
        p = int(predicted[i])
        ax.set_title(f"{classes[int(labels[i])]} → {classes[p]} "
                     f"({100 * float(probs[i, p]):.0f}%)", fontsize=8)
    fig.suptitle("Misclassified test examples: true → predicted (probability)", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def _img(path: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(Path(path).name)}">'


def write_report(path: str | Path, *, title: str, facts: Sequence[tuple[str, str]],
                 summary_text: str | None, history: Sequence[dict[str, Any]],
                 metrics: Metrics, raw: torch.Tensor, labels: torch.Tensor,
                 probs: torch.Tensor, extra: Sequence[tuple[str, Path]] = (),
                 figure_dir: str | Path | None = None,
                 config: TrainConfig | None = None) -> Path:
    """Draw the figures and write the self-contained HTML report; returns its path.

    ``config``, the run's options, names what the training and validation curves show.
    """
    path = Path(path)
    folder = Path(figure_dir) if figure_dir else path.parent / "report"
    folder.mkdir(parents=True, exist_ok=True)
    sections = []
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                   for k, v in facts)
    sections.append(f"<table class='facts'>{rows}</table>")
    if summary_text:
        sections.append(f"<h2>Model summary</h2><pre>{html.escape(summary_text)}</pre>")
    if history:
        curves = plot_learning_curves(history, folder / "learning_curves.png", config)
        sections.append(f"<h2>Learning curves</h2>{_img(curves)}")
    confusion = plot_confusion(metrics, folder / "confusion_matrix.png")
    sections.append(f"<h2>Test set</h2><pre>{html.escape(metrics.table())}</pre>"
                    f"{_img(confusion)}")
    wrong = plot_misclassified(raw, labels, probs, metrics.classes,
                               folder / "misclassified.png")
    if wrong is not None:
        sections.append(f"<h2>Misclassified examples</h2>{_img(wrong)}")
    if extra:
        sections.append("<h2>Inside the network</h2>")
        sections += [f"<h3>{html.escape(t)}</h3>{_img(p)}" for t, p in extra]
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1000px; margin: 2em auto;
       padding: 0 1em; color: #222; }}
pre {{ background: #f6f8fa; padding: 0.8em; overflow-x: auto; font-size: 12px; }}
img {{ max-width: 100%; display: block; margin: 0.5em 0 1.5em; }}
table.facts th {{ text-align: left; padding-right: 1.5em; font-weight: 600; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
{"".join(sections)}
<p><small>Written by striate.</small></p>
</body></html>
"""
    return atomic_write_text(path, page)
