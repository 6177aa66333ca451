"""cnn-train --runs / --continue: a recorded run, continued exactly; bad run folders refused in one line."""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cnn import weights_file
from cnn.checkpoint import load_checkpoint
from cnn.cli import main
from cnn.config import RunConfig
from cnn.runs.lock import RunLock
from cnn.runs.metrics import METRICS_FILE, read_records
from cnn.runs.recorder import RunRecorder
from cnn.runs.runfile import read_info
from cnn.runs.store import BEST, LAST, RunStore, inspect
from cnn.session import Session
from cnn.train import EpochRecord

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--limit", "10", "--quiet"]          # 20 training images: 20 per-sample steps an epoch


@pytest.fixture(autouse=True)
def bundled_mnist_read_once(raw_mnist, monkeypatch):
    """cnn-train reads the bundled MNIST on every call (half a second); here it is read once."""
    import cnn.cli
    real = cnn.cli.load_mnist
    monkeypatch.setattr(cnn.cli, "load_mnist", lambda path=None: raw_mnist if path is None else real(path))


def without_seconds(text):
    return re.sub(r"\(\d+\.\d s\)", "(s)", text)


def the_run(root):
    [entry] = RunStore(root).list()
    return entry


def epoch_lines(folder):
    """Every epoch's measurements but its wall time."""
    return [(r.epoch, r.train_loss, r.test_loss, r.test_accuracy) for r in read_records(folder / METRICS_FILE)
            if isinstance(r, EpochRecord)]


def assert_same_weights(path_a, path_b):
    a, b = weights_file.load(path_a).params, weights_file.load(path_b).params
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_runs_records_without_changing_the_output(tmp_path, capsys):
    assert main(["--epochs", "2", *SMALL]) == 0
    plain = capsys.readouterr()
    assert main(["--epochs", "2", *SMALL, "--runs", str(tmp_path / "runs")]) == 0
    recorded = capsys.readouterr()
    assert without_seconds(recorded.out) == without_seconds(plain.out) and recorded.err == plain.err
    entry = the_run(tmp_path / "runs")
    info = entry.info
    assert entry.openable and entry.status == "finished" and info.epochs_done == info.epochs_planned == 2
    assert info.settings == RunConfig(epochs=2, limit=10) and info.data == "bundled MNIST"
    assert (entry.path / LAST).is_file() and (entry.path / BEST).is_file()
    lines = epoch_lines(entry.path)
    assert [line[0] for line in lines] == [1, 2]
    assert info.best_test_accuracy == max(line[3] for line in lines)
    steps = [r for r in read_records(entry.path / METRICS_FILE) if not isinstance(r, EpochRecord)]
    assert [r.global_step for r in steps] == list(range(1, 41))


def test_continue_equals_an_uninterrupted_run(tmp_path):
    assert main(["--epochs", "3", *SMALL, "--save", str(tmp_path / "straight.npz")]) == 0
    assert main(["--epochs", "2", *SMALL, "--runs", str(tmp_path / "runs")]) == 0
    folder = the_run(tmp_path / "runs").path
    assert main(["--continue", str(folder), "--epochs", "1", "--quiet", "--save", str(tmp_path / "continued.npz")]) == 0
    assert_same_weights(tmp_path / "straight.npz", tmp_path / "continued.npz")
    info = read_info(folder)
    assert info.status == "finished" and info.epochs_done == info.epochs_planned == 3
    assert [line[0] for line in epoch_lines(folder)] == [1, 2, 3]


def test_continue_finishes_the_planned_epochs_of_an_interrupted_run(tmp_path, capsys, raw_mnist):
    """A run cut off in its third epoch (its recorder never closed: the process died) finishes its
    planned epochs from the checkpoint after epoch 2, with the uninterrupted run's weights and metrics."""
    config = RunConfig(epochs=4, limit=10)
    raw = raw_mnist
    straight = Session(config, raw)
    reference = RunRecorder.start(tmp_path / "reference", straight, 4, source="bundled MNIST")
    for record in straight.run(4):
        reference.add(record)
    reference.close()
    session = Session(config, raw)
    recorder = RunRecorder.start(tmp_path / "runs", session, 4, source="bundled MNIST")
    for record in session.run(4):
        recorder.add(record)
        if record.epoch == 3 and getattr(record, "step", 0) == 7:
            break
    recorder.flush()   # the epochs' files its thread was writing are on disk: a dead process's threads die with it
    recorder.metrics.file.write(b'{"type":"steps","epo')   # killed in the middle of a line
    recorder.metrics.file.flush()
    recorder._lock.release()                                # as the kernel does for a dead process
    folder = the_run(tmp_path / "runs").path
    assert inspect(folder).status == "interrupted"
    assert main(["--continue", str(folder), "--quiet", "--save", str(tmp_path / "continued.npz")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in out if line.startswith("epoch ")] == ["3/4", "4/4"]
    weights_file.save(straight.network, tmp_path / "straight.npz")
    assert_same_weights(tmp_path / "straight.npz", tmp_path / "continued.npz")
    assert epoch_lines(folder) == epoch_lines(the_run(tmp_path / "reference").path)
    steps = [r.global_step for r in read_records(folder / METRICS_FILE) if not isinstance(r, EpochRecord)]
    assert steps == list(range(1, 81))                      # the cut-off epoch's steps appear once
    assert read_info(folder).status == "finished"


def corrupt_checkpoint(folder):
    (folder / LAST).write_bytes(b"PK\x03\x04 not really")


def garbage_run_json(folder):
    (folder / "run.json").write_text("{ not json")


def no_run_json(folder):
    (folder / "run.json").unlink()


@pytest.mark.parametrize("damage, message", [
    (corrupt_checkpoint, "the checkpoint last.npz is corrupt"),
    (garbage_run_json, "run.json is not valid JSON"),
    (no_run_json, "run.json is missing"),
    (lambda folder: (folder / LAST).unlink(), "the checkpoint last.npz is missing"),
])
def test_continue_refuses_a_damaged_run_in_one_line(tmp_path, capsys, damage, message):
    assert main(["--epochs", "1", *SMALL, "--runs", str(tmp_path)]) == 0
    folder = the_run(tmp_path).path
    capsys.readouterr()
    damage(folder)
    assert main(["--continue", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"cnn-train: error: {folder}: ") and message in err


def test_continue_refuses_other_folders_in_one_line(tmp_path, capsys):
    assert main(["--continue", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err == f"cnn-train: error: {tmp_path / 'nowhere'}: no such run folder\n"
    (tmp_path / "photos").mkdir()
    assert main(["--continue", str(tmp_path / "photos")]) == 2
    assert capsys.readouterr().err == f"cnn-train: error: {tmp_path / 'photos'}: not a run folder (no run.json)\n"


def test_continue_refuses_a_finished_run_and_a_live_one(tmp_path, capsys):
    assert main(["--epochs", "1", *SMALL, "--runs", str(tmp_path)]) == 0
    folder = the_run(tmp_path).path
    capsys.readouterr()
    assert main(["--continue", str(folder)]) == 2
    assert capsys.readouterr().err == (f"cnn-train: error: {folder}: the run has done all its 1 planned epochs; "
                                       "add --epochs N to train N more\n")
    info = json.loads((folder / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**info, "status": "running"}))
    lock = RunLock(folder).acquire()
    try:
        assert main(["--continue", str(folder), "--epochs", "1"]) == 2
        assert capsys.readouterr().err == f"cnn-train: error: {folder}: the run is being recorded by another process\n"
    finally:
        lock.release()


def test_continue_takes_no_settings(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--continue", str(tmp_path), "--lr", "0.5"])
    assert exit_info.value.code == 2
    assert "--continue trains with the run's own settings; drop --lr" in capsys.readouterr().err


@pytest.mark.slow
def test_sigkill_then_continue_equals_an_uninterrupted_run(tmp_path):
    """A recording cnn-train killed with SIGKILL after its first checkpoint, then --continue: the
    same final weights, bit for bit, as a run never interrupted."""
    command = [sys.executable, "-m", "cnn", "--epochs", "8", "--limit", "200", "--quiet"]
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(command + ["--save", str(tmp_path / "straight.npz")], check=True, env=environment,
                   capture_output=True, timeout=600)
    child = subprocess.Popen(command + ["--runs", str(tmp_path / "runs")], stdout=subprocess.PIPE, text=True,
                             env=environment)
    try:
        first = child.stdout.readline()     # printed at epoch 1's end, its files written on a thread meanwhile
        assert first.startswith("epoch 1/8")
        folder = the_run(tmp_path / "runs").path
        while read_info(folder).epochs_done < 1:   # run.json follows within milliseconds; 7 more epochs take far longer
            time.sleep(0.001)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=600)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    entry = the_run(tmp_path / "runs")
    assert entry.status == "interrupted" and 1 <= entry.info.epochs_done < 8
    result = subprocess.run([sys.executable, "-m", "cnn", "--continue", str(entry.path), "--quiet", "--save",
                             str(tmp_path / "continued.npz")], env=environment, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stdout.splitlines() if line.startswith("epoch ")][-1].startswith("epoch 8/8")
    assert_same_weights(tmp_path / "straight.npz", tmp_path / "continued.npz")
    assert [line[0] for line in epoch_lines(entry.path)] == list(range(1, 9))
    assert read_info(entry.path).status == "finished"


def test_a_rename_while_recording_is_kept(tmp_path, raw_mnist):
    from cnn.runs.store import rename
    session = Session(RunConfig(epochs=2, limit=10), raw_mnist)
    recorder = RunRecorder.start(tmp_path, session, 2, source="bundled MNIST")
    for record in session.run(2):
        recorder.add(record)
        if isinstance(record, EpochRecord) and record.epoch == 1:
            rename(recorder.folder, "renamed meanwhile")
    recorder.close()
    info = read_info(recorder.folder)
    assert info.name == "renamed meanwhile" and info.epochs_done == 2 and info.status == "finished"


def test_run_json_is_read_back_only_when_another_writer_replaced_it(tmp_path, monkeypatch, raw_mnist):
    """The recorder writes run.json under the name the file has (a rename while recording stays): it reads
    the file only when it is not the one it wrote, also after another process's rename to a name as long."""
    import cnn.runs.runfile as runfile
    from cnn.runs.store import rename
    reads = []
    real_read = runfile.read_info
    monkeypatch.setattr(runfile, "read_info", lambda folder: (reads.append(folder), real_read(folder))[1])
    session = Session(RunConfig(epochs=1, limit=10), raw_mnist)
    info = runfile.new_info("name A", session.config, session.network.architecture(), "bundled MNIST", 3)
    run_file = runfile.RunFile(tmp_path, live=True)   # as a recorder's
    run_file.write(info)
    reads.clear()
    assert [run_file.write(info.with_changes(epochs_done=n)).name for n in (1, 2)] == ["name A"] * 2 and not reads
    runfile.write_info(tmp_path, info.with_changes(name="name B"))      # as cnn-runs rename, another process
    assert run_file.write(info.with_changes(epochs_done=3)).name == "name B" and len(reads) == 1
    assert rename(tmp_path, "name C").name == "name C"                 # this process: through the recorder's file
    reads.clear()
    assert run_file.write(info.with_changes(status="finished")).name == "name C" and not reads
    assert read_info(tmp_path).name == "name C" and read_info(tmp_path).status == "finished"
    run_file.close()
    assert runfile.RunFile.recording(tmp_path) is None


def test_a_rename_while_the_recorder_writes_run_json_waits_for_it_and_stays(tmp_path, monkeypatch, raw_mnist):
    """A rename (the Runs panel's) at the moment the recorder writes run.json: the recorder's write, which took
    the old name, overwrote the rename, or the rename overwrote the finished status with 'running'."""
    import threading
    import cnn.runs.runfile as runfile
    from cnn.runs.store import rename
    session = Session(RunConfig(epochs=1, limit=10), raw_mnist)
    info = runfile.new_info("old", session.config, session.network.architecture(), "bundled MNIST", 1)
    run_file = runfile.RunFile(tmp_path, live=True)   # as a recorder's
    run_file.write(info)
    inside, release = threading.Event(), threading.Event()
    real_write = runfile.write_info

    def held_write(folder, written, sync=True):
        if written.status == "finished":
            inside.set()
            release.wait(30)
        real_write(folder, written, sync)
    monkeypatch.setattr(runfile, "write_info", held_write)
    closing = threading.Thread(target=lambda: run_file.write(info.with_changes(status="finished", epochs_done=1)))
    closing.start()
    assert inside.wait(30)
    renaming = threading.Thread(target=lambda: rename(tmp_path, "new"))
    renaming.start()
    renaming.join(0.5)     # (without the lock it is done by now, and the held write then overwrites it)
    release.set()
    closing.join(30)
    renaming.join(30)
    final = read_info(tmp_path)
    assert (final.name, final.status, final.epochs_done) == ("new", "finished", 1)
    run_file.close()


def test_epochs_are_written_without_fsync_and_made_durable_every_minute_and_at_the_end(tmp_path, raw_mnist,
                                                                                     monkeypatch):
    import cnn.runs.recorder as recorder_module
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda descriptor: (synced.append(descriptor), real_fsync(descriptor)))
    now = [0.0]
    session = Session(RunConfig(epochs=3, limit=10), raw_mnist)
    recorder = RunRecorder.start(tmp_path, session, 3, source="bundled MNIST")
    recorder.clock = lambda: now[0]
    recorder.last_sync = 0.0
    synced.clear()
    epochs = 0
    for record in session.run(3):
        recorder.add(record)
        if isinstance(record, EpochRecord):
            recorder.flush()                              # waits for the epoch's files (written on a thread)
            epochs += 1
            if epochs == 1:
                assert synced == []                       # a killed process loses nothing: no fsync needed
                now[0] += recorder_module.SYNC_SECONDS    # a minute later the next epoch is made durable
            elif epochs == 2:
                assert len(synced) >= 3                   # metrics, checkpoint, run.json (and their folder)
                synced.clear()
    recorder.flush()
    assert synced == []
    recorder.close()
    assert len(synced) >= 3 and read_info(recorder.folder).status == "finished"


def test_continue_plans_its_epochs_in_the_settings_too(tmp_path, capsys):
    """run.json has one planned total: settings.epochs is epochs_planned, after a continue as before."""
    assert main(["--epochs", "3", *SMALL, "--runs", str(tmp_path)]) == 0
    folder = the_run(tmp_path).path
    assert read_info(folder).settings.epochs == read_info(folder).epochs_planned == 3
    capsys.readouterr()
    assert main(["--continue", str(folder), "--epochs", "2", "--quiet"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in out if line.startswith("epoch ")] == ["4/5", "5/5"]
    info = read_info(folder)
    assert info.settings.epochs == info.epochs_planned == info.epochs_done == 5
    assert load_checkpoint(folder / LAST).config["epochs"] == 5


@pytest.mark.parametrize("where, problem", [("proc/x", "the runs folder cannot be made (No such file or directory)"),
                                            ("a-file", "the runs folder is a file (or part of its path is), "
                                                       "not a folder"),
                                            ("a-file/x", "the runs folder cannot be made (Not a directory)")])
def test_runs_in_a_place_that_cannot_hold_runs_is_one_line(tmp_path, capsys, where, problem):
    (tmp_path / "a-file").write_text("not a folder")
    root = Path("/proc/x") if where == "proc/x" else tmp_path / where   # nothing can be made in /proc
    assert main(["--epochs", "1", *SMALL, "--runs", str(root)]) == 2
    assert capsys.readouterr().err == f"cnn-train: error: {root}: {problem}\n"
