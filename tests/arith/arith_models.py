"""Models the arith tests summarise, written twice where it matters: with striate layers
and with plain ``torch.nn`` (the summary must agree row for row)."""

from __future__ import annotations

import torch
from torch import nn

import striate.layers as sl

# CS231n's VGG-16 (configuration D of Simonyan & Zisserman, 2015): 3x3 convs, stride 1,
# pad 1; 2x2 max pools, stride 2.
VGG16_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
             512, 512, 512, "M"]


def vgg16(striate: bool = True, num_classes: int = 1000) -> nn.Module:
    """VGG-16 as in the notes' table: convs with in-place ReLUs, pools, three FC layers
    (no dropout: the table has none). Built on the meta device (no weights allocated)."""
    lib = sl if striate else nn
    with torch.device("meta"):
        layers: list[nn.Module] = []
        channels = 3
        for v in VGG16_CFG:
            if v == "M":
                layers.append(lib.MaxPool2d(2, 2))
            else:
                layers += [lib.Conv2d(channels, v, 3, padding=1), lib.ReLU(inplace=True)]
                channels = v
        if striate:
            head = [sl.Flatten(), sl.Dense(4096, 512 * 7 * 7), sl.ReLU(inplace=True),
                    sl.Dense(4096, 4096), sl.ReLU(inplace=True), sl.Dense(num_classes, 4096)]
            return sl.Sequential(sl.Sequential(*layers), sl.Sequential(*head))
        head = [nn.Flatten(), nn.Linear(512 * 7 * 7, 4096), nn.ReLU(inplace=True),
                nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Linear(4096, num_classes)]
        return nn.Sequential(nn.Sequential(*layers), nn.Sequential(*head))


def context_module(channels: int = 4) -> nn.Module:
    """Yu & Koltun's basic context module (ICLR 2016, table 1): seven 3x3 convolutions with
    dilations 1, 1, 2, 4, 8, 16, 1 (padding = dilation keeps the size)."""
    return nn.Sequential(*[nn.Conv2d(channels, channels, 3, padding=d, dilation=d)
                           for d in (1, 1, 2, 4, 8, 16, 1)])


class TorchBasicBlock(nn.Module):
    """torchvision's BasicBlock layout, with one ReLU module reused twice."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


class TorchBottleneck(nn.Module):
    """torchvision's Bottleneck (ResNet v1.5: the stride on the 3x3 convolution)."""

    def __init__(self, cin: int, mid: int, stride: int = 1) -> None:
        super().__init__()
        cout = 4 * mid
        self.conv1 = nn.Conv2d(cin, mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


class TorchResNet50(nn.Module):
    """ResNet-50 in torchvision's layout (He et al., 2016), built on the meta device."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin, stages = 64, []
        for mid, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            layers = []
            for i in range(blocks):
                layers.append(TorchBottleneck(cin, mid, stride if i == 0 else 1))
                cin = 4 * mid
            stages.append(nn.Sequential(*layers))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(2048, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet50() -> nn.Module:
    with torch.device("meta"):
        return TorchResNet50()


class MiniInception(nn.Module):
    """Inception-style branches (1x1; 3x3; 5x5; pool + 1x1) concatenated on channels."""

    def __init__(self, c: int = 4) -> None:
        super().__init__()
        self.b1 = nn.Conv2d(c, c, 1)
        self.b3 = nn.Sequential(nn.Conv2d(c, c, 1), nn.Conv2d(c, c, 3, padding=1))
        self.b5 = nn.Sequential(nn.Conv2d(c, c, 1), nn.Conv2d(c, c, 5, padding=2))
        self.bp = nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(c, c, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(x)], 1)


class SmallNet(nn.Module):
    """The golden-table net: CS231n's [INPUT-CONV-RELU-POOL-FC] on 3x32x32, with a
    batch-norm container, a dropout and a 7x7 stride-2 conv that drops a column."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
            nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, stride=2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.5),
                                        nn.Linear(16 * 7 * 7, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class Scale(nn.Module):
    """A leaf the summary does not know, with a parameter."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight
