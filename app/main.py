"""cnn-studio: open the window; optionally train at once, save a screenshot and exit (for docs and checks)."""
from __future__ import annotations

import argparse
import math
import os
import sys

from cnn import files
from cnn.config import RunConfig
from cnn.conventions import add_common_options, configure
from cnn.image_folder import add_folder_options, data_choice
from cnn.presets import PRESETS
from cnn.ranges import RANGES, SettingError, shown, whole_option

from app.model import settings_file
from app.platform_check import platform_problem
from app.model.workspace_names import NAMES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnn-studio", description=__doc__)
    parser.add_argument("--train", action="store_true", help="start training as soon as the window opens")
    parser.add_argument("--epochs", type=whole_option(RANGES["epochs"].describe()),
                        help="epochs to train (overrides the remembered setting)")
    parser.add_argument("--preset", choices=sorted(PRESETS), help="start from this preset's settings")
    parser.add_argument("--lr", type=float, help="learning rate (overrides the remembered setting)")
    parser.add_argument("--workspace", choices=NAMES, help="open this workspace (default: the remembered one; "
                        "with --draw or --open-image: your-digit, with --click-cell: results)")
    parser.add_argument("--tab", choices=sorted(TABS), help="show this view of the network: the chosen layer, "
                        "every layer's output and gradient (strip), the weights over the run's "
                        "moments (over-time), all in Inspect, or the layers' health (in Train)")
    parser.add_argument("--size", metavar="WIDTHxHEIGHT", type=window_size,
                        help="the window's size in pixels, e.g. 1024x768 (with --screenshot: the picture's; "
                             "default there 1600x1000)")
    parser.add_argument("--arch", metavar="SPEC", help="train this network: layers in words (as cnn-train --arch) "
                                                       "or a JSON file of a weights header's architecture")
    parser.add_argument("--load", metavar="PATH", help="open this weights file")
    parser.add_argument("--data", metavar="PATH", help="MNIST .npz or IDX folder, or a folder of pictures with one "
                                                       "subfolder per class (default: the bundled copy)")
    add_folder_options(parser)
    parser.add_argument("--step-through", action="store_true",
                        help="open the step-through on the first misclassified test image (after training, "
                             "with --train)")
    parser.add_argument("--architecture-editor", action="store_true",
                        help="open the architecture editor (with --screenshot: the picture shows it)")
    parser.add_argument("--exit-when-done", action="store_true", help="quit when training ends (exit 1 on an error)")
    parser.add_argument("--screenshot", metavar="PATH",
                        help="with --exit-when-done: save a PNG of the window (of the step-through, with "
                             "--step-through)")
    parser.add_argument("--settings", metavar="PATH", help="keep settings in this .ini file instead of the user's")
    parser.add_argument("--runs", metavar="DIR", help="record runs in, and list them from, this folder (default: "
                                                      "'runs' in the user's application-data folder)")
    parser.add_argument("--draw", metavar="STROKES", type=strokes,
                        help="draw on the Your digit pad: strokes separated by ';', each 'x,y x,y …' in the pad's "
                             "280×280 pixels")
    parser.add_argument("--open-image", metavar="PATH", help="open this picture of a digit as the sample")
    parser.add_argument("--click-cell", metavar="TRUE,PREDICTED", type=cell,
                        help="click this cell of the confusion matrix (digits), e.g. 9,4")
    parser.add_argument("--overlay", choices=["all"], help="tick every readable run in the Runs panel, to compare "
                                                           "their curves (with --screenshot: the picture shows them)")
    parser.add_argument("--lesson", metavar="N", type=lesson_section,
                        help="open the lesson at section N with its Show me applied (1 is the first)")
    add_common_options(parser)
    return parser


TABS = {"layer": "views_splitter", "strip": "strip_view", "health": "health_view",
        "over-time": "over_time_view"}   # the window's attributes
SIZES = (400, 10000)             # the smallest and largest --size, each way


def window_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a size is WIDTHxHEIGHT in pixels (e.g. 1024x768), not {text!r}") from None
    if not all(SIZES[0] <= v <= SIZES[1] for v in (width, height)):
        raise argparse.ArgumentTypeError(f"a size is from {SIZES[0]} to {SIZES[1]} pixels each way, not {text!r}")
    return width, height


def strokes(text: str) -> list[list[tuple[float, float]]]:
    try:
        drawn = [[tuple(float(v) for v in point.split(",")) for point in stroke.split()] for stroke in text.split(";")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"strokes are 'x,y x,y;x,y …', not {shown(text)!r}") from None
    if not all(drawn) or any(len(point) != 2 or not all(map(math.isfinite, point)) for stroke in drawn
                             for point in stroke):   # (a 5,000-digit number reads as infinity)
        raise argparse.ArgumentTypeError(f"strokes are 'x,y x,y;x,y …', not {shown(text)!r}")
    return drawn


def lesson_section(text: str) -> int:
    from app.model.lesson import load_sections
    count = len(load_sections())
    if not text.isdigit() or not 1 <= int(text) <= count:
        raise argparse.ArgumentTypeError(f"a section is a number from 1 to {count}, not {shown(text)!r}")
    return int(text)


def cell(text: str) -> tuple[int, int]:
    try:
        true, predicted = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a cell is TRUE,PREDICTED (two digits), not {shown(text)!r}") from None
    return true, predicted


def checked_architecture(parser, args) -> str | None:
    """The ranges of --epochs and --lr (RunConfig's, as the CLI and the settings panel use them), a
    --settings file that is not a regular file, and --arch read: parser.error or a ValueError naming it."""
    for option, field in (("epochs", "epochs"), ("lr", "learning_rate")):
        if getattr(args, option) is not None:
            try:
                RunConfig().with_changes(**{field: getattr(args, option)})
            except SettingError as error:
                parser.error(f"--{option} must be {error.expected}, not {error.value!r}")
    if args.settings:
        settings_checked(args.settings)
    if args.arch is None:
        return None
    from cnn.cli import architecture_option
    return architecture_option(args.arch, args.load)


def settings_checked(path) -> None:
    """A --settings file that is there but is not a settings file, refused before Qt opens it (it would
    wait on a FIFO for ever, and write over a text file or through a link): ValueError naming it."""
    if not_file := files.not_a_file(path):
        raise ValueError(f"--settings {files.shown(path)}: {not_file}")
    if os.path.islink(path):
        raise ValueError(f"--settings {files.shown(path)}: is a symbolic link; name the settings file itself "
                         f"(it would be written through the link)")
    try:
        settings_file.read_text(path)
    except settings_file.NotSettings as error:
        raise ValueError(f"--settings {error}") from None


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure(args, "cnn-studio")
    try:
        architecture = checked_architecture(parser, args)
        data = data_choice(args.data, args.raw, args.test_share)
    except ValueError as error:
        print(f"cnn-studio: error: {error}", file=sys.stderr)
        return 2
    problem = platform_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.studio.scripted import Script
    from app.studio.settings_store import format_error
    from app.studio.window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("CNN Studio")
    app.setApplicationName("CNN Studio")
    settings = QSettings(args.settings, QSettings.IniFormat) if args.settings else None
    if settings is not None and settings_file.problem(args.settings) is None and format_error(settings):
        print(f"cnn-studio: error: --settings {files.shown(args.settings)}: is not a settings file (Qt cannot "
              f"read it as an ini file)", file=sys.stderr)
        return 2
    window = MainWindow(settings, data_path=data, runs_dir=args.runs, preset=args.preset, epochs=args.epochs)
    if architecture is not None and not use_architecture(window, architecture):
        return 2
    arrange(window, args)
    window.show()
    if architecture is not None:
        window.reset()
    if args.load:
        window.open_weights(args.load)
    script = Script(window, args, architecture)
    if args.train:
        window.start()
    app.exec()
    return script.code


def arrange(window, args) -> None:
    """The window as the options ask, before it is shown: the rate, the view, the workspace, the size."""
    from app.studio.workspaces import reveal
    if args.lr is not None:
        window.settings_panel.learning_rate.setValue(args.lr)
    if args.tab:
        reveal(getattr(window, TABS[args.tab]))
    workspace = args.workspace or ("your-digit" if args.draw or args.open_image else
                                   "results" if args.click_cell else None)
    if workspace:
        window.show_workspace(workspace)
    if args.size or args.screenshot:
        window.clamp_on_show = False
        window.resize(*(args.size or (1600, 1000)))  # pictures for the docs have one size, whatever was remembered


def use_architecture(window, architecture: str) -> bool:
    """The settings take the network of --arch (checked against their classes: one line if it does not fit)."""
    from cnn.config import SettingError
    panel = window.settings_panel
    try:
        panel.set_config(panel.config().with_changes(architecture=architecture))
    except SettingError as error:
        print(f"cnn-studio: error: --arch: {error.reason or error}", file=sys.stderr)
        return False
    return True
