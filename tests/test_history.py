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


def test_extend_is_append_in_turn_across_the_halvings():
    rng = np.random.default_rng(5)
    one_by_one, in_chunks = History(capacity=8), History(capacity=8)
    values = rng.normal(size=(2, 61))
    start = 0
    for size in (3, 5, 0, 1, 9, 2, 17, 24):    # chunks that fit, fill, and cross the halvings
        xs, ys = values[:, start:start + size]
        for x, y in zip(xs, ys, strict=True):
            one_by_one.append(float(x), float(y))
        in_chunks.extend(xs, ys)
        start += size
        assert (in_chunks.count, in_chunks.stride) == (one_by_one.count, one_by_one.stride)
        for got, expected in zip(in_chunks.data(), one_by_one.data(), strict=True):
            np.testing.assert_array_equal(got, expected)


def test_run_curves_take_a_frame_of_steps_as_the_plots_show_them():
    from cnn.train import EpochRecord, StepRecord

    from app.model.run_curves import RunCurves
    losses = [0.5, 0.0, float("nan"), 0.25, 0.125]           # a log axis shows neither 0 nor nan
    norms = [{"0.k": 1.0, "0.b": 0.0}, {"0.k": 2.0, "0.b": 3.0}, {"0.k": float("inf"), "0.b": 4.0},
             {"0.k": 0.5}, {"0.k": 0.25, "0.b": 5.0}]
    steps = [StepRecord(1, i + 1, 4, i + 1, 1, loss, n) for i, (loss, n) in enumerate(zip(losses, norms, strict=True))]
    steps[4] = StepRecord(2, 1, 4, 5, 1, losses[4], norms[4])
    curves = RunCurves()
    curves.add([*steps[:4], EpochRecord(1, 2, 0.3, 0.4, 0.9, 1.0, np.zeros(1, int)), steps[4]])
    x, y = curves.steps.data()
    np.testing.assert_array_equal(x, [0.25, 1.0, 1.25])
    np.testing.assert_array_equal(y, [0.5, 0.25, 0.125])
    np.testing.assert_array_equal(curves.averages.data()[1], [0.5, 0.375, 0.875 / 3])
    np.testing.assert_array_equal(curves.norms["0.k"].data()[0], [0.25, 0.5, 1.0, 1.25])
    np.testing.assert_array_equal(curves.norms["0.b"].data()[1], [3.0, 4.0, 5.0])
    assert curves.epochs == [(1.0, 0.3, 0.4, 90.0)] and curves.last_x == 1.25
