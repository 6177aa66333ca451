"""--distribute multi-worker: a malformed TF_CONFIG is one line naming TF_CONFIG and the field
(exit 2) before TensorFlow is imported; a worker that never answers is named after the connect
timeout (exit 1) instead of TensorFlow's silent wait. Only 127.0.0.1 is ever connected to."""
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from cnn.bridge import engine
from cnn.bridge.cluster import Unreachable, read_tf_config, wait_for_peers
from cnn.cli import main

ROOT = Path(__file__).resolve().parent.parent
MULTI = ["--engine", "keras", "--distribute", "multi-worker", "--epochs", "1"]


def free_port() -> int:
    """A port on 127.0.0.1 that nobody listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def tf_config(workers, index=0, role="worker", **extra) -> str:
    return json.dumps({"cluster": {"worker": workers, **extra}, "task": {"type": role, "index": index}})


@pytest.fixture
def no_tensorflow_import(monkeypatch):
    """TensorFlow is never reached: the bridge's import of it fails the test."""
    monkeypatch.setattr(engine, "keras_module", lambda: pytest.fail("TensorFlow imported before TF_CONFIG was checked"))


TWO = ["127.0.0.1:20001", "127.0.0.1:20002"]
BAD = {
    "not JSON": ("{cluster", "TF_CONFIG is not valid JSON (Expecting property name enclosed in double quotes: line 1 "
                             "column 2 (char 1))"),
    "deep": ("[" * 100_000, "TF_CONFIG is nested more than 100 levels deep"),
    "5,000 digits": (tf_config(TWO).replace('"index": 0', '"index": ' + "7" * 5000),
                     "TF_CONFIG is not valid JSON (an integer of more than 4,300 digits)"),
    "a list": ("[]", 'TF_CONFIG: must be a JSON object with "cluster" and "task"'),
    "no cluster": ('{"task": {"type": "worker", "index": 0}}',
                   'TF_CONFIG: cluster must be an object of task types, each a list of "host:port" addresses, e.g. '
                   '{"worker": ["host1:12345", "host2:12345"]}'),
    "a string of workers": ('{"cluster": {"worker": "127.0.0.1:1"}, "task": {"type": "worker", "index": 0}}',
                            'TF_CONFIG: cluster.worker must be a list of "host:port" addresses, not "127.0.0.1:1"'),
    "a number": (tf_config([5]), 'TF_CONFIG: cluster.worker[0] must be a "host:port" string, not 5'),
    "a bad host": (tf_config(["127.0.0.1:1", "bad host!:1234"]),
                   "TF_CONFIG: cluster.worker[1] 'bad host!:1234' is not a \"host:port\" address (e.g. "
                   "\"host1:12345\")"),
    "no port": (tf_config(["localhost"]), "TF_CONFIG: cluster.worker[0] 'localhost' is not a \"host:port\" address "
                                          "(e.g. \"host1:12345\")"),
    "port 99999": (tf_config(["127.0.0.1:99999"]),
                   "TF_CONFIG: cluster.worker[0] '127.0.0.1:99999': the port must be a whole number from 1 to 65535"),
    "port 0": (tf_config(["127.0.0.1:0"]),
               "TF_CONFIG: cluster.worker[0] '127.0.0.1:0': the port must be a whole number from 1 to 65535"),
    "port -1": (tf_config(["127.0.0.1:-1"]),
                "TF_CONFIG: cluster.worker[0] '127.0.0.1:-1': the port must be a whole number from 1 to 65535"),
    "no task": ('{"cluster": {"worker": ["127.0.0.1:1"]}}',
                'TF_CONFIG: task must be an object {"type": "worker", "index": 0}'),
    "a chief not in the cluster": (tf_config(TWO, role="chief"),
                                   'TF_CONFIG: task.type must be one of the cluster\'s task types (worker), not '
                                   '"chief"'),
    "a ps": (tf_config(TWO, role="ps", ps=["127.0.0.1:20003"]),
             "TF_CONFIG: task.type 'ps': --distribute multi-worker trains with chief and worker tasks only"),
    "index -1": (tf_config(TWO, index=-1), "TF_CONFIG: task.index must be a whole number from 0 to 1 (the cluster "
                                           "has 2 worker addresses), not -1"),
    "index 2": (tf_config(TWO, index=2), "TF_CONFIG: task.index must be a whole number from 0 to 1 (the cluster "
                                         "has 2 worker addresses), not 2"),
    "index true": (tf_config(TWO, index=True), "TF_CONFIG: task.index must be a whole number from 0 to 1 (the "
                                               "cluster has 2 worker addresses), not true"),
    "index 0.0": (tf_config(TWO, index=0.0), "TF_CONFIG: task.index must be a whole number from 0 to 1 (the "
                                             "cluster has 2 worker addresses), not 0.0"),
    "one address twice": (tf_config(["127.0.0.1:20001", "127.0.0.1:20001"]),
                          "TF_CONFIG: duplicate address: cluster.worker[0] and cluster.worker[1] are both "
                          "'127.0.0.1:20001'"),
    "a chief at a worker's address": (tf_config(["LocalHost:20001"], chief=["localhost:20001"]),
                                      "TF_CONFIG: duplicate address: cluster.worker[0] and cluster.chief[0] are both "
                                      "'localhost:20001'"),
    "index missing": ('{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker"}}',
                      "TF_CONFIG: task.index is missing; it must be a whole number from 0 to 0 (the cluster has 1 "
                      "worker address)"),
}


@pytest.mark.parametrize("case", BAD)
def test_a_malformed_tf_config_is_one_line_before_tensorflow(case, no_tensorflow_import, monkeypatch, capsys):
    text, message = BAD[case]
    monkeypatch.setenv("TF_CONFIG", text)
    assert main(MULTI) == 2
    assert capsys.readouterr().err == f"cnn-train: error: {message}\n"


def test_a_well_formed_tf_config_names_this_task_and_the_others():
    tasks = read_tf_config(tf_config(["127.0.0.1:20001", "[::1]:20002", "host-2.example.com:3"], index=1,
                                     chief=["localhost:20000"]))
    assert str(tasks.me) == "worker 1 at [::1]:20002"
    assert [str(t) for t in tasks.others] == ["worker 0 at 127.0.0.1:20001", "worker 2 at host-2.example.com:3",
                                             "chief 0 at localhost:20000"]


def test_a_worker_that_never_answers_is_named_after_the_timeout():
    me, gone = free_port(), free_port()
    said = []
    with pytest.raises(Unreachable) as caught:
        wait_for_peers(read_tf_config(tf_config([f"127.0.0.1:{me}", f"127.0.0.1:{gone}"])), 1, said.append)
    assert said == [f"cnn-train: waiting up to 1 s for worker 1 at 127.0.0.1:{gone} (TF_CONFIG; --connect-timeout "
                    "sets the wait)"]
    assert str(caught.value) == f"TF_CONFIG: no answer within 1 s from worker 1 at 127.0.0.1:{gone} (Connection " \
                                "refused); start it with its own TF_CONFIG, or check the address"


def test_a_worker_that_answers_but_never_reaches_back_is_named():
    """A listener that is not a task of this cluster (another cluster's TF_CONFIG, say) is no peer."""
    me = free_port()
    with socket.create_server(("127.0.0.1", 0)) as stranger:
        other = stranger.getsockname()[1]
        with pytest.raises(Unreachable) as caught:
            wait_for_peers(read_tf_config(tf_config([f"127.0.0.1:{me}", f"127.0.0.1:{other}"])), 1, lambda line: None)
    assert str(caught.value) == f"TF_CONFIG: worker 1 at 127.0.0.1:{other} answered but did not reach this task, " \
                                f"worker 0 at 127.0.0.1:{me}, within 1 s; do all the tasks have the same cluster?"


def test_two_workers_waiting_for_each_other_both_go_on():
    """Each task listens on its own port while it waits: two tasks checking each other both pass."""
    ports = [free_port(), free_port()]
    workers = [f"127.0.0.1:{port}" for port in ports]
    failures = []

    def task(index):
        try:
            wait_for_peers(read_tf_config(tf_config(workers, index=index)), 60, lambda line: None)
        except Unreachable as error:
            failures.append(error)
    threads = [threading.Thread(target=task, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    for port in ports:      # freed for TensorFlow's server
        with socket.socket() as again:
            again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            again.bind(("", port))


def test_the_command_names_the_worker_that_never_answered(monkeypatch, capsys):
    monkeypatch.setattr(engine, "keras_module", lambda: None)
    me, gone = free_port(), free_port()
    monkeypatch.setenv("TF_CONFIG", tf_config([f"127.0.0.1:{me}", f"127.0.0.1:{gone}"]))
    assert main([*MULTI, "--connect-timeout", "1"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [f"cnn-train: waiting up to 1 s for worker 1 at 127.0.0.1:{gone} (TF_CONFIG; --connect-timeout "
                   "sets the wait)",
                   f"cnn-train: error: TF_CONFIG: no answer within 1 s from worker 1 at 127.0.0.1:{gone} (Connection "
                   "refused); start it with its own TF_CONFIG, or check the address"]


def test_connect_timeout_needs_multi_worker_and_a_number(capsys):
    assert main(["--engine", "keras", "--connect-timeout", "5", "--epochs", "1"]) == 2
    assert capsys.readouterr().err == "cnn-train: error: --connect-timeout needs --distribute multi-worker\n"
    for bad in ("0", "abc", "nan", "-3"):
        with pytest.raises(SystemExit) as caught:
            main([*MULTI, "--connect-timeout", bad])
        assert caught.value.code == 2
        assert (f"--connect-timeout: must be a number of seconds more than 0 and at most 86400, not '{bad}'"
                in capsys.readouterr().err)


@pytest.mark.slow
def test_with_tensorflow_an_unreachable_worker_ends_the_command_in_one_line(tmp_path):
    me, gone = free_port(), free_port()
    env = {"PYTHONPATH": str(ROOT), "PATH": os.environ.get("PATH", ""), "TF_CPP_MIN_LOG_LEVEL": "3",
           "TF_CONFIG": tf_config([f"127.0.0.1:{me}", f"127.0.0.1:{gone}"])}
    done = subprocess.run([sys.executable, "-m", "cnn", *MULTI, "--connect-timeout", "2", "--runs",
                           str(tmp_path / "runs")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stderr[-3000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith("cnn-train")]
    assert lines == [f"cnn-train: waiting up to 2 s for worker 1 at 127.0.0.1:{gone} (TF_CONFIG; --connect-timeout "
                     "sets the wait)",
                     f"cnn-train: error: TF_CONFIG: no answer within 2 s from worker 1 at 127.0.0.1:{gone} "
                     "(Connection refused); start it with its own TF_CONFIG, or check the address"]
    assert "Traceback" not in done.stderr and not (tmp_path / "runs").exists()
