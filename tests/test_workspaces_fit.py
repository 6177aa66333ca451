"""Every workspace fits 1024×768 and 1280×720 screens whole: the window is no larger than the screen
(less a title bar), every widget has at least its minimum size, nothing scrolls sideways, plots are
drawn smaller rather than cut, tab titles are whole, and what the user came for (the pad's answer,
the network summary) is inside the visible area, not below the fold."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QAbstractScrollArea, QComboBox, QHeaderView, QTabBar, QWidget

from app.model.remembered import clamped
from app.model.workspace_names import NAMES

ROOT = Path(__file__).resolve().parent.parent
FRAME = (40, 60)      # room for a frame and title bar: the window opens this much smaller than the screen


def needed(window) -> dict[str, list[QWidget]]:
    """What each workspace is for: these must be on screen, whole."""
    controls = [window.controls.buttons[action] for action in window.controls.actions()]
    return {"train": [window.settings_panel, window.model_label, window.train_summary],
            "inspect": [window.sample_picker, window.network_summary, window.layer_combo, window.tabs.tabBar()],
            "your-digit": [window.your_digit.pad, window.your_digit.answer, window.your_digit.bars_widget,
                           window.your_digit.label, window.your_digit.step_button, window.attribution_view.caption],
            "results": [window.results_view.matrix, window.results_view.gallery, window.results_view.evaluate_button],
            "runs": [window.runs_panel.tree, window.runs_panel.export_button, window.compare_view.graphics],
            "all": controls + [window.workspaces.tabBar(), window.status.progress_bar],
            "lesson": [window.lesson.page, window.lesson.show_button, window.lesson.check_button, window.lesson.next]}


def visible_rect(widget: QWidget) -> QRect:
    """The part of `widget` not clipped by any of its ancestors (scroll viewports included), in the window's pixels."""
    rect = QRect(widget.mapTo(widget.window(), widget.rect().topLeft()), widget.size())
    parent = widget.parentWidget()
    while parent is not None:
        rect = rect.intersected(QRect(parent.mapTo(widget.window(), parent.rect().topLeft()), parent.size()))
        parent = parent.parentWidget()
    return rect


def whole_on_screen(widget: QWidget) -> bool:
    return widget.isVisible() and visible_rect(widget).size() == widget.size()


def drawn_width(fitter) -> float:
    """A scene's plots' layout as drawn, in the widget's pixels."""
    graphics = fitter.graphics
    return graphics.mapFromScene(graphics.ci.sceneBoundingRect()).boundingRect().width()


def show_at(window, qtbot, size: tuple[int, int], name: str) -> QWidget:
    width, height = size[0] - FRAME[0], size[1] - FRAME[1]
    window.resize(width, height)
    window.show_workspace(name)
    qtbot.waitUntil(lambda: window.width() == width and window.height() == height, timeout=30000)
    page = window.workspaces.currentWidget()
    # the lesson beside every workspace but Runs, where it steps aside for the runs' curves
    wanted = needed(window)[name] + needed(window)["all"] + (needed(window)["lesson"] if name != "runs" else [])
    try:   # laid out (the scrolled columns fit their width a moment later); the assertions say what is cut
        qtbot.waitUntil(lambda: not cut_widgets(page) and all(map(whole_on_screen, wanted)), timeout=5000)
    except qtbot.TimeoutError:
        pass
    return page


def cut_widgets(page: QWidget) -> list[str]:
    """Visible widgets smaller than their minimum size (a layout that does not fit cuts them); Qt's own
    parts of a widget (a spin box's line edit) are left to the widget."""
    cut = []
    for widget in [page, *page.findChildren(QWidget)]:
        if widget.objectName().startswith("qt_") or isinstance(widget, QHeaderView):   # a table sizes its headers
            continue
        hint = widget.minimumSizeHint()      # what a layout gives at least (Qt's qSmartMinSize)
        least = (min(widget.minimumWidth() or hint.width(), widget.maximumWidth()),
                 min(widget.minimumHeight() or hint.height(), widget.maximumHeight()))
        if widget.isVisible() and (widget.width() < least[0] or widget.height() < least[1]):
            cut.append(f"{type(widget).__name__} {widget.objectName()} {widget.size().toTuple()} < {least}")
    return cut


def cut_tabs(bar: QTabBar) -> list[str]:
    return [bar.tabText(i) for i in range(bar.count())
            if bar.tabRect(i).width() < bar.fontMetrics().horizontalAdvance(bar.tabText(i))
            or bar.tabRect(i).right() > bar.width()]


@pytest.mark.parametrize("size", [(1024, 768), (1280, 720)])
def test_every_workspace_fits_the_screen(window, qtbot, size):
    panel = window.settings_panel    # the digits network: ten layers to list, eight maps a row
    panel.preset.setCurrentIndex(panel.preset.findData("digits"))
    panel.limit.setValue(10)
    panel.batch_size.setValue(8)
    window.reset()
    qtbot.waitUntil(lambda: window.model is not None and window.model.config.preset == "digits", timeout=30000)
    assert len(window.model.layers) == 10, window.model.layers
    window.sample_picker.next_wrong.setText("Next misclassified (9999)")  # the widest it gets
    window.your_digit.pad.draw_stroke([(140, 40), (140, 240)], width=20)
    qtbot.waitUntil(lambda: "The network reads" in window.your_digit.answer.text(), timeout=10000)
    for name in NAMES:
        page = show_at(window, qtbot, size, name)
        assert cut_widgets(page) == [], (name, cut_widgets(page))
        for area in page.findChildren(QAbstractScrollArea):
            assert not (area.isVisible() and area.horizontalScrollBar().isVisible()), (name, type(area).__name__)
        for bar in [window.workspaces.tabBar(), *page.findChildren(QTabBar)]:
            assert not bar.isVisible() or cut_tabs(bar) == [], (name, cut_tabs(bar))
        for combo in page.findChildren(QComboBox):   # the chosen item's text whole (the Why panel's class box was cut)
            if combo.isVisible() and combo is not window.layer_combo:   # the layer picker leaves the tabs their room
                text = combo.fontMetrics().horizontalAdvance(combo.currentText())
                assert text + 20 <= combo.width(), (name, combo.currentText(), combo.width())
        lesson = needed(window)["lesson"] if name != "runs" else []
        for widget in needed(window)[name] + needed(window)["all"] + lesson:
            assert whole_on_screen(widget), (name, type(widget).__name__, visible_rect(widget), widget.size())
        assert window.lesson.isVisible() == (name != "runs"), name    # it steps aside on Runs only
        if name == "results":   # the confusion matrix's titles and counts whole ("% right" read "% righ")
            matrix = window.results_view.matrix
            qtbot.waitUntil(lambda m=matrix: m.columnCount() == 11 and m.item(9, 10) is not None, timeout=30000)
            header, metrics = matrix.horizontalHeader(), matrix.fontMetrics()
            for column in range(11):
                title = matrix.horizontalHeaderItem(column).text()
                texts = [matrix.item(row, column).text() for row in range(10)]
                assert header.sectionSize(column) >= max(map(metrics.horizontalAdvance, texts)), (size, title)
            assert header.sectionSize(10) >= header.sectionSizeHint(10), size
        shown = [f for f in window.scene_fitters if f.graphics.isVisible()]
        qtbot.waitUntil(lambda shown=shown: all(drawn_width(f) <= f.graphics.viewport().width() + 2
                                                for f in shown), timeout=30000)


def test_the_answer_and_the_network_are_on_screen_on_a_large_screen_too(window, qtbot):
    """At 1600×1000 the pad's answer and the network summary were below the fold."""
    for name, widget in (("your-digit", window.your_digit.answer), ("inspect", window.network_summary),
                         ("train", window.train_summary)):
        show_at(window, qtbot, (1600, 1000), name)
        assert whole_on_screen(widget), (name, visible_rect(widget), widget.size(), widget.isVisible())


def test_the_workspaces_are_in_the_view_menu_with_shortcuts(window, qtbot):
    menu = next(action.menu() for action in window.menuBar().actions() if action.text() == "&View")
    shortcuts = {action.text().replace("&", ""): action.shortcut().toString() for action in menu.actions()}
    assert shortcuts == {"1 Train": "Ctrl+1", "2 Inspect": "Ctrl+2", "3 Your digit": "Ctrl+3", "4 Results": "Ctrl+4",
                         "5 Runs": "Ctrl+5"}
    for number, name in enumerate(NAMES, start=1):
        next(a for a in menu.actions() if a.shortcut().toString() == f"Ctrl+{number}").trigger()
        assert window.workspaces.current == name
        for button in (window.controls.buttons[window.controls.start], window.controls.buttons[window.controls.stop]):
            assert button.isVisible()    # the run controls in reach from every workspace


@pytest.mark.slow   # the whole studio (or the whole step-through) opened
def test_the_workspace_is_remembered(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from app.studio.window import MainWindow
    path = str(tmp_path / "s.ini")
    first = MainWindow(QSettings(path, QSettings.IniFormat), runs_dir=tmp_path / "runs")
    qtbot.addWidget(first)
    assert first.workspaces.current == "train"      # a first start: the settings and Start
    first.show_workspace("results")
    first.close()
    second = MainWindow(QSettings(path, QSettings.IniFormat), runs_dir=tmp_path / "runs")
    qtbot.addWidget(second)
    assert second.workspaces.current == "results"
    second.close()


@pytest.mark.parametrize("frame, expected", [
    ((21, 30, 1029, 738), (0, 30, 1024, 738)),       # wider than the screen: as wide as it, at its left edge
    ((900, 700, 600, 500), (424, 268, 600, 500)),    # hanging off the bottom right: moved in
    ((-50, -20, 300, 200), (0, 0, 300, 200)),        # off the top left
    ((2000, 100, 800, 600), (224, 100, 800, 600)),   # on a screen no longer there
])
def test_a_remembered_frame_is_clamped_to_the_available_area(frame, expected):
    assert clamped(frame, (0, 0, 1024, 768)) == expected
    x, y, width, height = expected
    assert clamped((frame[0] + 1024, frame[1], *frame[2:]), (1024, 0, 1024, 768)) == (x + 1024, y, width, height)


REOPEN = """
import sys
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from app.studio.window import MainWindow
settings, runs = sys.argv[1], sys.argv[2]
for attempt in range(2):
    window = MainWindow(QSettings(settings, QSettings.IniFormat), runs_dir=runs)
    window.show()
    for _ in range(20):
        app.processEvents()
    if attempt == 0:
        window.resize(1600, 1000)    # as if remembered from a larger screen
        window.move(300, 200)
        app.processEvents()
    frame, screen = window.frameGeometry(), window.screen().availableGeometry()
    print(frame.x(), frame.y(), frame.width(), frame.height(), screen.width(), screen.height(), flush=True)
    window.close()
"""


@pytest.mark.slow
def test_after_a_restart_the_window_is_within_a_1024_by_768_screen(tmp_path):
    """On a 1024×768 screen, the window of the last session (or one from a larger screen) opens within
    it: it was 1029 px wide after a restart."""
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"windowFrameMargins": True, "screens": [
        {"name": "small", "x": 0, "y": 0, "width": 1024, "height": 768, "logicalDpi": 96, "logicalBaseDpi": 96,
         "dpr": 1}]}))
    result = subprocess.run([sys.executable, "-c", REOPEN, str(tmp_path / "s.ini"), str(tmp_path / "runs")],
                            cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={**__import__("os").environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}"})
    assert result.returncode == 0, result.stderr
    remembered, reopened = result.stdout.splitlines()
    assert remembered.split()[2:4] == ["1604", "1004"]    # the first window, made larger than the screen
    x, y, width, height, screen_width, screen_height = map(int, reopened.split())
    assert (screen_width, screen_height) == (1024, 768)
    assert 0 <= x and x + width <= 1024 and 0 <= y and y + height <= 768, reopened


@pytest.mark.parametrize("size", ["12x", "1024", "1024x76800", "wide"])
def test_a_bad_size_is_one_line_naming_the_option(size, capsys):
    from app.main import main
    with pytest.raises(SystemExit) as exit:
        main(["--size", size, "--settings", __import__("os").devnull])
    assert exit.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("cnn-studio: error: argument --size: a size is") and repr(size) in error


@pytest.mark.slow
def test_a_screenshot_of_a_chosen_workspace_at_a_chosen_size(tmp_path):
    """`cnn-studio --workspace runs --size 1024x768 --exit-when-done --screenshot PATH`: the README's pictures."""
    import os

    from PySide6.QtGui import QImage
    shot = tmp_path / "runs.png"
    result = subprocess.run([sys.executable, "-m", "app", "--workspace", "runs", "--size", "1024x768",
                             "--exit-when-done", "--screenshot", str(shot), "--settings", str(tmp_path / "s.ini"),
                             "--runs", str(tmp_path / "runs")], cwd=ROOT, capture_output=True, text=True,
                            timeout=300, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1024, 768)
    from PySide6.QtCore import QSettings
    assert QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat).value("window/workspace") == "runs"


def test_a_scene_that_grows_is_drawn_smaller_without_a_resize(qtbot):
    """Eight maps where there were five: the layout grows but the view keeps its size (the digits
    network's feature maps were cut at the right at 1024×768)."""
    import pyqtgraph as pg

    from app.widgets.fit_scene import SceneFitter
    graphics = pg.GraphicsLayoutWidget()
    qtbot.addWidget(graphics)
    graphics.resize(300, 200)
    graphics.show()
    qtbot.waitExposed(graphics)
    fitter = SceneFitter(graphics)
    for column in range(8):
        graphics.ci.addPlot(row=0, col=column).setMinimumWidth(80)   # 640 px wanted in a 300 px view
    qtbot.waitUntil(lambda: fitter.scale < 1 and drawn_width(fitter) <= graphics.viewport().width() + 2)


def test_the_settings_column_needs_no_scroll_bar_once_the_timeline_bar_shows(window, qtbot):
    """At 1280×720 the timeline bar of a recorded run took the room of the settings column's last rows and the
    whole column scrolled (settings too). The network summary gives up rows first, down to FEW_ROWS with a
    scroll bar of its own; where there is room it lists every layer."""
    from app.studio.layer_picker import FEW_ROWS
    window.settings_panel.epochs.setValue(1)
    with qtbot.waitSignal(window.training_finished, timeout=60000):
        window.start()
    qtbot.waitUntil(lambda: window.timeline.isVisible(), timeout=20000)
    summary, column = window.train_summary, window.left_panel
    row = summary.sizeHintForRow(0)
    show_at(window, qtbot, (1280, 720), "train")
    qtbot.waitUntil(lambda: not column.verticalScrollBar().isVisible(), timeout=10000)
    assert summary.count() == len(window.model.layers) > FEW_ROWS
    assert summary.height() >= FEW_ROWS * row and whole_on_screen(summary) and whole_on_screen(window.settings_panel)
    show_at(window, qtbot, (1600, 1000), "train")
    qtbot.waitUntil(lambda: summary.height() == summary.maximumHeight() >= summary.count() * row, timeout=10000)
    assert not summary.verticalScrollBar().isVisible() and not column.verticalScrollBar().isVisible()


def test_the_views_keep_their_place_when_a_run_starts_and_when_the_network_is_reset(window, qtbot):
    """The timeline bar showed itself with a run's first moment and hid on Reset: the views and the column beside
    them moved by its height each time (28 px), under the pointer. It stays, saying "no moments yet"."""
    window.show_workspace("train")
    view, column = window.loss_view, window.left_panel

    def places():
        return view.mapTo(window, view.rect().bottomLeft()), column.mapTo(window, column.rect().bottomLeft())
    qtbot.waitUntil(lambda: view.isVisible())
    before = places()
    assert window.timeline.label.text() == "no moments yet"
    with qtbot.waitSignal(window.training_finished, timeout=60000):
        window.start()
    qtbot.waitUntil(lambda: window.timeline.label.text().startswith("live"), timeout=20000)
    assert places() == before
    window.reset()
    qtbot.waitUntil(lambda: window.timeline.label.text() == "no moments yet", timeout=20000)
    assert places() == before
