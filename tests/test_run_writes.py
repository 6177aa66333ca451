"""A run's epoch-end files are written on a thread of their own (cnn.runs.writes), in order, while
training goes on; a write that fails ends the recording at the next record."""
import threading

import pytest

from tests.conftest import checkpoints_fail_from

import cnn.runs.runfile as runfile
from cnn.checkpoint import load_checkpoint
from cnn.config import RunConfig
from cnn.runs.metrics import METRICS_FILE, read_records
from cnn.runs.moments import list_moments
from cnn.runs.recorder import RecordingError, RunRecorder
from cnn.runs.runfile import read_info
from cnn.runs.store import LAST
from cnn.runs.writes import MOST_PENDING, Writes
from cnn.session import Session
from cnn.train import EpochRecord, StepRecord

CONFIG = RunConfig(epochs=3, limit=10)    # 20 per-sample steps an epoch


def test_jobs_run_in_order_on_another_thread_and_wait_waits_for_them():
    writes, done = Writes(), []
    release = threading.Event()
    writes.submit(lambda: (release.wait(), done.append(("first", threading.current_thread().name))))
    writes.submit(lambda: done.append(("second", threading.current_thread().name)))
    assert writes.pending and done == []
    release.set()
    writes.wait()
    assert done == [("first", "run files"), ("second", "run files")] and not writes.pending
    writes.close()
    writes.submit(lambda: done.append(("after close", threading.current_thread().name)))   # a new thread
    writes.close()
    assert done[-1] == ("after close", "run files")


def test_a_failed_job_is_raised_from_then_on_and_the_jobs_after_it_are_dropped():
    writes, done = Writes(), []

    def full_disk():
        raise OSError(28, "No space left on device")
    writes.submit(full_disk)
    writes.submit(lambda: done.append("later"))
    with pytest.raises(OSError, match="No space left on device"):
        writes.wait()
    with pytest.raises(OSError, match="No space left on device"):
        writes.check()
    with pytest.raises(OSError, match="No space left on device"):
        writes.submit(lambda: done.append("after the failure"))
    with pytest.raises(OSError, match="No space left on device"):
        writes.close()
    assert done == []


def test_at_most_a_few_jobs_wait_then_submit_holds_the_caller_back():
    writes, release, submitted = Writes(), threading.Event(), threading.Event()
    writes.submit(release.wait)                 # taken by the thread, and held
    while writes._jobs.qsize():                 # (until the thread has taken it)
        threading.Event().wait(0.001)
    for _ in range(MOST_PENDING):
        writes.submit(lambda: None)             # waiting in the queue

    def one_more():
        writes.submit(lambda: None)
        submitted.set()
    caller = threading.Thread(target=one_more)
    caller.start()
    assert not submitted.wait(0.3)              # held back while the queue is full
    release.set()
    assert submitted.wait(60)
    caller.join()
    writes.close()


def test_training_goes_on_while_an_epochs_files_are_written(tmp_path, raw_mnist, monkeypatch):
    """The first epoch's run.json is held back: the next epoch's steps are recorded meanwhile, the
    checkpoint of epoch 1 is the one on disk once released, and flush() waits for it."""
    held, release = threading.Event(), threading.Event()
    write_info, threads = runfile.write_info, []

    def slow_write_info(folder, info, sync=True):
        threads.append(threading.current_thread().name)
        if info.epochs_done == 1:
            held.set()
            release.wait(60)        # (written on the training thread, it would hold training up that long)
        write_info(folder, info, sync=sync)
    monkeypatch.setattr(runfile, "write_info", slow_write_info)   # (RunFile writes with it)
    session = Session(CONFIG, raw_mnist)
    recorder = RunRecorder.start(tmp_path, session, 3, source="bundled MNIST")
    records = session.run(3)
    for record in records:
        recorder.add(record)
        if isinstance(record, EpochRecord):
            break
    assert held.wait(60) and recorder.writing
    for record in records:                       # epoch 2's steps, while epoch 1's run.json waits
        recorder.add(record)
        if isinstance(record, StepRecord) and record.step == 5:
            break
    assert read_info(recorder.folder).epochs_done == 0 and recorder.writing
    release.set()
    recorder.flush()
    assert not recorder.writing and read_info(recorder.folder).epochs_done == 1
    assert load_checkpoint(recorder.folder / LAST).epoch == 1
    assert threads[1:] == ["run files"]          # (the first: the start's run.json, on the caller's thread)
    for record in records:
        recorder.add(record)
    assert recorder.close() == "finished"
    info = read_info(recorder.folder)
    assert (info.epochs_done, info.status) == (3, "finished") and load_checkpoint(recorder.folder / LAST).epoch == 3
    assert [m.step for m in list_moments(recorder.folder)[0]] == [0, 1, 2, 4, 8, 16, 20, 40, 60]
    assert [r.epoch for r in read_records(recorder.folder / METRICS_FILE) if isinstance(r, EpochRecord)] == [1, 2, 3]


def test_an_epochs_checkpoint_that_cannot_be_written_ends_the_recording_at_the_next_record(tmp_path, raw_mnist):
    session = Session(CONFIG, raw_mnist)
    recorder = RunRecorder.start(tmp_path, session, 3, source="bundled MNIST")
    checkpoints_fail_from(session, 2)
    with pytest.raises(RecordingError, match="No space left on device"):
        for record in session.run(3):
            recorder.add(record)
            if isinstance(record, EpochRecord):
                recorder.flush()        # (wait for the write here: the next record raises)
    assert session.epochs_done == 2 and recorder.failed
    recorder.close()
    info = read_info(recorder.folder)
    assert (info.epochs_done, info.status) == (1, "interrupted")   # the last epoch whose files were all written
    assert load_checkpoint(recorder.folder / LAST).epoch == 1
