"""The studio's rules for runs (app/model/recording.py, Qt-free): which run a Start records into."""
import shutil

import pytest

from app.model.recording import NotRecorded, Recording
from cnn.config import RunConfig
from cnn.runs.metrics import read_records
from cnn.runs.runfile import read_info
from cnn.session import Session
from cnn.train import EpochRecord


def train(recording, session, epochs):
    curves = recording.begin(session, epochs, "bundled MNIST")
    for record in session.run(epochs):
        recording.keep(record)
    recording.end()
    return curves


def test_a_run_goes_on_with_the_same_settings_and_a_new_one_starts_on_others(tmp_path, raw_mnist):
    recording = Recording(tmp_path)
    config = RunConfig(epochs=1, limit=10)
    session = Session(config, raw_mnist)
    assert recording.training_changes(session, config.with_changes(learning_rate=0.5)) == []   # no run yet
    assert train(recording, session, 1) is None                  # a new run
    first = recording.folder
    assert recording.training_changes(session, config.with_changes(epochs=7)) == []
    assert recording.training_changes(session, config.with_changes(learning_rate=0.5, momentum=0.5)) == \
        ["lr 0.1 → lr 0.5", "momentum 0 → momentum 0.5"]
    assert recording.training_changes(session, config.with_changes(seed=4)) == []   # a fresh network anyway
    session = session.resumed(config)
    curves = train(recording, session, 1)                         # goes on: the run's curves come back
    assert recording.folder == first and curves.epochs_done == 1 and read_info(first).epochs_done == 2
    shutil.rmtree(first)
    assert train(recording, session.resumed(config), 1) is None   # its folder is gone: a new run, from epoch 3
    # (within the same second the new run may take the deleted folder's name: what matters is its content)
    epochs = [r.epoch for r in read_records(recording.folder / "metrics.jsonl") if isinstance(r, EpochRecord)]
    assert epochs == [3] and read_info(recording.folder).epochs_done == 3


def test_a_folder_that_cannot_be_written_is_not_recorded(tmp_path, raw_mnist):
    blocked = tmp_path / "file"
    blocked.write_text("x")
    recording = Recording(blocked)
    session = Session(RunConfig(epochs=1, limit=10), raw_mnist)
    with pytest.raises(NotRecorded, match=f"This run is not recorded: {blocked}"):
        recording.begin(session, 1, "bundled MNIST")
    assert recording.recorder is None and not recording.keep(next(iter(session.run(1))))
    assert recording.end() is None


def test_the_runs_folder_is_named_once_in_the_message(tmp_path, raw_mnist):
    """Not "…/runs: …/runs: the runs folder cannot be made" (the store's error names the folder already)."""
    (tmp_path / "file").write_text("x")
    runs = tmp_path / "file" / "runs"          # a folder that cannot be made: its parent is a file
    session = Session(RunConfig(epochs=1, limit=10), raw_mnist)
    with pytest.raises(NotRecorded) as error:
        Recording(runs).begin(session, 1, "bundled MNIST")
    assert str(error.value) == (f"This run is not recorded: {runs}: the runs folder cannot be made (Not a directory). "
                                "Training goes on; File ▸ Save weights keeps the result.")


def test_without_a_runs_folder_nothing_is_recorded(raw_mnist):
    recording = Recording(None)
    session = Session(RunConfig(epochs=1, limit=10), raw_mnist)
    assert recording.begin(session, 1, "x") is None and recording.folder is None
    assert not any(recording.keep(r) for r in session.run(1) if isinstance(r, EpochRecord))
