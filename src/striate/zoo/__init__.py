"""The model zoo: the classic CNNs of the course notes, by name, as their papers define them.

``create(name, num_classes=None, input_shape=None, **options)`` builds one (on the current
default device: ``with torch.device("meta")`` builds without memory), ``names()`` lists them
(by year) and ``info(name)`` gives the published facts (family, year, paper, parameters,
input). Every family module registers its models when imported; they are imported here.
"""

from __future__ import annotations

from striate.zoo import (  # noqa: F401  (importing a family registers its models)
    alexnet,
    densenet,
    dilated,
    fcn,
    genomics,
    googlenet,
    lenet,
    mobilenet,
    resnet,
    segnet,
    small,
    squeezenet,
    tdnn,
    vgg,
    wavenet,
)
from striate.zoo.registry import ModelInfo, create, info, names, register

__all__ = ["ModelInfo", "create", "info", "names", "register"]
