import pytest
import torch

from striate.layers import MaxoutPool, MaxPool2d, MaxUnpool2d, ShapeError, StochasticPool2d


def test_stochastic_pool_eval_is_the_probability_weighted_average():
    # window [1, 2, 3, 4]: p = a/10, output Σ p·a = (1 + 4 + 9 + 16)/10 = 3
    x = torch.tensor([[1.0, 2], [3, 4]]).view(1, 1, 2, 2)
    pool = StochasticPool2d(2).eval()
    assert pool(x).item() == pytest.approx(3.0)
    assert pool(torch.zeros(1, 1, 2, 2)).item() == 0.0
    # negative activations count as 0: window [-1, 0, 2, 0] -> 2
    assert pool(torch.tensor([[-1.0, 0], [2, 0]]).view(1, 1, 2, 2)).item() == pytest.approx(2.0)


def test_stochastic_pool_training_samples_values_of_the_window_in_proportion():
    torch.manual_seed(0)
    pool = StochasticPool2d(2).train()
    x = torch.tensor([[1.0, 0], [3, 0]]).view(1, 1, 2, 2).expand(4000, 1, 2, 2)
    out = pool(x).view(-1)
    assert set(out.tolist()) <= {1.0, 3.0}  # zeros are never drawn
    assert (out == 3.0).float().mean().item() == pytest.approx(0.75, abs=0.03)
    big = torch.rand(2, 3, 6, 6)
    sampled = pool(big)
    windows = big.unfold(2, 2, 2).unfold(3, 2, 2).reshape(2, 3, 3, 3, 4)
    assert ((windows == sampled.unsqueeze(-1)).any(-1)).all()


def test_maxout_takes_the_max_over_groups_of_channels():
    x = torch.tensor([1.0, 5, 2, -1, -3, -2]).view(1, 6, 1, 1)
    pool = MaxoutPool(3)
    assert pool(x).view(-1).tolist() == [5.0, -1.0]
    assert pool.output_shape((6, 4, 4)) == (2, 4, 4)
    with pytest.raises(ShapeError, match=r"MaxoutPool\(pool_size=4\): 6 channels \(shape "
                                         r"\(6, 4, 4\)\) do not split into groups of 4"):
        MaxoutPool(4).output_shape((6, 4, 4))


def test_unpool_puts_the_maxima_back_at_the_switches():
    x = torch.rand(2, 3, 6, 6) + 0.1  # positive, so the zeros put back are never maxima
    pool = MaxPool2d(2, return_indices=True)
    pooled, switches = pool(x)
    unpool = MaxUnpool2d(2)
    restored = unpool(pooled, switches)
    assert unpool.output_shape((3, 3, 3), (3, 3, 3)) == tuple(restored.shape[1:]) == (3, 6, 6)
    # every max is back where it came from, every other value is zero
    mask = restored != 0
    assert mask.sum().item() == pooled.numel()
    torch.testing.assert_close(restored[mask], x[mask])
    torch.testing.assert_close(MaxPool2d(2)(restored), pooled)
    torch.testing.assert_close(restored.flatten(2).gather(2, switches.flatten(2)),
                               pooled.flatten(2))
    with pytest.raises(ShapeError, match="indices"):
        unpool.output_shape((3, 3, 3), (3, 2, 2))
