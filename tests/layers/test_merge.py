import pytest
import torch

from striate.layers import Add, Concat, ConfigError, Crop, ShapeError


def test_add_sums_inputs_of_one_shape():
    a, b, c = (torch.full((2, 3, 4, 4), v) for v in (1.0, 2.0, 4.0))
    assert Add()(a, b, c).unique().tolist() == [7.0]
    assert Add()([a, b]).unique().tolist() == [3.0]
    assert Add().output_shape((3, 4, 4), (3, 4, 4)) == (3, 4, 4)
    with pytest.raises(ShapeError) as err:
        Add().output_shape((64, 56, 56), (128, 28, 28))
    assert str(err.value).startswith("Add: input 0 has shape (64, 56, 56) but input 1 has shape "
                                     "(128, 28, 28)")
    with pytest.raises(ShapeError, match=r"\(3, 4, 4\) but input 1 has shape \(3, 2, 2\)"):
        Add()(a, torch.zeros(2, 3, 2, 2))


def test_concat_on_channels():
    out = Concat()(torch.zeros(2, 3, 4, 4), torch.ones(2, 5, 4, 4))
    assert out.shape == (2, 8, 4, 4)
    assert Concat().output_shape((3, 4, 4), (5, 4, 4), (1, 4, 4)) == (9, 4, 4)
    assert Concat(-1).output_shape((3, 4, 4), (3, 4, 2)) == (3, 4, 6)
    with pytest.raises(ShapeError) as err:
        Concat()(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 5, 5))
    assert str(err.value).startswith("Concat(dim=1): input 0 has shape (3, 4, 4) but input 1 has "
                                     "shape (3, 5, 5)")
    with pytest.raises(ConfigError, match="Received: dim=0"):
        Concat(0)


def test_crop_to_the_reference_size():
    x = torch.arange(36.0).view(1, 1, 6, 6)
    ref = torch.zeros(1, 4, 2, 3)
    out = Crop(offset=(1, 2))(x, ref)
    assert out.shape == (1, 1, 2, 3)
    assert out.reshape(-1).tolist() == [8, 9, 10, 14, 15, 16]
    assert Crop("center")(x, ref).reshape(-1).tolist() == [13, 14, 15, 19, 20, 21]
    assert Crop(19).output_shape((21, 64, 64), (21, 16, 16)) == (21, 16, 16)
    with pytest.raises(ShapeError, match=r"Crop\(offset=5\): shape \(1, 6, 6\) is too small to "
                                         r"crop \(2, 3\) at offset \(5, 5\)"):
        Crop(5)(x, ref)
    with pytest.raises(ConfigError, match="Received: offset='middle'"):
        Crop("middle")
