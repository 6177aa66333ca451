"""Run folders on disk (cnn/runs): metrics written and read back, damaged folders listed with their
reasons, bounded reading of huge files, rename, delete, CSV export."""
import csv
import os
import json
import tracemalloc
import zipfile
from types import MappingProxyType

import numpy as np
import pytest

from cnn.config import RunConfig
from cnn.presets import original_network
from cnn.runs import metrics, runfile
from cnn.runs.export import export_csv, steps_path
from cnn.runs.lock import RunLock
from cnn.runs.metrics import MetricsWriter, ReadStats, read_records, truncate_to_epoch
from cnn.runs.store import BEST, LAST, RunStore, delete, inspect, rename
from cnn.train import EpochRecord, StepRecord

NAMES = ("0.kernels", "0.biases")


def step(epoch, step_in_epoch, steps_per_epoch=4, loss=None):
    global_step = (epoch - 1) * steps_per_epoch + step_in_epoch
    loss = 1.0 / (global_step + 3) if loss is None else loss
    return StepRecord(epoch, step_in_epoch, steps_per_epoch, global_step, 1, loss,
                      MappingProxyType({"0.kernels": loss * 2, "0.biases": loss / 3}))


def epoch(number, epochs=3, accuracy=0.5):
    return EpochRecord(number, epochs, 0.1 / number, 0.2 / number, accuracy, 0.25, np.zeros(0, dtype=np.int64))


def write_epochs(path, epochs, steps_per_epoch=4):
    writer = MetricsWriter(path)
    written = []
    for e in range(1, epochs + 1):
        for s in range(1, steps_per_epoch + 1):
            written.append(step(e, s, steps_per_epoch))
            writer.add_step(written[-1])
        written.append(epoch(e, epochs, accuracy=e / 10))
        writer.add_epoch(written[-1])
    writer.close()
    return written


def make_run(root, name="a run", status="finished", epochs_done=3, learning_rate=0.1, checkpoint=True):
    """A run folder as the recorder leaves it (its checkpoint a stand-in zip, enough for listing)."""
    folder = RunStore(root).new_folder("original")
    config = RunConfig(learning_rate=learning_rate)
    info = runfile.new_info(name, config, original_network().architecture(), "bundled MNIST", 3)
    info = info.with_changes(status=status, epochs_done=epochs_done, best_test_accuracy=0.3, best_epoch=3, pid=None)
    runfile.write_info(folder, info)
    write_epochs(folder / metrics.METRICS_FILE, epochs_done)
    if checkpoint:
        with zipfile.ZipFile(folder / LAST, "w") as archive:
            archive.writestr("__header__.npy", b"stand-in")
    return folder


def test_metrics_read_back_exactly(tmp_path):
    path = tmp_path / "metrics.jsonl"
    written = write_epochs(path, 3)
    stats = ReadStats()
    read = list(read_records(path, stats))
    assert stats.skipped == 0 and stats.lines == 6   # one block of 4 steps + one epoch line, per epoch
    assert [type(r) for r in read] == [type(r) for r in written]
    for a, b in zip(read, written, strict=True):
        if isinstance(a, StepRecord):
            assert (a.epoch, a.step, a.global_step, a.loss, dict(a.grad_norms)) == \
                   (b.epoch, b.step, b.global_step, b.loss, dict(b.grad_norms))   # floats bit for bit
        else:
            assert (a.epoch, a.epochs, a.train_loss, a.test_loss, a.test_accuracy) == \
                   (b.epoch, b.epochs, b.train_loss, b.test_loss, b.test_accuracy)


def test_steps_reach_the_file_within_two_seconds(tmp_path):
    path, now = tmp_path / "metrics.jsonl", [100.0]
    writer = MetricsWriter(path, clock=lambda: now[0])
    writer.add_step(step(1, 1))
    now[0] += 1.9
    writer.add_step(step(1, 2))
    assert path.read_bytes() == b""                     # buffered: less than 2 s since the last write
    now[0] += 0.1
    writer.add_step(step(1, 3))
    lines = path.read_bytes().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["loss"] == [step(1, s).loss for s in (1, 2, 3)]
    writer.close()


def test_a_torn_last_line_is_skipped_and_cut_before_the_next_write(tmp_path):
    path = tmp_path / "metrics.jsonl"
    write_epochs(path, 2)
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"type":"steps","epoch":3,"step":1,"glo')   # killed mid-line
    stats = ReadStats()
    assert len(list(read_records(path, stats))) == 10 and stats.skipped == 1
    writer = MetricsWriter(path)
    writer.add_epoch(epoch(3))
    writer.close()
    assert path.read_bytes().startswith(whole) and path.read_bytes().count(b"\n") == whole.count(b"\n") + 1
    assert [r.epoch for r in read_records(path) if isinstance(r, EpochRecord)] == [1, 2, 3]


def test_garbage_lines_are_skipped_and_the_rest_read(tmp_path):
    path = tmp_path / "metrics.jsonl"
    write_epochs(path, 1)
    good = path.read_bytes()
    path.write_bytes(b"not json\n" + b'{"type":"epoch","epoch":"x"}\n' + b"[1,2]\n" + b"\xff\xfe\n" + good)
    stats = ReadStats()
    assert len(list(read_records(path, stats))) == 5 and stats.skipped == 4


def test_a_huge_metrics_file_is_read_in_bounded_memory(tmp_path):
    path = tmp_path / "metrics.jsonl"
    with open(path, "wb") as file:
        file.write(b'{"type":"steps","loss":[' + b"0.5," * 10_000_000 + b"0.5]}\n")   # a 40 MB line
        for e in range(1, 20_001):                                                   # and 20,000 epochs
            file.write(json.dumps({"type": "epoch", "epoch": e, "epochs": 20_000, "train_loss": 0.5,
                                   "test_loss": 0.5, "test_accuracy": 0.5, "seconds": 1.0}).encode() + b"\n")
    assert path.stat().st_size > 40_000_000
    stats = ReadStats()
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_records(path, stats))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 20_000 and stats.skipped == 1
    # One line of at most MAX_LINE_BYTES at a time (readline builds it in a buffer, then copies it).
    assert peak < 2 * metrics.MAX_LINE_BYTES + (1 << 20)


def test_truncate_to_epoch_keeps_what_an_uninterrupted_run_had(tmp_path):
    path = tmp_path / "metrics.jsonl"
    write_epochs(path, 2)
    after_two = path.read_bytes()
    writer = MetricsWriter(path)
    writer.add_step(step(3, 1))
    writer.flush()
    writer.close()
    path.write_bytes(path.read_bytes() + b'{"torn')
    truncate_to_epoch(path, 2)
    assert path.read_bytes() == after_two
    truncate_to_epoch(path, 1)
    assert [r.epoch for r in read_records(path) if isinstance(r, EpochRecord)] == [1]


def test_run_json_round_trip(tmp_path):
    folder = make_run(tmp_path)
    info = runfile.read_info(folder)
    assert info.name == "a run" and info.settings == RunConfig() and info.epochs_done == 3
    assert info.architecture == original_network().architecture() and info.best_test_accuracy == 0.3


@pytest.mark.parametrize("content, reason", [
    (b"\x00\x01garbage", "run.json is not valid JSON"),
    (b"[1, 2, 3]", "run.json does not describe a CNN Studio run"),
    (b'{"format": "cnn-studio-run", "version": 99}', "format version 99 is newer than this program reads"),
    (b"", "run.json is not valid JSON"),
])
def test_damaged_run_json_is_listed_with_its_reason(tmp_path, content, reason):
    folder = make_run(tmp_path)
    (folder / "run.json").write_bytes(content)
    [entry] = RunStore(tmp_path).list()
    assert entry.status == "unreadable" and not entry.openable and reason in entry.reason


@pytest.mark.parametrize("field, value, reason", [
    ("settings", {"learning_rate": -1}, "run.json: settings: learning_rate must be"),
    ("status", "done", "run.json: status must be one of"),
    ("epochs_done", -2, "run.json: epochs_done must be a whole number"),
    ("best_test_accuracy", 7, "run.json: best_test_accuracy must be a fraction"),
    ("name", None, "run.json: name must be a text"),
    ("name", "n" * 1001, "run.json: name must be a text of at most 1,000 characters"),
    ("data", "/" + "d" * 4096, "run.json: data must be a text of at most 4,096 characters"),
])
def test_bad_fields_of_run_json_are_named(tmp_path, field, value, reason):
    folder = make_run(tmp_path)
    fields = json.loads((folder / "run.json").read_text())
    fields[field] = value
    (folder / "run.json").write_text(json.dumps(fields))
    entry = inspect(folder)
    assert not entry.openable and entry.reason.startswith(reason)


def test_a_run_trained_on_data_at_a_long_path_reads_back(tmp_path):
    """A --data path of over a thousand characters (a valid one: ././… repeated) made a run its own
    listing called unreadable ('data must be a text')."""
    folder = make_run(tmp_path)
    fields = json.loads((folder / "run.json").read_text())
    fields["data"] = "/tmp/" + "./" * 520 + "mnist.npz"
    (folder / "run.json").write_text(json.dumps(fields))
    entry = inspect(folder)
    assert entry.openable and entry.info.data == fields["data"]


def test_a_run_json_larger_than_a_megabyte_is_not_read(tmp_path):
    folder = make_run(tmp_path)
    (folder / "run.json").write_bytes(b" " * (runfile.MAX_RUN_FILE_BYTES + 1))
    assert "larger than 1 MB" in inspect(folder).reason


def test_every_kind_of_damage_in_one_listing(tmp_path):
    good = make_run(tmp_path, "good")
    no_checkpoint = make_run(tmp_path, "lost", checkpoint=False)
    corrupt = make_run(tmp_path, "corrupt")
    (corrupt / LAST).write_bytes(b"PK\x03\x04 truncated")
    no_run_json = make_run(tmp_path, "orphan")
    (no_run_json / "run.json").unlink()
    foreign = tmp_path / "holiday photos"
    foreign.mkdir()
    (foreign / "beach.jpg").write_bytes(b"\xff\xd8")
    (tmp_path / "a file, not a folder.txt").write_text("hello")
    entries = {entry.path.name: entry for entry in RunStore(tmp_path).list()}
    assert len(entries) == 5
    assert entries[good.name].openable and entries[good.name].reason is None
    assert entries[no_checkpoint.name].reason == "the checkpoint last.npz is missing"
    assert entries[corrupt.name].reason.startswith("the checkpoint last.npz is corrupt")
    assert entries[no_run_json.name].reason == "run.json is missing"
    assert entries["holiday photos"].reason == "not a run folder (no run.json)"
    assert not any(entries[name].openable for name in entries if name != good.name)


def test_listing_a_missing_folder_gives_nothing(tmp_path):
    assert RunStore(tmp_path / "nowhere").list() == []


def test_a_running_run_whose_process_is_gone_reads_as_interrupted(tmp_path):
    folder = make_run(tmp_path, status="running", epochs_done=1)
    assert inspect(folder).status == "interrupted" and inspect(folder).openable
    lock = RunLock(folder).acquire()          # a live recorder holds the lock
    try:
        assert inspect(folder).status == "running" and not inspect(folder).openable
        with pytest.raises(ValueError, match="still being recorded"):
            delete(folder)
    finally:
        lock.release()
    assert inspect(folder).status == "interrupted"


def test_interrupted_before_the_first_epoch(tmp_path):
    folder = make_run(tmp_path, status="running", epochs_done=0, checkpoint=False)
    entry = inspect(folder)
    assert entry.status == "interrupted" and entry.reason == "no checkpoint: it stopped before its first epoch ended"


def test_rename_keeps_the_folder_and_everything_else(tmp_path):
    folder = make_run(tmp_path)
    before = runfile.read_info(folder)
    rename(folder, "  lr 0.1 baseline ")
    after = runfile.read_info(folder)
    assert after.name == "lr 0.1 baseline" and after.settings == before.settings and after.created == before.created
    with pytest.raises(ValueError, match="cannot be empty"):
        rename(folder, "   ")


def test_delete_removes_the_run_and_keeps_foreign_files(tmp_path):
    plain, shared = make_run(tmp_path), make_run(tmp_path)
    (shared / "notes.txt").write_text("mine")
    assert delete(plain) == [] and not plain.exists()
    assert delete(shared) == ["notes.txt"] and (shared / "notes.txt").read_text() == "mine"
    assert not (shared / "run.json").exists() and not (shared / LAST).exists()
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "a.jpg").write_bytes(b"x")
    with pytest.raises(ValueError, match="not a run folder; nothing deleted"):
        delete(foreign)
    assert (foreign / "a.jpg").exists()


def test_delete_keeps_a_folder_named_like_a_temporary_file_and_removes_all_the_rest(tmp_path):
    """Red team: a folder .last.npz.<pid>.<hex>.tmp made Delete raise IsADirectoryError half-way through."""
    folder = make_run(tmp_path)
    (folder / ".last.npz.123.ab.tmp").mkdir()
    (folder / ".last.npz.123.ab.tmp" / "inside").write_text("mine")
    (folder / ".run.json.124.cd.tmp").write_text("{")       # a save cut short: the run's own
    assert delete(folder) == [".last.npz.123.ab.tmp"]
    assert sorted(p.name for p in folder.iterdir()) == [".last.npz.123.ab.tmp"]
    assert (folder / ".last.npz.123.ab.tmp" / "inside").read_text() == "mine"


def test_export_csv(tmp_path):
    folder = make_run(tmp_path)
    target = tmp_path / "out" / "metrics.csv"
    target.parent.mkdir()
    assert export_csv(folder, target) == (3, 12)
    epochs = list(csv.reader(open(target)))
    assert epochs[0] == ["epoch", "train_loss", "test_loss", "test_accuracy", "seconds"]
    assert [float(v) for v in epochs[2]] == [2, 0.1 / 2, 0.2 / 2, 0.2, 0.25]
    steps = list(csv.reader(open(steps_path(target))))
    assert steps[0] == ["epoch", "step", "global_step", "batch_size", "loss", "grad_norm 0.kernels",
                        "grad_norm 0.biases"]
    assert len(steps) == 13 and float(steps[5][4]) == step(2, 1).loss and steps[5][:3] == ["2", "1", "5"]


def test_new_folders_never_collide(tmp_path):
    store = RunStore(tmp_path)
    folders = {store.new_folder("original") for _ in range(5)}
    assert len(folders) == 5 and all(f.is_dir() for f in folders)
    assert BEST != LAST


@pytest.mark.parametrize("name, make, reason", [
    ("run.json", os.mkfifo, "run.json is a FIFO (named pipe), not a file"),
    ("run.json", os.mkdir, "run.json is a folder, not a file"),
    (LAST, os.mkfifo, "the checkpoint last.npz is a FIFO (named pipe), not a file"),
    (LAST, os.mkdir, "the checkpoint last.npz is a folder, not a file"),
])
def test_files_that_are_not_files_are_reasons_never_a_hang(tmp_path, name, make, reason):
    folder = make_run(tmp_path)
    (folder / name).unlink()
    make(folder / name)
    [entry] = RunStore(tmp_path).list()          # a FIFO opened for reading would block: it is never opened
    assert not entry.openable and entry.reason == reason


def test_a_metrics_file_that_is_a_fifo_is_refused(tmp_path):
    path = tmp_path / metrics.METRICS_FILE
    os.mkfifo(path)
    with pytest.raises(OSError, match="metrics.jsonl is a FIFO"):
        list(read_records(path))
