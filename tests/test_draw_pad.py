"""The drawing pad and the Your digit panel without the studio around them: a known stroke gives
known 28×28 pixels, undo, clear, and the throttle while a stroke goes on. Open picture reads
with cnn.pictures: the 28×28 cnn-predict sees, bit for bit, and its one-line refusals, nothing changed."""
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


def colour_page(path) -> str:
    """A 1500×1100 RGBA PNG: a blue-green 7 with soft edges on a half-transparent pink ground (transparency,
    colour and a picture scaled down on reading: every step of the reader counts)."""
    from PIL import Image
    rows, columns = np.mgrid[0:1100, 0:1500]
    ink = np.clip(1 - np.minimum(np.abs(rows - 300), np.abs(columns + rows * 0.6 - 1400)) / 60, 0, 1)
    ink[(rows < 240) | (rows > 900) | (columns < 500) | (columns > 1200)] = 0
    rgba = np.empty((1100, 1500, 4), np.uint8)
    rgba[..., 0] = np.round(250 - 230 * ink)
    rgba[..., 1] = np.round(200 - 90 * ink)
    rgba[..., 2] = np.round(210 - 60 * ink)
    rgba[..., 3] = np.round(120 + 135 * ink)
    Image.fromarray(rgba, "RGBA").save(path)
    return str(path)


def test_an_opened_picture_is_the_digit_cnn_predict_sees_to_the_last_bit(panel, qtbot, tmp_path):
    """Open picture reads with cnn.pictures, as cnn-predict does: the same 28×28, bit for bit, and the same
    grey picture in the first stage; a name that is not UTF-8 opens, shown with its bytes escaped."""
    import os

    from cnn.pictures import read_grey
    from cnn.predict import seen
    path = colour_page(tmp_path / os.fsdecode(b"\xff\xfe-seven.png"))
    with qtbot.waitSignal(panel.sample_chosen, timeout=5000) as chosen:
        assert panel.open_image(path)
    predicted = seen(path, raw=False)            # cnn-predict's code path for the same file
    assert chosen.args[0].image.dtype == predicted.dtype and chosen.args[0].image.tobytes() == predicted.tobytes()
    assert np.array_equal(panel.preprocessed.grey, read_grey(path) / 255.0)
    assert chosen.args[0].name == "\\xff\\xfe-seven.png" and predicted.max() > 0.5


def bad_pictures(folder) -> dict:
    """A file of each kind Open picture refuses, and the start of what it says about it after the name."""
    import gzip
    import os

    from tests.conftest import absurd_png
    colour_page(folder / "whole.png")
    (folder / "cut.png").write_bytes((folder / "whole.png").read_bytes()[:2000])
    (folder / "notes.png").write_text("this is not an image\n")
    (folder / "empty.png").write_bytes(b"")
    absurd_png(folder / "huge.png")
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>'
    (folder / "drawing.png").write_text(svg)
    (folder / "drawing.svgz").write_bytes(gzip.compress(svg.encode()))
    (folder / "paper.pdf").write_bytes(b"%PDF-1.7\n")
    (folder / "blank.png").write_bytes(b"P5 4 4 255\n" + b"\xff" * 16)   # a PGM of white paper, named .png
    (folder / "folder.png").mkdir()
    os.mkfifo(folder / "pipe.png")   # opened to read, it would wait for a writer for ever
    drawing = "which is not read here; open a PNG, JPEG, BMP… picture of the digit"
    return {"cut.png": "could not be decoded (",
            "notes.png": "not an image (PNG, JPEG, BMP, GIF, TIFF, WebP, PNM, TGA, ICO)",
            "empty.png": "the file is empty",
            "huge.png": "the image declares 10,000,000,000 pixels, more than the 40 million pixels read here",
            "drawing.png": f"an SVG drawing, {drawing}", "drawing.svgz": f"an SVG drawing (compressed), {drawing}",
            "paper.pdf": f"a PDF document, {drawing}", "blank.png": "no ink", "folder.png": "is a folder, not a file",
            "pipe.png": "is a FIFO (named pipe), not a file"}


def test_every_bad_file_is_one_line_naming_it_and_changes_nothing(panel, qtbot, tmp_path):
    """Truncated, not a picture, empty, huge, drawings, no ink, a folder, a FIFO: Open picture says cnn.pictures'
    one line naming the file (cnn-predict's message), and the drawing shown stays the sample."""
    from cnn.pictures import PictureError, load_digit
    with qtbot.waitSignal(panel.sample_chosen, timeout=5000) as chosen:
        panel.pad.draw_stroke([(140, 40), (140, 240)], width=20)
    stages = {key: item.image.copy() for key, (_, item, _) in panel.stage_images.items()}
    for name, problem in bad_pictures(tmp_path).items():
        path = str(tmp_path / name)
        with pytest.raises(PictureError) as refused:
            load_digit(path)                              # cnn-predict's reader
        with qtbot.waitSignal(panel.failed, timeout=5000) as failed:
            assert not panel.open_image(path)
        message = failed.args[0]
        assert message == str(refused.value) and message.startswith(f"{path}: {problem}") and "\n" not in message
        assert panel.current is chosen.args[0] and panel.source == "drawing" and len(panel.pad.strokes) == 1
        assert all(np.array_equal(item.image, stages[key]) for key, (_, item, _) in panel.stage_images.items())


def test_the_file_dialog_offers_the_suffixes_the_reader_takes():
    from cnn.pictures import SUFFIXES
    from app.widgets.image_files import FILE_FILTER
    offered = FILE_FILTER.split(";;")[0]
    assert offered.startswith("Pictures (") and offered[len("Pictures ("):-1].split() == [f"*{s}" for s in SUFFIXES]
    assert FILE_FILTER.endswith(";;All files (*)")


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


def test_each_stage_shows_its_pictures_edge_so_an_all_ink_crop_is_not_white_on_white(panel, qtbot, tmp_path):
    """A solid block of ink crops to all ink: drawn white, on the white panel it could not be told from it. Each
    stage draws the edge of its picture, and clearing the only picture takes the edges away with it."""
    from PIL import Image

    def edges_fit() -> None:
        for key, (view, item, edge) in panel.stage_images.items():
            rows, columns = getattr(panel.preprocessed, key).shape
            assert edge.rect() == item.boundingRect() and (edge.rect().width(), edge.rect().height()) in (
                (columns, rows), (rows, columns)), key
            assert edge.isVisible() and edge in view.addedItems and edge.pen().color().value() < 200, key
    with qtbot.waitSignal(panel.sample_chosen, timeout=5000):
        panel.pad.draw_stroke([(140, 40), (140, 240)], width=20)
    edges_fit()
    panel.pad.clear()
    assert all(edge.rect().isEmpty() for _, _, edge in panel.stage_images.values())
    page = np.full((60, 40), 255, np.uint8)
    page[10:50, 12:28] = 0                                # the ink: a black block on white paper
    Image.fromarray(page, "L").save(tmp_path / "block.png")
    with qtbot.waitSignal(panel.sample_chosen, timeout=5000):
        assert panel.open_image(str(tmp_path / "block.png"))
    assert panel.preprocessed.cropped.min() == 1.0        # every pixel of the crop is ink
    edges_fit()
