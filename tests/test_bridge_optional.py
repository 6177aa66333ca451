"""TensorFlow stays optional: the engine and the bridge's package import without it, and the
bridge's commands say in one line how to install it (TensorFlow hidden from this process)."""
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cnn import weights_file
from cnn.bridge import load_any
from cnn.bridge.cli import export_main, import_main
from cnn.cli import main
from cnn.presets import original_network

HINT = 'the Keras bridge needs TensorFlow: pip install "cnn-studio[keras]" (or pip install tensorflow)'
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def no_tensorflow(monkeypatch):
    """`import keras` and `import tensorflow` fail, as where they are not installed."""
    for name in list(sys.modules):
        if name.split(".")[0] in ("keras", "tensorflow"):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "keras", None)
    monkeypatch.setitem(sys.modules, "tensorflow", None)


def test_importing_the_engine_and_the_bridge_package_imports_no_tensorflow():
    modules = "cnn, cnn.cli, cnn.arch, cnn.bridge, cnn.bridge.cli, cnn.bridge.engine, cnn.bridge.reading, " \
              "cnn.bridge.export, cnn.bridge.losses, cnn.bridge.links"
    done = subprocess.run([sys.executable, "-c", f"import sys, {modules}; "
                           "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))"],
                          cwd=ROOT, capture_output=True, text=True, env={"PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.stdout.strip() == "[]", done.stderr


def a_keras_file(path: Path) -> Path:
    """A .keras archive whose config.json passes the checks made before TensorFlow is imported."""
    layers = [{"module": "keras.layers", "class_name": "InputLayer",
               "config": {"batch_shape": [None, 28, 28, 1], "name": "input"}},
              {"module": "keras.layers", "class_name": "Flatten", "config": {"name": "flat"}},
              {"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense", "units": 2}}]
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps({"module": "keras", "class_name": "Sequential",
                                                    "config": {"name": "m", "layers": layers}}))
    return path


def test_without_tensorflow_the_commands_say_how_to_install_it(no_tensorflow, tmp_path, capsys):
    weights_file.save(original_network(), tmp_path / "w.npz")
    assert export_main([str(tmp_path / "w.npz"), str(tmp_path / "m.keras")]) == 3
    assert capsys.readouterr().err == f"cnn-export: {HINT}\n"
    assert not (tmp_path / "m.keras").exists()
    assert import_main([str(a_keras_file(tmp_path / "m.keras")), str(tmp_path / "y.npz")]) == 3
    assert capsys.readouterr().err == f"cnn-import: {HINT}\n"
    assert main(["--engine", "keras", "--epochs", "1"]) == 3
    assert capsys.readouterr().err == f"cnn-train: {HINT}\n"
    assert not (tmp_path / "y.npz").exists()


def test_without_tensorflow_the_studio_reports_a_keras_file_in_one_line(no_tensorflow, tmp_path):
    with pytest.raises(ValueError) as caught:
        load_any(a_keras_file(tmp_path / "m.keras"))
    assert str(caught.value) == f"{tmp_path / 'm.keras'}: {HINT}"


def test_distribute_needs_the_keras_engine(capsys):
    assert main(["--distribute", "mirrored", "--epochs", "1"]) == 2
    assert capsys.readouterr().err == "cnn-train: error: --distribute needs --engine keras\n"
    assert main(["--replicas", "2", "--epochs", "1"]) == 2
    assert capsys.readouterr().err == "cnn-train: error: --replicas needs --engine keras\n"
    with pytest.raises(SystemExit) as stop:
        main(["--engine", "keras", "--replicas", "0"])
    assert stop.value.code == 2 and "--replicas: must be a whole number from 1 to 64" in capsys.readouterr().err
