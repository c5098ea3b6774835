"""Compiled CPU fast paths (numba) for the hot loops of the Fourier estimators.

Each kernel does in one parallel pass what the array code in the estimator
modules does in several numpy passes; that array code stays the reference and
the GPU path, and tests check that both agree. The kernels are used only for
numpy inputs when numba imports and ``NAPARI_RESOLUTION_NO_JIT`` is unset.

numba's default thread pool must not be entered from two Python threads at
once, and napari runs estimators in worker threads: every call takes a lock.

Unless the user chose otherwise, OpenMP worker threads are told to sleep as
soon as a kernel ends (``OMP_WAIT_POLICY=PASSIVE``): spinning, they take the
cores from the FFT that follows (6 ms of a 54 ms transform on two cores) and
from the napari GUI.
"""

from __future__ import annotations

import os
import threading

import numpy as np

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read when numba first starts its OpenMP pool

try:
    import numba
except ImportError:  # pragma: no cover - numba is a declared dependency
    numba = None

__all__ = [
    "jit_enabled",
    "mask_packed_inplace",
    "pack_masked",
    "pack_pair",
    "pack_windowed",
    "packed_shell_sums",
    "randomize_half_spectrum",
    "randomize_packed_pairs",
]

_LOCK = threading.Lock()

#: The random phases: 4096 equally spaced points on the unit circle (64 KiB).
_PHASES = np.exp(2j * np.pi * np.arange(4096) / 4096)
_COSINES, _SINES = _PHASES.real.copy(), _PHASES.imag.copy()

#: Flags for reductions whose order may change (vectorised sums).
_REASSOCIATE = {"reassoc", "contract"}


def jit_enabled() -> bool:
    """True when the compiled CPU kernels are available and not disabled."""
    return numba is not None and not os.environ.get("NAPARI_RESOLUTION_NO_JIT")


if numba is not None:

    @numba.njit(inline="always")
    def _unpacked_terms(c, d):  # pragma: no cover - compiled
        """4 Re A B*, 4|A|^2, 4|B|^2 for C(k) = c, C(-k) = d of the FFT C of a + i b.

        ``A = (c + conj d) / 2`` and ``B = (c - conj d) / 2i``, in float64.
        """
        cr, ci, dr, di = np.float64(c.real), np.float64(c.imag), np.float64(d.real), np.float64(d.imag)
        ar, ai, br, bi = cr + dr, ci - di, ci + di, dr - cr
        return ar * br + ai * bi, ar * ar + ai * ai, br * br + bi * bi

    @numba.njit(parallel=True, cache=True, nogil=True, fastmath=_REASSOCIATE)
    def _packed_sums_kernel(packed, qz, qy, qx, columns, n_shells, n_chunks, width):  # pragma: no cover
        """Shell sums from the full FFT of a + i b; one row at a time, in two passes.

        The first pass unpacks the row's terms into small buffers (the mirror
        row is read with an unsigned index, so the loop vectorises); the
        second adds them to their shells, alternating two accumulators so
        that neighbours in one shell do not wait on each other.
        """
        depth, height = qz.size, qy.size  # packed may be a padded storage array
        n_rows, n_columns = depth * height, columns.size
        top = np.uint64(width)
        partial = np.zeros((n_chunks, 2, n_shells, 4))
        for chunk in numba.prange(n_chunks):
            shells = np.empty(n_columns, np.int64)
            terms = np.empty((3, n_columns))
            for row in range(chunk * n_rows // n_chunks, (chunk + 1) * n_rows // n_chunks):
                z, y = row // height, row % height
                here, mirror = packed[z, y], packed[(depth - z) % depth, (height - y) % height]
                base = qz[z] + qy[y]
                for x in range(n_columns):
                    shells[x] = int(np.floor(np.sqrt(base + qx[x]) + 0.5))
                count = 0  # shells grow along the row: stop at the first beyond Nyquist
                while count < n_columns and shells[count] < n_shells:
                    count += 1
                if count == 0:
                    continue
                terms[0, 0], terms[1, 0], terms[2, 0] = _unpacked_terms(here[0], mirror[0])
                for x in range(1, count):
                    terms[0, x], terms[1, x], terms[2, x] = _unpacked_terms(here[x], mirror[top - np.uint64(x)])
                for x in range(count):
                    acc = partial[chunk, x & 1, shells[x]]
                    weight = columns[x]
                    acc[0] += weight
                    acc[1] += weight * terms[0, x]
                    acc[2] += weight * terms[1, x]
                    acc[3] += weight * terms[2, x]
        sums = partial.sum(axis=0).sum(axis=0).T.copy()
        sums[1:] *= 0.25
        return sums
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
    def _pack_pair_kernel(a, b, out):  # pragma: no cover - compiled
        for row in numba.prange(a.shape[0] * a.shape[1]):
            z, y = row // a.shape[1], row % a.shape[1]
            for x in range(a.shape[2]):
                out[z, y, x] = complex(a[z, y, x], b[z, y, x])

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

    @numba.njit(inline="always", fastmath={"contract"})
    def _randomize_pair(here, there, x, mirror_x, key, cosines, sines):  # pragma: no cover - compiled
        """Give A and B of the pair C(k) = here[x], C(-k) = there[mirror_x] independent random phases.

        ``A = (c + conj d) / 2`` and ``B = (c - conj d) / 2i`` become
        ``A' = A e^{i phi_a}`` and ``B' = B e^{i phi_b}``; then
        ``C(k) = A' + i B'`` and ``C(-k) = conj A' + i conj B'``.
        """
        mixed = _mix(key)
        first, second = mixed >> np.uint64(52), (mixed >> np.uint64(40)) & np.uint64(4095)
        c, d = here[x], there[mirror_x]  # sums in the buffer's precision, products in float64
        ar, ai = 0.5 * (c.real + d.real), 0.5 * (c.imag - d.imag)
        br, bi = 0.5 * (c.imag + d.imag), 0.5 * (d.real - c.real)
        a_re = ar * cosines[first] - ai * sines[first]
        a_im = ar * sines[first] + ai * cosines[first]
        b_re = br * cosines[second] - bi * sines[second]
        b_im = br * sines[second] + bi * cosines[second]
        here[x] = complex(a_re - b_im, a_im + b_re)
        there[mirror_x] = complex(a_re + b_im, b_re - a_im)

    @numba.njit(inline="always")
    def _shell_of(base, squared_x):  # pragma: no cover - compiled
        return int(np.floor(np.sqrt(base + squared_x) + 0.5))

    @numba.njit(parallel=True, cache=True, nogil=True, fastmath={"contract"})
    def _randomize_pairs_kernel(packed, qz, qy, qx, cutoff_shell, seed, cosines, sines, width):  # pragma: no cover
        """Every pair (k, -k) beyond the cutoff, visited once: row by row with its mirror row.

        Row (z, y) and its mirror (-z, -y) hold the pairs ``here[x], there[-x]``
        for every column x. Both rows go to one thread, which walks them in
        one pass (``here`` forward, ``there`` backward), from the lower of the
        two; a row that is its own mirror holds each pair twice, so only its
        columns ``1 .. (width - 1) // 2`` are walked, and its self-conjugate
        voxels are kept. Every row that is the lower of its pair lies in the
        first ``n_lower`` rows.
        """
        depth, height = qz.size, qy.size  # packed may be a padded storage array
        top = np.uint64(width)
        n_lower = (depth // 2 + 1) * height if depth > 1 else height // 2 + 1
        for row in numba.prange(n_lower):
            z, y = row // height, row % height
            mirror_z, mirror_y = (depth - z) % depth, (height - y) % height
            mirror_row = mirror_z * height + mirror_y
            if mirror_row < row:
                continue
            here, there = packed[z, y], packed[mirror_z, mirror_y]
            base = qz[z] + qy[y]
            start = 1  # shells grow with |k_x|: the columns to randomise are start .. width - start
            while start <= width // 2 and _shell_of(base, qx[start]) <= cutoff_shell:
                start += 1
            stop = (width + 1) // 2 if mirror_row == row else width + 1 - start
            first_voxel = row * width  # pair (row, x) draws its phases from hash(seed ^ voxel index)
            for x in range(start, stop):
                _randomize_pair(here, there, x, top - np.uint64(x), seed ^ np.uint64(first_voxel + x), cosines, sines)
            if mirror_row != row and _shell_of(base, qx[0]) > cutoff_shell:
                _randomize_pair(here, there, 0, 0, seed ^ np.uint64(first_voxel), cosines, sines)

    @numba.njit(parallel=True, cache=True, nogil=True)
    def _support_sums_kernel(a, b, mask, n_chunks):  # pragma: no cover - compiled
        """Sums of a m, b m and m, and the first and last column where m != 0 in each row (-1: none)."""
        depth, height, width = a.shape
        n_rows = depth * height
        first, last = np.full(n_rows, -1, np.int64), np.full(n_rows, -1, np.int64)
        partial = np.zeros((n_chunks, 3))
        for chunk in numba.prange(n_chunks):
            sum_a = sum_b = total = 0.0
            for row in range(chunk * n_rows // n_chunks, (chunk + 1) * n_rows // n_chunks):
                z, y = row // height, row % height
                for x in range(width):
                    weight = mask[z, y, x]
                    if weight != 0:
                        if first[row] < 0:
                            first[row] = x
                        last[row] = x
                        sum_a += a[z, y, x] * weight
                        sum_b += b[z, y, x] * weight
                        total += weight
            partial[chunk, 0], partial[chunk, 1], partial[chunk, 2] = sum_a, sum_b, total
        return partial.sum(axis=0), first, last

    @numba.njit(inline="always")
    def _box_columns(row_values, z, y, box, width):  # pragma: no cover - compiled
        """Zero row (z, y) outside box (z0, z1, y0, y1, x0, x1); return the columns [start, stop) inside it."""
        inside = box[0] <= z < box[1] and box[2] <= y < box[3]
        start, stop = (box[4], box[5]) if inside else (width, width)
        row_values[:start] = 0
        row_values[stop:width] = 0
        return start, stop

    @numba.njit(parallel=True, cache=True, nogil=True)
    def _mask_pack_kernel(a, b, mask, mean_a, mean_b, box, out):  # pragma: no cover - compiled
        """out = (a - mean_a) m + i (b - mean_b) m inside box, 0 outside (out may be padded storage)."""
        depth, height, width = a.shape
        for row in numba.prange(depth * height):
            z, y = row // height, row % height
            start, stop = _box_columns(out[z, y], z, y, box, width)
            for x in range(start, stop):
                weight = mask[z, y, x]
                out[z, y, x] = complex((a[z, y, x] - mean_a) * weight, (b[z, y, x] - mean_b) * weight)

    @numba.njit(parallel=True, cache=True, nogil=True)
    def _packed_masked_sums_kernel(packed, mask, box):  # pragma: no cover - compiled
        """Sums of Re(p) m, Im(p) m and m over box (z0, z1, y0, y1, x0, x1)."""
        box_height = box[3] - box[2]
        n_rows = (box[1] - box[0]) * box_height
        partial = np.zeros((n_rows, 3))
        for row in numba.prange(n_rows):
            z, y = box[0] + row // box_height, box[2] + row % box_height
            real_sum = imag_sum = total = 0.0
            for x in range(box[4], box[5]):
                value, weight = packed[z, y, x], mask[z, y, x]
                real_sum += value.real * weight
                imag_sum += value.imag * weight
                total += weight
            partial[row, 0], partial[row, 1], partial[row, 2] = real_sum, imag_sum, total
        return partial.sum(axis=0)

    @numba.njit(parallel=True, cache=True, nogil=True)
    def _mask_packed_kernel(packed, mask, mean, box):  # pragma: no cover - compiled
        """packed = (packed - mean) m inside box, 0 outside (packed may be padded storage)."""
        depth, height, width = mask.shape
        for row in numba.prange(depth * height):
            z, y = row // height, row % height
            start, stop = _box_columns(packed[z, y], z, y, box, width)
            for x in range(start, stop):
                packed[z, y, x] = (packed[z, y, x] - mean) * mask[z, y, x]


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
        A view of padded storage (:func:`fft_buffer`).
    """
    real = np.empty(0, dtype=complex_dtype).real.dtype
    vectors = _window_vectors(windows, a.ndim)
    total = float(np.prod([v.sum() for v in vectors]))
    n_rows = a.size // a.shape[-1]
    out = fft_buffer(a.shape, complex_dtype)
    with _LOCK:
        sums = _weighted_sums_kernel(_as_3d(a), _as_3d(b), *vectors, _n_chunks(n_rows))
        means = [real.type(value / total) for value in sums]
        _pack_kernel(_as_3d(a), _as_3d(b), *means, *[v.astype(real) for v in vectors], _storage(out))
    return out


def _n_chunks(n_rows: int) -> int:
    """Row chunks of a parallel reduction: a few per thread, for balance."""
    return min(n_rows, 4 * numba.get_num_threads())


def _support_box(first, last, shape3d) -> tuple[int, int, int, int, int, int]:
    """(z0, z1, y0, y1, x0, x1): the bounding box of the rows' nonzero column ranges."""
    rows = np.flatnonzero(first >= 0)
    height = shape3d[1]
    z, y = rows // height, rows % height
    return (int(z.min()), int(z.max()) + 1, int(y.min()), int(y.max()) + 1,
            int(first[rows].min()), int(last[rows].max()) + 1)


def _box_slices(box, ndim: int) -> tuple[slice, ...]:
    """The per-axis slices of ``ndim`` axes for a box (z0, z1, y0, y1, x0, x1); inverse of :func:`_box_bounds`."""
    slices = (slice(box[0], box[1]), slice(box[2], box[3]), slice(box[4], box[5]))
    return slices[3 - ndim:]


def _box_bounds(support) -> np.ndarray:
    """The box (z0, z1, y0, y1, x0, x1) of per-axis slices (2-D: z is 0..1), as the kernels take it."""
    ranges = [(0, 1)] * (3 - len(support)) + [(axis.start, axis.stop) for axis in support]
    return np.array([bound for pair in ranges for bound in pair])


def fft_buffer(shape, dtype) -> np.ndarray:
    """An empty complex array of ``shape`` for in-place FFTs, in padded storage.

    In a C-ordered 256^3 array, each line along the first axis steps by
    512 KiB, so its elements share a few cache sets and the FFT along that
    axis takes twice as long as along the others. One spare row per plane
    (3-D) or 8 spare values per row (2-D) break the power-of-two stride:
    a 256^3 complex64 FFT takes 40 ms instead of 52 here (2 cores), a 4096^2
    one 40 instead of 50. The result is a view; the kernels below work on
    its storage (:func:`_storage`).
    """
    padded = (shape[0], shape[1] + 1, shape[2]) if len(shape) == 3 else (shape[0], shape[1] + 8)
    return np.empty(padded, dtype=dtype)[tuple(slice(0, n) for n in shape)]


def _storage(packed) -> np.ndarray:
    """The C-contiguous 3-D array whose leading corner is ``packed`` (itself, or its padded storage)."""
    storage = packed if packed.flags.c_contiguous else packed.base
    if (storage is None or not storage.flags.c_contiguous or storage.strides != packed.strides
            or storage.__array_interface__["data"][0] != packed.__array_interface__["data"][0]):
        raise ValueError("packed must be C-contiguous or a view made by fft_buffer")
    return _as_3d(storage)


def pack_masked(a, b, mask, complex_dtype) -> tuple[np.ndarray, tuple[slice, ...]]:
    """``(a - mean_a) m + i (b - mean_b) m`` with mask-weighted means, and the mask's support.

    Two parallel passes: the weighted sums with the bounding box of the
    mask's nonzero voxels, then the packing, which reads only that box and
    writes zeros around it (so :func:`~.backend.fftn_inplace` can skip them).

    Parameters
    ----------
    a, b, mask : C-contiguous ndarray of one shape, (Y, X) or (Z, Y, X)
        Images and real-space weights (not modified; the mask in any real dtype).
    complex_dtype : numpy dtype
        complex64 or complex128.

    Returns
    -------
    packed : ndarray of ``complex_dtype``, shape of ``a``
        A view of padded storage (:func:`fft_buffer`).
    support : tuple of slice
        Per axis, the range holding every nonzero mask value.
    """
    real = np.empty(0, dtype=complex_dtype).real.dtype
    a3, b3, mask3 = (_as_3d(np.ascontiguousarray(x)) for x in (a, b, mask))
    out = fft_buffer(a.shape, complex_dtype)
    with _LOCK:
        (sum_a, sum_b, total), first, last = _support_sums_kernel(a3, b3, mask3, _n_chunks(a3.shape[0] * a3.shape[1]))
        box = _support_box(first, last, a3.shape)
        _mask_pack_kernel(a3, b3, mask3, real.type(sum_a / total), real.type(sum_b / total), np.array(box),
                          _storage(out))
    return out, _box_slices(box, a.ndim)


def pack_pair(a, b, out) -> None:
    """Write ``a + i b`` into the complex array ``out`` (one parallel pass; no means removed)."""
    with _LOCK:
        _pack_pair_kernel(_as_3d(a), _as_3d(b), _storage(out))


def mask_packed_inplace(packed, mask, support) -> None:
    """``packed = (packed - mean) * mask`` inside ``support``, 0 outside, in place.

    ``mean`` is the mask-weighted complex mean. For ``packed = a + i b`` this
    is the packing of :func:`pack_masked`; values outside ``support`` (where
    the mask is 0) are never read, so they may hold anything.

    Parameters
    ----------
    packed : complex ndarray, shape (Y, X) or (Z, Y, X)
        Modified in place.
    mask : real ndarray, same shape
        Real-space weights, zero outside ``support``.
    support : tuple of slice
        As returned by :func:`pack_masked` for this mask.
    """
    box = _box_bounds(support)
    packed3, mask3 = _storage(packed), _as_3d(np.ascontiguousarray(mask))
    with _LOCK:
        real_sum, imag_sum, total = _packed_masked_sums_kernel(packed3, mask3, box)
        _mask_packed_kernel(packed3, mask3, complex(real_sum / total, imag_sum / total), box)


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


def randomize_packed_pairs(packed_spectrum, squared_coordinates, cutoff_shell: int, seed: int) -> None:
    """Random phases, in place, for both images packed in the full FFT of ``a + i b``.

    With ``C`` the spectrum, each pair ``(k, -k)`` beyond ``cutoff_shell`` is
    unpacked into ``A(k) = (C(k) + conj C(-k)) / 2`` and
    ``B(k) = (C(k) - conj C(-k)) / 2i``; ``A`` and ``B`` get independent
    uniform phases, ``-k`` the conjugate ones, and the pair is packed back.
    The inverse FFT is then ``a_r + i b_r`` with ``a_r`` and ``b_r`` real and
    every amplitude of ``A`` and ``B`` kept. Phases are drawn as in
    :func:`randomize_half_spectrum` (one hash per pair gives both).

    Parameters
    ----------
    packed_spectrum : complex ndarray, shape (Y, X) or (Z, Y, X)
        Full FFT of ``a + i b``; modified in place.
    squared_coordinates : list of float64 ndarray
        Per-axis squared frequency in shell units, "packed" layout (see
        :meth:`~.frequency.ShellGeometry.squared_coordinates`).
    cutoff_shell : int
        Shells up to this index keep their phases.
    seed : int
        Random seed (0 <= seed < 2**64).
    """
    coords = _with_depth(squared_coordinates)
    with _LOCK:
        _randomize_pairs_kernel(_storage(packed_spectrum), *coords, int(cutoff_shell), np.uint64(seed), _COSINES,
                                _SINES, packed_spectrum.shape[-1])


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
    with _LOCK:
        return _packed_sums_kernel(_storage(packed_spectrum), *coords, columns, n_shells, _n_chunks(n_rows),
                                   packed_spectrum.shape[-1])
