"""Local resolution from two half-maps: the FSC of small windowed boxes, batched, merged into a map.

Boxes of side ``box`` sit every ``step`` pixels; each box of both halves is
mean-subtracted (window-weighted), windowed, transformed, and correlated on
the box's own shells. The boxes go through the FFT in chunks (bounded
memory, no Python loop over boxes), and their shell sums are one compiled
pass per chunk (numba), or one batched bincount (:func:`~.spectral.spectra_sums`,
the reference and GPU path). Every box's threshold comes from that box's shell counts (all boxes share them).
The map interpolates 1/resolution (frequency) linearly between box centres,
takes the nearest centre's value beyond the outermost ones (no
extrapolation), and is NaN outside the mask.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings

import numpy as np
from scipy import ndimage

from . import kernels
from .backend import fits_in_memory, get_namespace, is_lazy, resolve_device, rfftn, to_host
from .correlation import fourier_correlation, result_from_sums
from .figures import COLORS, Curve, Marker, Plot
from .frequency import folded_shells, hermitian_weights, shell_geometry, shell_index
from .results import Result, result_dataclass
from .spectral import compute_path, curve_from_sums, spectra_sums
from .thresholds import STATUSES, find_crossings, parse_threshold, threshold_curve
from .validation import check_image, check_int, check_mask, check_progress, shown, working_dtype

__all__ = ["LocalResolutionResult", "axis_centres", "box_sums", "centres_inside", "default_box", "grid_centres",
           "local_fsc", "map_statistics", "map_warnings", "merged_map", "overall_status", "spread_out",
           "statistics_dict"]

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
NOISE_CROSSING = "the curve crosses below {periods} shells of the box: read as noise, unresolved"
#: Boxes whose crossings are searched at once.
CROSSING_CHUNK = 8192
#: Fewer boxes than this get a warning.
MIN_BOXES = 8
#: Bins of the histogram of the map.
HISTOGRAM_BINS = 50
#: Percentiles reported inside the mask.
PERCENTILES = (5, 25, 50, 75, 95)


@result_dataclass
class LocalResolutionResult(Result):
    """A local-resolution map and the boxes it was made from.

    Attributes
    ----------
    map : ndarray, shape of the input
        Full-period local resolution in ``pixel_size`` units; NaN outside the
        mask and where no box around resolves.
    centres : ndarray of int, shape (n_boxes, ndim)
        Box centres (pixel indices).
    values : ndarray, shape (n_boxes,)
        Each box's resolution (the Nyquist bound for "bound", NaN for "unresolved").
    statuses : tuple of str
        Each box's status.
    box, step : int
        Box side and spacing of the centres, pixels.
    frequency : ndarray, shape (n_shells,)
        Shell centres of a box, cycles/pixel.
    threshold : ndarray, shape (n_shells,)
        The criterion's curve for a box's shell counts.
    criterion : str
    sums : ndarray, shape (n_boxes, 4, n_shells)
        Per box: counts, Re A B*, |A|^2, |B|^2 (for :meth:`curve_at`).
    statistics : dict
        Inside the mask: median, mean, percentiles, histogram (counts, edges).
    global_result : CorrelationResult
        The FSC of the whole inputs, for reference.
    status : str
        "resolved" when some box resolves, "bound" when all read the Nyquist
        bound, else "unresolved".
    """

    map: np.ndarray
    centres: np.ndarray
    values: np.ndarray
    statuses: tuple
    box: int
    step: int
    frequency: np.ndarray
    threshold: np.ndarray
    criterion: str
    sums: np.ndarray
    statistics: dict
    global_result: object

    def box_index(self, position) -> int:
        """Index of the box whose centre is nearest ``position`` (pixel coordinates, one per axis)."""
        point = np.asarray(position, dtype=np.float64)
        if point.shape != (self.centres.shape[1],):
            raise ValueError(f"position must have {self.centres.shape[1]} coordinates, got {shown(position)}")
        return int(np.argmin(((self.centres - point) ** 2).sum(axis=1)))

    def curve_at(self, position):
        """The FSC of the box nearest ``position``, as a :class:`~.correlation.CorrelationResult`.

        Its status is the box's: a crossing below :data:`MIN_PERIODS` shells is "unresolved" here too.
        """
        index = self.box_index(position)
        geometry = shell_geometry((self.box,) * self.centres.shape[1], self.pixel_size)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # e.g. a box of identical halves: said in the result
            curve = result_from_sums(self.sums[index].astype(np.float64), geometry, self.parameters["threshold"],
                                     "first-below", {"box": self.box,
                                                     "centre": tuple(int(c) for c in self.centres[index])})
        if curve.status == self.statuses[index]:
            return curve
        return dataclasses.replace(curve, status=self.statuses[index], crossing=None, resolution=None,
                                   resolution_half=None,
                                   warnings=(*curve.warnings, NOISE_CROSSING.format(periods=MIN_PERIODS)))

    def window_at(self, index: int) -> tuple:
        """Sides (pixels, per axis) of the region that decided box ``index``'s value: the box."""
        return (self.box,) * self.centres.shape[1]

    def described(self) -> str:
        """``box 32 px, 2197 boxes``: what the map was computed from."""
        return f"box {self.box} px, {len(self.values)} boxes"

    def headline(self) -> tuple[str, float | None]:
        """The median local resolution (None when no box has one)."""
        return "median local resolution", self.statistics["median"]

    def columns(self) -> dict:
        """The histogram of the map: each bin's low and high edge (units of ``pixel_size``) and its voxel count."""
        counts, edges = (np.asarray(part, dtype=float) for part in self.statistics["histogram"])
        return {"bin_low": edges[:-1], "bin_high": edges[1:], "voxels": counts}

    def summary(self, unit: str = "") -> str:
        """``median 4.2 Å local resolution (0.143; 5-95 %: 3.8-6.1 Å) · box 32 px, 2197 boxes · status …``."""
        spaced = f" {unit}" if unit else ""
        stats = self.statistics
        head = "no local resolution" if stats["median"] is None else (
            f"median {stats['median']:.3g}{spaced} local resolution ({self.criterion}; 5-95 %: "
            f"{stats['p5']:.3g}-{stats['p95']:.3g}{spaced})")
        return f"{head} · {self.described()} · status {self.status}"

    def plots(self, unit: str = "") -> tuple:
        """The histogram of the map inside the mask, with the median marked."""
        counts, edges = (np.asarray(v, dtype=float) for v in self.statistics["histogram"])
        centres = (edges[:-1] + edges[1:]) / 2 if edges.size > 1 else edges
        markers = () if self.statistics["median"] is None else (
            Marker(self.statistics["median"], f"median {self.statistics['median']:.3g}{' ' + unit if unit else ''}"),)
        return (Plot("local resolution", (Curve("voxels", centres, counts, "measured", COLORS["measured"]),),
                     markers, x_label=f"local resolution, full period ({unit or 'pixel_size units'})",
                     y_label="voxels", frequency_axis=False, x_range=None, unit=unit),)

    def to_dict(self) -> dict:
        """Statistics, the box table and the settings, JSON-ready (the map and the sums are left out)."""
        full = super().to_dict()
        for name in ("map", "sums"):
            full.pop(name)
        full["global_result"] = {key: full["global_result"][key] for key in ("resolution", "status", "criterion")} \
            if isinstance(full["global_result"], dict) else None
        return full


def default_box(resolution_pixels: float | None, shape) -> int:
    """Box side for a global resolution of ``resolution_pixels``: 5x it, even, in [16, 64] and within ``shape``."""
    wanted = BOX_PER_RESOLUTION * (resolution_pixels or 2.0)
    box = int(np.clip(2 * round(wanted / 2), *BOX_RANGE))
    return min(box, min(shape) - min(shape) % 2)


def local_fsc(half1, half2, *, box=None, step=None, threshold="0.143", mask=None, pixel_size=1.0,
              window: str = "sine", device=None, progress=None, out=None) -> LocalResolutionResult:
    """Local resolution map of two half-maps (3-D) or images (2-D) by block-wise FSC.

    Parameters
    ----------
    half1, half2 : array, shape (Y, X) or (Z, Y, X)
        Independent halves (numpy or cupy; float32 kept). Not modified.
    box : int, optional
        Box side in pixels (>= 8, at most the smallest axis). Default:
        :func:`default_box` of the global resolution.
    step : int, optional
        Spacing of the box centres in pixels (default ``box // 4``).
    threshold : str or float
        Criterion (as :func:`~.correlation.fourier_correlation`), applied
        with the shell counts of a box.
    mask : array, optional
        Weights in [0, 1], the inputs' shape: only boxes whose centre is
        inside (> 0.5) are computed; the map is NaN outside.
    pixel_size : float or sequence of float
        Pixel size, one value or one per axis.
    window : {"sine", "hann", "none"}
        Window applied to each box: ``sin(pi (i + 1/2) / box)`` (default),
        Hann, or none.
    device : {None, "cpu", "gpu"}
        Where to compute (see :func:`~.backend.resolve_device`).
    progress : callable, optional
        Called with the fraction done; raising in it cancels.
    out : array, optional
        Where the map is written (a zarr array, a memory-mapped file), the
        inputs' shape. Lazy inputs (dask, zarr) are computed block by block
        through dask, on the current scheduler (a ``distributed`` cluster
        when a client is active), when ``out`` is given or when they would
        not fit in memory (:func:`~.local_stream.streamed_local_fsc`:
        ``box`` must be given, no global FSC); otherwise they are read once.

    Returns
    -------
    LocalResolutionResult

    Raises
    ------
    ValueError
        Shapes that differ, not 2-D/3-D, NaN/Inf, a box larger than the
        image or below 8, a step below 1, an unknown threshold or window, a
        mask of another shape.
    """
    lazy = [a for a in (half1, half2, mask) if is_lazy(a)]
    if lazy and (out is not None or not fits_in_memory(lazy)):
        from .local_stream import streamed_local_fsc

        return _warned(streamed_local_fsc(half1, half2, box=box, step=step, threshold=threshold, mask=mask,
                                          pixel_size=pixel_size, window=window, device=device, out=out,
                                          progress=progress))
    half1, half2, mask = (np.asarray(a) if is_lazy(a) else a for a in (half1, half2, mask))
    shape = _check_inputs(half1, half2, mask, window, progress)
    if out is not None and tuple(out.shape) != shape:
        raise ValueError(f"out must have the data's shape {shape}, got {tuple(out.shape)}")
    criterion, _ = parse_threshold(threshold)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the global FSC is a reference: its doubts are not ours
        global_result = fourier_correlation(half1, half2, pixel_size=pixel_size, threshold=threshold, device=device)
    reference = global_result.reference_pixel_size
    box = _check_box(box, global_result, shape)
    step = max(1, box // 4) if step is None else check_int(step, "step", minimum=1)
    xp = resolve_device(device, half1, half2, mask)
    inside = None if mask is None else to_host(mask) > 0.5
    centres = _box_centres(shape, box, step, inside)
    geometry = shell_geometry((box,) * len(shape), pixel_size)
    sums = box_sums(half1, half2, centres, box, window, geometry, xp, progress)
    curve, values, statuses = box_results(sums, geometry, threshold, box)
    local_map = merged_map(values, centres, shape, reference, inside, working_dtype(half1.dtype))
    notes = map_warnings(box, global_result, len(values), None if inside is None else float(inside.mean()))
    if out is not None:
        out[...] = local_map
    return _warned(LocalResolutionResult(
        map=local_map, centres=centres, values=values, statuses=statuses, box=box, step=step,
        frequency=geometry.frequency, threshold=curve, criterion=criterion, sums=sums,
        statistics=map_statistics(local_map), global_result=global_result, status=overall_status(statuses),
        pixel_size=geometry.pixel_size,
        warnings=notes,
        parameters={"threshold": threshold, "box": box, "step": step, "window": window, "shape": shape,
                    "masked": mask is not None, "n_boxes": len(values), "path": compute_path(xp)},
    ))


def _warned(result):
    """``result`` after issuing its warnings as RuntimeWarnings (as every estimator does)."""
    for note in result.warnings:
        warnings.warn(note, RuntimeWarning, stacklevel=3)
    return result


def _check_inputs(half1, half2, mask, window, progress) -> tuple:
    """The inputs' shape; ValueError naming what is wrong."""
    check_image(half1, "half1")
    check_image(half2, "half2")
    if half1.shape != half2.shape:
        raise ValueError(f"half1 and half2 must have the same shape, got {half1.shape} and {half2.shape}")
    if mask is not None:
        check_mask(mask, half1.shape)
    if not isinstance(window, str) or window not in WINDOWS:
        raise ValueError(f"window must be one of {', '.join(WINDOWS)}, got {shown(window)}")
    check_progress(progress)
    return tuple(int(n) for n in half1.shape)


def _check_box(box, global_result, shape) -> int:
    """``box`` checked, or the default from the global resolution."""
    if box is None:
        pixels = None if global_result.resolution is None else global_result.resolution / \
            global_result.reference_pixel_size
        return default_box(pixels, shape)
    box = check_int(box, "box", minimum=8)
    if box > min(shape):
        raise ValueError(f"box ({box} pixels) is larger than the image's smallest axis ({min(shape)})")
    return box


def _axis_starts(n: int, box: int, step: int) -> np.ndarray:
    """First pixels of the boxes along one axis: every ``step``, the last box touching the far edge."""
    starts = np.arange(0, n - box + 1, step)
    return starts if starts[-1] == n - box else np.append(starts, n - box)


def _box_centres(shape, box: int, step: int, inside) -> np.ndarray:
    """Centres (pixel indices) of the boxes on the grid, those inside the mask when there is one."""
    centres = grid_centres(shape, box, step)
    return centres if inside is None else centres_inside(centres, inside[tuple(centres.T)])


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


def box_sums(half1, half2, centres, box, window, geometry, xp, progress) -> np.ndarray:
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
    progress : callable or None
        Called with the fraction of boxes done after each chunk.

    Returns
    -------
    ndarray, shape (n_boxes, 4, n_shells), float32
        Per box and shell: the shell count, Re F1 F2*, |F1|^2, |F2|^2.
    """
    ndim = centres.shape[1]
    dtype = np.result_type(working_dtype(half1.dtype), working_dtype(half2.dtype))
    starts = centres - box // 2
    halves = [_in_range(xp.ascontiguousarray(xp.asarray(h).astype(dtype, copy=False))) for h in (half1, half2)]
    weights = _box_window(box, ndim, window, dtype)
    chunk_sums = functools.partial(_chunk_sums_compiled, window_spectrum=np.fft.rfftn(weights)) \
        if compute_path(xp) == "numba" else _chunk_sums_array
    budget = int(np.clip(2 * halves[0].nbytes, *CHUNK_BYTES))
    per_chunk = max(1, budget // (6 * box**ndim * np.dtype(dtype).itemsize))
    sums = np.empty((len(centres), 4, geometry.n_shells), np.float32)  # kept for curve_at: float32 is enough
    sums[:, 0] = folded_shells(geometry)[1]
    for first in range(0, len(centres), per_chunk):
        part = slice(first, first + per_chunk)
        sums[part, 1:] = chunk_sums(halves, starts[part], weights, geometry, xp)
        if progress is not None:
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
    """Each box's crossing and status index (:func:`~.thresholds.find_crossings`), in chunks of
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


def merged_map(values, centres, shape, reference: float, inside, dtype=np.float64, rows=None) -> np.ndarray:
    """The map: 1/resolution interpolated linearly between centres (nearest beyond), back to resolution.

    Boxes without a value (unresolved) weigh nothing: the interpolation is
    normalised by the interpolated weights, so the map stays within the
    range of the box values; where no box around has a value, the nearest
    box with one gives it. NaN outside the mask, and everywhere when no box
    has a value. Computed in ``dtype`` (float32 for float32 inputs: the map
    is the inputs' size). ``rows`` (a slice of the first axis) computes only
    those rows (``inside`` then holds those rows), for a map made in slabs.
    """
    rows = slice(0, shape[0]) if rows is None else rows
    out_shape = (len(range(*rows.indices(shape[0]))), *shape[1:])
    axes = [np.unique(centres[:, axis]) for axis in range(len(shape))]
    frequency_grid = np.zeros([a.size for a in axes])
    valid_grid = np.zeros(frequency_grid.shape, bool)
    where = tuple(np.searchsorted(a, centres[:, axis]) for axis, a in enumerate(axes))
    valid = np.isfinite(values)
    frequency_grid[where] = np.where(valid, reference / np.where(valid, values, 1.0), 0.0)
    valid_grid[where] = valid
    dtype = np.dtype(dtype)
    if not valid_grid.any():
        return np.full(out_shape, np.nan, dtype)
    frequency = _interpolate(frequency_grid.astype(dtype), shape, axes, rows)
    weight = _interpolate(valid_grid.astype(dtype), shape, axes, rows)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(weight, frequency, out=frequency)  # frequency now holds 1 / (interpolated frequency)
    frequency *= dtype.type(reference)
    isolated = weight <= 1e-6  # no box around has a value: the nearest box with one gives it
    if isolated.any():
        nearest = ndimage.distance_transform_edt(~valid_grid, return_distances=False, return_indices=True)
        fallback = _interpolate(frequency_grid[tuple(nearest)].astype(dtype), shape, axes, rows)
        frequency[isolated] = reference / fallback[isolated]
    if inside is not None:
        frequency[~inside] = np.nan
    return frequency


def _interpolate(grid, shape, axes, rows=slice(None)) -> np.ndarray:
    """Separable linear interpolation of ``grid`` (values at the ``axes`` knots) onto every pixel of ``shape``
    (of the ``rows`` of its first axis)."""
    for axis, (n, knots) in enumerate(zip(shape, axes)):
        weights = _linear_weights(n, knots).astype(grid.dtype)
        if axis == 0:
            weights = weights[rows]
        grid = np.moveaxis(np.tensordot(weights, grid, axes=([1], [axis])), 0, axis)
    return grid


def _linear_weights(n: int, knots: np.ndarray) -> np.ndarray:
    """(n, len(knots)) weights of linear interpolation at pixels 0..n-1 between ``knots``, clamped at the ends."""
    positions = np.clip(np.arange(n, dtype=np.float64), knots[0], knots[-1])
    right = np.clip(np.searchsorted(knots, positions, side="right"), 1, max(1, knots.size - 1))
    left = right - 1
    matrix = np.zeros((n, knots.size))
    if knots.size == 1:
        matrix[:, 0] = 1.0
        return matrix
    fraction = (positions - knots[left]) / (knots[right] - knots[left])
    matrix[np.arange(n), left] = 1 - fraction
    matrix[np.arange(n), right] += fraction
    return matrix


def map_statistics(local_map) -> dict:
    """Median, mean, percentiles and histogram of the map's finite values."""
    finite = local_map[np.isfinite(local_map)]
    if finite.size == 0:
        return statistics_dict(None, None, [], [])
    low, high = float(finite.min()), float(finite.max())
    counts, edges = np.histogram(finite, bins=HISTOGRAM_BINS) if spread_out(low, high) else (
        np.array([finite.size]), np.array([low, high]))
    return statistics_dict(np.percentile(finite, PERCENTILES), float(finite.mean()), counts, edges)


def spread_out(low: float, high: float) -> bool:
    """True when values from ``low`` to ``high`` deserve a histogram of bins (else one bin: float32-narrow)."""
    return bool(high - low > 1e-4 * max(abs(low), abs(high)) and np.isfinite(high - low))


def statistics_dict(percentiles, mean, counts, edges) -> dict:
    """The statistics of a map: median and the other :data:`PERCENTILES` (None: no finite value), mean, histogram."""
    values = [None] * len(PERCENTILES) if percentiles is None else [float(v) for v in percentiles]
    named = dict(zip(PERCENTILES, values))
    return {"median": named[50], "mean": mean, **{f"p{p}": v for p, v in named.items() if p != 50},
            "histogram": (np.asarray(counts).tolist(), np.asarray(edges, dtype=float).tolist())}


def _box_values(crossings, statuses, reference: float) -> np.ndarray:
    """Each box's full-period resolution: ``reference / crossing``, the Nyquist bound, or NaN (unresolved).

    :func:`~.thresholds.resolution_from_crossing` for every box at once.
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


def overall_status(statuses) -> str:
    """"resolved" if any box resolves, "bound" if every box reads the Nyquist bound, else "unresolved"."""
    if "resolved" in statuses:
        return "resolved"
    return "bound" if statuses and all(s == "bound" for s in statuses) else "unresolved"


def map_warnings(box: int, global_result, n_boxes: int, covered) -> tuple:
    """Box small next to the global resolution (when there is one), too few boxes, a mask covering (``covered``, a
    fraction or None without a mask) < 1 % of the data."""
    notes = []
    if global_result is not None and global_result.resolution is not None and global_result.status == "resolved":
        pixels = global_result.resolution / global_result.reference_pixel_size
        if box < 2 * pixels:
            notes.append(f"box ({box} px) is smaller than twice the global resolution ({pixels:.1f} px): "
                         "a box holds too few periods for its FSC to be reliable; use a larger box")
    if n_boxes < MIN_BOXES:
        notes.append(f"too few boxes ({n_boxes}): the map is coarse; use a smaller step or box")
    if covered is not None and covered < 0.01:
        notes.append(f"the mask covers {100 * covered:.2g} % of the data: the statistics rest on few voxels")
    return tuple(notes)
