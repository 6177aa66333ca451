"""The status bar: the run's state, its progress bar, and a line for each finished epoch. It follows
the worker's signals itself."""
from __future__ import annotations

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from cnn.evaluation import accuracy_text
from cnn.train import EpochRecord

from app.model.progress import ProgressTracker
from app.model.state import RunState

# Notes that a run ended ("Training stopped.", "Training finished.", "Training stopped by an unexpected error…"):
# they go when a run starts or resumes, never outliving the state they describe.
ENDED = "Training stopped", "Training finished"


class StatusLine(QObject):
    def __init__(self, status_bar: QStatusBar):
        super().__init__(status_bar)
        self.status_bar = status_bar
        self.progress = ProgressTracker()
        self.state = RunState.IDLE
        self._busy_text = ""
        self.state_label = QLabel(RunState.IDLE.label)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setMinimumWidth(260)
        self.progress_bar.setFormat("ready")
        self.progress_bar.setValue(0)
        status_bar.addPermanentWidget(self.state_label)
        status_bar.addPermanentWidget(self.progress_bar)

    def subscribe(self, worker) -> None:
        worker.run_started.connect(self.on_run_started)
        worker.records.connect(self.on_records)
        worker.state_changed.connect(self.on_state_changed)
        worker.model_changed.connect(self.on_model_changed)
        worker.busy.connect(self.on_busy)

    @Slot(str)
    def on_busy(self, what: str) -> None:
        """A long command (reading a file, preparing data): a moving bar saying what, until it is done."""
        if what:
            self._busy_text = what
            self.state_label.setText("Working…")
            self.progress_bar.setRange(0, 0)
            self.progress_bar.setFormat(what)
            self.status_bar.showMessage(what)
        else:
            self.state_label.setText(self.state.label)
            self.progress_bar.setRange(0, 1000)
            if self.status_bar.currentMessage() == self._busy_text:
                self.status_bar.clearMessage()  # a message sent meanwhile (the loaded file's accuracy) stays
            self._show_progress()

    @Slot(int, int)
    def on_run_started(self, epochs_before: int, epochs_after: int) -> None:
        self.progress.start_run(epochs_after, epochs_before)
        self._show_progress()

    @Slot(object)
    def on_records(self, records) -> None:
        self.progress.add(records)
        for record in records:
            if isinstance(record, EpochRecord):
                self.status_bar.showMessage(
                    f"Epoch {record.epoch}/{self.progress.epochs}: train loss "
                    f"{record.train_loss:.4g}, test loss {record.test_loss:.4g}, "
                    f"test accuracy {accuracy_text(record.test_accuracy)}", 10000)
        self._show_progress()

    @Slot(object)
    def on_state_changed(self, state: RunState) -> None:
        self.state = state
        self.state_label.setText(state.label)
        if state is RunState.RUNNING:
            self.progress.resume()      # the time paused is not training time
        if state is not RunState.IDLE and self.status_bar.currentMessage().startswith(ENDED):
            self.status_bar.clearMessage()
        self._show_progress()

    @Slot(object)
    def on_model_changed(self, info) -> None:
        """A network shown: where its training stands (an opened run's place in its plan); nothing of
        the last run's progress applies to it."""
        self.progress.stand(info.trained, info.steps_per_epoch, info.epochs_planned)
        self._show_progress()

    def _show_progress(self) -> None:
        self.progress_bar.setValue(int(1000 * self.progress.fraction))
        self.progress_bar.setFormat(self.progress.text(live=self.state is RunState.RUNNING,
                                                      stopped=self.state is RunState.IDLE))
