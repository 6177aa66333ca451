"""What is Qt's in the studio's pictures: the file dialog's filter, and the drawing pad's QImage as grey
levels. Picture files themselves are read by cnn.pictures, the one reader (cnn-predict's too): the same
bounds, the same messages, the same grey levels."""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

from cnn.pictures import SUFFIXES

FILE_FILTER = f"Pictures ({' '.join('*' + suffix for suffix in SUFFIXES)});;All files (*)"


def grey_of(image: QImage) -> np.ndarray:
    """(H, W) uint8 grey levels of an opaque QImage (the drawing pad's canvas)."""
    grey = image.convertToFormat(QImage.Format_Grayscale8)
    width, height, stride = grey.width(), grey.height(), grey.bytesPerLine()
    pixels = np.frombuffer(grey.constBits(), dtype=np.uint8, count=stride * height).reshape(height, stride)
    return pixels[:, :width].copy()
