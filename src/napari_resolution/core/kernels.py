"""Compiled CPU fast paths (numba) for the hot loops of the Fourier estimators.

Each kernel does in one parallel pass what the array code in the estimator
modules does in several numpy passes; that array code stays the reference and
the GPU path, and tests check that both agree. The kernels are used only for
numpy inputs when numba imports and ``NAPARI_RESOLUTION_NO_JIT`` is unset.

numba's default thread pool must not be entered from two Python threads at
once, and napari runs estimators in worker threads: every call takes a lock.
"""

from __future__ import annotations

import os
import threading

import numpy as np

try:
    import numba
except ImportError:  # pragma: no cover - numba is a declared dependency
    numba = None

__all__ = ["jit_enabled", "pack_windowed", "packed_shell_sums"]

_LOCK = threading.Lock()


def jit_enabled() -> bool:
    """True when the compiled CPU kernels are available and not disabled."""
    return numba is not None and not os.environ.get("NAPARI_RESOLUTION_NO_JIT")


if numba is not None:

    @numba.njit(parallel=True, cache=True, nogil=True)
    def _packed_sums_kernel(packed, qz, qy, qx, columns, n_shells, n_chunks):  # pragma: no cover
        depth, height, width = packed.shape
        n_rows = depth * height
        partial = np.zeros((n_chunks, 4, n_shells))
        for chunk in numba.prange(n_chunks):
            acc = partial[chunk]
            for row in range(chunk * n_rows // n_chunks, (chunk + 1) * n_rows // n_chunks):
                z, y = row // height, row % height
                mirror_z, mirror_y = (depth - z) % depth, (height - y) % height
                base = qz[z] + qy[y]
                for x in range(columns.size):
                    shell = int(np.floor(np.sqrt(base + qx[x]) + 0.5))
                    if shell >= n_shells:
                        continue
                    c = packed[z, y, x]
                    d = np.conj(packed[mirror_z, mirror_y, (width - x) % width])
                    f1 = 0.5 * (c + d)  # transform of the real part
                    f2 = -0.5j * (c - d)  # transform of the imaginary part
                    w = columns[x]
                    acc[0, shell] += w
                    acc[1, shell] += w * (f1.real * f2.real + f1.imag * f2.imag)
                    acc[2, shell] += w * (f1.real * f1.real + f1.imag * f1.imag)
                    acc[3, shell] += w * (f2.real * f2.real + f2.imag * f2.imag)
        return partial.sum(axis=0)

    @numba.njit(parallel=True, cache=True, nogil=True)
    def _weighted_sums_kernel(a, b, wz, wy, wx, n_chunks):  # pragma: no cover - compiled
        n_rows = a.shape[0] * a.shape[1]
        partial = np.zeros((n_chunks, 2))
        for chunk in numba.prange(n_chunks):
            for row in range(chunk * n_rows // n_chunks, (chunk + 1) * n_rows // n_chunks):
                z, y = row // a.shape[1], row % a.shape[1]
                scale = wz[z] * wy[y]
                sum_a, sum_b = 0.0, 0.0
                for x in range(a.shape[2]):
                    sum_a += a[z, y, x] * wx[x]
                    sum_b += b[z, y, x] * wx[x]
                partial[chunk, 0] += scale * sum_a
                partial[chunk, 1] += scale * sum_b
        return partial.sum(axis=0)

    @numba.njit(parallel=True, cache=True, nogil=True)
    def _pack_kernel(a, b, mean_a, mean_b, wz, wy, wx, out):  # pragma: no cover - compiled
        for row in numba.prange(a.shape[0] * a.shape[1]):
            z, y = row // a.shape[1], row % a.shape[1]
            scale = wz[z] * wy[y]
            for x in range(a.shape[2]):
                w = scale * wx[x]
                out[z, y, x] = complex((a[z, y, x] - mean_a) * w, (b[z, y, x] - mean_b) * w)


def _as_3d(array):
    return array if array.ndim == 3 else array[np.newaxis]


def _window_vectors(windows, ndim: int) -> list[np.ndarray]:
    vectors = [np.asarray(w, dtype=np.float64) for w in windows]
    return [np.ones(1)] + vectors if ndim == 2 else vectors


def pack_windowed(a, b, windows, complex_dtype) -> np.ndarray:
    """``(a - mean_a) w + i (b - mean_b) w`` for a separable window ``w``.

    The means are weighted by the window, so each windowed image sums to
    exactly zero (no DC leaks into the first shells). Two parallel passes:
    the weighted sums, then the packing (no BLAS call: OpenBLAS threads left
    spinning after a matrix-vector product halve the speed of the FFT that
    follows on a small machine).

    Two real images packed as one complex array are transformed by a single
    complex FFT (in place), from which :func:`packed_shell_sums` unpacks both
    spectra; this needs half the fresh memory of two real FFTs.

    Parameters
    ----------
    a, b : ndarray, shape (Y, X) or (Z, Y, X)
        The two images (not modified).
    windows : list of 1-D ndarray
        One window per axis.
    complex_dtype : numpy dtype
        complex64 or complex128.

    Returns
    -------
    ndarray of ``complex_dtype``, shape of ``a``
    """
    real = np.empty(0, dtype=complex_dtype).real.dtype
    vectors = _window_vectors(windows, a.ndim)
    total = float(np.prod([v.sum() for v in vectors]))
    n_rows = a.size // a.shape[-1]
    out = np.empty(a.shape, dtype=complex_dtype)
    with _LOCK:
        sums = _weighted_sums_kernel(_as_3d(a), _as_3d(b), *vectors, min(n_rows, 4 * numba.get_num_threads()))
        means = [real.type(value / total) for value in sums]
        _pack_kernel(_as_3d(a), _as_3d(b), *means, *[v.astype(real) for v in vectors], _as_3d(out))
    return out


def packed_shell_sums(packed_spectrum, squared_coordinates, columns, n_shells: int) -> np.ndarray:
    """Shell sums of two real images from the full FFT of ``a + i b``.

    With ``C = FFT(a + i b)``: ``A(k) = (C(k) + conj C(-k)) / 2`` and
    ``B(k) = (C(k) - conj C(-k)) / 2i``. Only the half ``k_x >= 0`` is visited,
    each column weighted by its Hermitian multiplicity.

    Parameters
    ----------
    packed_spectrum : complex ndarray, shape (Y, X) or (Z, Y, X)
        Full FFT of the packed images.
    squared_coordinates : list of float64 ndarray
        Per-axis squared frequency in shell units; full length for every axis
        but the last, which holds the ``X // 2 + 1`` non-negative frequencies.
    columns : float64 ndarray, shape (X // 2 + 1,)
        Hermitian multiplicity of each visited column.
    n_shells : int
        Shells kept (DC to Nyquist).

    Returns
    -------
    ndarray, shape (4, n_shells), float64
        Counts, Re A B*, |A|^2, |B|^2 per shell of the full spectrum.
    """
    coords = list(squared_coordinates)
    if len(coords) == 2:
        coords.insert(0, np.zeros(1))
    n_rows = packed_spectrum.size // packed_spectrum.shape[-1]
    n_chunks = min(n_rows, 4 * numba.get_num_threads())
    with _LOCK:
        return _packed_sums_kernel(_as_3d(packed_spectrum), *coords, columns, n_shells, n_chunks)
