"""What every command does alike (cnn/conventions.py): --version, -v and --log-level; and cnn-train's
tqdm progress bar (cnn/progress_bar.py)."""
import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import cnn
from cnn.progress_bar import ProgressBar
from cnn.train import StepRecord

ROOT = Path(__file__).resolve().parent.parent


def parsers():
    from app.main import build_parser as studio
    from cnn.cli import build_parser as train
    from cnn.predict import build_parser as predict
    return {"cnn-train": train, "cnn-studio": studio, "cnn-predict": predict}


@pytest.mark.parametrize("command", ["cnn-train", "cnn-studio", "cnn-predict"])
def test_version_is_the_packages(command, capsys):
    declared = re.search(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    with pytest.raises(SystemExit) as done:
        parsers()[command]().parse_args(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"{command} {declared}\n" == f"{command} {cnn.__version__}\n"


@pytest.mark.parametrize("command", ["cnn-export", "cnn-import"])
def test_the_bridge_commands_take_version_and_log_level_too(command, capsys):
    from cnn.bridge.cli import export_main, import_main
    main = export_main if command == "cnn-export" else import_main
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out == f"{command} {cnn.__version__}\n"
    with pytest.raises(SystemExit) as done:
        main(["a", "b", "--log-level", "LOUD"])
    assert done.value.code == 2 and "--log-level" in capsys.readouterr().err


def test_verbose_says_what_is_done_and_the_default_is_quiet(tmp_path, raw_mnist, capsys):
    from cnn.cli import main
    for digit in (0, 1):
        for n, pixels in enumerate(raw_mnist["x_train"][raw_mnist["y_train"] == digit][:5]):
            (tmp_path / "data" / str(digit)).mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels).save(tmp_path / "data" / str(digit) / f"{n}.png")
    arguments = ["--data", str(tmp_path / "data"), "--raw", "--epochs", "1", "--quiet"]
    assert main(arguments) == 0
    assert capsys.readouterr().err == ""
    assert main([*arguments, "-v", "--runs", str(tmp_path / "runs")]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == (f"cnn-train: INFO: {tmp_path / 'data'}: 2 classes (0 → 0, 1 → 1), 8 training and 2 test "
                        "pictures")
    assert re.fullmatch(f"cnn-train: INFO: recording the run in {tmp_path / 'runs'}/.+", lines[1])
    assert main([*arguments, "--log-level", "debug", "--runs", str(tmp_path / "runs")]) == 0
    assert "cnn-train: DEBUG: TensorBoard events go to " in capsys.readouterr().err
    assert main([*arguments, "--log-level", "error"]) == 0
    assert capsys.readouterr().err == ""
    with pytest.raises(SystemExit) as done:
        main(["--log-level", "loud"])
    assert done.value.code == 2
    assert "argument --log-level: invalid choice: 'LOUD'" in capsys.readouterr().err


def record(step: int, steps: int = 50, batch: int = 32, epoch: int = 1) -> StepRecord:
    return StepRecord(epoch, step, steps, (epoch - 1) * steps + step, batch, 0.25, {})


def test_the_first_redraw_of_the_bar_shows_no_rate_and_later_ones_the_samples_a_second():
    stream = io.StringIO()
    bar = ProgressBar(stream, mininterval=0)
    bar.show(record(1))
    first = stream.getvalue()
    assert "?sample/s" in first and " 32/1600 " in first and "loss=0.2500" in first
    for step in range(2, 51):
        bar.show(record(step))
    redraws = stream.getvalue().split("\r")
    rates = [float(m.group(1)) for m in map(re.compile(r"([\d.]+)sample/s").search, redraws) if m]
    assert rates and all(np.isfinite(rates))
    assert re.search(r" 1600/1600 ", stream.getvalue()) or re.search(r" 1\d\d\d/1600 ", stream.getvalue())
    bar.show(record(1, epoch=2))                      # a new epoch: a new bar, its rate unknown again
    assert "epoch 2" in stream.getvalue().split("\r")[-1] and "?sample/s" in stream.getvalue().split("\r")[-1]
    bar.clear()
    assert bar.bar is None


def test_py_typed_ships_with_the_package():
    assert (ROOT / "cnn" / "py.typed").is_file()
    assert '"cnn" = ["py.typed"]' in (ROOT / "pyproject.toml").read_text()


@pytest.mark.slow   # a subprocess on a pseudo-terminal
def test_cnn_train_on_a_terminal_draws_tqdms_bar_from_an_unknown_rate(tmp_path):
    import os
    import pty
    import subprocess
    import sys
    master, slave = pty.openpty()
    # every step redrawn (tqdm reads TQDM_*): a 200-step epoch may end within tqdm's 0.1 s between redraws
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "COLUMNS": "120", "TQDM_MININTERVAL": "0",
           "TQDM_MINITERS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "cnn", "--epochs", "2", "--quiet"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    drawn = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:          # the other end closed: the process ended
            break
        if not chunk:
            break
        drawn += chunk
    out = process.communicate(timeout=600)[0].decode()
    os.close(master)
    assert process.returncode == 0 and "test accuracy" in out
    redraws = [part for part in drawn.decode().split("\r") if "sample" in part]
    assert redraws[0].startswith("epoch 1:") and "?sample/s" in redraws[0]
    assert any(re.search(r"\d+/200 \[\d\d:\d\d<\d\d:\d\d, +[\d.]+sample/s, loss=\d\.\d{4}\]", part) for part in redraws)


@pytest.mark.slow   # a subprocess that loads TensorFlow
def test_download_keeps_tensorflows_start_up_lines_from_the_terminal(tmp_path):
    import os
    import subprocess
    import sys
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "HOME": str(tmp_path),
           "https_proxy": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}   # no download: refused at once
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    done = subprocess.run([sys.executable, "-m", "cnn", "--download", "--epochs", "1", "--quiet"], capture_output=True,
                          text=True, env=env, timeout=600)
    assert done.returncode == 2
    assert re.fullmatch(r"cnn-train: error: downloading MNIST failed: [^\n]+\n", done.stderr)
