"""The studio's words and curves for runs (Qt-free): settings summaries, legend labels that name only
what differs, and a run's curves read back bounded."""
from types import MappingProxyType

import numpy as np

from app.model.run_curves import RunCurves, read_curves
from app.model.run_labels import differing_labels, summary
from cnn.config import RunConfig
from cnn.runs.metrics import MetricsWriter
from cnn.train import EpochRecord, StepRecord


def test_summary_names_the_preset_rate_batch_and_what_departs_from_the_preset():
    assert summary(RunConfig()) == "original · lr 0.1 · batch 1"
    assert summary(RunConfig(limit=None, momentum=0.9, seed=3)) == \
        "original · lr 0.1 · batch 1 · all images · momentum 0.9 · seed 3"
    assert summary(RunConfig.from_preset("digits")) == "digits · lr 0.08 · batch 128 · shift ±1 px"


def test_legend_labels_name_only_the_settings_that_differ():
    a, b, c = RunConfig(), RunConfig(learning_rate=0.5), RunConfig(learning_rate=0.5, batch_size=4)
    assert differing_labels([a, b], ["x", "y"]) == ["lr 0.1", "lr 0.5"]
    assert differing_labels([a, b, c], ["x", "y", "z"]) == ["lr 0.1 · batch 1", "lr 0.5 · batch 1", "lr 0.5 · batch 4"]
    assert differing_labels([a, a.with_changes(epochs=40)], ["first", "longer"]) == ["first", "longer"]
    assert differing_labels([a, a, b], ["p", "q", "r"]) == ["p (lr 0.1)", "q (lr 0.1)", "r (lr 0.5)"]


def records(epochs, steps_per_epoch):
    for e in range(1, epochs + 1):
        for s in range(1, steps_per_epoch + 1):
            loss = 1.0 / ((e - 1) * steps_per_epoch + s)
            yield StepRecord(e, s, steps_per_epoch, (e - 1) * steps_per_epoch + s, 1, loss,
                             MappingProxyType({"0.kernels": 2 * loss}))
        yield EpochRecord(e, epochs, 0.5 / e, 0.6 / e, 0.1 * e, 1.0, np.zeros(0, dtype=np.int64))


def test_a_runs_curves_read_back_equal_the_live_ones_and_stay_bounded(tmp_path):
    writer = MetricsWriter(tmp_path / "metrics.jsonl")
    for record in records(5, 300):
        writer.add_step(record) if isinstance(record, StepRecord) else writer.add_epoch(record)
    writer.close()
    live = RunCurves(capacity=256)
    live.add(list(records(5, 300)))
    read = read_curves(tmp_path, capacity=256)
    assert read.steps.count <= 256 and read.steps.stride > 1          # 1,500 steps in at most 256 points
    for a, b in ((live.steps, read.steps), (live.averages, read.averages), (live.norms["0.kernels"],
                                                                            read.norms["0.kernels"])):
        np.testing.assert_array_equal(a.data()[0], b.data()[0])
        np.testing.assert_array_equal(a.data()[1], b.data()[1])
    assert read.epochs == live.epochs and read.epochs_done == 5
    partial = read_curves(tmp_path, up_to_epoch=2)
    assert partial.epochs_done == 2 and partial.steps.count == 600 and partial.last_x == 2.0
    inside = read_curves(tmp_path, up_to_epoch=2, up_to_step=7)    # a checkpoint at epoch 3, step 7
    assert inside.epochs_done == 2 and inside.steps.count == 607 and inside.last_x == 2 + 7 / 300


def test_parts_share_no_series():
    curves = RunCurves()
    curves.add(list(records(1, 10)))
    losses, norms = curves.part(losses=True, norms=False), curves.part(losses=False, norms=True)
    losses.add(list(records(1, 10)))
    assert losses.norms == {} and norms.norms["0.kernels"].count == 10 and losses.steps.count == 20


def test_the_optimizer_is_named_and_changing_it_makes_a_new_run():
    from cnn.settings import TRAINING_SETTINGS
    from app.model.run_labels import summary
    from cnn.config import RunConfig
    assert "optimizer" in TRAINING_SETTINGS
    assert summary(RunConfig(optimizer="adam", learning_rate=0.001)) == "original · lr 0.001 · batch 1 · adam"
    assert "adam" not in summary(RunConfig())


def test_the_summary_says_the_order_in_plain_words_names_any_shift_and_elides_an_architecture():
    digits = RunConfig.from_preset("digits")
    assert summary(digits) == "digits · lr 0.08 · batch 128 · shift ±1 px"      # the preset's shift, named
    assert summary(digits.with_changes(reshuffle=False, shift=0)) == \
        "digits · lr 0.08 · batch 128 · no shift · same order every epoch"
    assert summary(RunConfig(reshuffle=True)) == "original · lr 0.1 · batch 1 · reshuffled every epoch"
    text = "conv 4 5x5, relu, maxpool 2, conv 8 3x3, relu, maxpool 2, dense 64, relu, dense 2"
    short = summary(RunConfig(architecture=text), room=40)
    assert short.endswith("…") and len(short.split(" · ")[-1]) == 40 and text in summary(RunConfig(architecture=text))


def test_runs_of_different_presets_are_labelled_by_the_preset_and_what_departs_from_it():
    """An original and a digits run were labelled with every setting the presets differ in, one legend
    entry wider than the plot ("digits · digits 0–9 · all images · lr 0.08 · batch 128 · momentum 0.9 · decay…")."""
    original, digits = RunConfig(limit=10), RunConfig.from_preset("digits")
    slower = digits.with_changes(learning_rate=0.05)
    assert differing_labels([original, digits, slower], ["a", "b", "c"]) == \
        ["original · 10/class", "digits", "digits · lr 0.05"]
    assert differing_labels([digits, RunConfig(), digits], ["p", "q", "r"]) == \
        ["p (digits)", "q (original)", "r (digits)"]


def test_runs_of_the_same_settings_and_name_are_numbered():
    """Two digits runs at lr 0.08 read 'digits lr 0.08 seed 0 (lr 0.08)' twice in the legend."""
    from app.model.run_labels import differing_labels
    digits = RunConfig.from_preset("digits")
    slower = digits.with_changes(learning_rate=0.05)
    labels = differing_labels([digits, digits, slower], ["digits lr 0.08", "digits lr 0.08", "digits lr 0.05"])
    assert labels == ["digits lr 0.08 (lr 0.08) #1", "digits lr 0.08 (lr 0.08) #2", "digits lr 0.05 (lr 0.05)"]
    assert len(set(labels)) == 3
