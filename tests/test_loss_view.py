"""The Loss view fits its panel (legend, x axis, heights) and shows epochs with 0% test error."""
import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from cnn.train import EpochRecord


def epoch(n, accuracy):
    return EpochRecord(n, 5, 0.1 / n, 0.12 / n, accuracy, 1.0, np.zeros(0, int))


def shown(qtbot, width, height):
    from app.studio.views.loss import LossView
    view = LossView()
    qtbot.addWidget(view)
    view.resize(width, height)
    view.show()
    qtbot.waitExposed(view)
    QApplication.processEvents()
    return view


def test_an_epoch_with_no_test_error_is_drawn_at_a_floor_with_its_own_marker(qtbot):
    view = shown(qtbot, 500, 400)
    view.add_records([epoch(1, 0.97), epoch(2, 1.0), epoch(3, 0.995), epoch(4, 1.0)])
    x, y = view.error_curve.getData()
    np.testing.assert_allclose(x, [1, 2, 3, 4])
    np.testing.assert_allclose(10 ** y, [3.0, 0.25, 0.5, 0.25])    # the floor: half of the smallest error, 0.5%
    x, y = view.zero_error_curve.getData()
    np.testing.assert_allclose(x, [2, 4])
    np.testing.assert_allclose(10 ** y, [0.25, 0.25])
    assert view.readouts[1].text_at(2.0) == "epoch 2.00: test error 0.00% · accuracy 100.00%"   # the value as it is
    view.readout.setText(view.readouts[1].text_at(2.0))      # as a hover shows it
    view.clear()                                             # Reset: no read-out of curves that are gone
    assert view.readout.text().startswith("Hover over a plot")


def test_the_plots_and_legend_fit_a_narrow_panel(qtbot):
    """At 1280×720 the panel is ~420 px: the 3-column legend widened the layout and the view box
    went on under the Weights panel (x axis cut before its last epochs, the legend at "epoch trai")."""
    view = shown(qtbot, 900, 330)
    view.resize(420, 330)         # narrowed, as the splitter does
    view.set_epochs(20)
    qtbot.waitUntil(lambda: view.graphics.width() == 420)
    QApplication.processEvents()
    width = view.graphics.width()
    labels = [label for _, label in view.legend.items]
    for item in (view.legend, *labels, view.plot.vb, view.error_plot.vb, view.error_plot.getAxis("bottom")):
        assert view.graphics.mapFromScene(item.sceneBoundingRect()).boundingRect().right() <= width, item
    assert view.plot.vb.height() >= 55 and view.error_plot.vb.height() >= 45
    # the panel asks for the height its layout needs: less, and the scene is scaled down with the legend's
    # text (which does not scale) running off the edge
    assert view.graphics.minimumHeight() >= view.graphics.ci.effectiveSizeHint(Qt.MinimumSize).height()


def test_small_losses_keep_the_axis_label_without_a_prefix(qtbot):
    """Losses of 0.05 on a log axis: pyqtgraph's automatic SI prefix labelled it "loss (x0.001)"."""
    view = shown(qtbot, 500, 400)
    view.add_records([EpochRecord(n, 5, 0.06 / n, 0.05 / n, 0.99, 1.0, np.zeros(0, int)) for n in (1, 2, 3)])
    QApplication.processEvents()
    for plot in (view.plot, view.error_plot):
        label = plot.getAxis("left").labelString()
        assert "(x" not in label, label


def test_an_opened_runs_interrupted_epoch_is_within_the_x_axis(qtbot):
    """A run stopped at step 3 of 4 of epoch 2: its curves hold those steps, and the axis shows them
    (it ended at epoch 1.0, the last whole epoch, until Start)."""
    from app.model.run_curves import RunCurves
    from cnn.train import StepRecord
    view = shown(qtbot, 500, 400)
    curves = RunCurves()
    curves.add([*(StepRecord(1, s, 4, s, 1, 0.5, {}) for s in range(1, 5)), epoch(1, 0.9),
                *(StepRecord(2, s, 4, 4 + s, 1, 0.4, {}) for s in range(1, 4))])
    view.show_history(curves)
    assert view.steps.data()[0].max() == 1.75
    assert view.plot.viewRange()[0][1] >= 1.75


def labelled_ticks(axis) -> list[str]:
    """The tick labels `axis` draws now, as pyqtgraph's AxisItem asks for them (values, then strings)."""
    low, high = sorted(axis.range)
    size = axis.height() if axis.orientation in ("left", "right") else axis.width()
    labels = {}     # by position: a tick of two levels is drawn once
    for spacing, values in axis.tickValues(low, high, size):
        strings = axis.tickStrings(values, axis.autoSIPrefixScale * axis.scale, spacing)
        labels.update({round(value, 9): text for value, text in zip(values, strings, strict=True) if text})
    return list(labels.values())


def test_the_test_error_axis_labels_at_least_two_ticks_whatever_its_range(qtbot):
    """Test errors of 1.9% and 1.2% (2 digits epochs): the log axis had no labelled tick at all."""
    view = shown(qtbot, 500, 400)
    for errors in ((1.9, 1.2), (1.5, 1.45), (60, 40), (9, 0.3), (0.9, 0.2), (100, 0.001)):
        view.clear()
        view.add_records([epoch(n, 1 - error / 100) for n, error in enumerate(errors, start=1)])
        view.error_plot.autoRange()
        QApplication.processEvents()
        axis = view.error_plot.getAxis("left")
        labels = labelled_ticks(axis)
        assert len(labels) >= 2, (errors, labels, axis.range)
        assert len(set(labels)) == len(labels), (errors, labels)      # distinct: no "1.2 1.2"


def test_a_frame_of_records_is_painted_once(qtbot):
    """pyqtgraph's auto range moved while painting, which moved the axes and asked for a second paint of the
    plot at every frame of a run; the ranges on whole decades (DecadeRange) are set with the data."""
    import math

    from PySide6.QtCore import QEvent, QObject

    from cnn.train import StepRecord

    class Paints(QObject):
        count = 0

        def eventFilter(self, watched, event):
            if event.type() == QEvent.Paint:
                self.count += 1
            return False

    view = shown(qtbot, 360, 620)
    view.show_run(0, 5)
    paints = Paints()
    view.graphics.viewport().installEventFilter(paints)
    counts, step = [], 0
    for n in range(1, 6):
        steps = []
        for _ in range(100):
            step += 1
            steps.append(StepRecord(n, step - 100 * (n - 1), 100, step, 1, 0.3 + (0.1 + n / 50) * math.sin(step), {}))
        paints.count = 0
        view.add_records((*steps, EpochRecord(n, 5, 0.2, 0.25, 0.95, 1.0, np.zeros(0, int))))
        qtbot.waitUntil(lambda: paints.count > 0)       # the frame's paint
        for _ in range(5):                              # and whatever it asks for after
            QApplication.processEvents()
        counts.append(paints.count)
    assert counts[1:] == [1] * 4, counts    # (the first lays the axes out for their tick labels)


def test_the_loss_axes_keep_to_whole_decades_until_the_user_zooms(qtbot):
    """The y ranges follow the curves by whole decades (an axis that moved at every frame was laid out and
    drawn anew each time); a zoom by hand keeps the user's range, the plot's auto-range button gives it back."""
    view = shown(qtbot, 500, 400)
    plot, error = view.plot, view.error_plot

    def decades(item):
        low, high = item.vb.viewRange()[1]
        return round(low + 0.02 * (high - low) / 1.04, 6), round(high - 0.02 * (high - low) / 1.04, 6)

    view.add_records([epoch(1, 0.97)])                  # losses 0.1 and 0.12, error 3%
    assert decades(plot) == (-1, 0) and decades(error) == (0, 1)
    moved = []
    plot.vb.sigYRangeChanged.connect(lambda *_: moved.append(1))
    view.add_records([epoch(2, 0.98)])                  # 0.05 and 0.06: a decade lower, 2% error: the same
    assert decades(plot) == (-2, 0) and decades(error) == (0, 1) and len(moved) == 1
    view.add_records([epoch(3, 0.985)])                 # 0.033, 0.04, 1.5%: within them, nothing moves
    assert len(moved) == 1
    plot.vb.scaleBy(y=0.5)                              # as the wheel does, which then says so:
    plot.vb.sigRangeChangedManually.emit([False, True])
    zoomed = plot.vb.viewRange()[1]
    view.add_records([epoch(40, 0.99)])                 # 0.0025: the user's range stays
    assert plot.vb.viewRange()[1] == zoomed
    plot.autoBtnClicked()                               # the "A" button: the decades again at the next frame
    view.add_records([epoch(41, 0.99)])
    assert decades(plot) == (-3, 0)
    plot.vb.scaleBy(y=0.5)
    plot.vb.sigRangeChangedManually.emit([False, True])
    view.show_run(41, 60)                               # a run goes on: x takes its length, y fits again
    assert decades(plot) == (-3, 0)
    view.clear()                                        # a new network: one decade until its curves come
    assert decades(plot) == (-1, 0) and decades(error) == (0, 2)
    view.add_records([epoch(1, 0.5)])
    assert decades(plot) == (-1, 0) and decades(error) == (1, 2)


def test_the_steps_mean_is_drawn_a_point_a_pixel_and_finer_when_zoomed(qtbot):
    """Its 2-pixel pen over every one of 4,000 steps took half of the view's paint; a point a pixel draws the
    same smooth line. Zoomed in, the points come back (pyqtgraph downsamples for the range shown)."""
    from cnn.train import StepRecord

    view = shown(qtbot, 500, 400)
    view.show_run(0, 20)
    steps = [StepRecord(1 + i // 200, 1 + i % 200, 200, i + 1, 1, 0.5 + 0.1 * np.sin(i / 30), {}) for i in range(4000)]
    view.add_records(steps)
    QApplication.processEvents()
    width = view.plot.vb.width()
    x, y = view.average_curve.getData()
    assert len(x) <= 1.5 * width and len(view.step_curve.getData()[0]) > 2 * width   # the raw steps keep five
    assert x[-1] > 20 - 0.2 and x[0] < 0.2                                             # the whole run is drawn
    view.plot.setXRange(10, 11, padding=0)                                            # 200 steps across the width
    QApplication.processEvents()
    x, _ = view.average_curve.getData()
    assert np.count_nonzero((x >= 10) & (x <= 11)) >= 150


def test_the_legend_shows_each_markers_colour_before_and_after_a_run(window, qtbot):
    """The legend's samples take a curve's marker style from its points: before the first epoch they showed
    pyqtgraph's default grey-purple, and after a run until something else repainted the legend."""
    from PySide6.QtGui import QColor

    window.show_workspace("train")
    view = window.loss_view

    def legend_shows_the_curves_colours():
        for _ in range(5):
            QApplication.processEvents()
        # what the screen shows (the window's backing store), not a fresh rendering as QWidget.grab makes
        picture = window.screen().grabWindow(window.winId()).toImage()
        ratio = picture.devicePixelRatio()
        for curve, colour in ((view.train_curve, (31, 119, 180)), (view.test_curve, (255, 127, 14)),
                              (view.error_curve, (44, 160, 44)), (view.zero_error_curve, (214, 39, 40))):
            [sample] = [item for item, label in view.legend.items if item.item is curve]
            at = view.graphics.mapFromScene(sample.mapToScene(sample.boundingRect().center()))
            centre = view.graphics.mapTo(window, at)
            found = QColor(picture.pixel(int(centre.x() * ratio), int(centre.y() * ratio)))
            assert sum(abs(a - b) for a, b in zip(found.getRgb()[:3], colour, strict=True)) < 60, \
                (found.getRgb(), colour)

    legend_shows_the_curves_colours()             # before any run
    finished = []
    window.training_finished.connect(lambda: finished.append(True))
    window.start()
    qtbot.waitUntil(lambda: bool(finished), timeout=60000)
    legend_shows_the_curves_colours()             # and after one


def test_the_plots_keep_their_left_edge_as_the_loss_falls_decades(qtbot):
    """The y axis widened with its labels (0.1, 0.01, 0.001, 1e-05): the plots moved sideways three times a
    run, each time laid out anew (a review's finding)."""
    from cnn.train import StepRecord
    view = shown(qtbot, 500, 400)
    view.show_run(0, 5)
    edges = lambda: (view.plot.vb.sceneBoundingRect().left(), view.error_plot.vb.sceneBoundingRect().left())  # noqa: E731
    before = edges()
    for n, loss in enumerate((2.0, 0.05, 0.003, 0.0002, 0.00001), start=1):
        view.add_records([StepRecord(n, 1, 1, n, 1, loss, {}),
                          EpochRecord(n, 5, loss, loss, 1 - loss / 10, 1.0, np.zeros(0, int))])
        for _ in range(3):
            QApplication.processEvents()
        assert edges() == before, (n, loss)
