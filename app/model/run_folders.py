"""Runs on disk, as the studio model sees them: the run the network belongs to, recorded while it
trains (the rules: app/model/recording.py), opened from the Runs panel, continued."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from cnn.runs.metrics import METRICS_FILE, ReadStats
from cnn.runs.opening import data_path, open_run
from cnn.runs.recorder import CheckpointNotWritten, default_name
from cnn.runs.store import LAST
from cnn.session import Session
from cnn.train import StepRecord

from app.model.keeping import Kept
from app.model.recording import NotRecorded, Recording
from app.model.run_curves import read_curves
from app.model.state import RunState


class RunFolders:
    def __init__(self, studio, runs_dir):
        self.studio = studio
        self.runs_dir = Path(runs_dir) if runs_dir is not None else None   # None: nothing is recorded
        self.recording = Recording(self.runs_dir)
        self.weights_file: str | None = None   # the name of the file the network's weights were loaded from
        self._changed = False    # an epoch was recorded since run_changed was last sent
        self.kept = self._kept_told = Kept()   # whether the network's training is kept (app/model/keeping.py)

    @property
    def folder(self) -> Path | None:
        """The run the session's network belongs to."""
        return self.recording.folder

    @property
    def recorder(self):
        """The run's recorder while it trains, else None."""
        return self.recording.recorder

    def record(self, epochs: int, grown: bool = False) -> None:
        """Record `epochs` epochs of the session; `grown`: the network had done the planned epochs, and Start
        trains that many again (app/model/recording.py's epochs_to_train), which the user is told."""
        studio = self.studio
        done = studio.session.epochs_done
        if grown and done:
            studio.emit("message", f"The network had trained its {done} planned epoch{'s' * (done != 1)}: Start "
                                   f"trains {epochs} more, {done + epochs} in all (Epochs is the run's total).")
        try:
            curves = self.recording.begin(studio.session, epochs, studio.source(),
                                          default_name(studio.session, self.weights_file))
        except NotRecorded as error:   # training is not refused for it, but not silently
            studio.emit("failed", str(error))
            return
        lost = self.recording.lost
        if lost is not None and self.recording.recorder is not None:   # the new run that records it is said
            studio.emit("message", f"The run's folder {lost} is gone or damaged: the training goes on as a new "
                                   f"run, {self.recording.folder.name}, from epoch {done + 1}.")
        if curves is not None:
            studio.emit("history", curves)
        studio.emit("current_run", str(self.recording.folder or ""))
        if self.recording.recorder is not None:   # its first checkpoint holds the weights, and it records the rest
            self.kept = self.kept.in_run(self.recording.recorder.info.name, recording=True)
            self._tell_kept()

    def keep(self, record) -> None:
        if isinstance(record, StepRecord):
            self.kept = self.kept.trained()
            if self.kept.at_risk and not self._kept_told.at_risk:   # training no run keeps: the window knows at once
                self._tell_kept()
        if self.recording.keep(record):   # an epoch recorded: its checkpoint holds the weights
            self._changed = True
            self.kept = self.kept.in_run(self.recording.recorder.info.name, recording=True)

    def tell_changes(self) -> None:
        """run_changed for the epochs recorded since it was last sent, and `kept` if it changed. They go with the
        views' frames (Studio.flush), not at every epoch: the original network's epochs take 0.08 s, and each re-read
        of the run by the Runs panel and the timeline held the GIL that training needs."""
        recorder = self.recording.recorder
        if self._changed and not (recorder is not None and recorder.writing):   # run.json has the epoch
            self._changed = False
            self.studio.emit("run_changed", str(self.recording.folder))
        if self.kept != self._kept_told:
            self._tell_kept()

    def _tell_kept(self) -> None:
        self._kept_told = self.kept
        self.studio.emit("kept", self.kept)

    def stop_recording(self) -> str | None:
        """Ends the recording; returns what went wrong, if anything (also sent as failed). A recording that
        ends well leaves the weights as they are in the run's last checkpoint: kept."""
        problem, recorder = None, self.recording.recorder
        try:
            folder = self.recording.end()
        except CheckpointNotWritten as error:
            folder, problem = self.recording.folder, str(error)
        except OSError as error:
            folder = self.recording.folder
            problem = f"{folder}: the run's status could not be written ({error})"
        if problem:
            self.studio.emit("failed", problem)
        if folder is not None:
            self.studio.emit("run_changed", str(folder))
        if recorder is not None and not recorder.failed and problem is None:
            self.kept = self.kept.in_run(recorder.info.name)
        else:   # the steps after its last good checkpoint are kept nowhere (its epochs since, too, written or not)
            lost = recorder.unkept_steps if recorder is not None else 0
            self.kept = replace(self.kept, recording=False, steps=max(self.kept.steps, lost))
        self._tell_kept()
        return problem

    def new_network(self) -> None:
        """A network made or opened: no run until its first Start, no training of its own yet."""
        self.set_folder(None)
        self.weights_file = None   # (named for the weights file it was loaded from: WeightsFiles.load)
        self.kept = Kept()
        self._tell_kept()

    def changed_outside_runs(self, saved_to: str | None = None) -> None:
        """The weights were saved to a file (`saved_to`), or changed by the step-through's update."""
        self.kept = self.kept.in_file(saved_to) if saved_to else self.kept.trained()
        self._tell_kept()

    def set_folder(self, folder) -> None:
        self.recording.folder = Path(folder) if folder is not None else None
        self.studio.emit("current_run", str(folder or ""))

    def open(self, folder: str) -> None:
        """Show a recorded run: its last checkpoint's network and its curves; the next Start goes on
        with it in its own folder. A run that cannot be opened leaves everything as it was."""
        if not self.recording.is_recording(folder):
            self.studio.guarded(lambda: self.load(folder))

    def load(self, folder: str) -> None:
        """Opens the run in `folder` (open); raises what is wrong with it, before anything changed."""
        studio = self.studio
        info, checkpoint = open_run(folder)
        session = Session.from_checkpoint(checkpoint, studio.load_raw(data_path(info)), source=info.data,
                                          named=f"{folder}: the checkpoint {LAST}")
        stats = ReadStats()   # gradient norms under names not of the network's parameters are dropped
        curves = read_curves(folder, up_to_epoch=checkpoint.epoch, stats=stats, names=session.network.params,
                             up_to_step=checkpoint.step)
        studio.end_run()
        planned = max(info.epochs_planned, 1)
        studio.install(session, f"run “{info.name}”", planned)
        self.set_folder(folder)
        self.kept = Kept(run=info.name)    # its network is the run's last checkpoint
        self._tell_kept()
        studio.emit("run_opened", session.config.with_changes(epochs=planned))   # its plan
        studio.emit("history", curves)
        ignored = f" ({METRICS_FILE}: gradient norms under names that are not this network's parameters were " \
                  "ignored)" if stats.ignored else ""
        studio.emit("message", f"Opened the run “{info.name}” {session.where()}{ignored}")

    def continue_run(self, folder: str, epochs: int) -> None:
        """Train the run in `folder` for `epochs` more epochs with its own settings, from its last
        checkpoint (or from the network shown, when that is the run's)."""
        studio = self.studio
        if studio.state is not RunState.IDLE:
            return
        if self.folder != Path(folder):
            self.open(folder)
            if self.folder != Path(folder):
                return      # it could not be opened; the reason was sent
        studio.start(studio.session.config.with_changes(epochs=studio.session.epochs_done + epochs))   # the new total
