import pytest
import torch

from striate.layers import (
    BatchNorm1d,
    BatchNorm2d,
    ConfigError,
    LocalResponseNorm,
    ReLU,
    ShapeError,
    Softmax,
)


def test_batch_norm_parameters_and_shape():
    bn = BatchNorm2d(64)
    assert sum(p.numel() for p in bn.parameters()) == 2 * 64  # gamma, beta
    assert sum(b.numel() for n, b in bn.named_buffers() if n.startswith("running")) == 2 * 64
    assert bn.output_shape((64, 7, 7)) == (64, 7, 7)
    assert bn.macs((64, 7, 7)) == 0
    with pytest.raises(ShapeError, match=r"BatchNorm2d\(64\) expects 64 input channels but "
                                         r"received shape \(32, 7, 7\).*set num_features=32"):
        bn.output_shape((32, 7, 7))
    with pytest.raises(ShapeError, match="use BatchNorm2d for images"):
        BatchNorm1d(3).output_shape((3, 4, 4))
    with pytest.raises(ConfigError, match="Received: momentum=2"):
        BatchNorm2d(3, momentum=2)


def test_batch_norm_normalises_each_channel_in_training():
    x = torch.randn(8, 3, 5, 5) * 4 + 2
    y = BatchNorm2d(3).train()(x)
    torch.testing.assert_close(y.mean((0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.var((0, 2, 3), unbiased=False), torch.ones(3), atol=1e-3,
                               rtol=0)


def test_local_response_norm_formula():
    # b_c = a_c / (k + alpha/n * sum over the n neighbouring channels of a^2)^beta
    n, alpha, beta, k = 3, 0.5, 0.75, 2.0
    a = torch.tensor([1.0, 2.0, 3.0, 4.0]).view(1, 4, 1, 1)
    out = LocalResponseNorm(n, alpha, beta, k)(a).view(-1)
    sq = [1.0, 4.0, 9.0, 16.0]
    windows = [sq[0] + sq[1], sq[0] + sq[1] + sq[2], sq[1] + sq[2] + sq[3], sq[2] + sq[3]]
    expected = [ac / (k + alpha / n * s) ** beta for ac, s in zip([1, 2, 3, 4], windows,
                                                                   strict=True)]
    torch.testing.assert_close(out, torch.tensor(expected))


def test_activations():
    assert ReLU()(torch.tensor([-1.0, 2.0])).tolist() == [0.0, 2.0]
    p = Softmax()(torch.tensor([[1.0, 2.0, 3.0]]))
    assert p.sum().item() == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="Received: inplace='yes'"):
        ReLU("yes")


def test_batch_norm_forward_with_the_wrong_channels_is_a_shape_error():
    # torch alone says "running_mean should contain 4 elements not 3"
    with pytest.raises(ShapeError, match=r"^BatchNorm2d\(3\) expects 3 input channels but "
                       r"received shape \(4, 4, 4\) \(4 channels\); set num_features=4"):
        BatchNorm2d(3)(torch.ones(2, 4, 4, 4))
    with pytest.raises(ShapeError, match=r"expects a per-sample input \(C, H, W\)"):
        BatchNorm2d(3)(torch.ones(2, 3, 4))
    with pytest.raises(ShapeError, match=r"^BatchNorm1d\(5\) expects 5 input channels"):
        BatchNorm1d(5)(torch.ones(2, 6))
