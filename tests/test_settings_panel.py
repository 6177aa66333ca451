"""The studio's settings panel takes its ranges from cnn.ranges (one source of truth)."""
from cnn.ranges import RANGES


def test_the_panels_ranges_are_the_engines(qtbot):
    from app.studio.settings_panel import LARGEST_SPIN_BOX_INT, SettingsPanel
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    for name in ("epochs", "batch_size", "shift", "seed", "learning_rate"):
        box = getattr(panel, name)
        assert (box.minimum(), box.maximum()) == (RANGES[name].low, min(RANGES[name].high, LARGEST_SPIN_BOX_INT)), name
    assert (panel.limit.minimum(), panel.limit.maximum()) == (0, RANGES["limit"].high)  # 0: all
    assert (panel.momentum.minimum(), panel.momentum.maximum()) == (0, 0.999)                               # [0, 1)
    assert panel.lr_decay.maximum() == 1 and panel.lr_decay.minimum() == 0.001                            # (0, 1]
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
