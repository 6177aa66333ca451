"""Issue 11's studio faults: remembered garbage, command-line ranges, failing screenshots and saves,
typed values out of range, windows closed one after another. pytest-qt, no sleeps."""
import gc
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import shiboken6
from PySide6.QtCore import QSettings, Qt

from cnn import weights_file
from cnn.presets import original_network

from app.main import main
from app.studio.window import MainWindow


def open_window(qtbot, path, **kwargs):
    window = MainWindow(QSettings(str(path), QSettings.IniFormat), **kwargs)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.model is not None, timeout=20000)
    return window


@pytest.mark.slow   # the whole studio (or the whole step-through) opened
def test_garbage_remembered_values_become_defaults_and_are_named_once(qtbot, tmp_path, monkeypatch):
    path = tmp_path / "garbage.ini"
    settings = QSettings(str(path), QSettings.IniFormat)
    settings.setValue("run/config", json.dumps({"seed": 2**31 + 5, "epochs": 3}))   # RunConfig takes up to 2³²−1
    settings.setValue("lesson/closed", True)   # the offscreen screen is 800 px wide: the studio with the lesson is 943
    settings.sync()
    with open(path, "a") as file:
        file.write("\n[window]\ngeometry=hello\ntrain_splitter=@ByteArray(garbage)\nworkspace=3\ntrain_tab=graphs\n"
                   "[sample]\nsplit=3\n")
    notes = []
    monkeypatch.setattr(MainWindow, "say_once", lambda self, text: notes.append(text))
    window = open_window(qtbot, path)
    assert window.settings_panel.seed.value() == 2**31 + 5
    assert window.settings_panel.config().seed == 2**31 + 5 and window.settings_panel.config().epochs == 3
    assert len(notes) == 1
    assert all(key in notes[0] for key in ("window/geometry", "window/train_splitter", "window/workspace",
                                           "window/train_tab", "sample/split"))
    assert window.train_tabs.currentIndex() == 0
    assert "run/config" not in notes[0]
    assert window.sample_picker.current[0] == "test"
    assert 0 < window.width() <= window.screen().availableGeometry().width()


@pytest.mark.slow   # the whole studio (or the whole step-through) opened
def test_garbage_step_through_geometry_opens_at_its_default_size(qtbot, tmp_path, monkeypatch):
    path = tmp_path / "s.ini"
    with open(path, "w") as file:
        file.write("[stepthrough]\ngeometry=not a geometry\n")
    notes = []
    monkeypatch.setattr(MainWindow, "say_once", lambda self, text: notes.append(text))
    window = open_window(qtbot, path)
    window.step_through()
    qtbot.waitUntil(lambda: window.step_window is not None and window.step_window.isVisible(), timeout=20000)
    available = window.step_window.screen().availableGeometry()
    assert 0 < window.step_window.width() <= available.width() and 0 < window.step_window.height() <= available.height()
    assert notes == ["The remembered step-through geometry could not be used; it has its default size."]


@pytest.mark.slow   # the whole studio (or the whole step-through) opened
def test_settings_that_cannot_be_written_are_reported(qtbot, tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("not a folder")
    notes = []
    monkeypatch.setattr(MainWindow, "say_once", lambda self, text: notes.append(text))
    open_window(qtbot, tmp_path / "a-file" / "s.ini")
    assert len(notes) == 1 and "a-file/s.ini: the settings file could not be written" in notes[0]


@pytest.mark.parametrize("epochs", ["99999999999999999999", "99999", "0"])
def test_epochs_out_of_range_are_refused_naming_the_range(epochs, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["--epochs", epochs, "--settings", os.devnull])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert f"--epochs must be a whole number from 1 to 10000, not {epochs}" in err and "Traceback" not in err



@pytest.mark.parametrize("lr", ["500", "0", "-1"])
def test_a_learning_rate_out_of_range_is_refused_naming_the_range(lr, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["--lr", lr, "--settings", os.devnull])
    assert exit.value.code == 2
    assert f"--lr must be from 1e-06 to 100, not {float(lr)!r}" in capsys.readouterr().err


@pytest.mark.slow   # the whole studio (or the whole step-through) opened
def test_the_tab_option_chooses_the_windows_central_tab(qtbot, tmp_path):
    """--tab's names follow the window's tabs (the screenshots of the README use them)."""
    from app.main import TABS
    from app.studio.workspaces import reveal
    window = open_window(qtbot, tmp_path / "s.ini")
    shown = {}
    for name, attribute in TABS.items():
        view = getattr(window, attribute)
        reveal(view)
        holder = view.parentWidget().parentWidget()
        shown[name] = (window.workspaces.current, holder.tabText(holder.currentIndex()))
    assert shown == {"layer": ("inspect", "Layer"), "strip": ("inspect", "Network strip"),
                     "health": ("train", "Health"), "over-time": ("inspect", "Over time")}

@pytest.mark.slow
@pytest.mark.parametrize("arguments, message", [
    (["--screenshot", "/nonexistent/dir/x.png"], "/nonexistent/dir/x.png: could not write the PNG file"),
    (["--data", "/etc/passwd"], "/etc/passwd"),
])
def test_exit_when_done_failures_exit_1_with_one_message(tmp_path, arguments, message):
    result = subprocess.run([sys.executable, "-m", "app", "--exit-when-done", "--settings", str(tmp_path / "s.ini"),
                             *arguments], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    lines = [line for line in result.stderr.splitlines() if line.startswith("cnn-studio:")]
    assert result.returncode == 1, result.stderr
    assert len(lines) == 1 and message in lines[0], result.stderr


@pytest.mark.slow   # the whole studio (or the whole step-through) opened
def test_windows_closed_one_after_another_are_deleted_by_qt(qtbot, tmp_path):
    """A second window closing used to segfault: the collection in its close destroyed the first
    window's Qt objects. Now Qt deletes a closed window's views and step-through itself."""
    def open_close(n):
        window = MainWindow(QSettings(str(tmp_path / f"{n}.ini"), QSettings.IniFormat))
        window.show()
        qtbot.waitUntil(lambda: window.model is not None, timeout=20000)
        window.step_through()
        qtbot.waitUntil(lambda: window.step_window is not None and window.step_window.isVisible(), timeout=20000)
        central, step = window.centralWidget(), window.step_window
        window.close()
        assert window.thread.isFinished()
        qtbot.waitUntil(lambda: not shiboken6.isValid(central) and not shiboken6.isValid(step), timeout=5000)
        gc.collect()

    open_close(0)
    open_close(1)


@pytest.mark.slow   # the whole studio (or the whole step-through) opened
def test_trains_sub_tab_and_the_exact_geometry_are_remembered(qtbot, tmp_path):
    """The Health sub-tab of Train came back as Loss; the window came back 10 px lower, then 1 px right."""
    path = tmp_path / "s.ini"
    closed = QSettings(str(path), QSettings.IniFormat)
    closed.setValue("lesson/closed", True)     # the offscreen screen is 800 px wide: the studio with the lesson is 943
    closed.sync()
    window = open_window(qtbot, path)
    window.show_workspace("train")
    window.train_tabs.setCurrentWidget(window.health_view)
    window.setGeometry(window.geometry().adjusted(-9, 17, -9, -31))   # moved and shorter (it is as narrow as it goes)
    geometry = window.geometry()
    window.close()
    again = open_window(qtbot, path)
    qtbot.waitUntil(lambda: not again.clamp_on_show)   # (the clamp after showing has run, or is queued)
    qtbot.wait(0)
    assert again.train_tabs.currentWidget() is again.health_view
    assert again.geometry() == geometry
    again.close()


def test_a_failed_save_names_the_chosen_path_and_is_not_remembered(window, qtbot, tmp_path):
    for target in (tmp_path / "missing" / "w.npz", tmp_path):
        with qtbot.waitSignal(window.error_shown, timeout=10000) as blocker:
            window.save_weights(str(target))
        assert blocker.args[0].startswith(f"{target}: could not save the weights: ")
        assert ".tmp" not in blocker.args[0] and blocker.args[0].count(str(target)) == 1   # named once
    assert window.recent.paths() == []


def test_a_failed_open_is_not_remembered_a_good_one_is(window, qtbot, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"nonsense")
    with qtbot.waitSignal(window.error_shown, timeout=10000):
        window.open_weights(str(bad))
    assert window.recent.paths() == []
    good = tmp_path / "good.npz"
    weights_file.save(original_network(seed=3), good)
    with qtbot.waitSignal(window.worker.loaded, timeout=20000):
        window.open_weights(str(good))
    qtbot.waitUntil(lambda: window.recent.paths() == [str(good)], timeout=30000)


def type_into(qtbot, field, text):
    field.setFocus()
    field.lineEdit().selectAll()
    qtbot.keyClicks(field.lineEdit(), text)
    qtbot.keyClick(field.lineEdit(), Qt.Key_Return)


@pytest.mark.parametrize("name, text, reason", [
    ("learning_rate", "-1", "Learning rate must be from 1e-06 to 100, not -1; kept 0.1"),
    ("learning_rate", "1e-9", "Learning rate must be from 1e-06 to 100, not 1e-9; kept 0.1"),
    ("limit", "0", "Images per class must be 1 to 60000 images per class, or all, not 0; kept 10"),
    ("epochs", "99999", "Epochs must be a whole number from 1 to 10000, not 99999; kept 2"),
    ("momentum", "1", "Momentum must be in [0, 1), not 1; kept 0"),
    ("seed", "4294967296", "Seed must be a whole number from 0 to 4294967295, not 4294967296; kept 0"),
])
def test_typed_values_out_of_range_are_refused_with_a_reason(window, qtbot, name, text, reason):
    field = window.settings_panel.numbers[name]
    before = field.value()
    with qtbot.waitSignal(window.error_shown, timeout=5000) as blocker:
        type_into(qtbot, field, text)
    assert blocker.args[0] == reason
    assert field.value() == before


@pytest.mark.parametrize("name, text, value", [
    ("learning_rate", "0.000001", 1e-6), ("momentum", "0.9999999", 0.9999999), ("seed", "4294967295", 2**32 - 1),
    ("limit", "all", None), ("epochs", "10000", 10000),
])
def test_typed_values_in_range_are_taken_exactly(window, qtbot, name, text, value):
    type_into(qtbot, window.settings_panel.numbers[name], text)
    assert getattr(window.settings_panel.config(), name) == value


def test_the_fields_ranges_are_runconfigs(window):
    """The arrows' bounds are values RunConfig accepts (one source of truth judges what is typed)."""
    from cnn.config import RunConfig
    panel = window.settings_panel
    for name, field in panel.numbers.items():
        low = field.minimum() + (1 if field.special_text else 0)
        for bound in (low, field.maximum()):
            RunConfig().with_changes(**{name: int(bound) if field.whole else bound})
    assert np.isclose(panel.momentum.maximum(), 1)


@pytest.mark.slow   # the whole studio (or the whole step-through) opened
def test_a_value_typed_before_the_first_network_arrives_is_kept(qtbot, tmp_path):
    """The first network's settings used to overwrite the fields: --lr 50 trained at 50 while the
    panel went back to 0.1."""
    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.settings_panel.learning_rate.setValue(0.05)   # before the event loop delivers the network
    window.show()
    qtbot.waitUntil(lambda: window.model is not None, timeout=20000)
    assert window.model.config.learning_rate == 0.1 and window.settings_panel.config().learning_rate == 0.05


def test_an_arch_file_that_is_a_fifo_is_refused_before_the_window_opens(tmp_path, capsys):
    """The studio reads --arch through cnn.cli's reader (cnn.jsonfile): a FIFO is named, never opened to wait."""
    fifo = tmp_path / "a.json"
    os.mkfifo(fifo)
    assert main(["--arch", str(fifo)]) == 2
    assert capsys.readouterr().err == f"cnn-studio: error: --arch: {fifo} is a FIFO (named pipe), not a file\n"


@pytest.mark.slow   # a subprocess: without the check, QSettings waited on the FIFO for ever
@pytest.mark.parametrize("make, kind", [(os.mkfifo, "a FIFO (named pipe)"), (os.mkdir, "a folder")])
def test_a_settings_file_that_is_no_file_is_refused_at_once(tmp_path, make, kind):
    path = tmp_path / "s.ini"
    make(path)
    # The timeout only keeps a hang from stalling the suite; the exit code and the message are the test.
    result = subprocess.run([sys.executable, "-m", "app", "--settings", str(path)], capture_output=True, text=True,
                            timeout=300, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 2
    assert result.stderr == f"cnn-studio: error: --settings {path}: is {kind}, not a file\n"


@pytest.mark.slow   # a subprocess
def test_a_scripted_run_that_cannot_be_recorded_says_it_stops_and_exits_1(tmp_path):
    """It said "Training goes on" and exited 1: the script ends there, and says only what is wrong."""
    runs = tmp_path / "a-file"
    runs.write_text("not a folder")
    result = subprocess.run([sys.executable, "-m", "app", "--runs", str(runs), "--train", "--epochs", "1",
                             "--exit-when-done", "--settings", str(tmp_path / "s.ini")], capture_output=True,
                            text=True, timeout=300, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 1
    said = [line for line in result.stderr.splitlines() if line.startswith("cnn-studio:")]
    assert said == [f"cnn-studio: This run is not recorded: {runs}: the runs folder is a file (or part of its path "
                    f"is), not a folder."]


def test_a_settings_error_said_at_start_goes_once_the_user_fixes_the_setting(window, qtbot):
    type_into(qtbot, window.settings_panel.batch_size, "5000")
    window.start()      # the model finds it against the data: its answer comes back
    qtbot.waitUntil(lambda: "Batch size must be at most" in window.banner.text.text()
                    and window.banner.isVisibleTo(window), timeout=20000)
    assert window.state == "idle"
    type_into(qtbot, window.settings_panel.batch_size, "4")
    assert not window.banner.isVisibleTo(window) and "Batch size" not in window.statusBar().currentMessage()
    window.show_error("Another error, about a file")   # not the settings': an edit leaves it
    type_into(qtbot, window.settings_panel.batch_size, "5")
    assert window.banner.isVisibleTo(window)


def test_an_error_shown_moves_no_setting_under_the_pointer(window, qtbot):
    """The red banner (and the amber one) above the views moved the settings down by its height while the user
    was typing: the next click landed on the field above the one meant; below them, it moved the lesson's buttons
    up. They lie over the views' bottom right now, and nothing moves."""
    from PySide6.QtWidgets import QApplication
    window.show_workspace("train")
    field, column, view = window.settings_panel.batch_size, window.left_panel, window.loss_view
    qtbot.waitUntil(lambda: field.isVisible())

    def places():
        return [widget.mapTo(window, corner) for widget in (field, column, view)
                for corner in (widget.rect().topLeft(), widget.rect().bottomRight())]
    before = places()
    window.show_error("Batch size must be at most the 20 training images, not 5000; kept 1")
    window.health_banner.show()
    QApplication.processEvents()
    assert window.banner.isVisible() and window.banner.height() > 20 and places() == before
    shown = window.banner.mapTo(window, window.banner.rect().bottomRight())
    timeline = window.timeline.mapTo(window, window.timeline.rect().topLeft())
    assert shown.y() < timeline.y() and shown.x() < window.width()           # over the views, above the timeline
    window.show_error("A longer error " * 30)                                  # wraps: the banner grows upward
    QApplication.processEvents()
    assert window.banner.mapTo(window, window.banner.rect().bottomRight()).y() < timeline.y()
    window.banner.hide()
    window.health_banner.hide()
    QApplication.processEvents()
    assert not window.banners.isVisible() and places() == before


def typing(qtbot, field, text):
    """Text typed into a field that keeps the focus: no Enter, no Tab (as before F5 or Ctrl+R)."""
    field.setFocus()
    field.lineEdit().selectAll()
    qtbot.keyClicks(field.lineEdit(), text)


def test_start_by_its_shortcut_takes_the_value_still_being_typed(window, qtbot):
    """F5 takes no focus from the field: Start trained with the batch size before the typing, while the field
    showed 500, and said nothing (an independent review's finding)."""
    field = window.settings_panel.batch_size
    typing(qtbot, field, "500")
    window.start()
    qtbot.waitUntil(lambda: "Batch size must be at most the 20 training images, not 500" in window.banner.text.text()
                    and window.banner.isVisibleTo(window), timeout=20000)
    assert window.state == "idle" and field.value() == 500


def test_nothing_starts_while_a_refused_setting_is_said(window, qtbot):
    """Text that is no value is refused when Start reads it, and nothing starts until the user fixes it or
    dismisses what the banner says (the field went back to its last value: a run of it is not the one asked for)."""
    field = window.settings_panel.learning_rate
    typing(qtbot, field, "-1")
    window.start()
    assert window.banner.text.text() == "Learning rate must be from 1e-06 to 100, not -1; kept 0.1"
    assert window.banner.isVisibleTo(window) and field.lineEdit().text() == "0.1"
    window.start()                                       # again, the banner still there: nothing starts
    assert window.state == "idle" and window.worker.recorder is None
    window.banner.hide()                                 # dismissed: Start trains with the value kept
    with qtbot.waitSignal(window.training_finished, timeout=60000):
        window.start()
    assert window.worker.session.optimizer.learning_rate == 0.1
