"""The noise reference of the single-map test: where the noise is read, whether it is noise, and its thresholds.

The reference is the half-map difference, the corners of the map, the
voxels outside a mask, or a white noise level. Before it is used it is
checked: a reference that is mostly one value (solvent flattened or zeroed,
as in many deposited maps) holds no noise and is refused; one where the two
half-maps correlate holds signal and gets a warning. :class:`NoiseModel`
then gives each band's noise mean and its threshold at any significance
level (the threshold raised by the scatter of the fraction of noise voxels
above it in *this* map, see :func:`null_model`). Frequencies are in cycles
per reference pixel and pixel sizes in reference pixels (the largest is 1).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy import ndimage, stats

from ..backend import get_namespace, irfftn, to_host
from ..frequency import FourierGrid, tukey_window
from ..spectral import radial_profile
from .bands import BAND_HALF_WIDTH, band_filter, outer, reach, window_transfer

__all__ = ["SMOOTHING", "NoiseModel", "check_constant", "check_correlation", "null_model", "reference_values"]

#: The noise model of a band is computed on a periodic grid of this many of its periods (at most the map).
NULL_PERIODS = 16
#: Thresholds are raised by this many standard deviations of the scatter of the fraction of noise voxels above them.
GLOBAL_Z = 1.645
#: Corner regions for the noise spectrum: side of each, a fraction of the axis (at least 8 px).
CORNER_FRACTION = 1 / 4
#: Background needed for a noise spectrum: this fraction of the voxels, and at least MIN_BACKGROUND voxels.
MIN_BACKGROUND_FRACTION = 0.02
MIN_BACKGROUND = 512
#: Voxels of a reference used for its checks (a regular subsample beyond).
CHECK_SAMPLES = 2**20
#: Corners whose noise powers differ by more than this factor get a warning (one may hold signal).
CORNER_SPREAD = 2.0
#: A reference whose most common value holds more than this fraction of its voxels is refused (solvent flattened
#: or zeroed: no noise to measure); more than CONSTANT_WARNED, a warning (the noise is underestimated).
CONSTANT_REFUSED = 0.5
CONSTANT_WARNED = 0.05
#: Half-maps whose correlation in the reference, both smoothed over a box of SMOOTHING px, exceeds this (and 4
#: standard deviations of independent noise's) hold signal there.
CORRELATED = 0.2
SMOOTHING = 5
#: What a user can give instead of a reference that is not noise.
WAY_OUT = "give half2 (the second half-map), a mask whose outside holds real solvent, or noise=<its standard deviation>"


class NoiseModel:
    """Per band, computed when first asked for: the noise's mean local power and the test's thresholds.

    ``statistics(k)`` (a callable) gives band ``k``'s noise mean, per-voxel
    variance and quantile function (upper quantiles at an array of levels);
    ``spread`` the relative standard deviation of the whole map's noise level
    per band; ``samples`` the estimate's effective voxels over the map's (inf
    for a known level). See :func:`null_model`.
    """

    def __init__(self, statistics, spread, samples: float, significance: float):
        self._statistics, self._spread, self._samples = statistics, spread, samples
        self._significance = significance
        self._moments = {}
        self.means = np.full(len(spread), np.nan)
        self.thresholds = np.full(len(spread), np.nan)

    def band(self, k: int) -> tuple[float, float]:
        """Band ``k``'s noise mean power and its test threshold at the significance level."""
        if np.isnan(self.means[k]):
            self.means[k] = self._moment(k)[0]
            self.thresholds[k] = float(self.thresholds_at(k, np.array([self._significance]))[0])
        return self.means[k], self.thresholds[k]

    def thresholds_at(self, k: int, levels) -> np.ndarray:
        """Band ``k``'s test thresholds at significance ``levels`` (array in (0, 1]; inf where unreachable).

        The noise statistic's upper quantile, raised by :data:`GLOBAL_Z` standard
        deviations of what makes the fraction of noise voxels above it in this
        map differ from the level (see :func:`null_model`).
        """
        mean, variance, quantile = self._moment(k)
        levels = np.asarray(levels, dtype=np.float64)
        value = quantile(levels)
        level = (self._spread[k] * mean) ** 2  # the whole map's noise level: its variance
        windows = variance / level  # independent windows in the map
        with np.errstate(divide="ignore", invalid="ignore"):
            density = stats.gamma.pdf(value, mean**2 / variance, scale=variance / mean)
            scatter = levels * (1 - levels) / windows / density**2
        scatter = np.where(levels >= 1, 0.0, scatter)
        margin = np.sqrt(level * (1 + 1 / self._samples) + scatter)
        return np.where(np.isfinite(margin), value + GLOBAL_Z * margin, np.inf)

    def _moment(self, k: int) -> tuple:
        if k not in self._moments:
            self._moments[k] = self._statistics(k)
        return self._moments[k]


def null_model(source: str, noise, tested, difference, inside, sizes, frequencies, window: float,
               significance: float, bands, xp, notes) -> NoiseModel:
    """The noise distribution of the local band power, per band, from ``source``.

    The noise power spectrum is measured (the half-map difference, inside the
    mask when there is one; the corners; outside the mask) or given (white,
    ``noise``), and each band's statistic follows from it (:func:`_gamma_band`).
    The threshold is the statistic's upper quantile over the voxels, raised
    by :data:`GLOBAL_Z` standard deviations of what makes the fraction of
    noise voxels above it in *this* map differ from the significance level:

    * the map's noise level in the band fluctuates as a whole (few
      independent Fourier samples in a coarse band), and an estimated level
      (corners, outside the mask, the difference) is itself a sample;
    * the map holds only so many independent windows (``n``, the per-voxel
      variance over the whole-map variance), so the fraction above a fixed
      quantile scatters by ``sqrt(a (1 - a) / n)``.

    Without this margin a map whose coarse band happens to hold a little
    more noise than average would pass it almost everywhere: with it, the
    fraction of noise voxels given a resolution stays below the significance
    level in about 95 % of maps.

    Parameters
    ----------
    source : {"difference", "white", "corners", "outside-mask"}
    noise : float or None
        The white noise level (``source`` "white"), in the map's scale.
    tested, difference : arrays (``difference`` None without half2)
        The map tested and the half-map difference.
    inside : bool ndarray or None
        The mask.
    sizes : tuple of float
        Pixel sizes in reference pixels.
    frequencies : ndarray
        Band centres, cycles per reference pixel.
    bands : list of BandGrid
    notes : list
        Warnings are appended to it.
    """
    shape = tested.shape
    if source == "difference":
        spectrum_power, samples = _difference_spectrum(to_host(difference), inside, sizes)
    elif source == "white":
        spectrum_power, samples = (lambda r: get_namespace(r).full(r.shape, r.dtype.type(float(noise) ** 2))), math.inf
    elif source == "corners":
        spectrum_power, samples = _corner_spectrum(to_host(tested), sizes, notes)
    else:
        spectrum_power, samples = _outside_spectrum(to_host(tested), inside, sizes)

    def statistics(k):
        return _gamma_band(spectrum_power, sizes, shape, frequencies[k], window, xp, bands[k].grid.radius.dtype)

    return NoiseModel(statistics, _level_spread(spectrum_power, shape, sizes, frequencies),
                      samples / math.prod(shape), significance)


# ------------------------------------------------------------------------------------------------ checks
def reference_values(image, source: str, inside) -> np.ndarray:
    """The voxels of ``image`` (host) the noise is read from (``source`` "corners", "outside-mask" or
    "difference"), a regular subsample of at most :data:`CHECK_SAMPLES`, flattened."""
    if source == "corners":
        values = np.concatenate([region.ravel() for region in _corner_regions(image)])
    elif source == "outside-mask":
        values = image[~inside]
    else:
        values = image.ravel()
    return values[:: max(1, values.size // CHECK_SAMPLES)]


def check_constant(values, what: str, notes) -> None:
    """Refuse a noise reference that is mostly one value; warn when it is partly.

    Parameters
    ----------
    values : ndarray, 1-D
        The reference's voxels (:func:`reference_values`); fewer than :data:`MIN_BACKGROUND` are not checked
        (the noise spectrum's own check refuses them).
    what : str
        What the reference is ("corners of the map", "voxels outside the mask", "half-map difference").
    notes : list
        Warnings are appended to it.

    Raises
    ------
    ValueError
        Naming noise, when more than :data:`CONSTANT_REFUSED` of the voxels hold one value.
    """
    if values.size < MIN_BACKGROUND:
        return
    distinct, counts = np.unique(values, return_counts=True)
    share = counts.max() / values.size
    value = float(distinct[np.argmax(counts)])
    if share > CONSTANT_REFUSED:
        raise ValueError(f"noise: {100 * share:.3g} % of the {what} is exactly {value:g} (solvent flattened or "
                         f"zeroed, as in many deposited maps): it holds no noise to measure; {WAY_OUT}")
    if share > CONSTANT_WARNED:
        notes.append(f"{100 * share:.3g} % of the {what} is exactly {value:g} (flattened solvent?): the noise is "
                     f"underestimated and the map too fine; {WAY_OUT}")


def check_correlation(first, second, what: str, notes) -> None:
    """Warn when two half-maps correlate in their noise reference: it then holds signal.

    ``first`` and ``second`` are the halves there (:func:`reference_values`), each smoothed over a box of
    :data:`SMOOTHING` pixels per side (signal, smooth, survives it; noise averages out): a correlation above
    :data:`CORRELATED` and 4 standard deviations of independent noise's is signal.
    """
    if first.size < MIN_BACKGROUND:
        return
    correlation = float(np.corrcoef(first, second)[0, 1])
    independent = max(1.0, first.size / SMOOTHING ** np.ndim(first))  # about one independent sample per box
    if correlation > max(CORRELATED, 4 / math.sqrt(independent)):
        notes.append(f"the half-maps correlate in the {what} (r = {correlation:.2f}, smoothed over "
                     f"{SMOOTHING} px): it holds signal, so the noise is overestimated and the map too coarse; use "
                     "noise='difference' (the default with half2) or a mask whose outside is solvent")


# ------------------------------------------------------------------------------------------------ spectra
def _corner_regions(image) -> list:
    """The corner regions of ``image``: a block of :data:`CORNER_FRACTION` of each axis (at least 8 px) per corner."""
    side = [max(8, int(n * CORNER_FRACTION)) for n in image.shape]
    regions = []
    for signs in np.ndindex(*(2,) * image.ndim):
        region = tuple(slice(0, s) if first == 0 else slice(n - s, n) for first, s, n in zip(signs, side,
                                                                                               image.shape))
        regions.append(image[region])
    return regions


def _corner_spectrum(image, sizes, notes):
    """Noise power spectrum (a function of the radius) from the corner regions of ``image``."""
    corners = _corner_regions(image)
    powers = [float(np.var(c)) for c in corners]
    if min(powers) == 0:
        raise ValueError(f"noise: a corner of the map is constant (zeros?), so it holds no noise to measure; {WAY_OUT}")
    if max(powers) > CORNER_SPREAD * min(powers):
        notes.append(f"the corners' noise powers differ by {max(powers) / min(powers):.3g}x: some corner may hold "
                     "signal (the test is then conservative); give a mask or the second half-map")
    return _noise_power(corners, sizes)


def _outside_spectrum(image, inside, sizes):
    """Noise power spectrum (a function of the radius) from the voxels outside the mask, edge softened."""
    outside = ~inside
    if outside.sum() < max(MIN_BACKGROUND, MIN_BACKGROUND_FRACTION * outside.size):
        raise ValueError(f"noise: the mask leaves {100 * outside.mean():.3g} % of the voxels outside, too few to "
                         "estimate the noise from; give half2 or noise=<its standard deviation>")
    return _region_spectrum(image, outside, sizes)


def _difference_spectrum(difference, inside, sizes):
    """Noise power spectrum of the half-map difference: inside the mask (edge softened) when it holds enough
    voxels, else the whole map."""
    if inside is not None and inside.sum() >= max(MIN_BACKGROUND, MIN_BACKGROUND_FRACTION * inside.size):
        return _region_spectrum(difference, inside, sizes)
    return _noise_power([difference], sizes)


def _region_spectrum(image, region, sizes):
    """Noise power spectrum of ``image`` in ``region`` (bool), its edge softened over 4 px."""
    distance = ndimage.distance_transform_edt(region)
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
        Power at an array of radii (cycles per reference pixel), same shape and device.
    samples : float
        Effective number of independent voxels behind the estimate
        (``(sum w^2)^2 / sum w^4`` per region).
    """
    shape = regions[0].shape
    if weights is None:
        weights = outer([tukey_window(n, n // 8) for n in shape])
        regions = [(r - r.mean()) * weights for r in regions]
    periodogram = sum(np.abs(np.fft.rfftn(r)) ** 2 for r in regions)
    squared = np.broadcast_to(weights, shape) ** 2
    energy = float(squared.sum())
    samples = len(regions) * energy**2 / float((squared**2).sum())
    periodogram /= len(regions) * energy
    grid = FourierGrid(shape, sizes, 1.0)
    counts, profile, centres = radial_profile(grid.radius, periodogram, 1.0 / min(shape), weights=grid.weights)
    used = (counts > 0) & (centres > 0) & (profile > 0)  # DC is removed with the mean
    if not used.any():
        raise ValueError(f"noise: the background it is read from is constant (zeros?); {WAY_OUT}")
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


def _level_spread(spectrum_power, shape, sizes, frequencies) -> np.ndarray:
    """Relative standard deviation of the whole map's noise power in each band (Gaussian noise).

    The band power sums ``|H|^2 |F|^2`` over the spectrum; each ``|F|^2`` is
    exponential, paired with its Hermitian mirror, so its relative variance
    is ``2 sum |H|^4 P^2 / (sum |H|^2 P)^2`` (sums over the full spectrum),
    computed from the spectrum's radial histogram (bins of a quarter of the finest Fourier step).
    """
    grid = FourierGrid(shape, sizes, 1.0)
    counts, _, centres = radial_profile(grid.radius, width=1.0 / (4 * max(shape)), weights=grid.weights,
                                        centred=False)
    used = counts > 0
    radii, counts = centres[used].astype(np.float32), counts[used]
    power = to_host(spectrum_power(radii)).astype(np.float64)
    spread = []
    for frequency in frequencies:
        weighted = to_host(band_filter(radii, frequency)).astype(np.float64) ** 2 * power
        spread.append(math.sqrt(2 * (counts * weighted**2).sum()) / (counts * weighted).sum())
    return np.asarray(spread)


# ------------------------------------------------------------------------------------------------ bands
def _gamma_band(spectrum_power, sizes, shape, frequency, window, xp, dtype) -> tuple:
    """Mean, variance and upper quantiles of one band's local power (:func:`~.bands.local_power`) of Gaussian
    noise of ``spectrum_power``.

    The band-passed noise (times sqrt 2) or, without a window, it and its Riesz transforms (components ``c``) have
    cross-covariances ``C_cd = irfftn(H^2 P R_c conj(R_d))``; their squares
    summed and averaged in a unit-sum window ``g`` have mean ``sum_c C_cc(0)``
    and variance ``2 sum_u (g * g)(u) sum_cd C_cd(u)^2``. The quantiles are
    those of the gamma distribution with this mean and variance. The band is
    computed on its own small periodic grid (:func:`_null_grid`), scaled to
    the map's pixels.
    """
    grid, voxel_ratio = _null_grid(shape, sizes, frequency, window, xp, dtype)
    weighted = band_filter(grid.radius, frequency) ** 2 * spectrum_power(grid.radius) * dtype.type(1 / voxel_ratio)
    if window > 0:  # the statistic is 2 b^2 (local_power): one component, twice the amplitude's
        transfers = [math.sqrt(2)]
    else:
        transfers = [1.0] + [-1j * component * grid.inverse_radius for component in grid.components]
    overlap = None if window == 0 else irfftn(window_transfer(grid.radius, frequency, window) ** 2, grid.shape)
    mean = variance = 0.0
    for c, d in itertools.combinations_with_replacement(range(len(transfers)), 2):
        covariance = irfftn(weighted * transfers[c] * xp.conj(transfers[d]), grid.shape)
        if c == d:
            mean += float(covariance.reshape(-1)[0])
        lagged = covariance.reshape(-1)[0] ** 2 if overlap is None else (overlap * covariance**2).sum(dtype=np.float64)
        variance += (1 if c == d else 2) * 2 * float(lagged)

    def quantile(levels):
        return stats.gamma.isf(levels, mean**2 / variance, scale=variance / mean)

    return mean, variance, quantile


def _null_grid(shape, sizes, frequency: float, window: float, xp, dtype):
    """A periodic grid for the noise model of one band, and its voxel volume in map voxels.

    It spans :data:`NULL_PERIODS` periods of the band (8 windows if more; at most the map) and
    samples up to the band's reach (:func:`~.bands.reach`; the band itself without
    a window): the covariances and the window vanish well within it, and
    sums over its voxels are sums over the map's times the voxel ratio.
    """
    nyquist = (reach(window) if window > 0 else 1.05 * 2.0**BAND_HALF_WIDTH) * frequency
    spacing = [max(p, 1 / (2 * nyquist)) for p in sizes]
    periods = max(NULL_PERIODS, 8 * window)  # the window (and its autocorrelation) must not wrap
    extent = [min(n * p, periods / frequency) for n, p in zip(shape, sizes)]
    counts = [max(8, 2 * math.ceil(e / h / 2)) for e, h in zip(extent, spacing)]
    voxel_ratio = math.prod(h / p for h, p in zip(spacing, sizes))
    return FourierGrid(counts, spacing, 1.0, xp, dtype), voxel_ratio
