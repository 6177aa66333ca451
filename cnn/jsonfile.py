"""The one JSON reader: bounded in size and depth, only regular files, and every failure one
message naming the file. Python's json raises RecursionError on deep nesting ("[" x 100,000)
and ValueError on an integer past 4,300 digits; neither may escape as a traceback."""
from __future__ import annotations

import json
import os
import sys
from typing import Callable

from .files import open_regular

MAX_DEPTH = 100          # arrays and objects inside each other; our files nest 5 deep at most


def _depth(text: str) -> int:
    """The deepest nesting of [ and { outside strings (a linear scan, no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return deepest
        elif char in "]}":
            depth -= 1
    return deepest


def _has_brackets_past(text: str, limit: int) -> bool:
    # cheap test first: a file with fewer brackets than the limit cannot nest past it
    return text.count("[") + text.count("{") > limit


def parse(data: bytes | str, name: str, fail: Callable[[str], Exception]):
    """`data` parsed as JSON, or fail(f"{name} is …") raised, saying what is wrong."""
    try:
        text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    except UnicodeDecodeError as error:
        raise fail(f"{name} is not UTF-8 text ({error.reason} at byte {error.start})") from None
    if _has_brackets_past(text, MAX_DEPTH) and _depth(text) > MAX_DEPTH:
        raise fail(f"{name} is nested more than {MAX_DEPTH} levels deep")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise fail(f"{name} is not valid JSON ({error})") from None
    except RecursionError:
        raise fail(f"{name} is nested too deeply to read") from None
    except ValueError as error:         # an integer of more than 4,300 digits, and the like
        problem = str(error).split(';')[0]
        if "integer string conversion" in problem:   # not Python's words: "Exceeds the limit (4300 digits)…"
            problem = f"an integer of more than {sys.get_int_max_str_digits():,} digits"
        raise fail(f"{name} is not valid JSON ({problem})") from None


def read(path, fail: Callable[[str], Exception], max_bytes: int, name: str | None = None):
    """The JSON file at `path` (a regular file only: never a FIFO or a device), at most `max_bytes`,
    parsed; else fail(message) raised, the message starting with `name` (the path by default)."""
    name = os.fspath(path) if name is None else name
    def unreadable(problem: str) -> Exception:
        return fail(f"{name} {problem}" if problem.startswith("is ") else f"{name}: cannot be read ({problem})")
    with open_regular(path, unreadable) as file:
        data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        size = f"{max_bytes >> 20} MB" if max_bytes >= 1 << 20 else f"{max_bytes >> 10} kB"
        raise fail(f"{name} is larger than {size}; not a file of ours")
    return parse(data, name, fail)
