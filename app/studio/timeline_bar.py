"""The timeline under the views (time travel): the run's moments on a slider, a step back and forward,
Live (the weights as they are now) and Play, and the current view's animation as a GIF. Keys: [ and ]
step, Home and End go to the first and the last moment, L goes live.

It drives the studio model's `moment` command (app/model/timeline.py). While the views draw one moment,
a drag's further moves wait and only the latest is sent: the slider never queues a backlog of redraws.
"""
from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

from cnn.evaluation import accuracy_text

PLAY_MS = 500           # a moment every half second while playing


class TimelineBar(QWidget):
    moment_requested = Signal(object)      # a step, or None for live
    moments_wanted = Signal()              # the run's moments may have changed: the model is asked
    marked = Signal(object)                # the moment's epoch position for the plots' markers (None: live)
    gif_written = Signal(str)              # an animation was saved to this file

    def __init__(self, window):
        super().__init__()
        self.setObjectName("timeline")
        self.window = window
        self.steps: tuple[int, ...] = ()
        self.positions: tuple[float, ...] = ()
        self.accuracies: tuple = ()
        self.shown: int | None = None       # the step the views show (None: live)
        self.damaged: tuple[str, ...] = ()  # the moments that cannot be read, with why
        self.waiting = False                # a moment was asked for and is not drawn yet
        self.pending = False                # the slider moved meanwhile: its step goes next
        self.gif = None                     # GifRecorder while an animation is exported
        self._build()
        self.play_timer = QTimer(self)
        self.play_timer.setInterval(PLAY_MS)
        self.play_timer.timeout.connect(self._play_step)
        self._keys(window)
        self.show_moments((), (), ())

    def _build(self) -> None:
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 0, 4, 0)
        row.addWidget(QLabel("Moment:"))
        self.back, self.forward = QPushButton("◀"), QPushButton("▶")
        self.back.setToolTip("The moment before ([)")
        self.forward.setToolTip("The moment after (])")
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setObjectName("timeline-slider")
        self.slider.setToolTip("Drag to any moment of the run: every view shows its weights (Home, End)")
        self.live, self.play = QPushButton("Live"), QPushButton("Play")
        self.live.setCheckable(True)
        self.live.setToolTip("The weights as they are now, following training (L)")
        self.play.setToolTip("The views move through the moments")
        self.save_gif = QPushButton("GIF…")
        self.save_gif.setToolTip("Save the current view's animation through the moments as a GIF")
        self.label = QLabel()
        self.label.setFixedWidth(280)   # the window still fits 1024 px; one width, so that ▶ stays where it is
        for widget in (self.back, self.forward, self.live, self.play, self.save_gif):
            widget.setFocusPolicy(Qt.NoFocus)
        for widget in (self.back, self.forward):
            widget.setMaximumWidth(32)
        for widget, stretch in ((self.back, 0), (self.slider, 1), (self.forward, 0), (self.label, 0), (self.live, 0),
                                (self.play, 0), (self.save_gif, 0)):
            row.addWidget(widget, stretch)
        self.back.clicked.connect(lambda: self.step_by(-1))
        self.forward.clicked.connect(lambda: self.step_by(1))
        self.slider.valueChanged.connect(self._slid)
        self.live.clicked.connect(lambda: self.go_live())
        self.play.clicked.connect(self.toggle_play)
        self.save_gif.clicked.connect(self._ask_gif)

    def _keys(self, window) -> None:
        for key, action in (("[", lambda: self.step_by(-1)), ("]", lambda: self.step_by(1)),
                            ("Home", lambda: self.go_to(0)), ("End", lambda: self.go_to(len(self.steps) - 1)),
                            ("L", lambda: self.go_live())):
            shortcut = QShortcut(QKeySequence(key), window)
            shortcut.setContext(Qt.WindowShortcut)
            shortcut.activated.connect(action)

    # -- what the model says -------------------------------------------------------------------
    def subscribe(self, worker) -> None:
        worker.moments.connect(self._moments)      # bound methods of this GUI-thread object: queued here
        worker.moment_chosen.connect(self.chosen)

    def _moments(self, moments) -> None:
        self.damaged = moments.damaged       # listed, never in the way of the others
        self.show_moments(moments.steps, moments.positions, moments.accuracies)

    def want_moments(self, *_) -> None:
        self.moments_wanted.emit()

    def mark_plots(self, step, position) -> None:
        self.marked.emit(position)

    def show_moments(self, steps, positions, accuracies) -> None:
        self.steps, self.positions, self.accuracies = tuple(steps), tuple(positions), tuple(accuracies)
        enabled = bool(self.steps)
        for widget in (self.slider, self.play, self.save_gif):
            widget.setEnabled(enabled)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(self.steps) - 1))
        if self.shown in self.steps:
            self.slider.setValue(self.steps.index(self.shown))
        elif self.shown is None and self.steps:
            self.slider.setValue(len(self.steps) - 1)
        self.slider.blockSignals(False)
        self._label()

    def chosen(self, step, position) -> None:
        """The model shows this moment now (None: live); its views follow with the snapshot."""
        self.shown = step
        # the slider shows it (live: at the newest), unless the user moved it on meanwhile (pending)
        index = len(self.steps) - 1 if step is None else self.steps.index(step) if step in self.steps else -1
        if index >= 0 and not self.pending:
            self.slider.blockSignals(True)
            self.slider.setValue(index)
            self.slider.blockSignals(False)
        self._label()

    def drawn(self) -> None:
        """The views drew a snapshot: the next wanted moment may go."""
        self.waiting = False
        if self.pending:
            self.pending = False
            self._send(self.steps[self.slider.value()])
        elif self.gif is not None:
            self.gif.frame_drawn()

    def _label(self) -> None:
        """The label, Live pressed exactly while live, and ◀ ▶ only where they lead somewhere (they stayed
        enabled at the first and the last moment, and Live unpressed at live after a run)."""
        index = self.steps.index(self.shown) if self.shown in self.steps else None   # None: live
        self.live.setChecked(self.shown is None)
        self.back.setEnabled(bool(self.steps) and (index is None or index > 0))
        self.forward.setEnabled(index is not None and index < len(self.steps) - 1)
        self._say()
        if self.damaged:
            self.label.setText(f"{self.label.text()} · {len(self.damaged)} damaged")
            self.label.setToolTip("Moments that cannot be read:\n" + "\n".join(self.damaged[:20]))

    def _say(self) -> None:
        self.label.setToolTip("")
        if not self.steps:
            self.label.setText("no moments yet")
            self.label.setToolTip("A recorded run keeps moments: Start records one")
            return
        if self.shown is None:
            self.label.setText(f"live · {len(self.steps)} moment{'s' * (len(self.steps) != 1)}")
            return
        i = self.steps.index(self.shown) if self.shown in self.steps else 0
        accuracy = self.accuracies[i]
        self.label.setText(f"step {self.shown:,} · epoch {self.positions[i]:.2f}"
                           + (f" · {accuracy_text(accuracy)}" if accuracy is not None else ""))

    # -- what the user asks ----------------------------------------------------------------------
    def _slid(self, index: int) -> None:
        if 0 <= index < len(self.steps):
            self._send(self.steps[index])

    def _send(self, step) -> None:
        if self.waiting:
            self.pending = True
            return
        if step == self.shown:
            return
        self.waiting = step is not None
        self.moment_requested.emit(step)

    def step_by(self, delta: int) -> None:
        if not self.steps:
            return
        # from the moment asked for last (keys pressed faster than the views draw add up), or from live
        index = self.slider.value() if self.shown is not None or self.waiting else len(self.steps)
        self.go_to(min(max(index + delta, 0), len(self.steps) - 1))

    def go_to(self, index: int) -> None:
        if 0 <= index < len(self.steps):
            if self.slider.value() == index and self.shown != self.steps[index]:
                self._send(self.steps[index])
            self.slider.setValue(index)

    def go_live(self) -> None:
        self.play_timer.stop()
        self.play.setText("Play")
        self.pending, self.waiting = False, False
        self.moment_requested.emit(None)

    def toggle_play(self) -> None:
        if self.play_timer.isActive():
            self.play_timer.stop()
            self.play.setText("Play")
            return
        if self.shown is None or self.shown == self.steps[-1]:
            self.go_to(0)
        self.play.setText("Pause")
        self.play_timer.start()

    def _play_step(self) -> None:
        if self.waiting:
            return
        if self.shown == self.steps[-1]:
            self.toggle_play()
            return
        self.step_by(1)

    def _ask_gif(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the animation", "moments.gif", "GIF animation (*.gif)")
        if path:
            self.export_gif(Path(path))

    def export_gif(self, path: Path) -> None:
        """Every moment drawn in the current view, then written to `path` as an animated GIF."""
        if not self.steps or self.gif is not None:
            return
        from app.studio.gif_export import GifRecorder
        try:
            import PIL  # noqa: F401
        except ImportError:
            self.window.show_error("Saving the animation as a GIF needs Pillow: pip install 'cnn-studio[app]'")
            return
        self.play_timer.stop()
        self.gif = GifRecorder(self, path)
        self.gif.start()


def moment_marker(plot) -> pg.InfiniteLine:
    """A vertical line on a plot whose x axis is epochs: where the moment shown is (hidden while live)."""
    line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen((214, 39, 40), width=1.5, style=Qt.DashLine))
    line.setZValue(10)
    line.hide()
    plot.addItem(line, ignoreBounds=True)
    return line
