"""The local files dropped on a window, as paths Python opens: a name that is not UTF-8 keeps its bytes."""
from __future__ import annotations

import os
from urllib.parse import unquote_to_bytes

from PySide6.QtCore import QUrl


def local_path(url: QUrl) -> str:
    """The file a file:// URL names. QUrl.toLocalFile() turns bytes that are not UTF-8 (%FF in the URL, as file
    managers send such a name) into U+FFFD, which names no file; here they become the surrogates Python's os
    functions turn back into those bytes."""
    if os.name == "nt" or url.host():
        return url.toLocalFile()
    return os.fsdecode(unquote_to_bytes(url.path(QUrl.FullyEncoded)))


def dropped_files(mime) -> list[str]:
    """The local files among a drop's URLs, in order."""
    return [local_path(url) for url in mime.urls() if url.isLocalFile()]
