"""Time and peak memory of occlusion and top-k patches on a 224x224 model (random weights).

Peers, measured in the same run on the same machine (captum is not installed):

- occlusion: ``striate.interpret.occlusion`` (occluded copies run ``--batch-size`` at a time)
  against a naive loop that runs one occluded image at a time;
- top-k patches: ``striate.interpret.top_patches`` (a running top-k per channel) against
  holding every image's activations of the layer and taking the top-k at the end.

Each variant runs in a fresh process so that its peak resident memory (``ru_maxrss``, minus
what the process held after building the model and data) is its own.

    python benchmarks/bench_interpret.py [--images 256] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import torch
from torch import nn


def vggish(classes: int = 10) -> nn.Module:
    """A VGG-like network for 224x224 RGB: four conv-relu-pool stages, GAP, dense."""
    layers: list[nn.Module] = []
    c_in = 3
    for c_out in (16, 32, 64, 64):
        layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        c_in = c_out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, classes)]
    return nn.Sequential(*layers).eval()


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def naive_occlusion(model: nn.Module, image: torch.Tensor, size: int, stride: int,
                    fill: float) -> np.ndarray:
    """The peer: one forward pass per square position."""
    h, w = image.shape[1:]
    rows = list(range(0, h - size + 1, stride))
    cols = list(range(0, w - size + 1, stride))
    with torch.no_grad():
        pred = int(model(image[None]).argmax())
        out = np.zeros((len(rows), len(cols)))
        for i, r in enumerate(rows):
            for j, c in enumerate(cols):
                x = image.clone()
                x[:, r:r + size, c:c + size] = fill
                out[i, j] = float(torch.softmax(model(x[None]), 1)[0, pred])
    return out


def hold_all_topk(model: nn.Module, x: torch.Tensor, layer: int, k: int,
                  batch_size: int) -> torch.Tensor:
    """The peer: keep every image's activations of the layer, then the top-k per channel."""
    acts = []
    with torch.no_grad():
        for s in range(0, len(x), batch_size):
            acts.append(model[:layer + 1](x[s:s + batch_size].float() / 255))
    allacts = torch.cat(acts)  # (N, C, H, W): the whole data set's activations
    best = allacts.flatten(2).amax(dim=2)
    return torch.topk(best.T, k, dim=1).indices


def run_variant(name: str, images: int, threads: int) -> dict[str, float]:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = vggish()
    gen = torch.Generator().manual_seed(0)
    image = torch.rand(3, 224, 224, generator=gen)
    data = torch.randint(0, 256, (images, 3, 224, 224), dtype=torch.uint8, generator=gen)
    base = _rss_mib()
    t = time.perf_counter()
    if name == "occlusion":
        from striate.interpret import occlusion

        res = occlusion(model, image, size=32, stride=16, fill=0.5, batch_size=32, layer="9")
        shape = res.pred_prob.shape
    elif name == "occlusion-naive":
        shape = naive_occlusion(model, image, 32, 16, 0.5).shape
    elif name == "topk":
        from striate.interpret import top_patches

        res = top_patches(model, data, "4", k=9, batch_size=32, deconv=False)
        shape = (len(res.channels), len(res.channels[0].indices))
    else:
        shape = tuple(hold_all_topk(model, data, 4, 9, 32).shape)
    seconds = time.perf_counter() - t
    return {"seconds": seconds, "peak_mib": _rss_mib() - base, "shape": list(shape)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=256, help="images scanned for top-k")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args.variant, args.images, args.threads)))
        return
    results = {}
    for name in ("occlusion", "occlusion-naive", "topk", "topk-hold-all"):
        out = subprocess.run([sys.executable, __file__, "--variant", name, "--images",
                              str(args.images), "--threads", str(args.threads)],
                             check=True, capture_output=True, text=True).stdout
        results[name] = json.loads(out.strip().splitlines()[-1])
        r = results[name]
        print(f"{name:16s} {r['seconds']:8.2f} s   peak +{r['peak_mib']:7.1f} MiB   "
              f"result {tuple(r['shape'])}")
    occ, naive = results["occlusion"], results["occlusion-naive"]
    top, hold = results["topk"], results["topk-hold-all"]
    print(f"occlusion 224x224, square 32, stride 16 ({np.prod(occ['shape'])} positions): "
          f"batched is {naive['seconds'] / occ['seconds']:.2f}x the speed of one at a time")
    print(f"top-9 over {args.images} images at layer 4 (32x112x112): running top-k uses "
          f"{top['peak_mib']:.0f} MiB vs {hold['peak_mib']:.0f} MiB holding all "
          f"({hold['peak_mib'] / max(top['peak_mib'], 1e-9):.1f}x), time "
          f"{top['seconds']:.2f} s vs {hold['seconds']:.2f} s")


if __name__ == "__main__":
    main()
