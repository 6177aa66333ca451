"""A click on a preset or a class in the settings panel makes a new network: training kept nowhere is not
discarded without asking (app/studio/replacing.py), and training kept in a run is replaced at once, the status
bar saying the run stays. Driven with pytest-qt on the window fixture (0 and 1, 20 images, 20 steps an epoch);
the question is answered from the test."""
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from cnn.runs.runfile import read_info

pytestmark = pytest.mark.slow  # every test opens the whole studio


def answering(answer: str | None, asked: list) -> QTimer:
    """A timer that answers the next question box by its button `answer` (None: Esc), noting what it said."""
    timer = QTimer()

    def look():
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            timer.stop()
            asked.append({"title": box.windowTitle(), "text": box.text(), "more": box.informativeText(),
                          "default": box.defaultButton().text(), "buttons": [b.text() for b in box.buttons()]})
            if answer is None:
                box.reject()
            else:
                next(b for b in box.buttons() if b.text() == answer).click()
    timer.timeout.connect(look)
    timer.start(20)
    return timer


def train_one_epoch(window, qtbot) -> None:
    window.settings_panel.epochs.setValue(1)
    with qtbot.waitSignal(window.training_finished, timeout=60000):
        window.start()
    qtbot.waitUntil(lambda: window.state.name == "IDLE" and not window.kept.recording
                    and (window.kept.steps == 20 or bool(window.kept.run)), timeout=10000)   # nowhere, or in its run


def test_training_kept_nowhere_is_asked_about_and_kept_or_discarded(window, qtbot, tmp_path):
    """The runs folder cannot be written: the run is not recorded. A preset chosen asks first; Keep (the default)
    leaves the network and puts every setting back; a class clicked then Discard makes the new network."""
    runs = tmp_path / "runs"
    if runs.is_dir():
        shutil.rmtree(runs)
    runs.write_text("not a folder")                       # nothing can be recorded under it
    train_one_epoch(window, qtbot)
    assert window.kept.at_risk and window.worker.run_folder is None
    panel, model, session = window.settings_panel, window.model, window.worker.session
    before = panel.config()
    sent = []
    window.command.connect(lambda name, values: sent.append((name, *values)))   # every command to the model
    asked = []
    keep = answering(None, asked)                          # Esc: the default that loses nothing
    panel.preset.setCurrentIndex(panel.preset.findData("digits"))
    keep.stop()
    assert len(asked) == 1
    assert asked[0] == {
        "title": "Replace the trained network?",
        "text": "The network shown has taken 20 training steps since it was made or opened, and its weights are "
                "neither saved nor recorded in a run. A new network for the changed settings replaces it: that "
                "training is lost.",
        "more": "Keep it to go on training it, or to save its weights first (File ▸ Save weights, Ctrl+S); the "
                "settings then go back to the network's.",
        "default": "Keep the trained network", "buttons": asked[0]["buttons"]}
    assert sorted(asked[0]["buttons"]) == ["Discard its training", "Keep the trained network"]
    assert panel.config() == before and panel.preset.currentData() == before.preset   # every setting as it was
    assert "configure" not in [command[0] for command in sent]          # no new network asked for
    assert [c for c in sent if c[0] == "set_learning_rate"][-1] == ("set_learning_rate", before.learning_rate)
    assert window.model is model and window.worker.session is session

    asked.clear()
    discard = answering("Discard its training", asked)
    with qtbot.waitSignal(window.worker.model_changed, timeout=20000) as changed:
        panel.class_buttons[2].click()
    discard.stop()
    assert len(asked) == 1 and changed.args[0].classes == (0, 1, 2) and ("configure", panel.config()) in sent
    # the window's own view of the new network: its model_changed is queued on the GUI thread, and may come
    # after the model has swapped the session (read across threads) and after Discard cleared window.kept
    qtbot.waitUntil(lambda: window.kept.steps == 0 and window.worker.session is not session
                    and window.model is not model, timeout=10000)
    assert not any(window.trained)


def test_training_kept_in_a_run_is_replaced_at_once_and_the_run_stays(window, qtbot, tmp_path):
    train_one_epoch(window, qtbot)
    folder = Path(window.worker.run_folder)
    name = read_info(folder).name
    assert window.kept.run == name and not window.kept.at_risk
    asked = []
    never = answering(None, asked)                         # would note (and close) a question: none is asked
    with qtbot.waitSignal(window.worker.model_changed, timeout=20000) as changed:
        window.settings_panel.class_buttons[2].click()
    never.stop()
    assert asked == [] and changed.args[0].classes == (0, 1, 2)
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("A new network"), timeout=10000)
    assert window.statusBar().currentMessage() == (f"A new network for the changed settings; the run “{name}” stays "
                                                   "in the Runs panel (Ctrl+5: Open or Continue goes on with it).")
    assert (folder / "last.npz").is_file() and read_info(folder).epochs_done == 1


def test_reset_asks_before_it_discards_training_kept_nowhere(window, qtbot, tmp_path):
    runs = tmp_path / "runs"
    if runs.is_dir():
        shutil.rmtree(runs)
    runs.write_text("not a folder")                       # nothing can be recorded under it
    train_one_epoch(window, qtbot)
    session, asked = window.worker.session, []
    keep = answering(None, asked)
    window.reset()                                         # Ctrl+R, the Reset button
    keep.stop()
    assert len(asked) == 1 and asked[0]["title"] == "Replace the trained network?"
    assert window.worker.session is session and window.kept.at_risk
    discard = answering("Discard its training", asked)
    with qtbot.waitSignal(window.worker.model_changed, timeout=20000):
        window.reset()
    discard.stop()
    qtbot.waitUntil(lambda: window.worker.session is not session and window.kept.steps == 0, timeout=10000)


def test_a_file_a_run_an_edited_architecture_or_a_show_me_asks_first_too(window, qtbot, tmp_path):
    """Every other way to put a network in place of the one shown asks the same question, naming what would
    replace it: Keep (Esc) leaves the network and sends nothing; the architecture editor's Apply asks once."""
    from app.model.lesson import shipped

    runs = tmp_path / "runs"
    if runs.is_dir():
        shutil.rmtree(runs)
    runs.write_text("not a folder")                       # nothing can be recorded under it
    train_one_epoch(window, qtbot)
    session, panel = window.worker.session, window.settings_panel
    sent = []
    window.command.connect(lambda name, values: sent.append(name))

    def keep(action) -> str:
        asked = []
        timer = answering(None, asked)
        action()
        qtbot.waitUntil(lambda: len(asked) == 1, timeout=20000)   # a file is read first: its question comes after
        timer.stop()
        assert len(asked) == 1 and asked[0]["title"] == "Replace the trained network?", asked
        assert window.worker.session is session and window.kept.at_risk
        return asked[0]["text"].split("in a run. ")[1]

    assert keep(lambda: window.open_weights(str(shipped("digits.npz")))) == (
        "The network in digits.npz replaces it: that training is lost.")
    (tmp_path / "bad.npz").write_bytes(b"not a zip archive")   # refused before anything is asked
    asked = []
    never = answering(None, asked)
    with qtbot.waitSignal(window.error_shown, timeout=20000) as refused:
        window.open_weights(str(tmp_path / "bad.npz"))
    never.stop()
    assert asked == [] and refused.args[0].startswith(f"{tmp_path / 'bad.npz'}: not a weights file")
    assert window.worker.session is session and window.kept.at_risk
    assert keep(lambda: window.open_run(str(tmp_path / "20261207-101010-digits"))) == (   # (no run.json: its folder)
        "The last checkpoint of the run “20261207-101010-digits” replaces it: that training is lost.")
    assert keep(lambda: window.continue_run(str(tmp_path / "20261207-101010-digits"), 2)).startswith(
        "The last checkpoint of the run “20261207-101010-digits”")
    architecture = "conv 4 3x3, sigmoid, dense 2, sigmoid"
    assert keep(lambda: window.apply_architecture(architecture)) == (
        "A new network of the edited architecture replaces it: that training is lost.")
    assert panel.architecture is None                      # the settings still describe the network shown
    lesson = window.lesson
    for number, words in ((2, "The lesson's network replaces it"), (11, "The network in digits.npz replaces it")):
        lesson.open_section(number)
        assert keep(lesson.show_button.click).startswith(words)
        assert lesson.status.text().startswith("Show me stopped: the trained network was kept")
        assert lesson.show_button.isEnabled()
    assert not {"load_weights", "open_run", "continue_run", "configure", "start"} & set(sent)

    asked = []
    discard = answering("Discard its training", asked)
    with qtbot.waitSignal(window.worker.model_changed, timeout=20000) as changed:
        window.apply_architecture(architecture)
    discard.stop()
    assert len(asked) == 1                                 # not asked again by the Reset and Start it makes
    assert changed.args[0].config.architecture == architecture and panel.architecture == architecture
    qtbot.waitUntil(lambda: window.state.name != "IDLE" or window.kept.steps > 0, timeout=20000)


def test_training_no_run_records_is_asked_about_while_it_runs_too(window, qtbot, tmp_path):
    """The window heard how much training was kept nowhere only when a run stopped: Open weights and Reset while it
    ran (or was paused) replaced the network without a word."""
    from app.model.lesson import shipped
    runs = tmp_path / "runs"
    if runs.is_dir():
        shutil.rmtree(runs)
    runs.write_text("not a folder")                       # nothing can be recorded under it
    window.settings_panel.epochs.setValue(500)
    window.start()
    qtbot.waitUntil(lambda: window.state.name == "RUNNING" and window.kept.at_risk, timeout=20000)
    session = window.worker.session
    for action in (lambda: window.open_weights(str(shipped("digits.npz"))), window.reset):
        asked = []
        keep = answering(None, asked)
        action()
        qtbot.waitUntil(lambda asked=asked: len(asked) == 1, timeout=20000)      # (the file is read first)
        keep.stop()
        assert len(asked) == 1 and asked[0]["title"] == "Replace the trained network?", asked
    assert window.worker.session is session and window.state.name == "RUNNING"    # it trains on, as it was
    assert asked[0]["text"].startswith("The network shown has taken ") and " so far (it trains on while you " \
        "choose) since it was made or opened" in asked[0]["text"]          # the count goes on behind the question
    window.edit_architecture()     # its Apply (a new network, a new run) waits for the run to stop, and says so
    editor = window.arch_editor
    assert not editor.apply.isEnabled() and editor.apply.toolTip().startswith("Stop the run first")
    window.stop()
    qtbot.waitUntil(lambda: window.state.name == "IDLE", timeout=10000)
    assert editor.apply.isEnabled() and editor.apply.toolTip() == ""
    editor.close()
