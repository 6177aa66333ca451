"""Image files (PNG, JPEG, BMP and whatever else Qt's own readers know) → grey levels for
cnn.preprocess, with memory bounded by the size the file declares, read before decoding.

Used by the studio (cnn-predict reads with Pillow: cnn.pictures). Every problem is an ImageFileError naming the file.
"""
from __future__ import annotations

import os

import numpy as np
from PySide6.QtCore import QFile, QFileDevice, QIODevice, QLoggingCategory, QSize, Qt
from PySide6.QtGui import QImage, QImageReader, QPainter

from cnn.files import open_regular, shown
from cnn.pictures import MAX_DECLARED_SIDE, MAX_PIXELS, MAX_SIDE, size_problem  # noqa: F401 (the bounds, one place)
from cnn.preprocess import EmptyImage, Preprocessed, preprocess
from cnn.quiet import stderr_filtered

FORMATS = "PNG, JPEG, BMP"
# The formats (as Qt's readers name them) decoded here: pixels, bounded by the size they declare.
RASTER_FORMATS = frozenset({"bmp", "gif", "icns", "ico", "jpeg", "pbm", "pgm", "png", "ppm", "tga", "tiff", "wbmp",
                            "webp", "xbm", "xpm"})
# Drawings Qt would render at any cost (29 levels of doubling <use> in a 100×100 SVG: minutes): refused.
DRAWINGS = {"svg": "an SVG drawing", "svgz": "an SVG drawing (compressed)", "pdf": "a PDF document"}
DRAWING_SUFFIXES = (".svg", ".svgz", ".pdf")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".pgm", ".ppm", ".tif", ".tiff", ".webp")
FILE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.pgm *.ppm *.tif *.tiff *.webp);;All files (*)"


# Qt's image readers tell what they find wrong in a file ("qt.gui.imageio: libpng warning: Image width exceeds
# user limit in IHDR", "XPM pixels missing…"): each failure here is one ImageFileError of our own instead. Other
# categories stay as they are; QT_LOGGING_RULES="qt.gui.imageio*=true" shows these again.
QLoggingCategory.setFilterRules("qt.gui.imageio*=false")


def _not_libpng(line: bytes) -> bool:
    """libpng writes its errors ("libpng error: Read Error") straight to stderr, past Qt's logging."""
    return not line.startswith(b"libpng ")


class ImageFileError(ValueError):
    """A file that cannot be read as a picture of a digit; the message names it."""


def read_grey(path) -> np.ndarray:
    """The picture in `path` as (H, W) uint8 grey levels, transparency shown over white paper, scaled
    down so that its longest side is at most MAX_SIDE. Raises ImageFileError.

    Only a regular file is opened (never a FIFO or a device), and Qt reads it from that open file, not
    by a path it would re-encode (a name that is not UTF-8 opens). The format is told by the content,
    whatever the name's suffix; only raster formats are decoded, and only once the size they declare
    is within the limits: a drawing (SVG) would be rendered without bound."""
    name = shown(path)

    def fail(problem: str) -> ImageFileError:
        return ImageFileError(f"{name}: {problem}")
    with open_regular(path, fail) as file:
        if os.fstat(file.fileno()).st_size == 0:
            raise fail("the file is empty")
        device = QFile()
        if not device.open(file.fileno(), QIODevice.ReadOnly, QFileDevice.DontCloseHandle):
            raise fail(f"could not be read ({device.errorString()})")
        try:
            with stderr_filtered(_not_libpng):
                return _decode(QImageReader(device), fail)
        finally:
            device.close()


def _decode(reader: QImageReader, fail) -> np.ndarray:
    reader.setDecideFormatFromContent(True)
    reader.setAutoTransform(True)          # a phone's photo the right way up
    kind = bytes(reader.format()).decode("ascii", "replace").lower()
    if kind in DRAWINGS:
        raise fail(f"{DRAWINGS[kind]}, which is not read here; open a {FORMATS}… picture of the digit")
    if kind not in RASTER_FORMATS or not reader.canRead():
        detail = f"a {kind.upper()} file is not read here" if kind else f"{FORMATS} and the other formats Qt reads"
        raise fail(f"not an image ({detail})")
    size = reader.size()
    width, height = size.width(), size.height()
    if width <= 0 or height <= 0:
        raise fail("the image declares no size its reader accepts")
    problem = size_problem(width, height)
    if problem:
        raise fail(problem)
    scale = min(1.0, MAX_SIDE / max(width, height))
    if scale < 1.0:
        reader.setScaledSize(QSize(max(1, round(width * scale)), max(1, round(height * scale))))
    image = reader.read()
    if image.isNull():
        raise fail(f"could not be decoded ({reader.errorString()})")
    return grey_of(image)


def grey_of(image: QImage) -> np.ndarray:
    """(H, W) uint8 grey levels of a QImage, transparent parts over white."""
    if image.hasAlphaChannel():
        paper = QImage(image.size(), QImage.Format_RGB32)
        paper.fill(Qt.white)
        painter = QPainter(paper)
        painter.drawImage(0, 0, image)
        painter.end()
        image = paper
    grey = image.convertToFormat(QImage.Format_Grayscale8)
    width, height, stride = grey.width(), grey.height(), grey.bytesPerLine()
    pixels = np.frombuffer(grey.constBits(), dtype=np.uint8, count=stride * height).reshape(height, stride)
    return pixels[:, :width].copy()


def load_digit(path) -> Preprocessed:
    """The picture in `path` preprocessed as MNIST (cnn.preprocess); ImageFileError names the file
    when it is no picture or holds no ink."""
    grey = read_grey(path)
    try:
        return preprocess(grey)
    except EmptyImage as error:
        raise ImageFileError(f"{shown(path)}: {error}") from None
