"""Training speed of striate against plain PyTorch loops, in the same process.

(a) LeNet-5 on the bundled MNIST digits: time for striate's default recipe to reach the
    final test accuracy of a tutorial loop (DataLoader over a TensorDataset, Adam 1e-3,
    batch 64, 10 epochs). Target: >= 3x sooner.
(b) CIFAR ResNet-20 on random 32x32 data, batch 128: training images/s of striate's Trainer
    vs the plain NCHW loop of the same model (SGD momentum, fp32). Target: >= 1.15x.
(c) MNIST-1D: striate's recipe on the zoo's mnist1d_cnn; test accuracy (target >= 95%, the
    paper's CNN: 94%) and time.

Run: python benchmarks/bench_train.py [a] [b] [c]   (all three by default)
"""

from __future__ import annotations

import math
import os
import platform
import sys
import time

import torch
import torch.nn.functional as F

from striate.train import Callback, TrainConfig, Trainer
from striate.train.demo import demo_data, demo_model
from striate.train.trainer import default_threads

# both sides of every comparison run with the same number of threads (the idle cores at
# start), so that the ratios measure the training recipes, not the thread pools
THREADS = default_threads()


def machine() -> str:
    """A one-line description of where the figures come from."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, "
            f"load average {load:.1f} at start")


def test_accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Top-1 on already preprocessed test inputs."""
    was = model.training
    model.eval()
    with torch.inference_mode():
        acc = (model(x).argmax(1) == y).float().mean().item()
    model.train(was)
    return acc


# test accuracy is probed this many times per epoch on both sides (off both clocks), so
# that time-to-accuracy is not rounded up to whole epochs
PROBES_PER_EPOCH = 4


def probe_steps(steps_per_epoch: int) -> set[int]:
    """The batches (1-based, within an epoch) after which the test accuracy is probed."""
    return {math.ceil(steps_per_epoch * k / PROBES_PER_EPOCH)
            for k in range(1, PROBES_PER_EPOCH + 1)}


class TestClock(Callback):
    """Records (training seconds so far, test accuracy) PROBES_PER_EPOCH times an epoch;
    the time spent on this test evaluation is excluded from the clock."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.x, self.y = x, y
        self.points: list[tuple[float, float]] = []
        self.paused = 0.0
        self.start = 0.0

    def on_train_start(self, trainer):
        self.start = time.perf_counter()

    def on_step_end(self, trainer, loss, correct, seen):
        if trainer.batch_in_epoch in probe_steps(trainer.steps_per_epoch):
            t0 = time.perf_counter()
            # the model striate keeps: the weight average when the recipe has one
            acc = test_accuracy(trainer.eval_model, self.x, self.y)
            self.points.append((t0 - self.start - self.paused, acc))
            self.paused += time.perf_counter() - t0

    def on_epoch_end(self, trainer, record):
        pass


class PlainLeNet:
    """The tutorial loop, advanced one epoch at a time so it can interleave with striate."""

    def __init__(self, train, x_test, y_test) -> None:
        from torch.utils.data import DataLoader, TensorDataset

        self.model = demo_model(0)
        # the tutorial's ToTensor + Pad(2) (28x28 digits into LeNet's 32x32)
        x = F.pad(train.x.float() / 255.0, (2, 2, 2, 2))
        self.loader = DataLoader(TensorDataset(x, train.y), batch_size=64, shuffle=True,
                                 generator=torch.Generator().manual_seed(0))
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.x_test, self.y_test = x_test, y_test
        self.points: list[tuple[float, float]] = []  # (seconds so far, test accuracy)
        self.seconds = 0.0
        self.epochs = 0

    def epoch(self) -> None:
        probes = probe_steps(len(self.loader))
        start = time.perf_counter()
        for i, (xb, yb) in enumerate(self.loader, 1):
            self.opt.zero_grad()
            loss = F.cross_entropy(self.model(xb), yb)
            loss.backward()
            self.opt.step()
            if i in probes:
                self.seconds += time.perf_counter() - start
                self.points.append((self.seconds,
                                    test_accuracy(self.model, self.x_test, self.y_test)))
                start = time.perf_counter()
        self.epochs += 1


class Interleave(TestClock):
    """TestClock that also runs ``per_epoch`` plain epochs after each striate epoch (off
    striate's clock), so that both loops see the same load from other processes."""

    def __init__(self, x, y, plain: PlainLeNet, per_epoch: int) -> None:
        super().__init__(x, y)
        self.plain, self.per_epoch = plain, per_epoch

    def on_epoch_end(self, trainer, record):
        super().on_epoch_end(trainer, record)
        t0 = time.perf_counter()
        for _ in range(self.per_epoch):
            if self.plain.epochs < 10:
                self.plain.epoch()
        self.paused += time.perf_counter() - t0


def bench_a(repeats: int = 3) -> None:
    """LeNet-5: tutorial loop vs striate's default recipe, time to the loop's accuracy.

    The plain loop's epochs run in between striate's (each off the other's clock) so that
    load from other processes hits both alike; ``repeats`` pairs, medians compared.
    """
    import statistics

    train, test = demo_data()
    torch.set_num_threads(THREADS)
    x_test = F.pad(test.x.float() / 255.0, (2, 2, 2, 2))
    probe = Trainer(demo_model(0), TrainConfig(progress=False, threads=THREADS))
    probe._prepare(train, None)  # striate's normalisation, for its test clock
    x_norm = probe.preprocess(test.x)

    def pair(epochs: int) -> tuple[PlainLeNet, list[tuple[float, float]]]:
        plain = PlainLeNet(train, x_test, test.y)
        clock = Interleave(x_norm, test.y, plain, math.ceil(10 / epochs))
        cfg = TrainConfig(epochs=epochs, progress=False, threads=THREADS)
        Trainer(demo_model(0), cfg, callbacks=[clock]).fit(train)
        while plain.epochs < 10:
            plain.epoch()
        return plain, clock.points

    plain, ours = pair(2)
    target = plain.points[-1][1]
    # the shortest schedule of the default recipe whose test accuracy reaches the target
    epochs = 2
    for epochs in (2, 3, 4, 6, 8, 10, 15, 25):
        if epochs != 2:
            plain, ours = pair(epochs)
        if any(a >= target for _, a in ours):
            break
    else:
        print("(a) striate did not reach the plain loop's accuracy")
        return
    plain_times = [next(t for t, a in plain.points if a >= target)]
    our_times = [next(t for t, a in ours if a >= target)]
    for _ in range(repeats - 1):
        plain, ours = pair(epochs)
        plain_times.append(next(t for t, a in plain.points if a >= target))
        our_times.append(next(t for t, a in ours if a >= target))
    p, o = statistics.median(plain_times), statistics.median(our_times)
    print(f"(a) plain loop (DataLoader over TensorDataset, Adam 1e-3, batch 64, 10 epochs): "
          f"final test accuracy {100 * target:.2f}%, reached after {p:.2f}s "
          f"(median of {[round(t, 2) for t in plain_times]})")
    print(f"    striate default recipe, {epochs}-epoch schedule: reached {100 * target:.2f}% "
          f"after {o:.2f}s (median of {[round(t, 2) for t in our_times]}); final "
          f"{100 * ours[-1][1]:.2f}%")
    print(f"(a) ratio {p / o:.2f}x sooner (target >= 3x)")


def bench_b(steps: int = 12, batch: int = 128) -> None:
    """ResNet-20 images/s: striate Trainer vs plain NCHW loop (same model, batch 128)."""
    from striate.arith.summary import summary
    from striate.zoo import create

    torch.set_num_threads(THREADS)
    n = steps * batch
    gen = torch.Generator().manual_seed(0)
    x = (torch.rand(n, 3, 32, 32, generator=gen) * 255).to(torch.uint8)
    y = torch.randint(0, 10, (n,), generator=gen)
    torch.manual_seed(0)
    macs = summary(create("resnet20"), (3, 32, 32)).totals
    macs = getattr(macs, "macs", None) or macs["macs"]
    # --- plain loop ---
    torch.manual_seed(0)
    model = create("resnet20")
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    xf = x.float() / 255.0

    def plain_epoch() -> float:
        t0 = time.perf_counter()
        for i in range(0, n, batch):
            opt.zero_grad()
            F.cross_entropy(model(xf[i:i + batch]), y[i:i + batch]).backward()
            opt.step()
        return n / (time.perf_counter() - t0)

    # --- striate, with a plain epoch run after each of its epochs (interleaved, so that
    # load from other processes hits both alike); each side keeps its best epoch ---
    plain_rates: list[float] = []

    class Interleave(Callback):
        def on_epoch_end(self, trainer, record):
            plain_rates.append(plain_epoch())

    cfg = TrainConfig(epochs=4, batch_size=batch, optimizer="sgd", lr=0.05,
                      schedule="constant", label_smoothing=0.0, crop_padding=0, rotate=0,
                      scale=0.0, val_fraction=0.0, ema=0.0, progress=False,
                      threads=THREADS)
    torch.manual_seed(0)
    trainer = Trainer(create("resnet20"), cfg, callbacks=[Interleave()])
    run = trainer.fit((x, y))
    ours = max(r["images_per_s"] for r in run.history[1:])  # epoch 1 is the warm-up
    plain = max(plain_rates[1:])
    gflops = lambda ips: 3 * macs * 2 * ips / 1e9  # noqa: E731
    print(f"(b) ResNet-20 ({macs / 1e6:.2f} M MACs/image), batch {batch}: plain NCHW "
          f"{plain:.0f} img/s ({gflops(plain):.1f} GFLOP/s, {torch.get_num_threads()} "
          f"threads); striate {ours:.0f} img/s ({gflops(ours):.1f} GFLOP/s, channels-last "
          f"{trainer.channels_last}); ratio {ours / plain:.2f}x (target >= 1.15x)")
    # not the default on the CPU (it changes the numerics), but what --precision bf16 buys
    # where the CPU multiplies bfloat16 in hardware (AMX, AVX-512 BF16)
    plain_rates.clear()
    torch.manual_seed(0)
    bf16 = Trainer(create("resnet20"), cfg.replace(precision="bf16"),
                   callbacks=[Interleave()]).fit((x, y))
    ours_bf16 = max(r["images_per_s"] for r in bf16.history[1:])
    plain = max(plain_rates[1:])
    print(f"    with --precision bf16: {ours_bf16:.0f} img/s against plain NCHW fp32 "
          f"{plain:.0f} img/s in the same run, {ours_bf16 / plain:.2f}x")


def bench_c() -> None:
    """MNIST-1D: test accuracy of striate's recipe on the zoo's mnist1d_cnn."""
    from striate.data import load_dataset
    from striate.zoo import create

    train, test = load_dataset("mnist1d"), load_dataset("mnist1d", "test")
    cfg = TrainConfig(epochs=60, batch_size=64, lr=1e-2, crop_padding=2, rotate=0,
                      progress=False, threads=THREADS)
    torch.manual_seed(0)
    started = time.perf_counter()
    trainer = Trainer(create("mnist1d_cnn"), cfg)
    run = trainer.fit(train)
    seconds = time.perf_counter() - started
    acc = run.evaluate(test).top1
    print(f"(c) MNIST-1D, mnist1d_cnn, {cfg.epochs} epochs: test accuracy {100 * acc:.2f}% "
          f"(paper's CNN: 94%; target >= 95%) in {seconds:.1f}s")


if __name__ == "__main__":
    which = sys.argv[1:] or ["a", "b", "c"]
    print(machine(), f"; {THREADS} threads for every loop")
    for name in which:
        {"a": bench_a, "b": bench_b, "c": bench_c}[name]()
