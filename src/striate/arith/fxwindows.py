"""Windows of the functional calls in an fx graph: ``F.max_pool2d``, ``F.conv2d``,
``F.pad`` and strided slices such as ``x[:, :, ::2, ::2]`` (the CIFAR ResNets' shortcut),
for the receptive-field pass of :mod:`striate.arith.receptive`."""

from __future__ import annotations

import operator

import torch.nn.functional as F
from torch import fx, nn

from striate.arith import foreign

Shape = tuple[int, ...]


def slice_window(node: fx.Node, in_shape: Shape | None) -> foreign.Window | None:
    """``x[:, :, ::2, ::2]`` (the CIFAR ResNets' shortcut) as a window of size 1."""
    index = node.args[1] if len(node.args) > 1 else None
    if in_shape is None or not isinstance(index, tuple):
        return None
    rank = len(in_shape) + 1  # with the batch axis
    if Ellipsis in index:
        at = index.index(Ellipsis)
        index = index[:at] + (slice(None),) * (rank - len(index) + 1) + index[at + 1:]
    index = index + (slice(None),) * (rank - len(index))
    if len(index) != rank or not all(isinstance(i, slice) for i in index):
        return None
    spatial = index[2:]
    starts, steps = [], []
    for axis, sl in zip(in_shape[1:], spatial, strict=True):
        if any(isinstance(v, fx.Node) for v in (sl.start, sl.stop, sl.step)):
            return None
        start, _, step = sl.indices(axis)
        starts.append(start)
        steps.append(step)
    n = len(spatial)
    # Starting at ``start`` is a negative padding of ``start``.
    return foreign.Window((1,) * n, tuple(steps), tuple(-s for s in starts), (0,) * n,
                          (1,) * n)


def pad_window(node: fx.Node, in_shape: Shape | None) -> foreign.Window | None:
    """``F.pad(x, (left, right, top, bottom, …))``: padding moves the field's start."""
    pads = node.args[1] if len(node.args) > 1 else node.kwargs.get("pad")
    if in_shape is None or not isinstance(pads, (tuple, list)) or any(
            not isinstance(p, int) for p in pads):
        return None
    n = len(in_shape) - 1
    before, after = [], []
    for i in range(n):
        k = n - 1 - i  # torch lists the last axis first
        before.append(pads[2 * k] if 2 * k < len(pads) else 0)
        after.append(pads[2 * k + 1] if 2 * k + 1 < len(pads) else 0)
    return foreign.Window((1,) * n, (1,) * n, tuple(before), tuple(after), (1,) * n)


def functional_window(node: fx.Node, shapes: dict[fx.Node, Shape]
                       ) -> nn.Module | foreign.Window | None:
    """A functional pooling, convolution, padding or slicing as a window."""
    fn = node.target
    first = node.all_input_nodes[0] if node.all_input_nodes else None
    if fn is operator.getitem:
        return slice_window(node, shapes.get(first))
    if fn is F.pad:
        return pad_window(node, shapes.get(first))
    pools = {F.max_pool1d: (nn.MaxPool1d, ["kernel_size", "stride", "padding", "dilation",
                                           "ceil_mode"]),
             F.max_pool2d: (nn.MaxPool2d, ["kernel_size", "stride", "padding", "dilation",
                                           "ceil_mode"]),
             F.avg_pool1d: (nn.AvgPool1d, ["kernel_size", "stride", "padding", "ceil_mode"]),
             F.avg_pool2d: (nn.AvgPool2d, ["kernel_size", "stride", "padding", "ceil_mode"])}
    if fn in pools:
        cls, names = pools[fn]
        options = dict(zip(names, node.args[1:], strict=False))
        options.update({k: v for k, v in node.kwargs.items() if k in names})
        if any(isinstance(v, fx.Node) for v in options.values()):
            return None
        return cls(**options)
    convs = {F.conv1d: nn.Conv1d, F.conv2d: nn.Conv2d, F.conv3d: nn.Conv3d}
    if fn in convs and len(node.args) > 1 and node.args[1] in shapes:
        names = ["stride", "padding", "dilation", "groups"]
        options = dict(zip(names, node.args[3:], strict=False))
        options.update({k: v for k, v in node.kwargs.items() if k in names})
        weight = shapes[node.args[1]]
        groups = int(options.get("groups", 1))
        return convs[fn](weight[1] * groups, weight[0], tuple(weight[2:]), bias=False,
                         device="meta", **options)
    return None
