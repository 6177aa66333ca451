import io as bytes_io
import json
import os
import zipfile

import numpy as np
import pytest

from cnn import npz, weights_file
from cnn.weights_file import WeightsFileError
from cnn.presets import digits_network, original_network


@pytest.mark.parametrize("build, dtype", [(original_network, "float64"), (digits_network, "float32")])
def test_round_trip_is_bit_exact(tmp_path, build, dtype):
    network = build(seed=4, dtype=dtype)
    path = tmp_path / "weights.npz"
    weights_file.save(network, path)
    loaded = weights_file.load(path)
    assert loaded.architecture() == network.architecture()
    assert loaded.dtype == network.dtype
    for name, value in network.params.items():
        assert loaded.params[name].dtype == value.dtype
        assert np.array_equal(loaded.params[name], value)
    x = np.random.default_rng(0).random((2, 1, 28, 28))
    assert np.array_equal(loaded.forward(x), network.forward(x))
    assert [p.name for p in tmp_path.iterdir()] == ["weights.npz"]  # no temporary left behind


def test_file_holds_named_arrays_and_header(tmp_path):
    weights_file.save(original_network(), tmp_path / "w.npz")
    with np.load(tmp_path / "w.npz", allow_pickle=False) as archive:
        assert set(archive.files) == {"__header__", "0.kernels", "0.biases", "3.weights", "3.bias",
                                      "5.weights", "5.bias"}
        header = json.loads(archive["__header__"].tobytes())
    assert header["format"] == "cnn-studio-weights" and header["version"] == 1 and header["dtype"] == "float64"
    assert [layer["type"] for layer in header["architecture"]] == [
        "Convolutional", "Sigmoid", "Reshape", "Dense", "Sigmoid", "Dense", "Sigmoid"]


def rewrite(path, change):
    """Rewrite a saved file through `change(arrays: dict) -> dict` (arrays by name, header as a dict)."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["__header__"] = json.loads(arrays["__header__"].tobytes())
    arrays = change(arrays)
    header = arrays.pop("__header__")
    if not isinstance(header, np.ndarray):
        header = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(path, __header__=header, **arrays)


def with_header(**changes):
    def change(arrays):
        arrays["__header__"].update(changes)
        return arrays
    return change


def replace(name, value):
    def change(arrays):
        arrays[name] = value(arrays[name]) if callable(value) else value
        return arrays
    return change


def drop(name):
    def change(arrays):
        del arrays[name]
        return arrays
    return change


BAD_FILES = [
    (replace("3.weights", lambda w: w[:50]), r"3.weights declares shape \(50, 3380\)|3.weights has shape"),
    (replace("0.kernels", lambda k: k.reshape(5, 9)),
     r"0.kernels has shape \(5, 9\), the architecture needs \(5, 1, 3, 3\)"),
    (replace("5.bias", lambda b: b.astype(np.float32)), "5.bias has dtype float32, expected float64"),
    (replace("5.bias", np.array([np.nan, 1.0])), "5.bias holds non-finite values"),
    (replace("0.kernels", lambda k: np.where(k > 0, np.inf, k)), "0.kernels holds non-finite values"),
    (replace("5.bias", np.array([object(), object()], dtype=object)), "5.bias has dtype object, expected float64"),
    (drop("3.bias"), r"missing \['3.bias'\]"),
    (replace("extra", np.zeros(3)), r"unexpected \['extra'\]"),
    (with_header(version=2), "format version 2 is newer than this program reads"),
    (with_header(version="1"), "version must be an integer"),
    (with_header(dtype="int8"), "dtype must be one of"),
    (with_header(format="something else"), "does not describe a CNN Studio weights file"),
    (with_header(architecture=[{"type": "Lambda", "args": {}}]), "layer 0 of the architecture is not a known layer"),
    (with_header(architecture=[{"type": "Dense", "args": {"input_size": 10**6, "output_size": 10**6}}]),
     "declares 1,000,000,000,000 parameters"),
    (with_header(architecture=[{"type": "Dense", "args": {"input_size": -3, "output_size": 2}}]),
     "the architecture is invalid"),
    (replace("__header__", np.frombuffer(b"{not json", dtype=np.uint8)), "the header is not valid JSON"),
    (replace("__header__", np.frombuffer(b"[1, 2]", dtype=np.uint8)), "does not describe a CNN Studio"),
    (replace("__header__", np.zeros(3)), "__header__ has dtype float64, expected uint8"),
]


@pytest.mark.parametrize("change, message", BAD_FILES)
def test_bad_weights_files(tmp_path, change, message):
    path = tmp_path / "bad.npz"
    weights_file.save(original_network(), path)
    rewrite(path, change)
    with pytest.raises(WeightsFileError, match=message) as error:
        weights_file.load(path)
    assert str(path) in str(error.value)
    assert isinstance(error.value, ValueError)


NOT_WEIGHTS = "expected an .npz saved by cnn-train or the studio"


def test_every_way_an_archive_is_not_one_is_said_in_the_projects_words(tmp_path):
    """Not Python's "(File is not a zip file)": each case in words, as a bad data file gets (cnn.mnist_files)."""
    good = tmp_path / "good.npz"
    weights_file.save(original_network(), good)
    data = good.read_bytes()
    (tmp_path / "text.npz").write_text("hello")
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    (tmp_path / "empty.npz").write_bytes(b"")
    (tmp_path / "folder.npz").mkdir()
    os.mkfifo(tmp_path / "pipe.npz")     # opened to read, it would wait for a writer for ever
    damaged = bytearray(data)
    damaged[damaged.index(b"3.weights.npy") - 30] ^= 0xFF     # the member's local header
    (tmp_path / "header.npz").write_bytes(bytes(damaged))
    damaged = bytearray(data)
    damaged[damaged.index(b"\x93NUMPY", damaged.index(b"3.weights.npy")) + 200] ^= 0xFF   # the member's data
    (tmp_path / "crc.npz").write_bytes(bytes(damaged))
    cases = {"text.npz": f"not a weights file (not a zip archive); {NOT_WEIGHTS}",
             "cut.npz": "not a readable weights archive (a truncated or damaged zip: its directory is missing)",
             "empty.npz": f"the file is empty; {NOT_WEIGHTS}",
             "folder.npz": "is a folder, not a file",
             "pipe.npz": "is a FIFO (named pipe), not a file",
             "header.npz": "not a readable weights archive (a damaged zip: Bad magic number for file header)",
             "crc.npz": "not a readable weights archive (a damaged zip: Bad CRC-32 for file '3.weights.npy')",
             "none.npz": "no such file"}
    for name, message in cases.items():
        with pytest.raises(WeightsFileError) as error:
            weights_file.load(tmp_path / name)
        assert str(error.value) == f"{tmp_path / name}: {message}"
        assert "File is not a zip file" not in str(error.value)


def test_a_weights_file_whose_name_is_not_utf8_loads_and_is_named_with_its_bytes_escaped(tmp_path):
    name = os.fsdecode(b"\xff\xfe-weights.npz")      # surrogates on Linux: bytes that are no UTF-8
    weights_file.save(original_network(seed=3), tmp_path / name)
    assert weights_file.load(tmp_path / name).architecture() == original_network().architecture()
    (tmp_path / name).write_text("no weights")
    with pytest.raises(WeightsFileError) as error:
        weights_file.load(tmp_path / name)
    assert str(error.value).startswith(f"{tmp_path}/\\xff\\xfe-weights.npz: not a weights file")
    str(error.value).encode("utf-8")     # printable: no lone surrogates left


def test_truncated_member_data(tmp_path):
    """A zip whose member declares more data than it holds."""
    good = tmp_path / "good.npz"
    weights_file.save(original_network(), good)
    out = tmp_path / "short.npz"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            payload = source.read(item)
            target.writestr(item.filename, payload[:-80] if item.filename == "3.weights.npy" else payload)
    with pytest.raises(WeightsFileError, match="3.weights is truncated"):
        weights_file.load(out)


def test_absurd_declared_shape_is_refused_before_reading(tmp_path):
    good = tmp_path / "good.npz"
    weights_file.save(original_network(), good)
    buffer = bytes_io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (10**9, 10**9)})
    out = tmp_path / "huge.npz"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            payload = source.read(item)
            if item.filename == "5.bias.npy":
                payload = b"\x93NUMPY\x01\x00" + buffer.getvalue()[8:]
            target.writestr(item.filename, payload)
    with pytest.raises(WeightsFileError, match=r"5.bias declares shape \(1000000000, 1000000000\)"):
        weights_file.load(out)


def test_failed_save_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "w.npz"
    weights_file.save(original_network(seed=1), path)
    before = path.read_bytes()
    def broken_write(file, arrays):
        file.write(b"partial")
        raise OSError("disk full")
    monkeypatch.setattr(npz, "write", broken_write)
    with pytest.raises(OSError, match="disk full"):
        weights_file.save(original_network(seed=2), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["w.npz"]


def test_corrupt_compressed_weights(tmp_path):
    """Deflated members (np.savez_compressed, not what save writes) with damaged data: a message, no zlib.error."""
    network = original_network()
    path = tmp_path / "packed.npz"
    with np.load(_saved(tmp_path, network)) as archive:
        np.savez_compressed(path, **{name: archive[name] for name in archive.files})
    assert weights_file.load(path).architecture() == network.architecture()
    payload = bytearray(path.read_bytes())
    start = payload.index(b"3.weights.npy") + 60
    payload[start:start + 64] = bytes(64)
    path.write_bytes(bytes(payload))
    with pytest.raises(WeightsFileError, match="packed.npz: not a readable weights archive"):
        weights_file.load(path)


def _saved(tmp_path, network):
    weights_file.save(network, tmp_path / "plain.npz")
    return tmp_path / "plain.npz"


def test_a_header_numpy_cannot_tokenize(tmp_path):
    """A .npy header cut inside a bracket makes numpy's parser raise tokenize.TokenError (found by
    hypothesis in test_truncated_or_corrupted_archives): a message, like any other damage."""
    good = _saved(tmp_path, original_network())
    out = tmp_path / "bad-header.npz"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            payload = bytearray(source.read(item))
            if item.filename == "5.bias.npy":
                at = payload.index(b"(2,)")
                payload[at + 3:at + 4] = b"\n"      # "(2,\n": the bracket never closes
            target.writestr(item.filename, bytes(payload))
    with pytest.raises(WeightsFileError, match=r"bad-header.npz: 5.bias is not a .npy array \("):
        weights_file.load(out)


def test_files_saved_before_bias_mode_was_named_still_load():
    """tests/data/*_v1.npz were written by the code of 2026-11-29, whose Convolutional took `bias=`."""
    from pathlib import Path

    from cnn import Convolutional, Dense, Network, Reshape, Sigmoid, arch
    data = Path(__file__).parent / "data"
    expected = {"position_bias_v1.npz": Network([Convolutional((1, 6, 6), 3, 2, rng=1), Sigmoid(),
                                                 Reshape((2, 4, 4), (32,)), Dense(32, 2, rng=1), Sigmoid()]),
                # the ten-digit preset's network of that day, for two classes
                "digits_v1.npz": arch.build(arch.parse("conv 8 3x3 bias=kernel init=he, relu, maxpool 2, conv 16 3x3 "
                                                       "bias=kernel init=he, relu, maxpool 2, dense 2 init=xavier"),
                                            2, 1, "float32")}
    for name, built in expected.items():
        loaded = weights_file.load(data / name)
        assert loaded.architecture() == built.architecture()
        assert loaded.params.keys() == built.params.keys()
        assert all(np.array_equal(loaded.params[k], v) for k, v in built.params.items())
    assert weights_file.load(data / "position_bias_v1.npz").layers[0].bias_mode == "position"
    assert weights_file.load(data / "digits_v1.npz").layers[0].bias_mode == "kernel"


def header_of(text: bytes):
    return replace("__header__", np.frombuffer(text, dtype=np.uint8))


HEADER_AS_DATA = {   # red team F12 (d)(e): each was "an encrypted zip: maximum recursion depth…" or Python's words
    "nested": (header_of(b"[" * 50_000 + b"]" * 50_000), "the header is nested more than 100 levels deep"),
    "digits": (header_of(b'{"format": "cnn-studio-weights", "version": 1, "x": ' + b"9" * 5000 + b"}"),
               "the header is not valid JSON (an integer of more than 4,300 digits)"),
    "sizes": (with_header(architecture=[{"type": "Dense", "args": {"input_size": 10**4000, "output_size": 2}}]),
              "the architecture declares over 10^18 parameters, more than the 50,000,000 allowed"),
    "version": (with_header(version=10**4000), f"format version {'1' + '0' * 39}… is newer than this program reads "
                "(up to 1); update CNN Studio"),
    "dtype": (with_header(dtype=[["float32"]]), "the header's dtype must be one of ['float32', 'float64'], "
              "not [['float32']]"),
}


@pytest.mark.parametrize("case", HEADER_AS_DATA)
def test_a_hostile_header_is_one_short_line_in_the_projects_words(tmp_path, case):
    change, message = HEADER_AS_DATA[case]
    path = tmp_path / "bad.npz"
    weights_file.save(original_network(), path)
    rewrite(path, change)
    with pytest.raises(WeightsFileError) as error:
        weights_file.load(path)
    assert str(error.value) == f"{path}: {message}"
