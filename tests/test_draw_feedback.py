"""What the window answers a frame with (app/studio/draw_feedback.py): its redraw, and the painting and
the rest of the window thread's CPU since the frame before, at most PAINT_FACTOR redraws' worth.
The clocks are faked: the rule is checked with plain numbers."""
from types import SimpleNamespace

import pytest

from app.studio import draw_feedback
from app.studio.draw_feedback import PAINT_FACTOR, DrawFeedback


@pytest.fixture
def clocks(monkeypatch):
    clock = SimpleNamespace(wall=100.0, cpu=5.0)
    monkeypatch.setattr(draw_feedback, "time", SimpleNamespace(perf_counter=lambda: clock.wall,
                                                               thread_time=lambda: clock.cpu))
    return clock


def frame(feedback, clock, redraw: float, cpu_between: float, wall_between: float = 1.0) -> float:
    """One frame `wall_between` s after the last, with `cpu_between` s of the thread's CPU meanwhile; its
    redraw takes `redraw` s. Returns what the window answers."""
    answers = []
    feedback.drawn.connect(answers.append)
    clock.wall += wall_between
    clock.cpu += cpu_between
    feedback.frame_arrived()
    clock.wall += redraw
    clock.cpu += redraw
    feedback._done()          # (what frame_shown's zero timer runs, after the views' redraw)
    feedback.drawn.disconnect(answers.append)
    return answers[0]


def test_the_answer_counts_the_painting_but_never_grows_with_the_wait(qtbot, clocks):
    feedback = DrawFeedback()
    assert frame(feedback, clocks, redraw=0.01, cpu_between=0.0) == pytest.approx(0.01)   # the first: its redraw
    assert frame(feedback, clocks, redraw=0.01, cpu_between=0.02) == pytest.approx(0.02 + 0.01)  # painting counted
    busy = frame(feedback, clocks, redraw=0.01, cpu_between=5.0, wall_between=30.0)   # the window busy meanwhile
    assert busy == pytest.approx(PAINT_FACTOR * 0.01)
    feedback.restart()        # a pause: what came before is not the next frame's
    assert frame(feedback, clocks, redraw=0.02, cpu_between=0.5) == pytest.approx(0.02)
