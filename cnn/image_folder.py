"""--data FOLDER of pictures, one subfolder per class (as torchvision's ImageFolder and Keras'
image_dataset_from_directory read them):

    FOLDER/0/a.png FOLDER/0/b.jpg … FOLDER/1/…           a share of each class held out as the test set
    FOLDER/train/0/… FOLDER/train/1/… FOLDER/test/0/…     the test set beside the training set

Pictures of any size and any format Pillow reads (cnn.pictures, bounded before decoding) are made
28×28 by MNIST's own preprocessing (cnn.preprocess), or with `raw` taken as they are (28×28 grey
levels). Class folders named 0–9 are those digits; any other names (at most ten) are the digits
0, 1, … in their sorted order. The result is the same raw arrays an MNIST file gives (cnn.data).
Every problem is a DataFileError naming the file or folder."""
from __future__ import annotations

import argparse
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .mnist_files import IDX_FILES, MAX_IMAGES, DataFileError
from .pictures import PictureError, read_grey
from .preprocess import EmptyImage, preprocess
from .ranges import number_option

DEFAULT_TEST_SHARE = 0.1
SPLIT_SEED = 0           # the held-out share is drawn with this seed: every run of a folder tests on the same images
MAX_CLASSES = 10
PROGRESS_EVERY = 10_000  # -v says how far reading a large folder has come
log = logging.getLogger("cnn.image_folder")


@dataclass(frozen=True)
class DataChoice:
    """A --data path and how a folder of pictures there is read; os.fspath() and str() give the path."""
    path: str
    raw: bool = False
    test_share: float | None = None      # None: DEFAULT_TEST_SHARE, unless the folder has test/

    def __fspath__(self) -> str:
        return self.path

    def __str__(self) -> str:
        return self.path


def add_folder_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--raw", action="store_true",
                        help="with --data FOLDER of pictures: take them as they are (28×28 grey levels, a light "
                             "digit on a dark ground) instead of MNIST's preprocessing")
    parser.add_argument("--test-share", metavar="FRACTION", type=_share,
                        help="with --data FOLDER of pictures without a test/ folder: the share of each class held "
                             f"out as the test set (default {DEFAULT_TEST_SHARE})")


_share = number_option("a fraction more than 0 and less than 1", lambda value: 0 < value < 1)


def data_choice(path, raw: bool = False, test_share: float | None = None):
    """`path` as load_mnist takes it: a DataChoice when the options say how to read pictures."""
    if path is None:
        if raw or test_share is not None:
            raise DataFileError("--raw and --test-share need --data FOLDER (a folder of pictures)")
        return None
    return DataChoice(os.fspath(path), raw, test_share) if raw or test_share is not None else path


def is_picture_folder(path) -> bool:
    """A folder with subfolders and without MNIST's IDX files: it is read as class folders of pictures."""
    folder = Path(os.fspath(path))
    if not folder.is_dir() or any(os.path.lexists(folder / name) or os.path.lexists(folder / f"{name}.gz")
                                  for name in IDX_FILES.values()):
        return False
    try:
        with os.scandir(folder) as entries:
            return any(entry.is_dir() and not entry.name.startswith(".") for entry in entries)
    except OSError:
        return False


def load_picture_folder(choice) -> dict[str, np.ndarray]:
    """x_train, y_train, x_test, y_test (uint8, as cnn.data.load_mnist gives them) from a folder of pictures."""
    choice = choice if isinstance(choice, DataChoice) else DataChoice(os.fspath(choice))
    root = Path(choice.path)
    if (root / "train").is_dir() and (root / "test").is_dir():
        if choice.test_share is not None:
            raise DataFileError(f"--test-share: {root} has its own test/ folder")
        train, test = _classes(root / "train"), _classes(root / "test")
        if set(train) != set(test):
            only_train, only_test = sorted(set(train) - set(test)), sorted(set(test) - set(train))
            raise DataFileError(f"{root}: the class folders differ between train/ and test/: "
                                f"only in train/: {', '.join(only_train) or 'none'}; "
                                f"only in test/: {', '.join(only_test) or 'none'}")
        _check_count(root, sum(map(len, train.values())) + sum(map(len, test.values())))
        digits = _digits(root, sorted(train))
        arrays = {"train": _read(train, digits, choice.raw), "test": _read(test, digits, choice.raw)}
    else:
        classes = _classes(root)
        _check_count(root, sum(map(len, classes.values())))
        digits = _digits(root, sorted(classes))
        arrays = _held_out(root, classes, digits, choice)
    raw = {f"{kind}_{part}": arrays[part][index] for part in ("train", "test") for index, kind in enumerate("xy")}
    log.info("%s: %d classes (%s), %d training and %d test pictures", root, len(digits),
             ", ".join(f"{name} → {digit}" for name, digit in digits.items()), len(raw["y_train"]), len(raw["y_test"]))
    return raw


def _classes(folder: Path) -> dict[str, list[Path]]:
    """Each class folder's name → its files (sorted; hidden ones, such as .DS_Store, left out)."""
    try:
        with os.scandir(folder) as found:
            names = sorted(entry.name for entry in found if not entry.name.startswith(".") and entry.is_dir())
    except OSError as error:
        raise DataFileError(f"{folder}: {error.strerror or error}") from None
    classes = {name: _files(folder / name) for name in names}
    if not classes:
        raise DataFileError(f"{folder}: no class folders (expected one subfolder of pictures per class, or the "
                            "four IDX files of MNIST)")
    return classes


def _files(folder: Path) -> list[Path]:
    files, count = [], 0
    try:
        with os.scandir(folder) as found:
            for entry in found:
                count += 1
                if count > MAX_IMAGES:
                    raise DataFileError(f"{folder}: more than the {MAX_IMAGES:,} pictures this program reads")
                if not entry.name.startswith(".") and not entry.is_dir():
                    files.append(Path(entry.path))
    except OSError as error:
        raise DataFileError(f"{folder}: {error.strerror or error}") from None
    if not files:
        raise DataFileError(f"{folder}: the class folder holds no pictures")
    return sorted(files)


def _check_count(root: Path, count: int) -> None:
    if count > MAX_IMAGES:
        raise DataFileError(f"{root}: {count:,} pictures, more than the {MAX_IMAGES:,} this program reads")


def _digits(root: Path, names: list[str]) -> dict[str, int]:
    """Class folder name → the digit it stands for."""
    if len(names) > MAX_CLASSES:
        raise DataFileError(f"{root}: {len(names)} class folders; at most {MAX_CLASSES} are read (the network's "
                            "classes are the digits 0–9)")
    if all(len(name) == 1 and name.isdigit() for name in names):
        return {name: int(name) for name in names}
    return {name: digit for digit, name in enumerate(names)}


def _picture(path: Path, raw: bool) -> np.ndarray:
    """One picture as MNIST's uint8 28×28: as it is (raw) or preprocessed."""
    try:
        grey = read_grey(path, raw=raw)
        if raw:
            return grey
        return np.round(preprocess(grey).image * 255).astype(np.uint8)
    except PictureError as error:
        raise DataFileError(str(error)) from None
    except EmptyImage as error:
        raise DataFileError(f"{path}: {error}") from None


def _read(classes: dict[str, list[Path]], digits: dict[str, int], raw: bool) -> tuple[np.ndarray, np.ndarray]:
    paths = [(path, digits[name]) for name in sorted(classes) for path in classes[name]]
    x = np.empty((len(paths), 28, 28), dtype=np.uint8)
    for n, (path, _) in enumerate(paths):
        x[n] = _picture(path, raw)
        if (n + 1) % PROGRESS_EVERY == 0:
            log.info("%d of %d pictures read", n + 1, len(paths))
    return x, np.array([digit for _, digit in paths], dtype=np.uint8)


def _held_out(root: Path, classes: dict[str, list[Path]], digits: dict[str, int], choice: DataChoice) -> dict:
    """A share of each class's pictures (drawn with SPLIT_SEED) as the test set, the rest for training."""
    share = DEFAULT_TEST_SHARE if choice.test_share is None else choice.test_share
    rng = np.random.default_rng(SPLIT_SEED)
    train, test = {}, {}
    for name in sorted(classes):
        files = classes[name]
        if len(files) < 2:
            raise DataFileError(f"{root / name}: one picture; holding out a test share needs at least two a class")
        order = rng.permutation(len(files))
        held = min(max(1, round(len(files) * share)), len(files) - 1)
        test[name] = [files[i] for i in sorted(order[:held])]
        train[name] = [files[i] for i in sorted(order[held:])]
    return {"train": _read(train, digits, choice.raw), "test": _read(test, digits, choice.raw)}


def refuse_options_for_files(choice, path) -> None:
    """--raw or --test-share given with an .npz or IDX folder: said, not ignored."""
    if isinstance(choice, DataChoice):
        raise DataFileError(f"--raw and --test-share apply to a folder of pictures (one subfolder per class); "
                            f"{path} is not one")

