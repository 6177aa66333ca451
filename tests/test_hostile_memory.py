"""Wide networks (issue 19, case 10): `--arch "conv 1024 3x3, sigmoid, dense 2, sigmoid"` trained, then
its evaluation asked 4.4 GB at once (_ArrayMemoryError, a traceback). Batched forward passes now go
in chunks sized from the network's shapes (cnn.memory), and a network that cannot take one training
sample is refused at the architecture check with the estimate. The presets' chunks, and so their
results, are what they were. Memory is measured with tracemalloc (numpy reports its buffers to
it), never with a clock."""
import tracemalloc

import numpy as np
import pytest

from cnn import arch, memory
from cnn.attribution import occlusion
from cnn.cli import main as cnn_train
from cnn.config import RunConfig, SettingError
from cnn.presets import digits_network, original_network
from cnn.session import Session, loss_for
from cnn.evaluation import evaluate

ISSUE = "conv 1024 3x3, sigmoid, dense 2, sigmoid"


def peak_of(action) -> tuple[object, int]:
    tracemalloc.start()
    try:
        result = action()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("network", [original_network(), digits_network(), digits_network(dtype="float64")],
                         ids=["original", "digits", "digits float64"])
def test_the_presets_keep_their_chunks_of_500_and_256(network):
    assert memory.chunk_size(network, 500) == 500 and memory.chunk_size(network, 256) == 256


@pytest.mark.parametrize("preset", ["original", "digits"])
def test_the_presets_evaluate_bit_for_bit_as_in_chunks_of_500(raw_mnist, preset):
    session = Session(RunConfig.from_preset(preset, limit=300), raw_mnist)
    test = session.dataset.test
    result = evaluate(session.network, test, session.loss)
    before = session.network.predict(test.x, batch_size=500)          # the chunks every evaluation used
    np.testing.assert_array_equal(result.outputs, before)
    assert result.loss == session.loss.value(test.y, before)
    assert result.accuracy == float(np.mean(before.argmax(axis=1) == test.y.argmax(axis=1)))


def test_the_issues_network_is_evaluated_in_chunks_under_the_budget():
    network = arch.build(arch.parse(ISSUE), 2)
    per_sample = memory.network_values(network) * 8
    assert 15e6 < per_sample < 30e6                                   # ~22 MB: 200 images were 4.4 GB at once
    chunk = memory.chunk_size(network, 500)
    assert 1 <= chunk < 200 and chunk * per_sample <= memory.CHUNK_BYTES


def wide_network():
    return arch.build(arch.parse("conv 64 3x3, sigmoid, dense 2, sigmoid"), 2)   # ~1.1 MB a sample


def test_evaluation_of_a_wide_network_stays_within_its_chunks(monkeypatch, small_dataset):
    network = wide_network()
    split = small_dataset.test                                              # 40 images: 45 MB at once
    whole = network.forward(split.x)
    monkeypatch.setattr(memory, "CHUNK_BYTES", 4 << 20)
    assert memory.chunk_size(network, 500) == 3
    result, peak = peak_of(lambda: evaluate(network, split, loss_for(network)))
    assert peak < 3 * memory.CHUNK_BYTES, peak
    np.testing.assert_allclose(result.outputs, whole, rtol=1e-12, atol=0)


def test_occlusion_of_a_wide_network_stays_within_its_chunks(monkeypatch, small_dataset):
    network = wide_network()
    x = small_dataset.test.x[:1]
    monkeypatch.setattr(memory, "CHUNK_BYTES", 4 << 20)
    result, peak = peak_of(lambda: occlusion(network, x, 0, loss_for(network), patch=5))   # 576 images
    assert peak < 3 * memory.CHUNK_BYTES, peak
    assert result.drops.shape == (24, 24)


@pytest.mark.parametrize("layers", ["conv 1024 1x1, " + "sigmoid, " * 100 + "dense 2",
                                    "conv 1024 3x3, " + "relu, " * 120 + "dense 2"])
def test_a_network_that_cannot_take_one_sample_is_refused_with_the_estimate(layers):
    with pytest.raises(SettingError) as caught:
        RunConfig(architecture=layers).validate()
    assert caught.value.field == "architecture"
    assert str(caught.value).startswith("architecture: one sample's training pass would hold about ")
    assert str(caught.value).endswith("GB (every layer's output and gradient), more than the 500 MB allowed; "
                                      "make the layers fewer or smaller")
    RunConfig(architecture=ISSUE).validate()                               # 45 MB a sample: taken


def test_cnn_train_refuses_it_in_one_line_before_anything_is_made(capsys, tmp_path):
    layers = "conv 1024 1x1, " + "sigmoid, " * 100 + "dense 2, sigmoid"     # longer than a file name may be
    assert cnn_train(["--arch", layers, "--runs", str(tmp_path / "runs"), "--quiet"]) == 2
    line = capsys.readouterr().err.strip()
    assert line.startswith("cnn-train: error: --arch: one sample's training pass would hold about 1.3 GB")
    assert "\n" not in line and not (tmp_path / "runs").exists()
