"""Recording a run while it trains: the CLI and the studio's worker hand every training record to
a RunRecorder, which appends it to metrics.jsonl (and to TensorBoard's event file, cnn.runs.board)
and, at each epoch's end, writes the `last` checkpoint (and `best`, when test accuracy improved) and
updates run.json. A new run's `last` is written at its start too, and a recording closed inside an
epoch (Stop, Ctrl+C, closing the studio) writes it at the step it stopped at: every run can be continued.

The order at an epoch's end makes a SIGKILL at any moment cost at most the epoch in progress (and the
one before, in the milliseconds its files take): the epoch's line first, then the checkpoint (atomic),
the moment (cnn.runs.moments, atomic), then run.json (atomic). The training thread takes what they hold
and goes on; a thread of the recorder's own writes them in that order while the next epoch trains
(cnn.runs.writes), and pausing (flush) and closing wait for them. Moments are kept at the run's start,
after the first epoch's steps 1, 2, 4, 8, …, at every epoch's end and where a recording stopped inside
an epoch. A continued run starts from the checkpoint and cuts metrics.jsonl back to that checkpoint's
epoch and step.

A killed process loses nothing the kernel already has, so these writes are not fsynced every
epoch (that cost the original network's 200-image epochs ~15%); they are made durable against a
power failure at least every SYNC_SECONDS and when the recording ends.
"""
from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from .. import files
from ..atomic import WriteError, WriteInterrupted, sync_path
from ..session import Session
from ..train import EpochRecord, StepRecord
from .board import RunBoard
from .lock import RunBusy, RunLock, busy, is_live
from .metrics import METRICS_FILE, MetricsWriter, truncate_to_epoch
from .moments import folder_problem, header_entry, is_early, moment_later, prune_for_resume, share_moment
from .runfile import RunFile, RunInfo, new_info, read_info
from .store import BEST, LAST, RunStore, member_problem
from .writes import Writes

SYNC_SECONDS = 60.0
log = logging.getLogger("cnn.runs.recorder")


class RecordingError(OSError):
    """A run file that could not be written while recording (a full disk); str() names it and why."""


class CheckpointNotWritten(OSError):
    """The checkpoint at a stop inside an epoch could not be written; the run is closed, its last
    checkpoint the one before. The message says so."""


def default_name(session: Session, weights: str | None = None) -> str:
    """'digits lr 0.08 seed 0'; 'custom network lr 0.05 seed 0' for an architecture of your own; 'from
    w1.npz lr 0.08' for a network whose weights were loaded from the file `weights` (no seed made them)."""
    config = session.config
    if weights:
        return f"from {weights} lr {config.learning_rate:g}"
    network = config.preset if config.architecture is None else "custom network"
    return f"{network} lr {config.learning_rate:g} seed {config.seed}"


class RunRecorder:
    def __init__(self, folder: Path, session: Session, info: RunInfo, lock: RunLock, clock=time.monotonic):
        self.folder, self.session, self.info, self._lock = Path(folder), session, info, lock
        self.clock, self.last_sync = clock, clock()
        self.failed = False          # a file could not be written: the recording ended there
        self.metrics = MetricsWriter(self.folder / METRICS_FILE)
        try:
            self.board = RunBoard(self.folder, session)   # TensorBoard's view of the run (cnn.runs.board)
        except BaseException:
            self.metrics.discard()
            raise
        self._last_step: StepRecord | None = None   # the newest step recorded, while its epoch has not ended
        self._writes = Writes()      # the moments, checkpoints and run.json of the epochs, in order (cnn.runs.writes)
        self._written = info         # run.json's info for the newest epoch whose checkpoint is written (its name too)
        self._run_file = RunFile(self.folder, live=True)   # run.json, and renames meanwhile (store.rename)
        try:
            self._run_file.write(self.info)
        except BaseException:
            self._run_file.close()
            raise
        log.info("recording the run in %s", self.folder)

    @classmethod
    def start(cls, root, session: Session, epochs: int, source: str, name: str | None = None,
              engine: dict | None = None) -> "RunRecorder":
        """A new run folder under `root` for `epochs` epochs of `session`, counted from its current epoch;
        `engine`: what trains it ({"engine": "keras", "replicas": 2, "workers": 1}; ours by default)."""
        folder = RunStore(root).new_folder(session.config.preset)
        lock = RunLock(folder).acquire()
        planned = _plan(session, session.epochs_done + epochs)
        info = new_info(name or default_name(session), session.config, session.network.architecture(), source, planned)
        info = info.with_changes(epochs_done=session.epochs_done, **_within(session), **(engine or {}))
        try:
            _save_last(folder, session, _global_step(session))   # continuable from its first step on; its first moment
            return cls(folder, session, info, lock)
        except BaseException:       # its first checkpoint or run.json could not be written (a full disk)
            lock.release()
            raise

    @classmethod
    def resume(cls, folder, session: Session, epochs: int, engine: dict | None = None) -> "RunRecorder":
        """Record `epochs` more epochs of `session` into the existing run `folder`; its metrics are cut
        back to the session's epoch (a continued run repeats what came after it)."""
        folder = Path(folder)
        # before anything is written: no write may follow a link out of the folder
        problem = member_problem(folder) or folder_problem(folder)
        if problem is not None:
            raise ValueError(f"{folder}: {problem}")
        info = read_info(folder)
        if info.status == "running" and is_live(folder, info.pid, info.host):   # its .lock deleted, too
            raise RunBusy(busy(folder, info.pid))
        lock = RunLock(folder).acquire()
        try:
            info = read_info(folder)
            truncate_to_epoch(folder / METRICS_FILE, session.epochs_done, session.progress.step)
            prune_for_resume(folder, _global_step(session), session.steps_per_epoch)   # its moments too
            best = info.best_test_accuracy if (info.best_epoch or 0) <= session.epochs_done else None
            planned = _plan(session, session.epochs_done + epochs)
            info = info.with_changes(status="running", settings=session.config, epochs_done=session.epochs_done,
                                     **(engine or {"engine": "numpy", "replicas": 1, "workers": 1}),
                                     **_within(session), epochs_planned=planned, pid=os.getpid(),
                                     best_test_accuracy=best, best_epoch=info.best_epoch if best is not None else None)
            return cls(folder, session, info, lock)
        except BaseException:
            lock.release()
            raise

    def add(self, record: StepRecord | EpochRecord) -> None:
        """Record one; a run file that cannot be written (a full disk) ends the recording: RecordingError."""
        try:   # (not a context manager: this runs at every step, and one cost a microsecond and a half)
            self._add(record)
        except OSError as error:
            raise self._failure(error) from None

    def _failure(self, error: OSError) -> RecordingError:
        """An OSError (a file not written) ends the recording, its last good checkpoint kept."""
        self.failed = True
        return RecordingError(_named(self.folder, error))

    def _add(self, record: StepRecord | EpochRecord) -> None:
        self._writes.check()   # an epoch's files that could not be written end the recording
        if isinstance(record, StepRecord):
            self.metrics.add_step(record)
            self.board.add_step(record)
            self._last_step = record
            if is_early(record.global_step, record.steps_per_epoch) and self._holds(record):
                self._writes.submit(moment_later(self.folder, self.session.network, record.global_step,
                                                 record.steps_per_epoch))
            return
        self._last_step = None
        self.metrics.add_epoch(record)
        write_board = self.board.epoch_later(record)
        sync = self.clock() - self.last_sync >= SYNC_SECONDS
        if sync:
            self.last_sync = self.clock()
        step = record.epoch * self.session.steps_per_epoch
        write_last = self.session.checkpoint_later(self.folder / LAST, sync=sync, extra=header_entry(
            step, self.session.steps_per_epoch, record.test_loss, record.test_accuracy))   # also the epoch's moment
        changes = {"epochs_done": record.epoch, "step": 0, "steps_per_epoch": None}
        best = self.info.best_test_accuracy
        improved = record.test_accuracy == record.test_accuracy and (best is None or record.test_accuracy > best)
        if improved:
            changes.update(best_test_accuracy=record.test_accuracy, best_epoch=record.epoch)
        self.info = info = self.info.with_changes(name=self._written.name, **changes)
        metrics = self.metrics.file

        def write_epoch():   # on the writer's thread, in the order the module's docstring gives
            if sync:
                os.fsync(metrics.fileno())
            write_board()   # TensorBoard's event of the epoch (its histograms, its picture), as metrics' line: first
            write_last()
            self._written = info   # the checkpoint holds the epoch: so will run.json, even if what follows fails
            share_moment(self.folder, self.folder / LAST, step)
            if improved:
                files.link_or_copy(self.folder / LAST, self.folder / BEST)
            self._written = self._run_file.write(info, sync=sync)   # under the name run.json has
        self._writes.submit(write_epoch)

    def _holds(self, record: StepRecord) -> bool:
        """Whether the session's network holds the weights right after the record's step (our engine's
        progress says so; the Keras engine's network is brought up to date at the epoch's end only)."""
        progress = self.session.progress
        return record.epoch == self.session.epochs_done + 1 and progress.step == record.step and progress.settled

    def flush(self) -> None:
        """Hand buffered steps to the operating system, and wait for the epochs' files (the studio calls it
        when training pauses). Raises RecordingError as add() does."""
        try:
            self.metrics.flush()
            self.board.flush()
            self._writes.wait()
        except OSError as error:
            raise self._failure(error) from None

    @property
    def unkept_steps(self) -> int:
        """Steps the session has taken since the newest checkpoint written (after a failure: the last good one)."""
        written = self._written
        return _global_step(self.session) - written.epochs_done * self.session.steps_per_epoch - (written.step or 0)

    @property
    def writing(self) -> bool:
        """Whether an epoch's files are still being written (run.json is the one before until then)."""
        return self._writes.pending

    def close(self) -> str:
        """End the recording: finished if every planned epoch is done, else interrupted, with a checkpoint
        of the weights as they are (inside an epoch too). Returns the status. Raises RecordingError naming a
        file that could not be written, unless add() already did (then run.json is marked interrupted if it
        can be, and nothing more is raised); CheckpointNotWritten, once the run is closed, if the checkpoint
        at the stop could not be written."""
        if self._lock is None:
            return self.info.status
        error = None
        try:
            try:
                self._writes.close()
            except OSError as failure:
                error = failure
            self.info = self._written   # (an epoch whose checkpoint could not be written is not the run's)
            try:
                if not self.failed and error is None:
                    self.metrics.flush()
                    os.fsync(self.metrics.file.fileno())
            except OSError as failure:
                error = failure
            self.metrics.discard()     # closed (everything was written, unless a write failed)
            try:
                self.board.close()
            except OSError as failure:
                error = error or (None if self.failed else failure)
            within, problem = self._save_within_epoch() if error is None and not self.failed else ({}, None)
            for path in (self.folder / LAST, self.folder / BEST):   # not fsynced yet (run.json syncs the folder)
                sync_path(path)
            status = "finished" if self.info.epochs_done >= self.info.epochs_planned else "interrupted"
            self.info = self.info.with_changes(status=status, pid=None, **within)
            try:
                self.info = self._run_file.write(self.info)
            except OSError as failure:
                error = error or failure
        finally:
            self._run_file.close()
            self._lock.release()
            self._lock = None
        if error is not None and not self.failed:
            self.failed = True
            raise RecordingError(_named(self.folder, error))
        if problem:
            raise CheckpointNotWritten(problem)
        return self.info.status

    def _save_within_epoch(self) -> tuple[dict, str | None]:
        """Stopped inside an epoch: `last` becomes the weights as they are, at that step. Returns run.json's
        changes, and what went wrong if the checkpoint could not be written."""
        last, session = self._last_step, self.session
        progress = session.progress
        if last is None or session.epochs_done != last.epoch - 1 or progress.step != last.step or not progress.settled:
            return {}, None   # at an epoch's end (its checkpoint is written), steps of another engine, or cut mid-step
        try:
            _save_last(self.folder, session, last.global_step)   # where it stopped: its moment too
        except (OSError, ValueError, WriteInterrupted) as error:
            return {}, (f"{self.folder}: the checkpoint at epoch {last.epoch}, step {last.step} could not be "
                        f"written ({error}); the run goes on from its last checkpoint, "
                        + (f"at epoch {self.info.epochs_done + 1}, step {self.info.step}" if self.info.step
                           else f"after epoch {self.info.epochs_done}" if self.info.epochs_done else "at its start"))
        return {"step": last.step, "steps_per_epoch": last.steps_per_epoch}, None


def _save_last(folder: Path, session: Session, step: int, sync: bool = False) -> None:
    """The `last` checkpoint, which is also the run's moment at `step` (the same file under a second name)."""
    session.save_checkpoint(folder / LAST, sync=sync, extra=header_entry(step, session.steps_per_epoch))
    share_moment(folder, folder / LAST, step)


def _within(session: Session) -> dict:
    """run.json's step and steps_per_epoch for the session as it stands."""
    step = session.progress.step
    return {"step": step, "steps_per_epoch": session.steps_per_epoch if step else None}


def _global_step(session: Session) -> int:
    """Updates taken before the session's weights: its completed epochs' and its epoch's so far."""
    return session.epochs_done * session.steps_per_epoch + session.progress.step


def _named(folder: Path, error: OSError) -> str:
    """The failed write's message, naming the file (a WriteError's does already, and so may the error's own)."""
    text = str(error) if isinstance(error, WriteError) else error.strerror or str(error)
    return text if isinstance(error, WriteError) or text.startswith(str(folder)) else f"{folder}: {text}"


def _plan(session: Session, planned: int) -> int:
    """The run's planned total of epochs becomes its settings' epochs too (run.json's settings and the
    checkpoints'), so that the two never disagree."""
    session.config = session.config.with_changes(epochs=planned)
    return planned
