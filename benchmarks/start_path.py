"""Which of the project's modules a click on Start passes through (offscreen, the whole studio): on the
GUI thread the click's own calls, on the worker's thread the command's, until its first training
slice; how many modules, and how often the path comes back into a module it had left. A measure of
how tangled one command's route is (the views' redraws that follow are theirs, not the click's).

    QT_QPA_PLATFORM=offscreen python -m benchmarks.start_path [--list]

The path is the sequence of Python calls whose code lies in app/ or cnn/, in the order they
happen on each thread; a module counts as re-entered each time a call enters it again after calls
in other modules (consecutive calls within one module are one visit).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from benchmarks.draw_latency import wait  # noqa: E402  (the studio answering, or a TimeoutError)

ROOT = Path(__file__).resolve().parent.parent


def module_of(filename: str) -> str | None:
    path = Path(filename)
    try:
        relative = path.resolve().relative_to(ROOT)
    except ValueError:
        return None
    if relative.parts[0] not in ("app", "cnn"):
        return None
    return ".".join(relative.with_suffix("").parts)


class Path_:
    """The modules entered, per thread, in order."""

    def __init__(self):
        self.visits: dict[int, list[str]] = {}
        self.armed = False
        self.lock = threading.Lock()

    def traced(self, method, wanted):
        """`method`, its calls recorded while armed for the calls `wanted(args)` picks (a Qt thread's Python
        state does not keep a profile function between two calls from Qt, so it is set for each)."""
        def traced(owner, *args, **kwargs):
            if not (self.armed and wanted(args)):
                return method(owner, *args, **kwargs)
            sys.setprofile(self.profile)
            try:
                return method(owner, *args, **kwargs)
            finally:
                sys.setprofile(None)
        return traced

    def profile(self, frame, event, _arg):
        if event != "call" or frame.f_code.co_name == "eventFilter":   # filters see every event, not the click's
            return
        module = module_of(frame.f_code.co_filename)
        if module is None:
            return
        with self.lock:
            visits = self.visits.setdefault(threading.get_ident(), [])
            if not visits or visits[-1] != module:
                visits.append(module)

    def summary(self) -> tuple[list[str], int]:
        modules = sorted({m for visits in self.visits.values() for m in visits})
        returns = sum(len(visits) - len(set(visits)) for visits in self.visits.values())
        return modules, returns


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print the modules, one a line")
    args = parser.parse_args(argv)
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.studio.window import MainWindow
    path = Path_()
    # On the worker's thread, the plain method that carries the command out (a Qt slot replaced after its
    # class was made would be called on the GUI thread): the studio model's one route, or before it the
    # worker's guard around Start's work.
    try:
        from app.model.studio import Studio as owner
        entry, is_start = "command", lambda args: args[0] == "start"
    except ImportError:
        from app.training.worker import TrainingWorker as owner
        entry, is_start = "_guarded", lambda args: getattr(args[0], "__name__", "") == "begin"
    setattr(owner, entry, path.traced(getattr(owner, entry), is_start))
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as folder:
        window = MainWindow(QSettings(os.path.join(folder, "s.ini"), QSettings.IniFormat),
                            runs_dir=os.path.join(folder, "runs"))
        window.show()
        wait(app, lambda: window.worker.session is not None)
        for _ in range(20):
            app.processEvents()
        path.armed = True
        sys.setprofile(path.profile)
        window.controls.start.trigger()      # the click's own calls: up to the command queued to the worker
        sys.setprofile(None)
        wait(app, lambda: str(window.state.value) == "running")
        path.armed = False
        window.controls.stop.trigger()
        window.close()
    modules, returns = path.summary()
    app_modules = [m for m in modules if m.startswith("app.")]
    print(f"a click on Start passes through {len(modules)} modules ({len(app_modules)} of app/, "
          f"{len(modules) - len(app_modules)} of cnn/) and comes back into one it had left {returns} times")
    if args.list:
        print("\n".join(modules))
    return 0


if __name__ == "__main__":
    sys.exit(main())
