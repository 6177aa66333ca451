"""The chosen sample and what the studio computes for it: its snapshot (every layer's output and
gradient), your own image's, the attribution maps a view asked for, and the test set's results."""
from __future__ import annotations

import dataclasses
import time

import numpy as np

from cnn.evaluation import evaluate, evaluate_samples, results_of

from app.model.explainer import explain
from app.model.my_samples import ImageSample, as_split, snapshot_of
from app.model.snapshot import take_snapshot
from app.model.state import RunState
from app.model.workspace_names import SNAPSHOT_WORKSPACES

EXPLAIN_EVERY = 1.0         # while training runs, the attribution maps follow at most this often (seconds)


class Inspection:
    def __init__(self, studio):
        self.studio = studio
        self.sample = ("test", 0)      # (split, index), or an ImageSample
        self.image: ImageSample | None = None   # your latest image, chosen or not
        self.attribution_request = None   # AttributionRequest while a view shows the maps
        self.unsent = False            # frames went without a snapshot (no view shown draws one)
        self._explained_at = 0.0

    def select_sample(self, split: str, index: int) -> None:
        self.sample = (split if split in ("train", "test") else "test", index)
        if self.studio.session is not None:
            self.studio.guarded(self.emit_snapshot)

    def select_image(self, sample: ImageSample) -> None:
        """One of your images (a drawing, an opened picture) becomes the chosen sample."""
        self.sample = self.image = sample
        if self.studio.session is not None:
            self.studio.guarded(self.emit_snapshot)

    def request_attribution(self, request) -> None:
        """An AttributionRequest: the maps follow every snapshot from now on; None: no maps."""
        self.attribution_request = request
        if self.studio.session is not None and request is not None:
            self.studio.guarded(lambda: self.emit_attribution(force=True))

    def evaluate_split(self, split: str) -> None:
        """Every sample of a split ("test" or "train") with the weights shown: evaluated."""
        session = self.studio.timeline.shown()
        if session is None:
            return
        data = session.dataset.train if split == "train" else session.dataset.test
        self.studio.guarded(lambda: self.studio.emit("evaluated", evaluate_samples(
            session.network, split, data, session.dataset.classes, session.loss), None))

    def predict_split(self, split: str) -> None:
        """The digits the network shown predicts for every image of `split` ('train' or 'test')."""
        session = self.studio.timeline.shown()
        if session is None:
            return
        data = session.dataset.train if split == "train" else session.dataset.test

        def predict():
            predicted = evaluate(session.network, data, session.loss).predictions
            self.studio.emit("predictions", split, np.asarray(session.dataset.classes)[predicted])
        self.studio.guarded(predict)

    def evaluate_if_moved(self) -> None:
        """Stopped or paused within an epoch: the test set's results (the Results panel, the misclassified
        thumbnails) would be those of weights the steps since have changed, so they are computed again."""
        session = self.studio.session
        if self.studio.unevaluated and session is not None and self.studio.moment is None:
            self.studio.unevaluated = False
            self.studio.guarded(lambda: self.emit_test_evaluation(
                evaluate(session.network, session.dataset.test, session.loss)))

    # -- what is sent ------------------------------------------------------------------------
    def emit_predictions(self, predictions) -> None:
        self.studio.emit("test_predictions", np.asarray(self.studio.session.dataset.classes)[predictions])

    def emit_test_evaluation(self, evaluation) -> None:
        self.emit_predictions(evaluation.predictions)
        self.emit_results(evaluation.outputs)

    def emit_results(self, test_outputs, epoch: int | None = None) -> None:
        """The test split's per-sample results from the network's outputs for it (after `epoch`)."""
        session = self.studio.session
        dataset = session.dataset
        self.studio.emit("evaluated", results_of("test", dataset.test, dataset.classes, session.loss, test_outputs),
                         epoch)

    def end_frame(self, running: bool) -> None:
        """A frame's snapshot; while training runs in a workspace with no view of one, `frame` instead: its
        forward and backward pass would be the training thread's time for nothing (a turn sends it)."""
        if running and self.studio.workspace not in SNAPSHOT_WORKSPACES:
            self.unsent = True
            self.studio.emit("frame", None)
        else:
            self.emit_snapshot()

    def catch_up(self) -> None:
        """A workspace shown: the snapshot that frames went without, if it has a view of one."""
        if self.unsent and self.studio.workspace in SNAPSHOT_WORKSPACES and self.studio.session is not None:
            self.studio.guarded(self.emit_snapshot)

    def emit_snapshot(self) -> None:
        self.unsent = False
        session, layers, emit = self.studio.timeline.shown(), self.studio.layers, self.studio.emit
        if isinstance(self.sample, ImageSample):
            snapshot = snapshot_of(session, self.sample, layers)
            emit("snapshot", snapshot)
            emit("image_snapshot", snapshot)
        else:
            emit("snapshot", take_snapshot(session, *self.sample, layers))
            if self.image is not None:  # one more sample's pass: Your digit's answer is never of older weights
                emit("image_snapshot", snapshot_of(session, self.image, layers))
        self.emit_attribution()

    def emit_attribution(self, force: bool = False) -> None:
        """The maps of the chosen sample, if a view asked; while training runs, at most every EXPLAIN_EVERY s."""
        request, now = self.attribution_request, time.perf_counter()
        running = self.studio.state is RunState.RUNNING
        if request is None or (running and now - self._explained_at < EXPLAIN_EVERY and not force):
            return
        self._explained_at = now
        session = self.studio.timeline.shown()   # the moment shown (time travel), or the weights now
        if isinstance(self.sample, ImageSample):
            x, sample = as_split(session, self.sample).x, (self.sample.name, self.sample.number)
            if self.sample.drawing:   # occlusion waits for the pen to lift
                request = dataclasses.replace(request, occlusion=False)
        else:
            split, index = self.sample
            data = session.dataset.train if split == "train" else session.dataset.test
            index = min(max(index, 0), len(data.x) - 1)
            x, sample = data.x[index:index + 1], (split, index)
        if running:   # one forward pass per patch position: only when training waits
            request = dataclasses.replace(request, occlusion=False)
        self.studio.emit("attribution", explain(session, x, sample, request))
