"""Batched augmentation: reproducible from a seed, shape-preserving, exact flips and
shifts, masks moving with their images."""

from __future__ import annotations

import math

import pytest
import torch

from striate.data import Augment, DataError


def _batch(n: int = 6, c: int = 3, h: int = 12, w: int = 10) -> torch.Tensor:
    return torch.rand(n, c, h, w, generator=torch.Generator().manual_seed(1))


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_reproducible_from_seed_and_keeps_shape():
    x = _batch()
    aug = Augment(crop_padding=3, flip=True, rotate=15, jitter=0.3)
    a, b = aug(x, _gen(5)), aug(x, _gen(5))
    assert a.shape == x.shape
    assert a.dtype == x.dtype
    assert torch.equal(a, b)
    assert not torch.equal(a, aug(x, _gen(6)))


def test_does_not_touch_global_rng():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    Augment(crop_padding=2, flip=True)(_batch(), _gen(1))
    assert torch.equal(torch.rand(3), expected)


def test_identity_when_disabled():
    x = _batch()
    assert Augment()(x, _gen()) is x
    assert not Augment().enabled


def test_flip_is_exact_mirror():
    x = _batch(n=64)
    out = Augment(flip=True)(x, _gen(2))
    flipped = torch.tensor([torch.equal(o, i.flip(-1)) for o, i in zip(out, x, strict=True)])
    same = torch.tensor([torch.equal(o, i) for o, i in zip(out, x, strict=True)])
    assert bool((flipped | same).all())
    assert 10 < int(flipped.sum()) < 54  # probability 1/2 over 64 images


def test_crop_with_padding_shifts_content():
    # a single bright pixel in the middle moves by at most `pad` per axis, to every offset
    pad, h, w = 2, 9, 9
    x = torch.zeros(400, 1, h, w)
    x[:, 0, 4, 4] = 1.0
    out = Augment(crop_padding=pad)(x, _gen(3))
    assert torch.equal(out.sum(dim=(1, 2, 3)), torch.ones(400))  # stays inside, not blurred
    pos = out[:, 0].flatten(1).argmax(dim=1)
    rows, cols = pos // w, pos % w
    assert set((rows - 4).tolist()) == set(range(-pad, pad + 1))
    assert set((cols - 4).tolist()) == set(range(-pad, pad + 1))


def test_crop_equals_padded_window():
    x = _batch(n=1, c=2, h=5, w=7)
    out = Augment(crop_padding=3)(x, _gen(11))
    padded = torch.nn.functional.pad(x, (3, 3, 3, 3))
    windows = [padded[0, :, i:i + 5, j:j + 7] for i in range(7) for j in range(7)]
    assert any(torch.equal(out[0], win) for win in windows)


def test_rotation_small_angle_and_right_angle():
    x = torch.zeros(1, 1, 21, 21)
    x[0, 0, 10, 2:19] = 1.0  # a horizontal bar through the centre
    out = Augment(rotate=180)(x.repeat(50, 1, 1, 1), _gen(4))
    assert out.shape == (50, 1, 21, 21)
    # rotation about the centre keeps the centre pixel lit and roughly the bar's mass
    assert torch.allclose(out[:, 0, 10, 10], torch.ones(50), atol=1e-5)
    mass = out.sum(dim=(1, 2, 3))
    assert bool(((mass > 12) & (mass < 22)).all())


def test_rotation_keeps_aspect_on_non_square_images():
    from striate.data.augment import _rotate

    x = torch.zeros(1, 1, 9, 17)
    x[0, 0, 4, 4:13] = 1.0  # horizontal bar, 9 long, centred
    out, _ = _rotate(x, torch.tensor([math.pi / 2]), None)
    # a quarter turn makes it a vertical bar of the same length: column 8, rows 0..8
    assert torch.allclose(out[0, 0, :, 8], torch.ones(9), atol=1e-5)
    assert float(out.sum()) == pytest.approx(9.0, abs=1e-4)


def test_jitter_stays_in_range_and_changes_values():
    x = _batch()
    out = Augment(jitter=0.4)(x, _gen(8))
    assert float(out.min()) >= 0.0
    assert float(out.max()) <= 1.0
    assert not torch.allclose(out, x)


def test_sequences_shift_and_flip():
    x = torch.arange(10.0).view(1, 1, 10).repeat(30, 2, 1)
    out = Augment(crop_padding=2, flip=True)(x, _gen(9))
    assert out.shape == x.shape
    with pytest.raises(DataError, match="rotate and jitter need images"):
        Augment(rotate=5)(x, _gen())


def test_mask_moves_with_image():
    x = torch.zeros(20, 1, 8, 8)
    x[:, 0, 2:5, 1:3] = 1.0
    mask = (x[:, 0] > 0).long() * 3
    out, moved = Augment(crop_padding=2, flip=True, rotate=30)(x, _gen(10), mask)
    assert moved.dtype == torch.int64
    assert moved.shape == mask.shape
    assert set(moved.unique().tolist()) <= {0, 3}
    # wherever the mask says "object", the image is mostly bright
    assert float(out[:, 0][moved == 3].mean()) > 0.6


def test_errors_are_one_line():
    with pytest.raises(DataError, match=r"crop_padding=-1 must be an integer >= 0"):
        Augment(crop_padding=-1)
    with pytest.raises(DataError, match=r"rotate=400 must be between 0 and 180"):
        Augment(rotate=400)
    with pytest.raises(DataError, match=r"uint8 batch; convert it first with "
                                        r"striate.data.to_float"):
        Augment(flip=True)(torch.zeros(2, 1, 4, 4, dtype=torch.uint8), _gen())


def test_non_numeric_options_are_data_errors():
    # a typo such as rotate="x" used to escape as a bare ValueError from float()
    with pytest.raises(DataError, match=r"Augment: rotate='x' must be a number"):
        Augment(rotate="x")
    with pytest.raises(DataError, match=r"Augment: jitter=None must be a number"):
        Augment(jitter=None)
    with pytest.raises(DataError, match=r"Augment: rotate=True must be a number, not a switch"):
        Augment(rotate=True)


def test_config_round_trip():
    aug = Augment(crop_padding=4, flip=True, rotate=5.0, jitter=0.1)
    assert Augment(**aug.config()) == aug


def test_crop_and_flip_together_equal_a_mirrored_padded_window():
    x = _batch(n=40, c=2, h=5, w=6)
    out = Augment(crop_padding=2, flip=True)(x, _gen(12))
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    mirrored = 0
    for k in range(40):
        windows = [padded[k, :, i:i + 5, j:j + 6] for i in range(5) for j in range(5)]
        plain = any(torch.equal(out[k], win) for win in windows)
        flipped = any(torch.equal(out[k], win.flip(-1)) for win in windows)
        assert plain or flipped
        mirrored += int(flipped and not plain)
    assert 5 < mirrored < 35


def test_sequence_shift_is_a_padded_window():
    x = torch.arange(1.0, 11.0).view(1, 1, 10).repeat(50, 1, 1)
    out = Augment(crop_padding=3)(x, _gen(13))
    padded = torch.nn.functional.pad(x[0], (3, 3))
    windows = [padded[:, i:i + 10] for i in range(7)]
    assert all(any(torch.equal(o, w) for w in windows) for o in out)
    # every shift from -3 to 3 shows up in 50 draws: the first value tells the shift
    assert len({float(o[0, 3]) for o in out}) == 7
