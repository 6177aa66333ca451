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


def test_opened_pictures_whose_names_are_not_utf8_or_that_are_drawings(panel, qtbot, tmp_path):
    """A PNG named in bytes that are no UTF-8 opens (Qt is given the open file, not a path it re-encodes), its
    name shown with the bytes escaped; an SVG, a FIFO are refused by name, nothing changed."""
    import os

    from PySide6.QtGui import QImage
    page = QImage(60, 60, QImage.Format_Grayscale8)
    page.fill(255)
    for row in range(10, 50):
        for column in range(27, 33):
            page.setPixel(column, row, 0)
    name = tmp_path / os.fsdecode(b"\xff\xfe-bad.png")
    assert page.save(str(tmp_path / "good.png"), "PNG")
    os.rename(tmp_path / "good.png", name)
    with qtbot.waitSignal(panel.sample_chosen, timeout=5000) as chosen:
        assert panel.open_image(str(name))
    assert chosen.args[0].name == "\\xff\\xfe-bad.png" and chosen.args[0].image.max() > 0.9
    (tmp_path / "drawing.png").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>')
    os.mkfifo(tmp_path / "pipe.png")
    for bad, problem in (("drawing.png", "an SVG drawing, which is not read here; open a PNG, JPEG, BMP… picture "
                                         "of the digit"), ("pipe.png", "is a FIFO (named pipe), not a file")):
        with qtbot.waitSignal(panel.failed, timeout=5000) as failed:
            assert not panel.open_image(str(tmp_path / bad))
        assert failed.args[0] == f"{tmp_path / bad}: {problem}"
        assert panel.current is chosen.args[0]


def test_dropped_file_urls_keep_the_bytes_of_names_that_are_not_utf8():
    import os

    from PySide6.QtCore import QMimeData, QUrl

    from app.widgets.dropped import dropped_files
    mime = QMimeData()    # as a file manager sends them: the name's bytes percent-encoded
    mime.setData("text/uri-list", b"file:///tmp/%FF%FE-bad.png\r\nfile:///tmp/a%20b%C3%A9.png\r\nhttps://x/y.png\r\n")
    assert dropped_files(mime) == [os.fsdecode(b"/tmp/\xff\xfe-bad.png"), "/tmp/a bé.png"]
    mime.setUrls([QUrl.fromLocalFile("/tmp/x y/é#?.png")])
    assert dropped_files(mime) == ["/tmp/x y/é#?.png"]


def test_undo_after_clear_brings_the_drawing_back_until_a_new_stroke(panel, qtbot):
    """Clear then Undo left the pad empty: the drawing was lost (a new user's review)."""
    pad = panel.pad
    pad.draw_stroke([(60, 60), (200, 60)], width=20)
    pad.draw_stroke([(140, 60), (140, 250)], width=20)
    drawn = pad.pixels().copy()
    pad.clear()
    with qtbot.waitSignal(panel.sample_chosen, timeout=5000) as chosen:
        pad.undo()
    np.testing.assert_array_equal(pad.pixels(), drawn)
    assert chosen.args[0].name == "drawing" and len(pad.strokes) == 2
    pad.clear()
    pad.draw_stroke([(100, 100), (150, 150)], width=20)      # a new drawing: the cleared one is gone for good
    pad.undo()
    pad.undo()
    assert pad.is_empty
