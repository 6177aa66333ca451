"""cnn.npz: the .npz a weights file and a checkpoint are written as. Its members are byte for byte
np.savez's, it reads back with np.load and zipfile, and a large array goes to the file from its own memory."""
import io
import zipfile

import numpy as np
import pytest

from cnn import npz

rng = np.random.default_rng(0)
ARRAYS = {
    "__header__": np.frombuffer(b'{"format": "x"}', np.uint8),
    "0.kernels": rng.normal(size=(5, 1, 3, 3)),
    "fortran": np.asfortranarray(rng.normal(size=(3, 4))),
    "strided": rng.normal(size=(6, 4))[::2, 1:],
    "scalar": np.array(3.5, np.float32),
    "empty": np.zeros((0, 3)),
    "state/velocity/3.weights": rng.normal(size=(100, 338)).astype(np.float32),
    "big_endian": np.arange(5, dtype=">i4"),
    "flags": np.array([True, False]),
    "námé": np.arange(3),
}


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None   # every member's CRC agrees with its bytes
        return {name: archive.read(name) for name in archive.namelist()}


def test_members_are_numpys_byte_for_byte_and_load_back():
    ours, numpys = io.BytesIO(), io.BytesIO()
    npz.write(ours, ARRAYS)
    np.savez(numpys, **ARRAYS)
    assert members(ours.getvalue()) == members(numpys.getvalue())
    ours.seek(0)
    with np.load(ours) as loaded:
        assert sorted(loaded.files) == sorted(ARRAYS)
        for name, value in ARRAYS.items():
            assert loaded[name].dtype == value.dtype and loaded[name].shape == value.shape
            assert np.array_equal(loaded[name], value)


class Recording(io.BytesIO):
    """A file that keeps what each write() was handed."""
    def __init__(self):
        super().__init__()
        self.pieces = []

    def write(self, data):
        self.pieces.append(data)
        return super().write(data)


def test_a_contiguous_array_is_written_from_its_own_memory():
    weights = rng.normal(size=(100, 3380))
    file = Recording()
    npz.write(file, {"3.weights": weights, "strided": weights[:, ::2], "fortran": weights.T})
    own = [piece for piece in file.pieces
           if isinstance(piece, memoryview) and np.shares_memory(np.asarray(piece), weights)]
    assert len(own) == 2    # the array's and its transpose's (Fortran order) bytes, not copies
    with np.load(io.BytesIO(file.getvalue())) as loaded:
        assert np.array_equal(loaded["strided"], weights[:, ::2]) and np.array_equal(loaded["fortran"], weights.T)


def test_an_archive_past_zips_limits_is_left_to_numpy(monkeypatch):
    monkeypatch.setattr(npz, "ZIP_LIMIT", 1000)   # as if the arrays came to over 4 GB: zip64 is numpy's
    calls, savez = [], np.savez
    monkeypatch.setattr(np, "savez", lambda file, **arrays: calls.append(sorted(arrays)) or savez(file, **arrays))
    file = io.BytesIO()
    npz.write(file, {"a": np.arange(200.0)})
    assert calls == [["a"]]
    with np.load(io.BytesIO(file.getvalue())) as loaded:
        assert np.array_equal(loaded["a"], np.arange(200.0))


def test_an_array_of_python_objects_is_refused():
    with pytest.raises(ValueError, match="Python objects"):
        npz.write(io.BytesIO(), {"a": np.array([{}, None], dtype=object)})
