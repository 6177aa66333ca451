"""Memory over a long run in the studio: the full 60,000-image training set, per-sample loss
history and gradient norms plotted live; prints resident memory after every epoch. Histories are
bounded (older points averaged in pairs, app/history.py), so memory should stay flat.

    QT_QPA_PLATFORM=offscreen python -m benchmarks.memory_long_run [--epochs 10] [--batch-size 64]
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def resident_mib() -> float:
    with open("/proc/self/statm") as file:
        return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.studio.window import MainWindow
    from benchmarks.studio_overhead import wait
    from cnn.config import RunConfig
    from cnn.train import EpochRecord

    QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as folder:
        window = MainWindow(QSettings(os.path.join(folder, "s.ini"), QSettings.IniFormat))
        window.resize(1600, 1000)
        window.show()
        config = RunConfig.from_preset("digits", epochs=args.epochs, batch_size=args.batch_size, lr_decay=1.0)
        window.settings_panel.set_config(config)
        window.reset()
        wait(lambda: window.worker.session is not None and window.worker.session.config == config, timeout=120)
        print(f"{len(window.worker.session.dataset.train.x):,} training images, batch {args.batch_size}; "
              f"after loading: {resident_mib():.0f} MiB resident")
        epochs = []
        window.worker.records.connect(lambda records: epochs.extend(r for r in records if isinstance(r, EpochRecord)))
        window.start()
        seen = 0
        while seen < args.epochs:
            wait(lambda seen=seen: len(epochs) > seen, timeout=3600)
            seen = len(epochs)
            steps = window.loss_view.steps
            print(f"epoch {seen:3d}: {resident_mib():7.0f} MiB resident, peak "
                  f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:7.0f} MiB; loss plot holds "
                  f"{steps.count:,} points, each averaging {steps.stride} step(s)", flush=True)
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
