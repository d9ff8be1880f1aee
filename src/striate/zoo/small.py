"""The small networks of the course notes, so that they can be trained by name.

Sources: the Keras examples (2015) as Bacciu's ISPR course notes (Università di Pisa) show
them; Gulli, Kapoor & Pal, *Deep Learning with TensorFlow 2 and Keras* (2019); Karpathy's
CS231n notes (2015); Greydanus, MNIST-1D (2020).

- ``keras_mnist``: the "Specifying CNN in Code (Keras)" slide — Conv2D(32, 5x5) + ReLU,
  2x2 max pooling, Conv2D(64, 5x5) + ReLU, 2x2 max pooling, Dense(1000) + ReLU,
  Dense(classes). At 28x28: 24 → 12 → 8 → 4, so the dense layer takes 64·4·4 = 1,024
  inputs: 832 + 51,264 + 1,025,000 + 10,010 = 1,087,106 parameters.
- ``keras_cifar10``: the "Example with RGB Images" slides (after Gulli et al., *Deep
  Learning with TensorFlow 2 and Keras*) — Conv2D(32, 3x3, valid) + ReLU, 2x2 max pooling,
  Dropout(0.25), Dense(512) + ReLU, Dropout(0.5), Dense(classes). At 32x32: 30 → 15, so
  7,200 inputs: 896 + 3,686,912 + 5,130 = 3,692,938 parameters.
- ``cs231n_cifar``: CS231n's ``[INPUT - CONV - RELU - POOL - FC]`` (notes, "ConvNet
  architectures"): 12 filters giving 32x32x12, 2x2 max pooling to 16x16x12, FC to the
  classes. The notes leave the kernel size open; striate uses 3x3 with padding 1 (their
  usual ``F=3, S=1, P=1`` setting, which keeps 32x32): 336 + 30,730 = 31,066 parameters.

The Keras softmax layers are left out: striate models return logits and the loss applies
the softmax (``nn.CrossEntropyLoss``), which is the same model trained the same way.
"""

from __future__ import annotations

import torch.nn as nn

from striate.zoo import _nn
from striate.zoo._probe import flat_size
from striate.zoo.registry import register

_NOTES = ("Bacciu, Convolutional Neural Networks, ISPR course notes, Università di Pisa "
          "(Keras examples)")


@register("keras_mnist", family="small", year=2015, paper=_NOTES, params=1_087_106,
          input_shape=(1, 28, 28), num_classes=10,
          description="Keras MNIST CNN of the notes: 2 convs 5x5 (32, 64), dense 1000")
def keras_mnist(*, num_classes: int = 10, input_shape: tuple[int, ...] = (1, 28, 28),
                hidden: int = 1000) -> nn.Module:
    """The Keras MNIST network of the course notes (see the module docstring).

    Shape:
        (C, H, W) -> (num_classes,)
    """
    features = _nn.seq(
        ("conv1", _nn.conv2d(input_shape[0], 32, 5)), ("relu1", _nn.relu()),
        ("pool1", _nn.max_pool2d(2, 2)),
        ("conv2", _nn.conv2d(32, 64, 5)), ("relu2", _nn.relu()),
        ("pool2", _nn.max_pool2d(2, 2)),
    )
    classifier = _nn.seq(
        ("flatten", _nn.flatten()),
        ("fc1", _nn.dense(flat_size(features, input_shape), hidden)), ("relu3", _nn.relu()),
        ("fc2", _nn.dense(hidden, num_classes)),
    )
    return _nn.Net(features, classifier)


@register("keras_cifar10", family="small", year=2019, paper=_NOTES, params=3_692_938,
          input_shape=(3, 32, 32), num_classes=10,
          description="Keras CIFAR-10 CNN of the notes: conv 3x3 32, pool, dense 512")
def keras_cifar10(*, num_classes: int = 10, input_shape: tuple[int, ...] = (3, 32, 32),
                  hidden: int = 512) -> nn.Module:
    """The Keras CIFAR-10 network of the course notes (see the module docstring).

    Shape:
        (C, H, W) -> (num_classes,)
    """
    features = _nn.seq(
        ("conv1", _nn.conv2d(input_shape[0], 32, 3)), ("relu1", _nn.relu()),
        ("pool1", _nn.max_pool2d(2, 2)), ("drop1", _nn.dropout(0.25)),
    )
    classifier = _nn.seq(
        ("flatten", _nn.flatten()),
        ("fc1", _nn.dense(flat_size(features, input_shape), hidden)), ("relu2", _nn.relu()),
        ("drop2", _nn.dropout(0.5)),
        ("fc2", _nn.dense(hidden, num_classes)),
    )
    return _nn.Net(features, classifier)


@register("cs231n_cifar", family="small", year=2015,
          paper="Karpathy, CS231n Convolutional Neural Networks for Visual Recognition, notes",
          params=None, input_shape=(3, 32, 32), num_classes=10,
          description="CS231n [INPUT-CONV-RELU-POOL-FC]: 12 filters 3x3, pool, FC")
def cs231n_cifar(*, num_classes: int = 10, input_shape: tuple[int, ...] = (3, 32, 32),
                 filters: int = 12, kernel: int = 3) -> nn.Module:
    """CS231n's first ConvNet, ``[INPUT - CONV - RELU - POOL - FC]``.

    Args:
        filters: convolution filters (the notes' example: 12).
        kernel: odd kernel size; padding ``(kernel - 1)/2`` keeps the input size.

    Shape:
        (C, H, W) -> (num_classes,)
    """
    if kernel % 2 == 0:
        from striate.layers.errors import ConfigError

        raise ConfigError(f"cs231n_cifar: kernel must be odd so that padding (kernel − 1)/2 "
                          f"keeps the size. Received: kernel={kernel}")
    features = _nn.seq(
        ("conv", _nn.conv2d(input_shape[0], filters, kernel, padding=kernel // 2)),
        ("relu", _nn.relu()), ("pool", _nn.max_pool2d(2, 2)),
    )
    classifier = _nn.seq(
        ("flatten", _nn.flatten()),
        ("fc", _nn.dense(flat_size(features, input_shape), num_classes)),
    )
    return _nn.Net(features, classifier)


@register("mnist1d_cnn", family="small", year=2020,
          paper="Greydanus, Scaling down deep learning (MNIST-1D), arXiv 2011.14439",
          params=5_210, input_shape=(1, 40), num_classes=10,
          description="MNIST-1D benchmark CNN: 3 strided 1-D convs of 25 channels, linear")
def mnist1d_cnn(*, num_classes: int = 10, input_shape: tuple[int, ...] = (1, 40),
                channels: int = 25) -> nn.Module:
    """The convolutional baseline of the MNIST-1D benchmark (Greydanus 2020, the ``mnist1d``
    package's ``ConvBase``): 1-D convolutions 5/2 (padding 1), 3/2 and 3/2 (padding 1) with
    ReLU, then a linear layer. On the 40-sample signals: 40 → 19 → 10 → 5, so 25·5 = 125
    inputs: 150 + 1,900 + 1,900 + 1,260 = 5,210 parameters.

    Shape:
        (C, L) -> (num_classes,)
    """
    features = _nn.seq(
        ("conv1", _nn.conv1d(input_shape[0], channels, 5, stride=2, padding=1)),
        ("relu1", _nn.relu()),
        ("conv2", _nn.conv1d(channels, channels, 3, stride=2, padding=1)), ("relu2", _nn.relu()),
        ("conv3", _nn.conv1d(channels, channels, 3, stride=2, padding=1)), ("relu3", _nn.relu()),
    )
    classifier = _nn.seq(("flatten", _nn.flatten()),
                         ("linear", _nn.dense(flat_size(features, input_shape), num_classes)))
    return _nn.Net(features, classifier)
