"""Nothing lost: a run stopped at any step (Stop, Ctrl+C, SIGTERM, closing the studio), in its first
epoch too, keeps a checkpoint of the weights at that step and goes on inside the epoch, bit for bit
the uninterrupted run: weights, optimizer state and every metrics line."""
import json
import signal
import zipfile

import numpy as np
import pytest

from cnn.checkpoint import load_checkpoint, save_checkpoint
from cnn.cli import main
from cnn.config import RunConfig
from cnn.weights_file import HEADER_KEY, WeightsFileError
from cnn.runs.metrics import METRICS_FILE, MetricsWriter, iter_lines, read_records, truncate_to_epoch
from cnn.runs.opening import open_run
from cnn.runs.recorder import CheckpointNotWritten, RunRecorder
from cnn.runs.runfile import read_info
from cnn.runs.store import LAST, RunStore, inspect
from cnn.session import Session
from cnn.train import EpochProgress, StepRecord

ARCH = "conv 2 3x3 bias=kernel, relu, maxpool 2, dense 2"
CASES = {  # optimizer settings, batch size, where the first part stops (epoch, step); 20 images an epoch
    "sgd momentum, per-sample, epoch 1": (dict(optimizer="sgd", momentum=0.9), 1, (1, 7)),
    "sgd momentum, per-sample, epoch 2": (dict(optimizer="sgd", momentum=0.9), 1, (2, 13)),
    "sgd momentum, batch 3, epoch 1's last step": (dict(optimizer="sgd", momentum=0.9), 3, (1, 7)),
    "adam, batch 3, epoch 2": (dict(optimizer="adam"), 3, (2, 2)),
    "adam, per-sample, epoch 1": (dict(optimizer="adam"), 1, (1, 1)),
    "batchnorm and dropout, batch 3, epoch 2": (dict(optimizer="sgd", momentum=0.9, architecture=(
        "conv 2 3x3 stride=2 pad=same bias=kernel, batchnorm, relu, dropout 0.3, dense 2")), 3, (2, 4)),
}


def config_of(optimizer, batch_size):
    # digits: reshuffled every epoch; shift 1 draws every batch's moves from the epoch's generator too
    return RunConfig.from_preset("digits", classes=(0, 1), limit=10, epochs=3, batch_size=batch_size, shift=1,
                                 learning_rate=0.01, lr_decay=0.7, **{"architecture": ARCH, **optimizer})


def record(root, session, epochs, stop_at=None, folder=None):
    """Train `epochs` epochs of `session` into a new run under `root` (or `folder`, going on with it),
    stopping after step `stop_at` = (epoch, step) as Stop does: the loop closed between two steps."""
    recorder = RunRecorder.resume(folder, session, epochs) if folder else \
        RunRecorder.start(root, session, epochs, "bundled MNIST")
    loop = session.run(epochs)
    for item in loop:
        recorder.add(item)
        if isinstance(item, StepRecord) and (item.epoch, item.step) == stop_at:
            loop.close()
            break
    assert recorder.close() == ("interrupted" if stop_at else "finished")
    return recorder.folder


def numbers(folder):
    """Every metrics record's numbers but the epochs' wall time."""
    return [(r.epoch, r.step, r.global_step, r.batch_size, r.loss, dict(r.grad_norms)) if isinstance(r, StepRecord)
            else (r.epoch, r.epochs, r.train_loss, r.test_loss, r.test_accuracy)
            for r in read_records(folder / METRICS_FILE)]


def assert_same_state(a: Session, b: Session):
    for name, value in {**a.network.params, **a.network.buffers}.items():   # buffers: running statistics, masks
        assert np.array_equal({**b.network.params, **b.network.buffers}[name], value), name
    sa, sb = a.optimizer.state_dict(), b.optimizer.state_dict()
    assert sa.keys() == sb.keys()
    for key, value in sa.items():
        if isinstance(value, dict):
            assert value.keys() == sb[key].keys() and all(np.array_equal(v, sb[key][k]) for k, v in value.items())
        else:
            assert value == sb[key], key


@pytest.mark.parametrize("case", CASES)
def test_stopped_at_a_step_and_continued_equals_the_uninterrupted_run(tmp_path, raw_mnist, case):
    optimizer, batch_size, stop_at = CASES[case]
    config = config_of(optimizer, batch_size)
    whole = Session(config, raw_mnist)
    straight = record(tmp_path / "a", whole, 3)

    first = Session(config, raw_mnist)
    folder = record(tmp_path / "b", first, 3, stop_at)
    entry = inspect(folder)
    steps = first.steps_per_epoch
    assert entry.status == "interrupted" and entry.reason is None
    assert (entry.info.epochs_done, entry.info.step, entry.info.steps_per_epoch) == (stop_at[0] - 1, stop_at[1], steps)
    info, checkpoint = open_run(folder)
    assert (checkpoint.epoch, checkpoint.step) == (stop_at[0] - 1, stop_at[1])
    continued = Session.from_checkpoint(checkpoint, raw_mnist)
    assert_same_state(first, continued)          # the checkpoint is the weights as they were at that step
    record(None, continued, info.epochs_planned - checkpoint.epoch, folder=folder)

    assert_same_state(whole, continued)
    assert numbers(folder) == numbers(straight)
    assert read_info(folder).status == "finished" and read_info(folder).step == 0


def test_a_run_stopped_in_its_first_epoch_is_interrupted_not_damaged(tmp_path, raw_mnist):
    """Its checkpoint is written at the stop (and at its start: a SIGKILL in epoch 1 loses only the steps)."""
    session = Session(config_of(dict(optimizer="sgd"), 1), raw_mnist)
    recorder = RunRecorder.start(tmp_path, session, 3, "bundled MNIST")
    assert load_checkpoint(recorder.folder / LAST).step == 0 and inspect(recorder.folder).reason is None
    for item in session.run(3):
        recorder.add(item)
        if item.step == 5:
            break
    # killed here: the start's checkpoint
    assert load_checkpoint(recorder.folder / LAST).epoch == 0 and load_checkpoint(recorder.folder / LAST).step == 0
    recorder.close()
    [entry] = RunStore(tmp_path).list()
    assert entry.status == "interrupted" and entry.reason is None and entry.openable
    assert (entry.info.epochs_done, entry.info.step) == (0, 5)


def test_a_checkpoint_that_cannot_be_written_at_the_stop_is_said_and_the_run_still_closes(tmp_path, raw_mnist,
                                                                                          monkeypatch):
    session = Session(config_of(dict(optimizer="sgd"), 1), raw_mnist)
    recorder = RunRecorder.start(tmp_path, session, 3, "bundled MNIST")
    for item in session.run(3):
        recorder.add(item)
        if item.step == 4:
            break

    def full_disk():
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(session, "checkpoint_later", lambda *args, **kwargs: full_disk)   # its write fails
    with pytest.raises(CheckpointNotWritten, match=r"the checkpoint at epoch 1, step 4 could not be written "
                                                   r"\(\[Errno 28\] No space left on device\); the run goes on "
                                                   "from its last checkpoint, at its start"):
        recorder.close()
    info = read_info(recorder.folder)
    assert info.status == "interrupted" and info.step == 0 and load_checkpoint(recorder.folder / LAST).step == 0


def test_old_checkpoints_without_a_step_load_at_step_0(tmp_path, raw_mnist):
    session = Session(config_of(dict(optimizer="sgd"), 1), raw_mnist)
    save_checkpoint(tmp_path / "c.npz", session.network, session.optimizer, epoch=2, config=session.config)
    with zipfile.ZipFile(tmp_path / "c.npz") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    header_name = next(name for name in members if name.startswith(HEADER_KEY))
    for key in (b"step", b"loss_sum", b"seconds"):    # renamed (same length): as checkpoints were before
        members[header_name] = members[header_name].replace(b'"%s": ' % key, b'"x%s": ' % key[1:])
    with zipfile.ZipFile(tmp_path / "old.npz", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    checkpoint = load_checkpoint(tmp_path / "old.npz")
    assert (checkpoint.epoch, checkpoint.step, checkpoint.loss_sum, checkpoint.seconds) == (2, 0, 0.0, 0.0)


@pytest.mark.parametrize("progress, problem", [
    (EpochProgress(-1), "step must be a whole number of steps, not '-1'"),
    (EpochProgress(2, float("nan")), "loss_sum must be a finite number ≥ 0, not 'nan'"),
])
def test_a_bad_step_is_refused_in_one_line(tmp_path, raw_mnist, progress, problem):
    session = Session(config_of(dict(optimizer="sgd"), 1), raw_mnist)
    with pytest.raises(ValueError, match=problem):
        save_checkpoint(tmp_path / "c.npz", session.network, session.optimizer, epoch=0, progress=progress)


def test_a_checkpoint_past_the_epochs_end_is_refused(tmp_path, raw_mnist):
    session = Session(config_of(dict(optimizer="sgd"), 4), raw_mnist)     # 5 steps an epoch
    save_checkpoint(tmp_path / "c.npz", session.network, session.optimizer, epoch=0, config=session.config,
                    progress=EpochProgress(6, 1.0, 0.5))
    with pytest.raises(ValueError, match="the checkpoint is at step 6 of an epoch, which has only 5 steps"):
        Session.from_checkpoint(load_checkpoint(tmp_path / "c.npz"), raw_mnist)


def test_a_damaged_step_in_the_header_is_one_line(tmp_path, raw_mnist):
    session = Session(config_of(dict(optimizer="sgd"), 1), raw_mnist)
    save_checkpoint(tmp_path / "c.npz", session.network, session.optimizer, epoch=0, progress=EpochProgress(3, 1.5))
    with zipfile.ZipFile(tmp_path / "c.npz") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    header_name = next(name for name in members if name.startswith(HEADER_KEY))
    members[header_name] = members[header_name].replace(b' "step": 3,', b'"step":"3",')
    with zipfile.ZipFile(tmp_path / "bad.npz", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(WeightsFileError, match=r"bad.npz: the checkpoint's step must be a whole number of steps"):
        load_checkpoint(tmp_path / "bad.npz")


def test_metrics_are_cut_back_to_the_step_inside_a_block(tmp_path, raw_mnist):
    """A block of steps reaching past the checkpoint's step is written again, cut there."""
    session = Session(config_of(dict(optimizer="sgd"), 1), raw_mnist)
    path = tmp_path / METRICS_FILE
    writer = MetricsWriter(path)
    records = []
    for item in session.run(2):
        records.append(item)
        writer.add_step(item) if isinstance(item, StepRecord) else writer.add_epoch(item)
    writer.close()
    truncate_to_epoch(path, 1, 6)
    kept = list(read_records(path))
    expected = [r for r in records if r.epoch == 1 or (isinstance(r, StepRecord) and r.step <= 6)]
    assert [(r.epoch, getattr(r, "step", None), getattr(r, "loss", None)) for r in kept] == \
        [(r.epoch, getattr(r, "step", None), getattr(r, "loss", None)) for r in expected]
    assert all(line[0]["type"] in ("steps", "epoch") for line in iter_lines(path))
    truncate_to_epoch(path, 0, 3)
    assert [(r.epoch, r.step) for r in read_records(path)] == [(1, 1), (1, 2), (1, 3)]


def test_cnn_train_stops_at_the_step_on_ctrl_c_and_sigterm_and_continues_exactly(tmp_path, capsys, monkeypatch,
                                                                                raw_mnist):
    import cnn.cli
    monkeypatch.setattr(cnn.cli, "load_mnist", lambda path=None: raw_mnist)
    options = ["--limit", "10", "--quiet", "--epochs", "2", "--lr", "0.05"]
    assert main([*options, "--save", str(tmp_path / "straight.npz")]) == 0
    capsys.readouterr()
    real_add = RunRecorder.add

    def signal_at(number, at):
        def add(self, item):
            real_add(self, item)
            if isinstance(item, StepRecord) and (item.epoch, item.step) == at:
                signal.raise_signal(number)
        return add
    monkeypatch.setattr(RunRecorder, "add", signal_at(signal.SIGINT, (1, 7)))
    assert main([*options, "--runs", str(tmp_path / "runs")]) == 130
    [entry] = RunStore(tmp_path / "runs").list()
    assert capsys.readouterr().err.strip() == (f"cnn-train: interrupted at epoch 1, step 7 of 20; cnn-train "
                                               f"--continue {entry.path} goes on from there")
    assert entry.status == "interrupted" and entry.reason is None and entry.info.step == 7
    monkeypatch.setattr(RunRecorder, "add", signal_at(signal.SIGTERM, (2, 3)))
    assert main(["--continue", str(entry.path), "--quiet"]) == 128 + signal.SIGTERM
    assert "cnn-train: interrupted at epoch 2, step 3 of 20;" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL and signal.getsignal(signal.SIGINT) is \
        signal.default_int_handler    # the handlers are the program's again
    monkeypatch.setattr(RunRecorder, "add", real_add)
    assert main(["--continue", str(entry.path), "--quiet", "--save", str(tmp_path / "continued.npz")]) == 0
    from cnn import weights_file
    a, b = weights_file.load(tmp_path / "straight.npz").params, weights_file.load(tmp_path / "continued.npz").params
    assert all(np.array_equal(a[k], b[k]) for k in a)
    lines = [json.loads(line) for line in (entry.path / METRICS_FILE).read_text().splitlines()]
    assert sum(len(line["loss"]) for line in lines if line["type"] == "steps") == 40
