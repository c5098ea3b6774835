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
from the napari GUI. The variable is set when a kernel first runs (OpenMP
reads it when its pool starts, and anything that asks numba for its thread
count starts the pool), never at import: importing the package changes
nothing in the process.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from typing import NamedTuple

import numpy as np

try:
    import numba
    from numba.core import event as numba_event
except ImportError:  # pragma: no cover - numba is a declared dependency
    numba = numba_event = None

__all__ = [
    "MaskRows",
    "backproject",
    "band_step",
    "blink_fluctuations",
    "blink_spectral_sums",
    "box_shell_sums",
    "direction_bin_index",
    "gather_windowed_boxes",
    "jit_enabled",
    "lag_products",
    "local_maxima",
    "mask_packed_inplace",
    "mask_rows",
    "pack_masked",
    "pack_pair",
    "pack_windowed",
    "packed_shell_sums",
    "randomize_half_spectrum",
    "randomize_packed_pairs",
    "slice_volume",
    "splat_chunks",
    "splat_slices",
]

COMPILING_MESSAGE = "compiling the CPU kernels (first run only, a few seconds; later runs start at once)"
#: Seconds within which the kernels one run compiles are announced once.
NOTICE_INTERVAL = 60.0
logger = logging.getLogger(__name__)


def _new_specialisation(kernel, args) -> bool:
    """True when ``kernel`` has no compiled version for the types of ``args`` in this process yet."""
    return tuple(kernel.typeof_pyval(value) for value in args) not in kernel.overloads


class _KernelRunner:
    """Calls every kernel: one Python thread at a time in numba's pool, compiling announced.

    On first call, before numba starts its OpenMP pool, ``OMP_WAIT_POLICY``
    defaults to PASSIVE (a user's own setting is kept). A call that needs a
    new specialisation listens to numba's ``numba:compile`` event: when numba
    compiles (not when it loads the kernel from its on-disk cache, however
    long that takes on a busy machine), :data:`COMPILING_MESSAGE` is logged
    as compiling starts (INFO, logger ``napari_resolution.core.kernels``; the
    CLI prints it, the widgets show it while the run lasts), once for the
    kernels that one run compiles (not again within :data:`NOTICE_INTERVAL` seconds).
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._entered = False
        self._announced_at = -math.inf

    def __call__(self, kernel, *args):
        with self._lock:
            self._before_pool_starts()
            if not _new_specialisation(kernel, args):
                return kernel(*args)
            with numba_event.install_listener("numba:compile", _CompileListener(self._announce)):
                return kernel(*args)

    def threads(self) -> int:
        """numba's thread count; asking for it starts the pool, so the wait policy is set first."""
        if not self._entered:
            with self._lock:
                self._before_pool_starts()
        return numba.get_num_threads()

    def _before_pool_starts(self) -> None:
        if not self._entered:
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            self._entered = True

    def _announce(self) -> None:
        if time.monotonic() - self._announced_at > NOTICE_INTERVAL:
            self._announced_at = time.monotonic()
            logger.info(COMPILING_MESSAGE)


if numba is not None:

    class _CompileListener(numba_event.Listener):
        """Calls ``announce()`` when numba starts compiling."""

        def __init__(self, announce):
            self.announce = announce

        def on_start(self, event) -> None:
            self.announce()

        def on_end(self, event) -> None:
            pass


_run = _KernelRunner()

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

    @numba.njit(inline="always")
    def _shell_of(base, squared_x):  # pragma: no cover - compiled
        return int(np.floor(np.sqrt(base + squared_x) + 0.5))

    @numba.njit(inline="always")
    def _mirror_of(row, depth, height):  # pragma: no cover - compiled
        """(z, y) of ``row``, (mirror_z, mirror_y) of its mirror row (-z, -y), and the mirror's row index."""
        z, y = row // height, row % height
        mirror_z, mirror_y = (depth - z) % depth, (height - y) % height
        return z, y, mirror_z, mirror_y, mirror_z * height + mirror_y

    @numba.njit(inline="always")
    def _n_lower_rows(depth, height):  # pragma: no cover - compiled
        """The first rows that hold the lower row of every (row, mirror row) pair."""
        return (depth // 2 + 1) * height if depth > 1 else height // 2 + 1

    @numba.njit(inline="always")
    def _add_terms(accumulator, weight, terms, x):  # pragma: no cover - compiled
        accumulator[0] += weight
        accumulator[1] += weight * terms[0, x]
        accumulator[2] += weight * terms[1, x]
        accumulator[3] += weight * terms[2, x]

    @numba.njit(parallel=True, cache=True, nogil=True, fastmath=_REASSOCIATE)
    def _packed_sums_kernel(packed, qz, qy, qx, n_shells, n_chunks, width):  # pragma: no cover
        """Shell sums from the full FFT of a + i b; row by row with its mirror row, in two passes.

        Row (z, y) and its mirror (-z, -y) hold the same terms (those of
        ``k`` and ``-k``), so only the lower of the two is visited, over all
        its columns, with weight 2 (1 for a row that is its own mirror). The
        first pass unpacks the terms ``here[x], there[-x]`` into small
        buffers (``there`` read with an unsigned index, so the loop
        vectorises); the second adds them to their shells, alternating two
        accumulators so that neighbours in one shell do not wait on each other.
        """
        depth, height = qz.size, qy.size  # packed may be a padded storage array
        n_lower = _n_lower_rows(depth, height)
        half = qx.size  # columns 0 .. half - 1 have k_x >= 0; column x >= half has |k_x| = width - x
        top = np.uint64(width)
        partial = np.zeros((n_chunks, 2, n_shells, 4))
        for chunk in numba.prange(n_chunks):
            shells = np.empty(half, np.int64)
            terms = np.empty((3, width))
            for row in range(chunk * n_lower // n_chunks, (chunk + 1) * n_lower // n_chunks):
                z, y, mirror_z, mirror_y, mirror_row = _mirror_of(row, depth, height)
                if mirror_row < row:
                    continue
                here, there = packed[z, y], packed[mirror_z, mirror_y]
                base = qz[z] + qy[y]
                for x in range(half):
                    shells[x] = _shell_of(base, qx[x])
                count = 0  # shells grow with |k_x|: the columns below Nyquist are |k_x| < count
                while count < half and shells[count] < n_shells:
                    count += 1
                if count == 0:
                    continue
                terms[0, 0], terms[1, 0], terms[2, 0] = _unpacked_terms(here[0], there[0])
                for x in range(1, width):
                    terms[0, x], terms[1, x], terms[2, x] = _unpacked_terms(here[x], there[top - np.uint64(x)])
                weight = 1.0 if mirror_row == row else 2.0
                for x in range(count):
                    _add_terms(partial[chunk, x & 1, shells[x]], weight, terms, x)
                for x in range(max(half, width + 1 - count), width):
                    _add_terms(partial[chunk, x & 1, shells[width - x]], weight, terms, x)
        return partial

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
        return partial

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
            z, y, _, _, mirror_row = _mirror_of(row, depth, height)
            base = qz[z] + qy[y]
            for x in range(width):
                if _shell_of(base, qx[x]) > cutoff_shell:
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

    @numba.njit(parallel=True, cache=True, nogil=True, fastmath={"contract"})
    def _randomize_pairs_kernel(packed, qz, qy, qx, cutoff_shell, seed, cosines, sines, width):  # pragma: no cover
        """Every pair (k, -k) beyond the cutoff, visited once: row by row with its mirror row.

        Row (z, y) and its mirror (-z, -y) hold the pairs ``here[x], there[-x]``
        for every column x. Both rows go to one thread, which walks them in
        one pass (``here`` forward, ``there`` backward), from the lower of the
        two; a row that is its own mirror holds each pair twice, so only its
        columns ``1 .. (width - 1) // 2`` are walked, and its self-conjugate
        voxels are kept.
        """
        depth, height = qz.size, qy.size  # packed may be a padded storage array
        top = np.uint64(width)
        for row in numba.prange(_n_lower_rows(depth, height)):
            z, y, mirror_z, mirror_y, mirror_row = _mirror_of(row, depth, height)
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

    @numba.njit(parallel=True, cache=True, nogil=True, fastmath=_REASSOCIATE)
    def _mask_rows_kernel(a, b, mask):  # pragma: no cover - compiled
        """Each row's nonzero mask columns [start, stop); over them, sums of a m, b m and m, and min and max of m.

        A NaN is nonzero, so it lies inside the columns summed and makes the
        sums NaN. (Loops over a row's slice start at 0: numba then knows the
        index is not negative and the loop vectorises, 3x faster.)
        """
        depth, height, width = mask.shape
        n_rows = depth * height
        starts, stops = np.empty(n_rows, np.int64), np.empty(n_rows, np.int64)
        sums = np.empty((n_rows, 5))
        for row in numba.prange(n_rows):
            z, y = row // height, row % height
            start, stop = width, 0
            for x in range(width):  # branch-free, so it vectorises
                nonzero = mask[z, y, x] != 0
                start = min(start, x if nonzero else width)
                stop = max(stop, x + 1 if nonzero else 0)
            stop = max(start, stop)
            starts[row], stops[row] = start, stop
            weights, values_a, values_b = mask[z, y, start:stop], a[z, y, start:stop], b[z, y, start:stop]
            sum_a = sum_b = total = 0.0
            low, high = np.inf, -np.inf
            for x in range(stop - start):
                weight = weights[x]
                sum_a += values_a[x] * weight
                sum_b += values_b[x] * weight
                total += weight
                low, high = min(low, weight), max(high, weight)
            sums[row, 0], sums[row, 1], sums[row, 2], sums[row, 3], sums[row, 4] = sum_a, sum_b, total, low, high
        return starts, stops, sums

    @numba.njit(inline="always")
    def _zero_outside(row_values, start, stop, width):  # pragma: no cover - compiled
        row_values[:start] = 0
        row_values[stop:width] = 0

    @numba.njit(parallel=True, cache=True, nogil=True)
    def _mask_pack_kernel(a, b, mask, mean_a, mean_b, starts, stops, out):  # pragma: no cover - compiled
        """out = (a - mean_a) m + i (b - mean_b) m in each row's [start, stop), 0 elsewhere (out: padded storage)."""
        depth, height, width = a.shape
        for row in numba.prange(depth * height):
            z, y = row // height, row % height
            start, stop = starts[row], stops[row]
            _zero_outside(out[z, y], start, stop, width)
            values, weights = out[z, y, start:stop], mask[z, y, start:stop]
            values_a, values_b = a[z, y, start:stop], b[z, y, start:stop]
            for x in range(stop - start):
                values[x] = complex((values_a[x] - mean_a) * weights[x], (values_b[x] - mean_b) * weights[x])

    @numba.njit(parallel=True, cache=True, nogil=True, fastmath=_REASSOCIATE)
    def _packed_masked_sums_kernel(packed, mask, starts, stops):  # pragma: no cover - compiled
        """Sums of Re(p) m, Im(p) m and m over each row's [start, stop)."""
        depth, height, width = mask.shape
        partial = np.empty((depth * height, 3))
        for row in numba.prange(depth * height):
            z, y = row // height, row % height
            values, weights = packed[z, y, starts[row]:stops[row]], mask[z, y, starts[row]:stops[row]]
            real_sum = imag_sum = total = 0.0
            for x in range(weights.size):
                real_sum += values[x].real * weights[x]
                imag_sum += values[x].imag * weights[x]
                total += weights[x]
            partial[row, 0], partial[row, 1], partial[row, 2] = real_sum, imag_sum, total
        return partial

    @numba.njit(parallel=True, cache=True, nogil=True)
    def _mask_packed_kernel(packed, mask, mean, starts, stops):  # pragma: no cover - compiled
        """packed = (packed - mean) m in each row's [start, stop), 0 elsewhere (packed may be padded storage)."""
        depth, height, width = mask.shape
        for row in numba.prange(depth * height):
            z, y = row // height, row % height
            start, stop = starts[row], stops[row]
            _zero_outside(packed[z, y], start, stop, width)
            values, weights = packed[z, y, start:stop], mask[z, y, start:stop]
            for x in range(stop - start):
                values[x] = (values[x] - mean) * weights[x]


if numba is not None:

    @numba.njit(parallel=True, cache=True, nogil=True, fastmath=_REASSOCIATE)
    def _gather_kernel(volume, starts, window, out):  # pragma: no cover - compiled
        """out[i] = box i of volume times window; boxes start at starts[i]."""
        depth, height, width = window.shape
        for i in numba.prange(starts.shape[0]):
            z0, y0, x0 = starts[i, 0], starts[i, 1], starts[i, 2]
            for z in range(depth):
                for y in range(height):
                    for x in range(width):
                        out[i, z, y, x] = volume[z0 + z, y0 + y, x0 + x] * window[z, y, x]

    @numba.njit(parallel=True, cache=True, nogil=True, fastmath=_REASSOCIATE)
    def _box_sums_kernel(spectrum1, spectrum2, shells, columns, leak, n_shells):  # pragma: no cover - compiled
        """Per box: Re F1 F2*, |F1|^2, |F2|^2 summed into shells (rfft layout, Hermitian column weights).

        Each spectrum first loses its DC term's leak, ``F(0) * leak``: the
        spectrum of the box minus its window-weighted mean, times the window.
        """
        n, depth, height, half = spectrum1.shape
        sums = np.zeros((n, 3, n_shells))
        for i in numba.prange(n):
            dc1, dc2 = spectrum1[i, 0, 0, 0], spectrum2[i, 0, 0, 0]
            for z in range(depth):
                for y in range(height):
                    for x in range(half):
                        shell = shells[z, y, x]
                        if shell >= n_shells:
                            continue
                        a = spectrum1[i, z, y, x] - dc1 * leak[z, y, x]
                        b = spectrum2[i, z, y, x] - dc2 * leak[z, y, x]
                        w = columns[x]
                        sums[i, 0, shell] += w * (a.real * b.real + a.imag * b.imag)
                        sums[i, 1, shell] += w * (a.real * a.real + a.imag * a.imag)
                        sums[i, 2, shell] += w * (b.real * b.real + b.imag * b.imag)
        return sums


def gather_windowed_boxes(volume, starts, window) -> np.ndarray:
    """Boxes of ``volume`` starting at ``starts``, times ``window`` (one pass; :func:`box_shell_sums` removes
    each box's window-weighted mean from its spectrum).

    Parameters
    ----------
    volume : ndarray, shape (Y, X) or (Z, Y, X)
        float32 or float64.
    starts : ndarray of int, shape (n, ndim)
        First pixel of each box.
    window : ndarray, shape of a box
        The window, ``volume``'s dtype.

    Returns
    -------
    ndarray, shape (n, *window.shape)
    """
    starts3 = np.zeros((len(starts), 3), np.int64)
    starts3[:, 3 - starts.shape[1]:] = starts
    out = np.empty((len(starts), *window.shape), volume.dtype)
    _run(_gather_kernel, _as_3d(volume), starts3, _as_3d(window), out.reshape(len(starts), *_as_3d(window).shape))
    return out


def box_shell_sums(spectrum1, spectrum2, shells, columns, window_spectrum, n_shells: int) -> np.ndarray:
    """Shell sums of a batch of windowed box spectra, each box's window-weighted mean removed, in one parallel pass.

    The spectrum of ``(box - m) w``, with ``m`` the window-weighted mean, is
    ``F - F(0) W / W(0)`` (``F`` that of ``box w``, ``W`` the window's): the
    mean is removed here, exactly, instead of in a second pass over the boxes.

    Parameters
    ----------
    spectrum1, spectrum2 : complex ndarray, shape (n, ..., X // 2 + 1)
        rfft spectra of the windowed boxes of each half.
    shells : ndarray of int, shape of one spectrum
        Shell of every voxel (>= ``n_shells``: beyond Nyquist, dropped).
    columns : ndarray, shape (X // 2 + 1,)
        Hermitian multiplicity of each column.
    window_spectrum : complex ndarray, shape of one spectrum
        rfft spectrum of the window.
    n_shells : int

    Returns
    -------
    ndarray, shape (n, 3, n_shells), float64
        Re F1 F2*, |F1|^2, |F2|^2 per shell.
    """
    batch = spectrum1.shape[0]
    as_4d = [s.reshape(batch, *_as_3d(s[0]).shape) for s in (spectrum1, spectrum2)]
    leak = _as_3d(window_spectrum / window_spectrum.flat[0]).astype(spectrum1.dtype)
    return _run(_box_sums_kernel, *as_4d, _as_3d(shells).astype(np.int64), columns.astype(np.float64), leak, n_shells)


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
    sums = _run(_weighted_sums_kernel, _as_3d(a), _as_3d(b), *vectors, _n_chunks(n_rows)).sum(axis=0)
    means = [real.type(value / total) for value in sums]
    _run(_pack_kernel, _as_3d(a), _as_3d(b), *means, *[v.astype(real) for v in vectors], _storage(out))
    return out


def _n_chunks(n_rows: int) -> int:
    """Row chunks of a parallel reduction: a few per thread, for balance."""
    return min(n_rows, 4 * _run.threads())


class MaskRows(NamedTuple):
    """Where a mask is nonzero, and its weighted sums, from one pass (:func:`mask_rows`).

    Rows are the lines along the last axis, in C order.

    Attributes
    ----------
    support : tuple of slice
        Per axis, the range holding every nonzero mask value.
    starts, stops : int64 ndarray, shape (n_rows,)
        Each row's nonzero columns lie in ``[start, stop)`` (equal for a row of zeros).
    sums : tuple of float
        Sums of ``a m``, ``b m`` and ``m``.
    valid : bool
        Every mask value is finite and in [0, 1], and not all are zero.
    """

    support: tuple
    starts: np.ndarray
    stops: np.ndarray
    sums: tuple
    valid: bool


def _support(starts, stops, shape) -> tuple[slice, ...]:
    """Per-axis slices of the bounding box of the rows' column ranges (rows of ``shape[:-1]``, C order)."""
    rows = np.flatnonzero(stops > starts)
    leading = np.unravel_index(rows, shape[:-1])
    return (*(slice(int(index.min()), int(index.max()) + 1) for index in leading),
            slice(int(starts[rows].min()), int(stops[rows].max())))


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


def mask_rows(a, b, mask) -> MaskRows:
    """Scan ``mask`` once: each row's nonzero columns, the sums of ``a m``, ``b m`` and ``m``, its validity.

    Parameters
    ----------
    a, b, mask : ndarray of one shape, (Y, X) or (Z, Y, X)
        Images and real-space weights (the mask in float32 or float64).

    Returns
    -------
    MaskRows
        With ``valid`` False the other fields are meaningless.
    """
    a3, b3, mask3 = (_as_3d(np.ascontiguousarray(x)) for x in (a, b, mask))
    starts, stops, row_sums = _run(_mask_rows_kernel, a3, b3, mask3)
    sum_a, sum_b, total = row_sums[:, :3].sum(axis=0)
    valid = bool(np.isfinite(total) and total > 0 and row_sums[:, 3].min() >= 0 and row_sums[:, 4].max() <= 1)
    support = _support(starts, stops, mask.shape) if valid else ()
    return MaskRows(support, starts, stops, (sum_a, sum_b, total), valid)


def pack_masked(a, b, mask, rows: MaskRows, complex_dtype) -> np.ndarray:
    """``(a - mean_a) m + i (b - mean_b) m`` with mask-weighted means, zero outside the mask's rows.

    One parallel pass that reads only each row's nonzero columns and writes
    zeros around them (so :func:`~.backend.fftn_inplace` can skip the lines
    outside ``rows.support``).

    Parameters
    ----------
    a, b, mask : ndarray of one shape, (Y, X) or (Z, Y, X)
        Images and real-space weights (not modified; the mask in float32 or float64).
    rows : MaskRows
        :func:`mask_rows` of the same arrays, valid.
    complex_dtype : numpy dtype
        complex64 or complex128.

    Returns
    -------
    ndarray of ``complex_dtype``, shape of ``a``
        A view of padded storage (:func:`fft_buffer`).
    """
    real = np.empty(0, dtype=complex_dtype).real.dtype
    sum_a, sum_b, total = rows.sums
    a3, b3, mask3 = (_as_3d(np.ascontiguousarray(x)) for x in (a, b, mask))
    out = fft_buffer(a.shape, complex_dtype)
    _run(_mask_pack_kernel, a3, b3, mask3, real.type(sum_a / total), real.type(sum_b / total), rows.starts,
         rows.stops, _storage(out))
    return out


def pack_pair(a, b, out) -> None:
    """Write ``a + i b`` into the complex array ``out`` (one parallel pass; no means removed)."""
    _run(_pack_pair_kernel, _as_3d(a), _as_3d(b), _storage(out))


def mask_packed_inplace(packed, mask, rows: MaskRows) -> None:
    """``packed = (packed - mean) * mask`` in the mask's rows, 0 elsewhere, in place.

    ``mean`` is the mask-weighted complex mean. For ``packed = a + i b`` this
    is the packing of :func:`pack_masked`; values outside each row's nonzero
    columns are never read, so they may hold anything.

    Parameters
    ----------
    packed : complex ndarray, shape (Y, X) or (Z, Y, X)
        Modified in place.
    mask : real ndarray, same shape
        Real-space weights (float32 or float64).
    rows : MaskRows
        :func:`mask_rows` of this mask, valid.
    """
    packed3, mask3 = _storage(packed), _as_3d(np.ascontiguousarray(mask))
    real_sum, imag_sum, total = _run(_packed_masked_sums_kernel, packed3, mask3, rows.starts, rows.stops).sum(axis=0)
    _run(_mask_packed_kernel, packed3, mask3, complex(real_sum / total, imag_sum / total), rows.starts, rows.stops)


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
    _run(_randomize_kernel, _as_3d(spectrum), *coords, int(cutoff_shell), np.uint64(seed), nyquist_column, _PHASES)


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
    _run(_randomize_pairs_kernel, _storage(packed_spectrum), *coords, int(cutoff_shell), np.uint64(seed), _COSINES,
         _SINES, packed_spectrum.shape[-1])


def _with_depth(squared_coordinates) -> list:
    coords = list(squared_coordinates)
    return [np.zeros(1), *coords] if len(coords) == 2 else coords


def packed_shell_sums(packed_spectrum, squared_coordinates, n_shells: int) -> np.ndarray:
    """Shell sums of two real images from the full FFT of ``a + i b``.

    With ``C = FFT(a + i b)``: ``A(k) = (C(k) + conj C(-k)) / 2`` and
    ``B(k) = (C(k) - conj C(-k)) / 2i``. The terms at ``-k`` equal those at
    ``k``, so only half of the rows are visited, each twice weighted.

    Parameters
    ----------
    packed_spectrum : complex ndarray, shape (Y, X) or (Z, Y, X)
        Full FFT of the packed images.
    squared_coordinates : list of float64 ndarray
        Per-axis squared frequency in shell units; full length for every axis
        but the last, which holds the ``X // 2 + 1`` non-negative frequencies.
    n_shells : int
        Shells kept (DC to Nyquist).

    Returns
    -------
    ndarray, shape (4, n_shells), float64
        Counts, Re A B*, |A|^2, |B|^2 per shell of the full spectrum.
    """
    coords = _with_depth(squared_coordinates)
    n_rows = packed_spectrum.size // packed_spectrum.shape[-1]
    partial = _run(_packed_sums_kernel, _storage(packed_spectrum), *coords, n_shells, _n_chunks(n_rows // 2 + 1),
                   packed_spectrum.shape[-1])
    sums = partial.sum(axis=(0, 1)).T.copy()
    sums[1:] *= 0.25
    return sums


if numba is not None:

    @numba.njit(parallel=True, cache=True, nogil=True)
    def _direction_index_kernel(kz, ky, kx, sizes, spacing, n_shells, theta_bins, phi_bins, out):  # pragma: no cover
        """(shell, angular bin) index of every voxel; ``n_shells * n_angles`` outside its own Nyquist."""
        n_angles = theta_bins * phi_bins
        outside = n_shells * n_angles
        theta_scale, phi_scale = theta_bins / (math.pi / 2), phi_bins / (2 * math.pi)
        for z in numba.prange(kz.size):
            for y in range(ky.size):
                for x in range(kx.size):
                    a, b, c = kz[z], ky[y], kx[x]
                    if a < 0:  # fold -k onto k: the hemisphere z >= 0
                        a, b, c = -a, -b, -c
                    lateral = math.sqrt(b * b + c * c)
                    radius = math.sqrt(a * a + lateral * lateral)
                    shell = int(math.floor(radius / spacing + 0.5))
                    stretched = math.sqrt((a * sizes[0]) ** 2 + (b * sizes[1]) ** 2 + (c * sizes[2]) ** 2)
                    last = n_shells if stretched == 0 else math.floor(0.5 * radius / stretched / spacing + 1e-6)
                    if shell >= n_shells or shell > last:
                        out[z, y, x] = outside
                        continue
                    phi = math.atan2(b, c)
                    if phi < 0:
                        phi += 2 * math.pi
                    row = min(int(math.atan2(lateral, a) * theta_scale), theta_bins - 1)
                    column = min(int(phi * phi_scale), phi_bins - 1)
                    out[z, y, x] = shell * n_angles + row * phi_bins + column


def direction_bin_index(axes, sizes, spacing: float, n_shells: int, theta_bins: int, phi_bins: int) -> np.ndarray:
    """Combined (shell, angular bin) index of every voxel of a 3-D spectrum, in one parallel pass.

    The array code in :mod:`.directional` (``_voxel_geometry``) is the
    reference: shells by physical radius, directions folded onto the
    hemisphere z >= 0 and binned by polar angle from z and azimuth.

    Parameters
    ----------
    axes : sequence of 3 float64 ndarray
        Physical frequencies of each axis (the last one halved for an rfft).
    sizes : sequence of 3 float
        Pixel size per axis: a voxel past its own direction's Nyquist is left out.
    spacing : float
        Shell width, cycles per unit.
    n_shells, theta_bins, phi_bins : int

    Returns
    -------
    ndarray of int64, shape (len(axes[0]), len(axes[1]), len(axes[2]))
        ``shell * theta_bins * phi_bins + row * phi_bins + column``, or
        ``n_shells * theta_bins * phi_bins`` for a voxel left out.
    """
    kz, ky, kx = (np.ascontiguousarray(k, dtype=np.float64) for k in axes)
    out = np.empty((kz.size, ky.size, kx.size), dtype=np.int64)
    _run(_direction_index_kernel, kz, ky, kx, np.asarray(sizes, dtype=np.float64), float(spacing), int(n_shells),
         int(theta_bins), int(phi_bins), out)
    return out


#: Output tile side (pixels) of the back-projection: a tile of every slice stays in cache over all angles.
BACKPROJECTION_TILE = 64

if numba is not None:

    @numba.njit(parallel=True, cache=True, nogil=True, fastmath=True)
    def _backproject_kernel(filtered, cosines, sines, center, radius_sq, tile, out):  # pragma: no cover - compiled
        """Add every filtered projection to the tiles of ``out``, linearly interpolated, all slices at once.

        ``filtered`` is (angles, detector, slices) and ``out`` (n, n, slices):
        the slices are the innermost loop, so one detector position and
        weight serve the whole stack. Pixels farther than ``sqrt(radius_sq)``
        from the centre are skipped (left at 0).
        """
        n_angles, n_detector, n_slices = filtered.shape
        n = out.shape[0]
        middle = n // 2
        per_side = (n + tile - 1) // tile
        for block in numba.prange(per_side * per_side):
            row0, col0 = (block // per_side) * tile, (block % per_side) * tile
            for a in range(n_angles):
                projection, cos_a, sin_a = filtered[a], cosines[a], sines[a]
                for row in range(row0, min(row0 + tile, n)):
                    y = row - middle
                    start = center - y * sin_a
                    for col in range(col0, min(col0 + tile, n)):
                        x = col - middle
                        if x * x + y * y > radius_sq:
                            continue
                        position = start + x * cos_a
                        i = int(math.floor(position))
                        if i < 0 or i >= n_detector - 1:
                            continue
                        weight = np.float32(position - i)
                        pixel, left, right = out[row, col], projection[i], projection[i + 1]
                        for s in range(n_slices):
                            pixel[s] += left[s] + weight * (right[s] - left[s])


def backproject(filtered, cosines, sines, center: float, size: int, radius_sq: float) -> np.ndarray:
    """Linear-interpolation back-projection of a stack of filtered sinograms, in one parallel pass.

    Parameters
    ----------
    filtered : float32 ndarray, shape (angles, detector, slices)
        Filtered, weighted projections (C order).
    cosines, sines : float64 ndarray, shape (angles,)
        Of each projection angle.
    center : float
        Detector position (pixels from its first sample) of the rotation axis.
    size : int
        Side of the reconstructed square, centred on the rotation axis at ``size // 2``.
    radius_sq : float
        Pixels farther than its square root from the centre stay 0 (``inf``: none).

    Returns
    -------
    float32 ndarray, shape (size, size, slices)
    """
    out = np.zeros((size, size, filtered.shape[2]), np.float32)
    _run(_backproject_kernel, filtered, cosines, sines, float(center), float(radius_sq), BACKPROJECTION_TILE, out)
    return out


if numba is not None:

    @numba.njit(inline="always")
    def _wrap(index, size):  # pragma: no cover - compiled
        """``index`` modulo ``size`` for an index at most one period outside [0, size)."""
        if index < 0:
            return index + size
        if index >= size:
            return index - size
        return index

    @numba.njit(inline="always")
    def _slice_point(rotation, scale, ky, kx):  # pragma: no cover - compiled
        """Array coordinates (z, y, x) of image frequency (ky, kx) in the volume: ``scale * R (kx, ky, 0)``."""
        px = scale * (rotation[0, 0] * kx + rotation[0, 1] * ky)
        py = scale * (rotation[1, 0] * kx + rotation[1, 1] * ky)
        pz = scale * (rotation[2, 0] * kx + rotation[2, 1] * ky)
        return pz, py, px

    @numba.njit(inline="always")
    def _cubic_weights(position, size, weights, indices):  # pragma: no cover - compiled
        """Cubic B-spline weights and periodic node indices of the 4 nodes around ``position``."""
        base = math.floor(position)
        t = np.float32(position - base)
        s = np.float32(1) - t
        t2 = t * t
        weights[0] = s * s * s / 6.0
        weights[1] = (4.0 - 6.0 * t2 + 3.0 * t2 * t) / 6.0
        weights[2] = (1.0 + 3.0 * t + 3.0 * t2 - 3.0 * t2 * t) / 6.0
        weights[3] = t2 * t / 6.0
        first = int(base) - 1
        for j in range(4):
            indices[j] = (first + j) % size

    @numba.njit(inline="always")
    def _linear_at(coefficients, pz, py, px, size):  # pragma: no cover - compiled
        fz, fy, fx = math.floor(pz), math.floor(py), math.floor(px)
        tz, ty, tx = np.float32(pz - fz), np.float32(py - fy), np.float32(px - fx)
        z0, y0, x0 = _wrap(int(fz), size), _wrap(int(fy), size), _wrap(int(fx), size)
        z1, y1, x1 = _wrap(z0 + 1, size), _wrap(y0 + 1, size), _wrap(x0 + 1, size)
        one = np.float32(1)
        low = ((one - ty) * ((one - tx) * coefficients[z0, y0, x0] + tx * coefficients[z0, y0, x1])
               + ty * ((one - tx) * coefficients[z0, y1, x0] + tx * coefficients[z0, y1, x1]))
        high = ((one - ty) * ((one - tx) * coefficients[z1, y0, x0] + tx * coefficients[z1, y0, x1])
                + ty * ((one - tx) * coefficients[z1, y1, x0] + tx * coefficients[z1, y1, x1]))
        return (one - tz) * low + tz * high

    @numba.njit(parallel=True, cache=True, nogil=True, fastmath=True)
    def _slice_kernel(coefficients, rotations, ky, kx, scale, radius_sq, cubic, out):  # pragma: no cover - compiled
        """Central slice of every rotation, interpolated (cubic B-spline or trilinear, periodic); 0 past the radius."""
        size = coefficients.shape[0]
        for i in numba.prange(rotations.shape[0]):
            rotation = rotations[i]
            wz, wy, wx = np.empty(4, np.float32), np.empty(4, np.float32), np.empty(4, np.float32)
            iz, iy, ix = np.empty(4, np.int64), np.empty(4, np.int64), np.empty(4, np.int64)
            for row in range(ky.size):
                for col in range(kx.size):
                    if ky[row] * ky[row] + kx[col] * kx[col] > radius_sq:
                        out[i, row, col] = 0
                        continue
                    pz, py, px = _slice_point(rotation, scale, ky[row], kx[col])
                    if not cubic:
                        out[i, row, col] = _linear_at(coefficients, pz, py, px, size)
                        continue
                    _cubic_weights(pz, size, wz, iz)
                    _cubic_weights(py, size, wy, iy)
                    _cubic_weights(px, size, wx, ix)
                    total = np.complex64(0)
                    for a in range(4):
                        plane = coefficients[iz[a]]
                        partial = np.complex64(0)
                        for b in range(4):
                            line = plane[iy[b]]
                            partial += wy[b] * (wx[0] * line[ix[0]] + wx[1] * line[ix[1]] + wx[2] * line[ix[2]]
                                                + wx[3] * line[ix[3]])
                        total += wz[a] * partial
                    out[i, row, col] = total

    @numba.njit(parallel=True, cache=True, nogil=True, fastmath=True)
    def _splat_kernel(values, ctf, rotations, ky, kx, columns, scale, radius_sq, numerators,
                      denominators):  # pragma: no cover - compiled
        """Trilinear splatting of ``ctf * values`` and ``ctf^2`` into each chunk's own accumulators.

        Chunk ``c`` of the particles adds into ``numerators[c]`` and
        ``denominators[c]`` only, so the threads never write the same voxel.
        """
        n_chunks, channels, size = numerators.shape[0], values.shape[0], numerators.shape[2]
        n = rotations.shape[0]
        for chunk in numba.prange(n_chunks):
            numerator, denominator = numerators[chunk], denominators[chunk]
            for i in range(chunk * n // n_chunks, (chunk + 1) * n // n_chunks):
                rotation = rotations[i]
                for row in range(ky.size):
                    for col in range(kx.size):
                        if ky[row] * ky[row] + kx[col] * kx[col] > radius_sq:
                            continue
                        weight = ctf[i, row, col]
                        pz, py, px = _slice_point(rotation, scale, ky[row], kx[col])
                        fz, fy, fx = math.floor(pz), math.floor(py), math.floor(px)
                        tz, ty, tx = pz - fz, py - fy, px - fx
                        z0, y0, x0 = _wrap(int(fz), size), _wrap(int(fy), size), _wrap(int(fx), size)
                        column = columns[col]
                        for dz in range(2):
                            z = _wrap(z0 + dz, size)
                            w_z = column * (tz if dz else 1 - tz)
                            for dy in range(2):
                                y = _wrap(y0 + dy, size)
                                w_zy = w_z * (ty if dy else 1 - ty)
                                for dx in range(2):
                                    x = _wrap(x0 + dx, size)
                                    w = np.float32(w_zy * (tx if dx else 1 - tx)) * weight
                                    denominator[z, y, x] += w * weight
                                    for k in range(channels):
                                        numerator[k, z, y, x] += w * values[k, i, row, col]


def slice_volume(coefficients, rotations, ky, kx, scale: float, radius_sq: float, cubic: bool) -> np.ndarray:
    """Central slices through a periodic 3-D grid in one parallel pass (:mod:`.particles` has the reference code).

    Parameters
    ----------
    coefficients : complex64 ndarray, shape (P, P, P)
        The padded volume's spectrum (trilinear) or its cubic B-spline coefficients, FFT order.
    rotations : float64 ndarray, shape (n, 3, 3)
        Image frequency (kx, ky, 0) goes to ``scale * R (kx, ky, 0)`` = (x, y, z), array axes (z, y, x).
    ky, kx : float64 ndarray
        The images' frequencies in samples (``fftfreq(N) * N``, ``rfftfreq(N) * N``).
    scale : float
        Volume samples per image frequency sample (the padding).
    radius_sq : float
        Pixels with ``ky^2 + kx^2`` above it are 0.
    cubic : bool
        Cubic B-spline (64 nodes) or trilinear (8).

    Returns
    -------
    complex64 ndarray, shape (n, len(ky), len(kx))
    """
    out = np.empty((rotations.shape[0], ky.size, kx.size), np.complex64)
    args = [coefficients, np.ascontiguousarray(rotations, dtype=np.float64), ky, kx, float(scale), float(radius_sq),
            bool(cubic), out]
    _load_first(_slice_kernel, args, (1, 5, 7))
    _run(_slice_kernel, *args)
    return out


def _load_first(kernel, args, cut) -> None:
    """Compile or load ``kernel`` for the types of ``args`` on one particle that touches nothing, if not yet done.

    A long first call would otherwise be announced as compiling (:data:`COMPILING_MESSAGE`) while it computes:
    the arguments at the positions ``cut`` are cut to their first particle (arrays) or made -1 (the radius, so
    that no pixel is inside), the rest are kept.
    """
    if not _new_specialisation(kernel, args):
        return
    tiny = list(args)
    for position in cut:
        value = args[position]
        tiny[position] = -1.0 if isinstance(value, float) else np.ascontiguousarray(
            value[:1] if value.ndim != 4 or position != 0 else value[:, :1])
    _run(kernel, *tiny)


def splat_chunks() -> int:
    """How many private accumulators :func:`splat_slices` fills at once: one per numba thread."""
    return _run.threads()


def splat_slices(values, ctf, rotations, ky, kx, columns, scale: float, radius_sq: float, numerators,
                 denominators) -> None:
    """Add ``ctf * values`` and ``ctf^2`` of every slice, trilinearly splatted, to private accumulators.

    Parameters
    ----------
    values : complex64 ndarray, shape (channels, n, Y, X // 2 + 1)
        Slices' spectra (rfft layout), several channels sharing one CTF.
    ctf : float32 ndarray, shape (n, Y, X // 2 + 1)
    rotations, ky, kx, scale, radius_sq
        As in :func:`slice_volume`.
    columns : float32 ndarray, shape (X // 2 + 1,)
        Weight of each column (1/2 on the self-conjugate columns, which the
        Hermitian completion counts twice).
    numerators : complex64 ndarray, shape (chunks, channels, P, P, P)
    denominators : float32 ndarray, shape (chunks, P, P, P)
        Accumulators, one per chunk of the particles (:func:`splat_chunks`), added to in place.
    """
    args = [values, ctf, np.ascontiguousarray(rotations, dtype=np.float64), ky, kx, columns, float(scale),
            float(radius_sq), numerators, denominators]
    _load_first(_splat_kernel, args, (0, 1, 2, 7))
    _run(_splat_kernel, *args)


if numba is not None:

    @numba.njit(parallel=True, cache=True, nogil=True)
    def _band_step_kernel(power, root_rho, levels, previous, alive, crossing, frequencies, first):  # pragma: no cover
        """One band of the single-map test at every voxel (flat arrays); see :func:`band_step`."""
        mean, test, target = levels[0], levels[1], levels[2]
        low, step = frequencies[0], frequencies[1] - frequencies[0]
        spread = root_rho.size > 0
        for i in numba.prange(power.size):
            value = power[i]
            score = mean + (value - mean) / root_rho[i] if spread else value
            ratio = score / test
            if target > 0:
                ratio = min(ratio, value / target)
            if first:
                alive[i] = alive[i] and ratio >= 1
            elif alive[i] and ratio < 1:
                before = previous[i]
                crossing[i] = low + (before - 1) / max(before - ratio, 1e-12) * step
                alive[i] = False
            previous[i] = ratio


def band_step(power, root_rho, levels, previous, alive, crossing, frequencies, first: bool) -> None:
    """One band of the single-map test at every voxel, in one parallel pass (in place).

    The ratio of each voxel is ``min(score / test, power / target)``, where
    ``score = mean + (power - mean) / root_rho`` (``power`` itself without a
    taper; no second term when ``target`` is 0). At the first band a voxel
    stays ``alive`` only if its ratio is at least 1; later, a voxel alive
    whose ratio falls below 1 gets its ``crossing``, interpolated linearly
    between the two bands from its ``previous`` ratio, and is no longer
    alive. ``previous`` then holds this band's ratios.

    Parameters
    ----------
    power : float ndarray (C-contiguous)
        The band's local power at every voxel.
    root_rho : ndarray of ``power``'s shape and dtype, or None
        The taper's spread correction (:func:`~.local.bands.standardised`).
    levels : (float, float, float)
        The noise mean, the test's threshold, the signal-to-noise target (0: none).
    previous, crossing : ndarray of ``power``'s shape and dtype; alive : bool ndarray of that shape
        Modified in place.
    frequencies : (float, float)
        The previous band's frequency and this one's.
    first : bool
        Whether this is the first band.
    """
    spread = np.empty(0, power.dtype) if root_rho is None else np.ascontiguousarray(root_rho, power.dtype).reshape(-1)
    _run(_band_step_kernel, power.reshape(-1), spread, np.asarray(levels, np.float64), previous.reshape(-1),
         alive.reshape(-1), crossing.reshape(-1), np.asarray(frequencies, np.float64), bool(first))


if numba is not None:

    @numba.njit(cache=True, nogil=True)
    def _local_maxima_kernel(curves, significance, out):  # pragma: no cover - compiled
        """For every row of ``curves``: :func:`.decorrelation.local_maximum`'s index (-1 for none)."""
        for c in range(curves.shape[0]):
            values = curves[c]
            work = values.copy()
            length = values.size
            index = int(np.argmax(work))
            while index == length - 1:
                length -= 1
                if length == 0:
                    index = -1
                    break
                index = int(np.argmax(work[:length]))
                floor = values[index:].min()
                if work[index] - floor > significance:
                    break
                work[index] = floor
                index = length - 1
            out[c] = index


def local_maxima(curves, significance: float) -> np.ndarray:
    """The decorrelation peak of every curve, in one compiled pass.

    :func:`.decorrelation.local_maximum` is the reference (one curve at a time).

    Parameters
    ----------
    curves : ndarray, shape (n_curves, n_radii)
        Finite values.
    significance : float
        How far a peak must stand above the lowest value after it.

    Returns
    -------
    ndarray of int64, shape (n_curves,)
        Index of each curve's peak, -1 where it has none.
    """
    curves = np.ascontiguousarray(curves, dtype=np.float64)
    out = np.empty(curves.shape[0], dtype=np.int64)
    _run(_local_maxima_kernel, curves, float(significance), out)
    return out


if numba is not None:

    @numba.njit(inline="always")
    def _fluctuation_row(raw, reference, moving, clip, t, y, shift, row):  # pragma: no cover - compiled
        """``row[x]``: the fluctuation at (t, y, x + shift) before its frame's mean is removed, in float64 (one loop
        per background, each vectorised; see :func:`blink_fluctuations`)."""
        frame, base = raw[t, y], reference[y]
        for x in range(row.size):
            row[x] = np.float64(frame[x + shift]) - np.float64(base[x + shift])
        if clip:
            for x in range(row.size):
                row[x] = max(row[x], 0.0)
        elif moving.shape[0] > 0:
            drift = moving[t, y]
            for x in range(row.size):
                row[x] -= np.float64(drift[x + shift])

    @numba.njit(inline="always")
    def _band(index, n_bands, rows):  # pragma: no cover - compiled
        return index * rows // n_bands, (index + 1) * rows // n_bands

    @numba.njit(parallel=True, cache=True, nogil=True, fastmath=_REASSOCIATE)
    def _frame_means_kernel(raw, reference, moving, clip, n_bands):  # pragma: no cover - compiled
        """Each frame's mean fluctuation, from the sums of bands of rows (one per thread)."""
        frames, rows, cols = raw.shape
        sums = np.zeros((n_bands, frames))
        for band in numba.prange(n_bands):
            row = np.empty(cols)
            first, last = _band(band, n_bands, rows)
            for t in range(frames):
                for y in range(first, last):
                    _fluctuation_row(raw, reference, moving, clip, t, y, 0, row)
                    sums[band, t] += row.sum()
        return sums.sum(axis=0) / (rows * cols)

    @numba.njit(parallel=True, cache=True, nogil=True, fastmath=_REASSOCIATE)
    def _fluctuations_kernel(raw, reference, moving, clip, means, out, neighbours, n_bands):  # pragma: no cover
        """Band by band of rows (one per thread, and its rows of ``neighbours``): each frame's rows written, their
        products with the next row's."""
        frames, rows, cols = raw.shape
        for band in numba.prange(n_bands):
            here, below = np.empty(cols), np.empty(cols - 1)
            first, last = _band(band, n_bands, rows)
            for t in range(frames):
                mean = means[t]
                for y in range(first, last):
                    _fluctuation_row(raw, reference, moving, clip, t, y, 0, here)
                    for x in range(cols):
                        here[x] -= mean
                        out[t, y, x] = here[x]
                    if y + 1 < rows:
                        _fluctuation_row(raw, reference, moving, clip, t, y + 1, 1, below)
                        for x in range(cols - 1):
                            neighbours[y, x] += here[x] * (below[x] - mean)


def blink_fluctuations(raw, reference, moving, clip: bool, out, neighbours) -> None:
    """The blinking movie's fluctuations written into ``out``, their diagonal neighbours' products summed.

    :meth:`.blink._Accumulator._fluctuations` is the reference (several numpy passes): each frame less
    ``reference`` (and less ``moving``, or clipped at zero), then less its own spatial mean; and
    ``neighbours[y, x] += e(y, x) e(y + 1, x + 1)`` over the frames; in float64 until written. Two passes over
    the frames, each split into bands of rows, one per thread.

    Parameters
    ----------
    raw : ndarray, shape (C, Y, X)
        The frames as stored (any integer or float dtype).
    reference : ndarray, shape (Y, X)
        The reference image (the temporal mean) or the temporal median (with ``clip``).
    moving : ndarray, shape (C, Y, X), or None
        Each frame's moving mean less the reference.
    clip : bool
        ``max(frame - reference, 0)`` (smlmLP's clipped median).
    out : C-contiguous ndarray, shape (C, >= Y, >= X)
        float32 or float64: its [:, :Y, :X] written (the zero-padded chunk).
    neighbours : float64 ndarray, shape (Y - 1, X - 1)
        Added to.
    """
    if not raw.dtype.isnative or raw.dtype == np.float16:  # numba reads neither
        raw = raw.astype(out.dtype)
    raw = np.ascontiguousarray(raw)
    moving = np.zeros((0, 1, 1), out.dtype) if moving is None else np.ascontiguousarray(moving)
    n_bands = min(_run.threads(), raw.shape[1])
    means = _run(_frame_means_kernel, raw, reference, moving, bool(clip), n_bands)
    _run(_fluctuations_kernel, raw, reference, moving, bool(clip), means, out, neighbours, n_bands)


if numba is not None:

    @numba.njit(parallel=True, cache=True, nogil=True)
    def _spectral_sums_kernel(pairs, blocks, power, sum_pairs):  # pragma: no cover - compiled
        """Row by row of the spectra (each thread's rows of the sums stay in its cache), frame by frame: each
        frame's row added to its block's (complex numbers as (real, imaginary) pairs of floats)."""
        frames, rows, columns = pairs.shape[0], power.shape[1], power.shape[2]
        for y in numba.prange(rows):
            for t in range(frames):
                block = blocks[t]
                for j in range(2 * columns):
                    sum_pairs[block, y, j] += np.float64(pairs[t, y, j])
                for k in range(columns):
                    real, imag = np.float64(pairs[t, y, 2 * k]), np.float64(pairs[t, y, 2 * k + 1])
                    power[block, y, k] += real * real + imag * imag


def blink_spectral_sums(spectra, blocks, power, spectrum) -> None:
    """Add each frame's ``|F|^2`` and ``F`` to its jackknife block's sums, in one pass over the spectra (float64).

    :meth:`.blink._Accumulator._add` is the reference.

    Parameters
    ----------
    spectra : complex ndarray, shape (C, Y, K)
        The frames' half spectra.
    blocks : int64 ndarray, shape (C,)
        Each frame's block.
    power : float64 ndarray, shape (B, Y, K); spectrum : complex128 ndarray, shape (B, Y, K)
        Added to.
    """
    pairs = spectra.view(spectra.real.dtype)
    _run(_spectral_sums_kernel, pairs, blocks, power, spectrum.view(np.float64))


if numba is not None:

    @numba.njit(parallel=True, cache=True, nogil=True, fastmath=_REASSOCIATE)
    def _lag_products_kernel(pairs, start, products):  # pragma: no cover - compiled
        for lag in numba.prange(products.size):
            total = 0.0
            for t in range(max(start, lag), pairs.shape[0]):
                for j in range(pairs.shape[1]):
                    total += pairs[t - lag, j] * pairs[t, j]
            products[lag] += total


def lag_products(pairs, start: int, products) -> None:
    """Add the dot products of the rows ``t >= start`` of ``pairs`` with the rows ``lag`` before them, per lag.

    :meth:`.blink._LagSums.add`'s ``einsum`` per lag is the reference.

    Parameters
    ----------
    pairs : float64 ndarray, shape (T, Q), C-contiguous
        Frames of real numbers (complex coefficients as (real, imaginary) pairs).
    start : int
        The first row that is new: the rows before it only pair with it and the rows after.
    products : float64 ndarray, shape (L + 1,)
        ``products[lag]`` gets the sum over ``t >= max(start, lag)`` of ``pairs[t - lag] . pairs[t]``.
    """
    _run(_lag_products_kernel, pairs, int(start), products)
