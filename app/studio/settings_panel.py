"""The run's settings as range-checked inputs; produces a validated RunConfig."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QGridLayout, QGroupBox, QSpinBox,
                               QToolButton, QWidget)

from cnn.config import RunConfig
from cnn.layer import DTYPES
from cnn.presets import PRESETS
from cnn.ranges import CHOICES, RANGES

LARGEST_SPIN_BOX_INT = 2**31 - 1   # a QSpinBox holds a signed 32-bit int


def _set_range(box, name: str, low=None) -> None:
    """The spin box's range from cnn.ranges; an open end is moved in by the box's smallest step."""
    allowed = RANGES[name]
    if isinstance(box, QDoubleSpinBox):
        quantum = 10.0 ** -box.decimals()
        box.setRange(allowed.low + quantum * allowed.low_open, allowed.high - quantum * allowed.high_open)
    else:
        box.setRange(allowed.low if low is None else low, min(allowed.high, LARGEST_SPIN_BOX_INT))


class SettingsPanel(QGroupBox):
    learning_rate_changed = Signal(float)

    def __init__(self, parent=None):
        super().__init__("Run settings", parent)
        form = self.form = QFormLayout(self)
        self.preset = QComboBox()
        for name, preset in PRESETS.items():
            self.preset.addItem(name, name)
            self.preset.setItemData(self.preset.count() - 1, preset.description, 3)  # tooltip role
        self.preset.setToolTip("Load a preset's settings; the fields below can then be changed.")
        form.addRow("Preset", self.preset)
        grid = QGridLayout()
        grid.setSpacing(2)
        grid.setContentsMargins(0, 0, 0, 0)
        self.class_buttons = []
        for digit in range(10):
            button = QToolButton()
            button.setText(str(digit))
            button.setCheckable(True)
            button.setToolTip(f"Train on images of the digit {digit}")
            grid.addWidget(button, digit // 5, digit % 5)
            self.class_buttons.append(button)
        classes = QWidget()
        classes.setLayout(grid)
        form.addRow("Classes", classes)
        self.limit = QSpinBox()
        _set_range(self.limit, "limit", low=0)
        self.limit.setSpecialValueText("all")
        self.limit.setToolTip("The first N images of each class, from the training and the test set (0: all)")
        form.addRow("Images per class", self.limit)
        self.epochs = QSpinBox()
        _set_range(self.epochs, "epochs")
        form.addRow("Epochs", self.epochs)
        self.learning_rate = QDoubleSpinBox()
        self.learning_rate.setDecimals(6)
        _set_range(self.learning_rate, "learning_rate")
        self.learning_rate.setSingleStep(0.01)
        self.learning_rate.setToolTip("Takes effect at the next step, also while training")
        form.addRow("Learning rate", self.learning_rate)
        self.batch_size = QSpinBox()
        _set_range(self.batch_size, "batch_size")
        self.batch_size.setToolTip("Samples per SGD step; 1 is the original per-sample SGD")
        form.addRow("Batch size", self.batch_size)
        self.lr_decay = QDoubleSpinBox()
        self.lr_decay.setDecimals(3)
        _set_range(self.lr_decay, "lr_decay")
        self.lr_decay.setSingleStep(0.05)
        self.lr_decay.setToolTip("Epoch e runs at the learning rate × this^(e−1) (1: constant), never below "
                                 f"{RANGES['learning_rate'].low:g}")
        form.addRow("LR decay / epoch", self.lr_decay)
        self.shift = QSpinBox()
        _set_range(self.shift, "shift")
        self.shift.setSuffix(" px")
        self.shift.setToolTip("Augmentation: each training image is moved by a random −n…+n pixels down and "
                              "−n…+n across (n: this setting), every time it is used")
        form.addRow("Random shift", self.shift)
        self.optimizer = QComboBox()
        self.optimizer.addItems(CHOICES["optimizer"])
        self.optimizer.setToolTip("sgd: θ −= η ∂E/∂θ (with momentum below); adam: per-weight steps from running "
                                  "moments of the gradient (β₁ 0.9, β₂ 0.999, ε 1e-8)")
        form.addRow("Optimizer", self.optimizer)
        self.momentum = QDoubleSpinBox()
        self.momentum.setDecimals(3)
        _set_range(self.momentum, "momentum")
        self.momentum.setSingleStep(0.05)
        self.momentum.setToolTip("SGD's momentum μ (Adam does not use it)")
        form.addRow("Momentum", self.momentum)
        self.seed = QSpinBox()
        _set_range(self.seed, "seed")
        self.seed.setToolTip("Seeds the initial weights and the order of the data")
        form.addRow("Seed", self.seed)
        self.dtype = QComboBox()
        self.dtype.addItems(sorted(DTYPES, reverse=True))
        form.addRow("Float type", self.dtype)
        self.architecture: str | None = None    # the network (cnn.arch grammar) set by --arch or the editor
        self.set_config(RunConfig())
        self.preset.currentIndexChanged.connect(self._apply_preset)
        self.learning_rate.valueChanged.connect(self.learning_rate_changed)

    def fields(self) -> list[QWidget]:
        """Every input, in the form's order (the class buttons as one)."""
        return [self.form.itemAt(row, QFormLayout.FieldRole).widget() for row in range(self.form.rowCount())]

    def set_editable(self, editable: bool) -> None:
        """While a run is on, only the learning rate can change (from the next step). Each field and its
        label are switched as a whole: a recursive findChildren would also disable the spin box's own
        line edit, and typing into it would do nothing."""
        for field in self.fields():
            enabled = editable or field is self.learning_rate
            field.setEnabled(enabled)
            self.form.labelForField(field).setEnabled(enabled)

    def _apply_preset(self) -> None:
        self.set_config(RunConfig.from_preset(self.preset.currentData()))

    def set_config(self, config: RunConfig) -> None:
        self.preset.blockSignals(True)
        self.preset.setCurrentIndex(self.preset.findData(config.preset))
        self.preset.blockSignals(False)
        for digit, button in enumerate(self.class_buttons):
            button.setChecked(digit in config.classes)
        self.limit.setValue(config.limit or 0)
        self.epochs.setValue(config.epochs)
        self.learning_rate.setValue(config.learning_rate)
        self.batch_size.setValue(config.batch_size)
        self.momentum.setValue(config.momentum)
        self.optimizer.setCurrentText(config.optimizer)
        self.lr_decay.setValue(config.lr_decay)
        self.shift.setValue(config.shift)
        self.seed.setValue(config.seed)
        self.dtype.setCurrentText(config.dtype)
        self.architecture = config.architecture

    def config(self) -> RunConfig:
        """The settings as a RunConfig; raises ValueError naming a setting that does not make sense."""
        classes = tuple(d for d, button in enumerate(self.class_buttons) if button.isChecked())
        if len(classes) < 2:
            raise ValueError("Choose at least two classes (digits) to tell apart.")
        config = RunConfig(preset=self.preset.currentData(), classes=classes, limit=self.limit.value() or None,
                           epochs=self.epochs.value(), learning_rate=self.learning_rate.value(),
                           batch_size=self.batch_size.value(), momentum=self.momentum.value(),
                           seed=self.seed.value(), dtype=self.dtype.currentText(), lr_decay=self.lr_decay.value(),
                           shift=self.shift.value(), architecture=self.architecture,
                           optimizer=self.optimizer.currentText())
        config.validate()
        return config
