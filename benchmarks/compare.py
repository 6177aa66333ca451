"""Training speed side by side, as each framework's users get it: our engine, the original method
(the blog's per-sample scipy loops, cnn/reference.py), PyTorch and Keras, on the same data,
network, batch size and dtype.

    python -m benchmarks.compare [--seconds 3] [--rounds 3] [--json results.json] [--busy]

Every measurement is a fresh process of its own (`--worker`), started with this process's
environment as it is: each framework runs at its own defaults (its threads, its OpenMP wait
policy); nothing here sets one. Rounds alternate the frameworks' order; a row reports each one's
median over the rounds. Samples per second count forward + backward + update; our engine is
measured through its real training loop (cnn.train.train, with its gradient norms and finiteness
checks). The epoch row takes the whole 60,000-image training set once, shuffled, after a few
warm-up batches (Keras traces its step then; our engine loads its compiled loops).

The report starts with the machine, the load average before and after, and the BLAS peak measured
with both cores (numpy's default threads, in a process of its own); each rate is also shown as a
share of that peak. --busy measures the batch-64 rows again beside a process that keeps one core
busy; those rows are labelled so. PyTorch and Keras are optional (pip install -e ".[bench]"); a
missing one is skipped with a note.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy as np

FRAMEWORKS = ("ours", "reference", "pytorch", "keras")
MODULES = {"pytorch": "torch", "keras": "keras"}


@dataclass(frozen=True)
class Row:
    title: str
    kind: str            # "original" or "digits"
    batch: int
    dtype: str
    frameworks: tuple


ROWS = [
    Row("original net, batch 1, float64", "original", 1, "float64", ("ours", "reference", "pytorch")),
    Row("original net, batch 64, float64", "original", 64, "float64", ("ours", "pytorch")),
    Row("ten-digit net, batch 64, float32", "digits", 64, "float32", ("ours", "pytorch", "keras")),
]
EPOCH = Row("ten-digit net, one epoch of all 60,000 images, batch 64, float32", "digits", 64, "float32",
            ("ours", "pytorch", "keras"))
TARGETS = {  # (row title, competitor) → the ratio the issues ask for
    (ROWS[0].title, "reference"): 5.0, (ROWS[0].title, "pytorch"): 2.0,
    (ROWS[1].title, "pytorch"): 1.2,
    (ROWS[2].title, "pytorch"): 1.0, (ROWS[2].title, "keras"): 1.5,
}
LEARNING = {"original": (0.1, 0.0), "digits": (0.05, 0.9)}   # (learning rate, momentum) of each row's SGD


# -- the workers: each runs in a process of its own --------------------------------------------
def load_rows(path: str):
    with np.load(path) as arrays:
        return arrays["x"], arrays["y"]


def build_ours(kind: str, classes: int, dtype: str):
    from cnn.losses import get_loss
    from cnn.optim import SGD
    from cnn.presets import digits_network, original_network
    network = (original_network if kind == "original" else digits_network)(classes, 0, dtype)
    loss = get_loss("binary_cross_entropy" if kind == "original" else "softmax_cross_entropy")
    return network, loss, SGD(*LEARNING[kind])


def ours(kind, batch, dtype, x, y, seconds, epoch):
    from cnn.data import Dataset, Split
    from cnn.train import StepRecord, train
    labels = y.argmax(axis=1)
    network, loss, optimizer = build_ours(kind, y.shape[1], dtype)
    dataset = Dataset(Split(x, y, labels), Split(x[:64], y[:64], labels[:64]), tuple(range(y.shape[1])))
    warm = Dataset(Split(x[:4 * batch], y[:4 * batch], labels[:4 * batch]), dataset.test, dataset.classes)
    for _ in train(network, warm, loss, optimizer, 1, batch):
        pass
    samples, started = 0, time.perf_counter()
    for record in train(network, dataset, loss, optimizer, 1 if epoch else 1000, batch, reshuffle=True):
        if isinstance(record, StepRecord):   # one run, as a user's: its steps go on from epoch to epoch
            samples += record.batch_size
            if not epoch and time.perf_counter() - started >= seconds:
                break
    return samples, time.perf_counter() - started


def reference(kind, batch, dtype, x, y, seconds, epoch):
    """The blog's code, per sample (the original network, float64)."""
    from cnn import reference as blog
    from cnn.presets import original_network
    layers = blog.from_engine(original_network(y.shape[1], 0, dtype))
    samples, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        blog.train_step(layers, x[samples % len(x)], y[samples % len(x)][:, None], 0.1)
        samples += 1
    return samples, time.perf_counter() - started


def pytorch(kind, batch, dtype, x, y, seconds, epoch):
    import torch
    from torch import nn
    torch.manual_seed(0)
    model, loss_fn = torch_model(kind, y.shape[1])
    model = model.to(getattr(torch, dtype))
    rate, momentum = LEARNING[kind]
    optimizer = torch.optim.SGD(model.parameters(), lr=rate, momentum=momentum)
    x, y = torch.from_numpy(x), torch.from_numpy(y if kind == "original" else y.argmax(axis=1))
    if isinstance(loss_fn, nn.BCELoss):
        y = y.to(x.dtype)

    def step(index):
        optimizer.zero_grad()
        loss_fn(model(x[index]), y[index]).backward()
        optimizer.step()
    for start in range(0, 4 * batch, batch):
        step(slice(start, start + batch))
    samples, started = 0, time.perf_counter()
    while epoch or time.perf_counter() - started < seconds:
        order = torch.randperm(len(x))
        for start in range(0, len(x) - batch + 1 if not epoch else len(x), batch):
            index = order[start:start + batch]
            step(index)
            samples += len(index)
            if not epoch and time.perf_counter() - started >= seconds:
                break
        if epoch:
            break
    return samples, time.perf_counter() - started


def torch_model(kind: str, classes: int):
    import torch
    from torch import nn
    if kind == "original":
        class Original(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(1, 5, 3, bias=False)
                self.bias = nn.Parameter(torch.randn(5, 26, 26))
                self.rest = nn.Sequential(nn.Sigmoid(), nn.Flatten(), nn.Linear(3380, 100), nn.Sigmoid(),
                                          nn.Linear(100, classes), nn.Sigmoid())

            def forward(self, x):
                return self.rest(self.conv(x) + self.bias)
        return Original(), nn.BCELoss()
    model = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 64), nn.ReLU(), nn.Linear(64, classes))
    return model, nn.CrossEntropyLoss()


def keras(kind, batch, dtype, x, y, seconds, epoch):
    """The ten-digit network in Keras at its defaults (float32), fitted from numpy arrays."""
    import keras as k
    k.utils.set_random_seed(0)
    x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    model = k.Sequential([k.Input((28, 28, 1)), k.layers.Conv2D(8, 3, activation="relu"), k.layers.MaxPooling2D(2),
                          k.layers.Conv2D(16, 3, activation="relu"), k.layers.MaxPooling2D(2), k.layers.Flatten(),
                          k.layers.Dense(64, activation="relu"), k.layers.Dense(y.shape[1])])
    model.compile(optimizer=k.optimizers.SGD(*LEARNING[kind]),
                  loss=k.losses.CategoricalCrossentropy(from_logits=True))
    model.fit(x[:batch * 4], y[:batch * 4], batch_size=batch, epochs=1, verbose=0)   # builds and traces the step
    count = len(x) if epoch else max(batch, min(len(x), int(seconds * 400 * batch ** 0.5)) // batch * batch)
    started = time.perf_counter()
    model.fit(x[:count], y[:count], batch_size=batch, epochs=1, verbose=0, shuffle=True)
    return count, time.perf_counter() - started


def blas_peak() -> dict:
    """GFLOP/s of a 1024² GEMM with numpy's default threads (this process imports nothing else)."""
    peaks = {}
    for dtype in ("float64", "float32"):
        a = np.random.default_rng(0).standard_normal((1024, 1024)).astype(dtype)
        a @ a
        started, count = time.perf_counter(), 0
        while time.perf_counter() - started < 1.0:
            a @ a
            count += 1
        peaks[dtype] = count * 2 * 1024**3 / (time.perf_counter() - started)
    return peaks


def worker(args) -> int:
    if args.worker == "peak":
        print(json.dumps(blas_peak()))
        return 0
    x, y = load_rows(args.data)
    run = {"ours": ours, "reference": reference, "pytorch": pytorch, "keras": keras}[args.worker]
    samples, seconds = run(args.kind, args.batch, args.dtype, x, y, args.seconds, args.epoch)
    module = MODULES.get(args.worker)
    version = __import__(module).__version__ if module else np.__version__
    print(json.dumps({"samples": samples, "seconds": seconds, "version": version}))
    return 0


# -- the parent: data, rounds, report ----------------------------------------------------------
def row_data(kind: str, dtype: str, folder: str, whole: bool) -> str:
    """The row's training images and one-hot labels, saved for its workers (4,096 of them, or all)."""
    from cnn.data import load_mnist, prepare
    classes = (0, 1) if kind == "original" else tuple(range(10))
    dataset = prepare(load_mnist(), classes, None, seed=0, dtype=dtype)
    n = len(dataset.train.x) if whole else 4096
    path = os.path.join(folder, f"{kind}-{dtype}-{n}.npz")
    if not os.path.exists(path):
        np.savez(path, x=dataset.train.x[:n], y=dataset.train.y[:n])
    return path


def spawn(framework: str, row: Row | None, data: str | None, seconds: float, epoch: bool = False) -> dict:
    command = [sys.executable, "-m", "benchmarks.compare", "--worker", framework]
    if row is not None:
        command += ["--kind", row.kind, "--batch", str(row.batch), "--dtype", row.dtype, "--data", data,
                    "--seconds", str(seconds)] + (["--epoch"] if epoch else [])
    done = subprocess.run(command, capture_output=True, text=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    if done.returncode != 0:
        raise SystemExit(f"{framework} failed on {row.title if row else 'the BLAS peak'}:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(row: Row, frameworks: list, data: str, args, epoch: bool = False) -> dict[str, list[float]]:
    """Each framework's results over the rounds (samples/s, or seconds for the epoch row), the order
    of the frameworks turned by one each round."""
    results = {name: [] for name in frameworks}
    for round_ in range(args.rounds):
        turned = frameworks[round_ % len(frameworks):] + frameworks[:round_ % len(frameworks)]
        for name in turned:
            done = spawn(name, row, data, args.seconds, epoch)
            results[name].append(done["seconds"] if epoch else done["samples"] / done["seconds"])
            VERSIONS[name] = done["version"]
    return results


VERSIONS: dict[str, str] = {}


def flops_per_sample(kind: str) -> float:
    """Multiply-adds ×2 of the forward pass, ×3 for forward + the two backward products."""
    from cnn.presets import digits_network, original_network
    network = (original_network if kind == "original" else digits_network)(2 if kind == "original" else 10, 0)
    total = 0.0
    for layer in network.layers:
        if "kernels" in layer.params:
            d, c, k, _ = layer.params["kernels"].shape
            total += 2 * d * c * k * k * np.prod(layer.out_hw)
        elif "weights" in layer.params:
            total += 2 * layer.params["weights"].size
    return 3 * total


def report_row(row: Row, results: dict, peak: float, label: str = "") -> dict:
    medians = {n: statistics.median(r) for n, r in results.items()}
    flops = flops_per_sample(row.kind)
    print(f"\n{row.title}{label}  ({flops / 1e6:.2f} MFLOP per sample)")
    for name, rate in medians.items():
        spread = ", ".join(f"{r:,.0f}" for r in results[name])
        print(f"  {name:10s} {rate:10,.0f} samples/s  {100 * rate * flops / peak:5.1f}% of the BLAS peak  ({spread})")
    ratios = {o: medians["ours"] / medians[o] for o in medians if o != "ours"}
    for other, ratio in ratios.items():
        target = TARGETS.get((row.title, other)) if not label else None
        verdict = f" (target {target:.1f}×: {'met' if ratio >= target else 'NOT met'})" if target else ""
        print(f"  ours / {other}: {ratio:.2f}×{verdict}")
    return {"row": row.title + label, "samples_per_second": medians, "all": results, "ratios": ratios}


def report_epoch(results: dict) -> dict:
    medians = {n: statistics.median(r) for n, r in results.items()}
    print(f"\n{EPOCH.title}")
    for name, seconds in medians.items():
        spread = ", ".join(f"{s:.1f}" for s in results[name])
        print(f"  {name:10s} {seconds:6.1f} s per epoch  ({spread})")
    for other in medians:
        if other != "ours":
            print(f"  ours / {other}: {medians[other] / medians['ours']:.2f}× as fast")
    return {"row": EPOCH.title, "seconds": medians, "all": results}


def available(framework: str) -> bool:
    module = MODULES.get(framework)
    if module is None:
        return True
    found = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True).returncode == 0
    if not found:
        print(f"note: {module} is not installed; {framework} is skipped (pip install -e '.[bench]')")
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="training time per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", metavar="PATH", help="also write the results here")
    parser.add_argument("--busy", action="store_true",
                        help="also measure the batch-64 rows while another process keeps one core busy")
    parser.add_argument("--no-epoch", action="store_true", help="leave out the whole-epoch row")
    parser.add_argument("--worker", choices=(*FRAMEWORKS, "peak"), help=argparse.SUPPRESS)
    for option, kind in (("--kind", str), ("--batch", int), ("--dtype", str), ("--data", str)):
        parser.add_argument(option, type=kind, help=argparse.SUPPRESS)
    parser.add_argument("--epoch", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    present = [f for f in FRAMEWORKS if available(f)]
    load_before = os.getloadavg()
    peaks = spawn("peak", None, None, 0)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; "
          f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    print(f"BLAS peak with both cores: {peaks['float64'] / 1e9:.0f} GFLOP/s float64, "
          f"{peaks['float32'] / 1e9:.0f} GFLOP/s float32")
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for row in ROWS:
            frameworks = [f for f in row.frameworks if f in present]
            data = row_data(row.kind, row.dtype, folder, whole=False)
            results.append(report_row(row, measure(row, frameworks, data, args), peaks[row.dtype]))
            if args.busy and row.batch > 1:
                spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
                try:
                    busy = measure(row, frameworks, data, args)
                finally:
                    spinner.kill()
                    spinner.wait()
                label = " — WITH ONE CORE BUSY (a spinning process)"
                results.append(report_row(row, busy, peaks[row.dtype], label=label))
        if not args.no_epoch:
            frameworks = [f for f in EPOCH.frameworks if f in present]
            data = row_data(EPOCH.kind, EPOCH.dtype, folder, whole=True)
            results.append(report_epoch(measure(EPOCH, frameworks, data, args, epoch=True)))
    load_after = os.getloadavg()
    versions = ", ".join(f"{name} {version}" for name, version in VERSIONS.items())
    print(f"\nload average after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}; {versions}")
    if args.json:
        with open(args.json, "w") as file:
            json.dump({"date": time.strftime("%Y-%m-%d %H:%M"), "machine": platform.platform(),
                       "cores": os.cpu_count(), "load_before": load_before, "load_after": load_after,
                       "blas_peak_flops": peaks, "versions": VERSIONS, "results": results}, file, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
