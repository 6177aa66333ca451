"""Bad files, interrupted saves: WeightsFileError with a message, never a crash or a half-loaded model."""
import io as bytes_io
import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnn import weights_file
from cnn.config import RunConfig
from cnn.weights_file import WeightsFileError
from cnn.presets import original_network



@pytest.fixture(scope="module")
def good_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("good") / "good.npz"
    weights_file.save(original_network(seed=3), path)
    return path.read_bytes()


def load_bytes(tmp_path, payload: bytes):
    path = tmp_path / "fuzz.npz"
    path.write_bytes(payload)
    return weights_file.load(path)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=4096))
def test_random_bytes(tmp_path, payload):
    with pytest.raises(WeightsFileError, match="fuzz.npz: "):
        load_bytes(tmp_path, payload)


@pytest.mark.slow
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_truncated_or_corrupted_archives(tmp_path, good_bytes, data):
    """Any cut, or any flipped byte, either loads the very same weights (a byte nobody reads) or
    raises WeightsFileError."""
    payload = bytearray(good_bytes)
    if data.draw(st.booleans()):
        payload = payload[:data.draw(st.integers(0, len(payload) - 1))]
    else:
        index = data.draw(st.integers(0, len(payload) - 1))
        payload[index] ^= data.draw(st.integers(1, 255))
    try:
        network = load_bytes(tmp_path, bytes(payload))
    except WeightsFileError as error:
        assert "fuzz.npz: " in str(error)
    else:
        reference = original_network(seed=3)
        assert all(np.array_equal(network.params[k], v) for k, v in reference.params.items())


def archive(members: dict) -> bytes:
    buffer = bytes_io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, value in members.items():
            zf.writestr(name, value)
    return buffer.getvalue()


def npy(array) -> bytes:
    buffer = bytes_io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=True)
    return buffer.getvalue()


HEADERS = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20),
                    st.lists(st.integers(), max_size=3),
                    st.dictionaries(st.sampled_from(["format", "version", "dtype", "architecture"]),
                                    st.one_of(st.integers(), st.text(max_size=10), st.lists(st.integers(), max_size=3),
                                              st.just("cnn-studio-weights"), st.just("float64")), max_size=4))


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(HEADERS)
def test_headers_of_the_wrong_type(tmp_path, header):
    payload = archive({"__header__.npy": npy(np.frombuffer(json.dumps(header).encode(), np.uint8))})
    with pytest.raises(WeightsFileError):
        load_bytes(tmp_path, payload)


def test_object_arrays_are_never_unpickled(tmp_path, good_bytes, monkeypatch):
    import pickle
    calls = []
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(pickle, "load", lambda *a, **k: calls.append(a))
    members = {}
    with zipfile.ZipFile(bytes_io.BytesIO(good_bytes)) as zf:
        for name in zf.namelist():
            members[name] = zf.read(name)
    members["3.weights.npy"] = npy(np.array([{"evil": True}], dtype=object))
    with pytest.raises(WeightsFileError, match="3.weights has dtype object"):
        load_bytes(tmp_path, archive(members))
    assert calls == []


SAVER = textwrap.dedent("""
    import sys
    from cnn import weights_file
    from cnn.presets import original_network
    networks = [original_network(seed=1), original_network(seed=2)]
    print("ready", flush=True)
    i = 0
    while True:
        weights_file.save(networks[i % 2], sys.argv[1])
        i += 1
""")


@pytest.mark.slow
def test_killing_a_saving_process_never_breaks_the_file(tmp_path):
    """SIGKILL a process that saves in a loop, at random moments; the file always loads to one of
    the two versions it writes, and the next save clears the dead process's temporary file."""
    path = tmp_path / "weights.npz"
    versions = [original_network(seed=s).params["0.kernels"] for s in (1, 2)]
    weights_file.save(original_network(seed=1), path)
    rng = np.random.default_rng(0)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for _ in range(12):
        child = subprocess.Popen([sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE, env=env)
        assert child.stdout.readline().strip() == b"ready"
        try:
            child.wait(timeout=float(rng.uniform(0.01, 0.4)))
        except subprocess.TimeoutExpired:
            pass
        child.send_signal(signal.SIGKILL)
        child.wait()
        kernels = weights_file.load(path).params["0.kernels"]
        assert any(np.array_equal(kernels, v) for v in versions)
    weights_file.save(original_network(seed=1), path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weights.npz"]


ANYTHING = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True),
                     st.text(max_size=8), st.lists(st.integers(-3, 12), max_size=12),
                     st.tuples(st.integers(0, 9), st.integers(0, 9)), st.binary(max_size=4))


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(field=st.sampled_from([f.name for f in dataclasses.fields(RunConfig)]), value=ANYTHING)
def test_any_setting_is_accepted_or_refused_by_name(field, value):
    """Every setting, whatever its value: valid, or a ValueError that names the field."""
    try:
        RunConfig(**{field: value}).validate()
    except ValueError as error:
        assert str(error).startswith((f"{field} must be ", f"{field}: "))   # "architecture: token 1 …"
