"""NumPy batch normalisation (training and inference) against torch.nn.functional."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from striate.layers.errors import ShapeError
from striate.reference import (
    batch_norm,
    batch_norm_backward,
    batch_norm_inference,
    update_running_stats,
)

FAST = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.integers(2, 5), st.integers(1, 4), st.sampled_from([(), (3,), (2, 3)]),
       st.integers(0, 2**16))
def test_training_forward_backward_and_running_stats_match_torch(n, c, spatial, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(2.0, 3.0, size=(n, c, *spatial))
    gamma, beta = rng.normal(size=c), rng.normal(size=c)
    run_mean, run_var = rng.normal(size=c), rng.uniform(0.5, 2, size=c)
    tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    t_mean, t_var = torch.tensor(run_mean), torch.tensor(run_var)
    expected = F.batch_norm(tx, t_mean, t_var, tg, tb, training=True, momentum=0.1, eps=1e-5)
    y, cache = batch_norm(x, gamma, beta, eps=1e-5)
    np.testing.assert_allclose(y, expected.detach().numpy(), atol=1e-10)

    new_mean, new_var = update_running_stats(run_mean, run_var, cache, momentum=0.1)
    np.testing.assert_allclose(new_mean, t_mean.numpy(), atol=1e-12)
    np.testing.assert_allclose(new_var, t_var.numpy(), atol=1e-12)

    g = rng.normal(size=x.shape)
    (expected * torch.from_numpy(g)).sum().backward()
    grad_x, grad_gamma, grad_beta = batch_norm_backward(g, cache)
    np.testing.assert_allclose(grad_x, tx.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(grad_gamma, tg.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(grad_beta, tb.grad.numpy(), atol=1e-10)


def test_inference_uses_running_statistics():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 2, 4, 4))
    mean, var = np.array([0.5, -1.0]), np.array([2.0, 0.25])
    gamma, beta = np.array([1.5, 0.5]), np.array([0.1, -0.2])
    expected = F.batch_norm(torch.from_numpy(x), torch.from_numpy(mean), torch.from_numpy(var),
                            torch.from_numpy(gamma), torch.from_numpy(beta), training=False)
    np.testing.assert_allclose(batch_norm_inference(x, mean, var, gamma, beta),
                               expected.numpy(), atol=1e-12)


def test_normalised_batch_has_zero_mean_and_unit_variance():
    x = np.random.default_rng(1).normal(5.0, 4.0, size=(8, 3, 5, 5))
    y, _ = batch_norm(x, eps=0.0)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1.0, atol=1e-12)


def test_single_value_per_channel_is_refused():
    with pytest.raises(ShapeError, match="more than one value per channel"):
        batch_norm(np.zeros((1, 3)))
