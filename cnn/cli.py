"""cnn-train: with no arguments, the original experiment (20 epochs, lr 0.1, per-sample SGD on 100
images each of 0 and 1); prints each epoch's mean loss, every test prediction and the accuracy."""
from __future__ import annotations

import argparse
import sys
import time

from . import io
from .config import RunConfig
from .data import DataFileError, download_mnist, load_mnist
from .layer import DTYPES
from .presets import PRESETS
from .session import Session
from .runs.lock import RunBusy
from .runs.opening import BUNDLED, data_path, open_run
from .runs.recorder import RunRecorder
from .train import EpochRecord, TrainingDiverged, evaluate


def _limit(text: str):
    if text == "all":
        return text
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive number of images per class, or 'all'")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnn-train", description=__doc__)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="original",
                        help="the experiment whose defaults the other options override (default: original)")
    parser.add_argument("--epochs", type=int, help="training epochs; 0 only evaluates (with --load)")
    parser.add_argument("--lr", type=float, help="learning rate, in (0, 100]")
    parser.add_argument("--momentum", type=float, help="SGD momentum in [0, 1)")
    parser.add_argument("--lr-decay", type=float, help="multiply the learning rate by this after every epoch")
    parser.add_argument("--shift", type=int, help="augmentation: move each training image by up to this many pixels")
    parser.add_argument("--limit", type=_limit, help="images per class from train and test, or 'all'")
    parser.add_argument("--classes", type=int, nargs="+", help="digits to tell apart, e.g. --classes 0 1")
    parser.add_argument("--batch-size", type=int, help="samples per SGD step (1: per-sample SGD)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the weights and the shuffle (default 0)")
    parser.add_argument("--dtype", choices=sorted(DTYPES), help="floating-point type of the network")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--data", metavar="PATH", help="an .npz in Keras' MNIST layout or a folder of IDX files "
                                                       "(default: the bundled MNIST)")
    source.add_argument("--download", action="store_true", help="fetch MNIST with keras.datasets (needs TensorFlow)")
    parser.add_argument("--save", metavar="PATH", help="write the trained weights to this .npz")
    parser.add_argument("--load", metavar="PATH", help="start from the weights in this .npz")
    parser.add_argument("--quiet", action="store_true", help="skip the per-image predictions")
    add_run_options(parser)
    return parser


def add_run_options(parser: argparse.ArgumentParser) -> None:
    runs = parser.add_mutually_exclusive_group()
    runs.add_argument("--runs", metavar="DIR", help="record the run (settings, metrics, checkpoints) in a new folder "
                                                     "under DIR")
    runs.add_argument("--continue", dest="continue_run", metavar="RUN_FOLDER",
                      help="continue a recorded run from its last checkpoint, in its own folder: its remaining "
                           "planned epochs, or --epochs more")


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.epochs is not None and args.epochs < 0:
        parser.error("--epochs must be 0 or more")
    if args.continue_run:
        _refuse_settings_with_continue(parser, args)
    recorder = None
    try:
        if args.continue_run:
            session, epochs, recorder = continued(args.continue_run, args.epochs, args.data)
            if epochs:
                run(session, epochs, recorder)
            return _report(args, session)
        config = RunConfig.from_preset(
            args.preset, classes=args.classes, epochs=args.epochs or None, learning_rate=args.lr,
            batch_size=args.batch_size, momentum=args.momentum, seed=args.seed, dtype=args.dtype,
            lr_decay=args.lr_decay, shift=args.shift)
        if args.limit is not None:
            config = config.with_changes(limit=None if args.limit == "all" else args.limit)
        epochs = 0 if args.epochs == 0 else config.epochs
        raw = download_mnist() if args.download else load_mnist(args.data)
        network = io.load(args.load) if args.load else None
        if network is not None and args.dtype:
            network.astype(args.dtype)
        session = Session(config, raw, network, source=args.data or BUNDLED)
        if epochs:
            if args.runs:
                recorder = RunRecorder.start(args.runs, session, epochs, source=args.data or BUNDLED)
            run(session, epochs, recorder)
    except (DataFileError, io.WeightsFileError, ValueError, RunBusy, OSError) as error:
        print(f"cnn-train: error: {error}", file=sys.stderr)
        return 2
    except TrainingDiverged as error:
        print(f"cnn-train: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ncnn-train: interrupted", file=sys.stderr)
        return 130
    finally:
        if recorder is not None:
            recorder.close()
    return _report(args, session)


def _report(args, session: Session) -> int:
    """The predictions, the test accuracy and the saved weights, as every run ends."""
    config = session.config
    result = evaluate(session.network, session.dataset.test, session.loss)
    if not args.quiet:
        for predicted, true in zip(result.predictions, session.dataset.test.labels, strict=True):
            print(f"pred: {config.classes[predicted]}, true: {true}")
    print(f"test accuracy: {100 * result.accuracy:.1f}%")
    if args.save:
        io.save(session.network, args.save)
        print(f"saved weights to {args.save}")
    return 0


def run(session: Session, epochs: int, recorder: RunRecorder | None = None) -> None:
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    for record in session.run(epochs):
        if recorder is not None:
            recorder.add(record)
        if isinstance(record, EpochRecord):
            if bar:
                bar.clear()
            print(f"epoch {record.epoch}/{record.epochs}  train loss {record.train_loss:.6f}  "
                  f"test loss {record.test_loss:.6f}  test accuracy {100 * record.test_accuracy:.1f}%  "
                  f"({record.seconds:.1f} s)", flush=True)
        elif bar:
            bar.show(record)


_SETTINGS = ("preset", "lr", "momentum", "lr_decay", "shift", "limit", "classes", "batch_size", "dtype", "load",
             "download")


def _refuse_settings_with_continue(parser: argparse.ArgumentParser, args) -> None:
    given = [name for name in _SETTINGS if getattr(args, name) not in (None, False)
             and not (name == "preset" and args.preset == "original")]
    if args.seed != 0:
        given.append("seed")
    if given:
        parser.error(f"--continue trains with the run's own settings; drop --{given[0].replace('_', '-')}")


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


class ProgressBar:
    """One line on a terminal, redrawn at most ten times a second."""

    def __init__(self, stream, width: int = 30):
        self.stream, self.width = stream, width
        self.last_draw = 0.0
        self.epoch_started = time.perf_counter()
        self.samples = 0

    def show(self, record) -> None:
        if record.step == 1:
            self.epoch_started, self.samples = time.perf_counter(), 0
        self.samples += record.batch_size
        now = time.perf_counter()
        if now - self.last_draw < 0.1 and record.step != record.steps_per_epoch:
            return
        self.last_draw = now
        done = record.step / record.steps_per_epoch
        rate = self.samples / max(now - self.epoch_started, 1e-9)
        filled = int(done * self.width)
        self.stream.write(f"\repoch {record.epoch} [{'#' * filled}{'.' * (self.width - filled)}] "
                          f"{record.step}/{record.steps_per_epoch}  loss {record.loss:.4f}  {rate:,.0f} samples/s")
        self.stream.flush()

    def clear(self) -> None:
        self.stream.write("\r" + " " * (self.width + 70) + "\r")
        self.stream.flush()
