"""Drawing → prediction and redraw: how long after the pad has a new picture every view shows the
network's answer for it, on the digits network (offscreen, the whole studio: the Layer views, the
Your digit panel and, with --why, the attribution maps too).

    QT_QPA_PLATFORM=offscreen python -m benchmarks.draw_latency [--load WEIGHTS] [--strokes 40] [--why]

Each measurement starts when the pad emits a picture taken while the pen is down (what a mouse move
does, at most every 30 ms; the occlusion map waits for the pen to lift) and ends when the window has
drawn the snapshot of that picture and Qt has painted (preprocessing, the queued call to the worker,
its forward and backward pass and snapshot, the views' redraw and the paint). The pad's 30 ms
throttle comes on top while a stroke goes on: a mouse move waits at most that long to be sent.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

TARGET_MS = 50


def wait(app, condition, timeout=60.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        app.processEvents()
        if time.perf_counter() > deadline:
            raise TimeoutError("the studio did not answer")


def strokes(count: int, seed: int = 0):
    """Random strokes of a few points across the pad, each a different picture."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        start = rng.uniform(50, 230, 2)
        yield [tuple(start + step) for step in np.cumsum(rng.normal(0, 40, (6, 2)), axis=0).clip(-40, 40)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", metavar="WEIGHTS", help="a digits network's weights (default: a fresh one)")
    parser.add_argument("--strokes", type=int, default=40)
    parser.add_argument("--why", action="store_true", help="with the Why it decided panel showing the maps")
    args = parser.parse_args(argv)
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.studio.window import MainWindow
    from cnn.preprocess import preprocess

    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as folder:
        window = MainWindow(QSettings(os.path.join(folder, "s.ini"), QSettings.IniFormat),
                            runs_dir=os.path.join(folder, "runs"))
        window.resize(1600, 1000)
        window.show()
        wait(app, lambda: window.model is not None)
        if args.load:
            window.open_weights(args.load)
            wait(app, lambda: window.model.source == args.load)
        else:
            window.settings_panel.preset.setCurrentIndex(window.settings_panel.preset.findData("digits"))
            window.reset()
            wait(app, lambda: window.model.config.preset == "digits")
        window.show_workspace("your-digit")
        window.attribution_view.setVisible(args.why)   # the maps of why it decided cost a pass of their own
        shown = {"drawing": 0}
        window.snapshot_shown.connect(lambda: shown.__setitem__("drawing", shown["drawing"] + 1))
        drawing_seconds = []     # the views' share: from the snapshot's arrival to the end of its paint
        window.draw_feedback.drawn.connect(drawing_seconds.append)
        pad = window.your_digit.pad
        latencies, preprocessing = [], []
        for n, stroke in enumerate(strokes(args.strokes + 3)):
            pad.clear()
            before = shown["drawing"]
            started = time.perf_counter()
            pad.draw_stroke(stroke, lift=False)   # the picture a mouse move sends while the pen is down
            wait(app, lambda before=before: shown["drawing"] > before and window.image_sample is not None)
            app.processEvents()                   # the paint events the redraw queued
            elapsed = time.perf_counter() - started
            wait(app, lambda n=n: len(drawing_seconds) > n)
            if n >= 3:                            # the first few warm caches up
                latencies.append(1000 * elapsed)
                t = time.perf_counter()
                preprocess(pad.pixels())
                preprocessing.append(1000 * (time.perf_counter() - t))
        window.close()
    latencies.sort()
    print(f"drawing → prediction and redraw, digits network, {len(latencies)} pictures"
          f"{' (with the attribution maps)' if args.why else ''}:")
    print(f"  median {statistics.median(latencies):.1f} ms, 90th percentile "
          f"{latencies[int(0.9 * (len(latencies) - 1))]:.1f} ms, worst {latencies[-1]:.1f} ms "
          f"(target {TARGET_MS} ms); preprocessing alone {statistics.median(preprocessing):.1f} ms, the views' "
          f"redraw and paint {1000 * statistics.median(drawing_seconds[3:]):.1f} ms")
    print("  while drawing, the pad sends a picture at most every 30 ms: add up to 30 ms to a mouse move")
    return 0


if __name__ == "__main__":
    sys.exit(main())
