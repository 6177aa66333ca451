"""Red team F1 and F2: a settings file must never run code (PySide unpickles a value Qt decodes from
`@Variant(…)`), and a --settings path that is no settings file is never written."""
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QByteArray, QSettings

from app.main import main
from app.model.remembered import Unremembered
from app.model.settings_file import holds_object
from app.model.workspace_names import SPLITTERS
from app.studio.settings_store import usable

KEYS = ["window/geometry", "window/workspace", "window/train_tab", *(f"window/{name}" for name in SPLITTERS),
        "run/config", "sample/split", "stepthrough/geometry", "recent"]     # every key the studio reads


class Touch:
    """Unpickled, it makes the file at `path`: the proof that a settings file ran code."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def pickled_value(marker) -> str:
    """`@Variant(…)` as PySide writes a Python object into an ini file (the red team's repro)."""
    return "@Variant(" + _variant_body(marker)


def _variant_body(marker) -> str:
    data = bytes(QByteArray(pickle.dumps(Touch(marker))))
    stream = (len("PySide::PyObjectWrapper") + 1).to_bytes(4, "big") + b"PySide::PyObjectWrapper\0"
    stream = b"\0\0\0\x7f" + stream + len(data).to_bytes(4, "big") + data   # (Qt 4.0 streams: no null flag)
    return "".join(f"\\x{b:x}" for b in stream) + ")"      # every byte escaped, as Qt reads any


def disguised(marker) -> dict[str, str]:
    """The same value spelled as Qt's escapes and quotes still decode it (each checked below to run code)."""
    body = _variant_body(marker)
    return {"plain": "@Variant(" + body, "hex at": "\\x40Variant(" + body, "octal at": "\\100Variant(" + body,
            "hex wrapping": "\\x10040Variant(" + body, "octal V": "@\\126ariant(" + body,
            "quoted": '"@"Variant(' + body, "quote and blanks": '"@Var"   iant(' + body,
            "skipped escape": "@Vari\\zant(" + body, "continued line": "@Vari\\\nant(" + body,
            "continued CRLF": "@Vari\\\r\nant(" + body, "leading blanks": "   @Variant(" + body,
            "in a list": "a, @Variant(" + body}


def test_the_studios_own_values_are_not_objects(tmp_path):
    """What remember() stores (bytes, text, JSON text, a list of paths) is no @Variant: the file stays readable."""
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)
    settings.setValue("window/geometry", QByteArray(bytes(range(256))))
    settings.setValue("run/config", '{"classes": [0, 1], "architecture": null}')
    settings.setValue("recent", ["/a, b.npz", "@c.npz", "/d\\e\".npz"])
    settings.setValue("window/opened", True)
    settings.sync()
    assert not holds_object((tmp_path / "s.ini").read_text())


@pytest.mark.parametrize("name", sorted(disguised("m")))
def test_an_object_is_found_however_it_is_spelled(tmp_path, name):
    assert holds_object(f"[sample]\nsplit={disguised(tmp_path / 'marker')[name]}\n")


@pytest.mark.slow   # a subprocess per spelling: Qt itself must find the object (else the case proves nothing)
@pytest.mark.parametrize("name", sorted(disguised("m")))
def test_each_spelling_would_run_code_in_qt(tmp_path, name):
    marker = tmp_path / "marker"
    (tmp_path / "evil.ini").write_text(f"[sample]\nsplit={disguised(marker)[name]}\n")
    code = (f"from PySide6.QtCore import QSettings; "
            f"QSettings({str(tmp_path / 'evil.ini')!r}, QSettings.IniFormat).allKeys()")
    subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=300)
    assert marker.exists()


@pytest.mark.parametrize("key", KEYS)
def test_a_file_holding_an_object_is_neither_read_nor_written(tmp_path, key):
    marker, path = tmp_path / "PWNED", tmp_path / "evil.ini"
    section, _, name = key.rpartition("/")
    path.write_text(f"[{section or 'General'}]\n{name}={pickled_value(marker)}\n")
    before = path.read_bytes()
    settings, note = usable(QSettings(str(path), QSettings.IniFormat))
    assert isinstance(settings, Unremembered) and settings.value(key) is None
    assert note == (f"{path}: the settings file holds a stored object (@Variant), which could run code if read; "
                    f"it is not read; settings are at their defaults and will not be remembered until the file is "
                    f"deleted or replaced.")
    settings.setValue(key, "x")
    settings.sync()
    assert not marker.exists() and path.read_bytes() == before


def test_a_file_qt_cannot_read_as_ini_is_not_used(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("My notes\nbuy milk\n")
    settings, note = usable(QSettings(str(path), QSettings.IniFormat))
    assert isinstance(settings, Unremembered)
    assert note == (f"{path}: is not a settings file (Qt cannot read it as an ini file); settings are at their "
                    f"defaults and will not be remembered until the file is deleted or replaced.")
    assert path.read_text() == "My notes\nbuy milk\n"


def test_no_file_yet_and_a_good_file_are_used(tmp_path):
    for path in (tmp_path / "new.ini", tmp_path / "good.ini"):
        if path.name == "good.ini":
            path.write_text("[window]\nworkspace=runs\n")
        settings, note = usable(QSettings(str(path), QSettings.IniFormat))
        assert isinstance(settings, QSettings) and note is None


@pytest.mark.parametrize("content, problem", [
    (b"My notes\nbuy milk\n", "is not a settings file (Qt cannot read it as an ini file)"),
    (b"\xff\xfe[window]\n", "is not a settings file (not UTF-8 text at byte 0)"),
    (b"x" * (1 << 20) + b"=1", "is larger than 1 MB; not a settings file")])
def test_a_settings_option_naming_no_settings_file_is_refused_and_left_alone(tmp_path, capsys, content, problem):
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    assert main(["--settings", str(path), "--exit-when-done"]) == 2
    assert capsys.readouterr().err == f"cnn-studio: error: --settings {path}: {problem}\n"
    assert path.read_bytes() == content


def test_a_settings_option_naming_a_link_is_refused_and_the_target_left_alone(tmp_path, capsys):
    target, link = tmp_path / "outside.ini", tmp_path / "link.ini"
    target.write_text("[window]\nworkspace=runs\n")
    link.symlink_to(target)
    assert main(["--settings", str(link), "--exit-when-done"]) == 2
    assert capsys.readouterr().err == (f"cnn-studio: error: --settings {link}: is a symbolic link; name the "
                                       f"settings file itself (it would be written through the link)\n")
    assert target.read_text() == "[window]\nworkspace=runs\n"


@pytest.mark.slow   # opens the whole studio
def test_the_studio_opens_with_its_defaults_and_one_note(qtbot, tmp_path, monkeypatch):
    """Every key the studio reads holds an object: none runs, every value is its default, one note names the file."""
    from app.studio.window import MainWindow
    marker, path = tmp_path / "PWNED", tmp_path / "evil.ini"
    sections: dict[str, list[str]] = {}
    for key in KEYS:
        section, _, name = key.rpartition("/")
        sections.setdefault(section or "General", []).append(f"{name}={pickled_value(marker)}")
    path.write_text("".join(f"[{section}]\n" + "\n".join(lines) + "\n" for section, lines in sections.items()))
    before = path.read_bytes()
    notes = []
    monkeypatch.setattr(MainWindow, "say_once", lambda self, text: notes.append(text))
    window = MainWindow(QSettings(str(path), QSettings.IniFormat), runs_dir=tmp_path / "runs")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.model is not None, timeout=20000)
    window.step_through()
    qtbot.waitUntil(lambda: window.step_window is not None and window.step_window.isVisible(), timeout=20000)
    assert window.workspaces.current == "train" and window.sample_picker.current[0] == "test"
    assert window.recent.paths() == []
    window.close()
    assert notes == [f"{path}: the settings file holds a stored object (@Variant), which could run code if read; "
                     f"it is not read; settings are at their defaults and will not be remembered until the file "
                     f"is deleted or replaced."]
    assert not marker.exists() and path.read_bytes() == before


@pytest.mark.slow   # a subprocess: the red team's repro, from the command line
def test_the_red_teams_repro_runs_no_code(tmp_path):
    marker, path = tmp_path / "PWNED", tmp_path / "evil.ini"
    path.write_text(f"[sample]\nsplit={pickled_value(marker)}\n")
    result = subprocess.run([sys.executable, "-m", "app", "--settings", str(path), "--runs", str(tmp_path / "r"),
                             "--exit-when-done"], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert not marker.exists()
