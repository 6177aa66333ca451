"""cnn.fast: the speed tricks give what the textbook path gives."""
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.special import expit

from cnn import SGD, Dense, Network, Reshape, Sigmoid
from cnn.data import Dataset, Split
from cnn.fast import FastStep, sigmoid
from cnn.fast.blas import add_outer, add_scaled
from cnn.fast.shards import MIN_HALF, Halves
from cnn.data import prepare
from cnn.losses import LOSSES
from cnn.presets import digits_network, original_network
from cnn.step import NonFinite, PlainStep

BCE, SOFTMAX_CE = LOSSES["binary_cross_entropy"], LOSSES["softmax_cross_entropy"]


def as_dtype(dataset, dtype):
    return Dataset(*(Split(s.x.astype(dtype), s.y.astype(dtype), s.labels) for s in (dataset.train, dataset.test)),
                   classes=dataset.classes)


@pytest.mark.parametrize("build, loss, dtype, batch, momentum, tolerance", [
    (original_network, BCE, "float64", 1, 0.0, 1e-11),     # rank-one updates, the fast sigmoid, no ∂E/∂X
    (original_network, BCE, "float64", 1, 0.9, 1e-11),     # the outer product written for the velocity
    (original_network, BCE, "float64", 5, 0.0, 1e-11),     # ∂E/∂W into a reused buffer, axpy updates
    (digits_network, SOFTMAX_CE, "float64", 4, 0.9, 1e-11),
    (digits_network, SOFTMAX_CE, "float32", 4, 0.9, 2e-4),
])
def test_fast_steps_equal_plain_steps(small_dataset, build, loss, dtype, batch, momentum, tolerance):
    data = as_dtype(small_dataset, dtype)
    plain_network, fast_network = build(2, seed=1, dtype=dtype), build(2, seed=1, dtype=dtype)
    plain = PlainStep(plain_network, loss, SGD(0.05, momentum))
    fast = FastStep(fast_network, loss, SGD(0.05, momentum))
    for start in range(0, 8 * batch, batch):
        x, y = data.train.x[start:start + batch], data.train.y[start:start + batch]
        expected, result = plain(x, y), fast(x, y)
        assert result.loss == pytest.approx(expected.loss, rel=tolerance)
        assert result.grad_norms.keys() == expected.grad_norms.keys()
        for name, norm in expected.grad_norms.items():
            assert result.grad_norms[name] == pytest.approx(norm, rel=tolerance, abs=1e-300), name
    for name, value in plain_network.params.items():
        np.testing.assert_allclose(fast_network.params[name], value, rtol=tolerance, atol=tolerance * 1e-3)
        assert not np.array_equal(value, build(2, seed=1, dtype=dtype).params[name])  # trained: not vacuous


def test_one_samples_dense_gradient_stays_two_vectors_and_the_first_layer_skips_its_input_gradient(small_dataset):
    network = original_network(seed=2)
    before = network.params["3.weights"].copy()
    step = FastStep(network, BCE, SGD(0.1))
    result = step(small_dataset.train.x[:1], small_dataset.train.y[:1])
    assert network.input_gradients[0] is None            # the first convolution's ∂E/∂X: not computed
    u, v = network.input_gradients[4][0], network.inputs[3][0]
    assert result.grad_norms["3.weights"] == pytest.approx(np.linalg.norm(np.outer(u, v)), rel=1e-13)
    np.testing.assert_allclose(network.params["3.weights"], before - 0.1 * np.outer(u, v), rtol=1e-14, atol=1e-15)


def test_blas_updates_equal_numpys(rng):
    for dtype, tolerance in ((np.float64, 1e-15), (np.float32, 1e-6)):
        y, x = rng.standard_normal((7, 5)).astype(dtype), rng.standard_normal((7, 5)).astype(dtype)
        u, v = rng.standard_normal(7).astype(dtype), rng.standard_normal(5).astype(dtype)
        expected = y - 0.3 * x
        add_scaled(y, -0.3, x)
        np.testing.assert_allclose(y, expected, rtol=tolerance, atol=tolerance)
        expected = y + 0.7 * np.outer(u, v)
        add_outer(y, 0.7, u, v)
        np.testing.assert_allclose(y, expected, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("compiled", [True, False], ids=["numba", "numpy"])
@pytest.mark.parametrize("dtype, ulps", [(np.float64, 4), (np.float32, 4)])
def test_the_fast_sigmoid_matches_expit_to_a_few_ulp_everywhere(monkeypatch, dtype, ulps, compiled):
    """(An overflow would fail the test too: the suite turns RuntimeWarnings into errors.)"""
    from cnn.fast import kernels
    monkeypatch.setattr(kernels, "AVAILABLE", compiled and kernels.AVAILABLE)
    x = np.concatenate([np.linspace(-800, 800, 200001), [-1e300, 1e300, np.inf, -np.inf, 0.0, -0.0, 5e-324]]
                       ).astype(dtype) if dtype == np.float64 else \
        np.concatenate([np.linspace(-120, 120, 200001), [-3e38, 3e38, np.inf, -np.inf, 0.0]]).astype(dtype)
    layer = SimpleNamespace()
    y, expected = sigmoid.forward(layer, x[None]), expit(x)[None]
    assert y.dtype == dtype and layer.output is y
    spacing = np.spacing(np.maximum(np.abs(expected), np.finfo(dtype).tiny))
    assert np.max(np.abs(y - expected) / spacing) <= ulps
    plain = Sigmoid(dtype=dtype)
    layer.output = plain.forward(x[None])  # the backward passes compared on the same σ
    gradient = np.linspace(-2, 2, x.size).astype(dtype)[None]
    np.testing.assert_allclose(sigmoid.backward(layer, gradient), plain.backward(gradient),
                               rtol=8 * np.finfo(dtype).eps, atol=np.finfo(dtype).tiny)


def test_the_fast_sigmoid_is_silent_at_the_extremes_and_keeps_nan():
    x = np.array([[-1e308, -1e4, -745.0, 0.0, 745.0, 1e308, np.nan]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = sigmoid.forward(SimpleNamespace(), x)
    assert y[0, 0] == 0.0 and y[0, -2] == 1.0 and y[0, 3] == 0.5 and np.isnan(y[0, -1])


def overflowing_velocity(small_dataset):
    """A float32 linear model whose corner-pixel weight (no gradient: that pixel is 0 everywhere) is
    carried past the float32 range by its velocity alone, at the second step."""
    network = Network([Reshape((1, 28, 28), (784,), dtype="float32"), Dense(784, 2, rng=0, dtype="float32")])
    optimizer = SGD(0.01, momentum=0.9)
    optimizer.velocity["1.weights"] = np.zeros((2, 784), dtype=np.float32)
    optimizer.velocity["1.weights"][0, 0] = 3.4e38
    return network, optimizer, as_dtype(small_dataset, np.float32)


@pytest.mark.parametrize("step_type, batch", [(PlainStep, 4), (FastStep, 4), (FastStep, 2 * MIN_HALF)])
def test_both_steps_refuse_the_update_that_would_overflow_and_restore_everything(small_dataset, step_type, batch):
    network, optimizer, data = overflowing_velocity(small_dataset)
    step = step_type(network, SOFTMAX_CE, optimizer)
    step(data.train.x[:batch], data.train.y[:batch])
    weights = {name: p.copy() for name, p in network.params.items()}
    velocity = {name: v.copy() for name, v in optimizer.velocity.items()}
    with pytest.raises(NonFinite, match="the update would make a weight non-finite"):
        step(data.train.x[-batch:], data.train.y[-batch:])
    assert all(np.array_equal(weights[name], p) for name, p in network.params.items())
    assert all(np.array_equal(velocity[name], v) for name, v in optimizer.velocity.items())
    assert np.isfinite(network.params["1.weights"]).all() and network.params["1.weights"][0, 0] > 3e38


@pytest.fixture(scope="module")
def ten_digits(raw_mnist):
    return prepare(raw_mnist, classes=tuple(range(10)), limit=20, seed=0)   # 200 training images


@pytest.mark.parametrize("build, loss, momentum", [(original_network, BCE, 0.0), (digits_network, SOFTMAX_CE, 0.9)])
def test_a_batch_taken_in_halves_equals_the_plain_step(ten_digits, build, loss, momentum):
    """A batch of ≥ 2·MIN_HALF runs as two halves (one on a second thread), the gradients summed: the same
    step as the textbook one within rounding; an odd batch gives halves of different sizes."""
    classes = 2 if build is original_network else 10
    data = ten_digits if classes == 10 else Dataset(
        *(Split(s.x, s.y[:, :2], s.labels) for s in (ten_digits.train, ten_digits.test)), classes=(0, 1))
    plain_network, fast_network = build(classes, seed=1, dtype="float64"), build(classes, seed=1, dtype="float64")
    plain, fast = PlainStep(plain_network, loss, SGD(0.05, momentum)), FastStep(fast_network, loss, SGD(0.05, momentum))
    batch = 2 * MIN_HALF + 5
    for start in range(0, 5 * batch, batch):
        x, y = data.train.x[start:start + batch], data.train.y[start:start + batch]
        expected, result = plain(x, y), fast(x, y)
        assert [len(half.outputs[-1]) for half in fast_network.halves] == [batch - batch // 2]
        assert len(fast_network.outputs[-1]) == batch // 2
        assert result.loss == pytest.approx(expected.loss, rel=1e-13)
        for name, norm in expected.grad_norms.items():
            assert result.grad_norms[name] == pytest.approx(norm, rel=1e-12), name
    for name, value in plain_network.params.items():
        np.testing.assert_allclose(fast_network.params[name], value, rtol=1e-11, atol=1e-14)
        assert not np.array_equal(value, build(classes, seed=1, dtype="float64").params[name])


def test_the_halves_follow_replaced_weights_and_join_their_activations(ten_digits):
    network = digits_network(10, seed=1, dtype="float64")
    step = FastStep(network, SOFTMAX_CE, SGD(0.05))
    x, y = ten_digits.train.x, ten_digits.train.y
    step(x[:40], y[:40])
    replaced = digits_network(10, seed=7, dtype="float64").params
    network.set_params(replaced)                  # new arrays: the second half must use them too
    step(x[40:80], y[40:80])
    reference = digits_network(10, seed=7, dtype="float64")
    PlainStep(reference, SOFTMAX_CE, SGD(0.05))(x[40:80], y[40:80])
    for name, value in reference.params.items():
        np.testing.assert_allclose(network.params[name], value, rtol=1e-11, atol=1e-14)
    before = digits_network(10, seed=7, dtype="float64")
    before.forward(x[40:80])
    for index in range(len(network.layers)):   # the whole batch's activations, as health measures them
        np.testing.assert_allclose(network.batch_output(index), before.outputs[index], rtol=1e-13, atol=1e-15)
    network.forward(x[:3])                         # a pass of its own: no halves any more
    assert network.halves == () and network.batch_output(1).shape == (3, 8, 26, 26)


def test_the_second_half_runs_on_another_thread_when_there_are_two_cores(ten_digits):
    import os
    import threading

    from cnn.fast import backward, forward
    threads = []

    def recording_forward(network, x):
        threads.append(threading.get_ident())
        return forward(network, x)

    network = digits_network(10, seed=1, dtype="float64")
    halves = Halves(network, recording_forward, backward)
    halves.chooser.next = lambda: True
    halves.passes(ten_digits.train.x[:2 * MIN_HALF], ten_digits.train.y[:2 * MIN_HALF], SOFTMAX_CE)
    assert len(threads) == 2
    assert (threads[0] != threads[1]) == ((os.cpu_count() or 1) > 1)


@pytest.mark.parametrize("input_shape, k, depth, bias_mode, batch", [
    ((1, 28, 28), 3, 5, "position", 1), ((8, 13, 13), 3, 16, "kernel", 7), ((3, 9, 12), 5, 4, "kernel", 2),
    ((2, 6, 5), 1, 3, "position", 3), ((3, 7, 6), 3, 2, "kernel", 2),
])
@pytest.mark.parametrize("compiled", [True, False], ids=["numba", "numpy"])
def test_the_wide_layout_convolution_equals_the_layers_own(rng, monkeypatch, input_shape, k, depth, bias_mode, batch,
                                                           compiled):
    from cnn import Convolutional
    from cnn.fast import conv, kernels
    if compiled and not kernels.AVAILABLE:
        pytest.fail("numba is a dependency: the compiled loops must be there")
    monkeypatch.setattr(kernels, "AVAILABLE", compiled)
    layer = Convolutional(input_shape, k, depth, bias_mode=bias_mode, rng=3)
    x = rng.normal(size=(batch, *input_shape))
    expected = layer.forward(x)
    dy = rng.normal(size=expected.shape)
    dx = layer.backward(dy)
    grads = {name: g.copy() for name, g in layer.grads.items()}
    for fast_forward in (True, False):      # backward also after the layer's own forward (the snapshot's)
        layer.grads = {}
        output = conv.forward(layer, x) if fast_forward else layer.forward(x)
        np.testing.assert_allclose(output, expected, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(conv.backward(layer, dy), dx, rtol=1e-13, atol=1e-13)
        for name, grad in grads.items():
            np.testing.assert_allclose(layer.grads[name], grad, rtol=1e-13, atol=1e-13)
    assert conv.backward(layer, dy, input_gradient=False) is None


def test_the_chooser_takes_the_faster_way_and_keeps_trying_the_other():
    from cnn.fast.shards import PROBE_EVERY, TRIES, Chooser
    chooser = Chooser()
    taken = []
    for _ in range(3 * PROBE_EVERY):
        two_threads = chooser.next()
        taken.append(two_threads)
        # a busy core: one thread is faster, though the second try of two threads was lucky
        chooser.took(two_threads, 0.9 if len(taken) == 3 else 2.0 if two_threads else 1.0)
    assert taken[:2 * TRIES] == [True, False] * TRIES                 # each way tried, alternately
    assert taken[2 * TRIES:2 * TRIES + 2] == [True, False]            # the lucky try wins once, then is corrected
    assert [n for n, way in enumerate(taken, start=1) if way and n > 2 * TRIES + 1] == \
        [PROBE_EVERY, 2 * PROBE_EVERY, 3 * PROBE_EVERY]               # then only the probes take two threads
    for _ in range(PROBE_EVERY):                                      # the core is free again: two threads win
        two_threads = chooser.next()
        chooser.took(two_threads, 0.5 if two_threads else 1.0)
    assert chooser.next() is True and chooser.next() is True         # from the next probe on


def test_one_thread_or_two_give_the_same_numbers(ten_digits):
    """The halves are the same sums wherever they run: the chooser's choice changes no digit."""
    results = []
    for two_threads in (True, False):
        network = digits_network(10, seed=1, dtype="float64")
        step = FastStep(network, SOFTMAX_CE, SGD(0.05, 0.9))
        step._halves_for(40).chooser.next = lambda two_threads=two_threads: two_threads
        for start in range(0, 120, 40):
            step(ten_digits.train.x[start:start + 40], ten_digits.train.y[start:start + 40])
        results.append(network.params)
    for name, value in results[0].items():
        np.testing.assert_array_equal(results[1][name], value)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_a_step_allocates_nothing_the_size_of_the_dense_weights(small_dataset, momentum):
    """The original network's 3380×100 weights are 2.7 MB, its activations for one sample a few kB: a
    per-sample step (plain SGD or momentum) makes no array as large as the weights, not even for a
    moment (numpy's SGD.step makes η g); the velocity is made once."""
    batch = 1
    import tracemalloc
    network = original_network(2, seed=0, dtype="float64")
    step = FastStep(network, BCE, SGD(0.1, momentum))
    x, y = small_dataset.train.x[:batch], small_dataset.train.y[:batch]
    for _ in range(3):
        step(x, y)
    weights = network.params["3.weights"].nbytes
    tracemalloc.start()
    try:
        step(x, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < weights / 2, f"a step allocated {peak:,} bytes at its peak; the weights are {weights:,}"


def test_the_fast_momentum_step_is_sgds_to_the_last_bit(small_dataset):
    from cnn.fast import kernels
    if not kernels.AVAILABLE:
        pytest.fail("numba is a dependency: the compiled loops must be there")
    results = []
    for fast in (True, False):
        network = original_network(2, seed=0, dtype="float32")
        optimizer = SGD(0.1, 0.9)
        step = FastStep(network, BCE, optimizer)
        if not fast:   # the optimizer's own step, on the gradients the fast pass leaves
            step._update = lambda factors, step=step, optimizer=optimizer: (
                [step.network.layers[int(k.split(".")[0])].grads.__setitem__("weights", np.outer(u, v))
                 for k, (u, v) in factors.items()], optimizer.step(step.network))
        for start in range(0, 12, 4):
            step(small_dataset.train.x[start:start + 4], small_dataset.train.y[start:start + 4])
        results.append(network.params)
    for name, value in results[1].items():
        assert np.array_equal(results[0][name], value), name


@pytest.mark.parametrize("input_shape, pool_size, batch", [
    ((8, 26, 26), 2, 5), ((16, 11, 11), 2, 3), ((3, 9, 7), 3, 2), ((2, 5, 5), 1, 2), ((1, 4, 4), 4, 1),
])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_compiled_max_pool_is_the_layers_own_bit_for_bit(rng, input_shape, pool_size, batch, dtype):
    """Ties (ReLU's zeros, repeated values), NaN in a window, a ragged edge and negative gradients (whose
    products with 0 are −0) included."""
    from cnn.fast import kernels, pool
    from cnn.pooling import MaxPool2D
    if not kernels.AVAILABLE:
        pytest.fail("numba is a dependency: the compiled loops must be there")
    layer = MaxPool2D(input_shape, pool_size, dtype=dtype)
    x = np.maximum(rng.integers(-3, 3, size=(batch, *input_shape)), 0).astype(dtype)   # many ties, many zeros
    x[0, 0, 0, 0] = np.nan
    x[-1, -1, -1, -1] = -0.0
    expected = layer.forward(x)
    dy = rng.normal(size=expected.shape).astype(dtype)
    dx = layer.backward(dy)
    output = pool.forward(layer, x)
    assert output.dtype == expected.dtype and output.tobytes() == expected.tobytes()   # NaN and −0 too
    gradient = pool.backward(layer, dy)
    assert gradient.dtype == dx.dtype and gradient.tobytes() == dx.tobytes()
    layer.forward(x)                             # the layer's own forward (the snapshot's): its own backward
    assert pool.backward(layer, dy).tobytes() == dx.tobytes()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_compiled_relu_is_the_layers_own_bit_for_bit(rng, dtype):
    """NaN, ±0 and ±∞ in the input, and negative, infinite and NaN gradients where the unit is off (whose
    products with the mask's 0 are −0 and NaN)."""
    from cnn.activations import ReLU
    from cnn.fast import kernels, relu
    if not kernels.AVAILABLE:
        pytest.fail("numba is a dependency: the compiled loops must be there")
    layer = ReLU(dtype=dtype)
    x = rng.normal(size=(3, 2, 5, 7)).astype(dtype)
    x.reshape(-1)[:6] = [np.nan, -0.0, 0.0, np.inf, -np.inf, -1.0]
    expected = layer.forward(x)
    dy = rng.normal(size=x.shape).astype(dtype)
    dy.reshape(-1)[:6] = [1.0, -2.0, np.inf, -np.inf, np.nan, -3.0]
    with np.errstate(invalid="ignore"):          # ∞ · 0 is NaN, as it should be
        dx, wide_dx = layer.backward(dy), dy.astype("float64") * (x > 0)
    output = relu.forward(layer, x)
    assert output.dtype == expected.dtype and output.tobytes() == expected.tobytes()
    gradient = relu.backward(layer, dy)
    assert gradient.dtype == dx.dtype and gradient.tobytes() == dx.tobytes()
    # a gradient of another dtype keeps its own, as the product with the mask does
    assert relu.backward(layer, dy.astype("float64")).tobytes() == wide_dx.tobytes()
    other = np.abs(rng.normal(size=x.shape)).astype(dtype)
    layer.forward(other)                         # the layer's own forward (the snapshot's): its own mask
    with np.errstate(invalid="ignore"):
        assert relu.backward(layer, dy).tobytes() == layer.backward(dy).tobytes() != dx.tobytes()


@pytest.mark.parametrize("shape, k", [((3, 8, 13, 13), 3), ((2, 3, 12, 9), 5), ((2, 2, 5, 5), 1), ((1, 1, 3, 3), 3)])
def test_the_compiled_wide_columns_are_numpys_bit_for_bit(rng, monkeypatch, shape, k):
    """The last k − 1 wide columns of each plane read past its end: zeros, as numpy's form pads."""
    from cnn.fast import conv, kernels
    if not kernels.AVAILABLE:
        pytest.fail("numba is a dependency: the compiled loops must be there")
    x = rng.normal(size=shape)
    compiled = conv.wide_columns(x, k)
    monkeypatch.setattr(kernels, "AVAILABLE", False)
    expected = conv.wide_columns(x, k)
    assert compiled.shape == expected.shape and compiled.tobytes() == expected.tobytes()
