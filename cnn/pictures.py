"""Picture files (PNG, JPEG, BMP and the other raster formats Pillow reads) → grey levels, without Qt:
the one reader of picture files, for cnn-predict, a --data folder of images and the studio (Your digit's
Open picture and dropped files; app/widgets/image_files.py keeps only the file dialog's filter and the
drawing pad's QImage). Bounded before decoding: only a regular file is
opened, the format is told by the content whatever the name, drawings (SVG, PDF) are refused, and
the size a picture declares is held to MAX_PIXELS (Pillow's own MAX_IMAGE_PIXELS is set to it too)
and MAX_DECLARED_SIDE before a pixel is decoded; large pictures are decoded scaled down. Every
problem is a PictureError naming the file."""
from __future__ import annotations

import os
import re
import struct
import warnings
import zlib

import numpy as np

from .files import open_regular, shown
from .preprocess import EmptyImage, Preprocessed, preprocess

MAX_PIXELS = 40_000_000     # declared width × height above this is refused (a 7000×5700 photo still opens)
MAX_DECLARED_SIDE = 20_000  # nor a side longer than this
MAX_SIDE = 1024             # larger pictures are decoded scaled down to this longest side (the digit ends at 20 px)
RAW_SIDE = 28               # --raw: pictures are MNIST's size, taken as they are


def size_problem(width: int, height: int) -> str | None:
    """Why a picture that declares width × height pixels is not decoded here, or None."""
    if width * height > MAX_PIXELS:
        return f"the image declares {width}×{height} pixels, more than the {MAX_PIXELS // 1_000_000} million read here"
    if max(width, height) > MAX_DECLARED_SIDE:
        return f"the image declares {width}×{height} pixels, a side longer than the {MAX_DECLARED_SIDE:,} read here"
    return None


FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP", "PPM", "TGA", "ICO")   # Pillow's names; no others are tried
KINDS = "PNG, JPEG, BMP, GIF, TIFF, WebP, PNM, TGA, ICO"                      # the same, in the words of the messages
# The names these formats' files go by (the studio's file dialog offers them, a dropped file with one is
# opened as a picture); the content decides all the same.
SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pbm", ".pgm", ".ppm", ".pnm",
            ".tga", ".ico")
DRAWING_SUFFIXES = (".svg", ".svgz", ".pdf")   # refused by name when their content is a drawing
DRAWING = "which is not read here; open a PNG, JPEG, BMP… picture of the digit"
SNIFFED = 4096              # bytes looked at to tell a drawing


class PictureError(ValueError):
    """A file that cannot be read as a picture; the message names it and says why."""


def _pillow():
    from PIL import Image
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS     # Pillow's decompression-bomb fence: our bound, not its 89 million
    return Image


def drawing_kind(head: bytes) -> str | None:
    """'an SVG drawing', 'an SVG drawing (compressed)' or 'a PDF document' when the file's first bytes are
    one; None otherwise."""
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.startswith(b"\x1f\x8b"):
        try:
            inner = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, SNIFFED)
        except zlib.error:
            return None
        return "an SVG drawing (compressed)" if _is_svg(inner) else None
    return "an SVG drawing" if _is_svg(head) else None


def _is_svg(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"<") and b"<svg" in text.lower()


def read_grey(path, raw: bool = False) -> np.ndarray:
    """The picture in `path` as (H, W) uint8 grey levels (colours by their luma, transparency over white
    paper), scaled down so that its longest side is at most MAX_SIDE; with `raw`, a RAW_SIDE × RAW_SIDE
    picture exactly as it is (any other size is refused). Raises PictureError."""
    name = shown(path)

    def fail(problem: str) -> PictureError:
        return PictureError(f"{name}: {problem}")
    with open_regular(path, fail) as file:
        if os.fstat(file.fileno()).st_size == 0:
            raise fail("the file is empty")
        try:
            kind = drawing_kind(file.read(SNIFFED))
            file.seek(0)
        except OSError as error:
            raise fail(f"could not be read ({error.strerror or error})") from None
        if kind:
            raise fail(f"{kind}, {DRAWING}")
        return _decode(file, fail, raw)


def _decode(file, fail, raw: bool) -> np.ndarray:
    Image = _pillow()
    from PIL import ImageOps, UnidentifiedImageError
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(file, formats=FORMATS)
        except UnidentifiedImageError:
            raise fail(f"not an image ({KINDS})") from None
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
            declared = re.search(r"\((\d+) pixels\)", str(error))   # Pillow: "Image size (400000000 pixels) …"
            size = f" {int(declared.group(1)):,} pixels," if declared else ""
            raise fail(f"the image declares{size} more than the {MAX_PIXELS // 1_000_000} million pixels read "
                       "here") from None
        except (OSError, SyntaxError, ValueError, EOFError, struct.error) as error:
            raise fail(f"could not be decoded ({error})") from None
    with image:
        width, height = image.size
        if width <= 0 or height <= 0:
            raise fail("the image declares no size")
        problem = size_problem(width, height)
        if problem:
            raise fail(problem)
        if raw and (width, height) != (RAW_SIDE, RAW_SIDE):
            raise fail(f"is {width}×{height} pixels; --raw reads {RAW_SIDE}×{RAW_SIDE} pictures as they are")
        try:
            if not raw and max(width, height) > MAX_SIDE:
                image.draft("L", (width * MAX_SIDE // max(width, height), height * MAX_SIDE // max(width, height)))
            image.load()
            grey = _grey(ImageOps.exif_transpose(image) if not raw else image, Image)
        except (OSError, SyntaxError, ValueError, EOFError, zlib.error, struct.error) as error:
            raise fail(f"could not be decoded ({error})") from None
    return grey


def _grey(image, Image) -> np.ndarray:
    """Grey levels: transparency over white paper, colours by their luma (ITU-R BT.601, as cnn.preprocess),
    scaled down by area averaging to at most MAX_SIDE a side."""
    if image.mode in ("1", "L", "I;16", "I", "F") and "transparency" not in image.info:
        grey = image.convert("L") if image.mode in ("1", "L") else _full_range(image)
    else:
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        grey = Image.alpha_composite(paper, rgba).convert("L")
    if max(grey.size) > MAX_SIDE:
        scale = MAX_SIDE / max(grey.size)
        size = (max(1, round(grey.width * scale)), max(1, round(grey.height * scale)))
        grey = grey.resize(size, Image.Resampling.BOX)
    return np.asarray(grey, dtype=np.uint8).copy()


def _full_range(image):
    """A 16-bit or 32-bit grey picture as 8 bits: its type's full range onto 0–255."""
    from PIL import Image
    values = np.asarray(image, dtype=np.float64)
    top = 65535.0 if image.mode == "I;16" or values.max() > 255 else 255.0
    return Image.fromarray(np.clip(np.round(values / top * 255), 0, 255).astype(np.uint8))


def load_digit(path) -> Preprocessed:
    """The picture in `path` preprocessed as MNIST (cnn.preprocess); PictureError names the file when it
    is no picture or holds no ink."""
    grey = read_grey(path)
    try:
        return preprocess(grey)
    except EmptyImage as error:
        raise PictureError(f"{shown(path)}: {error}") from None
