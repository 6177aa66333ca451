import re
import subprocess
import sys

import pytest

from cnn import weights_file
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
    assert out[-1] == f"test accuracy: {100 * correct / 60:.2f}%"


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
    (["--batch-size", "500", "--limit", "10"], "--batch-size must be at most the 20 training images, not 500"),
    (["--lr", "200"], "--lr must be from 1e-06 to 100, not 200.0"),
    (["--lr", "nan"], "--lr must be from 1e-06 to 100, not nan"),
    (["--lr-decay", "2"], "--lr-decay must be in (0, 1], not 2.0"),
    (["--momentum", "1"], "--momentum must be in [0, 1), not 1.0"),
    (["--batch-size", "0"], "--batch-size must be a whole number from 1 to 60000, not 0"),
    (["--shift", "9"], "--shift must be a whole number of pixels from 0 to 4, not 9"),
    (["--seed", str(2**40)], "--seed must be a whole number from 0 to 4294967295, not 1099511627776"),
    (["--limit", "0"], "--limit must be 1 to 60000 images per class, or all, not 0"),
    (["--epochs", str(10**20)], "--epochs must be a whole number from 1 to 10000, or 0 to only evaluate, "
                                "not 100000000000000000000"),
    (["--epochs", "-1"], "--epochs must be a whole number from 1 to 10000, or 0 to only evaluate, not -1"),
])
def test_errors_are_one_line_messages(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("cnn-train: error: ") and message in err and "Traceback" not in err
    assert err.count("\n") == 1


def test_every_setting_has_its_option():
    """The field → option map covers every RunConfig field, and each option exists."""
    import dataclasses

    from cnn.cli import OPTIONS, build_parser
    from cnn.config import RunConfig
    assert set(OPTIONS) == {f.name for f in dataclasses.fields(RunConfig)}
    known = {option for action in build_parser()._actions for option in action.option_strings}
    assert set(OPTIONS.values()) <= known


def test_limit_that_is_not_a_number(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--limit", "abc"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "cnn-train: error: argument --limit: must be a whole number of images per class, or 'all', not 'abc'")


def test_a_saturated_network_is_reported(capsys):
    """`cnn-train --lr 100 --epochs 3`: the sigmoids saturate at once and every gradient is 0 after
    the first step; the run still ends (exit 0), with one warning after epoch 2."""
    assert main(["--lr", "100", "--epochs", "3", "--quiet"]) == 0
    out, err = capsys.readouterr()
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert warnings == ["warning: epoch 2: the gradients are all zero (the units are saturated), so the network "
                        "no longer learns; try a learning rate 10× smaller, from fresh weights"]
    assert out.splitlines()[-1] == "test accuracy: 50.00%"


def test_a_healthy_run_has_no_warning(capsys):
    assert main(["--epochs", "2", "--limit", "10", "--quiet"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_bad_weights_file_message(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    assert main(["--load", str(bad)]) == 2
    assert capsys.readouterr().err == (f"cnn-train: error: {bad}: not a weights file (not a zip archive); expected an "
                                       ".npz saved by cnn-train or the studio\n")


def test_loaded_network_must_fit_the_classes(tmp_path, capsys):
    weights_file.save(original_network(3), tmp_path / "three.npz")
    assert main(["--load", str(tmp_path / "three.npz"), "--epochs", "0"]) == 2
    assert capsys.readouterr().err == (f"cnn-train: error: {tmp_path / 'three.npz'}: the network has 3 outputs, but 2 "
                                       "classes are chosen (0, 1); choose 3 classes, or weights trained on 2\n")


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


def test_weights_for_other_images_name_the_file_and_the_fix(tmp_path, capsys):
    from cnn import Dense, Network, Reshape, Sigmoid
    small = Network([Reshape((1, 32, 32), (1024,)), Dense(1024, 2, rng=0), Sigmoid()])
    weights_file.save(small, tmp_path / "32.npz")
    assert main(["--load", str(tmp_path / "32.npz"), "--epochs", "0", "--limit", "5"]) == 2
    assert capsys.readouterr().err == (f"cnn-train: error: {tmp_path / '32.npz'}: the network takes inputs "
                                       "(1, 32, 32), but the images are (1, 28, 28); use weights made for 28×28 "
                                       "images\n")


def test_confusion_matrix_before_the_last_line_agrees_with_the_predictions(capsys):
    assert main(["--epochs", "1", "--limit", "8", "--classes", "3", "5", "8"]) == 0
    out = capsys.readouterr().out.splitlines()
    pairs = [tuple(int(part.split(": ")[1]) for part in line.split(", ")) for line in out if line.startswith("pred:")]
    start = out.index("confusion matrix (rows: true digit, columns: predicted):")
    assert out[start + 1].split() == ["true\\pred", "3", "5", "8", "accuracy"]
    rows = [line.split() for line in out[start + 2:start + 5]]
    assert out[start + 5].startswith("test accuracy: ") and out[-1] == out[start + 5]
    for row in rows:
        true = int(row[0])
        counts = [sum(1 for p, t in pairs if t == true and p == predicted) for predicted in (3, 5, 8)]
        assert [int(v) for v in row[1:4]] == counts
        assert row[4] == f"{100 * counts[(3, 5, 8).index(true)] / sum(counts):.1f}%"


def test_a_large_test_set_prints_only_its_misclassified_images(capsys):
    """10,000 lines of `pred: P, true: T` flooded the terminal: above 1,000 test images only the mistakes,
    numbered, and how many they are; the count agrees with the accuracy printed."""
    assert main(["--preset", "digits", "--epochs", "1", "--limit", "110", "--batch-size", "64"]) == 0
    out = capsys.readouterr().out.splitlines()
    header = next(line for line in out if line.startswith("the "))
    wrong, total = (int(n.replace(",", "")) for n in re.fullmatch(r"the ([\d,]+) of the ([\d,]+) test images "
                                                                  r"misclassified:", header).groups())
    predictions = [line for line in out if line.startswith("pred:")]
    assert total == 1100 and len(predictions) == wrong > 0
    assert all((m := re.fullmatch(r"pred: (\d), true: (\d) \(test image #\d+\)", line)) and m[1] != m[2]
               for line in predictions)
    assert out[-1] == f"test accuracy: {100 * (total - wrong) / total:.2f}%"
