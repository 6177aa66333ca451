"""Before Qt starts: on a Linux desktop whose X11 (xcb) libraries are missing, Qt aborts with a
generic "could not load the Qt platform plugin". This loads Qt's xcb plugin first, as Qt would,
and turns a missing library into one line naming the packages to install. Qt-free."""
from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
from pathlib import Path

# What Qt 6's xcb plugin needs beyond a basic X11 desktop (Qt's "X11 requirements"), as Debian and
# Ubuntu name the packages.
DEBIAN_PACKAGES = ("libxcb-cursor0", "libxkbcommon-x11-0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-shape0",
                   "libxcb-render-util0", "libxcb-image0", "libxcb-xinerama0", "libxcb-randr0", "libegl1",
                   "libfontconfig1")


def xcb_plugin() -> Path | None:
    """PySide6's libqxcb.so, found without importing Qt; None where there is none."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    plugin = Path(next(iter(spec.submodule_search_locations))) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.is_file() else None


def platform_problem(environ=None, plugin: Path | None = None) -> str | None:
    """One line saying which system packages to install, when Qt would use its xcb plugin and
    that plugin cannot be loaded; else None."""
    environ = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return None
    chosen = environ.get("QT_QPA_PLATFORM", "")
    if chosen and not chosen.startswith("xcb"):
        return None  # offscreen, wayland, …: not the xcb plugin
    if not chosen and environ.get("WAYLAND_DISPLAY"):
        return None  # Qt may well choose Wayland; let it try
    plugin = plugin or xcb_plugin()
    if plugin is None:
        return None
    try:
        ctypes.CDLL(str(plugin))
    except OSError as error:
        missing = str(error).split(":", 1)[0]
        return (f"cnn-studio: Qt's X11 platform plugin cannot be loaded ({missing} is missing); on Debian or "
                f"Ubuntu install them with: sudo apt install {' '.join(DEBIAN_PACKAGES)}")
    return None
