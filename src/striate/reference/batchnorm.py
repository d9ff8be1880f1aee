"""Batch normalisation in plain NumPy (Ioffe & Szegedy, 2015), training and inference.

In training mode every channel is normalised with the mean and variance of the current
batch (over samples and, for images, over all positions), then scaled and shifted:
``y = γ·(x − μ_B)/sqrt(σ²_B + ε) + β``. Because ``μ_B`` and ``σ²_B`` depend on every value
of the batch, the backward pass has two extra terms beside ``γ/σ``; they are written out
in :func:`batch_norm_backward`. Results follow ``torch.nn.functional.batch_norm``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from striate.layers.errors import ShapeError


@dataclass(frozen=True)
class BatchNormCache:
    """What the backward pass needs from the forward: the normalised input and ``1/σ``.

    Attributes:
        mean: per-channel batch mean ``μ_B``.
        var: per-channel biased batch variance ``σ²_B`` (divides by ``m``).
        count: ``m``, the values per channel (``N`` or ``N·H·W``).
    """

    x_hat: np.ndarray
    inv_std: np.ndarray
    gamma: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    count: int


def _axes(x: np.ndarray) -> tuple[int, ...]:
    if x.ndim < 2:
        raise ShapeError(f"batch norm needs (N, C, ...) input; received shape {x.shape}")
    return (0, *range(2, x.ndim))


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    return np.asarray(v).reshape(1, -1, *([1] * (ndim - 2)))


def batch_norm(
    x: np.ndarray,
    gamma: np.ndarray | None = None,
    beta: np.ndarray | None = None,
    eps: float = 1e-5,
) -> tuple[np.ndarray, BatchNormCache]:
    """Training-mode batch norm: normalise each channel with the batch's own statistics.

    Args:
        x: ``(N, C)`` or ``(N, C, *spatial)``.
        gamma, beta: per-channel scale and shift (default 1 and 0).

    Shape:
        ``y`` has the shape of ``x``.

    Raises:
        ShapeError: when a channel has a single value (its variance would be 0/0 in
            PyTorch, which refuses it too).
    """
    x = np.asarray(x, dtype=np.result_type(x, np.float32))
    axes = _axes(x)
    count = x.size // x.shape[1]
    if count < 2:
        raise ShapeError(
            f"batch norm in training mode needs more than one value per channel; received "
            f"shape {x.shape}; use a batch of at least 2 samples"
        )
    c = x.shape[1]
    gamma = np.ones(c, x.dtype) if gamma is None else np.asarray(gamma, x.dtype)
    beta = np.zeros(c, x.dtype) if beta is None else np.asarray(beta, x.dtype)
    mean = x.mean(axis=axes)
    var = ((x - _per_channel(mean, x.ndim)) ** 2).mean(axis=axes)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - _per_channel(mean, x.ndim)) * _per_channel(inv_std, x.ndim)
    y = _per_channel(gamma, x.ndim) * x_hat + _per_channel(beta, x.ndim)
    return y, BatchNormCache(x_hat, inv_std, gamma, mean, var, count)


def batch_norm_backward(
    grad_output: np.ndarray, cache: BatchNormCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`batch_norm` with respect to ``x``, ``γ`` and ``β``.

    With ``ĝ = ∂L/∂x̂ = γ·∂L/∂y`` and ``m`` values per channel, the chain rule through
    ``x̂ = (x − μ)/σ``, ``μ`` and ``σ²`` gives
    ``∂L/∂x = (1/σ)·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))``: the first term is the plain scaling,
    the second comes from ``μ`` (every input moves the mean), the third from ``σ²``.
    ``∂L/∂γ = Σ ∂L/∂y·x̂`` and ``∂L/∂β = Σ ∂L/∂y`` sum over samples and positions.
    """
    grad_output = np.asarray(grad_output, dtype=cache.x_hat.dtype)
    if grad_output.shape != cache.x_hat.shape:
        raise ShapeError(f"grad_output has shape {grad_output.shape}; the batch norm's "
                         f"output is {cache.x_hat.shape}")
    axes, ndim = _axes(grad_output), grad_output.ndim
    g_hat = grad_output * _per_channel(cache.gamma, ndim)
    mean_g = g_hat.mean(axis=axes, keepdims=True)
    mean_gx = (g_hat * cache.x_hat).mean(axis=axes, keepdims=True)
    grad_x = _per_channel(cache.inv_std, ndim) * (g_hat - mean_g - cache.x_hat * mean_gx)
    grad_gamma = (grad_output * cache.x_hat).sum(axis=axes)
    grad_beta = grad_output.sum(axis=axes)
    return grad_x, grad_gamma, grad_beta


def update_running_stats(
    running_mean: np.ndarray, running_var: np.ndarray, cache: BatchNormCache,
    momentum: float = 0.1,
) -> tuple[np.ndarray, np.ndarray]:
    """The running averages used at inference, updated as PyTorch does.

    ``new = (1 − momentum)·old + momentum·batch``, where the batch variance is the
    *unbiased* one, ``σ²_B·m/(m − 1)``.
    """
    unbiased = cache.var * cache.count / (cache.count - 1)
    mean = (1 - momentum) * np.asarray(running_mean) + momentum * cache.mean
    var = (1 - momentum) * np.asarray(running_var) + momentum * unbiased
    return mean, var


def batch_norm_inference(
    x: np.ndarray, running_mean: np.ndarray, running_var: np.ndarray,
    gamma: np.ndarray | None = None, beta: np.ndarray | None = None, eps: float = 1e-5,
) -> np.ndarray:
    """Inference-mode batch norm: a fixed per-channel affine map from the running statistics.

    Shape:
        ``y`` has the shape of ``x``.
    """
    x = np.asarray(x, dtype=np.result_type(x, np.float32))
    _axes(x)
    c = x.shape[1]
    gamma = np.ones(c, x.dtype) if gamma is None else np.asarray(gamma, x.dtype)
    beta = np.zeros(c, x.dtype) if beta is None else np.asarray(beta, x.dtype)
    scale = gamma / np.sqrt(np.asarray(running_var) + eps)
    shift = beta - np.asarray(running_mean) * scale
    return x * _per_channel(scale, x.ndim) + _per_channel(shift, x.ndim)
