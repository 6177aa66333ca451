"""Hostile run folders (issue 19): a member that links out of the folder, a checkpoint of another
network, a full disk while recording, a FIFO for a lock, a run killed while writing its first run.json,
`--continue ""`. Each is one line naming the file or option, and nothing outside the folder changes."""
import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import cnn.atomic
import cnn.runs.runfile
from cnn.atomic import WriteError
from cnn.checkpoint import load_checkpoint, save_checkpoint
from cnn.cli import main
from cnn.optim import SGD
from cnn.runs.lock import RunLock
from cnn.runs.metrics import METRICS_FILE, MetricsWriter, truncate_to_epoch
from cnn.runs.runfile import RUN_FILE, read_info, write_info
from cnn.config import RunConfig
from cnn.runs.recorder import RunRecorder
from cnn.runs.store import BEST, LAST, RunStore, delete, inspect
from cnn.session import Session

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--limit", "10", "--quiet"]          # 20 training images: 20 per-sample steps an epoch
OWN = "is a symbolic link; a run folder's files must be its own"


pytestmark = pytest.mark.usefixtures("cli_mnist_once")


def recorded(root, *options, epochs=2) -> Path:
    assert main(["--epochs", str(epochs), *SMALL, "--runs", str(root), *options]) == 0
    [entry] = RunStore(root).list()
    return entry.path


def contents(folder: Path) -> dict:
    return {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file() and not path.is_symlink()}


def shown(member: str) -> str:
    return f"the checkpoint {member}" if member in (LAST, BEST) else member


# -- 1. links out of the folder ----------------------------------------------------------------------

@pytest.mark.parametrize("member", [METRICS_FILE, RUN_FILE, LAST, BEST, ".lock", ".run.json.1.0a1b2c3d.tmp"])
def test_a_member_linking_out_of_the_run_is_refused_and_what_it_points_to_unchanged(tmp_path, capsys, member):
    folder = recorded(tmp_path / "runs")
    outside = tmp_path / "someone else's file"
    outside.write_bytes((folder / member).read_bytes() if (folder / member).exists() else b"not the run's\n")
    (folder / member).unlink(missing_ok=True)
    (folder / member).symlink_to(outside)
    before, others = outside.read_bytes(), contents(folder)
    capsys.readouterr()
    assert main(["--continue", str(folder), "--epochs", "1", "--quiet"]) == 2
    assert capsys.readouterr().err == f"cnn-train: error: {folder}: {shown(member)} {OWN}\n"
    assert outside.read_bytes() == before and contents(folder) == others
    [entry] = RunStore(tmp_path / "runs").list()          # the studio's Runs list: damaged, with the reason
    assert not entry.openable and entry.reason == f"{shown(member)} {OWN}"


def test_a_hidden_folder_that_is_not_a_runs_temporary_file_never_stops_a_continue(tmp_path, capsys):
    """`.cache.tmp`, which no write of a run makes, was taken for a temporary file of the run's and refused."""
    folder = recorded(tmp_path / "runs")
    (folder / ".cache.tmp").mkdir()
    assert main(["--continue", str(folder), "--epochs", "1", "--quiet"]) == 0
    assert (folder / ".cache.tmp").is_dir() and inspect(folder).openable


def test_a_lock_linking_to_nowhere_creates_nothing(tmp_path, capsys):
    folder = recorded(tmp_path / "runs")
    target = tmp_path / "made by the lock"
    (folder / ".lock").unlink()
    (folder / ".lock").symlink_to(target)
    assert main(["--continue", str(folder), "--epochs", "1", "--quiet"]) == 2
    assert not target.exists() and not target.is_symlink()
    assert capsys.readouterr().err.endswith(f"{folder}: .lock {OWN}\n")


def linked(folder: Path, name: str, outside: Path) -> Path:
    outside.write_bytes(b"precious\n")
    (folder / name).unlink(missing_ok=True)
    (folder / name).symlink_to(outside)
    return folder / name


@pytest.mark.parametrize("name, write", [
    (RUN_FILE, lambda folder, info, network: write_info(folder, info)),
    (METRICS_FILE, lambda folder, info, network: MetricsWriter(folder / METRICS_FILE)),
    (METRICS_FILE, lambda folder, info, network: truncate_to_epoch(folder / METRICS_FILE, 0)),
    (".lock", lambda folder, info, network: RunLock(folder).acquire()),
    (LAST, lambda folder, info, network: save_checkpoint(folder / LAST, network, SGD(0.1), epoch=1)),
])
def test_no_write_to_a_run_file_follows_a_link(tmp_path, name, write):
    """Written between the check and the write (a link put in place meanwhile), a run's file is
    still never written through: each write refuses the link."""
    folder = recorded(tmp_path / "runs", epochs=1)
    info, network = read_info(folder), load_checkpoint(folder / LAST).network
    outside = tmp_path / "outside"
    linked(folder, name, outside)
    with pytest.raises(OSError, match="symbolic link"):
        write(folder, info, network)
    assert outside.read_bytes() == b"precious\n" and (folder / name).is_symlink()


def test_write_atomically_follows_links_unless_told_not_to(tmp_path):
    target, link = tmp_path / "target", tmp_path / "link"
    target.write_bytes(b"old")
    link.symlink_to(target)
    with pytest.raises(WriteError, match="is a symbolic link, not a file; it is left alone"):
        cnn.atomic.write_atomically(link, lambda file: file.write(b"new"), follow_links=False)
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["link", "target"]
    cnn.atomic.write_atomically(link, lambda file: file.write(b"new"))      # --save's rule: written through
    assert target.read_bytes() == b"new" and link.is_symlink()


# -- 2. a checkpoint of another network ---------------------------------------------------------------

def test_a_checkpoint_of_another_network_is_refused_before_anything_is_written(tmp_path, capsys):
    original = recorded(tmp_path / "original", epochs=3)
    assert main(["--preset", "digits", "--limit", "20", "--epochs", "1", "--quiet", "--runs", str(tmp_path / "d")]) == 0
    [digits] = RunStore(tmp_path / "d").list()
    shutil.copyfile(digits.path / LAST, original / LAST)
    before = contents(original)
    capsys.readouterr()
    assert main(["--continue", str(original), "--epochs", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"cnn-train: error: {original}: the checkpoint last.npz is of "
                                                   "another network than run.json describes (preset 'digits' in "
                                                   "last.npz, 'original' in run.json; classes (0, 1, 2, 3, 4, 5, 6,")
    assert contents(original) == before            # run.json, metrics.jsonl, the checkpoints: byte for byte


def test_a_checkpoint_whose_layers_are_not_run_json_s_is_refused(tmp_path, capsys):
    folder = recorded(tmp_path / "runs")
    fields = json.loads((folder / RUN_FILE).read_text())
    fields["architecture"][0]["args"]["depth"] += 1
    (folder / RUN_FILE).write_text(json.dumps(fields))
    before = contents(folder)
    capsys.readouterr()
    assert main(["--continue", str(folder), "--epochs", "1", "--quiet"]) == 2
    assert capsys.readouterr().err == (f"cnn-train: error: {folder}: the checkpoint last.npz is of another network "
                                       "than run.json describes (its layers are not those of run.json); nothing was "
                                       "changed\n")
    assert contents(folder) == before


# -- 3. a full disk while recording --------------------------------------------------------------------

class Disk:
    """The disk fills at the first write of `name` for epoch 2: that write fails with ENOSPC after
    writing part of its bytes, and so does every later write of a run file unless `frees` (the
    failed temporary file's room comes back)."""

    def __init__(self, monkeypatch, name: str, frees: bool):
        self.name, self.frees, self.full, self.writes = name, frees, False, {}
        # epoch 1's files are written on the recorder's thread while epoch 2 trains: the disk fills after them
        # (filled before, it failed them too, and best.npz was missing: one run in thirty)
        self.epoch_1_written = threading.Event()
        for module in (cnn.atomic, cnn.runs.runfile):
            monkeypatch.setattr(module, "write_atomically", self._atomic(module.write_atomically))
        real_init = MetricsWriter.__init__

        def init(writer, *args, **kwargs):
            real_init(writer, *args, **kwargs)
            writer.file = FillingFile(writer.file, self)
        monkeypatch.setattr(MetricsWriter, "__init__", init)

    def fills(self, name: str) -> bool:
        """Whether this write of `name` fails."""
        self.writes[name] = self.writes.get(name, 0) + 1
        # epoch 2's: last.npz is written at the run's start and at each epoch's end
        if name == self.name and self.writes[name] == {LAST: 3, RUN_FILE: 3}.get(name):
            self.full = True
            return True
        return self.full and not self.frees

    def _atomic(self, real):
        def write_atomically(path, write, **options):
            if not self.fills(Path(path).name):
                written = real(path, write, **options)
                if Path(path).name == RUN_FILE and self.writes[RUN_FILE] == 2:   # the start's, then epoch 1's
                    self.epoch_1_written.set()
                return written

            def part_then_full(file):
                file.write(b"part of it")
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real(path, part_then_full, **options)
        return write_atomically


class FillingFile:
    def __init__(self, file, disk: Disk):
        self.file, self.disk = file, disk

    def write(self, data: bytes) -> int:
        if self.disk.name == METRICS_FILE and b'"epoch":2,' in data:
            assert self.disk.epoch_1_written.wait(60)
            self.disk.full = True
        if self.disk.full and not self.disk.frees:
            self.file.write(data[:10])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self.file.write(data)

    def __getattr__(self, name):
        return getattr(self.file, name)


@pytest.mark.parametrize("name, frees, checkpoint_epoch, status_on_disk", [
    (METRICS_FILE, False, 1, "running"),      # full for good: run.json cannot say more (its lock is free)
    (LAST, False, 1, "running"),
    (LAST, True, 1, "interrupted"),           # the failed checkpoint's room comes back: run.json says so
    (RUN_FILE, True, 2, "interrupted"),
])
def test_a_full_disk_while_recording_is_one_line_naming_the_run_file(tmp_path, capsys, monkeypatch, name, frees,
                                                                   checkpoint_epoch, status_on_disk):
    disk = Disk(monkeypatch, name, frees)
    assert main(["--epochs", "3", *SMALL, "--runs", str(tmp_path)]) == 1
    [entry] = RunStore(tmp_path).list()
    folder = entry.path
    err = capsys.readouterr().err
    assert err == (f"cnn-train: error: the run could not be recorded: {folder / name}: No space left on device; it "
                   "stopped there, its last checkpoint kept\n")
    assert "--save" not in err and "Traceback" not in err
    events = [p.name for p in folder.iterdir() if p.name.startswith("events.out.tfevents.")]   # TensorBoard's
    assert len(events) == 1
    expected = [".lock", BEST, LAST, METRICS_FILE, RUN_FILE, "moments", *events]
    assert sorted(p.name for p in folder.iterdir()) == sorted(expected)
    assert load_checkpoint(folder / LAST).epoch == checkpoint_epoch
    assert read_info(folder).status == status_on_disk
    assert entry.status == "interrupted" and entry.openable
    disk.full, disk.name = False, None                      # room again: the run goes on where it stopped
    assert main(["--continue", str(folder), "--quiet"]) == 0
    assert read_info(folder).status == "finished" and read_info(folder).epochs_done == 3


def test_a_save_failing_is_not_said_of_the_run_files(tmp_path, capsys):
    """--save's own problem still names --save; a run file's never does (the two were one clause)."""
    with pytest.raises(SystemExit):
        main(["--save", "", "--epochs", "1"])
    assert main(["--epochs", "1", *SMALL, "--save", str(tmp_path / "nowhere" / "w.npz")]) == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith(f"cnn-train: error: --save {tmp_path / 'nowhere'}")


# -- 6. a FIFO for a lock -------------------------------------------------------------------------------

def fifo_lock(folder: Path) -> int:
    """The run marked running, its .lock a FIFO. Returns a descriptor holding the FIFO open for
    writing, so that a program opening it for reading fails this test instead of hanging it."""
    fields = json.loads((folder / RUN_FILE).read_text())
    (folder / RUN_FILE).write_text(json.dumps({**fields, "status": "running"}))
    (folder / ".lock").unlink()
    os.mkfifo(folder / ".lock")
    return os.open(folder / ".lock", os.O_RDWR | os.O_NONBLOCK)


def test_a_fifo_lock_is_a_reason_never_a_hang(tmp_path, capsys):
    folder = recorded(tmp_path / "runs")
    holder = fifo_lock(folder)
    try:
        before = contents(folder)
        [entry] = RunStore(tmp_path / "runs").list()       # the studio's start lists the runs
        assert not entry.openable and entry.reason == ".lock is a FIFO (named pipe), not a file"
        capsys.readouterr()
        assert main(["--continue", str(folder), "--epochs", "1", "--quiet"]) == 2
        assert capsys.readouterr().err == f"cnn-train: error: {folder}: .lock is a FIFO (named pipe), not a file\n"
        assert contents(folder) == before
        with pytest.raises(OSError, match=r"\.lock is a FIFO"):
            RunLock(folder).acquire()
    finally:
        os.close(holder)


@pytest.mark.slow
def test_cnn_train_continue_on_a_fifo_lock_ends(tmp_path):
    """As the red team ran it: no one holds the FIFO open, so opening it to read would wait forever."""
    folder = recorded(tmp_path / "runs")
    os.close(fifo_lock(folder))
    result = subprocess.run([sys.executable, "-m", "cnn", "--continue", str(folder), "--epochs", "1"],
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=600)
    assert result.returncode == 2
    assert result.stderr == f"cnn-train: error: {folder}: .lock is a FIFO (named pipe), not a file\n"


# -- 12. killed while writing its first run.json --------------------------------------------------------

STOPPED = "it stopped before its first step (before its run.json was written): nothing was trained"


def test_a_run_killed_while_writing_its_first_run_json_stopped_before_its_first_epoch(tmp_path, capsys):
    folder = RunStore(tmp_path).new_folder("original")      # as a recorder killed then leaves it
    (folder / ".lock").write_bytes(b"")
    (folder / METRICS_FILE).write_bytes(b"")
    (folder / ".run.json.4194305.0a1b2c3d.tmp").write_bytes(b'{\n "format": "cnn-studio-run",\n "ver')
    assert inspect(folder).reason == STOPPED
    assert main(["--continue", str(folder)]) == 2
    assert capsys.readouterr().err == f"cnn-train: error: {folder}: {STOPPED}\n"
    assert delete(folder) == [] and not folder.exists()       # its temporary file goes with it


KILLED_WRITING_RUN_JSON = """
import os, signal, sys
import cnn.runs.runfile as runfile
real = runfile.write_atomically
def write_atomically(path, write, **options):
    def part(file):
        file.write(b'{"format": "cnn-studio-run", "ver')
        file.flush()
        print("writing", flush=True)
        signal.pause()
    return real(path, part, **options)
runfile.write_atomically = write_atomically
from cnn.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_sigkill_during_the_first_run_json_write_then_continue(tmp_path):
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", KILLED_WRITING_RUN_JSON, "--epochs", "2", *SMALL, "--runs",
                              str(tmp_path)], stdout=subprocess.PIPE, text=True, env=environment)
    try:
        assert child.stdout.readline() == "writing\n"
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=600)
        child.stdout.close()
    [folder] = list(tmp_path.iterdir())
    assert any(p.name.startswith(".run.json.") and p.name.endswith(".tmp") for p in folder.iterdir())
    result = subprocess.run([sys.executable, "-m", "cnn", "--continue", str(folder)], env=environment,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 2 and result.stderr == f"cnn-train: error: {folder}: {STOPPED}\n"


# -- 14. --continue "" ----------------------------------------------------------------------------------

def test_continue_with_an_empty_path_is_refused_naming_the_option(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["--continue", ""])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == "cnn-train: error: argument --continue: the path is empty"
    assert list(tmp_path.iterdir()) == []


def test_a_folder_where_a_moment_goes_ends_the_recording_naming_it_and_leaves_no_link(tmp_path, raw_mnist):
    """A folder at the name of the moment an epoch's end makes: the message said only 'the run folder: Is a
    directory', and the moment's temporary hard link stayed, holding a checkpoint's megabytes."""
    from cnn.runs.moments import MOMENTS, file_name
    from cnn.runs.recorder import RecordingError
    session = Session(RunConfig(epochs=2, limit=10), raw_mnist)
    recorder = RunRecorder.start(tmp_path, session, 2, source="bundled MNIST")
    blocker = recorder.folder / MOMENTS / file_name(session.steps_per_epoch)   # epoch 1's end
    blocker.mkdir()
    with pytest.raises(RecordingError, match=re.escape(str(blocker))):
        for record in session.run(2):
            recorder.add(record)
        recorder.close()
    assert not list((recorder.folder / MOMENTS).glob(".*.tmp"))
