"""The redraw throttle's rule, with plain numbers for the clock (no Qt, no waiting)."""
import pytest

from app.model.state import RunState
from app.model.throttle import RedrawThrottle


def test_the_first_frame_goes_at_once():
    assert RedrawThrottle().due(now=123.0)


def test_no_second_frame_until_the_views_have_drawn_the_first():
    throttle = RedrawThrottle(min_interval=0.03, draw_share=0.1)
    throttle.emitted(now=0.0)
    assert not throttle.due(now=100.0)          # however long it has been
    throttle.drawn(draw_seconds=0.001)
    assert throttle.due(now=100.0)


def test_at_most_one_frame_per_min_interval():
    throttle = RedrawThrottle(min_interval=0.25, draw_share=1.0)   # binary fractions: exact arithmetic
    throttle.emitted(now=10.0)
    throttle.drawn(draw_seconds=0.0)
    assert not throttle.due(now=10.125)
    assert throttle.due(now=10.25)


def test_a_slow_redraw_spreads_the_frames_to_keep_its_share():
    throttle = RedrawThrottle(min_interval=0.03, draw_share=0.1)
    throttle.emitted(now=0.0)
    throttle.drawn(draw_seconds=0.2)            # a 200 ms redraw → at most one frame every 2 s
    assert throttle.interval == pytest.approx(2.0)
    assert not throttle.due(now=1.99)
    assert throttle.due(now=2.0)
    throttle.emitted(now=2.0)
    throttle.drawn(draw_seconds=0.001)          # a cheap one → back to the minimum interval
    assert throttle.interval == pytest.approx(0.03)
    assert not throttle.due(now=2.02) and throttle.due(now=2.031)


def test_one_slow_frame_holds_the_views_still_for_max_interval_at_most():
    """A frame that took long (a collection, a run's first) spaced the next by its cost over the share: 0.6 s
    at a twentieth, 12 s of views standing still. They wait MAX_INTERVAL at most."""
    from app.model.throttle import MAX_INTERVAL
    throttle = RedrawThrottle(min_interval=0.03, draw_share=0.05)
    throttle.emitted(now=0.0)
    throttle.drawn(draw_seconds=0.6)
    assert throttle.interval == MAX_INTERVAL == 2.0
    assert not throttle.due(now=1.99) and throttle.due(now=2.0)


def test_reset_forgets_a_frame_in_flight():
    throttle = RedrawThrottle()
    throttle.emitted(now=5.0)
    throttle.reset()
    assert throttle.ready and throttle.due(now=5.0)


@pytest.mark.parametrize("min_interval, draw_share", [(-1, 0.1), (0.03, 0), (0.03, 1.5)])
def test_nonsense_parameters_are_refused(min_interval, draw_share):
    with pytest.raises(ValueError):
        RedrawThrottle(min_interval, draw_share)


def test_states_are_an_enum_with_words_for_the_status_bar():
    assert [s.value for s in RunState] == ["idle", "running", "paused"]
    assert RunState("paused") is RunState.PAUSED and RunState.PAUSED.label == "Paused"
