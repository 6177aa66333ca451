"""cnn-train's training: the engine it trains with (ours, or Keras inside a tf.distribute strategy),
each epoch's line and the progress bar, the recording of the run, and a stop asked by Ctrl+C or
SIGTERM: the step in progress ends, the run's checkpoint is of the weights as they are, and one line
says where it stopped and how to go on."""
from __future__ import annotations

import signal
import sys
import threading

from .bridge.cluster import CONNECT_TIMEOUT
from .evaluation import accuracy_text
from .health import EpochHealth
from .progress_bar import ProgressBar
from .runs.recorder import CheckpointNotWritten, RunRecorder
from .session import Session
from .train import EpochRecord

NUMPY_ENGINE = {"engine": "numpy", "replicas": 1, "workers": 1}


def keras_engine(args):
    """For --engine keras: (records(session, epochs), whether this process writes runs and weights,
    what run.json records of the engine); (None, True, NUMPY_ENGINE) for our engine. The strategy is
    made first, before TensorFlow does anything else."""
    if args.connect_timeout is not None and args.distribute != "multi-worker":
        raise ValueError("--connect-timeout needs --distribute multi-worker")
    if args.engine != "keras":
        for given, option in ((args.distribute, "--distribute"), (args.replicas, "--replicas")):
            if given:
                raise ValueError(f"{option} needs --engine keras")
        return None, True, NUMPY_ENGINE
    if args.replicas is not None and args.distribute == "multi-worker":
        raise ValueError("--replicas needs --distribute mirrored (the default); a multi-worker run has each worker's "
                         "devices")
    from .bridge.engine import describe, is_chief, keras_run, make_strategy
    strategy = make_strategy(args.distribute or "mirrored", args.connect_timeout or CONNECT_TIMEOUT, args.replicas)
    return (lambda session, epochs: keras_run(session, epochs, strategy)), is_chief(strategy), describe(strategy)


class Interrupted(KeyboardInterrupt):
    """Ctrl+C or SIGTERM arrived while training: the loop stopped between two steps."""

    def __init__(self, signum: int):
        self.code = 128 + signum
        super().__init__(signal.Signals(signum).name)


class _StopRequests:
    """While training: the first SIGINT or SIGTERM asks the loop to stop after its step (the run's
    checkpoint is then of the weights as they are), a second one interrupts at once."""

    def __init__(self):
        self.signum, self._previous = None, {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for number in (signal.SIGINT, signal.SIGTERM):
                self._previous[number] = signal.signal(number, self._ask)
        return self

    def _ask(self, signum, frame):
        if self.signum is not None:
            raise KeyboardInterrupt
        self.signum = signum

    def __exit__(self, *problem):
        for number, handler in self._previous.items():
            signal.signal(number, handler)


def run(session: Session, epochs: int, recorder: RunRecorder | None = None, records=None) -> None:
    """Print (and record) the training's records: `records`, or the session's own run. Ctrl+C or
    SIGTERM stops it after the step in progress: raises Interrupted."""
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    health, warned = EpochHealth(), False
    loop = records if records is not None else session.run(epochs)
    with _StopRequests() as stop:
        for record in loop:
            if recorder is not None:
                recorder.add(record)
            if isinstance(record, EpochRecord):
                if bar:
                    bar.clear()
                print(f"epoch {record.epoch}/{record.epochs}  train loss {record.train_loss:.6f}  "
                      f"test loss {record.test_loss:.6f}  test accuracy {accuracy_text(record.test_accuracy)}  "
                      f"({record.seconds:.1f} s)", flush=True)
                warning = None if warned else health.warning()
                if warning:  # once a run: a dead network stays dead
                    print(f"warning: {warning}", file=sys.stderr, flush=True)
                    warned = True
                health = EpochHealth()
            else:
                health.see(record)
                if bar:
                    bar.show(record)
            if stop.signum is not None:
                if bar:
                    bar.clear()
                loop.close()
                raise Interrupted(stop.signum)


def close_recording(recorder: RunRecorder | None) -> None:
    """After the run, an error (told already) or an interruption (told by interrupted_at, which closed
    it): the run ends interrupted if run.json can still be written; if not, its lock is released all
    the same, so it reads as interrupted. A checkpoint that could not be written at the stop is said."""
    if recorder is None:
        return
    try:
        recorder.close()
    except CheckpointNotWritten as error:   # the run stays continuable from its last checkpoint
        print(f"cnn-train: {error}", file=sys.stderr)
    except OSError:
        pass


def interrupted_at(session: Session, recorder: RunRecorder | None) -> str:
    """Ends the recording (its checkpoint: the weights as they are) and says where the run stopped."""
    position = session.where()
    if recorder is None:
        return f"interrupted {position}"
    try:
        recorder.close()
    except CheckpointNotWritten as error:
        return f"interrupted {position}; {error}"
    except OSError as error:
        return f"interrupted {position}; {error}"
    return f"interrupted {position}; cnn-train --continue {recorder.folder} goes on from there"
