"""The interpretation figures of the training demo's report: first-layer filters, a
DeconvNet + top-9 figure per convolution, an occlusion map and a t-SNE grid."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from torch import nn

from striate.interpret._common import conv_layers, data_arrays, make_preprocess, take
from striate.layers.errors import StriateError


def demo_figures(model: nn.Module, dataset: Any, out_dir: str | os.PathLike[str], *,
                 preprocess: Any = None, normalization: Any = None, limit: int = 1000,
                 batch_size: int = 128, tsne_iter: int = 1000, force: bool = False,
                 ) -> list[tuple[str, Path]]:
    """Draw the standard figures of a trained image classifier into ``out_dir``.

    Args:
        dataset: an ArrayDataset (uint8 images), usually the test split.
        preprocess / normalization: how raw images become model inputs (default: the
            model's ``striate_meta["normalization"]``; images smaller than the model's
            declared input are padded, e.g. 28x28 digits to 32x32).
        limit: samples scanned for top-9 patches and embedded by t-SNE.
        tsne_iter: t-SNE iterations (scikit-learn's ``max_iter``).

    Returns:
        ``(title, png path)`` per figure. A DeconvNet through tanh layers goes back through
        them by their derivative (and says so in the figure); a figure that still fails is
        left out with a warning.
    """
    from striate.interpret.embedding import embedding, save_embedding
    from striate.interpret.filters import filters, save_filters
    from striate.interpret.occlusion import occlusion, save_occlusion
    from striate.interpret.patches import save_top_patches, top_patches

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    x, y, classes = data_arrays(dataset)
    prep = make_preprocess(model, preprocess, normalization, tuple(x.shape[1:]))
    figures: list[tuple[str, Path]] = []

    def attempt(title: str, draw: Any) -> None:
        try:
            figures.append((title, draw()))
        except StriateError as err:
            warnings.warn(f"{title}: left out ({err})", stacklevel=3)

    attempt("First-layer filters",
            lambda: save_filters(filters(model), out / "filters.png", force=force))
    for layer in conv_layers(model):
        safe = layer.replace(".", "_")

        def draw_top(layer: str = layer, safe: str = safe) -> Path:
            try:
                res = top_patches(model, dataset, layer, k=9, limit=limit,
                                  batch_size=batch_size, preprocess=prep)
            except StriateError:  # a tanh network: through the tanh by its derivative
                res = top_patches(model, dataset, layer, k=9, limit=limit,
                                  batch_size=batch_size, preprocess=prep, smooth="derivative")
            return save_top_patches(res, out / f"top9_{safe}.png", force=force)

        attempt(f"DeconvNet and top-9 patches: {layer}", draw_top)

    def draw_occlusion() -> Path:
        image = take(x, 0)
        h = prep.display(image[None]).shape[-1]
        size = max(2, h // 6)
        res = occlusion(model, image, label=None if y is None else int(y[0]), size=size,
                        stride=max(1, size // 3), preprocess=prep, batch_size=batch_size,
                        smooth="derivative")
        return save_occlusion(res, out / "occlusion.png", classes=classes, force=force)

    attempt("Occlusion sensitivity", draw_occlusion)

    def draw_tsne() -> Path:
        res = embedding(model, dataset, limit=limit, batch_size=batch_size, preprocess=prep,
                        max_iter=tsne_iter)
        return save_embedding(res, dataset, out / "tsne_grid.png", kind="grid", side=24,
                              preprocess=prep, force=force)

    attempt("t-SNE of the last hidden layer", draw_tsne)
    return figures
