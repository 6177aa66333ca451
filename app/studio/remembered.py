"""What the studio remembers between launches (QSettings)."""
from __future__ import annotations

from cnn.config import RunConfig

SPLITTERS = ("main_splitter", "views_splitter", "top_splitter", "bottom_splitter")


def restore(window) -> None:
    """Geometry, splitter positions, run settings and the chosen split of the last session (the
    step-through window's geometry is restored when it first opens)."""
    geometry = window.settings.value("window/geometry")
    if geometry is not None:
        window.restoreGeometry(geometry)
    else:
        window.resize(1600, 980)
    for name in SPLITTERS:
        state = window.settings.value(f"window/{name}")
        if state is not None:
            getattr(window, name).restoreState(state)
    stored = window.settings.value("run/config")
    if isinstance(stored, dict):
        try:
            config = RunConfig(**{**stored, "classes": tuple(int(c) for c in stored["classes"])})
            config.validate()
            window.settings_panel.set_config(config)
        except (TypeError, ValueError, KeyError):
            pass  # settings from another version: keep the defaults
    split = window.settings.value("sample/split", "test")
    window.sample_picker.split.setCurrentIndex(max(0, window.sample_picker.split.findData(split)))


def remember(window) -> None:
    """Saved when the window closes."""
    window.settings.setValue("window/geometry", window.saveGeometry())
    if window.step_window is not None:
        window.settings.setValue("stepthrough/geometry", window.step_window.saveGeometry())
    for name in SPLITTERS:
        window.settings.setValue(f"window/{name}", getattr(window, name).saveState())
    try:
        window.settings.setValue("run/config", window.settings_panel.config().as_dict())
    except ValueError:
        pass
    window.settings.setValue("sample/split", window.sample_picker.current[0])
    window.settings.sync()
