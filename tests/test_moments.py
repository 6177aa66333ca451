"""Moments: a recorded run keeps its exact weights at step 0, at steps 1, 2, 4, … of its first epoch, at
every epoch's end and where it stopped; a continued run keeps them consistent; a damaged moment is
listed with its reason and stops nothing else."""
import os

import numpy as np
import pytest

from cnn import weights_file
from cnn.config import RunConfig
from cnn.presets import digits_network, original_network
from cnn.runs.moments import MOMENTS, list_moments, write_moment
from cnn.runs.opening import open_run
from cnn.runs.recorder import RecordingError, RunRecorder
from cnn.runs.store import RunStore, delete, inspect
from cnn.runs.specs import find
from cnn.session import Session, build_network
from cnn.train import EpochRecord, StepRecord

CONFIG = RunConfig(epochs=3, limit=10)     # the original experiment on 20 images: 20 per-sample steps an epoch


def record(root, session, epochs, stop_at=None, folder=None):
    """Train `epochs` epochs of `session` into a new run under `root` (or into `folder`); stop after global
    step `stop_at` (closing the recording there). Returns the run folder and {global step: weights copy}."""
    recorder = (RunRecorder.resume(folder, session, epochs) if folder else
                RunRecorder.start(root, session, epochs, source="bundled MNIST"))
    seen = {}
    for item in session.run(epochs):
        recorder.add(item)
        if isinstance(item, StepRecord):
            seen[item.global_step] = {name: value.copy() for name, value in session.network.params.items()}
            if item.global_step == stop_at:
                break
    recorder.close()
    return recorder.folder, seen


def assert_same(network, params):
    assert set(network.params) == set(params)
    for name, value in params.items():
        assert network.params[name].dtype == value.dtype and np.array_equal(network.params[name], value), name


def test_the_moments_of_a_run_are_its_exact_weights_at_the_chosen_steps(tmp_path, raw_mnist):
    session = Session(CONFIG, raw_mnist)
    folder, seen = record(tmp_path, session, 3)
    moments, damaged = list_moments(folder)
    early = [step for step in range(1, 20) if bin(step).count("1") == 1]   # powers of two inside epoch 1
    assert [m.step for m in moments] == [0, *early, 20, 40, 60] and damaged == []
    assert_same(weights_file.load(moments[0].path), build_network(CONFIG).params)   # the untrained network, seed 0
    for moment in moments[1:]:
        assert_same(weights_file.load(moment.path), seen[moment.step])
    assert [m.epoch_end for m in moments[-3:]] == [1, 2, 3] and all(m.test_accuracy is None for m in moments[:-3])
    assert moments[3].step == 4 and moments[3].epoch == pytest.approx(4 / 20)


def test_epoch_end_moments_carry_that_epochs_test_accuracy(tmp_path, raw_mnist):
    session = Session(CONFIG.with_changes(epochs=2), raw_mnist)
    recorder = RunRecorder.start(tmp_path, session, 2, source="bundled MNIST")
    epochs = []
    for item in session.run(2):
        recorder.add(item)
        if isinstance(item, EpochRecord):
            epochs.append(item)
    recorder.close()
    ends = [m for m in list_moments(recorder.folder)[0] if m.epoch_end]
    assert [(m.test_accuracy, m.test_loss) for m in ends] == [(e.test_accuracy, e.test_loss) for e in epochs]


def test_a_run_stopped_inside_an_epoch_keeps_that_moment_and_goes_on_consistently(tmp_path, raw_mnist):
    straight_folder, straight = record(tmp_path / "straight", Session(CONFIG, raw_mnist), 3)
    folder, _ = record(tmp_path / "cut", Session(CONFIG, raw_mnist), 3, stop_at=27)
    assert [m.step for m in list_moments(folder)[0]][-2:] == [20, 27]       # where it stopped
    _, checkpoint = open_run(folder)
    session = Session.from_checkpoint(checkpoint, raw_mnist)
    record(None, session, 2, folder=folder)
    moments = list_moments(folder)[0]
    reference = {m.step: m for m in list_moments(straight_folder)[0]}
    assert [m.step for m in moments] == sorted(reference)     # the stop's own moment went: as if never stopped
    for moment in moments:
        expected = straight[moment.step] if moment.step else build_network(CONFIG).params
        assert_same(weights_file.load(moment.path), expected)
        if moment.step in reference:
            assert moment.test_accuracy == reference[moment.step].test_accuracy


def test_continuing_from_an_earlier_checkpoint_drops_the_moments_after_it(tmp_path, raw_mnist):
    folder, _ = record(tmp_path, Session(CONFIG, raw_mnist), 3, stop_at=45)
    _, checkpoint = open_run(folder)
    assert checkpoint.step == 5
    write_moment(folder, build_network(CONFIG), 70, 20)     # a moment from beyond the checkpoint (a run cut later)
    (folder / MOMENTS / "step-000000080.npz").write_bytes(b"damaged")
    session = Session.from_checkpoint(checkpoint, raw_mnist)
    recorder = RunRecorder.resume(folder, session, 1)
    assert [m.step for m in list_moments(folder)[0]][-1] == 40 and list_moments(folder)[1] == []   # 45 was a stop
    recorder.close()


def test_a_damaged_moment_is_listed_with_its_reason_and_stops_nothing_else(tmp_path, raw_mnist):
    folder, _ = record(tmp_path, Session(CONFIG.with_changes(epochs=1), raw_mnist), 1)
    moments = folder / MOMENTS
    cut = moments / "step-000000004.npz"
    cut.write_bytes(cut.read_bytes()[:-100])
    (moments / "step-000000002.npz").write_bytes(b"")
    (moments / "notes.txt").write_text("mine")
    weights_file.save(original_network(), moments / "step-000000003.npz")         # a weights file, not a moment
    (moments / "step-000000005.npz").symlink_to(moments / "step-000000008.npz")
    listed, damaged = list_moments(folder)
    assert [m.step for m in listed] == [0, 1, 8, 16, 20]
    reasons = {item.name: item.reason for item in damaged}
    assert set(reasons) == {"step-000000002.npz", "step-000000003.npz", "step-000000004.npz", "step-000000005.npz",
                            "notes.txt"}
    assert reasons["step-000000005.npz"] == "is a symbolic link; a run folder's files must be its own"
    assert "empty" in reasons["step-000000002.npz"] and "not a moment" in reasons["step-000000003.npz"]
    assert "truncated" in reasons["step-000000004.npz"] or "damaged" in reasons["step-000000004.npz"]
    assert inspect(folder).openable and open_run(folder)
    with pytest.raises(weights_file.WeightsFileError, match=r"@4: the moment at step 4 is damaged: .*"):
        weights_file.load(f"{folder}@4")
    assert_same(weights_file.load(f"{folder}@8"), weights_file.load(moments / "step-000000008.npz").params)


def test_a_linked_moments_folder_is_never_written_through(tmp_path, raw_mnist):
    folder, _ = record(tmp_path, Session(CONFIG.with_changes(epochs=1), raw_mnist), 1, stop_at=3)
    outside = tmp_path / "outside"
    outside.mkdir()
    os.rename(folder / MOMENTS, tmp_path / "kept")
    (folder / MOMENTS).symlink_to(outside)
    _, checkpoint = open_run(folder)
    with pytest.raises(ValueError, match="moments is a symbolic link"):
        RunRecorder.resume(folder, Session.from_checkpoint(checkpoint, raw_mnist), 1)
    assert list(outside.iterdir()) == []
    assert list_moments(folder)[1][0].reason.startswith("moments is a symbolic link")


def test_a_moment_that_cannot_be_written_ends_the_recording_naming_it(tmp_path, raw_mnist):
    session = Session(CONFIG.with_changes(epochs=1), raw_mnist)
    recorder = RunRecorder.start(tmp_path, session, 1, source="bundled MNIST")
    for path in (recorder.folder / MOMENTS).iterdir():
        path.unlink()
    (recorder.folder / MOMENTS).rmdir()
    (recorder.folder / MOMENTS).write_text("in the way")
    with pytest.raises(RecordingError, match=f"{recorder.folder}: moments is a file, not a folder"):
        for item in session.run(1):
            recorder.add(item)
    recorder.close()
    assert inspect(recorder.folder).openable


def test_deleting_a_run_removes_its_moments(tmp_path, raw_mnist):
    folder, _ = record(tmp_path, Session(CONFIG.with_changes(epochs=1), raw_mnist), 1, stop_at=2)
    assert delete(folder) == [] and not folder.exists() and RunStore(tmp_path).list() == []


def test_specs_name_the_moment_or_say_in_one_line_why_not(tmp_path, raw_mnist):
    folder, seen = record(tmp_path, Session(CONFIG, raw_mnist), 3)
    best = max((m for m in list_moments(folder)[0] if m.test_accuracy is not None), key=lambda m: m.test_accuracy)
    assert find(folder, "best").test_accuracy == best.test_accuracy
    assert find(folder, "first").step == 0 and find(folder, "last").step == 60 and find(folder, "epoch2").step == 40
    assert_same(weights_file.load(f"{folder}@16"), seen[16])
    assert_same(weights_file.load(f"{folder}@epoch0"), build_network(CONFIG).params)
    cases = {"17": r"@17: no moment at step 17; the moments are at steps 0, 1, 2, 4, 8, 16, 20, 40, 60$",
             "epoch7": r"@epoch7: no moment at the end of epoch 7 \(step 140\); the moments are at steps 0, 1,",
             "soon": r"@soon: after the @ comes a step \(17\), first, last, best or epochN"}
    for selector, message in cases.items():
        with pytest.raises(weights_file.WeightsFileError, match=message) as error:
            weights_file.load(f"{folder}@{selector}")
        assert "\n" not in str(error.value) and str(error.value).startswith(f"{folder}@{selector}: ")
    with pytest.raises(weights_file.WeightsFileError, match="@last: no such run folder"):
        weights_file.load(f"{tmp_path / 'gone'}@last")
    plain = tmp_path / "w@1.npz"      # a file whose name holds an @ is that file
    weights_file.save(original_network(seed=3), plain)
    assert_same(weights_file.load(plain), original_network(seed=3).params)


def test_the_budgets_of_the_original_experiment_and_the_digits_preset(tmp_path):
    """≥ 25 moments in ≤ 100 MB for the original experiment (20 epochs of 200 per-sample steps), ≤ 20 MB for
    digits (its preset's epochs of 469 batches); each moment's size is measured on disk, the checkpoints counted."""
    from cnn.presets import PRESETS
    for network, steps, epochs, momentum, budget in ((original_network(), 200, 20, False, 100e6),
                                                     (digits_network(), 469, PRESETS["digits"].epochs, True, 20e6)):
        size = write_moment(tmp_path, network, 0, steps).stat().st_size
        count = 1 + len([s for s in range(1, steps) if bin(s).count("1") == 1]) + epochs + 1   # +1: where it stopped
        checkpoints = 2 * size * (2 if momentum else 1)        # last and best, velocity included
        assert count >= (25 if budget == 100e6 else 1)
        assert count * size + checkpoints <= budget * 0.95, (count, size)   # 5% kept for metrics.jsonl and run.json


def test_a_moment_listed_again_is_read_once_and_a_rewritten_one_again(tmp_path, monkeypatch):
    from cnn.runs import moments as module
    network = original_network(2, seed=0)
    for step in (0, 1, 2):
        write_moment(tmp_path, network, step, 10)
    reads = []
    real = module._read_moment
    monkeypatch.setattr(module, "_read_moment", lambda path, step: reads.append(step) or real(path, step))
    monkeypatch.setattr(module, "_known", {})
    first, _ = list_moments(tmp_path)
    again, _ = list_moments(tmp_path)
    assert [m.step for m in first] == [m.step for m in again] == [0, 1, 2] and reads == [0, 1, 2]
    write_moment(tmp_path, network, 1, 10, test_loss=0.5, test_accuracy=0.75)   # the same step written anew
    third, _ = list_moments(tmp_path)
    assert reads == [0, 1, 2, 1] and third[1].test_accuracy == 0.75


def test_an_epochs_moment_is_its_checkpoint_not_a_second_copy(tmp_path, raw_mnist):
    session = Session(CONFIG, raw_mnist)
    folder, seen = record(tmp_path, session, 2)
    moments, _ = list_moments(folder)
    last_epoch = moments[-1]
    assert last_epoch.step == 40 and last_epoch.epoch_end == 2
    assert os.path.samefile(last_epoch.path, folder / "last.npz")            # one file, two names
    first_epoch = [m for m in moments if m.step == 20][0]
    assert not os.path.samefile(first_epoch.path, folder / "last.npz")      # the checkpoint moved on by a rename
    assert_same(weights_file.load(first_epoch.path), seen[20])                         # and the moment kept its weights
