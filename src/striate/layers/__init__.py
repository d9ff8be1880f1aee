"""striate's building blocks: torch modules that know their own arithmetic.

Every layer subclasses the torch module it extends, keeps PyTorch's argument names, and adds
``output_shape``, ``macs``, ``rf``, ``config`` (see :mod:`striate.layers.base`). Spec names
(``striate.layers.registry.LAYERS``):

- convolution: ``conv1d``, ``conv2d`` (padding ``"valid"``/``"same"``/``"causal"``,
  ``flip_kernel``), ``conv_transpose1d``, ``conv_transpose2d``, ``separable_conv2d``
- pooling: ``max_pool1d``, ``max_pool2d`` (``return_indices`` = switches), ``avg_pool1d``,
  ``avg_pool2d``, ``l2_pool2d``, ``stochastic_pool2d``, ``global_avg_pool1d``,
  ``global_avg_pool2d``, ``global_max_pool1d``, ``global_max_pool2d``, ``maxout``
  (cross-channel), ``max_unpool2d``
- dense and friends: ``dense`` (input size inferred), ``flatten``, ``dropout``,
  ``dropout2d``, ``identity``
- normalisation: ``batch_norm1d``, ``batch_norm2d``, ``local_response_norm``
- activations: ``relu``, ``relu6``, ``leaky_relu``, ``elu``, ``gelu``, ``tanh``,
  ``sigmoid``, ``softmax``, ``log_softmax``
- merges (several inputs): ``add``, ``concat``, ``crop``
- blocks (:mod:`striate.layers.blocks`): ``basic_block``, ``bottleneck``,
  ``zero_pad_shortcut``, ``inception``, ``inception_aux``, ``dense_layer``, ``dense_block``,
  ``transition``, ``fire``

:class:`Sequential` folds the arithmetic of a chain of layers.
"""

from striate.layers.activation import (
    ELU,
    GELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    ReLU6,
    Sigmoid,
    Softmax,
    Tanh,
)
from striate.layers.base import Layer, RFParams, Shape
from striate.layers.container import Sequential, chain_macs, chain_shape
from striate.layers.conv import Conv1d, Conv2d
from striate.layers.dense import Dense, Dropout, Dropout2d, Flatten, Identity
from striate.layers.errors import ConfigError, ShapeError, StriateError
from striate.layers.merge import Add, Concat, Crop
from striate.layers.norm import BatchNorm1d, BatchNorm2d, LocalResponseNorm
from striate.layers.pool import (
    AvgPool1d,
    AvgPool2d,
    GlobalAvgPool1d,
    GlobalAvgPool2d,
    GlobalMaxPool1d,
    GlobalMaxPool2d,
    L2Pool2d,
    MaxPool1d,
    MaxPool2d,
)
from striate.layers.pool_special import MaxoutPool, MaxUnpool2d, StochasticPool2d
from striate.layers.registry import LAYERS, get_layer, register_layer
from striate.layers.separable import SeparableConv2d
from striate.layers.transposed import ConvTranspose1d, ConvTranspose2d

# Last, so that the blocks (built from the layers above) are in the registry too.
from striate.layers import blocks  # isort: skip
from striate.layers.blocks import (  # isort: skip
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

__all__ = [
    "ELU",
    "GELU",
    "LAYERS",
    "Add",
    "AvgPool1d",
    "AvgPool2d",
    "BasicBlock",
    "BatchNorm1d",
    "BatchNorm2d",
    "Bottleneck",
    "Concat",
    "ConfigError",
    "Conv1d",
    "Conv2d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "Crop",
    "Dense",
    "DenseBlock",
    "DenseLayer",
    "Dropout",
    "Dropout2d",
    "Fire",
    "Flatten",
    "GlobalAvgPool1d",
    "GlobalAvgPool2d",
    "GlobalMaxPool1d",
    "GlobalMaxPool2d",
    "Identity",
    "InceptionAux",
    "InceptionBlock",
    "L2Pool2d",
    "Layer",
    "LeakyReLU",
    "LocalResponseNorm",
    "LogSoftmax",
    "MaxPool1d",
    "MaxPool2d",
    "MaxUnpool2d",
    "MaxoutPool",
    "RFParams",
    "ReLU",
    "ReLU6",
    "SeparableConv2d",
    "Sequential",
    "Shape",
    "ShapeError",
    "Sigmoid",
    "Softmax",
    "StochasticPool2d",
    "StriateError",
    "Tanh",
    "Transition",
    "ZeroPadShortcut",
    "blocks",
    "chain_macs",
    "chain_shape",
    "get_layer",
    "register_layer",
]
