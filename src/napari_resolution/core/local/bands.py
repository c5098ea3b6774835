"""The bands of the single-map test: band-pass filters, their grids, the edge tapers and the local band power.

Used by :mod:`napari_resolution.core.single_map` and its noise model
(:mod:`.noise`). Frequencies are in cycles per reference pixel and lengths in
reference pixels: the test never sees the pixel size itself, so a map read
with another pixel size gives the same answer scaled.

* :func:`band_filter`: a raised cosine in log-frequency, half an octave
  either side of its centre (a kernel of about three periods at every band);
* :class:`BandGrid`: the map's spectrum cropped to what a band and its
  window need (a coarse band on a coarse grid);
* :class:`Taper` and :class:`TaperSet`: the raised-cosine taper of the axes
  whose edges do not wrap, as wide as a few periods of the bands it serves
  (one taper per group of bands, so that fine bands are not read through a
  taper made for the coarsest one);
* :func:`local_power`: a band's local power at every voxel, corrected for
  the taper.
"""

from __future__ import annotations

import math

import numpy as np

from ..backend import get_namespace, irfftn, rfftn
from ..frequency import FourierGrid, tukey_window

__all__ = ["BAND_HALF_WIDTH", "BandGrid", "Taper", "band_filter", "band_shape", "local_power", "outer", "reach",
           "standardised", "window_transfer"]

#: Each band falls to 0 this many octaves either side of its centre.
BAND_HALF_WIDTH = 0.5
#: Edge taper (raised cosine) per side: this many periods of the coarsest band it serves (at least MIN_TAPER px,
#: at most a quarter of the axis). Narrower tapers leak the strong low frequencies of coloured noise into the band.
TAPER_PERIODS = 2
MIN_TAPER = 8
#: Near the edges the local power is divided by the window's taper coverage, at least this (beyond: conservative),
#: and its deviation from the noise mean by the square root of the variance ratio, never below 1 (where the
#: coverage is clamped the ratio comes out small: dividing by it would blow the deviation up).
MIN_COVERAGE = 0.01


def band_filter(radius, frequency: float):
    """Band at ``frequency``: a raised cosine in log-frequency, 1 at ``frequency``, 0 half an octave either side.

    Its width is a fixed fraction of its frequency, so its kernel spans about
    three periods at every band (the analysis stays local at every scale).
    """
    xp = get_namespace(radius)
    dtype = radius.dtype.type
    octaves = xp.log2(xp.maximum(radius, dtype(1e-12)) * dtype(1 / frequency))
    phase = xp.clip(octaves * dtype(1 / BAND_HALF_WIDTH), -1, 1)
    return xp.cos(dtype(np.pi / 2) * phase) ** 2


def window_transfer(radius, frequency: float, window: float):
    """Transfer function of a unit-sum Gaussian window of ``window`` periods of ``frequency`` (standard deviation)."""
    sigma = window / frequency
    return get_namespace(radius).exp(radius.dtype.type(-2 * np.pi**2 * sigma**2) * radius * radius)


def reach(window: float) -> float:
    """Nyquist frequency of a band's grid, in units of the band's frequency.

    The band reaches ``2^BAND_HALF_WIDTH`` times its frequency; its square
    twice that, which a grid of Nyquist ``q`` folds back to at least
    ``2 q - 2 * 2^BAND_HALF_WIDTH``; the window keeps no more than 1e-4 of
    anything above ``0.68 / window`` (times the band frequency), so the fold
    must land beyond that.
    """
    top = 2.0**BAND_HALF_WIDTH
    return top + 0.5 * math.sqrt(math.log(1e4) / (2 * math.pi**2)) / window if window > 0 else math.inf


def band_shape(shape, sizes, frequency: float, window: float) -> tuple:
    """The shape of the grid where band ``frequency`` is computed (:class:`BandGrid`): the map's, or smaller.

    ``sizes``: pixel sizes in reference pixels (the largest is 1).
    """
    nyquist = reach(window) * frequency  # cycles per reference pixel
    return tuple(n if window == 0 else min(n, 2 * math.ceil(nyquist * p * n)) for n, p in zip(shape, sizes))


class BandGrid:
    """Where band ``frequency`` is computed: the map's spectrum cropped to what the band and its window need.

    The band-passed map, its Riesz transforms and its windowed square hold no
    frequency above ``reach * frequency`` that survives the window (see
    :func:`reach`): they are computed on a grid of the map's extent with a
    Nyquist frequency just above it, and the local power is brought back to
    the map's grid by zero-padding its spectrum (exact for what the window
    leaves). Without a window the full grid is used. ``sizes`` are in
    reference pixels; ``grids`` caches the Fourier grids by shape.
    """

    def __init__(self, shape, sizes, frequency: float, window: float, xp, dtype, grids: dict):
        self.shape = band_shape(shape, sizes, frequency, window)
        self.full = self.shape == tuple(shape)
        spacing = tuple(p * n / m for p, n, m in zip(sizes, shape, self.shape))
        if self.shape not in grids:  # bands on the full grid share it
            grids[self.shape] = FourierGrid(self.shape, spacing, 1.0, xp, dtype)
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


def _kept_frequencies(n: int, m: int, last: bool) -> np.ndarray:
    """Indices of an n-point FFT axis (rfft-halved when ``last``) holding the frequencies of an m-point one.

    ``m`` is even and below ``n``, or ``n`` itself (the axis kept whole, any parity).
    """
    if m >= n:
        return np.arange(n if not last else n // 2 + 1)
    if last:
        return np.arange(m // 2 + 1)
    return np.concatenate([np.arange(m // 2), np.arange(n - m // 2, n)])


class Taper:
    """Separable raised-cosine edge taper on the axes whose edges do not wrap.

    Real data does not continue across its opposite edges; a periodic map (a
    simulation, a box whose faces are flat solvent) does and needs no taper
    (:func:`~napari_resolution.core.frequency.edges_wrap` decides per axis).
    The taper is :data:`TAPER_PERIODS` periods of the coarsest band wide
    (``coarsest_period``, reference pixels; at least :data:`MIN_TAPER` and
    at most a quarter of each axis, in its own pixels): narrower, it would
    leak the steep low frequencies of signal and coloured noise into the
    bands near the edges. ``lines``: the 1-D taper of each axis; ``full``:
    their product on the device.
    """

    def __init__(self, shape, sizes, coarsest_period: float, wraps, xp, dtype):
        self.scales = [1 / p for p in sizes]  # axis pixels per reference pixel
        widths = [max(MIN_TAPER, math.ceil(TAPER_PERIODS * coarsest_period * scale)) for scale in self.scales]
        self.lines = [np.ones(n) if wrap else tukey_window(n, min(width, n // 4))
                      for n, width, wrap in zip(shape, widths, wraps)]
        self.wraps = tuple(wraps)
        self.xp, self.dtype = xp, dtype
        self.full = xp.asarray(outer(self.lines).astype(dtype))

    def apply(self, image):
        """``(image - mean) * taper``."""
        return (image - image.mean()) * self.full

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
        lines = self._lines(frequency, window)
        return (self.xp.asarray(outer([cover for cover, _ in lines], sparse=True, dtype=self.dtype)),
                self.xp.asarray(outer([root for _, root in lines], sparse=True, dtype=self.dtype)))

    def interior(self, frequency: float, window: float) -> list:
        """Per axis, the first and last index where the window's coverage of the taper at band ``frequency`` is
        not clamped: beyond them (the rim) the local power is not measured, only bounded."""
        bounds = []
        for line, (cover, _) in zip(self.lines, self._lines(frequency, window)):
            measured = np.flatnonzero(cover > MIN_COVERAGE ** (1 / len(self.lines)))
            bounds.append((int(measured[0]), int(measured[-1])) if measured.size else ((line.size - 1) // 2,) * 2)
        return bounds

    def _lines(self, frequency: float, window: float) -> list:
        """Per axis, the 1-D coverage (at least its share of :data:`MIN_COVERAGE`) and square root of the variance
        ratio (at least 1) of :meth:`correction`."""
        lines = []
        for line, scale in zip(self.lines, self.scales):
            sigma = window / frequency * scale  # the window's standard deviation in this axis's pixels
            kernel = np.fft.irfft(np.exp(-2 * np.pi**2 * sigma**2 * np.fft.rfftfreq(line.size) ** 2), n=line.size)
            kernel[np.abs(kernel) < 1e-12] = 0.0
            cover = np.maximum(_periodic_convolution(kernel, line**2), MIN_COVERAGE ** (1 / len(self.lines)))
            root = np.sqrt(_periodic_convolution(kernel**2, line**4) / (cover**2 * (kernel**2).sum()))
            lines.append((cover, np.maximum(root, 1.0)))
        return lines


def outer(lines, sparse: bool = False, dtype=np.float64):
    """The separable product of 1-D ``lines`` (one per axis): dense, or broadcastable factors multiplied lazily."""
    product = 1.0
    for axis, line in enumerate(lines):
        product = product * line.reshape([-1 if a == axis else 1 for a in range(len(lines))])
    return np.asarray(product, dtype=dtype) if not sparse else product.astype(dtype)


def _periodic_convolution(kernel, line) -> np.ndarray:
    """Periodic convolution of two 1-D arrays of one length."""
    return np.fft.irfft(np.fft.rfft(kernel) * np.fft.rfft(line), n=line.size)


def _band_power(band_spectrum, grid: FourierGrid, scale: float, monogenic: bool):
    """The band-passed map's squared amplitude at every sample: ``2 b^2``, or with ``monogenic`` its monogenic
    amplitude squared ``b^2 + sum_c r_c^2`` (the Riesz transforms ``r_c``; same mean, phase-free per sample).

    A window of a few tenths of a period already averages ``b^2`` over its
    phase: with one, the Riesz transforms (three more inverse transforms in
    3-D) change the map by less than 0.3 % (measured on the two-region
    phantoms), so they are computed only without a window.
    ``band_spectrum`` is the band-passed rfft spectrum on ``grid``; ``scale``
    converts this grid's inverse transform to the map's amplitudes.
    """
    real_dtype = grid.radius.dtype.type
    power = irfftn(band_spectrum, grid.shape)
    power *= power
    if monogenic:
        directional = band_spectrum * grid.inverse_radius
        for component in grid.components:
            riesz = irfftn(directional * (-1j * component), grid.shape)
            riesz *= riesz
            power += riesz
    power *= real_dtype(scale**2 * (1 if monogenic else 2))
    return power


def local_power(spectrum, band: BandGrid, frequency: float, window: float, taper: Taper) -> tuple:
    """The local power of one band at every voxel, corrected for the edge taper.

    The band-passed map's squared amplitude (:func:`_band_power`) is averaged in the window; near
    tapered edges it is divided by the taper's coverage, so that it estimates
    the untapered map's local power (signal and noise alike).

    Returns
    -------
    power : real array, the map's shape
    root_rho : array broadcastable to the map, or None
        How much more the power scatters near the edges (standard deviation
        ratio, at least 1; None without a taper): see :func:`standardised`.
    """
    shape = taper.full.shape
    grid = band.grid
    power = _band_power(band.crop(spectrum) * band_filter(grid.radius, frequency), grid, band.scale, window == 0)
    if window > 0:
        smoothed = rfftn(power) * window_transfer(grid.radius, frequency, window)
        power = irfftn(band.embed(smoothed, shape), shape)
        if not band.full:
            power *= power.dtype.type(1 / band.scale)
    coverage, root_rho = taper.correction(frequency, window)
    if coverage is not None:
        power /= coverage
    return power, root_rho


def standardised(power, mean: float, root_rho, out=None):
    """``mean + (power - mean) / root_rho``: the local power with the interior's spread near tapered edges, so that
    it is read against one noise threshold without being liberal there.

    Written into ``out`` (a new array when None); ``power`` itself when there is no taper (``root_rho`` None).
    """
    if root_rho is None:
        return power
    xp = get_namespace(power)
    level = power.dtype.type(mean)
    out = xp.subtract(power, level, out=out)
    out /= root_rho
    out += level
    return out
