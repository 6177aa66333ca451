"""What the studio model does with a run, a weights file, a bad setting and the step-through's Apply,
driven with no Qt at all. These were asserted by opening the whole window (tests/test_studio.py,
tests/test_stepthrough.py): each test names the GUI test whose model assertions it now carries."""
import shutil

import numpy as np
import pytest

from tests.conftest import bad_weights_file, checkpoints_fail_from

from cnn import weights_file
from cnn.config import RunConfig
from cnn.network import Network
from cnn.presets import original_network
from cnn.runs.runfile import read_info
from cnn.train import EpochRecord, StepRecord

from app.model.events import Recorder
from app.model.snapshot import StepRequest
from app.model.state import RunState
from app.model.studio import Studio

CONFIG = RunConfig(limit=10, epochs=2)      # 20 training images: 20 steps an epoch (the `window` fixture's)
LONG = CONFIG.with_changes(epochs=10000)    # a run no test here trains to its end


def configured(tmp_path=None, config=CONFIG, **kwargs):
    events = Recorder()
    studio = Studio(runs_dir=tmp_path, emit=events, **kwargs)
    studio.slice_seconds = 0.0      # one record a tick
    studio.command("configure", config)
    return studio, events


def run_out(studio):
    while studio.tick():
        studio.command("views_drawn", 0.0)


def steps_of(events):
    return [r.global_step for frame in events.of("records") for r in frame if isinstance(r, StepRecord)]


def params_of(studio):
    return {name: value.copy() for name, value in studio.session.network.params.items()}


def assert_params(studio, expected):
    assert set(studio.session.network.params) == set(expected)
    for name, value in expected.items():
        np.testing.assert_array_equal(studio.session.network.params[name], value, err_msg=name)


# -- tests/test_studio.py ---------------------------------------------------------------------------------
def test_an_epochs_end_sends_its_test_predictions():
    """test_a_full_run_delivers_every_record_in_order: the thumbnails' predictions are the last epoch's."""
    studio, events = configured()
    studio.command("start", CONFIG)
    run_out(studio)
    last = [r for frame in events.of("records") for r in frame if isinstance(r, EpochRecord)][-1]
    classes = np.asarray(studio.session.dataset.classes)
    np.testing.assert_array_equal(events.last("test_predictions"), classes[last.test_predictions])


def test_stop_ends_a_run_before_its_end_with_no_step_lost_or_repeated():
    """test_pause_resume_stop: the run stopped did not end (epochs_done < planned, steps < planned)."""
    studio, events = configured()
    studio.command("start", LONG)
    for _ in range(4):
        studio.tick()
    studio.command("pause")
    studio.command("resume")
    for _ in range(4):
        studio.tick()
    studio.command("stop")
    assert studio.state is RunState.IDLE and events.last("message") == "Training stopped."
    assert steps_of(events) == list(range(1, 9)) and studio.session.epochs_done == 0
    assert events.of("finished") == []


def test_a_learning_rate_set_while_running_reaches_the_optimizer():
    """test_learning_rate_change_reaches_the_running_optimizer (test_studio.py); test_studio_controls.py keeps
    the typing reaching the model."""
    studio, _ = configured()
    studio.command("start", LONG)
    studio.tick()
    studio.command("set_learning_rate", 0.0123)
    assert studio.session.optimizer.learning_rate == 0.0123
    studio.tick()
    assert studio.session.optimizer.learning_rate == 0.0123 and studio.state is RunState.RUNNING


def test_choosing_a_sample_sends_its_image_and_label():
    """test_choosing_a_sample_redraws_its_maps: the image and label shown are the data set's."""
    studio, events = configured()
    studio.command("select_sample", "train", 7)
    snapshot = events.last("snapshot")
    assert (snapshot.split, snapshot.index) == ("train", 7)
    model = events.last("model_changed")
    np.testing.assert_array_equal(model.images["train"][7], studio.session.dataset.train.x[7, 0])
    assert int(model.labels["train"][7]) == int(studio.session.dataset.train.labels[7])


def test_opening_a_weights_file_shows_its_network(tmp_path):
    """test_opening_weights_updates_the_kernels: every parameter of the file is the session's."""
    network = original_network(seed=99)
    network.params["0.kernels"][...] = np.arange(45).reshape(5, 1, 3, 3) / 10
    path = tmp_path / "w.npz"
    weights_file.save(network, path)
    studio, events = configured()
    studio.command("load_weights", str(path))
    assert_params(studio, network.params)
    assert events.last("loaded") == str(path) and events.last("model_changed").source == str(path)
    assert events.last("message").startswith(f"Loaded weights from {path}: test accuracy ")


@pytest.mark.parametrize("content, message", [
    (b"this is not a weights file", "not a weights file (not a zip archive)"),
    (None, "not a readable weights archive (a truncated or damaged zip: its directory is missing)"),   # cut short
])
def test_a_bad_weights_file_is_a_message_and_leaves_the_weights_alone(tmp_path, content, message):
    """test_a_bad_weights_file_shows_an_error_and_keeps_the_model, test_bad_weights_files_of_every_kind_leave_the_
    model_alone: the session's network and every one of its parameters are as they were."""
    path = bad_weights_file(tmp_path / "bad.npz", content)
    studio, events = configured()
    network, before = studio.session.network, params_of(studio)
    studio.command("load_weights", str(path))
    assert events.last("failed").startswith(f"{path}: ") and message in events.last("failed")
    assert studio.session.network is network and events.of("loaded") == []
    assert_params(studio, before)


def test_saved_weights_are_the_sessions(tmp_path):
    """test_save_weights_from_the_window: the file holds every parameter of the session's network."""
    studio, events = configured()
    path = tmp_path / "saved.npz"
    studio.command("save_weights", str(path))
    assert events.last("saved") == str(path)
    loaded = weights_file.load(path)
    for name, value in studio.session.network.params.items():
        np.testing.assert_array_equal(loaded.params[name], value, err_msg=name)


def test_ending_for_a_quit_ends_the_run_where_it_is(tmp_path):
    """test_closing_during_training_ends_the_run_and_joins_the_thread: the run is ended, not trained out."""
    studio, events = configured(tmp_path)
    studio.command("start", LONG)
    for _ in range(6):
        studio.tick()
    studio.command("end_for_quit")
    assert studio.state is RunState.IDLE and events.last("quit_ready") == ""    # recorded: nothing is lost
    assert studio.session.epochs_done == 0 and studio.session.progress.step == 6
    assert studio.tick() is False


def test_divergence_stops_at_its_step_keeps_the_weights_before_it_and_training_goes_on(poisoned_image):
    """test_divergence_is_reported_and_training_can_continue: the weights after a divergence are finite
    and are six steps on; a fresh network on clean data trains to its end."""
    one = CONFIG.with_changes(epochs=1)
    studio, events = configured(config=one)
    assert np.isnan(studio.session.dataset.train.x).any()
    before = params_of(studio)
    studio.command("start", one)
    run_out(studio)
    assert "training diverged at epoch 1, step 7: the loss is nan" in events.last("failed")
    assert studio.state is RunState.IDLE and events.of("finished") == []
    after = studio.session.network.params
    assert all(np.isfinite(p).all() for p in after.values())
    assert any(not np.array_equal(before[k], after[k]) for k in before)     # six steps were taken
    poisoned_image()     # heal: clean data from here on
    again = one.with_changes(learning_rate=0.05)
    studio.command("configure", again)
    assert not np.isnan(studio.session.dataset.train.x).any()
    studio.command("start", again)
    run_out(studio)
    assert len(events.of("finished")) == 1 and studio.session.epochs_done == 1


def test_a_class_missing_from_the_data_is_a_message_and_the_session_is_kept(tmp_path, raw_mnist):
    """test_a_class_missing_from_the_data_is_reported_and_the_model_kept: the session is the one before."""
    keep = raw_mnist["y_train"] != 9
    data = tmp_path / "no-nines.npz"
    np.savez(data, x_train=raw_mnist["x_train"][keep], y_train=raw_mnist["y_train"][keep],
             x_test=raw_mnist["x_test"], y_test=raw_mnist["y_test"])
    studio, events = configured(data_path=str(data))
    session = studio.session
    studio.command("configure", CONFIG.with_changes(classes=(0, 1, 9)))
    assert "no-nines.npz (train): class 9 has no images" in events.last("failed")
    assert studio.session is session


# -- tests/test_stepthrough.py: the step-through's Apply ---------------------------------------------------
def engine_copy(session) -> Network:
    network = Network.from_architecture(session.network.architecture(), session.network.dtype.name)
    network.set_params(session.network.params)
    return network


def by_hand(session, network, x, y, velocity=None):
    """θ − η ∂E/∂θ, or with momentum θ + μv − η ∂E/∂θ, in numpy beside the engine's optimizer."""
    network.backward(session.loss.prime(y, network.forward(x)))
    lr, momentum = session.optimizer.current_learning_rate, session.optimizer.momentum
    if not momentum:
        return {name: p - lr * network.grads[name] for name, p in network.params.items()}
    steps = {name: momentum * velocity[name] - lr * network.grads[name] for name in network.params}
    return {name: p + steps[name] for name, p in network.params.items()}, steps


def apply(studio, events, params=None, version=None):
    studio.command("send_weights")
    weights = events.last("weights")
    session = studio.session
    x, y = session.dataset.test.x[3:4], session.dataset.test.y[3:4]
    request = StepRequest(dict(weights.params) if params is None else params, x, y)
    studio.command("apply_weights", weights.version if version is None else version, request)
    return x, y


def test_applying_the_update_takes_one_engine_step_and_moves_the_loss():
    """test_applying_the_update_takes_one_engine_step_and_moves_the_loss: the session's weights are θ − η ∂E/∂θ
    and the sample's loss went down; the step-through gets the new weights."""
    studio, events = configured()
    session = studio.session
    x, y = session.dataset.test.x[3:4], session.dataset.test.y[3:4]
    expected_network = engine_copy(session)
    loss_before = session.loss.value(y, expected_network.forward(x))
    expected = by_hand(session, expected_network, x, y)
    version = studio.version
    apply(studio, events)
    assert_params(studio, expected)
    assert session.loss.value(y, session.network.forward(x)) < loss_before
    assert studio.version == version + 1 and events.last("weights").version == studio.version
    assert_params(studio, events.last("weights").params)


def test_with_momentum_the_update_uses_and_moves_the_optimizers_velocity():
    """test_with_momentum_the_update_uses_and_moves_the_optimizers_velocity: weights and velocity by hand."""
    studio, events = configured()
    session = studio.session
    session.optimizer.momentum = 0.9
    session.optimizer.velocity = {name: np.full_like(p, 1e-3) for name, p in session.network.params.items()}
    x, y = session.dataset.test.x[3:4], session.dataset.test.y[3:4]
    expected, velocity = by_hand(session, engine_copy(session), x, y, session.optimizer.velocity)
    apply(studio, events)
    assert_params(studio, expected)
    for name, value in velocity.items():
        np.testing.assert_array_equal(session.optimizer.velocity[name], value, err_msg=name)


def test_the_step_throughs_copy_and_its_edits_never_change_the_session():
    """test_editing_a_kernel_recomputes_at_once_and_closing_changes_nothing: edits made to the copy (then the
    step-through closed, nothing applied) leave the session's weights as they were."""
    studio, events = configured()
    before = params_of(studio)
    studio.command("send_weights")
    copy = {name: value.copy() for name, value in events.last("weights").params.items()}
    copy["0.kernels"][2, 0, 1, 1] = 2.5
    assert_params(studio, before)
    studio.command("send_weights")          # the step-through opened again: the model's weights, unedited
    assert_params(studio, events.last("weights").params)


def test_an_update_from_old_weights_is_refused():
    """test_an_update_from_old_weights_is_refused: the weights are as they were; the current ones are sent."""
    studio, events = configured()
    before = params_of(studio)
    studio.command("send_weights")
    old = events.last("weights").version - 1
    apply(studio, events, params={k: v + 1 for k, v in before.items()}, version=old)
    assert "not applied" in events.last("failed")
    assert_params(studio, before)
    assert events.last("weights").version == studio.version


def test_an_applied_update_says_what_it_did_to_the_test_accuracy():
    """test_an_applied_update_says_what_it_did_to_the_test_accuracy_and_stays_with_its_sample: the accuracies
    sent are the test set's before and after, as the network predicts it."""
    studio, events = configured()
    session = studio.session

    def accuracy():
        return np.mean(engine_copy(session).predict(session.dataset.test.x).argmax(axis=1)
                       == session.dataset.test.y.argmax(axis=1))
    before = accuracy()
    apply(studio, events)
    assert events.last("update_applied") == pytest.approx((before, accuracy()))
    assert "test accuracy" in events.last("message") and "→" in events.last("message")


def test_the_step_through_asking_while_training_pauses_and_gets_the_weights_of_now():
    """test_training_makes_the_window_stale_and_a_pause_reloads_it: the weights read after training are the
    session's as they are at the pause."""
    studio, events = configured()
    studio.command("start", LONG)
    for _ in range(3):
        studio.tick()
    studio.command("send_weights")
    assert studio.state is RunState.PAUSED
    weights = events.last("weights")
    assert weights.version == studio.version
    assert_params(studio, weights.params)


# -- tests/test_runs_studio.py -----------------------------------------------------------------------------
def recorded_run(tmp_path):
    studio, events = configured(tmp_path / "runs")
    studio.command("start", CONFIG)
    run_out(studio)
    return studio.runs.folder


def test_an_opened_run_has_its_checkpoints_weights(tmp_path):
    """test_a_run_is_recorded_listed_reopened_and_overlaid: the weights shown are the checkpoint's."""
    from cnn.checkpoint import load_checkpoint
    from cnn.runs.store import LAST
    folder = recorded_run(tmp_path)
    studio, events = configured()
    studio.command("open_run", str(folder))
    assert studio.runs.folder == folder and "run “" in events.last("model_changed").source
    assert_params(studio, load_checkpoint(folder / LAST).network.params)


def test_a_run_continued_in_the_studio_repeats_a_run_never_interrupted(tmp_path, raw_mnist, monkeypatch):
    """test_a_cnn_train_run_opens_and_continues_exactly_in_the_studio: a cnn-train run of two epochs, opened
    and continued for one, has the weights of a three-epoch run never interrupted."""
    import cnn.cli
    from cnn.cli import main as cnn_train
    from cnn.runs.runfile import read_info
    from cnn.runs.store import RunStore
    monkeypatch.setattr(cnn.cli, "load_mnist", lambda path=None: raw_mnist)
    runs = tmp_path / "runs"
    assert cnn_train(["--epochs", "2", "--limit", "10", "--quiet", "--runs", str(runs)]) == 0
    assert cnn_train(["--epochs", "3", "--limit", "10", "--quiet", "--save", str(tmp_path / "straight.npz")]) == 0
    [entry] = RunStore(runs).list()
    studio, events = configured(runs)
    studio.command("continue_run", str(entry.path), 1)
    assert studio.runs.folder == entry.path and studio.state is RunState.RUNNING
    run_out(studio)
    assert_params(studio, weights_file.load(tmp_path / "straight.npz").params)
    assert read_info(entry.path).status == "finished" and read_info(entry.path).epochs_done == 3


def test_a_run_whose_checkpoint_cannot_be_loaded_leaves_the_session_alone(tmp_path):
    """test_damaged_run_folders_are_listed_with_their_reasons: opening a damaged checkpoint keeps the session."""
    from cnn.runs.store import LAST
    folder = recorded_run(tmp_path)
    params = weights_file.load(folder / LAST).params                 # a zip whose directory reads, arrays do not
    np.savez(folder / LAST, **{"__header__": np.frombuffer(b"{}", dtype=np.uint8), **params})
    studio, events = configured()
    session = studio.session
    studio.command("open_run", str(folder))
    assert events.last("failed").startswith(f"{folder}: the checkpoint last.npz cannot be loaded")
    assert studio.session is session and studio.runs.folder is None


def test_a_runs_folder_that_cannot_be_written_is_said_and_training_goes_on(tmp_path):
    """test_a_runs_folder_that_cannot_be_written_is_said_and_training_goes_on: the run trains its epoch."""
    blocked = tmp_path / "a file, not a folder"
    blocked.write_text("x")
    one = CONFIG.with_changes(epochs=1)
    studio, events = configured(blocked, config=one)
    studio.command("start", one)
    assert events.last("failed").startswith(f"This run is not recorded: {blocked}: ")
    run_out(studio)
    assert studio.session.epochs_done == 1 and len(events.of("finished")) == 1
    assert blocked.read_text() == "x"


def run_out_epoch_by_epoch(studio, monkeypatch, then=lambda recorder, record: None):
    """run_out, each epoch's files written before the next record is taken (at which a failed write is
    raised), and then(recorder, record) called after each."""
    from cnn.runs.recorder import RunRecorder
    add = RunRecorder.add

    def add_and_wait(recorder, record):
        add(recorder, record)
        if isinstance(record, EpochRecord):
            recorder._writes._jobs.join()
            then(recorder, record)
    monkeypatch.setattr(RunRecorder, "add", add_and_wait)
    run_out(studio)


def test_a_checkpoint_that_cannot_be_written_stops_training_and_counts_the_steps_since_the_last_good_one(
        tmp_path, monkeypatch):
    """The recorder writes an epoch's files on a thread of its own: when epoch 2's checkpoint fails, the
    training stops at the next record, says so naming the file once, and what would be lost counts from
    epoch 1's checkpoint, not from epoch 2's end."""
    config = CONFIG.with_changes(epochs=3)
    studio, events = configured(tmp_path, config=config)
    studio.command("start", config)
    session = studio.session
    checkpoints_fail_from(session, 2)
    run_out_epoch_by_epoch(studio, monkeypatch)
    folder = studio.runs.folder
    assert events.last("failed") == (f"Training stopped: the run could not be recorded: {folder}: No space left on "
                                     "device. Its last checkpoint is kept.")
    assert session.epochs_done == 2 and studio.state is RunState.IDLE
    kept = events.last("kept")
    assert kept.at_risk and kept.steps == 21    # epoch 2's 20 steps and one of epoch 3: epoch 1's is the last
    assert read_info(folder).epochs_done == 1


def test_a_run_folder_deleted_while_training_stops_it_and_says_nothing_is_kept(tmp_path, monkeypatch):
    """The folder removed by hand after epoch 1: epoch 2's files cannot be written, and the message does not
    claim a checkpoint that went with the folder."""
    config = CONFIG.with_changes(epochs=3)
    studio, events = configured(tmp_path, config=config)
    studio.command("start", config)
    run_out_epoch_by_epoch(studio, monkeypatch, lambda recorder, record: record.epoch == 1
                           and shutil.rmtree(recorder.folder))
    folder = studio.runs.folder
    message = events.last("failed")
    assert message.startswith("Training stopped: the run could not be recorded: ")
    assert message.endswith(f"No checkpoint is left in {folder}.") and "is kept" not in message
    assert studio.state is RunState.IDLE and not folder.exists()


def test_start_after_the_runs_folder_was_deleted_says_a_new_run_records_it(tmp_path):
    one, two = CONFIG.with_changes(epochs=1), CONFIG.with_changes(epochs=2)
    studio, events = configured(tmp_path, config=one)
    studio.command("start", one)
    run_out(studio)
    gone = studio.runs.folder
    shutil.rmtree(gone)
    studio.command("start", two)
    new = studio.runs.folder
    assert new is not None and new.exists() and studio.session.epochs_done == 1
    assert events.last("message") == (f"The run's folder {gone} is gone or damaged: the training goes on as a new "
                                      f"run, {new.name}, from epoch 2.")
    run_out(studio)
    assert read_info(new).epochs_done == 2

# -- tests/test_your_digit.py --------------------------------------------------------------------------------
def test_your_image_is_read_by_the_network_and_followed_through_training():
    """test_the_network_sees_the_drawing_and_every_view_follows, test_your_digit_follows_the_weights_through_
    training_and_stop: its snapshot's prediction is the network's, before training and after a stop."""
    from app.model.my_samples import ImageSample
    studio, events = configured()
    digit = np.zeros((28, 28))
    digit[4:24, 12:16] = 1.0
    studio.command("select_image", ImageSample("drawing", -1, digit))
    session = studio.session

    def predicted():
        return session.dataset.classes[int(np.argmax(session.network.forward(digit[None, None])))]
    snapshot = events.last("image_snapshot")
    np.testing.assert_array_equal(snapshot.image, digit)
    assert snapshot.split == "drawing" and snapshot.predicted == predicted()
    studio.command("start", LONG)
    for _ in range(25):
        studio.tick()
        studio.command("views_drawn", 0.0)
    studio.command("select_sample", "test", 2)      # an MNIST image chosen: your image is still followed
    studio.command("stop")
    assert events.last("image_snapshot").predicted == predicted()
    np.testing.assert_array_equal(events.last("image_snapshot").image, digit)
    probabilities = session.loss.probabilities(session.network.forward(digit[None, None]))[0]
    np.testing.assert_array_equal(events.last("image_snapshot").probabilities, probabilities)


def test_a_stop_within_an_epoch_evaluates_the_weights_it_leaves():
    """test_a_stop_within_an_epoch_evaluates_the_weights_it_leaves: the last evaluation sent is of the weights
    the stop left (epoch None), not of the last epoch's end."""
    from cnn.evaluation import evaluate
    studio, events = configured()
    studio.command("start", LONG)
    for _ in range(25):             # an epoch's end (20 steps), then 5 steps into the next
        studio.tick()
    studio.command("stop")
    shown, epoch = events.last("evaluated")
    assert epoch is None
    session = studio.session
    expected = evaluate(session.network, session.dataset.test, session.loss)
    classes = np.asarray(session.dataset.classes)
    np.testing.assert_array_equal(classes[shown.predicted], classes[expected.predictions])
