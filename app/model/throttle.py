"""When the worker may send the views a new frame (records and a snapshot): the redraw throttle.

Drawing holds Python's GIL, which training needs too, so a frame goes out only when
- the views have drawn the previous one (they say so, with how long it took: `drawn`), and
- at least `min_interval` has passed since the last frame (at most ~30 redraws a second), and
- at least `draw_seconds / draw_share` has passed: the views spend at most `draw_share` of the
  time drawing, however slow a redraw is, though never waiting more than MAX_INTERVAL for it (one
  slow frame, a garbage collection or a run's first, held the views still for half a minute).
A slow redraw therefore never floods the GUI's queue or starves training. No Qt here: the caller
passes the clock's reading, so the rule is tested with plain numbers.
"""
from __future__ import annotations

MIN_INTERVAL = 1 / 30       # seconds between two frames, at least
MAX_INTERVAL = 2.0          # and at most, once the views have drawn the last one
DRAW_SHARE = 0.05           # the most of the time the views may spend drawing: on the original network
                            # each tenth cost training a tenth of its speed (benchmarks/studio_overhead.py)


class RedrawThrottle:
    def __init__(self, min_interval: float = MIN_INTERVAL, draw_share: float = DRAW_SHARE):
        if min_interval < 0 or not 0 < draw_share <= 1:
            raise ValueError("min_interval must be ≥ 0 and draw_share in (0, 1]")
        self.min_interval, self.draw_share = min_interval, draw_share
        self.reset()

    def reset(self) -> None:
        """Nothing in flight: the next frame may go at once."""
        self.ready = True               # the views drew the last frame
        self.draw_seconds = 0.0         # how long that took
        self.last_emit: float | None = None

    @property
    def interval(self) -> float:
        """Seconds between frames that the last redraw's cost allows."""
        return min(max(self.min_interval, self.draw_seconds / self.draw_share), MAX_INTERVAL)

    def due(self, now: float) -> bool:
        """Whether a frame may go out at time `now` (seconds, any monotonic clock)."""
        if not self.ready:
            return False
        return self.last_emit is None or now - self.last_emit >= self.interval

    def emitted(self, now: float) -> None:
        """A frame went out at `now`: wait for the views to draw it."""
        self.last_emit, self.ready = now, False

    def drawn(self, draw_seconds: float) -> None:
        """The views drew the last frame in `draw_seconds`."""
        self.ready = True
        self.draw_seconds = max(0.0, float(draw_seconds))
