"""The studio's settings panel takes its ranges from cnn.ranges (one source of truth)."""
from cnn.ranges import RANGES


def test_the_panels_ranges_are_the_engines(qtbot):
    from app.studio.settings_panel import SettingsPanel
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    for name in ("epochs", "batch_size", "shift", "seed", "learning_rate"):
        box = getattr(panel, name)
        assert (box.minimum(), box.maximum()) == (RANGES[name].low, RANGES[name].high), name
    assert (panel.limit.minimum(), panel.limit.maximum()) == (0, RANGES["limit"].high)  # 0: all
    step = 10.0 ** -panel.momentum.decimals()      # an open end is moved in by the field's smallest step
    assert (panel.momentum.minimum(), panel.momentum.maximum()) == (0, 1 - step)                           # [0, 1)
    assert panel.lr_decay.maximum() == 1 and panel.lr_decay.minimum() == step                             # (0, 1]
    assert "−n…+n" in panel.shift.toolTip()
    panel.learning_rate.setValue(RANGES["learning_rate"].low)
    panel.lr_decay.setValue(panel.lr_decay.minimum())
    assert panel.config().learning_rate == RANGES["learning_rate"].low  # the smallest accepted rate is offered


def test_the_panel_offers_the_runs_optimizers_and_keeps_the_choice(qtbot):
    from app.studio.settings_panel import SettingsPanel
    from cnn.config import RunConfig
    from cnn.ranges import CHOICES
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    assert tuple(panel.optimizer.itemText(i) for i in range(panel.optimizer.count())) == CHOICES["optimizer"]
    assert panel.config().optimizer == "sgd"
    panel.set_config(RunConfig(optimizer="adam", learning_rate=0.001))
    assert panel.config().optimizer == "adam" and panel.config().learning_rate == 0.001


def wheel_over(widget, steps: int = 1):
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(widget.rect().center())), QPoint(0, 0),
                        QPoint(0, 120 * steps), Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_the_wheel_over_an_unfocused_field_scrolls_the_panel_and_changes_nothing(qtbot):
    """Wheeling down the panel over Momentum once turned 0 into 0.05 unseen."""
    from PySide6.QtWidgets import QScrollArea
    from app.studio.settings_panel import SettingsPanel
    panel = SettingsPanel()
    area = QScrollArea()
    area.setWidget(panel)
    area.resize(panel.sizeHint().width() + 30, 150)
    qtbot.addWidget(area)
    area.show()
    qtbot.waitExposed(area)
    area.setFocus()
    momentum, optimizer = panel.momentum.value(), panel.optimizer.currentIndex()
    wheel_over(panel.momentum, -1)
    wheel_over(panel.optimizer, -1)
    assert panel.momentum.value() == momentum and panel.optimizer.currentIndex() == optimizer
    panel.momentum.setFocus()
    qtbot.waitUntil(panel.momentum.hasFocus)
    wheel_over(panel.momentum, 1)      # focused: the wheel is the user's choice
    assert panel.momentum.value() == momentum + panel.momentum.singleStep()


def test_the_left_panel_never_scrolls_sideways(qtbot):
    from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget
    from app.widgets.fit_width import WidthFittingScrollArea
    content = QWidget()
    QVBoxLayout(content).addWidget(QLabel("Batch size"))
    content.setMinimumWidth(600)
    area = WidthFittingScrollArea(content)
    qtbot.addWidget(area)
    area.setMinimumWidth(0)
    area.resize(200, 100)
    area.show()
    qtbot.waitExposed(area)
    area.horizontalScrollBar().setValue(120)   # what ensureWidgetVisible does on focusing a field
    assert area.horizontalScrollBar().value() == 0


def test_the_left_panel_widens_when_a_nested_label_grows(qtbot):
    """A label deep in the panel's layouts lengthens (a button's text, a note): the area asks for the width."""
    from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget
    from app.widgets.fit_width import WidthFittingScrollArea
    content, row = QWidget(), QWidget()
    label = QLabel("lr")
    QHBoxLayout(row).addWidget(label)
    QVBoxLayout(content).addWidget(row)
    area = WidthFittingScrollArea(content)
    qtbot.addWidget(area)
    area.show()
    qtbot.waitExposed(area)
    before = area.minimumWidth()
    label.setText("a learning rate far longer than the panel was made for")
    qtbot.waitUntil(lambda: area.minimumWidth() >= area.needed_width() > before)


def test_every_preset_comes_back_from_the_panel_as_cnn_train_runs_it(qtbot):
    """The panel holds every training setting a preset has (digits and modern reshuffle every epoch, the
    original keeps the stored order): Start trains what cnn-train --preset trains."""
    from app.studio.settings_panel import SettingsPanel
    from cnn.config import RunConfig
    from cnn.presets import PRESETS
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    for name in PRESETS:
        panel.preset.setCurrentIndex(panel.preset.findData(name))
        assert panel.config() == RunConfig.from_preset(name), name
    assert {RunConfig.from_preset(name).reshuffle for name in PRESETS} == {True, False}
    panel.reshuffle.click()                     # as a user does: the box is the setting
    assert panel.config().reshuffle is not RunConfig.from_preset(name).reshuffle


def test_a_decimal_comma_typed_in_the_learning_rate_is_its_point(qtbot):
    """'0,5' typed into Learning rate became 5, ten times what was meant: the comma was dropped unseen."""
    from PySide6.QtCore import Qt
    from app.studio.settings_panel import SettingsPanel
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    panel.show()
    field = panel.learning_rate
    field.setFocus()
    field.lineEdit().selectAll()
    qtbot.keyClicks(field.lineEdit(), "0,5")
    qtbot.keyClick(field.lineEdit(), Qt.Key_Return)
    assert field.lineEdit().text() == "0.5" and panel.config().learning_rate == 0.5
    batch = panel.batch_size   # a whole number: a comma there is no decimal point, and never one
    batch.setFocus()
    batch.lineEdit().selectAll()
    qtbot.keyClicks(batch.lineEdit(), "1,0")
    qtbot.keyClick(batch.lineEdit(), Qt.Key_Return)
    assert panel.config().batch_size == 10
