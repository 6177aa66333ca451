"""The main window: menus, settings, run controls, the four views, status bar and progress."""
from __future__ import annotations

import math
import time
from pathlib import Path

from PySide6.QtCore import QMetaObject, QSettings, Qt, QThread, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QFileDialog, QFrame, QGridLayout, QLabel, QMainWindow, QMessageBox, QProgressBar,
                               QPushButton, QScrollArea, QSplitter, QVBoxLayout, QWidget)

from cnn.config import RunConfig
from cnn.train import EpochRecord

from app.widgets.banner import ErrorBanner
from app.training.collector import GuiThreadCollector
from app.studio.help import ABOUT, TOUR
from app.training.progress import ProgressTracker
from app.studio.recent_files import RecentFiles
from app.studio.remembered import remember, restore
from app.studio.sample_picker import SamplePicker
from app.stepthrough.link import StepThroughLink
from app.studio.settings_panel import SettingsPanel
from app.studio.views.features import FeatureMapsView
from app.studio.views.gradients import GradientsView
from app.studio.views.kernels import KernelsView
from app.studio.views.loss import LossView
from app.training.worker import TrainingWorker

WEIGHTS_FILTER = "CNN Studio weights (*.npz);;All files (*)"


class MainWindow(QMainWindow):
    training_finished = Signal()     # a run completed all its epochs
    error_shown = Signal(str)        # an error was shown to the user
    snapshot_shown = Signal()        # the views show a new snapshot
    step_window_shown = Signal()     # the step-through shows weights from the worker
    # Commands to the worker, delivered on its thread.
    request_configure = Signal(object)
    request_start = Signal(object)
    request_pause = Signal()
    request_resume = Signal()
    request_stop = Signal()
    request_learning_rate = Signal(float)
    request_sample = Signal(str, int)
    request_load = Signal(str)
    request_save = Signal(str)
    request_weights = Signal()
    request_apply = Signal(int, object)

    def __init__(self, settings: QSettings | None = None, data_path=None):
        super().__init__()
        self.settings = settings or QSettings()
        self.setWindowTitle("CNN Studio")
        self.setMinimumSize(1100, 700)
        self.setAcceptDrops(True)
        self.state = "idle"
        self.model = None
        self.progress = ProgressTracker()
        self._draw_started = None
        self.collector = GuiThreadCollector(self)
        self._build_views()
        self._build_actions()
        self._build_status_bar()
        self._start_worker(data_path)
        restore(self)
        self.request_configure.emit(self._config_or_default())

    # -- construction ------------------------------------------------------------------
    def _build_views(self) -> None:
        self.settings_panel = SettingsPanel()
        self.sample_picker = SamplePicker()
        self.start_button, self.pause_button = QPushButton("Start"), QPushButton("Pause")
        self.stop_button, self.reset_button = QPushButton("Stop"), QPushButton("Reset")
        buttons = QGridLayout()
        for i, button in enumerate((self.start_button, self.pause_button, self.stop_button, self.reset_button)):
            buttons.addWidget(button, i // 2, i % 2)
        self.step_button = QPushButton("Step through this sample…")
        buttons.addWidget(self.step_button, 2, 0, 1, 2)
        self.model_label = QLabel("")
        self.model_label.setWordWrap(True)
        self.model_label.setObjectName("model")
        left = QWidget()
        column = QVBoxLayout(left)
        column.addWidget(self.settings_panel)
        column.addLayout(buttons)
        column.addWidget(self.sample_picker, 1)
        column.addWidget(self.model_label)
        scroll = QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        left.layout().activate()  # so that the hint below counts every child
        scroll.setMinimumWidth(left.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 4)

        self.loss_view, self.kernels_view = LossView(), KernelsView()
        self.features_view, self.gradients_view = FeatureMapsView(), GradientsView()
        self.top_splitter = QSplitter(Qt.Horizontal)
        self.top_splitter.addWidget(self.loss_view)
        self.top_splitter.addWidget(self.kernels_view)
        self.bottom_splitter = QSplitter(Qt.Horizontal)
        self.bottom_splitter.addWidget(self.features_view)
        self.bottom_splitter.addWidget(self.gradients_view)
        self.views_splitter = QSplitter(Qt.Vertical)
        self.views_splitter.addWidget(self.top_splitter)
        self.views_splitter.addWidget(self.bottom_splitter)
        self.main_splitter = QSplitter(Qt.Horizontal)
        self.main_splitter.addWidget(scroll)
        self.main_splitter.addWidget(self.views_splitter)
        self.main_splitter.setStretchFactor(1, 1)
        self.main_splitter.setCollapsible(0, False)
        self.main_splitter.setSizes([340, 1260])

        self.banner = ErrorBanner()

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.banner)
        layout.addWidget(self.main_splitter, 1)
        self.setCentralWidget(central)

    def _action(self, menu, text, slot, shortcut=None, tip=None) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcuts([QKeySequence(s) for s in (shortcut if isinstance(shortcut, list) else [shortcut])])
        action.setStatusTip(tip or "")
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_actions(self) -> None:
        file = self.menuBar().addMenu("&File")
        self.open_action = self._action(file, "&Open weights…", self.open_weights_dialog, QKeySequence.Open,
                                        "Load a saved network and show it")
        self.recent = RecentFiles(self.settings, file.addMenu("Open &recent"), self.open_weights)
        self.save_action = self._action(file, "&Save weights…", self.save_weights_dialog, QKeySequence.Save,
                                        "Save the network's weights to an .npz file")
        self.export_action = self._action(file, "&Export view as PNG…", self.export_dialog, "Ctrl+E",
                                          "Save a picture of the four views")
        file.addSeparator()
        self._action(file, "&Quit", self.close, QKeySequence.Quit)
        training = self.menuBar().addMenu("&Training")
        self.start_action = self._action(training, "&Start", self.start, ["F5", "Ctrl+Return"], "Start training")
        self.pause_action = self._action(training, "&Pause", self.toggle_pause, "Space", "Pause or resume training")
        self.stop_action = self._action(training, "S&top", self.stop, "Ctrl+.", "Stop training, keep the weights")
        self.reset_action = self._action(training, "&Reset network", self.reset, "Ctrl+R",
                                         "A fresh network from the settings; clears the plots")
        sample = self.menuBar().addMenu("&Sample")
        self._action(sample, "Next &misclassified", self.sample_picker.jump_to_next_misclassified, "Ctrl+M")
        self.step_action = self._action(sample, "&Step through this sample…", self.step_through, "Ctrl+T",
                                        "Walk this sample through the forward and backward pass (pauses training)")
        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "&How to read the views", self.show_tour, QKeySequence.HelpContents)
        self._action(help_menu, "&About CNN Studio", self.show_about)
        for button, action in ((self.start_button, self.start_action), (self.pause_button, self.pause_action),
                               (self.stop_button, self.stop_action), (self.reset_button, self.reset_action),
                               (self.step_button, self.step_action)):
            button.clicked.connect(action.trigger)
            button.setToolTip(f"{action.statusTip()} ({action.shortcut().toString(QKeySequence.NativeText)})")
        self.settings_panel.learning_rate_changed.connect(self._learning_rate_changed)
        self.sample_picker.sample_changed.connect(self.request_sample)

    def _build_status_bar(self) -> None:
        self.state_label = QLabel("Ready")
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setMinimumWidth(420)
        self.progress_bar.setFormat("ready")
        self.progress_bar.setValue(0)
        self.statusBar().addPermanentWidget(self.state_label)
        self.statusBar().addPermanentWidget(self.progress_bar)

    def _start_worker(self, data_path) -> None:
        self.thread = QThread(self)
        self.thread.setObjectName("training")
        self.worker = TrainingWorker(data_path)
        self.worker.moveToThread(self.thread)
        for signal, slot in ((self.request_configure, self.worker.configure), (self.request_start, self.worker.start),
                             (self.request_pause, self.worker.pause), (self.request_resume, self.worker.resume),
                             (self.request_stop, self.worker.stop),
                             (self.request_learning_rate, self.worker.set_learning_rate),
                             (self.request_sample, self.worker.select_sample),
                             (self.request_load, self.worker.load_weights), (self.request_save, self.worker.save_weights),
                             (self.request_weights, self.worker.send_weights),
                             (self.request_apply, self.worker.apply_weights)):
            signal.connect(slot)
        self.worker.records.connect(self.on_records)
        self.worker.snapshot.connect(self.on_snapshot)
        self.worker.model_changed.connect(self.on_model_changed)
        self.worker.state_changed.connect(self.on_state_changed)
        self.worker.failed.connect(self.show_error)
        # Bound methods of this window only: a lambda would run on the worker's thread.
        self.worker.message.connect(self.show_message)
        self.worker.test_predictions.connect(self.on_test_predictions)
        self.worker.finished.connect(self.on_finished)
        self.step_link = StepThroughLink(self)
        self.thread.start()

    # -- commands ----------------------------------------------------------------------
    def _config_or_default(self) -> RunConfig:
        try:
            return self.settings_panel.config()
        except ValueError:
            return RunConfig()

    def _settings_or_error(self) -> RunConfig | None:
        """The settings as a run, or None after saying what is wrong with them."""
        try:
            return self.settings_panel.config()
        except ValueError as error:
            self.show_error(str(error))
            return None

    def start(self) -> None:
        if self.state == "paused":
            self.toggle_pause()
            return
        config = self._settings_or_error() if self.state == "idle" else None
        if config is None:
            return
        self.banner.hide()
        self.progress.start_run(config.epochs)
        end = math.ceil(self.loss_view.last_x) + config.epochs
        self.loss_view.set_epochs(end)
        self.gradients_view.set_epochs(end)
        self.request_start.emit(config)

    def toggle_pause(self) -> None:
        if self.state == "running":
            self.request_pause.emit()
        elif self.state == "paused":
            self.request_resume.emit()

    def stop(self) -> None:
        self.request_stop.emit()

    def reset(self) -> None:
        config = self._settings_or_error()
        if config is None:
            return
        self.loss_view.clear()
        self.gradients_view.clear()
        self.progress.start_run(0)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("ready")
        self.request_configure.emit(config)

    def open_weights(self, path: str) -> None:
        self.banner.hide()
        self.request_load.emit(str(path))
        self.recent.add(str(path))

    def save_weights(self, path: str) -> None:
        self.request_save.emit(str(path))
        self.recent.add(str(path))

    def open_weights_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open weights", self.recent.last_folder(), WEIGHTS_FILTER)
        if path:
            self.open_weights(path)

    def save_weights_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save weights", str(Path(self.recent.last_folder()) / "weights.npz"),
                                              WEIGHTS_FILTER)
        if path:
            self.save_weights(path if path.endswith(".npz") else path + ".npz")

    def export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export view as PNG",
                                              str(Path(self.recent.last_folder()) / "cnn-studio.png"), "PNG image (*.png)")
        if path:
            self.export_png(path if path.lower().endswith(".png") else path + ".png")

    def export_png(self, path: str, whole_window: bool = False) -> bool:
        widget = self if whole_window else self.views_splitter
        ok = widget.grab().save(str(path), "PNG")
        if ok:
            self.statusBar().showMessage(f"Saved {path}", 8000)
        else:
            self.show_error(f"{path}: could not write the PNG file")
        return ok

    def step_through(self) -> None:
        """Opens the step-through on the current sample, with a copy of the weights (training pauses)."""
        self.step_link.open()

    @property
    def step_window(self):
        """The step-through window, once it has been opened."""
        return self.step_link.dialog

    def _learning_rate_changed(self, value: float) -> None:
        self.request_learning_rate.emit(value)  # also when idle: a Start may be on its way
        if self.state != "idle":
            self.statusBar().showMessage(f"Learning rate {value:g} from the next step", 4000)

    # -- what the worker reports -------------------------------------------------------
    def on_records(self, records) -> None:
        self._draw_started = time.perf_counter()
        self.loss_view.add_records(records)
        self.gradients_view.add_records(records)
        self.progress.add(records)
        for record in records:
            if isinstance(record, EpochRecord):
                self.statusBar().showMessage(
                    f"Epoch {record.epoch}: train loss {record.train_loss:.5f}, test loss {record.test_loss:.5f}, "
                    f"test accuracy {100 * record.test_accuracy:.1f}%", 10000)
        self.progress_bar.setValue(int(1000 * self.progress.fraction))
        self.progress_bar.setFormat(self.progress.text())

    def on_snapshot(self, snapshot) -> None:
        if self._draw_started is None:
            self._draw_started = time.perf_counter()
        self.kernels_view.update_snapshot(snapshot)
        self.features_view.update_snapshot(snapshot)
        self.gradients_view.update_snapshot(snapshot)
        self.snapshot_shown.emit()
        QTimer.singleShot(0, self._drawn)  # runs after the paint events these updates posted

    def _drawn(self) -> None:
        """Tells the worker the views are ready again, and how long drawing took."""
        if self._draw_started is not None:
            self.worker.draw_seconds = time.perf_counter() - self._draw_started
            self._draw_started = None
        self.worker.views_ready.set()

    def on_model_changed(self, info) -> None:
        self.model = info
        self.settings_panel.blockSignals(True)
        self.settings_panel.set_config(info.config.with_changes(
            epochs=self.settings_panel.epochs.value(), learning_rate=self.settings_panel.learning_rate.value()))
        self.settings_panel.blockSignals(False)
        self.sample_picker.set_data(info.images, info.labels)
        self.model_label.setText(f"<b>Network</b> ({info.source}, {info.parameter_count:,} parameters, "
                                 f"{info.config.dtype}, loss: {info.loss_name.replace('_', ' ')})"
                                 f"<pre style='font-size:8pt'>{info.summary}</pre>")
        self.request_sample.emit(*self.sample_picker.current)
        self.step_link.model_changed()

    def on_state_changed(self, state: str) -> None:
        self.state = state
        paused, idle = state == "paused", state == "idle"
        self.state_label.setText({"running": "Training", "paused": "Paused", "idle": "Ready"}[state])
        self.start_action.setEnabled(idle or paused)
        self.start_button.setText("Resume" if paused else "Start")
        self.pause_action.setEnabled(not idle)
        self.pause_action.setText("&Resume" if paused else "&Pause")
        self.pause_button.setText("Resume" if paused else "Pause")
        self.stop_action.setEnabled(not idle)
        for widget in self.settings_panel.findChildren(QWidget):
            if widget is not self.settings_panel.learning_rate:
                widget.setEnabled(idle)
        self.step_link.state_changed(state)
        if idle and self.progress.done_steps and self.progress.done_steps >= self.progress.total_steps:
            self.progress_bar.setFormat(self.progress.text().split(" · ")[0] + " · done")

    def show_error(self, text: str) -> None:
        self.step_link.error_shown(text)
        self.banner.show_text(text)
        self.statusBar().showMessage(text.splitlines()[0], 10000)
        self.error_shown.emit(text)

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    def on_test_predictions(self, digits) -> None:
        self.sample_picker.set_predictions("test", digits)

    def on_finished(self) -> None:
        self.statusBar().showMessage("Training finished.", 10000)
        self.training_finished.emit()

    def show_tour(self) -> None:
        QMessageBox.information(self, "How to read the views", TOUR)

    def show_about(self) -> None:
        QMessageBox.about(self, "About CNN Studio", ABOUT)

    # -- drag and drop -------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            self.open_weights(files[0])
            event.acceptProposedAction()

    def closeEvent(self, event) -> None:
        remember(self)
        self.step_link.close()
        if self.thread.isRunning():
            # Blocking: the worker ends its run on its own thread before that thread's loop quits.
            QMetaObject.invokeMethod(self.worker, "shutdown", Qt.BlockingQueuedConnection)
            self.thread.quit()
            self.thread.wait()
        self.collector.stop()
        event.accept()

