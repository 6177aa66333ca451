"""Compare runs: the ticked runs' loss and test accuracy overlaid, one colour per run, with a legend
naming the settings in which they differ, in as many columns as fit and each entry wrapped to its
column (a one-line legend wider than the panel made the scene be drawn at half size, its last entries
cut off). Curves are read from the runs' metrics files off the GUI
thread (QThreadPool), bounded however long the runs are, and cached until a file changes."""
from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QRunnable, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from cnn.runs.metrics import METRICS_FILE
from cnn.runs.runfile import RunFileError, read_info

from app.model.run_curves import read_curves
from app.model.run_labels import differing_labels
from app.widgets.plots import log_plot

COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (255, 127, 14), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]
CURVE_POINTS = 4096     # per series: an overlay of many long runs stays cheap to draw
LEGEND_COLUMNS = 2      # at most
LEGEND_SIZE = 8         # points
LEGEND_MARGIN = 30      # the scene's margins around the legend
SAMPLE_WIDTH = 40       # a legend entry's line sample and spacing


class _Signals(QObject):
    loaded = Signal(object, object, object)   # folder, stamp, RunCurves (or an error message)


class _Read(QRunnable):
    def __init__(self, folder: Path, stamp, signals: _Signals):
        super().__init__()
        self.folder, self.stamp, self.signals = folder, stamp, signals

    def run(self) -> None:
        try:
            result = read_curves(self.folder, capacity=CURVE_POINTS, names=())   # the losses only
        except Exception as error:  # a reader never takes the window down
            result = f"{self.folder}: {error}"
        self.signals.loaded.emit(self.folder, self.stamp, result)


class CompareView(QWidget):
    shown = Signal()          # the plots show every ticked run

    def __init__(self, parent=None):
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.hint = QLabel("Tick runs in the Runs panel to compare their curves.")
        self.hint.setStyleSheet("color: #666")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.hint)
        layout.addWidget(self.graphics, 1)
        self.legend = pg.LegendItem(colCount=LEGEND_COLUMNS, labelTextSize=f"{LEGEND_SIZE}pt")
        self.graphics.installEventFilter(self)     # the legend refits before pyqtgraph lays out a new size
        self.graphics.addItem(self.legend, row=0, col=0)
        # the project's log axis: pyqtgraph's own labels every minor tick, "1 0.9 0.8 0.7 0.6" in one blob
        self.loss_plot = log_plot(self.graphics, 1, 0, title="Training loss (mean of 50 steps), test loss dotted")
        self.loss_plot.setLabel("left", "loss (log scale)")
        self.accuracy_plot = self.graphics.addPlot(row=2, col=0, title="Test accuracy (%)")
        self.accuracy_plot.setLabel("bottom", "epoch")
        self.accuracy_plot.setXLink(self.loss_plot)
        for plot in (self.loss_plot, self.accuracy_plot):
            plot.showGrid(x=True, y=True, alpha=0.15)
        self.folders: list[Path] = []
        self.labels: list[str] = []
        self.cache: dict[Path, tuple[object, object]] = {}   # folder → (stamp, RunCurves)
        self.errors: dict[Path, str] = {}
        self.signals = _Signals()
        self.signals.loaded.connect(self._loaded)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.items: list = []   # (plot, curve) pairs drawn
        self.colours: dict[Path, int] = {}

    def show_runs(self, folders) -> None:
        """Overlay these runs (in this order); their curves are read if not cached or changed since."""
        self.folders = [Path(folder) for folder in folders]
        self.errors = {}
        # A run keeps its colour while it stays ticked; a newly ticked one takes the first free colour.
        self.colours = {folder: index for folder, index in self.colours.items() if folder in self.folders}
        for folder in self.folders:
            if folder not in self.colours:
                self.colours[folder] = min(set(range(len(self.folders))) - set(self.colours.values()))
        for folder in self.folders:
            stamp = _stamp(folder)
            if folder not in self.cache or self.cache[folder][0] != stamp:
                self.pool.start(_Read(folder, stamp, self.signals))
        self._draw()

    @Slot(str)
    def refresh_run(self, folder: str) -> None:
        """A run's metrics grew (it is training): read it again if it is overlaid."""
        if Path(folder) in self.folders:
            self.show_runs(self.folders)

    @Slot(object, object, object)
    def _loaded(self, folder, stamp, result) -> None:
        if isinstance(result, str):
            self.errors[folder] = result
        else:
            self.cache[folder] = (stamp, result)
        if folder in self.folders:
            self._draw()

    def ready(self) -> bool:
        return all(folder in self.cache or folder in self.errors for folder in self.folders)

    def _draw(self) -> None:
        for plot, item in self.items:
            plot.removeItem(item)
        self.items = []
        self.legend.clear()
        shown = [folder for folder in self.folders if folder in self.cache]
        infos = []
        for folder in shown:
            try:
                infos.append(read_info(folder))
            except (RunFileError, OSError):
                infos.append(None)
        configs = [info.settings for info in infos if info is not None]
        valid = [(folder, info) for folder, info in zip(shown, infos, strict=True) if info is not None]
        self.labels = differing_labels(configs, [info.name for _, info in valid]) if valid else []
        for (folder, _), label in zip(valid, self.labels, strict=True):
            curves = self.cache[folder][1]
            colour = COLOURS[self.colours[folder] % len(COLOURS)]
            average = self.loss_plot.plot(*curves.averages.data(), pen=pg.mkPen(colour, width=2))
            self.items.append((self.loss_plot, average))
            self.legend.addItem(average, html.escape(label))
            if curves.epochs:
                x, _, test, accuracy = (np.array(column) for column in zip(*curves.epochs, strict=True))
                positive = test > 0
                test_curve = self.loss_plot.plot(x[positive], test[positive], symbol="o", symbolSize=5,
                                                 pen=pg.mkPen(colour, width=1.5, style=Qt.DotLine),
                                                 symbolBrush=colour, symbolPen=None)
                accuracy_curve = self.accuracy_plot.plot(x, accuracy, pen=pg.mkPen(colour, width=2), symbol="o",
                                                         symbolSize=5, symbolBrush=colour, symbolPen=None)
                self.items += [(self.loss_plot, test_curve), (self.accuracy_plot, accuracy_curve)]
        self.fit_legend(self.graphics.width())
        self.hint.setText(" · ".join(self.errors.values()) if self.errors else
                          ("Tick runs in the Runs panel to compare their curves." if not self.folders else
                           "Reading…" if not self.ready() else f"{len(valid)} run{'s' * (len(valid) != 1)} overlaid"))
        if self.ready():
            self.shown.emit()

    def eventFilter(self, watched, event) -> bool:
        if watched is self.graphics and event.type() == QEvent.Resize:
            self.fit_legend(event.size().width())
        return False

    def fit_legend(self, width: int) -> None:
        """The most columns (up to LEGEND_COLUMNS) in which every entry, wrapped to its column, fits `width`."""
        room = width - LEGEND_MARGIN
        for columns in range(min(LEGEND_COLUMNS, max(1, len(self.legend.items))), 0, -1):
            for (_, label), text in zip(self.legend.items, self.labels, strict=False):
                label.setText(wrapped(text, room / columns - SAMPLE_WIDTH))
            self.legend.setColumnCount(columns)
            if self.legend.layout.effectiveSizeHint(Qt.MinimumSize).width() <= room:
                break
        self.legend.updateGeometry()     # the enclosing layout caches the legend's old size hints


def wrapped(label: str, width: float) -> str:
    """`label` in lines of at most `width` pixels in the legend's font (HTML), broken after its
    " · " separators, or between words where one setting alone is wider."""
    font = QFont()
    font.setPointSizeF(LEGEND_SIZE)
    metrics = QFontMetricsF(font)
    lines: list[str] = []
    for part in label.split(" · "):
        joined = f"{lines[-1]} · {part}" if lines else part
        if lines and metrics.horizontalAdvance(joined) <= width:
            lines[-1] = joined
            continue
        lines.append("")
        for word in part.split(" "):
            joined = f"{lines[-1]} {word}" if lines[-1] else word
            if lines[-1] and metrics.horizontalAdvance(joined) > width:
                lines.append(word)
            else:
                lines[-1] = joined
    return "<br>".join(html.escape(line) for line in lines)


def _stamp(folder: Path):
    """What changes when a run's curves may have: its metrics file's size and time."""
    try:
        status = (folder / METRICS_FILE).stat()
        return status.st_size, status.st_mtime_ns
    except OSError:
        return None
