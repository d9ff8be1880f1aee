"""Small models whose answers are known by construction."""

import pytest
import torch
from torch import nn


class RegionClassifier(nn.Module):
    """Two classes; the logit of class 1 is 8 x the mean of pixels [r0:r1, c0:c1] of channel 0,
    so nothing outside that region can matter."""

    def __init__(self, region=(slice(4, 12), slice(18, 26))):
        super().__init__()
        self.region = region
        self.conv = nn.Conv2d(1, 1, 1, bias=False)
        nn.init.ones_(self.conv.weight)
        self.relu = nn.ReLU()

    def forward(self, x):
        a = self.relu(self.conv(x))
        mask = torch.zeros_like(a)
        mask[(slice(None), slice(None), *self.region)] = 1
        s = (a * mask).sum(dim=(1, 2, 3)) / mask[0].sum()
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
