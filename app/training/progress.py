"""Progress of a run from its records: where it is, how fast it goes, how long is left."""
from __future__ import annotations

import time
from collections import deque

from cnn.train import EpochRecord


class ProgressTracker:
    def __init__(self, clock=time.perf_counter, window_seconds: float = 3.0):
        self.clock, self.window = clock, window_seconds
        self.start_run(0)

    def start_run(self, epochs: int) -> None:
        self.epochs = epochs
        self.first_epoch = None
        self.epoch = self.step = self.steps_per_epoch = 0
        self.samples = deque()      # (time, samples in the step)
        self.done_steps = 0

    def add(self, records) -> None:
        now = self.clock()
        for record in records:
            if isinstance(record, EpochRecord):
                continue
            if self.first_epoch is None:
                self.first_epoch = record.epoch
            self.epoch, self.step, self.steps_per_epoch = record.epoch, record.step, record.steps_per_epoch
            self.done_steps = (record.epoch - self.first_epoch) * record.steps_per_epoch + record.step
            self.samples.append((now, record.batch_size))
        while self.samples and now - self.samples[0][0] > self.window:
            self.samples.popleft()

    @property
    def total_steps(self) -> int:
        return self.epochs * self.steps_per_epoch

    @property
    def fraction(self) -> float:
        return self.done_steps / self.total_steps if self.total_steps else 0.0

    def samples_per_second(self) -> float:
        if len(self.samples) < 2:
            return 0.0
        span = self.samples[-1][0] - self.samples[0][0]
        return sum(n for _, n in list(self.samples)[1:]) / span if span > 0 else 0.0

    def seconds_left(self) -> float | None:
        rate = self.samples_per_second()
        if rate <= 0 or not self.samples:
            return None
        batch = self.samples[-1][1]
        return (self.total_steps - self.done_steps) * batch / rate

    def text(self) -> str:
        if not self.steps_per_epoch:
            return "ready"
        run_epoch = self.epoch - (self.first_epoch or self.epoch) + 1
        parts = [f"epoch {run_epoch}/{self.epochs}", f"step {self.step}/{self.steps_per_epoch}"]
        rate = self.samples_per_second()
        if rate:
            parts.append(f"{rate:,.0f} samples/s")
        left = self.seconds_left()
        if left is not None:
            minutes, seconds = divmod(int(round(left)), 60)
            parts.append(f"{minutes}:{seconds:02d} left")
        return " · ".join(parts)
