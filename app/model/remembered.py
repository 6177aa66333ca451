"""What the studio remembers between launches (QSettings), read defensively: a value that is
missing is its default, and one that cannot be used (a hand-edited file, another version) is its
default too, named once in the status bar. Nothing remembered can stop the window from opening.
Only text, bytes and booleans are stored (the run's settings as JSON text): PySide pickles any other
Python value, and unpickling a value read back could run code (app/model/settings_file.py checks a
file before Qt reads it)."""
from __future__ import annotations

import json

from cnn import jsonfile
from cnn.config import RunConfig

from app.model.workspace_names import NAMES, SPLITTERS, TRAIN_TABS


class Unremembered:
    """The settings of a session whose settings file is not used (it could run code, or it is no settings
    file): the QSettings calls the studio makes, kept in memory; the file is never read or written."""

    def __init__(self, file_name: str):
        self.file_name, self.values = file_name, {}

    def value(self, key: str, default=None):
        return self.values.get(key, default)

    def setValue(self, key: str, value) -> None:   # noqa: N802 (QSettings' name)
        self.values[key] = value

    def sync(self) -> None:
        pass

    def status(self) -> int:
        return 0

    def fileName(self) -> str:   # noqa: N802 (QSettings' name)
        return self.file_name


def remembered_config(stored) -> RunConfig:
    """The run's settings from their remembered JSON text; ValueError (or TypeError) when unusable."""
    if not isinstance(stored, str):
        raise TypeError(f"run/config is {type(stored).__name__}, not JSON text")
    return RunConfig.from_dict(jsonfile.parse(stored, "run/config", ValueError))


def restored(restore, value) -> bool:
    """Whether restore(value) (restoreGeometry, restoreState) took the value; garbage of any type is refused."""
    try:
        return bool(restore(value))
    except (TypeError, ValueError, OverflowError):
        return False


def restore(window) -> str:
    """Geometry, splitter positions, the workspace, run settings and the chosen split of the last
    session (the step-through's geometry is read when it first opens). Returns the run folder that was
    shown ('' for none), to open again."""
    settings, unusable = window.settings, []
    geometry = settings.value("window/geometry")
    if geometry is None or not restored(window.restoreGeometry, geometry):
        if geometry is not None:
            unusable.append("window/geometry")
        window.fit_to_screen()
    clamp_to_screen(window)
    workspace = settings.value("window/workspace", NAMES[0])   # text, bytes, lists of text: nothing else gets here
    if not isinstance(workspace, str) or workspace not in NAMES:
        unusable.append("window/workspace")
    window.show_workspace(NAMES[0] if "window/workspace" in unusable else workspace)
    tab = settings.value("window/train_tab", TRAIN_TABS[0])    # Train's Loss or Health, as the workspace
    if not isinstance(tab, str) or tab not in TRAIN_TABS:
        unusable.append("window/train_tab")
    window.train_tabs.setCurrentIndex(TRAIN_TABS.index(tab) if tab in TRAIN_TABS else 0)
    for name in SPLITTERS:
        state = settings.value(f"window/{name}")
        if state is not None and not restored(getattr(window, name).restoreState, state):
            unusable.append(f"window/{name}")
    stored = settings.value("run/config")
    if stored is not None:
        try:
            window.settings_panel.set_config(remembered_config(stored))
        except (TypeError, ValueError, KeyError, OverflowError):
            unusable.append("run/config")
    folder = settings.value("run/folder", "")
    if not isinstance(folder, str):
        unusable.append("run/folder")
    split = settings.value("sample/split", "test")
    index = window.sample_picker.split.findData(split) if isinstance(split, str) else -1
    if index < 0:
        unusable.append("sample/split")
    window.sample_picker.split.setCurrentIndex(max(0, index))
    notes = [window.settings_note] if window.settings_note else []
    if unusable:
        notes.append(f"Some remembered settings could not be used and are back to their defaults: "
                     f"{', '.join(unusable)}.")
    settings.setValue("window/opened", True)  # a probe: can this session's settings be kept at all?
    settings.sync()
    problem = settings_problem(settings)
    if problem:
        notes.append(problem + ".")
    if notes:
        window.say_once(" ".join(notes))
    return folder if isinstance(folder, str) else ""


FRAME_ALLOWANCE = (8, 40)   # a frame's borders and title bar (width, height) while the real one is unknown


def clamped(frame: tuple[int, int, int, int], available: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """A window's frame (x, y, width, height) moved and shrunk to lie within the screen's available area."""
    x, y, width, height = frame
    left, top, room_x, room_y = available
    width, height = min(width, room_x), min(height, room_y)
    return (max(left, min(x, left + room_x - width)), max(top, min(y, top + room_y - height)), width, height)


def clamp_to_screen(window) -> None:
    """The remembered geometry within the available area of the screen the window opens on (it was
    remembered on another screen, or the window was wider than this one: 1029 px on a 1024 px screen)."""
    if window.isMaximized() or window.isFullScreen() or window.screen() is None:
        return
    screen, frame, inner = window.screen().availableGeometry(), window.frameGeometry(), window.geometry()
    area = (screen.x(), screen.y(), screen.width(), screen.height())
    known = (frame.width() - inner.width(), frame.height() - inner.height())   # (0, 0): not framed yet (X11
    allowance = known if known != (0, 0) else FRAME_ALLOWANCE                  # frames it after showing)
    *_, width, height = clamped((0, 0, inner.width() + allowance[0], inner.height() + allowance[1]), area)
    width, height = width - allowance[0], height - allowance[1]
    x, y, _, _ = clamped((frame.x(), frame.y(), width + known[0], height + known[1]), area)
    # Within the screen already: left exactly where it was restored. Moved with the frame's allowance while
    # the frame was unknown, move() then placed the frame where the inside was: 10 px lower after the
    # first restart, then 1 px to the right.
    if (width, height) != (inner.width(), inner.height()):
        window.resize(width, height)
    if (x, y) != (frame.x(), frame.y()):
        window.move(x, y)


def remember(window) -> str | None:
    """Saved when the window closes. Returns why the settings could not be written, or None."""
    settings = window.settings
    settings.setValue("window/geometry", window.saveGeometry())
    settings.setValue("window/workspace", window.workspaces.current)
    settings.setValue("window/train_tab", TRAIN_TABS[max(0, window.train_tabs.currentIndex())])
    if window.step_window is not None:
        settings.setValue("stepthrough/geometry", window.step_window.saveGeometry())
    for name in SPLITTERS:
        settings.setValue(f"window/{name}", getattr(window, name).saveState())
    try:
        settings.setValue("run/config", json.dumps(window.settings_panel.config().as_dict()))
    except ValueError:
        pass
    settings.setValue("sample/split", window.sample_picker.current[0])
    settings.setValue("run/folder", window.shown_run)
    settings.sync()
    return settings_problem(settings)


def settings_problem(settings) -> str | None:
    """Why the settings file cannot be read or written, or None. (QSettings.status() is an enum;
    NoError is 0.)"""
    status = settings.status()
    if getattr(status, "value", status) == 0:
        return None
    what = {1: "could not be written or read", 2: "is not a settings file"}.get(getattr(status, "value", status),
                                                                                "could not be used")
    return f"{settings.fileName()}: the settings file {what}; settings will not be remembered"
