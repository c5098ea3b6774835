"""Modulation transfer function from a slanted edge (ISO 12233 / Burns) or from a point source.

Edge: the edge line is fitted by total least squares to per-scan-line centroids
of the derivative (scan lines chosen across the edge, so any orientation
works); every pixel is projected onto the edge normal and binned
``oversample`` times finer than the pixel (the edge-spread function, ESF);
its central difference is the line-spread function (LSF), windowed around
its centroid and Fourier transformed. The MTF is normalised at DC and
divided by the transfer functions of the central difference, sinc(2 f d),
and of the bin averaging, sinc(f d), with d = 1 / oversample pixels.

Point: the background-subtracted, centroid-centred box around a bead; the
MTF is the radially averaged |FFT2| (zero-padded 4x for fine sampling),
normalised at DC. A Gaussian fit gives the FWHM.

Frequencies are in cycles/pixel; ``resolution_50 = pixel_size / f50`` is the
period at which the contrast falls to 50 %. ROIs are small, so both estimators
run on the CPU (a cupy image is copied to the host first).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import ndimage, optimize

from .backend import check_allocation, in_memory, to_host
from .figures import COLORS, Curve, Marker, Plot
from .frequency import FourierGrid, normalize_pixel_size, tukey_window
from .results import Result, issue_warnings, length, result_dataclass
from .spectral import radial_profile, ring_means
from .validation import check_choice, check_image, working_dtype

__all__ = ["BeadStackResult", "EdgeMTFResult", "MTFResult", "PointMTFResult", "mtf_edge", "mtf_point"]

WINDOWS = ("hamming", "hann", "tukey", "none")
#: The compute path of both MTF estimators (``parameters["path"]``): small ROIs, numpy and scipy on the host.
MTF_PATH = "numpy"
#: Edge angles closer than this to a multiple of 45 degrees get a warning (too few sub-pixel phases).
ANGLE_MARGIN = 2.0
#: An edge needs a step this many times the noise (per pixel) to count as found.
MIN_EDGE_SNR = 3.0
#: The LSF window spans this many 10-90 % transition widths each side of the edge (at least HALF_WIDTH_MIN px).
HALF_WIDTH_FACTOR = 3.0
HALF_WIDTH_MIN = 8.0
#: Windows that taper from their centre get a wider span, so that the LSF sits in their near-flat middle
#: (Hamming over the Tukey span biases MTF50 up by about 4 %).
TAPERED_SPAN = {"hamming": 2.5, "hann": 2.5}
#: The ESF/LSF plot shows this many pixels each side of the edge.
PROFILE_HALF_WIDTH = 20.0
#: The MTF is noise from where it first falls below this many times its noise amplitude (sqrt(ln 20): a
#: noise-only MTF, Rayleigh-distributed with that rms amplitude, stays below it with 95 % probability).
NOISE_FLOOR_FACTOR = float(np.sqrt(np.log(20)))
#: Bin width (pixels) of a bead's radial profile.
RADIAL_BIN = 0.25
#: Largest image magnitude accepted (a quarter of the float64 range): differences of values stay finite.
MAX_MAGNITUDE = 2.0 ** (np.finfo(np.float64).maxexp - 2)
#: Smallest side (pixels) of an edge ROI.
MIN_ROI = 16
#: Fewest scan lines whose edge position is found for a line to be fitted through them.
MIN_SCAN_LINES = 4
#: Smallest side (pixels) of a bead's box.
MIN_BOX = 8
#: Bytes per pixel of the ROI the slanted-edge MTF holds (its projections and bins; measured 64).
EDGE_BYTES = 80
#: Bytes per pixel of a bead's box its MTF holds: the box zero-padded 4x per axis, transformed (measured 620).
BOX_BYTES = 640


@result_dataclass
class MTFResult(Result):
    """What every MTF result has (see :class:`EdgeMTFResult` and :class:`PointMTFResult`).

    Attributes
    ----------
    frequency : ndarray, shape (n,)
        Cycles/pixel (edge: up to 1.0, twice Nyquist; point: up to Nyquist).
    mtf : ndarray, shape (n,)
        MTF, 1 at DC.
    mtf_noise : ndarray, shape (n,)
        Noise amplitude of the MTF at each frequency (MTF units), propagated
        from the image noise: what noise alone would make the MTF read.
    noise_floor : float or None
        Frequency (cycles/pixel) where the MTF first falls below
        ``NOISE_FLOOR_FACTOR * mtf_noise``: beyond it the curve is noise. None
        when it never does (noise-free data, or signal over the whole range).
    f50, f10 : float or None
        Frequencies (cycles/pixel) where the MTF first falls below 0.5 and 0.1
        (interpolated); None if it does not within the range.
    mtf_nyquist : float
        MTF at 0.5 cycles/pixel.
    resolution_50, resolution_10 : float or None
        ``pixel / f50`` and ``pixel / f10``: the period (pixel_size units) at
        which the contrast falls to 50 % and 10 %.
    center : tuple
        Point: refined sub-pixel centre (row, col) in image pixels; edge: a
        point of the fitted line in image pixels.
    roi : tuple
        (row0, col0, row1, col1) analysed (edge) or the box (point), pixels, end exclusive.
    status : str
        "resolved" when MTF50 is found below the noise floor; "bound" when the
        MTF stays above 0.5 over the whole frequency range, or when MTF50 or
        MTF10 lies beyond the noise floor (read there from noise).
    pixel_size : tuple of float
        Pixel size of the two axes (equal).
    warnings : tuple of str
        Angle near 0/45/90 degrees, edge near the ROI border, too few rows,
        MTF50/MTF10 beyond the noise floor...
    parameters : dict
        oversample, window (edge) or box (point).
    """

    frequency: np.ndarray
    mtf: np.ndarray
    mtf_noise: np.ndarray
    noise_floor: float | None
    f50: float | None
    f10: float | None
    mtf_nyquist: float
    resolution_50: float | None
    resolution_10: float | None
    center: tuple
    roi: tuple

    HEADLINE = ("resolution_50", "resolution at MTF50")

    def columns(self) -> dict:
        """The MTF and the noise's MTF per frequency (cycles/pixel)."""
        return {"frequency_cycles_per_pixel": self.frequency, "mtf": self.mtf, "mtf_noise": self.mtf_noise}

    def summary(self, unit: str = "") -> str:
        """One copyable line: MTF50 (and its period), MTF10, MTF at Nyquist, the kind's own figure, the noise floor."""
        unit = self.unit_of_lengths(unit)
        period = "" if self.resolution_50 is None else f" = {length(self.resolution_50, unit)} period"
        floor = [] if self.noise_floor is None else [f"noise floor from {self.noise_floor:.4f} cycles/pixel"]
        parts = [f"MTF50 {_text(self.f50)} cycles/pixel{period}", f"MTF10 {_text(self.f10)} cycles/pixel",
                 f"MTF at Nyquist {self.mtf_nyquist:.3f}", *self._details(unit), *floor, f"status {self.status}"]
        return " · ".join(parts)

    def to_dict(self) -> dict:
        """Every field as JSON-ready values, with ``kind`` ("edge" or "point") first."""
        return {"kind": self.kind, **super().to_dict()}

    def _details(self, unit: str) -> list:  # pragma: no cover - both subclasses override it
        raise NotImplementedError

    def mtf_plot(self, unit: str = "") -> Plot:
        """The MTF with its noise level, and markers at MTF50, MTF10, the noise floor and Nyquist."""
        levels = ((50, self.f50, COLORS["corrected"]), (10, self.f10, COLORS["randomized"]))
        markers = [Marker(value, f"MTF{level} {value:.3f}", color) for level, value, color in levels
                   if value is not None]
        curves = [Curve("MTF", self.frequency, self.mtf)]
        if np.any(self.mtf_noise > 0):
            curves.append(Curve("noise level", self.frequency, NOISE_FLOOR_FACTOR * self.mtf_noise, "reference",
                                COLORS["reference"]))
        if self.noise_floor is not None:
            markers.append(Marker(self.noise_floor, f"noise floor {self.noise_floor:.3f}", COLORS["reference"]))
        return Plot("MTF", tuple(curves), (*markers, Marker(0.5, "Nyquist")), y_label="MTF",
                    x_range=(0.0, float(self.frequency.max())), y_range=(0.0, 1.05),
                    pixel_size=self.pixel_size[-1], unit=unit)

    def profile_plot(self, unit: str = "") -> Plot:  # pragma: no cover - both subclasses override it
        """The spatial profile the MTF is computed from."""
        raise NotImplementedError


@result_dataclass
class EdgeMTFResult(MTFResult):
    """MTF of a slanted edge, with its edge-spread and line-spread functions.

    Attributes
    ----------
    esf_position : ndarray, shape (n_bins,)
        ESF/LSF sample positions (pixels across the edge, 0 on the fitted line).
    esf : ndarray, shape (n_bins,)
        Edge-spread function (dark to bright, image units).
    lsf : ndarray, shape (n_bins,)
        Line-spread function (peak 1).
    edge_angle : float
        Direction of the edge line, degrees from the +column axis towards
        image-up, in [0, 180).
    """

    esf_position: np.ndarray
    esf: np.ndarray
    lsf: np.ndarray
    edge_angle: float

    kind = "edge"

    def _details(self, unit: str) -> list:
        return [f"edge angle {self.edge_angle:.2f}°"]

    def profile_plot(self, unit: str = "") -> Plot:
        """The ESF (normalised) and LSF within 20 pixels of the edge."""
        near = np.abs(self.esf_position) <= PROFILE_HALF_WIDTH
        esf = (self.esf - self.esf.min()) / np.ptp(self.esf)
        return Plot("ESF / LSF", (Curve("ESF (normalised)", self.esf_position[near], esf[near]),
                                  Curve("LSF", self.esf_position[near], self.lsf[near], "secondary",
                                        COLORS["threshold"])),
                    x_label="distance from the edge (pixels)", y_label="ESF / LSF", frequency_axis=False,
                    x_range=(-PROFILE_HALF_WIDTH, PROFILE_HALF_WIDTH), pixel_size=1.0, unit="px")

    def plots(self, unit: str = "") -> tuple:
        """The MTF, then the ESF (normalised) and LSF within 20 pixels of the edge."""
        return self.mtf_plot(unit), self.profile_plot(unit)


@result_dataclass
class PointMTFResult(MTFResult):
    """MTF of a point source (bead), with its box, radial profile and a Gaussian FWHM.

    Attributes
    ----------
    psf : ndarray, shape (box, box)
        The background-subtracted box.
    fwhm : float
        FWHM of a Gaussian fit, pixel_size units.
    profile_radius : ndarray, shape (n_bins,)
        Mean distance (pixels) from the refined centre of the pixels in each
        0.25-pixel radius bin (empty bins left out).
    profile : ndarray, shape (n_bins,)
        Mean background-subtracted value in each bin over the Gaussian fit's
        peak (the fit is 1 at radius 0).
    """

    psf: np.ndarray
    fwhm: float
    profile_radius: np.ndarray
    profile: np.ndarray

    kind = "point"

    def _details(self, unit: str) -> list:
        return [f"FWHM {length(self.fwhm, unit)}"]

    def profile_plot(self, unit: str = "") -> Plot:
        """The bead's radial profile with its Gaussian fit (the PSF the MTF is the transform of)."""
        sigma = self.fwhm / self.pixel_size[-1] / (2 * np.sqrt(2 * np.log(2)))
        fit = np.exp(-self.profile_radius**2 / (2 * sigma**2))
        return Plot("radial profile", (Curve("radial profile", self.profile_radius, self.profile),
                                       Curve(f"Gaussian fit, FWHM {length(self.fwhm, unit)}", self.profile_radius,
                                             fit, "reference", COLORS["threshold"])),
                    x_label="distance from the bead centre (pixels)", y_label="PSF (normalised)",
                    frequency_axis=False, x_range=(0.0, float(self.profile_radius.max())), pixel_size=1.0,
                    unit="px")

    def plots(self, unit: str = "") -> tuple:
        """The MTF, then the PSF box as an image."""
        box = Plot(f"PSF box · FWHM {length(self.fwhm, unit)}", x_label="column (pixels)", y_label="row (pixels)",
                   frequency_axis=False, x_range=None, image=self.psf)
        return self.mtf_plot(unit), box


def _text(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


# ----------------------------------------------------------------------------- common
def _square_pixel(pixel_size) -> float:
    sizes = normalize_pixel_size(pixel_size, 2)
    if not np.isclose(sizes[0], sizes[1], rtol=1e-6):
        raise ValueError(f"MTF needs square pixels, got pixel_size {sizes}")
    return sizes[0]


def _image_2d(image, min_size: int, name: str = "image") -> tuple[np.ndarray, int]:
    """``image`` as float64 divided by ``2**exponent``, and ``exponent``: its largest magnitude in [0.5, 1).

    Scaling by a power of two is exact, so it changes no result, and keeps
    values near the float64 limits (1e300, 1e-310) from overflowing or
    underflowing; multiply image-unit outputs by ``2**exponent`` again.

    Raises ValueError, naming ``name``, unless it is a finite, real 2-D array
    of at least ``min_size`` pixels each way whose values lie within a quarter
    of the float64 range (so that their differences stay finite).
    """
    data = to_host(image) if hasattr(image, "shape") else None
    if data is None or data.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {getattr(image, 'shape', None)}")
    if data.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be real-valued, got {data.dtype}")
    try:
        working_dtype(data.dtype)  # refuses booleans
    except ValueError as err:
        raise ValueError(f"{name}: {err}") from None
    if min(data.shape) < min_size:
        raise ValueError(f"{name} is too small: at least {min_size} x {min_size} pixels needed, got shape "
                         f"{data.shape}")
    data = data.astype(np.float64)
    if not np.isfinite(data).all():
        raise ValueError(f"{name} contains NaN or Inf values")
    largest = float(np.max(np.abs(data)))
    if largest >= MAX_MAGNITUDE:
        raise ValueError(f"{name} values are too large to compute with: largest magnitude {largest:.3g}, must be "
                         f"below {MAX_MAGNITUDE:.3g}; scale the image down")
    exponent = int(np.frexp(largest)[1])
    return np.ldexp(data, -exponent), exponent


def _crossing(frequency, curve, level: float):
    """First frequency where ``curve`` falls below ``level``, linearly interpolated; None if never."""
    below = np.flatnonzero(curve < level)
    if below.size == 0 or below[0] == 0:
        return None
    i = below[0]
    f0, f1, m0, m1 = frequency[i - 1], frequency[i], curve[i - 1], curve[i]
    return float(f0 + (f1 - f0) * (m0 - level) / (m0 - m1))


def _finish(result_type, frequency, mtf, mtf_noise, pixel, *, notes=(), **fields) -> MTFResult:
    """The result: MTF50/MTF10 crossings, the noise floor and the status, ``notes`` and the floor's warning."""
    f50, f10 = _crossing(frequency, mtf, 0.5), _crossing(frequency, mtf, 0.1)
    floor = _crossing(frequency, mtf - NOISE_FLOOR_FACTOR * mtf_noise, 0.0)
    noisy = [f"MTF{level} ({value:.4f} cycles/pixel)" for level, value in ((50, f50), (10, f10))
             if floor is not None and value is not None and value > floor]
    if noisy:
        notes = (*notes, f"{' and '.join(noisy)} beyond the noise floor ({floor:.4f} cycles/pixel): read from "
                         "noise, so only a bound; use a longer edge, a brighter bead or less noise")
    return result_type(
        frequency=frequency, mtf=mtf, mtf_noise=mtf_noise, noise_floor=floor, f50=f50, f10=f10,
        mtf_nyquist=float(np.interp(0.5, frequency, mtf)),
        resolution_50=None if f50 is None else pixel / f50, resolution_10=None if f10 is None else pixel / f10,
        status="bound" if f50 is None or noisy else "resolved", pixel_size=(pixel, pixel),
        warnings=tuple(notes), **fields,
    )


def _robust_level(values) -> tuple[float, float]:
    """Median and robust standard deviation (1.4826 x median absolute deviation) of ``values``."""
    median = float(np.median(values))
    return median, float(1.4826 * np.median(np.abs(values - median)))


def _noise_sigma(data: np.ndarray) -> float:
    """Robust white-noise standard deviation from second differences along columns."""
    second = data[:, 2:] - 2 * data[:, 1:-1] + data[:, :-2]
    return _robust_level(second)[1] / np.sqrt(6)


def _plateaus(esf) -> tuple[float, float]:
    """Mean ESF level on the first and on the last eighth of its range (dark and bright sides)."""
    tail = max(2, esf.size // 8)
    return float(np.mean(esf[:tail])), float(np.mean(esf[-tail:]))


# ----------------------------------------------------------------------------- edge
def _check_roi(roi, shape, minimum: int) -> tuple[int, int, int, int]:
    """``roi`` as whole pixels (those whose centres lie inside it, boundary included).

    Raises ValueError, naming ``roi``, unless it is four finite numbers, lies
    inside ``[0, rows] x [0, cols]`` (pixel edges, so no part is cut off
    silently) and spans at least ``minimum`` pixels each way.
    """
    if roi is None:
        return 0, 0, shape[0], shape[1]
    try:
        corners = np.array([float(v) for v in roi]).reshape(2, 2)
    except (TypeError, ValueError):
        raise ValueError(f"roi must be (row0, col0, row1, col1), got {roi!r}") from None
    if not np.isfinite(corners).all():
        raise ValueError(f"roi must be finite numbers, got {roi!r}")
    low, high = corners.min(axis=0), corners.max(axis=0)
    if (low < 0).any() or (high > shape).any():
        text = ", ".join(f"{v:.4g}" for v in corners.ravel())
        raise ValueError(f"roi ({text}) extends outside the image of shape {tuple(shape)}: rows must lie within "
                         f"0-{shape[0]} and columns within 0-{shape[1]} (pixel edges); draw it inside the image")
    row0, col0, row1, col1 = (int(v) for v in (*np.ceil(low - 0.5), *np.floor(high + 0.5)))
    if row1 - row0 < minimum or col1 - col0 < minimum:
        raise ValueError(f"roi {(row0, col0, row1, col1)} is too small: at least {minimum} x {minimum} pixels needed")
    return row0, col0, row1, col1


def _initial_normal(data: np.ndarray, noise: float):
    """Edge normal (row, col), pointing to the bright side, from the gradient structure tensor.

    Raises ValueError when the gradients are no stronger than noise (no edge).
    """
    smooth = ndimage.gaussian_filter(data, 1.0)
    grad_row, grad_col = np.gradient(smooth)
    magnitude = np.hypot(grad_row, grad_col)
    # a Gaussian-smoothed (sigma 1) gradient of white noise has a std of about 0.2 noise per component
    if magnitude.max() < MIN_EDGE_SNR * 0.2 * max(noise, 1e-12) * 4:
        raise ValueError("no edge found in the ROI: the region looks flat (no gradient above the noise)")
    weights = magnitude**2
    tensor = np.array([[np.sum(weights * grad_row * grad_row), np.sum(weights * grad_row * grad_col)],
                       [np.sum(weights * grad_row * grad_col), np.sum(weights * grad_col * grad_col)]])
    normal = np.linalg.eigh(tensor)[1][:, -1]
    if np.sum(grad_row * normal[0] + grad_col * normal[1]) < 0:
        normal = -normal
    return normal


def _line_centroids(data: np.ndarray, normal, half_width: float):
    """Sub-pixel edge position on every scan line crossing the edge.

    Scan lines run along the image axis closest to the normal; on each, the
    edge is the centroid of the (positive) derivative within ``half_width``
    of its peak. Returns points (row, col) as an (n, 2) array.
    """
    along_cols = abs(normal[1]) >= abs(normal[0])
    profiles = data if along_cols else data.T
    sign = np.sign(normal[1] if along_cols else normal[0]) or 1.0
    derivative = sign * np.gradient(profiles, axis=1)
    positions = np.arange(profiles.shape[1], dtype=float)
    peaks = np.argmax(ndimage.uniform_filter1d(derivative, 3, axis=1), axis=1)
    window = np.abs(positions[None, :] - peaks[:, None]) <= half_width
    weights = np.where(window, np.clip(derivative, 0, None), 0.0)
    totals = weights.sum(axis=1)
    valid = totals > 0
    centroid = (weights * positions).sum(axis=1)[valid] / totals[valid]
    lines = np.arange(profiles.shape[0], dtype=float)[valid]
    points = np.column_stack([lines, centroid]) if along_cols else np.column_stack([centroid, lines])
    return points


def _fit_line(points: np.ndarray):
    """Total-least-squares line through ``points`` (n, 2), with one round of 3-sigma outlier rejection.

    Returns (point on the line, unit direction, residual std). Raises ValueError
    (no edge in the ROI) with fewer than :data:`MIN_SCAN_LINES` points.
    """
    if len(points) < MIN_SCAN_LINES:
        raise ValueError(f"no edge found in the ROI: an edge position was found on {len(points)} scan line(s), "
                         f"at least {MIN_SCAN_LINES} needed")
    for _ in range(2):
        center = points.mean(axis=0)
        _, _, vt = np.linalg.svd(points - center, full_matrices=False)
        direction = vt[0]
        residual = (points - center) @ vt[1]
        spread = 1.4826 * np.median(np.abs(residual)) + 1e-9
        keep = np.abs(residual) <= 3 * spread
        if keep.all() or keep.sum() < 4:
            break
        points = points[keep]
    return center, direction, float(np.std(residual))


def _esf(data: np.ndarray, point, normal, oversample: int, min_bins: int):
    """Edge-spread function: pixel values binned by their distance to the edge line.

    Returns positions (pixels), ESF values, the sample count per bin, and the
    well-sampled half-range (pixels) on each side of the edge. Raises
    ValueError (naming the ROI) when the ROI reaches less than a pixel past
    the edge on one side, or when fewer than ``min_bins`` bins around the edge
    are well sampled (see :func:`_check_sampling`).
    """
    rows, cols = np.indices(data.shape, dtype=float)
    distance = (rows - point[0]) * normal[0] + (cols - point[1]) * normal[1]
    reach = min(distance.max(), -distance.min())
    if reach < 1:
        raise ValueError("the edge runs along the border or through a corner of the ROI: the ROI must reach at "
                         "least a pixel on each side of it; centre the ROI on the edge")
    bins = np.floor(distance * oversample).astype(np.int64)
    lowest = int(np.floor(-reach * oversample))
    highest = int(np.floor(reach * oversample))
    inside = (bins >= lowest) & (bins < highest)
    index = bins[inside] - lowest
    length = highest - lowest
    counts = np.bincount(index, minlength=length)
    sums = np.bincount(index, weights=data[inside], minlength=length)
    positions = (np.arange(length) + lowest + 0.5) / oversample
    filled = counts > 0
    esf = np.interp(positions, positions[filled], sums[filled] / counts[filled])
    usable = _well_sampled(counts)
    _check_sampling(usable.stop - usable.start, min_bins, normal, oversample)
    positions = positions[usable]
    return positions, esf[usable], counts[usable], (-positions[0], positions[-1])


def _check_sampling(run: int, min_bins: int, normal, oversample: int) -> None:
    """Raise ValueError (naming the ROI) when the run of well-sampled ESF bins is shorter than ``min_bins``.

    Pixels of an edge within a degree or so of 0, 45 or 90 degrees all lie at
    a few distances from it, leaving the bins in between (nearly) empty.
    """
    if run < min_bins:
        angle = _edge_angle((-normal[1], normal[0]))
        raise ValueError(f"the edge in the ROI is too close to {45 * round(angle / 45) % 180}° ({angle:.2f}°) for "
                         f"the slanted-edge method: its pixels leave most of the 1/{oversample}-pixel bins across it "
                         "empty; slant the edge by a few degrees")


def _well_sampled(counts) -> slice:
    """The central run of ESF bins holding at least a quarter of the median count (and 2 pixels).

    Bins near the ROI corners hold a pixel or two; their noise would dominate the LSF.
    """
    enough = counts >= max(2, 0.25 * np.median(counts[counts > 0]))
    middle = counts.size // 2
    start, stop = middle, middle
    while start > 0 and enough[start - 1]:
        start -= 1
    while stop < counts.size and enough[stop]:
        stop += 1
    return slice(start, stop)


def _window(length: int, center: float, kind: str, span: float) -> np.ndarray:
    """A window over ``length`` samples, centred on ``center`` (the LSF centroid), ``span`` samples wide.

    Zero beyond the span: LSF samples far from the edge carry only noise.
    """
    offset = (np.arange(length) - center) / span
    if kind == "none":
        return (np.abs(offset) <= 0.5).astype(float)
    if kind == "hamming":
        return np.where(np.abs(offset) <= 0.5, 0.54 + 0.46 * np.cos(2 * np.pi * offset), 0.0)
    if kind == "hann":
        return np.where(np.abs(offset) <= 0.5, 0.5 + 0.5 * np.cos(2 * np.pi * offset), 0.0)
    flat = np.abs(offset) <= 0.25  # tukey: flat over the central half, cosine tapers
    taper = 0.5 + 0.5 * np.cos(2 * np.pi * (np.abs(offset) - 0.25) * 2)
    return np.where(flat, 1.0, np.where(np.abs(offset) <= 0.5, taper, 0.0))


def _edge_mtf(esf: np.ndarray, variance: np.ndarray, oversample: int, window: str, half_width: float):
    """LSF (central difference), windowed MTF with derivative and binning corrections, and its noise.

    Parameters
    ----------
    esf, variance : ndarray, shape (n_bins,)
        Binned ESF and the noise variance of each bin (pixel noise variance / pixels in the bin).
    oversample : int
        Bins per pixel.
    window : str
        One of :data:`WINDOWS`.
    half_width : float
        Half-span (pixels) of the window around the LSF centroid.

    Returns
    -------
    lsf : ndarray, shape (n_bins,)
        Peak-normalised LSF.
    frequency, mtf, noise : ndarray, shape (n_freq,)
        Cycles/pixel up to 1.0, the MTF, and the rms noise amplitude of the MTF (see :func:`_edge_noise`).

    Raises
    ------
    ValueError
        When the windowed LSF (its DC term, the rise across the edge) is not above its noise.
    """
    lsf = np.gradient(esf)
    peak = int(np.argmax(ndimage.uniform_filter1d(lsf, oversample)))
    near = np.abs(np.arange(lsf.size) - peak) <= half_width * oversample / 2  # far samples carry only noise
    weights = np.where(near, np.clip(lsf, 0, None), 0.0)
    centroid = float(np.sum(weights * np.arange(lsf.size)) / np.sum(weights))
    taper = _window(lsf.size, centroid, window, 2 * half_width * oversample)
    frequency = np.fft.rfftfreq(lsf.size, d=1 / oversample)
    step = 1 / oversample
    transform = np.fft.rfft(lsf * taper)
    spectrum = np.abs(transform)
    keep = frequency <= 1.0
    frequency = frequency[keep]
    noise = _edge_noise(taper, variance, frequency * step)
    if transform[0].real <= max(noise[0], 1e-12):
        raise ValueError("no edge found in the ROI: the line-spread function, windowed around its peak, does not "
                         "add up to a rise above its noise (scattered bright pixels rather than an edge?)")
    correction = spectrum[0] * np.sinc(2 * frequency * step) * np.sinc(frequency * step)
    return lsf / lsf.max(), frequency, spectrum[keep] / correction, noise / correction


def _edge_noise(taper: np.ndarray, variance: np.ndarray, cycles_per_bin: np.ndarray) -> np.ndarray:
    """Rms noise amplitude of the Fourier transform of the windowed central difference of noisy ESF bins.

    With independent bin noise ``n_k`` (variance ``v_k``), the windowed LSF noise
    sum_j w_j (n_{j+1} - n_{j-1}) / 2 exp(-2 pi i f j) has the variance
    (sum_k v_k (w_{k-1}^2 + w_{k+1}^2) - 2 cos(4 pi f) sum_k v_k w_{k-1} w_{k+1}) / 4
    (``f`` in cycles per bin): the derivative's sin^2(2 pi f) on a slowly varying window.
    """
    before, after = np.pad(taper, 1)[:-2], np.pad(taper, 1)[2:]
    squares = np.sum(variance * (before**2 + after**2))
    cross = np.sum(variance * before * after)
    return np.sqrt(np.clip(squares - 2 * cross * np.cos(4 * np.pi * cycles_per_bin), 0, None) / 4)


def _edge_angle(direction) -> float:
    """Degrees from the +column axis towards image-up, in [0, 180)."""
    return float(np.degrees(np.arctan2(-direction[0], direction[1])) % 180.0)


def _several_edges(positions, esf, width: float, oversample: int) -> bool:
    """True when the ESF crosses half-way between its plateaus in separate places (two edges, a bar).

    The ESF is normalised between the means of its first and last eighths and
    smoothed over two pixels; 0.5-crossings more than three transition widths
    apart belong to different edges.
    """
    low, high = _plateaus(esf)
    smooth = ndimage.uniform_filter1d((esf - low) / (high - low), 2 * oversample)
    crossings = positions[np.flatnonzero(np.diff(np.sign(smooth - 0.5)) != 0)]
    return bool(crossings.size > 1 and np.ptp(crossings) > 3 * width)


def _edge_warnings(angle, extent, rows_crossed, lsf_width) -> list[str]:
    notes = []
    nearest = 45 * round(angle / 45)
    if abs(angle - nearest) < ANGLE_MARGIN:
        notes.append(f"edge angle {angle:.2f}° is within {ANGLE_MARGIN}° of {nearest % 180}°: "
                     "too few sub-pixel phases; tilt the edge by a few degrees")
    if min(extent) < max(5 * lsf_width, 8):
        notes.append("the edge is too close to the ROI border: the ESF is cut on one side; centre the ROI on it")
    if rows_crossed < 20:
        notes.append(f"only {rows_crossed} scan lines cross the edge: lengthen the ROI along the edge")
    return notes


@in_memory("image")
def mtf_edge(image, *, roi=None, pixel_size=1.0, oversample: int = 4, window: str = "tukey") -> MTFResult:
    """MTF from a slanted edge (ISO 12233 / Burns), any orientation, either polarity.

    Parameters
    ----------
    image : array, shape (Y, X)
        Image containing one straight edge in ``roi`` (not modified).
    roi : (row0, col0, row1, col1), optional
        Region to analyse (pixels, end exclusive); default the whole image.
    pixel_size : float
        Pixel size (square pixels).
    oversample : int
        ESF bins per pixel (ISO: 4).
    window : {"hamming", "hann", "tukey", "none"}
        Window applied to the LSF around its centroid.

    Returns
    -------
    EdgeMTFResult

    Raises
    ------
    ValueError
        Not a real 2-D array, under 16 x 16 pixels, NaN/Inf or values beyond
        a quarter of the float64 range, ROI outside the image or too small,
        no edge (flat region), an edge within a degree or so of 0, 45 or 90
        degrees (too few sub-pixel phases) or through a corner of the ROI,
        several edges, bad oversample or window.
    """
    data, exponent = _image_2d(image, MIN_ROI)
    pixel = _square_pixel(pixel_size)
    if isinstance(oversample, bool) or not isinstance(oversample, (int, np.integer)) or not 1 <= oversample <= 16:
        raise ValueError(f"oversample must be an integer in [1, 16], got {oversample!r}")
    check_choice(window, "window", WINDOWS)
    row0, col0, row1, col1 = _check_roi(roi, data.shape, MIN_ROI)
    check_allocation(EDGE_BYTES * (row1 - row0) * (col1 - col0),
                     f"{'image' if roi is None else 'roi'} ({row1 - row0} x {col1 - col0} pixels analysed)",
                     "draw a smaller ROI across the edge")
    region = data[row0:row1, col0:col1]
    noise = _noise_sigma(region)
    normal = _initial_normal(region, noise)
    points = _line_centroids(region, normal, half_width=8.0)
    center, direction, _ = _fit_line(points)
    normal = _oriented_normal(direction, normal)
    # a first, coarse ESF, for the contrast and the transition width: enough bins for distinct plateaus
    positions, esf, _, extent = _esf(region, center, normal, oversample, min_bins=3)
    _check_contrast(esf, noise, exponent)
    width = _transition_width(positions, esf)
    points = _line_centroids(region, normal, half_width=max(4.0, 3 * width))
    center, direction, _ = _fit_line(points)
    normal = _oriented_normal(direction, normal)
    # the ESF measured: at least two pixels' worth of bins
    positions, esf, counts, extent = _esf(region, center, normal, oversample, min_bins=max(3, 2 * oversample))
    _check_contrast(esf, noise, exponent)
    if _several_edges(positions, esf, width, oversample):
        raise ValueError("several edges (or a line) in the ROI: draw one ROI across a single edge")
    span = max(HALF_WIDTH_MIN, HALF_WIDTH_FACTOR * width) * TAPERED_SPAN.get(window, 1.0)
    lsf, frequency, mtf, mtf_noise = _edge_mtf(esf, noise**2 / counts, oversample, window, half_width=span)
    angle = _edge_angle(direction)
    notes = _edge_warnings(angle, extent, len(points), width)
    return _finish(EdgeMTFResult, frequency, mtf, mtf_noise, pixel, esf_position=positions,
                   esf=np.ldexp(esf, exponent), lsf=lsf,
                   edge_angle=angle, center=(float(center[0] + row0), float(center[1] + col0)),
                   notes=notes, roi=(row0, col0, row1, col1),
                   parameters={"oversample": int(oversample), "window": window, "path": MTF_PATH})


def _oriented_normal(direction, previous):
    """The normal of ``direction`` on the same side (bright) as ``previous``."""
    normal = np.array([direction[1], -direction[0]])
    return normal if normal @ previous >= 0 else -normal


def _check_contrast(esf, noise: float, exponent: int) -> None:
    """Raise ValueError (no edge in the ROI) unless the ESF rises by :data:`MIN_EDGE_SNR` times the noise.

    The data were divided by ``2**exponent`` (see :func:`_image_2d`): the message shows image units.
    """
    low, high = _plateaus(esf)
    step = high - low
    if step < MIN_EDGE_SNR * max(noise, 1e-12):
        step, noise = np.ldexp([step, noise], exponent)
        raise ValueError(f"no edge found in the ROI: the step ({step:.3g}) is below {MIN_EDGE_SNR}x the noise "
                         f"({noise:.3g})")


def _transition_width(positions, esf) -> float:
    """10-90 % rise distance of the ESF (pixels)."""
    low, high = _plateaus(esf)
    normalised = (esf - low) / (high - low)
    first = positions[np.argmax(normalised > 0.1)]
    last = positions[np.argmax(normalised > 0.9)]
    return float(max(last - first, 1.0))


# ----------------------------------------------------------------------------- point
@in_memory("image")
def mtf_point(image, *, center=None, box: int = 32, pixel_size=1.0):
    """MTF from a point source (bead): radially averaged |FFT2| of its box, normalised at DC.

    A bead z-stack (Z, Y, X) gives the lateral MTF and FWHM of its in-focus
    plane and the axial profile, FWHM and MTF through its centre
    (:class:`BeadStackResult`).

    Parameters
    ----------
    image : array, shape (Y, X) or (Z, Y, X)
        Image or z-stack with an isolated bead (not modified).
    center : (row, col) or (z, row, col), optional
        Approximate bead position; default the brightest spot (after a light blur).
    box : int
        Side of the square box analysed (pixels, >= 8).
    pixel_size : float, or (y, x) / (z, y, x)
        Pixel size (square pixels in the plane; a z-stack's z step may differ).

    Returns
    -------
    PointMTFResult, or BeadStackResult for a z-stack
        With ``psf`` (the background-subtracted box), ``fwhm``, the radial
        profile and the refined ``center``.

    Raises
    ------
    ValueError
        Not a real 2-D array, NaN/Inf or values beyond a quarter of the
        float64 range, centre not (row, col) or outside the image, box too
        small or not fitting in the image, or no bead above the background.
    """
    if getattr(image, "ndim", None) == 3:
        return _bead_stack(image, center, box, pixel_size)
    data, exponent = _image_2d(image, MIN_BOX)
    pixel = _square_pixel(pixel_size)
    if isinstance(box, bool) or not isinstance(box, (int, np.integer)) or box < MIN_BOX:
        raise ValueError(f"box must be an integer >= {MIN_BOX}, got {box!r}")
    if min(data.shape) < box:
        raise ValueError(f"box ({box}) is larger than the image {data.shape}")
    check_allocation(BOX_BYTES * int(box) ** 2, f"box ({box} px, transformed zero-padded to {4 * box} x {4 * box})",
                     "use a smaller box")
    if center is None:
        center = np.unravel_index(np.argmax(ndimage.gaussian_filter(data, 1.0)), data.shape)
    center = _check_center(center, data.shape)
    patch, origin = _box(data, center, box)
    background, noise = _border_statistics(patch)
    signal = patch - background
    if signal.max() < 5 * max(noise, 1e-12):
        raise ValueError("no bead found: the box holds nothing above the background noise")
    refined = _centroid(signal, noise) + origin
    patch, origin = _box(data, refined, box)
    amplitude, sigma = _gaussian_fit(patch - background, refined - origin)
    outer = min(7 * sigma, box / 2)
    window = _soft_disc(patch.shape, refined - origin, inner=outer / 2, outer=outer)
    background, noise = _background(patch, window)
    _check_peak(amplitude, noise, exponent)
    psf = patch - background
    frequency, mtf, mtf_noise = _radial_mtf(psf * window, noise**2, float(np.sum(window**2)))
    fwhm = float(2 * np.sqrt(2 * np.log(2)) * sigma * pixel)
    radius, profile = ring_means(psf, refined - origin, RADIAL_BIN, centred=False, reach=min(psf.shape) / 2)
    return _finish(PointMTFResult, frequency, mtf, mtf_noise, pixel, psf=np.ldexp(psf, exponent), fwhm=fwhm,
                   profile_radius=radius,
                   profile=profile / amplitude, center=(float(refined[0]), float(refined[1])),
                   roi=(int(origin[0]), int(origin[1]), int(origin[0]) + box, int(origin[1]) + box),
                   parameters={"box": int(box), "path": MTF_PATH})


def _check_peak(amplitude: float, noise: float, exponent: int) -> None:
    """Raise ValueError (no bead) unless the fitted Gaussian peaks above the background noise.

    The data were divided by ``2**exponent`` (see :func:`_image_2d`): the message shows image units.
    """
    if amplitude < max(noise, 1e-12):
        amplitude, noise = np.ldexp([amplitude, noise], exponent)
        raise ValueError(f"no bead found: the Gaussian fitted to the box peaks at {amplitude:.3g}, not above the "
                         f"background noise ({noise:.3g})")


def _border_statistics(patch) -> tuple[float, float]:
    """Background level (median) and noise (robust std) of the box's two-pixel border."""
    border = np.ones(patch.shape, bool)
    border[2:-2, 2:-2] = False
    return _robust_level(patch[border])


def _background(patch, window) -> tuple[float, float]:
    """Background level and noise from the pixels outside the window (the border if too few)."""
    outside = patch[window == 0]
    if outside.size < 50:
        return _border_statistics(patch)
    return _robust_level(outside)


def _soft_disc(shape, center, inner: float, outer: float) -> np.ndarray:
    """1 within ``inner`` pixels of ``center``, raised-cosine fall to 0 at ``outer``."""
    rows, cols = np.indices(shape, dtype=float)
    radius = np.hypot(rows - center[0], cols - center[1])
    ramp = np.clip((radius - inner) / max(outer - inner, 1e-9), 0, 1)
    return 0.5 * (1 + np.cos(np.pi * ramp))


def _check_center(center, shape) -> np.ndarray:
    try:
        point = np.array([float(center[0]), float(center[1])])
    except (TypeError, ValueError, IndexError, KeyError):
        raise ValueError(f"center must be (row, col), got {center!r}") from None
    if not (0 <= point[0] < shape[0] and 0 <= point[1] < shape[1]):
        raise ValueError(f"center {tuple(point)} lies outside the image of shape {shape}")
    return point


def _box(data, center, box: int):
    """The ``box`` x ``box`` patch centred on ``center``, shifted to stay inside the image."""
    origin = np.round(np.asarray(center) - box / 2).astype(int)
    origin = np.clip(origin, 0, np.array(data.shape) - box)
    return data[origin[0]:origin[0] + box, origin[1]:origin[1] + box], origin


def _centroid(signal, noise: float = 0.0) -> np.ndarray:
    """Intensity centroid of the values above three times the noise (noise elsewhere would pull it)."""
    weights = np.clip(signal - 3 * noise, 0, None)
    if not weights.any():
        weights = np.clip(signal, 0, None)
    rows, cols = np.indices(signal.shape)
    return np.array([np.sum(weights * rows), np.sum(weights * cols)]) / np.sum(weights)


def _radial_mtf(psf, noise_variance: float, window_power: float, padding: int = 4):
    """Radial RMS of |FFT2| (zero-padded) after subtracting the white-noise power, normalised at DC.

    Parameters
    ----------
    psf : ndarray, shape (box, box)
        Windowed, background-subtracted box.
    noise_variance : float
        Variance of the pixel noise.
    window_power : float
        Sum of the squared window (the noise power per Fourier sample is
        ``noise_variance * window_power``).
    padding : int
        Zero-padding factor (finer frequency sampling).

    Returns
    -------
    frequency, mtf, noise : ndarray, shape (padding * box // 2 + 1,)
        Cycles/pixel up to Nyquist, the MTF, and its noise amplitude: the MTF
        that the shell mean's noise power fluctuation alone gives, ``sqrt(P_n
        / sqrt(n))`` over the DC amplitude, where ``n = max(1, 2 f sqrt(pi
        window_power))`` counts the independent Fourier samples in the shell
        (within 10 % of simulated noise-only boxes).

    Raises
    ------
    ValueError
        When the DC amplitude is not above its noise (no bead to normalise by).
    """
    size = padding * max(psf.shape)
    power = np.abs(np.fft.rfft2(psf, s=(size, size))) ** 2
    grid = FourierGrid((size, size), scale=size)  # radius in Fourier samples: shells one sample wide
    n_shells = size // 2 + 1
    mean_power = radial_profile(grid.radius, power, weights=grid.weights, n_bins=n_shells).means
    noise_power = noise_variance * window_power
    amplitude = np.sqrt(np.clip(mean_power - noise_power, 0, None))
    frequency = np.arange(n_shells) / size
    independent = np.maximum(1.0, 2 * frequency * np.sqrt(np.pi * window_power))
    noise = np.sqrt(noise_power / np.sqrt(independent))
    if amplitude[0] <= noise[0]:
        raise ValueError("no bead found: the box's total signal (its DC term) is not above its noise")
    return frequency, amplitude / amplitude[0], noise / amplitude[0]


def _gaussian_fit(psf, start) -> tuple[float, float]:
    """Peak height and width (pixels) of a symmetric 2-D Gaussian (plus offset) fitted to the PSF box.

    The fit starts at the centre ``start`` (row, col).
    """
    rows, cols = np.indices(psf.shape, dtype=float)

    def residual(params):
        amplitude, row, col, sigma, offset = params
        model = offset + amplitude * np.exp(-((rows - row) ** 2 + (cols - col) ** 2) / (2 * sigma**2))
        return (model - psf).ravel()

    fit = optimize.least_squares(residual, [psf.max(), start[0], start[1], 2.0, 0.0],
                                 bounds=([0, 0, 0, 0.1, -np.inf], [np.inf, psf.shape[0], psf.shape[1], psf.shape[0],
                                                                   np.inf]))
    return float(fit.x[0]), float(abs(fit.x[3]))


# ----------------------------------------------------------------------------------------------- bead z-stacks
#: A bead z-stack needs this many planes (the axial Gaussian fit has four parameters and needs its tails).
MIN_PLANES = 7


@result_dataclass
class BeadStackResult(Result):
    """Lateral and axial resolution of a bead z-stack (Z, Y, X).

    Attributes
    ----------
    lateral : PointMTFResult
        The point MTF of the in-focus plane (the plane of the bead's centre).
    lateral_fwhm : float
        Lateral FWHM (Gaussian fit), ``pixel_size`` units.
    axial_fwhm : float or None
        Axial FWHM (Gaussian fit of the axial profile), ``pixel_size`` units; None when the fit fails.
    axial_position : ndarray, shape (planes,)
        Plane positions relative to the bead centre, ``pixel_size`` units.
    axial_profile : ndarray, shape (planes,)
        Background-subtracted light through a disc around the bead axis, per plane, normalised by the fit's
        peak.
    axial_frequency, axial_mtf : ndarray, shape (planes // 2 + 1,)
        The axial profile's MTF (|FFT|, 1 at DC) against cycles per z step.
    center : tuple of float
        Refined (z, row, col) of the bead, pixels.
    """

    HEADLINE = ("lateral_fwhm", "lateral PSF FWHM")

    lateral: PointMTFResult
    lateral_fwhm: float
    axial_fwhm: float | None
    axial_position: np.ndarray
    axial_profile: np.ndarray
    axial_frequency: np.ndarray
    axial_mtf: np.ndarray
    center: tuple

    @property
    def anisotropy(self) -> float | None:
        """Axial over lateral FWHM (None without an axial FWHM)."""
        return None if self.axial_fwhm is None else self.axial_fwhm / self.lateral_fwhm

    def summary(self, unit: str = "") -> str:
        """``lateral FWHM 0.25 µm · axial FWHM 0.8 µm (3.2x) · lateral MTF50 … · status resolved``."""
        unit = self.unit_of_lengths(unit)
        axial = "axial FWHM n/a" if self.axial_fwhm is None else \
            f"axial FWHM {length(self.axial_fwhm, unit)} ({self.anisotropy:.2g}x lateral)"
        return f"lateral FWHM {length(self.lateral_fwhm, unit)} · {axial} · {self.lateral.summary(unit)}"

    def plots(self, unit: str = "") -> tuple:
        """The lateral MTF, the axial profile with its Gaussian fit, and the axial MTF."""
        axial_mtf = Plot("axial MTF", (Curve("axial MTF", self.axial_frequency, self.axial_mtf),),
                         y_label="MTF", y_range=(0.0, 1.05), pixel_size=self.pixel_size[0], unit=unit)
        return self.mtf_plot(unit), self.profile_plot(unit), axial_mtf

    def mtf_plot(self, unit: str = "") -> Plot:
        """The lateral MTF (of the in-focus plane)."""
        return self.lateral.mtf_plot(unit)

    def profile_plot(self, unit: str = "") -> Plot:
        """The axial profile through the bead with its Gaussian fit."""
        curves = [Curve("axial profile", self.axial_position, self.axial_profile, "points", COLORS["measured"])]
        if self.axial_fwhm is not None:
            fine = np.linspace(self.axial_position[0], self.axial_position[-1], 200)
            sigma = self.axial_fwhm / FWHM_PER_SIGMA
            curves.append(Curve(f"Gaussian fit, FWHM {length(self.axial_fwhm, unit)}", fine,
                                np.exp(-fine**2 / (2 * sigma**2)), "reference", COLORS["threshold"]))
        return Plot("axial profile", tuple(curves), x_label=f"z from the bead centre ({unit or 'pixel_size units'})",
                    y_label="light through the bead axis (normalised)", frequency_axis=False, x_range=None,
                    pixel_size=self.pixel_size[0], unit=unit)

    def columns(self) -> dict:
        """The axial profile: z from the bead centre (``pixel_size`` units) and the normalised light."""
        return {"z": self.axial_position, "axial_profile": self.axial_profile}


#: FWHM of a Gaussian over its standard deviation.
FWHM_PER_SIGMA = 2 * np.sqrt(2 * np.log(2))


def _bead_stack(stack, center, box: int, pixel_size) -> BeadStackResult:
    """:func:`mtf_point` of a bead z-stack: the in-focus plane's point MTF and the axial profile's fit."""
    data, exponent = _stack_3d(stack)
    sizes = normalize_pixel_size(pixel_size, 3)
    if center is None:
        center = np.unravel_index(np.argmax(ndimage.gaussian_filter(data, 1.0)), data.shape)
    plane = _stack_center(center, data.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the stack's result carries the plane's warnings
        lateral = mtf_point(data[plane[0]], center=plane[1:], box=box, pixel_size=sizes[1:])
    position, profile = _axial_profile(data, lateral)
    fit = _axial_fit(position, profile)
    notes = list(lateral.warnings)
    if fit is None:
        notes.append("no Gaussian fits the axial profile (the bead is cut by the stack's ends, or too faint): "
                     "take a stack that spans the bead's whole axial extent")
    amplitude, z0, sigma = fit if fit is not None else (float(profile.max()), float(position[np.argmax(profile)]),
                                                         None)
    frequency, axial_mtf = _axial_mtf(profile)
    issue_warnings(tuple(notes))
    return BeadStackResult(
        lateral=lateral, lateral_fwhm=lateral.fwhm,
        axial_fwhm=None if sigma is None else float(FWHM_PER_SIGMA * sigma * sizes[0]),
        axial_position=(position - z0) * sizes[0], axial_profile=np.ldexp(profile, exponent) /
        np.ldexp(amplitude, exponent), axial_frequency=frequency, axial_mtf=axial_mtf,
        center=(float(z0), *lateral.center), status=lateral.status, pixel_size=tuple(float(s) for s in sizes),
        warnings=tuple(notes), parameters={"box": int(box), "path": MTF_PATH, "planes": int(data.shape[0])},
    )


def _stack_3d(stack) -> tuple[np.ndarray, int]:
    """A bead z-stack as float64 divided by ``2**exponent``, and ``exponent`` (see :func:`_image_2d`);
    ValueError naming ``image`` for too few planes, small planes, a non-real dtype or NaN/Inf."""
    if stack.shape[0] < MIN_PLANES or min(stack.shape[1:]) < MIN_BOX:
        raise ValueError(f"image must have at least {MIN_PLANES} planes of at least {MIN_BOX} x {MIN_BOX} pixels "
                         f"for a bead's axial profile, got shape {stack.shape}")
    check_image(stack, "image", ndims=(3,), min_size=1)
    values = to_host(stack).astype(np.float64)
    exponent = int(np.frexp(max(float(np.max(np.abs(values))), 1e-300))[1])
    return np.ldexp(values, -exponent), exponent


def _stack_center(center, shape) -> tuple[int, float, float]:
    """The bead's approximate (plane, row, col) in a stack of ``shape``; ValueError naming ``center``."""
    try:
        point = [float(value) for value in center]
    except (TypeError, ValueError):
        point = []
    if len(point) != 3:
        raise ValueError(f"center must be (z, row, col) for a z-stack, got {center!r}")
    if not all(0 <= p < n for p, n in zip(point, shape)):
        raise ValueError(f"center {tuple(point)} lies outside the stack of shape {shape}")
    return int(round(point[0])), point[1], point[2]


def _axial_profile(data, lateral: PointMTFResult) -> tuple[np.ndarray, np.ndarray]:
    """Plane indices and the background-subtracted light through a disc of 1.5 lateral FWHM around the bead's
    axis, each plane's background from the box's border (median)."""
    row0, col0, row1, col1 = lateral.roi
    boxes = data[:, row0:row1, col0:col1]
    rows, cols = np.indices(boxes.shape[1:], dtype=float)
    radius = max(2.0, 1.5 * lateral.fwhm / lateral.pixel_size[-1])
    disc = np.hypot(rows - (lateral.center[0] - row0), cols - (lateral.center[1] - col0)) <= radius
    border = np.ones(boxes.shape[1:], bool)
    border[2:-2, 2:-2] = False
    background = np.median(boxes[:, border], axis=1)
    profile = (boxes[:, disc] - background[:, None]).sum(axis=1)
    return np.arange(data.shape[0], dtype=float), profile


def _axial_fit(position, profile) -> tuple[float, float, float] | None:
    """(amplitude, centre, sigma) of a Gaussian plus offset fitted to the axial profile (planes), or None when
    the fit fails or its centre or width leaves the stack."""
    peak = int(np.argmax(profile))

    def residual(params):
        amplitude, centre, sigma, offset = params
        return offset + amplitude * np.exp(-(position - centre) ** 2 / (2 * sigma**2)) - profile

    start = [float(profile[peak]), float(position[peak]), 2.0, 0.0]
    fit = optimize.least_squares(residual, start, x_scale="jac")
    amplitude, centre, sigma = fit.x[0], fit.x[1], abs(fit.x[2])
    inside = position[0] + sigma <= centre <= position[-1] - sigma and sigma < (position[-1] - position[0]) / 2
    return (float(amplitude), float(centre), float(sigma)) if fit.success and amplitude > 0 and inside else None


def _axial_mtf(profile) -> tuple[np.ndarray, np.ndarray]:
    """|FFT| of the axial profile (a Tukey taper over the outer eighth at each end, against the cut at the stack's
    ends), 1 at DC, against cycles per z step."""
    window = tukey_window(profile.size, max(1, profile.size // 8))
    spectrum = np.abs(np.fft.rfft(profile * window))
    return np.fft.rfftfreq(profile.size), spectrum / max(spectrum[0], 1e-300)
