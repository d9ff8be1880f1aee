"""Composite blocks built from striate layers: residual (``BasicBlock``, ``Bottleneck``,
``ZeroPadShortcut``), ``InceptionBlock`` and ``InceptionAux``, ``DenseLayer``,
``DenseBlock`` and ``Transition``, and ``Fire``.

Each takes plain options (so ``config()`` is JSON-able), and gets ``output_shape``/``macs``
by folding over its children; ``rf()`` is None (the receptive-field engine traces inside).
"""

from striate.layers.blocks.densenet import DenseBlock, DenseLayer, Transition
from striate.layers.blocks.inception import InceptionAux, InceptionBlock
from striate.layers.blocks.residual import BasicBlock, Bottleneck, ZeroPadShortcut
from striate.layers.blocks.squeeze import Fire

__all__ = [
    "BasicBlock",
    "Bottleneck",
    "DenseBlock",
    "DenseLayer",
    "Fire",
    "InceptionAux",
    "InceptionBlock",
    "Transition",
    "ZeroPadShortcut",
]
