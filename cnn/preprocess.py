"""MNIST's own preprocessing, for any picture of a digit (a drawing, a photo, a scan).

LeCun et al. made MNIST from NIST's black-and-white digits: each was scaled so that its longest
side is 20 pixels (keeping the aspect ratio; the resampling's antialiasing makes the grey levels),
then placed in a 28×28 field with its centre of mass at the field's centre. Here, from an array of
grey levels or colours of any size:

1. grey levels in [0, 1] (colours by their luma, a transparent background as white paper);
2. inverted when the background is light (dark ink on paper), so the ink is bright as in MNIST;
   the background's level (the median of the border) becomes 0 and the strongest ink 1;
3. cropped to the ink (the pixels above INK_THRESHOLD);
4. the longest side scaled to 20 pixels, the other in proportion, by area averaging (each output
   pixel is the mean of the input it covers: antialiased, no ink lost or made);
5. placed in 28×28 so that the centre of mass falls on the centre, by whole pixels.

Every stage is kept (`Preprocessed`), so the studio can show why a digit was misread. Decoding
picture files is cnn.pictures' job (cnn-predict's and the studio's); this module sees only arrays.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FIELD = 28                 # MNIST's image side
BOX = 20                   # the longest side of the digit inside the field
INK_THRESHOLD = 0.15       # ink above this (after stretching to [0, 1]) counts when cropping
MIN_CONTRAST = 0.08        # strongest ink minus background below this: an empty page
LUMA = np.array([0.299, 0.587, 0.114])   # ITU-R BT.601, as Qt's and PIL's grey conversion


class EmptyImage(ValueError):
    """The picture holds no ink to read (a blank page, a uniform colour)."""


@dataclass(frozen=True)
class Preprocessed:
    """Each stage of the preprocessing; arrays are read-only float64."""
    grey: np.ndarray          # (H, W) grey levels in [0, 1] as the picture shows them (1 = white)
    inverted: bool            # the background was light, so the grey levels were inverted
    background: float         # the background's grey level (median of the border), in `grey`'s terms
    ink: np.ndarray           # (H, W) ink in [0, 1]: 0 the background, 1 the strongest ink
    box: tuple[int, int, int, int]   # (top, bottom, left, right) of the ink in `ink`, bottom/right exclusive
    cropped: np.ndarray       # ink[top:bottom, left:right]
    scaled: np.ndarray        # (h, w), max(h, w) = BOX
    offset: tuple[int, int]   # (row, col) where `scaled` sits in the field
    image: np.ndarray         # (FIELD, FIELD): what the network sees, ink in [0, 1]


def grey_levels(pixels: np.ndarray) -> np.ndarray:
    """(H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA, integers (full range of their type) or floats in
    [0, 1] → (H, W) float64 in [0, 1]. Transparent pixels are composited over white."""
    pixels = np.asarray(pixels)
    if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] not in (1, 3, 4)):
        raise ValueError(f"expected an (H, W), (H, W, 3) or (H, W, 4) array of pixels, not shape {pixels.shape}")
    if pixels.shape[0] == 0 or pixels.shape[1] == 0:
        raise EmptyImage("the image has no pixels")
    if np.issubdtype(pixels.dtype, np.integer) or pixels.dtype == bool:
        top = 1 if pixels.dtype == bool else np.iinfo(pixels.dtype).max
        values = pixels.astype(np.float64) / top
    else:
        values = np.clip(np.nan_to_num(pixels.astype(np.float64), nan=1.0), 0.0, 1.0)
    if values.ndim == 2:
        return values
    if values.shape[2] == 1:
        return values[:, :, 0]
    grey = values[:, :, :3] @ LUMA if values.shape[2] >= 3 else values[:, :, 0]
    if values.shape[2] == 4:
        alpha = values[:, :, 3]
        grey = alpha * grey + (1 - alpha)
    return np.clip(grey, 0.0, 1.0)


def border_median(grey: np.ndarray) -> float:
    """The median of the outermost rows and columns: the background, wherever the digit is."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return float(np.median(border))


def area_resize(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resample (h, w) → shape by area averaging: output pixel i covers input [i·h/H, (i+1)·h/H),
    and takes the mean of what it covers (pixels cut by its edges count by the part covered)."""
    return _area_matrix(shape[0], image.shape[0]) @ image @ _area_matrix(shape[1], image.shape[1]).T


def _area_matrix(out_size: int, in_size: int) -> np.ndarray:
    """(out, in): row i holds the fraction of output pixel i that each input pixel covers."""
    edges = np.arange(out_size + 1) * (in_size / out_size)      # output edges, in input pixels
    low, high = edges[:-1, None], edges[1:, None]
    pixels = np.arange(in_size)[None, :]
    overlap = np.clip(np.minimum(high, pixels + 1) - np.maximum(low, pixels), 0.0, None)
    return overlap / (in_size / out_size)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, col) of the ink's centre of mass, in pixel indices."""
    total = image.sum()
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / total), float((cols * image).sum() / total)


def preprocess(pixels: np.ndarray) -> Preprocessed:
    """Any picture of one digit → the 28×28 image MNIST would have made of it (the module's
    docstring lists the stages). Raises EmptyImage when there is no ink to read."""
    grey = grey_levels(pixels)
    background = border_median(grey)
    inverted = background > 0.5
    ink = 1.0 - grey if inverted else grey.copy()
    floor = 1.0 - background if inverted else background
    strongest = float(ink.max())
    if strongest - floor < MIN_CONTRAST:
        raise EmptyImage(f"no ink: the image is a uniform {'light' if inverted else 'dark'} page "
                         f"(contrast {max(strongest - floor, 0):.2f}, at least {MIN_CONTRAST} needed)")
    ink = np.clip((ink - floor) / (strongest - floor), 0.0, 1.0)
    rows = np.flatnonzero((ink > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((ink > INK_THRESHOLD).any(axis=0))
    box = (int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1)
    cropped = ink[box[0]:box[1], box[2]:box[3]]
    h, w = cropped.shape
    scale = BOX / max(h, w)
    scaled = area_resize(cropped, (max(1, round(h * scale)), max(1, round(w * scale))))
    image, offset = centred(scaled)
    return Preprocessed(*(_frozen(a) if isinstance(a, np.ndarray) else a for a in (
        grey, bool(inverted), background, ink, box, cropped, scaled, offset, image)))


def centred(scaled: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """`scaled` placed in the FIELD×FIELD field with its centre of mass on the field's centre
    ((FIELD − 1)/2 in indices), moved by whole pixels and kept inside the field."""
    com_row, com_col = centre_of_mass(scaled)
    centre = (FIELD - 1) / 2
    top = int(np.clip(np.round(centre - com_row), 0, FIELD - scaled.shape[0]))
    left = int(np.clip(np.round(centre - com_col), 0, FIELD - scaled.shape[1]))
    image = np.zeros((FIELD, FIELD))
    image[top:top + scaled.shape[0], left:left + scaled.shape[1]] = scaled
    return image, (top, left)


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=np.float64)
    array.flags.writeable = False
    return array
