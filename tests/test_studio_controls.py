"""Issue 12's defects in the window and its run controls, each driven as a user would (keys,
clicks, files) under pytest-qt. Waits for signals and states only."""
import itertools
import re

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from cnn import weights_file
from cnn.presets import PRESETS, digits_network

from app.model.help import ABOUT, TOUR
from app.studio.window import MainWindow
from app.model.progress import ProgressTracker
from app.model.state import RunState
from app.studio.status_line import NOTE_SECONDS

LONG = 10000   # epochs: a run no test here can finish


def start_long_run(window, qtbot):
    window.settings_panel.epochs.setValue(LONG)
    window.start()
    qtbot.waitUntil(lambda: window.state is RunState.RUNNING, timeout=10000)


def test_a_learning_rate_can_be_typed_while_training(window, qtbot):
    start_long_run(window, qtbot)
    field = window.settings_panel.learning_rate
    assert field.lineEdit().isEnabled() and window.settings_panel.form.labelForField(field).isEnabled()
    assert not window.settings_panel.epochs.isEnabled()
    field.setFocus()
    field.lineEdit().selectAll()
    qtbot.keyClicks(field.lineEdit(), "0.0123")
    qtbot.keyClick(field.lineEdit(), Qt.Key_Return)
    qtbot.waitUntil(lambda: window.worker.session.optimizer.learning_rate == 0.0123, timeout=10000)
    window.stop()


def test_space_pauses_and_resumes_while_a_settings_field_has_focus(window, qtbot):
    start_long_run(window, qtbot)
    window.activateWindow()     # as for a user: the keys go to the active window's focused widget
    qtbot.waitUntil(window.isActiveWindow)
    spin_box = window.settings_panel.learning_rate
    field = spin_box.lineEdit()
    spin_box.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is spin_box)
    with qtbot.waitSignal(window.worker.state_changed, timeout=10000) as paused:
        qtbot.keyClick(spin_box, Qt.Key_Space)
    assert paused.args == [RunState.PAUSED]
    qtbot.waitUntil(lambda: window.state is RunState.PAUSED)   # the window has heard it too
    with qtbot.waitSignal(window.worker.state_changed, timeout=10000) as resumed:
        qtbot.keyClick(spin_box, Qt.Key_Space)
    assert resumed.args == [RunState.RUNNING]
    assert " " not in field.text()
    window.stop()


def test_space_in_an_idle_window_starts_nothing(window, qtbot):
    seed = window.settings_panel.seed
    seed.setFocus()
    qtbot.keyClick(seed.lineEdit(), Qt.Key_Space)
    assert window.state is RunState.IDLE and not window.controls.pause.isEnabled()


def test_buttons_are_enabled_only_when_they_do_something(window, qtbot):
    controls = window.controls
    buttons = controls.buttons

    def enabled():
        return {action.text().replace("&", ""): buttons[action].isEnabled() for action in controls.actions()[:3]}
    assert enabled() == {"Start": True, "Pause": False, "Stop": False}
    start_long_run(window, qtbot)
    assert enabled() == {"Start": False, "Pause": True, "Stop": True}
    window.toggle_pause()
    qtbot.waitUntil(lambda: window.state is RunState.PAUSED, timeout=30000)
    assert enabled() == {"Start": False, "Resume": True, "Stop": True}
    assert [b.text() for b in (buttons[controls.start], buttons[controls.pause])] == ["Start", "Resume"]
    window.stop()
    qtbot.waitUntil(lambda: window.state is RunState.IDLE, timeout=30000)
    assert enabled() == {"Start": True, "Pause": False, "Stop": False}


def test_no_rate_or_time_left_once_paused_or_stopped(window, qtbot):
    start_long_run(window, qtbot)
    window.toggle_pause()
    qtbot.waitUntil(lambda: window.state is RunState.PAUSED, timeout=30000)
    text = window.status.progress_bar.format()
    assert re.fullmatch(r"epoch \d+/10000 · step \d+/20", text), text
    window.stop()
    qtbot.waitUntil(lambda: window.state is RunState.IDLE, timeout=30000)
    text = window.status.progress_bar.format()
    assert re.fullmatch(r"epoch \d+/10000 · step \d+/20 · stopped", text), text


def test_the_rate_is_measured_over_real_time_not_over_bursts():
    """750 samples/s arriving in bursts (a frame a second, and a small one 10 ms after it) reads
    ~750, never the 10,000-odd a rate over two bursts 10 ms apart would give."""
    from cnn.train import StepRecord
    now = [0.0]
    tracker = ProgressTracker(clock=lambda: now[0])
    tracker.start_run(10)
    step = 0

    def burst(samples):
        nonlocal step
        records = []
        for _ in range(samples):
            step += 1
            records.append(StepRecord(epoch=1, step=step, steps_per_epoch=100000, global_step=step, loss=0.5,
                                      batch_size=1, grad_norms={}))
        tracker.add(records)
    rates = []
    for second in range(1, 8):
        now[0] = float(second)
        burst(740)
        rates.append(tracker.samples_per_second())
        now[0] = second + 0.01
        burst(10)
        rates.append(tracker.samples_per_second())
    measured = [r for r in rates if r]
    assert measured and all(650 < r < 850 for r in measured), rates


def test_a_refused_start_keeps_the_x_range_and_reset_resets_it(window, qtbot):
    with qtbot.waitSignal(window.training_finished, timeout=30000):
        window.start()                                  # 2 epochs
    qtbot.waitUntil(lambda: window.state is RunState.IDLE, timeout=30000)
    high = window.loss_view.plot.viewRange()[0][1]
    assert 2 <= high < 2.2
    window.settings_panel.batch_size.setValue(500)     # more than the 20 images: refused by the worker
    with qtbot.waitSignal(window.error_shown, timeout=10000):
        window.start()
    assert window.loss_view.plot.viewRange()[0][1] == high
    window.settings_panel.batch_size.setValue(1)
    with qtbot.waitSignal(window.worker.model_changed, timeout=10000):
        window.reset()
    qtbot.waitUntil(lambda: window.loss_view.plot.viewRange()[0][1] < 1.5, timeout=30000)
    assert window.loss_view.steps.count == 0


def test_the_status_bar_and_the_progress_bar_count_epochs_alike_and_the_network_is_no_longer_new(window, qtbot):
    with qtbot.waitSignal(window.training_finished, timeout=30000):
        window.start()
    qtbot.waitUntil(lambda: window.state is RunState.IDLE, timeout=30000)
    messages = []
    window.statusBar().messageChanged.connect(messages.append)
    window.status.clock = itertools.count(0, NOTE_SECONDS).__next__   # every note outlived: each epoch's line shows
    with qtbot.waitSignal(window.training_finished, timeout=30000):
        window.start()                                  # two more: the run's epochs 3 and 4, of 4 now
    qtbot.waitUntil(lambda: window.state is RunState.IDLE, timeout=30000)
    epochs = [m for m in messages if m.startswith("Epoch ")]
    assert epochs[-1].startswith("Epoch 4/4: ") and window.status.progress_bar.format().startswith("epoch 4/4")
    assert "new network" not in window.model_label.text() and "trained 4 epochs" in window.model_label.text()
    assert window.settings_panel.epochs.value() == 4     # the run's plan grew from 2 to 4: the field says so


def button_colour(button) -> QColor:
    image = button.grab().toImage()
    pixels = [image.pixelColor(x, y) for x in range(3, image.width() - 3) for y in range(3, image.height() - 3)]
    return QColor(*(int(np.mean([getattr(p, c)() for p in pixels])) for c in ("red", "green", "blue")))


def test_selected_class_buttons_look_clearly_different(window):
    buttons = window.settings_panel.class_buttons
    assert buttons[0].isChecked() and not buttons[5].isChecked()
    on, off = button_colour(buttons[0]), button_colour(buttons[5])
    assert abs(on.lightness() - off.lightness()) > 60 or abs(on.hue() - off.hue()) > 60


def test_the_scale_that_fits_a_layout():
    from app.widgets.fit_scene import needed_scale
    assert needed_scale(800, 600, 400, 300) == 1.0                 # room enough: drawn as it is
    assert needed_scale(300, 600, 600, 300) == 0.5                 # half the width it needs
    assert needed_scale(300, 100, 600, 400) == 0.25                # the tighter of the two


def test_the_window_opens_within_the_available_screen(qtbot, tmp_path):
    window = MainWindow(QSettings(str(tmp_path / "fresh.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    available = window.screen().availableGeometry()
    assert window.width() <= available.width() and window.height() <= available.height()
    assert window.minimumSizeHint().width() <= 1024


def test_help_and_about_are_up_to_date():
    import cnn
    assert f"CNN Studio {cnn.__version__}" in ABOUT
    assert "Below them the" in TOUR and "beside them" not in TOUR.lower()
    for topic in ("Step through", "thumbnail", "Space", "Ctrl+M", "Alt+", "Edit architecture"):
        assert topic in TOUR
    from app.model.workspace_names import WORKSPACES
    for number, (_name, title) in enumerate(WORKSPACES, start=1):   # Help covers every workspace
        assert f"<b>{title}</b> (Ctrl+{number})" in TOUR, title


@pytest.mark.slow
def test_opening_a_digits_file_under_the_original_preset(window, qtbot, tmp_path):
    """The preset box and every field follow the network, a moving bar says it is loading, the old
    curves go, and the status bar gives the loaded network's test accuracy."""
    with qtbot.waitSignal(window.training_finished, timeout=30000):
        window.start()
    assert window.loss_view.steps.count == 40
    path = tmp_path / "digits.npz"
    weights_file.save(digits_network(10, seed=1, dtype="float32"), path)
    busy = []   # what the status line shows when it says what it is doing (recorded on the GUI thread)
    bar = window.status.progress_bar
    window.statusBar().messageChanged.connect(
        lambda text: busy.append((bar.maximum(), bar.format())) if text.startswith("Loading") else None)
    with qtbot.waitSignal(window.worker.loaded, timeout=120000):
        window.open_weights(str(path))
    qtbot.waitUntil(lambda: "test accuracy" in window.statusBar().currentMessage(), timeout=10000)
    assert busy == [(0, f"Loading {path}…")]
    digits = PRESETS["digits"]
    panel = window.settings_panel
    config = panel.config()
    assert panel.preset.currentData() == "digits" and config.classes == tuple(range(10))
    assert (config.batch_size, config.momentum, config.dtype) == (digits.batch_size, digits.momentum, "float32")
    assert window.loss_view.steps.count == 0 and not window.loss_view.epochs   # the old curves are gone
    assert window.statusBar().currentMessage().startswith(f"Loaded weights from {path}: test accuracy ")


@pytest.mark.slow
def test_preset_digits_builds_only_the_digits_network(qtbot, tmp_path):
    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), preset="digits")
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.worker.model_changed, timeout=120000) as first:
        window.show()
    assert first.args[0].config.preset == "digits" and first.args[0].parameter_count == 27562
