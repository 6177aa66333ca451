"""Where the cells of a grid image go: R rows × C columns of h×w cells (kernels K_ij, dense templates,
feature maps), drawn as one image with one-pixel gaps. Qt-free.

Tall grids wrap: their rows go into `blocks` side-by-side blocks (a hundred 5×26×26 templates as
ten blocks of ten rows), separated by a wider gap.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Grid:
    rows: int
    cols: int
    h: int
    w: int
    blocks: int = 1
    gap: int = 1
    block_gap: int = 4

    @property
    def rows_per_block(self) -> int:
        return -(-self.rows // self.blocks)

    @property
    def block_width(self) -> int:
        """From one block's left edge to the next one's."""
        return self.cols * (self.w + self.gap) - self.gap + self.block_gap

    @property
    def shape(self) -> tuple[int, int]:
        return (self.rows_per_block * (self.h + self.gap) - self.gap, self.blocks * self.block_width - self.block_gap)

    def origin(self, row: int, col: int) -> tuple[int, int]:
        """(y, x) of cell (row, col)'s top-left pixel."""
        block, inner = divmod(row, self.rows_per_block)
        return inner * (self.h + self.gap), block * self.block_width + col * (self.w + self.gap)

    def image(self, cells: np.ndarray) -> np.ndarray:
        """(rows, cols, h, w) → one read-only float image, NaN (drawn blank) between cells."""
        if cells.shape != (self.rows, self.cols, self.h, self.w):
            raise ValueError(f"cells of shape {cells.shape} do not fit {self}")
        b, rpb, (h, w), g = self.blocks, self.rows_per_block, (self.h, self.w), self.gap
        padded = np.full((b * rpb, self.cols, h + g, w + g), np.nan)
        padded[:self.rows, :, :h, :w] = cells
        rows = padded.reshape(b, rpb, self.cols, h + g, w + g).transpose(1, 3, 0, 2, 4)
        rows = rows.reshape(rpb * (h + g), b, self.cols * (w + g))
        out = np.full((rpb * (h + g), b, self.block_width), np.nan)
        out[:, :, :self.cols * (w + g)] = rows
        height, width = self.shape
        image = np.ascontiguousarray(out.reshape(rpb * (h + g), -1)[:height, :width])
        image.flags.writeable = False
        return image

    def cell_at(self, x: float, y: float) -> tuple[int, int, int, int] | None:
        """(row, col, pixel row, pixel col) under the image point (x, y), or None between cells."""
        x, y = math.floor(x), math.floor(y)
        if x < 0 or y < 0:
            return None
        block, inner_x = divmod(x, self.block_width)
        col, px = divmod(inner_x, self.w + self.gap)
        inner_row, py = divmod(y, self.h + self.gap)
        row = block * self.rows_per_block + inner_row
        if block >= self.blocks or col >= self.cols or px >= self.w or py >= self.h \
                or inner_row >= self.rows_per_block or row >= self.rows:
            return None
        return row, col, py, px

    def row_centres(self) -> list[float]:
        """y of each row's centre in the first block (where row labels go)."""
        return [r * (self.h + self.gap) + self.h / 2 for r in range(min(self.rows, self.rows_per_block))]

    def col_centres(self) -> list[float]:
        """x of each column's centre in every block."""
        return [b * self.block_width + c * (self.w + self.gap) + self.w / 2
                for b in range(self.blocks) for c in range(self.cols)]


def fitted(rows: int, cols: int, h: int, w: int, aspect: float) -> Grid:
    """The grid with as many blocks as bring its width/height nearest to `aspect` (a view's)."""
    best, best_error = Grid(rows, cols, h, w), math.inf
    for blocks in range(1, rows + 1):
        if blocks > 1 and -(-rows // blocks) == -(-rows // (blocks - 1)):
            continue  # no fewer rows per block than with one block less
        grid = Grid(rows, cols, h, w, blocks)
        height, width = grid.shape
        error = abs(math.log(width / height / aspect))
        if error < best_error:
            best, best_error = grid, error
    return best
