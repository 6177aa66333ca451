"""The lesson pane in the studio: it opens on the first start, its Show me puts the studio in the
section's state through the model, its Try it is answered in words, it remembers the section, and
closed it stays closed until Help ▸ Lesson."""
import os
import subprocess
import sys

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QImage

from app.model.lesson import shipped
from app.studio.window import MainWindow

pytestmark = pytest.mark.slow


def test_show_me_puts_the_studio_where_the_section_speaks(window, qtbot):
    lesson = window.lesson
    assert lesson.isVisible() and lesson.section.number == 1      # the first start opens it at the beginning
    lesson.open_section(2)
    with qtbot.waitSignal(lesson.show_me.done, timeout=30000):
        lesson.show_button.click()
    qtbot.waitUntil(lambda: window.workspaces.current == "inspect" and window.layer_choice.index == 0,
                    timeout=10000)
    assert window.model.config.limit == 100 and not any(window.trained)   # the preset's own untrained network
    qtbot.waitUntil(lambda: lesson.answer.text() != "", timeout=10000)   # checked by itself
    assert "Not yet: layer 0 reads the image alone (28 − 3 + 1 = 26" in lesson.answer.text()
    lesson.open_section(11)
    with qtbot.waitSignal(lesson.show_me.done, timeout=60000):
        lesson.show_button.click()
    assert window.model.source == str(shipped("digits.npz")) and len(window.model.classes) == 10
    qtbot.waitUntil(lambda: window.layer_choice.index == 1, timeout=10000)
    window.layer_choice.choose(2)    # the learner picks the first max-pool
    qtbot.waitUntil(lambda: "Yes: layer 2 keeps the largest value of each 2×2 window" in lesson.answer.text(),
                    timeout=10000)


def test_show_me_trains_and_opens_the_step_through_at_its_step(window, qtbot):
    lesson = window.lesson
    lesson.open_section(3)
    with qtbot.waitSignal(lesson.show_me.done, timeout=120000):
        lesson.show_button.click()
    assert window.trained[0] == 20      # the original experiment, trained its 20 epochs
    dialog = window.step_window
    step = dialog.steps[dialog.current]
    assert (step.phase, step.layer) == ("forward", 0) and dialog.isVisible()
    dialog.editor.select(0, 0, 0, 0, 0)
    dialog.editor.table.item(0, 0).setText("2")          # a kernel value typed
    qtbot.waitUntil(lambda: "Yes: with your edit, E for test image #0 went from" in lesson.answer.text(),
                    timeout=10000)


def test_the_lesson_remembers_its_section_and_closes_for_good(qtbot, tmp_path):
    path = str(tmp_path / "studio.ini")
    first = MainWindow(QSettings(path, QSettings.IniFormat), runs_dir=tmp_path / "runs")
    qtbot.addWidget(first)
    first.show()
    first.lesson.open_section(5)
    first.lesson.close_button.click()
    assert not first.lesson.isVisible()
    first.close()
    again = MainWindow(QSettings(path, QSettings.IniFormat), runs_dir=tmp_path / "runs")
    qtbot.addWidget(again)
    again.show()
    assert not again.lesson.isVisible() and again.lesson.section.number == 5
    help_menu = next(a.menu() for a in again.menuBar().actions() if a.text() == "&Help")
    next(a for a in help_menu.actions() if a.text() == "&Lesson").trigger()
    assert again.lesson.isVisible() and again.lesson.section.number == 5
    again.close()


def test_the_lesson_option_opens_a_section_with_its_show_me_applied(tmp_path):
    """`cnn-studio --lesson 12 --exit-when-done --screenshot PNG`: the README's way of making a lesson's picture."""
    shot, settings = tmp_path / "shot.png", tmp_path / "s.ini"
    result = subprocess.run([sys.executable, "-m", "app", "--lesson", "12", "--size", "1024x768", "--exit-when-done",
                             "--screenshot", str(shot), "--settings", str(settings), "--runs", str(tmp_path / "runs")],
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1024, 768)
    remembered = QSettings(str(settings), QSettings.IniFormat)
    assert remembered.value("lesson/section") == "12"
    assert remembered.value("window/workspace") == "your-digit"     # where its Show me turned
    recent = remembered.value("recent")                               # the shipped network it opened
    assert str(shipped("digits.npz")) in (recent if isinstance(recent, list) else [recent])


def test_the_try_it_waits_for_training_to_pause_before_checking_by_itself(window, qtbot):
    from app.model.state import RunState
    lesson = window.lesson
    window.settings_panel.epochs.setValue(500)
    window.start()
    qtbot.waitUntil(lambda: window.state is RunState.RUNNING, timeout=10000)
    qtbot.waitUntil(lambda: lesson.changes > 3, timeout=20000)       # frames came while training
    before = lesson.checked
    lesson.check_if_changed()                                        # the timer's look, while training runs
    assert lesson.checked == before
    window.toggle_pause()
    qtbot.waitUntil(lambda: window.state is RunState.PAUSED, timeout=10000)
    lesson.check_if_changed()
    assert lesson.checked != before and lesson.checked[0] == lesson.changes   # checked once paused
    window.stop()
