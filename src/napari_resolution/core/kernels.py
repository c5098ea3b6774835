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

__all__ = [
    "expand_packed",
    "jit_enabled",
    "mask_packed_inplace",
    "pack_masked",
    "pack_windowed",
    "packed_shell_sums",
    "randomize_half_spectrum",
    "spectra_shell_sums",
]

_LOCK = threading.Lock()

#: The random phases: 4096 equally spaced points on the unit circle (64 KiB).
_PHASES = np.exp(2j * np.pi * np.arange(4096) / 4096)


def jit_enabled() -> bool:
    """True when the compiled CPU kernels are available and not disabled."""
    return numba is not None and not os.environ.get("NAPARI_RESOLUTION_NO_JIT")


if numba is not None:

    @numba.njit(inline="always")
    def _accumulate(acc, shell, weight, a, b):  # pragma: no cover - compiled
        """Add one voxel's count, Re a b*, |a|^2 and |b|^2 (times its multiplicity) to its shell."""
        acc[shell, 0] += weight
        acc[shell, 1] += weight * (a.real * b.real + a.imag * b.imag)
        acc[shell, 2] += weight * (a.real * a.real + a.imag * a.imag)
        acc[shell, 3] += weight * (b.real * b.real + b.imag * b.imag)

    @numba.njit(parallel=True, cache=True, nogil=True)
    def _packed_sums_kernel(packed, qz, qy, qx, columns, n_shells, n_chunks):  # pragma: no cover
        depth, height, width = packed.shape
        n_rows = depth * height
        partial = np.zeros((n_chunks, n_shells, 4))
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
                    _accumulate(acc, shell, columns[x], f1, f2)
        return partial.sum(axis=0).T.copy()

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

    @numba.njit(parallel=True, cache=True, nogil=True)
    def _spectra_sums_kernel(f1, f2, qz, qy, qx, columns, n_shells, n_chunks):  # pragma: no cover
        depth, height = f1.shape[0], f1.shape[1]
        n_rows = depth * height
        partial = np.zeros((n_chunks, n_shells, 4))
        for chunk in numba.prange(n_chunks):
            acc = partial[chunk]
            for row in range(chunk * n_rows // n_chunks, (chunk + 1) * n_rows // n_chunks):
                z, y = row // height, row % height
                base = qz[z] + qy[y]
                for x in range(columns.size):
                    shell = int(np.floor(np.sqrt(base + qx[x]) + 0.5))
                    if shell < n_shells:
                        _accumulate(acc, shell, columns[x], f1[z, y, x], f2[z, y, x])
        return partial.sum(axis=0).T.copy()

    @numba.njit(inline="always")
    def _mix(value):  # pragma: no cover - compiled; splitmix64 finaliser
        value = value + np.uint64(0x9E3779B97F4A7C15)
        value = (value ^ (value >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        value = (value ^ (value >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return value ^ (value >> np.uint64(31))

    @numba.njit(inline="always")
    def _phase(seed, row, width, x, mirror_row, nyquist_column, table):  # pragma: no cover - compiled
        """Random unit phase of half-spectrum voxel (row, x); Hermitian on self-conjugate columns."""
        phase = table[_mix(seed ^ np.uint64(row * width + x)) >> np.uint64(52)]
        if x == 0 or x == nyquist_column:  # k and -k both stored: phi(-k) = -phi(k)
            phase = phase * np.conj(table[_mix(seed ^ np.uint64(mirror_row * width + x)) >> np.uint64(52)])
        return phase

    @numba.njit(parallel=True, cache=True, nogil=True)
    def _randomize_kernel(spectrum, qz, qy, qx, cutoff_shell, seed, nyquist_column, table):  # pragma: no cover
        depth, height, width = spectrum.shape
        for row in numba.prange(depth * height):
            z, y = row // height, row % height
            mirror_row = ((depth - z) % depth) * height + (height - y) % height
            base = qz[z] + qy[y]
            for x in range(width):
                if int(np.floor(np.sqrt(base + qx[x]) + 0.5)) > cutoff_shell:
                    spectrum[z, y, x] *= _phase(seed, row, width, x, mirror_row, nyquist_column, table)

    @numba.njit(parallel=True, cache=True, nogil=True)
    def _expand_packed_kernel(f1, f2, out):  # pragma: no cover - compiled
        depth, height, width = out.shape
        half = f1.shape[2]
        for row in numba.prange(depth * height):
            z, y = row // height, row % height
            mirror_z, mirror_y = (depth - z) % depth, (height - y) % height
            for x in range(half):
                out[z, y, x] = f1[z, y, x] + 1j * f2[z, y, x]
            for x in range(half, width):
                first = np.conj(f1[mirror_z, mirror_y, width - x])
                second = np.conj(f2[mirror_z, mirror_y, width - x])
                out[z, y, x] = first + 1j * second

    @numba.njit(parallel=True, cache=True, nogil=True)
    def _masked_sums_kernel(a, b, mask, n_chunks):  # pragma: no cover - compiled; 1-D inputs
        partial = np.zeros((n_chunks, 3))
        for chunk in numba.prange(n_chunks):
            for i in range(chunk * a.size // n_chunks, (chunk + 1) * a.size // n_chunks):
                partial[chunk, 0] += a[i] * mask[i]
                partial[chunk, 1] += b[i] * mask[i]
                partial[chunk, 2] += mask[i]
        return partial.sum(axis=0)

    @numba.njit(parallel=True, cache=True, nogil=True)
    def _mask_pack_kernel(a, b, mask, mean_a, mean_b, out):  # pragma: no cover - compiled; 1-D inputs
        for i in numba.prange(a.size):
            out[i] = complex((a[i] - mean_a) * mask[i], (b[i] - mean_b) * mask[i])

    @numba.njit(parallel=True, cache=True, nogil=True)
    def _packed_masked_sums_kernel(packed, mask, n_chunks):  # pragma: no cover - compiled; 1-D inputs
        partial = np.zeros((n_chunks, 3))
        for chunk in numba.prange(n_chunks):
            for i in range(chunk * packed.size // n_chunks, (chunk + 1) * packed.size // n_chunks):
                value, weight = packed[i], mask[i]
                partial[chunk, 0] += value.real * weight
                partial[chunk, 1] += value.imag * weight
                partial[chunk, 2] += weight
        return partial.sum(axis=0)

    @numba.njit(parallel=True, cache=True, nogil=True)
    def _mask_packed_kernel(packed, mask, mean):  # pragma: no cover - compiled; 1-D inputs
        for i in numba.prange(packed.size):
            packed[i] = (packed[i] - mean) * mask[i]


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


def pack_masked(a, b, mask, complex_dtype) -> np.ndarray:
    """``(a - mean_a) m + i (b - mean_b) m`` with mask-weighted means, in two parallel passes.

    Parameters
    ----------
    a, b, mask : C-contiguous ndarray of one shape
        Images and real-space weights (not modified).
    complex_dtype : numpy dtype
        complex64 or complex128.
    """
    real = np.empty(0, dtype=complex_dtype).real.dtype
    flat_a, flat_b, flat_m = (np.ascontiguousarray(x).reshape(-1) for x in (a, b, mask))
    out = np.empty(a.shape, dtype=complex_dtype)
    with _LOCK:
        sum_a, sum_b, total = _masked_sums_kernel(flat_a, flat_b, flat_m, min(a.size, 4 * numba.get_num_threads()))
        _mask_pack_kernel(flat_a, flat_b, flat_m, real.type(sum_a / total), real.type(sum_b / total), out.reshape(-1))
    return out


def expand_packed(spectrum1, spectrum2, out) -> None:
    """Write the full spectrum ``F1 + i F2`` of two real images from their rfft halves.

    Its inverse complex FFT is ``a + i b``: two real inverse transforms for the
    price of one complex one, in the caller's buffer.

    Parameters
    ----------
    spectrum1, spectrum2 : complex ndarray, shape (..., X // 2 + 1)
        Half spectra of two real images of shape ``out.shape`` (not modified).
    out : complex ndarray, shape (Y, X) or (Z, Y, X)
        Receives the full packed spectrum.
    """
    with _LOCK:
        _expand_packed_kernel(_as_3d(spectrum1), _as_3d(spectrum2), _as_3d(out))


def mask_packed_inplace(packed, mask) -> None:
    """``packed = (packed - mean) * mask`` with the mask-weighted complex mean, in place.

    For ``packed = a + i b`` this is the packing of :func:`pack_masked`.
    """
    flat, weights = packed.reshape(-1), np.ascontiguousarray(mask).reshape(-1)
    with _LOCK:
        n_chunks = min(flat.size, 4 * numba.get_num_threads())
        real_sum, imag_sum, total = _packed_masked_sums_kernel(flat, weights, n_chunks)
        _mask_packed_kernel(flat, weights, complex(real_sum / total, imag_sum / total))


def spectra_shell_sums(spectrum1, spectrum2, squared_coordinates, columns, n_shells: int) -> np.ndarray:
    """Shell sums of two rfft spectra: counts, Re F1 F2*, |F1|^2, |F2|^2 (one parallel pass).

    Parameters as :func:`packed_shell_sums`, with ``spectrum1`` and
    ``spectrum2`` half spectra of shape (..., X // 2 + 1).
    """
    coords = _with_depth(squared_coordinates)
    n_rows = spectrum1.size // spectrum1.shape[-1]
    with _LOCK:
        return _spectra_sums_kernel(_as_3d(spectrum1), _as_3d(spectrum2), *coords, columns, n_shells,
                                    min(n_rows, 4 * numba.get_num_threads()))


def randomize_half_spectrum(spectrum, squared_coordinates, cutoff_shell: int, seed: int, n_last: int) -> None:
    """Multiply, in place, every voxel of an rfft spectrum beyond ``cutoff_shell`` by a random phase.

    The phases are uniform and Hermitian where the half spectrum holds both
    ``k`` and ``-k`` (column 0 and, for even ``n_last``, the Nyquist column),
    so the inverse transform stays real and every amplitude is kept. Each is
    one of 4096 equally spaced phases (steps of 1.5e-3 rad; the table stays in
    cache), picked by a splitmix64 hash of (seed, voxel): a seed gives the
    same phases whatever the number of threads.

    Parameters
    ----------
    spectrum : complex ndarray, shape (..., n_last // 2 + 1)
        Modified in place.
    squared_coordinates : list of float64 ndarray
        Per-axis squared frequency in shell units (rfft layout).
    cutoff_shell : int
        Shells up to this index keep their phases.
    seed : int
        Random seed (0 <= seed < 2**64).
    n_last : int
        Real-space length of the last axis.
    """
    coords = _with_depth(squared_coordinates)
    nyquist_column = spectrum.shape[-1] - 1 if n_last % 2 == 0 else -1
    with _LOCK:
        _randomize_kernel(_as_3d(spectrum), *coords, int(cutoff_shell), np.uint64(seed), nyquist_column, _PHASES)


def _with_depth(squared_coordinates) -> list:
    coords = list(squared_coordinates)
    return [np.zeros(1), *coords] if len(coords) == 2 else coords


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
    coords = _with_depth(squared_coordinates)
    n_rows = packed_spectrum.size // packed_spectrum.shape[-1]
    n_chunks = min(n_rows, 4 * numba.get_num_threads())
    with _LOCK:
        return _packed_sums_kernel(_as_3d(packed_spectrum), *coords, columns, n_shells, n_chunks)
