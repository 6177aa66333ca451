"""The two BLAS level-1/2 routines numpy lacks, from scipy, on one thread.

numpy's and scipy's wheels each bundle their own OpenBLAS, each with its own threads, which spin
for a while after every call; on two cores a second pool takes a core from numpy's work (batch
steps slowed down several-fold when scipy's pool had two threads). The engine calls scipy's BLAS only
for in-place updates that are memory-bound anyway, so that library, when it is not numpy's, is
set to one thread when this module is imported. numpy's own BLAS is left alone.
"""
from __future__ import annotations

import functools

import numpy as np
from scipy.linalg import blas
from threadpoolctl import ThreadpoolController


def add_scaled(y: np.ndarray, scale: float, x: np.ndarray) -> None:
    """y += scale · x in place, in one pass (BLAS axpy); y C-contiguous."""
    x = np.ascontiguousarray(x, dtype=y.dtype)
    _routine("axpy", y.dtype)(x.reshape(-1), y.reshape(-1), a=scale)


def add_outer(weights: np.ndarray, scale: float, u: np.ndarray, v: np.ndarray) -> None:
    """weights += scale · outer(u, v) in place, in one pass over the C-ordered weights (BLAS ger on
    their column-major view)."""
    _routine("ger", weights.dtype)(scale, v, u, a=weights.T, overwrite_a=True)


@functools.cache
def _routine(name: str, dtype: np.dtype):
    return blas.get_blas_funcs(name, dtype=dtype)


def _one_thread_for_scipys_blas() -> None:
    controller = ThreadpoolController()
    numpy_paths = {lib.filepath for lib in controller.lib_controllers if "numpy" in lib.filepath}
    for lib in controller.lib_controllers:
        if lib.user_api == "blas" and "scipy" in lib.filepath and lib.filepath not in numpy_paths:
            lib.set_num_threads(1)


# At import, on the importing thread: threadpoolctl asks threading.current_thread(), which on a
# thread Python did not start (the studio's worker QThread) would leave a dummy Thread behind.
_one_thread_for_scipys_blas()
