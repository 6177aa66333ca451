"""cnn-train: with no arguments, the original experiment (20 epochs, lr 0.1, per-sample SGD on 100
images each of 0 and 1); prints each epoch's mean loss, every test prediction and the accuracy."""
from __future__ import annotations

import argparse
import signal
import sys
import threading

from . import arch, atomic, weights_file
from .bridge import BridgeUnavailable
from .bridge.cluster import CONNECT_TIMEOUT, Unreachable
from .config import RunConfig, SettingError
from .conventions import add_common_options, configure
from .data import DataFileError, download_mnist, load_mnist
from .evaluation import accuracy_text, confusion_matrix, evaluate, format_confusion
from .health import EpochHealth
from .image_folder import add_folder_options, data_choice
from .layer import DTYPES
from .presets import PRESETS
from .ranges import CHOICES, RANGES, shown, whole_option
from .progress_bar import ProgressBar
from .runs.lock import RunBusy
from .runs.opening import BUNDLED, data_path, open_run
from .runs.recorder import CheckpointNotWritten, RecordingError, RunRecorder
from .runs.runfile import MAX_EPOCHS
from .runs.store import LAST
from .session import Session
from .settings import OPTIONS, SETTINGS
from .train import EpochRecord, TrainingDiverged

ALSO_ACCEPTED = {"epochs": "or 0 to only evaluate"}   # what the CLI accepts beyond RunConfig's range


def _limit(text: str):
    """'all' or a whole number; its range is RunConfig's to check."""
    if text == "all":
        return text
    try:
        return whole_option("a whole number of images per class, or 'all'")(text)
    except argparse.ArgumentTypeError as error:
        if str(error).startswith("must be"):
            raise
        raise argparse.ArgumentTypeError(f"must be a whole number of images per class, or 'all', not "
                                         f"{shown(text)!r}") from None


def _whole(field: str):
    """The type of a whole-number setting's option: int(), and a number of thousands of digits refused
    in one short line naming the setting's range (cnn.ranges.whole_option)."""
    also = f", {ALSO_ACCEPTED[field]}" if field in ALSO_ACCEPTED else ""
    return whole_option(RANGES[field].describe() + also)


def _path(text: str) -> str:
    if not text:
        raise argparse.ArgumentTypeError("the path is empty")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnn-train", description=__doc__)
    kinds = {"preset": dict(choices=sorted(PRESETS), default="original"), "epochs": dict(type=_whole("epochs")),
             "learning_rate": dict(type=float), "optimizer": dict(choices=CHOICES["optimizer"]),
             "momentum": dict(type=float), "weight_decay": dict(type=float, metavar="λ"), "lr_decay": dict(type=float),
             "shift": dict(type=_whole("shift")),
             "reshuffle": dict(action=argparse.BooleanOptionalAction), "limit": dict(type=_limit),
             "classes": dict(type=_whole("digit"), nargs="+"), "batch_size": dict(type=_whole("batch_size")),
             "seed": dict(type=_whole("seed"), default=0), "dtype": dict(choices=sorted(DTYPES)),
             "architecture": dict(metavar="SPEC")}    # what each setting's option takes (the words: cnn.settings)
    for name, setting in SETTINGS.items():
        parser.add_argument(setting.option, dest=name, help=setting.help, **kinds[name])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--data", metavar="PATH", type=_path,
                        help="an .npz in Keras' MNIST layout, a folder of IDX files, or a folder of pictures with one "
                             "subfolder per class (default: the bundled MNIST)")
    add_folder_options(parser)
    source.add_argument("--download", action="store_true", help="fetch MNIST with keras.datasets (needs TensorFlow)")
    parser.add_argument("--save", metavar="PATH", type=_path, help="write the trained weights to this .npz")
    parser.add_argument("--load", metavar="PATH", type=_path, help="start from the weights in this .npz")
    parser.add_argument("--quiet", action="store_true", help="skip the per-image predictions")
    add_run_options(parser)
    add_engine_options(parser)
    add_common_options(parser)
    return parser


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", choices=("numpy", "keras"), default="numpy",
                        help="train with this engine: numpy (ours, the default) or keras (TensorFlow, inside a "
                             "tf.distribute strategy; needs the keras extra)")
    parser.add_argument("--distribute", choices=("mirrored", "multi-worker"),
                        help="with --engine keras: mirrored (the default: every local GPU, or every logical CPU) or "
                             "multi-worker (MultiWorkerMirroredStrategy, the cluster from TF_CONFIG)")
    parser.add_argument("--replicas", metavar="N", type=_replicas,
                        help="with --engine keras: split each batch over N replicas (N logical CPU devices, or the "
                             "first N GPUs) under MirroredStrategy")
    parser.add_argument("--connect-timeout", metavar="SECONDS", type=_seconds,
                        help="with --distribute multi-worker: how long to wait for the cluster's other workers to "
                             f"answer before giving up (default {CONNECT_TIMEOUT:g})")


def _replicas(text: str) -> int:
    value = whole_option("a whole number from 1 to 64")(text)
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 64, not {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(f"must be a number of seconds more than 0 and at most 86400, not {text!r}")
    return value


NUMPY_ENGINE = {"engine": "numpy", "replicas": 1, "workers": 1}


def keras_engine(args):
    """For --engine keras: (records(session, epochs), whether this process writes runs and weights,
    what run.json records of the engine); (None, True, NUMPY_ENGINE) for our engine. The strategy is
    made first, before TensorFlow does anything else."""
    if args.connect_timeout is not None and args.distribute != "multi-worker":
        raise ValueError("--connect-timeout needs --distribute multi-worker")
    if args.engine != "keras":
        for given, option in ((args.distribute, "--distribute"), (args.replicas, "--replicas")):
            if given:
                raise ValueError(f"{option} needs --engine keras")
        return None, True, NUMPY_ENGINE
    if args.replicas is not None and args.distribute == "multi-worker":
        raise ValueError("--replicas needs --distribute mirrored (the default); a multi-worker run has each worker's "
                         "devices")
    from .bridge.engine import describe, is_chief, keras_run, make_strategy
    strategy = make_strategy(args.distribute or "mirrored", args.connect_timeout or CONNECT_TIMEOUT, args.replicas)
    return (lambda session, epochs: keras_run(session, epochs, strategy)), is_chief(strategy), describe(strategy)


def add_run_options(parser: argparse.ArgumentParser) -> None:
    runs = parser.add_mutually_exclusive_group()
    runs.add_argument("--runs", metavar="DIR", type=_path,
                      help="record the run (settings, metrics, checkpoints) in a new folder under DIR")
    runs.add_argument("--continue", dest="continue_run", metavar="RUN_FOLDER", type=_path,
                      help="continue a recorded run from its last checkpoint, in its own folder: its remaining "
                           "planned epochs, or --epochs more")


def setting_message(error: SettingError) -> str:
    """A RunConfig range error in the words of the command line."""
    if error.reason:
        return f"{OPTIONS.get(error.field, error.field)}: {error.reason}"
    also = f", {ALSO_ACCEPTED[error.field]}" if error.field in ALSO_ACCEPTED else ""
    return f"{OPTIONS.get(error.field, error.field)} must be {error.expected}{also}, not {error.value!r}"


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure(args, "cnn-train")
    if args.continue_run is not None:
        _refuse_settings_with_continue(parser, args)
    try:
        return _main(args)
    except KeyboardInterrupt:
        print("\ncnn-train: interrupted", file=sys.stderr)
        return 130


class Interrupted(KeyboardInterrupt):
    """Ctrl+C or SIGTERM arrived while training: the loop stopped between two steps."""

    def __init__(self, signum: int):
        self.code = 128 + signum
        super().__init__(signal.Signals(signum).name)


class _StopRequests:
    """While training: the first SIGINT or SIGTERM asks the loop to stop after its step (the run's
    checkpoint is then of the weights as they are), a second one interrupts at once."""

    def __init__(self):
        self.signum, self._previous = None, {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for number in (signal.SIGINT, signal.SIGTERM):
                self._previous[number] = signal.signal(number, self._ask)
        return self

    def _ask(self, signum, frame):
        if self.signum is not None:
            raise KeyboardInterrupt
        self.signum = signum

    def __exit__(self, *problem):
        for number, handler in self._previous.items():
            signal.signal(number, handler)


def _main(args) -> int:
    recorder = None
    try:
        records, writes, engine = keras_engine(args)
        if not writes:   # another worker of the cluster records the run and saves the weights
            args.runs = args.save = None
        if args.save is not None:
            _check_save(args.save)   # now, not after a long training
        if args.continue_run is not None:
            session, epochs, recorder = continued(args.continue_run, args.epochs, args.data, engine, args)
        else:
            session, epochs = _new_session(args)
            if epochs and args.runs:
                recorder = RunRecorder.start(args.runs, session, epochs, source=args.data or BUNDLED, engine=engine)
        if epochs:
            run(session, epochs, recorder, records(session, epochs) if records else None)
        if recorder is not None:
            recorder.close()
    except BridgeUnavailable as error:
        return _fail(str(error), 3)
    except SettingError as error:
        return _fail(f"error: {setting_message(error)}", 2)
    except Unreachable as error:   # before ValueError: a worker that never answered is no bad input
        return _fail(f"error: {error}", 1)
    except RecordingError as error:
        return _fail(f"error: the run could not be recorded: {error}; it stopped there, its last checkpoint kept", 1)
    except (DataFileError, weights_file.WeightsFileError, ValueError, RunBusy, OSError) as error:
        return _fail(f"error: {error}", 2)
    except TrainingDiverged as error:
        return _fail(str(error), 1)
    except Interrupted as stop:
        return _fail(_interrupted_at(session, recorder), stop.code)
    finally:
        _close(recorder)
    return _report(args, session)


def _check_save(path: str) -> None:
    try:
        weights_file.check_save_target(path)
    except atomic.WriteError as error:
        raise ValueError(f"--save {error}") from None


def _close(recorder: RunRecorder | None) -> None:
    """After the run, an error (told already) or an interruption (told by _interrupted_at, which closed
    it): the run ends interrupted if run.json can still be written; if not, its lock is released all
    the same, so it reads as interrupted. A checkpoint that could not be written at the stop is said."""
    if recorder is None:
        return
    try:
        recorder.close()
    except CheckpointNotWritten as error:   # the run stays continuable from its last checkpoint
        print(f"cnn-train: {error}", file=sys.stderr)
    except OSError:
        pass


def _interrupted_at(session: Session, recorder: RunRecorder | None) -> str:
    """Ends the recording (its checkpoint: the weights as they are) and says where the run stopped."""
    position = session.where()
    if recorder is None:
        return f"interrupted {position}"
    try:
        recorder.close()
    except CheckpointNotWritten as error:
        return f"interrupted {position}; {error}"
    except OSError as error:
        return f"interrupted {position}; {error}"
    return f"interrupted {position}; cnn-train --continue {recorder.folder} goes on from there"


def _new_session(args) -> tuple[Session, int]:
    """The session the options describe, and the epochs to train (0: only evaluate)."""
    overrides = {field: getattr(args, field) for field in OPTIONS if field not in ("preset", "limit")}
    overrides["epochs"] = None if args.epochs == 0 else args.epochs
    overrides["architecture"] = architecture_option(args.architecture, args.load)
    config = RunConfig.from_preset(args.preset, **overrides)
    if args.limit is not None:
        config = config.with_changes(limit=None if args.limit == "all" else args.limit)
    choice = data_choice(args.data, args.raw, args.test_share)   # --raw without a folder: refused
    raw = download_mnist() if args.download else load_mnist(choice)
    network = weights_file.load(args.load) if args.load is not None else None
    if network is not None and args.dtype:
        network.astype(args.dtype)
    session = Session(config, raw, network, source=args.data or BUNDLED, weights=args.load)
    return session, 0 if args.epochs == 0 else config.epochs


def architecture_option(spec: str | None, load: str | None) -> str | None:
    """--arch SPEC as the canonical string RunConfig keeps (its classes are RunConfig's to check)."""
    if spec is None:
        return None
    if load is not None:
        raise ValueError("--arch and --load both say which network to train; give one of them")
    try:
        return arch.read_spec(spec)
    except arch.ArchitectureError as error:
        raise ValueError(f"--arch: {error}") from None


def _report(args, session: Session) -> int:
    """The predictions, the confusion matrix with each class's accuracy, the test accuracy and the
    saved weights, as every run ends."""
    result = evaluate(session.network, session.dataset.test, session.loss)
    if not args.quiet:
        for predicted, true in zip(result.predictions, session.dataset.test.labels, strict=True):
            print(f"pred: {session.config.classes[predicted]}, true: {true}")
    matrix = confusion_matrix(session.dataset.test.y.argmax(axis=1), result.predictions, len(session.config.classes))
    print(format_confusion(matrix, session.config.classes))
    print(f"test accuracy: {accuracy_text(result.accuracy)}")
    return _save(session, args.save) if args.save is not None else 0


def _save(session: Session, path: str) -> int:
    """Saves the trained weights; if `path` fails, they go to the temp folder and one line says where."""
    try:
        rescued = weights_file.save_or_rescue(session.network, path)
    except atomic.WriteInterrupted as interrupted:
        return _fail(str(interrupted), 130)
    except KeyboardInterrupt:
        return _fail(f"interrupted; the weights were saved to {path}", 130)
    except atomic.WriteError as error:
        return _fail(f"error: could not save the weights: {error}", 1)
    if rescued is not None:
        return _fail(str(rescued), 1)
    print(f"saved weights to {path}")
    return 0


def _fail(message: str, code: int) -> int:
    print(f"cnn-train: {message}", file=sys.stderr)
    return code


def run(session: Session, epochs: int, recorder: RunRecorder | None = None, records=None) -> None:
    """Print (and record) the training's records: `records`, or the session's own run. Ctrl+C or
    SIGTERM stops it after the step in progress: raises Interrupted."""
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    health, warned = EpochHealth(), False
    loop = records if records is not None else session.run(epochs)
    with _StopRequests() as stop:
        for record in loop:
            if recorder is not None:
                recorder.add(record)
            if isinstance(record, EpochRecord):
                if bar:
                    bar.clear()
                print(f"epoch {record.epoch}/{record.epochs}  train loss {record.train_loss:.6f}  "
                      f"test loss {record.test_loss:.6f}  test accuracy {accuracy_text(record.test_accuracy)}  "
                      f"({record.seconds:.1f} s)", flush=True)
                warning = None if warned else health.warning()
                if warning:  # once a run: a dead network stays dead
                    print(f"warning: {warning}", file=sys.stderr, flush=True)
                    warned = True
                health = EpochHealth()
            else:
                health.see(record)
                if bar:
                    bar.show(record)
            if stop.signum is not None:
                if bar:
                    bar.clear()
                loop.close()
                raise Interrupted(stop.signum)


def _refuse_settings_with_continue(parser: argparse.ArgumentParser, args) -> None:
    defaults = {"preset": "original", "seed": 0, "epochs": args.epochs}   # --epochs N: N more epochs
    given = [OPTIONS.get(name, f"--{name}") for name in (*OPTIONS, "load", "download")
             if getattr(args, name) not in (None, False, defaults.get(name))]
    if given:
        parser.error(f"--continue trains with the run's own settings; drop {given[0]}")


def continued(folder: str, more_epochs: int | None, data: str | None, engine: dict | None = None,
              options=None) -> tuple[Session, int, RunRecorder | None]:
    """The session saved in the run's last checkpoint, the epochs left to train (its planned ones,
    or `more_epochs`), and a recorder writing them into the same folder (None when nothing is left).
    `options`: the command line's --raw and --test-share, for a run on a folder of pictures."""
    info, checkpoint = open_run(folder)
    if more_epochs is not None and checkpoint.epoch + more_epochs > MAX_EPOCHS:
        raise ValueError(f"--epochs {more_epochs}: the run has done {checkpoint.epoch} epochs, and a run has at most "
                         f"{MAX_EPOCHS} in all")
    raw, share = (options.raw, options.test_share) if options is not None else (False, None)
    choice = data_choice(data or data_path(info), raw, share)
    session = Session.from_checkpoint(checkpoint, load_mnist(choice), source=data or info.data,
                                      named=f"{folder}: the checkpoint {LAST}")
    epochs = more_epochs if more_epochs is not None else info.epochs_planned - checkpoint.epoch
    if epochs <= 0 and more_epochs is None:
        raise ValueError(f"{folder}: the run has done all its {info.epochs_planned} planned epochs; "
                         "add --epochs N to train N more")
    return session, epochs, (RunRecorder.resume(folder, session, epochs, engine) if epochs else None)
