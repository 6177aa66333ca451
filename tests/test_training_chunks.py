"""A training batch larger than its memory allows (red team F3, F4: `--arch "conv 1024 3x3, sigmoid, dense 2,
sigmoid" --batch-size 200` held 5.4 GB, the default network at `--batch-size 10000` 2 GB) goes in chunks
that fit cnn.memory.TRAINING_BYTES, the gradients summed over them: the whole batch's update, within
rounding. The presets' batches (1 and 128) fit and are taken whole, bit for bit as before. Memory is
measured with tracemalloc (numpy reports its buffers to it), never with a clock."""
import tracemalloc

import numpy as np
import pytest

from cnn import SGD, Adam, arch, memory
from cnn.data import Dataset, Split, prepare
from cnn.fast import FastStep
from cnn.fast.shards import MIN_HALF
from cnn.losses import LOSSES
from cnn.presets import digits_network, original_network
from cnn.step import PlainStep

BCE, SOFTMAX_CE = LOSSES["binary_cross_entropy"], LOSSES["softmax_cross_entropy"]
WHOLE = 10**15     # TRAINING_BYTES under which every batch is taken whole: the unchunked path


@pytest.fixture(scope="module")
def ten_digits(raw_mnist):
    return prepare(raw_mnist, classes=tuple(range(10)), limit=20, seed=0)   # 200 training images


def two_classes(data):
    return Dataset(*(Split(s.x, s.y[:, :2], s.labels) for s in (data.train, data.test)), classes=(0, 1))


def train(step_type, network, loss, optimizer, data, batch, steps):
    step = step_type(network, loss, optimizer)
    results = [step(data.train.x[i:i + batch], data.train.y[i:i + batch]) for i in range(0, steps * batch, batch)]
    return results, {name: p.copy() for name, p in network.params.items()}


def bytes_of(network, samples):
    """TRAINING_BYTES under which a chunk holds `samples` samples of `network`."""
    return samples * 2 * memory.network_values(network) * network.dtype.itemsize


@pytest.mark.parametrize("step_type", [FastStep, PlainStep])
@pytest.mark.parametrize("build, loss, classes, batch", [(original_network, BCE, 2, 1),
                                                         (digits_network, SOFTMAX_CE, 10, 128)],
                         ids=["original", "digits"])
def test_the_presets_batches_are_whole_and_bit_for_bit_unchanged(monkeypatch, ten_digits, step_type, build, loss,
                                                                  classes, batch):
    data = ten_digits if classes == 10 else two_classes(ten_digits)
    assert memory.training_samples(build(classes)) >= 128 and memory.training_samples(digits_network()) >= 128
    steps = 4 if batch == 1 else 1
    now = train(step_type, build(classes, seed=3), loss, SGD(0.05, 0.9), data, batch, steps)
    monkeypatch.setattr(memory, "TRAINING_BYTES", WHOLE)
    before = train(step_type, build(classes, seed=3), loss, SGD(0.05, 0.9), data, batch, steps)
    assert [r.loss for r in now[0]] == [r.loss for r in before[0]]
    assert [r.grad_norms for r in now[0]] == [r.grad_norms for r in before[0]]
    assert all(np.array_equal(now[1][name], value) for name, value in before[1].items())


@pytest.mark.parametrize("step_type, chunk, optimizer", [
    (FastStep, 1, lambda: SGD(0.05)),                  # one-sample chunks: a Dense ∂E/∂W from its two factors
    (FastStep, 7, lambda: SGD(0.05, 0.9)),
    (FastStep, 2 * MIN_HALF + 1, lambda: Adam(0.01)),  # each chunk in two halves, the last one not
    (PlainStep, 7, lambda: SGD(0.05, 0.9)),
])
@pytest.mark.parametrize("build, loss, classes", [(original_network, BCE, 2), (digits_network, SOFTMAX_CE, 10)],
                         ids=["original", "digits"])
def test_a_batch_in_chunks_is_the_whole_batchs_step(monkeypatch, ten_digits, step_type, chunk, optimizer, build,
                                                    loss, classes):
    data = ten_digits if classes == 10 else two_classes(ten_digits)
    batch = 80
    whole = train(step_type, build(classes, seed=1, dtype="float64"), loss, optimizer(), data, batch, 2)
    network = build(classes, seed=1, dtype="float64")
    monkeypatch.setattr(memory, "TRAINING_BYTES", bytes_of(network, chunk))
    assert memory.training_samples(network) == chunk
    chunked = train(step_type, network, loss, optimizer(), data, batch, 2)
    for expected, result in zip(whole[0], chunked[0], strict=True):
        assert result.loss == pytest.approx(expected.loss, rel=1e-12)
        for name, norm in expected.grad_norms.items():
            assert result.grad_norms[name] == pytest.approx(norm, rel=1e-12), name
    for name, value in whole[1].items():
        np.testing.assert_allclose(chunked[1][name], value, rtol=1e-12, atol=1e-14)
        assert not np.array_equal(value, build(classes, seed=1, dtype="float64").params[name])   # trained


@pytest.mark.parametrize("step_type", [FastStep, PlainStep])
def test_a_wide_networks_large_batch_stays_within_the_budget(monkeypatch, small_dataset, step_type):
    network = arch.build(arch.parse("conv 64 3x3, sigmoid, dense 2, sigmoid"), 2)   # 2.2 MB a sample
    x, y = small_dataset.train.x, small_dataset.train.y                              # 40 images: 88 MB at once
    monkeypatch.setattr(memory, "TRAINING_BYTES", bytes_of(network, 4))
    step = step_type(network, BCE, SGD(0.1))
    tracemalloc.start()
    try:
        result = step(x, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * memory.TRAINING_BYTES == 0.2 * bytes_of(network, len(x)), peak   # the whole batch: 10×
    assert np.isfinite(result.loss)
