"""A lesson section's Show me, carried out in the window: each step (app/model/lesson.py's VERBS) becomes
the studio model's command, sent by the window's one route; a step that needs the model's answer first
(a network built, trained or loaded; the step-through's weights) waits for it before the next one."""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.model.lesson import MOMENTS, Section, Step, is_trained, preset_config, shipped
from app.studio.replacing import may_replace

REPLACEMENT = "The lesson's network"    # the question's words for it (app/studio/replacing.py)
KEPT = "the trained network was kept: save it (File ▸ Save weights), then Show me again."


# the tabs a step shows, as the window's attributes (app/model/lesson.py's TABS)
TAB_WIDGETS = {"loss": "loss_view", "health": "health_view", "layer": "views_splitter", "strip": "strip_view"}


class ShowMe(QObject):
    done = Signal(int)          # the section whose Show me is complete
    stopped = Signal(str)       # it could not go on: why

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.section: Section | None = None
        self.steps: list[Step] = []
        self.waiting = ""       # what the next step waits for: 'model', 'snapshot', 'trained', 'step' or ''
        self.phase = None       # (phase, layer) to turn the step-through to once it shows
        window.worker.model_changed.connect(self._model_changed)   # queued: runs on the GUI thread
        window.snapshot_shown.connect(self._snapshot_shown)
        window.training_finished.connect(self._finished)
        window.step_window_shown.connect(self._step_window_shown)
        window.error_shown.connect(self._failed)

    @property
    def busy(self) -> bool:
        return self.section is not None

    def run(self, section: Section) -> None:
        self.section, self.steps, self.waiting = section, list(section.show), ""
        self._go_on()

    def _go_on(self) -> None:
        while self.steps and not self.waiting:
            step = self.steps.pop(0)
            getattr(self, f"_{step.verb}")(*step.values)
        if not self.steps and not self.waiting and self.section is not None:
            number, self.section = self.section.number, None
            self.done.emit(number)

    # -- the steps --------------------------------------------------------------------------
    def _preset(self, name: str) -> None:
        model, config = self.window.model, preset_config(name)
        if model is not None and model.config == config and not any(self.window.trained):
            return    # that untrained network is shown already
        if not may_replace(self.window, REPLACEMENT):
            self._failed(KEPT)
            return
        self.window.send("configure", config)
        self.waiting = "model"

    def _trained(self, name: str) -> None:
        model = self.window.model
        if model is not None and is_trained(model.config, self.window.trained, name):
            self.window.settings_panel.set_config(model.config)   # the form says what trained it (not a draft)
            return
        config = preset_config(name)
        if not may_replace(self.window, REPLACEMENT):
            self._failed(KEPT)
            return
        self.window.banner.hide()
        self.window.send("configure", config)
        self.window.send("start", config)
        self.window.statusBar().showMessage(f"Show me: training the {name} network ({config.epochs} epochs)…", 8000)
        self.waiting = "trained"

    def _load(self, name: str) -> None:
        path = str(shipped(name))
        model = self.window.model
        if model is not None and model.source == path and not any(self.window.trained):
            return
        if not self.window.open_weights(path, readable=True):   # (shipped: it reads) the trained network kept
            self._failed(KEPT)
            return
        self.waiting = "model"

    def _workspace(self, name: str) -> None:
        self.window.send("select_workspace", name)

    def _tab(self, name: str) -> None:
        from app.studio.workspaces import reveal
        reveal(getattr(self.window, TAB_WIDGETS[name]))   # turns to its workspace too (select_workspace)

    def _layer(self, index: str) -> None:
        self.window.send("select_layer", int(index))

    def _sample(self, split: str, index: str) -> None:
        self.window.show_sample(split, int(index))

    def _misclassified(self) -> None:
        self.window.sample_picker.jump_to_next_misclassified()

    def _step(self, phase: str, layer: str) -> None:
        self.phase = (phase, int(layer))
        self.window.step_through()     # send_weights: the step-through opens on the model's weights
        self.waiting = "step"

    def _moment(self, which: str) -> None:
        self.window.send("moment", MOMENTS[which])   # the views follow; a run without moments says so

    # -- the model's answers ----------------------------------------------------------------------
    def _model_changed(self, _info) -> None:
        if self.waiting == "model":     # its views follow once the model has evaluated it: its first snapshot
            self.waiting = "snapshot"

    def _snapshot_shown(self) -> None:
        if self.waiting == "snapshot":
            self.waiting = ""
            self._go_on()

    def _finished(self) -> None:
        if self.waiting == "trained":
            self.waiting = ""
            self._go_on()

    def _step_window_shown(self) -> None:
        if self.waiting != "step":
            return
        dialog, (phase, layer) = self.window.step_window, self.phase
        found = [n for n, step in enumerate(dialog.steps) if step.phase == phase and step.layer == layer]
        if found:
            dialog.show_step(found[0])
        self.waiting = ""
        self._go_on()

    def _failed(self, text: str) -> None:
        if self.section is not None:
            self.section, self.steps, self.waiting = None, [], ""
            self.stopped.emit(text.splitlines()[0])
