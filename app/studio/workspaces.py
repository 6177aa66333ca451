"""The window's workspaces: one tab each, and one thing to do in each, so that every one fits a
1024×768 or 1280×720 screen whole (every panel at once did not: the views shrank to 230 px).

- Train: the run's settings and the network they make | the loss, or the layers' health;
- Inspect: the sample and the network's layers | the chosen layer's weights, maps and gradients, or
  every layer at once (the network strip), or the weights over the run's moments;
- Your digit: the drawing pad and the network's answer | why it decided;
- Results: the confusion matrix beside its gallery;
- Runs: the recorded runs | their curves overlaid.

The workspaces' tabs and the run controls share a toolbar above them (training goes on while another
workspace is shown); the timeline of the run's moments is under them (app/studio/time_travel.py).
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QSplitter, QStackedWidget, QTabBar, QTabWidget, QVBoxLayout,
                               QWidget)

from app.studio.layer_picker import LayerCombo, NetworkSummary
from app.model.workspace_names import NAMES, TIPS, WORKSPACES
from app.studio.views.attribution import AttributionView
from app.studio.views.compare import CompareView
from app.studio.views.features import FeatureMapsView
from app.studio.views.gradients import GradientsView
from app.studio.views.health import HealthView
from app.studio.views.loss import LossView
from app.studio.views.over_time import OverTimeView
from app.studio.views.results import ResultsView
from app.studio.views.strip import StripView
from app.studio.views.weights import WeightsView
from app.studio.views.your_digit import YourDigitPanel
from app.widgets.fit_scene import fit_scenes
from app.widgets.fit_width import WidthFittingScrollArea
from app.widgets.wheel_guard import guard_wheel

LESSON_WIDTH = 236    # the lesson pane's width at first: the workspaces beside it still fit 1024 px


class Workspaces(QStackedWidget):
    """The pages, and their tab bar (the window puts it in the toolbar: a row of height saved). A turn
    to another page (the tabs, the View menu, the window) is said by `turned`, so that the studio
    model knows which workspace is shown; a turn the model asks for comes back by `follow`."""
    turned = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("workspaces")
        self.bar = QTabBar()
        self.bar.setObjectName("workspace-tabs")
        self.bar.setDrawBase(False)
        self.bar.setExpanding(False)
        self.said: list[str] = []      # turns told to the model that it has not answered yet
        self._following = False
        self.bar.currentChanged.connect(self._turned)

    def _turned(self, index: int) -> None:
        self.setCurrentIndex(index)
        if not self._following:        # the model's own turn: it knows
            self.said.append(NAMES[index])
            self.turned.emit(NAMES[index])

    def follow(self, name: str) -> None:
        """The model's workspace: its answer to a turn told to it, or a turn it asks for (unless the user
        turned meanwhile: the user's turn is on its way to the model)."""
        if self.said:
            if self.said[0] == name:
                self.said.pop(0)
            return
        self._following = True
        try:
            self.show_workspace(name)
        finally:
            self._following = False

    def add(self, name: str, page: QWidget) -> None:
        self.addWidget(page)
        self.bar.blockSignals(True)    # the first tab is current as it comes: no turn (the model starts there too)
        self.bar.addTab(dict(WORKSPACES)[name])
        self.bar.blockSignals(False)
        self.bar.setTabToolTip(self.count() - 1, f"{TIPS[name]} (Ctrl+{self.count()})")

    def tabBar(self) -> QTabBar:
        return self.bar

    @property
    def current(self) -> str:
        return NAMES[self.currentIndex()]

    def show_workspace(self, name: str) -> None:
        self.bar.setCurrentIndex(NAMES.index(name))


def splitter(orientation, *widgets, sizes=None, stretch=None) -> QSplitter:
    split = QSplitter(orientation)
    for widget in widgets:
        split.addWidget(widget)
    for i in range(len(widgets)):
        split.setCollapsible(i, False)   # a panel dragged to nothing is a panel the user cannot find
    if stretch is not None:
        split.setStretchFactor(stretch, 1)
    if sizes:
        split.setSizes(sizes)
    return split


def tabs(*pages) -> QTabWidget:
    widget = QTabWidget()
    widget.setDocumentMode(True)
    for page, title in pages:
        widget.addTab(page, title)
    return widget


def reveal(widget: QWidget) -> None:
    """Shows the workspace, and the tab in it, that hold `widget`."""
    child, parent = widget, widget.parentWidget()
    while parent is not None:
        holder = parent.parentWidget()
        if isinstance(parent, QStackedWidget) and isinstance(holder, QTabWidget):
            holder.setCurrentWidget(child)
        elif isinstance(parent, Workspaces):
            parent.bar.setCurrentIndex(parent.indexOf(child))
        child, parent = parent, holder


def column(*widgets, grows: int | None = None) -> QWidget:
    """Widgets one above the other, from the top; widgets[grows] takes the room left, up to its largest size."""
    widget = QWidget()
    layout = QVBoxLayout(widget)
    layout.setContentsMargins(2, 2, 2, 2)
    for i, child in enumerate(widgets):
        layout.addWidget(child, 100 if i == grows else 0)
    layout.addStretch(1)     # what is left below
    return widget


def place(window) -> Workspaces:
    """Makes the views and panels as attributes of `window` and lays them out in their workspaces."""
    w = window
    w.loss_view, w.weights_view = LossView(), WeightsView()
    w.features_view, w.gradients_view = FeatureMapsView(), GradientsView()
    w.strip_view, w.health_view, w.compare_view = StripView(), HealthView(), CompareView()
    w.your_digit, w.attribution_view, w.results_view = YourDigitPanel(), AttributionView(), ResultsView()
    w.over_time_view = OverTimeView()
    for view in (w.weights_view, w.features_view, w.gradients_view):
        w.layer_choice.changed.connect(view.show_layer)
    workspaces = Workspaces()
    workspaces.add("train", _train(w))
    workspaces.add("inspect", _inspect(w))
    # Not scrolled: it fits (its word-wrapped answer made a scroll area lay it out 1100 px tall, the answer
    # below the fold)
    w.digit_splitter = splitter(Qt.Horizontal, w.your_digit, w.attribution_view, sizes=[600, 600])
    workspaces.add("your-digit", w.digit_splitter)
    w.results_view.splitter.setOrientation(Qt.Horizontal)   # the matrix beside its gallery: the page is wide
    workspaces.add("results", w.results_view)
    w.runs_splitter = splitter(Qt.Horizontal, w.runs_panel, w.compare_view, sizes=[520, 700], stretch=1)
    workspaces.add("runs", w.runs_splitter)
    for label in workspaces.findChildren(QLabel):  # a read-out wraps rather than widen the window (1024 px fit)
        label.setWordWrap(True)
    w.scene_fitters = fit_scenes(workspaces)  # and plots too wide for their place are drawn smaller, not cut
    return workspaces


def beside_lesson(window) -> QSplitter:
    """The splitter that holds the workspaces, and the lesson pane to their left (place_lesson)."""
    window.lesson_splitter = splitter(Qt.Horizontal, window.workspaces)
    return window.lesson_splitter


def place_lesson(window) -> None:
    """The lesson pane beside the workspaces it explains (made once the worker is there: it listens to it),
    at the section the learner was at, shown unless it was closed for good."""
    from app.studio.lesson_pane import LessonPane, remembered_closed, remembered_section
    window.lesson = LessonPane(window)
    window.lesson_splitter.insertWidget(0, window.lesson)
    window.lesson_splitter.setCollapsible(0, False)
    window.lesson_splitter.setStretchFactor(1, 1)
    window.lesson_splitter.setSizes([LESSON_WIDTH, 1300])
    window.lesson.open_section(remembered_section(window.settings, len(window.lesson.sections)))
    window.lesson.setVisible(not remembered_closed(window.settings))
    window.workspaces.currentChanged.connect(lambda index: window.lesson.step_aside(NAMES[index] == "runs"))


def _train(w) -> QWidget:
    """The settings and the network they make (a scrolled column) | the loss, or the layers' health."""
    w.model_label = QLabel("")
    w.model_label.setWordWrap(True)
    w.model_label.setObjectName("model")
    w.train_summary = NetworkSummary(w.layer_choice)
    w.settings_panel.form.setVerticalSpacing(3)   # the digits network's ten layers below them at 1280×720
    w.left_panel = WidthFittingScrollArea(column(w.settings_panel, w.model_label, w.train_summary, grows=2))
    w.train_tabs = tabs((w.loss_view, "Loss"), (w.health_view, "Health"))
    w.train_splitter = splitter(Qt.Horizontal, w.left_panel, w.train_tabs, sizes=[340, 1260], stretch=1)
    return w.train_splitter


def _inspect(w) -> QWidget:
    """The sample and the layers (a scrolled column) | the tabs: the chosen layer, the network strip."""
    guard_wheel(w.sample_picker)   # as the settings: the wheel scrolls the panel unless a field is focused
    w.network_summary = NetworkSummary(w.layer_choice)
    layers = QLabel("<b>Layers</b>: click one to show it")
    w.inspect_panel = WidthFittingScrollArea(column(w.sample_picker, layers, w.network_summary, grows=2))
    w.top_splitter = splitter(Qt.Horizontal, w.features_view, w.weights_view, sizes=[650, 350])
    w.views_splitter = splitter(Qt.Vertical, w.top_splitter, w.gradients_view, sizes=[600, 400])
    w.tabs = tabs((w.views_splitter, "Layer"), (w.strip_view, "Network strip"), (w.over_time_view, "Over time"))
    corner = QWidget()
    corner_row = QHBoxLayout(corner)
    corner_row.setContentsMargins(0, 0, 4, 0)
    corner_row.addWidget(QLabel("Layer:"))
    w.layer_combo = LayerCombo(w.layer_choice)
    corner_row.addWidget(w.layer_combo)
    w.tabs.setCornerWidget(corner, Qt.TopRightCorner)
    w.tabs.installEventFilter(ComboRoom(w.tabs, w.layer_combo))
    w.inspect_splitter = splitter(Qt.Horizontal, w.inspect_panel, w.tabs, sizes=[300, 1300], stretch=1)
    return w.inspect_splitter


class ComboRoom(QObject):
    """On a resize the layer picker leaves the tab names their room: beside the docks at 1280×720 it
    took the tab bar's, which shrank to scroll arrows. Narrower, a combo box cuts its title, not its list."""

    def __init__(self, tabs: QTabWidget, combo):
        super().__init__(tabs)
        self.tabs, self.combo = tabs, combo

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Resize:
            room = self.tabs.width() - self.tabs.tabBar().sizeHint().width() - 60   # 60: "Layer:" and margins
            self.combo.setMaximumWidth(max(60, room))
        return False
