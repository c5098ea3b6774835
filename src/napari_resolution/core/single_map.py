"""Local resolution of one map: a calibrated test of local band power against noise, band by band.

For every band (a raised-cosine shell in frequency, coarse to fine) the map
is band-passed and its local power (the squared band-passed map averaged in
a Gaussian window whose width scales with the band's period) is compared at
every voxel with the distribution of the same statistic on noise alone:

* ``"difference"`` (with ``half2``): the statistic of the half-map difference
  ``(half1 - half2) / 2``, which holds the noise of the average
  ``(half1 + half2) / 2`` and no signal; its empirical upper quantile;
* ``"corners"``, ``"outside-mask"`` or a number: the noise power spectrum
  (from the corners, from outside the mask, or white with that standard
  deviation), through which the statistic's mean and variance follow
  exactly (the band-pass correlation included); its upper quantile is that
  of a gamma distribution with the same mean and variance (Satterthwaite).

A voxel's resolution is read by a fixed-sequence test from coarse to fine: it
is significant as long as every band so far exceeds its noise quantile, and
its resolution is where the first failing band's power ratio crosses 1
(interpolated between the last passing and the first failing band). Each
voxel's chance of a claim on noise alone is therefore the significance
level (family-wise over the bands; there is no correction across voxels).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy import ndimage, stats

from .backend import check_allocation, get_namespace, in_memory, irfftn, resolve_device, rfftn, to_host
from .figures import COLORS, FREQUENCY_LABEL, Curve, Plot, resolution_marker
from .frequency import FourierGrid, edges_wrap, normalize_pixel_size, tukey_window
from .local.maps import LocalResolutionResult, map_statistics
from .progress import progress_of
from .results import STATUSES, Result, issue_warnings, resolution_summary, result_dataclass
from .spectral import compute_path, radial_profile
from .validation import (
    check_image,
    check_mask,
    check_number,
    check_same_shape,
    is_number,
    renamed_keywords,
    shown,
    working_dtype,
)

__all__ = ["NOISE_SOURCES", "SignificanceCurve", "SingleMapResult", "default_resolutions", "local_resolution"]

NOISE_SOURCES = ("auto", "corners", "outside-mask", "difference")
#: Default bands: this many, evenly spaced in log-frequency from the coarse limit to Nyquist.
DEFAULT_BANDS = 20
#: Each band falls to 0 this many octaves either side of its centre.
BAND_HALF_WIDTH = 0.5
#: The coarsest default band has a period of the smallest extent divided by this; with the noise from the
#: corners, by CORNER_DIVISOR (a corner must hold a few periods of it for its noise spectrum to be measured).
COARSE_DIVISOR = 8
CORNER_DIVISOR = 16
#: Default window: Gaussian standard deviation in periods of the band.
WINDOW_PERIODS = 0.3
#: Narrowest window (periods) other than none: a hundredth of a period averages nothing at any band.
MIN_WINDOW = 0.01
#: Edge taper (raised cosine) per side: this many periods of the coarsest band (at least 8 px, at most a quarter
#: of the axis). Narrower tapers leak the strong low frequencies of coloured noise into the coarse bands.
TAPER_PERIODS = 2
#: Near the edges the local power is divided by the window's taper coverage, at least this (beyond: conservative),
#: and its deviation from the noise mean by the square root of the variance ratio, never below 1 (where the
#: coverage is clamped the ratio comes out small: dividing by it would blow the deviation up).
MIN_COVERAGE = 0.1
#: The noise model of a band is computed on a periodic grid of this many of its periods (at most the map).
NULL_PERIODS = 16
#: Thresholds are raised by this many standard deviations of the scatter of the fraction of noise voxels above them.
GLOBAL_Z = 1.645
#: Corner regions for the noise spectrum: side of each, a fraction of the axis (at least 8 px).
CORNER_FRACTION = 1 / 4
#: Background needed for a noise spectrum: this fraction of the voxels, and at least MIN_BACKGROUND voxels.
MIN_BACKGROUND_FRACTION = 0.02
MIN_BACKGROUND = 512
#: Voxels of the noise statistic used for an empirical quantile (a regular subsample beyond).
QUANTILE_SAMPLES = 2**20
#: Corners whose noise powers differ by more than this factor get a warning (one may hold signal).
CORNER_SPREAD = 2.0
#: Words (of the working precision) per voxel of the map the test holds at once (measured 24 to 30).
MAP_WORDS = 32
#: A white noise level (``noise`` a number) must lie within these multiples of the map's peak magnitude.
NOISE_RANGE = (1e-6, 1e6)
#: Full width at half maximum of a Gaussian, in standard deviations.
FWHM_PER_SIGMA = 2 * math.sqrt(2 * math.log(2))


@result_dataclass
class SignificanceCurve(Result):
    """Local band power against its noise threshold at one point (:meth:`SingleMapResult.curve_at`).

    Attributes
    ----------
    frequency : ndarray, shape (n_bands,)
        Band centres, cycles per reference pixel.
    power : ndarray, shape (n_bands,)
        Local band power divided by the noise's mean power in the band.
    threshold : ndarray, shape (n_bands,)
        The noise quantile at the significance level, in the same units.
    crossing : float or None
        Frequency where ``power / threshold`` falls to 1 (cycles per reference pixel).
    resolution : float or None
        Full period at the crossing (the finest band's for "bound"), ``pixel_size`` units.
    criterion : str
    reference_pixel_size : float
    position : tuple of int
        The voxel (pixel indices).
    """

    frequency: np.ndarray
    power: np.ndarray
    threshold: np.ndarray
    crossing: float | None
    resolution: float | None
    criterion: str
    reference_pixel_size: float
    position: tuple

    def summary(self, unit: str = "") -> str:
        """The resolution read at this point, e.g. ``4.1 Å (p < 0.05, full period) · … · status resolved``."""
        return resolution_summary(self.resolution, self.status, self.criterion, self.unit_of_lengths(unit),
                                  curve="local band power")

    def columns(self) -> dict:
        """Band power and its noise threshold per band centre (cycles/pixel)."""
        return {"frequency_cycles_per_pixel": self.frequency, "power": self.power, "threshold": self.threshold}

    def plots(self, unit: str = "") -> tuple:
        """Local band power and its noise threshold against frequency (log scale), the crossing marked."""
        marker = resolution_marker(self.crossing, self.resolution, self.status, unit)
        if self.status == "bound":
            marker = resolution_marker(self.frequency[-1], self.resolution, "resolved", unit)
        curves = (Curve("local band power / noise power", self.frequency, self.power),
                  Curve(f"noise threshold ({self.criterion})", self.frequency, self.threshold, "threshold",
                        COLORS["threshold"]))
        return (Plot("local band power", curves, marker, x_label=FREQUENCY_LABEL,
                     y_label="local power / noise power", log_y=True, pixel_size=self.reference_pixel_size,
                     unit=unit),)


@result_dataclass
class SingleMapResult(LocalResolutionResult):
    """A local-resolution map of one map by a per-voxel significance test (:func:`local_resolution`).

    The fields are those of :class:`~.local.maps.LocalResolutionResult`, read for this method:

    * ``centres``: the voxels (every ``step`` pixels) whose band curves are kept
      for :meth:`curve_at`; ``values`` and ``statuses``: the map there;
    * ``box``: the window's full width at half maximum at the finest band, reference pixels;
    * ``frequency``: the band centres (cycles per reference pixel);
      ``threshold``: each band's noise threshold over the noise's mean power;
    * ``sums``: shape (n_points, n_bands), each kept voxel's local band power
      over the noise's mean power;
    * bands finer than where every voxel failed are not computed: NaN in
      ``threshold`` and ``sums``;
    * ``criterion``: ``"p < significance"``; ``global_result``: None.
    """

    def window_at(self, index: int) -> tuple:
        """Full width at half maximum of the window at the band where kept voxel ``index`` was decided, in pixels
        of each axis."""
        reference = self.parameters["reference_pixel"]
        decided = self.values[index]
        frequency = self.frequency[0] if not np.isfinite(decided) else reference / decided
        width = FWHM_PER_SIGMA * self.parameters["window"] / frequency  # reference pixels
        return tuple(max(1, int(round(width * reference / p))) for p in self.pixel_size)

    def curve_at(self, position) -> SignificanceCurve:
        """Band power against the noise threshold at the kept voxel nearest ``position``."""
        index = self.box_index(position)
        power = self.sums[index].astype(np.float64)
        crossing, status = _read_curve(power / self.threshold, self.frequency)
        reference = self.parameters["reference_pixel"]
        resolution = None if status == "unresolved" else reference / crossing
        return SignificanceCurve(
            frequency=self.frequency, power=power, threshold=self.threshold,
            crossing=crossing if status == "resolved" else None, resolution=resolution, criterion=self.criterion,
            reference_pixel_size=reference, position=tuple(int(c) for c in self.centres[index]), status=status,
            pixel_size=self.pixel_size, parameters={"method": "single-map", "path": self.parameters["path"]})

    def described(self) -> str:
        """``20 bands, noise from corners`` (or ``white noise of std 0.5``): what the map was computed from."""
        source = self.parameters["noise_source"]
        noise = f"white noise of std {self.parameters['noise']:.3g}" if source == "white" else f"noise from {source}"
        return f"{len(self.frequency)} bands, {noise}"


def default_resolutions(shape, pixel_size=1.0, n_bands: int = DEFAULT_BANDS,
                        divisor: float = COARSE_DIVISOR) -> np.ndarray:
    """Band periods (``pixel_size`` units, coarse to fine): ``n_bands`` evenly spaced in log-frequency.

    From a period of the smallest extent / ``divisor`` to Nyquist (2
    reference pixels). :func:`local_resolution` uses :data:`CORNER_DIVISOR`
    when the noise comes from the corners.
    """
    sizes = normalize_pixel_size(pixel_size, len(shape))
    reference = max(sizes)
    coarsest = min(n * p for n, p in zip(shape, sizes)) / divisor
    frequencies = np.geomspace(reference / coarsest, 0.5, n_bands)
    return reference / frequencies


@renamed_keywords(volume="half1")
@in_memory("half1", "half2", "mask")
def local_resolution(half1, *, pixel_size=1.0, mask=None, noise="auto", half2=None, significance: float = 0.05,
                     resolutions=None, window=None, device=None, progress=None) -> SingleMapResult:
    """Local resolution of one map (3-D) or image (2-D) by a calibrated per-voxel test of local band power.

    Parameters
    ----------
    half1 : array, shape (Y, X) or (Z, Y, X)
        The map (numpy or cupy). With ``half2``, the first half-map: the map
        tested is then the average of the halves. Not modified. (``volume``,
        its old name, still works for one release.)
    pixel_size : float or sequence of float
        Pixel size, one value or one per axis.
    mask : array, optional
        Weights in [0, 1], the map's shape: the map is NaN outside (<= 0.5).
    noise : {"auto", "corners", "outside-mask", "difference"} or float
        Where the noise distribution comes from: the half-map difference
        (needs ``half2``), the corners of the map (background there), the
        voxels outside ``mask``, or white noise of this standard deviation
        (of the map tested). "auto": the difference with ``half2``, else
        outside the mask with ``mask``, else the corners.
    half2 : array, optional
        The second half-map, ``half1``'s shape.
    significance : float
        Chance, per voxel, of claiming a resolution on noise alone, in (0, 1).
    resolutions : sequence of float, optional
        Band periods (full period, ``pixel_size`` units), at least 2, each at
        least 2 reference pixels (Nyquist); sorted coarse to fine. Default:
        :func:`default_resolutions` (20 bands from an eighth of the smallest
        extent, a sixteenth with the noise from the corners, to Nyquist).
    window : float, optional
        Gaussian window's standard deviation, in periods of each band
        (default 0.3; 0: none; else at least 0.01 and no wider than the map at the
        coarsest band): larger windows detect weaker signal (1 reads about
        where the local FSC crosses 0.143, 0.3 nearer 0.5) but blur the map.
    device : {None, "cpu", "gpu"}
        Where to compute.
    progress : callable, optional
        Called with the fraction done; raising in it cancels.

    Returns
    -------
    SingleMapResult
        The map (full period, ``pixel_size`` units; NaN outside the mask and
        where not even the coarsest band is significant), its statistics, and
        band curves on a grid of voxels.

    Raises
    ------
    ValueError
        Not 2-D/3-D, NaN/Inf, shapes that differ, a significance outside
        (0, 1), a mask of another shape, an unknown noise source, no
        background to estimate the noise from, bad resolutions or window.
    """
    shape = _check_inputs(half1, half2, mask, significance)
    report = progress_of(progress)
    sizes = normalize_pixel_size(pixel_size, len(shape))
    reference = max(sizes)
    source = _noise_source(noise, half2, mask)
    frequencies = _band_frequencies(resolutions, shape, sizes, CORNER_DIVISOR if source == "corners" else
                                    COARSE_DIVISOR)
    window = WINDOW_PERIODS if window is None else _check_window(window, frequencies[0], shape, sizes)
    xp = resolve_device(device, half1, half2, mask)
    dtype = np.result_type(working_dtype(half1.dtype), working_dtype(half2.dtype if half2 is not None else
                                                                       half1.dtype))
    _check_memory(shape, sizes, frequencies, window, dtype)
    inside = None if mask is None else to_host(mask) > 0.5
    tested, difference, level = _normalised(*_tested_and_difference(half1, half2, xp, dtype), noise)
    halves = (tested, tested) if difference is None else (tested + difference, tested - difference)
    taper = _Taper(shape, sizes, 1 / frequencies[0], edges_wrap(*halves, xp), xp, dtype)
    grids = {}
    bands = [_BandGrid(shape, sizes, frequency, window, xp, dtype, grids) for frequency in frequencies]
    notes = []
    null = _null_model(source, level, tested, difference, taper, inside, bands, sizes, frequencies, window,
                       significance, xp, notes)
    step = _curve_step(shape, len(frequencies))
    points = _kept_points(shape, step, inside)
    crossing, kept = _sequential_test(rfftn(_tapered(tested, taper)), bands, frequencies, window, null, taper, points,
                                      inside, report)
    local_map = _as_resolution(crossing, reference, inside, dtype)
    values = local_map[tuple(points.T)]
    statuses = _point_statuses(crossing[tuple(points.T)], frequencies[-1])
    issue_warnings(notes)
    return SingleMapResult(
        map=local_map, centres=points, values=values, statuses=statuses,
        box=max(1, int(round(FWHM_PER_SIGMA * window / frequencies[-1]))), step=step,  # reference pixels
        frequency=frequencies, threshold=null.thresholds / null.means, criterion=f"p < {significance:g}",
        sums=kept, statistics=map_statistics(local_map), global_result=None,
        status=_map_status(crossing, inside, frequencies[-1]),
        pixel_size=sizes, warnings=tuple(notes),
        parameters={"method": "single-map", "noise_source": source, "noise": noise if is_number(noise) else source,
                    "significance": significance, "window": window, "resolutions": (reference / frequencies).tolist(),
                    "reference_pixel": reference, "tapered_axes": tuple(not w for w in taper.wraps), "shape": shape,
                    "masked": mask is not None, "half2": half2 is not None, "path": compute_path(xp)},
    )


# ------------------------------------------------------------------------------------------------ checks
def _check_inputs(half1, half2, mask, significance) -> tuple:
    """The map's shape; ValueError naming what is wrong."""
    check_image(half1, "half1")
    if half2 is not None:
        check_image(half2, "half2")
        check_same_shape(half1, half2, ("half1", "half2"))
    if mask is not None:
        check_mask(mask, half1.shape)
        if not bool((mask > 0.5).any()):
            raise ValueError("mask has no voxel above 0.5: nothing to map")
    if half2 is not None and bool((get_namespace(half1, half2).asarray(half1) == half2).all()):
        raise ValueError("half2 equals half1: the half-map difference holds no noise to test against")
    if not is_number(significance) or not 0 < significance < 1:
        raise ValueError(f"significance must be a number in (0, 1), got {shown(significance)}")
    return tuple(int(n) for n in half1.shape)


def _check_window(window, coarsest: float, shape, sizes) -> float:
    """``window`` (periods): 0, or from :data:`MIN_WINDOW` to as wide as the map at the ``coarsest`` band."""
    window = check_number(window, "window", 0.0)
    widest = coarsest * max(n * p for n, p in zip(shape, sizes)) / max(sizes)  # the map's extent, in periods
    if window != 0 and not MIN_WINDOW <= window <= widest:
        raise ValueError(f"window must be 0 (none) or from {MIN_WINDOW:g} to {widest:.3g} periods (wider, it spans "
                         f"more than the map at the coarsest band), got {window:g}")
    return window


def _noise_source(noise, half2, mask) -> str:
    """The noise source ``noise`` stands for ("white" for a number); ValueError when it cannot be used."""
    if is_number(noise):
        check_number(noise, "noise", 0.0, above=True)
        return "white"
    if not isinstance(noise, str) or noise not in NOISE_SOURCES:
        raise ValueError(f"noise must be one of {', '.join(NOISE_SOURCES)} or a standard deviation, "
                         f"got {shown(noise)}")
    if noise == "auto":
        return "difference" if half2 is not None else "outside-mask" if mask is not None else "corners"
    if noise == "difference" and half2 is None:
        raise ValueError("noise 'difference' needs half2 (the second half-map)")
    if noise == "outside-mask" and mask is None:
        raise ValueError("noise 'outside-mask' needs a mask")
    return noise


def _band_frequencies(resolutions, shape, sizes, divisor: float) -> np.ndarray:
    """Band centres in cycles per reference pixel, coarse to fine (ascending); ValueError for bad periods."""
    reference = max(sizes)
    if resolutions is None:
        frequencies = reference / default_resolutions(shape, sizes, divisor=divisor)
        if frequencies[0] > 0.5 / 2**BAND_HALF_WIDTH:
            raise ValueError(f"half1 is too small ({shown(shape)}) for the default bands (the coarsest would be "
                             f"finer than {2**BAND_HALF_WIDTH * 2:.3g} reference pixels): give resolutions, or a mask "
                             "or a noise level instead of the corners")
        return frequencies
    try:
        periods = np.asarray(resolutions, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ValueError(f"resolutions must be a sequence of numbers, got {shown(resolutions)}") from None
    largest = max(n * p for n, p in zip(shape, sizes))
    if periods.size < 2 or not np.all(np.isfinite(periods)) or np.unique(periods).size != periods.size:
        raise ValueError(f"resolutions must hold at least 2 distinct finite periods, got {shown(resolutions)}")
    most = max(DEFAULT_BANDS, math.ceil(largest / (2 * reference)))
    if periods.size > most:
        raise ValueError(f"resolutions must hold at most {most} periods for a map of {shown(tuple(shape))} (one band "
                         f"per Fourier shell from DC to Nyquist: closer bands measure the same frequencies), got "
                         f"{periods.size}")
    if periods.min() < 2 * reference * (1 - 1e-9) or periods.max() > largest:
        raise ValueError(f"resolutions must lie between Nyquist ({2 * reference:g}) and the largest extent "
                         f"({largest:g}), got {shown(resolutions)}")
    return np.sort(reference / periods)


# ------------------------------------------------------------------------------------------------ arrays
def _tested_and_difference(volume, half2, xp, dtype):
    """The map tested (the halves' average with ``half2``) and the half difference (None without ``half2``)."""
    first = xp.asarray(volume).astype(dtype, copy=False)
    if half2 is None:
        return first, None
    second = xp.asarray(half2).astype(dtype, copy=False)
    return (first + second) * dtype.type(0.5), (first - second) * dtype.type(0.5)


def _normalised(tested, difference, noise):
    """The map, the half difference (or None) and a white noise level (or the source's name), divided by the
    power of two that brings the map's peak magnitude near 1: the test does not depend on the scale, and the
    noise model's squares and fourth powers then stay within float32.

    Raises
    ------
    ValueError
        A noise level outside :data:`NOISE_RANGE` times the map's peak: the test would be decided by it alone.
    """
    xp = get_namespace(tested)
    exponent = int(np.frexp(max(float(tested.max()), -float(tested.min())))[1])
    tested, difference = (None if part is None else xp.ldexp(part, -exponent).astype(part.dtype, copy=False)
                          for part in (tested, difference))
    if not is_number(noise):
        return tested, difference, noise
    level = math.ldexp(float(noise), -exponent)
    if not NOISE_RANGE[0] <= level <= NOISE_RANGE[1]:
        raise ValueError(f"noise ({noise:g}) must lie within {NOISE_RANGE[0]:g} to {NOISE_RANGE[1]:g} times the "
                         f"map's peak magnitude ({math.ldexp(1.0, exponent):g}, a power of two): beyond, the noise "
                         "level alone decides the test")
    return tested, difference, level


class _Taper:
    """Separable raised-cosine edge taper, :data:`TAPER_PERIODS` wide, on the axes whose edges do not wrap.

    Real data does not continue across its opposite edges; a periodic map (a
    simulation, a box whose faces are flat solvent) does and needs no taper
    (:func:`~.frequency.edges_wrap` decides per axis). ``coarsest_period`` is
    in reference pixels; an axis of pixel ``p`` counts ``reference / p`` of
    its own pixels per reference pixel. ``lines``: the 1-D taper of each axis;
    ``full``: their product on the device.
    """

    def __init__(self, shape, sizes, coarsest_period: float, wraps, xp, dtype):
        self.scales = [max(sizes) / p for p in sizes]  # axis pixels per reference pixel
        widths = [max(8, math.ceil(TAPER_PERIODS * coarsest_period * scale)) for scale in self.scales]
        self.lines = [np.ones(n) if wrap else tukey_window(n, min(width, n // 4))
                      for n, width, wrap in zip(shape, widths, wraps)]
        self.wraps = tuple(wraps)
        self.xp, self.dtype = xp, dtype
        self.full = xp.asarray(_outer(self.lines).astype(dtype))

    def correction(self, frequency: float, window: float):
        """How the taper changes the local power's mean and spread, for the window of ``frequency``.

        The window ``g`` weighs the squared taper ``t^2``: the local power of
        stationary noise has mean ``coverage = g * t^2`` (relative to the
        untapered map) and a variance larger by ``rho = (g^2 * t^4) / coverage^2
        / sum g^2`` (fewer independent samples near the edges). Both are
        separable: products of 1-D periodic convolutions. None, None when no
        axis is tapered.

        Returns
        -------
        coverage, root_rho : arrays broadcastable to the map, or None
            ``coverage`` at least :data:`MIN_COVERAGE`, and ``sqrt(rho)`` at
            least 1 (where the coverage is clamped the local power reads low:
            conservative, not blown up).
        """
        if all(self.wraps):
            return None, None
        covered, spread = [], []
        for line, scale in zip(self.lines, self.scales):
            sigma = window / frequency * scale  # the window's standard deviation in this axis's pixels
            kernel = np.fft.irfft(np.exp(-2 * np.pi**2 * sigma**2 * np.fft.rfftfreq(line.size) ** 2), n=line.size)
            kernel[np.abs(kernel) < 1e-12] = 0.0
            cover = np.maximum(_periodic_convolution(kernel, line**2), MIN_COVERAGE ** (1 / len(self.lines)))
            covered.append(cover)
            root = np.sqrt(_periodic_convolution(kernel**2, line**4) / (cover**2 * (kernel**2).sum()))
            spread.append(np.maximum(root, 1.0))
        return (self.xp.asarray(_outer(covered, sparse=True, dtype=self.dtype)),
                self.xp.asarray(_outer(spread, sparse=True, dtype=self.dtype)))


def _outer(lines, sparse: bool = False, dtype=np.float64):
    """The separable product of 1-D ``lines`` (one per axis): dense, or broadcastable factors multiplied lazily."""
    product = 1.0
    for axis, line in enumerate(lines):
        product = product * line.reshape([-1 if a == axis else 1 for a in range(len(lines))])
    return np.asarray(product, dtype=dtype) if not sparse else product.astype(dtype)


def _periodic_convolution(kernel, line) -> np.ndarray:
    """Periodic convolution of two 1-D arrays of one length."""
    return np.fft.irfft(np.fft.rfft(kernel) * np.fft.rfft(line), n=line.size)


def _tapered(image, taper: _Taper):
    """``(image - mean) * taper``."""
    return (image - image.mean()) * taper.full


# ------------------------------------------------------------------------------------------------ grids
class _BandGrid:
    """Where band ``frequency`` is computed: the map's spectrum cropped to what the band and its window need.

    The band-passed map, its Riesz transforms and its windowed square hold no
    frequency above ``reach * frequency`` that survives the window (see
    :func:`_reach`): they are computed on a grid of the map's extent with a
    Nyquist frequency just above it, and the local power is brought back to
    the map's grid by zero-padding its spectrum (exact for what the window
    leaves). Without a window the full grid is used.
    """

    def __init__(self, shape, sizes, frequency: float, window: float, xp, dtype, grids: dict):
        reference = max(sizes)
        self.shape = _band_shape(shape, sizes, frequency, window)
        self.full = self.shape == tuple(shape)
        spacing = tuple(p * n / m for p, n, m in zip(sizes, shape, self.shape))
        if self.shape not in grids:  # bands on the full grid share it
            grids[self.shape] = FourierGrid(self.shape, spacing, reference, xp, dtype)
        self.grid = grids[self.shape]
        self.index = None if self.full else np.ix_(*[_kept_frequencies(n, m, last=axis == len(shape) - 1)
                                                     for axis, (n, m) in enumerate(zip(shape, self.shape))])
        self.scale = self.grid.size / math.prod(shape)

    def crop(self, spectrum):
        """The map's rfft ``spectrum`` restricted to this grid's frequencies."""
        return spectrum if self.full else spectrum[self.index]

    def embed(self, spectrum, shape):
        """This grid's rfft ``spectrum`` placed in a zero spectrum of the map's ``shape`` (Fourier interpolation)."""
        if self.full:
            return spectrum
        xp = get_namespace(spectrum)
        padded = xp.zeros((*shape[:-1], shape[-1] // 2 + 1), dtype=spectrum.dtype)
        padded[self.index] = spectrum
        return padded


def _band_shape(shape, sizes, frequency: float, window: float) -> tuple:
    """The shape of the grid where band ``frequency`` is computed (:class:`_BandGrid`): the map's, or smaller."""
    reference = max(sizes)
    nyquist = _reach(window) * frequency  # cycles per reference pixel
    return tuple(n if window == 0 else min(n, 2 * math.ceil(nyquist * (p / reference) * n))
                 for n, p in zip(shape, sizes))


def _check_memory(shape, sizes, frequencies, window: float, dtype) -> None:
    """ValueError naming half1 when the test would not fit in the memory available.

    It holds :data:`MAP_WORDS` words per voxel of the map, and the Fourier grid of every band grid
    (:func:`_band_shape`; its radii, squared and inverse: three words per half-spectrum sample).
    """
    grids = {_band_shape(shape, sizes, frequency, window) for frequency in frequencies}
    samples = sum(math.prod(grid[:-1]) * (grid[-1] // 2 + 1) for grid in grids)
    check_allocation(np.dtype(dtype).itemsize * (MAP_WORDS * math.prod(shape) + 3 * samples),
                     f"half1 ({shown(tuple(shape))} voxels, {len(frequencies)} bands on {len(grids)} grids)",
                     "crop or bin the map, or give fewer resolutions")


def _reach(window: float) -> float:
    """Nyquist frequency of a band's grid, in units of the band's frequency.

    The band reaches ``2^BAND_HALF_WIDTH`` times its frequency; its square
    twice that, which a grid of Nyquist ``q`` folds back to at least
    ``2 q - 2 * 2^BAND_HALF_WIDTH``; the window keeps no more than 1e-4 of
    anything above ``0.68 / window`` (times the band frequency), so the fold
    must land beyond that.
    """
    top = 2.0**BAND_HALF_WIDTH
    return top + 0.5 * math.sqrt(math.log(1e4) / (2 * math.pi**2)) / window if window > 0 else math.inf


def _kept_frequencies(n: int, m: int, last: bool) -> np.ndarray:
    """Indices of an n-point FFT axis (rfft-halved when ``last``) holding the frequencies of an m-point one.

    ``m`` is even and below ``n``, or ``n`` itself (the axis kept whole, any parity).
    """
    if m >= n:
        return np.arange(n if not last else n // 2 + 1)
    if last:
        return np.arange(m // 2 + 1)
    return np.concatenate([np.arange(m // 2), np.arange(n - m // 2, n)])


def _band_filter(radius, frequency: float):
    """Band at ``frequency``: a raised cosine in log-frequency, 1 at ``frequency``, 0 half an octave either side.

    Its width is a fixed fraction of its frequency, so its kernel spans about
    three periods at every band (the analysis stays local at every scale).
    """
    xp = get_namespace(radius)
    dtype = radius.dtype.type
    octaves = xp.log2(xp.maximum(radius, dtype(1e-12)) * dtype(1 / frequency))
    phase = xp.clip(octaves * dtype(1 / BAND_HALF_WIDTH), -1, 1)
    return xp.cos(dtype(np.pi / 2) * phase) ** 2


def _window_transfer(radius, frequency: float, window: float):
    """Transfer function of a unit-sum Gaussian window of ``window`` periods of ``frequency`` (standard deviation)."""
    sigma = window / frequency
    return get_namespace(radius).exp(radius.dtype.type(-2 * np.pi**2 * sigma**2) * radius * radius)


def _monogenic_power(band_spectrum, grid: FourierGrid, scale: float):
    """Squared band-passed map plus its squared Riesz transforms (the monogenic amplitude squared), every sample.

    ``band_spectrum`` is the band-passed rfft spectrum on ``grid``; ``scale``
    converts this grid's inverse transform to the map's amplitudes.
    """
    real_dtype = grid.radius.dtype.type
    power = irfftn(band_spectrum, grid.shape) ** 2
    directional = band_spectrum * grid.inverse_radius
    for component in grid.components:
        power += irfftn(directional * (-1j * component), grid.shape) ** 2
    power *= real_dtype(scale**2)
    return power


def _local_power(spectrum, band: _BandGrid, frequency: float, window: float, taper: _Taper, mean=None):
    """The local monogenic power of one band at every voxel, standardised for the edge taper.

    The band-passed map's monogenic power is averaged in the window; near
    tapered edges it is divided by the taper's coverage (so that noise has
    the same mean ``mean`` everywhere) and its deviation from ``mean`` by
    ``sqrt(rho)`` (so that it has the interior's spread everywhere): it is
    then read against one threshold without being liberal at the edges.

    Returns
    -------
    power : real array, the map's shape
    mean : float
        ``mean``, or (None given) the mean of the local power.
    """
    shape = taper.full.shape
    grid = band.grid
    power = _monogenic_power(band.crop(spectrum) * _band_filter(grid.radius, frequency), grid, band.scale)
    if window > 0:
        smoothed = rfftn(power) * _window_transfer(grid.radius, frequency, window)
        power = irfftn(band.embed(smoothed, shape), shape)
        if not band.full:
            power *= power.dtype.type(1 / band.scale)
    coverage, root_rho = taper.correction(frequency, window)
    if coverage is not None:
        power /= coverage
    mean = float(power.mean(dtype=np.float64)) if mean is None else mean
    if root_rho is not None:
        level = power.dtype.type(mean)
        power -= level
        power /= root_rho
        power += level
    return power, mean


# ------------------------------------------------------------------------------------------------ noise
class _NoiseModel:
    """Per band, computed when first asked for: the noise's mean local power and the band's threshold.

    ``statistics(k)`` (a callable) gives band ``k``'s noise mean, upper
    quantile and per-voxel variance; ``spread`` the relative standard
    deviation of the whole map's noise level per band; ``samples`` the
    estimate's effective voxels over the map's (inf for a known level). See
    :func:`_null_model`.
    """

    def __init__(self, statistics, spread, samples: float, significance: float, empirical: bool):
        self._statistics, self._spread, self._samples = statistics, spread, samples
        self._significance, self._empirical = significance, empirical
        self.means = np.full(len(spread), np.nan)
        self.thresholds = np.full(len(spread), np.nan)

    def band(self, k: int) -> tuple[float, float]:
        """Band ``k``'s noise mean power and threshold."""
        if np.isnan(self.means[k]):
            mean, quantile, variance = self._statistics(k)
            level = (self._spread[k] * mean) ** 2  # the whole map's noise level: its variance
            windows = variance / level  # independent windows in the map
            density = stats.gamma.pdf(quantile, mean**2 / variance, scale=variance / mean)
            scatter = self._significance * (1 - self._significance) / windows / density**2
            margin = math.sqrt(level * (1 + 1 / self._samples) + scatter * (2 if self._empirical else 1))
            self.means[k], self.thresholds[k] = mean, quantile + GLOBAL_Z * margin
        return self.means[k], self.thresholds[k]


def _null_model(source, noise, tested, difference, taper, inside, bands, sizes, frequencies, window, significance,
                xp, notes) -> _NoiseModel:
    """The noise distribution of the local band power, per band, from ``source``, and each band's threshold.

    The threshold is the statistic's upper quantile over the voxels, raised
    by :data:`GLOBAL_Z` standard deviations of what makes the fraction of
    noise voxels above it in *this* map differ from the significance level:

    * the map's noise level in the band fluctuates as a whole (few
      independent Fourier samples in a coarse band), and an estimated level
      (corners, outside the mask, the difference) is itself a sample;
    * the map holds only so many independent windows (``n``, the per-voxel
      variance over the whole-map variance), so the fraction above a fixed
      quantile scatters by ``sqrt(a (1 - a) / n)``; an empirical quantile
      (the difference) scatters as much again.

    Without this margin a map whose coarse band happens to hold a little
    more noise than average would pass it almost everywhere: with it, the
    fraction of noise voxels given a resolution stays below the significance
    level in about 95 % of maps.
    """
    shape = tested.shape
    if source == "difference":
        spectrum_power, samples = _noise_power([to_host(difference)], sizes)
    elif source == "white":
        spectrum_power, samples = (lambda r: get_namespace(r).full(r.shape, r.dtype.type(float(noise) ** 2))), math.inf
    elif source == "corners":
        spectrum_power, samples = _corner_spectrum(to_host(tested), sizes, notes)
    else:
        spectrum_power, samples = _outside_spectrum(to_host(tested), inside, sizes)
    if source == "difference":
        noise_spectrum, voxels = rfftn(_tapered(difference, taper)), _noise_voxels(shape, inside)

        def statistics(k):
            return _empirical_band(noise_spectrum, bands[k], frequencies[k], window, significance, voxels, taper)
    else:
        def statistics(k):
            return _gamma_band(spectrum_power, sizes, shape, frequencies[k], window, significance, xp,
                               bands[k].grid.radius.dtype)
    return _NoiseModel(statistics, _level_spread(spectrum_power, shape, sizes, frequencies),
                       samples / math.prod(shape), significance, source == "difference")


def _level_spread(spectrum_power, shape, sizes, frequencies) -> np.ndarray:
    """Relative standard deviation of the whole map's noise power in each band (Gaussian noise).

    The band power sums ``|H|^2 |F|^2`` over the spectrum; each ``|F|^2`` is
    exponential, paired with its Hermitian mirror, so its relative variance
    is ``2 sum |H|^4 P^2 / (sum |H|^2 P)^2`` (sums over the full spectrum),
    computed from the spectrum's radial histogram (bins of a quarter of the finest Fourier step).
    """
    grid = FourierGrid(shape, sizes, max(sizes))
    counts, _, centres = radial_profile(grid.radius, width=1.0 / (4 * max(shape)), weights=grid.weights,
                                        centred=False)
    used = counts > 0
    radii, counts = centres[used].astype(np.float32), counts[used]
    power = to_host(spectrum_power(radii)).astype(np.float64)
    spread = []
    for frequency in frequencies:
        weighted = to_host(_band_filter(radii, frequency)).astype(np.float64) ** 2 * power
        spread.append(math.sqrt(2 * (counts * weighted**2).sum()) / (counts * weighted).sum())
    return np.asarray(spread)


def _noise_voxels(shape, inside) -> tuple:
    """Indices of a regular subsample of the voxels (inside the mask when there is one): the noise samples."""
    stride = max(1, math.ceil((math.prod(shape) / QUANTILE_SAMPLES) ** (1 / len(shape))))
    grids = np.meshgrid(*[np.arange(stride // 2, n, stride) for n in shape], indexing="ij")
    voxels = np.stack([g.ravel() for g in grids])
    if inside is not None:
        voxels = voxels[:, inside[tuple(voxels)]]
        if voxels.shape[1] < MIN_BACKGROUND // 8:
            raise ValueError("mask holds too few voxels to estimate the noise from the half-map difference")
    return tuple(voxels)


def _empirical_band(noise_spectrum, band, frequency, window, significance, voxels, taper: _Taper) -> tuple:
    """Mean, upper quantile and variance of one band's local power on the noise map itself."""
    power, mean = _local_power(noise_spectrum, band, frequency, window, taper)
    samples = to_host(power[voxels]).astype(np.float64)
    return mean, float(np.quantile(samples, 1 - significance)), float(samples.var())


def _gamma_band(spectrum_power, sizes, shape, frequency, window, significance, xp, dtype) -> tuple:
    """Mean, upper quantile and variance of one band's local monogenic power of Gaussian noise of ``spectrum_power``.

    The band-passed noise and its Riesz transforms (components ``c``) have
    cross-covariances ``C_cd = irfftn(H^2 P R_c conj(R_d))``; their squares
    summed and averaged in a unit-sum window ``g`` have mean ``sum_c C_cc(0)``
    and variance ``2 sum_u (g * g)(u) sum_cd C_cd(u)^2``. The quantile is that
    of the gamma distribution with this mean and variance. The band is
    computed on its own small periodic grid (:func:`_null_grid`), scaled to
    the map's pixels.
    """
    grid, voxel_ratio = _null_grid(shape, sizes, frequency, window, xp, dtype)
    weighted = _band_filter(grid.radius, frequency) ** 2 * spectrum_power(grid.radius) * dtype.type(1 / voxel_ratio)
    transfers = [1.0] + [-1j * component * grid.inverse_radius for component in grid.components]
    overlap = None if window == 0 else irfftn(_window_transfer(grid.radius, frequency, window) ** 2, grid.shape)
    mean = variance = 0.0
    for c, d in itertools.combinations_with_replacement(range(len(transfers)), 2):
        covariance = irfftn(weighted * transfers[c] * xp.conj(transfers[d]), grid.shape)
        if c == d:
            mean += float(covariance.reshape(-1)[0])
        lagged = covariance.reshape(-1)[0] ** 2 if overlap is None else (overlap * covariance**2).sum(dtype=np.float64)
        variance += (1 if c == d else 2) * 2 * float(lagged)
    quantile = float(stats.gamma.ppf(1 - significance, mean**2 / variance, scale=variance / mean))
    return mean, quantile, variance


def _null_grid(shape, sizes, frequency: float, window: float, xp, dtype):
    """A periodic grid for the noise model of one band, and its voxel volume in map voxels.

    It spans :data:`NULL_PERIODS` periods of the band (8 windows if more; at most the map) and
    samples up to the band's reach (:func:`_reach`; the band itself without
    a window): the covariances and the window vanish well within it, and
    sums over its voxels are sums over the map's times the voxel ratio.
    """
    reference = max(sizes)
    nyquist = (_reach(window) if window > 0 else 1.05 * 2.0**BAND_HALF_WIDTH) * frequency
    spacing = [max(p, reference / (2 * nyquist)) for p in sizes]
    periods = max(NULL_PERIODS, 8 * window)  # the window (and its autocorrelation) must not wrap
    extent = [min(n * p, periods * reference / frequency) for n, p in zip(shape, sizes)]
    counts = [max(8, 2 * math.ceil(e / h / 2)) for e, h in zip(extent, spacing)]
    voxel_ratio = math.prod(h / p for h, p in zip(spacing, sizes))
    return FourierGrid(counts, spacing, reference, xp, dtype), voxel_ratio


def _corner_spectrum(image, sizes, notes):
    """Noise power spectrum (a function of the radius) from the corner regions of ``image``."""
    side = [max(8, int(n * CORNER_FRACTION)) for n in image.shape]
    corners = []
    for signs in np.ndindex(*(2,) * image.ndim):
        region = tuple(slice(0, s) if first == 0 else slice(n - s, n) for first, s, n in zip(signs, side,
                                                                                               image.shape))
        corners.append(image[region])
    powers = [float(np.var(c)) for c in corners]
    if min(powers) == 0:
        raise ValueError("noise: a corner of the map is constant (zeros?), so it holds no noise to measure: give a "
                         "mask, half2 or a noise level")
    if max(powers) > CORNER_SPREAD * min(powers):
        notes.append(f"the corners' noise powers differ by {max(powers) / min(powers):.3g}x: some corner may hold "
                     "signal (the test is then conservative); give a mask or the second half-map")
    return _noise_power(corners, sizes)


def _outside_spectrum(image, inside, sizes):
    """Noise power spectrum (a function of the radius) from the voxels outside the mask, edge softened."""
    outside = ~inside
    if outside.sum() < max(MIN_BACKGROUND, MIN_BACKGROUND_FRACTION * outside.size):
        raise ValueError(f"noise: the mask leaves {100 * outside.mean():.3g} % of the voxels outside, too few to "
                         "estimate the noise from; give half2 or a noise level")
    distance = ndimage.distance_transform_edt(outside)
    weights = np.sin(0.5 * np.pi * np.clip(distance / 4, 0, 1)) ** 2
    mean = (image * weights).sum() / weights.sum()
    return _noise_power([(image - mean) * weights], sizes, weights=weights)


def _noise_power(regions, sizes, weights=None):
    """The regions' mean periodogram, radially averaged, as a function of the frequency radius.

    Each region is mean-subtracted and windowed by a Tukey window (flat, an
    eighth of each axis tapered per side: few samples lost, little leakage),
    unless ``weights`` is given: then the regions are already windowed by it.
    The periodogram is normalised by the window's energy, so white noise of
    variance s^2 gives s^2. (Pre-whitening by first differences was tried:
    it helps steep spectra but over-reads white noise at low frequencies up
    to 2.8x, through the window's leakage of the differences' blue spectrum.)

    Returns
    -------
    spectrum_power : callable
        Power at an array of radii (cycles per pixel), same shape and device.
    samples : float
        Effective number of independent voxels behind the estimate
        (``(sum w^2)^2 / sum w^4`` per region).
    """
    shape = regions[0].shape
    if weights is None:
        weights = _outer([tukey_window(n, n // 8) for n in shape])
        regions = [(r - r.mean()) * weights for r in regions]
    periodogram = sum(np.abs(np.fft.rfftn(r)) ** 2 for r in regions)
    squared = np.broadcast_to(weights, shape) ** 2
    energy = float(squared.sum())
    samples = len(regions) * energy**2 / float((squared**2).sum())
    periodogram /= len(regions) * energy
    grid = FourierGrid(shape, sizes, max(sizes))
    counts, profile, centres = radial_profile(grid.radius, periodogram, 1.0 / min(shape), weights=grid.weights)
    used = (counts > 0) & (centres > 0) & (profile > 0)  # DC is removed with the mean
    if not used.any():
        raise ValueError("noise: the background it is read from is constant (zeros?): give a mask, half2 or a "
                         "noise level")
    return _log_interpolant(centres[used], profile[used]), samples


def _log_interpolant(radii, power):
    """Power at any radii from samples at ``radii`` (ascending): log-log interpolation, extended below the first
    along the slope of the first two."""
    log_radius, log_power = np.log(radii), np.log(power)
    slope = (log_power[1] - log_power[0]) / (log_radius[1] - log_radius[0]) if log_radius.size > 1 else 0.0

    def spectrum_power(r):
        """Power at radii ``r`` (array, same shape and device)."""
        host = np.log(np.maximum(to_host(r), 1e-12))
        values = np.interp(host, log_radius, log_power)
        below = host < log_radius[0]
        values[below] = log_power[0] + slope * (host[below] - log_radius[0])
        return get_namespace(r).asarray(np.exp(values).astype(to_host(r).dtype))

    return spectrum_power



def _curve_step(shape, n_bands: int) -> int:
    """Spacing of the voxels whose band curves are kept: about one input's worth of values in all."""
    return max(1, math.ceil(n_bands ** (1 / len(shape))))


def _kept_points(shape, step: int, inside) -> np.ndarray:
    """Voxels every ``step`` pixels (inside the mask when there is one), shape (n, ndim)."""
    grids = np.meshgrid(*[np.arange(step // 2, n, step) for n in shape], indexing="ij")
    points = np.stack([g.ravel() for g in grids], axis=1)
    return points if inside is None else points[inside[tuple(points.T)]]


def _sequential_test(spectrum, bands, frequencies, window, null: _NoiseModel, taper: _Taper, points, inside,
                     progress):
    """Crossing frequency of every voxel (NaN: not significant at the coarsest band) and the kept band curves.

    Bands are tested coarse to fine; a voxel stays significant while its
    power ratio (local power / noise threshold) is at least 1, and its
    crossing is interpolated linearly in frequency between the last passing
    and the first failing band. Voxels significant in every band get the
    finest band's frequency (a bound). Once no voxel (inside the mask) is
    significant any more, the finer bands are not computed.

    Returns
    -------
    crossing : ndarray, the map's shape (host)
    kept : ndarray, shape (n_points, n_bands), float32
        Local power over the noise's mean power at ``points``; NaN for bands not computed.
    """
    xp, shape = taper.xp, taper.full.shape
    where = tuple(xp.asarray(axis) for axis in points.T)
    kept = np.full((len(points), len(frequencies)), np.nan, np.float32)
    crossing = previous = alive = None
    for k, (band, frequency) in enumerate(zip(bands, frequencies)):
        mean, threshold = null.band(k)
        ratio, _ = _local_power(spectrum, band, frequency, window, taper, mean)
        kept[:, k] = to_host(ratio[where]) / mean
        ratio *= ratio.dtype.type(1 / threshold)
        if k == 0:
            alive = ratio >= 1
            if inside is not None:
                alive &= xp.asarray(inside)
            crossing = xp.full(shape, np.nan, dtype=ratio.dtype)
        else:
            failing = xp.nonzero(alive & (ratio < 1))
            before, after = previous[failing], ratio[failing]
            fraction = (before - 1) / xp.maximum(before - after, ratio.dtype.type(1e-12))
            crossing[failing] = frequencies[k - 1] + fraction * ratio.dtype.type(frequencies[k] - frequencies[k - 1])
            alive[failing] = False
        previous = ratio
        progress((k + 1) / len(frequencies))
        if not bool(alive.any()):
            break
    if k + 1 < len(frequencies):
        progress(1.0)
    crossing[alive] = frequencies[-1]
    return to_host(crossing), kept


def _read_curve(ratio, frequencies) -> tuple:
    """The crossing and status of one voxel's power ratios, by the rule of :func:`_sequential_test`."""
    failing = np.flatnonzero(ratio < 1)
    if failing.size == 0:
        return float(frequencies[-1]), "bound"
    first = int(failing[0])
    if first == 0:
        return None, "unresolved"
    fraction = (ratio[first - 1] - 1) / max(ratio[first - 1] - ratio[first], 1e-12)
    return float(frequencies[first - 1] + fraction * (frequencies[first] - frequencies[first - 1])), "resolved"


def _map_status(crossing, inside, finest: float) -> str:
    """"resolved" if some voxel (inside the mask) resolves, "bound" if every one reads the finest band, else
    "unresolved" (the rule of :func:`~.local.maps.overall_status`, on every voxel)."""
    values = crossing if inside is None else crossing[inside]
    finite = np.isfinite(values)
    bound = finite & (values >= finest * (1 - 1e-6))
    if np.any(finite & ~bound):
        return "resolved"
    return "bound" if values.size and bool(bound.all()) else "unresolved"


def _point_statuses(crossing, finest: float) -> tuple:
    """Status of each crossing: "unresolved" (NaN), "bound" (the finest band), else "resolved"."""
    index = np.where(~np.isfinite(crossing), 2, np.where(crossing >= finest * (1 - 1e-6), 1, 0))
    names = tuple(STATUSES)  # "resolved", "bound", "unresolved"
    return tuple(names[i] for i in index)


def _as_resolution(crossing, reference: float, inside, dtype) -> np.ndarray:
    """Full-period resolution from crossing frequencies; NaN where not significant and outside the mask."""
    with np.errstate(divide="ignore", invalid="ignore"):
        local_map = (reference / crossing).astype(dtype, copy=False)
    if inside is not None:
        local_map[~inside] = np.nan
    return local_map
