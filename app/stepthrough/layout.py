"""The step-through window's widgets and how they are laid out, without what they do.

StepThroughLayout is a mix-in of StepThroughWindow (as Qt Designer's Ui classes are): `_build` makes
the widgets as the window's attributes (the names the window, the studio and the tests use) and
places them; the window connects them to its behaviour. Left, a column: the steps, Previous/Next,
the kernel editor and the gradient check, scrolled when the window is lower than it, and below
them, always in view, Apply and the status line. Right, the step's page: formula,
explanation, up to PANELS arrays and the hover read-out.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QFrame, QGridLayout, QHBoxLayout, QLabel, QListWidget, QPushButton,
                               QScrollArea, QSplitter, QVBoxLayout, QWidget)

from app.stepthrough.array_panel import ArrayPanel
from app.stepthrough.gradient_check import GradientCheckPanel
from app.stepthrough.kernel_editor import KernelEditor
from app.widgets.fit_width import WidthFittingScrollArea

PANELS = 6                  # the most arrays a step shows
READOUT_HEIGHT = 170        # the hover read-out's fixed height (two 3×3 product tables and the sums)


class StepThroughLayout:
    """Makes and places the step-through window's widgets (mixed into a QDialog)."""

    def _build(self) -> None:
        self.header = QLabel()
        self.header.setTextFormat(Qt.RichText)
        self.header.setObjectName("header")
        self.header.setWordWrap(True)   # a long header (an edit, an applied update) wraps, not widens the window
        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(self._steps_column())
        splitter.addWidget(self._step_page())
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([320, 1100])
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(splitter, 1)

    def _steps_column(self) -> QWidget:
        """The steps to pick from, Previous/Next, the kernel editor, the gradient check, Apply and the status."""
        self.step_list = QListWidget()
        # A long status (the applied update's accuracy) wraps in the narrow column: keep 8 steps in view,
        # and no more, so that the column down to Apply fits a 1024×768 screen unscrolled.
        self.step_list.setMinimumHeight(8 * (self.step_list.fontMetrics().lineSpacing() + 2)
                                        + 2 * self.step_list.frameWidth())
        self.previous_button, self.next_button = QPushButton("◀ Previous"), QPushButton("Next ▶")
        self.previous_button.setToolTip("Previous step (Left arrow)")
        self.next_button.setToolTip("Next step (Right arrow)")
        navigation = QHBoxLayout()
        navigation.addWidget(self.previous_button)
        navigation.addWidget(self.next_button)
        self.evaluation_box = QCheckBox("Evaluation mode (as predictions)")
        self.evaluation_box.setToolTip("Dropout keeps every value and batch normalization uses its running averages, "
                                       "as predictions do. Off: training mode, as Apply update computes")
        self.evaluation_box.hide()   # shown for a network with dropout or batch normalization
        self.editor = KernelEditor()
        self.checker = GradientCheckPanel()
        self.apply_button = QPushButton("Apply update")
        self.apply_button.setToolTip("Take the update steps on the model: one step of its optimizer on this sample")
        self.status = QLabel("")
        self.status.setTextFormat(Qt.RichText)
        self.status.setWordWrap(True)
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(QLabel("<b>Steps</b>"))
        column.addWidget(self.step_list, 2)
        column.addLayout(navigation)
        column.addWidget(self.evaluation_box)
        column.addWidget(self.editor)
        column.addWidget(self.checker, 1)
        # Scrolled when the window is lower than the column (1024×768): squeezed, the kernel table got a
        # scroll bar that cut its values, and the gradient check's note was drawn over its table. Apply and
        # the status stay below the scrolled part: after a gradient check they were below the fold.
        steps = QWidget()
        below = QVBoxLayout(steps)
        below.setContentsMargins(0, 0, 0, 0)
        below.addWidget(WidthFittingScrollArea(left), 1)
        below.addWidget(self.apply_button)
        below.addWidget(self.status)
        return steps

    def _step_page(self) -> QWidget:
        """The current step: its formula, what it does, its arrays in a 3-wide grid, and the hover read-out."""
        self.formula = QLabel()
        self.formula.setTextFormat(Qt.RichText)
        self.formula.setObjectName("formula")
        self.formula.setStyleSheet("#formula { font-size: 15pt; padding: 6px; background: #f6f6f2; }")
        self.formula.setWordWrap(True)   # the loss's formula and its note are wider than a 1024 px screen leaves
        self.explanation = QLabel()
        self.explanation.setTextFormat(Qt.RichText)
        self.explanation.setWordWrap(True)
        self.panels = [ArrayPanel() for _ in range(PANELS)]
        grid = QGridLayout()
        for n, panel in enumerate(self.panels):
            grid.addWidget(panel, n // 3, n % 3)
        for n in range(3):
            grid.setColumnStretch(n, 1)
        self.readout = QLabel("Hover over an array to read its values.")
        self.readout.setTextFormat(Qt.RichText)
        self.readout.setObjectName("readout")
        self.readout.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.readout.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.readout.setWordWrap(True)
        # A fixed height, scrolled: a long read-out must not push the panels around as the mouse moves.
        self.readout_area = QScrollArea()
        self.readout_area.setWidget(self.readout)
        self.readout_area.setWidgetResizable(True)
        self.readout_area.setFixedHeight(READOUT_HEIGHT)
        self.readout_area.setFrameShape(QFrame.NoFrame)
        right = QWidget()
        page = QVBoxLayout(right)
        page.setContentsMargins(0, 0, 0, 0)
        page.addWidget(self.formula)
        page.addWidget(self.explanation)
        page.addLayout(grid, 1)
        page.addWidget(self.readout_area)
        return right
