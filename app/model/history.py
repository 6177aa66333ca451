"""Bounded histories for the plots: memory stays flat however long a run goes on."""
from __future__ import annotations

from collections import deque

import numpy as np


class History:
    """An (x, y) series of at most `capacity` points. When full, neighbouring points are averaged
    in pairs and each stored point then stands for twice as many appended ones (`stride`)."""

    def __init__(self, capacity: int = 50_000):
        if capacity < 2 or capacity % 2:
            raise ValueError("capacity must be an even number of at least 2")
        self.capacity = capacity
        self.x = np.empty(capacity)
        self.y = np.empty(capacity)
        self.count = 0
        self.stride = 1
        self._bucket: list[tuple[float, float]] = []

    def append(self, x: float, y: float) -> None:
        if self.count == self.capacity and not self._bucket:  # full: halve before taking more
            half = self.capacity // 2
            self.x[:half] = (self.x[0::2] + self.x[1::2]) / 2
            self.y[:half] = (self.y[0::2] + self.y[1::2]) / 2
            self.count, self.stride = half, self.stride * 2
        if self.stride > 1:  # a stored point stands for `stride` appended ones: their mean
            self._bucket.append((x, y))
            if len(self._bucket) < self.stride:
                return
            x = sum(point[0] for point in self._bucket) / self.stride
            y = sum(point[1] for point in self._bucket) / self.stride
            self._bucket = []
        self.x[self.count], self.y[self.count] = x, y  # (plain floats: an np.mean per point is dear on the GUI thread)
        self.count += 1

    def extend(self, xs, ys) -> None:
        """append() of each pair in turn; a frame's points in one copy while they fit and no point is
        averaged yet (the window's thread takes thousands at a frame)."""
        xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        n = len(xs)
        if self.stride == 1 and self.count + n <= self.capacity:
            self.x[self.count:self.count + n], self.y[self.count:self.count + n] = xs, ys
            self.count += n
            return
        for x, y in zip(xs.tolist(), ys.tolist(), strict=True):
            self.append(x, y)

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies (plots keep a reference to what they are given)."""
        return self.x[:self.count].copy(), self.y[:self.count].copy()

    def clear(self) -> None:
        self.count, self.stride, self._bucket = 0, 1, []

    def cut(self, x: float) -> None:
        """Drops the points past `x` (a stopped epoch's steps, which its next Start draws again)."""
        self.count = int(np.searchsorted(self.x[:self.count], x, side="right"))
        self._bucket = [point for point in self._bucket if point[0] <= x]


class MovingAverage:
    """Mean of the last `window` values."""

    def __init__(self, window: int):
        self.window = window
        self.values: deque[float] = deque(maxlen=window)
        self.total = 0.0

    def add(self, value: float) -> float:
        if len(self.values) == self.window:
            self.total -= self.values[0]
        self.values.append(value)
        self.total += value
        return self.total / len(self.values)

    def clear(self) -> None:
        self.values.clear()
        self.total = 0.0
