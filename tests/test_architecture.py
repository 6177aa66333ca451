"""The layout of the code: the engine (cnn/) and the studio model (app/model/) import no Qt, the Qt
packages hold no Qt-free module, every package ships, and the studio's sizes stay readable."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QT = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "qtpy")
ENGINE = ROOT / "cnn"
# The studio's Qt-free code: the studio model and its parts (testable without a display), and the check
# cnn-studio makes before it imports Qt.
QT_FREE = ["app/platform_check.py"] + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "app/model").glob("*.py"))
QT_PACKAGES = ["app/studio", "app/training", "app/stepthrough", "app/widgets"]


def imported_modules(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module


def test_engine_imports_no_qt_and_no_app():
    files = sorted(ENGINE.rglob("*.py"))
    assert len(files) > 10
    offenders = [(f.name, m) for f in files for m in imported_modules(f) if m.split(".")[0] in QT + ("app",)]
    assert offenders == []


def test_qt_free_studio_modules_import_no_qt():
    offenders = []
    for name in QT_FREE:
        path = ROOT / name
        assert path.exists(), name
        for module in imported_modules(path):
            if module.split(".")[0] in QT:
                offenders.append((name, module))
            elif module.startswith("app."):  # an app module it imports must be Qt-free too
                target = ROOT / (module.replace(".", "/") + ".py")
                if str(target.relative_to(ROOT)) not in QT_FREE:
                    offenders.append((name, module))
    assert offenders == []


def test_the_check_sees_a_qt_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom PySide6.QtCore import QObject\n")
    assert "PySide6.QtCore" in list(imported_modules(sample))


def test_every_package_is_in_pyproject():
    """A package missing from pyproject.toml's list is missing from the wheel."""
    tomllib = pytest.importorskip("tomllib")
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {".".join(init.parent.relative_to(ROOT).parts) for top in ("cnn", "app")
               for init in (ROOT / top).rglob("__init__.py")}
    assert folders <= listed, f"not in pyproject.toml: {sorted(folders - listed)}"
    assert "cnn.resources" in listed


def _imports_qt(path: Path, seen: set) -> bool:
    """Whether the module at `path` imports Qt, itself or through the app modules it imports."""
    for module in imported_modules(path):
        if module.split(".")[0] in QT:
            return True
        if module.startswith("app."):
            for target in (ROOT / (module.replace(".", "/") + ".py"), ROOT / module.replace(".", "/") / "__init__.py"):
                if target.exists() and target not in seen:
                    seen.add(target)
                    if _imports_qt(target, seen):
                        return True
    return False


def test_qt_free_code_lives_outside_the_qt_packages():
    """A module of the studio's Qt packages that needs no Qt belongs in app/model/ (tested without a display)."""
    modules = [path for package in QT_PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
               if path.name != "__init__.py"]
    assert len(modules) > 30
    assert [str(path.relative_to(ROOT)) for path in modules if not _imports_qt(path, set())] == []


def test_the_placement_check_sees_a_qt_free_module(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom app.model.state import RunState\n")
    assert not _imports_qt(sample, set())
    sample.write_text("from app.studio.window import MainWindow\n")
    assert _imports_qt(sample, set())


LIMITS = {"module lines": 300, "class methods": 25, "function lines": 60}


def sizes_past_the_limits(path: Path) -> list[str]:
    text = path.read_text()
    found = []
    if len(text.splitlines()) > LIMITS["module lines"]:
        found.append(f"{path.name}: {len(text.splitlines())} lines")
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ClassDef):
            methods = [item for item in node.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))]
            if len(methods) > LIMITS["class methods"]:
                found.append(f"{path.name}: class {node.name} has {len(methods)} methods")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            if length > LIMITS["function lines"]:
                found.append(f"{path.name}: {node.name} is {length} lines")
    return found


def test_the_studio_is_in_sizes_a_reader_can_hold():
    """No module of app/ over 300 lines, no class over 25 methods, no function over 60 lines."""
    assert [problem for path in sorted((ROOT / "app").rglob("*.py")) for problem in sizes_past_the_limits(path)] == []


def test_the_size_check_sees_a_long_function_and_a_wide_class(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def long():\n" + "    x = 1\n" * 61 + "\n\nclass Wide:\n"
                      + "".join(f"    def m{i}(self):\n        pass\n" for i in range(26)))
    assert sizes_past_the_limits(sample) == ["sample.py: long is 62 lines", "sample.py: class Wide has 26 methods"]
