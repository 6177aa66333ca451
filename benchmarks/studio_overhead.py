"""What the window costs: samples per second training in the studio (offscreen, all four views
drawing, the run recorded as the studio records every run) against the same run without a window,
with and without recording it, and how long a pause takes to take effect.

    QT_QPA_PLATFORM=offscreen python -m benchmarks.studio_overhead [--preset original] [--epochs N] [--repeats 9]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from cnn.config import RunConfig  # noqa: E402
from cnn.data import load_mnist  # noqa: E402
from cnn.runs.recorder import RunRecorder  # noqa: E402
from cnn.session import Session  # noqa: E402
from cnn.train import StepRecord  # noqa: E402


def headless(config: RunConfig, raw, recorded: bool = False) -> float:
    """Samples per second of the run without a window; `recorded`: into a run folder, as the studio
    records every run (checkpoints, moments, TensorBoard's events), so the window's own share shows."""
    session = Session(config, raw)
    with tempfile.TemporaryDirectory() as folder:
        samples, started = 0, time.perf_counter()
        recorder = RunRecorder.start(folder, session, config.epochs, source="bundled MNIST") if recorded else None
        for record in session.run():
            if recorder is not None:
                recorder.add(record)
            if isinstance(record, StepRecord):
                samples += record.batch_size
        if recorder is not None:
            recorder.close()
        return samples / (time.perf_counter() - started)


def in_studio(config: RunConfig, window_class, settings_class, pauses: list, gui: list) -> float:
    """studio()'s samples per second; its pause latencies and window-thread share are added to the lists."""
    rate, latencies, gui_share = studio(config, window_class, settings_class)
    pauses.extend(latencies)
    gui.append(gui_share)
    return rate


def studio(config: RunConfig, window_class, settings_class) -> tuple[float, list[float], float]:
    with tempfile.TemporaryDirectory() as folder:
        # The studio records every run; here into the temporary folder, not the user's (the cost counts).
        window = window_class(settings_class(os.path.join(folder, "s.ini"), settings_class.IniFormat),
                              runs_dir=os.path.join(folder, "runs"))
        window.resize(1600, 1000)
        window.show()
        wait(lambda: window.worker.session is not None)
        window.settings_panel.set_config(config)
        window.reset()
        wait(lambda: window.worker.session is not None and window.worker.session.config == config)
        settled(window)   # the new network's evaluation and first snapshot are done: Start is not queued behind them
        finished = []
        window.training_finished.connect(lambda: finished.append((time.perf_counter(), time.thread_time())))
        started, gui_started = time.perf_counter(), time.thread_time()
        window.start()
        until_emitted(window.training_finished, lambda: finished)
        samples = config.epochs * len(window.worker.session.dataset.train.x)
        rate = samples / (finished[0][0] - started)
        gui_share = (finished[0][1] - gui_started) / (finished[0][0] - started)   # the window thread's CPU
        # Pause latency: from the request to the window showing 'Paused'.
        latencies = []
        window.settings_panel.epochs.setValue(1000)
        window.start()
        wait(lambda: window.state == "running")
        for _ in range(10):
            wait(lambda: False, timeout=0.3)
            asked = time.perf_counter()
            window.toggle_pause()
            wait(lambda: window.state == "paused", poll_seconds=0.002)
            latencies.append(time.perf_counter() - asked)
            window.toggle_pause()
            wait(lambda: window.state == "running")
        window.close()
    return rate, latencies, gui_share


def settled(window) -> None:
    """Waits until the worker has carried out every command sent so far (its queue is taken in order)."""
    from PySide6.QtCore import QThread
    done = []
    window.worker.after_commands(lambda: done.append(QThread.currentThread()))
    wait(lambda: done)
    assert done[0] is window.worker.thread(), "the check ran on the worker's thread"


def until_emitted(signal, condition, timeout: float = 3600.0) -> None:
    """Runs the Qt event loop until `signal`, emitted, leaves condition() true; no timer of its own wakes the
    window's thread meanwhile (a poll every 20 ms took it, and the GIL, a hundred times a run of the original
    experiment: what a window does alone is measured)."""
    from PySide6.QtCore import QEventLoop, QTimer
    loop, deadline = QEventLoop(), time.perf_counter() + timeout
    give_up = QTimer()
    give_up.setSingleShot(True)
    give_up.timeout.connect(loop.quit)
    give_up.start(int(timeout * 1000))
    signal.connect(loop.quit)
    try:
        while not condition() and time.perf_counter() < deadline:
            loop.exec()
    finally:
        give_up.stop()
        signal.disconnect(loop.quit)
    if not condition():
        raise TimeoutError("the studio did not answer in time")


def wait(condition, timeout: float = 60.0, poll_seconds: float = 0.02) -> None:
    """Runs the Qt event loop (idle between events, as the app does) until condition() holds."""
    from PySide6.QtCore import QEventLoop, QTimer
    loop, deadline = QEventLoop(), time.perf_counter() + timeout
    def check():
        if condition() or time.perf_counter() >= deadline:
            loop.quit()
    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(int(poll_seconds * 1000))
    loop.exec()
    timer.stop()
    if not condition() and timeout >= 1:
        raise TimeoutError("the studio did not answer in time")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", default="original")
    parser.add_argument("--epochs", type=int, default=None,
                        help="the preset's own (the original experiment: 20); a run of a few tenths of a second "
                             "measures mostly the start and the first frames")
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args(argv)
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.studio.window import MainWindow
    QApplication.instance() or QApplication(sys.argv[:1])
    config = RunConfig.from_preset(args.preset, **({} if args.epochs is None else {"epochs": args.epochs}))
    raw = load_mnist()
    without, recorded, within, pauses, gui = [], [], [], [], []
    load = os.getloadavg()
    warm = RunConfig.from_preset(args.preset, epochs=1)   # compiled loops loaded, data and code paged in: for all alike
    headless(warm, raw), headless(warm, raw, recorded=True)
    for round_ in range(args.repeats):
        # Each round runs all three, in an order that turns, and its ratios compare runs seconds apart: this
        # machine's speed drifts by a fifth over a minute, which the medians of the columns alone carry.
        runs = [lambda: without.append(headless(config, raw)),
                lambda: recorded.append(headless(config, raw, recorded=True)),
                lambda: within.append(in_studio(config, MainWindow, QSettings, pauses, gui))]
        for run in runs[round_ % 3:] + runs[:round_ % 3]:
            run()
    a, r, b = statistics.median(without), statistics.median(recorded), statistics.median(within)
    studio_cost = [1 - s / w for s, w in zip(within, without, strict=True)]
    recording_cost = [1 - s / w for s, w in zip(recorded, without, strict=True)]
    print(f"preset {args.preset}, {config.epochs} epochs, batch {config.batch_size}, {config.dtype}, "
          f"{args.repeats} rounds; load average before {load[0]:.2f}, after {os.getloadavg()[0]:.2f}")
    for label, column in (("without a window:          ", without), ("without a window, recorded:", recorded),
                          ("in the studio (recorded):  ", within)):
        values = ", ".join(f"{v:,.0f}" for v in column)
        print(f"{label} {statistics.median(column):10,.0f} samples/s median   ({values})")
    print(f"the studio's cost, round by round: {', '.join(f'{100 * c:.1f}%' for c in studio_cost)}; "
          f"median {100 * statistics.median(studio_cost):.1f}% slower than without a window "
          f"(of the columns' medians: {100 * (1 - b / a):.1f}%)")
    print(f"recording's share, round by round: median {100 * statistics.median(recording_cost):.1f}% "
          f"(of the medians: {100 * (1 - r / a):.1f}%)")
    print(f"the window's thread while training: {100 * statistics.median(gui):.1f}% of a core "
          f"({', '.join(f'{100 * v:.1f}%' for v in gui)})")
    print(f"pause takes effect in: median {1000 * statistics.median(pauses):.1f} ms, "
          f"max {1000 * max(pauses):.1f} ms over {len(pauses)} pauses")
    return 0


if __name__ == "__main__":
    sys.exit(main())
