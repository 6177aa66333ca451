"""The studio model with no Qt at all: commands by the one route, its states and its events, the
back-pressure, runs recorded, and refusals that leave it as it was."""
import shutil
import subprocess
import sys

import pytest

from cnn.config import RunConfig
from cnn.train import EpochRecord, StepRecord

from app.model.events import EVENTS, Recorder
from app.model.studio import Studio
from app.model.state import RunState

CONFIG = RunConfig(limit=10, epochs=2)      # 20 training images: 20 steps an epoch


def studio_with(tmp_path=None, **kwargs):
    events = Recorder()
    studio = Studio(runs_dir=tmp_path, emit=events, **kwargs)
    studio.slice_seconds = 0.0      # one record a tick, whatever the machine's speed
    return studio, events


def run_out(studio, answer_frames=True):
    while studio.tick():
        if answer_frames:
            studio.command("views_drawn", 0.0)


def test_the_model_imports_no_qt():
    code = ("import sys, app.model.studio, app.model.events; "
            "print([m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_run_goes_idle_running_idle_and_sends_every_record_in_order():
    studio, events = studio_with()
    studio.command("configure", CONFIG)
    assert studio.session is not None and events.last("model_changed") is not None
    studio.command("start", CONFIG)
    assert studio.state is RunState.RUNNING
    run_out(studio)
    assert studio.state is RunState.IDLE
    assert events.of("state_changed") == [RunState.RUNNING, RunState.IDLE]
    assert events.of("run_started") == [(0, 2)]
    records = [r for frame in events.of("records") for r in frame]
    assert [r.global_step for r in records if isinstance(r, StepRecord)] == list(range(1, 41))
    assert [r.epoch for r in records if isinstance(r, EpochRecord)] == [1, 2]
    assert len(events.of("finished")) == 1 and studio.session.epochs_done == 2


def test_without_an_answer_from_the_views_records_wait_and_are_never_dropped():
    studio, events = studio_with()
    studio.command("configure", CONFIG)
    studio.command("start", CONFIG)
    run_out(studio, answer_frames=False)
    assert len(events.of("records")) == 2          # the first frame, then the rest forced out at the end
    steps = [r.global_step for frame in events.of("records") for r in frame if isinstance(r, StepRecord)]
    assert steps == list(range(1, 41))


def test_a_running_training_makes_snapshots_only_for_a_workspace_that_draws_them():
    """A snapshot is a forward and backward pass on the training thread: while training runs, frames in
    Train, Results or Runs carry none (a `frame` ends them); a turn to Inspect or Your digit sends one at
    once and every frame has one again; a pause or the run's end sends one wherever the window is."""
    studio, events = studio_with()
    studio.throttle.min_interval = 0.0     # a frame at every tick the views answered
    studio.command("configure", CONFIG)
    assert studio.workspace == "train"
    before = len(events.of("snapshot"))
    studio.command("start", CONFIG)
    for _ in range(5):
        studio.tick()
        studio.command("views_drawn", 0.0)
    assert len(events.of("snapshot")) == before and len(events.of("frame")) == 5
    studio.command("select_workspace", "inspect")
    assert len(events.of("snapshot")) == before + 1
    snapshot = events.of("snapshot")[-1]
    assert (snapshot.split, snapshot.index) == ("test", 0)
    for _ in range(3):
        studio.tick()
        studio.command("views_drawn", 0.0)
    assert len(events.of("snapshot")) == before + 4 and len(events.of("frame")) == 5
    studio.command("select_workspace", "results")
    studio.tick()
    studio.command("views_drawn", 0.0)
    assert len(events.of("snapshot")) == before + 4 and len(events.of("frame")) == 6
    studio.command("pause")
    assert len(events.of("snapshot")) == before + 5      # paused: the views show where it stopped
    studio.command("resume")
    run_out(studio)
    assert studio.state is RunState.IDLE
    assert len(events.of("snapshot")) == before + 6      # the end's


def test_pause_holds_the_run_and_resume_goes_on_exactly():
    studio, events = studio_with()
    studio.command("configure", CONFIG)
    studio.command("start", CONFIG)
    assert studio.tick() is True          # one step
    studio.command("pause")
    assert studio.state is RunState.PAUSED
    held = studio.session.network.params["0.kernels"].copy()
    assert studio.tick() is False                     # paused: a tick trains nothing
    assert (studio.session.network.params["0.kernels"] == held).all()
    studio.command("resume")
    run_out(studio)
    steps = [r.global_step for frame in events.of("records") for r in frame if isinstance(r, StepRecord)]
    assert steps == list(range(1, 41))
    assert events.of("state_changed") == [RunState.RUNNING, RunState.PAUSED, RunState.RUNNING, RunState.IDLE]


def test_a_bad_command_value_is_a_message_and_changes_nothing(tmp_path):
    studio, events = studio_with()
    studio.command("configure", CONFIG)
    network = studio.session.network
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a weights file")
    studio.command("load_weights", str(bad))
    assert studio.session.network is network
    assert str(bad) in events.last("failed")


def test_every_command_has_a_name_and_an_unknown_one_is_refused():
    studio, _ = studio_with()
    assert {"configure", "start", "pause", "resume", "stop", "load_weights", "open_run",
            "select_sample", "select_image"} <= set(studio.commands)
    with pytest.raises(KeyError):
        studio.command("launch_rockets")
    with pytest.raises(KeyError):
        Recorder()("not_an_event")
    assert set(EVENTS) >= {"records", "snapshot", "state_changed", "failed"}


def test_choosing_a_sample_sends_its_snapshot():
    studio, events = studio_with()
    studio.command("configure", CONFIG)
    studio.command("select_sample", "train", 3)
    snapshot = events.last("snapshot")
    assert (snapshot.split, snapshot.index) == ("train", 3)


def test_a_recorded_run_is_a_folder_with_its_epochs(tmp_path):
    studio, events = studio_with(tmp_path)
    studio.command("configure", CONFIG)
    studio.command("start", CONFIG)
    run_out(studio)
    folder = studio.runs.folder
    assert folder is not None and folder.parent == tmp_path and (folder / "run.json").is_file()
    assert events.last("current_run") == str(folder)
    fresh, fresh_events = studio_with(tmp_path)
    fresh.command("open_run", str(folder))
    assert fresh.session.epochs_done == 2 and fresh.runs.folder == folder
    assert fresh_events.last("run_opened").epochs == 2


def test_the_step_throughs_network_is_the_studios_and_its_sample_is_one_hot():
    import numpy as np

    from app.model.step_sample import edited, rebuild, step_sample
    from app.model.my_samples import ImageSample
    studio, events = studio_with()
    studio.command("configure", CONFIG)
    studio.command("send_weights")
    weights, model = events.last("weights"), events.last("model_changed")
    rebuilt = rebuild(weights)
    x = studio.session.dataset.test.x[:5]
    assert np.array_equal(rebuilt.network.forward(x), studio.session.network.forward(x))
    assert type(rebuilt.loss) is type(studio.session.loss) and not edited(rebuilt.network, weights)
    chosen = step_sample(rebuilt.network, model, ("test", 7))
    assert chosen.title == "test image #7" and chosen.label_picked
    assert chosen.y.tolist() == [[1.0 if c == chosen.label else 0.0 for c in model.classes]]
    assert chosen.label == int(model.labels["test"][7])
    own = ImageSample("mine.png", 1, np.zeros((28, 28)))
    unlabelled = step_sample(rebuilt.network, model, own)
    predicted = model.classes[int(np.argmax(rebuilt.network.forward(unlabelled.x)[0]))]
    assert not unlabelled.label_picked and unlabelled.label == predicted
    rebuilt.network.params["0.kernels"][0, 0, 0, 0] += 1
    assert edited(rebuilt.network, weights)


def test_the_model_owns_the_chosen_layer_and_keeps_it_for_the_same_layers():
    studio, events = studio_with()
    studio.command("configure", CONFIG)
    assert events.of("layer_chosen") == [0]                 # the original network's first convolution
    studio.command("select_layer", 3)
    studio.command("select_layer", 99)                       # no such layer: nothing changes
    assert studio.layer == 3 and events.of("layer_chosen") == [0, 3]
    studio.command("configure", CONFIG.with_changes(seed=5))   # the same layers: the same one
    assert studio.layer == 3 and events.last("layer_chosen") == 3
    digits = RunConfig.from_preset("digits", limit=10, batch_size=8)
    studio.command("configure", digits)                      # other layers: the first convolution again
    assert studio.layer == 0 and events.last("layer_chosen") == 0


def test_the_model_knows_the_workspace_shown():
    studio, events = studio_with()
    assert studio.workspace == "train" and studio.moment is None     # the weights of now
    studio.command("select_workspace", "results")
    studio.command("select_workspace", "results")                     # already there: said once
    studio.command("select_workspace", "nowhere")
    assert studio.workspace == "results" and events.of("workspace_chosen") == ["results"]


def interrupted_run(tmp_path, epoch, step):
    """A run of CONFIG closed (end_for_quit) right after step `step` of `epoch`: its folder."""
    studio, _ = studio_with(tmp_path)
    studio.command("configure", CONFIG)
    studio.command("start", CONFIG)
    while (studio.session.epochs_done, studio.session.progress.step) != (epoch - 1, step):
        assert studio.tick()
    studio.command("end_for_quit")
    return studio.runs.folder


def test_reopening_the_studio_shows_the_run_it_closed_on_and_start_goes_on_in_its_folder(tmp_path):
    folder = interrupted_run(tmp_path, 2, 5)
    studio, events = studio_with(tmp_path)
    studio.command("reopen", str(folder), CONFIG.with_changes(learning_rate=0.5))   # the settings' own: not used
    info = events.last("model_changed")
    assert studio.runs.folder == folder and events.of("failed") == []
    assert (info.trained, info.steps_per_epoch, info.epochs_planned) == ((1, 5), 20, 2)
    assert events.last("history").last_x == 1 + 5 / 20           # the interrupted epoch's steps are drawn
    studio.command("start", events.last("run_opened"))          # Start with the run's settings, as the panel shows
    assert events.last("run_started") == (1, 2) and studio.runs.folder == folder
    run_out(studio)
    assert events.last("finished") is not None and [p for p in tmp_path.iterdir() if p.is_dir()] == [folder]


@pytest.mark.parametrize("damage", ["gone", "damaged"])
def test_a_run_that_cannot_be_reopened_gives_a_fresh_network_and_one_note(tmp_path, damage):
    folder = interrupted_run(tmp_path, 1, 3)
    if damage == "gone":
        shutil.rmtree(folder)
    else:
        (folder / "run.json").write_text("{")
    studio, events = studio_with(tmp_path)
    studio.command("reopen", str(folder), CONFIG)
    assert studio.session is not None and studio.runs.folder is None and events.of("failed") == []
    assert events.last("model_changed").source == "new network (seed 0)"
    [note] = events.of("message")
    assert note.startswith("The run shown when the studio closed is not opened again: ") and str(folder) in note


def test_where_a_network_stands_in_words():
    from app.model.model_info import trained_after, trained_text
    from app.model.progress import ProgressTracker
    steps = [StepRecord(1, s, 20, s, 1, 0.5, {}) for s in (1, 2)]
    assert trained_after(steps, (0, 0)) == (0, 2)
    assert trained_text((0, 212)) == "trained 212 steps" and trained_text((1, 212)) == "trained 1 epoch and 212 steps"
    assert trained_text((2, 0)) == "trained 2 epochs" and trained_text((0, 0)) == ""
    progress = ProgressTracker()
    progress.stand((1, 188), 469, 2)
    assert progress.text(live=False, stopped=True) == "epoch 2/2 · step 188/469 · stopped"
    progress.stand((2, 0), 469, 2)
    assert progress.text(live=False, stopped=True) == "epoch 2/2 · step 469/469 · done"
    progress.stand((0, 0), 469, 2)
    assert progress.text(live=False, stopped=True) == "ready"


def test_a_run_is_named_for_loaded_weights_or_a_custom_network(tmp_path):
    """Runs from loaded weights, from a network of your own and from a preset were all called like
    'original lr 0.1 seed 0': the list could not tell them apart."""
    from cnn import weights_file
    from cnn.runs.runfile import read_info
    studio, _ = studio_with(tmp_path / "runs")
    studio.command("configure", CONFIG)
    weights_file.save(studio.session.network, tmp_path / "w1.npz")
    studio.command("load_weights", str(tmp_path / "w1.npz"))
    studio.command("start", CONFIG.with_changes(epochs=1))
    run_out(studio)
    assert read_info(studio.runs.folder).name == "from w1.npz lr 0.1"
    custom = CONFIG.with_changes(epochs=1, learning_rate=0.05,
                                 architecture="conv 4 5x5, relu, maxpool 2, dense 2")
    studio.command("configure", custom)
    studio.command("start", custom)
    run_out(studio)
    assert read_info(studio.runs.folder).name == "custom network lr 0.05 seed 0"
    studio.command("configure", CONFIG)
    studio.command("start", CONFIG.with_changes(epochs=1))
    run_out(studio)
    assert read_info(studio.runs.folder).name == "original lr 0.1 seed 0"


def test_the_time_left_after_a_start_inside_an_epoch_counts_only_this_starts_steps():
    """Stopped at step 300 of 469 and started again: the time left was under half the real one (the 300
    steps before the Start were counted as this Start's, at no samples each)."""
    from cnn.train import StepRecord

    from app.model.progress import ProgressTracker
    now = [0.0]
    tracker = ProgressTracker(clock=lambda: now[0])
    tracker.start_run(8, 0)
    for step in range(301, 401):            # 100 steps of 128 samples, 1,280 samples a second
        now[0] = (step - 300) / 10
        tracker.add([StepRecord(1, step, 469, step, 128, 0.5, {})])
    left = (8 * 469 - 400) * 128 / 1280    # every remaining step at the measured rate
    assert abs(tracker.seconds_left() - left) < 0.02 * left


def test_the_model_says_whether_the_training_of_the_network_shown_is_kept(tmp_path):
    """What a new network in its place would lose (app/model/keeping.py): training with no run recorded is kept
    nowhere until saved; a recorded run holds it in its checkpoints while it records and in its last one once
    stopped; a step-through update after it is kept nowhere, one step; a new network has nothing to lose."""
    from pathlib import Path

    from cnn.runs.runfile import read_info

    from app.model.keeping import Kept
    from app.model.snapshot import StepRequest
    one_epoch = CONFIG.with_changes(epochs=1)
    studio, events = studio_with()                       # no runs folder: nothing is recorded
    studio.command("configure", one_epoch)
    assert events.last("kept") == Kept() and not Kept().at_risk
    studio.command("start", one_epoch)
    run_out(studio)
    assert events.last("kept") == Kept(steps=20) and events.last("kept").at_risk
    assert events.last("kept").question().startswith("The network shown has taken 20 training steps since it")
    studio.command("save_weights", str(tmp_path / "kept.npz"))
    assert events.last("kept") == Kept(file=str(tmp_path / "kept.npz")) and not events.last("kept").at_risk
    assert events.last("kept").note() == f"A new network for the changed settings; the weights saved last stay in " \
                                         f"{tmp_path / 'kept.npz'}."
    studio.command("configure", CONFIG)
    assert events.last("kept") == Kept()

    recorded, events = studio_with(tmp_path / "runs")
    recorded.command("configure", CONFIG)
    recorded.command("start", CONFIG)
    name = read_info(Path(events.last("current_run"))).name
    assert events.last("kept") == Kept(run=name, recording=True)   # its first checkpoint, and it records the rest
    for _ in range(7):                                   # one record a tick: a stop after 7 steps of the first epoch
        recorded.tick()
    recorded.flush(force=True)                           # a frame: the window hears of the steps
    assert events.last("kept") == Kept(steps=7, run=name, recording=True) and not events.last("kept").at_risk
    recorded.command("stop")
    assert events.last("kept") == Kept(run=name) and not events.last("kept").at_risk
    assert events.last("kept").note() == (f"A new network for the changed settings; the run “{name}” stays in the "
                                          "Runs panel (Ctrl+5: Open or Continue goes on with it).")
    recorded.command("send_weights")
    session = recorded.session
    request = StepRequest(dict(events.last("weights").params), session.dataset.test.x[3:4],
                          session.dataset.test.y[3:4])
    recorded.command("apply_weights", events.last("weights").version, request)
    assert events.last("kept") == Kept(steps=1, run=name) and events.last("kept").at_risk   # a step no run records
    assert events.last("kept").question().startswith(
        "The network shown has taken 1 training step since its weights were last saved or recorded, and that step "
        "is kept nowhere.")
    recorded.command("open_run", events.last("current_run"))   # an opened run's network is its checkpoint's
    assert events.last("kept") == Kept(run=name) and not events.last("kept").at_risk
    assert f"the run “{name}” stays in the Runs panel" in events.last("kept").note()


def test_start_after_a_finished_run_says_it_trains_as_many_epochs_again(tmp_path):
    studio, events = studio_with(tmp_path)
    studio.command("configure", CONFIG)
    studio.command("start", CONFIG)
    run_out(studio)
    assert studio.session.epochs_done == 2 and not any("planned epoch" in m for m in events.of("message"))
    studio.command("start", CONFIG)
    assert events.last("message") == ("The network had trained its 2 planned epochs: Start trains 2 more, 4 in all "
                                      "(Epochs is the run's total).")
    run_out(studio)
    assert studio.session.epochs_done == 4


def test_a_file_is_checked_before_the_question_and_its_network_is_the_one_loaded(tmp_path):
    """check_weights reads the file before the window asks about training kept nowhere: an unreadable file is
    refused then (no `readable`); a readable one's network is loaded as read, unless the file changed since."""
    import numpy as np

    from cnn import weights_file
    studio, events = studio_with()
    studio.command("configure", CONFIG)
    path = tmp_path / "w.npz"
    weights_file.save(studio.session.network, path)
    (tmp_path / "bad.npz").write_bytes(b"PK not a zip")
    studio.command("check_weights", str(tmp_path / "bad.npz"))
    assert events.of("readable") == [] and events.last("failed").startswith(f"{tmp_path / 'bad.npz'}: ")
    studio.command("check_weights", str(path))
    assert events.last("readable") == str(path)
    other = Studio(emit=Recorder())
    other.command("configure", CONFIG.with_changes(seed=1))
    weights_file.save(other.session.network, path)     # changed after the check: the load reads it again
    studio.command("load_weights", str(path))
    assert events.last("loaded") == str(path)
    for name, value in other.session.network.params.items():
        assert np.array_equal(studio.session.network.params[name], value), name
