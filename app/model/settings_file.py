"""Whether a settings file may be handed to QSettings at all. Qt decodes an ini value written
`@Variant(…)` or `@DateTime(…)` as a QDataStream when it parses the value's section (reading any key
of it, or writing the file), and PySide's stream operator for its PyObjectWrapper type runs
pickle.loads on what it finds: a planted settings file would run code. So the text is checked
before Qt reads it: decoded as Qt decodes values (its escapes, its quotes), it must not spell either
tag anywhere. (The check looks at the whole text, not value by value: stricter than Qt, never looser.)"""
from __future__ import annotations

import os
import re

from cnn.files import open_regular, shown

MAX_BYTES = 1 << 20          # the studio's own file holds a few kB
OBJECT_TAGS = ("@Variant(", "@DateTime(")

# Qt's escapes in a value (QSettingsPrivate::iniUnescapedStringList): a line continuation, \x and
# hex digits (char16_t, wrapping), octal digits, one named character (any other character is
# skipped), a backslash at the end; and a quote, which is dropped with the blanks after it.
_ESCAPE = re.compile(r'\\(?:\r\n|\n\r|\r|\n|x([0-9A-Fa-f]*)|([0-7]+)|(.)|$)|"[ \t]*', re.S)
_NAMED = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", '"': '"', "?": "?",
          "'": "'", "\\": "\\"}


class NotSettings(ValueError):
    """The file cannot be a settings file (too large, not UTF-8 text, unreadable)."""


def _decoded(match: re.Match) -> str:
    hexa, octal, char = match.groups()
    digits, base = (hexa, 16) if hexa is not None else (octal, 8)
    if digits is not None:
        value = 0
        for digit in digits:
            value = (value * base + int(digit, base)) & 0xFFFF
        return chr(value) if digits else ""
    return _NAMED.get(char, "") if char is not None else ""


def as_qt_reads(text: str) -> str:
    """`text` with Qt's value escapes decoded and its quotes dropped (the form Qt's decoding sees)."""
    return _ESCAPE.sub(_decoded, text)


def holds_object(text: str) -> bool:
    """Whether Qt could decode some value of this ini text as a stored object (and so unpickle it)."""
    decoded = as_qt_reads(text)
    return any(tag in decoded for tag in OBJECT_TAGS)


def read_text(path) -> str | None:
    """The text of the settings file at `path`, or None when there is none yet; NotSettings naming the
    file when it is not a regular file, is too large, cannot be read or is not UTF-8 text."""
    name = shown(path)
    if not os.path.lexists(path):
        return None
    with open_regular(path, lambda problem: NotSettings(f"{name}: {problem}")) as file:
        data = file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise NotSettings(f"{name}: is larger than {MAX_BYTES >> 20} MB; not a settings file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise NotSettings(f"{name}: is not a settings file (not UTF-8 text at byte {error.start})") from None


def problem(path) -> str | None:
    """Why QSettings must not read the settings file at `path` (one line naming it), or None (also when
    there is no file yet)."""
    try:
        text = read_text(path)
    except NotSettings as error:
        return str(error)
    if text is not None and holds_object(text):
        return (f"{shown(path)}: the settings file holds a stored object (@Variant), which could run code if "
                f"read; it is not read")
    return None
