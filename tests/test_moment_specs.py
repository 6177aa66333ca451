"""RUN_FOLDER@STEP (and @first, @last, @best, @epochN) wherever a weights file is taken: cnn-train --load,
cnn-predict --load, cnn-export; one line naming the spec when there is no such moment."""
import re

import numpy as np
import pytest

from cnn import weights_file
from cnn.cli import main
from cnn.runs.moments import list_moments
from cnn.runs.store import RunStore

SMALL = ["--limit", "10", "--quiet"]


@pytest.fixture
def run(tmp_path, cli_mnist_once, capsys):
    assert main(["--epochs", "2", *SMALL, "--runs", str(tmp_path / "runs")]) == 0
    capsys.readouterr()
    [entry] = RunStore(tmp_path / "runs").list()
    return entry.path


def test_train_load_at_step_0_evaluates_the_untrained_network_as_the_run_started(run, capsys):
    assert main(["--epochs", "0", *SMALL]) == 0          # a fresh network of the same seed: the run's start
    fresh = capsys.readouterr()
    assert main(["--load", f"{run}@0", "--epochs", "0", *SMALL]) == 0
    loaded = capsys.readouterr()
    assert loaded.out == fresh.out and loaded.err == "" and "test accuracy: " in loaded.out


def test_train_load_at_the_last_moment_is_the_run_as_it_ended(run, tmp_path, capsys):
    assert main(["--load", f"{run}@last", "--epochs", "0", *SMALL, "--save", str(tmp_path / "w.npz")]) == 0
    saved, last = weights_file.load(tmp_path / "w.npz"), weights_file.load(run / "last.npz")
    assert all(np.array_equal(saved.params[name], value) for name, value in last.params.items())
    assert main(["--load", f"{run}@epoch2", "--epochs", "1", *SMALL]) == 0    # and training goes on from it
    assert re.search(r"^epoch 1/1 ", capsys.readouterr().out, re.M)


def test_train_names_the_spec_in_one_line_when_there_is_no_such_moment(run, capsys):
    steps = ", ".join(str(moment.step) for moment in list_moments(run)[0])
    assert main(["--load", f"{run}@17", "--epochs", "0", *SMALL]) == 2
    err = capsys.readouterr().err
    assert err == f"cnn-train: error: {run}@17: no moment at step 17; the moments are at steps {steps}\n"


def test_predict_takes_a_moment_and_names_a_missing_one(run, tmp_path, capsys):
    from cnn.predict import main as predict
    assert predict(["--load", f"{run}@epoch9", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"cnn-predict: {run}@epoch9: no moment at the end of epoch 9 (step 180); the moments are")
    assert err.count("\n") == 1
    assert predict(["--load", f"{run}@best", str(tmp_path / "missing.png")]) == 1   # loaded; only the image fails
    assert capsys.readouterr().err.startswith(f"cnn-predict: {tmp_path / 'missing.png'}")


@pytest.mark.slow
def test_export_writes_a_moment_as_a_keras_model(run, tmp_path, capsys):
    pytest.importorskip("tensorflow")
    from cnn.bridge.cli import export_main
    from cnn.bridge.reading import load_network
    assert export_main([f"{run}@1", str(tmp_path / "m.keras")]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {tmp_path / 'm.keras'}")
    first, back = weights_file.load(f"{run}@1"), load_network(tmp_path / "m.keras")
    assert all(np.array_equal(back.params[name], value) for name, value in first.params.items())
    assert export_main([f"{run}@3", str(tmp_path / "n.keras")]) == 2
    assert f"{run}@3: no moment at step 3" in capsys.readouterr().err
