"""The main window: it places the workspaces and wires them to the worker.

The window wires, the views subscribe, the worker emits: each view connects itself to the worker's
signals (`subscribe`), the run controls and the status line follow the worker's state. Every
command goes to the studio model (app/model/studio.py) by one route, `send`. The window's parts:
its commands (window_commands.py), and the chosen sample and what it shows of the model's reports
(window_shown.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import shiboken6
from PySide6.QtCore import (QCoreApplication, QEvent, QMetaObject, QObject, QSettings, QStandardPaths, Qt, QThread,
                            QTimer, Signal)
from PySide6.QtWidgets import (QMainWindow, QMessageBox, QVBoxLayout, QWidget)


from app.studio.step_link import StepThroughLink
from app.studio.draw_feedback import DrawFeedback
from app.studio.health_banner import HealthBanner
from app.model.help import ABOUT
from app.model.keeping import Kept
from app.studio.help_window import show_tour
from app.studio.layer_picker import LayerChoice
from app.studio.menus import build_menus
from app.studio.quitting import may_close
from app.model.remembered import clamp_to_screen, remember, restore
from app.studio.run_controls import RunControls
from app.studio.runs_panel import RunsPanel
from app.studio.sample_picker import SamplePicker
from app.studio.settings_panel import SettingsPanel, in_words
from app.studio.settings_store import usable
from app.studio.status_line import StatusLine
from app.studio.time_travel import place_timeline, wire_timeline
from app.studio.window_commands import Commands
from app.studio.window_shown import Reports, SampleChoice
from app.studio.workspaces import beside_lesson, place, place_lesson
from app.training.collector import GuiThreadCollector
from app.model.state import RunState
from app.training.worker import TrainingWorker
from app.widgets.banner import BannerStack, ErrorBanner

# Open windows, held until they close: a window nobody else holds is still on screen and working,
# and must not become garbage that a collection tears down while its worker runs.
OPEN_WINDOWS: set = set()


class MainWindow(Commands, SampleChoice, Reports, QMainWindow):
    training_finished = Signal()     # a run completed all its epochs
    error_shown = Signal(str)        # an error was shown to the user
    snapshot_shown = Signal()        # the views show a new snapshot
    step_window_shown = Signal()     # the step-through shows weights from the worker
    # Commands to the worker, delivered on its thread.
    command = Signal(str, object)    # (name, values): the one route to the studio model (app/model/studio.py)

    def __init__(self, settings: QSettings | None = None, data_path=None, runs_dir=None, preset: str | None = None,
                 epochs: int | None = None):
        """preset and epochs (the command line's) replace the remembered settings before the first
        network is built, so that no other network is shown first."""
        super().__init__()
        self.settings, self.settings_note = usable(settings)   # (a file that could run code is not read)
        self.runs_dir = Path(runs_dir) if runs_dir is not None else default_runs_dir()
        self.setWindowTitle("CNN Studio")
        self.setAcceptDrops(True)
        self.state = RunState.IDLE
        self.model, self.trained, self.updates = None, (0, 0), 0   # updates: the step-through's, to the network shown
        self.kept, self.replaced_note = Kept(), ""   # the network's training kept? (app/studio/replacing.py)
        self.unattended = False      # closing asks about training kept nowhere (app/studio/quitting.py) unless set
        self.shown_run = ""       # the run folder the network shown belongs to ('' for none): reopened at start
        self.arch_editor, self.closed = None, False   # the editor: made when first opened (edit_architecture)
        self.clamp_on_show = True   # False: the size asked for (cnn-studio --size), whatever the screen
        OPEN_WINDOWS.add(self)
        self.collector = GuiThreadCollector(self)
        self.settings_panel = SettingsPanel()
        self.sample_picker = SamplePicker()
        self.controls = RunControls(self)
        self.status = StatusLine(self.statusBar())
        self.banner = ErrorBanner()
        self.health_banner = HealthBanner()
        self.layer_choice = LayerChoice(self)
        self._place_views()
        self._wire_runs()
        self._place_inspection()
        build_menus(self)
        self.settings_panel.learning_rate_changed.connect(self._learning_rate_changed)
        self.settings_panel.network_edited.connect(self._network_edited)
        self.settings_panel.settled.connect(self._settings_fixed)
        self.sample_picker.sample_changed.connect(self._picker_changed)
        self._start_worker(data_path)
        place_lesson(self)
        reopened = restore(self)
        if preset is not None:
            self.settings_panel.preset.setCurrentIndex(self.settings_panel.preset.findData(preset))
        if epochs is not None:
            self.settings_panel.epochs.setValue(epochs)
        if reopened and preset is None and epochs is None and Path(reopened).parent == self.runs_dir.absolute():
            self.send("reopen", reopened, self._config_or_default())   # (a run of these runs; no other settings asked)
        else:
            self.send("configure", self._config_or_default())

    # -- construction ------------------------------------------------------------------
    def _place_views(self) -> None:
        """The workspaces (app/studio/workspaces.py) under a toolbar of their tabs and the run controls, the
        timeline under them, and the banners over their bottom right."""
        self.runs_panel = RunsPanel(self.runs_dir)
        self.workspaces = place(self)
        self.views = [self.loss_view, self.weights_view, self.features_view, self.gradients_view, self.strip_view,
                      self.health_view, self.health_banner]
        self.addToolBar(Qt.TopToolBarArea, self.controls.toolbar(self.workspaces.tabBar()))
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(beside_lesson(self), 1)   # the lesson pane joins it once the worker is there
        layout.addWidget(place_timeline(self))
        self.setCentralWidget(central)
        self.banners = BannerStack(central, (self.health_banner, self.banner), below=self.timeline)

    def show_workspace(self, name: str) -> None:
        """One of workspaces.NAMES: train, inspect, your-digit, results, runs."""
        self.workspaces.show_workspace(name)

    def _wire_runs(self) -> None:
        """The Runs panel asks; the worker opens, continues and records."""
        self.runs_panel.overlay_changed.connect(self.overlay_runs)
        self.runs_panel.message.connect(self.show_message)
        self.runs_panel.failed.connect(self.show_error)
        self.runs_panel.open_requested.connect(self.open_run)
        self.runs_panel.continue_requested.connect(self.continue_run)

    def _place_inspection(self) -> None:
        """Your own digit, why the network decided, and the results to click into."""
        self.image_sample = None      # the ImageSample chosen (your drawing or picture), None: the picker's
        self.your_digit.failed.connect(self.show_error)
        self.your_digit.opened.connect(self.banner.hide)     # a picture read: an earlier picture's error is old
        self.your_digit.sample_chosen.connect(self._image_chosen)
        self.your_digit.drawing_withdrawn.connect(self._drawing_withdrawn)
        self.your_digit.step_through_requested.connect(self.step_through)
        self.results_view.sample_clicked.connect(self.show_sample)
        self.results_view.sample_opened.connect(self._open_in_step_through)

    def _start_worker(self, data_path) -> None:
        self.thread = QThread(self)
        self.thread.setObjectName("training")
        self.worker = TrainingWorker(data_path, self.runs_dir)
        self.worker.moveToThread(self.thread)
        self.command.connect(self.worker.command)   # queued: the model runs on the worker's thread
        self._wire_views()
        # Slots of objects living on the GUI thread, so queued there (a lambda would run on the worker's thread).
        self.worker.model_changed.connect(self.on_model_changed)
        self.worker.kept.connect(self.on_kept)
        self.worker.state_changed.connect(self.on_state_changed)
        self.worker.failed.connect(self.show_error)
        self.worker.message.connect(self.show_message)
        self.worker.test_predictions.connect(self.on_test_predictions)
        self.worker.finished.connect(self.on_finished)
        self.worker.predictions.connect(self.sample_picker.set_predictions)
        self._route(self.sample_picker.predictions_wanted, "predict_split")
        self._route(self.layer_choice.requested, "select_layer")
        self.worker.layer_chosen.connect(self.layer_choice.show)
        self._route(self.workspaces.turned, "select_workspace")
        self.worker.workspace_chosen.connect(self.workspaces.follow)
        self.worker.run_changed.connect(self.runs_panel.run_changed)
        self.worker.run_changed.connect(self.compare_view.refresh_run)
        self.worker.current_run.connect(self.runs_panel.set_current)
        self.worker.run_opened.connect(self.on_run_opened)
        self.worker.records.connect(self._count_training)
        self.worker.update_applied.connect(self._count_update)
        self.worker.run_started.connect(self.on_run_started)
        self.worker.current_run.connect(self._run_shown)
        for read_or_written in (self.worker.loaded, self.worker.saved):
            read_or_written.connect(self.recent.add)
        self.worker.readable.connect(self._file_readable)
        self.settings_panel.refused.connect(self.show_error)
        self.step_link = StepThroughLink(self)
        self.thread.start()

    def send(self, name: str, *values) -> None:
        """A command to the studio model (its names: app/model/studio.py), carried out on the worker's thread."""
        self.command.emit(name, values)

    def _route(self, signal, name: str) -> None:
        """A view's request (a signal of the GUI thread) becomes the model's command `name`."""
        signal.connect(lambda *values: self.send(name, *values))

    def _wire_views(self) -> None:
        """The views subscribe to the worker; the draw feedback brackets them (its docstring says why)
        and answers the worker's frames with views_drawn, the back-pressure."""
        self.draw_feedback = DrawFeedback(self)
        for part in (self.worker.records, self.worker.snapshot, self.worker.frame):
            part.connect(self.draw_feedback.frame_arrived)
        self.worker.state_changed.connect(self.draw_feedback.restart)
        for view in self.views:
            view.subscribe(self.worker)
        self.status.subscribe(self.worker)
        self._wire_inspection()
        self.worker.snapshot.connect(self._snapshot_shown)
        for end in (self.worker.snapshot, self.worker.frame):   # a frame ends with its snapshot, or with none
            end.connect(self.draw_feedback.frame_shown)
        self._route(self.draw_feedback.drawn, "views_drawn")
        wire_timeline(self)

    def _wire_inspection(self) -> None:
        """Your digit, the attribution maps and the results: their requests to the worker (queued to its
        thread) and what the worker sends back."""
        worker = self.worker
        self.your_digit.subscribe(worker)
        self._route(self.attribution_view.request_changed, "request_attribution")
        worker.attribution.connect(self.attribution_view.show_attribution)
        self._route(self.results_view.evaluate_requested, "evaluate_split")
        worker.evaluated.connect(self.results_view.show_results)

    def fit_to_screen(self) -> None:
        """A size that fits the screen's available area (1600×980 where there is room), centred."""
        screen = self.screen().availableGeometry()
        width, height = min(1600, screen.width() - 40), min(980, screen.height() - 60)  # room for the frame
        self.resize(width, height)
        self.move(screen.x() + (screen.width() - width) // 2, screen.y() + max(0, (screen.height() - height) // 2 - 20))

    def say_once(self, text: str) -> None:
        """A note about the remembered settings (unusable values, a settings file that cannot be written)."""
        self.statusBar().showMessage(text, 20000)

    # -- what is shown -----------------------------------------------------------------
    def show_error(self, text: str) -> None:
        text = in_words(text)  # field labels, not RunConfig's names
        self.replaced_note = ""   # a file that failed to open replaced nothing: no note of where the network stays
        self.step_link.error_shown(text)
        self.banner.show_text(text)
        self.statusBar().showMessage(text.splitlines()[0], 10000)
        self.error_shown.emit(text)

    def _run_shown(self, folder: str) -> None:
        self.shown_run = str(Path(folder).absolute()) if folder else ""

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    def show_tour(self) -> None:
        """The tour, scrolled within the screen (a message box grew past a 768 px screen)."""
        show_tour(self)

    def show_about(self) -> None:
        QMessageBox.about(self, "About CNN Studio", ABOUT)

    # -- the window's own events ---------------------------------------------------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.clamp_on_show:   # now the frame is known: the window, frame and all, within the screen
            self.clamp_on_show = False
            QTimer.singleShot(0, self, self._clamp)

    def _clamp(self) -> None:
        clamp_to_screen(self)

    def closeEvent(self, event) -> None:
        """Saves what is remembered, ends the run (app/studio/quitting.py: its checkpoint at the step it is at,
        written without freezing the window; asked first only if something would be lost), joins the
        worker's thread, and deletes the views and
        the step-through now, in Qt's order: left to Python's garbage collector they would be destroyed
        in any order whenever it next runs (a segfault, seen while another window was open)."""
        if self.closed:  # a second close (pytest-qt closes every window it was given) finds nothing to do
            event.accept()
            return
        if not may_close(self):
            event.ignore()   # the user stays (or the run is being ended already)
            return
        self.closed = True
        OPEN_WINDOWS.discard(self)
        problem = remember(self)
        if problem:
            print(f"cnn-studio: {problem}", file=sys.stderr)
        self.step_link.close()
        if self.thread.isRunning():
            # Blocking: the worker ends its run on its own thread before that thread's loop quits.
            QMetaObject.invokeMethod(self.worker, "shutdown", Qt.BlockingQueuedConnection)
            self.thread.quit()
            self.thread.wait()
        # What the worker said before it stopped, still queued for this window's objects, is moot now.
        for receiver in [self, *self.findChildren(QObject)]:
            QCoreApplication.removePostedEvents(receiver, QEvent.MetaCall)
        self.controls.detach()
        self.collector.stop()
        for widget in (self.step_window, self.arch_editor, self.centralWidget()):
            if widget is not None:
                shiboken6.delete(widget)  # no event of theirs is being handled: close comes from the window
        event.accept()


def default_runs_dir() -> Path:
    """Where the studio records its runs unless told (--runs): the user's application-data folder,
    ".../CNN Studio/runs". Qt appends both the organization and the application name, which are the
    same here ("CNN Studio/CNN Studio"): one is dropped. Runs already recorded under the doubled
    folder (by earlier versions) are still used while the new one does not exist."""
    app_data = Path(QStandardPaths.writableLocation(QStandardPaths.AppDataLocation))
    if app_data.name != app_data.parent.name:
        return app_data / "runs"
    runs, doubled = app_data.parent / "runs", app_data / "runs"
    return doubled if not runs.exists() and doubled.is_dir() else runs
