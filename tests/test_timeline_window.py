"""The timeline in the window (slow: the whole studio): after a run, its moments on the slider; the keys
step through them and the kernels drawn are the moment's; Live comes back; the loss plot marks the moment;
the weights over time are drawn; the current view's animation is saved as a GIF."""
import numpy as np
import pytest
from PySide6.QtCore import Qt

from cnn import weights_file
from cnn.runs.moments import list_moments


def kernels_drawn(window):
    return window.weights_view.main.cells.cells.reshape(5, 3, 3)


@pytest.fixture
def trained(window, qtbot):
    with qtbot.waitSignal(window.training_finished, timeout=60000):
        window.start()
    qtbot.waitUntil(lambda: window.state == "idle", timeout=30000)
    folder = window.worker.run_folder
    steps = tuple(m.step for m in list_moments(folder)[0])
    qtbot.waitUntil(lambda: window.timeline.steps == steps, timeout=10000)
    return window, folder, steps


def test_keys_step_through_the_moments_and_the_kernels_follow(trained, qtbot):
    window, folder, steps = trained
    bar = window.timeline
    assert steps[0] == 0 and steps[-1] == 40 and bar.shown is None and bar.slider.isEnabled()
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key_Home)
    qtbot.waitUntil(lambda: bar.shown == 0, timeout=10000)
    first = weights_file.load(f"{folder}@0").params["0.kernels"][:, 0]
    qtbot.waitUntil(lambda: np.array_equal(kernels_drawn(window), first), timeout=10000)
    qtbot.keyClick(window, Qt.Key_BracketRight)
    qtbot.waitUntil(lambda: bar.shown == steps[1], timeout=10000)
    at_one = weights_file.load(f"{folder}@1").params["0.kernels"][:, 0]
    qtbot.waitUntil(lambda: np.array_equal(kernels_drawn(window), at_one),
                    timeout=10000)
    assert "step 1 · epoch 0.05" in bar.label.text()
    assert "binary cross entropy), shown as it was at step 1 (epoch 0.05); click" in window.model_label.text()
    loss_marker = window.moment_markers[0][1]
    assert loss_marker.isVisible() and loss_marker.value() == pytest.approx(1 / 20)
    qtbot.keyClick(window, Qt.Key_End)
    qtbot.waitUntil(lambda: bar.shown == 40, timeout=10000)
    bar.live.click()
    qtbot.waitUntil(lambda: bar.shown is None and not loss_marker.isVisible(), timeout=10000)
    assert "shown as it was" not in window.model_label.text()
    live = window.worker.session.network.params["0.kernels"][:, 0]
    qtbot.waitUntil(lambda: np.array_equal(kernels_drawn(window), live), timeout=10000)


def test_the_timeline_writes_a_step_as_the_captions_do_and_its_buttons_stay_put(window, qtbot):
    bar = window.timeline
    bar.show_moments((0, 4000, 12000), (0.0, 20.0, 60.0), (None, 0.995, 0.9975))
    bar.chosen(None, None)
    qtbot.waitUntil(lambda: bar.isVisible() and bar.label.text() == "live · 3 moments")
    bar.layout().activate()
    forward = bar.forward.x()
    bar.chosen(12000, 60.0)
    assert bar.label.text().startswith("step 12,000 · epoch 60.00 · ")   # as "shown as it was at step 12,000"
    bar.layout().activate()
    assert bar.forward.x() == forward    # a longer label takes no room from the slider: ▶ does not jump


def test_the_weights_over_time_are_drawn(trained, qtbot):
    window, folder, steps = trained
    window.tabs.setCurrentWidget(window.over_time_view)
    qtbot.waitUntil(lambda: window.over_time_view.data is not None, timeout=20000)
    data = window.over_time_view.data
    assert data.steps == steps and data.probabilities.shape == (len(steps), 2)
    assert window.over_time_view.parameter.currentText() == "0.kernels"


def test_the_animation_is_saved_as_a_gif(trained, qtbot, tmp_path):
    from PIL import Image
    window, folder, steps = trained
    path = tmp_path / "moments.gif"
    with qtbot.waitSignal(window.timeline.gif_written, timeout=60000):
        window.timeline.export_gif(path)
    with Image.open(path) as gif:
        assert gif.n_frames == len(steps)
    qtbot.waitUntil(lambda: window.timeline.shown is None, timeout=10000)    # back to where it was: live


@pytest.mark.slow
def test_cnn_studio_draws_a_moment_and_names_a_missing_one(tmp_path):
    """`cnn-studio --load RUN@STEP --screenshot P --exit-when-done`: the window at that moment, its label
    saying so; a moment that is not there is one line naming it, exit 1."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from cnn.runs.store import RunStore
    root = Path(__file__).resolve().parent.parent
    environment = {**os.environ, "PYTHONPATH": str(root), "QT_QPA_PLATFORM": "offscreen"}
    subprocess.run([sys.executable, "-m", "cnn", "--epochs", "1", "--limit", "10", "--quiet", "--runs",
                    str(tmp_path / "runs")], check=True, env=environment, capture_output=True)
    [entry] = RunStore(tmp_path / "runs").list()

    def studio(spec):
        return subprocess.run([sys.executable, "-m", "app", "--runs", str(tmp_path / "runs"), "--load", spec,
                               "--exit-when-done", "--screenshot", str(tmp_path / "shot.png"), "--settings",
                               str(tmp_path / "s.ini")], env=environment, capture_output=True, text=True, timeout=300)
    result = studio(f"{entry.path}@4")
    assert result.returncode == 0, result.stderr
    from PySide6.QtGui import QImage
    assert QImage(str(tmp_path / "shot.png")).width() == 1600
    result = studio(f"{entry.path}@5")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(f"cnn-studio: {entry.path}@5: no moment at step 5; the "
                                                             "moments are at steps 0, 1, 2, 4, 8, 16, 20")


def test_the_results_say_which_moment_they_are_of(trained, qtbot):
    """The confusion matrix's caption names the moment the timeline shows, not 'the current weights'."""
    window, folder, steps = trained
    window.show_workspace("results")
    caption = window.results_view.caption
    window.activateWindow()
    for key, words in ((Qt.Key_Home, "Test set</b> at the moment shown, the run's start:"),
                       (Qt.Key_BracketRight, "Test set</b> at the moment shown, step 1 (epoch 0.05):"),
                       (Qt.Key_End, "Test set</b> at the moment shown, after epoch 2:")):
        qtbot.keyClick(window, key)
        qtbot.waitUntil(lambda words=words: words in caption.text(), timeout=20000)
    window.timeline.live.click()
    qtbot.waitUntil(lambda: "Test set</b> with the current weights:" in caption.text(), timeout=20000)


def test_keys_pressed_faster_than_the_views_draw_add_up_and_live_puts_the_slider_at_the_end(trained, qtbot):
    window, folder, steps = trained
    bar = window.timeline
    window.show_workspace("results")    # each moment's test results are computed: the views lag the keys
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key_Home)
    qtbot.waitUntil(lambda: bar.shown == 0 and not bar.waiting, timeout=20000)
    for _ in range(4):
        qtbot.keyClick(window, Qt.Key_BracketRight)    # no wait between them
    qtbot.waitUntil(lambda: bar.shown == steps[4], timeout=20000)
    qtbot.keyClick(window, Qt.Key_L)
    qtbot.waitUntil(lambda: bar.shown is None, timeout=20000)
    assert bar.slider.value() == len(steps) - 1 and bar.label.text() == f"live · {len(steps)} moments"


def test_the_misclassified_count_is_never_another_moments(trained, qtbot):
    """Predictions computed at one moment (Results) are not counted at another shown elsewhere; asked for
    there, they are that moment's own."""
    from cnn.evaluation import evaluate
    window, folder, steps = trained
    bar, picker = window.timeline, window.sample_picker
    window.show_workspace("results")
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key_Home)
    qtbot.waitUntil(lambda: bar.shown == 0 and picker.wrong("test") is not None, timeout=20000)
    window.show_workspace("train")
    qtbot.keyClick(window, Qt.Key_End)
    qtbot.waitUntil(lambda: bar.shown == steps[-1], timeout=20000)
    window.show_workspace("inspect")
    qtbot.waitUntil(lambda: picker.next_wrong.text() == "Find misclassified", timeout=20000)
    session = window.worker.session
    expected = evaluate(weights_file.load(f"{folder}@{steps[-1]}"), session.dataset.test, session.loss)
    wrong = int(np.sum(expected.predictions != session.dataset.test.labels))
    picker.next_wrong.click()
    qtbot.waitUntil(lambda: picker.wrong("test") is not None, timeout=20000)
    assert picker.wrong("test").size == wrong



def test_a_moment_opened_as_a_weights_file_keeps_its_own_misclassified_count(trained, qtbot):
    """RUN@STEP opened: the network is the moment's, and so are the test predictions its loading sent."""
    from cnn.evaluation import evaluate
    window, folder, steps = trained
    picker = window.sample_picker
    spec = f"{folder}@{steps[1]}"
    window.open_weights(spec)
    qtbot.waitUntil(lambda: window.timeline.shown == steps[1], timeout=20000)
    session = window.worker.session
    expected = evaluate(weights_file.load(spec), session.dataset.test, session.loss)
    qtbot.waitUntil(lambda: picker.wrong("test") is not None, timeout=20000)
    assert picker.wrong("test").size == int(np.sum(expected.predictions != session.dataset.test.labels))


def test_the_arrows_lead_somewhere_and_live_is_pressed_exactly_while_live(trained, qtbot):
    """◀ stayed enabled at the first moment and ▶ at the last, and Live was not pressed at live after a run
    (a review's finding)."""
    window, folder, steps = trained
    bar = window.timeline
    assert bar.shown is None and bar.live.isChecked() and bar.back.isEnabled() and not bar.forward.isEnabled()
    bar.go_to(0)
    qtbot.waitUntil(lambda: bar.shown == steps[0], timeout=10000)
    assert not bar.back.isEnabled() and bar.forward.isEnabled() and not bar.live.isChecked()
    bar.go_to(len(steps) - 1)
    qtbot.waitUntil(lambda: bar.shown == steps[-1], timeout=10000)
    assert bar.back.isEnabled() and not bar.forward.isEnabled() and not bar.live.isChecked()
    window.reset()
    qtbot.waitUntil(lambda: bar.label.text() == "no moments yet", timeout=20000)
    assert bar.live.isChecked() and not bar.back.isEnabled() and not bar.forward.isEnabled()
