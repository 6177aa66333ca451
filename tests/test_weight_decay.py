"""Weight decay λ: SGD's as torch.optim.SGD(weight_decay=λ), Adam's decoupled as torch.optim.AdamW; in
the fast path, the trace, checkpoints (a continued run bit-equal) and the command line."""
import numpy as np
import pytest

from cnn import SGD, Adam, trace
from cnn.checkpoint import load_checkpoint, save_checkpoint
from cnn.cli import main
from cnn.config import RunConfig
from cnn.fast import FastStep
from cnn.losses import LOSSES
from cnn.optim import from_state
from cnn.presets import digits_network
from cnn.ranges import SettingError
from cnn.step import PlainStep
from cnn.train import EpochRecord, train

SOFTMAX_CE = LOSSES["softmax_cross_entropy"]


@pytest.mark.slow   # importing torch takes seconds
@pytest.mark.parametrize("kind", ["sgd", "sgd momentum", "adamw"])
def test_weight_decay_equals_torch_over_several_steps(kind, small_dataset):
    torch = pytest.importorskip("torch")
    network = digits_network(2, seed=3, dtype="float64")
    theirs = {name: torch.tensor(value.copy(), requires_grad=True) for name, value in network.params.items()}
    if kind == "adamw":
        ours, reference = Adam(0.01, weight_decay=0.05), torch.optim.AdamW(list(theirs.values()), lr=0.01,
                                                                          weight_decay=0.05)
    else:
        momentum = 0.9 if kind == "sgd momentum" else 0.0
        ours = SGD(0.05, momentum, weight_decay=0.01)
        reference = torch.optim.SGD(list(theirs.values()), lr=0.05, momentum=momentum, weight_decay=0.01)
    decayless = {name: value.copy() for name, value in network.params.items()}
    for step in range(6):
        x, y = small_dataset.train.x[4 * step:4 * step + 4], small_dataset.train.y[4 * step:4 * step + 4]
        network.backward(SOFTMAX_CE.prime(y, network.forward(x)))
        for name, tensor in theirs.items():
            tensor.grad = torch.from_numpy(network.grads[name].copy())
        ours.step(network)
        reference.step()
        for name, tensor in theirs.items():
            np.testing.assert_allclose(network.params[name], tensor.detach().numpy(), rtol=0, atol=1e-12,
                                       err_msg=f"{name} after step {step + 1}")
    without = (Adam(0.01) if kind == "adamw" else SGD(0.05, 0.9 if kind == "sgd momentum" else 0.0))
    plain = digits_network(2, seed=3, dtype="float64")
    plain.set_params(decayless)
    for step in range(6):
        x, y = small_dataset.train.x[4 * step:4 * step + 4], small_dataset.train.y[4 * step:4 * step + 4]
        plain.backward(SOFTMAX_CE.prime(y, plain.forward(x)))
        without.step(plain)
    assert np.abs(plain.params["7.weights"] - network.params["7.weights"]).max() > 1e-6   # the decay did something


@pytest.mark.parametrize("optimizer", [lambda: SGD(0.05, weight_decay=0.01), lambda: SGD(0.05, 0.9, weight_decay=0.01),
                                       lambda: Adam(0.01, weight_decay=0.05)])
def test_the_fast_step_decays_the_weights_as_the_plain_step(optimizer, small_dataset):
    results = []
    for step_type in (PlainStep, FastStep):
        network = digits_network(2, seed=3, dtype="float64")
        step = step_type(network, SOFTMAX_CE, optimizer())
        for start in (0, 8, 16):
            step(small_dataset.train.x[start:start + 8], small_dataset.train.y[start:start + 8])
        results.append(network.params)
    for name, value in results[0].items():   # Adam divides by √v: a near-zero gradient's rounding shows (~1e−10)
        np.testing.assert_allclose(results[1][name], value, rtol=1e-9, atol=1e-11, err_msg=name)


@pytest.mark.parametrize("optimizer", [lambda: SGD(0.05, weight_decay=0.01), lambda: Adam(0.01, weight_decay=0.05)])
def test_the_trace_shows_the_decayed_step(optimizer, small_dataset):
    network = digits_network(2, seed=3, dtype="float64")
    t = trace(network, small_dataset.train.x[:1], small_dataset.train.y[:1], SOFTMAX_CE, optimizer())
    stepped = optimizer()
    stepped.step(network)
    assert t.weight_decay > 0
    for name, value in network.params.items():
        assert np.array_equal(t.new_params[name], value), name


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_a_checkpoint_keeps_the_weight_decay_and_continues_bit_for_bit(kind, tmp_path, small_dataset):
    def optimizer():
        return Adam(0.01, weight_decay=0.05) if kind == "adam" else SGD(0.05, 0.5, weight_decay=0.01)
    whole_network, whole_optimizer = digits_network(2, seed=1, dtype="float64"), optimizer()
    list(train(whole_network, small_dataset, SOFTMAX_CE, whole_optimizer, 2, 8, reshuffle=True))
    network, first = digits_network(2, seed=1, dtype="float64"), optimizer()
    list(train(network, small_dataset, SOFTMAX_CE, first, 1, 8, reshuffle=True))
    save_checkpoint(tmp_path / "c.npz", network, first, epoch=1)
    checkpoint = load_checkpoint(tmp_path / "c.npz")
    assert checkpoint.optimizer_state["weight_decay"] == first.weight_decay
    resumed = from_state(checkpoint.optimizer_state)
    records = list(train(checkpoint.network, small_dataset, SOFTMAX_CE, resumed, 1, 8, reshuffle=True, first_epoch=2))
    assert isinstance(records[-1], EpochRecord)
    for name, value in whole_network.params.items():
        assert np.array_equal(checkpoint.network.params[name], value), name


def test_the_run_settings_and_the_command_line_take_the_weight_decay(capsys):
    assert RunConfig.from_preset("digits", weight_decay=0.0005).weight_decay == 0.0005
    with pytest.raises(SettingError, match="weight_decay must be from 0 to 1"):
        RunConfig(weight_decay=2.0).validate()
    assert main(["--weight-decay", "-1", "--epochs", "1", "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == "cnn-train: error: --weight-decay must be from 0 to 1, not -1.0"
