"""Hostile metrics.jsonl (issue 19, cases 5 and 11): huge integers, steps_per_epoch 0 and millions of
gradient-norm names. A bad line is skipped, the run still opens, and the curves keep one series per
parameter of the network, however many names the file makes up. Memory is checked by counting the
series allocated, never by time."""
import json

import pytest

from app.model.run_curves import MAX_SERIES, RunCurves, read_curves
from app.model.events import Recorder
from app.model.studio import Studio
from cnn.runs.metrics import METRICS_FILE, MetricsWriter, ReadStats, read_records
from cnn.train import EpochRecord, StepRecord

BIG = "9" * 5000


def steps_line(names=("0.kernels",), steps_per_epoch=4, epoch=1, step=1, loss="0.5"):
    norms = ",".join(f'"{name}":[1.0]' for name in names)
    return (f'{{"type":"steps","epoch":{epoch},"step":{step},"global_step":{step},"steps_per_epoch":{steps_per_epoch},'
            f'"batch_size":[1],"loss":[{loss}],"grad_norms":{{{norms}}}}}\n')


def epoch_line(epoch=1, loss="0.25"):
    return (f'{{"type":"epoch","epoch":{epoch},"epochs":1,"train_loss":{loss},"test_loss":0.5,'
            f'"test_accuracy":0.5,"seconds":1.0}}\n')


@pytest.mark.parametrize("bad", [
    steps_line(steps_per_epoch=0),              # was ZeroDivisionError on the step's place
    steps_line(steps_per_epoch=-3),
    steps_line(epoch=BIG),                      # Python's "Exceeds the limit (4300 digits)"
    steps_line(loss=BIG),
    steps_line(step="9" * 400),                 # under the digit limit, but no float holds it
    epoch_line(loss="9" * 400),                 # was OverflowError: int too large to convert to float
    epoch_line(epoch="9" * 400),
])
def test_a_bad_metrics_line_is_skipped_and_the_rest_read(tmp_path, bad):
    (tmp_path / METRICS_FILE).write_text(steps_line() + bad + epoch_line())
    stats = ReadStats()
    records = list(read_records(tmp_path / METRICS_FILE, stats))
    assert [type(r) for r in records] == [StepRecord, EpochRecord] and stats.skipped == 1
    curves = read_curves(tmp_path)
    assert curves.steps.count == 1 and curves.epochs_done == 1


def many_names_file(path, lines: int, per_line: int) -> int:
    """A valid metrics file whose blocks name `lines` × `per_line` distinct gradient norms (the
    issue's 33 MB file named 2 million; the growth is the same, one series per name)."""
    with open(path, "w") as file:
        for line in range(lines):
            names = ["0.kernels", "0.biases"] + [f"fake.{line}.{i}" for i in range(per_line)]
            file.write(steps_line(names, step=line + 1, steps_per_epoch=lines))
        file.write(epoch_line())
    return lines * per_line


def test_gradient_norms_of_names_not_the_networks_allocate_no_series(tmp_path):
    made_up = many_names_file(tmp_path / METRICS_FILE, lines=200, per_line=100)
    stats = ReadStats()
    curves = read_curves(tmp_path, capacity=16, stats=stats, names=("0.kernels", "0.biases"))
    assert set(curves.norms) == {"0.kernels", "0.biases"} and curves.norms["0.kernels"].count == 16 // 2 + 4
    assert stats.ignored == 200 and stats.skipped == 0 and made_up == 20_000
    assert curves.steps.count > 0 and curves.epochs_done == 1
    unnamed = read_curves(tmp_path, capacity=16)          # no names given: at most MAX_SERIES series
    assert len(unnamed.norms) == MAX_SERIES
    assert read_curves(tmp_path, capacity=16, names=()).norms == {}


def test_live_curves_keep_only_the_names_they_were_given():
    curves = RunCurves(capacity=16, names=("0.kernels",))
    curves.add([StepRecord(1, s, 10, s, 1, 0.5, {"0.kernels": 1.0, f"x{s}": 1.0}) for s in range(1, 11)])
    assert list(curves.norms) == ["0.kernels"]
    assert list(curves.part(losses=False, norms=True).norms) == ["0.kernels"]


def test_the_written_norms_read_back_unchanged_in_the_networks_order(tmp_path):
    writer = MetricsWriter(tmp_path / METRICS_FILE)
    writer.add_step(StepRecord(1, 1, 1, 1, 1, 0.5, {"0.kernels": 2.0, "0.biases": 3.0}))
    writer.close()
    [record] = read_records(tmp_path / METRICS_FILE, names={"0.kernels": None, "0.biases": None})
    assert record.grad_norms == {"0.kernels": 2.0, "0.biases": 3.0}
    assert list(record.grad_norms) == ["0.kernels", "0.biases"]


@pytest.fixture
def recorded_run(tmp_path, raw_mnist, monkeypatch):
    import cnn.cli
    from cnn.runs.store import RunStore
    monkeypatch.setattr(cnn.cli, "load_mnist", lambda path=None: raw_mnist)
    assert cnn.cli.main(["--epochs", "1", "--limit", "10", "--quiet", "--runs", str(tmp_path / "runs")]) == 0
    [run] = RunStore(tmp_path / "runs").list()
    return run.path


def open_in_studio(folder):
    events = Recorder()
    studio = Studio(emit=events)
    studio.command("open_run", str(folder))
    return studio, events.of("message"), events.of("failed"), events.of("history")


def test_the_studio_opens_a_run_with_made_up_names_and_steps_per_epoch_zero(recorded_run):
    """Before: MemoryError (one 50,000-point series per name) and ZeroDivisionError ("Unexpected
    error"). Now the run opens, its own parameters' curves are kept and the rest is said."""
    lines = (recorded_run / METRICS_FILE).read_text().splitlines(keepends=True)
    first = json.loads(lines[0])
    first["grad_norms"].update({f"made.up.{i}": first["loss"] for i in range(5000)})
    zero = json.loads(lines[0]) | {"steps_per_epoch": 0}
    (recorded_run / METRICS_FILE).write_text(json.dumps(zero) + "\n" + json.dumps(first) + "\n" + "".join(lines[1:]))
    studio, said, failed, histories = open_in_studio(recorded_run)
    assert failed == []
    assert said[-1].startswith("Opened the run") and said[-1].endswith(
        "(metrics.jsonl: gradient norms under names that are not this network's parameters were ignored)")
    [curves] = histories
    assert set(curves.norms) <= set(studio.session.network.params) and curves.norms
    assert curves.epochs_done == 1
