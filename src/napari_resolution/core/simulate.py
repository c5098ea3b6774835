"""Simulated data with an analytic answer, for tests, benchmarks, the demo and sample data.

Phantom pairs: a stationary Gaussian random field (white noise filtered in
Fourier space, hence periodic: no edge leakage) plus independent white noise
in each half. With signal spectrum ``G(k)^2 / mean(G^2)`` (unit variance) and
noise variance ``noise^2``, the expected correlation at physical frequency
``k`` is ``G^2 / (G^2 + noise^2 * mean(G^2))`` with ``G(k) = exp(-2 pi^2 sigma^2 k^2)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import scipy.fft

from .backend import check_allocation, rfftn
from .figures import COLORS, Curve
from .frequency import FourierGrid, frequency_axes, normalize_pixel_size, shell_counts, shell_geometry
from .results import ResultMixin
from .thresholds import find_crossing, parse_threshold, resolution_from_crossing, threshold_curve
from .validation import check_choice, check_number, random_generator, shown

__all__ = [
    "AnisotropicPair",
    "anisotropic_pair",
    "BlinkingMovie",
    "bead_stack",
    "blinking_movie",
    "blur_crossing",
    "ramp_pair",
    "two_region_pair",
    "ExpectedCorrelation",
    "PhantomPair",
    "band_limited_noise",
    "bead_field",
    "edge_chart",
    "expected_correlation",
    "gaussian_mtf_answer",
    "gaussian_spot",
    "phantom_pair",
    "slanted_edge",
    "SimulatedSinogram",
    "tomography_sinogram",
    "SimulatedLocalizations",
    "smlm_localizations",
    "smlm_reference_table",
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
    with np.errstate(over="ignore"):  # a huge sigma: exp(-inf) = 0
        return [np.exp(-2 * np.pi**2 * (np.float64(sigma) * k) ** 2) for k in frequency_axes(shape, pixel_size, half)]


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
    try:
        k = np.asarray(spatial_frequency)
    except ValueError:  # a ragged sequence
        k = np.asarray(None)
    if k.dtype.kind not in "biuf":
        raise ValueError(f"spatial_frequency must be real numbers, got {type(spatial_frequency).__name__} "
                         f"of dtype {k.dtype}")
    sigma, noise = check_number(sigma, "sigma", 0, above=True), check_number(noise, "noise", 0)
    mean_power = check_number(mean_power, "mean_power", 0, above=True)
    with np.errstate(over="ignore"):  # huge values: the signal vanishes, the noise power is infinite
        signal = np.exp(-4 * np.pi**2 * (np.float64(sigma) * k.astype(np.float64)) ** 2)
        noise_power = np.float64(noise) ** 2 * mean_power
    if noise_power == 0:
        return np.ones_like(signal)  # no noise: the halves are identical wherever there is signal
    return signal / (signal + noise_power)


def _sizes(shape, ndims=(2,), minimum: int = 1, name: str = "shape") -> tuple[int, ...]:
    """``shape`` as ``ndims`` integer sizes >= ``minimum``, or a ValueError naming ``name``."""
    sizes = tuple(shape) if isinstance(shape, (tuple, list, np.ndarray)) else ()
    whole = all(isinstance(n, Real) and not isinstance(n, bool) and math.isfinite(n) and n == int(n) and n >= minimum
                for n in sizes)
    if len(sizes) not in ndims or not whole:
        axes = " or ".join(f"{d}-D" for d in ndims)
        what = f"an integer >= {minimum}" if name != "shape" else f"{axes} with integer sizes >= {minimum}"
        raise ValueError(f"{name} must be {what}, got {shown(shape[0] if name != 'shape' else shape)}")
    return tuple(int(n) for n in sizes)


def _check_memory(shape, per_voxel: float, extra: float = 0.0) -> None:
    """ValueError naming ``shape`` when a simulation of ``shape`` would not fit in the memory available.

    ``per_voxel``: the bytes per voxel the simulator holds at its peak (measured with tracemalloc, rounded
    up); ``extra``: bytes that do not scale with the voxels.
    """
    check_allocation(math.prod(shape) * per_voxel + extra, f"shape {shape}", "simulate a smaller shape")


def _float_dtype(dtype) -> np.dtype:
    """float32 or float64 from ``dtype``, or a ValueError naming dtype."""
    try:
        chosen = np.dtype(dtype)
    except TypeError:
        chosen = None
    if chosen is None or chosen not in (np.dtype(np.float32), np.dtype(np.float64)):  # (None == float64 dtype)
        raise ValueError(f"dtype must be float32 or float64, got {shown(dtype)}")
    return chosen


def _with_noise(image, noise, seed, levels: str) -> np.ndarray:
    """``image`` plus white noise of standard deviation ``noise``; a ValueError if the sum is not finite."""
    noise = check_number(noise, "noise", 0)
    with np.errstate(over="ignore", invalid="ignore"):
        if noise:
            image = image + noise * random_generator(seed).standard_normal(image.shape)
        finite = bool(np.isfinite(image).all())
    if not finite:
        raise ValueError(f"{levels} and noise give values beyond the float64 range")
    return image


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
    shape = _sizes(shape, (2, 3), minimum=8)
    sigma = check_number(sigma, "sigma", 0, above=True)
    dtype = _float_dtype(dtype)
    noise = check_number(noise, "noise", 0)
    largest = float(np.finfo(dtype).max) / 16  # its normal deviates (up to about 6 noise) must stay finite
    if noise > largest:
        raise ValueError(f"noise must be below {largest:.3g} in {dtype}, got {noise:g}")
    sizes = normalize_pixel_size(pixel_size, len(shape))
    rng = random_generator(seed)
    _check_memory(shape, 16 + 6 * dtype.itemsize)
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
    shape = _sizes(shape)
    if not (isinstance(cutoff, Real) and 0 < cutoff <= 0.5):
        raise ValueError(f"cutoff must lie in (0, 0.5] cycles/pixel, got {shown(cutoff)}")
    dtype = _float_dtype(dtype)
    rng = random_generator(seed)
    _check_memory(shape, 24)
    spectrum = scipy.fft.rfft2(rng.standard_normal(shape))
    rows, cols = frequency_axes(shape)
    radius = np.hypot(rows[:, None], cols[None, :])
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

    sigma = check_number(sigma, "sigma", 0, above=True)
    rows, cols = _sizes(shape)
    _check_memory((rows, cols), 32)
    center = ((rows - 1) / 2, (cols - 1) / 2) if center is None else _point(center)
    theta = np.deg2rad(check_number(angle, "angle"))
    low, high = check_number(low, "low"), check_number(high, "high")
    normal = (np.cos(theta), np.sin(theta))  # (row, col): perpendicular to the direction (-sin, cos)
    with np.errstate(over="ignore", invalid="ignore"):  # far centres, tiny sigmas: ndtr(+-inf) is 0 or 1
        distance = ((np.arange(rows)[:, None] - center[0]) * normal[0]
                    + (np.arange(cols)[None, :] - center[1]) * normal[1])
        image = low + (high - low) * ndtr(-distance / sigma)
    return _with_noise(image, noise, seed, "low, high")


def _point(center, name: str = "center") -> tuple[float, float]:
    """``center`` as two finite floats (row, col), or a ValueError naming ``name``."""
    values = tuple(center) if isinstance(center, (tuple, list, np.ndarray)) else ()
    if len(values) != 2 or not all(isinstance(c, Real) and math.isfinite(c) for c in values):
        raise ValueError(f"{name} must be (row, col), two finite numbers, got {shown(center)}")
    return float(values[0]), float(values[1])


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
    return _spots(shape, np.asarray([_point(center)]), sigma, amplitude, background, noise, seed)


def bead_stack(shape, center, sigma, *, amplitude: float = 1.0, background: float = 0.0, noise: float = 0.0,
               seed=None) -> np.ndarray:
    """A bead z-stack: an anisotropic Gaussian sampled at voxel centres (the lateral and axial PSF of a
    microscope, known exactly: FWHM = 2 sqrt(2 ln 2) sigma along each axis).

    Parameters
    ----------
    shape : (planes, rows, cols)
        Stack shape.
    center : (z, row, col)
        Sub-voxel centre.
    sigma : float or (z, row, col)
        Widths in voxels (one for all axes, or one per axis).
    amplitude, background, noise, seed
        As :func:`gaussian_spot`.
    """
    shape = _sizes(shape, ndims=(3,))
    widths = np.broadcast_to(np.asarray(sigma, dtype=float), (3,))
    for index, width in enumerate(widths):
        check_number(float(width), f"sigma[{index}]", 0, above=True)
    amplitude, background = check_number(amplitude, "amplitude"), check_number(background, "background")
    point = np.asarray(center, dtype=float)
    if point.shape != (3,):
        raise ValueError(f"center must be (z, row, col), got {center!r}")
    factors = [np.exp(-(np.arange(n) - c) ** 2 / (2 * w**2)) for n, c, w in zip(shape, point, widths)]
    image = background + amplitude * factors[0][:, None, None] * factors[1][None, :, None] * factors[2][None, None, :]
    return _with_noise(image, noise, seed, "amplitude, background")


def bead_field(shape, centers, sigma: float, *, amplitude: float = 1.0, background: float = 0.0,
               noise: float = 0.0, seed=None) -> np.ndarray:
    """Sub-resolution beads imaged with one Gaussian PSF: :func:`gaussian_spot` at several centres.

    Parameters
    ----------
    shape : tuple of int
        (rows, cols).
    centers : array_like, shape (n_beads, 2)
        Sub-pixel (row, col) centres.
    sigma : float
        PSF width in pixels.
    amplitude, background : float
        Peak height of each bead above the background, and the background.
    noise : float
        Standard deviation of added white Gaussian noise.
    seed : int, optional
        Random seed of the noise.

    Returns
    -------
    ndarray of float64, shape ``shape``
    """
    points = np.asarray([_point(center, "centers") for center in centers] if _sequence(centers) else ())
    if not len(points):
        raise ValueError(f"centers must be (row, col) pairs, shape (n_beads, 2), got {shown(centers)}")
    return _spots(shape, points, sigma, amplitude, background, noise, seed)


def _spots(shape, centers, sigma, amplitude, background, noise, seed) -> np.ndarray:
    """Gaussian spots of width ``sigma`` at ``centers`` (n, 2), on a background, with noise (checked here)."""
    sigma = check_number(sigma, "sigma", 0, above=True)
    shape = _sizes(shape)
    _check_memory(shape, 24)
    check_allocation(16 * len(centers) * sum(shape), f"centers ({len(centers)} spots on a {shape} image)",
                     "give fewer centers")
    amplitude, background = check_number(amplitude, "amplitude"), check_number(background, "background")
    # far centres: exp(-inf) = 0; huge sigmas: exp(-0) = 1; a narrower spot is the same delta, its square is not 0
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        width = 2 * np.float64(max(sigma, 1e-150)) ** 2
        rows, cols = (np.exp(-(np.arange(n)[None, :] - centers[:, axis, None]) ** 2 / width)
                      for axis, n in enumerate(shape))
        image = background + amplitude * (rows.T @ cols)  # separable: the sum over spots of outer products
    return _with_noise(image, noise, seed, "amplitude, background")


def _sequence(values) -> bool:
    """Whether ``values`` is a list, tuple or array with at least one axis (not text, not a mapping)."""
    return isinstance(values, (tuple, list)) or (isinstance(values, np.ndarray) and values.ndim > 0)


def edge_chart(angles=(5.0, 30.0, 80.0, 95.0), sigma: float = 1.5, *, tile: int = 256, noise: float = 0.0,
               seed=None) -> tuple[np.ndarray, tuple]:
    """Slanted edges at several angles, one per square tile, all blurred by one Gaussian (see :func:`slanted_edge`).

    Parameters
    ----------
    angles : sequence of float
        Edge directions in degrees (convention of :func:`slanted_edge`), one
        tile each, on a grid two tiles wide (an odd count leaves a grey tile).
    sigma : float
        Gaussian blur in pixels: every edge's MTF is exp(-2 pi^2 sigma^2 f^2).
    tile : int
        Side of a tile in pixels (>= 32).
    noise : float
        Standard deviation of added white Gaussian noise (edges go from 0.1 to 0.9).
    seed : int, optional
        Random seed of the noise.

    Returns
    -------
    image : ndarray of float64, shape (tile * ceil(len(angles) / 2), 2 * tile)
    rois : tuple of (row0, col0, row1, col1)
        Each edge's tile (end exclusive), in the order of ``angles``.
    """
    if not _sequence(angles) or not len(angles):
        raise ValueError(f"edge_chart needs angles, a sequence of at least one angle, got {shown(angles)}")
    if isinstance(tile, bool) or not isinstance(tile, Integral) or tile < 32:
        raise ValueError(f"edge_chart needs tile, an integer >= 32, got {shown(tile)}")
    check_allocation(24 * tile**2 * (len(angles) + len(angles) % 2), f"tile ({tile} pixels, {len(angles)} edges)",
                     "use a smaller tile or fewer angles")
    tiles = [slanted_edge((tile, tile), check_number(angle, "angles"), sigma) for angle in angles]
    tiles += [np.full((tile, tile), 0.5)] * (len(tiles) % 2)
    image = _with_noise(np.block([[tiles[i], tiles[i + 1]] for i in range(0, len(tiles), 2)]), noise, seed,
                        "the edges")
    rois = tuple((tile * (i // 2), tile * (i % 2), tile * (i // 2 + 1), tile * (i % 2 + 1))
                 for i in range(len(angles)))
    return image, rois


def gaussian_mtf_answer(sigma: float, pixel_size: float = 1.0) -> dict:
    """The known MTF figures of a Gaussian blur: the answer for :func:`slanted_edge`, :func:`edge_chart`, beads.

    Parameters
    ----------
    sigma : float
        Gaussian width (PSF and edge blur) in pixels; MTF(f) = exp(-2 pi^2 sigma^2 f^2).
    pixel_size : float
        Pixel size, for the periods and the FWHM.

    Returns
    -------
    dict
        ``sigma`` (pixels), ``f50`` and ``f10`` (cycles/pixel), ``resolution_50``
        and ``resolution_10`` (``pixel_size / f``), ``mtf_nyquist`` and
        ``fwhm`` (pixel_size units).
    """
    sigma = normalize_pixel_size(sigma, 1, "sigma")[0]  # any length in the pixel size range
    pixel_size = normalize_pixel_size(pixel_size, 1)[0]
    f50, f10 = (math.sqrt(math.log(1 / level) / (2 * math.pi**2)) / sigma for level in (0.5, 0.1))
    return {"sigma": float(sigma), "f50": f50, "f10": f10, "resolution_50": pixel_size / f50,
            "resolution_10": pixel_size / f10, "mtf_nyquist": math.exp(-(math.pi * min(sigma, 1e3)) ** 2 / 2),
            "fwhm": 2 * math.sqrt(2 * math.log(2)) * sigma * pixel_size}


@dataclass(frozen=True, eq=False)
class BlinkingMovie:
    """A simulated blinking single-molecule movie and its truth.

    Attributes
    ----------
    movie : ndarray, shape (T, Y, X)
        Camera counts (ADU), uint16 or float32.
    truth : dict
        ``sigma_x``, ``sigma_y`` (pixel_size units; ``sigma_x`` along the
        major axis), ``theta`` (degrees in [0, 180), from +x towards +y),
        ``sigma`` (sqrt(sigma_x sigma_y)), ``fwhm``, ``psf`` ("gaussian" or
        "airy"), ``on_time`` (mean frames an emitter stays on),
        ``correlation_frames`` (``1 / (k_on + k_off)``: what a temporal
        autocorrelation measures, ``on_time * (1 - duty_cycle)``),
        ``duty_cycle``, ``emitters_per_frame``, ``n_emitters``,
        ``pixel_size`` (y, x), ``positions`` (n, 2) physical (y, x).
    """

    movie: np.ndarray
    truth: dict


#: Longest mean on or off time (frames) of the telegraph blinking: the sums of the geometric durations stay within
#: int64 (at 1e18 frames they overflowed, and the simulation never ended).
LONGEST_STATE = 1e12
#: Largest photon count, background, gain, read noise and offset magnitude of :func:`blinking_movie`: numpy's
#: Poisson draws stop near 9e18, and the counts through the camera must stay finite in float32.
CAMERA_LEVEL = 1e15
#: Gauss-Legendre nodes per axis of a pixel when a PSF is integrated over it.
_PIXEL_NODES = 5
#: Airy PSF: the Gaussian of the same peak curvature has sigma = 0.21 wavelength / NA (Zhang et al. 2007).
AIRY_SIGMA = 0.21


def blinking_movie(shape, *, sigma=1.5, theta: float = 0.0, psf: str = "gaussian", pixel_size=1.0,
                   n_emitters: int = 1000, structure: str = "uniform", margin=None, on_probability: float = 0.005,
                   on_time: float = 4.0, photons: float = 1000.0, background: float = 10.0,
                   background_pattern: float = 0.0, bleach_frames=None, camera: str = "scmos", gain: float = 1.0,
                   offset: float = 100.0, read_noise: float = 1.5, row_noise: float = 0.0, column_noise: float = 0.0,
                   dtype=np.uint16, seed=None) -> BlinkingMovie:
    """Simulate a blinking single-molecule movie with a known PSF and on-time.

    Emitters sit at fixed positions (uniform, or along smooth random
    filaments) and blink as two-state Markov chains, frame by frame: an off
    emitter switches on with ``on_probability``, an on emitter switches off
    with ``1 / on_time`` (geometric on-times of mean ``on_time`` frames);
    chains start in their stationary state. An on emitter sends ``photons``
    (mean) through a pixel-integrated PSF; Poisson shot noise, the camera's
    gain (EMCCD: Gamma-distributed electron multiplication, excess noise
    sqrt(2); sCMOS: plain gain), read noise and offset follow. What real
    data add, for the estimator's tests: a non-uniform background that
    bleaches (a drift), line noise of an sCMOS camera, emitters that do not
    reach the frame's edges.

    Parameters
    ----------
    shape : (T, Y, X)
        Frames, rows, columns.
    sigma : float or (float, float)
        PSF width, pixel_size units: one value, or (sigma_x, sigma_y) with
        sigma_x along the direction ``theta``.
    theta : float
        Direction of sigma_x, degrees from +x (columns) towards +y (rows).
    psf : {"gaussian", "airy"}
        Gaussian, or an Airy pattern whose Gaussian equivalent is ``sigma``
        (wavelength / NA = sigma / 0.21; isotropic ``sigma`` only).
    pixel_size : float or (float, float)
        (y, x) pixel size.
    n_emitters : int
        Emitters in the field (mean on per frame: ``n_emitters * duty cycle``).
    structure : {"uniform", "filaments"}
        Where the emitters are: uniform over the frame and a ``margin``
        around it, or along 6 smooth random filaments.
    margin : float, optional
        How far uniform emitters reach beyond the frame's edges (pixel_size
        units); default 4 sigma: a crop of a larger field, whose PSFs are cut
        at the edges. Negative keeps them that far inside the frame (a field
        not blinking up to its edges: a cell in its middle).
    on_probability : float
        Per-frame probability that an off emitter switches on, in (0, 1].
    on_time : float
        Mean on-time in frames (>= 1).
    photons : float
        Mean photons of an on emitter per frame.
    background : float
        Photons per pixel per frame (at the first frame).
    background_pattern : float
        Relative rms of a smooth non-uniform part of the background (uneven
        illumination, out-of-focus fluorescence): ``background`` times
        ``max(0, 1 + background_pattern g)``, ``g`` a random field of unit
        rms correlated over an eighth of the frame. Static, the temporal mean
        removes it; with ``bleach_frames`` it fades with the rest: a
        background that drifts.
    bleach_frames : float, optional
        The background decays as exp(-t / bleach_frames); None: constant.
    camera : {"scmos", "emccd"}
        Gain model.
    gain : float
        ADU per photon (sCMOS) or mean EM gain (EMCCD).
    offset : float
        ADU added to every pixel.
    read_noise : float
        Gaussian read noise, ADU rms.
    row_noise, column_noise : float
        Gaussian noise shared by every pixel of a row (a column) of a frame,
        ADU rms, drawn anew for each frame: sCMOS line noise.
    dtype : uint16 or float32
        uint16 counts are rounded and clipped to [0, 65535].
    seed : int or numpy Generator, optional

    Returns
    -------
    BlinkingMovie
    """
    frames, rows, cols = _sizes(shape, (3,), minimum=1)
    pixel = normalize_pixel_size(pixel_size, 2)
    widths, angle = _psf_widths(sigma, theta, psf)
    options = _blink_options(on_probability, on_time, photons, background, bleach_frames, camera, gain, offset,
                             read_noise, dtype)
    options.update({name: _camera_level(value, name) for name, value in (
        ("background_pattern", background_pattern), ("row_noise", row_noise), ("column_noise", column_noise))})
    count = _positive_int(n_emitters, "n_emitters")
    extent = (rows * pixel[0], cols * pixel[1])
    margin = _margin(margin, widths, extent)
    rng = random_generator(seed)
    _check_movie_memory((frames, rows, cols), count, pixel, widths, psf, options)
    positions = _emitter_positions(structure, count, extent, margin, rng)
    images = _emitter_images(positions, (rows, cols), pixel, widths, angle, psf)
    states = _telegraph(frames, count, options["on_probability"], 1 / options["on_time"], rng)
    profile = _background_profile((rows, cols), options["background_pattern"], rng)
    movie = _camera(states @ images, frames, profile, options, rng)
    duty = options["on_probability"] / (options["on_probability"] + 1 / options["on_time"])
    sigma_x, sigma_y = widths
    truth = {"sigma_x": sigma_x, "sigma_y": sigma_y, "theta": angle, "sigma": math.sqrt(sigma_x * sigma_y),
             "fwhm": 2 * math.sqrt(2 * math.log(2)) * math.sqrt(sigma_x * sigma_y), "psf": psf,
             "on_time": options["on_time"], "correlation_frames": 1 / (options["on_probability"]
                                                                        + 1 / options["on_time"]),
             "duty_cycle": duty, "emitters_per_frame": count * duty, "n_emitters": count, "pixel_size": pixel,
             "positions": positions}
    return BlinkingMovie(movie, truth)


def _psf_widths(sigma, theta, psf: str) -> tuple[tuple[float, float], float]:
    """(major, minor) widths and the major axis direction in [0, 180) degrees, checked."""
    check_choice(psf, "psf", ("gaussian", "airy"))
    pair = sigma if isinstance(sigma, (tuple, list, np.ndarray)) else (sigma, sigma)
    if len(pair) != 2:
        raise ValueError(f"sigma must be one width or (sigma_x, sigma_y), got {shown(sigma)}")
    sigma_x, sigma_y = (check_number(value, "sigma", 0, above=True) for value in pair)
    angle = check_number(theta, "theta")
    if psf == "airy" and sigma_x != sigma_y:
        raise ValueError(f"sigma must be one width for psf='airy' (an Airy pattern is round), got {shown(sigma)}")
    if sigma_y > sigma_x:
        sigma_x, sigma_y, angle = sigma_y, sigma_x, angle + 90
    return (sigma_x, sigma_y), angle % 180


def _margin(margin, widths, extent) -> float:
    """The emitters' margin around the frame: 4 sigma by default; a negative one must leave room inside."""
    if margin is None:
        return 4 * max(widths)
    value = check_number(margin, "margin")
    if not -min(extent) / 2 < value <= CAMERA_LEVEL:
        raise ValueError(f"margin must lie in (-{min(extent) / 2:g}, {CAMERA_LEVEL:g}] (a negative one keeps the "
                         f"emitters inside the frame of {extent[0]:g} x {extent[1]:g}), got {shown(margin)}")
    return value


def _background_profile(frame, pattern: float, rng) -> np.ndarray:
    """(Y, X) background relative to its mean level: 1, or ``max(0, 1 + pattern g)`` with ``g`` smooth, unit rms.

    ``g`` is white noise blurred by a Gaussian of an eighth of the frame's smaller side (drawn only when
    ``pattern`` > 0, so that the other draws of a seed stay the same).
    """
    if pattern == 0:
        return np.ones(frame)
    from scipy import ndimage

    field = ndimage.gaussian_filter(rng.standard_normal(frame), min(frame) / 8)
    field = (field - field.mean()) / max(float(field.std()), np.finfo(float).tiny)
    return np.maximum(0.0, 1 + pattern * field)


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {shown(value)}")
    return int(value)


def _blink_options(on_probability, on_time, photons, background, bleach_frames, camera, gain, offset, read_noise,
                   dtype) -> dict:
    """The blinking and camera options, checked."""
    on_probability = check_number(on_probability, "on_probability", 0, above=True)
    if not 1 / LONGEST_STATE <= on_probability <= 1:
        raise ValueError(f"on_probability must lie in [{1 / LONGEST_STATE:g}, 1], got {shown(on_probability)}")
    if check_number(on_time, "on_time", 1) > LONGEST_STATE:
        raise ValueError(f"on_time must be at most {LONGEST_STATE:g} frames, got {shown(on_time)}")
    check_choice(camera, "camera", ("scmos", "emccd"))
    chosen = np.dtype(dtype) if any(dtype is kind or isinstance(dtype, str) and dtype == kind
                                    for kind in (np.uint16, np.float32, "uint16", "float32")) else None
    if chosen is None:
        raise ValueError(f"dtype must be uint16 or float32, got {shown(dtype)}")
    return {"on_probability": on_probability, "on_time": float(on_time),
            "photons": _camera_level(photons, "photons"), "background": _camera_level(background, "background"),
            "bleach_frames": None if bleach_frames is None else check_number(bleach_frames, "bleach_frames", 0,
                                                                               above=True),
            "camera": camera, "gain": _camera_level(gain, "gain", above=True),
            "offset": _camera_level(offset, "offset", -CAMERA_LEVEL),
            "read_noise": _camera_level(read_noise, "read_noise"), "dtype": chosen}


def _camera_level(value, name: str, low: float = 0.0, *, above: bool = False) -> float:
    """``value`` checked (>= ``low``, > with ``above``) and at most :data:`CAMERA_LEVEL`, or a ValueError naming it."""
    value = check_number(value, name, low, above=above)
    if value > CAMERA_LEVEL:
        raise ValueError(f"{name} must be at most {CAMERA_LEVEL:g}, got {value:g}")
    return value


def _emitter_positions(structure: str, count: int, extent, margin: float, rng) -> np.ndarray:
    """(count, 2) physical (y, x) positions: uniform over the frame plus ``margin``, or on filaments."""
    if check_choice(structure, "structure", ("uniform", "filaments")) == "uniform":
        low, high = -margin, np.asarray(extent) + margin
        return rng.uniform(low, high, (count, 2))
    filaments = 6
    start = rng.uniform(0, extent, (filaments, 2))
    angle = rng.uniform(0, np.pi, filaments)
    direction = np.stack([np.sin(angle), np.cos(angle)], axis=1)
    normal = np.stack([-direction[:, 1], direction[:, 0]], axis=1)
    length = float(np.hypot(*extent))
    which = rng.integers(0, filaments, count)
    along = rng.uniform(-length / 2, length / 2, count)
    wobble = 0.1 * length * np.sin(2 * np.pi * along / length + rng.uniform(0, 2 * np.pi, filaments)[which])
    return start[which] + along[:, None] * direction[which] + wobble[:, None] * normal[which]


def _check_movie_memory(shape, count: int, pixel, widths, psf: str, options: dict) -> None:
    """ValueError naming n_emitters (their PSFs and blinking) or shape (the movie) when they would not fit in memory.

    The emitters' pixel-integrated PSFs hold about 64 bytes per pixel of each, their on and off periods 96
    bytes per period; the movie its samples, plus the emitters' signal in every frame (24 bytes per value).
    """
    frames, rows, cols = shape
    side = [2 * reach + 1 for reach in _psf_reach(pixel, widths, psf)]
    cycle = 1 / options["on_probability"] + options["on_time"]
    periods = frames / cycle + 6 * math.sqrt(frames / cycle + 1) + 4
    cause = "sigma and pixel_size" if side[0] * side[1] > rows * cols else "n_emitters"  # a PSF wider than the frame
    check_allocation(count * (64 * side[0] * side[1] + 96 * periods),
                     f"{cause} ({count} emitters, PSFs of {side[0]:.3g} x {side[1]:.3g} pixels, {frames} frames)",
                     "simulate fewer emitters, or a narrower PSF")
    duty = options["on_probability"] * options["on_time"] / (options["on_probability"] * options["on_time"] + 1)
    signal = min(frames * rows * cols, math.ceil(frames * count * duty) * side[0] * side[1])
    check_allocation(frames * rows * cols * options["dtype"].itemsize + 24 * signal, f"shape {tuple(shape)}",
                     "simulate fewer frames or smaller ones")


def _psf_reach(pixel, widths, psf: str) -> list[float]:
    """Half-width in whole pixels (y, x) of the region each emitter's PSF is integrated over (inf when huge)."""
    with np.errstate(over="ignore"):
        return [float(np.ceil((8 if psf == "airy" else 4) * np.float64(max(widths)) / p)) + 1 for p in pixel]


def _emitter_images(positions, frame, pixel, widths, angle: float, psf: str):
    """Sparse (n_emitters, Y * X) matrix: each emitter's PSF integrated over every pixel (sums to <= 1)."""
    import scipy.sparse

    rows, cols = frame
    half = [int(reach) for reach in _psf_reach(pixel, widths, psf)]
    offsets = [np.arange(-h, h + 1) for h in half]
    centre = np.floor(positions / np.asarray(pixel)).astype(np.int64)  # pixel holding each emitter
    iy = centre[:, 0, None, None] + offsets[0][None, :, None]
    ix = centre[:, 1, None, None] + offsets[1][None, None, :]
    iy, ix = np.broadcast_arrays(iy, ix)
    values = _pixel_integrated(positions, iy, ix, pixel, widths, angle, psf)
    inside = (iy >= 0) & (iy < rows) & (ix >= 0) & (ix < cols)
    emitter = np.broadcast_to(np.arange(len(positions))[:, None, None], iy.shape)
    return scipy.sparse.csr_matrix((values[inside], (emitter[inside], (iy * cols + ix)[inside])),
                                   shape=(len(positions), rows * cols))


def _pixel_integrated(positions, iy, ix, pixel, widths, angle: float, psf: str) -> np.ndarray:
    """PSF of each emitter integrated over pixels (iy, ix) by Gauss-Legendre quadrature (unit total)."""
    nodes, weights = np.polynomial.legendre.leggauss(_PIXEL_NODES)
    nodes, weights = (nodes + 1) / 2, weights / 2  # on [0, 1]
    total = np.zeros(iy.shape)
    for node_y, weight_y in zip(nodes, weights):
        dy = (iy + node_y) * pixel[0] - positions[:, 0, None, None]
        for node_x, weight_x in zip(nodes, weights):
            dx = (ix + node_x) * pixel[1] - positions[:, 1, None, None]
            total += weight_y * weight_x * _psf_density(dy, dx, widths, angle, psf)
    return total * pixel[0] * pixel[1]


def _psf_density(dy, dx, widths, angle: float, psf: str) -> np.ndarray:
    """PSF per unit area (integral 1) at physical offsets (dy, dx)."""
    sigma_x, sigma_y = widths
    if psf == "airy":
        from scipy.special import j1

        wavenumber = 2 * np.pi * AIRY_SIGMA / sigma_x  # 2 pi NA / wavelength
        v = np.maximum(wavenumber * np.hypot(dy, dx), 1e-12)
        return wavenumber**2 / (2 * np.pi) * (2 * j1(v) / v) ** 2
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    u, w = c * dx + s * dy, -s * dx + c * dy
    return np.exp(-u**2 / (2 * sigma_x**2) - w**2 / (2 * sigma_y**2)) / (2 * np.pi * sigma_x * sigma_y)


def _telegraph(frames: int, count: int, switch_on: float, switch_off: float, rng):
    """Sparse (frames, count) 0/1 matrix of two-state Markov chains started in their stationary state.

    On and off periods are drawn as alternating geometric durations per
    emitter (no loop over frames); the matrix holds the on frames.
    """
    import scipy.sparse

    duty = switch_on / (switch_on + switch_off)
    cycle = 1 / switch_on + 1 / switch_off
    periods = int(frames / cycle + 6 * math.sqrt(frames / cycle + 1) + 4)
    while True:
        durations = np.empty((count, 2 * periods), dtype=np.int64)
        starts_on = rng.random(count) < duty
        on, off = rng.geometric(switch_off, (count, periods)), rng.geometric(switch_on, (count, periods))
        durations[:, 0::2] = np.where(starts_on[:, None], on, off)
        durations[:, 1::2] = np.where(starts_on[:, None], off, on)
        ends = np.cumsum(durations, axis=1)
        if (ends[:, -1] >= frames).all():
            break
        periods *= 2
    first_on = np.where(starts_on, 0, 1)  # the column of each emitter's first on period
    columns = first_on[:, None] + 2 * np.arange(periods)[None, :]
    stop = np.take_along_axis(ends, columns, axis=1)
    start = stop - np.take_along_axis(durations, columns, axis=1)
    start, stop = np.minimum(start, frames), np.minimum(stop, frames)
    lengths = (stop - start).ravel()
    emitter = np.repeat(np.repeat(np.arange(count), periods), lengths)
    frame = np.repeat(start.ravel(), lengths) + (np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths,
                                                                                      lengths))
    return scipy.sparse.csr_matrix((np.ones(frame.size), (frame, emitter)), shape=(frames, count))


def _camera(expected, frames: int, profile: np.ndarray, options: dict, rng) -> np.ndarray:
    """Photon counts of ``expected`` (sparse (T, Y*X) emitter signal / photons) through the camera, per chunk.

    ``profile`` is the background relative to its level at each pixel (Y, X).
    """
    rows, cols = profile.shape
    movie = np.empty((frames, rows, cols), dtype=options["dtype"])
    chunk = max(1, (1 << 22) // (rows * cols))
    for first in range(0, frames, chunk):
        t = np.arange(first, min(frames, first + chunk))
        with np.errstate(over="ignore"):  # a bleaching time of a few denormals: gone after the first frame
            level = options["background"] * (np.ones(t.size) if options["bleach_frames"] is None
                                             else np.exp(-t / options["bleach_frames"]))
        mean = options["photons"] * expected[t].toarray() + level[:, None] * profile.ravel()
        counts = rng.poisson(mean).astype(np.float64)
        if options["camera"] == "emccd":
            counts = np.where(counts > 0, rng.gamma(np.maximum(counts, 1), options["gain"]), 0.0)
        else:
            counts *= options["gain"]
        counts += options["offset"] + options["read_noise"] * rng.standard_normal(counts.shape)
        counts = counts.reshape(t.size, rows, cols)
        for name, shape in (("row_noise", (t.size, rows, 1)), ("column_noise", (t.size, 1, cols))):
            if options[name] > 0:  # drawn only when asked: the other draws of a seed stay the same
                counts += options[name] * rng.standard_normal(shape)
        if options["dtype"] == np.uint16:
            counts = np.clip(np.rint(counts), 0, 65535)
        movie[first:first + t.size] = counts
    return movie


def two_region_pair(shape, sigmas=(1.5, 3.0), noise: float = 0.5, *, seed=None, dtype=np.float32) -> tuple:
    """Two half-maps whose shared signal is sharp in one region and blurred in the other: local-resolution truth.

    The signal is unit white noise blurred (periodically, in Fourier space)
    by a Gaussian of ``sigmas[0]`` px where ``sharpness`` is 1 (around the
    first pixel of the last axis) and ``sigmas[1]`` where it is 0 (around its
    middle), with smooth transitions about 5 px wide at a quarter and three
    quarters of the axis; each half adds independent white noise. Inside a
    region the FSC is ``g^2 / (g^2 + noise^2)`` with
    ``g = exp(-2 pi^2 sigma^2 k^2)``: :func:`blur_crossing` gives its resolution.

    Parameters
    ----------
    shape : tuple of int
        2-D or 3-D, every axis >= 16.
    sigmas : (float, float)
        Blur of the sharp and of the blurred region, pixels.
    noise : float
        Standard deviation of each half's noise (> 0).
    seed : int, optional
    dtype : float32 or float64

    Returns
    -------
    half1, half2 : ndarray, ``shape``
    sharpness : ndarray, shape (shape[-1],)
        1 in the sharp region, 0 in the blurred one.
    """
    shape, (sharp, blurred), noise, dtype = _blend_arguments(shape, sigmas, noise, dtype)
    sharpness = 0.5 * (1 + np.tanh(8 * np.cos(2 * np.pi * np.arange(shape[-1]) / shape[-1])))
    half1, half2 = _blended_pair(shape, (sharp, blurred), np.stack([sharpness, 1 - sharpness]), noise, seed, dtype)
    return half1, half2, sharpness


def ramp_pair(shape, sigmas=(1.5, 3.0), noise: float = 0.5, *, seed=None, dtype=np.float32) -> tuple:
    """Two half-maps whose shared signal's blur changes smoothly along the last axis: local-resolution truth.

    The blur is ``sigmas[0]`` px at the first pixel of the last axis and
    rises as a raised cosine to ``sigmas[1]`` px at its middle, then falls
    back (periodic, so the map wraps). It is made of the same unit white
    noise blurred at levels 0.05 px apart, blended linearly between the two
    levels around each position's blur; the blend crosses any threshold
    within 0.1 % of the single blur between its levels, so
    :func:`blur_crossing` of ``sigma[x]`` is the local answer at position
    ``x`` (where the blur changes slowly next to the resolution).

    Parameters
    ----------
    shape, noise, seed, dtype
        As :func:`two_region_pair`.
    sigmas : (float, float)
        Smallest and largest blur, pixels.

    Returns
    -------
    half1, half2 : ndarray, ``shape``
    sigma : ndarray, shape (shape[-1],)
        The blur at each position along the last axis, pixels.
    """
    shape, (low, high), noise, dtype = _blend_arguments(shape, sigmas, noise, dtype)
    sigma = low + (high - low) * 0.5 * (1 - np.cos(2 * np.pi * np.arange(shape[-1]) / shape[-1]))
    levels = np.linspace(low, high, max(2, math.ceil(abs(high - low) / RAMP_STEP) + 1))
    weights = np.maximum(0.0, 1 - np.abs(sigma[None] - levels[:, None]) / max(levels[1] - levels[0], 1e-12))
    weights /= weights.sum(axis=0)
    return (*_blended_pair(shape, levels, weights, noise, seed, dtype), sigma)


#: Spacing (px) of the blur levels :func:`ramp_pair` blends.
RAMP_STEP = 0.05


def _blend_arguments(shape, sigmas, noise, dtype) -> tuple:
    """The checked shape, two blurs, noise and dtype of :func:`two_region_pair` and :func:`ramp_pair`."""
    shape = _sizes(shape, ndims=(2, 3), minimum=16)
    if not _sequence(sigmas) or len(sigmas) != 2:
        raise ValueError(f"sigmas must be two blurs in pixels, got {shown(sigmas)}")
    blurs = tuple(check_number(value, "sigmas", 0.0, above=True) for value in sigmas)
    noise = check_number(noise, "noise", 0.0, above=True)
    dtype = _float_dtype(dtype)
    largest = float(np.finfo(dtype).max) / 16  # its normal deviates (up to about 6 noise) must stay finite
    if noise > largest:
        raise ValueError(f"noise must be below {largest:.3g} in {dtype}, got {noise:g}")
    return shape, blurs, noise, dtype


def _blended_pair(shape, sigmas, weights, noise: float, seed, dtype) -> tuple:
    """Half-maps: one unit white noise blurred by each of ``sigmas``, blended by ``weights`` (one row per blur,
    along the last axis; only the blurs whose weight is somewhere above 0 are made), plus independent noise."""
    rng = random_generator(seed)
    _check_memory(shape, 64)
    spectrum = scipy.fft.rfftn(rng.standard_normal(shape))
    squared = FourierGrid(shape).squared_radius()
    signal = np.zeros(shape)
    for sigma, weight in zip(sigmas, weights):
        if weight.any():
            signal += scipy.fft.irfftn(spectrum * np.exp(-2 * np.pi**2 * sigma**2 * squared), s=shape) * weight
    return tuple((signal + noise * rng.standard_normal(shape)).astype(dtype) for _ in range(2))


def blur_crossing(sigma: float, noise: float, threshold: float) -> float:
    """Full-period resolution (px) where ``g^2 / (g^2 + noise^2)`` falls to ``threshold``, ``g`` a Gaussian's MTF.

    Unit white noise blurred by ``sigma`` px has power ``g(k)^2 = exp(-4 pi^2 sigma^2 k^2)``.
    """
    level = threshold * noise**2 / (1 - threshold)
    if level >= 1:
        return math.inf
    return 1 / math.sqrt(math.log(1 / level) / (4 * math.pi**2 * sigma**2))


@dataclass(frozen=True, eq=False)
class SimulatedSinogram:
    """Projections of a known phantom (:func:`tomography_sinogram`).

    Attributes
    ----------
    sinogram : float32 ndarray, shape (size, angles), (angles, rows, size) or (angles, size, rows)
        Line integrals (``-log`` of the transmitted fraction): a 2-D sinogram
        in scikit-image's layout, or a projection stack (the last with its
        tilt axis along x).
    theta : ndarray of float64, shape (angles,)
        Projection angles in degrees.
    phantom : float32 ndarray, shape (size, size) or (rows, size, size)
        The object: attenuation per pixel, in the units of ``sinogram``.
    dose : float or None
        Incident counts per ray (None: noise-free).
    """

    sinogram: np.ndarray
    theta: np.ndarray
    phantom: np.ndarray
    dose: float | None


#: Doses of :func:`tomography_sinogram` (photons per ray): beyond, numpy's Poisson draws fail (about 9e18), and
#: below, the line integrals of a ray that counts nothing, log(dose / 0.5), overflow.
DOSES = (1e-300, 1e18)
#: Largest line integral of :func:`tomography_sinogram` (beyond about 3.4e38 the float32 data overflowed).
MAX_ATTENUATION = 100.0
#: Phantoms of :func:`tomography_sinogram`.
TOMOGRAPHY_PHANTOMS = ("shepp-logan", "random")


def _tomography_phantom(kind: str, size: int, rows, rng) -> np.ndarray:
    """A phantom of peak 1 inside the circle the detector spans: (size, size), or (rows, size, size)."""
    from skimage.data import shepp_logan_phantom
    from skimage.transform import resize

    disc = np.hypot(*(np.mgrid[:size, :size] - size // 2)) <= 0.45 * size
    if kind == "shepp-logan":
        plane = resize(shepp_logan_phantom(), (size, size), anti_aliasing=True) * disc
        return plane if rows is None else np.broadcast_to(plane, (rows, size, size))
    shape = (size, size) if rows is None else (rows, size, size)
    from scipy.ndimage import gaussian_filter

    texture = gaussian_filter(rng.standard_normal(shape), 1.5)
    return (1 + 0.5 * texture / texture.std()).clip(0) * disc


def tomography_sinogram(size: int = 128, theta=None, *, phantom: str = "shepp-logan", dose=None, rows=None,
                        attenuation: float = 2.0, tilt_axis: str = "y", seed=None) -> SimulatedSinogram:
    """Parallel-beam projections of a phantom with Poisson noise at a dose, for split-dataset tomography.

    Parameters
    ----------
    size : int
        Detector pixels, also the phantom's side (at least 16).
    theta : sequence of float, optional
        Angles in degrees (default: ``2 * ceil(pi/2 * size)`` uniform angles
        over [0, 180), enough for each half of the split).
    phantom : {"shepp-logan", "random"}
        The modified Shepp–Logan head, or a textured random object (a
        Gaussian random field, smoothed by σ = 1.5 px, in a disc).
    dose : float, optional
        Incident photons per ray: the transmitted counts are Poisson with
        mean ``dose * exp(-line integral)`` (a ray with none counts 0.5).
        None: noise-free.
    rows : int, optional
        None: one slice, a 2-D sinogram (size, angles). An integer: a
        projection stack (angles, rows, size) of a volume of ``rows`` slices
        (Shepp–Logan repeated along the rows; the random texture is 3-D).
    attenuation : float
        The largest line integral of the noise-free data (2: 14 % transmitted).
    tilt_axis : {"y", "x"}
        Along which axis of each projection of a stack the tilt axis runs:
        "y" gives (angles, rows, size), "x" the same projections transposed,
        (angles, size, rows), as many real tilt series are stored.
    seed : int, optional
        Seed of the noise and of the random phantom.

    Returns
    -------
    SimulatedSinogram

    Raises
    ------
    ValueError
        A bad size, rows, dose, attenuation, phantom name, tilt axis, seed or angles.
    """
    size = _sizes((size,), ndims=(1,), minimum=16, name="size")[0]
    if rows is not None:
        rows = _sizes((rows,), ndims=(1,), minimum=1, name="rows")[0]
    check_choice(phantom, "phantom", TOMOGRAPHY_PHANTOMS)
    check_choice(tilt_axis, "tilt_axis", ("y", "x"))
    attenuation = check_number(attenuation, "attenuation", 0, above=True)
    if attenuation > MAX_ATTENUATION:
        raise ValueError(f"attenuation must be at most {MAX_ATTENUATION:g} (a transmission of "
                         f"exp(-{MAX_ATTENUATION:g}): no photon gets through), got {attenuation:g}")
    dose = None if dose is None else check_number(dose, "dose", 0, above=True)
    if dose is not None and not DOSES[0] <= dose <= DOSES[1]:
        raise ValueError(f"dose must lie from {DOSES[0]:g} to {DOSES[1]:g} photons per ray, got {dose:g}")
    theta = None if theta is None else _tomography_angles(theta)
    angles = 2 * math.ceil(math.pi / 2 * size) if theta is None else theta.size  # the default: enough for each half
    planes = (rows or 1) if phantom == "random" else 1
    check_allocation(8 * size**2 * (4 + 3 * planes) + 40 * angles * (rows or 1) * size,
                     f"size {size} ({angles} angles, {rows or 1} rows)", "simulate a smaller size or fewer rows")
    if theta is None:
        theta = np.linspace(0.0, 180.0, angles, endpoint=False)
    rng = random_generator(seed)
    volume = _tomography_phantom(phantom, size, rows, rng)
    from skimage.transform import radon

    planes = volume[:1] if phantom == "shepp-logan" and rows is not None else volume.reshape(-1, size, size)
    projections = np.stack([radon(np.array(plane), theta, circle=True).T for plane in planes], axis=1)  # (A, n, N)
    scale = attenuation / projections.max()
    projections = np.broadcast_to(projections, (theta.size, rows or 1, size)) * scale
    if dose is not None:
        counts = rng.poisson(dose * np.exp(-projections))
        projections = -np.log(np.maximum(counts, 0.5) / dose)
    sinogram = projections[:, 0].T if rows is None else projections
    if rows is not None and tilt_axis == "x":
        sinogram = sinogram.transpose(0, 2, 1)
    return SimulatedSinogram(np.ascontiguousarray(sinogram, dtype=np.float32), theta,
                             (volume * scale).astype(np.float32), dose)


def _tomography_angles(theta) -> np.ndarray:
    """``theta`` as float64 degrees (at least 8, finite), or a ValueError naming it."""
    try:
        angles = np.asarray(theta, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"theta must be a sequence of angles in degrees, got {shown(theta)}") from None
    if angles.ndim != 1 or angles.size < 8 or not np.isfinite(angles).all():
        raise ValueError(f"theta must be at least 8 finite angles in degrees, got {shown(theta)}")
    return angles


@dataclass(frozen=True, eq=False)
class AnisotropicPair:
    """Two half-maps of a texture blurred differently along each axis, and their resolution along any direction.

    The signal is unit white noise blurred by ``exp(-2 pi^2 sum sigma_i^2 k_i^2)``;
    each half adds white noise of ``noise``. Along a unit vector ``u`` the
    FSC is ``g^2 / (g^2 + noise^2)`` with the Gaussian of
    ``sigma_eff^2 = sum sigma_i^2 u_i^2``.

    Attributes
    ----------
    half1, half2 : ndarray, shape (Z, Y, X)
    sigma : tuple of float
        Blur per axis (z, y, x), ``pixel_size`` units.
    noise : float
    pixel_size : tuple of float
    """

    half1: np.ndarray
    half2: np.ndarray
    sigma: tuple
    noise: float
    pixel_size: tuple

    def resolution(self, direction, threshold: float = 1 / 7, cone_angle: float | None = None) -> float:
        """Full-period resolution (``pixel_size`` units) along ``direction`` at a fixed ``threshold``.

        Parameters
        ----------
        direction : sequence of 3 float
            (z, y, x), any length.
        threshold : float
            FSC level in (0, 1).
        cone_angle : float, optional
            Half angle (degrees) of a double cone around ``direction`` whose
            voxels share one curve (what a directional FSC measures): the
            expected signal power is averaged over the cone's directions
            (solid-angle weighted). None: the direction alone (``sigma_eff``).
        """
        axis = np.asarray(direction, dtype=np.float64)
        axis = axis / np.linalg.norm(axis)
        squared = _cone_sigma_squared(axis, np.asarray(self.sigma, dtype=np.float64) ** 2, cone_angle)
        level = threshold * self.noise**2 / (1 - threshold)  # the signal power where the FSC is threshold

        def excess(k):
            return float(np.mean(np.exp(-4 * np.pi**2 * squared * k * k))) - level

        import scipy.optimize

        return 1 / scipy.optimize.brentq(excess, 1e-9, 10 / math.sqrt(float(squared.min())))


def _cone_sigma_squared(axis, sigma_squared, cone_angle) -> np.ndarray:
    """``sigma_eff^2`` of directions spread over a double cone around ``axis`` (the axis alone without a cone)."""
    if cone_angle is None:
        return np.array([float((axis**2) @ sigma_squared)])
    count = 4000
    cosine = 1 - (np.arange(count) + 0.5) / count * (1 - math.cos(math.radians(cone_angle)))  # equal solid angle
    azimuth = np.arange(count) * math.pi * (3 - math.sqrt(5))
    sine = np.sqrt(1 - cosine**2)
    helper = np.array([1.0, 0.0, 0.0]) if abs(axis[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    first = np.cross(axis, helper)
    first /= np.linalg.norm(first)
    second = np.cross(axis, first)
    vectors = (cosine[:, None] * axis + sine[:, None] * (np.cos(azimuth)[:, None] * first
                                                         + np.sin(azimuth)[:, None] * second))
    return (vectors**2) @ sigma_squared


def anisotropic_pair(shape, sigma=(3.0, 1.5, 1.5), noise: float = 0.5, *, pixel_size=1.0, seed=None,
                     dtype=np.float32) -> AnisotropicPair:
    """Half-maps of a texture blurred anisotropically: the known answer of a directional FSC.

    Parameters
    ----------
    shape : tuple of int
        (Z, Y, X), every axis >= 16.
    sigma : sequence of 3 float
        Gaussian blur per axis (z, y, x), ``pixel_size`` units (> 0).
    noise : float
        Standard deviation of each half's white noise (> 0); the texture
        has unit power per Fourier voxel before the blur.
    pixel_size : float or sequence of 3 float
    seed : int, optional
    dtype : float32 or float64

    Returns
    -------
    AnisotropicPair
    """
    shape = _sizes(shape, ndims=(3,), minimum=16)
    if not _sequence(sigma) or len(sigma) != 3:
        raise ValueError(f"sigma must be three blurs (z, y, x), got {shown(sigma)}")
    sigmas = tuple(check_number(value, "sigma", 0.0, above=True) for value in sigma)
    noise = check_number(noise, "noise", 0.0, above=True)
    sizes = normalize_pixel_size(pixel_size, 3)
    dtype = _float_dtype(dtype)
    rng = random_generator(seed)
    _check_memory(shape, 64)
    grid = FourierGrid(shape, sizes)
    exponent = sum((s * k) ** 2 for s, k in zip(sigmas, grid.components))
    signal = scipy.fft.irfftn(scipy.fft.rfftn(rng.standard_normal(shape)) * np.exp(-2 * np.pi**2 * exponent),
                              s=shape, workers=-1)
    halves = [(signal + noise * rng.standard_normal(shape)).astype(dtype) for _ in range(2)]
    return AnisotropicPair(halves[0], halves[1], sigmas, noise, sizes)


@dataclass(frozen=True, eq=False)
class SimulatedLocalizations:
    """Localisations of blinking emitters on random filaments (single-molecule localisation microscopy).

    Attributes
    ----------
    table : ndarray, shape (N, 4)
        x, y (nm), frame, localisation precision (nm, per axis): what
        :func:`~.localization.localization_frc` reads, rows in frame order.
    emitter : ndarray of int, shape (N,)
        The emitter each localisation belongs to (repeats share it).
    n_emitters : int
    precision : float
        Standard deviation of each localisation's error per axis (nm).
    repeats : float
        Mean number of localisations per emitter (consecutive frames).
    field : float
        Side of the square field (nm).
    """

    table: np.ndarray
    emitter: np.ndarray
    n_emitters: int
    precision: float
    repeats: float
    field: float


#: Emitters per µm of filament and frames of :func:`smlm_localizations` when none are given.
SMLM_DENSITY, SMLM_FRAMES = 100.0, 5000


def smlm_localizations(field: float = 5000.0, *, filaments: int = 20, density: float = SMLM_DENSITY,
                       width: float = 8.0, precision: float = 10.0, repeats: float = 4.0, frames: int = SMLM_FRAMES,
                       structure_seed: int = 0, seed=None) -> SimulatedLocalizations:
    """Localisations of emitters on straight filaments, each localised in a burst of consecutive frames.

    The filaments (lines through random points at random angles, clipped to
    the field) depend on ``structure_seed`` alone; the emitters, their bursts
    and the errors on ``seed``. Two calls with one ``structure_seed`` and two
    seeds are two independent acquisitions of one structure: their
    localisation FRC is the reference a split of one acquisition must match.

    Parameters
    ----------
    field : float
        Side of the square field in nm (> 0).
    filaments : int
        Number of filaments (>= 1).
    density : float
        Emitters per µm of filament (> 0), on average (Poisson).
    width : float
        Standard deviation of the emitters' distance from the filament's axis (nm, >= 0): the label's size.
    precision : float
        Localisation error per axis (nm, > 0), Gaussian; also the table's precision column.
    repeats : float
        Mean localisations per emitter (>= 1): 1 + Poisson(repeats - 1) consecutive frames.
    frames : int
        Length of the acquisition (>= 1); bursts start at uniformly random frames.
    structure_seed : int
        Seed of the filaments.
    seed : int or Generator, optional
        Seed of the emitters, their bursts and the localisation errors.

    Returns
    -------
    SimulatedLocalizations
    """
    field = check_number(field, "field", 0.0, above=True)
    filaments = _positive_int(filaments, "filaments")
    density = check_number(density, "density", 0.0, above=True)
    width = check_number(width, "width", 0.0)
    precision = check_number(precision, "precision", 0.0, above=True)
    repeats = check_number(repeats, "repeats", 1.0)
    frames = _positive_int(frames, "frames")
    lines = random_generator(structure_seed)
    centres = lines.uniform(0, field, (filaments, 2))
    angles = lines.uniform(0, np.pi, filaments)
    directions = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    reach = field * math.sqrt(2)  # every line crosses the field within this distance of its point
    rng = random_generator(seed)
    counts = rng.poisson(density * 2 * reach / 1000, filaments)
    check_allocation(float(counts.sum()) * (1 + repeats) * 64, f"density {density:g}", "simulate fewer emitters")
    line = np.repeat(np.arange(filaments), counts)
    along = rng.uniform(-reach, reach, line.size)
    normal = np.stack([-directions[line, 1], directions[line, 0]], axis=1)
    emitters = centres[line] + along[:, None] * directions[line] + rng.normal(0, width, line.size)[:, None] * normal
    inside = np.all((emitters >= 0) & (emitters < field), axis=1)
    emitters = emitters[inside]
    bursts = 1 + rng.poisson(repeats - 1, len(emitters))
    bursts = np.minimum(bursts, frames)
    starts = rng.integers(0, frames - bursts + 1)
    owner = np.repeat(np.arange(len(emitters)), bursts)
    frame = starts[owner] + np.arange(owner.size) - np.repeat(np.cumsum(bursts) - bursts, bursts)
    positions = emitters[owner] + rng.normal(0, precision, (owner.size, 2))
    order = np.argsort(frame, kind="stable")
    table = np.column_stack([positions, frame, np.full(owner.size, precision)])[order]
    return SimulatedLocalizations(table, owner[order], len(emitters), precision, repeats, field)


def smlm_reference_table(structure_seed: int = 0, seeds=(1000, 2000), **options) -> np.ndarray:
    """Two independent acquisitions of one structure, each with half the emitters, as one table.

    The truth a split of one acquisition (:func:`smlm_localizations` with the
    same ``structure_seed`` and ``options``) is measured against: the
    localisation FRC of two acquisitions that share no emitter. The second
    acquisition's frames follow the first's, so the "blocks" split with two
    blocks puts each acquisition in one half::

        reference = localization_frc(smlm_reference_table(0, **options), split="blocks", n_blocks=2).resolution

    Parameters
    ----------
    structure_seed : int
        Seed of the filaments (the structure).
    seeds : (int, int)
        Seeds of the two acquisitions' emitters, bursts and errors.
    **options
        Keywords of :func:`smlm_localizations` (``field``, ``density``, ...): ``density`` is each
        acquisition's and the table's together.

    Returns
    -------
    ndarray, shape (N, 4)
        x, y (nm), frame, precision (nm): the first acquisition's rows, then the second's.
    """
    options = {"density": SMLM_DENSITY, "frames": SMLM_FRAMES, **options}
    halves = [smlm_localizations(**{**options, "density": options["density"] / 2}, structure_seed=structure_seed,
                                 seed=seed).table for seed in seeds]
    halves[1][:, 2] += options["frames"]
    return np.vstack(halves)


#: Orientation distributions of :func:`particle_half_maps` (or an array of rotation matrices).
ORIENTATIONS = ("uniform", "preferred")
#: Image pixels per batch of particles simulated at once (about 32 MiB of complex64 spectra).
PARTICLE_BATCH_PIXELS = 2**22


def particle_half_maps(volume, n_particles: int, *, pixel_size: float, snr: float, defocus_range,
                       orientation="uniform", bfactor: float = 0.0, seed=None, voltage: float = 300.0,
                       cs: float = 2.7, amplitude_contrast: float = 0.1, astigmatism: float = 0.0,
                       preferred_spread: float = 15.0, preferred_fraction: float = 0.9, interpolation: str = "cubic",
                       padding: int = 2, device=None, progress=None) -> tuple:
    """Cryo-EM half-maps: noisy, CTF-modulated projections at random orientations, reconstructed in two halves.

    Each particle image is the projection of ``volume`` at its rotation
    (a central slice of the volume's spectrum, :mod:`.particles`), times its
    CTF (:func:`~.ctf.evaluate_ctf`, with the B-factor envelope), plus white
    noise. The images span the padded field (P² pixels, P = ``padding`` N),
    so the signal the CTF spreads away from the particle stays in them (a
    real N² box loses what spreads beyond it) and each image's spectrum is
    sampled as densely as the padded volume's; the noise covers the whole
    field. The particles are split alternately into two halves; each half
    is back-projected with its CTFs and reconstructed by a Wiener filter
    ``sum CTF P / (sum CTF^2 + sigma^2 / tau^2)``, with ``tau^2`` the
    spherically averaged power of the known volume (the optimal linear
    estimate for that prior), and cropped to N³. The FSC of the halves then
    has what real half-maps have: CTF-shaped features (dips at the zeros
    when the defoci are alike), the B-factor's fall-off, and anisotropy when
    the orientations are biased.

    The expected FSC in ``info`` has no edge taper: compare it with
    ``fsc(half1, half2, apodization=0)``. The maps' edges need none (the
    volume's box holds the particle), but a Wiener reconstruction is not
    confined to the particle (its filter spreads the signal a little, along
    z for a preferred orientation), and the edge test of ``taper="auto"``
    may see that and taper, which correlates the halves (docs/conventions.md).

    Parameters
    ----------
    volume : array, shape (N, N, N)
        The density, centre at N // 2 (e.g. :func:`~.particles.model_volume`).
    n_particles : int
        Particles in all (>= 2), half in each half-map.
    pixel_size : float
        Å per voxel and per image pixel.
    snr : float
        Signal-to-noise ratio of the particle images: the variance of the
        CTF-modulated projections in the N² box around the particle (mean
        over the first batch of particles) divided by the noise variance.
    defocus_range : float or (float, float)
        Defocus in Å (positive: underfocus), uniform between the two values.
    orientation : {"uniform", "preferred"} or array of shape (n_particles, 3, 3)
        Uniform over SO(3); a preferred orientation
        (:func:`~.particles.preferred_rotations`: ``preferred_fraction`` of
        the views within ``preferred_spread`` degrees of z, the rest
        uniform); or the rotations themselves.
    bfactor : float
        B-factor of the CTF envelope ``exp(-B k^2 / 4)``, Å².
    seed : int, optional
        Seed of the rotations, defoci and noise.
    voltage, cs, amplitude_contrast : float
        kV, mm, fraction (see :func:`~.ctf.ctf`).
    astigmatism : float
        ``defocus_u - defocus_v`` in Å, the same for every particle, at a
        random angle per particle.
    preferred_spread, preferred_fraction : float
        Of ``orientation="preferred"``.
    interpolation : {"cubic", "linear"}
        Of the projections (the back-projection is trilinear).
    padding : int
        Zero-padding factor of the spectra (1 to 4).
    device : {None, "cpu", "gpu"}
    progress : callable, optional
        Receives the completed fraction; raising inside it cancels.

    Returns
    -------
    half1, half2 : ndarray, float32, shape (N, N, N)
        The two reconstructions.
    info : dict
        ``rotations`` (n, 3, 3), ``half`` (n,) 0 or 1, ``defocus_u``,
        ``defocus_v`` (Å), ``astigmatism_angle`` (degrees) per particle;
        ``noise_sigma`` (noise standard deviation per pixel) and
        ``signal_variance``; ``signal1``, ``signal2``: each half
        reconstructed from its noise-free images (same orientations, CTFs and
        Wiener filter); ``expected_fsc``: ``frequency`` (cycles/pixel),
        ``correlation`` and ``n_points`` per shell, the FSC those noise-free
        halves and the noise reconstructions' power give (the expected FSC
        of these particles); ``expected_resolution`` (Å, full period, where
        it crosses 0.143) and ``expected_status``; the parameters.
    """
    from .backend import get_namespace, to_host
    from .ctf import evaluate_ctf
    from .particles import (
        BackProjector,
        central_slices,
        check_rotations,
        particle_images,
        preferred_rotations,
        prepare_volume,
        random_rotations,
        wiener_regularization,
    )
    from .progress import progress_of
    from .spectral import compute_path, curve_from_sums, spectra_sums
    from .validation import check_image, check_int, check_progress

    check_image(volume, "volume", ndims=(3,), min_size=16)
    if len(set(volume.shape)) != 1:
        raise ValueError(f"volume must be a cube (N, N, N), got shape {tuple(volume.shape)}")
    size = int(volume.shape[0])
    n_particles = check_int(n_particles, "n_particles", minimum=2)
    check_allocation(n_particles * 160, f"n_particles {n_particles}", "fewer particles")  # rotations, defoci...
    pixel = check_number(pixel_size, "pixel_size", 0.0, above=True)
    snr = check_number(snr, "snr", 0.0, above=True)
    if not (math.isfinite(pixel) and math.isfinite(snr)):
        raise ValueError(f"pixel_size and snr must be finite, got {shown(pixel_size)} and {shown(snr)}")
    low, high = _defocus_range(defocus_range)
    astigmatism = check_number(astigmatism, "astigmatism")
    check_progress(progress)
    report = progress_of(progress)
    rng = random_generator(seed)
    if isinstance(orientation, str):
        check_choice(orientation, "orientation", ORIENTATIONS)
        rotations = (random_rotations(n_particles, seed=rng) if orientation == "uniform" else
                     preferred_rotations(n_particles, spread=preferred_spread, fraction=preferred_fraction, seed=rng))
    else:
        rotations = check_rotations(orientation, "orientation")
        if len(rotations) != n_particles:
            raise ValueError(f"orientation has {len(rotations)} rotations for {n_particles} particles")
    defocus = rng.uniform(low, high, n_particles)
    angles = rng.uniform(0.0, 180.0, n_particles)
    defocus_u, defocus_v = defocus + astigmatism / 2, defocus - astigmatism / 2
    half_of = np.arange(n_particles) % 2
    prepared = prepare_volume(volume, interpolation=interpolation, padding=padding, device=device)
    xp = get_namespace(prepared.coefficients)
    where = "cpu" if xp is np else "gpu"
    projectors = [BackProjector(size, padding=padding, channels=2, device=where) for _ in range(2)]
    grid = padding * size
    frequency_y, frequency_x = (xp.asarray((axis / pixel).astype(np.float32)) for axis in
                                (np.fft.fftfreq(grid), np.fft.rfftfreq(grid)))
    ctf_options = {"voltage": voltage, "cs": cs, "amplitude_contrast": amplitude_contrast, "bfactor": bfactor}
    batch = max(1, min(n_particles, PARTICLE_BATCH_PIXELS // (grid * (grid // 2 + 1))))
    noise_sigma = signal_variance = None
    for start in range(0, n_particles, batch):
        part = slice(start, min(start + batch, n_particles))
        ctf = evaluate_ctf(frequency_y[:, None], frequency_x[None, :], defocus_u=defocus_u[part],
                           defocus_v=defocus_v[part], astigmatism_angle=angles[part], **ctf_options)
        clean = central_slices(prepared, rotations[part], image_size=grid) * ctf  # the whole padded field
        if noise_sigma is None:  # the SNR of the N² box around the particle
            signal_variance = float(particle_images(clean, size).var(axis=(1, 2)).mean())
            noise_sigma = math.sqrt(signal_variance / snr)
            if not noise_sigma > 0:
                raise ValueError("volume gives projections without contrast at this defocus (signal variance 0)")
        noise = scipy.fft.rfft2(rng.standard_normal((clean.shape[0], grid, grid), dtype=np.float32), workers=-1)
        noisy = clean + xp.asarray(noise * np.float32(noise_sigma))
        for half, projector in enumerate(projectors):
            chosen = np.flatnonzero(half_of[part] == half)
            projector.add(xp.stack([noisy[chosen], clean[chosen]]), rotations[part][chosen], ctf[chosen])
        report(0.9 * part.stop / n_particles)
    regularization = wiener_regularization(volume, grid**2 * noise_sigma**2, padding=padding, device=where)
    maps = [[to_host(v) for v in projector.reconstruct(regularization)] for projector in projectors]
    (half1, signal1), (half2, signal2) = maps
    geometry = shell_geometry((size,) * 3, pixel)
    signals = spectra_sums(rfftn(signal1), rfftn(signal2), geometry)
    noises = spectra_sums(rfftn(half1 - signal1), rfftn(half2 - signal2), geometry)
    n_points, expected = curve_from_sums(np.stack([signals[0], signals[1], signals[2] + noises[2],
                                                   signals[3] + noises[3]]))
    limit = threshold_curve("0.143", n_points)
    crossing, status = find_crossing(geometry.frequency, expected, limit)
    report(1.0)
    info = {
        "rotations": rotations, "half": half_of, "defocus_u": defocus_u, "defocus_v": defocus_v,
        "astigmatism_angle": angles, "noise_sigma": noise_sigma, "signal_variance": signal_variance,
        "signal1": signal1, "signal2": signal2,
        "expected_fsc": {"frequency": geometry.frequency, "correlation": expected, "n_points": n_points},
        "expected_resolution": resolution_from_crossing(crossing, status, geometry.reference_pixel),
        "expected_status": status,
        "parameters": {"n_particles": n_particles, "pixel_size": pixel, "snr": snr, "defocus_range": (low, high),
                       "orientation": orientation if isinstance(orientation, str) else "given",
                       "bfactor": float(bfactor), "voltage": float(voltage), "cs": float(cs),
                       "amplitude_contrast": float(amplitude_contrast), "astigmatism": astigmatism,
                       "preferred_spread": float(preferred_spread), "preferred_fraction": float(preferred_fraction),
                       "interpolation": interpolation, "padding": padding, "path": compute_path(xp)},
    }
    return half1, half2, info


def _defocus_range(defocus_range) -> tuple[float, float]:
    """(low, high) Å from one defocus or a pair, finite and in order; else a ValueError naming defocus_range."""
    values = (defocus_range, defocus_range) if isinstance(defocus_range, Real) else defocus_range
    try:
        low, high = (float(v) for v in values)
    except (TypeError, ValueError):
        raise ValueError(f"defocus_range must be a defocus or (low, high) in Å, got {shown(defocus_range)}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low <= high):
        raise ValueError(f"defocus_range must be finite with low <= high, got {shown(defocus_range)}")
    return low, high
