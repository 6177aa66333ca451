"""The studio, driven with pytest-qt (offscreen). No sleeps: waitSignal / waitUntil only."""
import os
import threading
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import bad_weights_file

from PySide6.QtCore import QObject, QSettings, Slot
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from app.studio.window import MainWindow
from cnn import weights_file
from cnn.presets import original_network
from cnn.train import StepRecord

pytestmark = pytest.mark.slow  # every test opens the whole studio; the fast lane's GUI tests are the step-through's


class Recorder(QObject):
    """Receives the worker's signals on the GUI thread, as the window does. (A plain function
    connected to a worker signal would run on the worker's thread.)"""

    def __init__(self, worker):
        super().__init__()
        self.records, self.states = [], []
        worker.records.connect(self.on_records)
        worker.state_changed.connect(self.on_state)

    @Slot(object)
    def on_records(self, batch):
        self.records.extend(batch)

    @Slot(str)
    def on_state(self, state):
        self.states.append(state)


def start_and_wait(window, qtbot):
    window.start()
    qtbot.waitUntil(lambda: window.state == "running", timeout=10000)


def test_a_full_run_delivers_every_record_in_order(window, qtbot):
    recorder = Recorder(window.worker)
    with qtbot.waitSignal(window.training_finished, timeout=30000):
        window.start()
    qtbot.waitUntil(lambda: window.state == "idle", timeout=30000)
    records, states = recorder.records, recorder.states
    steps = [r for r in records if isinstance(r, StepRecord)]
    assert [r.global_step for r in steps] == list(range(1, 41))
    kinds = [type(r).__name__ for r in records]
    assert kinds.index("EpochRecord") == 20 and kinds[-1] == "EpochRecord" and kinds.count("EpochRecord") == 2
    assert states == ["running", "idle"]
    # every step's loss reached the loss plot
    assert window.loss_view.steps.count == 40
    assert window.status.progress_bar.value() == 1000
    assert "epoch 2/2" in window.status.progress_bar.format()
    # the last epoch's predictions reached the thumbnails (misclassified ones get a red frame)
    last = [r for r in records if type(r).__name__ == "EpochRecord"][-1]
    classes = np.asarray(window.model.classes)   # the model sends them: tests/test_studio_model_runs.py
    np.testing.assert_array_equal(window.sample_picker.predicted_labels["test"], classes[last.test_predictions])


LONG = 10000   # epochs: 200,000 steps of the fixture's data, more than any of these tests can train


def test_pause_resume_stop(window, qtbot):
    """Waits for states and records only: the run is far too long to end before Stop lands (it
    once had 50 epochs and finished first under load), and the check says it did not end."""
    window.settings_panel.epochs.setValue(LONG)
    recorder = Recorder(window.worker)
    records, states = recorder.records, recorder.states
    start_and_wait(window, qtbot)
    qtbot.waitUntil(lambda: len(records) > 3, timeout=30000)
    window.toggle_pause()
    qtbot.waitUntil(lambda: window.state == "paused", timeout=30000)
    assert window.controls.buttons[window.controls.pause].text() == "Resume"
    assert window.controls.buttons[window.controls.start].text() == "Start"   # not a second "Resume"
    assert window.status.state_label.text() == "Paused"
    seen = len(records)
    window.toggle_pause()
    qtbot.waitUntil(lambda: len(records) > seen + 3, timeout=30000)
    window.stop()
    qtbot.waitUntil(lambda: window.state == "idle", timeout=30000)
    steps = [r.global_step for r in records if isinstance(r, StepRecord)]
    assert steps == list(range(1, len(steps) + 1))  # nothing lost or repeated across the pause
    assert states == ["running", "paused", "running", "idle"]
    assert steps[-1] < LONG * 20        # the run did not end (the model's side: tests/test_studio_model_runs.py)


def test_choosing_a_sample_redraws_its_maps(window, qtbot):
    window.sample_picker.select("train", 7)  # two requests: the split (index 0), then the index
    qtbot.waitUntil(lambda: "train image #7" in window.features_view.caption.text(), timeout=30000)
    expected = window.model.images["train"][7]   # the data set's: tests/test_studio_model_runs.py
    assert np.array_equal(window.features_view.image, expected)
    assert "train image #7" in window.features_view.caption.text()
    label = int(window.model.labels["train"][7])
    assert f"label <b>{label}</b>" in window.features_view.caption.text()
    assert [entry[2].shape for entry in window.features_view.shown] == [(5, 26, 26), (5, 26, 26)]


def test_opening_weights_updates_the_kernels(window, qtbot, tmp_path):
    network = original_network(seed=99)
    network.params["0.kernels"][...] = np.arange(45).reshape(5, 1, 3, 3) / 10
    path = tmp_path / "w.npz"
    weights_file.save(network, path)
    window.open_weights(str(path))
    qtbot.waitUntil(lambda: window.model.source == str(path), timeout=10000)
    qtbot.waitUntil(lambda: window.weights_view.snapshot is not None and np.array_equal(
        window.weights_view.snapshot.layers[0].params["kernels"], network.params["0.kernels"]))
    shown = window.weights_view.main.cells.cells  # the grid drawn: 5 kernels × 1 channel, or transposed
    assert shown.shape in ((5, 1, 3, 3), (1, 5, 3, 3))
    np.testing.assert_array_equal(shown.reshape(5, 3, 3), network.params["0.kernels"][:, 0])
    assert window.model.source == str(path)
    qtbot.waitUntil(lambda: window.settings.value("recent")[0] == str(path))
    # File ▸ Open recent is rebuilt on the GUI thread (made on the worker's, its actions had no parent)
    action = window.recent.menu.actions()[0]
    assert action.text() == str(path) and action.parent() is window.recent.menu
    assert action.thread() is QApplication.instance().thread()
    # every parameter of the file reaching the session: tests/test_studio_model_runs.py


def test_a_bad_weights_file_shows_an_error_and_keeps_the_model(window, qtbot, tmp_path):
    model = window.model    # the weights left alone: tests/test_studio_model_runs.py
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"this is not a weights file")
    with qtbot.waitSignal(window.error_shown, timeout=10000) as blocker:
        window.open_weights(str(bad))
    assert str(bad) in blocker.args[0] and "not a weights file (not a zip archive)" in blocker.args[0]
    assert window.banner.isVisible() and str(bad) in window.banner.text.text()
    assert window.model is model


def test_save_weights_from_the_window(window, qtbot, tmp_path):
    path = tmp_path / "saved.npz"
    window.save_weights(str(path))
    qtbot.waitUntil(lambda: path.exists(), timeout=10000)
    # the file holds the session's weights: tests/test_studio_model_runs.py
    assert set(weights_file.load(path).params) == set(window.model.parameter_names)


def test_nonsense_settings_are_refused_with_a_message(window, qtbot):
    for button in window.settings_panel.class_buttons:
        button.setChecked(False)
    window.settings_panel.class_buttons[3].setChecked(True)
    with qtbot.waitSignal(window.error_shown) as blocker:
        window.start()
    assert "at least two classes" in blocker.args[0]
    assert window.state == "idle"


def test_closing_during_training_ends_the_run_and_joins_the_thread(window, qtbot):
    window.settings_panel.epochs.setValue(LONG)
    start_and_wait(window, qtbot)
    qtbot.waitUntil(lambda: window.status.progress.done_steps > 5, timeout=30000)
    window.close()      # blocking: returns once the worker has ended its run and its thread has finished
    assert window.thread.isFinished()
    assert window.worker.state == "idle"    # ended where it was: tests/test_studio_model_runs.py


def test_settings_are_remembered(qtbot, tmp_path):
    path = str(tmp_path / "remember.ini")
    first = MainWindow(QSettings(path, QSettings.IniFormat))
    qtbot.addWidget(first)
    first.settings_panel.epochs.setValue(7)
    first.settings_panel.learning_rate.setValue(0.05)
    first.sample_picker.split.setCurrentIndex(first.sample_picker.split.findData("train"))
    first.close()
    second = MainWindow(QSettings(path, QSettings.IniFormat))
    qtbot.addWidget(second)
    assert second.settings_panel.epochs.value() == 7
    assert second.settings_panel.learning_rate.value() == 0.05
    assert second.sample_picker.current[0] == "train"
    second.close()


@pytest.mark.slow
def test_screenshot_command(tmp_path):
    """`cnn-studio --train --epochs N --exit-when-done --screenshot PATH` trains, saves a PNG, exits 0."""
    shot = tmp_path / "shot.png"
    result = subprocess.run([sys.executable, "-m", "app", "--train", "--epochs", "1", "--exit-when-done",
                             "--screenshot", str(shot), "--settings", str(tmp_path / "s.ini")],
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1600, 1000)


@pytest.mark.slow
def test_start_and_stop_fifty_times(window, qtbot):
    """Start, stop, start again: no crash, no hang, one worker thread throughout."""
    window.settings_panel.epochs.setValue(LONG)
    threads_before = threading.active_count()
    for _ in range(50):
        start_and_wait(window, qtbot)
        window.stop()
        qtbot.waitUntil(lambda: window.state == "idle", timeout=5000)
    assert threading.active_count() == threads_before
    assert window.thread.isRunning()


def test_a_batch_larger_than_the_data_is_refused(window, qtbot):
    window.settings_panel.batch_size.setValue(500)  # 20 training images in the fixture
    with qtbot.waitSignal(window.error_shown, timeout=10000) as blocker:
        window.start()
    assert blocker.args[0] == "Batch size must be at most the 20 training images, not 500"  # the label, not batch_size
    qtbot.waitUntil(lambda: window.state == "idle", timeout=30000)
    window.settings_panel.batch_size.setValue(5)
    with qtbot.waitSignal(window.training_finished, timeout=30000):
        window.start()


def test_divergence_is_reported_and_training_can_continue(window, qtbot, poisoned_image):
    """A poisoned image (NaN) makes the loss non-finite at its step: the run stops there with a
    message naming the step, the weights are those before it, and training can go on."""
    clean = window.model
    window.reset()  # the data set is prepared when the network is built
    qtbot.waitUntil(lambda: window.model is not clean, timeout=10000)
    window.settings_panel.epochs.setValue(1)
    with qtbot.waitSignal(window.error_shown, timeout=30000) as blocker:
        window.start()
    assert "training diverged at epoch 1, step 7: the loss is nan" in blocker.args[0]
    assert window.banner.isVisible()
    qtbot.waitUntil(lambda: window.state == "idle", timeout=30000)
    # the weights kept (finite, six steps on): tests/test_studio_model_runs.py
    poisoned_image()     # heal: clean data from here on
    poisoned = window.model
    window.reset()  # Start would resume on the same (poisoned) data; a reset prepares it again
    qtbot.waitUntil(lambda: window.model is not poisoned, timeout=10000)
    window.settings_panel.learning_rate.setValue(0.05)
    with qtbot.waitSignal(window.training_finished, timeout=30000):
        window.start()


def test_garbage_is_collected_on_the_gui_thread_only(window, qtbot, tmp_path):
    """Automatic collection could run on the training thread and destroy Qt objects there (a hang
    seen in this suite); while windows are open the GUI thread's timer collects instead."""
    import gc

    assert not gc.isenabled()
    second = MainWindow(QSettings(str(tmp_path / "second.ini"), QSettings.IniFormat))
    qtbot.addWidget(second)
    garbage = [[] for _ in range(3 * gc.get_threshold()[0])]
    for item in garbage:
        item.append(item)  # cycles: only the collector frees them
    del garbage, item
    qtbot.waitUntil(lambda: gc.get_count()[0] < gc.get_threshold()[0], timeout=5000)
    window.close()
    assert not gc.isenabled()  # the second window is still open
    second.close()
    assert gc.isenabled()


def test_a_class_missing_from_the_data_is_reported_and_the_model_kept(qtbot, tmp_path, raw_mnist):
    keep = raw_mnist["y_train"] != 9
    data = tmp_path / "no-nines.npz"
    np.savez(data, x_train=raw_mnist["x_train"][keep], y_train=raw_mnist["y_train"][keep],
             x_test=raw_mnist["x_test"], y_test=raw_mnist["y_test"])
    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), data_path=str(data))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.model is not None, timeout=10000)
    model = window.model
    window.settings_panel.class_buttons[9].setChecked(True)
    window.reset()
    qtbot.waitUntil(lambda: window.banner.isVisibleTo(window), timeout=10000)
    assert "no-nines.npz (train): class 9 has no images" in window.banner.text.text()
    assert window.model is model  # the previous model is shown (the session kept: tests/test_studio_model_runs.py)
    window.close()


def test_an_unreadable_data_file_is_reported_and_start_refused(qtbot, tmp_path, raw_mnist):
    data = tmp_path / "cut.npz"
    data.write_bytes(b"PK\x03\x04 not really a zip")
    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), data_path=str(data))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.banner.isVisibleTo(window), timeout=10000)
    assert "cut.npz" in window.banner.text.text()
    window.banner.hide()
    window.start()
    qtbot.waitUntil(lambda: window.banner.isVisibleTo(window), timeout=10000)
    assert "cut.npz" in window.banner.text.text() and window.state == "idle" and window.model is None
    window.close()


@pytest.mark.parametrize("content, message", [
    (b"\x00" * 100, "not a weights file (not a zip archive); expected an .npz saved by cnn-train or the studio"),
    (None, "not a readable weights archive (a truncated or damaged zip: its directory is missing)"),   # cut short
])
def test_bad_weights_files_of_every_kind_leave_the_model_alone(window, qtbot, tmp_path, content, message):
    path = bad_weights_file(tmp_path / "bad.npz", content)
    model = window.model    # the weights left alone: tests/test_studio_model_runs.py
    window.open_weights(str(path))
    qtbot.waitUntil(lambda: window.banner.isVisibleTo(window), timeout=10000)
    assert window.banner.text.text().startswith(f"{path}: ") and message in window.banner.text.text()
    assert window.model is model


def test_a_new_network_from_the_settings_takes_the_old_networks_error_away(window, qtbot):
    """An error about the network shown (here a made-up one) goes when another preset replaces the network,
    as it goes at Reset."""
    window.show_error("Training stopped: the run could not be recorded")
    assert window.banner.isVisibleTo(window)
    old = window.model
    panel = window.settings_panel
    panel.preset.setCurrentIndex(panel.preset.findData("digits" if panel.preset.currentData() != "digits"
                                                       else "original"))
    qtbot.waitUntil(lambda: window.model is not old, timeout=30000)
    assert not window.banner.isVisibleTo(window)
