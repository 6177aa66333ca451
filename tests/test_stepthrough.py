"""The step-through: its steps and hover arithmetic (Qt-free), and the window driven with pytest-qt."""
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.model.step_explain import input_window, kernel_gradient_region, window_products
from app.model.steps import build_steps
from app.model.mosaic_layout import index_at, layout_of
from app.stepthrough.array_panel import mosaic_of
from cnn import SGD, Network, trace
from cnn.gradcheck import check_network_gradients
from cnn.losses import LOSSES
from cnn.presets import digits_network, original_network
from cnn.session import loss_for

BCE = LOSSES["binary_cross_entropy"]


@pytest.fixture
def traced(small_dataset):
    network = original_network(seed=3)
    return network, trace(network, small_dataset.test.x[5:6], small_dataset.test.y[5:6], BCE, SGD(0.1))


# -- the steps, without Qt -------------------------------------------------------------------------
def test_steps_go_forward_loss_backward_then_update(traced):
    network, t = traced
    steps = build_steps(t, network)
    phases = [(s.phase, s.layer) for s in steps]
    n = len(network.layers)
    assert phases == ([("forward", i) for i in range(n)] + [("loss", None), ("loss gradient", None)]
                      + [("backward", i) for i in reversed(range(n))] + [("update", 0), ("update", 3), ("update", 5)])
    assert all(s.formula and "\\" not in s.formula for s in steps)  # rich text, never LaTeX source
    assert "Y</i><sub>i</sub> = <i>B</i><sub>i</sub> + Σ<sub>j</sub>" in steps[0].formula
    assert f"{t.loss:.10g}" in steps[n].explanation


def test_convolution_terms_sum_with_the_bias_to_the_output(traced):
    network, t = traced
    forward = build_steps(t, network)[0]
    panels = {p.key: p.array for p in forward.panels}
    assert [p.key for p in forward.panels] == ["X", "K", "terms", "B", "Y"]
    assert panels["terms"].shape == (5, 1, 26, 26)
    np.testing.assert_allclose(panels["terms"].sum(axis=1) + panels["B"], panels["Y"], rtol=0, atol=1e-12)


def test_update_step_shows_weights_step_and_result(traced):
    network, t = traced
    update = [s for s in build_steps(t, network) if s.phase == "update" and s.layer == 3][0]
    panels = {p.key: p.array for p in update.panels}
    np.testing.assert_array_equal(panels["W"], network.params["3.weights"])
    np.testing.assert_array_equal(panels["step W"], -0.1 * t.layers[3].grads["weights"])
    np.testing.assert_array_equal(panels["new W"], panels["W"] + panels["step W"])


def test_steps_cover_the_digits_network(small_dataset):
    network = digits_network(2, seed=1, dtype="float64")
    t = trace(network, small_dataset.test.x[:1], small_dataset.test.y[:1], loss_for(network), SGD(0.05))
    steps = build_steps(t, network)
    kinds = {s.title.split(" · ")[-1] for s in steps}
    assert {"Convolutional", "ReLU", "MaxPool2D", "Reshape", "Dense"} <= kinds
    second_conv = steps[3]
    assert {p.key: p.array.shape for p in second_conv.panels}["terms"] == (16, 8, 11, 11)
    loss_gradient = [s for s in steps if s.phase == "loss gradient"][0]
    probabilities = {p.key: p.array for p in loss_gradient.panels}
    np.testing.assert_allclose(probabilities["p"] - probabilities["target"], probabilities["dY"], atol=1e-15)


@pytest.mark.parametrize("row, col", [(0, 0), (0, 25), (25, 0), (25, 25), (13, 7)])
def test_an_output_pixel_maps_to_its_input_window_at_the_borders(traced, row, col):
    _, t = traced
    layer = t.layers[0]
    rows, cols = input_window(row, col, 3)
    assert (rows.start, rows.stop, cols.start, cols.stop) == (row, row + 3, col, col + 3)
    assert rows.stop <= 28 and cols.stop <= 28
    x, kernels, biases = layer.input[0], layer.params["kernels"], layer.params["biases"]
    for i in range(5):
        products = window_products(x, kernels, i, row, col)
        assert products.shape == (1, 3, 3)
        assert products.sum() + biases[i, row, col] == pytest.approx(layer.output[0][i, row, col], abs=1e-12)


@pytest.mark.parametrize("a, b", [(0, 0), (0, 2), (2, 0), (2, 2), (1, 1)])
def test_a_kernel_gradient_entry_maps_to_its_input_region(traced, a, b):
    _, t = traced
    layer = t.layers[0]
    rows, cols = kernel_gradient_region(a, b, (26, 26))
    assert (rows.start, rows.stop, cols.start, cols.stop) == (a, a + 26, b, b + 26)
    dy = layer.output_gradient[0]
    for i in range(5):
        total = np.sum(layer.input[0][0, rows, cols] * dy[i])
        assert total == pytest.approx(layer.grads["kernels"][i, 0, a, b], abs=1e-12)


@pytest.mark.parametrize("shape", [(5, 1, 3, 3), (16, 8, 3, 3), (5, 26, 26), (16, 5, 5), (100, 3380), (3380,), (100,)])
def test_every_array_entry_is_found_where_the_mosaic_draws_it(shape):
    array = np.arange(np.prod(shape), dtype=float).reshape(shape)
    image = mosaic_of(array)
    (h, w), columns, count = layout_of(shape)
    seen = 0
    for y in range(image.shape[0]):
        for x in range(image.shape[1]):
            c, py = divmod(y, h + 1)
            r_, px = divmod(x, w + 1)
            if px >= w or py >= h:
                assert np.isnan(image[y, x])  # the gaps between maps
                continue
            index = index_at(shape, c * columns + r_, py, px)
            if index is None:
                assert np.isnan(image[y, x])  # a wrapped vector's padding
                continue
            assert image[y, x] == array[index]
            seen += 1
    assert seen == array.size


# -- the window ---------------------------------------------------------------------------------------
@pytest.fixture
def stepper(window, qtbot):
    window.sample_picker.select("test", 3)
    window.step_through()
    qtbot.waitUntil(lambda: window.step_window is not None and window.step_window.isVisible(), timeout=10000)
    return window.step_window


def stepper_copy(stepper) -> Network:
    """The network of the weights the step-through was sent (the model's: tests/test_studio_model_runs.py)."""
    weights = stepper.weights
    network = Network.from_architecture(list(weights.architecture), weights.dtype)
    network.set_params(weights.params)
    return network


def accuracy_of(stepper, model) -> float:
    """The test accuracy of the step-through's weights, on the model's test images."""
    scores = stepper_copy(stepper).predict(model.images["test"][:, None])
    return float(np.mean(np.asarray(model.classes)[scores.argmax(axis=1)] == model.labels["test"]))


@pytest.mark.slow
def test_the_keyboard_walks_every_step_forward_and_back(stepper, qtbot):
    count = len(stepper.steps)
    assert count == 19 and stepper.current == 0
    for n in range(1, count):
        QTest.keyClick(stepper, Qt.Key_Right)
        assert stepper.current == n
        step = stepper.steps[n]
        visible = [p for p in stepper.panels if p.isVisible()]
        assert [p.key for p in visible] == [p.key for p in step.panels]
        assert stepper.formula.text() == step.formula
    QTest.keyClick(stepper, Qt.Key_Right)
    assert stepper.current == count - 1 and not stepper.next_button.isEnabled()
    for n in reversed(range(count - 1)):
        QTest.keyClick(stepper, Qt.Key_Left)
        assert stepper.current == n
    assert not stepper.previous_button.isEnabled()
    stepper.step_list.setCurrentRow(12)  # the list jumps anywhere
    assert stepper.current == 12 and stepper.steps[12].title == "Backward · layer 3 · Dense"
    qtbot.mouseClick(stepper.next_button, Qt.LeftButton)
    assert stepper.current == 13


def test_the_step_through_shows_the_chosen_sample(window, stepper):
    model = window.model    # the model's images are the data set's (tests/test_studio_model_runs.py)
    np.testing.assert_array_equal(stepper.trace.x[0, 0], model.images["test"][3])
    assert f"test image #3</b> · label <b>{model.labels['test'][3]}" in stepper.header.text()
    window.sample_picker.select("train", 7)  # the window follows the sample picker
    np.testing.assert_array_equal(stepper.trace.x[0, 0], model.images["train"][7])


def test_hovering_an_output_pixel_outlines_its_window_and_kernel(stepper):
    stepper.show_step(0)
    y = stepper.panel("Y").array
    stepper.hover("Y", (2, 25, 0))
    (window_rect,) = [item.rect() for item in stepper.panel("X")._highlights]
    assert (window_rect.x(), window_rect.y(), window_rect.width(), window_rect.height()) == (0, 25, 3, 3)
    (kernel_rect,) = [item.rect() for item in stepper.panel("K")._highlights]
    assert (kernel_rect.x(), kernel_rect.y(), kernel_rect.width()) == (2 * 4, 0, 3)  # the third kernel
    assert f"{y[2, 25, 0]:+.10g}" in stepper.readout.text()
    assert stepper.readout.text().count("×") == 9  # the nine products
    stepper.hover("Y", None)
    assert not stepper.panel("X")._highlights


@pytest.mark.slow
def test_hovering_a_kernel_gradient_outlines_the_region_it_sums(stepper):
    stepper.show_step([s.title for s in stepper.steps].index("Backward · layer 0 · Convolutional"))
    stepper.hover("dK", (1, 0, 2, 1))
    (region,) = [item.rect() for item in stepper.panel("X")._highlights]
    assert (region.x(), region.y(), region.width(), region.height()) == (1, 2, 26, 26)
    assert f"{stepper.panel('dK').array[1, 0, 2, 1]:+.10g}" in stepper.readout.text()


@pytest.mark.smoke
def test_applying_the_update_takes_one_engine_step_and_moves_the_loss(window, stepper, qtbot):
    # the engine's step, by hand, and the loss it moves: tests/test_studio_model_runs.py
    loss_before = stepper.trace.loss
    shown = dict(stepper.trace.new_params)
    version = stepper.weights.version
    qtbot.mouseClick(stepper.apply_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: stepper.weights.version != version, timeout=10000)
    for name, value in stepper.weights.params.items():   # the model's weights after the step, sent back
        np.testing.assert_array_equal(shown[name], value)  # are what the update steps showed as "after"
    loss_after = stepper.loss.value(stepper.trace.y_true, stepper_copy(stepper).forward(stepper.trace.x))
    assert loss_after < loss_before
    assert stepper.trace.loss == loss_after
    assert f"moved <i>E</i> from {loss_before:.8g} to {loss_after:.8g}" in stepper.header.text()
    assert stepper.apply_button.isEnabled()
    # the network is no longer the new one it was: the summary says what changed it
    qtbot.waitUntil(lambda: "(network (seed 0), 1 step-through update;" in window.model_label.text(), timeout=10000)
    assert "new network" not in window.model_label.text()


def test_with_momentum_the_update_says_so(window, stepper, qtbot):
    # the weights and velocity it moves, by hand: tests/test_studio_model_runs.py
    window.settings_panel.momentum.setValue(0.9)
    window.reset()
    qtbot.waitUntil(lambda: stepper.weights.momentum == 0.9, timeout=10000)
    assert "momentum μ = 0.9" in [s for s in stepper.steps if s.phase == "update"][0].explanation
    version = stepper.weights.version
    qtbot.mouseClick(stepper.apply_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: stepper.weights.version != version, timeout=10000)
    assert "μ = 0.9" in window.statusBar().currentMessage()


@pytest.mark.smoke
def test_editing_a_kernel_recomputes_at_once_and_closing_changes_nothing(window, stepper, qtbot):
    before = stepper.weights.params     # the model's weights are not changed by edits: tests/test_studio_model_runs.py
    loss_before = stepper.trace.loss
    stepper._clicked("K", (2, 0, 1, 1))  # a click on a kernel value selects it for typing
    assert (stepper.editor.kernel.value(), stepper.editor.channel.value()) == (2, 0)
    assert stepper.editor.table.currentItem() is stepper.editor.table.item(1, 1)
    stepper.editor.table.item(1, 1).setText("2.5")
    edited = stepper_copy(stepper)
    edited.layers[0].params["kernels"][2, 0, 1, 1] = 2.5
    x, y = stepper.trace.x, stepper.trace.y_true
    assert stepper.trace.loss == stepper.loss.value(y, edited.forward(x)) != loss_before
    np.testing.assert_array_equal(stepper.trace.layers[0].output, edited.outputs[0])
    assert "kernels edited" in stepper.header.text()
    for nonsense in ("abc", "nan", "-inf"):  # refused with a message
        stepper.editor.table.item(0, 0).setText(nonsense)
        assert f"“{nonsense}” is not a finite number" in stepper.status.text()
    assert stepper.network.params["0.kernels"][2, 0, 0, 0] == before["0.kernels"][2, 0, 0, 0]
    assert stepper.editor.table.item(0, 0).text() == f"{before['0.kernels'][2, 0, 0, 0]:.6g}"
    stepper.close()
    window.step_through()  # reopening shows the model's weights again, unedited
    qtbot.waitUntil(lambda: stepper.isVisible(), timeout=10000)
    assert stepper.trace.loss == loss_before and "edited" not in stepper.header.text()


@pytest.mark.slow
def test_reset_edits_returns_to_the_models_weights(stepper):
    loss = stepper.trace.loss
    stepper.editor.table.item(0, 2).setText("-3")
    assert stepper.trace.loss != loss
    stepper.reset_edits()
    assert stepper.trace.loss == loss and not stepper.edited


@pytest.mark.slow
def test_check_gradients_colours_every_tensor(window, stepper, qtbot):
    qtbot.mouseClick(stepper.checker.button, Qt.LeftButton)
    names = list(window.model.parameter_names)
    qtbot.waitUntil(lambda: stepper.checker.table.rowCount() == len(names), timeout=30000)
    assert [stepper.checker.table.item(r, 0).text() for r in range(len(names))] == names
    errors = [float(stepper.checker.table.item(r, 2).text()) for r in range(len(names))]
    assert max(errors) < 1e-6
    assert all(stepper.checker.table.item(r, 2).background().color().name() == "#c7e9c0" for r in range(len(names)))
    # the same numbers as the engine's check (a float64 copy, the same sampled entries)
    direct = check_network_gradients(stepper_copy(stepper), stepper.trace.x, stepper.trace.y_true,
                                     stepper.loss, max_entries=2000, through_outputs=True)
    assert errors == [float(f"{c.relative_error:.2e}") for c in direct.values()]


@pytest.mark.slow
def test_a_kernel_edit_makes_a_running_check_stale(stepper, qtbot):
    qtbot.mouseClick(stepper.checker.button, Qt.LeftButton)
    stepper.editor.table.item(0, 0).setText("1")  # cancels the check: its numbers would be for other weights
    assert stepper.checker.table.rowCount() == 0 and stepper.checker.button.isEnabled()


@pytest.mark.slow
def test_training_makes_the_window_stale_and_a_pause_reloads_it(window, stepper, qtbot):
    version = stepper.weights.version
    window.settings_panel.epochs.setValue(10000)  # a run that cannot end before the pause below
    window.start()
    qtbot.waitUntil(lambda: window.state == "running", timeout=10000)
    assert not stepper.apply_button.isEnabled() and "out of date" in stepper.status.text()
    window.toggle_pause()
    qtbot.waitUntil(lambda: stepper.weights.version != version and stepper.apply_button.isEnabled(), timeout=10000)
    assert stepper.weights.version == window.worker.studio.version   # the weights it reloaded are the model's now


def test_an_update_from_old_weights_is_refused(window, stepper, qtbot):
    # the weights left alone: tests/test_studio_model_runs.py
    before = stepper.weights.params
    window.send("apply_weights", stepper.weights.version - 1, {k: v + 1 for k, v in before.items()})
    qtbot.waitUntil(lambda: "not applied" in window.banner.text.text(), timeout=10000)


@pytest.mark.slow
def test_step_through_command_saves_its_picture(tmp_path):
    """`cnn-studio --train --epochs 1 --step-through --exit-when-done --screenshot PATH`: the docs' picture."""
    import os
    import subprocess
    import sys

    from PySide6.QtGui import QImage
    shot = tmp_path / "step.png"
    result = subprocess.run([sys.executable, "-m", "app", "--train", "--epochs", "1", "--step-through",
                             "--exit-when-done", "--screenshot", str(shot), "--settings", str(tmp_path / "s.ini")],
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1500, 940)


@pytest.mark.slow
def test_the_step_through_window_remembers_its_size(window, stepper, qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from app.studio.window import MainWindow
    stepper.resize(1234, 777)
    window.close()
    again = MainWindow(QSettings(window.settings.fileName(), QSettings.IniFormat))
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: again.model is not None, timeout=10000)
    again.step_through()
    qtbot.waitUntil(lambda: again.step_window is not None and again.step_window.isVisible(), timeout=10000)
    # (offscreen, the saved geometry is fitted to an 800×600 screen, so only "not the default" can be asserted)
    assert window.settings.value("stepthrough/geometry") is not None
    assert (again.step_window.width(), again.step_window.height()) != (1500, 940)
    again.close()


# -- issue 13: the step-through, readable on the ten-digit network ----------------------------------------
def test_an_applied_update_says_what_it_did_to_the_test_accuracy_and_stays_with_its_sample(window, stepper, qtbot):
    before = accuracy_of(stepper, window.model)    # the model's numbers: tests/test_studio_model_runs.py
    version = stepper.weights.version
    qtbot.mouseClick(stepper.apply_button, Qt.LeftButton)
    assert "Applying the update" in stepper.status.text()
    qtbot.waitUntil(lambda: stepper.weights.version != version, timeout=10000)
    after = accuracy_of(stepper, window.model)
    qtbot.waitUntil(lambda: "→" in stepper.status.text(), timeout=10000)
    assert "Applying" not in stepper.status.text()
    assert f"{100 * before:.2f}% → {100 * after:.2f}%" in stepper.status.text()
    assert "the applied update moved" in stepper.header.text()
    window.sample_picker.select("test", 5)                 # another sample: its header knows of no update
    assert "test image #5" in stepper.header.text() and "the applied update moved" not in stepper.header.text()


@pytest.fixture
def digits_stepper(qtbot, raw_mnist):
    from app.stepthrough.window import StepThroughWindow
    from app.model.model_info import model_info
    from app.model.snapshot import weights_of
    from cnn.config import RunConfig
    from cnn.session import Session
    session = Session(RunConfig.from_preset("digits", limit=7, batch_size=64), raw_mnist)
    from PySide6.QtCore import QCoreApplication, QEvent
    dialog = StepThroughWindow()
    dialog.resize(1500, 940)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.load(weights_of(session, 0), model_info(session, "test"), ("test", 0))
    yield dialog
    dialog.close()
    dialog.deleteLater()   # destroyed by Qt now, in its order, not later by Python's garbage collector
    QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)


def test_the_second_convolution_is_shown_one_output_map_at_a_time_with_labels(digits_stepper):
    stepper = digits_stepper
    stepper.show_step([s.title for s in stepper.steps].index("Forward · layer 3 · Convolutional"))
    kernels, terms = stepper.panel("K"), stepper.panel("terms")
    assert kernels.array.shape == (16, 8, 3, 3) and terms.array.shape == (16, 8, 11, 11)
    for panel in (kernels, terms):
        assert panel.sliced and panel.row_choice.isVisible() and panel.drawn.shape[0] == 8
        assert [label.toPlainText() for label in panel._labels] == [f"j={j}" for j in range(8)] + ["i=0"]
        assert "row i (output map, 16), column j (input channel, 8)" in panel.title.text()
    stepper.hover("Y", (5, 4, 6))                            # a pixel of map 5: its kernels turn to i = 5
    assert kernels.row == 5 and terms.row == 5
    assert len(kernels._highlights) == 8                      # K_5j for every input channel j
    first = stepper.panel("X")
    assert first.array.shape == (8, 13, 13) and [label.toPlainText() for label in first._labels] == \
        [str(j) for j in range(8)]


def test_long_vectors_are_drawn_as_bars_with_their_index(digits_stepper, qtbot):
    stepper = digits_stepper
    stepper.show_step([s.title for s in stepper.steps].index("Forward · layer 6 · Reshape"))
    vector = stepper.panel("Y")
    assert vector.array.shape == (400,) and vector.stack.currentWidget() is vector.bars
    heights = vector.bar_item.opts["height"]
    np.testing.assert_array_equal(heights, vector.array.astype(np.float64))
    assert "one bar per entry" in vector.title.text()


def test_the_hover_read_out_keeps_its_place(digits_stepper):
    stepper = digits_stepper
    stepper.show_step([s.title for s in stepper.steps].index("Forward · layer 3 · Convolutional"))
    geometry = [panel.geometry() for panel in stepper.panels]
    stepper.hover("Y", (2, 3, 3))
    assert "×" in stepper.readout.text() and stepper.readout.text().count("<table border='1'") == 2
    assert [panel.geometry() for panel in stepper.panels] == geometry
    assert stepper.readout_area.height() == stepper.readout_area.maximumHeight()


def test_printed_numbers_keep_index_and_value_apart_and_their_precision(digits_stepper):
    from app.model.step_explain import number_text
    assert number_text(-0.0) == "0" and number_text(np.float32(-0.0), np.float32) == "0"
    assert number_text(np.float32(0.1), np.float32) == "+0.1"             # not +0.1000000015
    assert number_text(1 / 3) == "+0.3333333333" and number_text(-2.5e-7) == "-2.5e-07"
    stepper = digits_stepper
    stepper.show_step([s.title for s in stepper.steps].index("Forward · layer 9 · Dense"))
    bias = stepper.panel("B")
    assert bias.array.shape == (10,) and bias.array.dtype == np.float32
    text = bias.numbers.text()
    for n, value in enumerate(bias.array):
        assert f"[{n}]</td><td align='right'><code>{number_text(value, np.float32)}</code>" in text
    assert "-0<" not in text


def test_arrow_keys_move_in_the_kernel_table_not_between_steps(stepper, qtbot):
    stepper.activateWindow()
    stepper.show_step(2)
    table = stepper.editor.table
    table.setFocus()
    qtbot.waitUntil(lambda: table.hasFocus() or stepper.editor.isAncestorOf(QApplication_focus()))
    QTest.keyClick(table, Qt.Key_Right)
    assert stepper.current == 2
    stepper.step_list.setFocus()
    qtbot.waitUntil(stepper.step_list.hasFocus)
    QTest.keyClick(stepper.step_list, Qt.Key_Right)
    assert stepper.current == 3


def QApplication_focus():
    from PySide6.QtWidgets import QApplication
    return QApplication.focusWidget()


def test_reopening_on_new_weights_forgets_the_applied_update_and_an_unchanged_accuracy_is_not_green(
        window, stepper, qtbot):
    version = stepper.weights.version
    qtbot.mouseClick(stepper.apply_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: stepper.weights.version != version, timeout=10000)
    qtbot.waitUntil(lambda: "→" in stepper.status.text(), timeout=10000)
    # the long status wraps in the narrow column; the step list still shows at least 8 steps
    assert stepper.step_list.height() >= 8 * stepper.step_list.sizeHintForRow(0)
    stepper.close()
    window.step_through()  # opened again: the weights read afresh
    qtbot.waitUntil(lambda: stepper.isVisible(), timeout=10000)
    assert stepper.status.text() == "" and stepper.applied is None
    assert "the applied update moved" not in stepper.header.text()
    stepper.applied = {"title": stepper.sample[0], "loss": 1.0}
    stepper.update_applied(0.5, 0.5)
    assert "50.00% → 50.00%" in stepper.status.text()
    assert "#1b7837" not in stepper.status.text() and "#b2182b" not in stepper.status.text()
    stepper.update_applied(0.5, 0.6)
    assert "#1b7837" in stepper.status.text()


@pytest.mark.slow   # the whole studio (or the whole step-through) opened
def test_at_1024_by_768_nothing_in_the_step_through_is_squeezed_below_its_minimum(qtbot, raw_mnist):
    """The studio opens the step-through at 95 % × 92 % of a 1024×768 screen, 972×706. Its left column
    needed ~750 px and its three panels' titles ~800 px beside it: squeezed, the kernel table got a scroll
    bar that cut its values ("-0.0919…"), and the gradient check's note was drawn over its table."""
    from PySide6.QtCore import QCoreApplication, QEvent

    from app.stepthrough.window import StepThroughWindow
    from app.model.model_info import model_info
    from app.model.snapshot import weights_of
    from cnn.config import RunConfig
    from cnn.session import Session
    session = Session(RunConfig.from_preset("digits", limit=7, batch_size=64), raw_mnist)
    dialog = StepThroughWindow()
    qtbot.addWidget(dialog)
    dialog.resize(972, 706)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.load(weights_of(session, 0), model_info(session, "test"), ("test", 0))

    def settled() -> None:   # the layouts' requests (posted events) answered: the geometry a user sees
        for _ in range(3):
            QCoreApplication.sendPostedEvents()
            QCoreApplication.processEvents()

    def fits() -> bool:
        settled()
        dialog.layout().activate()
        needed = dialog.layout().minimumSize()
        return needed.width() <= dialog.width() and needed.height() <= dialog.height()

    for number in [*range(len(dialog.steps)), *reversed(range(len(dialog.steps)))]:   # an earlier step's arrays
        dialog.show_step(number)                                                           # must not stay in the way
        assert fits(), (dialog.steps[number].title, dialog.layout().minimumSize(), dialog.size())
    column = dialog.step_list.parentWidget().parentWidget().parentWidget()   # its scroll area
    settled()
    assert column.verticalScrollBar().maximum() == 0                       # Apply in view without scrolling
    dialog.show_step([s.title for s in dialog.steps].index("Forward · layer 0 · Convolutional"))
    settled()
    for key in ("K", "terms"):                # one label per output map i: side by side, they ran together
        labels = [label.mapRectToScene(label.boundingRect()) for label in dialog.panel(key)._labels]
        assert len(labels) >= 2 and all(not a.intersects(b) for a, b in zip(labels, labels[1:], strict=False)), key
    qtbot.mouseClick(dialog.checker.button, Qt.LeftButton)
    table = dialog.checker.table
    qtbot.waitUntil(lambda: table.rowCount() == len(session.network.params) and bool(dialog.checker.note.text()),
                    timeout=60000)
    assert fits(), (dialog.layout().minimumSize(), dialog.size())
    assert dialog.checker.note.geometry().top() >= table.geometry().bottom()
    settled()
    assert table.verticalScrollBar().maximum() == 0                        # every tensor's row in view
    apply = dialog.apply_button                                             # and Apply, unscrolled, after the check
    assert apply.visibleRegion().boundingRect() == apply.rect()
    assert dialog.rect().contains(apply.mapTo(dialog, apply.rect().bottomRight()))
    kernel = dialog.editor.table
    assert not kernel.verticalScrollBar().isVisible() and not kernel.horizontalScrollBar().isVisible()
    for column in range(kernel.columnCount()):
        assert kernel.horizontalHeader().sectionSize(column) >= kernel.sizeHintForColumn(column)
    dialog.close()
    dialog.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)


BLOCKS = ("conv 4 3x3 stride=2 pad=same bias=kernel, batchnorm, relu, avgpool 2, dropout 0.3, conv 6 3x3 pad=1, "
          "relu, globalavgpool, dense 2")


@pytest.mark.slow
def test_the_new_blocks_step_in_training_mode_and_evaluation_mode_is_a_tick_away(window, qtbot):
    from app.model.state import RunState
    from cnn import arch
    window.edit_architecture()
    window.arch_editor.set_layers(arch.parse(BLOCKS))
    with qtbot.waitSignal(window.worker.finished, timeout=60000):
        window.arch_editor.apply.click()
    qtbot.waitUntil(lambda: window.state is RunState.IDLE, timeout=10000)
    window.sample_picker.select("test", 3)
    window.step_through()
    qtbot.waitUntil(lambda: window.step_window is not None and window.step_window.isVisible()
                    and window.step_window.trace is not None and len(window.step_window.trace.layers) == 9,
                    timeout=10000)
    stepper = window.step_window
    assert stepper.evaluation_box.isVisible() and not stepper.evaluation_box.isChecked()
    assert stepper.trace.training and "<b>training mode</b>" in stepper.header.text()
    assert stepper.apply_button.isEnabled()
    dropout = next(n for n, s in enumerate(stepper.steps) if s.title == "Forward · layer 4 · Dropout")
    stepper.step_list.setCurrentRow(dropout)
    assert "M" in [panel.key for panel in stepper.panels if panel.isVisible()]
    with qtbot.waitSignal(stepper.checker._finished, timeout=60000):
        qtbot.mouseClick(stepper.checker.button, Qt.LeftButton)
    verdicts = [stepper.checker.table.item(row, 3).text() for row in range(stepper.checker.table.rowCount())]
    assert len(verdicts) == len(stepper.network.params)
    assert set(verdicts) <= {"agrees", "agrees within rounding", "agrees: 0 (batchnorm after it)"}
    assert verdicts[1] == "agrees: 0 (batchnorm after it)"   # 0.biases, one per kernel, right before the batchnorm
    stepper.evaluation_box.click()
    assert not stepper.trace.training and "<b>evaluation mode</b>" in stepper.header.text()
    assert not stepper.apply_button.isEnabled() and stepper.checker.table.rowCount() == 0
    assert "M" not in [panel.key for panel in stepper.panels if panel.isVisible()]
    np.testing.assert_array_equal(stepper.trace.layers[4].output, stepper.trace.layers[4].input)   # no dropout
    stepper.evaluation_box.click()
    assert stepper.trace.training and stepper.apply_button.isEnabled()
    shown, version = dict(stepper.trace.new_params), stepper.weights.version
    drawn = int(stepper.weights.buffers["4.generator"][2])
    qtbot.mouseClick(stepper.apply_button, Qt.LeftButton)    # the engine's step: the same mask, the same statistics
    qtbot.waitUntil(lambda: stepper.weights.version != version, timeout=10000)
    for name, value in stepper.weights.params.items():
        np.testing.assert_array_equal(shown[name], value)
    assert stepper.weights.buffers["4.generator"][2] == drawn + 1   # the step drew the mask shown; the next is new
