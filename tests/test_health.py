"""The dead-network check on an epoch's step records (cnn.health)."""
import math
from types import MappingProxyType

from cnn.health import EpochHealth, dead_network_warning
from cnn.train import StepRecord


def steps(losses, norms, epoch=4):
    return [StepRecord(epoch, i + 1, len(losses), i + 1, 1, loss, MappingProxyType(dict(norm)))
            for i, (loss, norm) in enumerate(zip(losses, norms, strict=True))]


ZERO = {"0.kernels": 0.0, "3.weights": 0.0}
LIVE = {"0.kernels": 0.0, "3.weights": 1e-12}   # one tiny non-zero gradient is learning


def test_all_zero_gradients():
    assert dead_network_warning(steps([0.5, 0.7], [ZERO, ZERO])) == (
        "epoch 4: the gradients are all zero (the units are saturated), so the network no longer learns; "
        "try a learning rate 10× smaller, from fresh weights")


def test_a_loss_that_never_moves():
    warning = dead_network_warning(steps([17.269588, 17.269588, 17.269588], [LIVE, ZERO, ZERO]))
    assert warning.startswith("epoch 4: the loss was exactly 17.269588 at every step: the gradients are all zero")


def test_learning_epochs_and_edge_cases_give_none():
    assert dead_network_warning(steps([0.5, 0.49], [LIVE, ZERO])) is None
    assert dead_network_warning(steps([0.5], [LIVE])) is None      # one step: a flat loss cannot be seen
    assert dead_network_warning([]) is None
    assert dead_network_warning(steps([0.5, math.nextafter(0.5, 1.0)], [LIVE, LIVE])) is None   # the least change


def test_the_accumulator_resets_with_each_epoch():
    health = EpochHealth()
    for step in steps([1.0, 1.0], [ZERO, ZERO], epoch=2):
        health.see(step)
    assert health.warning().startswith("epoch 2: ")
    fresh = EpochHealth()
    for step in steps([1.0, 0.9], [LIVE, LIVE], epoch=3):
        fresh.see(step)
    assert fresh.warning() is None
