"""A run's curves, bounded: what the loss and gradient views draw, built from training records as
they arrive or from a run's metrics.jsonl however long it is (cnn.runs.metrics streams it).

Steps are kept in History series (older points averaged in pairs when full), epochs in a list of
at most MAX_EPOCHS rows, so memory is flat whatever the run's length. Gradient norms are kept only
under the names asked for (the network's parameters: a file naming two million others would ask
for two million series), or at most MAX_SERIES when no names are given."""
from __future__ import annotations

import math
from itertools import chain
from pathlib import Path
from typing import Collection

import numpy as np

from cnn.runs.metrics import METRICS_FILE, ReadStats, read_records
from cnn.train import EpochRecord, StepRecord

from app.model.history import History, MovingAverage

AVERAGE_WINDOW = 50
MAX_EPOCHS = 100_000
MAX_SERIES = 64          # gradient-norm series kept when the names are not given


def norm_column(steps, name: str) -> list[float]:
    """Each step's ‖∂E/∂θ‖ of parameter `name` (NaN where a step has none)."""
    return [record.grad_norms.get(name, math.nan) for record in steps]


def on_log_axis(x: np.ndarray, values) -> tuple[np.ndarray, np.ndarray]:
    """The points (x, value) a log axis can show: finite values above 0."""
    values = np.asarray(values, dtype=float)
    shown = (values > 0) & np.isfinite(values)
    return x[shown], values[shown]


class RunCurves:
    """The loss curves (steps, their moving average, epochs) and, with norms=True, each parameter's
    gradient norm per step."""

    def __init__(self, capacity: int = 50_000, losses: bool = True, norms: bool = True,
                 names: Collection[str] | None = None):
        """`names`: the only gradient norms kept (None: the first MAX_SERIES names met)."""
        self.capacity, self.keep_losses, self.keep_norms = capacity, losses, norms
        self.names = frozenset(names) if names is not None else None
        self.steps, self.averages = History(capacity), History(capacity)   # (x in epochs, loss)
        self.average = MovingAverage(AVERAGE_WINDOW)
        self.epochs: list[tuple[float, float, float, float]] = []          # (x, train loss, test loss, accuracy %)
        self.norms: dict[str, History] = {}                                # parameter name → (x, ‖∂E/∂θ‖)
        self.last_x = 0.0

    def add(self, records) -> None:
        steps = [record for record in records if not isinstance(record, EpochRecord)]
        for record in records:
            if isinstance(record, EpochRecord) and self.keep_losses and len(self.epochs) < MAX_EPOCHS:
                self.epochs.append((float(record.epoch), record.train_loss, record.test_loss,
                                    100 * record.test_accuracy))
        if not steps:
            return
        x = np.array([record.position for record in steps])   # a frame's steps as columns: one copy per series
        self.last_x = float(x[-1])
        if self.keep_losses:
            at, loss = on_log_axis(x, [record.loss for record in steps])
            self.steps.extend(at, loss)
            self.averages.extend(at, [self.average.add(value) for value in loss.tolist()])
        if self.keep_norms:
            for name in dict.fromkeys(chain.from_iterable(record.grad_norms for record in steps)):
                at, norms = on_log_axis(x, norm_column(steps, name))
                if at.size and (name in self.norms or self._takes(name)):
                    self.norms.setdefault(name, History(self.capacity)).extend(at, norms)

    def _takes(self, name: str) -> bool:
        return name in self.names if self.names is not None else len(self.norms) < MAX_SERIES

    def part(self, losses: bool, norms: bool) -> "RunCurves":
        """These curves, keeping only the losses or only the norms (two views each take their part and
        go on adding to it; no series is shared by both)."""
        part = RunCurves(self.capacity, losses, norms, self.names)
        if losses:
            part.steps, part.averages, part.average, part.epochs = self.steps, self.averages, self.average, self.epochs
        if norms:
            part.norms = self.norms
        part.last_x = self.last_x
        return part

    @property
    def epochs_done(self) -> int:
        return int(self.epochs[-1][0]) if self.epochs else 0


def read_curves(folder, capacity: int = 50_000, up_to_epoch: int | None = None,
                stats: ReadStats | None = None, names: Collection[str] | None = None,
                up_to_step: int = 0) -> RunCurves:
    """The curves of the run in `folder` (up to the end of epoch `up_to_epoch` and the next epoch's first
    `up_to_step` steps, if given: a checkpoint's place); a missing metrics file gives empty curves,
    damaged lines are skipped (counted in `stats`). `names`: the gradient norms to keep, the network's
    parameters (() for none); others are dropped as read."""
    curves = RunCurves(capacity, names=names)
    path = Path(folder) / METRICS_FILE
    if not path.is_file():
        return curves
    batch = []
    for record in read_records(path, stats, names):
        if up_to_epoch is not None and record.epoch > up_to_epoch and not (
                record.epoch == up_to_epoch + 1 and isinstance(record, StepRecord) and record.step <= up_to_step):
            break
        batch.append(record)
        if len(batch) >= 4096:
            curves.add(batch)
            batch = []
    curves.add(batch)
    return curves
