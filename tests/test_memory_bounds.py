"""Decompression bombs and absurd headers: loading a data file never takes more memory than its
headers declare (each declaration held to MAX_IMAGES). Peak RSS is measured in a fresh process
with resource.getrusage, against a bound computed from the declared size."""
import gzip
import io as bytes_io
import os
import struct
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

from cnn import data

MiB = 1 << 20
TRAILING = 256 * MiB          # what a bomb expands to beyond its declared data
SLACK = 16 * MiB              # decompression buffers, 1 MiB read chunks, the error's own objects

# The process's own peak (VmHWM, KiB): getrusage's ru_maxrss counts, after exec, the peak of the
# process it was forked from, so a large pytest hid any growth below its own size.
MEASURE = textwrap.dedent("""
    import re, sys
    from cnn.data import DataFileError, load_mnist

    def peak():
        with open("/proc/self/status") as status:
            return int(re.search(r"VmHWM:\\s+(\\d+) kB", status.read()).group(1))
    baseline = peak()
    try:
        load_mnist(sys.argv[1])
        print("loaded")
    except DataFileError as error:
        print(error)
    print(baseline, peak())
""")


def peak_growth(path) -> tuple[str, int]:
    """What load_mnist(path) said in a fresh process, and how far its peak RSS rose (bytes)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, env=env,
                            timeout=600)
    assert result.returncode == 0, result.stderr
    message, rss = result.stdout.splitlines()
    baseline, peak = map(int, rss.split())
    return message, (peak - baseline) * 1024


def idx_header(images: int) -> bytes:
    return struct.pack(">HBBIII", 0, 8, 3, images, 28, 28)


def write_zeros(file, count: int) -> None:
    zeros = bytes(4 * MiB)
    for start in range(0, count, len(zeros)):
        file.write(zeros[:min(len(zeros), count - start)])


def gzip_bomb(folder, images: int):
    """x_train as a .gz IDX declaring `images` images, followed by TRAILING zero bytes."""
    with gzip.open(folder / (data.IDX_FILES["x_train"] + ".gz"), "wb", compresslevel=6) as file:
        file.write(idx_header(images))
        write_zeros(file, images * 784 + TRAILING)
    return folder


def npz_bomb(path, x_train_member: bytes | None = None, trailing: int = 0):
    """A Keras-layout .npz whose x_train.npy member is a .npy of 500 images followed by `trailing`
    zero bytes (deflated), or `x_train_member` as given."""
    small = {key: np.zeros((5, 28, 28) if key.startswith("x") else 5, np.uint8) for key in data.KEYS}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("x_train.npy", "w", force_zip64=True) as member:
            if x_train_member is not None:
                member.write(x_train_member)
            else:
                buffer = bytes_io.BytesIO()
                np.lib.format.write_array(buffer, np.zeros((500, 28, 28), np.uint8))
                member.write(buffer.getvalue())
                write_zeros(member, trailing)
        for key in data.KEYS[1:]:
            buffer = bytes_io.BytesIO()
            np.lib.format.write_array(buffer, small[key])
            archive.writestr(f"{key}.npy", buffer.getvalue())
    return path


@pytest.mark.slow
@pytest.mark.parametrize("images", [500, 60_000])
def test_a_gzip_bomb_is_stopped_at_its_declared_size(tmp_path, images):
    """The issue's 2 MB .gz that expands to 2 GiB peaked at 4.2 GB; here 256 MiB past the data."""
    gzip_bomb(tmp_path, images)
    assert (tmp_path / (data.IDX_FILES["x_train"] + ".gz")).stat().st_size < 2 * MiB
    message, growth = peak_growth(tmp_path)
    declared = 16 + images * 784
    assert message.endswith(f"has trailing bytes: header declares shape ({images}, 28, 28) ({declared} bytes), "
                            "the data goes on after them")
    assert growth <= 2 * declared + SLACK, f"peak RSS rose by {growth / MiB:.1f} MiB"


@pytest.mark.slow
def test_an_npz_member_bomb_is_stopped_at_its_declared_size(tmp_path):
    path = npz_bomb(tmp_path / "bomb.npz", trailing=TRAILING)
    assert path.stat().st_size < 2 * MiB
    message, growth = peak_growth(path)
    assert message == f"{path}: x_train.npy has bytes after the data its header declares"
    assert growth <= 2 * 500 * 784 + SLACK, f"peak RSS rose by {growth / MiB:.1f} MiB"


@pytest.mark.slow
def test_absurd_declarations_allocate_nothing(tmp_path):
    header = bytes_io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": (2**31, 28, 28)})
    path = npz_bomb(tmp_path / "huge.npz", x_train_member=header.getvalue())
    message, growth = peak_growth(path)
    assert message == f"{path}: x_train.npy declares shape (2147483648, 28, 28), larger than expected " \
                      "(235,200,000 values at most)"
    assert growth <= SLACK, f"peak RSS rose by {growth / MiB:.1f} MiB"
    sparse = tmp_path / "sparse"
    sparse.mkdir()
    with open(sparse / data.IDX_FILES["x_train"], "wb") as file:   # 3 GiB, declaring 500 images
        file.write(idx_header(500))
        file.truncate(3 << 30)
    message, growth = peak_growth(sparse)
    assert "has trailing bytes: header declares shape (500, 28, 28) (392016 bytes), the file has 3221225472" in message
    assert growth <= 2 * 392016 + SLACK, f"peak RSS rose by {growth / MiB:.1f} MiB"


@pytest.mark.slow
def test_the_whole_of_mnist_loads_within_its_declared_size():
    """The bundled MNIST declares 54.9 MB (70,000 images and labels); loading it takes about that."""
    message, growth = peak_growth(data.BUNDLED)
    declared = 70_000 * (784 + 1)
    assert message == "loaded"
    assert growth <= declared + SLACK, f"peak RSS rose by {growth / MiB:.1f} MiB"
