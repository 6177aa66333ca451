"""TensorBoard's event files in every recorded run (cnn.runs.board, cnn.runs.events): read back by
TensorBoard's own protocol buffers (and, in the slow lane, by its EventAccumulator over TensorFlow's
record reader), they hold what metrics.jsonl holds."""
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from tensorboard.compat.proto.event_pb2 import Event

from cnn.cli import main
from cnn.runs import events
from cnn.runs.board import EVENT_PREFIX, MIN_STRETCH, STEP_POINTS
from cnn.runs.metrics import read_records
from cnn.runs.recorder import RecordingError, RunRecorder
from cnn.runs.store import delete
from cnn.session import Session
from cnn.config import RunConfig
from cnn.train import EpochRecord, StepRecord


def test_crc32c_is_castagnolis():
    assert events.crc32c(b"123456789") == 0xE3069283          # the published check value of CRC-32C
    assert events.crc32c(bytes(32)) == 0x8A9136AA               # RFC 3720, B.4: 32 bytes of zeros


def read_events(path: Path) -> list[Event]:
    """The TFRecords of an event file, their framing and masked CRCs checked, each parsed as an Event."""
    data, found, at = path.read_bytes(), [], 0
    while at < len(data):
        length_bytes = data[at:at + 8]
        (length,) = struct.unpack("<Q", length_bytes)
        assert struct.unpack("<I", data[at + 8:at + 12])[0] == events.masked_crc32c(length_bytes)
        body = data[at + 12:at + 12 + length]
        assert struct.unpack("<I", data[at + 12 + length:at + 16 + length])[0] == events.masked_crc32c(body)
        found.append(Event.FromString(body))
        at += 16 + length
    return found


def scalars(found: list[Event]) -> dict[str, list[tuple[int, float]]]:
    out = {}
    for event in found:
        for value in event.summary.value:
            if value.WhichOneof("value") == "simple_value":
                out.setdefault(value.tag, []).append((event.step, value.simple_value))
    return out


def recorded_run(tmp_path, *more) -> Path:
    assert main(["--epochs", "2", "--limit", "150", "--quiet", "--lr-decay", "0.5", "--runs", str(tmp_path),
                 *more]) == 0
    (folder,) = [path for path in tmp_path.iterdir() if path.is_dir()]
    return folder


def test_a_recorded_run_writes_the_scalars_of_its_metrics(tmp_path, cli_mnist_once):
    folder = recorded_run(tmp_path)
    (board,) = folder.glob(EVENT_PREFIX + "*")
    found = read_events(board)
    assert found[0].file_version == "brain.Event:2"
    records = list(read_records(folder / "metrics.jsonl"))
    steps = [r for r in records if isinstance(r, StepRecord)]
    epochs = [r for r in records if isinstance(r, EpochRecord)]
    per_epoch = steps[0].steps_per_epoch
    assert per_epoch == 300 and len(steps) == 600 and len(epochs) == 2
    got = scalars(found)
    every = max(MIN_STRETCH, per_epoch // STEP_POINTS)
    assert every == 10
    expected = [(r.global_step, np.float32(np.mean([s.loss for s in steps[i - every + 1:i + 1]])))
                for i, r in enumerate(steps) if r.step % every == 0]
    assert len(got["loss/steps"]) == 60
    assert [(step, np.float32(value)) for step, value in got["loss/steps"]] == expected
    for name in ("train_loss", "test_loss", "test_accuracy"):
        assert got[f"epoch/{name}"] == [(r.epoch * per_epoch, np.float32(getattr(r, name))) for r in epochs]
    assert got["epoch/learning_rate"] == [(per_epoch, np.float32(0.1)), (2 * per_epoch, np.float32(0.05))]
    histograms = {(event.step, value.tag): value.histo for event in found for value in event.summary.value
                  if value.HasField("histo")}
    names = ["weights/0.kernels", "weights/0.biases"]
    assert {tag for _, tag in histograms} >= set(names)
    assert sorted({step for step, _ in histograms}) == [0, per_epoch, 2 * per_epoch]
    kernels = histograms[(2 * per_epoch, "weights/0.kernels")]
    assert kernels.num == sum(kernels.bucket) and kernels.bucket_limit[-1] == kernels.max
    images = [value.image for event in found for value in event.summary.value if value.HasField("image")]
    assert len(images) == 3 and images[0].encoded_image_string.startswith(b"\x89PNG")
    assert delete(folder) == [] and not folder.exists()


def test_a_continued_run_starts_its_file_with_a_session_start_at_its_step(tmp_path, cli_mnist_once):
    folder = recorded_run(tmp_path)
    assert main(["--continue", str(folder), "--epochs", "1", "--quiet"]) == 0
    files = sorted(folder.glob(EVENT_PREFIX + "*"), key=os.path.getmtime)
    assert len(files) == 2
    later = read_events(files[1])
    assert later[1].session_log.status == later[1].session_log.START and later[1].step == 601
    assert scalars(later)["epoch/test_accuracy"][0][0] == 900


def test_a_link_in_place_of_the_event_file_is_refused_and_a_full_disk_is_named(tmp_path, raw_mnist, monkeypatch):
    session = Session(RunConfig(epochs=1, limit=5), raw_mnist)
    recorder = RunRecorder.start(tmp_path, session, 1, source="test")
    path = recorder.board.path

    def full(*args):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(recorder.board.file, "write", full)
    with pytest.raises(RecordingError, match=f"^{path}: No space left on device$"):
        for record in session.run(1):          # the 10th step writes the first point
            recorder.add(record)
    assert record.step == 10
    monkeypatch.undo()
    recorder.close()
    import socket

    import cnn.runs.board as board
    from cnn.atomic import WriteError
    monkeypatch.setattr(board.time, "time_ns", lambda: 42)
    target = tmp_path / "elsewhere"
    link = tmp_path / f"{EVENT_PREFIX}1000.{socket.gethostname()}.{os.getpid()}.42"
    link.symlink_to(target)
    with pytest.raises(WriteError, match=f"^{link}: is a symbolic link, which is not followed$"):
        board.RunBoard(tmp_path, session, clock=lambda: 1000.0)
    assert not target.exists()


@pytest.mark.slow    # TensorBoard reads the files through TensorFlow's record reader
def test_tensorboard_reads_the_scalars_of_metrics_jsonl(tmp_path, cli_mnist_once):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    folder = recorded_run(tmp_path)
    board = EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0, "images": 0})
    board.Reload()
    epochs = [r for r in read_records(folder / "metrics.jsonl") if isinstance(r, EpochRecord)]
    for name in ("train_loss", "test_loss", "test_accuracy"):
        assert [(e.step, e.value) for e in board.Scalars(f"epoch/{name}")] == \
            [(r.epoch * 300, np.float32(getattr(r, name))) for r in epochs]
    assert len(board.Scalars("loss/steps")) == 60
    assert len(board.Histograms("weights/0.kernels")) == 3
    assert board.Images("kernels/first_convolution")[0].width > 0


def test_the_studio_records_events_through_the_same_recorder(tmp_path, raw_mnist):
    from app.model.recording import Recording
    recording = Recording(tmp_path)
    session = Session(RunConfig(epochs=1, limit=10), raw_mnist)
    recording.begin(session, 1, "bundled MNIST")
    for record in session.run(1):
        recording.keep(record)
    folder = recording.end()
    (board,) = folder.glob(EVENT_PREFIX + "*")
    (epoch,) = [r for r in read_records(folder / "metrics.jsonl") if isinstance(r, EpochRecord)]
    assert scalars(read_events(board))["epoch/test_loss"] == [(20, np.float32(epoch.test_loss))]
