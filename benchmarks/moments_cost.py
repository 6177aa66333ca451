"""What keeping moments (cnn.runs.moments) costs a recorded run: the time spent writing them against the
run's training time, how many there are and the run folder's size, for the original experiment and the
digits preset.

    python -m benchmarks.moments_cost [--epochs 20] [--digits-epochs 8] [--digits-limit all]

The time is measured inside the writes (each write_moment and share_moment call), so that another process on a shared
machine slows the training and the writes alike rather than one of two separate runs. A shorter run
(fewer epochs, a digits limit) also prints the folder size its planned run would have: its moments at
their measured size, counted by the rule (step 0, steps 1, 2, 4, … of the first epoch, every epoch's end).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import cnn.runs.recorder as recorder_module
from cnn.config import RunConfig
from cnn.presets import PRESETS
from cnn.data import load_mnist
from cnn.runs.moments import MOMENTS, list_moments
from cnn.runs.recorder import RunRecorder
from cnn.session import Session


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def planned_count(steps_per_epoch: int, epochs: int) -> int:
    early = sum(1 for step in range(1, steps_per_epoch) if step & (step - 1) == 0)
    return 1 + early + epochs


def measure(name: str, config: RunConfig, epochs: int, planned_epochs: int, raw, root: Path) -> None:
    spent = []
    real = {name: getattr(recorder_module, name) for name in ("write_moment", "share_moment")}

    def timed(function):
        def call(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent.append(time.perf_counter() - started)
        return call
    for name, function in real.items():   # an epoch's end shares its checkpoint's file: that link is timed too
        setattr(recorder_module, name, timed(function))
    try:
        session = Session(config, raw)
        started = time.perf_counter()
        recorder = RunRecorder.start(root, session, epochs, source="bundled MNIST")
        for record in session.run(epochs):
            recorder.add(record)
        recorder.close()
        total = time.perf_counter() - started
    finally:
        for name, function in real.items():
            setattr(recorder_module, name, function)
    moments, _ = list_moments(recorder.folder)
    size = folder_bytes(recorder.folder)
    moment_size = folder_bytes(recorder.folder / MOMENTS) / len(moments)
    planned = planned_count(session.steps_per_epoch, planned_epochs)
    projected = size - len(moments) * moment_size + planned * moment_size
    print(f"{name}: {epochs} epochs of {session.steps_per_epoch} steps in {total:.1f} s; {len(moments)} moments "
          f"written in {sum(spent):.2f} s = {100 * sum(spent) / total:.2f}% of the run; folder {size / 1e6:.1f} MB "
          f"({moment_size / 1e6:.2f} MB a moment); its {planned_epochs}-epoch run: {planned} moments, "
          f"{projected / 1e6:.1f} MB", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=20, help="epochs of the original experiment")
    parser.add_argument("--digits-epochs", type=int, default=PRESETS["digits"].epochs)
    parser.add_argument("--digits-limit", default="all", help="images per class for digits, or 'all'")
    args = parser.parse_args(argv)
    raw = load_mnist()
    print(f"{os.cpu_count()} logical CPUs; other processes on the machine slow both the training and the writes")
    limit = None if args.digits_limit == "all" else int(args.digits_limit)
    with tempfile.TemporaryDirectory() as root:
        measure("original", RunConfig.from_preset("original", epochs=args.epochs), args.epochs, 20, raw, Path(root))
        measure("digits", RunConfig.from_preset("digits", epochs=args.digits_epochs, limit=limit),
                args.digits_epochs, PRESETS["digits"].epochs, raw, Path(root))
    return 0


if __name__ == "__main__":
    sys.exit(main())
