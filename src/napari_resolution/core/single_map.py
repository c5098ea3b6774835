"""Local resolution of one map: local band power against noise, band by band, read as the FSC would read it.

For every band (a raised-cosine shell in frequency, coarse to fine) the map
is band-passed and its local power (the squared monogenic amplitude averaged
in a Gaussian window whose width scales with the band's period) is compared at
every voxel with the noise's (:mod:`.local.noise`):

its power spectrum is measured in the half-map difference ``(half1 - half2) / 2``
(with ``half2``: it holds the noise of the average ``(half1 + half2) / 2``
and no signal), the corners or outside the mask, or given as a white noise
level; the statistic's mean and variance follow exactly from it (the
band-pass correlation included), and its distribution is the gamma
distribution with that mean and variance (Satterthwaite).

A band passes at a voxel when its local power is significant (above the
noise quantile at ``significance``) and, by default, when the local
signal-to-noise ratio it implies reaches the one where the FSC of two
half-maps crosses ``threshold`` (``2 T / (1 - T)``: 1/3 for 0.143). A voxel's
resolution is read by a fixed-sequence test from coarse to fine: it passes
as long as every band so far passes, and its resolution is where the first
failing band's ratio crosses 1 (interpolated between the last passing and
the first failing band). The significance is family-wise over the bands, per
voxel (no correction across voxels).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from . import kernels
from .backend import check_allocation, get_namespace, in_memory, resolve_device, rfftn, to_host
from .figures import COLORS, FREQUENCY_LABEL, Curve, Plot, resolution_marker
from .frequency import edges_wrap, normalize_pixel_size
from .local.bands import BAND_HALF_WIDTH, BandGrid, Taper, band_shape, local_power, standardised
from .local.maps import LocalResolutionResult, map_statistics
from .local.noise import SMOOTHING, WAY_OUT, check_constant, check_correlation, null_model, reference_values
from .progress import progress_of
from .results import STATUSES, Result, issue_warnings, resolution_summary, result_dataclass
from .spectral import compute_path
from .thresholds import parse_threshold
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
#: The coarsest default band has a period of the smallest extent divided by this; with the noise from the
#: corners, by CORNER_DIVISOR (a corner must hold a few periods of it for its noise spectrum to be measured).
COARSE_DIVISOR = 6
CORNER_DIVISOR = 16
#: Default window by dimension: Gaussian standard deviation in periods of the band. Wide enough that the test
#: detects the signal-to-noise ratio of the FSC's 0.143 (a 2-D window holds fewer samples: it must be wider);
#: narrow enough not to borrow power from a sharper region next door (docs/local_resolution.md, calibration).
WINDOW_PERIODS = {2: 1.5, 3: 0.7}
#: Narrowest window (periods) other than none: a hundredth of a period averages nothing at any band.
MIN_WINDOW = 0.01
#: Words (of the working precision) per voxel of the map the test holds at once (measured 24 to 30).
MAP_WORDS = 32
#: A white noise level (``noise`` a number) must lie within these multiples of the map's peak magnitude.
NOISE_RANGE = (1e-6, 1e6)
#: Full width at half maximum of a Gaussian, in standard deviations.
FWHM_PER_SIGMA = 2 * math.sqrt(2 * math.log(2))
#: Significance levels at which the p-value map is interpolated (log-linearly): 1e-6 to 1.
P_LEVELS = np.geomspace(1e-6, 1.0, 49)
#: A map whose mean power (away from tapered edges) is below this fraction of its noise reference's in some band:
#: the reference holds more than noise.
DEFICIT = 0.85
#: Fewer voxels with a value than this fraction (inside the mask) get a warning.
FILLED_WARNING = 0.5


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
        What the power must reach in each band, in the same units: the noise
        quantile at the significance level, or the FSC threshold's
        signal-to-noise ratio plus 1 where that is higher.
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
        """The resolution read at this point, e.g. ``4.1 Å (FSC 0.143 equivalent, …, full period) · … · status …``."""
        return resolution_summary(self.resolution, self.status, self.criterion, self.unit_of_lengths(unit),
                                  curve="local band power")

    def columns(self) -> dict:
        """Band power and its threshold per band centre (cycles/pixel)."""
        return {"frequency_cycles_per_pixel": self.frequency, "power": self.power, "threshold": self.threshold}

    def plots(self, unit: str = "") -> tuple:
        """Local band power and its threshold against frequency (log scale), the crossing marked."""
        marker = resolution_marker(self.crossing, self.resolution, self.status, unit)
        if self.status == "bound":
            marker = resolution_marker(self.frequency[-1], self.resolution, "resolved", unit)
        curves = (Curve("local band power / noise power", self.frequency, self.power),
                  Curve(f"threshold ({self.criterion})", self.frequency, self.threshold, "threshold",
                        COLORS["threshold"]))
        return (Plot("local band power", curves, marker, x_label=FREQUENCY_LABEL,
                     y_label="local power / noise power", log_y=True, pixel_size=self.reference_pixel_size,
                     unit=unit),)


@result_dataclass
class SingleMapResult(LocalResolutionResult):
    """A local-resolution map of one map by a per-voxel test of local band power (:func:`local_resolution`).

    The fields are those of :class:`~.local.maps.LocalResolutionResult`, read for this method:

    * ``centres``: the voxels (every ``step`` pixels) whose band curves are kept
      for :meth:`curve_at`; ``values`` and ``statuses``: the map there;
    * ``box``: the window's full width at half maximum at the finest band, reference pixels;
    * ``frequency``: the band centres (cycles per reference pixel);
      ``threshold``: what each band's local power must reach, over the noise's mean power;
    * ``sums``: shape (n_points, n_bands), each kept voxel's local band power
      over the noise's mean power;
    * bands finer than where every voxel failed are not computed: NaN in
      ``threshold`` and ``sums``;
    * ``criterion``: e.g. ``"FSC 0.143 equivalent, p < 0.05"``; ``global_result``: None.

    Attributes
    ----------
    filled : float
        Fraction of the voxels (inside the mask) with a value.
    p_values : ndarray, shape (n_bands, *map shape), float32, or None
        With ``p_values=True``: per band and voxel, the p-value of "significant
        signal in every band up to this one" (the running maximum of the
        bands' p-values: a fixed-sequence test), NaN outside the mask.
    """

    filled: float = 1.0
    p_values: np.ndarray | None = None

    def window_at(self, index: int) -> tuple:
        """Full width at half maximum of the window at the band where kept voxel ``index`` was decided, in pixels
        of each axis."""
        reference = self.parameters["reference_pixel"]
        decided = self.values[index]
        frequency = self.frequency[0] if not np.isfinite(decided) else reference / decided
        width = FWHM_PER_SIGMA * self.parameters["window"] / frequency  # reference pixels
        return tuple(max(1, int(round(width * reference / p))) for p in self.pixel_size)

    def curve_at(self, position) -> SignificanceCurve:
        """Band power against its threshold at the kept voxel nearest ``position``."""
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
        """``87 % of voxels with a value · 20 bands, noise from corners`` (or ``white noise of std 0.5``)."""
        source = self.parameters["noise_source"]
        noise = f"white noise of std {self.parameters['noise']:.3g}" if source == "white" else f"noise from {source}"
        return f"{100 * self.filled:.3g} % of voxels with a value · {len(self.frequency)} bands, {noise}"

    def to_dict(self) -> dict:
        """As :meth:`LocalResolutionResult.to_dict`, the p-value map left out too."""
        full = super().to_dict()
        full.pop("p_values")
        return full


def default_resolutions(shape, pixel_size=1.0, n_bands: int = DEFAULT_BANDS,
                        divisor: float = COARSE_DIVISOR) -> np.ndarray:
    """Band periods (``pixel_size`` units, coarse to fine): ``n_bands`` evenly spaced in log-frequency.

    From a period of the smallest extent / ``divisor`` to Nyquist (2
    reference pixels). :func:`local_resolution` uses :data:`CORNER_DIVISOR`
    when the noise comes from the corners.
    """
    sizes = normalize_pixel_size(pixel_size, len(shape))
    reference = max(sizes)
    coarsest = min(n * p for n, p in zip(shape, sizes)) / divisor / reference  # reference pixels
    return reference / np.geomspace(1 / coarsest, 0.5, n_bands)


@renamed_keywords(volume="half1")
@in_memory("half1", "half2", "mask")
def local_resolution(half1, *, pixel_size=1.0, mask=None, noise="auto", half2=None, significance: float = 0.05,
                     threshold="0.143", resolutions=None, window=None, p_values: bool = False, device=None,
                     progress=None) -> SingleMapResult:
    """Local resolution of one map (3-D) or image (2-D) from its local band power against noise.

    Parameters
    ----------
    half1 : array, shape (Y, X) or (Z, Y, X)
        The map (numpy or cupy). With ``half2``, the first half-map: the map
        tested is then the average of the halves. Not modified. (``volume``,
        its old name, still works for one release.)
    pixel_size : float or sequence of float
        Pixel size, one value or one per axis. The map scales with it, nothing else changes.
    mask : array, optional
        Weights in [0, 1], the map's shape: the map is NaN outside (<= 0.5).
    noise : {"auto", "corners", "outside-mask", "difference"} or float
        Where the noise comes from: the half-map difference (needs
        ``half2``), the corners of the map (they must be solvent), the voxels
        outside ``mask`` (solvent, not flattened), or white noise of this
        standard deviation (of the map tested). "auto": the difference with
        ``half2``, else outside the mask with ``mask``, else the corners. A
        reference that is mostly one value is refused; one where the halves
        correlate, or that holds as much power as the map, gets a warning.
    half2 : array, optional
        The second half-map, ``half1``'s shape.
    significance : float
        Chance, per voxel, of claiming a resolution on noise alone, in (0, 1).
    threshold : {"0.143", "0.5"}, float in (0, 1) or None
        Read the map as the FSC of two half-maps at this threshold would: a
        band passes where the local signal-to-noise ratio reaches ``2 T / (1 -
        T)`` (and is significant). None: the significance test alone (it
        detects weaker signal the wider the window: finer than 0.143 with
        ``window`` 1, coarser with 0.3).
    resolutions : sequence of float, optional
        Band periods (full period, ``pixel_size`` units), at least 2, each at
        least 2 reference pixels (Nyquist); sorted coarse to fine. Default:
        :func:`default_resolutions` (20 bands from a sixth of the smallest
        extent, a sixteenth with the noise from the corners, to Nyquist).
    window : float, optional
        Gaussian window's standard deviation, in periods of each band
        (default 0.7 in 3-D, 1.5 in 2-D; 0: none; else at least 0.01 and no
        wider than the map at the coarsest band): wider windows detect weaker
        signal but blur the map and borrow power from sharper regions next door.
    p_values : bool
        Also return the p-value map (``result.p_values``, one 3-D map per band;
        every band is then computed).
    device : {None, "cpu", "gpu"}
        Where to compute.
    progress : callable, optional
        Called with the fraction done; raising in it cancels.

    Returns
    -------
    SingleMapResult
        The map (full period, ``pixel_size`` units; NaN outside the mask and
        where not even the coarsest band passes), the fraction of voxels with
        a value, its statistics, and band curves on a grid of voxels.

    Raises
    ------
    ValueError
        Not 2-D/3-D, NaN/Inf, shapes that differ, a significance outside
        (0, 1), a mask of another shape, an unknown noise source or threshold,
        no background to estimate the noise from, a reference that is mostly
        one value, bad resolutions or window.
    """
    shape = _check_inputs(half1, half2, mask, significance)
    if not isinstance(p_values, (bool, np.bool_)):
        raise ValueError(f"p_values must be True or False, got {shown(p_values)}")
    report = progress_of(progress)
    sizes = normalize_pixel_size(pixel_size, len(shape))
    reference = max(sizes)
    relative = tuple(p / reference for p in sizes)  # the test runs in reference pixels: pixel_size only scales it
    source = _noise_source(noise, half2, mask)
    criterion, snr, fsc_threshold = _criterion(threshold, significance)
    frequencies = _band_frequencies(resolutions, shape, relative, reference, source)
    window = WINDOW_PERIODS[len(shape)] if window is None else _check_window(window, frequencies[0], shape, relative)
    xp = resolve_device(device, half1, half2, mask)
    dtype = np.result_type(working_dtype(half1.dtype), working_dtype(half2.dtype if half2 is not None else
                                                                       half1.dtype))
    _check_memory(shape, relative, frequencies, window, dtype, p_values)
    inside = None if mask is None else to_host(mask) > 0.5
    tested, difference, level = _normalised(*_tested_and_difference(half1, half2, xp, dtype), noise)
    halves = (tested, tested) if difference is None else (tested + difference, tested - difference)
    taper = Taper(shape, relative, 1 / frequencies[0], edges_wrap(*halves, xp), xp, dtype)
    del halves
    notes = []
    _check_reference(source, tested, difference, inside, notes)
    grids = {}
    bands = [BandGrid(shape, relative, frequency, window, xp, dtype, grids) for frequency in frequencies]
    null = null_model(source, level, tested, difference, inside, relative, frequencies, window, significance, bands,
                      xp, notes)
    interior = taper.interior(frequencies[-1], window)
    step = _curve_step(shape, len(frequencies))
    points = _kept_points(shape, step, inside, interior)
    test = _SequentialTest(rfftn(taper.apply(tested)), taper, bands, frequencies, window, null, snr, inside, interior,
                           significance if p_values else None, compute_path(xp) == "numba")
    crossing, kept, excess, p_map = test.run(points, report)
    crossing, p_map = (None if part is None else _rim_filled(part, interior) for part in (crossing, p_map))
    if p_map is not None and inside is not None:
        p_map[:, ~inside] = np.nan
    local_map = _as_resolution(crossing, reference, inside, dtype)
    filled = _filled(local_map, inside)
    _reference_warnings(excess, frequencies, reference, source, notes)
    status = _map_status(crossing, inside, frequencies, reference, filled, significance, source, notes)
    values = local_map[tuple(points.T)]
    issue_warnings(notes)
    return SingleMapResult(
        map=local_map, centres=points, values=values,
        statuses=_point_statuses(crossing[tuple(points.T)], frequencies[-1]),
        box=max(1, int(round(FWHM_PER_SIGMA * window / frequencies[-1]))), step=step,  # reference pixels
        frequency=frequencies, threshold=test.levels / null.means, criterion=criterion, sums=kept,
        statistics=map_statistics(local_map), global_result=None, filled=filled, p_values=p_map, status=status,
        pixel_size=sizes, warnings=tuple(notes),
        parameters={"method": "single-map", "noise_source": source, "noise": noise if is_number(noise) else source,
                    "significance": significance, "threshold": fsc_threshold,
                    "window": window, "resolutions": (reference / frequencies).tolist(), "reference_pixel": reference,
                    "tapered_axes": tuple(not w for w in taper.wraps), "shape": shape, "masked": mask is not None,
                    "half2": half2 is not None, "path": compute_path(xp)},
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


def _criterion(threshold, significance: float) -> tuple[str, float, str | None]:
    """The criterion's name, the signal-to-noise ratio a band must reach (0: the significance test alone) and the
    FSC threshold's name (None: the test alone).

    An FSC threshold ``T`` of two half-maps is a signal-to-noise ratio ``T /
    (1 - T)`` per half, ``2 T / (1 - T)`` for their average (the map tested).
    """
    if threshold is None:
        return f"p < {significance:g}", 0.0, None
    try:
        name, value = parse_threshold(threshold)
    except ValueError:
        value = None
    if value is None:
        raise ValueError(f"threshold must be 0.143, 0.5, an FSC value in (0, 1), or None (the significance test "
                         f"alone), got {shown(threshold)}")
    return f"FSC {name} equivalent, p < {significance:g}", 2 * value / (1 - value), name


def _check_window(window, coarsest: float, shape, sizes) -> float:
    """``window`` (periods): 0, or from :data:`MIN_WINDOW` to as wide as the map at the ``coarsest`` band."""
    window = check_number(window, "window", 0.0)
    widest = coarsest * max(n * p for n, p in zip(shape, sizes))  # the map's extent, in periods
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


def _band_frequencies(resolutions, shape, sizes, reference: float, source: str) -> np.ndarray:
    """Band centres in cycles per reference pixel, coarse to fine (ascending); ValueError for bad periods.

    ``sizes`` in reference pixels; ``resolutions`` (and the messages) in ``pixel_size`` units.
    """
    largest = max(n * p for n, p in zip(shape, sizes))  # reference pixels
    if resolutions is None:
        divisor = CORNER_DIVISOR if source == "corners" else COARSE_DIVISOR
        frequencies = 1 / default_resolutions(shape, sizes, divisor=divisor)
        if frequencies[0] > 0.5 / 2**BAND_HALF_WIDTH:
            raise ValueError(_too_small(shape, sizes, reference, source))
        return frequencies
    try:
        periods = np.asarray(resolutions, dtype=np.float64).ravel() / reference
    except (TypeError, ValueError):
        raise ValueError(f"resolutions must be a sequence of numbers, got {shown(resolutions)}") from None
    if periods.size < 2 or not np.all(np.isfinite(periods)) or np.unique(periods).size != periods.size:
        raise ValueError(f"resolutions must hold at least 2 distinct finite periods, got {shown(resolutions)}")
    most = max(DEFAULT_BANDS, math.ceil(largest / 2))
    if periods.size > most:
        raise ValueError(f"resolutions must hold at most {most} periods for a map of {shown(tuple(shape))} (one band "
                         f"per Fourier shell from DC to Nyquist: closer bands measure the same frequencies), got "
                         f"{periods.size}")
    if periods.min() < 2 * (1 - 1e-9) or periods.max() > largest:
        raise ValueError(f"resolutions must lie between Nyquist ({2 * reference:g}) and the largest extent "
                         f"({largest * reference:g}), got {shown(resolutions)}")
    return np.sort(1 / periods)


def _too_small(shape, sizes, reference: float, source: str) -> str:
    """The error for a map too small for the default bands: what would work instead (resolutions; and half2, a
    mask or a noise level when only the corners' finer divisor is in the way)."""
    smallest = min(n * p for n, p in zip(shape, sizes))  # reference pixels
    needed = 2 * 2**BAND_HALF_WIDTH  # the coarsest band's shortest period (reference pixels)
    way = (f"give resolutions (at least 2 periods from {2 * reference:g} to "
           f"{max(n * p for n, p in zip(shape, sizes)) * reference:g}, pixel_size units)")
    if source == "corners" and smallest / COARSE_DIVISOR >= needed:
        way += (f", or half2, a mask or noise=<its standard deviation> (their bands start at 1/{COARSE_DIVISOR} of "
                f"the map, the corners' at 1/{CORNER_DIVISOR})")
    corners = " with the noise from the corners" if source == "corners" else ""
    divisor = CORNER_DIVISOR if source == "corners" else COARSE_DIVISOR
    return (f"half1 is too small ({shown(tuple(shape))}) for the default bands{corners}: their coarsest period "
            f"(1/{divisor} of the map) would be finer than {needed * reference:.3g}; {way}")


def _check_memory(shape, sizes, frequencies, window: float, dtype, p_values: bool) -> None:
    """ValueError naming half1 when the test would not fit in the memory available.

    It holds :data:`MAP_WORDS` words per voxel of the map, the Fourier grid of every band grid
    (:func:`~.local.bands.band_shape`; its radii, squared and inverse: three words per half-spectrum sample), and
    with ``p_values`` one float32 map per band.
    """
    grids = {band_shape(shape, sizes, frequency, window) for frequency in frequencies}
    samples = sum(math.prod(grid[:-1]) * (grid[-1] // 2 + 1) for grid in grids)
    p_bytes = 4 * len(frequencies) * math.prod(shape) if p_values else 0
    check_allocation(np.dtype(dtype).itemsize * (MAP_WORDS * math.prod(shape) + 3 * samples) + p_bytes,
                     f"half1 ({shown(tuple(shape))} voxels, {len(frequencies)} bands on {len(grids)} grids"
                     f"{', p-values' if p_values else ''})", "crop or bin the map, or give fewer resolutions")


def _check_reference(source: str, tested, difference, inside, notes) -> None:
    """The noise reference's checks: mostly one value (refused) or partly (a warning); given both halves and a
    reference other than their difference, a warning where they correlate (:mod:`.local.noise`)."""
    if source == "white":
        return
    what = {"corners": "corners of the map", "outside-mask": "voxels outside the mask",
            "difference": "half-map difference"}[source]
    reference = to_host(difference if source == "difference" else tested)
    check_constant(reference_values(reference, source, inside), what, notes)
    if difference is not None and source != "difference":
        spread = to_host(difference)
        halves = [ndimage.uniform_filter(reference + sign * spread, SMOOTHING) for sign in (1, -1)]
        check_correlation(*(reference_values(half, source, inside) for half in halves), what, notes)


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


def _curve_step(shape, n_bands: int) -> int:
    """Spacing of the voxels whose band curves are kept: about one input's worth of values in all."""
    return max(1, math.ceil(n_bands ** (1 / len(shape))))


def _kept_points(shape, step: int, inside, interior) -> np.ndarray:
    """Voxels every ``step`` pixels within the ``interior`` bounds (first, last index per axis; inside the mask
    when there is one), shape (n, ndim)."""
    grids = np.meshgrid(*[np.arange(low + step // 2, high + 1, step) for low, high in interior], indexing="ij")
    points = np.stack([g.ravel() for g in grids], axis=1)
    return points if inside is None else points[inside[tuple(points.T)]]


def _within(inside, box) -> np.ndarray:
    """``inside`` (a mask) with every voxel outside ``box`` (slices) False; all of ``box`` if that leaves none."""
    within = np.zeros_like(inside)
    within[box] = inside[box]
    if not within.any():
        within[box] = True
    return within


def _rim_filled(array, interior):
    """``array`` (host; the map's shape in its last axes) with each voxel beyond the ``interior`` bounds given the
    value of the nearest voxel within them: near edges that do not wrap, the taper leaves too little of the map
    for its local power to be measured (the local FSC's map does the same beyond its outermost boxes)."""
    if all(low == 0 and high == n - 1 for (low, high), n in zip(interior, array.shape[-len(interior):])):
        return array
    nearest = np.ix_(*[np.clip(np.arange(n), low, high) for (low, high), n in
                       zip(interior, array.shape[-len(interior):])])
    return array[(Ellipsis, *nearest)]


# ------------------------------------------------------------------------------------------------ the test
class _SequentialTest:
    """Bands tested coarse to fine at every voxel (see :meth:`run`).

    ``spectrum``: the tapered map's rfft; ``null``: the noise model; ``snr``:
    the signal-to-noise ratio a band must reach (0: significance alone);
    ``interior``: the bounds of the voxels the taper leaves measurable;
    ``p_significance``: the significance level when the p-value map is
    wanted, else None; ``compiled``: one compiled pass per band
    (:func:`~.kernels.band_step`) instead of the array code (the reference
    and the GPU path). ``levels``: what each band's local power must reach
    (NaN for bands not computed).
    """

    def __init__(self, spectrum, taper, bands, frequencies, window, null, snr: float, inside, interior,
                 p_significance, compiled: bool):
        self.spectrum, self.taper, self.bands, self.frequencies = spectrum, taper, bands, frequencies
        self.window, self.null, self.snr, self.inside, self.compiled = window, null, snr, inside, compiled
        xp = get_namespace(spectrum)
        box = tuple(slice(low, high + 1) for low, high in interior)
        self.measured = box if inside is None else xp.asarray(_within(inside, box))
        self.p_levels = None if p_significance is None else np.union1d(P_LEVELS, [p_significance])
        self.levels = np.full(len(frequencies), np.nan)
        shape, dtype = taper.full.shape, taper.full.dtype
        self.crossing = xp.full(shape, np.nan, dtype=dtype)
        self.alive = xp.ones(shape, bool) if inside is None else xp.array(inside)
        self.previous = xp.empty(shape, dtype) if compiled else None

    def run(self, points, progress) -> tuple:
        """Crossing frequency of every voxel (NaN: the coarsest band fails), kept band curves, the map's power
        over the noise's per band, and the p-value map (or None).

        A voxel stays in while its ratio (local power over what the band needs)
        is at least 1; its crossing is interpolated linearly in frequency
        between the last passing and the first failing band. Voxels passing
        every band get the finest band's frequency (a bound). Once no voxel
        (inside the mask) passes, the finer bands are not computed (unless the
        p-value map is wanted).

        Returns
        -------
        crossing : ndarray, the map's shape (host)
        kept : ndarray, shape (n_points, n_bands), float32
            Local power over the noise's mean power at ``points``; NaN for bands not computed.
        excess : ndarray, shape (n_bands,)
            The map's mean local power (inside the mask, away from tapered edges) over the noise's; NaN for
            bands not computed.
        p_map : ndarray (n_bands, *shape) float32, or None
            Outside the mask too (:func:`local_resolution` blanks it after filling the rim).
        """
        frequencies = self.frequencies
        where = tuple(get_namespace(self.spectrum).asarray(axis) for axis in points.T)
        kept = np.full((len(points), len(frequencies)), np.nan, np.float32)
        excess = np.full(len(frequencies), np.nan)
        p_map = None if self.p_levels is None else np.empty((len(frequencies), *self.taper.full.shape),
                                                            np.float32)
        for k in range(len(frequencies)):
            ratio, excess[k] = self._band(k, p_map)
            kept[:, k] = to_host(ratio[where]) * self.levels[k] / self.null.means[k]
            progress((k + 1) / len(frequencies))
            if p_map is None and not bool(self.alive.any()):
                break
        if k + 1 < len(frequencies):
            progress(1.0)
        self.crossing[self.alive] = frequencies[-1]
        return to_host(self.crossing), kept, excess, p_map

    def _band(self, k: int, p_map) -> tuple:
        """Band ``k``: every voxel's ratio (local power over what it must reach; the voxels failing it for the
        first time get their crossing) and the map's excess power."""
        mean, test = self.null.band(k)
        target = mean * (1 + self.snr) if self.snr > 0 else 0.0
        self.levels[k] = max(test, target)
        power, root_rho = local_power(self.spectrum, self.bands[k], self.frequencies[k], self.window, self.taper)
        excess = float(power[self.measured].mean(dtype=np.float64)) / mean
        if p_map is not None:
            score = standardised(power, mean, root_rho)
            p_map[k] = _p_values(score, self.null.thresholds_at(k, self.p_levels), self.p_levels)
            if k > 0:
                np.maximum(p_map[k], p_map[k - 1], out=p_map[k])
        if self.compiled:
            kernels.band_step(power, root_rho, (mean, test, target), self.previous, self.alive, self.crossing,
                              (self.frequencies[k - 1], self.frequencies[k]) if k else (0.0, 0.0), k == 0)
            return self.previous, excess
        ratio = self._ratio(power, root_rho, mean, test, target)
        if k == 0:
            self.alive &= ratio >= 1
        else:
            self._cross(k, ratio)
        self.previous = ratio
        return ratio, excess

    @staticmethod
    def _ratio(power, root_rho, mean: float, test: float, target: float):
        """``min(standardised power / test, power / target)`` (the first alone without a target)."""
        ratio = standardised(power, mean, root_rho) * power.dtype.type(1 / test)
        if target > 0:
            power *= power.dtype.type(1 / target)
            get_namespace(ratio).minimum(ratio, power, out=ratio)
        return ratio

    def _cross(self, k: int, ratio) -> None:
        """Voxels failing band ``k`` for the first time get their crossing, interpolated from band ``k - 1``."""
        xp, frequencies = get_namespace(ratio), self.frequencies
        failing = xp.nonzero(self.alive & (ratio < 1))
        before, after = self.previous[failing], ratio[failing]
        fraction = (before - 1) / xp.maximum(before - after, ratio.dtype.type(1e-12))
        self.crossing[failing] = frequencies[k - 1] + fraction * ratio.dtype.type(frequencies[k] - frequencies[k - 1])
        self.alive[failing] = False


def _p_values(score, thresholds, levels) -> np.ndarray:
    """Per voxel, the smallest of ``levels`` whose threshold ``score`` reaches, interpolated log-linearly (host
    float32); 1 below every threshold, the smallest level above all."""
    finite = np.isfinite(thresholds)
    bounds = np.minimum.accumulate(thresholds[finite])  # non-increasing as the level grows
    return np.exp(np.interp(to_host(score).astype(np.float64, copy=False), bounds[::-1],
                            np.log(levels[finite])[::-1])).astype(np.float32)


def _read_curve(ratio, frequencies) -> tuple:
    """The crossing and status of one voxel's ratios, by the rule of :meth:`_SequentialTest.run`."""
    failing = np.flatnonzero(~(ratio >= 1))
    if failing.size == 0:
        return float(frequencies[-1]), "bound"
    first = int(failing[0])
    if first == 0:
        return None, "unresolved"
    fraction = (ratio[first - 1] - 1) / max(ratio[first - 1] - ratio[first], 1e-12)
    return float(frequencies[first - 1] + fraction * (frequencies[first] - frequencies[first - 1])), "resolved"


# ------------------------------------------------------------------------------------------------ the result
def _filled(local_map, inside) -> float:
    """Fraction of the voxels (inside the mask) with a value."""
    return float(np.isfinite(local_map if inside is None else local_map[inside]).mean())


def _reference_warnings(excess, frequencies, reference: float, source: str, notes) -> None:
    """A warning when in some band the map holds less power than its noise reference: the reference then holds
    more than noise (or the noise level given is too high). The difference is noise by construction."""
    if source == "difference":
        return
    low = int(np.nanargmin(excess))
    if excess[low] < DEFICIT:
        what = {"corners": "the corners", "outside-mask": "outside the mask", "white": "the noise level given"}[source]
        notes.append(f"at a period of {reference / frequencies[low]:.3g} the map holds {excess[low]:.2f}x the power "
                     f"of its noise reference ({what}): the reference holds more than noise there (structure, no "
                     f"solvent?), so the map reads too coarse; {WAY_OUT}")


def _map_status(crossing, inside, frequencies, reference: float, filled: float, significance: float, source: str,
                notes) -> str:
    """"resolved" if some voxel (inside the mask) resolves, "bound" if every one reads the finest band, else
    "unresolved" (the rule of :func:`~.local.maps.overall_status`, on every voxel); "unresolved" too when no
    more voxels have a value than noise alone gives (``significance``). Few voxels with a value get a warning."""
    if filled <= significance:
        suspect = "" if source in ("difference", "white") else (
            f", or the noise reference ({source}) holds the map's structure (no solvent there); {WAY_OUT}")
        notes.append(f"only {100 * filled:.2g} % of the voxels have a value, no more than noise alone gives at "
                     f"significance {significance:g}: no local resolution. The map holds no signal above its noise "
                     f"in the bands tested (periods {reference / frequencies[0]:.3g} to "
                     f"{reference / frequencies[-1]:.3g}: give coarser resolutions if it is coarser){suspect}")
        return "unresolved"
    if filled < 2 * significance:
        notes.append(f"only {100 * filled:.2g} % of the voxels have a value, hardly more than noise alone gives at "
                     f"significance {significance:g}: they may be noise")
    elif filled < FILLED_WARNING:
        notes.append(f"only {100 * filled:.3g} % of the voxels have a value: the rest hold no signal that passes the "
                     f"coarsest band{'' if inside is not None else ' (a mask would leave out the solvent)'}")
    values = crossing if inside is None else crossing[inside]
    finite = np.isfinite(values)
    bound = finite & (values >= frequencies[-1] * (1 - 1e-6))
    if np.any(finite & ~bound):
        return "resolved"
    return "bound" if values.size and bool(bound.all()) else "unresolved"


def _point_statuses(crossing, finest: float) -> tuple:
    """Status of each crossing: "unresolved" (NaN), "bound" (the finest band), else "resolved"."""
    index = np.where(~np.isfinite(crossing), 2, np.where(crossing >= finest * (1 - 1e-6), 1, 0))
    names = tuple(STATUSES)  # "resolved", "bound", "unresolved"
    return tuple(names[i] for i in index)


def _as_resolution(crossing, reference: float, inside, dtype) -> np.ndarray:
    """Full-period resolution from crossing frequencies; NaN where no band passes and outside the mask."""
    with np.errstate(divide="ignore", invalid="ignore"):
        local_map = (reference / crossing).astype(dtype, copy=False)
    if inside is not None:
        local_map[~inside] = np.nan
    return local_map
