import atexit
import os
import shutil
import struct
import tempfile
import zlib

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The studio records every run in the user's application-data folder unless told otherwise: in the
# tests (and the studios they start) that folder is a fresh temporary one, never the user's.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="cnn-studio-tests-")
atexit.register(shutil.rmtree, os.environ["XDG_DATA_HOME"], ignore_errors=True)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnn.data import load_mnist, prepare  # noqa: E402


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config, items):
    """A test that opens the whole studio (the `window` fixture) is slow, unless marked `smoke`:
    the fast lane keeps a few of them."""
    for item in items:
        if "window" in getattr(item, "fixturenames", ()) and item.get_closest_marker("smoke") is None:
            item.add_marker(pytest.mark.slow)


TENSORFLOW_AT_IMPORT = ("test_tensorflow.py", "test_bridge.py")   # slow as a whole: they import TensorFlow


def pytest_ignore_collect(collection_path, config):
    """The fast lane (-m "not slow") does not even import TensorFlow: test_tensorflow.py is slow as a
    whole (its import alone takes seconds), and collecting it would import it."""
    if collection_path.name in TENSORFLOW_AT_IMPORT and "not slow" in (config.getoption("markexpr") or ""):
        return True
    return None


@pytest.fixture(autouse=True)
def quit_without_a_question(monkeypatch):
    """A studio closed by a test, or at its end, holding training kept nowhere would ask (a modal box nobody
    answers here): it quits, unless the test answers the question itself (tests/test_quit_studio.py)."""
    monkeypatch.setattr("app.studio.quitting.ask", lambda window, text: True)


@pytest.fixture(scope="session")
def raw_mnist():
    return load_mnist()


@pytest.fixture(scope="session")
def small_dataset(raw_mnist):
    return prepare(raw_mnist, classes=(0, 1), limit=20, seed=0)


def bad_weights_file(path, content: bytes | None):
    """`content` written at `path`, or (None) a real weights file cut short by its last 40 bytes."""
    if content is None:
        from cnn import weights_file
        from cnn.presets import original_network
        weights_file.save(original_network(seed=5), path)
        path.write_bytes(path.read_bytes()[:-40])
    else:
        path.write_bytes(content)
    return path


@pytest.fixture
def cli_mnist_once(raw_mnist, monkeypatch):
    """cnn-train in this process reads the bundled MNIST once per test session, not once per call."""
    import cnn.cli
    real = cnn.cli.load_mnist
    monkeypatch.setattr(cnn.cli, "load_mnist", lambda path=None: raw_mnist if path is None else real(path))


@pytest.fixture
def poisoned_image(monkeypatch):
    """Sessions made from now on have a NaN in training image 6: the loss turns non-finite at its step.
    Returns heal(): the sessions made after it have clean data again."""
    import cnn.session
    from cnn.data import Dataset, Split
    clean_prepare = cnn.session.prepare

    def poisoned_prepare(*args, **kwargs):
        dataset = clean_prepare(*args, **kwargs)
        x = dataset.train.x.copy()
        x[6, 0, 10, 10] = np.nan
        return Dataset(Split(x, dataset.train.y, dataset.train.labels), dataset.test, dataset.classes)
    monkeypatch.setattr(cnn.session, "prepare", poisoned_prepare)
    return lambda: monkeypatch.setattr(cnn.session, "prepare", clean_prepare)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def window(qtbot, tmp_path):
    """The studio on 20 training images of 0 and 1 (20 steps an epoch), 2 epochs."""
    from PySide6.QtCore import QSettings

    from app.studio.window import MainWindow

    settings = QSettings(str(tmp_path / "studio.ini"), QSettings.IniFormat)
    w = MainWindow(settings, runs_dir=tmp_path / "runs")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.model is not None and w.worker.session is not None, timeout=10000)
    panel = w.settings_panel
    panel.limit.setValue(10)      # 20 training images: 20 steps per epoch at batch size 1
    panel.epochs.setValue(2)
    w.reset()
    qtbot.waitUntil(lambda: w.worker.session is not None and len(w.worker.session.dataset.train.x) == 20,
                    timeout=10000)
    w.show_workspace("inspect")   # the chosen layer's views on screen (hidden, they draw when shown)
    yield w
    if w.isVisible():
        w.close()


def _continued_run_repeats(continued, whole_records, network, whole, arrays, whole_arrays) -> None:
    """A run continued at epoch 2 from epoch 1's checkpoint repeats the uninterrupted run bit for bit:
    the epochs' losses, the weights, and the optimizer's arrays (velocity, moments)."""
    assert [r.train_loss for r in continued] == [r.train_loss for r in whole_records[1:]]
    for name, value in whole.params.items():
        assert np.array_equal(network.params[name], value), name
    for name, value in whole_arrays.items():
        assert np.array_equal(arrays[name], value), name


@pytest.fixture
def continued_run_repeats():
    return _continued_run_repeats


# Pictures the picture reader's tests share (tests/test_pictures.py, tests/test_predict.py).
def on_a_page(digit: np.ndarray, size=(300, 400), at=(20, 30), scale=4) -> np.ndarray:
    """A 28×28 white-on-black digit drawn dark-on-light, `scale` times larger, on a white page."""
    page = np.ones(size)
    big = np.kron(digit, np.ones((scale, scale)))
    page[at[0]:at[0] + big.shape[0], at[1]:at[1] + big.shape[1]] = 1 - big
    return page


def absurd_png(path, width=100_000, height=100_000) -> str:
    """A PNG whose header declares width × height pixels, with one short row of data."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))
    return str(path)


def worker_settled(window, qtbot) -> None:
    """Waits until the studio's worker has carried out every command sent so far (its queue is taken in
    order): a test may then read the worker's network on its own thread without racing a snapshot."""
    done = []
    window.worker.after_commands(lambda: done.append(True))
    qtbot.waitUntil(lambda: bool(done), timeout=20000)


def checkpoints_fail_from(session, epoch: int) -> None:
    """The session's checkpoints are taken as ever, but writing them fails (a full disk) once `epoch` epochs
    are done: what the recorder's writer thread then meets."""
    checkpoint_later = session.checkpoint_later

    def later(path, sync=True, extra=None):
        write = checkpoint_later(path, sync, extra)
        if session.epochs_done < epoch:
            return write

        def fail():
            raise OSError(28, "No space left on device")
        return fail
    session.checkpoint_later = later
