"""Weights in and out of the studio model: a weights file (or a .keras model) opened or saved, and
the step-through's copy of the weights and its Apply (one real engine step on its sample)."""
from __future__ import annotations

import os
from pathlib import Path

from cnn import weights_file
from cnn.atomic import WriteError
from cnn.bridge import load_any
from cnn.config import RunConfig
from cnn.evaluation import accuracy_text, evaluate
from cnn.session import Session
from cnn.step import NonFinite

from app.model.loaded_config import config_for
from app.model.snapshot import StepRequest, weights_of
from app.model.state import RunState


class WeightsFiles:
    def __init__(self, studio):
        self.studio = studio
        self._read = None    # (path, the file's stat signature, its network): checked, for the load that follows

    def check(self, path: str) -> None:
        """Read the file before the window asks whether its network may replace training kept nowhere: a file that
        cannot be read is refused first (failed, nothing asked), a readable one is said (readable) and its network
        kept for the load."""
        def check():
            self._read = None
            signature, network = _signature(path), load_any(path)
            config_for(network, self._config(), path)    # what the load would refuse, refused now
            self._read = (path, signature, network)
            self.studio.emit("readable", path)
        self.studio.guarded(check, busy=f"Reading {path}…")

    def _network(self, path: str):
        """The file's network (a weights file, or a .keras or .onnx model through the bridge): the one `check`
        read if the file has not changed since."""
        read, self._read = self._read, None
        if read is not None and read[0] == path and read[1] == _signature(path):
            return read[2]
        return load_any(path)

    def _config(self) -> RunConfig:
        return self.studio.session.config if self.studio.session else RunConfig()

    def load(self, path: str) -> None:
        """Replace the network by the file's, or report why not and keep the current one."""
        studio = self.studio

        def load():
            network = self._network(path)
            config = config_for(network, self._config(), path)
            session = Session(config, studio.load_raw(), network, source=studio.source())
            studio.end_run()
            accuracy = studio.install(session, path)
            studio.runs.weights_file = Path(path).name   # its first Start's run is named for it
            studio.timeline.loaded(path)   # RUN@STEP: the timeline offers that run's moments
            studio.emit("loaded", path)
            studio.emit("message", f"Loaded weights from {path}: test accuracy {accuracy_text(accuracy)} on "
                                   f"{len(session.dataset.test.x):,} test images")
        studio.guarded(load, busy=f"Loading {path}…")

    def save(self, path: str) -> None:
        studio = self.studio
        if studio.session is None:
            studio.emit("failed", "There is no network to save yet.")
            return
        running = studio.state is RunState.RUNNING
        studio.pause()

        def save():
            try:
                weights_file.save(studio.session.network, path)
            except OSError as error:  # named by the chosen path (once): never the temporary file beside it
                reason = error.reason if isinstance(error, WriteError) else error.strerror or error
                raise OSError(f"{path}: could not save the weights: {reason}") from None
            studio.emit("saved", path)
            studio.runs.changed_outside_runs(saved_to=path)
            studio.emit("message", f"Saved weights to {path}" + ("; training paused to save them (Space goes on)"
                                                                 if running else ""))
        studio.guarded(save)

    def send(self) -> None:
        """A copy of the weights for the step-through; training pauses first."""
        studio = self.studio
        if studio.session is None:
            studio.emit("failed", "There is no network yet.")
            return
        studio.pause()
        studio.emit("weights", weights_of(studio.session, studio.version))

    def apply(self, version: int, request: StepRequest) -> None:
        """The step-through's Apply: from its weights (made from weights `version`, edits included),
        one real engine step on its sample with the session's optimizer."""
        studio = self.studio
        if studio.session is None or studio.state is RunState.RUNNING:
            studio.emit("failed", "The update was not applied: pause or stop training first.")
            return
        if version != studio.version:
            studio.emit("failed", "The update was not applied: the network changed since the step-through read it. "
                                  "It now shows the current weights.")
            self.send()
            return
        studio.guarded(lambda: self._apply(request))

    def _apply(self, request: StepRequest) -> None:
        studio = self.studio
        session = studio.session
        network, optimizer, test = session.network, session.optimizer, session.dataset.test
        accuracy_before = evaluate(network, test, session.loss).accuracy
        before = {name: value.copy() for name, value in network.params.items()}
        network.set_params(request.params)  # checks every name and shape before changing any
        try:
            session.step(request.x, request.y)
        except NonFinite as problem:  # the step changed nothing; the edits go too
            network.set_params(before)
            raise ValueError(f"The update was not applied: {problem}.") from None
        studio.version += 1
        studio.runs.changed_outside_runs()   # one step no run records
        after = evaluate(network, test, session.loss)
        studio.inspection.emit_test_evaluation(after)
        studio.inspection.emit_snapshot()
        studio.emit("message", f"Applied one step of {'Adam' if optimizer.kind == 'adam' else 'SGD'} "
                               f"(η = {optimizer.current_learning_rate:g}"
                               + (f", μ = {optimizer.momentum:g}" if optimizer.kind == "sgd" and optimizer.momentum
                                  else "")
                               + f") from the step-through: test accuracy {accuracy_text(accuracy_before)} → "
                               f"{accuracy_text(after.accuracy)}.")
        studio.emit("update_applied", accuracy_before, after.accuracy)
        studio.emit("weights", weights_of(session, studio.version))


def _signature(path: str) -> tuple:
    """What tells a file changed since it was read: its inode, size and modification time (OSError if it is gone)."""
    found = os.stat(path)
    return found.st_ino, found.st_size, found.st_mtime_ns
