"""The training worker: owns the session (network, data, optimizer) on its own thread.

Every command arrives as a queued slot call, so the worker never needs a lock: training runs
in short slices driven by a zero-interval timer, and between slices Qt delivers pause, stop,
learning-rate and sample requests. The worker never touches a widget; it emits immutable
records and snapshots holding copies.
"""
from __future__ import annotations

import dataclasses
import time
import traceback
from pathlib import Path

import numpy as np

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal, Slot

from cnn import io
from cnn.bridge import load_any
from cnn.config import RunConfig
from cnn.data import DataFileError, load_mnist
from cnn.runs.opening import BUNDLED, data_path, open_run
from cnn.session import Session
from cnn.evaluation import accuracy_text, evaluate_samples, results_of
from cnn.step import NonFinite
from cnn.train import EpochRecord, StepRecord, TrainingDiverged, evaluate

from app.training.explainer import explain
from app.training.my_samples import ImageSample, as_split, snapshot_of
from app.training.recording import NotRecorded, Recording, RecordingFailed, epochs_to_train
from app.training.run_curves import read_curves
from app.training.health import measure
from app.training.loaded_config import config_for
from app.training.model_info import layer_infos, model_info
from app.training.snapshot import StepRequest, take_snapshot, weights_of
from app.training.state import RunState
from app.training.throttle import RedrawThrottle

SLICE_SECONDS = 0.02        # training between two looks at the event queue
HEALTH_INTERVAL = 0.2       # seconds between two health measurements (each a pass over the weights: ~0.5 ms)
EXPLAIN_EVERY = 1.0         # while training runs, the attribution maps follow at most this often (seconds)
STUDIO_DATA = object()      # _load_raw's default: the data the studio was started with


class TrainingWorker(QObject):
    records = Signal(object)         # tuple of StepRecord / EpochRecord, every one, in order
    snapshot = Signal(object)        # Snapshot
    image_snapshot = Signal(object)  # Snapshot of your latest image, with every snapshot (also when an MNIST
    #                                  image is the chosen sample): Your digit follows the weights
    model_changed = Signal(object)   # ModelInfo
    state_changed = Signal(object)   # RunState
    run_started = Signal(int, int)   # epochs the session had done before the run, and will have at its end
    failed = Signal(str)             # a message for the user; the model is as it was
    busy = Signal(str)               # what a long command is doing ('' when it is done)
    loaded = Signal(str)             # a weights file was read and its network is shown
    saved = Signal(str)              # the network was written to this file
    message = Signal(str)            # a status-bar note
    finished = Signal()              # a run completed all its epochs
    test_predictions = Signal(object)  # digits predicted for every test image
    predictions = Signal(str, object)  # split, digits predicted for its every image (asked by predict_split)
    health = Signal(object)          # tuple of HealthRecord, in order, sent with the records
    weights = Signal(object)         # Weights: a copy for the step-through
    history = Signal(object)         # RunCurves: an opened run's curves, sent after its model_changed
    run_changed = Signal(str)        # a run folder was made, got an epoch, or ended (the Runs panel reads it)
    current_run = Signal(str)        # the run folder the network belongs to ("" for none yet)
    run_opened = Signal(object)      # the RunConfig of a run just opened (after its model_changed)
    update_applied = Signal(float, float)   # the step-through's update: test accuracy before and after it
    attribution = Signal(object)     # Attribution of the chosen sample, when a view asked (request_attribution)
    evaluated = Signal(object, object)  # SampleResults of a split, and the epoch it ends (None: the weights now)

    def __init__(self, data_path=None, runs_dir=None):
        super().__init__()
        self.data_path = data_path
        self.runs_dir = Path(runs_dir) if runs_dir is not None else None   # None: nothing is recorded
        self.recording = Recording(self.runs_dir)
        self._raw_source = STUDIO_DATA
        self.session: Session | None = None
        self.state = RunState.IDLE
        self._raw = None
        self._loop = None
        self._pending: list = []
        self._health: list = []      # HealthRecords not sent yet
        self._last_health = -1.0
        self._layers = None          # the session's LayerInfos, made once per network
        # Back-pressure: the GUI answers each frame with views_drawn (a queued call, like every command).
        self.throttle = RedrawThrottle()
        self._sample = ("test", 0)
        self._image: ImageSample | None = None   # your latest image, chosen or not
        self._timer = None
        self._version = 0  # counts changes of the weights, so that an update applies to the weights it was made from
        self._attribution_request = None   # AttributionRequest while a view shows the maps
        self._explained_at = 0.0
        self._unevaluated = False   # steps taken since the test set was last evaluated

    # -- commands (queued from the GUI thread) -------------------------------------------
    @Slot(object)
    def configure(self, config: RunConfig) -> None:
        """A fresh network and data set from the settings (Reset)."""
        self._end_run()
        self._guarded(lambda: self._install_fresh(config), busy="Preparing the data and the network…")

    @Slot(object)
    def start(self, config: RunConfig) -> None:
        if self.state is not RunState.IDLE:
            return

        def begin():
            changed = self.recording.training_changes(self.session, config)
            if changed:  # a run is one set of settings: others make a new run, as TensorBoard keeps them
                self.message.emit(f"{', '.join(changed)}: a new run from a fresh network (Continue in the Runs "
                                  "panel goes on with the last run).")
                self._install_fresh(config)
            elif self.session is not None and self.session.can_resume(config):
                self.session = self.session.resumed(config)  # same network and data: nothing rebuilt
            else:
                if self.session is not None:
                    self.message.emit("The data or network settings changed: starting from a fresh network.")
                self._install_fresh(config)
            epochs = epochs_to_train(self.session.epochs_done, config.epochs)
            self._record(epochs)
            self._loop = self.session.run(epochs)
            self._last_health = -1.0  # a run's first step is always measured
            self.throttle.reset()
            self.run_started.emit(self.session.epochs_done, self.session.epochs_done + epochs)
            self._set_state(RunState.RUNNING)
            self._ensure_timer()
            self._timer.start()
        self._guarded(begin)

    @Slot()
    def pause(self) -> None:
        if self.state is RunState.RUNNING:
            self._timer.stop()
            self._flush(force=True)
            self._guarded(self.recording.flush)
            self._set_state(RunState.PAUSED)
            self._evaluate_if_moved()

    @Slot()
    def resume(self) -> None:
        if self.state is RunState.PAUSED:
            self._set_state(RunState.RUNNING)
            self._timer.start()

    @Slot()
    def stop(self) -> None:
        if self.state is not RunState.IDLE:
            self._end_run()
            self._evaluate_if_moved()
            self.message.emit("Training stopped.")

    @Slot(float)
    def set_learning_rate(self, value: float) -> None:
        if self.session is not None:
            self._guarded(lambda: setattr(self.session.optimizer, "learning_rate", value))

    @Slot(float)
    def views_drawn(self, draw_seconds: float) -> None:
        """The views drew the last frame, in draw_seconds: the next one may go when the throttle allows."""
        self.throttle.drawn(draw_seconds)

    @Slot(str, int)
    def select_sample(self, split: str, index: int) -> None:
        self._sample = (split if split in ("train", "test") else "test", index)
        if self.session is not None:
            self._guarded(self._emit_snapshot)

    @Slot(object)
    def select_image(self, sample: ImageSample) -> None:
        """One of your images (a drawing, an opened picture) becomes the chosen sample."""
        self._sample = self._image = sample
        if self.session is not None:
            self._guarded(self._emit_snapshot)

    @Slot(object)
    def request_attribution(self, request) -> None:
        """An AttributionRequest: the maps follow every snapshot from now on; None: no maps."""
        self._attribution_request = request
        if self.session is not None and request is not None:
            self._guarded(lambda: self._emit_attribution(force=True))

    @Slot(str)
    def evaluate_split(self, split: str) -> None:
        """Every sample of a split ("test" or "train") with the current weights: evaluated."""
        if self.session is None:
            return
        data = self.session.dataset.train if split == "train" else self.session.dataset.test
        self._guarded(lambda: self.evaluated.emit(evaluate_samples(
            self.session.network, split, data, self.session.dataset.classes, self.session.loss), None))

    @Slot(str)
    def predict_split(self, split: str) -> None:
        """The digits the network predicts for every image of `split` ('train' or 'test')."""
        if self.session is None:
            return
        data = self.session.dataset.train if split == "train" else self.session.dataset.test

        def predict():
            predicted = evaluate(self.session.network, data, self.session.loss).predictions
            self.predictions.emit(split, np.asarray(self.session.dataset.classes)[predicted])
        self._guarded(predict)

    @Slot(str)
    def load_weights(self, path: str) -> None:
        """Replace the network by the file's, or report why not and keep the current one."""
        def load():
            network = load_any(path)   # a weights file, or a .keras model through the bridge
            config = config_for(network, self.session.config if self.session else RunConfig(), path)
            session = Session(config, self._load_raw(), network, source=self._source())
            self._end_run()
            accuracy = self._install(session, path)
            self.loaded.emit(path)
            self.message.emit(f"Loaded weights from {path}: test accuracy {accuracy_text(accuracy)} on "
                              f"{len(session.dataset.test.x):,} test images")
        self._guarded(load, busy=f"Loading {path}…")

    @Slot(str)
    def save_weights(self, path: str) -> None:
        if self.session is None:
            self.failed.emit("There is no network to save yet.")
            return
        if self.state is RunState.RUNNING:
            self.pause()

        def save():
            try:
                io.save(self.session.network, path)
            except OSError as error:  # named by the chosen path: never the temporary file beside it
                raise OSError(f"{path}: could not save the weights: {error.strerror or error}") from None
            self.saved.emit(path)
            self.message.emit(f"Saved weights to {path}")
        self._guarded(save)

    @Slot()
    def send_weights(self) -> None:
        """A copy of the weights for the step-through; training pauses first."""
        if self.session is None:
            self.failed.emit("There is no network yet.")
            return
        if self.state is RunState.RUNNING:
            self.pause()
        self.weights.emit(weights_of(self.session, self._version))

    @Slot(int, object)
    def apply_weights(self, version: int, request: StepRequest) -> None:
        """The step-through's Apply: from its weights (made from weights `version`, edits included),
        one real engine step on its sample with the session's optimizer."""
        if self.session is None or self.state is RunState.RUNNING:
            self.failed.emit("The update was not applied: pause or stop training first.")
            return
        if version != self._version:
            self.failed.emit("The update was not applied: the network changed since the step-through read it. "
                             "It now shows the current weights.")
            self.send_weights()
            return

        def apply():
            network, optimizer = self.session.network, self.session.optimizer
            test = self.session.dataset.test
            accuracy_before = evaluate(network, test, self.session.loss).accuracy
            before = {name: value.copy() for name, value in network.params.items()}
            network.set_params(request.params)  # checks every name and shape before changing any
            try:
                self.session.step(request.x, request.y)
            except NonFinite as problem:  # the step changed nothing; the edits go too
                network.set_params(before)
                raise ValueError(f"The update was not applied: {problem}.") from None
            self._version += 1
            after = evaluate(network, test, self.session.loss)
            self._emit_test_evaluation(after)
            self._emit_snapshot()
            self.message.emit(f"Applied one step of {'Adam' if optimizer.kind == 'adam' else 'SGD'} "
                              f"(η = {optimizer.current_learning_rate:g}"
                              + (f", μ = {optimizer.momentum:g}" if optimizer.momentum else "")
                              + f") from the step-through: test accuracy {accuracy_text(accuracy_before)} → "
                              f"{accuracy_text(after.accuracy)}.")
            self.update_applied.emit(accuracy_before, after.accuracy)
            self.weights.emit(weights_of(self.session, self._version))
        self._guarded(apply)

    @Slot()
    def shutdown(self) -> None:
        """Ends any run and hands this object back to the main thread, so that it (and its timer)
        can be destroyed there once the worker thread has finished."""
        self._end_run()
        if self._timer is not None:
            self._timer.stop()
            self._timer.setParent(None)
            self._timer = None  # deleted here, on the thread that started it
        self.moveToThread(QCoreApplication.instance().thread())

    # -- the training slices ------------------------------------------------------------
    def _ensure_timer(self) -> None:
        if self._timer is None:  # created on first use, in the worker's own thread
            self._timer = QTimer(self)
            self._timer.setInterval(0)
            self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        deadline = time.perf_counter() + SLICE_SECONDS
        self._version += 1
        try:
            while True:
                record = next(self._loop)
                self._pending.append(record)
                self._unevaluated = isinstance(record, StepRecord)   # an epoch's end evaluates the test set
                now = time.perf_counter()
                if isinstance(record, StepRecord) and now - self._last_health >= HEALTH_INTERVAL:
                    # right after the step: the network still holds its activations and update
                    self._health.append(measure(self.session.network, self.session.optimizer, record))
                    self._last_health = now
                self._keep(record)
                if time.perf_counter() >= deadline:
                    break
        except StopIteration:
            self._end_run()
            self.finished.emit()
            return
        except (TrainingDiverged, RecordingFailed) as error:
            self._end_run()
            self.failed.emit(str(error))
            return
        except Exception as error:  # never let a bug take the window down; say what happened
            traceback.print_exc()
            self._end_run()
            self.failed.emit(f"Training stopped by an unexpected error: {error}")
            return
        self._flush()

    def _flush(self, force: bool = False) -> None:
        """Sends the records so far and a snapshot when the throttle allows (app/training/throttle.py),
        or now if forced (pause, stop). Records wait, never dropped; an epoch's end waits too (with
        short epochs, a redraw at every one cost a quarter of the training speed)."""
        now = time.perf_counter()
        if not force and not self.throttle.due(now):
            return
        self.throttle.emitted(now)
        if self._pending:
            epochs = [record for record in self._pending if isinstance(record, EpochRecord)]
            self.records.emit(tuple(self._pending))
            self._pending = []
            if self._health:
                self.health.emit(tuple(self._health))
                self._health = []
            if epochs:  # the newest epoch's predictions mark the misclassified thumbnails
                self._emit_predictions(epochs[-1].test_predictions)
                if epochs[-1].test_outputs is not None:
                    self._emit_results(epochs[-1].test_outputs, epochs[-1].epoch)
        if self.session is not None:
            self._emit_snapshot()

    def _end_run(self) -> None:
        if self._loop is not None:
            self._loop.close()
            self._loop = None
        if self._timer is not None:
            self._timer.stop()
        self._flush(force=True)
        self._stop_recording()
        self._set_state(RunState.IDLE)

    def _evaluate_if_moved(self) -> None:
        """Stopped or paused within an epoch: the test set's results (the Results panel, the misclassified
        thumbnails) would be those of weights the steps since have changed, so they are computed again."""
        if self._unevaluated and self.session is not None:
            self._unevaluated = False
            self._guarded(lambda: self._emit_test_evaluation(
                evaluate(self.session.network, self.session.dataset.test, self.session.loss)))

    # -- runs on disk (the rules: app/training/recording.py) -----------------------------------
    @property
    def run_folder(self) -> Path | None:
        """The run the session's network belongs to."""
        return self.recording.folder

    @property
    def recorder(self):
        """The run's recorder while it trains, else None."""
        return self.recording.recorder

    def _record(self, epochs: int) -> None:
        try:
            curves = self.recording.begin(self.session, epochs, self._source())
        except NotRecorded as error:   # training is not refused for it, but not silently
            self.failed.emit(str(error))
            return
        if curves is not None:
            self.history.emit(curves)
        self.current_run.emit(str(self.recording.folder or ""))

    def _keep(self, record) -> None:
        if self.recording.keep(record):
            self.run_changed.emit(str(self.recording.folder))

    def _stop_recording(self) -> None:
        try:
            folder = self.recording.end()
        except OSError as error:
            folder = self.recording.folder
            self.failed.emit(f"{folder}: the run's status could not be written ({error})")
        if folder is not None:
            self.run_changed.emit(str(folder))

    def _set_run_folder(self, folder) -> None:
        self.recording.folder = Path(folder) if folder is not None else None
        self.current_run.emit(str(folder or ""))

    @Slot(str)
    def open_run(self, folder: str) -> None:
        """Show a recorded run: its last checkpoint's network and its curves; the next Start goes on
        with it in its own folder. A run that cannot be opened leaves everything as it was."""
        if self.recording.is_recording(folder):
            return

        def load():
            info, checkpoint = open_run(folder)
            session = Session.from_checkpoint(checkpoint, self._load_raw(data_path(info)), source=info.data)
            curves = read_curves(folder, up_to_epoch=checkpoint.epoch)
            self._end_run()
            self._install(session, f"run “{info.name}”")
            self._set_run_folder(folder)
            self.run_opened.emit(session.config.with_changes(epochs=max(info.epochs_planned, 1)))   # its plan
            self.history.emit(curves)
            self.message.emit(f"Opened the run “{info.name}” after epoch {checkpoint.epoch}")
        self._guarded(load)

    @Slot(str, int)
    def continue_run(self, folder: str, epochs: int) -> None:
        """Train the run in `folder` for `epochs` more epochs with its own settings, from its last
        checkpoint (or from the network shown, when that is the run's)."""
        if self.state is not RunState.IDLE:
            return
        if self.run_folder != Path(folder):
            self.open_run(folder)
            if self.run_folder != Path(folder):
                return      # it could not be opened; the reason was sent
        self.start(self.session.config.with_changes(epochs=self.session.epochs_done + epochs))   # the new total

    # -- helpers -----------------------------------------------------------------------------
    def _install_fresh(self, config: RunConfig) -> None:
        self._install(Session(config, self._load_raw(), source=self._source()), f"new network (seed {config.seed})")

    def _install(self, session: Session, source: str) -> float:
        """Shows the session's network; returns its test accuracy."""
        self.session = session
        self._unevaluated = False    # evaluated below
        self._layers = layer_infos(session)
        self._set_run_folder(None)  # a new network: its first Start makes a new run
        self._version += 1
        self.model_changed.emit(model_info(session, source))
        evaluation = evaluate(session.network, session.dataset.test, session.loss)
        self._emit_test_evaluation(evaluation)
        self._emit_snapshot()
        return evaluation.accuracy

    def _emit_predictions(self, predictions) -> None:
        self.test_predictions.emit(np.asarray(self.session.dataset.classes)[predictions])

    def _emit_test_evaluation(self, evaluation) -> None:
        self._emit_predictions(evaluation.predictions)
        self._emit_results(evaluation.outputs)

    def _emit_results(self, test_outputs, epoch: int | None = None) -> None:
        """The test split's per-sample results from the network's outputs for it (after `epoch`)."""
        dataset = self.session.dataset
        self.evaluated.emit(results_of("test", dataset.test, dataset.classes, self.session.loss, test_outputs), epoch)

    def _emit_snapshot(self) -> None:
        if isinstance(self._sample, ImageSample):
            snapshot = snapshot_of(self.session, self._sample, self._layers)
            self.snapshot.emit(snapshot)
            self.image_snapshot.emit(snapshot)
        else:
            self.snapshot.emit(take_snapshot(self.session, *self._sample, self._layers))
            if self._image is not None:  # one more sample's pass: the dock's answer is never of older weights
                self.image_snapshot.emit(snapshot_of(self.session, self._image, self._layers))
        self._emit_attribution()

    def _emit_attribution(self, force: bool = False) -> None:
        """The maps of the chosen sample, if a view asked; while training runs, at most every EXPLAIN_EVERY s."""
        request, now = self._attribution_request, time.perf_counter()
        recent = self.state is RunState.RUNNING and now - self._explained_at < EXPLAIN_EVERY
        if request is None or (recent and not force):
            return
        self._explained_at = now
        if isinstance(self._sample, ImageSample):
            x, sample = as_split(self.session, self._sample).x, (self._sample.name, self._sample.number)
            if self._sample.drawing:   # occlusion waits for the pen to lift
                request = dataclasses.replace(request, occlusion=False)
        else:
            split, index = self._sample
            data = self.session.dataset.train if split == "train" else self.session.dataset.test
            index = min(max(index, 0), len(data.x) - 1)
            x, sample = data.x[index:index + 1], (split, index)
        if self.state is RunState.RUNNING:   # one forward pass per patch position: only when training waits
            request = dataclasses.replace(request, occlusion=False)
        self.attribution.emit(explain(self.session, x, sample, request))

    def _load_raw(self, path=STUDIO_DATA):
        """The studio's data, or that at `path` (None: the bundled MNIST) for an opened run; the data
        in use is read once and kept."""
        path = self.data_path if path is STUDIO_DATA else path
        if self._raw is None or self._raw_source != path:
            self._raw = load_mnist(path)
            self._raw_source = path
        return self._raw

    def _source(self) -> str:
        return str(self.data_path) if self.data_path else BUNDLED

    def _set_state(self, state: RunState) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)

    def _guarded(self, action, busy: str = "") -> None:
        """Run a command; a bad file or setting becomes a message, never a crash. `busy` says what a
        long command does while it runs."""
        if busy:
            self.busy.emit(busy)
        try:
            action()
        except (io.WeightsFileError, DataFileError, ValueError, OSError) as error:
            self.failed.emit(str(error))
        except Exception as error:
            traceback.print_exc()
            self.failed.emit(f"Unexpected error: {error}")
        finally:
            if busy:
                self.busy.emit("")
