"""What one snapshot costs the training thread (app/training/snapshot.take_snapshot: one sample's
forward and backward pass and read-only copies of every layer's Y, ∂E/∂Y and every parameter), and
one health measurement (app/training/health.measure), for each preset.

    python -m benchmarks.snapshot_cost [--repeats 300]

The data stay loaded while it runs, as in the studio's worker (freed data changes how the large
copies are allocated, and what they cost).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

from cnn.config import RunConfig
from cnn.data import load_mnist
from cnn.presets import PRESETS
from cnn.session import Session

from app.model.health import measure
from app.model.model_info import layer_infos
from app.model.snapshot import take_snapshot


def timed(action, repeats: int) -> float:
    """Median seconds of `repeats` calls."""
    times = []
    for i in range(repeats):
        started = time.perf_counter()
        action(i)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args(argv)
    raw = load_mnist()
    for preset in PRESETS:
        session = Session(RunConfig.from_preset(preset), raw)
        infos = layer_infos(session)
        loop = session.run(1)
        record = next(loop)     # one step: the health measurement reads the state it left
        snapshot = timed(lambda i, s=session, infos=infos: take_snapshot(s, "test", i % 100, infos), args.repeats)
        health = timed(lambda i, s=session, r=record: measure(s.network, s.optimizer, r), args.repeats)
        print(f"{preset:>9}: snapshot {1000 * snapshot:.2f} ms, health measurement {1000 * health:.2f} ms "
              f"(median of {args.repeats})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
