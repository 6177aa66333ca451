"""cnn/ is the engine: it must import neither Qt nor the studio."""
import ast
from pathlib import Path

FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "app", "qtpy")
ENGINE = Path(__file__).resolve().parent.parent / "cnn"


def imported_modules(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module


def test_engine_imports_no_qt_and_no_app():
    files = sorted(ENGINE.rglob("*.py"))
    assert len(files) > 10
    offenders = [(f.name, m) for f in files for m in imported_modules(f) if m.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_the_check_sees_a_qt_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom PySide6.QtCore import QObject\n")
    assert "PySide6.QtCore" in list(imported_modules(sample))
