import json

import pytest
import torch

from striate.layers import Add, ConfigError, MaxoutPool, ShapeError
from striate.layers.blocks import (
    BasicBlock,
    Bottleneck,
    DenseBlock,
    DenseLayer,
    Fire,
    InceptionAux,
    InceptionBlock,
    Transition,
    ZeroPadShortcut,
)
from striate.layers.formulas import conv_params


def _count(module, keyword=None):
    return sum(p.numel() for n, p in module.named_parameters() if keyword is None or keyword in n)


def _conv_weights(module):
    return sum(p.numel() for n, p in module.named_parameters() if p.dim() == 4)


BLOCKS = [
    (BasicBlock(8, 8), (8, 9, 9)),
    (BasicBlock(8, 16, 2), (8, 9, 9)),
    (BasicBlock(8, 16, 2, "zero_pad"), (8, 9, 9)),
    (Bottleneck(16, 4), (16, 8, 8)),
    (Bottleneck(8, 4, stride=2, stride_on="1x1"), (8, 7, 7)),
    (Bottleneck(8, 4, 32, stride=2, shortcut="projection"), (8, 8, 8)),
    (ZeroPadShortcut(4, 8, 2), (4, 7, 7)),
    (InceptionBlock(8, 4, 3, 6, 2, 3, 2), (8, 7, 7)),
    (InceptionBlock(8, 4, 3, 6, 2, 3, 2, batch_norm=True), (8, 7, 7)),
    (InceptionAux(8, 5), (8, 14, 14)),
    (InceptionAux(8, 5, input_size=None), (8, 9, 9)),
    (DenseLayer(8, 4), (8, 6, 6)),
    (DenseBlock(8, 3, 4, bn_size=2, drop_rate=0.1), (8, 6, 6)),
    (Transition(8, 4), (8, 7, 7)),
    (Fire(8, 2, 4, 4), (8, 7, 7)),
]


@pytest.mark.parametrize(("block", "shape"), BLOCKS, ids=lambda v: type(v).__name__)
def test_block_output_shape_forward_and_config(block, shape):
    block.eval()
    out = block(torch.randn(2, *shape))
    assert tuple(out.shape[1:]) == block.output_shape(shape)
    rebuilt = type(block)(**json.loads(json.dumps(block.config())))
    rebuilt.eval()(torch.randn(2, *shape))
    assert [(n, p.shape) for n, p in rebuilt.named_parameters()] == \
        [(n, p.shape) for n, p in block.named_parameters()]
    assert block.rf() is None or isinstance(block, ZeroPadShortcut)


@pytest.mark.parametrize(("block", "shape"), BLOCKS, ids=lambda v: type(v).__name__)
def test_block_macs_fold_over_the_convolutions(block, shape):
    # Every MAC of these blocks is in a convolution or dense layer: hook them and compare.
    from striate.layers import Conv2d, Dense

    total = 0

    def hook(module, inputs, output):
        nonlocal total
        total += module.macs(tuple(inputs[0].shape[1:]))

    handles = [m.register_forward_hook(hook) for m in block.modules()
               if isinstance(m, (Conv2d, Dense))]
    block.eval()(torch.randn(1, *shape))
    for h in handles:
        h.remove()
    assert block.macs(shape) == total


def test_resnet50_bottleneck_has_69632_weights():
    # He et al. 2016, Fig. 5 right: 1x1,64 / 3x3,64 / 1x1,256 on 256 channels
    block = Bottleneck(256, 64)
    assert _conv_weights(block) == 256 * 64 + 3 * 3 * 64 * 64 + 64 * 256 == 69_632
    assert _count(block, "bn") == 2 * (64 + 64 + 256)
    assert block.output_shape((256, 56, 56)) == (256, 56, 56)
    # MACs: 56·56 positions of each convolution
    assert block.macs((256, 56, 56)) == 56 * 56 * 69_632


def test_stride_on_moves_the_stride():
    v15 = Bottleneck(256, 128, stride=2)
    paper = Bottleneck(256, 128, stride=2, stride_on="1x1")
    assert v15.conv2.stride == (2, 2) and v15.conv1.stride == (1, 1)  # noqa: PT018
    assert paper.conv1.stride == (2, 2) and paper.conv2.stride == (1, 1)  # noqa: PT018
    assert v15.output_shape((256, 56, 56)) == paper.output_shape((256, 56, 56)) == (512, 28, 28)
    # same weights, but the paper's version does its 3x3 on the smaller map
    assert paper.macs((256, 56, 56)) < v15.macs((256, 56, 56))
    assert _conv_weights(v15) == 256 * 128 + 9 * 128 * 128 + 128 * 512 + 256 * 512


def test_zero_pad_shortcut_has_no_parameters_and_pads_zeros():
    block = BasicBlock(16, 32, stride=2, shortcut="zero_pad")
    assert _count(block.shortcut) == 0
    assert _conv_weights(block) == 9 * 16 * 32 + 9 * 32 * 32
    x = torch.randn(1, 16, 8, 8)
    short = block.shortcut(x)
    assert short.shape == (1, 32, 4, 4)
    torch.testing.assert_close(short[:, :16], x[:, :, ::2, ::2])
    assert short[:, 16:].abs().sum() == 0
    projection = BasicBlock(16, 32, stride=2)
    assert _count(projection.shortcut) == 16 * 32 + 2 * 32


def test_residual_configuration_errors():
    with pytest.raises(ConfigError) as err:
        BasicBlock(16, 32, shortcut="identity")
    assert str(err.value) == (
        "BasicBlock: shortcut='identity' needs in_channels == out_channels and stride=1; use "
        "shortcut='projection' or 'zero_pad'. Received: in_channels=16, out_channels=32, stride=1"
    )
    with pytest.raises(ConfigError, match="Received: shortcut='option_c'"):
        BasicBlock(16, 16, shortcut="option_c")
    with pytest.raises(ConfigError, match="Received: stride_on='2x2'"):
        Bottleneck(16, 4, stride_on="2x2")
    with pytest.raises(ConfigError, match="cannot reduce channels"):
        BasicBlock(32, 16, 2, "zero_pad")


def test_block_shape_error_names_the_child():
    with pytest.raises(ShapeError) as err:
        Bottleneck(64, 16).output_shape((32, 8, 8))
    assert str(err.value).startswith("conv1: Conv2d(k=1, s=1) expects 64 input channels but "
                                     "received shape (32, 8, 8)")
    with pytest.raises(ShapeError, match=r"^conv1: Conv2d\(k=3, s=2\): \(8 − 3 \+ 2·1\)/2 \+ 1"):
        BasicBlock(4, 8, 2).output_shape((4, 8, 8), strict=True)
    assert BasicBlock(4, 8, 2).output_shape((4, 8, 8)) == (8, 4, 4)


def test_inception_3a_parameters():
    # GoogLeNet inception (3a): 192 -> 64, 96/128, 16/32, 32 (Szegedy et al. 2015, Table 1)
    block = InceptionBlock(192, 64, 96, 128, 16, 32, 32)
    assert block.output_shape((192, 28, 28)) == (256, 28, 28)
    assert block.out_channels == 256
    expected = (conv_params(192, 64, (1, 1)) + conv_params(192, 96, (1, 1))
                + conv_params(96, 128, (3, 3)) + conv_params(192, 16, (1, 1))
                + conv_params(16, 32, (5, 5)) + conv_params(192, 32, (1, 1)))
    assert _count(block) == expected == 163_696
    assert block.branch5[2].kernel_size == (5, 5)  # a real 5x5, not torchvision's 3x3


def test_inception_aux_head():
    aux = InceptionAux(512, 1000)
    # 14x14 -> 5x5/3 avg pool -> 4x4; 4·4·128 = 2048 features into FC 1024
    assert aux.fc1.in_features == 2048
    assert _count(aux) == (512 * 128 + 128) + (2048 * 1024 + 1024) + (1024 * 1000 + 1000)
    assert aux.dropout.p == 0.7
    assert aux.output_shape((512, 14, 14)) == (1000,)


def test_dense_block_and_transition():
    # DenseNet-121's first block: 64 channels, 6 layers, growth 32, bn_size 4
    block = DenseBlock(64, 6, 32)
    assert block.output_shape((64, 56, 56)) == (64 + 6 * 32, 56, 56) == (256, 56, 56)
    conv = sum(c * 128 + 9 * 128 * 32 for c in range(64, 256, 32))
    bn = sum(2 * c + 2 * 128 for c in range(64, 256, 32))
    assert _count(block) == conv + bn
    x = torch.randn(1, 64, 4, 4)
    torch.testing.assert_close(block.eval()(x)[:, :64], x)  # the input is kept as is
    t = Transition(256, 128)
    assert t.output_shape((256, 56, 56)) == (128, 28, 28)
    assert _count(t) == 2 * 256 + 256 * 128


def test_fire_module_parameters():
    # SqueezeNet fire2 (Iandola et al. 2016, Table 1): 96 -> s1x1=16, e1x1=64, e3x3=64
    fire = Fire(96, 16, 64, 64)
    assert fire.output_shape((96, 55, 55)) == (128, 55, 55)
    assert _count(fire) == (96 * 16 + 16) + (16 * 64 + 64) + (9 * 16 * 64 + 64) == 11_920


class _LeafTracer(torch.fx.Tracer):
    """Keeps striate's single layers as leaves, as the receptive-field engine does."""

    def is_leaf_module(self, m, qualified_name):
        from striate.layers import Layer

        if isinstance(m, Layer):
            return not any(True for _ in m.children())
        return super().is_leaf_module(m, qualified_name)


@pytest.mark.parametrize("block", [BasicBlock(4, 8, 2, "zero_pad"), Bottleneck(4, 2, 8, 2),
                                   InceptionBlock(4, 2, 2, 2, 2, 2, 2), DenseBlock(4, 2, 2),
                                   Fire(4, 2, 4, 4), Transition(4, 2)],
                         ids=lambda b: type(b).__name__)
def test_blocks_trace_with_fx(block):
    graph = _LeafTracer().trace(block)
    gm = torch.fx.GraphModule(block, graph)
    x = torch.randn(1, 4, 6, 6)
    torch.testing.assert_close(gm.eval()(x), block.eval()(x))


def test_merges_and_maxout_trace_with_the_default_tracer():
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.add, self.maxout = Add(), MaxoutPool(2)

        def forward(self, x):
            return self.maxout(self.add(x, x))

    net, x = Net(), torch.randn(2, 4, 3, 3)
    torch.testing.assert_close(torch.fx.symbolic_trace(net)(x), net(x))
