"""metrics.jsonl: a run's measurements, append-only, one JSON object a line.

    {"type": "steps", "epoch": e, "step": s, "global_step": g, "steps_per_epoch": S,
     "batch_size": [..], "loss": [..], "grad_norms": {"0.kernels": [..], ...}}   a block of steps
    {"type": "epoch", "epoch": e, "epochs": E, "train_loss": .., "test_loss": .., "test_accuracy": ..,
     "seconds": ..}

Each line is written whole by one write; a block is written once it holds BLOCK_STEPS steps, at
least every FLUSH_SECONDS, and before every epoch line. A process killed at any moment leaves at
most its last line torn; readers skip it, and the next writer cuts it off before appending.
Readers stream the file one bounded line at a time, so its size never matters.
"""
from __future__ import annotations

import json
import math
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Iterator

import numpy as np

from .. import jsonfile
from ..atomic import WriteError
from ..files import open_own, open_regular
from ..train import EpochRecord, StepRecord

METRICS_FILE = "metrics.jsonl"
FLUSH_SECONDS = 2.0
BLOCK_STEPS = 512
MAX_LINE_BYTES = 4 << 20   # a block of 512 steps is ~100 kB; a longer line is skipped unread
MAX_COUNT = 2**53          # epochs, steps and sizes past it are not ours (nor exact as floats): the line is skipped


class MetricsWriter:
    def __init__(self, path: Path, clock=time.monotonic):
        self.path, self.clock = Path(path), clock
        _cut_torn_tail(self.path)
        self.file = _open_own(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, "ab")
        self.steps: list[StepRecord] = []
        self.last_flush = clock()

    def add_step(self, record: StepRecord) -> None:
        if self.steps and (record.epoch != self.steps[0].epoch):
            self.flush()
        self.steps.append(record)
        if len(self.steps) >= BLOCK_STEPS or self.clock() - self.last_flush >= FLUSH_SECONDS:
            self.flush()

    def add_epoch(self, record: EpochRecord) -> None:
        self.flush(sync=False)
        self._write({"type": "epoch", "epoch": record.epoch, "epochs": record.epochs,
                     "train_loss": record.train_loss, "test_loss": record.test_loss,
                     "test_accuracy": record.test_accuracy, "seconds": record.seconds})
        self.file.flush()

    def flush(self, sync: bool = True) -> None:
        """Write the buffered steps as one block line and hand it to the operating system."""
        if self.steps:
            first = self.steps[0]
            names = list(first.grad_norms)
            self._write({"type": "steps", "epoch": first.epoch, "step": first.step, "global_step": first.global_step,
                         "steps_per_epoch": first.steps_per_epoch, "batch_size": [r.batch_size for r in self.steps],
                         "loss": [r.loss for r in self.steps],
                         "grad_norms": {name: [r.grad_norms.get(name, math.nan) for r in self.steps]
                                        for name in names}})
            self.steps = []
        if sync:
            with self._naming_failures():
                self.file.flush()
        self.last_flush = self.clock()

    def close(self) -> None:
        if not self.file.closed:
            self.flush()
            self.file.close()

    def discard(self) -> None:
        """Close the file, dropping what could not be written (after a write failed: a full disk).
        What reached the file stays, at most its last line torn, which readers skip."""
        self.steps = []
        try:
            self.file.close()     # (its buffer's flush may fail again; the file is closed all the same)
        except OSError:
            pass
        try:
            _cut_torn_tail(self.path)   # as the next writer would: on a full disk, room for run.json
        except OSError:
            pass

    def _write(self, line: dict) -> None:
        with self._naming_failures():
            self.file.write(_encode(line))

    @contextmanager
    def _naming_failures(self):
        """A write that fails (a full disk) raises atomic.WriteError naming this file."""
        try:
            yield
        except WriteError:
            raise
        except OSError as error:
            raise WriteError(self.path, error.strerror or str(error)) from None


def _encode(line: dict) -> bytes:
    return (json.dumps(line, separators=(",", ":")) + "\n").encode()


def _cut_torn_tail(path: Path) -> None:
    """Cut a last line that has no newline (its writer was killed mid-line), so the next line
    written starts on a line of its own."""
    try:
        with _open_own(path, os.O_RDWR, "r+b") as file:
            size = file.seek(0, 2)
            end = size
            while end > 0:
                start = max(0, end - 65536)
                file.seek(start)
                chunk = file.read(end - start)
                newline = chunk.rfind(b"\n")
                if newline >= 0:
                    end = start + newline + 1
                    break
                end = start
            if end != size:
                file.truncate(end)
    except FileNotFoundError:
        pass


@dataclass
class ReadStats:
    lines: int = 0       # lines read whole and understood
    skipped: int = 0     # torn, oversized, not JSON or not a metrics object
    ignored: int = 0     # blocks with gradient norms of other names than those asked for (those were dropped)


def iter_lines(path: Path, stats: ReadStats | None = None) -> Iterator[tuple[dict, int]]:
    """(object, byte offset after its line) for every well-formed line, in order, never holding
    more than one line of MAX_LINE_BYTES in memory."""
    stats = stats if stats is not None else ReadStats()
    with open_regular(path, lambda problem: OSError(f"{METRICS_FILE} {problem}")) as file:
        offset = 0
        while True:
            line = file.readline(MAX_LINE_BYTES + 1)
            if not line:
                return
            offset += len(line)
            if not line.endswith(b"\n"):
                if len(line) > MAX_LINE_BYTES:   # too long to be ours: skip to its end unread
                    del line
                    while True:
                        chunk = file.readline(1 << 16)
                        offset += len(chunk)
                        if not chunk or chunk.endswith(b"\n"):
                            break
                stats.skipped += 1               # (or a torn last line)
                continue
            item = _parse(line)
            if item is None:
                stats.skipped += 1
                continue
            stats.lines += 1
            yield item, offset


def _parse(line: bytes) -> dict | None:
    try:
        item = jsonfile.parse(line, "a line", ValueError)
    except ValueError:
        return None
    if not isinstance(item, dict) or not _count(item.get("epoch")):
        return None
    if item.get("type") == "epoch":
        ok = all(_real(item.get(k)) for k in ("train_loss", "test_loss", "test_accuracy", "seconds")) \
            and _count(item.get("epochs"))
    elif item.get("type") == "steps":
        losses, sizes, norms = item.get("loss"), item.get("batch_size"), item.get("grad_norms")
        ok = (isinstance(losses, list) and isinstance(sizes, list) and len(sizes) == len(losses)
              and _count(item.get("step")) and _count(item.get("global_step"))
              and _count(item.get("steps_per_epoch"), low=1)      # a step's place is step / steps_per_epoch
              and all(_real(v) for v in losses) and all(_count(v) for v in sizes)
              and isinstance(norms, dict)
              and all(isinstance(v, list) and len(v) == len(losses) and all(_real(x) for x in v)
                      for v in norms.values()))
    else:
        ok = False
    return item if ok else None


def _count(value, low: int = -MAX_COUNT) -> bool:
    """A whole number from `low` to MAX_COUNT (bool is not one)."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= MAX_COUNT


def _real(value) -> bool:
    """A float, or an int that converts to one (a 400-digit integer overflows float())."""
    return isinstance(value, float) or _count(value)


def read_records(path: Path, stats: ReadStats | None = None,
                 names: Collection[str] | None = None) -> Iterator[StepRecord | EpochRecord]:
    """The training loop's own records, rebuilt from the file (epochs without test predictions).
    `names`: the gradient norms to keep (the network's parameters); others are dropped as they are read."""
    no_predictions = np.zeros(0, dtype=np.int64)
    no_predictions.flags.writeable = False
    for item, _ in iter_lines(path, stats):
        if item["type"] == "epoch":
            yield EpochRecord(item["epoch"], item["epochs"], float(item["train_loss"]), float(item["test_loss"]),
                              float(item["test_accuracy"]), float(item["seconds"]), no_predictions)
            continue
        norms = item["grad_norms"]
        kept = list(norms) if names is None else [name for name in names if name in norms]
        if stats is not None and len(kept) < len(norms):
            stats.ignored += 1
        for i, (loss, size) in enumerate(zip(item["loss"], item["batch_size"], strict=True)):
            yield StepRecord(item["epoch"], item["step"] + i, item["steps_per_epoch"], item["global_step"] + i,
                             size, float(loss), {name: float(norms[name][i]) for name in kept})


def truncate_to_epoch(path: Path, epoch: int, step: int = 0) -> None:
    """Drop every line after epoch `epoch`'s line but the first `step` steps of the next epoch (a
    block reaching past them is written again, cut there), and any torn tail: what is left is what an
    uninterrupted run had written by then."""
    end, tail = 0, None
    if Path(path).exists():
        for item, offset in iter_lines(path):
            within = item["epoch"] == epoch + 1 and item["type"] == "steps"
            if (item["epoch"] > epoch and not within) or (within and item["step"] > step):
                break
            if within and step - item["step"] + 1 < len(item["loss"]):
                tail = _first_steps(item, step - item["step"] + 1)
                break
            end = offset
    with _open_own(path, os.O_WRONLY | os.O_CREAT, "ab") as file:
        file.truncate(end)
        if tail is not None:
            file.seek(end)      # (the descriptor has no O_APPEND: it writes where it stands)
            file.write(tail)


def _open_own(path: Path, flags: int, mode: str):
    """The metrics file opened for writing: never through a link, never a FIFO (OSError naming it)."""
    path = Path(path)
    return os.fdopen(open_own(path, flags, lambda problem: OSError(f"{path.parent}: {METRICS_FILE} {problem}")), mode)


def _first_steps(block: dict, count: int) -> bytes:
    """A steps line holding only the first `count` steps of `block`, as MetricsWriter writes one."""
    cut = {**block, "batch_size": block["batch_size"][:count], "loss": block["loss"][:count],
           "grad_norms": {name: values[:count] for name, values in block["grad_norms"].items()}}
    return _encode(cut)
