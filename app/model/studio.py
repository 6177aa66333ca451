"""The studio model: one Qt-free object that owns what the studio shows and does — the session
(network, data, optimizer), the run's state, its recording, the chosen sample — and takes every
command by one route, `command(name, *values)`. What changes is sent as events (app/model/events.py)
through `emit`; the views draw what they are sent.

It runs on the worker's thread (app/training/worker.py: a timer, and its events as Qt signals), or with
no Qt at all: `studio.command("start", config)`, then `while studio.tick(): ...` (one slice a tick).
"""
from __future__ import annotations

import time
import traceback

from cnn import weights_file
from cnn.config import RunConfig
from cnn.data import DataFileError, load_mnist
from cnn.runs.opening import BUNDLED
from cnn.session import Session
from cnn.evaluation import evaluate
from cnn.train import EpochRecord, StepRecord, TrainingDiverged

from app.model.events import Emit
from app.model.lesson_checks import answer as check_lesson
from app.model.inspection import Inspection
from app.model.run_folders import RunFolders
from app.model.weights_files import WeightsFiles
from app.model.workspace_names import NAMES
from app.model.health import measure
from app.model.model_info import default_layer, layer_infos, model_info
from app.model.recording import RecordingFailed, epochs_to_train
from app.model.state import RunState
from app.model.throttle import RedrawThrottle
from app.model.timeline import Timeline

SLICE_SECONDS = 0.02        # training between two looks at the command queue
HEALTH_INTERVAL = 0.2       # seconds between two health measurements (each a pass over the weights: ~0.5 ms)
REFUSED = (weights_file.WeightsFileError, DataFileError, ValueError, OSError)   # a bad file or setting: a message
STUDIO_DATA = object()      # load_raw's default: the data the studio was started with


class Studio:
    def __init__(self, data_path=None, runs_dir=None, emit: Emit | None = None):
        self.data_path = data_path
        self.emit: Emit = emit or (lambda name, *values: None)
        self.session: Session | None = None
        self.state = RunState.IDLE
        self.version = 0   # counts changes of the weights, so that an update applies to the weights it was made from
        self.layers = None          # the session's LayerInfos, made once per network
        self.layer = 0              # the chosen layer's index: the views of one layer show it
        self.workspace = NAMES[0]   # the workspace the window shows
        self.moment = None          # None: the weights as they are now; a recorded moment of the run (time travel)
        self.throttle = RedrawThrottle()   # back-pressure: the views answer each frame with views_drawn
        self.slice_seconds = SLICE_SECONDS   # 0: one record a tick (what tests step through)
        self.inspection = Inspection(self)
        self.runs = RunFolders(self, runs_dir)
        self.files = WeightsFiles(self)
        self.timeline = Timeline(self)   # the moments of the run (time travel): `moment` chooses one
        self._raw, self._raw_source = None, STUDIO_DATA
        self._loop = None
        self._pending: list = []
        self._health: list = []      # HealthRecords not sent yet
        self._last_health = -1.0
        self.unevaluated = False     # steps taken since the test set was last evaluated
        self._commands = {
            "configure": self.configure, "start": self.start, "pause": self.pause, "resume": self.resume,
            "stop": self.stop, "set_learning_rate": self.set_learning_rate, "views_drawn": self.views_drawn,
            "select_sample": self.inspection.select_sample, "select_image": self.inspection.select_image,
            "request_attribution": self.inspection.request_attribution,
            "evaluate_split": self.inspection.evaluate_split, "predict_split": self.inspection.predict_split,
            "check_weights": self.files.check, "load_weights": self.files.load, "save_weights": self.files.save,
            "send_weights": self.files.send,
            "apply_weights": self.files.apply, "open_run": self.runs.open, "continue_run": self.runs.continue_run,
            "reopen": self.reopen, "end_for_quit": self.end_for_quit, "select_layer": self.select_layer,
            "select_workspace": self.select_workspace, **self.timeline.commands,
            "check_lesson": lambda name, facts=None: check_lesson(self, name, facts)}   # a lesson's Try it

    # -- the one route ---------------------------------------------------------------------
    def command(self, name: str, *values) -> None:
        """Carry out the command `name` (one of COMMANDS) with its values."""
        self._commands[name](*values)

    @property
    def commands(self) -> tuple[str, ...]:
        return tuple(self._commands)

    # -- the run ---------------------------------------------------------------------------
    def configure(self, config: RunConfig) -> None:
        """A fresh network and data set from the settings (Reset)."""
        self.end_run()
        self.guarded(lambda: self.install_fresh(config), busy="Preparing the data and the network…")

    def reopen(self, folder: str, config: RunConfig) -> None:
        """The studio starts again: the run shown when it closed, if it can still be opened (Start goes on
        with it), else a fresh network from the settings, with one note saying why."""
        def load():
            try:
                self.runs.load(folder)
            except REFUSED as error:
                self.emit("message", f"The run shown when the studio closed is not opened again: {error}")
                self.install_fresh(config)
        self.guarded(load, busy="Opening the run shown when the studio closed…")

    def start(self, config: RunConfig) -> None:
        if self.state is not RunState.IDLE:
            return

        def begin():
            changed = self.runs.recording.training_changes(self.session, config)
            if changed:  # a run is one set of settings: others make a new run, as TensorBoard keeps them
                self.emit("message", f"{', '.join(changed)}: a new run from a fresh network (Continue in the Runs "
                                     "panel goes on with the last run).")
                self.install_fresh(config)
            elif self.session is not None and self.session.can_resume(config):
                self.session = self.session.resumed(config)  # same network and data: nothing rebuilt
            else:
                if self.session is not None:
                    self.emit("message", "The data or network settings changed: starting from a fresh network.")
                self.install_fresh(config)
            epochs = epochs_to_train(self.session.epochs_done, config.epochs)
            self.runs.record(epochs, grown=self.session.epochs_done >= config.epochs)
            self._loop = self.session.run(epochs)
            self._last_health = -1.0  # a run's first step is always measured
            self.throttle.reset()
            self.emit("run_started", self.session.epochs_done, self.session.epochs_done + epochs)
            self.set_state(RunState.RUNNING)
        self.guarded(begin)

    def pause(self) -> None:
        if self.state is RunState.RUNNING:
            self.guarded(self.runs.recording.flush)   # the epochs' files written: the frame's run_changed goes too
            self.flush(force=True)
            self.set_state(RunState.PAUSED)
            self.inspection.evaluate_if_moved()

    def resume(self) -> None:
        if self.state is RunState.PAUSED:
            self.set_state(RunState.RUNNING)

    def stop(self) -> None:
        if self.state is not RunState.IDLE:
            self.end_run()
            self.inspection.evaluate_if_moved()
            self.emit("message", "Training stopped.")

    def set_learning_rate(self, value: float) -> None:
        if self.session is not None:
            self.guarded(lambda: setattr(self.session.optimizer, "learning_rate", value))

    def select_layer(self, index: int) -> None:
        """The layer the views of one layer show (a layer of the network shown, else nothing changes)."""
        if self.layers is not None and 0 <= index < len(self.layers) and index != self.layer:
            self.layer = index
            self.emit("layer_chosen", index)

    def select_workspace(self, name: str) -> None:
        """The workspace the window shows: the window says which it turned to; another caller asks it to turn."""
        if name in NAMES and name != self.workspace:
            self.workspace = name
            self.emit("workspace_chosen", name)
            self.inspection.catch_up()

    def views_drawn(self, draw_seconds: float) -> None:
        """The views drew the last frame, in draw_seconds: the next one may go when the throttle allows."""
        self.throttle.drawn(draw_seconds)

    def end_for_quit(self) -> None:
        """The window is closing: the run ends (its checkpoint at the step it is at) and quit_ready says what
        quitting would lose: a checkpoint that could not be written. (Training kept nowhere the window asks about
        before, from `kept`.)"""
        problem = self.end_run() if self.state is not RunState.IDLE else None
        self.emit("quit_ready", problem or "")

    def shutdown(self) -> None:
        self.end_run()

    def tick(self) -> bool:
        """Train for one slice (slice_seconds, at least one record) while running; True while the run goes on."""
        if self.state is not RunState.RUNNING:
            return False
        deadline = time.perf_counter() + self.slice_seconds
        self.version += 1
        try:
            while True:
                record = next(self._loop)
                self._pending.append(record)
                self.unevaluated = isinstance(record, StepRecord)   # an epoch's end evaluates the test set
                now = time.perf_counter()
                if isinstance(record, StepRecord) and now - self._last_health >= HEALTH_INTERVAL:
                    # right after the step: the network still holds its activations and update
                    self._health.append(measure(self.session.network, self.session.optimizer, record))
                    self._last_health = now
                self.runs.keep(record)
                if self.state is not RunState.RUNNING or time.perf_counter() >= deadline:
                    break
        except StopIteration:
            self.end_run()
            self.emit("finished")
            return False
        except (TrainingDiverged, RecordingFailed) as error:
            self.end_run()
            self.emit("failed", str(error))
            return False
        except Exception as error:  # never let a bug take the window down; say what happened
            traceback.print_exc()
            self.end_run()
            self.emit("failed", f"Training stopped by an unexpected error: {error}")
            return False
        self.flush()
        return True

    def flush(self, force: bool = False) -> None:
        """Sends the records so far and a snapshot when the throttle allows (app/model/throttle.py),
        or now if forced (pause, stop). Records wait, never dropped; an epoch's end waits too (with
        short epochs, a redraw at every one cost a quarter of the training speed)."""
        now = time.perf_counter()
        if not force and not self.throttle.due(now):
            return
        self.throttle.emitted(now)
        self.runs.tell_changes()   # with the frame: the Runs panel and the timeline re-read the run
        if self._pending:
            epochs = [record for record in self._pending if isinstance(record, EpochRecord)]
            self.emit("records", tuple(self._pending))
            self._pending = []
            if self._health:
                self.emit("health", tuple(self._health))
                self._health = []
            if epochs and self.moment is None:  # the newest epoch's predictions mark the misclassified thumbnails
                self.inspection.emit_predictions(epochs[-1].test_predictions)
                if epochs[-1].test_outputs is not None:
                    self.inspection.emit_results(epochs[-1].test_outputs, epochs[-1].epoch)
        if self.session is not None:
            self.inspection.end_frame(running=not force and self.state is RunState.RUNNING)

    def end_run(self) -> str | None:
        """Ends the run (its recording writes a checkpoint of the weights as they are); returns what went
        wrong closing the recording, if anything (also sent as failed)."""
        if self._loop is not None:
            self._loop.close()
            self._loop = None
        self.flush(force=True)
        problem = self.runs.stop_recording()
        self.set_state(RunState.IDLE)
        return problem

    # -- the network shown -----------------------------------------------------------------
    def install_fresh(self, config: RunConfig) -> None:
        self.install(Session(config, self.load_raw(), source=self.source()), f"new network (seed {config.seed})")

    def install(self, session: Session, source: str, planned: int = 0) -> float:
        """Shows the session's network; returns its test accuracy."""
        self.session = session
        self.timeline.forget()      # live: the moments of another network are not this one's
        self.unevaluated = False    # evaluated below
        layers = layer_infos(session)
        if self.layers is None or [layer.title for layer in layers] != [layer.title for layer in self.layers]:
            self.layer = default_layer(layers)   # another network: its first convolution; the same: the same layer
        self.layers = layers
        self.runs.new_network()     # its first Start makes a new run; it has no training of its own yet
        self.version += 1
        self.emit("model_changed", model_info(session, source, planned))
        self.emit("layer_chosen", self.layer)
        evaluation = evaluate(session.network, session.dataset.test, session.loss)
        self.inspection.emit_test_evaluation(evaluation)
        self.inspection.emit_snapshot()
        return evaluation.accuracy

    def load_raw(self, path=STUDIO_DATA):
        """The studio's data, or that at `path` (None: the bundled MNIST) for an opened run; the data
        in use is read once and kept."""
        path = self.data_path if path is STUDIO_DATA else path
        if self._raw is None or self._raw_source != path:
            self._raw = load_mnist(path)
            self._raw_source = path
        return self._raw

    def source(self) -> str:
        return str(self.data_path) if self.data_path else BUNDLED

    def set_state(self, state: RunState) -> None:
        if state != self.state:
            self.state = state
            self.emit("state_changed", state)

    def guarded(self, action, busy: str = "") -> None:
        """Run a command; a bad file or setting becomes a message, never a crash. `busy` says what a
        long command does while it runs."""
        if busy:
            self.emit("busy", busy)
        try:
            action()
        except REFUSED as error:
            self.emit("failed", str(error))
        except Exception as error:
            traceback.print_exc()
            self.emit("failed", f"Unexpected error: {error}")
        finally:
            if busy:
                self.emit("busy", "")
