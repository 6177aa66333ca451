"""The engine (cnn/) and the studio's Qt-free modules import neither Qt nor the studio's Qt parts."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QT = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "qtpy")
ENGINE = ROOT / "cnn"
# The studio's bookkeeping that must stay testable without a display.
QT_FREE = ["app/training/run_curves.py", "app/training/run_labels.py", "app/training/recording.py",
           "app/training/snapshot.py", "app/training/model_info.py", "app/training/history.py",
           "app/training/progress.py",
           "app/training/throttle.py", "app/training/state.py", "app/training/loaded_config.py",
           "app/training/health.py",
           "app/training/health_watch.py", "app/studio/layer_cells.py", "app/widgets/grid.py",
           "app/stepthrough/steps.py", "app/stepthrough/explain.py", "app/studio/remembered.py",
           "app/studio/help.py", "app/studio/workspace_names.py", "app/platform_check.py", "app/training/my_samples.py",
           "app/training/explainer.py"] + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "app/model").glob("*.py"))


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
