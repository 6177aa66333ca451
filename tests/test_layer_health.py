"""Layer health (app/model/health.py) against direct computations, and the warnings it raises."""
from types import MappingProxyType

import numpy as np
import pytest

from app.model.health import (SATURATION, HealthRecord, dead_share, measure, saturated_share, stuck_share,
                                 update_ratios)
from app.model.health_watch import ZERO_STEPS, HealthWatch
from cnn.config import RunConfig
from cnn.session import Session
from cnn.train import StepRecord


def test_activation_shares_against_counting_by_hand():
    sigmoid = np.array([[0.0, 0.005, 0.5, 0.995, 1.0, 0.2, 0.989, 0.0101]])
    # saturated: within 0.01 of 0 or 1: 0.0, 0.005, 0.995, 1.0 (0.989 and 0.0101 are not)
    assert saturated_share(sigmoid) == 4 / 8
    assert stuck_share(sigmoid) == 2 / 8
    assert SATURATION == 0.01
    relu = np.zeros((3, 4))
    relu[0, 0] = 1.0         # unit 0 fires for one sample of three
    relu[2, 3] = 0.5         # unit 3 too
    assert dead_share(relu) == 2 / 4
    assert dead_share(relu[:1]) == 3 / 4


def test_a_convolution_relu_unit_is_a_channel_not_a_position():
    """(N, C, H, W): a channel that fires anywhere for any sample is alive, however many of its
    positions (a digit's blank border) are zero for every image."""
    relu = np.zeros((2, 4, 5, 5))
    relu[0, 0, 2, 2] = 1.0   # channel 0 fires at one position of one sample
    relu[1, 1, :, :] = 0.3   # channel 1 everywhere for the other sample
    relu[1, 2, 4, 0] = 2.0   # channel 2 at a corner; channel 3 never
    assert dead_share(relu) == 1 / 4
    assert dead_share(relu[:1]) == 3 / 4


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_update_ratios_equal_the_change_of_the_weights(raw_mnist, momentum):
    session = Session(RunConfig.from_preset("original", limit=5, momentum=momentum), raw_mnist)
    loop = session.run(1)
    for _ in range(3):      # with momentum, the velocity carries earlier steps
        record = assert_ratios_are_the_change(session, loop, rel=1e-6)
    health = measure(session.network, session.optimizer, record)
    assert health.global_step == 3 and set(health.update_ratios) == set(session.network.params)
    assert set(health.saturated) == {1, 4, 6} and health.dead == {}
    np.testing.assert_equal(health.saturated[4], saturated_share(session.network.outputs[4]))


def assert_ratios_are_the_change(session, loop, rel: float):
    """The next step's update ratios equal ‖θ after − θ before‖ / ‖θ after‖ of every parameter; returns its record."""
    before = {name: value.copy() for name, value in session.network.params.items()}
    record = next(loop)
    ratios = update_ratios(session.network, session.optimizer, record.grad_norms)
    for name, after in session.network.params.items():
        direct = np.linalg.norm(after - before[name]) / np.linalg.norm(after)
        assert ratios[name] == pytest.approx(direct, rel=rel), name
    return record


BLOCKS = ("conv 4 3x3 stride=2 pad=same, batchnorm, relu, avgpool 2, dropout 0.3, conv 6 3x3 pad=1, relu, "
          "globalavgpool, dense 2")


@pytest.mark.parametrize("settings", [
    {"weight_decay": 0.01}, {"weight_decay": 0.01, "momentum": 0.9}, {"weight_decay": 0.01, "optimizer": "adam"},
    {"lr_decay": 0.5, "epochs": 2}, {"architecture": BLOCKS, "weight_decay": 0.001, "lr_decay": 0.5, "epochs": 2},
    {"architecture": BLOCKS, "optimizer": "adam", "weight_decay": 0.001, "lr_decay": 0.5, "epochs": 2}])
def test_update_ratios_with_weight_decay_a_decaying_rate_and_the_new_blocks(raw_mnist, settings):
    session = Session(RunConfig.from_preset("original", limit=10, batch_size=5, **settings), raw_mnist)
    loop = session.run(settings.get("epochs", 1))
    for record in loop:   # into the last epoch (the second, where a decaying rate has moved)
        if record.epoch == settings.get("epochs", 1) and record.step >= 2:
            break
    record = assert_ratios_are_the_change(session, loop, rel=1e-5)
    if "architecture" in settings:   # ReLU after batch normalization: a dead channel is one zero everywhere
        health = measure(session.network, session.optimizer, record)
        assert set(health.dead) == {2, 6} and health.saturated == {}


def step(n, zero):
    norms = {"0.kernels": 0.0 if zero else 0.3, "0.biases": 0.0 if zero else 0.1}
    return StepRecord(1, n, 100, n, 1, 0.5, MappingProxyType(norms))


def health(stuck=0.0, dead=0.0):
    return HealthRecord(1, 5, 100, 5, MappingProxyType({}), MappingProxyType({6: stuck}), MappingProxyType({6: stuck}),
                        MappingProxyType({1: dead}))


def test_the_watch_warns_after_a_run_of_zero_gradients_and_clears_when_they_return():
    watch = HealthWatch({6: "Sigmoid", 1: "ReLU"})
    assert not watch.add([step(1, zero=False)] + [step(n, zero=True) for n in range(2, ZERO_STEPS + 1)])
    assert watch.warnings == ()           # one step short
    assert watch.add([step(ZERO_STEPS + 1, zero=True)])
    assert "exactly zero since step 2 of epoch 1" in watch.warnings[0]
    assert "Lower the learning rate" in watch.warnings[-1]
    assert watch.add([step(ZERO_STEPS + 2, zero=False)]) and watch.warnings == ()


def test_the_watch_names_saturated_sigmoids_and_dead_relus():
    watch = HealthWatch({6: "Sigmoid", 1: "ReLU"})
    watch.add([health(stuck=0.3, dead=0.5)])
    assert watch.warnings == ()
    watch.add([health(stuck=1.0, dead=0.8)])
    text = " ".join(watch.warnings)
    assert "layer 6 (Sigmoid) are saturated: 100%" in text and "layer 1 (ReLU) have died: 80%" in text


def test_a_learning_rate_of_50_on_the_original_network_is_caught(raw_mnist):
    """The issue's example: exactly-zero gradients from step 2, with the output sigmoids stuck."""
    session = Session(RunConfig.from_preset("original", learning_rate=50.0), raw_mnist)
    watch = HealthWatch()
    loop = session.run(1)
    for _ in range(ZERO_STEPS + 2):
        record = next(loop)
        watch.add([record, measure(session.network, session.optimizer, record)])
    text = " ".join(watch.warnings)
    assert "exactly zero since step 2 of epoch 1" in text
    assert "layer 6 (activation) are saturated: 100%" in text
