"""A saturated network's gradients (~1e−9) are right, but central differences of its outputs round to
1e−3..1e−1 relative: the check measures that rounding (differences with h and 2h) and judges the gradient
against it, and still calls a genuinely wrong gradient wrong."""
import pytest

from app.stepthrough.gradient_check import VERDICTS, GradientCheckPanel
from cnn.config import RunConfig
from cnn.dense import Dense
from cnn.gradcheck import check_network_gradients
from cnn.session import Session
from cnn.trace import trace

SAMPLE = 3  # a test image the saturated network is sure of


@pytest.fixture(scope="module")
def saturated(raw_mnist):
    """The original preset trained at learning rate 0.5: its sigmoids saturate and it stays at chance."""
    session = Session(RunConfig.from_preset("original", limit=20, learning_rate=0.5), raw_mnist)
    for _ in session.run(8):
        pass
    return session


def broken_backward(self, output_gradient):
    """Dense's backward with ∂E/∂W 1.5 times too large."""
    result = ORIGINAL_BACKWARD(self, output_gradient)
    self.grads["weights"] = 1.5 * self.grads["weights"]
    return result


ORIGINAL_BACKWARD = Dense.backward


def sample(session):
    return session.dataset.test.x[SAMPLE:SAMPLE + 1], session.dataset.test.y[SAMPLE:SAMPLE + 1]


def test_right_but_tiny_gradients_agree_within_rounding(saturated):
    x, y = sample(saturated)
    checks = check_network_gradients(saturated.network, x, y, saturated.loss, max_entries=100, through_outputs=True)
    assert max(c.relative_error for c in checks.values()) > 1e-3   # what used to be coloured red
    assert all(c.verdict in ("agrees", "rounding") for c in checks.values()), checks


def test_a_wrong_gradient_stays_wrong_on_the_saturated_network(saturated, monkeypatch):
    monkeypatch.setattr(Dense, "backward", broken_backward)
    x, y = sample(saturated)
    checks = check_network_gradients(saturated.network, x, y, saturated.loss, max_entries=100, through_outputs=True)
    assert checks["3.weights"].verdict == "wrong" and checks["5.weights"].verdict == "wrong"
    assert checks["0.kernels"].verdict in ("agrees", "rounding")   # only Dense's weights are broken


def run_panel(qtbot, session):
    panel = GradientCheckPanel()
    qtbot.addWidget(panel)
    x, y = sample(session)
    panel.start(session.network, x, y, session.loss, trace(session.network, x, y, session.loss, session.optimizer))
    qtbot.waitUntil(lambda: panel.table.rowCount() == len(session.network.params), timeout=60000)
    rows = {panel.table.item(r, 0).text(): (panel.table.item(r, 3).text(),
                                             panel.table.item(r, 2).background().color().name())
            for r in range(panel.table.rowCount())}
    return panel, rows


@pytest.mark.slow
def test_the_window_shows_tiny_right_gradients_green_and_says_why(qtbot, saturated):
    panel, rows = run_panel(qtbot, saturated)
    green = VERDICTS["agrees"][1]
    assert all(colour == green for _, colour in rows.values()), rows
    assert any(verdict == "agrees within rounding" for verdict, _ in rows.values())
    assert "Tiny gradients" in panel.note.text()


@pytest.mark.slow
def test_the_window_shows_a_wrong_gradient_red(qtbot, saturated, monkeypatch):
    monkeypatch.setattr(Dense, "backward", broken_backward)
    panel, rows = run_panel(qtbot, saturated)
    assert rows["3.weights"] == ("wrong", VERDICTS["wrong"][1])
    assert rows["5.weights"] == ("wrong", VERDICTS["wrong"][1])
