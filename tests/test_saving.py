"""Saving weights never destroys a file it should not touch and never loses a finished training:
the rules of cnn.atomic through cnn.weights_file.save, and the CLI's one-line reports."""
import errno
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import uuid

import numpy as np
import pytest

from cnn import atomic, npz, weights_file
from cnn.cli import main
from cnn.presets import original_network


@pytest.fixture(scope="module")
def network():
    return original_network(seed=5)


@pytest.fixture
def rescue_folder(tmp_path, monkeypatch):
    """The system temp folder, as the rescue sees it, is a folder of this test's."""
    import tempfile
    folder = tmp_path / "system-temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def kernels(path) -> np.ndarray:
    return weights_file.load(path).params["0.kernels"]


def test_a_symlink_is_written_through_to_its_target(tmp_path, network):
    target = tmp_path / "real" / "weights.npz"
    target.parent.mkdir()
    target.write_bytes(b"old")
    link = tmp_path / "link.npz"
    link.symlink_to(target)
    assert weights_file.save(network, link) == target
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert np.array_equal(kernels(target), network.params["0.kernels"])
    assert sorted(p.name for p in target.parent.iterdir()) == ["weights.npz"]


@pytest.mark.parametrize("mode", [0o644, 0o600, 0o444, 0o664])
def test_a_replaced_file_keeps_its_mode(tmp_path, network, mode):
    path = tmp_path / "w.npz"
    path.write_bytes(b"old")
    path.chmod(mode)
    weights_file.save(network, path)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert np.array_equal(kernels(path), network.params["0.kernels"])


@pytest.mark.skipif(os.geteuid() != 0, reason="only root may give a file to another user")
def test_a_replaced_file_keeps_its_owner_when_root_saves(tmp_path, network):
    path = tmp_path / "w.npz"
    path.write_bytes(b"old")
    os.chown(path, 1234, 4321)
    weights_file.save(network, path)
    assert (path.stat().st_uid, path.stat().st_gid) == (1234, 4321)


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_gets_the_umask_mode(tmp_path, network, umask, mode):
    previous = os.umask(umask)
    try:
        weights_file.save(network, tmp_path / "new.npz")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "new.npz").stat().st_mode) == mode


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "folder", "is a folder, not a file; it is left alone"),
    (lambda d: d / "none" / "w.npz", "the folder {d}/none does not exist"),
    (lambda d: d / "file.txt" / "w.npz", "{d}/file.txt is not a folder"),
    (lambda d: d / "fifo", "is a FIFO (named pipe), not a file; it is left alone"),
    (lambda d: d / "loop", "is a symbolic link that never reaches a file (a loop)"),
])
def test_targets_that_cannot_be_written_are_refused(tmp_path, network, make, message):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file.txt").write_text("x")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    before = sorted(os.listdir(tmp_path))
    path = make(tmp_path)
    with pytest.raises(atomic.WriteError) as error:
        weights_file.save(network, path)
    assert str(error.value) == f"{path}: {message.format(d=tmp_path)}"
    assert sorted(os.listdir(tmp_path)) == before
    assert stat.S_ISFIFO(os.lstat(tmp_path / "fifo").st_mode)


def test_a_device_is_never_replaced(network):
    """`--save /dev/null` as root once turned the device into a regular 0600 file."""
    before = os.stat("/dev/null")
    with pytest.raises(atomic.WriteError, match=r"^/dev/null: is a character device, not a file; it is left alone$"):
        weights_file.save(network, "/dev/null")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert stat.S_IMODE(after.st_mode) == stat.S_IMODE(before.st_mode)


def test_empty_paths_are_refused(network):
    with pytest.raises(atomic.WriteError, match="^'': the path is empty$"):
        weights_file.save(network, "")
    with pytest.raises(weights_file.WeightsFileError, match="^'': the path is empty$"):
        weights_file.load("")


def test_a_fifo_or_a_folder_is_not_loaded_as_weights(tmp_path):
    os.mkfifo(tmp_path / "w.npz")   # opening it to read would wait for a writer forever
    with pytest.raises(weights_file.WeightsFileError, match=r"w.npz: is a FIFO \(named pipe\), not a file$"):
        weights_file.load(tmp_path / "w.npz")
    with pytest.raises(weights_file.WeightsFileError, match=f"^{tmp_path}: is a folder, not a file$"):
        weights_file.load(tmp_path)


def test_orphans_of_a_name_with_glob_characters_are_cleared(tmp_path, network):
    """A killed save leaves `.NAME.PID.….tmp`; the next save clears it, whatever characters NAME holds."""
    path = tmp_path / "w[1]*.npz"
    orphan = tmp_path / ".w[1]*.npz.999999999.dead.tmp"    # no process has that id
    orphan.write_bytes(b"partial")
    (tmp_path / ".other.npz.999999999.dead.tmp").write_bytes(b"someone else's")
    weights_file.save(network, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.npz.999999999.dead.tmp", "w[1]*.npz"]


def written_path(file) -> str:
    return os.readlink(f"/proc/self/fd/{file.fileno()}")


def disk_full(file, arrays=None):
    file.write(b"partial")
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_failed_save_goes_to_the_temp_folder(tmp_path, network, rescue_folder, monkeypatch):
    path = tmp_path / "w.npz"
    path.write_bytes(b"old weights")
    real_write = npz.write
    calls = []
    def full_beside_the_target(file, arrays):   # the disk of `path` is full, the temp folder's is not
        calls.append(written_path(file))
        beside = written_path(file).startswith(str(tmp_path / ".w.npz."))
        return disk_full(file) if beside else real_write(file, arrays)
    monkeypatch.setattr(npz, "write", full_beside_the_target)
    rescued = weights_file.save_or_rescue(network, path)
    assert rescued.intended == str(path) and rescued.reason == "No space left on device"
    assert rescued.path.parent == rescue_folder and rescued.path.name.startswith("cnn-weights-w-")
    assert str(rescued) == (f"could not save the weights to {path} (No space left on device); "
                            f"they were saved to {rescued.path}")
    assert np.array_equal(kernels(rescued.path), network.params["0.kernels"])
    assert path.read_bytes() == b"old weights" and sorted(os.listdir(tmp_path)) == ["system-temp", "w.npz"]
    assert len(calls) == 2


def test_ctrl_c_during_a_save_leaves_the_old_file(tmp_path, network, monkeypatch):
    path = tmp_path / "w.npz"
    weights_file.save(original_network(seed=1), path)
    before = path.read_bytes()
    def interrupted(file, arrays):
        file.write(b"partial")
        raise KeyboardInterrupt
    monkeypatch.setattr(npz, "write", interrupted)
    with pytest.raises(atomic.WriteInterrupted, match=f"^interrupted while saving; {path} was left as it was$"):
        weights_file.save(network, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["w.npz"]


# --- the command line ---------------------------------------------------------------------------

FAST = ["--epochs", "1", "--limit", "5", "--quiet"]


@pytest.mark.parametrize("target, message", [
    ("{d}", "--save {d}: is a folder, not a file; it is left alone"),
    (".", "--save .: is a folder, not a file; it is left alone"),
    ("{d}/none/w.npz", "--save {d}/none/w.npz: the folder {d}/none does not exist"),
    ("/dev/null", "--save /dev/null: is a character device, not a file; it is left alone"),
])
def test_the_save_target_is_checked_before_training(tmp_path, capsys, target, message):
    assert main([*FAST, "--save", target.format(d=tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert err == f"cnn-train: error: {message.format(d=tmp_path)}\n"
    assert "epoch" not in out   # refused before training


@pytest.mark.parametrize("option", ["--save", "--load", "--data"])
def test_empty_paths_are_refused_by_the_cli(capsys, option):
    with pytest.raises(SystemExit) as exit_:
        main([*FAST, option, ""])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"cnn-train: error: argument {option}: the path is empty"


def test_a_save_failing_at_the_end_is_rescued_in_one_line(tmp_path, capsys, rescue_folder, monkeypatch):
    real_write = npz.write
    monkeypatch.setattr(npz, "write", lambda file, arrays: disk_full(file) if "/out/" in written_path(file)
                        else real_write(file, arrays))
    (tmp_path / "out").mkdir()
    path = tmp_path / "out" / "w.npz"
    assert main([*FAST, "--save", str(path)]) == 1
    out, err = capsys.readouterr()
    [rescued] = list(rescue_folder.iterdir())
    assert err == (f"cnn-train: could not save the weights to {path} (No space left on device); "
                   f"they were saved to {rescued}\n")
    assert out.splitlines()[-1].startswith("test accuracy: ")
    assert os.listdir(tmp_path / "out") == []
    weights_file.load(rescued)


SIGINT_WHILE_SAVING = textwrap.dedent("""
    import os, signal, sys
    from cnn import npz
    from cnn.cli import main
    real_write = npz.write
    def write(file, arrays):
        file.write(b"partial")
        os.kill(os.getpid(), signal.SIGINT)    # Ctrl-C, as the terminal sends it
        real_write(file, arrays)
    npz.write = write
    sys.exit(main(["--epochs", "1", "--limit", "5", "--quiet", "--save", sys.argv[1]]))
""")


def test_ctrl_c_during_the_final_save_prints_one_line(tmp_path):
    path = tmp_path / "w.npz"
    weights_file.save(original_network(seed=1), path)
    before = path.read_bytes()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run([sys.executable, "-c", SIGINT_WHILE_SAVING, str(path)], capture_output=True,
                            text=True, env=env, timeout=120)
    assert result.returncode == 130
    assert result.stderr == f"cnn-train: interrupted while saving; {path} was left as it was\n"
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["w.npz"]


SIGINT_JUST_AFTER_THE_RENAME = textwrap.dedent("""
    import os, signal, sys
    from cnn.cli import main
    real_replace = os.replace
    def replace(source, target):
        real_replace(source, target)
        os.kill(os.getpid(), signal.SIGINT)    # Ctrl-C the instant the new file is in place
    os.replace = replace
    sys.exit(main(["--epochs", "1", "--limit", "5", "--quiet", "--save", sys.argv[1]]))
""")


@pytest.mark.slow
def test_ctrl_c_just_after_the_rename_says_the_weights_were_saved(tmp_path):
    """SIGINT is held back around the rename, so the message can tell which side of it Ctrl-C fell on."""
    path = tmp_path / "w.npz"
    weights_file.save(original_network(seed=1), path)
    before = path.read_bytes()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run([sys.executable, "-c", SIGINT_JUST_AFTER_THE_RENAME, str(path)], capture_output=True,
                            text=True, env=env, timeout=120)
    assert result.returncode == 130
    assert result.stderr == f"cnn-train: interrupted; the weights were saved to {path}\n"
    assert path.read_bytes() != before and os.listdir(tmp_path) == ["w.npz"]
    weights_file.load(path)


# --- real filesystems (slow: mount) --------------------------------------------------------------

@pytest.fixture
def tmpfs(tmp_path):
    """A 200 KiB tmpfs: too small for the original network's 2.7 MB of weights."""
    point = tmp_path / "small"
    point.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", f"tmpfs-{uuid.uuid4().hex[:6]}", str(point)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root and mount rights): {result.stderr.strip()}")
    yield point
    subprocess.run(["umount", str(point)], check=True)


@pytest.mark.slow
def test_a_full_disk_at_the_end_sends_the_weights_to_the_temp_folder(tmpfs, tmp_path):
    """The issue's command: `cnn-train --epochs 1 --quiet --save /tmp/t/w.npz` on a 200k tmpfs."""
    rescue = tmp_path / "system-temp"
    rescue.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "TMPDIR": str(rescue)}
    path = tmpfs / "w.npz"
    result = subprocess.run([sys.executable, "-m", "cnn", "--epochs", "1", "--quiet", "--save", str(path)],
                            capture_output=True, text=True, env=env, timeout=300)
    [rescued] = list(rescue.iterdir())
    assert result.returncode == 1
    assert result.stderr == (f"cnn-train: could not save the weights to {path} (No space left on device); "
                             f"they were saved to {rescued}\n")
    assert os.listdir(tmpfs) == []   # no temporary file left on the full disk
    assert weights_file.load(rescued).architecture() == original_network().architecture()


@pytest.mark.slow
def test_a_read_only_filesystem_is_refused_before_training(tmpfs, capsys):
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    assert main([*FAST, "--save", str(tmpfs / "w.npz")]) == 2
    out, err = capsys.readouterr()
    assert err == f"cnn-train: error: --save {tmpfs}/w.npz: cannot write in {tmpfs} (Read-only file system)\n"
    assert out == ""


def test_a_failed_save_names_the_target_not_the_temporary_file(tmp_path, network, monkeypatch):
    monkeypatch.setattr(npz, "write", disk_full)
    with pytest.raises(atomic.WriteError) as error:
        weights_file.save(network, tmp_path / "w.npz")
    assert str(error.value) == f"{tmp_path / 'w.npz'}: No space left on device"
    assert os.listdir(tmp_path) == []
