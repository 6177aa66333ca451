"""cnn-train's command line: the parser (each setting's option, the data, weights, run and engine
options) and the checks an option's value gets before anything runs, with RunConfig's range errors
said in the words of the command line."""
from __future__ import annotations

import argparse

from .bridge.cluster import CONNECT_TIMEOUT
from .config import SettingError
from .conventions import add_common_options
from .image_folder import add_folder_options
from .layer import DTYPES
from .presets import PRESETS
from .ranges import CHOICES, RANGES, number_option, shown, whole_option
from .settings import OPTIONS, SETTINGS

DESCRIPTION = """cnn-train: with no arguments, the original experiment (20 epochs, lr 0.1, per-sample SGD on 100
images each of 0 and 1); prints each epoch's mean loss, every test prediction and the accuracy."""
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
    parser = argparse.ArgumentParser(prog="cnn-train", description=DESCRIPTION)
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


_seconds = number_option("a number of seconds more than 0 and at most 86400", lambda value: 0 < value <= 86400)


def add_run_options(parser: argparse.ArgumentParser) -> None:
    runs = parser.add_mutually_exclusive_group()
    runs.add_argument("--runs", metavar="DIR", type=_path,
                      help="record the run (settings, metrics, checkpoints) in a new folder under DIR")
    runs.add_argument("--continue", dest="continue_run", metavar="RUN_FOLDER", type=_path,
                      help="continue a recorded run from its last checkpoint, in its own folder: its remaining "
                           "planned epochs, or --epochs more")


def refuse_settings_with_continue(parser: argparse.ArgumentParser, args) -> None:
    defaults = {"preset": "original", "seed": 0, "epochs": args.epochs}   # --epochs N: N more epochs
    given = [OPTIONS.get(name, f"--{name}") for name in (*OPTIONS, "load", "download")
             if getattr(args, name) not in (None, False, defaults.get(name))]
    if given:
        parser.error(f"--continue trains with the run's own settings; drop {given[0]}")


def setting_message(error: SettingError) -> str:
    """A RunConfig range error in the words of the command line."""
    if error.reason:
        return f"{OPTIONS.get(error.field, error.field)}: {error.reason}"
    also = f", {ALSO_ACCEPTED[error.field]}" if error.field in ALSO_ACCEPTED else ""
    return f"{OPTIONS.get(error.field, error.field)} must be {error.expected}{also}, not {error.value!r}"
