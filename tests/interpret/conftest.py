"""Small models whose answers are known by construction."""

import pytest
import torch
from torch import nn


class RegionMask(nn.Module):
    """Zero everything outside rows 4…11 and columns 18…25."""

    region = (slice(4, 12), slice(18, 26))

    def forward(self, a):
        mask = torch.zeros_like(a)
        mask[(slice(None), slice(None), *self.region)] = 1
        return a * mask


class RegionClassifier(nn.Module):
    """Two classes; the logit of class 1 is 8 x the mean of the 64 pixels of the region, so
    nothing outside that region can matter."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 1, bias=False)
        nn.init.ones_(self.conv.weight)
        self.relu = nn.ReLU()
        self.mask = RegionMask()

    def forward(self, x):
        s = self.mask(self.relu(self.conv(x))).sum(dim=(1, 2, 3)) / 64
        return torch.stack([torch.zeros_like(s), 8 * s], dim=1)


@pytest.fixture
def region_model():
    return RegionClassifier().eval()


@pytest.fixture
def small_cnn():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(6 * 3 * 3, 16), nn.ReLU(), nn.Linear(16, 3),
    )
    return model.eval()
