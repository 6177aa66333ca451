"""cnn-studio: open the window; optionally train at once, save a screenshot and exit (for docs and checks)."""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from cnn import files
from cnn.config import RunConfig
from cnn.presets import PRESETS
from cnn.ranges import RANGES, SettingError, shown, whole_option

from app.platform_check import platform_problem
from app.studio.workspace_names import NAMES


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
                        "every layer's output and gradient (strip), both in Inspect, or the layers' health (in Train)")
    parser.add_argument("--size", metavar="WIDTHxHEIGHT", type=window_size,
                        help="the window's size in pixels, e.g. 1024x768 (with --screenshot: the picture's; "
                             "default there 1600x1000)")
    parser.add_argument("--arch", metavar="SPEC", help="train this network: layers in words (as cnn-train --arch) "
                                                       "or a JSON file of a weights header's architecture")
    parser.add_argument("--load", metavar="PATH", help="open this weights file")
    parser.add_argument("--data", metavar="PATH", help="MNIST .npz or IDX folder (default: the bundled copy)")
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
    return parser


TABS = {"layer": "views_splitter", "strip": "strip_view", "health": "health_view"}   # the window's attributes
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


def cell(text: str) -> tuple[int, int]:
    try:
        true, predicted = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a cell is TRUE,PREDICTED (two digits), not {shown(text)!r}") from None
    return true, predicted


def inspect(window, args, finish) -> None:
    """--draw, --open-image and --click-cell, once the views show the network; then finish when the
    chosen sample's maps (or the window) are drawn: in the Your digit workspace, once it explains why."""
    from PySide6.QtCore import QTimer
    done = {"finished": False}

    def later(*_) -> None:
        if not done["finished"]:
            done["finished"] = True
            QTimer.singleShot(500, lambda: finish(0))
    why = window.workspaces.current == "your-digit"
    if why:
        # the view's signal, emitted on the GUI thread (the worker's would run this on its own thread)
        window.attribution_view.shown.connect(lambda a: later() if a.occlusion is not None and (
            window.image_sample is None or a.sample[0] == window.image_sample.name) else None)
    for stroke in args.draw or []:
        window.your_digit.pad.draw_stroke(stroke)
    if args.open_image and not window.your_digit.open_image(args.open_image):
        return
    if args.click_cell:
        classes = window.model.classes
        if any(digit not in classes for digit in args.click_cell):
            window.show_error(f"--click-cell: the network's classes are {', '.join(map(str, classes))}")
            return
        window.results_view.click_cell(*(classes.index(digit) for digit in args.click_cell))
    if not why:
        QTimer.singleShot(300, later)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for option, field in (("epochs", "epochs"), ("lr", "learning_rate")):
        if getattr(args, option) is not None:
            try:  # RunConfig's range, the one the CLI and the settings panel use too
                RunConfig().with_changes(**{field: getattr(args, option)})
            except SettingError as error:
                parser.error(f"--{option} must be {error.expected}, not {error.value!r}")
    architecture = None
    if args.arch is not None:
        from cnn.cli import architecture_option
        try:
            architecture = architecture_option(args.arch, args.load)
        except ValueError as error:
            print(f"cnn-studio: error: {error}", file=sys.stderr)
            return 2
    if args.settings and (not_file := files.not_a_file(args.settings)):   # QSettings would wait on a FIFO for ever
        print(f"cnn-studio: error: --settings {files.shown(args.settings)}: {not_file}", file=sys.stderr)
        return 2
    problem = platform_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from app.studio.window import MainWindow
    from app.studio.workspaces import reveal

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("CNN Studio")
    app.setApplicationName("CNN Studio")
    settings = QSettings(args.settings, QSettings.IniFormat) if args.settings else QSettings()
    window = MainWindow(settings, data_path=args.data, runs_dir=args.runs, preset=args.preset, epochs=args.epochs)
    if architecture is not None and not use_architecture(window, architecture):
        return 2
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
    window.show()
    if architecture is not None:
        window.reset()
    if args.load:
        window.open_weights(args.load)
    outcome = {"code": 0, "finishing": False}
    overlay = {"best": None, "done": False}

    def finish(code: int) -> None:
        """Once: a failure while finishing (the screenshot) makes the exit code 1, nothing more."""
        if outcome["finishing"]:
            outcome["code"] = max(outcome["code"], code)
            return
        outcome["finishing"], outcome["code"] = True, code
        if args.screenshot:
            app.processEvents()
            if args.step_through:
                if not window.step_window.grab().save(args.screenshot, "PNG"):
                    window.show_error(f"{args.screenshot}: could not write the PNG file")
            elif args.architecture_editor:
                if not window.arch_editor.grab().save(args.screenshot, "PNG"):
                    window.show_error(f"{args.screenshot}: could not write the PNG file")
            else:
                window.export_png(Path(args.screenshot), whole_window=True)
        window.close()

    def failed(text: str) -> None:
        if outcome["finishing"] and outcome["code"]:
            return  # said once already
        print(f"cnn-studio: {text}", file=sys.stderr)
        finish(1)

    def overlaid() -> None:
        """The ticked runs are drawn, and the best of them is open in the views: once."""
        if window.compare_view.ready() and window.runs_panel.current == overlay["best"] and \
                overlay["best"] is not None and not overlay["done"]:
            overlay["done"] = True
            if args.exit_when_done:
                QTimer.singleShot(300, lambda: finish(0))

    def ready() -> None:
        """Training ended, or (without --train) the views show the network: once."""
        window.training_finished.disconnect(ready)
        if args.overlay:
            panel = window.runs_panel
            window.show_workspace("runs")
            panel.refresh()
            readable = [entry for entry in panel.entries.values() if entry.openable]
            if not readable:
                window.show_error(f"{window.runs_dir}: no run to overlay")
                return
            window.compare_view.shown.connect(overlaid)
            panel.current_changed.connect(overlaid)
            best = max(readable, key=lambda entry: entry.info.best_test_accuracy or 0.0)
            overlay["best"] = best.path
            for entry in readable:
                panel.set_ticked(entry.path)
            panel.select(best.path)   # opens it: the views show the most accurate run's network
        elif args.architecture_editor:
            window.edit_architecture()
            if args.exit_when_done:
                QTimer.singleShot(300, lambda: finish(0))
        elif args.draw or args.open_image or args.click_cell or args.workspace == "your-digit":
            inspect(window, args, finish if args.exit_when_done else lambda code: None)
        elif args.step_through:
            window.sample_picker.select("test", 0)
            window.sample_picker.jump_to_next_misclassified()
            window.step_through()
        elif args.exit_when_done:
            QTimer.singleShot(300, lambda: finish(0))

    def step_window_shown() -> None:
        if args.screenshot:
            window.step_window.resize(1500, 940)
            terms = window.step_window.panel("terms").array  # the picture explains the strongest response
            i, _, r, c = np.unravel_index(np.argmax(np.abs(terms)), terms.shape)
            window.step_window.hover("Y", (int(i), int(r), int(c)))
        if args.exit_when_done:
            QTimer.singleShot(300, lambda: finish(0))

    # The window's own signals: emitted on the GUI thread, so these run there.
    window.training_finished.connect(ready)
    window.step_window_shown.connect(step_window_shown)
    if args.exit_when_done:
        window.error_shown.connect(failed)
    if not args.train:  # ready once the views show the network (the loaded one, with --load)
        def shown():
            model = window.model
            if model is None:
                return
            wanted = (model.source == args.load) if args.load else (
                (not args.preset or model.config.preset == args.preset)
                and (architecture is None or model.config.architecture == architecture))
            if wanted:
                window.snapshot_shown.disconnect(shown)
                ready()
        window.snapshot_shown.connect(shown)
    if args.train:
        window.start()
    app.exec()
    return outcome["code"]


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
