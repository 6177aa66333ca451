"""A run's metrics as CSV: one file of epochs, one of steps (loss and every gradient norm).
Streamed line by line, so a run of any length exports in bounded memory."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from ..atomic import write_atomically
from .metrics import METRICS_FILE, iter_lines

EPOCH_COLUMNS = ("epoch", "train_loss", "test_loss", "test_accuracy", "seconds")
STEP_COLUMNS = ("epoch", "step", "global_step", "batch_size", "loss")


def steps_path(epochs_path: Path) -> Path:
    """Where the steps go when the epochs go to `epochs_path`: name-steps.csv beside it."""
    epochs_path = Path(epochs_path)
    return epochs_path.with_name(epochs_path.stem + "-steps.csv")


def export_csv(run_folder: Path, epochs_path: Path) -> tuple[int, int]:
    """Writes the epochs to `epochs_path` and the steps to steps_path(epochs_path); returns how many
    rows each got. Each file appears whole or not at all."""
    source = Path(run_folder) / METRICS_FILE
    if not source.is_file():
        raise ValueError(f"{run_folder}: {METRICS_FILE} is missing")
    epochs = _write(Path(epochs_path), source, "epoch")
    steps = _write(steps_path(epochs_path), source, "steps")
    return epochs, steps


def _write(path: Path, source: Path, kind: str) -> int:
    rows = 0

    def write(binary) -> None:
        nonlocal rows
        file = io.TextIOWrapper(binary, encoding="utf-8", newline="")
        writer = csv.writer(file)
        names = None
        for item, _ in iter_lines(source):
            if item["type"] != kind:
                continue
            if kind == "epoch":
                if rows == 0:
                    writer.writerow(EPOCH_COLUMNS)
                writer.writerow([item[column] for column in EPOCH_COLUMNS])
                rows += 1
                continue
            if names is None:   # the parameters of the run's first block name the columns
                names = list(item["grad_norms"])
                writer.writerow(STEP_COLUMNS + tuple(f"grad_norm {name}" for name in names))
            norms = item["grad_norms"]
            for i, loss in enumerate(item["loss"]):
                writer.writerow([item["epoch"], item["step"] + i, item["global_step"] + i, item["batch_size"][i],
                                 loss] + [norms[name][i] if name in norms else "" for name in names])
                rows += 1
        if rows == 0:
            writer.writerow(EPOCH_COLUMNS if kind == "epoch" else STEP_COLUMNS)
        file.flush()
        file.detach()   # the binary file stays open for write_atomically to sync and close

    write_atomically(path, write)
    return rows
