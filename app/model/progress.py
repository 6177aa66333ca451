"""Progress of a run from its records: where it is, how fast it goes, how long is left."""
from __future__ import annotations

import time
from collections import deque

from cnn.train import EpochRecord

MIN_SPAN = 1.0      # seconds of real time a rate is measured over, at least


class ProgressTracker:
    """The rate is the samples that arrived over the last `window_seconds` of real time divided by
    that time, and is given only once that span is at least MIN_SPAN: records arrive in bursts
    (a frame holds every step since the last one), so a rate over a few bursts would jump."""

    def __init__(self, clock=time.perf_counter, window_seconds: float = 3.0):
        self.clock, self.window = clock, window_seconds
        self.start_run(0)

    def start_run(self, epochs_after: int, epochs_before: int = 0) -> None:
        """A Start that trains the network from `epochs_before` done epochs to `epochs_after`: the text
        and the bar count the run's own epochs, out of its planned total."""
        self.epochs, self.before = epochs_after, epochs_before
        self.epoch = self.step = self.steps_per_epoch = 0
        self.done_steps = 0
        self.skipped: int | None = None   # steps of the run done before this Start's first (a Stop inside an epoch)
        self.samples_seen = 0
        self.arrivals = deque()     # (time, samples seen by then), one per batch of records
        self.finished = False

    def stand(self, trained: tuple[int, int], steps_per_epoch: int, planned: int) -> None:
        """A network shown, not training, that has trained `trained` (whole epochs, steps into the next) of
        a run planned for `planned` epochs: where it stands (nothing for one never trained)."""
        epochs, steps = trained
        self.start_run(max(planned, epochs + (steps > 0)), epochs)
        if epochs or steps:
            self.epoch, self.step = (epochs + 1, steps) if steps else (epochs, steps_per_epoch)
            self.steps_per_epoch = steps_per_epoch
            self.finished = not steps and epochs >= self.epochs

    def resume(self) -> None:
        """Training goes on after a pause: the rate starts again from here."""
        self.arrivals.clear()

    def add(self, records) -> None:
        now = self.clock()
        for record in records:
            if isinstance(record, EpochRecord):
                if self.epochs and record.epoch >= self.epochs:
                    self.finished = True
                continue
            self.epoch, self.step, self.steps_per_epoch = record.epoch, record.step, record.steps_per_epoch
            self.done_steps = (record.epoch - 1 - self.before) * record.steps_per_epoch + record.step   # this Start's
            if self.skipped is None:
                self.skipped = self.done_steps - 1
            self.samples_seen += record.batch_size
        if not self.arrivals or self.arrivals[-1][1] != self.samples_seen:
            self.arrivals.append((now, self.samples_seen))
        while len(self.arrivals) > 2 and now - self.arrivals[1][0] >= self.window:
            self.arrivals.popleft()

    @property
    def total_steps(self) -> int:
        """Steps of this Start: from the epochs done before it to the planned total."""
        return (self.epochs - self.before) * self.steps_per_epoch

    @property
    def fraction(self) -> float:
        """Where the run stands in its planned epochs (epochs done before this Start included)."""
        total = self.epochs * self.steps_per_epoch
        done = (self.epoch - 1) * self.steps_per_epoch + self.step
        return min(1.0, done / total) if total else 0.0

    def samples_per_second(self) -> float:
        if len(self.arrivals) < 2:
            return 0.0
        (t0, n0), (t1, n1) = self.arrivals[0], self.arrivals[-1]
        return (n1 - n0) / (t1 - t0) if t1 - t0 >= MIN_SPAN else 0.0

    def seconds_left(self) -> float | None:
        rate = self.samples_per_second()
        trained = self.done_steps - (self.skipped or 0)      # steps this Start has seen (samples_seen's)
        if rate <= 0 or trained <= 0:
            return None
        per_step = self.samples_seen / trained
        return (self.total_steps - self.done_steps) * per_step / rate

    def text(self, live: bool = True, stopped: bool = False) -> str:
        """'epoch 3/20 · step 5/200 · 1,234 samples/s · 0:41 left'; the rate and time left only while
        `live` (training runs), '· done' once the run's last epoch ended, else '· stopped' if `stopped`."""
        if not self.steps_per_epoch:
            return "ready"
        parts = [f"epoch {self.epoch}/{self.epochs}", f"step {self.step}/{self.steps_per_epoch}"]
        if self.finished:
            parts.append("done")
        elif stopped:
            parts.append("stopped")
        elif live:
            rate = self.samples_per_second()
            if rate:
                parts.append(f"{rate:,.0f} samples/s")
            left = self.seconds_left()
            if left is not None:
                minutes, seconds = divmod(int(round(left)), 60)
                parts.append(f"{minutes}:{seconds:02d} left")
        return " · ".join(parts)
