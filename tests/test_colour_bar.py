"""A grid plot's colour bar reads whole, correct numbers (they were cut: "0.8" as "0", "-10" as "-1")."""
import numpy as np
import pytest
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication


@pytest.mark.parametrize(("levels", "expected"), [((0.0, 1.0), ["0", "0.5", "1"]), ((-10.0, 10.0), ["-10", "0", "10"]),
                                                 ((-5e-05, 5e-05), ["-5e-05", "0", "5e-05"])])
def test_the_colour_bar_labels_fit_its_axis(qtbot, levels, expected):
    import pyqtgraph as pg

    from app.model.layer_cells import Cells
    from app.widgets.grid_plot import GridPlot
    graphics = pg.GraphicsLayoutWidget()
    qtbot.addWidget(graphics)
    grid = GridPlot(graphics.ci, 0, 0)
    cells = Cells(np.linspace(levels[0], levels[1], 2 * 3 * 5 * 5).reshape(2, 3, 5, 5), "row", "col", ("a", "b"),
                  ("x", "y", "z"), lambda *_: "")
    grid.show(cells, levels=levels)
    graphics.resize(220, 160)
    graphics.show()
    qtbot.waitExposed(graphics)
    QApplication.processEvents()
    axis = grid.bar.axis
    image = QImage(10, 10, QImage.Format_ARGB32)
    painter = QPainter(image)
    try:
        _, _, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    drawn = sorted((rect.center().y(), text) for rect, _, text in texts)
    assert [text for _, text in drawn][::-1] == expected                 # top (highest) to bottom
    width = axis.boundingRect().width()
    for rect, _, text in texts:
        assert rect.right() <= width + 0.5, text                          # inside the axis, not cut by its edge


def test_new_levels_do_not_re_lay_out_the_plot(qtbot):
    """Every snapshot brings new levels: the bar's axis keeps the widest width it needed, so that the
    plot is not re-laid out (and repainted twice) at each one; its labels still fit (test above)."""
    import pyqtgraph as pg

    from app.model.layer_cells import Cells
    from app.widgets.grid_plot import GridPlot
    graphics = pg.GraphicsLayoutWidget()
    qtbot.addWidget(graphics)
    grid = GridPlot(graphics.ci, 0, 0)
    cells = Cells(np.zeros((2, 3, 5, 5)), "row", "col", ("a", "b"), ("x", "y", "z"), lambda *_: "")
    graphics.resize(220, 160)
    graphics.show()
    qtbot.waitExposed(graphics)
    grid.show(cells, levels=(-3.3e-06, 3.3e-06))     # the widest labels first; the first show lays out the axes
    QApplication.processEvents()
    shapes = []
    for levels in ((-5e-05, 5e-05), (-1.0, 1.0), (0.0, 2.0), (-3.3e-06, 3.3e-06)):
        grid.show(cells, levels=levels)
        QApplication.processEvents()
        shapes.append((grid.bar.axis.width(), grid.plot.vb.sceneBoundingRect()))
    assert all(shape == shapes[0] for shape in shapes), shapes


def test_a_grid_drawn_before_its_view_had_its_size_turns_to_fit_it(qtbot):
    """Eight 3×3 kernels of one channel, first drawn for a tall view, stood in a column a few pixels wide
    once the view was laid out wide; a resize turns them into a row."""
    import pyqtgraph as pg

    from app.model.layer_cells import kernel_cells
    from app.widgets.grid_plot import GridPlot
    graphics = pg.GraphicsLayoutWidget()
    qtbot.addWidget(graphics)
    grid = GridPlot(graphics.ci, 0, 0)
    grid.show(kernel_cells("0.kernels", np.arange(72.0).reshape(8, 1, 3, 3)), aspect=0.2)
    assert grid.cells.cells.shape == (8, 1, 3, 3) and grid.cells.row_title == "kernel i"
    graphics.resize(600, 150)
    graphics.show()
    qtbot.waitExposed(graphics)
    qtbot.waitUntil(lambda: grid.cells.cells.shape == (1, 8, 3, 3), timeout=5000)
    assert grid.cells.col_title == "kernel i" and grid.image.image.shape[1] > grid.image.image.shape[0]
    graphics.resize(150, 600)
    qtbot.waitUntil(lambda: grid.cells.cells.shape == (8, 1, 3, 3), timeout=5000)
