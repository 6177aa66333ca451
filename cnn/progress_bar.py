"""cnn-train's progress line on a terminal."""
from __future__ import annotations

import time


class ProgressBar:
    """One line on a terminal, redrawn at most ten times a second."""

    def __init__(self, stream, width: int = 30):
        self.stream, self.width = stream, width
        self.last_draw = 0.0
        self.epoch_started = time.perf_counter()
        self.samples = 0

    def show(self, record) -> None:
        if record.step == 1:
            self.epoch_started, self.samples = time.perf_counter(), 0
        self.samples += record.batch_size
        now = time.perf_counter()
        if now - self.last_draw < 0.1 and record.step != record.steps_per_epoch:
            return
        self.last_draw = now
        done = record.step / record.steps_per_epoch
        rate = self.samples / max(now - self.epoch_started, 1e-9)
        filled = int(done * self.width)
        self.stream.write(f"\repoch {record.epoch} [{'#' * filled}{'.' * (self.width - filled)}] "
                          f"{record.step}/{record.steps_per_epoch}  loss {record.loss:.4f}  {rate:,.0f} samples/s")
        self.stream.flush()

    def clear(self) -> None:
        self.stream.write("\r" + " " * (self.width + 70) + "\r")
        self.stream.flush()
