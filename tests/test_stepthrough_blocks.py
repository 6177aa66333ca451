"""The step-through's steps of the newer blocks (Qt-free): each formula recomputed from the panels it
shows, a strided and padded convolution's hover arithmetic, λ in the update, and a green gradient check."""
import re

import numpy as np
import pytest

from app.model.step_explain import convolution_pixel, kernel_gradient
from app.model.steps import build_steps
from cnn import SGD, trace
from cnn.adam import Adam
from cnn import arch
from cnn.batchnorm import EPS
from cnn.gradcheck import check_network_gradients
from cnn.session import loss_for

BLOCKS = ("conv 8 3x3 stride=2 pad=same, batchnorm, relu, avgpool 2, dropout 0.3, conv 16 3x3 pad=1, relu, "
          "globalavgpool, dense 10")


@pytest.fixture(scope="module")
def sample():
    rng = np.random.default_rng(4)
    x = rng.random((1, 1, 28, 28))
    y = np.zeros((1, 10))
    y[0, 7] = 1
    return x, y


def network_of(text=BLOCKS):
    network = arch.build(arch.parse(text), 10, 2, "float64")
    bn = network.layers[1]
    bn.buffers["running_mean"][:] = np.linspace(-0.2, 0.3, 8)   # running statistics unlike a batch's
    bn.buffers["running_var"][:] = np.linspace(0.5, 2.0, 8)
    return network


def steps_of(network, sample, training, optimizer=None):
    t = trace(network, *sample, loss_for(network), optimizer or SGD(0.1), training=training)
    return t, {(s.phase, s.layer): s for s in build_steps(t, network)}


@pytest.mark.parametrize("training", [True, False])
def test_every_layer_has_a_forward_and_backward_step_saying_its_mode(sample, training):
    network = network_of()
    t, steps = steps_of(network, sample, training)
    for index in range(len(network.layers)):
        assert ("forward", index) in steps and ("backward", index) in steps
    mode = "Training mode" if training else "Evaluation mode"
    for index in (1, 4):   # batchnorm and dropout
        assert mode in steps["forward", index].explanation and mode in steps["backward", index].explanation


def test_dropout_shows_the_mask_that_made_its_output(sample):
    network = network_of()
    t, steps = steps_of(network, sample, True)
    panels = {p.key: p.array for p in steps["forward", 4].panels}
    np.testing.assert_array_equal(panels["X"] * panels["M"], panels["Y"])
    assert 0 < np.count_nonzero(panels["M"]) < panels["M"].size
    back = {p.key: p.array for p in steps["backward", 4].panels}
    np.testing.assert_array_equal(back["dY"] * back["M"], back["dX"])
    _, evaluation = steps_of(network, sample, False)
    assert "M" not in {p.key for p in evaluation["forward", 4].panels}


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_output_follows_from_the_statistics_shown(sample, training):
    network = network_of()
    t, steps = steps_of(network, sample, training)
    p = {panel.key: panel.array for panel in steps["forward", 1].panels}
    x = p["X"]
    expected_mean = x.mean(axis=(1, 2)) if training else network.layers[1].buffers["running_mean"]
    np.testing.assert_array_equal(p["mean"], expected_mean)
    column = (slice(None), None, None)
    y = p["gamma"][column] * (x - p["mean"][column]) / np.sqrt(p["var"][column] + EPS) + p["beta"][column]
    np.testing.assert_allclose(y, p["Y"], rtol=0, atol=1e-12)
    back = {panel.key: panel.array for panel in steps["backward", 1].panels}
    np.testing.assert_allclose(back["dgamma"], (back["dY"] * back["xhat"]).sum(axis=(1, 2)), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(back["dbeta"], back["dY"].sum(axis=(1, 2)), rtol=1e-12, atol=1e-15)


def test_a_dense_batchnorm_on_one_sample_in_training_says_the_gradient_stops(sample):
    network = arch.build(arch.parse("conv 4 3x3, relu, dense 16, batchnorm, relu, dense 10"), 10, 0,
                         "float64")
    _, steps = steps_of(network, sample, True)
    assert "σ² = 0" in steps["forward", 4].explanation
    assert not np.any({p.key: p.array for p in steps["backward", 4].panels}["dX"])


def test_the_pooling_steps_show_their_averages(sample):
    network = network_of()
    _, steps = steps_of(network, sample, False)
    avg = {p.key: p.array for p in steps["forward", 3].panels}
    assert avg["Y"][2, 1, 3] == pytest.approx(avg["X"][2, 2:4, 6:8].mean(), abs=1e-15)
    assert "(1/4)" in steps["forward", 3].formula
    gap = {p.key: p.array for p in steps["forward", 7].panels}
    np.testing.assert_allclose(gap["Y"], gap["X"].mean(axis=(1, 2)), rtol=1e-14)


@pytest.mark.parametrize("pixel", [(0, 0), (0, 13), (13, 13), (6, 9)])
def test_a_strided_padded_convolution_explains_each_output_pixel(sample, pixel):
    network = network_of()
    t, steps = steps_of(network, sample, True)
    conv, layer = network.layers[0], t.layers[0]
    assert conv.stride == 2 and conv.pads == ((0, 1), (0, 1))   # 'same' with stride 2 on 28: one zero after
    assert "stride <i>s</i> = 2" in steps["forward", 0].explanation
    for i in (0, 5):
        explanation = convolution_pixel(layer, "Y", (i, *pixel), conv.stride, conv.pads)
        engine = layer.output[0][i, pixel[0], pixel[1]]
        assert f"the engine computed <code>{engine:+.10g}</code>" in explanation.text
        total = re.search(r"\) = <code>([^<]+)</code>; the engine", explanation.text).group(1)   # Σ products + B
        assert float(total) == pytest.approx(engine, rel=1e-9, abs=1e-12)
        rows, cols = next(o[2:] for o in explanation.outlines if o[0] == "X")
        assert rows.start == 2 * pixel[0] and rows.stop == min(2 * pixel[0] + 3, 28)


@pytest.mark.parametrize("a, b", [(0, 0), (2, 2), (0, 2), (1, 1)])
def test_kernel_gradients_of_strided_and_padded_convolutions_sum_their_region(sample, a, b):
    network = network_of()
    t, _ = steps_of(network, sample, True)
    for index in (0, 5):   # stride 2 with 'same' padding, then stride 1 with pad=1
        conv, layer = network.layers[index], t.layers[index]
        explanation = kernel_gradient(layer, (1, 0, a, b), conv.stride, conv.pads)
        shown = float(explanation.text.split("= <code>")[-1].split("</code>")[0])
        assert shown == pytest.approx(layer.grads["kernels"][1, 0, a, b], rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("optimizer", [SGD(0.1, weight_decay=0.01), SGD(0.1, momentum=0.9, weight_decay=0.01),
                                       Adam(0.01, weight_decay=0.01)])
def test_weight_decay_is_in_the_update_formula_and_its_step(sample, optimizer):
    network = network_of()
    t, steps = steps_of(network, sample, True, optimizer)
    update = steps["update", 8]
    assert "λ" in update.formula and "λ = 0.01" in update.explanation
    panels = {p.key: p.array for p in update.panels}
    if isinstance(optimizer, SGD) and not optimizer.momentum:
        expected = -0.1 * (t.layers[8].grads["weights"] + 0.01 * panels["W"])
        np.testing.assert_allclose(panels["step W"], expected, rtol=1e-13, atol=1e-17)
    np.testing.assert_array_equal(panels["new W"], panels["W"] + panels["step W"])


def test_without_weight_decay_no_lambda_is_shown(sample):
    _, steps = steps_of(network_of(), sample, True)
    assert "λ" not in steps["update", 8].formula


def test_the_gradient_check_of_the_step_shown_is_green_in_both_modes(sample):
    network = network_of()
    for training in (True, False):
        checks = check_network_gradients(network, *sample, loss_for(network), max_entries=60, through_outputs=True,
                                         training=training)
        assert {check.verdict for check in checks.values()} <= {"agrees", "rounding"}, training
