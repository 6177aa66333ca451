"""Checkpoints: a run continued from one repeats the uninterrupted run bit for bit; bad files are refused."""
import io as bytes_io
import json
import zipfile

import numpy as np
import pytest

from cnn import Convolutional, Dense, Network, ReLU, Reshape, SGD, arch, weights_file
from cnn.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from cnn.config import RunConfig
from cnn.data import Dataset, Split
from cnn.weights_file import WeightsFileError
from cnn.losses import LOSSES
from cnn.optim import MIN_LEARNING_RATE
from cnn.presets import original_network
from cnn.session import Session
from cnn.train import EpochRecord, train

BCE, SOFTMAX_CE = LOSSES["binary_cross_entropy"], LOSSES["softmax_cross_entropy"]


def conv_dense(seed=0):
    return Network([Convolutional((1, 28, 28), 3, 2, bias_mode="kernel", init="he", rng=seed), ReLU(),
                    Reshape((2, 26, 26), (2 * 26 * 26,)), Dense(2 * 26 * 26, 2, init="xavier", rng=seed)])


BLOCKS = ("conv 4 3x3 pad=same bias=kernel init=he, batchnorm, relu, avgpool 2, conv 4 3x3 stride=2, batchnorm, relu, "
          "dropout 0.3, globalavgpool, dense 8, batchnorm, relu, dropout 0.2, dense 2")


def blocks(seed=0):
    return arch.build(arch.parse(BLOCKS), 2, seed=seed)


CASES = {  # build, loss, optimizer settings, train() settings
    "stride, padding, batchnorm, dropout, average pooling, batch 4, momentum, shift, reshuffle":
        (blocks, SOFTMAX_CE, (0.05, 0.9, 0.7), dict(batch_size=4, seed=5, reshuffle=True, shift=1)),
    "conv+dense, batch 4, momentum, decay, shift, reshuffle":
        (conv_dense, SOFTMAX_CE, (0.05, 0.9, 0.7), dict(batch_size=4, seed=5, reshuffle=True, shift=1)),
    "conv+dense, batch 1, momentum, decay, shift, reshuffle":
        (conv_dense, SOFTMAX_CE, (0.01, 0.9, 0.7), dict(batch_size=1, seed=5, reshuffle=True, shift=1)),
    "original network, batch 1, momentum, decay, shift, reshuffle":
        (original_network, BCE, (0.1, 0.9, 0.5), dict(batch_size=1, seed=2, reshuffle=True, shift=1)),
    "original preset": (original_network, BCE, (0.1, 0.0, 1.0), dict(batch_size=1)),
}


def run_epochs(network, optimizer, dataset, loss, settings, epochs, first_epoch=1):
    return [r for r in train(network, dataset, loss, optimizer, epochs, first_epoch=first_epoch, **settings)
            if isinstance(r, EpochRecord)]


@pytest.mark.parametrize("case", CASES)
def test_continued_run_equals_the_uninterrupted_one_bit_for_bit(small_dataset, tmp_path, case, continued_run_repeats):
    build, loss, rates, settings = CASES[case]
    whole, whole_optimizer = build(), SGD(*rates)
    whole_records = run_epochs(whole, whole_optimizer, small_dataset, loss, settings, 3)

    first, first_optimizer = build(), SGD(*rates)
    run_epochs(first, first_optimizer, small_dataset, loss, settings, 1)
    save_checkpoint(tmp_path / "run.ckpt.npz", first, first_optimizer, epoch=1)
    checkpoint = load_checkpoint(tmp_path / "run.ckpt.npz")
    assert checkpoint.epoch == 1 and checkpoint.config is None
    optimizer = SGD(1.0)  # fresh: everything comes from the checkpoint
    optimizer.load_state_dict(checkpoint.optimizer_state)
    continued = run_epochs(checkpoint.network, optimizer, small_dataset, loss, settings, 2, first_epoch=2)

    assert [r.epoch for r in continued] == [2, 3]
    continued_run_repeats(continued, whole_records, checkpoint.network, whole, optimizer.velocity,
                          whole_optimizer.velocity)
    assert optimizer.current_learning_rate == whole_optimizer.current_learning_rate


def test_a_continued_run_goes_on_with_the_running_statistics_and_the_dropout_masks(small_dataset, tmp_path):
    build, loss, rates, settings = CASES[next(iter(CASES))]
    whole = build()
    run_epochs(whole, SGD(*rates), small_dataset, loss, settings, 2)
    first, first_optimizer = build(), SGD(*rates)
    run_epochs(first, first_optimizer, small_dataset, loss, settings, 1)
    save_checkpoint(tmp_path / "run.ckpt.npz", first, first_optimizer, epoch=1)
    checkpoint = load_checkpoint(tmp_path / "run.ckpt.npz")
    steps = len(small_dataset.train.x) // 4
    assert checkpoint.network.buffers["7.generator"].tolist() == [5 * 0, 7, steps]    # (seed, position, steps)
    assert not np.array_equal(checkpoint.network.buffers["1.running_var"], build().buffers["1.running_var"])
    for name, value in first.buffers.items():
        assert np.array_equal(checkpoint.network.buffers[name], value), name
    optimizer = SGD(1.0)
    optimizer.load_state_dict(checkpoint.optimizer_state)
    run_epochs(checkpoint.network, optimizer, small_dataset, loss, settings, 1, first_epoch=2)
    for name, value in whole.buffers.items():
        assert np.array_equal(checkpoint.network.buffers[name], value), name
    unsaved = build()   # the same weights and velocity without the buffers: another run
    unsaved.set_params(first.params)
    run_epochs(unsaved, from_state_of(checkpoint), small_dataset, loss, settings, 1, first_epoch=2)
    assert not np.array_equal(unsaved.params["0.kernels"], whole.params["0.kernels"])


def from_state_of(checkpoint):
    optimizer = SGD(1.0)
    optimizer.load_state_dict(checkpoint.optimizer_state)
    return optimizer


def test_a_weights_file_with_a_negative_running_variance_is_refused(tmp_path):
    network = blocks()
    network.layers[1].buffers["running_var"][0] = -1.0
    weights_file.save(network, tmp_path / "w.npz")
    with pytest.raises(WeightsFileError, match=r"w.npz: 1.running_var holds a negative variance$"):
        weights_file.load(tmp_path / "w.npz")


def test_without_the_optimizer_state_the_continued_run_differs(small_dataset, tmp_path):
    """What the bit-for-bit test relies on: the velocity and the schedule's base carry information."""
    build, loss, rates, settings = CASES["conv+dense, batch 4, momentum, decay, shift, reshuffle"]
    whole = build()
    run_epochs(whole, SGD(*rates), small_dataset, loss, settings, 2)
    first = build()
    run_epochs(first, SGD(*rates), small_dataset, loss, settings, 1)
    run_epochs(first, SGD(*rates), small_dataset, loss, settings, 1, first_epoch=2)  # velocity lost
    assert not np.array_equal(first.params["3.weights"], whole.params["3.weights"])


def test_epoch_draws_depend_only_on_seed_and_epoch(small_dataset):
    """Epoch 2 run alone (after the same epoch 1) sees the same order and shifts, and a different
    seed sees others."""
    def second_epoch_losses(seed):
        network, optimizer = conv_dense(), SGD(0.05)
        settings = dict(batch_size=4, seed=seed, reshuffle=True, shift=1)
        run_epochs(network, optimizer, small_dataset, SOFTMAX_CE, settings, 1)
        return [r.loss for r in train(network, small_dataset, SOFTMAX_CE, optimizer, 1, first_epoch=2, **settings)
                if not isinstance(r, EpochRecord)]
    assert second_epoch_losses(5) == second_epoch_losses(5)
    assert second_epoch_losses(5) != second_epoch_losses(6)


def test_sgd_state_round_trips_exactly_and_is_a_copy(rng):
    optimizer = SGD(0.03, 0.9, 0.8)
    optimizer.start_epoch(4)
    optimizer.velocity = {"0.kernels": rng.standard_normal((2, 1, 3, 3)), "3.weights": rng.standard_normal((2, 5))}
    state = optimizer.state_dict()
    assert state["current_learning_rate"] == 0.03 * 0.8 ** 3
    restored = SGD(1.0)
    restored.load_state_dict(state)
    again = restored.state_dict()
    assert {k: v for k, v in again.items() if k != "velocity"} == {k: v for k, v in state.items() if k != "velocity"}
    assert again["velocity"].keys() == state["velocity"].keys()
    assert all(np.array_equal(again["velocity"][k], v) for k, v in state["velocity"].items())
    state["velocity"]["3.weights"][0, 0] = 123.0  # the state is a copy: the optimizers do not change
    assert restored.velocity["3.weights"][0, 0] != 123.0 and optimizer.velocity["3.weights"][0, 0] != 123.0


@pytest.mark.parametrize("change, message", [
    ({"learning_rate": 0.0}, "learning_rate must be from"), ({"momentum": 1.0}, "momentum"),
    ({"lr_decay": 0.0}, "lr_decay"), ({"epoch": 0}, "epoch"), ({"velocity": {"3.weights": [1.0]}}, "velocity"),
])
def test_sgd_refuses_a_bad_state_and_keeps_its_own(change, message):
    optimizer = SGD(0.1, 0.5)
    before = optimizer.state_dict()
    with pytest.raises(ValueError, match=message):
        optimizer.load_state_dict({**before, **change})
    assert optimizer.state_dict()["learning_rate"] == 0.1 and optimizer.momentum == 0.5


def test_the_decayed_rate_stops_at_the_floor():
    optimizer = SGD(1e-5, lr_decay=0.001)
    optimizer.start_epoch(2)
    assert optimizer.current_learning_rate == MIN_LEARNING_RATE  # 1e-8 would be below it
    optimizer.start_epoch(500)  # 0.001^499 underflows to 0
    assert optimizer.current_learning_rate == MIN_LEARNING_RATE
    with pytest.raises(ValueError, match="learning_rate must be from"):
        RunConfig(learning_rate=MIN_LEARNING_RATE / 2).validate()
    RunConfig(learning_rate=MIN_LEARNING_RATE).validate()


def test_an_accepted_decay_runs_to_the_end(small_dataset):
    """Issue 11: lr 1e-5 with decay 0.001 used to stop at epoch 106 when the rate reached 0."""
    tiny = Dataset(*(Split(s.x[:2], s.y[:2], s.labels[:2]) for s in (small_dataset.train, small_dataset.test)),
                   classes=small_dataset.classes)
    network = Network([Reshape((1, 28, 28), (784,)), Dense(784, 2, rng=0)])
    optimizer = SGD(1e-5, lr_decay=0.001)
    epochs = [r.epoch for r in train(network, tiny, SOFTMAX_CE, optimizer, 110) if isinstance(r, EpochRecord)]
    assert epochs == list(range(1, 111)) and optimizer.current_learning_rate == MIN_LEARNING_RATE


@pytest.mark.slow
def test_the_issues_command_finishes(capsys):
    from cnn.cli import main
    assert main(["--lr", "1e-5", "--lr-decay", "0.001", "--epochs", "110", "--limit", "1", "--quiet"]) == 0
    assert "epoch 110/110" in capsys.readouterr().out


def test_a_checkpoint_opens_as_weights_and_holds_the_settings(small_dataset, raw_mnist, tmp_path):
    config = RunConfig.from_preset("original", limit=20, epochs=2, momentum=0.5, lr_decay=0.9)
    session = Session(config, raw_mnist)
    list(session.run(1))
    session.save_checkpoint(tmp_path / "c.npz")
    weights = weights_file.load(tmp_path / "c.npz")
    assert all(np.array_equal(weights.params[k], v) for k, v in session.network.params.items())
    checkpoint = load_checkpoint(tmp_path / "c.npz")
    assert isinstance(checkpoint, Checkpoint) and checkpoint.epoch == 1
    assert RunConfig.from_dict(checkpoint.config) == config
    resumed = Session.from_checkpoint(checkpoint, raw_mnist)
    assert [r.epoch for r in resumed.run(1) if isinstance(r, EpochRecord)] == [2]
    list(session.run(1))
    assert all(np.array_equal(resumed.network.params[k], v) for k, v in session.network.params.items())


@pytest.fixture(scope="module")
def checkpoint_bytes(small_dataset, tmp_path_factory):
    network, optimizer = original_network(seed=1), SGD(0.1, 0.9)
    run_epochs(network, optimizer, small_dataset, BCE, dict(batch_size=8), 1)
    path = tmp_path_factory.mktemp("checkpoint") / "good.npz"
    save_checkpoint(path, network, optimizer, epoch=1, config=RunConfig())
    return path.read_bytes()


def test_truncated_checkpoints_are_refused_naming_the_file(checkpoint_bytes, tmp_path):
    path = tmp_path / "cut.npz"
    for length in np.linspace(0, len(checkpoint_bytes) - 1, 40).astype(int):
        path.write_bytes(checkpoint_bytes[:length])
        with pytest.raises(WeightsFileError, match="cut.npz: "):
            load_checkpoint(path)


def rewritten(checkpoint_bytes, path, header_change=None, drop=None, replace=None):
    """The good checkpoint with its header's checkpoint entry changed, a member dropped or replaced."""
    source = zipfile.ZipFile(bytes_io.BytesIO(checkpoint_bytes))
    with zipfile.ZipFile(path, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == drop:
                continue
            if name == "__header__.npy" and header_change:
                header = json.loads(np.load(bytes_io.BytesIO(data)).tobytes())
                header_change(header["checkpoint"])
                buffer = bytes_io.BytesIO()
                np.save(buffer, np.frombuffer(json.dumps(header).encode(), dtype=np.uint8))
                data = buffer.getvalue()
            if replace and name in replace:
                buffer = bytes_io.BytesIO()
                np.save(buffer, replace[name])
                data = buffer.getvalue()
            target.writestr(name, data)
    return path


@pytest.mark.parametrize("kind, message", [
    (dict(header_change=lambda c: c.update(epoch=-1)), "epoch must be a whole number"),
    (dict(header_change=lambda c: c.update(epoch=True)), "epoch must be a whole number"),
    (dict(header_change=lambda c: c.update(config={"learning_rate": "fast"})), "settings are invalid"),
    (dict(header_change=lambda c: c.update(config={"colour": 1})), "unknown settings"),
    (dict(header_change=lambda c: c["optimizer"].update(momentum=2.0)), "optimizer state is invalid"),
    (dict(header_change=lambda c: c["optimizer"].update(learning_rate=None)), "learning_rate must be a finite"),
    (dict(header_change=lambda c: c["optimizer"].update(velocity=["9.nothing"])), "must name parameters"),
    (dict(header_change=lambda c: c.pop("optimizer")), "no optimizer state"),
    (dict(drop="state/velocity/3.weights.npy"), "velocity of 3.weights is missing"),
    (dict(replace={"state/velocity/5.bias.npy": np.zeros(3)}), "shape"),
    (dict(replace={"state/velocity/5.bias.npy": np.array([np.nan, 0.0])}), "non-finite"),
    (dict(replace={"state/velocity/5.bias.npy": np.zeros(2, dtype=object)}), "dtype"),
])
def test_bad_checkpoints_are_refused_naming_the_file(checkpoint_bytes, tmp_path, kind, message):
    path = rewritten(checkpoint_bytes, tmp_path / "bad.npz", **kind)
    with pytest.raises(WeightsFileError, match=f"bad.npz: .*{message}"):
        load_checkpoint(path)


def test_a_plain_weights_file_is_not_a_checkpoint(tmp_path):
    weights_file.save(original_network(), tmp_path / "w.npz")
    with pytest.raises(WeightsFileError, match="w.npz: a weights file, not a checkpoint"):
        load_checkpoint(tmp_path / "w.npz")


def test_the_good_checkpoint_loads(checkpoint_bytes, tmp_path):
    """The bad-file tests start from a file that loads."""
    path = rewritten(checkpoint_bytes, tmp_path / "same.npz")
    checkpoint = load_checkpoint(path)
    assert checkpoint.epoch == 1 and set(checkpoint.optimizer_state["velocity"]) == set(checkpoint.network.params)


def test_stop_then_start_keeps_the_optimizer_state(raw_mnist):
    """The studio's Stop then Start (Session.resumed with the same settings) goes on as if never stopped:
    momentum's velocity and the decayed rate carry over, and the epoch count goes on."""
    config = RunConfig.from_preset("original", limit=10, epochs=2, momentum=0.9, lr_decay=0.5)
    whole = Session(config, raw_mnist)
    list(whole.run(2))
    stopped = Session(config, raw_mnist)
    list(stopped.run(1))
    velocity = {name: v.copy() for name, v in stopped.optimizer.velocity.items()}
    started = stopped.resumed(config.with_changes(epochs=1))
    assert started.epochs_done == 1 and velocity.keys() == started.optimizer.velocity.keys()
    assert all(np.array_equal(v, started.optimizer.velocity[name]) for name, v in velocity.items())
    assert [r.epoch for r in started.run() if isinstance(r, EpochRecord)] == [2]
    assert started.optimizer.current_learning_rate == 0.1 * 0.5
    assert all(np.array_equal(started.network.params[k], v) for k, v in whole.network.params.items())
