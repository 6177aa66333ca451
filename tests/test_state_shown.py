"""Issue 20, item 7: the state after each action is the state the user sees. Each defect a new user
found, driven as the user met it (pytest-qt, offscreen); the views alone where that shows it, the
whole studio where it takes the worker. Waits for signals and states only."""
import math
from types import MappingProxyType, SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QStatusBar, QTreeWidgetItem

from cnn import weights_file
from cnn.config import RunConfig
from cnn.presets import PRESETS
from cnn.runs.recorder import RunRecorder
from cnn.runs.runfile import read_info
from cnn.runs.store import RunEntry
from cnn.session import Session
from cnn.train import EpochRecord, StepRecord

from app.model import digit_answer
from app.studio.arch_editor import INVALID, ArchitectureEditor
from app.studio.run_rows import BEST, fill_row
from app.studio.settings_panel import SettingsPanel
from app.studio.status_line import StatusLine
from app.studio.views.health import HealthView
from app.studio.views.loss import LossView
from app.studio.workspaces import reveal
from app.model.health import HealthRecord
from app.model.run_curves import RunCurves
from app.model.state import RunState

LONG = 10000   # epochs: a run no test here can finish


# -- 1. Stop then Start: every Health curve cut alike; the status bar follows the state ---------------------
def steps(epoch, count, per_epoch=4):
    return [StepRecord(epoch, s, per_epoch, (epoch - 1) * per_epoch + s, 1, 0.5, {"0.kernels": 0.1 * s})
            for s in range(1, count + 1)]


def health(epoch, count, per_epoch=4):
    return [HealthRecord(epoch, s, per_epoch, (epoch - 1) * per_epoch + s, MappingProxyType({"0.kernels": 0.01}),
                         MappingProxyType({}), MappingProxyType({}), MappingProxyType({1: 0.25}))
            for s in range(1, count + 1)]


def test_the_health_plots_keep_to_whole_decades(qtbot):
    """The norms' and update ratios' y ranges follow their curves by whole decades (DecadeRange), as the loss's
    do: an axis that moved at every frame of a run was laid out and drawn anew each time."""
    view = HealthView()
    qtbot.addWidget(view)
    view.show()
    view.set_model(SimpleNamespace(parameter_names=("0.kernels",), layers=(SimpleNamespace(index=1, kind="ReLU"),)))
    view.add_records([*steps(1, 4), *health(1, 4)])        # norms 0.1 … 0.4, ratios 0.01
    assert view.ranges[0].decades == (-1, 0) and view.ranges[1].decades == (-2, -1)
    low, high = view.norms_plot.vb.viewRange()[1]
    assert math.isclose(low, -1.02) and math.isclose(high, 0.02)
    view.set_model(SimpleNamespace(parameter_names=("0.kernels",), layers=()))
    assert view.ranges[1].decades == (-1, 0)               # a new network: one decade until its curves come


def test_a_hidden_health_view_takes_its_records_when_shown(qtbot):
    """Records that come while Health is hidden wait (each frame's processing cost the window's thread and
    training the GIL) and are taken, in order, when it is shown; a new network drops them."""
    view = HealthView()
    qtbot.addWidget(view)
    view.set_model(SimpleNamespace(parameter_names=("0.kernels",), layers=(SimpleNamespace(index=1, kind="ReLU"),)))
    view.add_records([*steps(1, 4), *health(1, 4)])
    view.add_records([*steps(2, 2), *health(2, 2)])
    assert view.norms["0.kernels"].history.count == 0 and len(view.waiting) == 12
    view.show()
    x, y = view.norms["0.kernels"].history.data()
    assert list(x) == [0.25, 0.5, 0.75, 1.0, 1.25, 1.5] and y[-1] == pytest.approx(0.2)
    assert list(view.activations[1].history.data()[0]) == list(x) and view.waiting == []
    view.hide()
    view.add_records(steps(3, 1))
    view.set_model(SimpleNamespace(parameter_names=("0.kernels",), layers=()))
    assert view.waiting == []


def test_a_hidden_health_view_keeps_a_bounded_number_of_records(qtbot, monkeypatch):
    """Past WAITING_MOST records a hidden view takes them anyway: a long run with Health never shown keeps
    curves of bounded size, not every record."""
    import app.studio.views.health as health_module
    monkeypatch.setattr(health_module, "WAITING_MOST", 6)
    view = HealthView()
    qtbot.addWidget(view)
    view.set_model(SimpleNamespace(parameter_names=("0.kernels",), layers=()))
    view.add_records(steps(1, 4))
    assert len(view.waiting) == 4 and view.norms["0.kernels"].history.count == 0
    view.add_records(steps(2, 4))
    assert view.waiting == [] and view.norms["0.kernels"].history.count == 8


def test_the_runs_curves_after_stop_then_start_cut_every_health_curve_alike(qtbot):
    """Start goes on from epoch 1's checkpoint after a Stop in epoch 2: the run's curves as on disk
    (epoch 1) replace the norms, and the update ratios and dead ReLUs of the stopped epoch go too."""
    view = HealthView()
    qtbot.addWidget(view)
    view.show()
    view.set_model(SimpleNamespace(parameter_names=("0.kernels",), layers=(SimpleNamespace(index=1, kind="ReLU"),)))
    shown = [*steps(1, 4), *health(1, 4), *steps(2, 3), *health(2, 3)]    # stopped at step 3 of epoch 2
    view.add_records(shown)
    assert view.ratios["0.kernels"].history.data()[0].max() == 1.75
    on_disk = RunCurves()
    on_disk.add([*steps(1, 4), EpochRecord(1, 2, 0.5, 0.5, 0.9, 1.0, np.zeros(0, int))])
    view.show_history(on_disk)
    for series in (view.norms["0.kernels"], view.ratios["0.kernels"], view.activations[1]):
        x, _ = series.history.data()
        assert len(x) == 4 and x.max() == 1.0, series.name
    view.add_records([*steps(2, 1), *health(2, 1)])                       # epoch 2 again, from its first step
    for series in (view.norms["0.kernels"], view.ratios["0.kernels"], view.activations[1]):
        x, _ = series.history.data()
        assert list(x) == [0.25, 0.5, 0.75, 1.0, 1.25], series.name


def test_the_status_bar_drops_training_stopped_when_a_run_starts(qtbot):
    bar = QStatusBar()
    qtbot.addWidget(bar)
    line = StatusLine(bar)
    bar.showMessage("Training stopped.", 8000)
    line.on_state_changed(RunState.RUNNING)
    assert bar.currentMessage() == "" and line.state_label.text() == "Training"
    bar.showMessage("Learning rate 0.5 from the next step", 4000)      # a note about the run itself stays
    line.on_state_changed(RunState.PAUSED)
    assert bar.currentMessage() == "Learning rate 0.5 from the next step"


def test_a_note_stays_readable_before_the_epochs_lines_cover_it(qtbot):
    """What a command did ("Start trains 24 more…") was replaced by the next epoch's line within a second: it
    now stays NOTE_SECONDS (on the line's clock) unless it is cleared, then the newest epoch's line shows."""
    from app.studio.status_line import NOTE_SECONDS
    bar, now = QStatusBar(), [100.0]
    qtbot.addWidget(bar)
    line = StatusLine(bar, clock=lambda: now[0])
    epoch = [EpochRecord(e, 30, 0.5, 0.4, 0.9, 1.0, np.zeros(0, int)) for e in (1, 2, 3)]
    line.on_records(epoch[:1])
    assert bar.currentMessage().startswith("Epoch 1/")                  # no note: each epoch's line shows
    note = "The network had trained its 24 planned epochs: Start trains 24 more, 48 in all."
    bar.showMessage(note, 30000)
    now[0] += NOTE_SECONDS - 0.5
    line.on_records(epoch[1:2])
    assert bar.currentMessage() == note
    now[0] += 1.0
    line.on_records(epoch[2:])
    assert bar.currentMessage().startswith("Epoch 3/")
    bar.showMessage("Learning rate 0.5 from the next step", 4000)
    bar.clearMessage()                                                   # a note gone (its time up) is not waited for
    line.on_records(epoch[:1])
    assert bar.currentMessage().startswith("Epoch 1/")


def test_the_progress_bar_is_painted_with_the_rest_of_the_frame(qtbot):
    """QProgressBar.setValue repaints at once, and a repaint at once paints the whole window's pending
    updates with it (the plots a frame changed, which then were painted twice a frame): the line's progress
    is painted with the rest, once the frame's slots are done."""
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    line = status_line_shown(qtbot)
    line.on_run_started(0, 4)
    line.on_state_changed(RunState.RUNNING)
    QApplication.processEvents()
    paints = EventCount(line.progress_bar, QEvent.Paint)
    for epoch in range(1, 4):
        value = line.progress_bar.value()
        line.on_records([*steps(epoch, 4), EpochRecord(epoch, 4, 0.5, 0.4, 0.9, 1.0, np.zeros(0, int))])
        assert paints.count == 0, "painted within the slot"
        assert line.progress_bar.value() > value and f"epoch {epoch}/4" in line.progress_bar.format()
        qtbot.waitUntil(lambda: paints.count > 0)      # painted when the event loop comes to it
        paints.count = 0


def test_the_busy_bar_stops_moving_when_the_work_is_done(qtbot):
    """A busy phase makes the bar move (the style's animation); after it, a bar at 0 was still repainted 60
    times a second, for as long as the studio stayed open."""
    from PySide6.QtCore import QEvent

    line = status_line_shown(qtbot)
    moves = EventCount(line.progress_bar, QEvent.StyleAnimationUpdate)
    line.on_busy("Preparing the data…")
    qtbot.waitUntil(lambda: moves.count >= 3)       # it moves while busy
    line.on_busy("")
    assert line.progress_bar.value() == 0
    qtbot.wait(100)                                  # (a frame or two of the animation's clock, had it gone on)
    moves.count = 0
    qtbot.wait(300)
    assert moves.count == 0, f"the bar at 0 was repainted {moves.count} times in 0.3 s after the work was done"


def status_line_shown(qtbot) -> StatusLine:
    bar = QStatusBar()
    qtbot.addWidget(bar)
    line = StatusLine(bar)
    bar.show()
    qtbot.waitExposed(bar)
    return line


class EventCount(QObject):
    """Counts the events of one type that `widget` receives."""

    def __init__(self, widget, kind):
        super().__init__(widget)
        self.kind, self.count = kind, 0
        widget.installEventFilter(self)

    def eventFilter(self, watched, event):
        self.count += event.type() == self.kind
        return False


def increasing(view):
    return all(np.all(np.diff(series.history.data()[0]) >= 0)
               for group in (view.norms, view.ratios, view.activations) for series in group.values())


def test_stop_then_start_in_the_studio(window, qtbot):
    """In the studio: 300 images an epoch, stopped inside an epoch, started again: the run goes on from the
    step it stopped at, and every Health curve goes on from where the run's curves end, none keeping
    points past it (the gradient norms were cut back and the update ratios were not)."""
    window.settings_panel.limit.setValue(150)
    window.settings_panel.epochs.setValue(LONG)
    view = window.health_view
    reveal(view)                  # (a hidden Health view takes its records when shown)
    window.start()
    qtbot.waitUntil(lambda: any(x > 1.05 for x in view.ratios[next(iter(view.ratios))].history.data()[0]),
                    timeout=60000)
    with qtbot.waitSignal(window.worker.message, timeout=10000, check_params_cb=lambda m: m == "Training stopped."):
        window.stop()
    qtbot.waitUntil(lambda: window.state is RunState.IDLE
                    and window.statusBar().currentMessage() == "Training stopped.")
    ratios = next(iter(view.ratios.values())).history
    window.start()
    qtbot.waitUntil(lambda: window.state is RunState.RUNNING, timeout=10000)
    assert window.statusBar().currentMessage() != "Training stopped."
    count = ratios.count
    qtbot.waitUntil(lambda: ratios.count > count + 1, timeout=30000)    # new points of the epoch run again
    window.stop()
    assert increasing(view)


# -- 2. A preset changed: the new, untrained network at once -------------------------------------------------
def test_changing_the_preset_shows_the_new_network_at_once(window, qtbot):
    panel = window.settings_panel
    panel.preset.setCurrentIndex(panel.preset.findData("digits"))
    qtbot.waitUntil(lambda: window.model.config.preset == "digits", timeout=60000)
    digits = PRESETS["digits"].build(10, 0, "float32").architecture()
    assert len(window.model.layers) == len(digits)
    assert window.layer_choice.layers == window.model.layers
    assert "new network" in window.model_label.text() and f"{window.model.parameter_count:,}" in \
        window.model_label.text()
    assert window.state is RunState.IDLE                               # shown, not started


def test_fewer_images_than_a_batch_while_typing_raise_no_error_until_start(window, qtbot):
    """The digits preset's batch of 128, then 10 images per class on the way to a smaller batch: the network
    of the new images is not built, and no error banner is shown, until Start (which says what is wrong)."""
    panel = window.settings_panel
    panel.preset.setCurrentIndex(panel.preset.findData("digits"))
    qtbot.waitUntil(lambda: window.model.config.preset == "digits", timeout=60000)
    errors = []
    window.error_shown.connect(errors.append)
    panel.limit.setValue(10)                                  # 100 training images < a batch of 128
    panel.seed.setValue(3)                                    # another network edit on the way
    window.start()
    with qtbot.waitSignal(window.worker.predictions, timeout=60000):   # queued after every earlier command
        window.send("predict_split", "test")
    assert [error.split(",")[0] for error in errors] == ["Batch size must be at most the 100 training images"]
    assert window.state is RunState.IDLE and window.model.config.seed == 0    # Start refused, nothing rebuilt
    panel.batch_size.setValue(8)
    panel.seed.setValue(4)
    qtbot.waitUntil(lambda: window.model.config.limit == 10 and window.model.config.seed == 4, timeout=60000)
    assert len(errors) == 1


def test_a_custom_network_is_named_in_the_preset_box(qtbot):
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    panel.preset.setCurrentIndex(panel.preset.findData("digits"))
    panel.architecture = "conv 4 3x3, relu, dense 10"
    assert panel.preset.currentText() == "custom network (from digits)"
    assert panel.config().preset == "digits" and panel.config().architecture == "conv 4 3x3, relu, dense 10"
    panel.preset.setCurrentIndex(panel.preset.findData("original"))     # a preset: its own network again
    assert panel.architecture is None and panel.preset.currentText() == "original"
    assert [panel.preset.itemText(i) for i in range(panel.preset.count())] == list(PRESETS)


# -- 3. The untrained 0-vs-1 network says what it can read ---------------------------------------------------
def test_the_answer_says_which_digits_the_network_reads_and_whether_it_is_trained():
    assert digit_answer.network_note((0, 1), untrained=True) == \
        "This network tells 0 from 1 only and is untrained: its answer is a guess until Start trains it."
    assert digit_answer.network_note((3, 5, 8), untrained=False) == "This network tells 3, 5 and 8 apart only."
    assert digit_answer.network_note(tuple(range(10)), untrained=False) == ""


def test_a_seven_drawn_on_the_fresh_studio_is_told_what_the_network_reads(window, qtbot):
    panel = window.your_digit
    with qtbot.waitSignal(window.worker.image_snapshot, timeout=10000, check_params_cb=lambda s: s.split == "drawing"):
        panel.pad.draw_stroke([(60, 50), (220, 50), (120, 240)], width=20)     # a 7
    qtbot.waitUntil(lambda: "The network reads" in panel.answer.text())
    assert "tells 0 from 1 only and is untrained" in panel.answer.text()
    window.start()                                                          # two epochs: trained now
    qtbot.waitSignal(window.training_finished, timeout=60000).wait()
    qtbot.waitUntil(lambda: "The network reads" in panel.answer.text() and "untrained" not in panel.answer.text(),
                    timeout=10000)
    assert "tells 0 from 1 only" in panel.answer.text()


# -- 4. The Runs selection follows what is open ---------------------------------------------------------------
def test_opening_weights_leaves_no_run_selected(window, qtbot, tmp_path):
    with qtbot.waitSignal(window.training_finished, timeout=60000):
        window.start()
    panel = window.runs_panel
    qtbot.waitUntil(lambda: panel.current is not None and panel.selected_path() == panel.current, timeout=10000)
    path = tmp_path / "weights.npz"
    weights_file.save(window.worker.session.network, str(path))
    with qtbot.waitSignal(window.worker.loaded, timeout=10000):
        window.open_weights(str(path))
    qtbot.waitUntil(lambda: panel.current is None, timeout=10000)
    assert panel.selected_path() is None and panel.tree.selectedItems() == []
    assert not panel.continue_button.isEnabled()


# -- 5. Undo to an empty pad brings back the sample before the drawing ---------------------------------------
def test_undo_to_an_empty_pad_brings_back_the_sample_before_it(window, qtbot):
    panel = window.your_digit
    window.sample_picker.select("test", 3)
    with qtbot.waitSignal(window.worker.snapshot, timeout=10000, check_params_cb=lambda s: s.split == "drawing"):
        panel.pad.draw_stroke([(140, 40), (140, 240)], width=20)
    assert window.image_sample is not None
    with qtbot.waitSignal(window.worker.snapshot, timeout=10000,
                          check_params_cb=lambda s: (s.split, s.index) == ("test", 3)):
        panel.undo_button.click()
    assert panel.pad.is_empty and window.image_sample is None and panel.current is None
    assert window.current_sample() == ("test", 3)
    qtbot.waitUntil(lambda: "test image #3" in window.features_view.caption.text(), timeout=10000)


# -- 6. Read-outs stay on the data ----------------------------------------------------------------------------
def test_a_read_out_past_the_data_reads_the_nearest_point_not_an_epoch_without_data(qtbot):
    view = LossView()
    qtbot.addWidget(view)
    view.add_records([EpochRecord(n, 2, 0.1 / n, 0.12 / n, 0.9 + n / 100, 1.0, np.zeros(0, int)) for n in (1, 2)])
    assert view.readouts[1].text_at(3.78) == "epoch 2.00: test error 8.00% · accuracy 92.00%"
    assert view.readouts[1].text_at(-0.5) == "epoch 1.00: test error 9.00% · accuracy 91.00%"
    assert view.readouts[1].text_at(1.4).startswith("epoch 1.40: ")     # within the data: where the mouse is


# -- 7. The architecture editor: invalid rows red when selected, Undo ------------------------------------------
@pytest.fixture
def editor(qtbot):
    widget = ArchitectureEditor()
    qtbot.addWidget(widget)
    widget.set_network(None, "digits", 10)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_a_new_invalid_row_shows_its_red_while_selected(editor):
    editor.table.selectRow(8)
    editor.add_layer("conv")                        # a convolution after the last dense layer: invalid, and selected
    row = 9
    assert row in dict(editor.problems()) and editor.table.currentRow() == row
    rect = editor.table.visualItemRect(editor.table.item(row, 8))
    image = editor.table.viewport().grab().toImage()
    centre = rect.center() + QPoint(rect.width() // 4, 0)      # right of the text, inside the frame
    assert QColor(image.pixel(centre)) == INVALID


def test_every_edit_in_the_editor_can_be_undone(editor, qtbot):
    before = editor.text.text()
    assert not editor.undo_button.isEnabled()
    editor.table.selectRow(3)
    editor.remove_layer()
    removed = editor.text.text()
    assert removed != before and editor.undo_button.isEnabled()
    editor.table.cellWidget(0, 1).setValue(4)
    qtbot.keyClick(editor, Qt.Key_Z, Qt.ControlModifier)      # Ctrl+Z: the depth back to 8
    assert editor.text.text() == removed
    editor.undo()                                              # and the removed layer back, selected
    assert editor.text.text() == before and editor.table.currentRow() == 3
    assert not editor.undo_button.isEnabled()


# -- 8. The best accuracy rounded the same everywhere -----------------------------------------------------------
def test_the_accuracy_is_written_one_way_in_the_runs_list_and_the_status_bar(qtbot, tmp_path, raw_mnist):
    from cnn.evaluation import accuracy_text   # (here: without it the rest of this file still runs)
    assert accuracy_text(0.99456) == "99.46%" and accuracy_text(0.9945) == "99.45%"
    assert accuracy_text(float("nan")) == "—"
    session = Session(RunConfig(limit=5, epochs=1), raw_mnist)
    recorder = RunRecorder.start(tmp_path, session, 1, source="test")
    recorder.add(EpochRecord(1, 1, 0.5, 0.5, 0.9945, 1.0, np.zeros(0, int)))
    recorder.close()
    info = read_info(recorder.folder)
    item = QTreeWidgetItem()
    fill_row(item, RunEntry(recorder.folder, info, "finished", None), False, None)
    bar = QStatusBar()
    qtbot.addWidget(bar)
    line = StatusLine(bar)
    line.on_records([EpochRecord(1, 1, 0.5, 0.5, 0.9945, 1.0, np.zeros(0, int))])
    assert item.text(BEST) == "99.45%" and "test accuracy 99.45%" in bar.currentMessage()


# -- The layout list's small ones ---------------------------------------------------------------------------------
def test_the_gradient_checks_titles_and_numbers_are_whole_in_a_1024_px_step_through(qtbot, raw_mnist):
    """Its four columns were stretched alike in the 190 px column: "relative error" read "elative erro"."""
    from PySide6.QtCore import QCoreApplication, QEvent

    from app.stepthrough.window import StepThroughWindow
    from app.model.model_info import model_info
    from app.model.snapshot import weights_of
    session = Session(RunConfig.from_preset("digits", limit=7, batch_size=64), raw_mnist)
    dialog = StepThroughWindow()
    qtbot.addWidget(dialog)
    dialog.resize(1024, 768)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.load(weights_of(session, 0), model_info(session, "test"), ("test", 0))
    table = dialog.checker.table
    qtbot.mouseClick(dialog.checker.button, Qt.LeftButton)
    qtbot.waitUntil(lambda: table.rowCount() == len(session.network.params), timeout=60000)
    qtbot.waitUntil(lambda: table.minimumWidth() <= table.width())       # the splitter has given it its room
    header = table.horizontalHeader()
    for column in range(4):
        needed = max(header.sectionSizeHint(column), table.sizeHintForColumn(column))
        assert header.sectionSize(column) >= needed, header.model().headerData(column, Qt.Horizontal)
    assert header.length() <= table.viewport().width()                   # no column behind a scroll bar
    dialog.close()
    dialog.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)


def wheel_over(widget) -> bool:
    """A wheel turn over `widget`; whether it took it (an event left unaccepted goes on to the scroll area,
    when it comes from the mouse: a synthesized one is not passed on, so it is not tested here)."""
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, -120), QPoint(0, -120),
                        Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


def test_the_wheel_over_the_unfocused_brush_slider_leaves_it_alone(qtbot):
    """Scrolling the Your digit dock with the wheel moved the brush slider as it passed under the mouse."""
    from app.studio.views.your_digit import YourDigitPanel
    from app.widgets.fit_width import WidthFittingScrollArea
    panel = YourDigitPanel()
    area = WidthFittingScrollArea(panel)
    qtbot.addWidget(area)
    area.resize(420, 300)
    area.show()
    qtbot.waitExposed(area)
    area.setFocus()
    brush, width = panel.brush, panel.brush.value()
    assert not wheel_over(brush) and brush.value() == width
    brush.setFocus()
    qtbot.waitUntil(brush.hasFocus)
    assert wheel_over(brush) and brush.value() != width     # focused: the wheel is the user's choice


def test_the_why_panels_class_box_shows_its_whole_text(qtbot):
    from PySide6.QtWidgets import QStyle, QStyleOptionComboBox

    from app.studio.views.attribution import AttributionView
    view = AttributionView()
    qtbot.addWidget(view)
    view.resize(view.minimumSizeHint())           # as narrow as its dock can make it
    view.show()
    qtbot.waitExposed(view)
    combo = view.class_choice
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    field = combo.style().subControlRect(QStyle.CC_ComboBox, option, QStyle.SC_ComboBoxEditField, combo)
    assert field.width() >= combo.fontMetrics().horizontalAdvance(combo.currentText()), combo.currentText()


def test_help_covers_every_panel_and_fits_a_768_px_screen(qtbot):
    from PySide6.QtWidgets import QWidget

    from app.model.help import TOUR
    from app.studio.help_window import show_tour
    for topic in ("<b>Runs</b>", "<b>Your digit</b>", "<b>Why</b>", "<b>Results</b>", "<b>Architecture editor</b>",
                  "<b>Loss</b>", "<b>Health</b>", "<b>Step through"):
        assert topic in TOUR, topic
    parent = QWidget()
    qtbot.addWidget(parent)
    dialog = show_tour(parent)
    qtbot.waitExposed(dialog)
    assert dialog.height() <= 768 - 80 and "Architecture editor" in dialog.findChild(
        __import__("PySide6.QtWidgets", fromlist=["QTextBrowser"]).QTextBrowser).toPlainText()
    dialog.close()


def test_the_health_legends_fit_a_narrow_panel(qtbot):
    """At 1024×768 the Health tab is ~230 px wide: six legend columns widened the plots past it (the
    scene was drawn smaller, the legends over the axes)."""
    from PySide6.QtWidgets import QApplication
    view = HealthView()
    qtbot.addWidget(view)
    names = ("0.kernels", "0.biases", "3.kernels", "3.biases", "7.weights", "7.bias", "9.weights", "9.bias")
    view.set_model(SimpleNamespace(parameter_names=names, layers=tuple(SimpleNamespace(index=i, kind="ReLU")
                                                                          for i in (1, 4, 8))))
    view.resize(900, 700)
    view.show()
    qtbot.waitExposed(view)
    view.resize(300, 700)                       # narrowed, as the splitter and the docks do
    qtbot.waitUntil(lambda: view.graphics.width() == 300)
    QApplication.processEvents()
    width = view.graphics.width()
    labels = [label for legend in (view.legend, view.activations_legend) for _, label in legend.items]
    for item in (view.legend, view.activations_legend, *labels, view.norms_plot.vb, view.activations_plot.vb):
        assert view.graphics.mapFromScene(item.sceneBoundingRect()).boundingRect().right() <= width, item
    assert view.graphics.minimumHeight() >= view.graphics.ci.effectiveSizeHint(Qt.MinimumSize).height()
