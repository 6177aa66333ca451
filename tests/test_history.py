"""The plots' bounded histories (app/history.py)."""
import numpy as np

from app.model.history import History


def test_history_stays_bounded_by_averaging_older_points_in_pairs():
    history = History(capacity=8)
    for i in range(1, 21):
        history.append(float(i), float(10 * i))
    # 8 points at stride 1 (1..8), halved to 4 at stride 2 ((1+2)/2, ...), then 4 more pairs
    # (9..16), halved again to 4 at stride 4; 17..20 are one more mean of four.
    x, y = history.data()
    assert history.stride == 4 and history.count == 5
    np.testing.assert_array_equal(x, [2.5, 6.5, 10.5, 14.5, 18.5])
    np.testing.assert_array_equal(y, 10 * x)
    history.append(21.0, 210.0)
    assert history.count == 5  # a partial group waits until it has `stride` points
    history.clear()
    assert history.count == 0 and history.stride == 1
