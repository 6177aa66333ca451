"""cnn-studio's scripted options: what the window does by itself once it shows the network (or once
training ends, with --train) — overlay the runs, open the architecture editor or the step-through,
draw on the pad, open a picture, click a cell of the confusion matrix, open a lesson's section and
apply its Show me — and, with
--exit-when-done, the screenshot and the exit code. For the README's pictures and for checks; the
options are parsed and checked by app/main.py."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import QTimer

from app.model.recording import TRAINING_GOES_ON


class Script:
    def __init__(self, window, args, architecture: str | None):
        self.window, self.args, self.architecture = window, args, architecture
        self.code, self.finishing = 0, False
        self.best_run, self.overlaid_once = None, False
        self.inspected = False
        # The window's own signals: emitted on the GUI thread, so these run there.
        window.training_finished.connect(self.ready)
        window.step_window_shown.connect(self.step_window_shown)
        if args.exit_when_done:
            window.error_shown.connect(self.failed)
        if not args.train:      # ready once the views show the network (the loaded one, with --load)
            window.snapshot_shown.connect(self.shown)

    def finish(self, code: int) -> None:
        """Once: a failure while finishing (the screenshot) makes the exit code 1, nothing more."""
        if self.finishing:
            self.code = max(self.code, code)
            return
        self.finishing, self.code = True, code
        window, path = self.window, self.args.screenshot
        if path:
            from PySide6.QtWidgets import QApplication
            QApplication.processEvents()
            if self.args.step_through or self.args.architecture_editor:
                shown = window.step_window if self.args.step_through else window.arch_editor
                if not shown.grab().save(path, "PNG"):
                    window.show_error(f"{path}: could not write the PNG file")
            else:
                window.export_png(Path(path), whole_window=True)
        window.unattended = True   # told to exit when done: nobody to ask
        window.close()

    def finish_soon(self) -> None:
        if self.args.exit_when_done:
            QTimer.singleShot(300, lambda: self.finish(0))

    def failed(self, text: str) -> None:
        if self.finishing and self.code:
            return  # said once already
        # The script ends here with exit code 1: training does not go on, whatever the window would say.
        print(f"cnn-studio: {text.removesuffix(TRAINING_GOES_ON)}", file=sys.stderr)
        self.finish(1)

    def shown(self) -> None:
        """Without --train: the views show the network the options asked for."""
        model, args = self.window.model, self.args
        if model is None:
            return
        wanted = (model.source == args.load) if args.load else (
            (not args.preset or model.config.preset == args.preset)
            and (self.architecture is None or model.config.architecture == self.architecture))
        if wanted:
            self.window.snapshot_shown.disconnect(self.shown)
            self.ready()

    def ready(self) -> None:
        """Training ended, or (without --train) the views show the network: once."""
        window, args = self.window, self.args
        window.training_finished.disconnect(self.ready)
        if args.overlay:
            self.overlay()
        elif args.architecture_editor:
            window.edit_architecture()
            self.finish_soon()
        elif args.draw or args.open_image or args.click_cell or args.workspace == "your-digit":
            self.inspect()
        elif args.lesson:
            window.lesson.show()   # (for this run: a lesson closed for good stays closed)
            window.lesson.open_section(args.lesson)
            window.lesson.show_me.done.connect(lambda _: self.finish_soon())
            window.lesson.apply_show_me()
        elif args.step_through:
            window.sample_picker.select("test", 0)
            window.sample_picker.jump_to_next_misclassified()
            window.step_through()
        elif args.tab == "over-time" and window.over_time_view.data is None:
            window.over_time_view.drawn.connect(self.finish_soon)   # once the moments are read and drawn
        else:
            self.finish_soon()

    def overlay(self) -> None:
        """--overlay all: every readable run ticked, the most accurate one open in the views."""
        window = self.window
        panel = window.runs_panel
        window.show_workspace("runs")
        panel.refresh()
        readable = [entry for entry in panel.entries.values() if entry.openable]
        if not readable:
            window.show_error(f"{window.runs_dir}: no run to overlay")
            return
        window.compare_view.shown.connect(self.overlaid)
        panel.current_changed.connect(self.overlaid)
        best = max(readable, key=lambda entry: entry.info.best_test_accuracy or 0.0)
        self.best_run = best.path
        for entry in readable:
            panel.set_ticked(entry.path)
        panel.select(best.path)   # opens it: the views show the most accurate run's network

    def overlaid(self, *_) -> None:
        """The ticked runs are drawn, and the best of them is open in the views: once."""
        window = self.window
        if window.compare_view.ready() and self.best_run is not None and \
                window.runs_panel.current == self.best_run and not self.overlaid_once:
            self.overlaid_once = True
            self.finish_soon()

    def inspect(self) -> None:
        """--draw, --open-image and --click-cell; then finish when the chosen sample's maps (or the window)
        are drawn: in the Your digit workspace, once it explains why."""
        window, args = self.window, self.args
        why = window.workspaces.current == "your-digit"
        if why:
            # the view's signal, emitted on the GUI thread (the worker's would run this on its own thread)
            window.attribution_view.shown.connect(lambda a: self.inspected_once() if a.occlusion is not None and (
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
            QTimer.singleShot(300, self.inspected_once)

    def inspected_once(self) -> None:
        if not self.inspected:
            self.inspected = True
            if self.args.exit_when_done:
                QTimer.singleShot(500, lambda: self.finish(0))

    def step_window_shown(self) -> None:
        if not self.args.step_through:   # opened by a lesson's Show me: its own step, its own end
            return
        if self.args.screenshot:
            step_window = self.window.step_window
            step_window.resize(1500, 940)
            terms = step_window.panel("terms").array  # the picture explains the strongest response
            i, _, r, c = np.unravel_index(np.argmax(np.abs(terms)), terms.shape)
            step_window.hover("Y", (int(i), int(r), int(c)))
        self.finish_soon()
