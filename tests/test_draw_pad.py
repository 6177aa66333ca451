"""The drawing pad and the Your digit panel without the studio around them: a known stroke gives
known 28×28 pixels, undo, clear, and the throttle while a stroke goes on."""
import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QPoint, Qt
from PySide6.QtTest import QTest


@pytest.fixture
def panel(qtbot):
    from app.studio.views.your_digit import YourDigitPanel
    widget = YourDigitPanel()
    widget.resize(700, 400)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.close()
    widget.deleteLater()   # destroyed by Qt now, in its order, not later by Python's garbage collector
    QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)


def test_a_known_stroke_gives_known_28x28_pixels(panel, qtbot):
    with qtbot.waitSignal(panel.sample_chosen, timeout=5000) as blocker:
        panel.pad.draw_stroke([(140, 40), (140, 240)], width=20)   # a bar 220 × 20 pad pixels with its round caps
    image = blocker.args[0].image
    # cropped to 220 × 20 (an antialiased edge may add a pixel), longest side 20 → 20 rows × 2 columns,
    # centre of mass (9.5, 0.5) moved to (13.5, 13.5): rows 4–23, columns 13–14
    assert np.count_nonzero(image[:4]) == 0 and np.count_nonzero(image[24:]) == 0
    assert np.count_nonzero(image[:, :13]) == 0 and np.count_nonzero(image[:, 15:]) == 0
    assert image[6:22, 13:15].min() > 0.9
    assert panel.preprocessed.box[0] in (29, 30) and panel.preprocessed.box[1] in (250, 251)
    assert blocker.args[0].name == "drawing" and blocker.args[0].label is None


def test_undo_and_clear(panel):
    pad = panel.pad
    pad.draw_stroke([(60, 60), (200, 60)], width=20)
    first = pad.pixels().copy()
    pad.draw_stroke([(140, 60), (140, 250)], width=20)
    assert not np.array_equal(pad.pixels(), first)
    pad.undo()
    np.testing.assert_array_equal(pad.pixels(), first)
    pad.clear()
    assert pad.is_empty and pad.pixels().min() == 255


def test_drawing_with_the_mouse_sends_the_picture_while_drawing_and_when_the_pen_lifts(panel, qtbot):
    pad = panel.pad
    side = min(pad.width(), pad.height())
    left, top = (pad.width() - side) // 2, (pad.height() - side) // 2
    points = [QPoint(left + side // 2, top + side * y // 10) for y in range(2, 9)]
    sent = []
    pad.changed.connect(lambda pixels, drawing: sent.append(drawing))
    QTest.mousePress(pad, Qt.LeftButton, Qt.NoModifier, points[0])
    for point in points[1:4]:
        QTest.mouseMove(pad, point)
    qtbot.waitUntil(lambda: sent == [True], timeout=5000)            # the throttle's timer: once, while drawing
    for point in points[4:]:
        QTest.mouseMove(pad, point)
    with qtbot.waitSignal(pad.changed, timeout=5000, check_params_cb=lambda pixels, drawing: not drawing):
        QTest.mouseRelease(pad, Qt.LeftButton, Qt.NoModifier, points[-1])
    assert sent[-1] is False and sent.count(False) == 1
    ink = pad.pixels() < 128
    columns, rows = np.flatnonzero(ink.any(axis=0)), np.flatnonzero(ink.any(axis=1))
    assert abs((columns[0] + columns[-1]) / 2 - 140) <= 3                 # a vertical stroke in the middle
    assert rows[0] < 70 and rows[-1] > 210


def test_a_click_without_moving_draws_a_dot_the_brushs_width(panel):
    pad = panel.pad
    side = min(pad.width(), pad.height())
    left, top = (pad.width() - side) // 2, (pad.height() - side) // 2
    QTest.mouseClick(pad, Qt.LeftButton, Qt.NoModifier, QPoint(left + side // 2, top + side // 2))
    ink = pad.pixels() < 128
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    assert len(rows) and abs(rows.mean() - 140) <= 3 and abs(columns.mean() - 140) <= 3
    assert abs(len(rows) - pad.brush_width) <= 3 and abs(len(columns) - pad.brush_width) <= 3
