"""Closing the studio loses nothing without a question: training kept nowhere (neither saved nor recorded in a
run: app/model/keeping.py) is asked about before anything stops, and No leaves it as it was. A run in progress is
then ended by the worker, its recording writing a checkpoint of the weights at the step it is at, while the window
waits in a local event loop (it keeps drawing; the worker's thread does the writing); a checkpoint that could not
be written is asked about too."""
from __future__ import annotations

from PySide6.QtCore import QEventLoop, QObject, Slot
from PySide6.QtWidgets import QMessageBox

from app.model.state import RunState


class _Waiter(QObject):
    """Lives on the GUI thread, so the worker's quit_ready reaches it queued, inside its loop."""

    def __init__(self):
        super().__init__()
        self.loop, self.lost = QEventLoop(), None

    @Slot(str)
    def done(self, lost: str) -> None:
        self.lost = lost
        self.loop.quit()


def ask(window, text: str) -> bool:
    """Whether to quit and lose what `text` says."""
    answer = QMessageBox.question(window, "Quit CNN Studio?", f"{text}\n\nQuit anyway?",
                                  QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
    return answer == QMessageBox.Yes


def may_close(window) -> bool:
    """Whether the window may close now: not while a run is being ended for a quit already, nor when the user
    chose to stay; a run in progress is ended first (its checkpoint written)."""
    if getattr(window, "_ending_for_quit", False) or not may_quit(window):
        return False
    return window.state is RunState.IDLE or not window.thread.isRunning() or end_run_before_closing(window)


def may_quit(window) -> bool:
    """Whether quitting may lose the training of the network shown: asked when it is kept nowhere (not when the
    studio was told to exit when done, app/studio/scripted.py)."""
    kept = window.kept
    if not kept.at_risk or window.unattended:
        return True
    return ask(window, f"{kept.loss(window.state is RunState.RUNNING)} Quitting loses that training; save the "
                       "weights first (File ▸ Save weights) to keep them.")


def end_run_before_closing(window) -> bool:
    """Ends the window's run for a quit and waits for it; returns whether the window may close (False when the
    user chose to stay)."""
    window._ending_for_quit = True
    waiter = _Waiter()
    try:
        window.worker.quit_ready.connect(waiter.done)
        window.statusBar().showMessage("Stopping: writing the run's checkpoint…")
        window.send("end_for_quit")
        waiter.loop.exec()
        window.worker.quit_ready.disconnect(waiter.done)
    finally:
        window._ending_for_quit = False
    return not waiter.lost or ask(window, waiter.lost)
