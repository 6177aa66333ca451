"""--distribute multi-worker: TF_CONFIG read and checked before TensorFlow sees it, and every
other worker of the cluster reached (a TCP connect, retried) before MultiWorkerMirroredStrategy
is made: TensorFlow itself waits without a word for a worker that never comes, and answers a
negative index or a bad address with a traceback.

While it waits, this task listens on its own port, so that the others' checks reach it too; the
port is freed, once every other task has reached it, for TensorFlow's server to take."""
from __future__ import annotations

import json
import re
import select
import socket
import sys
import time
from dataclasses import dataclass

from .. import jsonfile
from . import BridgeError

CONNECT_TIMEOUT = 120.0       # seconds, --connect-timeout's default
ROLES = ("chief", "worker")   # the tasks MultiWorkerMirroredStrategy trains with
HOST = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?|\[[0-9A-Fa-f:.]+\]")


class Unreachable(BridgeError):
    """Workers of the cluster that did not answer within the connect timeout (exit 1)."""


@dataclass(frozen=True)
class Task:
    role: str
    index: int
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.role} {self.index} at {_address(self)}"


@dataclass(frozen=True)
class Cluster:
    me: Task
    others: tuple[Task, ...]


def read_tf_config(text: str) -> Cluster:
    """The cluster TF_CONFIG describes; BridgeError("TF_CONFIG …") naming the field that is wrong."""
    def fail(message: str) -> BridgeError:
        return BridgeError(message if message.startswith("TF_CONFIG") else f"TF_CONFIG: {message}")
    config = jsonfile.parse(text, "TF_CONFIG", fail)
    if not isinstance(config, dict):
        raise fail("must be a JSON object with \"cluster\" and \"task\"")
    cluster, task = config.get("cluster"), config.get("task")
    if not isinstance(cluster, dict) or not cluster:
        raise fail("cluster must be an object of task types, each a list of \"host:port\" addresses, e.g. "
                   "{\"worker\": [\"host1:12345\", \"host2:12345\"]}")
    tasks = [_task(role, index, address, fail) for role, addresses in cluster.items()
             for index, address in enumerate(_addresses(role, addresses, fail))]
    _refuse_duplicates(tasks, fail)
    if not isinstance(task, dict):
        raise fail("task must be an object {\"type\": \"worker\", \"index\": 0}")
    role, index = task.get("type"), task.get("index")
    if role not in cluster:
        raise fail(wrong(task, "type", f"one of the cluster's task types ({', '.join(map(str, cluster))})"))
    if role not in ROLES:
        raise fail(f"task.type {role!r}: --distribute multi-worker trains with chief and worker tasks only")
    if type(index) is not int or not 0 <= index < len(cluster[role]):
        count = len(cluster[role])
        raise fail(wrong(task, "index", f"a whole number from 0 to {count - 1} (the cluster has {count} {role} "
                                        f"address{'es' if count > 1 else ''})"))
    me = next(t for t in tasks if (t.role, t.index) == (role, index))
    return Cluster(me, tuple(t for t in tasks if t != me and t.role in ROLES))


def json_text(value) -> str:
    return json.dumps(value)[:60]


def wrong(task: dict, field: str, expected: str) -> str:
    if field not in task:
        return f"task.{field} is missing; it must be {expected}"
    return f"task.{field} must be {expected}, not {json_text(task[field])}"


def _addresses(role, addresses, fail) -> list:
    if not isinstance(addresses, list) or not addresses:
        raise fail(f"cluster.{role} must be a list of \"host:port\" addresses, not {json_text(addresses)}")
    return addresses


def _task(role: str, index: int, address, fail) -> Task:
    where = f"cluster.{role}[{index}]"
    if not isinstance(address, str):
        raise fail(f"{where} must be a \"host:port\" string, not {json_text(address)}")
    host, colon, port = address.rpartition(":")
    if not colon or not HOST.fullmatch(host):
        raise fail(f"{where} {address[:80]!r} is not a \"host:port\" address (e.g. \"host1:12345\")")
    if not port.isascii() or not port.isdigit() or not 1 <= int(port[:6]) <= 65535:
        raise fail(f"{where} {address[:80]!r}: the port must be a whole number from 1 to 65535")
    return Task(role, index, host.strip("[]"), int(port))


def _refuse_duplicates(tasks: list[Task], fail) -> None:
    """Two tasks at one address: each would wait for the other on its own port."""
    seen = {}
    for task in tasks:
        address = (task.host.lower().rstrip("."), task.port)
        if address in seen:
            first = seen[address]
            raise fail(f"duplicate address: cluster.{first.role}[{first.index}] and cluster.{task.role}[{task.index}] "
                       f"are both {_address(task)!r}")
        seen[address] = task


def _address(task: Task) -> str:
    return f"[{task.host}]:{task.port}" if ":" in task.host else f"{task.host}:{task.port}"


def wait_for_peers(cluster: Cluster, timeout: float, say=None, pause: float = 0.2) -> None:
    """Return once this task has reached every other task of the cluster (a TCP connect, saying who
    it is) and every other task has reached it, listening on its own port meanwhile; else
    Unreachable naming those that did not within `timeout` seconds. No task frees its port before
    all the others have reached it, so none can find it closed before TensorFlow's server takes it."""
    if not cluster.others:
        return
    say = say or (lambda line: print(line, file=sys.stderr, flush=True))
    say(f"cnn-train: waiting up to {timeout:g} s for {', '.join(map(str, cluster.others))} (TF_CONFIG; "
        "--connect-timeout sets the wait)")
    listener = _listen(cluster.me)
    try:
        unreached, unheard, why = list(cluster.others), set(cluster.others), {}
        deadline = time.monotonic() + timeout
        while unreached or unheard:
            unreached = [task for task in unreached if not _greet(task, cluster.me, deadline, why)]
            unheard -= _heard(listener, cluster.others, pause)
            if (unreached or unheard) and time.monotonic() >= deadline:
                if unreached:
                    raise Unreachable(f"TF_CONFIG: no answer within {timeout:g} s from "
                                      + ", ".join(f"{task} ({why[task]})" for task in unreached)
                                      + "; start it with its own TF_CONFIG, or check the address")
                raise Unreachable(f"TF_CONFIG: {', '.join(map(str, unheard))} answered but did not reach this task, "
                                  f"{cluster.me}, within {timeout:g} s; do all the tasks have the same cluster?")
    finally:
        listener.close()


def _greet(task: Task, me: Task, deadline: float, why: dict) -> bool:
    """Whether `task` accepted a connection (and was told who this task is)."""
    try:
        wait = max(0.1, min(2.0, deadline - time.monotonic()))
        with socket.create_connection((task.host, task.port), timeout=wait) as connection:
            connection.sendall(f"{me.role} {me.index}\n".encode())
        return True
    except OSError as error:
        why[task] = error.strerror or str(error) or type(error).__name__
        return False


def _heard(listener: socket.socket, others, wait: float) -> set:
    """The tasks that connected to this one in the next `wait` seconds (and any already waiting)."""
    names, heard = {f"{task.role} {task.index}": task for task in others}, set()
    while select.select([listener], [], [], wait)[0]:
        wait = 0
        try:
            connection, _ = listener.accept()
        except OSError:
            break
        with connection:
            connection.settimeout(1.0)
            try:
                said = connection.recv(64).decode("ascii", "replace").strip()
            except OSError:
                said = ""
        if said in names:
            heard.add(names[said])
    return heard


def _listen(me: Task) -> socket.socket:
    """A socket listening on this task's port (all interfaces, as TensorFlow's server will)."""
    try:
        if socket.has_dualstack_ipv6():
            return socket.create_server(("", me.port), family=socket.AF_INET6, dualstack_ipv6=True)
        return socket.create_server(("", me.port))
    except OSError as error:
        raise Unreachable(f"TF_CONFIG: this task, {me}, cannot listen on port {me.port} "
                          f"({error.strerror or error})") from None
