"""Time travel in the studio model (no Qt): the run's moments offered, a moment chosen shows its weights in
every view for the chosen sample while training goes on live, Live comes back, the weights over time."""
import shutil

import numpy as np
import pytest

from cnn import weights_file
from cnn.config import RunConfig
from cnn.evaluation import results_of
from cnn.runs.moments import list_moments
from cnn.train import evaluate

from app.model.events import Recorder
from app.model.snapshot import take_snapshot
from app.model.studio import Studio
from app.model.timeline import PERCENTILES
from app.model.state import RunState

CONFIG = RunConfig(limit=10, epochs=2)      # 20 training images: 20 steps an epoch


@pytest.fixture(autouse=True)
def bundled_mnist_read_once(raw_mnist, monkeypatch):
    """Each studio here would read the bundled MNIST (half a second); it is read once."""
    import app.model.studio
    monkeypatch.setattr(app.model.studio, "load_mnist", lambda path=None: raw_mnist)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A run of two epochs recorded by the studio model, once for the module."""
    root = tmp_path_factory.mktemp("runs")
    studio = Studio(runs_dir=root)
    studio.slice_seconds = 0.0
    studio.command("configure", CONFIG)
    studio.command("start", CONFIG)
    while studio.tick():
        studio.command("views_drawn", 0.0)
    return studio.runs.folder


@pytest.fixture
def trained(recorded, tmp_path):
    """A studio showing a copy of the recorded run (a test may train it on), its moments listed."""
    folder = tmp_path / recorded.name
    shutil.copytree(recorded, folder)
    events = Recorder()
    studio = Studio(runs_dir=tmp_path, emit=events)
    studio.slice_seconds = 0.0
    studio.command("open_run", str(folder))
    studio.command("list_moments")
    assert studio.runs.folder == folder
    return studio, events


def moment_session(studio, step):
    """What the views of the moment must be computed from, made here from the moment's file."""
    [moment] = [m for m in list_moments(studio.runs.folder)[0] if m.step == step]
    session = studio.session
    shown = type(session).__new__(type(session))
    shown.__dict__.update(session.__dict__, network=weights_file.load(moment.path))
    return shown


def kernels(snapshot):
    """The first convolution's kernels as the snapshot holds them."""
    return snapshot.layers[0].params["kernels"]


def test_the_runs_moments_are_offered(trained):
    studio, events = trained
    offered = events.last("moments")
    assert offered.folder == str(studio.runs.folder)
    assert list(offered.steps) == [m.step for m in list_moments(studio.runs.folder)[0]]
    assert offered.steps[0] == 0 and offered.steps[-1] == 40 and offered.positions[-1] == 2


def test_a_chosen_moment_is_what_every_view_shows_for_the_chosen_sample(trained):
    studio, events = trained
    studio.command("select_sample", "test", 3)
    studio.command("moment", 4)
    assert studio.moment == 4 and events.last("moment_chosen") == (4, 4 / 20)
    expected = take_snapshot(moment_session(studio, 4), "test", 3, studio.layers)
    shown = events.last("snapshot")
    assert shown.index == 3 and np.array_equal(shown.probabilities, expected.probabilities)
    for ours, theirs in zip(shown.layers, expected.layers, strict=True):
        assert np.array_equal(ours.output, theirs.output) and np.array_equal(ours.output_gradient,
                                                                             theirs.output_gradient)
        assert all(np.array_equal(ours.params[k], theirs.params[k]) for k in theirs.params)
    live = studio.session.network.params["0.kernels"]
    assert not np.array_equal(kernels(shown), live)      # not the weights of now
    session = moment_session(studio, 4)
    evaluation = evaluate(session.network, session.dataset.test, session.loss)
    before = len(events.of("evaluated"))
    studio.command("select_workspace", "results")      # the test set's results wait for their workspace
    assert studio.workspace == "results" and len(events.of("evaluated")) == before + 1
    results, _ = events.last("evaluated")
    expected_results = results_of("test", session.dataset.test, session.dataset.classes, session.loss,
                                  evaluation.outputs)
    assert np.array_equal(results.predicted, expected_results.predicted)      # the confusion matrix and galleries
    studio.command("moment", 8)
    assert len(events.of("evaluated")) == before + 2            # shown: they follow each moment
    studio.command("select_workspace", "inspect")
    studio.command("moment", 4)
    assert len(events.of("evaluated")) == before + 3            # kept: sent at once
    studio.command("moment", 2)
    assert len(events.of("evaluated")) == before + 3            # not kept, not shown: not computed


def test_live_goes_back_to_the_weights_of_now(trained):
    studio, events = trained
    studio.command("moment", 0)
    studio.command("moment", None)
    assert studio.moment is None and events.last("moment_chosen") == (None, None)
    shown = events.last("snapshot")
    assert np.array_equal(kernels(shown), studio.session.network.params["0.kernels"])


def test_training_goes_on_live_while_a_moment_is_shown(trained):
    studio, events = trained
    studio.command("moment", 0)
    config = CONFIG.with_changes(epochs=3)
    studio.command("start", config)
    assert studio.state is RunState.RUNNING
    before = studio.session.network.params["0.kernels"].copy()
    for _ in range(5):
        studio.tick()
        studio.command("views_drawn", 0.0)
    studio.flush(force=True)
    assert not np.array_equal(studio.session.network.params["0.kernels"], before)     # it trains
    first = weights_file.load(list_moments(studio.runs.folder)[0][0].path).params["0.kernels"]
    assert np.array_equal(kernels(events.last("snapshot")), first)   # the views stay at 0
    studio.command("moment", None)
    assert np.array_equal(kernels(events.last("snapshot")),
                          studio.session.network.params["0.kernels"])
    studio.command("stop")


def test_no_such_moment_is_one_line_and_changes_nothing(trained):
    studio, events = trained
    studio.command("moment", 17)
    assert studio.moment is None
    assert events.last("failed").startswith("No moment at step 17; the moments are at steps 0, 1, 2, 4,")


def test_a_network_no_run_recorded_says_it_has_no_moments_in_words():
    """'No moment at step 0; the moments are at steps none' read like a bug (a lesson's Show me, runs unrecorded)."""
    events = Recorder()
    studio = Studio(emit=events)                       # no runs folder: nothing is recorded
    studio.command("configure", RunConfig(limit=5, epochs=1))
    studio.command("moment", 0)
    assert studio.moment is None
    assert events.last("failed").startswith("This network has no moments to go back to: they are kept by a "
                                            "recorded run")


def test_the_weights_over_time(trained):
    studio, events = trained
    studio.command("select_sample", "test", 5)
    studio.command("over_time")
    over = events.last("over_time")
    moments = list_moments(studio.runs.folder)[0]
    assert over.steps == tuple(m.step for m in moments) and over.sample == "test 5"
    for i, moment in enumerate(moments):
        network = weights_file.load(moment.path)
        for name, value in network.params.items():
            assert np.array_equal(over.bands[name][i], np.percentile(value, PERCENTILES))
        x = studio.session.dataset.test.x[5:6]
        assert np.array_equal(over.probabilities[i], studio.session.loss.probabilities(network.predict(x))[0])
    assert over.bands["0.kernels"].shape == (len(moments), len(PERCENTILES))
    assert over.label == int(studio.session.dataset.test.labels[5])
    # reading the moments' files is said while it lasts; while a run trains its progress stays in the status bar
    assert events.of("busy") == [f"Reading the run's {len(moments)} moments…", ""]
    studio.command("start", CONFIG.with_changes(epochs=3))
    assert studio.state is RunState.RUNNING
    studio.command("over_time")
    assert len(events.of("busy")) == 2 and len(events.of("over_time")) == 2


def test_a_moment_loaded_as_weights_offers_its_runs_moments(trained):
    studio, _ = trained
    folder = studio.runs.folder
    events = Recorder()
    other = Studio(emit=events)
    other.command("load_weights", f"{folder}@epoch1")
    assert events.of("failed") == []
    moment = weights_file.load(f"{folder}@20")
    assert np.array_equal(other.session.network.params["0.kernels"], moment.params["0.kernels"])
    other.command("list_moments")
    assert events.last("moments").steps[-1] == 40
    other.command("moment", 0)
    assert np.array_equal(kernels(events.last("snapshot")), weights_file.load(f"{folder}@0").params["0.kernels"])


def test_another_network_goes_live_and_leaves_no_moments_drawn(trained):
    studio, events = trained
    studio.command("moment", 4)
    studio.command("configure", CONFIG.with_changes(seed=3))     # a fresh network: no run yet, no moments
    assert studio.moment is None and events.last("moment_chosen") == (None, None)
    studio.command("list_moments")
    studio.command("over_time")
    assert events.last("moments").steps == () and events.last("over_time").steps == ()
    assert events.last("over_time").probabilities.shape == (0, 2)


def test_a_stops_moment_shown_goes_live_when_the_run_goes_on_without_it(trained):
    studio, events = trained
    config = CONFIG.with_changes(epochs=3)
    studio.command("start", config)
    for _ in range(5):
        studio.tick()
    studio.command("stop")                               # inside epoch 3: a moment where it stopped
    studio.command("list_moments")
    stop = events.last("moments").steps[-1]
    assert stop % 20 != 0
    studio.command("moment", stop)
    assert studio.moment == stop
    studio.command("start", config)                      # goes on: that stop's moment is taken away
    studio.command("list_moments")
    assert stop not in events.last("moments").steps
    assert studio.moment is None and events.last("moment_chosen") == (None, None)
    studio.command("stop")
