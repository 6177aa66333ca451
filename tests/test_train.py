import math

import numpy as np
import pytest

from cnn import SGD
from cnn.data import Dataset, Split
from cnn.losses import LOSSES
from cnn.presets import original_network
from cnn.evaluation import evaluate
from cnn.train import EpochRecord, StepRecord, TrainingDiverged, train

BCE = LOSSES["binary_cross_entropy"]


def test_records_order_and_counts(small_dataset):
    records = list(train(original_network(), small_dataset, BCE, SGD(0.1), epochs=2, batch_size=8))
    kinds = [type(r).__name__ for r in records]
    assert kinds == (["StepRecord"] * 5 + ["EpochRecord"]) * 2  # 40 images / 8 per step
    steps = [r for r in records if isinstance(r, StepRecord)]
    assert [r.global_step for r in steps] == list(range(1, 11))
    assert [(r.epoch, r.step) for r in steps[:6]] == [(1, 1), (1, 2), (1, 3), (1, 4), (1, 5), (2, 1)]
    assert set(steps[0].grad_norms) == {"0.kernels", "0.biases", "3.weights", "3.bias", "5.weights", "5.bias"}
    epochs = [r for r in records if isinstance(r, EpochRecord)]
    assert epochs[0].train_loss == pytest.approx(np.mean([r.loss for r in steps[:5]]))
    assert 0 <= epochs[1].test_accuracy <= 1


def test_records_are_immutable(small_dataset):
    record = next(train(original_network(), small_dataset, BCE, SGD(0.1), epochs=1))
    with pytest.raises(AttributeError):
        record.loss = 0.0
    with pytest.raises(TypeError):
        record.grad_norms["0.kernels"] = 0.0


def test_per_sample_steps_match_a_hand_written_loop(small_dataset):
    """The loop's textbook steps; tests/test_fast.py holds the fast ones equal to these."""
    auto, manual = original_network(seed=9), original_network(seed=9)
    losses = [r.loss for r in train(auto, small_dataset, BCE, SGD(0.1), epochs=1, fast=False)
              if isinstance(r, StepRecord)]
    optimizer, expected = SGD(0.1), []
    for x, y in zip(small_dataset.train.x, small_dataset.train.y, strict=True):
        output = manual.forward(x[None])
        expected.append(BCE.value(y[None], output))
        manual.backward(BCE.prime(y[None], output))
        optimizer.step(manual)
    assert losses == expected
    for name, value in auto.params.items():
        assert np.array_equal(value, manual.params[name])


def test_same_seed_bit_identical_runs(small_dataset):
    def run():
        network = original_network(seed=3)
        losses = [r.loss for r in train(network, small_dataset, BCE, SGD(0.1, 0.5), 2, 4, seed=8,
                                         reshuffle=True)
                  if isinstance(r, StepRecord)]
        return losses, network.forward(small_dataset.test.x)
    (a, pa), (b, pb) = run(), run()
    assert a == b and np.array_equal(pa, pb)


def test_stop_between_steps(small_dataset):
    network = original_network()
    loop = train(network, small_dataset, BCE, SGD(0.1), epochs=3)
    for record in loop:
        if record.global_step == 5:
            break
    loop.close()
    weights = {name: p.copy() for name, p in network.params.items()}
    with pytest.raises(StopIteration):
        next(loop)
    assert all(np.array_equal(weights[name], p) for name, p in network.params.items())


@pytest.mark.parametrize("decay", [1.0, 0.5])
def test_learning_rate_change_takes_effect_at_the_next_step(small_dataset, decay):
    network, optimizer = original_network(), SGD(0.1, lr_decay=decay)
    loop = train(network, small_dataset, BCE, optimizer, epochs=2, batch_size=20, fast=False)
    next(loop)
    optimizer.learning_rate = 0.5  # the base: epoch 1 runs at 0.5, epoch 2 at 0.5 × decay
    before = {name: p.copy() for name, p in network.params.items()}
    next(loop)
    for name, p in network.params.items():
        np.testing.assert_array_equal(p, before[name] - 0.5 * network.grads[name])
    next(loop)  # the epoch's record
    before = {name: p.copy() for name, p in network.params.items()}
    next(loop)
    for name, p in network.params.items():
        np.testing.assert_array_equal(p, before[name] - 0.5 * decay * network.grads[name])


def poisoned(dataset, index):
    x = dataset.train.x.copy()
    x[index, 0, 5, 5] = np.nan
    return Dataset(Split(x, dataset.train.y, dataset.train.labels), dataset.test, dataset.classes)


def test_poisoned_input_stops_at_its_step_with_weights_intact(small_dataset):
    network = original_network()
    loop = train(network, poisoned(small_dataset, 6), BCE, SGD(0.1), epochs=1)
    steps = []
    with pytest.raises(TrainingDiverged, match="epoch 1, step 7: the loss is nan") as error:
        for record in loop:
            steps.append(record)
            weights = {name: p.copy() for name, p in network.params.items()}
    assert len(steps) == 6 and error.value.global_step == 7
    assert all(np.array_equal(weights[name], p) for name, p in network.params.items())


def float32_linear_model(small_dataset):
    from cnn import Dense, Network, Reshape
    network = Network([Reshape((1, 28, 28), (784,), dtype="float32"), Dense(784, 2, rng=0, dtype="float32")])
    dataset = Dataset(*(Split(s.x.astype(np.float32), s.y.astype(np.float32), s.labels)
                        for s in (small_dataset.train, small_dataset.test)), classes=small_dataset.classes)
    assert not dataset.train.x[:, 0, 0, 0].any()  # the corner pixel is 0 in every image: its weight gets no gradient
    return network, dataset


def test_momentum_that_would_overflow_a_weight_stops_with_the_weights_before_that_step(small_dataset):
    """The issue's float32, μ = 0.9 case: a weight carried past the float32 range by its velocity
    alone (its gradient is 0, so the loss and the gradient norms stay small). The guard must count
    the velocity, take its checked path, restore and raise."""
    network, dataset = float32_linear_model(small_dataset)
    optimizer = SGD(0.01, momentum=0.9)
    optimizer.velocity["1.weights"] = np.zeros((2, 784), dtype=np.float32)
    optimizer.velocity["1.weights"][0, 0] = 3.4e38          # θ: 0 → 3.06e38 → 5.8e38 = inf in float32
    steps, last = [], None
    with pytest.raises(TrainingDiverged, match="epoch 1, step 2: the update would make a weight non-finite") as error:
        for record in train(network, dataset, LOSSES["softmax_cross_entropy"], optimizer, epochs=1, batch_size=4):
            steps.append(record)
            last = ({name: p.copy() for name, p in network.params.items()},
                    {name: v.copy() for name, v in optimizer.velocity.items()})
    assert len(steps) == 1 and error.value.global_step == 2
    assert network.params["1.weights"][0, 0] == np.float32(0.9) * np.float32(3.4e38)  # after step 1, finite
    assert all(np.array_equal(last[0][name], p) for name, p in network.params.items())
    assert all(np.array_equal(last[1][name], v) for name, v in optimizer.velocity.items())
    assert "smaller learning rate" in str(error.value)


def test_the_guard_leaves_ordinary_steps_to_the_optimizer(small_dataset):
    """Far from the float range the guarded loop equals bare optimizer steps (momentum included)."""
    network, dataset = float32_linear_model(small_dataset)
    manual, _ = float32_linear_model(small_dataset)
    loss, optimizer, manual_optimizer = LOSSES["softmax_cross_entropy"], SGD(0.5, 0.9), SGD(0.5, 0.9)
    list(train(network, dataset, loss, optimizer, epochs=1, batch_size=4))
    for start in range(0, len(dataset.train.x), 4):
        xb, yb = dataset.train.x[start:start + 4], dataset.train.y[start:start + 4]
        manual.backward(loss.prime(yb, manual.forward(xb)))
        manual_optimizer.step(manual)
    assert all(np.array_equal(manual.params[name], p) for name, p in network.params.items())


def test_continuing_after_divergence_with_a_smaller_rate(small_dataset):
    network = original_network()
    with pytest.raises(TrainingDiverged):
        list(train(network, poisoned(small_dataset, 3), BCE, SGD(0.1), epochs=1))
    records = list(train(network, small_dataset, BCE, SGD(0.05), epochs=1))
    assert math.isfinite(records[-1].test_loss)


@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 0}, "batch_size must be a whole number from 1 to 60000, not 0"),
    ({"batch_size": 41}, "batch_size must be at most the 40 training images, not 41"),
    ({"epochs": 0}, "epochs must be a whole number from 1 to 10000, not 0"),
])
def test_nonsense_settings(small_dataset, kwargs, message):
    arguments = {"epochs": 1, "batch_size": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        next(train(original_network(), small_dataset, BCE, SGD(0.1), **arguments))


def test_evaluate(small_dataset):
    network = original_network()
    result = evaluate(network, small_dataset.test, BCE)
    outputs = network.forward(small_dataset.test.x)
    assert result.loss == pytest.approx(BCE.value(small_dataset.test.y, outputs), rel=1e-12)
    assert result.accuracy == np.mean(outputs.argmax(1) == small_dataset.test.y.argmax(1))


def test_shifted_moves_each_image_by_its_own_offset_with_zero_fill(rng):
    from cnn.train import shifted
    images = rng.random((50, 2, 6, 5))
    moved = shifted(images, 2, np.random.default_rng(3))
    offsets = np.random.default_rng(3).integers(0, 5, size=(2, 50)) - 2  # the same draws
    for n in range(50):
        dy, dx = offsets[:, n]
        for c, y, x in np.ndindex(2, 6, 5):  # moved[y, x] = image[y + dy, x + dx], zero outside
            inside = 0 <= y + dy < 6 and 0 <= x + dx < 5
            assert moved[n, c, y, x] == (images[n, c, y + dy, x + dx] if inside else 0)
    assert set(map(tuple, offsets.T)) > {(0, 0), (2, 2), (-2, -2)}  # the offsets reach the corners
    assert np.array_equal(shifted(images, 0, np.random.default_rng(3)), images)


def test_training_with_shifts_is_seeded_and_differs_from_without(small_dataset):
    def losses(shift, seed):
        network, optimizer = original_network(seed=1), SGD(0.1)
        return [r.loss for r in train(network, small_dataset, LOSSES["binary_cross_entropy"], optimizer, 1,
                                      shift=shift, seed=seed) if isinstance(r, StepRecord)]
    assert losses(1, 7) == losses(1, 7)
    assert losses(1, 7) != losses(1, 8)
    assert losses(1, 7) != losses(0, 7)
    with pytest.raises(ValueError, match="shift"):
        losses(5, 0)

