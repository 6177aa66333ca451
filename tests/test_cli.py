import re
import subprocess
import sys

import pytest

from cnn import io
from cnn.cli import main
from cnn.presets import original_network


def test_short_original_experiment(capsys):
    assert main(["--epochs", "2", "--limit", "30"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"epoch 1/2  train loss \d\.\d{6}  test loss \d\.\d{6}  test accuracy [\d.]+%  \(.*\)", out[0])
    predictions = [line for line in out if line.startswith("pred:")]
    assert len(predictions) == 60
    assert all(re.fullmatch(r"pred: [01], true: [01]", line) for line in predictions)
    correct = sum(line.split(",")[0][-1] == line[-1] for line in predictions)
    assert out[-1] == f"test accuracy: {100 * correct / 60:.1f}%"


def test_save_then_load_evaluates_the_same(tmp_path, capsys):
    path = tmp_path / "w.npz"
    assert main(["--epochs", "1", "--limit", "20", "--quiet", "--save", str(path)]) == 0
    first = capsys.readouterr().out.splitlines()
    assert first[-1] == f"saved weights to {path}"
    assert main(["--epochs", "0", "--limit", "20", "--quiet", "--load", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == first[-2]  # same test accuracy line


@pytest.mark.parametrize("argv, message", [
    (["--data", "/no/such/place"], "/no/such/place: no such file or folder"),
    (["--classes", "3"], "two or more distinct digits"),
    (["--batch-size", "500", "--limit", "10"], "batch_size 500 is larger than the 20 training images"),
])
def test_errors_are_one_line_messages(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("cnn-train: error: ") and message in err and "Traceback" not in err


def test_bad_weights_file_message(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    assert main(["--load", str(bad)]) == 2
    assert f"{bad}: not a readable weights archive" in capsys.readouterr().err


def test_loaded_network_must_fit_the_classes(tmp_path, capsys):
    io.save(original_network(3), tmp_path / "three.npz")
    assert main(["--load", str(tmp_path / "three.npz"), "--epochs", "0"]) == 2
    assert "2 classes" in capsys.readouterr().err


@pytest.mark.slow
def test_full_original_experiment_reaches_98_percent():
    """The command a user runs: `python -m cnn`, 20 epochs of the original, ≥ 98% on 200 test images."""
    result = subprocess.run([sys.executable, "-m", "cnn"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert sum(line.startswith("epoch ") for line in lines) == 20
    assert sum(line.startswith("pred: ") for line in lines) == 200
    accuracy = float(re.fullmatch(r"test accuracy: ([\d.]+)%", lines[-1]).group(1))
    assert accuracy >= 98.0
