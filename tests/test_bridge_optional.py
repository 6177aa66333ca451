"""TensorFlow stays optional: the engine and the bridge's package import without it, and the
bridge's commands say in one line how to install it (fast: subprocesses that block TensorFlow)."""
import subprocess
import sys
from pathlib import Path

HINT = 'the Keras bridge needs TensorFlow: pip install "cnn-studio[keras]" (or pip install tensorflow)'
ROOT = Path(__file__).resolve().parent.parent
BLOCK = """
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] in ('tensorflow', 'keras'):
            raise ImportError('No module named ' + repr(name))
sys.meta_path.insert(0, Block())
"""


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCK + code], cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=120)


def test_importing_the_engine_and_the_bridge_package_imports_no_tensorflow():
    done = subprocess.run([sys.executable, "-c", "import sys, cnn, cnn.cli, cnn.bridge, cnn.bridge.cli, cnn.arch; "
                           "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))"],
                          cwd=ROOT, capture_output=True, text=True, env={"PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.stdout.strip() == "[]", done.stderr


def test_without_tensorflow_the_commands_say_how_to_install_it(tmp_path):
    from cnn import io
    from cnn.presets import original_network
    io.save(original_network(), tmp_path / "w.npz")
    for call in (f"from cnn.bridge.cli import export_main as m; sys.exit(m([{str(tmp_path / 'w.npz')!r}, 'x.keras']))",
                 f"from cnn.bridge.cli import import_main as m; sys.exit(m(['x.keras', {str(tmp_path / 'y.npz')!r}]))",
                 "from cnn.cli import main; sys.exit(main(['--engine', 'keras', '--epochs', '1']))"):
        done = run(call)
        assert done.returncode == 3, done.stderr
        assert done.stderr.count("\n") == 1, done.stderr
        assert done.stderr.endswith(HINT + "\n")


def test_without_tensorflow_the_studio_reports_a_keras_file_in_one_line(tmp_path):
    done = run(f"from cnn.bridge import load_any\ntry:\n    load_any({str(tmp_path / 'm.keras')!r})\n"
               "except ValueError as e:\n    print(e)")
    assert done.stdout == f"{tmp_path / 'm.keras'}: {HINT}\n", done.stderr


def test_distribute_needs_the_keras_engine(capsys):
    from cnn.cli import main
    assert main(["--distribute", "mirrored", "--epochs", "1"]) == 2
    assert capsys.readouterr().err == "cnn-train: error: --distribute needs --engine keras\n"
