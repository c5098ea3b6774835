"""The boxes of a local FSC: their grid, their shell sums (batched, in chunks), their values and statuses.

Shared by the in-memory local FSC (:mod:`.fsc`) and the block-by-block one
(:mod:`.streamed`). Boxes of side ``box`` sit every ``step`` pixels; each
box of both halves is mean-subtracted (window-weighted), windowed,
transformed, and correlated on the box's own shells. The boxes go through
the FFT in chunks (bounded memory, no Python loop over boxes), and their
shell sums are one compiled pass per chunk (numba), or one batched bincount
(:func:`~napari_resolution.core.spectral.spectra_sums`, the reference and
GPU path). Every box's threshold comes from that box's shell counts (all
boxes share them).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .. import kernels
from ..backend import check_allocation, get_namespace, rfftn
from ..frequency import folded_shells, hermitian_weights, shell_index
from ..progress import progress_of
from ..spectral import curve_from_sums, spectra_sums
from ..thresholds import STATUSES, find_crossings, threshold_curve
from ..validation import check_int, shown, working_dtype

__all__ = ["MIN_BOXES", "WINDOWS", "axis_centres", "box_results", "box_sums", "centres_inside", "check_box",
           "check_step", "check_window", "default_box", "grid_centres", "grid_size"]

#: Default box side: this many times the global resolution in pixels, clamped to BOX_RANGE (even).
BOX_PER_RESOLUTION = 5
BOX_RANGE = (16, 64)
#: Bytes of box data (both halves, complex spectra included) held at once: twice one input, within these bounds.
CHUNK_BYTES = (32 * 2**20, 512 * 2**20)
#: Box windows. "sine" (the default) has the narrowest main lobe of the smooth windows, so the least leakage
#: between neighbouring shells: the bias that makes blurred regions read sharp (docs/local_resolution.md).
WINDOWS = ("sine", "hann", "none")
#: A box resolves no period longer than box / MIN_PERIODS: a crossing below it is read as noise ("unresolved").
MIN_PERIODS = 1.5
#: Peak magnitudes of a half outside which it is rescaled (its power spectrum must fit the float32 range).
SAFE_PEAK = (2.0**-30, 2.0**30)
#: Boxes whose crossings are searched at once.
CROSSING_CHUNK = 8192
#: Fewest boxes for the map's statistics: its 5-95 % range then rests on at least one box at each end (1 in 20).
#: A step that leaves fewer, where a smaller one would not, is refused; fewer for another reason (a small
#: image, a mask) get a warning.
MIN_BOXES = 20
#: Bytes a box holds besides its shell sums (16 bytes per shell): its centre (ndim int64, and the grid's
#: copies), value, crossing, status.
BOX_BYTES = 64


def default_box(resolution_pixels: float | None, shape) -> int:
    """Box side for a global resolution of ``resolution_pixels``: 5x it, even, in [16, 64] and within ``shape``."""
    wanted = BOX_PER_RESOLUTION * (resolution_pixels or 2.0)
    box = int(np.clip(2 * round(wanted / 2), *BOX_RANGE))
    return min(box, min(shape) - min(shape) % 2)


def check_box(box, shape) -> int:
    """``box`` checked against the data's ``shape``: an integer >= 8, at most the smallest axis (ValueError)."""
    box = check_int(box, "box", minimum=8)
    if box > min(shape):
        raise ValueError(f"box ({box} pixels) is larger than the image's smallest axis ({min(shape)})")
    return box


def check_step(step, box: int, shape) -> int:
    """``step`` checked, or the default (a quarter of the box); ValueError naming step.

    A step must be an integer >= 1 that leaves at least :data:`MIN_BOXES` boxes on the grid when a
    smaller one would, and whose boxes fit in the memory available.
    """
    if step is None:
        step = max(1, box // 4)
    else:
        step = check_int(step, "step", minimum=1)
        if grid_size(shape, box, step) < MIN_BOXES <= grid_size(shape, box, 1):
            raise ValueError(f"step ({step} px) leaves {grid_size(shape, box, step)} boxes of {box} px in a "
                             f"{shown(tuple(shape))} map: its statistics need at least {MIN_BOXES} (its 5-95 % "
                             f"range then rests on a box at each end); use step <= {_largest_step(shape, box)}")
    count = grid_size(shape, box, step)
    n_shells = box // 2 + 1
    check_allocation(count * (16 * n_shells + 24 * len(shape) + BOX_BYTES),
                     f"step ({step} px: {count} boxes of {box} px in a {shown(tuple(shape))} map)",
                     "use a larger step, or a mask")
    return step


def grid_size(shape, box: int, step: int) -> int:
    """Boxes on the grid of ``shape`` (no mask): the product of :func:`axis_centres`' lengths, counted."""
    return math.prod((n - box) // step + 1 + ((n - box) % step > 0) for n in shape)


def _largest_step(shape, box: int) -> int:
    """The largest step whose grid holds at least :data:`MIN_BOXES` boxes (the grid at step 1 does)."""
    low, high = 1, max(shape)  # grid_size(low) >= MIN_BOXES > grid_size(high): a step beyond the map gives 2**ndim
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if grid_size(shape, box, middle) >= MIN_BOXES else (low, middle)
    return low


def check_window(window) -> None:
    """ValueError unless ``window`` is one of :data:`WINDOWS`."""
    if not isinstance(window, str) or window not in WINDOWS:
        raise ValueError(f"window must be one of {', '.join(WINDOWS)}, got {shown(window)}")


def _axis_starts(n: int, box: int, step: int) -> np.ndarray:
    """First pixels of the boxes along one axis: every ``step``, the last box touching the far edge."""
    starts = np.arange(0, n - box + 1, step)
    return starts if starts[-1] == n - box else np.append(starts, n - box)


def axis_centres(n: int, box: int, step: int) -> np.ndarray:
    """Box centres (pixel indices) along one axis of ``n`` pixels: the grid is their product."""
    return _axis_starts(n, box, step) + box // 2


def grid_centres(shape, box: int, step: int) -> np.ndarray:
    """Centres (pixel indices) of every box on the grid, shape (n_boxes, ndim), first axis slowest."""
    grids = np.meshgrid(*[axis_centres(n, box, step) for n in shape], indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=1)


def centres_inside(centres, inside) -> np.ndarray:
    """The ``centres`` whose ``inside`` (bool, one per centre) is true; ValueError when none is."""
    if not inside.any():
        raise ValueError("mask holds no box centre (no voxel > 0.5 where a box fits)")
    return centres[inside]


def _box_window(box: int, ndim: int, window: str, dtype) -> np.ndarray:
    """The separable window of one box, shape (box,) * ndim."""
    lines = {"sine": lambda: np.sin(np.pi * (np.arange(box) + 0.5) / box), "hann": lambda: np.hanning(box + 2)[1:-1],
             "none": lambda: np.ones(box)}
    line = lines[window]()
    full = line
    for _ in range(ndim - 1):
        full = np.multiply.outer(full, line)
    return full.astype(dtype)


def box_sums(half1, half2, centres, box, window, geometry, xp, path, progress) -> np.ndarray:
    """Shell sums of every box, the boxes gathered and transformed in chunks (the in-memory and block paths).

    Parameters
    ----------
    half1, half2 : array, shape (Y, X) or (Z, Y, X)
        The halves (numpy or cupy), holding every box whole.
    centres : ndarray of int, shape (n_boxes, ndim)
        Box centres in pixels of the halves.
    box : int
    window : str
        One of :data:`WINDOWS`.
    geometry : ShellGeometry
        Shells of one box (:func:`~.frequency.shell_geometry`).
    xp : module
        numpy or cupy.
    path : str
        The compute path (:func:`~napari_resolution.core.spectral.compute_path` of ``xp``): "numba" gathers and
        sums with the compiled kernels, the others with array code.
    progress : callable or None
        Called with the fraction of boxes done after each chunk.

    Returns
    -------
    ndarray, shape (n_boxes, 4, n_shells), float32
        Per box and shell: the shell count, Re F1 F2*, |F1|^2, |F2|^2.
    """
    ndim = centres.shape[1]
    dtype = np.result_type(working_dtype(half1.dtype), working_dtype(half2.dtype))
    progress = progress_of(progress)
    starts = centres - box // 2
    halves = [_in_range(xp.ascontiguousarray(xp.asarray(h).astype(dtype, copy=False))) for h in (half1, half2)]
    weights = _box_window(box, ndim, window, dtype)
    chunk_sums = functools.partial(_chunk_sums_compiled, window_spectrum=np.fft.rfftn(weights)) \
        if path == "numba" else _chunk_sums_array
    budget = int(np.clip(2 * halves[0].nbytes, *CHUNK_BYTES))
    per_chunk = max(1, budget // (6 * box**ndim * np.dtype(dtype).itemsize))
    sums = np.empty((len(centres), 4, geometry.n_shells), np.float32)  # kept for curve_at: float32 is enough
    sums[:, 0] = folded_shells(geometry)[1]
    for first in range(0, len(centres), per_chunk):
        part = slice(first, first + per_chunk)
        sums[part, 1:] = chunk_sums(halves, starts[part], weights, geometry, xp)
        progress(min(1.0, (first + per_chunk) / len(centres)))
    return sums


def box_results(sums, geometry, threshold, box: int) -> tuple:
    """The threshold curve of a box, and each box's resolution and status, from the boxes' shell sums.

    Returns
    -------
    curve : ndarray, shape (n_shells,)
    values : ndarray, shape (n_boxes,)
        Full-period resolution (Nyquist bound for "bound", NaN for "unresolved").
    statuses : tuple of str
    """
    curve = threshold_curve(threshold, folded_shells(geometry)[1])  # every box has the same shell counts
    crossings, status_index = _crossings(sums, geometry.frequency, curve)
    statuses = _box_statuses(crossings, status_index, box)
    return curve, _box_values(crossings, statuses, geometry.reference_pixel), statuses


def _crossings(sums, frequency, curve) -> tuple[np.ndarray, np.ndarray]:
    """Each box's crossing and status index (:func:`~napari_resolution.core.thresholds.find_crossings`), in chunks of
    :data:`CROSSING_CHUNK` boxes: the float64 curves of every box at once would be several times the sums."""
    crossings, statuses = np.empty(len(sums)), np.empty(len(sums), np.int8)
    for first in range(0, len(sums), CROSSING_CHUNK):
        part = slice(first, first + CROSSING_CHUNK)
        _, curves = curve_from_sums(np.moveaxis(sums[part].astype(np.float64), 1, 0))
        crossings[part], statuses[part] = find_crossings(frequency, curves, curve[None])
    return crossings, statuses


def _in_range(half):
    """``half`` scaled by a power of two (exact) to a peak near 1 when its squares would over- or underflow.

    The FSC does not depend on the scale of either half.
    """
    peak = max(float(half.max()), -float(half.min()))
    if SAFE_PEAK[0] < peak < SAFE_PEAK[1]:
        return half
    return get_namespace(half).ldexp(half, -int(np.frexp(peak)[1])).astype(half.dtype, copy=False)


def _chunk_sums_compiled(halves, starts, weights, geometry, xp, *, window_spectrum) -> np.ndarray:
    """(n, 3, n_shells) of a chunk of boxes with the compiled gather and shell-sum kernels (one pass each; the
    boxes' means are removed from their spectra)."""
    axes = tuple(range(1, weights.ndim + 1))
    spectra = [rfftn(kernels.gather_windowed_boxes(half, starts, weights), axes=axes) for half in halves]
    return kernels.box_shell_sums(*spectra, *_box_shells(geometry), window_spectrum, geometry.n_shells)


@functools.lru_cache(maxsize=8)
def _box_shells(geometry) -> tuple[np.ndarray, np.ndarray]:
    """Shell index of a box's rfft spectrum and the Hermitian weight of each column (made once per box shape)."""
    return shell_index(geometry, np, half=True), hermitian_weights(geometry.shape[-1])


def _chunk_sums_array(halves, starts, weights, geometry, xp) -> np.ndarray:
    """(n, 3, n_shells) of a chunk of boxes with array code (numpy or cupy): the reference and GPU path."""
    ndim = weights.ndim
    weights = xp.asarray(weights)
    where = tuple(xp.asarray(starts.T))
    spectra = [rfftn(_windowed(xp.lib.stride_tricks.sliding_window_view(half, weights.shape)[where], weights),
                     axes=tuple(range(1, ndim + 1))) for half in halves]
    return spectra_sums(*spectra, geometry, xp)[:, 1:]


def _windowed(boxes, weights):
    """Boxes (n, box, ...) minus their window-weighted means, times the window."""
    axes = tuple(range(1, boxes.ndim))
    means = (boxes * weights).sum(axis=axes, keepdims=True) / weights.sum()
    return (boxes - means) * weights


def _box_values(crossings, statuses, reference: float) -> np.ndarray:
    """Each box's full-period resolution: ``reference / crossing``, the Nyquist bound, or NaN (unresolved).

    :func:`~napari_resolution.core.thresholds.resolution_from_crossing` for every box at once.
    """
    status = np.asarray(statuses)
    frequency = np.where(status == "bound", 0.5, np.where(status == "resolved", crossings, np.nan))
    return reference / frequency


def _box_statuses(crossings, status_index, box: int) -> tuple:
    """Each box's status; a crossing below :data:`MIN_PERIODS` periods per box is noise: "unresolved"."""
    statuses = [STATUSES[i] for i in status_index]
    too_coarse = np.asarray(crossings) < MIN_PERIODS / box
    return tuple("unresolved" if status == "resolved" and coarse else status
                 for status, coarse in zip(statuses, too_coarse))
