"""The events the studio model sends to whoever shows it (the worker's adapter turns each into the
Qt signal of the same name). Each is sent as `emit(name, *values)`; the values are immutable or
copies, so a receiver on another thread never shares state with the model."""
from __future__ import annotations

from typing import Callable

EVENTS = {
    "records": "tuple of StepRecord / EpochRecord, every one, in order",
    "snapshot": "Snapshot of the chosen sample",
    "frame": "None: a frame's end while training runs in a workspace that shows no snapshot (none was made for it)",
    "image_snapshot": "Snapshot of your latest image, with every snapshot: Your digit follows the weights",
    "model_changed": "ModelInfo of a network now shown",
    "state_changed": "RunState",
    "run_started": "epochs the session had done before the run, and will have at its end",
    "failed": "a message for the user; the model is as it was",
    "busy": "what a long command is doing ('' when it is done)",
    "loaded": "a weights file was read and its network is shown",
    "readable": "a weights file checked before its network replaces training kept nowhere: it reads (check_weights)",
    "saved": "the network was written to this file",
    "message": "a status-bar note",
    "finished": "a run completed all its epochs",
    "test_predictions": "digits predicted for every test image (None: not known for the weights shown)",
    "predictions": "split, digits predicted for its every image",
    "health": "tuple of HealthRecord, in order, sent with the records",
    "weights": "Weights: a copy for the step-through",
    "history": "RunCurves: an opened run's curves, sent after its model_changed",
    "run_changed": "a run folder was made, got an epoch, or ended",
    "current_run": "the run folder the network belongs to ('' for none yet)",
    "kept": "Kept: whether the training of the network shown is kept (a run's checkpoint, a file), when it changes",
    "run_opened": "the RunConfig of a run just opened (after its model_changed)",
    "update_applied": "the step-through's update: test accuracy before and after it",
    "attribution": "Attribution of the chosen sample, when a view asked",
    "evaluated": "SampleResults of a split, and the epoch it ends (None: the weights now)",
    "quit_ready": "the run is ended for a quit: what quitting would lose ('' for nothing)",
    "layer_chosen": "the index of the layer the views of one layer show",
    "workspace_chosen": "the name of the workspace the window shows",
    "lesson_answer": "a lesson's Try it checked: the check's name, whether it is done, the answer in words",
    "moments": "MomentList: the moments of the run shown, by step (app/model/timeline.py)",
    "moment_chosen": "the step of the moment the views show and its epoch position (None, None: live)",
    "over_time": "OverTime: each parameter's distribution at every moment, the chosen sample's probabilities",
}

Emit = Callable[..., None]


class Recorder:
    """An `emit` that keeps what it is sent: for tests and scripts that drive the model without Qt."""

    def __init__(self):
        self.sent: list[tuple] = []

    def __call__(self, name: str, *values) -> None:
        if name not in EVENTS:
            raise KeyError(f"unknown event {name!r}")
        self.sent.append((name, *values))

    def of(self, name: str) -> list:
        """The values of every `name` event so far (one value, or a tuple of them)."""
        return [item[1] if len(item) == 2 else item[1:] for item in self.sent if item[0] == name]

    def last(self, name: str):
        found = self.of(name)
        return found[-1] if found else None
