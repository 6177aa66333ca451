"""What the window shows, two parts of MainWindow (app/studio/window.py):
- SampleChoice: the chosen sample, as the window keeps it: the sample picker's MNIST image, or your
  own drawing or picture (an ImageSample); what a click in the Results, an Undo on the pad or a
  dropped file makes of it; the step-through opened on it.
- Reports: what the studio model reports, as the window shows it: a new or loaded network in the
  fields, the picker and the network summary; an opened run's settings; the epochs trained; the
  run's state in the controls.
Their methods are plain (no @Slot): a slot declared on a mixin that is no QObject crashed PySide6
when the worker's signal arrived; a bound method of the window is queued to its thread all the same."""
from __future__ import annotations

from pathlib import Path

from cnn.pictures import DRAWING_SUFFIXES, SUFFIXES
from cnn.settings import DATA_AND_NETWORK

from app.model.model_info import trained_after, trained_text
from app.model.state import RunState
from app.widgets.dropped import dropped_files


class SampleChoice:
    def step_through(self) -> None:
        """Opens the step-through on the current sample, with a copy of the weights (training pauses)."""
        self.step_link.open()

    def current_sample(self):
        """The chosen sample: your ImageSample, or the picker's (split, index)."""
        return self.image_sample if self.image_sample is not None else self.sample_picker.current

    def _image_chosen(self, sample) -> None:
        """Your drawing or picture becomes the sample every view shows."""
        self.image_sample = sample
        self.sample_picker.show_image(sample)
        self.send("select_image", sample)
        self.step_link.sample_changed()

    def _drawing_withdrawn(self, drawing, before) -> None:
        """The pad's drawing was undone or cleared: while it is the sample, the one before it comes back."""
        if self.image_sample is drawing:
            if before is not None:
                self._image_chosen(before)
            else:
                split, index = self.sample_picker.current
                self._picker_changed(split, index)
                self.your_digit.show_other(f"{'test' if split == 'test' else 'training'} image #{index}")
                self.step_link.sample_changed()

    def _picker_changed(self, split: str, index: int) -> None:
        self.image_sample = None
        self.sample_picker.show_image(None)
        self.send("select_sample", split, index)

    def show_sample(self, split: str, index: int) -> None:
        """An MNIST image becomes the chosen sample (also when the picker already shows it under your image)."""
        self.sample_picker.select(split, index)   # says so when it changes
        if self.image_sample is not None:
            self._picker_changed(*self.sample_picker.current)

    def _open_in_step_through(self, split: str, index: int) -> None:
        self.show_sample(split, index)
        self.step_through()

    @property
    def step_window(self):
        """The step-through window, once it has been opened."""
        return self.step_link.dialog

    def dragEnterEvent(self, event) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        files = dropped_files(event.mimeData())
        if files:
            if Path(files[0]).suffix.lower() in SUFFIXES + DRAWING_SUFFIXES:   # a drawing: refused, named
                self.show_workspace("your-digit")
                self.your_digit.open_image(files[0])
            else:
                self.open_weights(files[0])
            event.acceptProposedAction()


class Reports:
    def _snapshot_shown(self, _snapshot) -> None:
        self.snapshot_shown.emit()

    def on_model_changed(self, info) -> None:
        """A new or loaded network: the fields show the settings it runs with (a loaded digits network
        switches the preset box too), the picker its data."""
        self.model, self.trained, self.updates = info, info.trained, 0
        if self.replaced_note:       # where the training of the network it replaced stays
            self.show_message(self.replaced_note)
            self.replaced_note = ""
        if not self._panel_describes(info.config):
            self.settings_panel.blockSignals(True)
            self.settings_panel.set_config(info.config)
            self.settings_panel.blockSignals(False)
        self.sample_picker.set_data(info.images, info.labels)
        self.attribution_view.set_model(info)
        self.results_view.set_model(info)
        self._describe_model()
        self.layer_choice.set_layers(info.layers)
        if self.image_sample is not None:
            self.send("select_image", self.image_sample)
        else:
            self.send("select_sample", *self.sample_picker.current)
        self.step_link.model_changed()

    def on_kept(self, kept) -> None:
        """Whether the network's training is kept (a run's checkpoint, a file): a new one replaces it freely."""
        self.kept = kept

    def _panel_describes(self, config) -> bool:
        """Whether the fields already hold this network's data and network settings: then what the user
        typed meanwhile (a learning rate typed before the first network arrived) is kept."""
        try:
            shown = self.settings_panel.config()
        except ValueError:
            return False
        return all(getattr(shown, name) == getattr(config, name) for name in DATA_AND_NETWORK)

    def on_run_opened(self, config) -> None:
        """An opened run's settings in the panel, its Epochs its planned total, so that Start goes on with
        it: an interrupted run trains the rest of its plan."""
        self.settings_panel.blockSignals(True)
        self.settings_panel.set_config(config)
        self.settings_panel.blockSignals(False)

    def on_run_started(self, _epochs_before: int, epochs_after: int) -> None:
        """The run's planned total in Epochs: a Start that trains a finished run further, or a Continue,
        grows it."""
        if self.settings_panel.epochs.value() != epochs_after:
            self.settings_panel.blockSignals(True)
            self.settings_panel.epochs.setValue(epochs_after)
            self.settings_panel.blockSignals(False)

    def _count_training(self, records) -> None:
        if self.model is not None:
            trained = trained_after(records, self.trained)
            if trained != self.trained:
                self.trained = trained
                self._describe_model()

    def _count_update(self, *_losses) -> None:
        """The step-through applied one update to the network shown."""
        if self.model is not None:
            self.updates += 1
            self._describe_model()

    def _describe_model(self) -> None:
        info = self.model
        source = info.source
        if any(self.trained):  # "new network (seed 0)" is no longer new once it has trained a step
            source = f"{source.replace('new network', 'network')}, {trained_text(self.trained)}"
        if self.updates:       # nor once the step-through has updated it
            source = (f"{source.replace('new network', 'network')}, {self.updates:,} step-through "
                      f"update{'s' * (self.updates != 1)}")
        self.model_label.setText(f"<b>Network</b> ({source}; {info.parameter_count:,} parameters, "
                                 f"{info.config.dtype}, loss: {info.loss_name.replace('_', ' ')}){self.moment_note}; "
                                 "click a layer to show it:")

    moment_note = ""   # the timeline's moment the views show, said after the network's description

    def moment_shown(self, step: int | None, position: float | None) -> None:
        """The views show the network as it was at `step` (None: as it is)."""
        self.moment_note = "" if step is None else f", shown as it was at step {step:,} (epoch {position:.2f})"
        if self.model is not None:
            self._describe_model()

    def on_state_changed(self, state: RunState) -> None:
        self.state = state
        self.controls.set_state(state)
        self.settings_panel.set_editable(state is RunState.IDLE)
        if self.arch_editor is not None:
            self.arch_editor.set_training(state is not RunState.IDLE)
        self.runs_panel.set_busy(state is not RunState.IDLE, paused=state is RunState.PAUSED)
        self.step_link.state_changed(state)

    def on_test_predictions(self, digits) -> None:
        self.sample_picker.set_predictions("test", digits)

    def on_finished(self) -> None:
        self.statusBar().showMessage("Training finished.", 10000)
        self.training_finished.emit()
