"""The rotation + zoom warp of the training loop."""

from __future__ import annotations

import math

import torch

from striate.train.augment import rotate_and_scale, warp


def test_identity_and_quarter_turns_are_exact():
    x = torch.rand(3, 2, 6, 6)
    same = warp(x, torch.zeros(3), torch.ones(3))
    assert torch.allclose(same, x, atol=1e-6)
    # a quarter turn maps pixel centres onto pixel centres: it must equal rot90
    turned = warp(x, torch.full((3,), math.pi / 2), torch.ones(3))
    assert torch.allclose(turned, torch.rot90(x, 1, dims=(2, 3)), atol=1e-5) or \
        torch.allclose(turned, torch.rot90(x, -1, dims=(2, 3)), atol=1e-5)


def test_zoom_by_two_shows_the_centre_twice_as_large():
    x = torch.zeros(1, 1, 16, 16)
    x[..., 6:10, 6:10] = 1.0  # a 4x4 square in the middle
    big = warp(x, torch.zeros(1), torch.full((1,), 2.0))[0, 0]
    assert torch.all(big[5:11, 5:11] == 1.0)  # now 8x8 (bilinear edges around it)
    assert torch.all(big[:3] == 0)
    assert torch.all(big[:, 13:] == 0)
    assert float(big.sum()) == float(x.sum()) * 4  # area x zoom²


def test_draws_come_from_the_generator():
    x = torch.rand(4, 1, 10, 10)
    a = rotate_and_scale(x, torch.Generator().manual_seed(5), 15.0, 0.1)
    b = rotate_and_scale(x, torch.Generator().manual_seed(5), 15.0, 0.1)
    c = rotate_and_scale(x, torch.Generator().manual_seed(6), 15.0, 0.1)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
