"""The two BLAS level-1/2 routines numpy lacks, from scipy; numpy's and scipy's BLAS on one thread.

numpy's and scipy's wheels each bundle their own OpenBLAS, each with its own threads, which spin
for a while after every call; on two cores a second pool takes a core from numpy's work. numpy's
own pool of two is no better as soon as anything else wants a core: its threads spin at a barrier
inside every GEMM, and the engine's GEMMs are small. So both libraries are set to one thread when
this module is imported (the README's speed section has the measurements).
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


def _one_thread_for_blas() -> None:
    controller = ThreadpoolController()
    for lib in controller.lib_controllers:
        if lib.user_api == "blas" and ("scipy" in lib.filepath or "numpy" in lib.filepath):
            lib.set_num_threads(1)


# At import, on the importing thread: threadpoolctl asks threading.current_thread(), which on a
# thread Python did not start (the studio's worker QThread) would leave a dummy Thread behind.
_one_thread_for_blas()
