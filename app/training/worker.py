"""The worker: the studio model (app/model/studio.py) on a thread of its own, spoken to in Qt.

It is a thin adapter. Every command arrives by one queued slot, `command(name, values)`, so the
model never needs a lock; while a run goes on, a zero-interval timer asks the model for one
training slice at a time, and between slices Qt delivers the next command. Each event of the
model becomes the Qt signal of the same name (app/model/events.py says what each carries).
"""
from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal, Slot

from app.model.studio import Studio
from app.model.state import RunState


class TrainingWorker(QObject):
    records = Signal(object)
    snapshot = Signal(object)
    frame = Signal(object)
    image_snapshot = Signal(object)
    model_changed = Signal(object)
    state_changed = Signal(object)
    run_started = Signal(int, int)
    failed = Signal(str)
    busy = Signal(str)
    loaded = Signal(str)
    saved = Signal(str)
    message = Signal(str)
    finished = Signal()
    test_predictions = Signal(object)
    predictions = Signal(str, object)
    health = Signal(object)
    weights = Signal(object)
    history = Signal(object)
    run_changed = Signal(str)
    current_run = Signal(str)
    kept = Signal(object)
    run_opened = Signal(object)
    update_applied = Signal(float, float)
    attribution = Signal(object)
    evaluated = Signal(object, object)
    quit_ready = Signal(str)
    layer_chosen = Signal(int)
    workspace_chosen = Signal(str)
    lesson_answer = Signal(str, bool, str)
    moments = Signal(object)
    moment_chosen = Signal(object, object)
    over_time = Signal(object)
    readable = Signal(str)

    def __init__(self, data_path=None, runs_dir=None):
        super().__init__()
        self.studio = Studio(data_path, runs_dir, emit=self._relay)
        self._timer = None

    @Slot(str, object)
    def command(self, name: str, values: tuple) -> None:
        """The one route in: the model's command `name` with its values (queued from the GUI thread)."""
        self.studio.command(name, *values)

    @Slot()
    def shutdown(self) -> None:
        """Ends any run and hands this object back to the main thread, so that it (and its timer)
        can be destroyed there once the worker thread has finished."""
        self.studio.shutdown()
        if self._timer is not None:
            self._timer.stop()
            self._timer.setParent(None)
            self._timer = None  # deleted here, on the thread that started it
        self.moveToThread(QCoreApplication.instance().thread())

    def after_commands(self, callback) -> None:
        """Calls `callback()` on the worker's thread once every command sent before has been carried out (its
        queue is taken in order): a test or a benchmark then knows the model waits."""
        QTimer.singleShot(0, self, callback)

    def _relay(self, name: str, *values) -> None:
        getattr(self, name).emit(*values)
        if name == "state_changed":
            self._follow(values[0])

    def _follow(self, state: RunState) -> None:
        """The timer runs exactly while the model's run does."""
        if state is RunState.RUNNING:
            if self._timer is None:  # created on first use, in the worker's own thread
                self._timer = QTimer(self)
                self._timer.setInterval(0)
                self._timer.timeout.connect(self._tick)
            self._timer.start()
        elif self._timer is not None:
            self._timer.stop()

    def _tick(self) -> None:
        if not self.studio.tick() and self._timer is not None:
            self._timer.stop()

    # -- what tests and the window read of the model (on the GUI thread only while the model is idle) --
    @property
    def session(self):
        return self.studio.session

    @property
    def state(self) -> RunState:
        return self.studio.state

    @property
    def run_folder(self):
        return self.studio.runs.folder

    @property
    def recorder(self):
        return self.studio.runs.recorder

    @property
    def runs_dir(self):
        return self.studio.runs.runs_dir
