"""The ten-class outputs chart gives each class room for its label (it was ~15 px for all ten)."""
from types import SimpleNamespace

import numpy as np
from PySide6.QtWidgets import QApplication


def test_each_of_ten_classes_gets_room_for_its_label(qtbot):
    from app.studio.views.features import FeatureMapsView
    view = FeatureMapsView()
    qtbot.addWidget(view)
    view.resize(420, 260)
    view.show()
    qtbot.waitExposed(view)
    outputs = SimpleNamespace(classes=tuple(range(10)), probabilities=np.full(10, 0.1), label=3, predicted=3,
                              outputs_are_probabilities=True)
    view.show_outputs(outputs)
    QApplication.processEvents()
    per_class = view.bars_plot.vb.width() / 10
    assert per_class >= 12      # a digit label is ~7 px in the axis font: they no longer run together
