"""The studio's side of runs on disk, Qt-free: which run the network belongs to, and its recorder
while it trains. The worker asks and emits; the rules are here.

- Start with the network of a run, and the same settings: that run goes on, in its own folder
  (its metrics cut back to the network's epoch; the views are given its curves as on disk).
- Start with another training setting (learning rate, batch, momentum, decay, shift): a new run
  from a fresh network (the worker builds it), as TensorBoard keeps one run per setting.
- A new network (fresh, loaded from weights) has no run until its first Start makes one.
- Stop (or closing the studio) inside an epoch leaves the run's checkpoint at that step; Start goes on
  from it, inside the epoch.
"""
from __future__ import annotations

from pathlib import Path

from cnn.config import RunConfig
from cnn.files import naming
from cnn.runs.lock import RunBusy
from cnn.runs.recorder import RunRecorder
from cnn.runs.store import LAST, inspect
from cnn.session import Session
from cnn.train import EpochRecord

from app.model.run_curves import RunCurves, read_curves
from cnn.settings import TRAINING_SETTINGS

from app.model.run_labels import setting_text


def epochs_to_train(epochs_done: int, planned: int) -> int:
    """How many epochs a Start trains. The settings' epochs are the run's planned total: a network
    that has done fewer goes on to that total (an interrupted run finishes its plan); one that has
    done them all (or more) trains that many again, its plan growing by as much."""
    return planned - epochs_done if planned > epochs_done else planned


TRAINING_GOES_ON = " Training goes on; File ▸ Save weights keeps the result."   # in the window, not a script

class NotRecorded(Exception):
    """The run could not be recorded (the message says where and why); training may go on."""


class RecordingFailed(OSError):
    """The run's files could not be written while training (a full disk, a removed folder)."""


class Recording:
    def __init__(self, runs_dir):
        self.runs_dir = Path(runs_dir) if runs_dir is not None else None   # None: nothing is recorded
        self.folder: Path | None = None          # the run the session's network belongs to
        self.recorder: RunRecorder | None = None
        self.lost: Path | None = None            # the run's folder the last begin found deleted (or damaged)

    def training_changes(self, session: Session | None, config: RunConfig) -> list[str]:
        """How `config` differs from the settings of the network's run ('lr 0.1 → lr 0.5') in what
        makes another run; [] when it goes on with the run (or the network has none yet)."""
        if self.folder is None or session is None or not session.can_resume(config):
            return []
        old = session.config
        return [f"{setting_text(name, getattr(old, name))} → {setting_text(name, getattr(config, name))}"
                for name in TRAINING_SETTINGS if getattr(old, name) != getattr(config, name)]

    def begin(self, session: Session, epochs: int, source: str, name: str | None = None) -> RunCurves | None:
        """Record `epochs` epochs of `session`: into the network's run, whose curves (as on disk) are
        returned, or into a new run (None) called `name`. Raises NotRecorded."""
        if self.runs_dir is None:
            return None
        self.lost = self.folder if self.folder is not None and inspect(self.folder).info is None else None
        if self.lost is not None:
            self.folder = None   # deleted (or damaged) since it was recorded: a new run
        try:
            if self.folder is not None:
                self.recorder = RunRecorder.resume(self.folder, session, epochs)
                # a stopped epoch's steps were cut: they go from the views
                return read_curves(self.folder, names=session.network.params)
            self.recorder = RunRecorder.start(self.runs_dir, session, epochs, source=source, name=name)
            self.folder = self.recorder.folder
            return None
        except (OSError, ValueError, RunBusy) as error:
            self.recorder = None
            raise NotRecorded(f"This run is not recorded: {naming(error, self.folder or self.runs_dir)}."
                              f"{TRAINING_GOES_ON}") from None

    def keep(self, record) -> bool:
        """Write one training record; True when it ended an epoch (run.json changes once the recorder's
        thread has written the epoch's files: `recorder.writing`)."""
        if self.recorder is None:
            return False
        try:
            self.recorder.add(record)
        except (OSError, ValueError) as error:
            folder = self.recorder.folder   # moved or deleted while training: nothing of the run is kept there
            kept = "Its last checkpoint is kept." if (folder / LAST).is_file() else \
                f"No checkpoint is left in {folder}."
            raise RecordingFailed(f"Training stopped: the run could not be recorded: {error}. {kept}") from None
        return isinstance(record, EpochRecord)

    def flush(self) -> None:
        if self.recorder is not None:
            self.recorder.flush()

    def end(self) -> Path | None:
        """The run ends (finished if all its epochs are done, else interrupted, with its checkpoint);
        returns its folder. Raises OSError if its status could not be written."""
        recorder, self.recorder = self.recorder, None
        if recorder is not None:
            recorder.close()
            return recorder.folder
        return None

    def is_recording(self, folder) -> bool:
        return self.recorder is not None and Path(folder) == self.recorder.folder
