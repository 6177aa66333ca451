"""Our engine's training speed against an earlier commit's, interleaved in one process.

    python -m benchmarks.against_commit REV [--seconds 2] [--repeats 5]

REV's `cnn/` is exported with `git archive` into a temporary folder and imported as a second
package beside the working tree's, so both engines train in the same process, on the same data,
turn about: a slow moment of the machine hits both. Each configuration is the one
benchmarks.compare uses (the real training loop, gradient norms and checks included). Prints
samples per second and the ratio now ÷ REV per row.
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np

import cnn
from cnn.data import load_mnist

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = [  # (title, network, batch, dtype), as in benchmarks.compare
    ("original net, batch 1, float64", "original", 1, "float64"),
    ("original net, batch 64, float64", "original", 64, "float64"),
    ("ten-digit net, batch 64, float32", "digits", 64, "float32"),
]


def engine_at(rev: str, folder: Path):
    """REV's cnn package, imported under the name cnn_at_rev."""
    archive = folder / "cnn.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(ROOT), "archive", rev, "cnn", "resources/mnist.npz"], stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    spec = importlib.util.spec_from_file_location("cnn_at_rev", folder / "cnn" / "__init__.py",
                                                  submodule_search_locations=[str(folder / "cnn")])
    module = importlib.util.module_from_spec(spec)
    sys.modules["cnn_at_rev"] = module
    spec.loader.exec_module(module)
    return module


def runner(engine, raw, kind: str, batch: int, dtype: str, n: int = 4096, test: int = 64):
    """A function training for `seconds` with `engine` and returning samples per second."""
    data = importlib.import_module(f"{engine.__name__}.data")
    presets = importlib.import_module(f"{engine.__name__}.presets")
    losses = importlib.import_module(f"{engine.__name__}.losses")
    optim = importlib.import_module(f"{engine.__name__}.optim")
    train = importlib.import_module(f"{engine.__name__}.train")
    classes = (0, 1) if kind == "original" else tuple(range(10))
    full = data.prepare(raw, classes, None, seed=0, dtype=dtype)
    dataset = data.Dataset(data.Split(full.train.x[:n], full.train.y[:n], full.train.labels[:n]),
                           data.Split(full.test.x[:test], full.test.y[:test], full.test.labels[:test]), classes)
    build = presets.original_network if kind == "original" else presets.digits_network

    def run(seconds: float) -> float:
        network = build(len(classes), 0, dtype)
        loss = losses.get_loss("binary_cross_entropy" if kind == "original" else "softmax_cross_entropy")
        optimizer = optim.SGD(0.1 if kind == "original" else 0.05, 0.0 if kind == "original" else 0.9)
        samples, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            for record in train.train(network, dataset, loss, optimizer, 1, batch):
                if isinstance(record, train.StepRecord):
                    samples += record.batch_size
                    if time.perf_counter() - started >= seconds:
                        break
        return samples / (time.perf_counter() - started)
    return run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rev", help="the commit to compare with, e.g. HEAD~5 or a hash")
    parser.add_argument("--seconds", type=float, default=2.0, help="training time per measurement")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    raw = load_mnist()
    with tempfile.TemporaryDirectory() as folder:
        old = engine_at(args.rev, Path(folder))
        print(f"now: {ROOT} (working tree); then: {args.rev}; {args.seconds} s × {args.repeats}, interleaved")
        for title, kind, batch, dtype in CONFIGS:
            runners = {"now": runner(cnn, raw, kind, batch, dtype), "then": runner(old, raw, kind, batch, dtype)}
            rates = {name: [] for name in runners}
            for _ in range(args.repeats):
                for name, run in runners.items():
                    rates[name].append(run(args.seconds))
            now, then = (statistics.median(rates[name]) for name in ("now", "then"))
            print(f"{title:34s} now {now:9,.0f}  then {then:9,.0f} samples/s   now ÷ then {now / then:.3f}"
                  f"   (spread now {np.ptp(rates['now']) / now:.0%}, then {np.ptp(rates['then']) / then:.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
