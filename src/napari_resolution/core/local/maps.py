"""A local-resolution map made of values at box centres, its statistics, and its result.

Shared by the local FSC (in memory and block by block) and the single-map
test (:mod:`napari_resolution.core.single_map`, whose result extends
:class:`LocalResolutionResult`). The map interpolates 1/resolution
(frequency) linearly between box centres, takes the nearest centre's value
beyond the outermost ones (no extrapolation), and is NaN outside the mask.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
from scipy import ndimage

from ..correlation import result_from_sums
from ..figures import COLORS, Curve, Marker, Plot
from ..frequency import shell_geometry
from ..results import Result, length, number, result_dataclass
from ..validation import shown
from .boxes import MIN_BOXES, MIN_PERIODS

__all__ = ["HISTOGRAM_BINS", "PERCENTILES", "LocalResolutionResult", "check_out", "map_statistics", "map_warnings",
           "merged_map",
           "overall_status", "spread_out", "statistics_dict"]

NOISE_CROSSING = "the curve crosses below {periods} shells of the box: read as noise, unresolved"
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
        unit = self.unit_of_lengths(unit)
        stats = self.statistics
        head = "no local resolution" if stats["median"] is None else (
            f"median {length(stats['median'], unit)} local resolution ({self.criterion}; 5-95 %: "
            f"{number(stats['p5'])}-{length(stats['p95'], unit)})")
        return f"{head} · {self.described()} · status {self.status}"

    def plots(self, unit: str = "") -> tuple:
        """The histogram of the map inside the mask, with the median marked."""
        counts, edges = (np.asarray(v, dtype=float) for v in self.statistics["histogram"])
        centres = (edges[:-1] + edges[1:]) / 2 if edges.size > 1 else edges
        markers = () if self.statistics["median"] is None else (
            Marker(self.statistics["median"], f"median {length(self.statistics['median'], unit)}"),)
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


def check_out(out, shape) -> None:
    """ValueError naming out unless it is None or a writable array of ``shape`` (numpy, memory-mapped, zarr)."""
    if out is None:
        return
    found = getattr(out, "shape", None)
    if found is None or not hasattr(out, "__setitem__") or tuple(found) != tuple(shape):
        raise ValueError(f"out must be an array of the data's shape {tuple(shape)}, got {type(out).__name__} of shape "
                         f"{found}")
    flags = getattr(out, "flags", None)
    if getattr(out, "read_only", False) or (flags is not None and not getattr(flags, "writeable", True)):
        raise ValueError("out is read-only: the map cannot be written into it")


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


def overall_status(statuses) -> str:
    """"resolved" if any box resolves, "bound" if every box reads the Nyquist bound, else "unresolved"."""
    if "resolved" in statuses:
        return "resolved"
    return "bound" if statuses and all(s == "bound" for s in statuses) else "unresolved"


def map_warnings(box: int, step: int, global_result, n_boxes: int, covered) -> tuple:
    """Box small next to the global resolution (when there is one), a step longer than the box, too few boxes
    (:data:`~.boxes.MIN_BOXES`), a mask covering (``covered``, a fraction or None without a mask) < 1 % of the
    data."""
    notes = []
    if global_result is not None and global_result.resolution is not None and global_result.status == "resolved":
        pixels = global_result.resolution / global_result.reference_pixel_size
        if box < 2 * pixels:
            notes.append(f"box ({box} px) is smaller than twice the global resolution ({pixels:.1f} px): "
                         "a box holds too few periods for its FSC to be reliable; use a larger box")
    if step > box:
        notes.append(f"step ({step} px) is longer than the box ({box} px): the boxes leave gaps, where the map is "
                     "interpolated from boxes that do not see them; use step <= box")
    if n_boxes < MIN_BOXES:
        notes.append(f"too few boxes ({n_boxes}, fewer than {MIN_BOXES}): the map is coarse and its statistics "
                     "rest on few boxes; use a smaller step or box")
    if covered is not None and covered < 0.01:
        notes.append(f"the mask covers {100 * covered:.2g} % of the data: the statistics rest on few voxels")
    return tuple(notes)
