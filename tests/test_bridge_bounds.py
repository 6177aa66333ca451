"""cnn-import refuses a hostile .keras file before Keras builds or inflates anything: a layer or a
shape past the engine's limits, numbers that are not sane whole numbers, a member larger than the
model can need, a zip bomb, deep nesting and 5,000-digit integers. The files are written here as
plain zips (no TensorFlow); Keras' loader is replaced by one that fails the test if called."""
import copy
import json
import struct
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from cnn.bridge import BridgeError, declared, reading
from cnn.bridge.cli import import_main

ROOT = Path(__file__).resolve().parent.parent
INPUT = {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [None, 28, 28, 1],
                                                                          "name": "input"}}
CONV = {"module": "keras.layers", "class_name": "Conv2D", "build_config": {"input_shape": [None, 28, 28, 1]},
        "config": {"name": "conv", "filters": 5, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid",
                   "data_format": "channels_last", "dilation_rate": [1, 1], "use_bias": True}}
FLAT = {"module": "keras.layers", "class_name": "Flatten", "config": {"name": "flat"}}
DENSE = {"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense", "units": 2, "use_bias": True}}


def model(*layers) -> dict:
    return {"module": "keras", "class_name": "Sequential", "registered_name": None,
            "config": {"name": "m", "layers": [copy.deepcopy(layer) for layer in layers]}}


def write_keras(path: Path, config, members=()) -> Path:
    """A .keras zip: config.json (a dict dumped, or raw bytes) and (name, bytes, compression) members."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", '{"keras_version": "3.15.1"}')
        archive.writestr("config.json", config if isinstance(config, bytes) else json.dumps(config))
        for name, data, compression in members:
            archive.writestr(name, data, compress_type=compression)
    return path


def declare_size(path: Path, member: str, size: int) -> None:
    """Rewrite a member's declared uncompressed size (local header and central directory) to `size`."""
    data, name = bytearray(path.read_bytes()), member.encode()
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            name_at = start + (30 if signature == b"PK\x03\x04" else 46)
            if data[name_at:name_at + len(name)] == name:
                data[start + offset:start + offset + 4] = struct.pack("<I", size)
            start += 4
    path.write_bytes(bytes(data))


@pytest.fixture
def no_keras_load(monkeypatch):
    """Keras' loader fails the test if anything reaches it; Keras itself is never imported."""
    def load_model(*args, **kwargs):
        pytest.fail("keras.saving.load_model was called on a file that should have been refused")
    fake = SimpleNamespace(saving=SimpleNamespace(load_model=load_model))
    monkeypatch.setattr(reading, "keras_module", lambda: fake)


def refused(path: Path, capsys, tmp_path) -> str:
    """cnn-import's one line for `path` (exit 2, no weights written), without its prefix."""
    assert import_main([str(path), str(tmp_path / "out.npz")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and not (tmp_path / "out.npz").exists(), err
    assert err.startswith(f"cnn-import: error: {path}: "), err
    return err[len(f"cnn-import: error: {path}: "):].rstrip("\n")


def test_a_plain_model_passes_with_its_parameters_counted(tmp_path):
    path = write_keras(tmp_path / "m.keras", model(INPUT, CONV, FLAT, DENSE), [("model.weights.h5", b"x" * 1000, 0)])
    reading.check_config(path)
    assert declared.check_model(model(INPUT, CONV, FLAT, DENSE), BridgeError) == (50 + 26 * 26 * 5 * 2 + 2, 4)


def with_dense(**config):
    return model(INPUT, CONV, FLAT, DENSE | {"config": DENSE["config"] | config})


DIGITS = "9" * 5000
CASES = {
    "100,000 units": (with_dense(units=100_000),
                      "layer 'dense' (Dense): the model would have 338,100,050 parameters, more than the 50,000,000 "
                      "allowed"),
    "1e9 units": (with_dense(units=10 ** 9),
                  "layer 'dense' (Dense): units must be a whole number from 1 to 100,000, not 1000000000"),
    "negative units": (with_dense(units=-3), "layer 'dense' (Dense): units must be a whole number from 1 to 100,000, "
                                             "not -3"),
    "bool units": (with_dense(units=True), "layer 'dense' (Dense): units must be a whole number from 1 to 100,000, "
                                           "not true"),
    "float units": (with_dense(units=8.0), "layer 'dense' (Dense): units must be a whole number from 1 to 100,000, "
                                           "not 8"),
    "huge float units": (with_dense(units=1e300), "layer 'dense' (Dense): units must be a whole number from 1 to "
                                                  "100,000, not 1e+300"),
    "huge kernel": (model(INPUT, CONV | {"config": CONV["config"] | {"kernel_size": [3, 10 ** 6]}}),
                    "layer 'conv' (Conv2D): kernel_size must be a whole number from 1 to 28, not 1000000"),
    "5,000 filters": (model(INPUT, CONV | {"config": CONV["config"] | {"filters": 5000}}),
                      "layer 'conv' (Conv2D): filters must be a whole number from 1 to 1,024, not 5000"),
    "huge input": (model(INPUT | {"config": {"batch_shape": [None, 28000, 28000, 1], "name": "input"}}),
                   "layer 'input' (InputLayer): batch_shape is 28000×28000×1: 784,000,000 values per image, more "
                   "than the 802,816 a layer may make"),
    "huge build shape": (model(INPUT, FLAT, DENSE | {"build_config": {"input_shape": [None, 10 ** 9]}}),
                         "layer 'dense' (Dense): build_config's input_shape's sizes must be a whole number from 1 to "
                         "802,816, not 1000000000"),
    "another layer": (model(INPUT, FLAT, {"module": "keras.layers", "class_name": "Embedding",
                                          "config": {"name": "e", "input_dim": 10 ** 9, "output_dim": 10 ** 9}}),
                      f"layer 'e' (Embedding): not supported; {declared.READ}"),
    "not a model": ({"module": "keras.layers", "class_name": "Dense", "config": {"units": 2}},
                    "config.json holds a Dense; the bridge reads a Sequential or functional model's config"),
    "deep nesting": (b"[" * 100_000, "config.json is nested more than 100 levels deep"),
    "5,000 digits": (json.dumps(with_dense(units=0)).replace('"units": 0', f'"units": {DIGITS}').encode(),
                     "config.json is not valid JSON (an integer of more than 4,300 digits)"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_config_past_the_limits_is_refused_before_keras_builds_it(case, no_keras_load, tmp_path, capsys):
    config, message = CASES[case]
    path = write_keras(tmp_path / "m.keras", config, [("model.weights.h5", b"x" * 1000, 0)])
    assert refused(path, capsys, tmp_path) == message


def test_a_zip_bomb_is_refused_unread_naming_the_member(no_keras_load, tmp_path, capsys):
    """64 MB of zeros deflated to 64 kB; then a stored member declaring 4 GiB: neither is inflated."""
    path = write_keras(tmp_path / "bomb.keras", model(INPUT, FLAT, DENSE),
                       [("model.weights.h5", bytes(64 << 20), zipfile.ZIP_DEFLATED)])
    assert refused(path, capsys, tmp_path).startswith("member 'model.weights.h5' would inflate 67,108,864 bytes "
                                                      "from ")
    lie = write_keras(tmp_path / "lie.keras", model(INPUT, FLAT, DENSE), [("model.weights.h5", b"x" * 4096, 0)])
    declare_size(lie, "model.weights.h5", 0xFFFF_0000)
    tracemalloc.start()
    try:
        message = refused(lie, capsys, tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert message == "member 'model.weights.h5' would inflate 4,294,901,760 bytes from 4,096 stored: a zip bomb; " \
                      "refused unread"
    assert peak < 16 << 20


def test_a_member_larger_than_the_model_needs_or_of_no_model_is_refused(no_keras_load, tmp_path, capsys):
    path = write_keras(tmp_path / "big.keras", model(INPUT, FLAT, DENSE), [("model.weights.h5", bytes(2 << 20), 0)])
    assert refused(path, capsys, tmp_path) == "member 'model.weights.h5' declares 2,097,152 bytes, more than " \
                                              "1,295,424 (what the model's 1,570 parameters can need); refused unread"
    path = write_keras(tmp_path / "extra.keras", model(INPUT, FLAT, DENSE), [("assets/x", b"x", 0)])
    assert refused(path, capsys, tmp_path) == "member 'assets/x' is none of a Keras model's (config.json, " \
                                              "metadata.json, model.weights.h5, model.weights.npz); refused unread"


def test_a_fifo_is_named_never_opened(no_keras_load, tmp_path, capsys):
    import os
    os.mkfifo(tmp_path / "pipe.keras")
    assert refused(tmp_path / "pipe.keras", capsys, tmp_path) == "is a FIFO (named pipe), not a file"


# The peak is this process's own (VmHWM): getrusage's ru_maxrss counts, after exec, the peak of the
# process it was forked from (a pytest that had loaded TensorFlow read as 1.77 GB here).
BOMBS = """
import re, sys
from cnn.bridge.cli import import_main
codes = [import_main([path, sys.argv[-1]]) for path in sys.argv[1:-1]]
with open("/proc/self/status") as status:
    print(codes, re.search(r"VmHWM:\\s+(\\d+) kB", status.read()).group(1))
"""


@pytest.mark.slow
def test_cnn_import_stays_small_on_the_bombs_with_keras_loaded(tmp_path):
    """The red team's two files through the real cnn-import, TensorFlow imported: exit 2, one line
    each, the process's peak memory far below the gigabytes they took."""
    units = write_keras(tmp_path / "units.keras", with_dense(units=100_000), [("model.weights.h5", b"x" * 100, 0)])
    bomb = write_keras(tmp_path / "bomb.keras", model(INPUT, FLAT, DENSE), [("model.weights.h5", b"x" * 4096, 0)])
    declare_size(bomb, "model.weights.h5", 0xFFFF_0000)
    done = subprocess.run([sys.executable, "-c", BOMBS, str(units), str(bomb), str(tmp_path / "out.npz")], cwd=ROOT,
                          capture_output=True, text=True, env={"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"},
                          timeout=600)
    codes, peak_kb = done.stdout.split("]")
    assert codes == "[2, 2", done.stderr
    assert int(peak_kb) < 1_500_000, peak_kb
    lines = [line for line in done.stderr.splitlines() if line.startswith("cnn-import")]
    assert lines == [f"cnn-import: error: {units}: {CASES['100,000 units'][1]}",
                     f"cnn-import: error: {bomb}: member 'model.weights.h5' would inflate 4,294,901,760 bytes from "
                     "4,096 stored: a zip bomb; refused unread"]
    assert not (tmp_path / "out.npz").exists()


def not_a_model(tmp_path: Path) -> dict[str, Path]:
    """The red team's files that are no .keras archive at all: empty, text, and a zip cut short."""
    good = write_keras(tmp_path / "good.keras", model(INPUT, FLAT, DENSE), [("model.weights.h5", b"x" * 100, 0)])
    files = {"empty": b"", "text": b"hello\n", "cut": good.read_bytes()[:60]}
    for name, data in files.items():
        (tmp_path / f"{name}.keras").write_bytes(data)
    return {name: tmp_path / f"{name}.keras" for name in files}


def test_cnn_import_checks_the_file_before_importing_tensorflow(monkeypatch, tmp_path, capsys):
    """F8: cnn-import imported TensorFlow (10–20 s, absl lines) before finding that the file is no zip."""
    def keras_module():
        pytest.fail("TensorFlow imported before the file was checked")
    monkeypatch.setattr(reading, "keras_module", keras_module)
    tensorflow_before = "tensorflow" in sys.modules
    for path in not_a_model(tmp_path).values():
        assert refused(path, capsys, tmp_path) == "not a .keras archive (File is not a zip file)"
    assert tensorflow_before or "tensorflow" not in sys.modules


QUIET = """
import sys
from cnn.bridge.cli import export_main, import_main
code = import_main(sys.argv[1:]) if sys.argv[1].endswith(".keras") else export_main(sys.argv[1:])
print(code, "tensorflow" in sys.modules)
"""


def run_quietly(tmp_path: Path, *args) -> subprocess.CompletedProcess:
    """The command in a fresh process, its environment without TF_CPP_MIN_LOG_LEVEL (as a user's shell)."""
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    return subprocess.run([sys.executable, "-c", QUIET, *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=600)


@pytest.mark.slow
def test_cnn_import_on_no_archive_is_one_line_without_tensorflow(tmp_path):
    """F8: an empty and a non-zip .keras, through a fresh process: stderr is the one line, TensorFlow unimported."""
    files = not_a_model(tmp_path)
    for name in ("empty", "text"):
        done = run_quietly(tmp_path, files[name], tmp_path / "out.npz")
        assert done.stdout == "2 False\n", done.stderr
        assert done.stderr == f"cnn-import: error: {files[name]}: not a .keras archive (File is not a zip file)\n"


@pytest.mark.slow
def test_tensorflow_start_up_lines_do_not_reach_the_terminal(tmp_path):
    """F8: with TensorFlow imported (cnn-export, then cnn-import of what it wrote), absl's
    "WARNING: All log messages before absl::InitializeLog()…" and oneDNN's "I0000 …" lines were printed."""
    exported = run_quietly(tmp_path, ROOT / "tests" / "data" / "digits_v1.npz", tmp_path / "d.keras")
    assert (exported.stderr, exported.stdout.splitlines()[-1]) == ("", "0 True"), exported.stderr
    imported = run_quietly(tmp_path, tmp_path / "d.keras", tmp_path / "back.npz")
    assert (imported.stderr, imported.stdout.splitlines()[-1]) == ("", "0 True"), imported.stderr
