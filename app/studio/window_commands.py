"""The window's commands (the File, Training and Sample menus, the run controls, the Runs panel's
requests): each becomes a command to the studio model by the window's one route, `send`. A part of
MainWindow (app/studio/window.py), kept apart so that each part can be read whole."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from cnn.config import RunConfig
from cnn.runs.runfile import read_info
from cnn.settings import LABELS

from app.studio.arch_editor import ArchitectureEditor
from app.studio.replacing import may_replace
from app.model.state import RunState

WEIGHTS_FILTER = "CNN Studio weights (*.npz);;All files (*)"
OPEN_FILTER = "Networks (*.npz *.keras *.onnx);;CNN Studio weights (*.npz);;Keras models (*.keras);;" \
              "ONNX models (*.onnx);;All files (*)"


class Commands:
    def _config_or_default(self) -> RunConfig:
        try:
            return self.settings_panel.config()
        except ValueError:
            return RunConfig()

    def _settings_or_error(self) -> RunConfig | None:
        """The settings as a run, or None after saying what is wrong with them. Text still being typed counts;
        while the banner says a setting was refused, nothing starts (the field went back to its last value,
        and a run of it would not be the one asked for): the user fixes it or dismisses the banner."""
        if not self.settings_panel.commit_typing() or (not self.banner.isHidden() and self._says_a_setting()):
            return None
        try:
            return self.settings_panel.config()
        except ValueError as error:
            self.show_error(str(error))
            return None

    def _says_a_setting(self) -> bool:
        """Whether the banner's text is about a setting ("Batch size must be …")."""
        text = self.banner.text.text()
        return any(text.startswith(f"{label} must be ") for label in LABELS.values())

    def _settings_fixed(self) -> None:
        """An edit left settings that make a run: an error the banner says about a setting ("Batch size must
        be at most the 20 training images, not 5000", beside a field that now says 4) goes; Start checks
        them again."""
        if self._says_a_setting():
            text = self.banner.text.text()
            self.banner.hide()
            if self.statusBar().currentMessage() == text.splitlines()[0]:   # (it said the same: it goes too)
                self.statusBar().clearMessage()

    def start(self) -> None:
        if self.state is RunState.PAUSED:
            self.toggle_pause()
            return
        config = self._settings_or_error() if self.state is RunState.IDLE else None
        if config is None:
            return
        if self.model is not None and not self._panel_describes(self.model.config) and not may_replace(self):
            self.settings_panel.undo_edit(self.model.config)   # (settings that waited for Start: a new network)
            return
        self.banner.hide()
        self.send("start", config)  # the views set their x range when the run starts (run_started)

    def edit_architecture(self) -> None:
        """The architecture editor on the settings' network; its Apply starts a new run (apply_architecture)."""
        config = self._config_or_default()
        if self.arch_editor is None:
            self.arch_editor = ArchitectureEditor(self)
            self.arch_editor.applied.connect(self.apply_architecture)
        self.arch_editor.set_training(self.state is not RunState.IDLE)
        self.arch_editor.set_network(config.architecture, config.preset, len(config.classes))
        self.arch_editor.show()
        self.arch_editor.raise_()

    def apply_architecture(self, text: str) -> None:
        if self.state is not RunState.IDLE:
            self.show_error("Stop the run first: a new network starts a new run.")
            return
        if not may_replace(self, "A new network of the edited architecture"):   # asked once, not by Reset and Start
            return
        self.settings_panel.architecture = text
        config = self._settings_or_error()
        if config is not None:
            self.banner.hide()
            self.send("configure", config)
            self.send("start", config)

    def _network_edited(self) -> None:
        """A data or network setting changed while idle: the new, untrained network is shown at once (the
        views showed the old one until Start). Settings that do not make a network yet wait for Start, and
        so does a batch larger than the images chosen: the user is still typing (the digits preset's batch
        of 128 against 10 images per class on the way to a smaller batch); Start says what is wrong."""
        try:
            config = self.settings_panel.config()
        except ValueError:
            return
        if config.limit is not None and config.batch_size > config.limit * len(config.classes):
            return
        if self.state is RunState.IDLE and self.model is not None and not self._panel_describes(self.model.config):
            if not may_replace(self):        # training kept nowhere: the user keeps the network
                self.settings_panel.undo_edit(self.model.config)
                return
            self.banner.hide()               # what it said was about the network replaced, as Reset's
            self.send("configure", config)   # its model_changed redraws every view and the summary

    def toggle_pause(self) -> None:
        if self.state is RunState.RUNNING:
            self.send("pause")
        elif self.state is RunState.PAUSED:
            self.send("resume")

    def stop(self) -> None:
        self.send("stop")

    def reset(self) -> None:
        config = self._settings_or_error()
        if config is None:
            return
        if not may_replace(self, "A fresh network"):   # training kept nowhere: asked first, as for a preset
            return
        self.banner.hide()   # what it said was about the network replaced
        self.send("configure", config)  # the views clear when the new network arrives (model_changed)

    _checking = ""     # the file read before the question about training kept nowhere (_file_readable)

    def open_weights(self, path: str, readable: bool = False) -> bool:
        """Asks the worker to read the file; it goes into Open recent once it has been read (loaded). Over training
        kept nowhere the file is read first (check_weights), and the question asked once it reads: a file that
        cannot be read is refused before anything is asked. `readable`: it is known to read (a lesson's). False
        when the user keeps the trained network instead (app/studio/replacing.py)."""
        if self.kept.at_risk and not readable:
            self._checking = str(path)
            self.send("check_weights", str(path))
            return True
        if not may_replace(self, f"The network in {Path(path).name}"):
            return False
        self.banner.hide()
        self.send("load_weights", str(path))
        return True

    def _file_readable(self, path: str) -> None:
        if path == self._checking:
            self._checking = ""
            self.open_weights(path, readable=True)

    def save_weights(self, path: str) -> None:
        """Asks the worker to write the file; it goes into Open recent once it has been written (saved)."""
        self.send("save_weights", str(path))

    def open_weights_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open weights", self.recent.last_folder(), OPEN_FILTER)
        if path:
            self.open_weights(path)

    def save_weights_dialog(self) -> None:
        folder = Path(self.recent.last_folder())
        path, _ = QFileDialog.getSaveFileName(self, "Save weights", str(folder / "weights.npz"), WEIGHTS_FILTER)
        if path:
            self.save_weights(path if path.endswith(".npz") else path + ".npz")

    def export_dialog(self) -> None:
        folder = Path(self.recent.last_folder())
        path, _ = QFileDialog.getSaveFileName(self, "Export view as PNG", str(folder / "cnn-studio.png"),
                                              "PNG image (*.png)")
        if path:
            self.export_png(path if path.lower().endswith(".png") else path + ".png")

    def export_png(self, path: str, whole_window: bool = False) -> bool:
        widget = self if whole_window else self.workspaces.currentWidget()
        ok = widget.grab().save(str(path), "PNG")
        if ok:
            self.statusBar().showMessage(f"Saved {path}", 8000)
        else:
            self.show_error(f"{path}: could not write the PNG file")
        return ok

    def open_run(self, folder: str) -> None:
        """Show a recorded run: its last checkpoint's network and its curves."""
        if may_replace(self, run_named(folder)):
            self.banner.hide()
            self.send("open_run", str(folder))

    def continue_run(self, folder: str, epochs: int) -> None:
        """Train a recorded run for `epochs` more epochs, in its own folder."""
        if may_replace(self, run_named(folder)):
            self.banner.hide()
            self.send("continue_run", str(folder), int(epochs))

    def overlay_runs(self, folders) -> None:
        """Overlay the ticked runs' curves (beside the Runs panel)."""
        self.compare_view.show_runs(folders)

    def _learning_rate_changed(self, value: float) -> None:
        self.send("set_learning_rate", value)  # also when idle: a Start may be on its way
        if self.state is not RunState.IDLE:
            self.statusBar().showMessage(f"Learning rate {value:g} from the next step", 4000)


def run_named(folder) -> str:
    """The question's words for what opening or continuing a recorded run puts in place: by the run's name, as the
    Runs panel lists it."""
    try:
        name = read_info(Path(folder)).name
    except (OSError, ValueError):
        name = Path(folder).name
    return f"The last checkpoint of the run “{name}”"
