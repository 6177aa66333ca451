"""cnn-train: with no arguments, the original experiment (20 epochs, lr 0.1, per-sample SGD on 100
images each of 0 and 1); prints each epoch's mean loss, every test prediction and the accuracy."""
from __future__ import annotations

import argparse
import sys

from . import arch, atomic, io
from .bridge import BridgeUnavailable
from .config import RunConfig, SettingError
from .data import DataFileError, download_mnist, load_mnist
from .evaluation import accuracy_text, confusion_matrix, format_confusion
from .health import EpochHealth
from .layer import DTYPES
from .presets import PRESETS
from .ranges import CHOICES, RANGES
from .progress_bar import ProgressBar
from .runs.lock import RunBusy
from .runs.opening import BUNDLED, data_path, open_run
from .runs.recorder import RunRecorder
from .session import Session
from .train import EpochRecord, TrainingDiverged, evaluate

# The option that sets each run setting: messages about a setting name the option the user typed.
OPTIONS = {"preset": "--preset", "epochs": "--epochs", "learning_rate": "--lr", "momentum": "--momentum",
           "lr_decay": "--lr-decay", "shift": "--shift", "limit": "--limit", "classes": "--classes",
           "batch_size": "--batch-size", "seed": "--seed", "dtype": "--dtype", "architecture": "--arch",
           "optimizer": "--optimizer"}
ALSO_ACCEPTED = {"epochs": "or 0 to only evaluate"}   # what the CLI accepts beyond RunConfig's range


def _limit(text: str):
    """'all' or a whole number; its range is RunConfig's to check."""
    if text == "all":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of images per class, or 'all', not {text!r}") \
            from None


def _path(text: str) -> str:
    if not text:
        raise argparse.ArgumentTypeError("the path is empty")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnn-train", description=__doc__)

    def setting(field, **kwargs):
        parser.add_argument(OPTIONS[field], dest=field, **kwargs)
    setting("preset", choices=sorted(PRESETS), default="original",
            help="the experiment whose defaults the other options override (default: original)")
    setting("epochs", type=int, help="training epochs, 1 to 10000; 0 only evaluates (with --load)")
    setting("learning_rate", type=float, help=f"learning rate, {RANGES['learning_rate'].describe()}")
    setting("optimizer", choices=CHOICES["optimizer"], help="sgd (with --momentum) or adam (β₁ 0.9, β₂ 0.999, "
            "ε 1e-8; --lr is its step size η)")
    setting("momentum", type=float, help=f"SGD momentum, {RANGES['momentum'].describe()} (sgd only)")
    setting("lr_decay", type=float, help="epoch e runs at the learning rate × this^(e−1), "
            f"{RANGES['lr_decay'].describe()}, never below {RANGES['learning_rate'].low:g}")
    setting("shift", type=int, help="augmentation: move each training image by a random −N…+N pixels down and "
            "across")
    setting("limit", type=_limit, help="images per class from train and test, or 'all'")
    setting("classes", type=int, nargs="+", help="digits to tell apart, e.g. --classes 0 1")
    setting("batch_size", type=int, help="samples per SGD step (1: per-sample SGD)")
    setting("seed", type=int, default=0, help="seed for the weights and the shuffle (default 0)")
    setting("dtype", choices=sorted(DTYPES), help="floating-point type of the network")
    setting("architecture", metavar="SPEC", help="the network: layers in words, e.g. \"conv 8 3x3 bias=kernel, relu, "
            "maxpool 2, dense 10\" (conv DEPTH KxK [bias=position|kernel] [init=normal|he|xavier], maxpool S, "
            "dense N [init=...], sigmoid, tanh, relu, softmax), or a JSON file of a weights header's architecture")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--data", metavar="PATH", type=_path,
                        help="an .npz in Keras' MNIST layout or a folder of IDX files (default: the bundled MNIST)")
    source.add_argument("--download", action="store_true", help="fetch MNIST with keras.datasets (needs TensorFlow)")
    parser.add_argument("--save", metavar="PATH", type=_path, help="write the trained weights to this .npz")
    parser.add_argument("--load", metavar="PATH", type=_path, help="start from the weights in this .npz")
    parser.add_argument("--quiet", action="store_true", help="skip the per-image predictions")
    add_run_options(parser)
    add_engine_options(parser)
    return parser


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", choices=("numpy", "keras"), default="numpy",
                        help="train with this engine: numpy (ours, the default) or keras (TensorFlow, inside a "
                             "tf.distribute strategy; needs the keras extra)")
    parser.add_argument("--distribute", choices=("mirrored", "multi-worker"),
                        help="with --engine keras: mirrored (the default: every local GPU, or every logical CPU) or "
                             "multi-worker (MultiWorkerMirroredStrategy, the cluster from TF_CONFIG)")


def keras_engine(args):
    """For --engine keras: (records(session, epochs), whether this process writes runs and weights);
    (None, True) for our engine. The strategy is made first, before TensorFlow does anything else."""
    if args.engine != "keras":
        if args.distribute:
            raise ValueError("--distribute needs --engine keras")
        return None, True
    from .bridge.engine import is_chief, keras_run, make_strategy
    strategy = make_strategy(args.distribute or "mirrored")
    return (lambda session, epochs: keras_run(session, epochs, strategy)), is_chief(strategy)


def add_run_options(parser: argparse.ArgumentParser) -> None:
    runs = parser.add_mutually_exclusive_group()
    runs.add_argument("--runs", metavar="DIR", help="record the run (settings, metrics, checkpoints) in a new folder "
                                                     "under DIR")
    runs.add_argument("--continue", dest="continue_run", metavar="RUN_FOLDER",
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
    if args.continue_run:
        _refuse_settings_with_continue(parser, args)
    try:
        return _main(args)
    except KeyboardInterrupt:
        print("\ncnn-train: interrupted", file=sys.stderr)
        return 130


def _main(args) -> int:
    recorder = None
    try:
        records, writes = keras_engine(args)
        if not writes:   # another worker of the cluster records the run and saves the weights
            args.runs = args.save = None
        if args.save is not None:
            io.check_save_target(args.save)   # now, not after a long training
        if args.continue_run:
            session, epochs, recorder = continued(args.continue_run, args.epochs, args.data)
        else:
            session, epochs = _new_session(args)
            if epochs and args.runs:
                recorder = RunRecorder.start(args.runs, session, epochs, source=args.data or BUNDLED)
        if epochs:
            run(session, epochs, recorder, records(session, epochs) if records else None)
    except BridgeUnavailable as error:
        return _fail(str(error), 3)
    except SettingError as error:
        return _fail(f"error: {setting_message(error)}", 2)
    except atomic.WriteError as error:
        return _fail(f"error: --save {error}", 2)
    except (DataFileError, io.WeightsFileError, ValueError, RunBusy, OSError) as error:
        return _fail(f"error: {error}", 2)
    except TrainingDiverged as error:
        return _fail(str(error), 1)
    finally:
        if recorder is not None:
            recorder.close()
    return _report(args, session)


def _new_session(args) -> tuple[Session, int]:
    """The session the options describe, and the epochs to train (0: only evaluate)."""
    overrides = {field: getattr(args, field) for field in OPTIONS if field not in ("preset", "limit")}
    overrides["epochs"] = None if args.epochs == 0 else args.epochs
    overrides["architecture"] = architecture_option(args.architecture, args.load)
    config = RunConfig.from_preset(args.preset, **overrides)
    if args.limit is not None:
        config = config.with_changes(limit=None if args.limit == "all" else args.limit)
    raw = download_mnist() if args.download else load_mnist(args.data)
    network = io.load(args.load) if args.load is not None else None
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
        rescued = io.save_or_rescue(session.network, path)
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
    """Print (and record) the training's records: `records`, or the session's own run."""
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    health, warned = EpochHealth(), False
    for record in records if records is not None else session.run(epochs):
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


def _refuse_settings_with_continue(parser: argparse.ArgumentParser, args) -> None:
    defaults = {"preset": "original", "seed": 0, "epochs": args.epochs}   # --epochs N: N more epochs
    given = [OPTIONS.get(name, f"--{name}") for name in (*OPTIONS, "load", "download")
             if getattr(args, name) not in (None, False, defaults.get(name))]
    if given:
        parser.error(f"--continue trains with the run's own settings; drop {given[0]}")


def continued(folder: str, more_epochs: int | None, data: str | None) -> tuple[Session, int, RunRecorder | None]:
    """The session saved in the run's last checkpoint, the epochs left to train (its planned ones,
    or `more_epochs`), and a recorder writing them into the same folder (None when nothing is left)."""
    info, checkpoint = open_run(folder)
    session = Session.from_checkpoint(checkpoint, load_mnist(data or data_path(info)), source=data or info.data)
    epochs = more_epochs if more_epochs is not None else info.epochs_planned - checkpoint.epoch
    if epochs <= 0 and more_epochs is None:
        raise ValueError(f"{folder}: the run has done all its {info.epochs_planned} planned epochs; "
                         "add --epochs N to train N more")
    return session, epochs, (RunRecorder.resume(folder, session, epochs) if epochs else None)
