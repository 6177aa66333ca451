import gzip
import hashlib
import io as bytes_io
import os
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from cnn import data, npy
from cnn.data import DataFileError, load_mnist, parse_idx, prepare

SHA256 = "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"


def test_bundled_mnist_is_the_canonical_file():
    assert hashlib.sha256(data.BUNDLED.read_bytes()).hexdigest() == SHA256
    assert (data.BUNDLED.parent / "MNIST-LICENSE.md").is_file()


def test_bundled_mnist_layout(raw_mnist):
    assert {k: (v.dtype, v.shape) for k, v in raw_mnist.items()} == {
        "x_train": (np.uint8, (60000, 28, 28)), "y_train": (np.uint8, (60000,)),
        "x_test": (np.uint8, (10000, 28, 28)), "y_test": (np.uint8, (10000,))}


def test_prepare_as_the_original(raw_mnist):
    dataset = prepare(raw_mnist, classes=(0, 1), limit=100, seed=0)
    for split, part in ((dataset.train, "train"), (dataset.test, "test")):
        assert split.x.shape == (200, 1, 28, 28) and split.y.shape == (200, 2)
        assert split.x.min() == 0.0 and split.x.max() == 1.0
        assert sorted(np.bincount(split.labels)) == [100, 100]
        assert np.array_equal(split.y.argmax(axis=1), split.labels)  # 0 → [1, 0], 1 → [0, 1]
        # the first 100 of each class, as the original: every chosen image is one of them
        images = raw_mnist[f"x_{part}"]
        first = {d: images[np.flatnonzero(raw_mnist[f"y_{part}"] == d)[:100]] for d in (0, 1)}
        for image, label in zip(split.x[:5], split.labels[:5], strict=True):
            assert any(np.array_equal(image[0] * 255, f.astype(float)) for f in first[label])
    assert not np.array_equal(dataset.train.labels, np.sort(dataset.train.labels))  # shuffled


def test_prepare_is_seeded(raw_mnist):
    a, b, c = (prepare(raw_mnist, limit=30, seed=s) for s in (1, 1, 2))
    assert np.array_equal(a.train.labels, b.train.labels)
    assert not np.array_equal(a.train.labels, c.train.labels)


def test_one_hot_follows_the_order_of_classes(raw_mnist):
    dataset = prepare(raw_mnist, classes=(7, 3, 5), limit=10)
    expected = np.array([{7: 0, 3: 1, 5: 2}[label] for label in dataset.train.labels])
    assert np.array_equal(dataset.train.y.argmax(axis=1), expected)


def test_prepared_arrays_are_read_only(small_dataset):
    with pytest.raises(ValueError):
        small_dataset.train.x[0, 0, 0, 0] = 1


def write_idx(path: Path, array: np.ndarray, compress=False):
    payload = struct.pack(">HBB", 0, 8, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    path.write_bytes(gzip.compress(payload) if compress else payload)


@pytest.mark.parametrize("compress", [False, True])
def test_idx_folder_loads_like_the_npz(tmp_path, raw_mnist, compress):
    for key, name in data.IDX_FILES.items():
        write_idx(tmp_path / (name + (".gz" if compress else "")), raw_mnist[key][:300], compress)
    loaded = load_mnist(tmp_path)
    for key in data.KEYS:
        assert np.array_equal(loaded[key], raw_mnist[key][:300])


def test_npz_in_the_keras_layout(tmp_path, raw_mnist):
    path = tmp_path / "small.npz"
    np.savez(path, **{k: v[:50] for k, v in raw_mnist.items()})
    assert load_mnist(path)["x_test"].shape == (50, 28, 28)


@pytest.mark.parametrize("payload, message", [
    (b"\x00\x00", "truncated: 2 bytes, too short for an IDX header"),
    (b"\x12\x34\x08\x03" + b"\x00" * 12, "bad magic number 0x12340803"),
    (b"\x00\x00\x0d\x03" + b"\x00" * 12, "bad magic number 0x00000d03"),
    (struct.pack(">HBBI", 0, 8, 3, 2), "truncated: the header needs 16 bytes"),
    (struct.pack(">HBBIII", 0, 8, 3, 2, 28, 28) + b"\x00" * 100, "truncated: header declares shape \\(2, 28, 28\\)"),
    (struct.pack(">HBBI", 0, 8, 1, 3) + b"\x00" * 5, "has trailing bytes"),
])
def test_bad_idx_files(payload, message):
    with pytest.raises(DataFileError, match=f"^some-file: {message}"):
        parse_idx(payload, "some-file")


def test_idx_folder_errors(tmp_path, raw_mnist):
    with pytest.raises(DataFileError, match="neither train-images-idx3-ubyte nor train-images-idx3-ubyte.gz"):
        load_mnist(tmp_path)
    for key, name in data.IDX_FILES.items():
        write_idx(tmp_path / name, raw_mnist[key][:20])
    write_idx(tmp_path / data.IDX_FILES["y_test"], raw_mnist["y_test"][:19])
    with pytest.raises(DataFileError, match="counts disagree: 20 test images but 19 labels"):
        load_mnist(tmp_path)
    (tmp_path / data.IDX_FILES["y_test"]).unlink()
    (tmp_path / (data.IDX_FILES["y_test"] + ".gz")).write_bytes(b"not gzip at all")
    with pytest.raises(DataFileError, match="t10k-labels-idx1-ubyte.gz: not a readable gzip file"):
        load_mnist(tmp_path)


def test_bad_npz_files(tmp_path, raw_mnist):
    missing = tmp_path / "missing.npz"
    np.savez(missing, x_train=raw_mnist["x_train"][:5])
    with pytest.raises(DataFileError, match=r"missing.npz: missing arrays \['y_train', 'x_test', 'y_test'\]"):
        load_mnist(missing)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data.BUNDLED.read_bytes()[:5000])
    with pytest.raises(DataFileError, match="truncated.npz: not a readable .npz archive"):
        load_mnist(truncated)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, **{k: v[:5] for k, v in raw_mnist.items() if k != "y_test"},
             y_test=np.array([object()] * 5, dtype=object))
    with pytest.raises(DataFileError, match="pickled.npz: y_test.npy has dtype object, expected uint8"):
        load_mnist(pickled)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, **{**{k: v[:5] for k, v in raw_mnist.items()}, "x_train": np.zeros((5, 28, 27), np.uint8)})
    with pytest.raises(DataFileError, match=r"wrong.npz: x_train has shape \(5, 28, 27\), expected \(N, 28, 28\)"):
        load_mnist(wrong)
    with pytest.raises(DataFileError, match="nowhere.npz: no such file or folder"):
        load_mnist(tmp_path / "nowhere.npz")


def test_class_without_images(raw_mnist):
    only_ones = {k: v for k, v in raw_mnist.items()}
    keep = raw_mnist["y_test"] != 0
    only_ones["x_test"], only_ones["y_test"] = raw_mnist["x_test"][keep], raw_mnist["y_test"][keep]
    with pytest.raises(DataFileError, match=r"my.npz \(test\): class 0 has no images"):
        prepare(only_ones, limit=5, source="my.npz")


@pytest.mark.parametrize("classes, limit, message", [
    ((1,), 5, "two or more distinct digits"), ((1, 1), 5, "two or more distinct digits"),
    ((0, 10), 5, "two or more distinct digits"),
    ((0, 1), 0, "limit must be 1 to 60000 images per class"),
])
def test_nonsense_settings(raw_mnist, classes, limit, message):
    with pytest.raises(ValueError, match=message):
        prepare(raw_mnist, classes, limit)


def test_download_goes_through_keras_and_the_same_checks(monkeypatch, raw_mnist):
    import sys
    import types
    fake = types.ModuleType("keras.datasets.mnist")
    fake.load_data = lambda: ((raw_mnist["x_train"][:9], raw_mnist["y_train"][:9]),
                              (raw_mnist["x_test"][:7], raw_mnist["y_test"][:7]))
    monkeypatch.setitem(sys.modules, "keras.datasets.mnist", fake)
    monkeypatch.setitem(sys.modules, "keras.datasets", types.SimpleNamespace(mnist=fake))
    monkeypatch.setattr("cnn.bridge.keras_module", lambda: None)   # (loading TensorFlow quietly: the bridge's)
    assert data.download_mnist()["x_test"].shape == (7, 28, 28)
    fake.load_data = lambda: (_ for _ in ()).throw(OSError("network unreachable"))
    with pytest.raises(DataFileError, match="downloading MNIST failed: network unreachable"):
        data.download_mnist()


def npy_bytes(array=None, header=None) -> bytes:
    """A .npy member: `array`'s, or only a header (dict) followed by nothing."""
    buffer = bytes_io.BytesIO()
    if header is None:
        np.lib.format.write_array(buffer, array)
    else:
        np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def npz_with(tmp_path, raw_mnist, **members) -> Path:
    """A Keras-layout .npz of five images per split, some members replaced by raw bytes."""
    path = tmp_path / "data.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for key in data.KEYS:
            archive.writestr(f"{key}.npy", members.get(key, npy_bytes(raw_mnist[key][:5])))
    return path


def test_absurd_declared_shape_in_an_npz_is_refused_before_allocating(tmp_path, raw_mnist, monkeypatch):
    huge = npy_bytes(header={"descr": "|u1", "fortran_order": False, "shape": (2**31, 28, 28)})
    path = npz_with(tmp_path, raw_mnist, x_train=huge)
    allocated = []
    real_empty = np.empty
    monkeypatch.setattr(np, "empty", lambda shape, *a, **k: allocated.append(shape) or real_empty(shape, *a, **k))
    with pytest.raises(DataFileError, match=r"data.npz: x_train.npy declares shape \(2147483648, 28, 28\), larger "
                                            r"than expected \(235,200,000 values at most\)"):
        load_mnist(path)
    assert allocated == []


@pytest.mark.parametrize("payload", [b"raw bytes, no header", pickle.dumps({"x": [1, 2, 3]})])
def test_npz_member_that_is_not_npy(tmp_path, raw_mnist, payload):
    with pytest.raises(DataFileError, match=r"^\S*data.npz: x_train.npy is not a .npy array \(") as error:
        load_mnist(npz_with(tmp_path, raw_mnist, x_train=payload))
    assert "\n" not in str(error.value)


def test_npz_member_with_more_data_than_declared(tmp_path, raw_mnist):
    path = npz_with(tmp_path, raw_mnist, y_test=npy_bytes(raw_mnist["y_test"][:5]) + b"extra")
    with pytest.raises(DataFileError, match="data.npz: y_test.npy has bytes after the data its header declares"):
        load_mnist(path)


def test_corrupt_compressed_member(tmp_path, raw_mnist):
    path = tmp_path / "data.npz"
    np.savez_compressed(path, **{k: v[:50] for k, v in raw_mnist.items()})
    payload = bytearray(path.read_bytes())
    start = payload.index(b"x_train.npy") + len("x_train.npy") + 40   # inside the deflated data
    payload[start:start + 64] = bytes(64)
    path.write_bytes(bytes(payload))
    with pytest.raises(DataFileError, match="data.npz: not a readable .npz archive"):
        load_mnist(path)


@pytest.mark.parametrize("content", [b"root:x:0:0:root:/root:/bin/bash\n", npy_bytes(np.zeros(3, np.uint8))])
def test_a_file_that_is_no_archive_says_what_it_is_not(tmp_path, content):
    path = tmp_path / "passwd"
    path.write_bytes(content)
    with pytest.raises(DataFileError) as error:
        load_mnist(path)
    message = str(error.value)
    assert message.startswith(f"{path}: not an .npz archive (no zip signature); expected an .npz in Keras' MNIST")
    assert "pickle" not in message and "unsafe" not in message.lower() and "trust" not in message


def test_idx_dims_past_2_to_the_64_are_refused_naming_the_file(tmp_path):
    payload = struct.pack(">HBBIII", 0, 8, 3, 2**31, 2**31, 4)   # product 2⁶⁴: wraps to 0 in int64
    with pytest.raises(DataFileError, match=r"^some-file: header declares shape \(2147483648, 2147483648, 4\) "
                                            r"\(18,446,744,073,709,551,632 bytes\), more than this program reads"):
        parse_idx(payload, "some-file")
    (tmp_path / data.IDX_FILES["x_train"]).write_bytes(payload)
    with pytest.raises(DataFileError, match=f"^{tmp_path / data.IDX_FILES['x_train']}: header declares shape"):
        load_mnist(tmp_path)


def test_idx_file_much_longer_than_declared_is_refused_unread(tmp_path, monkeypatch):
    """A sparse 3 GiB file whose header declares 500 images: refused from its size, never read."""
    path = tmp_path / data.IDX_FILES["x_train"]
    with open(path, "wb") as file:
        file.write(struct.pack(">HBBIII", 0, 8, 3, 500, 28, 28))
        file.truncate(3 << 30)
    reads = []
    monkeypatch.setattr(npy, "read_into", lambda *a: reads.append(a))
    with pytest.raises(DataFileError, match=r"has trailing bytes: header declares shape \(500, 28, 28\) "
                                            r"\(392016 bytes\), the file has 3221225472 bytes"):
        load_mnist(tmp_path)
    assert reads == []


@pytest.mark.parametrize("payload, message", [
    (struct.pack(">HBBI", 0, 8, 1, 3) + b"\x00" * 5, r"has trailing bytes: header declares shape \(3,\) \(11 bytes\), "
                                                     "the data goes on after them"),
    (struct.pack(">HBBIII", 0, 8, 3, 2, 28, 28) + b"\x00" * 100, r"truncated: header declares shape \(2, 28, 28\) "
                                                                 r"\(1584 bytes\), the data ends after 116 bytes"),
])
def test_compressed_idx_is_checked_while_streaming(tmp_path, payload, message):
    path = tmp_path / (data.IDX_FILES["x_train"] + ".gz")
    path.write_bytes(gzip.compress(payload))
    with pytest.raises(DataFileError, match=f"^{path}: {message}"):
        load_mnist(tmp_path)


def test_fifo_and_folders_are_named_as_such(tmp_path, raw_mnist):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)   # opening it for reading would wait for a writer forever
    with pytest.raises(DataFileError, match=f"^{fifo}: is a FIFO \\(named pipe\\), not a file; expected an .npz"):
        load_mnist(fifo)
    folder = tmp_path / "idx"
    folder.mkdir()
    for key, name in data.IDX_FILES.items():
        write_idx(folder / name, raw_mnist[key][:20])
    images = folder / data.IDX_FILES["x_train"]
    images.unlink()
    images.mkdir()
    with pytest.raises(DataFileError, match=f"^{images}: is a folder, not a file \\(expected an IDX file\\)"):
        load_mnist(folder)
    images.rmdir()
    os.mkfifo(images)
    with pytest.raises(DataFileError, match=f"^{images}: is a FIFO \\(named pipe\\), not a file"):
        load_mnist(folder)


def test_empty_data_path_is_refused():
    with pytest.raises(DataFileError, match="^the data path is empty$"):
        load_mnist("")
