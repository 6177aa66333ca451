"""The chosen sample, as the window keeps it: the sample picker's MNIST image, or your own drawing or
picture (an ImageSample); what a click in the Results, an Undo on the pad or a dropped file makes of
it; the step-through opened on it. A part of MainWindow (app/studio/window.py)."""
from __future__ import annotations

from pathlib import Path

from app.widgets.dropped import dropped_files
from app.widgets.image_files import DRAWING_SUFFIXES, IMAGE_SUFFIXES


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
        self.send("select_image", sample)
        self.step_link.sample_changed()

    def _drawing_withdrawn(self, drawing, before) -> None:
        """The pad's drawing was undone or cleared: while it is the sample, the one before it comes back."""
        if self.image_sample is drawing:
            if before is not None:
                self._image_chosen(before)
            else:
                self._picker_changed(*self.sample_picker.current)
                self.step_link.sample_changed()

    def _picker_changed(self, split: str, index: int) -> None:
        self.image_sample = None
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
            if Path(files[0]).suffix.lower() in IMAGE_SUFFIXES + DRAWING_SUFFIXES:   # a drawing: refused, named
                self.show_workspace("your-digit")
                self.your_digit.open_image(files[0])
            else:
                self.open_weights(files[0])
            event.acceptProposedAction()
