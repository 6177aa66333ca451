"""Issue 19, third round: leftover temporary files whose pid field is no pid never stop a save or a
recording; a run whose .lock was deleted while it records is still busy; a value out of range in
run.json or a checkpoint is named as that file's field, never as an option nobody typed; --runs ""
and --runs where no folder can be made, --continue of a file, a foreign best.npz: one line each."""
import json
import os
import socket
from pathlib import Path

import pytest

from cnn import weights_file
from cnn.atomic import MAX_PID
from cnn.checkpoint import load_checkpoint, save_checkpoint
from cnn.cli import main
from cnn.optim import from_state
from cnn.presets import original_network
from cnn.runs.lock import LOCK_FILE, RunBusy
from cnn.runs.metrics import METRICS_FILE
from cnn.runs.recorder import RunRecorder
from cnn.runs.runfile import RUN_FILE, read_info
from cnn.runs.store import BEST, LAST, RunStore, inspect
from cnn.session import Session
from cnn.train import EpochProgress

SMALL = ["--limit", "10", "--quiet"]          # 20 training images: 20 per-sample steps an epoch
NO_PIDS = ["99999999999999999999999", "²³", "0", "4294967296"]   # too big for os.kill, not ASCII, no process


pytestmark = pytest.mark.usefixtures("cli_mnist_once")


def recorded(root, *options, epochs=1) -> Path:
    assert main(["--epochs", str(epochs), *SMALL, "--runs", str(root), *options]) == 0
    [entry] = RunStore(root).list()
    return entry.path


def edit_run_file(folder: Path, **changes) -> None:
    fields = json.loads((folder / RUN_FILE).read_text())
    (folder / RUN_FILE).write_text(json.dumps({**fields, **changes}))


def rewrite_checkpoint(folder: Path, epoch=None, step=0) -> None:
    checkpoint = load_checkpoint(folder / LAST)
    save_checkpoint(folder / LAST, checkpoint.network, from_state(checkpoint.optimizer_state),
                    epoch=checkpoint.epoch if epoch is None else epoch, config=checkpoint.config,
                    progress=EpochProgress(step, 0.0, 0.0))


def one_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err.removesuffix("\n")


# -- F5, F6: a leftover whose pid field is no pid ---------------------------------------------------

@pytest.mark.parametrize("pid", NO_PIDS)
def test_a_leftover_whose_pid_is_no_pid_never_stops_a_save(tmp_path, capsys, pid):
    leftover = tmp_path / f".w.npz.{pid}.ab.tmp"
    leftover.write_bytes(b"not ours to judge")
    assert main(["--epochs", "1", *SMALL, "--save", str(tmp_path / "w.npz")]) == 0
    assert capsys.readouterr().err == ""
    weights_file.load(tmp_path / "w.npz")
    assert leftover.read_bytes() == b"not ours to judge"


def test_a_folder_named_as_a_dead_save_s_leftover_never_stops_a_save(tmp_path, capsys):
    (tmp_path / f".w.npz.{MAX_PID}.ab.tmp").mkdir()          # no process has that id: an orphan's name
    assert main(["--epochs", "1", *SMALL, "--save", str(tmp_path / "w.npz")]) == 0
    weights_file.load(tmp_path / "w.npz")
    assert (tmp_path / f".w.npz.{MAX_PID}.ab.tmp").is_dir()


@pytest.mark.parametrize("pid", NO_PIDS[:2])
def test_a_leftover_whose_pid_is_no_pid_never_stops_a_recording(tmp_path, capsys, pid):
    folder = recorded(tmp_path / "runs")
    (folder / f".{LAST}.{pid}.ab.tmp").write_bytes(b"partial")
    capsys.readouterr()
    assert main(["--continue", str(folder), "--epochs", "1", "--quiet"]) == 0
    info = read_info(folder)
    assert (info.status, info.epochs_done, load_checkpoint(folder / LAST).epoch) == ("finished", 2, 2)


def test_a_save_failing_in_an_unforeseen_way_still_keeps_the_weights(tmp_path, monkeypatch):
    import cnn.atomic
    network = original_network(seed=5)

    def broken(target):
        raise RuntimeError("something unforeseen")
    monkeypatch.setattr(cnn.atomic, "_remove_orphans", broken)
    monkeypatch.setattr(cnn.atomic, "rescue_folders", lambda: [tmp_path / "rescue"])
    (tmp_path / "rescue").mkdir()
    rescued = weights_file.save_or_rescue(network, tmp_path / "w.npz")
    assert rescued is not None and rescued.reason == "something unforeseen"
    assert rescued.path.parent == tmp_path / "rescue"
    assert weights_file.load(rescued.path).architecture() == network.architecture()


# -- F10, F12 (f): --runs where no run can be recorded ----------------------------------------------

def test_runs_with_an_empty_path_is_refused_naming_the_option(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["--epochs", "1", *SMALL, "--runs", ""])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == "cnn-train: error: argument --runs: the path is empty"
    assert list(tmp_path.iterdir()) == []


def test_runs_where_no_folder_can_be_made_is_said_in_the_project_s_words(capsys):
    assert main(["--epochs", "1", *SMALL, "--runs", "/proc/self"]) == 2
    assert one_error(capsys) == ("cnn-train: error: /proc/self: a run folder cannot be made in the runs folder "
                                 "(No such file or directory)")


# -- F12 (h): --continue of something that is not a folder -----------------------------------------

def test_continue_of_a_file_or_a_device_says_what_it_is(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("notes")
    assert main(["--continue", str(tmp_path / "notes.txt")]) == 2
    assert one_error(capsys) == f"cnn-train: error: {tmp_path / 'notes.txt'}: is a file, not a run folder"
    assert main(["--continue", "/dev/null"]) == 2
    assert one_error(capsys) == "cnn-train: error: /dev/null: is a character device, not a run folder"
    assert main(["--continue", str(tmp_path / "nothing")]) == 2
    assert one_error(capsys) == f"cnn-train: error: {tmp_path / 'nothing'}: no such run folder"


# -- F11: .lock deleted while the run records --------------------------------------------------------

def as_if_recorded_by(folder: Path, pid: int, host: str) -> None:
    """run.json as a recording process writes it, its .lock deleted (by hand, by a cleaner)."""
    edit_run_file(folder, status="running", pid=pid, host=host)
    (folder / LOCK_FILE).unlink()


def test_a_run_whose_lock_was_deleted_while_it_records_is_busy(tmp_path, capsys):
    folder = recorded(tmp_path / "runs")
    as_if_recorded_by(folder, os.getpid(), socket.gethostname())    # a live process on this host
    metrics = (folder / METRICS_FILE).read_bytes()
    capsys.readouterr()
    assert main(["--continue", str(folder), "--epochs", "1", "--quiet"]) == 2
    assert one_error(capsys) == (f"cnn-train: error: {folder}: the run is being recorded by process {os.getpid()} "
                                 f"(its {LOCK_FILE} file is missing)")
    assert inspect(folder).status == "running"
    assert (folder / METRICS_FILE).read_bytes() == metrics and not (folder / LOCK_FILE).exists()


def test_recording_a_run_whose_lock_was_deleted_is_refused_even_after_it_was_opened(tmp_path, raw_mnist):
    """Between the look (open_run) and the recording, the other process may have started."""
    folder = recorded(tmp_path / "runs")
    session = Session.from_checkpoint(load_checkpoint(folder / LAST), raw_mnist)
    as_if_recorded_by(folder, os.getpid(), socket.gethostname())
    with pytest.raises(RunBusy, match=f"^{folder}: the run is being recorded by process {os.getpid()} "):
        RunRecorder.resume(folder, session, 1)
    assert not (folder / LOCK_FILE).exists()


@pytest.mark.parametrize("pid, host", [(MAX_PID, socket.gethostname()), (os.getpid(), "another-host"),
                                       (10**30, socket.gethostname())])
def test_a_run_whose_lock_is_missing_and_whose_process_is_not_here_goes_on(tmp_path, capsys, pid, host):
    folder = recorded(tmp_path / "runs")
    as_if_recorded_by(folder, pid, host)
    assert inspect(folder).status == "interrupted"
    assert main(["--continue", str(folder), "--epochs", "1", "--quiet"]) == 0
    assert read_info(folder).status == "finished"


# -- F12 (a), (b), (c): a value out of range named as the file's field -------------------------------

def test_epochs_planned_out_of_range_is_run_json_s_field_not_an_option(tmp_path, capsys):
    folder = recorded(tmp_path / "runs")
    edit_run_file(folder, epochs_planned=10**18)
    assert inspect(folder).reason == ("run.json: epochs_planned must be a whole number from 0 to 10000, not "
                                      "'1000000000000000000'")     # the studio lists it so, not as 1/10**18
    capsys.readouterr()
    assert main(["--continue", str(folder)]) == 2
    assert one_error(capsys) == (f"cnn-train: error: {folder}: run.json: epochs_planned must be a whole number from "
                                 "0 to 10000, not '1000000000000000000'")


def test_a_checkpoint_s_epoch_out_of_range_is_the_checkpoint_s_field(tmp_path, capsys):
    folder = recorded(tmp_path / "runs")
    rewrite_checkpoint(folder, epoch=10**15)
    capsys.readouterr()
    assert main(["--continue", str(folder), "--epochs", "1", "--quiet"]) == 2
    assert one_error(capsys) == (f"cnn-train: error: {folder}: the checkpoint last.npz's epoch must be a whole number "
                                 "from 0 to 10000, not 1000000000000000")
    rewrite_checkpoint(folder, epoch=10000)
    assert main(["--continue", str(folder), "--epochs", "1", "--quiet"]) == 2
    assert one_error(capsys) == ("cnn-train: error: --epochs 1: the run has done 10000 epochs, and a run has at most "
                                 "10000 in all")


def test_a_checkpoint_s_step_past_its_epoch_names_the_checkpoint(tmp_path, capsys):
    folder = recorded(tmp_path / "runs")
    rewrite_checkpoint(folder, step=10**9)
    capsys.readouterr()
    assert main(["--continue", str(folder), "--epochs", "1", "--quiet"]) == 2
    assert one_error(capsys) == (f"cnn-train: error: {folder}: the checkpoint last.npz is at step 1000000000 of an "
                                 "epoch, which has only 20 steps")


# -- a foreign best.npz ------------------------------------------------------------------------------

def test_a_best_checkpoint_of_another_run_is_refused_before_anything_is_written(tmp_path, capsys):
    folder = recorded(tmp_path / "runs")
    other = recorded(tmp_path / "other", "--seed", "1")
    (other / BEST).replace(folder / BEST)
    before = {path.name: path.read_bytes() for path in folder.rglob("*") if path.is_file()}
    capsys.readouterr()
    assert main(["--continue", str(folder), "--epochs", "1", "--quiet"]) == 2
    assert one_error(capsys) == (f"cnn-train: error: {folder}: the checkpoint best.npz is of another network than "
                                 "run.json describes (seed 1 in best.npz, 0 in run.json); nothing was changed")
    assert {path.name: path.read_bytes() for path in folder.rglob("*") if path.is_file()} == before
