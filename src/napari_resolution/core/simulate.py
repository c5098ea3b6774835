"""Simulated data with an analytic answer, for tests, benchmarks, the demo and sample data.

Phantom pairs: a stationary Gaussian random field (white noise filtered in
Fourier space, hence periodic: no edge leakage) plus independent white noise
in each half. With signal spectrum ``G(k)^2 / mean(G^2)`` (unit variance) and
noise variance ``noise^2``, the expected correlation at physical frequency
``k`` is ``G^2 / (G^2 + noise^2 * mean(G^2))`` with ``G(k) = exp(-2 pi^2 sigma^2 k^2)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft

from .backend import rfftn
from .figures import COLORS, Curve
from .frequency import normalize_pixel_size, shell_counts, shell_geometry
from .results import ResultMixin
from .thresholds import find_crossing, parse_threshold, resolution_from_crossing, threshold_curve

__all__ = [
    "ExpectedCorrelation",
    "PhantomPair",
    "band_limited_noise",
    "expected_correlation",
    "gaussian_spot",
    "phantom_pair",
    "slanted_edge",
]


@dataclass(frozen=True, eq=False)
class ExpectedCorrelation(ResultMixin):
    """The analytic answer for a simulated pair.

    Attributes
    ----------
    frequency : ndarray, shape (n_shells,)
        Shell centres, cycles per reference pixel (as in CorrelationResult).
    correlation : ndarray, shape (n_shells,)
        Expected FSC/FRC at the shell centres.
    n_points : ndarray, shape (n_shells,)
        Fourier voxels per shell of the full spectrum.
    threshold : ndarray, shape (n_shells,)
        The criterion's curve for these shell counts.
    criterion : str
        Criterion name.
    crossing : float or None
        Expected crossing, cycles/pixel.
    status : str
        Expected status ("resolved", "bound" or "unresolved").
    resolution : float or None
        Expected full-period resolution (pixel_size units; Nyquist bound for
        "bound").
    sigma : float
        Gaussian filter width of the signal, pixel_size units.
    noise : float
        Standard deviation of the independent noise (signal variance is 1).
    pixel_size : tuple of float
        Pixel size per axis.
    shape : tuple of int
        Shape of each half.
    """

    frequency: np.ndarray
    correlation: np.ndarray
    n_points: np.ndarray
    threshold: np.ndarray
    criterion: str
    crossing: float | None
    status: str
    resolution: float | None
    sigma: float
    noise: float
    pixel_size: tuple
    shape: tuple

    def as_curve(self) -> Curve:
        """The expected correlation as a dotted "expected" curve, to add to a measured result's plot."""
        return Curve("expected", self.frequency, self.correlation, "expected", COLORS["expected"])


@dataclass(frozen=True, eq=False)
class PhantomPair:
    """Two simulated halves and their analytic answer.

    Attributes
    ----------
    half1, half2 : ndarray, shape ``shape``
        The two noisy realisations of one signal.
    truth : ExpectedCorrelation
        Expected curve and resolution.
    """

    half1: np.ndarray
    half2: np.ndarray
    truth: ExpectedCorrelation


def _gaussian_factors(shape, pixel_size, sigma, half):
    """Per-axis transfer ``exp(-2 pi^2 sigma^2 k_i^2)`` (FFT order; last axis halved if ``half``)."""
    factors = []
    for axis, (n, p) in enumerate(zip(shape, pixel_size)):
        last = axis == len(shape) - 1
        k = np.fft.rfftfreq(n, d=p) if (half and last) else np.fft.fftfreq(n, d=p)
        factors.append(np.exp(-2 * np.pi**2 * sigma**2 * k**2))
    return factors


def _mean_power(shape, pixel_size, sigma) -> float:
    """Mean of ``G(k)^2`` over the full Fourier grid (the Gaussian is separable)."""
    return float(np.prod([np.mean(g**2) for g in _gaussian_factors(shape, pixel_size, sigma, False)]))


def expected_correlation(spatial_frequency, sigma: float, noise: float, mean_power: float) -> np.ndarray:
    """Expected FSC at ``spatial_frequency`` (cycles per unit) of a phantom pair.

    Parameters
    ----------
    spatial_frequency : array_like
        Physical frequency, cycles per pixel_size unit.
    sigma : float
        Signal Gaussian width (pixel_size units).
    noise : float
        Noise standard deviation relative to a unit-variance signal.
    mean_power : float
        ``mean(G^2)`` over the Fourier grid (the signal's normalisation).
    """
    k = np.asarray(spatial_frequency, dtype=np.float64)
    signal = np.exp(-4 * np.pi**2 * sigma**2 * k**2)
    return signal / (signal + noise**2 * mean_power)


def phantom_pair(
    shape,
    *,
    sigma: float = 2.0,
    noise: float = 0.5,
    pixel_size=1.0,
    threshold="half-bit",
    ring_thickness: int = 1,
    seed=None,
    dtype=np.float64,
) -> PhantomPair:
    """Simulate two halves with a known FSC/FRC curve and resolution.

    Parameters
    ----------
    shape : tuple of int
        2-D ``(Y, X)`` or 3-D ``(Z, Y, X)``; any sizes (odd, non-square).
    sigma : float
        Width of the Gaussian filter giving the signal its spectrum, in
        pixel_size units (pixels when pixel_size is 1). Larger is blurrier.
    noise : float
        Standard deviation of each half's independent white noise; the
        signal has unit variance.
    pixel_size : float or sequence of float
        Pixel size per axis; the signal is isotropic in physical space.
    threshold : str or float
        Criterion for the expected resolution.
    ring_thickness : int
        Shell width used for the expected curve and counts.
    seed : int or numpy Generator, optional
        Random seed for reproducible data.
    dtype : numpy dtype
        float32 or float64.

    Returns
    -------
    PhantomPair
    """
    shape = tuple(int(n) for n in shape)
    if len(shape) not in (2, 3) or min(shape) < 8:
        raise ValueError(f"shape must be 2-D or 3-D with every axis >= 8, got {shape}")
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be positive, got {sigma}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be >= 0, got {noise}")
    sizes = normalize_pixel_size(pixel_size, len(shape))
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    mean_power = _mean_power(shape, sizes, sigma)

    spectrum = rfftn(rng.standard_normal(shape, dtype=dtype))
    for axis, g in enumerate(_gaussian_factors(shape, sizes, sigma, True)):
        view = [1] * len(shape)
        view[axis] = g.size
        spectrum *= (g / mean_power ** (0.5 / len(shape))).astype(dtype).reshape(view)
    signal = scipy.fft.irfftn(spectrum, s=shape, workers=-1).astype(dtype, copy=False)
    half1 = signal + dtype.type(noise) * rng.standard_normal(shape, dtype=dtype)
    half2 = signal + dtype.type(noise) * rng.standard_normal(shape, dtype=dtype)
    truth = _truth(shape, sizes, sigma, noise, mean_power, threshold, ring_thickness)
    return PhantomPair(half1, half2, truth)


def _truth(shape, sizes, sigma, noise, mean_power, threshold, ring_thickness) -> ExpectedCorrelation:
    geometry = shell_geometry(shape, sizes, ring_thickness)
    counts = shell_counts(geometry)
    frequency = geometry.frequency
    curve = expected_correlation(frequency / geometry.reference_pixel, sigma, noise, mean_power)
    criterion, _ = parse_threshold(threshold)
    limit = threshold_curve(threshold, counts)
    crossing, status = find_crossing(frequency, curve, limit)
    resolution = resolution_from_crossing(crossing, status, geometry.reference_pixel)
    return ExpectedCorrelation(
        frequency=frequency, correlation=curve, n_points=counts, threshold=limit,
        criterion=criterion, crossing=crossing, status=status, resolution=resolution,
        sigma=float(sigma), noise=float(noise), pixel_size=sizes, shape=shape,
    )


def band_limited_noise(shape, cutoff: float, *, seed=None, dtype=np.float64) -> np.ndarray:
    """White noise whose spectrum is cut by a hard disc: the known answer of decorrelation analysis.

    Parameters
    ----------
    shape : tuple of int
        2-D image shape.
    cutoff : float
        Cut-off frequency in cycles/pixel (0 < cutoff <= 0.5); every frequency
        above it is removed, so the image's resolution limit is ``cutoff``.
    seed : int, optional
        Random seed.
    dtype : numpy dtype
        float32 or float64.

    Returns
    -------
    ndarray, shape ``shape``
    """
    shape = tuple(int(n) for n in shape)
    if len(shape) != 2:
        raise ValueError(f"shape must be 2-D, got {shape}")
    if not 0 < cutoff <= 0.5:
        raise ValueError(f"cutoff must lie in (0, 0.5] cycles/pixel, got {cutoff}")
    rng = np.random.default_rng(seed)
    spectrum = scipy.fft.rfft2(rng.standard_normal(shape))
    radius = np.hypot(np.fft.fftfreq(shape[0])[:, None], np.fft.rfftfreq(shape[1])[None, :])
    spectrum[radius > cutoff] = 0
    return scipy.fft.irfft2(spectrum, s=shape).astype(dtype, copy=False)


def slanted_edge(shape, angle: float, sigma: float, *, low: float = 0.1, high: float = 0.9, noise: float = 0.0,
                 center=None, seed=None) -> np.ndarray:
    """A straight edge blurred by a Gaussian, sampled at pixel centres: its MTF is exp(-2 pi^2 sigma^2 f^2).

    Parameters
    ----------
    shape : tuple of int
        (rows, cols).
    angle : float
        Direction of the edge line in degrees, from the +column axis towards
        image-up (-row), the convention of :func:`mtf_edge`'s ``edge_angle``.
    sigma : float
        Gaussian blur, pixels.
    low, high : float
        Levels on the two sides (the ``high`` side is to the left of the edge direction).
    noise : float
        Standard deviation of added white Gaussian noise.
    center : (row, col), optional
        A point of the edge line; default the image centre.
    seed : int, optional
        Random seed of the noise.

    Returns
    -------
    ndarray of float64, shape ``shape``
    """
    from scipy.special import ndtr

    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    rows, cols = shape
    center = ((rows - 1) / 2, (cols - 1) / 2) if center is None else center
    theta = np.deg2rad(angle)
    normal = (np.cos(theta), np.sin(theta))  # (row, col): perpendicular to the direction (-sin, cos)
    distance = ((np.arange(rows)[:, None] - center[0]) * normal[0]
                + (np.arange(cols)[None, :] - center[1]) * normal[1])
    image = low + (high - low) * ndtr(-distance / sigma)
    if noise:
        image = image + noise * np.random.default_rng(seed).standard_normal(shape)
    return image


def gaussian_spot(shape, center, sigma: float, *, amplitude: float = 1.0, background: float = 0.0,
                  noise: float = 0.0, seed=None) -> np.ndarray:
    """A Gaussian point-spread function sampled at pixel centres (MTF exp(-2 pi^2 sigma^2 f^2)).

    Parameters
    ----------
    shape : tuple of int
        (rows, cols).
    center : (row, col)
        Sub-pixel centre.
    sigma : float
        Width in pixels.
    amplitude, background : float
        Peak height above the background, and the background.
    noise : float
        Standard deviation of added white Gaussian noise.
    seed : int, optional
        Random seed of the noise.
    """
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    rows, cols = shape
    squared = ((np.arange(rows)[:, None] - center[0]) ** 2 + (np.arange(cols)[None, :] - center[1]) ** 2)
    image = background + amplitude * np.exp(-squared / (2 * sigma**2))
    if noise:
        image = image + noise * np.random.default_rng(seed).standard_normal(shape)
    return image
