"""Every layer in the studio: the layer picker, the network strip, health warnings, and the plot
defects of issue 12. pytest-qt, offscreen; waits for signals and states, never sleeps."""
import math
import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from app.studio.views.health import HINT, NOT_RECORDED
from app.studio.workspaces import reveal
from app.widgets.plots import LogAxis
from cnn.evaluation import evaluate
from cnn.train import EpochRecord
from tests.conftest import worker_settled


def use_preset(window, qtbot, preset, **fields):
    panel = window.settings_panel
    panel.preset.setCurrentIndex(panel.preset.findData(preset))
    for name, value in fields.items():
        getattr(panel, name).setValue(value)
    window.reset()
    layers = 10 if preset == "digits" else 7
    qtbot.waitUntil(lambda: window.model is not None and window.model.config.preset == preset
                    and window.weights_view.snapshot is not None and len(window.weights_view.snapshot.layers) == layers,
                    timeout=20000)


@pytest.mark.smoke   # the fast lane keeps one studio test of the layers
def test_the_layer_picker_shows_the_digits_networks_second_convolution_and_dense_templates(window, qtbot):
    use_preset(window, qtbot, "digits", limit=10, batch_size=8)
    assert window.layer_choice.index == 0 and window.layer_combo.currentIndex() == 0  # the first convolution
    network = window.worker.session.network
    # a click on the network summary's row 3 chooses the second convolution
    summary = window.network_summary
    with qtbot.waitSignal(window.layer_choice.changed, timeout=30000):   # the studio model chooses it
        qtbot.mouseClick(summary.viewport(), Qt.LeftButton, pos=summary.visualItemRect(summary.item(3)).center())
    assert window.layer_combo.currentIndex() == 3 and window.worker.studio.layer == 3
    cells = window.weights_view.main.cells
    kernels = network.params["3.kernels"]
    if cells.cells.shape == (8, 16, 3, 3):   # a wide view shows channels as rows
        cells = cells.transposed()
    assert cells.cells.shape == (16, 8, 3, 3)
    assert cells.row_names == tuple(map(str, range(16))) and cells.col_names == tuple(map(str, range(8)))
    np.testing.assert_array_equal(cells.cells, kernels)
    assert f"{kernels[5, 2, 1, 0]:+.6g}" in cells.describe(5, 2, 1, 0) and "K[5,2]" in cells.describe(5, 2, 1, 0)
    assert window.weights_view.bias.cells.cells.shape == (1, 16, 1, 1)
    # the maps and gradients follow: Y of the convolution and after its ReLU; ∂E/∂K, ∂E/∂Y, ∂E/∂X
    assert [entry[2].shape for entry in window.features_view.shown] == [(16, 11, 11), (16, 11, 11)]
    assert window.gradients_view.param_plot.cells.cells.shape in ((16, 8, 3, 3), (8, 16, 3, 3))
    assert np.count_nonzero(~np.isnan(window.gradients_view.input_plot.cells.cells)) == 8 * 13 * 13
    # the combo chooses the first dense layer: 64 templates of 16×5×5, one per hidden unit, shown one at a
    # time, large: its 16 input channels in a 4×4 grid (all 64 in a row of 16 maps each could not be read)
    with qtbot.waitSignal(window.layer_choice.changed, timeout=30000):
        window.layer_combo.activated.emit(7)
    view, weights = window.weights_view, network.params["7.weights"].reshape(64, 16, 5, 5)
    assert view.unit_row.isVisible() and view.units_count.text() == "of 64"
    assert view.main.cells.cells.shape == (4, 4, 5, 5) and view.main.cells.row_names == ("0", "4", "8", "12")
    np.testing.assert_array_equal(view.main.cells.cells.reshape(16, 5, 5), weights[0])
    view.unit.setValue(5)
    np.testing.assert_array_equal(view.main.cells.cells.reshape(16, 5, 5), weights[5])
    assert view.main.cells.describe(1, 2, 3, 4).startswith("W of unit 5 from channel 6, row 3, column 4")
    assert "unit 5" in view.title.text() and "16×5×5" in view.title.text()
    view.all_units.setChecked(True)
    templates = window.weights_view.main.cells
    assert templates.cells.shape == (64, 16, 5, 5)
    assert templates.row_names == tuple(f"unit {u}" for u in range(64))
    np.testing.assert_array_equal(templates.cells, network.params["7.weights"].reshape(64, 16, 5, 5))
    assert summary.currentRow() == 7
    view.main.image.on_click(9, 3)               # a click on unit 9's template shows it large
    assert not view.all_units.isChecked() and view.unit.value() == 9
    np.testing.assert_array_equal(view.main.cells.cells.reshape(16, 5, 5), weights[9])
    with qtbot.waitSignal(window.layer_choice.changed, timeout=30000):
        window.layer_combo.activated.emit(9)     # the last: a matrix from the 64 units to the ten digits
    assert not view.unit_row.isVisible()
    matrix = window.weights_view.main.cells
    assert matrix.cells.shape == (1, 1, 10, 64) and "digit 3" in matrix.describe(0, 0, 3, 5)
    np.testing.assert_array_equal(matrix.cells[0, 0], network.params["9.weights"])


def choose_layer(window, qtbot, index: int) -> None:
    """A click on a layer: the studio model chooses it, and the views follow when its choice comes back."""
    if window.layer_choice.index == index:
        return
    with qtbot.waitSignal(window.layer_choice.changed, timeout=30000, check_params_cb=lambda i: i == index):
        window.layer_choice.choose(index)


def test_the_original_dense_layer_shows_a_hundred_templates(window, qtbot):
    choose_layer(window, qtbot, 3)
    qtbot.waitUntil(lambda: window.weights_view.main.cells is not None     # one at a time: its 5 maps of 26×26
                    and window.weights_view.main.cells.cells.shape == (2, 3, 26, 26))
    window.weights_view.all_units.setChecked(True)
    assert window.weights_view.main.cells.cells.shape == (100, 5, 26, 26)
    choose_layer(window, qtbot, 5)   # Dense(100, 2): no shape before it to reshape to, so a matrix
    assert window.weights_view.main.cells.cells.shape == (1, 1, 2, 100)
    choose_layer(window, qtbot, 1)   # a sigmoid has no parameters; its maps are its input and output
    assert "no parameters" in window.weights_view.title.text()
    assert [entry[1] for entry in window.features_view.shown] == ["X", "Y"]


def test_the_strip_has_one_panel_per_layer_with_its_shape(window, qtbot):
    use_preset(window, qtbot, "digits", limit=10, batch_size=8)
    reveal(window.strip_view)
    strip = window.strip_view
    qtbot.waitUntil(lambda: strip.drawn is not None and len(strip.drawn.layers) == 10)
    snapshot = strip.drawn
    assert len(strip.rows) == 1 + 10    # the input, then every layer
    arrays = [(snapshot.input, snapshot.input_gradient)] + [(s.output, s.output_gradient) for s in snapshot.layers]
    for (_label, y_plot, dy_plot), (y, dy) in zip(strip.rows, arrays, strict=True):
        for plot, array in ((y_plot, y), (dy_plot, dy)):
            shown = plot.cells.cells
            assert np.count_nonzero(~np.isnan(shown)) == array.size
            if array.ndim == 3:
                assert shown.shape[2:] == array.shape[1:]
            np.testing.assert_array_equal(np.sort(shown[~np.isnan(shown)]), np.sort(array.reshape(-1)))
            assert plot.bar is not None and plot.bar.levels()[0] <= np.min(array)


def test_the_strip_redraws_while_training(window, qtbot):
    reveal(window.strip_view)
    first = window.strip_view.drawn
    window.start()
    qtbot.waitUntil(lambda: window.strip_view.drawn is not first and window.strip_view.drawn.layers[0].params[
        "kernels"].tobytes() != first.layers[0].params["kernels"].tobytes(), timeout=20000)
    window.stop()


def test_a_saturating_run_is_warned_about(window, qtbot):
    """The original preset at learning rate 50: exactly-zero gradients from the second step."""
    window.settings_panel.learning_rate.setValue(50.0)
    window.settings_panel.epochs.setValue(3)
    with qtbot.waitSignal(window.health_banner.warned, timeout=60000) as blocker:
        window.start()
    assert "exactly zero since step" in blocker.args[0] and "Lower the learning rate" in blocker.args[0]
    assert window.health_banner.isVisible()
    reveal(window.health_view)   # the norms a log axis cannot draw are named, not left blank
    qtbot.waitUntil(lambda: "exactly 0 since epoch 0." in window.health_view.norms_plot.titleLabel.text)
    window.stop()
    qtbot.waitUntil(lambda: window.worker.session is not None)
    window.reset()          # a new network: the warning goes, and so does the title's word of its zero norms
    qtbot.waitUntil(lambda: not window.health_banner.isVisible(), timeout=20000)
    assert "exactly 0" not in window.health_view.norms_plot.titleLabel.text


def test_health_curves_of_earlier_networks_do_not_stay(window, qtbot):
    names = {"0.kernels", "0.biases", "3.weights", "3.bias", "5.weights", "5.bias"}
    use_preset(window, qtbot, "digits", limit=10, batch_size=8)
    assert set(window.health_view.norms) == {"0.kernels", "0.biases", "3.kernels", "3.biases", "7.weights", "7.bias",
                                             "9.weights", "9.bias"}
    use_preset(window, qtbot, "original", limit=10)
    assert set(window.health_view.norms) == names
    assert len(window.health_view.legend.items) == 6
    assert len(window.health_view.norms_plot.listDataItems()) == 6
    assert [label.text for _, label in window.health_view.activations_legend.items] == [
        "saturated: layer 1 Sigmoid", "saturated: layer 4 Sigmoid", "saturated: layer 6 Sigmoid"]


def test_next_misclassified_counts_now_and_works_on_the_training_set(window, qtbot):
    picker, session = window.sample_picker, window.worker.session
    qtbot.waitUntil(lambda: picker.wrong("test") is not None)
    worker_settled(window, qtbot)   # (the network is the worker's: read it when the worker waits)
    wrong_test = np.flatnonzero(np.asarray(session.dataset.classes)[evaluate(
        session.network, session.dataset.test, session.loss).predictions] != session.dataset.test.labels)
    assert picker.next_wrong.text() == f"Next misclassified ({wrong_test.size})"
    picker.select("train", 0)
    assert picker.next_wrong.text() == "Find misclassified"     # no stale count from the test set
    worker_settled(window, qtbot)
    train = session.dataset.train
    predicted = np.asarray(session.dataset.classes)[evaluate(session.network, train, session.loss).predictions]
    wrong_train = np.flatnonzero(predicted != train.labels)
    assert wrong_train.size > 0
    qtbot.mouseClick(picker.next_wrong, Qt.LeftButton)
    qtbot.waitUntil(lambda: picker.wrong("train") is not None)
    assert picker.next_wrong.text() == f"Next misclassified ({wrong_train.size})"
    later = wrong_train[wrong_train > 0]
    assert picker.current == ("train", int(later[0] if later.size else wrong_train[0]))
    # a new network: the count is that of its own predictions, never the last network's
    window.settings_panel.seed.setValue(7)
    window.reset()
    qtbot.waitUntil(lambda: window.worker.session is not session and picker.wrong("train") is None
                    and picker.wrong("test") is not None, timeout=20000)
    assert picker.next_wrong.text() == "Find misclassified"
    picker.select("test", 0)
    worker_settled(window, qtbot)
    new = window.worker.session
    wrong_new = np.flatnonzero(np.asarray(new.dataset.classes)[evaluate(
        new.network, new.dataset.test, new.loss).predictions] != new.dataset.test.labels)
    assert picker.next_wrong.text() == (f"Next misclassified ({wrong_new.size})" if wrong_new.size
                                        else "None misclassified")


def epoch(n, accuracy):
    return EpochRecord(n, 5, 0.1 / n, 0.12 / n, accuracy, 1.0, np.zeros(0, int))


def test_accuracy_near_100_percent_is_shown_as_error_on_a_log_axis_with_readouts(window, qtbot):
    view = window.loss_view
    view.add_records([epoch(1, 0.97), epoch(2, 0.99), epoch(3, 0.995)])
    x, y = view.error_curve.getData()
    np.testing.assert_allclose(10 ** y, [3.0, 1.0, 0.5])   # the curve holds log10 of what it shows
    assert view.error_plot.getAxis("left").logMode
    # 3% → 0.5% spans most of the axis's height (on 0–100 it was a flat line at the top)
    view.error_plot.enableAutoRange()
    view.error_plot.vb.updateAutoRange()
    low, high = view.error_plot.vb.viewRange()[1]
    assert high - low < 1.5 and low <= math.log10(0.5) and high >= math.log10(3.0)
    assert view.readouts[1].text_at(2.1) == "epoch 2.10: test error 1.00% · accuracy 99.00%"
    assert "epoch test 0.06" in view.readouts[0].text_at(2.0)


def test_the_wheel_zooms_the_error_axis_too(window, qtbot):
    view = window.loss_view
    view.add_records([epoch(1, 0.97), epoch(2, 0.99), epoch(3, 0.995)])
    reveal(view)
    QApplication.processEvents()
    box = view.error_plot.vb
    before_y, before_x = box.viewRange()[1], view.plot.vb.viewRange()[0]
    centre = view.graphics.mapFromScene(box.sceneBoundingRect().center())
    event = QWheelEvent(QPointF(centre), QPointF(view.graphics.mapToGlobal(centre)), QPoint(0, 0), QPoint(0, 240),
                        Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(view.graphics.viewport(), event)
    after_y, after_x = box.viewRange()[1], view.plot.vb.viewRange()[0]
    assert after_y[1] - after_y[0] < before_y[1] - before_y[0]        # the error axis zoomed in
    assert after_x[1] - after_x[0] < before_x[1] - before_x[0]        # and the loss plot followed in x


def test_log_axis_labels_never_crowd(qapp):  # an AxisItem needs a QApplication
    axis = LogAxis("left")
    decade = [math.log10(v) for v in (0.02, 0.03, 0.05, 0.08, 0.09, 0.1, 0.2, 0.3)]
    assert axis.logTickStrings(decade, 1, 1) == ["0.02", "", "0.05", "", "", "0.1", "0.2", ""]
    wide = [math.log10(v) for v in (0.001, 0.002, 0.005, 0.01, 0.1, 0.5, 1)]
    assert axis.logTickStrings(wide, 1, 1) == ["0.001", "", "", "0.01", "0.1", "", "1"]


def test_the_input_gradient_map_is_large_enough_at_1280_by_720(window, qtbot):
    """The views' own layout in the Inspect workspace."""
    window.resize(1280, 720)
    window.show_workspace("inspect")
    choose_layer(window, qtbot, 0)
    qtbot.waitUntil(lambda: window.gradients_view.input_plot.cells is not None)
    QApplication.processEvents()
    image = window.gradients_view.input_plot.image
    rect = window.gradients_view.graphics.mapFromScene(image.mapRectToScene(image.boundingRect())).boundingRect()
    # At least two screen pixels per input pixel (it was ~40 px, 1.4 a pixel, when the loss plot was above)
    assert min(rect.width(), rect.height()) >= 2 * 28


def test_health_records_reach_the_health_view(window, qtbot):
    reveal(window.health_view)
    with qtbot.waitSignal(window.training_finished, timeout=60000):
        window.start()
    view = window.health_view
    qtbot.waitUntil(lambda: all(series.history.count > 0 for series in view.ratios.values()))
    assert all(0 <= y <= 100 for series in view.activations.values() for y in series.history.data()[1])
    x, norms = view.norms["0.kernels"].history.data()
    assert len(x) == 40 and np.all(norms > 0)        # every step's norm
    assert view.norms_plot.titleLabel.text == "Gradient norm ‖∂E/∂θ‖ per step"
    np.testing.assert_allclose(10 ** view.norms["0.kernels"].curve.getData()[1], norms)
    assert view.readout.text() == HINT
    # an opened run brings its norms only: the hint says why the two plots below them are empty (opened in
    # place of a fresh network: the run's own network, still shown, keeps the ratios it was measured with)
    folder = str(window.worker.run_folder)
    window.reset()
    qtbot.waitUntil(lambda: window.worker.run_folder is None and not view.norms["0.kernels"].history.count,
                    timeout=20000)
    with qtbot.waitSignal(window.worker.history, timeout=30000):
        window.open_run(folder)
    qtbot.waitUntil(lambda: view.norms["0.kernels"].history.count == 40, timeout=10000)
    assert not any(series.history.count for series in (*view.ratios.values(), *view.activations.values()))
    assert view.readout.text() == f"{HINT} {NOT_RECORDED}"
    view._show("0.kernels at epoch 1.00: 0.123")    # a value read under the pointer: a redraw leaves it
    view.redraw()
    assert view.readout.text() == "0.kernels at epoch 1.00: 0.123"


def test_one_units_template_in_a_near_square_grid_of_its_channels():
    from app.model.layer_cells import dense_cells, unit_cells
    weights = np.arange(100 * 3380, dtype=float).reshape(100, 3380)
    templates = dense_cells("W", weights, (5, 26, 26), tuple(f"unit {u}" for u in range(100)))
    one = unit_cells(templates, 99)
    assert one.cells.shape == (2, 3, 26, 26)          # 5 channels: 2 rows of 3, the sixth cell empty
    np.testing.assert_array_equal(one.cells.reshape(6, 26, 26)[:5], weights[99].reshape(5, 26, 26))
    assert np.isnan(one.cells[1, 2]).all() and one.describe(1, 2, 0, 0) == ""
    assert one.describe(1, 1, 0, 1) == templates.describe(99, 4, 0, 1)


def test_a_narrow_layer_picker_shows_its_titles_start_and_an_ellipsis(window, qtbot):
    combo = window.layer_combo
    qtbot.waitUntil(lambda: combo.count() == 7, timeout=20000)
    title = combo.currentText()
    combo.setMaximumWidth(10_000)
    combo.resize(combo.sizeHint())
    assert title.startswith("0 · Convolutional") and combo.shown_text() == title   # room enough: whole
    combo.setMaximumWidth(120)    # as ComboRoom narrows it beside the tab names at 1024×768
    combo.resize(120, combo.height())
    shown = combo.shown_text()
    assert shown.endswith("…") and title.startswith(shown[:-1]) and len(shown) < len(title)
