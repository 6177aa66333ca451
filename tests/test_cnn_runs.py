"""cnn-runs list / show / csv: one line per run, one line per moment, the studio's CSV; bad input in one line."""
import csv
import re

import numpy as np
import pytest

from cnn.cli import main as train
from cnn.runs.cli import main
from cnn.runs.metrics import METRICS_FILE, read_records
from cnn.runs.moments import MOMENTS, list_moments
from cnn.runs.store import RunStore
from cnn.train import EpochRecord

SMALL = ["--limit", "10", "--quiet"]


@pytest.fixture
def runs(tmp_path, cli_mnist_once, capsys, monkeypatch):
    import cnn.runs.cli
    monkeypatch.setattr(cnn.runs.cli, "load_mnist", cnn.cli.load_mnist)   # the bundled MNIST, read once
    assert train(["--epochs", "2", *SMALL, "--runs", str(tmp_path / "runs")]) == 0
    assert train(["--epochs", "0", *SMALL]) == 0
    capsys.readouterr()
    return tmp_path / "runs"


def test_list_shows_each_run_and_why_a_damaged_one_cannot_open(runs, capsys):
    damaged = runs / "20000101-000000-broken"
    damaged.mkdir()
    (damaged / "run.json").write_text("{ not json")
    assert main(["list", str(runs)]) == 0
    lines = capsys.readouterr().out.splitlines()
    [entry] = [e for e in RunStore(runs).list() if e.info is not None]
    assert f"{entry.path.name}  original lr 0.1 seed 0  finished  epochs 2/2  best " in lines[0]
    assert lines[1].startswith("20000101-000000-broken  unreadable  (run.json is not valid JSON")
    assert len(lines) == 2


def test_show_prints_the_settings_and_one_line_per_moment(runs, capsys):
    [entry] = RunStore(runs).list()
    fresh_accuracy = None
    assert train(["--epochs", "0", *SMALL]) == 0
    fresh_accuracy = re.search(r"test accuracy: (\S+)", capsys.readouterr().out).group(1)
    assert main(["show", str(entry.path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "  learning_rate: 0.1" in out and "  limit: 10" in out
    lines = [line for line in out if line.startswith("step ")]
    steps = [m.step for m in list_moments(entry.path)[0]]
    assert [int(line.split()[1]) for line in lines] == steps
    assert lines[0] == f"step 0  epoch 0  test accuracy {fresh_accuracy}"   # the run's start, evaluated now
    assert lines[3] == "step 4  epoch 0.200  test accuracy " + lines[3].rsplit(" ", 1)[1]
    epochs = [r for r in read_records(entry.path / METRICS_FILE) if isinstance(r, EpochRecord)]
    assert [line.split("test accuracy ")[1] for line in lines[-2:]] == [f"{100 * r.test_accuracy:.2f}%" for r in epochs]
    assert lines[-1].startswith("step 40  epoch 2  ")


def test_show_lists_a_damaged_moment_and_the_rest(runs, capsys):
    [entry] = RunStore(runs).list()
    (entry.path / MOMENTS / "step-000000008.npz").write_bytes(b"PK not a zip")
    assert main(["show", str(entry.path), "--no-evaluate"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "step 16  epoch 0.800  test accuracy —" in out
    assert any(line.startswith("step-000000008.npz: damaged: ") for line in out)
    assert not any(line.startswith("step 8 ") for line in out)


def test_csv_writes_what_the_studio_exports(runs, tmp_path, capsys):
    [entry] = RunStore(runs).list()
    out = tmp_path / "m.csv"
    assert main(["csv", str(entry.path), str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out} (2 epochs) and {tmp_path / 'm-steps.csv'} (40 steps)\n"
    rows = list(csv.reader(out.open()))
    epochs = [r for r in read_records(entry.path / METRICS_FILE) if isinstance(r, EpochRecord)]
    assert rows[0][:4] == ["epoch", "train_loss", "test_loss", "test_accuracy"]
    assert [float(row[3]) for row in rows[1:]] == [r.test_accuracy for r in epochs]
    assert len(list(csv.reader((tmp_path / "m-steps.csv").open()))) == 41


@pytest.mark.parametrize("argv, message", [
    (["show", "{tmp}/nowhere"], "cnn-runs: {tmp}/nowhere: no such run folder\n"),
    (["list", "{tmp}/nowhere"], "cnn-runs: {tmp}/nowhere: no such run folder\n"),
    (["csv", "{tmp}/runs", "{tmp}/o.csv"], "cnn-runs: {tmp}/runs: metrics.jsonl is missing\n"),
])
def test_bad_input_is_one_line_and_exit_2(runs, tmp_path, capsys, argv, message):
    assert main([arg.format(tmp=tmp_path) for arg in argv]) == 2
    assert capsys.readouterr().err == message.format(tmp=tmp_path)


def test_show_lists_the_moments_when_the_runs_data_is_gone(tmp_path, cli_mnist_once, raw_mnist, capsys):
    data = tmp_path / "mnist.npz"
    np.savez(data, **{key: value[:200] for key, value in raw_mnist.items()})
    assert train(["--epochs", "1", *SMALL, "--data", str(data), "--runs", str(tmp_path / "runs")]) == 0
    data.unlink()
    [entry] = RunStore(tmp_path / "runs").list()
    capsys.readouterr()
    assert main(["show", str(entry.path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert any(line.startswith("the moments inside an epoch are not evaluated: the run's data cannot be read (")
               for line in out)
    assert "step 0  epoch 0  test accuracy —" in out and out[-1].startswith("step 20  epoch 1  test accuracy ")


def test_show_of_a_folder_that_is_no_run_says_so_and_fails(tmp_path, capsys):
    assert main(["show", str(tmp_path)]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{tmp_path.name}  unreadable  (not a run folder (no run.json))"]
