"""Nothing lost in the studio: Stop, and closing the window while training, leave a run interrupted
with a checkpoint at the step it was at, which Start (or Continue) goes on from inside the epoch, bit
for bit; a quit asks first only if something would be lost. No sleeps: the worker is paused at an
exact step from its own thread."""
import numpy as np
import pytest
from PySide6.QtCore import QSettings

import app.studio.quitting
from app.studio.run_rows import STATUS
from app.studio.window import MainWindow
from cnn.checkpoint import load_checkpoint
from cnn.runs.metrics import METRICS_FILE, read_records
from cnn.runs.runfile import read_info
from cnn.runs.store import LAST, RunStore
from cnn.session import Session
from cnn.train import StepRecord

from app.model.run_folders import RunFolders


KEEP = RunFolders.keep


def pause_at(monkeypatch, worker, epoch, step):
    """The studio model pauses right after step `step` of `epoch` (one step a slice, so none follows it)."""
    monkeypatch.setattr(worker.studio, "slice_seconds", 0.0)

    def keep(self, record):
        KEEP(self, record)
        if isinstance(record, StepRecord) and (record.epoch, record.step) == (epoch, step):
            self.studio.pause()
    monkeypatch.setattr(RunFolders, "keep", keep)


def numbers(records):
    """Every record's numbers but the epochs' wall time."""
    return [(r.epoch, r.step, r.global_step, r.loss, dict(r.grad_norms)) if isinstance(r, StepRecord)
            else (r.epoch, r.train_loss, r.test_loss, r.test_accuracy) for r in records]


def train_to_the_end(window, qtbot):
    with qtbot.waitSignal(window.training_finished, timeout=60000):
        window.start()
    qtbot.waitUntil(lambda: window.worker.recorder is None, timeout=10000)


def test_stop_in_the_first_epoch_then_start_goes_on_from_that_step_bit_for_bit(window, qtbot, monkeypatch, raw_mnist):
    config = window.worker.session.config.with_changes(epochs=2)
    whole = Session(config, raw_mnist)
    straight = list(whole.run(2))
    pause_at(monkeypatch, window.worker, 1, 7)
    window.start()
    qtbot.waitUntil(lambda: window.state == "paused", timeout=30000)
    window.stop()
    qtbot.waitUntil(lambda: window.state == "idle" and window.worker.recorder is None, timeout=10000)
    [entry] = RunStore(window.runs_dir).list()
    assert entry.status == "interrupted" and entry.reason is None and entry.openable     # never "damaged"
    assert (entry.info.epochs_done, entry.info.step, entry.info.steps_per_epoch) == (0, 7, 20)
    checkpoint = load_checkpoint(entry.path / LAST)
    assert (checkpoint.epoch, checkpoint.step) == (0, 7)
    row = window.runs_panel._item
    qtbot.waitUntil(lambda: row(entry.path).text(STATUS) == "interrupted\nat epoch 1,\nstep 7 of 20")   # its place
    assert "(network (seed 0), trained 7 steps;" in window.model_label.text()   # no longer "new network"

    monkeypatch.undo()
    train_to_the_end(window, qtbot)      # Start: the same run goes on, from step 8
    session = window.worker.session
    for name, value in whole.network.params.items():
        assert np.array_equal(session.network.params[name], value), name
    assert numbers(read_records(entry.path / METRICS_FILE)) == numbers(straight)
    assert window.loss_view.steps.count == 40    # the stopped epoch's steps drawn once
    info = read_info(entry.path)
    assert info.status == "finished" and info.epochs_done == 2 and info.step == 0


@pytest.mark.slow  # a second window (~5 s)
def test_closing_while_training_keeps_the_step_and_asks_nothing(qtbot, tmp_path, monkeypatch, raw_mnist):
    asked = []
    monkeypatch.setattr(app.studio.quitting, "ask", lambda window, text: asked.append(text) or True)
    settings = QSettings(str(tmp_path / "studio.ini"), QSettings.IniFormat)
    window = MainWindow(settings, runs_dir=tmp_path / "runs")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.model is not None, timeout=10000)
    window.settings_panel.limit.setValue(10)
    window.settings_panel.epochs.setValue(3)
    window.reset()
    qtbot.waitUntil(lambda: window.model.config.limit == 10, timeout=10000)
    pause_at(monkeypatch, window.worker, 2, 13)
    window.start()
    qtbot.waitUntil(lambda: window.state == "paused", timeout=30000)
    window.close()                              # paused is training too: the checkpoint is written first
    assert window.closed and asked == []
    [entry] = RunStore(tmp_path / "runs").list()
    assert entry.status == "interrupted" and entry.openable and (entry.info.epochs_done, entry.info.step) == (1, 13)
    checkpoint = load_checkpoint(entry.path / LAST)
    assert (checkpoint.epoch, checkpoint.step) == (1, 13)
    continued = Session.from_checkpoint(checkpoint, raw_mnist)
    list(continued.run(2))
    whole = Session(continued.config, raw_mnist)
    list(whole.run(3))
    assert all(np.array_equal(continued.network.params[k], v) for k, v in whole.network.params.items())

    # The studio opened again shows that run where it stopped, and Start goes on with it in its folder.
    again = MainWindow(QSettings(str(tmp_path / "studio.ini"), QSettings.IniFormat), runs_dir=tmp_path / "runs")
    qtbot.addWidget(again)
    again.show()
    qtbot.waitUntil(lambda: again.worker.run_folder == entry.path and again.loss_view.steps.count > 0, timeout=10000)
    assert again.status.progress_bar.format() == "epoch 2/3 · step 13/20 · stopped"
    assert again.loss_view.last_x == 1.65 and again.loss_view.plot.viewRange()[0][1] >= 1.65
    assert f"(run “{entry.info.name}”, trained 1 epoch and 13 steps;" in again.model_label.text()
    assert again.settings_panel.epochs.value() == 3
    with qtbot.waitSignal(again.training_finished, timeout=60000):
        again.start()
    qtbot.waitUntil(lambda: again.worker.recorder is None, timeout=10000)
    [entry] = RunStore(tmp_path / "runs").list()
    assert entry.status == "finished" and entry.info.epochs_done == 3


@pytest.mark.slow  # the whole studio
def test_quitting_unrecorded_training_asks_and_staying_keeps_the_network(qtbot, tmp_path, monkeypatch):
    """Training no run records is asked about before anything stops: No leaves it paused where it was (it was
    stopped); once idle it is asked about again (it quit without a word); saved, nothing is asked."""
    blocked = tmp_path / "a file, not a folder"
    blocked.write_text("x")
    answers, asked = [False, False, True], []
    monkeypatch.setattr(app.studio.quitting, "ask", lambda window, text: asked.append(text) or answers.pop(0))
    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), runs_dir=blocked)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.model is not None, timeout=10000)
    window.settings_panel.limit.setValue(10)
    window.settings_panel.epochs.setValue(2)
    window.reset()
    qtbot.waitUntil(lambda: window.model.config.limit == 10, timeout=10000)
    pause_at(monkeypatch, window.worker, 1, 5)
    window.start()
    qtbot.waitUntil(lambda: window.state == "paused" and window.kept.steps == 5, timeout=30000)
    window.close()
    assert asked == ["The network shown has taken 5 training steps since it was made or opened, and its weights are "
                     "neither saved nor recorded in a run. Quitting loses that training; save the weights first "
                     "(File ▸ Save weights) to keep them."]
    assert not window.closed and window.isVisible() and window.state == "paused"   # as it was: nothing stopped
    assert window.worker.session.progress.step == 5
    monkeypatch.setattr(RunFolders, "keep", KEEP)
    window.stop()
    qtbot.waitUntil(lambda: window.state == "idle")
    window.close()          # idle, and still kept nowhere: asked again
    assert len(asked) == 2 and not window.closed and window.kept.at_risk
    window.save_weights(str(tmp_path / "kept.npz"))
    qtbot.waitUntil(lambda: not window.kept.at_risk, timeout=10000)
    window.close()          # saved: nothing to ask
    assert window.closed and len(asked) == 2
