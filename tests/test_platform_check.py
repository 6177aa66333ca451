"""cnn-studio on a Linux desktop without Qt's X11 libraries: one line naming the packages, not Qt's abort."""
import ctypes

import pytest

from app import main as studio_main
from app.platform_check import DEBIAN_PACKAGES, platform_problem


@pytest.fixture
def linux(monkeypatch):
    monkeypatch.setattr("sys.platform", "linux")


def test_a_missing_library_is_named_with_the_packages(linux, monkeypatch, tmp_path):
    plugin = tmp_path / "libqxcb.so"
    plugin.write_bytes(b"\x7fELF")

    def fail(path):
        raise OSError("libxcb-cursor.so.0: cannot open shared object file: No such file or directory")
    monkeypatch.setattr(ctypes, "CDLL", fail)
    message = platform_problem({"DISPLAY": ":0"}, plugin)
    assert "\n" not in message
    assert "libxcb-cursor.so.0 is missing" in message
    assert f"sudo apt install {' '.join(DEBIAN_PACKAGES)}" in message and "libxcb-cursor0" in DEBIAN_PACKAGES


def test_a_plugin_that_does_not_load_is_reported(linux, tmp_path):
    plugin = tmp_path / "libqxcb.so"
    plugin.write_text("not a shared library")  # the real loader refuses it
    assert "cannot be loaded" in platform_problem({"QT_QPA_PLATFORM": "xcb"}, plugin)


@pytest.mark.parametrize("environ", [{"QT_QPA_PLATFORM": "offscreen"}, {"QT_QPA_PLATFORM": "wayland"},
                                     {"WAYLAND_DISPLAY": "wayland-0"}])
def test_other_platforms_are_left_to_qt(linux, tmp_path, environ):
    plugin = tmp_path / "libqxcb.so"
    plugin.write_text("not a shared library")
    assert platform_problem(environ, plugin) is None


def test_the_studio_prints_the_line_and_exits(monkeypatch, capsys):
    monkeypatch.setattr(studio_main, "platform_problem", lambda: "cnn-studio: install these")
    assert studio_main.main([]) == 1
    assert capsys.readouterr().err == "cnn-studio: install these\n"
