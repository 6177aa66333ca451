"""The status bar: the message (each finished epoch, what a command did) taking the room left of the
run's state and its progress bar, and the worker's signals followed. QStatusBar draws its messages
under the widgets at its right (cut at "goes on with the last ru", or run into "Ready"): here a
label shows them, in the room the state and the progress bar leave, elided only when longer than the
whole bar, with the whole text as its tooltip."""
from __future__ import annotations

import time

from PySide6.QtCore import QAbstractAnimation, QObject, Qt, Slot
from PySide6.QtWidgets import QLabel, QProgressBar, QSizePolicy, QStatusBar

from cnn.evaluation import accuracy_text
from cnn.train import EpochRecord

from app.model.progress import ProgressTracker
from app.model.state import RunState

# Notes that a run ended ("Training stopped.", "Training finished.", "Training stopped by an unexpected error…"):
# they go when a run starts or resumes, never outliving the state they describe.
ENDED = "Training stopped", "Training finished"
BAR_WIDTHS = 200, 400   # the progress bar's least and most
NOTE_SECONDS = 6.0      # a note (what a command did, an error) stays this long before an epoch's line covers it


class MessageLabel(QLabel):
    """One line of text, elided to its width (the whole text in its tooltip when it is)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.whole = ""
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)   # the bar's width, not the text's
        self.setTextFormat(Qt.PlainText)

    def show_text(self, text: str) -> None:
        self.whole = text
        self._elide()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self.whole, Qt.ElideRight, self.contentsRect().width())
        self.setText(shown)
        self.setToolTip(self.whole if shown != self.whole else "")


class StatusLine(QObject):
    def __init__(self, status_bar: QStatusBar, clock=time.monotonic):
        super().__init__(status_bar)
        self.status_bar, self.clock = status_bar, clock
        self._epoch_text, self._note_since = "", None   # the last epoch's line; when the last note was shown
        self.progress = ProgressTracker()
        self.state = RunState.IDLE
        self._busy_text = ""
        self.message = MessageLabel()
        self.message.setObjectName("status-message")
        status_bar.messageChanged.connect(self._message_changed)
        self.state_label = QLabel(RunState.IDLE.label)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Preferred)   # the message takes the rest
        status_bar.addPermanentWidget(self.message, 1)   # first: QStatusBar's own message room is none
        self._set_format("ready")
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
            self._set_format(what)
            self.status_bar.showMessage(what)
        else:
            self.state_label.setText(self.state.label)
            self.progress_bar.setRange(0, 1000)
            self._stop_moving()
            if self.status_bar.currentMessage() == self._busy_text:
                self.status_bar.clearMessage()  # a message sent meanwhile (the loaded file's accuracy) stays
            self._show_progress()

    def _stop_moving(self) -> None:
        """Ends the busy bar's motion. The style stops it only when it paints some progress: a bar left at 0
        went on repainting itself (and the window with it) 60 times a second, idle or training, holding the GIL
        for it each time."""
        for animation in self.progress_bar.findChildren(QAbstractAnimation):   # the style's, on the bar
            animation.stop()

    @Slot(int, int)
    def on_run_started(self, epochs_before: int, epochs_after: int) -> None:
        self.progress.start_run(epochs_after, epochs_before)
        self._show_progress()

    @Slot(object)
    def on_records(self, records) -> None:
        self.progress.add(records)
        epochs = [record for record in records if isinstance(record, EpochRecord)]
        noted = self._note_since is not None and self.clock() - self._note_since < NOTE_SECONDS
        if epochs and not (noted and self.status_bar.currentMessage()):   # (the bar counts the epochs meanwhile)
            record = epochs[-1]
            self._epoch_text = (f"Epoch {record.epoch}/{self.progress.epochs}: train loss "
                                f"{record.train_loss:.4g}, test loss {record.test_loss:.4g}, "
                                f"test accuracy {accuracy_text(record.test_accuracy)}")
            self.status_bar.showMessage(self._epoch_text, 10000)
        self._show_progress()

    @Slot(str)
    def _message_changed(self, text: str) -> None:
        self.message.show_text(text)
        if text and text != self._epoch_text:   # a note: the next epochs' lines wait NOTE_SECONDS to cover it
            self._note_since = self.clock()

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
        # QProgressBar.setValue repaints at once: the whole window's pending paints with it, the plots the
        # frame's records changed too, which Qt then painted again for the rest of the frame (each plot twice a
        # frame). With its updates off, the bar is painted with the rest.
        self.progress_bar.setUpdatesEnabled(False)
        self.progress_bar.setValue(int(1000 * self.progress.fraction))
        self._set_format(self.progress.text(live=self.state is RunState.RUNNING, stopped=self.state is RunState.IDLE))
        self.progress_bar.setUpdatesEnabled(True)   # (an update, painted with the rest)

    def _set_format(self, text: str) -> None:
        """The progress bar as wide as its text (in steps, not to jump at each update), within bounds:
        the message has the rest."""
        self.progress_bar.setFormat(text)
        needed = self.progress_bar.fontMetrics().horizontalAdvance(text) + 24
        self.progress_bar.setFixedWidth(min(BAR_WIDTHS[1], max(BAR_WIDTHS[0], -(-needed // 40) * 40)))
