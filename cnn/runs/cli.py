"""cnn-runs: the recorded runs of a folder, one run's settings and moments, and its metrics as CSV.

    cnn-runs list DIR          one line per run: folder, name, status, epochs, best test accuracy (or why it is damaged)
    cnn-runs show RUN          the run's settings, then one line per moment: step S  epoch E  test accuracy A
    cnn-runs csv RUN OUT.csv   the epochs to OUT.csv, the steps to OUT-steps.csv (the studio's Export CSV)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import weights_file
from ..data import DataFileError, load_mnist
from ..evaluation import accuracy_text
from ..session import Session, loss_for
from ..train import evaluate
from .export import export_csv, steps_path
from .moments import list_moments
from .opening import data_path
from .store import RunStore, inspect


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnn-runs", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    listing = commands.add_parser("list", help="one line per run in DIR")
    listing.add_argument("folder", metavar="DIR")
    show = commands.add_parser("show", help="a run's settings and its moments")
    show.add_argument("run", metavar="RUN")
    show.add_argument("--no-evaluate", action="store_true",
                      help="print the test accuracy measured at epochs' ends only; do not evaluate the other moments")
    csv = commands.add_parser("csv", help="a run's metrics as CSV (what the studio's Export CSV writes)")
    csv.add_argument("run", metavar="RUN")
    csv.add_argument("out", metavar="OUT.csv")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "list":
            return list_runs(Path(args.folder))
        if args.command == "show":
            return show(Path(args.run), evaluate_all=not args.no_evaluate)
        epochs, steps = export_csv(_run_folder(Path(args.run)), Path(args.out))
        print(f"wrote {args.out} ({epochs} epochs) and {steps_path(Path(args.out))} ({steps} steps)")
        return 0
    except (ValueError, OSError, DataFileError) as error:
        print(f"cnn-runs: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ncnn-runs: interrupted", file=sys.stderr)
        return 130


def _run_folder(folder: Path) -> Path:
    if not folder.is_dir():
        raise ValueError(f"{folder}: {'no such run folder' if not folder.exists() else 'not a run folder'}")
    return folder


def list_runs(root: Path) -> int:
    if not _run_folder(root):
        return 2
    for entry in RunStore(root).list():
        print(run_line(entry))
    return 0


def run_line(entry) -> str:
    info = entry.info
    if info is None:
        return f"{entry.path.name}  {entry.status}  ({entry.reason})"
    best = "—" if info.best_test_accuracy is None else accuracy_text(info.best_test_accuracy)
    epochs = f"epochs {info.epochs_done}/{info.epochs_planned}"
    line = f"{entry.path.name}  {info.name}  {entry.status}  {epochs}  best {best}"
    return line + (f"  ({entry.reason})" if entry.reason else "")


def show(folder: Path, evaluate_all: bool = True) -> int:
    entry = inspect(_run_folder(folder))
    print(run_line(entry))
    if entry.info is None and not (Path(folder) / "moments").is_dir():
        return 2    # not a run at all: the line above says why
    test = None
    if entry.info is not None:
        for name, value in entry.info.settings.as_dict().items():
            print(f"  {name}: {value}")
        if evaluate_all:
            try:
                test = Session(entry.info.settings, load_mnist(data_path(entry.info))).dataset.test
            except (DataFileError, OSError, ValueError) as error:   # the moments are listed all the same
                print(f"the moments inside an epoch are not evaluated: the run's data cannot be read ({error})")
    moments, damaged = list_moments(folder)
    if not moments and not damaged:
        print("no moments (the run was recorded before moments were kept)")
    for moment in moments:
        print(f"step {moment.step}  epoch {epoch_text(moment.epoch)}  test accuracy {_accuracy(moment, test)}")
    for item in damaged:
        print(f"{item.name}: damaged: {item.reason}")
    return 0


def epoch_text(epoch: float) -> str:
    return str(int(epoch)) if epoch == int(epoch) else f"{epoch:.3f}"


def _accuracy(moment, test) -> str:
    """As measured at the moment's epoch end, else measured now on the run's test images (`test`)."""
    if moment.test_accuracy is not None:
        return accuracy_text(moment.test_accuracy)
    if test is None:
        return "—"
    try:
        network = weights_file.load(moment.path)
    except weights_file.WeightsFileError as error:
        return f"— ({error})"
    return accuracy_text(evaluate(network, test, loss_for(network)).accuracy)


if __name__ == "__main__":
    sys.exit(main())
