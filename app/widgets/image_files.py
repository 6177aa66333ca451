"""Image files (PNG, JPEG, BMP and whatever else Qt's own readers know) → grey levels for
cnn.preprocess, with memory bounded by the size the file declares, read before decoding.

Used by cnn-predict and by the studio. Every problem is an ImageFileError naming the file.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QImageReader, QPainter

from cnn.preprocess import EmptyImage, Preprocessed, preprocess

MAX_PIXELS = 40_000_000   # declared width × height above this is refused (a 7000×5700 photo still opens)
MAX_SIDE = 1024           # larger pictures are decoded scaled down to this longest side (the digit ends at 20 px)
FORMATS = "PNG, JPEG, BMP"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".pgm", ".ppm", ".tif", ".tiff", ".webp")
FILE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.pgm *.ppm *.tif *.tiff *.webp);;All files (*)"


class ImageFileError(ValueError):
    """A file that cannot be read as a picture of a digit; the message names it."""


def read_grey(path) -> np.ndarray:
    """The picture in `path` as (H, W) uint8 grey levels, transparency shown over white paper, scaled
    down so that its longest side is at most MAX_SIDE. Raises ImageFileError."""
    path = Path(path)
    name = os.fspath(path)
    if not path.exists():
        raise ImageFileError(f"{name}: no such file")
    if path.is_dir():
        raise ImageFileError(f"{name}: is a folder, not an image")
    if path.stat().st_size == 0:
        raise ImageFileError(f"{name}: the file is empty")
    reader = QImageReader(name)
    reader.setAutoTransform(True)          # a phone's photo the right way up
    if not reader.canRead():
        raise ImageFileError(f"{name}: not an image ({FORMATS} and the other formats Qt reads)")
    size = reader.size()
    width, height = size.width(), size.height()
    if width <= 0 or height <= 0:
        raise ImageFileError(f"{name}: the image declares no size")
    if width * height > MAX_PIXELS:
        raise ImageFileError(f"{name}: the image declares {width}×{height} pixels, more than the "
                             f"{MAX_PIXELS // 1_000_000} million read here")
    scale = min(1.0, MAX_SIDE / max(width, height))
    if scale < 1.0:
        reader.setScaledSize(size * scale)
    image = reader.read()
    if image.isNull():
        raise ImageFileError(f"{name}: could not be decoded ({reader.errorString()})")
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
        raise ImageFileError(f"{os.fspath(path)}: {error}") from None
