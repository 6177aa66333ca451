"""Adam: torch's arithmetic, the schedule, a state that continues a run bit for bit, the fast path,
the guard's bound, and the places that name it (CLI, run settings, trace, step-through)."""
import numpy as np
import pytest

from cnn import Adam, SGD, trace
from cnn.checkpoint import load_checkpoint, save_checkpoint
from cnn.config import RunConfig
from cnn.fast import FastStep
from cnn.losses import LOSSES
from cnn.optim import OPTIMIZERS, from_state, make_optimizer
from cnn.presets import digits_network, original_network
from cnn.ranges import CHOICES, MIN_LEARNING_RATE, SettingError
from cnn.step import PlainStep
from cnn.train import EpochRecord, train

BCE, SOFTMAX_CE = LOSSES["binary_cross_entropy"], LOSSES["softmax_cross_entropy"]


@pytest.mark.slow   # importing torch takes seconds
def test_adam_equals_torch_adam_over_twenty_steps_of_a_real_network(small_dataset):
    """Each step's gradient comes from our network at its current weights; torch.optim.Adam gets the same
    gradient for its copy of the weights; after every step the two sets of weights agree to 1e-12."""
    torch = pytest.importorskip("torch")
    network = original_network(seed=7)
    ours = Adam(0.01, beta1=0.8, beta2=0.99, eps=1e-7)
    theirs = {name: torch.tensor(value.copy(), dtype=torch.float64, requires_grad=True)
              for name, value in network.params.items()}
    reference = torch.optim.Adam(list(theirs.values()), lr=0.01, betas=(0.8, 0.99), eps=1e-7)
    start = {name: value.copy() for name, value in network.params.items()}
    for step in range(20):
        x, y = small_dataset.train.x[step:step + 1], small_dataset.train.y[step:step + 1]
        network.backward(BCE.prime(y, network.forward(x)))
        for name, tensor in theirs.items():
            tensor.grad = torch.from_numpy(network.grads[name].copy())
        ours.step(network)
        reference.step()
        for name, tensor in theirs.items():
            np.testing.assert_allclose(network.params[name], tensor.detach().numpy(), rtol=0, atol=1e-12,
                                       err_msg=f"{name} after step {step + 1}")
    assert ours.steps == 20
    moved = max(float(np.abs(network.params[n] - start[n]).max()) for n in start)
    assert moved > 0.05   # twenty steps of about η = 0.01 each: the comparison is not of unchanged weights


def test_adam_first_step_moves_every_weight_by_eta_against_its_gradient_sign():
    """At t = 1, m̂ = g and v̂ = g², so the change is −η g/(|g| + ε): about −η sign(g)."""
    params = {"w": np.array([1.0, -2.0, 3.0])}
    grads = {"w": np.array([0.5, -4.0, 1e-3])}
    optimizer = Adam(0.1)
    optimizer.step(type("Net", (), {"params": params, "grads": grads})())
    np.testing.assert_allclose(params["w"], [1.0 - 0.1, -2.0 + 0.1, 3.0 - 0.1], rtol=0, atol=1e-6)


def test_adam_follows_the_schedule_with_its_floor():
    optimizer = Adam(0.01, lr_decay=0.5)
    optimizer.start_epoch(3)
    assert optimizer.current_learning_rate == 0.0025
    optimizer.start_epoch(100)
    assert optimizer.current_learning_rate == MIN_LEARNING_RATE


def adam_run(build, dataset, loss, epochs, first_epoch=1, network=None, optimizer=None, **settings):
    network = network or build()
    optimizer = optimizer or Adam(0.003, lr_decay=0.7)
    records = [r for r in train(network, dataset, loss, optimizer, epochs, first_epoch=first_epoch, **settings)
               if isinstance(r, EpochRecord)]
    return network, optimizer, records


@pytest.mark.parametrize("build, loss, settings", [
    (lambda: digits_network(2, seed=3, dtype="float64"), SOFTMAX_CE, dict(batch_size=4, seed=5, reshuffle=True,
                                                                          shift=1)),
    (lambda: original_network(seed=2), BCE, dict(batch_size=1)),
])
def test_a_continued_adam_run_equals_the_uninterrupted_one_bit_for_bit(small_dataset, tmp_path, build, loss, settings,
                                                                       continued_run_repeats):
    whole, whole_optimizer, whole_records = adam_run(build, small_dataset, loss, 3, **settings)
    first, first_optimizer, _ = adam_run(build, small_dataset, loss, 1, **settings)
    save_checkpoint(tmp_path / "run.ckpt.npz", first, first_optimizer, epoch=1)
    checkpoint = load_checkpoint(tmp_path / "run.ckpt.npz")
    optimizer = from_state(checkpoint.optimizer_state)   # everything from the file
    assert isinstance(optimizer, Adam) and optimizer.steps == first_optimizer.steps > 0
    _, _, continued = adam_run(build, small_dataset, loss, 2, first_epoch=2, network=checkpoint.network,
                               optimizer=optimizer, **settings)
    continued_run_repeats(continued, whole_records, checkpoint.network, whole, optimizer.second_moment,
                          whole_optimizer.second_moment)
    assert optimizer.steps == whole_optimizer.steps


def test_without_adams_moments_the_continued_run_differs(small_dataset):
    def build():
        return original_network(seed=2)
    whole, _, _ = adam_run(build, small_dataset, BCE, 2, batch_size=1)
    first, _, _ = adam_run(build, small_dataset, BCE, 1, batch_size=1)
    adam_run(build, small_dataset, BCE, 1, first_epoch=2, network=first, batch_size=1)   # fresh moments
    assert not np.array_equal(first.params["3.weights"], whole.params["3.weights"])


def test_adam_state_round_trips_and_refuses_bad_states(rng):
    optimizer = Adam(0.02, 0.85, 0.995, 1e-6, lr_decay=0.9)
    optimizer.start_epoch(3)
    optimizer.steps = 17
    optimizer.first_moment = {"3.weights": rng.standard_normal((2, 5))}
    optimizer.second_moment = {"3.weights": rng.random((2, 5))}
    state = optimizer.state_dict()
    restored = from_state(state)
    again = restored.state_dict()
    assert {k: v for k, v in again.items() if k not in Adam.ARRAYS} == \
        {k: v for k, v in state.items() if k not in Adam.ARRAYS}
    assert np.array_equal(again["first_moment"]["3.weights"], state["first_moment"]["3.weights"])
    state["second_moment"]["3.weights"][0, 0] = 123.0   # a copy
    assert restored.second_moment["3.weights"][0, 0] != 123.0
    for change, message in [({"beta1": 1.0}, "beta1"), ({"eps": 0.0}, "eps"), ({"steps": -1}, "steps"),
                            ({"second_moment": {}}, "same parameters"), ({"learning_rate": 0.0}, "learning_rate")]:
        with pytest.raises(ValueError, match=message):
            restored.load_state_dict({**state, **change})
    assert restored.steps == 17 and restored.beta1 == 0.85


def test_an_sgd_state_from_before_adam_names_no_kind_and_is_sgds():
    state = SGD(0.1, 0.5).state_dict()
    del state["optimizer"]
    assert isinstance(from_state(state), SGD) and from_state(state).momentum == 0.5


def test_the_optimizers_are_the_runs_choices():
    assert tuple(OPTIMIZERS) == CHOICES["optimizer"]
    assert isinstance(make_optimizer("adam", 0.01, momentum=0.9), Adam)
    with pytest.raises(SettingError, match="optimizer must be one of sgd, adam, not 'rmsprop'"):
        RunConfig(optimizer="rmsprop").validate()
    assert RunConfig.from_dict(RunConfig(optimizer="adam").as_dict()).optimizer == "adam"


@pytest.mark.parametrize("build, loss, dtype, batch, tolerance", [
    (original_network, BCE, "float64", 1, 1e-11),
    (digits_network, SOFTMAX_CE, "float64", 4, 1e-11),
])
def test_fast_adam_steps_equal_plain_ones(small_dataset, build, loss, dtype, batch, tolerance):
    plain_network, fast_network = build(2, seed=1, dtype=dtype), build(2, seed=1, dtype=dtype)
    plain, fast = PlainStep(plain_network, loss, Adam(0.01)), FastStep(fast_network, loss, Adam(0.01))
    for start in range(0, 8 * batch, batch):
        x, y = small_dataset.train.x[start:start + batch], small_dataset.train.y[start:start + batch]
        assert fast(x, y).loss == pytest.approx(plain(x, y).loss, rel=tolerance)
    assert fast.optimizer.steps == plain.optimizer.steps == 8
    for name, value in plain_network.params.items():
        np.testing.assert_allclose(fast_network.params[name], value, rtol=tolerance, atol=1e-12)
        assert not np.array_equal(value, build(2, seed=1, dtype=dtype).params[name])


def test_adams_largest_change_bounds_every_change(rng):
    """The fast path's guard relies on it: gradients of wildly changing scale never move a weight further."""
    optimizer = Adam(0.5, beta1=0.9, beta2=0.99)
    params = {"w": np.zeros(1000)}
    worst = 0.0
    for step in range(60):
        bound = optimizer.largest_change()
        grads = {"w": rng.standard_normal(1000) * 10.0 ** rng.integers(-8, 8)}
        change = optimizer.changes(params, grads)["w"]
        worst = max(worst, float(np.abs(change).max()) / bound)
        assert np.abs(change).max() <= bound, step
    assert worst > 0.5   # the bound is not vacuously loose


def test_the_trace_shows_adams_step_exactly(small_dataset):
    network = digits_network(2, seed=4, dtype="float64")
    optimizer = Adam(0.01)
    x, y = small_dataset.train.x[:2], small_dataset.train.y[:2]
    PlainStep(network, SOFTMAX_CE, optimizer)(x, y)   # moments from "training"
    before = {k: v.copy() for k, v in network.params.items()}
    state = optimizer.state_dict()
    t = trace(network, x[:1], y[:1], SOFTMAX_CE, optimizer)
    assert t.adam == (0.9, 0.999, 1e-8, 2)
    assert optimizer.steps == 1    # the trace takes its step on a copy
    assert np.array_equal(optimizer.first_moment["0.kernels"], state["first_moment"]["0.kernels"])
    PlainStep(network, SOFTMAX_CE, optimizer)(x[:1], y[:1])
    for name, value in network.params.items():
        np.testing.assert_array_equal(t.new_params[name], value)
        np.testing.assert_array_equal(before[name] + t.updates[name], value)


def test_the_step_through_shows_adams_formula(small_dataset):
    from app.model.steps import build_steps
    network = original_network(seed=3)
    t = trace(network, small_dataset.test.x[:1], small_dataset.test.y[:1], BCE, Adam(0.001))
    updates = [s for s in build_steps(t, network) if s.phase == "update"]
    assert updates and all("m̂" in s.formula and "β₂" in s.formula for s in updates)
    assert all("One step of Adam" in s.explanation for s in updates)
    sgd = trace(network, small_dataset.test.x[:1], small_dataset.test.y[:1], BCE, SGD(0.1))
    assert not any("m̂" in s.formula for s in build_steps(sgd, network) if s.phase == "update")


def test_cli_trains_with_adam_and_records_it(tmp_path, capsys):
    from cnn.cli import main
    from cnn.runs.runfile import read_info
    assert main(["--optimizer", "adam", "--lr", "0.001", "--epochs", "1", "--limit", "10", "--quiet",
                 "--runs", str(tmp_path / "runs")]) == 0
    folder = next((tmp_path / "runs").iterdir())
    assert read_info(folder).settings.optimizer == "adam"
    with pytest.raises(SystemExit):
        main(["--optimizer", "rmsprop"])
    assert "--optimizer: invalid choice: 'rmsprop'" in capsys.readouterr().err


def test_the_studio_trains_with_adam_when_it_is_chosen_and_records_it(window, qtbot):
    """The settings panel's choice reaches the worker's session, its steps and the run's settings."""
    from cnn.runs.store import RunStore
    window.settings_panel.optimizer.setCurrentText("adam")
    window.settings_panel.learning_rate.setValue(0.001)
    with qtbot.waitSignal(window.training_finished, timeout=60000):
        window.start()
    qtbot.waitUntil(lambda: window.state == "idle", timeout=30000)
    optimizer = window.worker.session.optimizer
    assert isinstance(optimizer, Adam) and optimizer.steps == 40   # 2 epochs of 20 steps
    runs = RunStore(window.runs_dir).list()
    assert [entry.info.settings.optimizer for entry in runs] == ["adam"]
