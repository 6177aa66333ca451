"""The run controls: Start, Pause/Resume, Stop, Reset and Step through, as menu actions with
buttons that mirror them. Each is enabled only when pressing it would do something."""
from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QPushButton, QSizePolicy, QToolBar, QWidget

from app.model.state import RunState


class RunControls(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.start = self._action("&Start", window.start, ["F5", "Ctrl+Return"], "Start training")
        self.pause = self._action("&Pause", window.toggle_pause, "Space", "Pause or resume training")
        self.stop = self._action("S&top", window.stop, "Ctrl+.", "Stop training, keep the weights")
        self.reset = self._action("&Reset network", window.reset, "Ctrl+R",
                                  "A fresh network from the settings; clears the plots")
        self.step = self._action("&Step through this sample…", window.step_through, "Ctrl+T",
                                 "Walk this sample through the forward and backward pass (pauses training)")
        self.buttons = {action: QPushButton(action.text().replace("&", "")) for action in self.actions()}
        self.buttons[self.step].setText("Step through this sample…")
        self.buttons[self.reset].setText("Reset")
        for action, button in self.buttons.items():
            button.clicked.connect(action.trigger)
            button.setToolTip(f"{action.statusTip()} ({action.shortcut().toString(QKeySequence.NativeText)})")
        # Space pauses wherever the focus is in this window: a spin box would take it as text. The filter
        # sits on the focused widget only: on the whole application it was a Python call, and the GIL taken
        # from training, for every event of every object (the original network trained 12% slower).
        self._watched: QWidget | None = None
        QApplication.instance().focusChanged.connect(self._follow_focus)
        self._follow_focus(None, QApplication.focusWidget())
        self.set_state(RunState.IDLE)

    def _action(self, text, slot, shortcut, tip) -> QAction:
        action = QAction(text, self.window)
        action.setShortcuts([QKeySequence(s) for s in (shortcut if isinstance(shortcut, list) else [shortcut])])
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        return action

    def actions(self) -> list[QAction]:
        """In the order of the Training menu (Step through goes in the Sample menu)."""
        return [self.start, self.pause, self.stop, self.reset, self.step]

    def toolbar(self, leading: QWidget) -> QToolBar:
        """The buttons in a row above every workspace, after `leading` (the workspaces' tabs): training goes
        on while another workspace is shown."""
        bar = QToolBar("Training")
        bar.setObjectName("training")
        bar.setMovable(False)
        bar.setFloatable(False)
        bar.toggleViewAction().setVisible(False)   # not to be closed by a right click: Stop must stay in reach
        bar.addWidget(leading)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        bar.addWidget(spacer)
        for action in self.actions():
            if action is self.step:
                bar.addSeparator()
            bar.addWidget(self.buttons[action])
        return bar

    def set_state(self, state: RunState) -> None:
        """Idle: Start. Running: Pause, Stop. Paused: Resume, Stop (never two buttons saying Resume)."""
        idle, running, paused = (state is s for s in (RunState.IDLE, RunState.RUNNING, RunState.PAUSED))
        self.start.setEnabled(idle)
        self.pause.setEnabled(running or paused)
        self.pause.setText("&Resume" if paused else "&Pause")
        self.stop.setEnabled(running or paused)
        for action, button in self.buttons.items():
            button.setEnabled(action.isEnabled())
        self.buttons[self.pause].setText("Resume" if paused else "Pause")

    def eventFilter(self, watched, event) -> bool:
        if (event.type() == QEvent.ShortcutOverride and event.key() == Qt.Key_Space
                and event.modifiers() in (Qt.NoModifier, Qt.KeypadModifier) and self.pause.isEnabled()
                and isinstance(watched, QWidget) and watched.window() is self.window):
            event.ignore()          # no widget claims Space: the Pause shortcut fires
            return True
        return False

    def _follow_focus(self, _old, new) -> None:
        self._unwatch()
        if new is not None:
            new.installEventFilter(self)
            self._watched = new

    def _unwatch(self) -> None:
        watched, self._watched = self._watched, None
        if watched is not None and shiboken6.isValid(watched):
            watched.removeEventFilter(self)

    def detach(self) -> None:
        QApplication.instance().focusChanged.disconnect(self._follow_focus)
        self._unwatch()
