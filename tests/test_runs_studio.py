"""The studio's runs (pytest-qt, offscreen): recorded, listed, reopened, overlaid, continued; a new
run on changed settings; closing while training; damaged run folders. No sleeps."""
import itertools
import json
import os
import subprocess
from datetime import datetime
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt

from app.studio.run_rows import BEST, EPOCHS, RUN, STATUS
from app.studio.status_line import NOTE_SECONDS
from app.studio.window import MainWindow
from cnn import weights_file
from cnn.checkpoint import load_checkpoint
from cnn.cli import main as cnn_train
from cnn.runs.metrics import METRICS_FILE, read_records
from cnn.runs.runfile import read_info
from cnn.runs.store import LAST, RunStore, inspect
from cnn.train import EpochRecord

ROOT = Path(__file__).resolve().parent.parent
LONG_ENOUGH = 500      # epochs: a run that goes on until it is stopped


def train_to_the_end(window, qtbot):
    with qtbot.waitSignal(window.training_finished, timeout=60000):
        window.start()
    qtbot.waitUntil(lambda: window.worker.recorder is None and runs(window)
                    and all(e.status != "running" for e in runs(window)), timeout=10000)


def runs(window):
    return RunStore(window.runs_dir).list()


def epochs_on_disk(folder):
    return [(r.epoch, r.train_loss, r.test_loss, r.test_accuracy) for r in read_records(folder / METRICS_FILE)
            if isinstance(r, EpochRecord)]


def shown_epochs(window):
    return [tuple(row) for row in window.loss_view.epochs]


def test_a_run_is_recorded_listed_reopened_and_overlaid(window, qtbot):
    train_to_the_end(window, qtbot)
    [first] = runs(window)
    assert first.status == "finished" and first.info.epochs_done == 2 and first.info.settings.learning_rate == 0.1
    assert window.runs_panel.current == first.path
    window.reset()
    qtbot.waitUntil(lambda: window.runs_panel.current is None)
    window.settings_panel.learning_rate.setValue(0.5)
    train_to_the_end(window, qtbot)
    second = next(run for run in runs(window) if run.path != first.path)
    assert len(runs(window)) == 2 and second.info.settings.learning_rate == 0.5
    panel = window.runs_panel
    assert panel.tree.topLevelItemCount() == 2
    row = panel._item(first.path)
    name, started, settings = row.text(RUN).split("\n")
    assert name == "original lr 0.1 seed 0" and settings == "original · lr 0.1 · batch 1 · 10/class"
    assert started == datetime.fromisoformat(first.info.created).astimezone().strftime("%Y-%m-%d %H:%M")
    assert row.text(EPOCHS) == "2/2" and row.text(BEST) == f"{100 * first.info.best_test_accuracy:.2f}%"
    assert row.text(STATUS) == "finished"

    # Select the first run: its weights and curves come back.
    panel.select(first.path)
    expected = [(float(e), train, test, 100 * accuracy) for e, train, test, accuracy in epochs_on_disk(first.path)]
    # (the second run has two epochs too: wait for the first's curves, not for any two epochs)
    qtbot.waitUntil(lambda: window.worker.run_folder == first.path and shown_epochs(window) == expected,
                    timeout=10000)
    # the checkpoint's weights in the session: tests/test_studio_model_runs.py
    assert window.loss_view.steps.count == 40
    assert "run “original lr 0.1 seed 0”" in window.model.source

    # Tick both: their curves overlaid, each labelled by the setting that differs.
    with qtbot.waitSignal(window.compare_view.shown, timeout=10000):
        panel.set_ticked(first.path)
        panel.set_ticked(second.path)
    qtbot.waitUntil(lambda: window.compare_view.ready() and len(window.compare_view.labels) == 2)
    assert sorted(window.compare_view.labels) == ["lr 0.1", "lr 0.5"]
    assert len(window.compare_view.items) == 6          # per run: loss, test loss, test accuracy
    accuracy_curves = [item for plot, item in window.compare_view.items if plot is window.compare_view.accuracy_plot]
    assert sorted(tuple(curve.yData) for curve in accuracy_curves) == sorted(
        tuple(100 * row[3] for row in epochs_on_disk(folder)) for folder in (first.path, second.path))
    panel.set_ticked(first.path, False)
    panel.set_ticked(second.path, False)
    assert window.compare_view.folders == []


def test_changed_settings_start_a_new_run_without_overlay(window, qtbot):
    train_to_the_end(window, qtbot)
    [first] = runs(window)
    train_to_the_end(window, qtbot)                      # Start again, the same settings: the run goes on
    [same] = runs(window)
    assert same.path == first.path and same.info.epochs_done == same.info.epochs_planned == 4
    assert [row[0] for row in epochs_on_disk(first.path)] == [1, 2, 3, 4]
    assert [row[0] for row in shown_epochs(window)] == [1.0, 2.0, 3.0, 4.0]
    assert window.settings_panel.epochs.value() == 4      # the run's plan grew from 2 to 4: Epochs says so

    window.settings_panel.epochs.setValue(2)
    window.settings_panel.learning_rate.setValue(0.2)     # another learning rate: another run
    with qtbot.waitSignal(window.worker.message, timeout=10000) as message:
        window.start()
    assert message.args[0].startswith("lr 0.1 → lr 0.2: a new run from a fresh network")
    train_to_the_end(window, qtbot)
    second = next(run for run in runs(window) if run.path != first.path)
    assert second.info.settings.learning_rate == 0.2 and second.info.epochs_done == 2
    assert [row[0] for row in shown_epochs(window)] == [1.0, 2.0]   # its own curves, from epoch 1
    assert window.loss_view.steps.count == 40

    window.settings_panel.set_config(window.settings_panel.config().with_changes(classes=(0, 1, 2)))
    train_to_the_end(window, qtbot)
    assert len(runs(window)) == 3
    third = next(run for run in runs(window) if run.path not in (first.path, second.path))
    assert third.info.settings.classes == (0, 1, 2) and third.info.epochs_done == 2
    assert [row[0] for row in shown_epochs(window)] == [1.0, 2.0]
    assert window.loss_view.steps.count == 2 * len(window.model.images["train"])
    assert window.compare_view.folders == []


@pytest.mark.slow  # two trainings and a second window (~10 s)
def test_closing_while_training_leaves_an_interrupted_run_that_continues(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "studio.ini"), QSettings.IniFormat)
    window = MainWindow(settings, runs_dir=tmp_path / "runs")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.model is not None, timeout=10000)   # (its settings shown in the panel)
    window.settings_panel.limit.setValue(10)
    window.settings_panel.epochs.setValue(500)
    window.reset()
    qtbot.waitUntil(lambda: window.model.config.limit == 10, timeout=10000)
    window.start()
    qtbot.waitUntil(lambda: window.worker.recorder is not None and window.worker.recorder.info.epochs_done >= 2,
                    timeout=30000)
    window.close()                                        # no prompt; nothing lost
    [entry] = RunStore(tmp_path / "runs").list()
    assert entry.status == "interrupted" and entry.openable and 2 <= entry.info.epochs_done < 500
    checkpoint = load_checkpoint(entry.path / LAST)
    assert checkpoint.epoch == entry.info.epochs_done

    again = MainWindow(QSettings(str(tmp_path / "studio.ini"), QSettings.IniFormat), runs_dir=tmp_path / "runs")
    qtbot.addWidget(again)
    again.show()
    qtbot.waitUntil(lambda: again.model is not None, timeout=10000)
    assert again.runs_panel._item(entry.path).text(STATUS).split("\n")[0] == "interrupted"   # and where it stopped
    again.runs_panel.select(entry.path)
    shown_and_selected(again, qtbot, entry.path)
    again.runs_panel.more_epochs.setValue(1)
    with qtbot.waitSignal(again.training_finished, timeout=30000):
        again.runs_panel.continue_selected()
    qtbot.waitUntil(lambda: again.worker.recorder is None)
    info = read_info(entry.path)
    assert info.epochs_done == info.epochs_planned == checkpoint.epoch + 1 and info.status == "finished"
    assert info.settings.limit == 10
    assert [row[0] for row in epochs_on_disk(entry.path)] == list(range(1, checkpoint.epoch + 2))
    again.close()


def shown_and_selected(window, qtbot, path) -> None:
    """The window shows the run and its row is selected (what Continue acts on): the model's folder is
    set before the window hears of it, and while a run opens its row is unselected for a moment."""
    panel = window.runs_panel
    qtbot.waitUntil(lambda: window.worker.run_folder == path and panel.current == path
                    and panel.selected_path() == path, timeout=10000)


def test_a_cnn_train_run_opens_and_continues_exactly_in_the_studio(window, qtbot, tmp_path, raw_mnist, monkeypatch):
    """cnn-train --runs DIR writes a run the studio lists and opens; continued there for one epoch it
    has the weights of a three-epoch run never interrupted."""
    import cnn.cli
    monkeypatch.setattr(cnn.cli, "load_mnist", lambda path=None: raw_mnist)
    assert cnn_train(["--epochs", "2", "--limit", "10", "--quiet", "--runs", str(window.runs_dir)]) == 0
    assert cnn_train(["--epochs", "3", "--limit", "10", "--quiet", "--save", str(tmp_path / "straight.npz")]) == 0
    window.runs_panel.refresh()
    [entry] = window.runs_panel.entries.values()
    assert entry.openable and entry.info.epochs_done == 2
    window.runs_panel.select(entry.path)
    shown_and_selected(window, qtbot, entry.path)
    window.runs_panel.more_epochs.setValue(1)
    with qtbot.waitSignal(window.training_finished, timeout=30000):
        window.runs_panel.continue_selected()
    # the weights of a run never interrupted: tests/test_studio_model_runs.py
    qtbot.waitUntil(lambda: read_info(entry.path).status == "finished")
    assert read_info(entry.path).epochs_done == 3


def damaged_runs(root, raw_mnist, monkeypatch):
    """A good run recorded by cnn-train, and copies of it damaged in every way."""
    import shutil

    import cnn.cli
    monkeypatch.setattr(cnn.cli, "load_mnist", lambda path=None: raw_mnist)
    assert cnn_train(["--epochs", "1", "--limit", "10", "--quiet", "--runs", str(root)]) == 0
    [good] = RunStore(root).list()
    folders = {}
    for kind in ("garbage run.json", "no run.json", "no checkpoint", "corrupt checkpoint", "bad weights",
                 "torn metrics", "linked metrics", "fifo lock"):
        folders[kind] = root / kind.replace(" ", "-")
        shutil.copytree(good.path, folders[kind])
    (folders["garbage run.json"] / "run.json").write_bytes(b"\x00garbage")
    (folders["no run.json"] / "run.json").unlink()
    (folders["no checkpoint"] / LAST).unlink()
    (folders["corrupt checkpoint"] / LAST).write_bytes(b"PK\x03\x04 nothing")
    params = weights_file.load(good.path / LAST).params                 # a zip whose directory reads, arrays do not
    np.savez(folders["bad weights"] / LAST, **{"__header__": np.frombuffer(b"{}", dtype=np.uint8), **params})
    with open(folders["torn metrics"] / METRICS_FILE, "ab") as file:
        file.write(b'{"type":"steps","epoch":2,"st')
    outside = root.parent / "outside.jsonl"               # a member linking out of its folder
    (folders["linked metrics"] / METRICS_FILE).rename(outside)
    (folders["linked metrics"] / METRICS_FILE).symlink_to(outside)
    fields = json.loads((folders["fifo lock"] / "run.json").read_text())   # "running", its lock a FIFO:
    (folders["fifo lock"] / "run.json").write_text(json.dumps({**fields, "status": "running"}))   # never opened
    (folders["fifo lock"] / ".lock").unlink()
    os.mkfifo(folders["fifo lock"] / ".lock")
    (root / "someone else's").mkdir()
    (root / "someone else's" / "notes.txt").write_text("hello")
    return good.path, folders


@pytest.mark.slow  # opens the whole studio (the fast lane keeps a few: tests/conftest.py)
def test_damaged_run_folders_are_listed_with_their_reasons(qtbot, tmp_path, raw_mnist, monkeypatch):
    root = tmp_path / "runs"
    good, folders = damaged_runs(root, raw_mnist, monkeypatch)
    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), runs_dir=root)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.model is not None, timeout=10000)
    panel = window.runs_panel
    rows = {Path(panel.tree.topLevelItem(i).data(0, Qt.UserRole)).name: panel.tree.topLevelItem(i)
            for i in range(panel.tree.topLevelItemCount())}
    status = {name: row.text(STATUS) for name, row in rows.items()}
    reason = {name: row.text(RUN).split("\n")[-1] for name, row in rows.items()}
    assert status["torn-metrics"] == status[good.name] == "finished"
    damaged = ("garbage-run.json", "no-run.json", "no-checkpoint", "corrupt-checkpoint", "someone else's",
               "linked-metrics", "fifo-lock")
    assert all(status[name] == "damaged" for name in damaged)
    assert reason["garbage-run.json"].startswith("run.json is not valid JSON")
    assert reason["no-run.json"] == "run.json is missing"
    assert reason["no-checkpoint"] == "the checkpoint last.npz is missing"
    assert reason["corrupt-checkpoint"].startswith("the checkpoint last.npz is corrupt")
    assert reason["someone else's"] == "not a run folder (no run.json)"
    assert reason["linked-metrics"] == "metrics.jsonl is a symbolic link; a run folder's files must be its own"
    assert reason["fifo-lock"] == ".lock is a FIFO (named pipe), not a file"
    for kind in ("garbage run.json", "no run.json", "no checkpoint", "corrupt checkpoint"):
        item = panel._item(folders[kind])
        assert not item.flags() & Qt.ItemIsUserCheckable                      # cannot be overlaid
        assert item.foreground(0).color().getRgb()[:3] == (140, 140, 140)     # greyed
        panel.select(folders[kind])
        assert not panel.open_button.isEnabled() and "cannot be opened" in panel.note.text()
    assert window.worker.run_folder is None
    # A checkpoint damaged inside: opening it says so, and the studio keeps its network.
    model_before = window.model     # the session kept: tests/test_studio_model_runs.py
    with qtbot.waitSignal(window.error_shown, timeout=10000) as error:
        panel.select(folders["bad weights"])
    assert error.args[0].startswith(f"{folders['bad weights']}: the checkpoint last.npz cannot be loaded")
    assert window.worker.run_folder is None and window.model is model_before
    # A torn last line of metrics is skipped: the run opens with its one epoch.
    panel.select(folders["torn metrics"])
    qtbot.waitUntil(lambda: window.runs_panel.current == folders["torn metrics"] and bool(shown_epochs(window)),
                    timeout=10000)
    assert [row[0] for row in shown_epochs(window)] == [1.0]


def test_the_runs_list_follows_a_run_while_shown_and_catches_up_when_shown_again(window, qtbot):
    """While it is shown, the list follows the run it records, epoch by epoch; hidden, it is left as it was
    (each frame's row cost the training the GIL) and shows the run as it is when shown again."""
    window.settings_panel.epochs.setValue(LONG_ENOUGH)
    window.show_workspace("runs")
    window.start()
    qtbot.waitUntil(lambda: window.worker.recorder is not None, timeout=10000)
    path = window.worker.recorder.folder
    qtbot.waitUntil(lambda: window.runs_panel._item(path) is not None
                    and window.runs_panel.entries[path].info.epochs_done >= 1, timeout=30000)
    # the new run's folder asked for a re-read of the list, shown or not (runs made by others appear): once done
    qtbot.waitUntil(lambda: not window.runs_panel.watch.pending.isActive(), timeout=10000)
    window.show_workspace("train")
    shown = window.runs_panel.entries[path].info.epochs_done
    qtbot.waitUntil(lambda: window.worker.recorder.info.epochs_done >= shown + 2, timeout=30000)
    assert window.runs_panel.entries[path].info.epochs_done == shown       # hidden: not followed
    window.stop()
    qtbot.waitUntil(lambda: window.state == "idle" and read_info(path).status == "interrupted", timeout=10000)
    window.show_workspace("runs")
    entry = window.runs_panel.entries[path]
    assert entry.info.epochs_done == read_info(path).epochs_done >= shown + 2 and entry.status == "interrupted"


def test_a_paused_run_says_paused_in_the_list(window, qtbot):
    """run.json says running while the studio holds a paused run; its row says what the user sees."""
    window.settings_panel.epochs.setValue(LONG_ENOUGH)
    window.show_workspace("runs")
    window.start()
    qtbot.waitUntil(lambda: window.worker.recorder is not None, timeout=10000)
    path = window.worker.recorder.folder
    row = lambda: window.runs_panel._item(path)   # noqa: E731
    qtbot.waitUntil(lambda: row() is not None and row().text(STATUS) == "running", timeout=30000)
    window.toggle_pause()
    qtbot.waitUntil(lambda: window.state == "paused", timeout=10000)
    assert row().text(STATUS) == "paused" and read_info(path).status == "running"
    window.toggle_pause()
    qtbot.waitUntil(lambda: window.state == "running", timeout=10000)
    assert row().text(STATUS) == "running"
    window.stop()
    qtbot.waitUntil(lambda: window.state == "idle" and read_info(path).status == "interrupted", timeout=10000)
    qtbot.waitUntil(lambda: row().text(STATUS).split("\n")[0] == "interrupted", timeout=10000)


def test_rename_delete_and_export(window, qtbot, tmp_path):
    train_to_the_end(window, qtbot)
    panel = window.runs_panel
    [entry] = runs(window)
    panel.select(entry.path)
    with qtbot.waitSignal(window.compare_view.shown, timeout=10000):
        panel.set_ticked(entry.path)
    qtbot.waitUntil(lambda: window.compare_view.ready() and window.compare_view.labels == [entry.info.name])
    panel.rename_selected("baseline")
    assert read_info(entry.path).name == "baseline" and panel._item(entry.path).text(RUN).startswith("baseline\n")
    assert window.compare_view.labels == ["baseline"]   # the overlay's legend too
    target = tmp_path / "exported.csv"
    with qtbot.waitSignal(panel.message) as message:
        panel.export_selected(str(target))
    assert message.args[0] == f"Exported 2 epochs to {target} and 40 steps to {tmp_path / 'exported-steps.csv'}"
    assert target.read_text().splitlines()[0] == "epoch,train_loss,test_loss,test_accuracy,seconds"
    asked = []
    panel.confirm = lambda text: asked.append(text) or False
    panel.delete_selected()
    assert entry.path.exists() and "Delete the run “baseline”" in asked[0]
    panel.confirm = lambda text: True
    panel.delete_selected()
    assert not entry.path.exists() and panel.tree.topLevelItemCount() == 0


@pytest.mark.slow  # opens the whole studio (the fast lane keeps a few: tests/conftest.py)
def test_the_studio_records_by_default_in_the_application_data_folder(qtbot, tmp_path):
    from app.studio.window import default_runs_dir
    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    assert window.runs_dir == default_runs_dir() and window.worker.runs_dir == default_runs_dir()
    # (conftest points the user's data folder, XDG_DATA_HOME, at a temporary one)
    assert default_runs_dir().is_relative_to(os.environ["XDG_DATA_HOME"]) and default_runs_dir().name == "runs"
    window.close()


@pytest.mark.slow
def test_screenshot_of_two_runs_overlaid(tmp_path):
    """`cnn-studio --runs DIR --overlay all --exit-when-done --screenshot PNG` after two cnn-train runs."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    for rate in ("0.1", "0.5"):
        subprocess.run([sys.executable, "-m", "cnn", "--epochs", "2", "--limit", "10", "--quiet", "--lr", rate,
                        "--runs", str(tmp_path / "runs")], check=True, env=environment, capture_output=True)
    result = subprocess.run([sys.executable, "-m", "app", "--runs", str(tmp_path / "runs"), "--overlay", "all",
                             "--exit-when-done", "--screenshot", str(tmp_path / "shot.png"), "--settings",
                             str(tmp_path / "s.ini")], env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    from PySide6.QtGui import QImage
    image = QImage(str(tmp_path / "shot.png"))
    assert image.width() == 1600 and image.height() == 1000
    assert all(inspect(entry.path).status == "finished" for entry in RunStore(tmp_path / "runs").list())


def test_runs_recorded_by_others_appear_in_the_list(window, qtbot, raw_mnist, monkeypatch):
    import cnn.cli
    monkeypatch.setattr(cnn.cli, "load_mnist", lambda path=None: raw_mnist)
    assert window.runs_panel.tree.topLevelItemCount() == 0
    assert cnn_train(["--epochs", "1", "--limit", "10", "--quiet", "--runs", str(window.runs_dir)]) == 0
    qtbot.waitUntil(lambda: window.runs_panel.tree.topLevelItemCount() == 1, timeout=10000)
    [entry] = window.runs_panel.entries.values()
    assert entry.openable and entry.info.epochs_done == 1


@pytest.mark.slow  # three trainings (~10 s)
def test_stop_then_start_goes_on_with_the_run_and_a_deleted_run_gives_way_to_a_new_one(window, qtbot):
    window.settings_panel.epochs.setValue(50)
    window.start()
    qtbot.waitUntil(lambda: window.worker.recorder is not None and window.worker.recorder.info.epochs_done >= 1,
                    timeout=30000)
    window.stop()                                       # most likely within an epoch
    qtbot.waitUntil(lambda: window.state == "idle" and window.worker.recorder is None)
    [entry] = runs(window)
    done = entry.info.epochs_done
    assert entry.status == "interrupted"
    window.settings_panel.epochs.setValue(1)
    train_to_the_end(window, qtbot)
    [same] = runs(window)
    assert same.path == entry.path and same.info.epochs_done == same.info.epochs_planned == done + 1
    steps = [r.global_step for r in read_records(entry.path / METRICS_FILE) if not isinstance(r, EpochRecord)]
    assert steps == list(range(1, 20 * (done + 1) + 1))     # the stopped epoch's steps appear once
    assert window.loss_view.steps.count == 20 * (done + 1)
    window.runs_panel.select(entry.path)
    window.runs_panel.confirm = lambda text: True
    window.runs_panel.delete_selected()
    assert not entry.path.exists()
    assert window.settings_panel.epochs.value() == done + 1    # the plan that Start grew
    window.settings_panel.epochs.setValue(done + 2)
    train_to_the_end(window, qtbot)     # its folder is gone: the network goes on in a new run, no error
    [new] = runs(window)
    # Within the same second the new run may take the deleted folder's name: its content tells it is new.
    assert new.status == "finished" and new.info.epochs_done == done + 2
    assert [row[0] for row in epochs_on_disk(new.path)] == [done + 2]


def test_a_runs_folder_that_cannot_be_written_is_said_and_training_goes_on(qtbot, tmp_path):
    blocked = tmp_path / "a file, not a folder"
    blocked.write_text("x")
    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), runs_dir=blocked)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.model is not None, timeout=10000)
    window.settings_panel.limit.setValue(10)
    window.settings_panel.epochs.setValue(1)
    window.reset()
    qtbot.waitUntil(lambda: window.model.config.limit == 10, timeout=10000)
    assert window.runs_panel.tree.topLevelItemCount() == 0
    # the epoch trained: tests/test_studio_model_runs.py
    with qtbot.waitSignal(window.training_finished, timeout=30000):
        with qtbot.waitSignal(window.error_shown, timeout=10000) as error:
            window.start()
    assert error.args[0].startswith(f"This run is not recorded: {blocked}: ")
    qtbot.waitUntil(lambda: window.state == "idle", timeout=30000)
    assert blocked.read_text() == "x"
    window.close()


def test_the_default_runs_folder_names_the_application_once(qtbot, tmp_path, monkeypatch):
    from app.studio.window import default_runs_dir
    from PySide6.QtCore import QCoreApplication
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    app = QCoreApplication.instance()
    organization, application = app.organizationName(), app.applicationName()
    app.setOrganizationName("CNN Studio")
    app.setApplicationName("CNN Studio")
    try:
        assert default_runs_dir() == tmp_path / "data" / "CNN Studio" / "runs"
        (tmp_path / "data" / "CNN Studio" / "CNN Studio" / "runs" / "old-run").mkdir(parents=True)
        assert default_runs_dir() == tmp_path / "data" / "CNN Studio" / "CNN Studio" / "runs"   # earlier runs stay
        (tmp_path / "data" / "CNN Studio" / "runs").mkdir()
        assert default_runs_dir() == tmp_path / "data" / "CNN Studio" / "runs"
    finally:
        app.setOrganizationName(organization)
        app.setApplicationName(application)


@pytest.mark.slow  # three trainings
def test_every_counter_uses_the_runs_own_epochs_and_the_shown_run_is_the_selected_row(window, qtbot):
    """Start on a stopped run trains the rest of its plan; an opened run's plan is the Epochs field;
    Continue adds epochs; the status line, the progress bar, run.json and the list agree on the run's
    own epoch numbers and one planned total; the run shown is the selected row."""
    messages = []
    window.statusBar().messageChanged.connect(messages.append)
    window.status.clock = itertools.count(0, NOTE_SECONDS).__next__   # every note outlived: each epoch's line shows
    window.settings_panel.epochs.setValue(50)
    window.start()
    qtbot.waitUntil(lambda: window.worker.recorder is not None and window.worker.recorder.info.epochs_done >= 1,
                    timeout=30000)
    window.stop()
    qtbot.waitUntil(lambda: window.state == "idle" and window.worker.recorder is None)
    [entry] = runs(window)
    done = entry.info.epochs_done
    assert window.runs_panel.selected_path() == entry.path == window.runs_panel.current
    window.settings_panel.epochs.setValue(done + 2)          # the plan: two more than done
    train_to_the_end(window, qtbot)
    info = read_info(entry.path)
    assert info.epochs_done == info.epochs_planned == info.settings.epochs == done + 2
    assert [m for m in messages if m.startswith("Epoch ")][-1].startswith(f"Epoch {done + 2}/{done + 2}: ")
    assert window.status.progress_bar.format().startswith(f"epoch {done + 2}/{done + 2} ")
    window.show_workspace("runs")                            # (a hidden list reads the folder when shown)
    assert window.runs_panel._item(entry.path).text(EPOCHS).startswith(f"{done + 2}/{done + 2}")

    window.settings_panel.epochs.setValue(7)
    window.reset()                                           # a new network: no run shown
    qtbot.waitUntil(lambda: window.runs_panel.current is None, timeout=10000)
    window.runs_panel.select(entry.path)
    window.runs_panel.open_selected()                        # its plan becomes the Epochs field
    shown_and_selected(window, qtbot, entry.path)
    qtbot.waitUntil(lambda: window.settings_panel.epochs.value() == done + 2, timeout=10000)
    window.runs_panel.more_epochs.setValue(1)
    with qtbot.waitSignal(window.training_finished, timeout=30000):
        window.runs_panel.continue_selected()                # one more: done + 3 of done + 3
    qtbot.waitUntil(lambda: window.worker.recorder is None and read_info(entry.path).status == "finished")
    info = read_info(entry.path)
    assert info.epochs_done == info.epochs_planned == info.settings.epochs == done + 3
    assert window.settings_panel.epochs.value() == done + 3      # Continue grew the plan: the field follows
    assert window.status.progress_bar.format().startswith(f"epoch {done + 3}/{done + 3} ")

    window.settings_panel.learning_rate.setValue(0.5)        # another setting: a new run, which is selected
    train_to_the_end(window, qtbot)
    new = next(run for run in runs(window) if run.path != entry.path)
    assert window.runs_panel.current == new.path == window.runs_panel.selected_path()
    assert window.runs_panel.note.text() == str(new.path)


def test_a_failed_export_names_the_file_once(qtbot, tmp_path, raw_mnist, monkeypatch):
    from app.studio.runs_panel import RunsPanel
    import cnn.cli
    monkeypatch.setattr(cnn.cli, "load_mnist", lambda path=None: raw_mnist)
    assert cnn_train(["--epochs", "1", "--limit", "10", "--quiet", "--runs", str(tmp_path / "runs")]) == 0
    panel = RunsPanel(tmp_path / "runs")
    qtbot.addWidget(panel)
    [entry] = RunStore(tmp_path / "runs").list()
    panel.select(entry.path)
    target = tmp_path / "missing" / "metrics.csv"
    with qtbot.waitSignal(panel.failed) as failed:
        panel.export_selected(str(target))
    assert failed.args[0].startswith(f"The metrics could not be exported: {target}: ")
    assert failed.args[0].count(str(target)) == 1
