"""Benchmark: ``striate.summary`` (meta device) against a summary made with a real forward.

For a 224x224 VGG-16 and ResNet-50 from the zoo, each measurement runs in a fresh Python
process, so that peak memory is that of one method alone:

- striate: build the model on the meta device (as ``striate summary`` does) and summarise.
- real forward (the peer): torchinfo-style forward hooks recording every module's output
  shape, on a real random input, under ``torch.no_grad()``, with the model's real weights
  on the CPU.

Memory is the process's peak resident set size (``resource.getrusage(RUSAGE_SELF)
.ru_maxrss``, KiB on Linux), read once after ``import torch`` and the model build
(``base``) and once after the summary (``peak``); ``peak − base`` is what the summary
itself added. tracemalloc would miss torch's C++ allocations, which is why RSS is used.

Run: ``python benchmarks/bench_summary.py``
"""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
import torch
from striate import zoo

name, method = sys.argv[1], sys.argv[2]
torch.manual_seed(0)

def rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

if method == "striate":
    from striate.arith.summary import summary
    with torch.device("meta"):
        model = zoo.create(name)
    base = rss_mib()
    start = time.perf_counter()
    result = summary(model, model.default_input_shape)
    wall = time.perf_counter() - start
    macs, params = result.totals["macs"], result.totals["params"]
else:
    model = zoo.create(name).eval()
    base = rss_mib()
    start = time.perf_counter()
    shapes = []
    hooks = [m.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape)))
             for m in model.modules()]
    with torch.no_grad():
        model(torch.randn(1, *model.default_input_shape))
    for h in hooks:
        h.remove()
    wall = time.perf_counter() - start
    macs, params = None, sum(p.numel() for p in model.parameters())
print(json.dumps({"wall_s": wall, "base_mib": base, "peak_mib": rss_mib(), "macs": macs,
                  "params": params}))
"""


def measure(name: str, method: str) -> dict:
    """Run one measurement in a fresh interpreter and return its figures."""
    out = subprocess.run([sys.executable, "-c", CHILD, name, method], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    print(f"{'model':10} {'method':13} {'wall s':>8} {'base MiB':>9} {'peak MiB':>9} "
          f"{'added MiB':>10}")
    for name in ("vgg16", "resnet50"):
        results = {m: measure(name, m) for m in ("striate", "real-forward")}
        for method, r in results.items():
            print(f"{name:10} {method:13} {r['wall_s']:8.3f} {r['base_mib']:9.0f} "
                  f"{r['peak_mib']:9.0f} {r['peak_mib'] - r['base_mib']:10.0f}")
        ours, peer = results["striate"], results["real-forward"]
        print(f"{name:10} striate / real forward: wall x{ours['wall_s'] / peer['wall_s']:.2f}, "
              f"peak memory x{ours['peak_mib'] / peer['peak_mib']:.2f}; striate MACs "
              f"{ours['macs'] / 1e9:.2f} G, params {ours['params']:,}")
        if ours["peak_mib"] > 1024:
            print(f"WARNING: the striate summary of {name} peaked above 1 GiB")


if __name__ == "__main__":
    main()
