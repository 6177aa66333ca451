"""A recorded run's TensorBoard view: an event file in the run's folder, written as it trains, so that
`tensorboard --logdir RUNS` shows every run side by side. On the axis of steps (the run's global step):

    loss/steps             the mean train loss of each stretch of steps (about STEP_POINTS an epoch, each
                           the mean of at least MIN_STRETCH steps, and of the epoch's last ones)
    epoch/train_loss       each epoch's mean train loss, as metrics.jsonl has it
    epoch/test_loss        each epoch's test loss
    epoch/test_accuracy    each epoch's test accuracy, a fraction
    epoch/learning_rate    the rate the epoch trained with
    a histogram of each parameter ('0.kernels', …) and the first convolution's kernels as a picture,
    at each epoch's end (and of the weights a run starts from).

A continued run writes a new event file that begins with TensorBoard's 'session start' at the step it
goes on from: TensorBoard then drops what the older files hold from that step on, as metrics.jsonl
is cut back. Files are made as the run's other files are (cnn.files.open_own: never through a link);
a write that fails raises atomic.WriteError naming the file.
"""
from __future__ import annotations

import logging
import os
import socket
import time
from pathlib import Path
from typing import Callable

from ..atomic import WriteError
from ..files import open_own
from ..session import Session
from ..train import EpochRecord, StepRecord
from . import events

EVENT_PREFIX = "events.out.tfevents."
STEP_POINTS = 100            # step-loss points an epoch, at most
MIN_STRETCH = 10             # steps a point stands for, at least (a 200-step epoch gets 20 points)
FILE_VERSION = "brain.Event:2"

log = logging.getLogger("cnn.runs.board")


class RunBoard:
    def __init__(self, folder, session: Session, clock=time.time):
        self.session, self.clock = session, clock
        self.path = Path(folder) / f"{EVENT_PREFIX}{int(clock())}.{socket.gethostname()}.{os.getpid()}.{time.time_ns()}"

        def fail(problem):
            return WriteError(self.path, problem)
        try:
            descriptor = open_own(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, fail)
        except WriteError:
            raise
        except OSError as error:
            raise WriteError(self.path, error.strerror or str(error)) from None
        self.file = os.fdopen(descriptor, "ab")
        self.loss_sum, self.samples = 0.0, 0
        self.steps_per_epoch = session.steps_per_epoch   # as the step records count them (another engine's too)
        at = session.epochs_done * session.steps_per_epoch + session.progress.step
        self._write(events.event(0, self.clock(), file_version=FILE_VERSION))
        if at:   # a continued run: what older files hold from here on is dropped
            self._write(events.event(at + 1, self.clock(), session_start=True))
        else:
            self._write(events.event(0, self.clock(), _weights(session.network.params)))
        self.flush()
        log.debug("TensorBoard events go to %s", self.path)

    def add_step(self, record: StepRecord) -> None:
        self.steps_per_epoch = record.steps_per_epoch
        self.loss_sum += record.loss * record.batch_size
        self.samples += record.batch_size
        every = max(MIN_STRETCH, record.steps_per_epoch // STEP_POINTS)
        if record.step % every == 0 or record.step == record.steps_per_epoch:
            self._write(events.event(record.global_step, self.clock(),
                                     [events.scalar("loss/steps", self.loss_sum / self.samples)]))
            self.loss_sum, self.samples = 0.0, 0

    def add_epoch(self, record: EpochRecord) -> None:
        self.epoch_later(record)()

    def epoch_later(self, record: EpochRecord) -> Callable[[], None]:
        """add_epoch in two halves: the epoch's numbers and a copy of the weights are taken now; the call
        returned makes the histograms and the picture and writes the event, on any thread (the recorder's
        writer: the histograms' loops let go of the GIL). Each event is one write of the file, whole."""
        self.loss_sum, self.samples = 0.0, 0
        step, wall = record.epoch * self.steps_per_epoch, self.clock()
        values = [events.scalar("epoch/train_loss", record.train_loss),
                  events.scalar("epoch/test_loss", record.test_loss),
                  events.scalar("epoch/test_accuracy", record.test_accuracy),
                  events.scalar("epoch/learning_rate", self.session.optimizer.current_learning_rate)]
        params = {name: value.copy() for name, value in self.session.network.params.items()}

        def write():
            self._write(events.event(step, wall, values + _weights(params)))
            self.flush()
        return write

    def _write(self, data: bytes) -> None:
        try:
            self.file.write(events.record(data))
        except OSError as error:
            raise WriteError(self.path, error.strerror or str(error)) from None

    def flush(self) -> None:
        try:
            self.file.flush()
        except OSError as error:
            raise WriteError(self.path, error.strerror or str(error)) from None

    def close(self) -> None:
        """Flush and close; the file is closed even when the flush fails (the error is raised then)."""
        try:
            if not self.file.closed:
                self.flush()
        finally:
            try:
                self.file.close()
            except OSError:
                pass


def _weights(params: dict) -> list[bytes]:
    """A histogram of each parameter, and the first convolution's kernels as a picture."""
    values = [events.histogram(f"weights/{name}", value) for name, value in params.items() if value.size]
    kernels = next((value for name, value in params.items() if name.endswith(".kernels")), None)
    if kernels is not None and kernels.ndim == 4:
        values.append(events.image("kernels/first_convolution", events.kernel_grid(kernels)))
    return values
