"""Keeps the step-through window in step with the studio: opens it on the worker's copy of the
weights, follows the sample picker, marks it out of date while training runs and reads the
weights again at the next pause, and hears when an update it sent was refused."""
from __future__ import annotations

from PySide6.QtCore import QObject, Slot

from app.stepthrough.window import StepThroughWindow
from app.model.remembered import restored
from app.model.state import RunState


class StepThroughLink(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.dialog: StepThroughWindow | None = None  # made when first opened
        window.worker.weights.connect(self.on_weights)  # a slot of this GUI-thread object: queued
        window.worker.update_applied.connect(self.update_applied)
        window.sample_picker.sample_changed.connect(self.sample_changed)   # (queued after the window's own slot)

    @property
    def is_open(self) -> bool:
        return self.dialog is not None and self.dialog.isVisible()

    def open(self) -> None:
        """Asks the worker for the weights (it pauses training first); on_weights shows them."""
        if self.window.model is not None:
            self.window.send("send_weights")

    @Slot(object)
    def on_weights(self, weights) -> None:
        window = self.window
        if self.dialog is None:
            self.dialog = StepThroughWindow(window)
            self.dialog.apply_requested.connect(lambda version, request: window.send("apply_weights", version, request))
            geometry = window.settings.value("stepthrough/geometry")
            if geometry is None or not restored(self.dialog.restoreGeometry, geometry):
                if geometry is not None:
                    window.say_once("The remembered step-through geometry could not be used; it has its default size.")
                screen = self.dialog.screen().availableGeometry()  # 1500×940 where the screen has room
                self.dialog.resize(min(1500, int(screen.width() * 0.95)), min(940, int(screen.height() * 0.92)))
        self.dialog.load(weights, window.model, window.current_sample())
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()
        window.step_window_shown.emit()

    @Slot(float, float)
    def update_applied(self, before: float, after: float) -> None:
        if self.dialog is not None:
            self.dialog.update_applied(before, after)

    def sample_changed(self, *_) -> None:
        """The window's chosen sample changed (an MNIST image, or your own)."""
        if self.is_open:
            self.dialog.set_sample(self.window.current_sample())

    def model_changed(self) -> None:
        if self.is_open:
            self.open()  # a new or loaded network: show its weights

    def state_changed(self, state: RunState) -> None:
        if not self.is_open:
            return
        if state is RunState.RUNNING:
            self.dialog.stale("Training is running, so these weights are out of date; they are read again "
                              "when training pauses or stops.")
        elif self.dialog.is_stale:
            self.open()

    def error_shown(self, text: str) -> None:
        if self.dialog is not None and self.dialog.awaiting_apply:
            self.dialog.stale(text)  # the worker refused the update

    def close(self) -> None:
        if self.dialog is not None:
            self.dialog.close()  # ends a running gradient check
