import pytest
import torch

from striate.layers import ConfigError, Dense, Dropout, Flatten, ShapeError


def test_dense_infers_its_input_size_at_the_first_forward():
    fc = Dense(10)
    assert fc.lazy
    assert fc.output_shape((400,)) == (10,)
    assert fc.macs((400,)) == 400 * 10
    assert fc.config() == {"out_features": 10, "in_features": None, "bias": True}
    out = fc(torch.randn(3, 400))
    assert out.shape == (3, 10)
    assert type(fc) is Dense
    assert not fc.lazy
    assert fc.in_features == 400
    assert sum(p.numel() for p in fc.parameters()) == 400 * 10 + 10
    assert fc.config()["in_features"] == 400


def test_dense_with_known_size_and_its_error():
    fc = Dense(120, 400, bias=False)
    assert sum(p.numel() for p in fc.parameters()) == 400 * 120
    with pytest.raises(ShapeError) as err:
        fc.output_shape((16, 5, 4))
    assert str(err.value) == ("Dense(400→120) expects 400 input features on the last axis but "
                              "received shape (16, 5, 4); put a Flatten before it "
                              "(16·5·4 = 320 features)")
    with pytest.raises(ShapeError, match=r"received shape \(300,\); set in_features=300"):
        fc(torch.randn(2, 300))


def test_dense_on_meta_device_and_state_dict_round_trip():
    fc = Dense(4).to("meta")
    fc(torch.empty(2, 6, device="meta"))
    assert fc.weight.shape == (4, 6)
    assert fc.weight.device.type == "meta"
    a = Dense(3)
    a(torch.randn(1, 5))
    b = Dense(**a.config())
    b.load_state_dict(a.state_dict())
    x = torch.randn(2, 5)
    torch.testing.assert_close(a(x), b(x))


def test_dense_config_errors():
    with pytest.raises(ConfigError, match="Received: out_features=0"):
        Dense(0)
    with pytest.raises(ConfigError, match="Received: in_features=-3"):
        Dense(5, -3)


def test_flatten():
    assert Flatten().output_shape((16, 5, 5)) == (400,)
    assert Flatten(2).output_shape((16, 5, 5)) == (16, 25)
    assert Flatten(1, 2).output_shape((16, 5, 5)) == (80, 5)
    assert Flatten(2)(torch.zeros(2, 16, 5, 5)).shape == (2, 16, 25)
    with pytest.raises(ConfigError, match="Received: start_dim=0"):
        Flatten(0)


def test_dropout():
    drop = Dropout(0.5)
    x = torch.ones(1000)
    torch.manual_seed(0)
    y = drop.train()(x)
    assert set(y.tolist()) <= {0.0, 2.0}  # inverted dropout scales the kept values by 1/(1-p)
    assert drop.eval()(x).equal(x)
    with pytest.raises(ConfigError, match=r"p must be between 0 and 1. Received: p=1.5"):
        Dropout(1.5)
