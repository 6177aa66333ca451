"""The training worker on its own thread, without a window: its states, its signals, and the
back-pressure (a frame goes out only after the GUI answered the last one with views_drawn)."""
import pytest
from PySide6.QtCore import QObject, QThread, Signal, Slot

from cnn.config import RunConfig
from cnn.train import EpochRecord, StepRecord

from app.model.events import EVENTS
from app.model.state import RunState
from app.training.worker import TrainingWorker

CONFIG = RunConfig(limit=10, epochs=3)      # 20 training images: 20 steps an epoch, 60 in all


class Gui(QObject):
    """Stands for the window: sends commands, records what comes back, answers frames if asked to."""
    command = Signal(str, object)

    def __init__(self, worker, answer_frames: bool):
        super().__init__()
        self.answer_frames = answer_frames
        self.frames, self.states, self.snapshots, self.runs = [], [], 0, []
        self.command.connect(worker.command)
        worker.records.connect(self.on_records)
        worker.snapshot.connect(self.on_snapshot)
        worker.state_changed.connect(self.on_state)
        worker.run_started.connect(self.on_run_started)

    @Slot(object)
    def on_records(self, records):
        self.frames.append(records)

    @Slot(object)
    def on_snapshot(self, _snapshot):
        self.snapshots += 1
        if self.answer_frames:
            self.command.emit("views_drawn", (0.0,))

    @Slot(object)
    def on_state(self, state):
        self.states.append(state)

    @Slot(int, int)
    def on_run_started(self, before, after):
        self.runs.append((before, after))


@pytest.fixture
def worker_thread(qtbot):
    thread = QThread()
    worker = TrainingWorker()
    worker.moveToThread(thread)
    thread.start()
    yield worker
    from PySide6.QtCore import QMetaObject, Qt
    QMetaObject.invokeMethod(worker, "shutdown", Qt.BlockingQueuedConnection)
    thread.quit()
    thread.wait()


def run_to_the_end(worker, gui, qtbot):
    gui.command.emit("configure", (CONFIG,))
    qtbot.waitUntil(lambda: worker.session is not None, timeout=10000)
    with qtbot.waitSignal(worker.finished, timeout=30000):
        gui.command.emit("start", (CONFIG,))
    qtbot.waitUntil(lambda: gui.states[-1:] == [RunState.IDLE], timeout=10000)


def test_without_an_answer_from_the_views_no_second_frame_goes_out(worker_thread, qtbot):
    """The first frame goes at once; unanswered, the worker sends nothing more until the run's end
    forces the rest out: two frames, every record in them, in order."""
    gui = Gui(worker_thread, answer_frames=False)
    run_to_the_end(worker_thread, gui, qtbot)
    assert len(gui.frames) == 2
    steps = [r.global_step for frame in gui.frames for r in frame if isinstance(r, StepRecord)]
    assert steps == list(range(1, 61))
    assert sum(isinstance(r, EpochRecord) for frame in gui.frames for r in frame) == 3


def test_answered_frames_keep_flowing(worker_thread, qtbot):
    gui = Gui(worker_thread, answer_frames=True)
    run_to_the_end(worker_thread, gui, qtbot)
    steps = [r.global_step for frame in gui.frames for r in frame if isinstance(r, StepRecord)]
    assert steps == list(range(1, 61))
    assert gui.states == [RunState.RUNNING, RunState.IDLE]
    assert all(isinstance(state, RunState) for state in gui.states)
    assert gui.runs == [(0, 3)]                     # the run's planned span, sent before its first record


def test_the_worker_keeps_no_state_shared_with_the_gui():
    """The back-pressure is a queued command (views_drawn), not attributes the GUI thread writes; every
    event of the model is a signal of the worker."""
    worker = TrainingWorker()
    assert not hasattr(worker, "views_ready") and not hasattr(worker, "draw_seconds")
    assert worker.state is RunState.IDLE
    assert all(hasattr(worker, name) for name in EVENTS)
