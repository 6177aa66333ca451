"""Moving the timeline → every view redrawn: how long after a step along the timeline the Inspect workspace's
views (the chosen layer's kernels, maps and gradients) show that moment, on the digits network (offscreen,
the whole studio).

    QT_QPA_PLATFORM=offscreen python -m benchmarks.timeline_latency [--limit 100] [--epochs 4] [--passes 2]

A digits run is recorded first (--limit images per class, --epochs epochs), then opened. Each measurement
starts when the timeline is moved one moment on and ends when the window has drawn that moment's snapshot
and Qt has painted (the queued call to the worker, loading the moment's weights on a first visit, one
sample's forward and backward pass, the views' redraw and the paint). The first pass visits each moment for
the first time; the later ones find its weights kept (a few are). The test set's results (the Results
workspace) are not part of it: they follow only when that workspace is shown.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from benchmarks.draw_latency import wait  # noqa: E402

TARGET_MS = 100


def record_run(root: str, limit: int, epochs: int) -> str:
    from cnn.config import RunConfig
    from cnn.data import load_mnist
    from cnn.runs.recorder import RunRecorder
    from cnn.session import Session
    session = Session(RunConfig.from_preset("digits", limit=limit, epochs=epochs), load_mnist())
    recorder = RunRecorder.start(root, session, epochs, source="bundled MNIST")
    for record in session.run(epochs):
        recorder.add(record)
    recorder.close()
    return str(recorder.folder)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--passes", type=int, default=2)
    args = parser.parse_args(argv)
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.studio.window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    passes = []
    with tempfile.TemporaryDirectory() as folder:
        runs = os.path.join(folder, "runs")
        run = record_run(runs, args.limit, args.epochs)
        window = MainWindow(QSettings(os.path.join(folder, "s.ini"), QSettings.IniFormat), runs_dir=runs)
        window.resize(1600, 1000)
        window.show()
        wait(app, lambda: window.model is not None)
        window.open_run(run)
        wait(app, lambda: window.shown_run == os.path.abspath(run) and len(window.timeline.steps) > 1)
        window.show_workspace("inspect")
        bar, shown = window.timeline, {"count": 0}
        drawing = []             # the views' share: from the snapshot's arrival to the end of its paint
        window.draw_feedback.drawn.connect(drawing.append)
        window.snapshot_shown.connect(lambda: shown.__setitem__("count", shown["count"] + 1))
        for _ in range(args.passes):
            latencies = []
            for index in range(len(bar.steps)):
                before = shown["count"]
                started = time.perf_counter()
                bar.go_to(index)
                wait(app, lambda before=before, index=index: shown["count"] > before
                     and bar.shown == bar.steps[index] and not bar.waiting)
                app.processEvents()                   # the paint events the redraw queued
                latencies.append(1000 * (time.perf_counter() - started))
            passes.append(latencies)
            bar.go_live()
            wait(app, lambda: bar.shown is None)
        moments = len(bar.steps)
        window.close()
    drawing_ms = 1000 * statistics.median(drawing) if drawing else float("nan")
    print(f"timeline → every Inspect view redrawn, digits network, {moments} moments, {os.cpu_count()} logical CPUs "
          "(a shared machine: other processes slow it):")
    for number, latencies in enumerate(passes, 1):
        latencies.sort()
        print(f"  pass {number} ({'first visits' if number == 1 else 'weights kept'}): median "
              f"{statistics.median(latencies):.1f} ms, 90th percentile {latencies[int(0.9 * (len(latencies) - 1))]:.1f}"
              f" ms, worst {latencies[-1]:.1f} ms (target {TARGET_MS} ms)")
    print(f"  of which the views' redraw and paint: median {drawing_ms:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
