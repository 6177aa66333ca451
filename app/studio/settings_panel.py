"""The run's settings as range-checked inputs; produces a validated RunConfig.

RunConfig (cnn/config.py) is the judge of every value: a typed number the field cannot take is
refused with RunConfig's own reason, in the field's label's words (`refused`)."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGridLayout, QGroupBox, QHBoxLayout, QToolButton,
                               QWidget)

from cnn.config import RunConfig, SettingError
from cnn.layer import DTYPES
from cnn.presets import PRESETS
from cnn.ranges import CHOICES, RANGES, shown
from cnn.settings import DATA_AND_NETWORK, LABELS, SETTINGS

from app.studio.fields import DECIMALS, NumberField
from app.widgets.wheel_guard import guard_wheel

PRESET_TIP = "Load a preset's settings and network; the fields below can then be changed."


def custom_text(preset: str) -> str:
    """What the preset box says when the network is not the preset's."""
    return f"custom network (from {preset})"
# Selected digits look pressed and coloured; unselected ones stay plain.
CLASS_BUTTON_STYLE = ("QToolButton { min-width: 22px; min-height: 20px; border: 1px solid #9a9a9a; border-radius: 3px;"
                      " background: #f4f4f4; color: #555; }"
                      "QToolButton:checked { background: #1f77b4; color: white; font-weight: bold;"
                      " border: 1px solid #134a70; }"
                      "QToolButton:disabled { color: #aaa; }"
                      "QToolButton:checked:disabled { background: #5f8fb9; color: white; }")   # readable while training


def ranged_field(name: str, special_text: str | None = None, **options) -> NumberField:
    """A field whose arrows keep to cnn.ranges' range for `name` (an open end moved in by the field's
    smallest step); special_text takes the place just below the range ("all" images per class)."""
    allowed = RANGES[name]
    quantum = 1 if allowed.whole else 10.0 ** -DECIMALS
    low = allowed.low + quantum * allowed.low_open - (quantum if special_text else 0)
    return NumberField(low, allowed.high - quantum * allowed.high_open, whole=allowed.whole,
                       special_text=special_text, **options)


def in_words(message: str) -> str:
    """A message that starts with a RunConfig field's name, with the field's label instead
    ('batch_size 500 is larger…' → 'Batch size 500 is larger…')."""
    for name, label in LABELS.items():
        if message.startswith(name + " ") or message.startswith(name + ":"):
            return label + message[len(name):]
    return message


class SettingsPanel(QGroupBox):
    learning_rate_changed = Signal(float)
    refused = Signal(str)           # a typed value was not taken: why, in the field's words
    network_edited = Signal()       # the user changed a data or network setting (preset, classes, images, seed, type)
    settled = Signal()              # the user's edit left settings that make a run

    def __init__(self, parent=None):
        super().__init__("Run settings", parent)
        form = self.form = QFormLayout(self)
        self.preset = QComboBox()
        for name, preset in PRESETS.items():
            self.preset.addItem(name, name)
            self.preset.setItemData(self.preset.count() - 1, preset.description, 3)  # tooltip role
        self.preset.setToolTip(PRESET_TIP)
        # Room for "custom network (from original)" (it kept the width of "original", cut at "origina"):
        # the widest text the box shows, its arrow and frame.
        widest = max(self.preset.fontMetrics().horizontalAdvance(custom_text(name)) for name in PRESETS)
        self.preset.setMinimumWidth(widest + 48)
        form.addRow(LABELS["preset"], self.preset)
        form.addRow(LABELS["classes"], self._class_grid())
        self._number_rows()
        self.dtype = QComboBox()
        self.dtype.addItems(sorted(DTYPES, reverse=True))
        form.addRow(LABELS["dtype"], self.dtype)
        self._architecture: str | None = None    # the network (cnn.arch grammar) set by --arch or the editor
        self._quiet = False                      # set_config at work: its changes are not the user's
        self._settled: RunConfig | None = None  # the settings before the edit at hand (undo_edit)
        self.set_config(RunConfig())
        guard_wheel(self)
        self.preset.currentIndexChanged.connect(self._apply_preset)
        for button in self.class_buttons:
            button.clicked.connect(self._edited)
        for field in (self.limit, self.seed):
            field.valueChanged.connect(self._edited)
        for field in self.numbers.values():
            if field not in (self.limit, self.seed):
                field.valueChanged.connect(self._settle)
        self.optimizer.currentTextChanged.connect(self._settle)
        self.dtype.currentTextChanged.connect(self._edited)
        self.learning_rate.valueChanged.connect(self.learning_rate_changed)

    # -- the form's rows ---------------------------------------------------------------------
    def _class_grid(self) -> QWidget:
        """The ten digits as toggle buttons in two rows of five (`class_buttons`): the classes to train on."""
        grid = QGridLayout()
        grid.setSpacing(2)
        grid.setContentsMargins(0, 0, 0, 0)
        self.class_buttons = []
        for digit in range(10):
            button = QToolButton()
            button.setText(str(digit))
            button.setCheckable(True)
            button.setStyleSheet(CLASS_BUTTON_STYLE)
            button.setToolTip(f"Train on images of the digit {digit}")
            grid.addWidget(button, digit // 5, digit % 5)
            self.class_buttons.append(button)
        classes = QWidget()
        classes.setLayout(grid)
        return classes

    def _number_rows(self) -> None:
        """The number fields (`numbers`, each also an attribute by its setting's name), range-checked by
        cnn.ranges, with the optimizer's choice before the momentum; a refused typed value says why."""
        self.limit = ranged_field("limit", special_text="all")
        self.limit.setToolTip("The first N images of each class, from the training and the test set (all: every one)")
        self.epochs = ranged_field("epochs")
        self.learning_rate = ranged_field("learning_rate", step=0.01)
        self.learning_rate.setToolTip("Takes effect at the next step, also while training")
        self.batch_size = ranged_field("batch_size")
        self.batch_size.setToolTip("Samples per SGD step; 1 is the original per-sample SGD")
        self.lr_decay = ranged_field("lr_decay", step=0.05)
        self.lr_decay.setToolTip("Epoch e runs at the learning rate × this^(e−1) (1: constant), never below "
                                 f"{RANGES['learning_rate'].low:g}")
        self.shift = ranged_field("shift", suffix=" px")
        self.shift.setToolTip("Augmentation: each training image is moved by a random −n…+n pixels down and "
                              "−n…+n across (n: this setting), every time it is used")
        self.momentum = ranged_field("momentum", step=0.05)
        self.momentum.setToolTip("SGD's momentum μ (Adam does not use it)")
        self.weight_decay = ranged_field("weight_decay", step=0.0001)
        self.weight_decay.setToolTip(SETTINGS["weight_decay"].help[:1].upper() + SETTINGS["weight_decay"].help[1:])
        self.seed = ranged_field("seed")
        self.numbers = {"limit": self.limit, "epochs": self.epochs, "learning_rate": self.learning_rate,
                        "batch_size": self.batch_size, "lr_decay": self.lr_decay, "shift": self.shift,
                        "momentum": self.momentum, "weight_decay": self.weight_decay, "seed": self.seed}
        self.optimizer = QComboBox()
        self.optimizer.addItems(CHOICES["optimizer"])
        self.optimizer.setToolTip("sgd: θ −= η ∂E/∂θ (with momentum below); adam: per-weight steps from running "
                                  "moments of the gradient (β₁ 0.9, β₂ 0.999, ε 1e-8)")
        self.reshuffle = QCheckBox(LABELS["reshuffle"].lower())
        self.reshuffle.setToolTip(SETTINGS["reshuffle"].help[:1].upper() + SETTINGS["reshuffle"].help[1:])
        for name, field in self.numbers.items():
            if name == "momentum":
                self.form.addRow(LABELS["optimizer"], self.optimizer)
            self.form.addRow(LABELS[name], self._with_reshuffle(field) if name == "shift" else field)
            field.refused.connect(lambda text, name=name: self.refused.emit(self.reason(name, text)))

    def _with_reshuffle(self, shift: QWidget) -> QWidget:
        """The shift and the reshuffle box share a row (both say how the training images are drawn; a row
        of its own did not fit 1280×720)."""
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(shift, 1)
        layout.addWidget(self.reshuffle)
        return row

    def reason(self, name: str, text: str) -> str:
        """Why the typed `text` is not a value for setting `name`, in RunConfig's words."""
        field = self.numbers[name]
        value = field.typed_value(text)
        text = shown(text)   # a 5,000-digit number is not echoed whole
        kept = field.textFromValue(field.value()) if field.value() != field.minimum() or not field.special_text \
            else field.special_text
        try:
            RunConfig().with_changes(**{name: value})
        except SettingError as error:  # RunConfig's range, with the text as typed
            return f"{LABELS[name]} must be {error.expected}, not {text}; kept {kept}"
        except (ValueError, TypeError) as error:
            return f"{in_words(str(error))}; kept {kept}"
        low, high = field.textFromValue(field.minimum()), field.textFromValue(field.maximum())
        return f"{LABELS[name]} must be from {low} to {high}, not {text}; kept {kept}"

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
        self._fill(RunConfig.from_preset(self.preset.currentData()))   # the settings before it stay at hand
        self._edited()

    def _edited(self) -> None:
        if not self._quiet:
            self.network_edited.emit()   # the receiver may undo_edit: the settings before it are still at hand
        self._settle()

    def _settle(self, *_) -> None:
        """The settings as they stand are what an edit to come goes back to (undo_edit); settings that make
        no run (one class, a number half typed) leave the last that did."""
        if not self._quiet:
            try:
                self._settled = self.config()
            except ValueError:
                return
            self.settled.emit()

    def undo_edit(self, network: RunConfig) -> None:
        """The edit at hand is not taken: the fields go back to the settings before it, the data and network
        ones to `network`'s (the network shown)."""
        before = self._settled or network
        try:
            self.set_config(before.with_changes(**{name: getattr(network, name) for name in DATA_AND_NETWORK}))
        except ValueError:
            self.set_config(network)

    @property
    def architecture(self) -> str | None:
        """The network in cnn.arch's grammar (--arch or the editor), None: the preset's."""
        return self._architecture

    @architecture.setter
    def architecture(self, text: str | None) -> None:
        """The preset box says when the network is not the preset's: "custom network (from digits)"."""
        self._architecture = text
        for index in range(self.preset.count()):
            name = self.preset.itemData(index)
            custom = text is not None and index == self.preset.currentIndex()
            self.preset.setItemText(index, custom_text(name) if custom else name)
        self.preset.setToolTip(f"A custom network: {text}. Choosing a preset loads its settings and network."
                               if text is not None else PRESET_TIP)

    def set_config(self, config: RunConfig) -> None:
        self._fill(config)
        self._settle()

    def _fill(self, config: RunConfig) -> None:
        """The fields show `config`; not the user's changes (no network_edited)."""
        self._quiet = True
        try:
            self._set_fields(config)
        finally:
            self._quiet = False

    def _set_fields(self, config: RunConfig) -> None:
        self.preset.blockSignals(True)
        self.preset.setCurrentIndex(self.preset.findData(config.preset))
        self.preset.blockSignals(False)
        for digit, button in enumerate(self.class_buttons):
            button.setChecked(digit in config.classes)
        for name, field in self.numbers.items():
            value = getattr(config, name)
            field.setValue(field.minimum() if value is None else value)
        self.dtype.setCurrentText(config.dtype)
        self.optimizer.setCurrentText(config.optimizer)
        self.reshuffle.setChecked(config.reshuffle)
        self.architecture = config.architecture

    def commit_typing(self) -> bool:
        """Every field's text still being typed taken as Enter takes it; False if one was refused (said)."""
        return all([field.commit() for field in self.numbers.values()])

    def config(self) -> RunConfig:
        """The settings as a RunConfig; raises ValueError naming (by its label) a setting that does not make sense."""
        classes = tuple(d for d, button in enumerate(self.class_buttons) if button.isChecked())
        if len(classes) < 2:
            raise ValueError("Choose at least two classes (digits) to tell apart.")
        values = {name: int(field.value()) if field.whole else field.value() for name, field in self.numbers.items()}
        values["limit"] = values["limit"] or None
        try:
            return RunConfig(preset=self.preset.currentData(), classes=classes, dtype=self.dtype.currentText(),
                             architecture=self.architecture, optimizer=self.optimizer.currentText(),
                             reshuffle=self.reshuffle.isChecked(), **values).with_changes()
        except ValueError as error:
            raise ValueError(in_words(str(error))) from None
