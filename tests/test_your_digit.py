"""Your own digit in the studio (drawing pad, opened pictures, my samples, attribution maps) and the
confusion matrix you click into, driven with pytest-qt on the window fixture (0 and 1, 20 images)."""
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

pytestmark = pytest.mark.slow  # every test opens the whole studio; tests/test_draw_pad.py is the fast lane's


def save_png(path, grey):
    pixels = np.ascontiguousarray((np.clip(grey, 0, 1) * 255).round().astype(np.uint8))
    image = QImage(pixels.data, pixels.shape[1], pixels.shape[0], pixels.strides[0], QImage.Format_Grayscale8)
    assert image.copy().save(str(path), "PNG")
    return str(path)


def test_a_known_stroke_gives_known_28x28_pixels(window, qtbot):
    panel = window.your_digit
    with qtbot.waitSignal(window.worker.snapshot, timeout=10000,
                          check_params_cb=lambda s: s.split == "drawing"):
        panel.pad.draw_stroke([(140, 40), (140, 240)], width=20)   # a vertical bar, 220 × 20 pad pixels with its caps
    image = panel.preprocessed.image
    # cropped to 220 × 20 (the antialiased edge may add a pixel), longest side 20 → 20 rows × 2 columns,
    # centre of mass (9.5, 0.5) moved to (13.5, 13.5): rows 4–23, columns 13–14
    assert np.count_nonzero(image[:4]) == 0 and np.count_nonzero(image[24:]) == 0
    assert np.count_nonzero(image[:, :13]) == 0 and np.count_nonzero(image[:, 15:]) == 0
    assert image[6:22, 13:15].min() > 0.9
    assert window.image_sample is not None and window.image_sample.name == "drawing"
    np.testing.assert_array_equal(window.image_sample.image, image)


def test_the_network_sees_the_drawing_and_every_view_follows(window, qtbot):
    panel = window.your_digit
    with qtbot.waitSignal(window.worker.snapshot, timeout=10000,
                          check_params_cb=lambda s: s.split == "drawing") as blocker:
        panel.pad.draw_stroke([(140, 40), (140, 240)], width=20)
    snapshot = blocker.args[0]
    np.testing.assert_array_equal(snapshot.image, panel.preprocessed.image)
    # the prediction is the network's: tests/test_studio_model_runs.py
    qtbot.waitUntil(lambda: f"<b style='font-size:20pt'>{snapshot.predicted}</b>" in panel.answer.text())
    assert "drawing image" in window.features_view.caption.text()   # the feature maps show the drawing


def test_an_answer_or_clear_does_not_re_lay_out_the_panel(window, qtbot):
    """The answer's text changes with every drawing (and Clear puts back the one-line prompt): it keeps
    its height, so that the plots around it are not resized, which costs each a redraw while you draw."""
    window.resize(1600, 1000)
    window.show_workspace("your-digit")
    panel = window.your_digit
    qtbot.waitUntil(lambda: panel.stages.height() > 0)
    sizes = []
    for _ in range(2):
        with qtbot.waitSignal(window.worker.image_snapshot, timeout=10000,
                              check_params_cb=lambda s: s.split == "drawing"):
            panel.pad.draw_stroke([(140, 40), (140, 240)], width=20)
        qtbot.waitUntil(lambda: "The network reads" in panel.answer.text())
        qtbot.wait(50)                                                  # the layout requests the new text posted
        sizes.append((panel.answer.height(), panel.stages.size(), panel.bars_widget.size()))
        panel.pad.clear()
        qtbot.wait(50)
        sizes.append((panel.answer.height(), panel.stages.size(), panel.bars_widget.size()))
    assert all(size == sizes[0] for size in sizes), sizes


def test_an_opened_dark_on_light_png_is_preprocessed_like_mnist(window, qtbot, tmp_path):
    digit = np.zeros((28, 28))
    digit[4:24, 12:16] = 1.0                                              # a '1' as MNIST has it
    page = np.ones((400, 600))
    page[250:390, 440:580] = 1 - np.kron(digit, np.ones((5, 5)))          # dark ink, bottom right of white paper
    path = save_png(tmp_path / "one.png", page)
    with qtbot.waitSignal(window.worker.snapshot, timeout=10000, check_params_cb=lambda s: s.split == "one.png") \
            as blocker:
        assert window.your_digit.open_image(path)
    np.testing.assert_allclose(blocker.args[0].image, digit, atol=1 / 255)
    assert window.your_digit.preprocessed.inverted


def test_a_file_that_is_no_picture_is_reported_and_changes_nothing(window, qtbot, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("hello")
    with qtbot.waitSignal(window.error_shown, timeout=5000) as blocker:
        assert not window.your_digit.open_image(str(bad))
    assert blocker.args[0] == f"{bad}: not an image (PNG, JPEG, BMP, GIF, TIFF, WebP, PNM, TGA, ICO)"
    assert window.image_sample is None
    assert window.banner.isVisible()
    page = np.ones((100, 100))
    page[20:80, 45:55] = 0
    assert window.your_digit.open_image(save_png(tmp_path / "good.png", page))
    assert not window.banner.isVisible()          # the error was about the last picture, not this one


def test_kept_samples_and_the_true_label_you_pick(window, qtbot):
    panel = window.your_digit
    with qtbot.waitSignal(window.worker.snapshot, timeout=10000, check_params_cb=lambda s: s.split == "drawing"):
        panel.pad.draw_stroke([(140, 40), (140, 240)], width=20)
    panel.label.setCurrentIndex(panel.label.findData(1))
    with qtbot.waitSignal(window.worker.snapshot, timeout=10000, check_params_cb=lambda s: s.split == "drawing") \
            as blocker:
        panel.keep()
    assert blocker.args[0].label == 1 and blocker.args[0].index == 0
    assert panel.samples.count() == 1 and panel.kept[0].label == 1
    window.show_sample("test", 2)                                         # back to MNIST
    assert window.image_sample is None
    with qtbot.waitSignal(window.worker.snapshot, timeout=10000, check_params_cb=lambda s: s.split == "drawing"):
        panel.choose_kept(0)
    assert window.image_sample.number == 0


def test_the_step_through_opens_on_your_drawing_with_the_label_you_pick(window, qtbot):
    panel = window.your_digit
    panel.label.setCurrentIndex(panel.label.findData(1))
    with qtbot.waitSignal(window.worker.snapshot, timeout=10000, check_params_cb=lambda s: s.split == "drawing"):
        panel.pad.draw_stroke([(140, 40), (140, 240)], width=20)
    with qtbot.waitSignal(window.step_window_shown, timeout=10000):
        qtbot.mouseClick(panel.step_button, Qt.LeftButton)
    stepper = window.step_window
    np.testing.assert_array_equal(stepper.trace.x[0, 0], panel.preprocessed.image)
    np.testing.assert_array_equal(stepper.trace.y_true, [[0, 1]])
    assert "<b>drawing</b> · label <b>1</b>" in stepper.header.text()


def test_attribution_maps_follow_the_chosen_sample_and_class(window, qtbot):
    window.show_workspace("your-digit")
    view = window.attribution_view
    with qtbot.waitSignal(window.worker.attribution, timeout=10000,
                          check_params_cb=lambda a: a.sample[0] == "drawing") as blocker:
        window.your_digit.pad.draw_stroke([(140, 40), (140, 240)], width=20)
    first = blocker.args[0]
    assert first.saliency.shape == first.grad_cam.shape == (28, 28)
    other = 1 - first.predicted_index
    with qtbot.waitSignal(window.worker.attribution, timeout=10000,
                          check_params_cb=lambda a: a.class_index == other) as blocker:
        view.class_choice.setCurrentIndex(view.class_choice.findData(other))
    assert blocker.args[0].occlusion is not None and blocker.args[0].patch == 5
    assert f"explaining <b>{window.model.classes[other]}</b>" in view.caption.text()
    # occlusion's scale is a drop of probability: tiny drops (a class the network gives p ≈ 0) stay dark
    import dataclasses
    faint = dataclasses.replace(blocker.args[0], occlusion=np.full((28, 28), 1e-9))
    view.show_attribution(faint)
    assert view.overlays["occlusion"].levels[1] >= 0.01


def per_sample(session):
    """Labels, predictions, losses and outputs of every test image, computed here one image at a time."""
    test, loss = session.dataset.test, session.loss
    outputs = session.network.predict(test.x)
    losses = np.array([loss.value(test.y[i:i + 1], outputs[i:i + 1]) for i in range(len(test.x))])
    return test.y.argmax(axis=1), outputs.argmax(axis=1), losses, outputs


def test_clicking_a_cell_of_the_confusion_matrix_filters_the_gallery(window, qtbot):
    window.show_workspace("results")
    view = window.results_view
    qtbot.waitUntil(lambda: "test" in view.results, timeout=10000)       # evaluated when the network came
    before = view.results["test"]
    window.evaluate_action.trigger()
    qtbot.waitUntil(lambda: view.results.get("test") is not before, timeout=10000)
    true, predicted, losses, _ = per_sample(window.worker.session)
    matrix = np.zeros((2, 2), dtype=int)
    for t, p in zip(true, predicted, strict=True):
        matrix[t, p] += 1
    shown = [[int(view.matrix.item(t, p).text()) for p in range(2)] for t in range(2)]
    assert shown == matrix.tolist()
    t, p = max(((t, p) for t in range(2) for p in range(2)), key=lambda cell: matrix[cell])
    view.matrix.cellClicked.emit(t, p)
    expected = np.flatnonzero((true == t) & (predicted == p))
    expected = expected[np.argsort(-losses[expected], kind="stable")]
    assert view.shown == expected.tolist()
    assert [view.gallery.item(n).data(Qt.UserRole) for n in range(view.gallery.count())] == expected.tolist()
    right = matrix[t, t] / matrix[t].sum()
    assert view.matrix.item(t, 2).text() == f"{100 * right:.1f}"
    view.gallery.itemClicked.emit(view.gallery.item(0))
    assert window.sample_picker.current == ("test", int(expected[0]))


def test_galleries_of_hardest_examples_and_confident_mistakes(window, qtbot):
    window.show_workspace("results")
    view = window.results_view
    qtbot.waitUntil(lambda: "test" in view.results, timeout=10000)
    true, predicted, losses, outputs = per_sample(window.worker.session)   # sigmoid outputs: taken as they are
    view.mode.setCurrentIndex(view.mode.findData("hardest"))
    assert view.shown == np.argsort(-losses, kind="stable")[:len(view.shown)].tolist() and len(view.shown) == 20
    view.mode.setCurrentIndex(view.mode.findData("mistakes"))
    wrong = np.flatnonzero(true != predicted)
    assert len(wrong) > 0                                                  # an untrained network
    assert view.shown == wrong[np.argsort(-outputs[wrong, predicted[wrong]], kind="stable")].tolist()
    view.split.setCurrentIndex(view.split.findData("train"))           # the training split: evaluated on demand
    qtbot.waitUntil(lambda: "train" in view.results, timeout=10000)
    assert int(view.results["train"].confusion().sum()) == 20 and view.matrix.rowCount() == 2
    view.split.setCurrentIndex(view.split.findData("test"))
    view.mode.setCurrentIndex(view.mode.findData("mistakes"))
    with qtbot.waitSignal(window.step_window_shown, timeout=10000):
        view.gallery.itemDoubleClicked.emit(view.gallery.item(0))
    assert window.step_window.isVisible()
    assert f"test image #{wrong[0] if len(wrong) == 1 else view.shown[0]}</b>" in window.step_window.header.text()


def trained_two_epochs_in(window, qtbot, workspace):
    """The Results view after a two-epoch run trained with `workspace` shown."""
    epochs = []
    window.worker.evaluated.connect(lambda results, epoch: epochs.append(epoch))
    window.show_workspace(workspace)
    with qtbot.waitSignal(window.training_finished, timeout=60000):
        window.start()
    qtbot.waitUntil(lambda: 2 in epochs, timeout=10000)
    return window.results_view


def test_results_follow_every_epoch(window, qtbot):
    assert "after epoch 2" in trained_two_epochs_in(window, qtbot, "results").caption.text()


def test_results_that_arrive_while_hidden_are_shown_when_the_panel_is(window, qtbot):
    """Each epoch's matrix is filled only when the Results workspace is shown (filling it hidden cost the
    window's thread, and training the GIL, at every epoch); turning to it shows the newest."""
    view = trained_two_epochs_in(window, qtbot, "train")
    assert view.stale and "after epoch 2" not in view.caption.text()
    window.show_workspace("results")
    assert not view.stale and "after epoch 2" in view.caption.text()
    matrix = view.results["test"].confusion()
    assert [[int(view.matrix.item(t, p).text()) for p in range(2)] for t in range(2)] == matrix.tolist()


def test_a_stop_within_an_epoch_evaluates_the_weights_it_leaves(window, qtbot):
    """Stopped (or paused) between two epochs' ends, the Results panel and the misclassified thumbnails
    would show the last evaluation's weights while saying "the current weights": they are computed again."""
    from cnn.train import StepRecord
    results = []
    window.settings_panel.limit.setValue(500)                       # 1,000 steps an epoch: the stop falls inside it
    window.reset()
    qtbot.waitUntil(lambda: len(window.model.images["train"]) == 1000, timeout=20000)
    with qtbot.waitSignal(window.worker.records, timeout=60000,
                          check_params_cb=lambda records: any(isinstance(r, StepRecord) and r.step >= 5
                                                              for r in records)):
        window.start()
    # the worker's signals arrive in order: the Reset's evaluation came before these records
    window.worker.evaluated.connect(lambda r, epoch: results.append((r, epoch)))
    window.stop()
    qtbot.waitUntil(lambda: window.worker.state.name == "IDLE" and len(results) > 0 and results[-1][1] is None,
                    timeout=20000)
    # the results are those of the weights the stop left: tests/test_studio_model_runs.py
    qtbot.waitUntil(lambda: window.results_view.results["test"] is results[-1][0], timeout=10000)
    window.show_workspace("results")
    assert "with the current weights" in window.results_view.caption.text()


@pytest.mark.parametrize("suffix", [".png"])
def test_dropping_a_picture_on_the_window_opens_it(window, qtbot, tmp_path, suffix):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent
    page = np.ones((100, 100))
    page[20:80, 45:55] = 0
    path = save_png(tmp_path / f"drop{suffix}", page)
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(path)])
    event = QDropEvent(QPointF(10, 10), Qt.CopyAction, data, Qt.LeftButton, Qt.NoModifier)
    with qtbot.waitSignal(window.worker.snapshot, timeout=10000, check_params_cb=lambda s: s.split == f"drop{suffix}"):
        window.dropEvent(event)


def test_your_digit_follows_the_weights_through_training_and_stop(window, qtbot, tmp_path):
    digit = np.zeros((28, 28))
    digit[4:24, 12:16] = 1.0
    path = save_png(tmp_path / "mine.png", digit)
    with qtbot.waitSignal(window.worker.snapshot, timeout=10000, check_params_cb=lambda s: s.split == "mine.png"):
        assert window.your_digit.open_image(path)
    panel = window.settings_panel
    panel.preset.setCurrentIndex(panel.preset.findData("digits"))   # ten classes, other data: a new network
    panel.limit.setValue(10)
    panel.batch_size.setValue(16)                                    # 100 training images: fewer than the preset's 128
    window.reset()
    qtbot.waitUntil(lambda: window.model is not None and len(window.model.classes) == 10, timeout=10000)
    window.settings_panel.epochs.setValue(20)
    with qtbot.waitSignal(window.worker.records, timeout=60000,
                          check_params_cb=lambda records: any(hasattr(r, "test_accuracy") for r in records)):
        window.start()
    window.show_sample("test", 2)   # an MNIST image is the chosen sample now; the dock still shows yours
    followed = []   # your digit's snapshots (the network's answers: tests/test_studio_model_runs.py)
    window.worker.image_snapshot.connect(followed.append)
    window.stop()
    qtbot.waitUntil(lambda: window.state.name == "IDLE" and bool(followed), timeout=60000)
    last = followed[-1]
    best = int(np.argmax(last.probabilities))
    expected = f"<b style='font-size:20pt'>{last.classes[best]}</b> (p = {last.probabilities[best]:.2f})"
    qtbot.waitUntil(lambda: expected in window.your_digit.answer.text(), timeout=10000)


def test_until_you_pick_the_true_digit_nothing_is_marked_right_or_wrong(window, qtbot):
    panel = window.your_digit
    with qtbot.waitSignal(window.worker.snapshot, timeout=10000, check_params_cb=lambda s: s.split == "drawing"):
        panel.pad.draw_stroke([(140, 40), (140, 240)], width=20)
    qtbot.waitUntil(lambda: "drawing image" in window.features_view.caption.text()
                    and "The network reads" in panel.answer.text())
    for text in (panel.answer.text(), window.features_view.caption.text()):
        assert "✓" not in text and "✗" not in text
        assert "predicted class" in text
    with qtbot.waitSignal(window.step_window_shown, timeout=10000):
        qtbot.mouseClick(panel.step_button, Qt.LeftButton)
    header = window.step_window.header.text()
    assert "✓" not in header and "✗" not in header and "no true digit picked" in header
    predicted = window.step_window.sample[1]
    other = 1 - predicted   # the fixture's network knows 0 and 1
    with qtbot.waitSignal(window.worker.snapshot, timeout=10000, check_params_cb=lambda s: s.split == "drawing"):
        panel.label.setCurrentIndex(panel.label.findData(other))
    qtbot.waitUntil(lambda: "✗" in panel.answer.text() and "✗ misclassified" in window.features_view.caption.text())
    qtbot.waitUntil(lambda: "✗ misclassified" in window.step_window.header.text())


def test_a_new_picture_starts_without_the_last_ones_true_digit(window, qtbot, tmp_path):
    panel = window.your_digit
    with qtbot.waitSignal(window.worker.snapshot, timeout=10000, check_params_cb=lambda s: s.split == "drawing") \
            as blocker:
        panel.pad.draw_stroke([(140, 40), (140, 240)], width=20)
    classes, predicted = list(window.model.classes), blocker.args[0].predicted
    wrong = next(c for c in classes if c != predicted)
    panel.label.setCurrentIndex(panel.label.findData(wrong))         # a true digit the network did not read
    qtbot.waitUntil(lambda: f"you say <b>{wrong}</b>" in panel.answer.text())
    assert panel.bars.opts["brushes"][classes.index(predicted)] == (214, 39, 40)   # the answer's bar turns red
    page = np.ones((100, 100))
    page[20:80, 45:55] = 0
    path = save_png(tmp_path / "bar.png", page)
    with qtbot.waitSignal(window.worker.snapshot, timeout=10000, check_params_cb=lambda s: s.split == "bar.png") \
            as blocker:
        assert panel.open_image(path)
    assert blocker.args[0].label_picked is False and panel.label.currentData() is None
    assert panel.pad.is_empty                                         # the pad does not show the old drawing
    panel.label.setCurrentIndex(panel.label.findData(7))
    with qtbot.waitSignal(window.worker.snapshot, timeout=10000, check_params_cb=lambda s: s.split == "drawing"):
        panel.pad.draw_stroke([(140, 40), (140, 240)], width=20)      # back to drawing: a new sample
    assert panel.label.currentData() is None and panel.current.label is None
    panel.label.setCurrentIndex(panel.label.findData(1))
    with qtbot.waitSignal(window.worker.snapshot, timeout=10000, check_params_cb=lambda s: s.split == "bar.png"):
        panel.pad.clear()                                             # the drawing gone: the picture before it
    assert panel.current.name == "bar.png" and panel.label.currentData() == 7   # with its own true digit


def drop(window, data: bytes):
    from PySide6.QtCore import QMimeData, QPointF
    from PySide6.QtGui import QDropEvent
    mime = QMimeData()
    mime.setData("text/uri-list", data)   # as a file manager sends a name: its bytes percent-encoded
    window.dropEvent(QDropEvent(QPointF(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))


def test_dropped_pictures_open_by_their_bytes_and_drawings_are_refused(window, qtbot, tmp_path):
    import os
    from urllib.parse import quote_from_bytes
    page = np.ones((100, 100))
    page[20:80, 45:55] = 0
    name = os.fsencode(tmp_path) + b"/\xff\xfe-bad.png"   # bytes that are no UTF-8
    os.rename(save_png(tmp_path / "good.png", page), os.fsdecode(name))
    with qtbot.waitSignal(window.your_digit.sample_chosen, timeout=5000) as chosen:
        drop(window, b"file://" + quote_from_bytes(name).encode())
    assert chosen.args[0].name == "\\xff\\xfe-bad.png"
    bomb = tmp_path / "drawing.svg"
    bomb.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>')
    with qtbot.waitSignal(window.error_shown, timeout=5000) as error:
        drop(window, b"file://" + quote_from_bytes(os.fsencode(bomb)).encode())
    assert error.args[0] == (f"{bomb}: an SVG drawing, which is not read here; open a PNG, JPEG, BMP… picture of "
                             "the digit")
    assert window.image_sample is chosen.args[0]


def test_clear_brings_back_the_sample_before_the_drawing_in_every_panel(window, qtbot):
    """Clear (or Undo to an empty pad): the probability chart has no stale bar, and the answer, the Why
    panel and the picker agree on the sample that came back; while the drawing is shown the picker says so."""
    window.show_workspace("your-digit")
    panel, picker = window.your_digit, window.sample_picker
    with qtbot.waitSignal(window.worker.image_snapshot, timeout=10000, check_params_cb=lambda s: s.split == "drawing"):
        panel.pad.draw_stroke([(140, 40), (140, 240)], width=20)
    qtbot.waitUntil(lambda: max(panel.bars.opts["height"]) > 0)
    assert picker.caption.text() == "Showing your drawing — pick an image to go back"
    assert picker.caption.isVisibleTo(picker) and picker.strip.currentRow() == -1
    assert picker.strip.selectedItems() == []                        # no MNIST thumbnail highlighted as chosen
    with qtbot.waitSignal(window.worker.attribution, timeout=10000, check_params_cb=lambda a: a.sample == ("test", 0)):
        panel.clear_button.click()
    assert max(panel.bars.opts["height"]) == 0                       # no bar of the cleared drawing
    assert "The views show test image #0 again" in panel.answer.text()
    assert "test image #0" in window.attribution_view.caption.text()
    assert not picker.caption.isVisibleTo(picker) and picker.strip.currentRow() == 0
    with qtbot.waitSignal(window.worker.image_snapshot, timeout=10000, check_params_cb=lambda s: s.split == "drawing"):
        panel.pad.draw_stroke([(140, 40), (140, 240)], width=20)
    with qtbot.waitSignal(window.worker.snapshot, timeout=10000, check_params_cb=lambda s: s.split == "test"):
        picker._pick(0)                                              # the thumbnail under the drawing: back to it
    assert window.image_sample is None and not picker.caption.isVisibleTo(picker)
