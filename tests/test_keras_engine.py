"""cnn-train --engine keras: the digits preset through Keras under MirroredStrategy over two
logical CPU devices, one epoch, printed and recorded as the numpy engine does (slow lane)."""
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnn import weights_file
from cnn.checkpoint import load_checkpoint
from cnn.runs.metrics import METRICS_FILE, read_records
from cnn.runs.store import RunStore
from cnn.train import EpochRecord, StepRecord

ROOT = Path(__file__).resolve().parent.parent
TWO_CPUS = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from cnn.bridge.engine import make_strategy
assert len(make_strategy().extended.worker_devices) == 2
from cnn.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_digits_learn_to_97_percent_in_one_epoch_on_two_devices(tmp_path):
    runs = tmp_path / "runs"
    done = subprocess.run([sys.executable, "-c", TWO_CPUS, "--engine", "keras", "--preset", "digits", "--epochs", "1",
                           "--quiet", "--runs", str(runs), "--save", str(tmp_path / "w.npz")],
                          cwd=ROOT, capture_output=True, text=True, env={"PYTHONPATH": str(ROOT)}, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert re.fullmatch(r"epoch 1/1  train loss \d+\.\d{6}  test loss \d+\.\d{6}  test accuracy \d+\.\d\d%  "
                        r"\(\d+\.\d s\)", lines[0]), lines[0]
    assert "confusion matrix (rows: true digit, columns: predicted):" in lines
    accuracy = float(re.fullmatch(r"test accuracy: (\d+\.\d\d)%", lines[-2])[1])
    assert accuracy >= 97.0, done.stdout
    assert lines[-1] == f"saved weights to {tmp_path / 'w.npz'}"
    # the run folder, as the numpy engine writes it: the studio lists it and opens its checkpoint
    [entry] = RunStore(runs).list()
    assert entry.status == "finished" and entry.openable and entry.info.epochs_done == 1
    assert entry.info.best_test_accuracy == pytest.approx(accuracy / 100, abs=0.0005)
    checkpoint = load_checkpoint(entry.path / "last.npz")
    assert checkpoint.epoch == 1 and checkpoint.config["preset"] == "digits"
    assert sorted(checkpoint.optimizer_state["velocity"]) == sorted(checkpoint.network.params)
    saved = weights_file.load(tmp_path / "w.npz")
    for name, value in saved.params.items():
        assert np.array_equal(checkpoint.network.params[name], value)
    records = list(read_records(entry.path / METRICS_FILE))
    steps = [r for r in records if isinstance(r, StepRecord)]
    assert len(steps) == 469 and [r.global_step for r in steps] == list(range(1, 470))
    assert sum(r.batch_size for r in steps) == 60000 and steps[-1].batch_size == 60000 - 468 * 128
    assert set(steps[0].grad_norms) == set(saved.params) and all(v > 0 for v in steps[0].grad_norms.values())
    [epoch] = [r for r in records if isinstance(r, EpochRecord)]
    assert epoch.test_accuracy == pytest.approx(accuracy / 100, abs=0.0005)
    assert json.loads((entry.path / "run.json").read_text())["settings"]["batch_size"] == 128


@pytest.mark.slow
def test_multi_worker_without_tf_config_is_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "cnn", "--engine", "keras", "--distribute", "multi-worker"],
                          cwd=ROOT, capture_output=True, text=True, env={"PYTHONPATH": str(ROOT)}, timeout=600)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == "cnn-train: error: --distribute multi-worker needs TF_CONFIG: the " \
                                           "cluster's workers and this one's index (see the README)"


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_keras_engine_repeats_the_numpy_engines_run(dtype, optimizer, tmp_path, capsys):
    """Same weights, batches, shifts, loss and SGD or Adam: the same printed lines (times aside) and step losses."""
    from cnn.cli import main
    common = ["--preset", "digits", "--limit", "30", "--epochs", "2", "--dtype", dtype, "--quiet",
              "--optimizer", optimizer]
    assert main(common + ["--runs", str(tmp_path / "numpy")]) == 0
    ours = capsys.readouterr().out
    assert main(common + ["--runs", str(tmp_path / "keras"), "--engine", "keras"]) == 0
    theirs = capsys.readouterr().out

    def without_times(text):
        return re.sub(r"\(\d+\.\d s\)", "", text)

    def numbers(text):
        return [float(v) for v in re.findall(r"\d+\.\d+", without_times(text))]
    if dtype == "float64":
        assert without_times(theirs) == without_times(ours)
    else:   # float32 sums in another order: the printed losses may differ in their last digit (~4e-7 of 2.47)
        assert re.sub(r"\d+\.\d+", "#", without_times(theirs)) == re.sub(r"\d+\.\d+", "#", without_times(ours))
        assert np.allclose(numbers(theirs), numbers(ours), rtol=2e-6, atol=1e-6)
    assert "epoch 2/2" in ours and "test accuracy:" in ours
    losses = {}
    for engine in ("numpy", "keras"):
        [entry] = RunStore(tmp_path / engine).list()
        losses[engine] = np.array([r.loss for r in read_records(entry.path / METRICS_FILE)
                                   if isinstance(r, StepRecord)])
    assert len(losses["numpy"]) == 2 * 3 and np.allclose(losses["keras"], losses["numpy"],
                                                         rtol=1e-9 if dtype == "float64" else 1e-4)
    for engine in ("numpy", "keras"):
        [entry] = RunStore(tmp_path / engine).list()
        recorded = json.loads((entry.path / "run.json").read_text())
        assert (recorded["engine"], recorded["replicas"], recorded["workers"]) == (engine, 1, 1)
        assert recorded["settings"]["optimizer"] == optimizer
    if optimizer == "adam":     # the moments and the step count carried back, as the numpy engine left them
        numpy_state, keras_state = (load_checkpoint(RunStore(tmp_path / engine).list()[0].path / "last.npz")
                                    .optimizer_state for engine in ("numpy", "keras"))
        assert keras_state["steps"] == numpy_state["steps"] == 6
        for name, moment in numpy_state["second_moment"].items():   # float32: sums of gradients in another order
            assert np.allclose(keras_state["second_moment"][name], moment, rtol=1e-6 if dtype == "float64" else 1e-2,
                               atol=1e-20 if dtype == "float64" else 1e-3 * np.max(moment))


BLOCKS = "conv 4 3x3 stride=2 pad=same bias=kernel, relu, avgpool 2, conv 6 3x3 pad=1, tanh, globalavgpool, dense 2"


@pytest.mark.slow
def test_strides_padding_and_average_pooling_train_through_keras_as_through_numpy(tmp_path, capsys):
    from cnn.cli import main
    common = ["--arch", BLOCKS, "--limit", "30", "--epochs", "2", "--dtype", "float64", "--quiet", "--save"]
    assert main(common + [str(tmp_path / "numpy.npz")]) == 0
    ours = re.sub(r"\(\d+\.\d s\)", "", capsys.readouterr().out)
    assert main(common + [str(tmp_path / "keras.npz"), "--engine", "keras"]) == 0
    theirs = re.sub(r"\(\d+\.\d s\)", "", capsys.readouterr().out)
    assert theirs.replace("keras.npz", "numpy.npz") == ours and "epoch 2/2" in ours
    numpy_net, keras_net = weights_file.load(tmp_path / "numpy.npz"), weights_file.load(tmp_path / "keras.npz")
    assert numpy_net.layers[0].stride == 2 and numpy_net.layers[3].padding == 1
    for name, value in numpy_net.params.items():
        assert np.allclose(keras_net.params[name], value, rtol=1e-9, atol=1e-12), name


@pytest.mark.slow
def test_dropout_and_batch_normalization_are_refused_by_the_keras_engine_naming_them(capsys):
    from cnn.cli import main
    from cnn.presets import PRESETS
    network = PRESETS["modern"].build(10, 0, "float32")
    named = ", ".join(f"{index} ({type(layer).__name__})" for index, layer in enumerate(network.layers)
                      if type(layer).__name__ in ("BatchNorm", "Dropout"))
    assert named.count("BatchNorm") == 4 and named.count("Dropout") == 1     # the preset's five such layers
    assert main(["--preset", "modern", "--limit", "20", "--epochs", "1", "--engine", "keras", "--quiet"]) == 2
    assert capsys.readouterr().err == (
        f"cnn-train: error: --engine keras repeats the numpy engine's steps, which layers {named} would not "
        "(dropout's masks, batch normalization's running variance); use --engine numpy\n")


SPLIT = """
import sys
import numpy as np
from cnn.bridge.engine import make_strategy
strategy = make_strategy("mirrored", replicas=int(sys.argv[1]))
import tensorflow as tf
data = strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices(np.arange(10.0)).batch(7))
for batch in data:
    print(strategy.num_replicas_in_sync, [int(part.shape[0]) for part in strategy.experimental_local_results(batch)])
"""


def run_quietly(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=900,
                          env={"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"})


@pytest.mark.slow
def test_replicas_split_the_cpu_so_that_each_batch_is_split():
    done = run_quietly("-c", SPLIT, "3")
    assert done.returncode == 0, done.stderr[-2000:]
    first, last = (line.split(" ", 1) for line in done.stdout.splitlines())
    assert first[0] == last[0] == "3"
    parts = [[int(n) for n in part.strip("[]").split(", ")] for part in (first[1], last[1])]
    assert [len(p) for p in parts] == [3, 3] and [sum(p) for p in parts] == [7, 3]    # a batch of 7, then of 3
    assert min(parts[0]) >= 1 and parts[1] == [1, 1, 1]                              # every replica has a share


@pytest.mark.slow
def test_a_run_over_two_replicas_repeats_the_numpy_engines_and_says_so_in_run_json(tmp_path):
    common = ["-m", "cnn", "--preset", "digits", "--limit", "30", "--epochs", "2", "--dtype", "float64", "--quiet",
              "--optimizer", "adam"]
    numpy_run = run_quietly(*common, "--runs", str(tmp_path / "numpy"))
    keras_run = run_quietly(*common, "--runs", str(tmp_path / "keras"), "--engine", "keras", "--replicas", "2")
    assert keras_run.returncode == numpy_run.returncode == 0, keras_run.stderr[-2000:]
    losses = {}
    for engine in ("numpy", "keras"):
        [entry] = RunStore(tmp_path / engine).list()
        losses[engine] = [r.loss for r in read_records(entry.path / METRICS_FILE) if isinstance(r, StepRecord)]
        recorded = json.loads((entry.path / "run.json").read_text())
        assert (recorded["engine"], recorded["replicas"], recorded["workers"]) == \
            ((engine, 2, 1) if engine == "keras" else ("numpy", 1, 1))
    assert len(losses["keras"]) == 6 and np.allclose(losses["keras"], losses["numpy"], rtol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("options, message", [
    (["--replicas", "3"], "--replicas: 3 replicas split a batch of 1: each needs at least one sample; raise "
                          "--batch-size"),
    (["--replicas", "2", "--distribute", "multi-worker"], "--replicas needs --distribute mirrored (the default); a "
                                                          "multi-worker run has each worker's devices"),
])
def test_replicas_that_cannot_split_the_batch_are_one_line(options, message):
    done = run_quietly("-m", "cnn", "--engine", "keras", "--epochs", "1", *options)
    assert done.returncode == 2 and done.stderr == f"cnn-train: error: {message}\n", done.stderr[-2000:]


def free_port() -> int:
    import socket
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_two_workers_from_tf_config_train_one_run_that_worker_0_records(tmp_path):
    """MultiWorkerMirroredStrategy over two local processes: both print the numpy engine's lines;
    only worker 0 records the run and saves the weights."""
    import os
    cluster = {"worker": [f"localhost:{free_port()}", f"localhost:{free_port()}"]}
    common = ["--engine", "keras", "--distribute", "multi-worker", "--preset", "digits", "--limit", "30",
              "--epochs", "2", "--quiet"]
    workers = []
    for index in (1, 0):
        env = {"PYTHONPATH": str(ROOT), "PATH": os.environ.get("PATH", ""), "TF_CPP_MIN_LOG_LEVEL": "2",
               "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}
        writes = ["--runs", str(tmp_path / f"runs{index}"), "--save", str(tmp_path / f"w{index}.npz")]
        workers.append(subprocess.Popen([sys.executable, "-m", "cnn", *common, *writes], cwd=ROOT, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [worker.communicate(timeout=900) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], [err[-2000:] for _, err in outputs]
    numpy_run = subprocess.run([sys.executable, "-m", "cnn", *common[4:]], cwd=ROOT, capture_output=True, text=True,
                               env={"PYTHONPATH": str(ROOT)}, timeout=600)

    def lines(text):
        return re.sub(r"\(\d+\.\d s\)", "", text).replace(f"saved weights to {tmp_path / 'w0.npz'}\n", "")
    assert lines(outputs[0][0]) == lines(outputs[1][0]) == lines(numpy_run.stdout)
    assert (tmp_path / "w0.npz").exists() and not (tmp_path / "w1.npz").exists()
    assert len(RunStore(tmp_path / "runs0").list()) == 1 and not (tmp_path / "runs1").exists()
    recorded = json.loads((RunStore(tmp_path / "runs0").list()[0].path / "run.json").read_text())
    assert (recorded["engine"], recorded["replicas"], recorded["workers"]) == ("keras", 2, 2)
