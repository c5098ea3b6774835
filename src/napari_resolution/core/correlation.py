"""Fourier ring / shell correlation (FRC in 2-D, FSC in 3-D) and the SSNR.

``FSC(r) = Re sum F1 conj(F2) / sqrt(sum |F1|^2 sum |F2|^2)`` over each shell,
computed on the half spectrum (rfft) with Hermitian multiplicities, so the sums
and shell counts equal those of the full spectrum.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import kernels
from .backend import fftn_inplace, get_namespace, rfftn, to_device, to_host
from .frequency import (
    ShellGeometry,
    fold_mirrored,
    folded_shells,
    hermitian_weights,
    shell_geometry,
    tukey_window,
)
from .results import ShellResultMixin, resolution_summary
from .thresholds import (
    all_threshold_curves,
    check_crossing_rule,
    decidable_shells,
    find_crossing,
    parse_threshold,
    resolution_from_crossing,
    threshold_curve,
)
from .validation import check_image, check_int, check_mask, check_progress, working_dtype

__all__ = [
    "CorrelationResult",
    "curve_from_sums",
    "fourier_correlation",
    "frc",
    "fsc",
    "spectra_sums",
    "ssnr_from_correlation",
]

@dataclass(frozen=True, eq=False)
class CorrelationResult(ShellResultMixin):
    """Fourier ring/shell correlation of two images and the resolution it implies.

    Attributes
    ----------
    frequency : ndarray, shape (n_shells,)
        Shell centres in cycles/pixel (of the reference pixel, the largest
        pixel size), from DC to Nyquist (0.5).
    correlation : ndarray, shape (n_shells,)
        FRC/FSC per shell; the DC shell is 1 by convention (means are removed).
    n_points : ndarray of int, shape (n_shells,)
        Fourier voxels per shell in the full spectrum.
    threshold : ndarray, shape (n_shells,)
        Curve of the chosen criterion.
    thresholds : dict of str to ndarray
        Every named criterion's curve.
    criterion : str
        Name of the chosen criterion.
    crossing : float or None
        First crossing in cycles/pixel (None unless status is "crossed").
    status : str
        "crossed", "never_below" (resolution is a Nyquist bound) or
        "never_above" (no resolution).
    resolution : float or None
        Full-period resolution, ``reference_pixel_size / crossing``, in the
        units of ``pixel_size``; for "never_below" the Nyquist bound
        ``2 * reference_pixel_size``; None for "never_above".
    resolution_half : float or None
        Half-period resolution (``resolution / 2``).
    ssnr : ndarray, shape (n_shells,)
        Spectral SNR, ``2 FSC / (1 - FSC)`` (half-dataset convention).
    ssnr_threshold : ndarray, shape (n_shells,)
        The criterion mapped the same way, ``2 T / (1 - T)``.
    ssnr_crossing : float or None
        Where the SSNR drops below its threshold (cycles/pixel); lies in the
        same shell interval as ``crossing``.
    pixel_size : tuple of float
        Pixel size per axis (physical units).
    reference_pixel_size : float
        The largest pixel size: the unit of ``frequency``.
    parameters : dict
        Everything else that produced the result (shape, ring thickness,
        apodization, mask use, crossing rule, backend).
    """

    frequency: np.ndarray
    correlation: np.ndarray
    n_points: np.ndarray
    threshold: np.ndarray
    thresholds: dict
    criterion: str
    crossing: float | None
    status: str
    resolution: float | None
    resolution_half: float | None
    ssnr: np.ndarray
    ssnr_threshold: np.ndarray
    ssnr_crossing: float | None
    pixel_size: tuple
    reference_pixel_size: float
    parameters: dict = field(default_factory=dict)

    def summary(self, unit: str = "") -> str:
        """One line a user can copy, e.g. ``3.42 Å (half-bit, full period) · 1.71 Å half period · status crossed``."""
        return resolution_summary(self.resolution, self.status, self.criterion, unit)


def ssnr_from_correlation(correlation) -> np.ndarray:
    """Spectral SNR of a half-dataset correlation: ``2 C / (1 - C)`` (inf where C = 1)."""
    c = np.asarray(correlation, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(c < 1, 2 * c / (1 - c), np.inf)


def _check_apodization(apodization, shape) -> int:
    width = check_int(apodization, "apodization", minimum=0)
    for axis, n in enumerate(shape):
        if width > n // 2:
            raise ValueError(
                f"apodization ({width} pixels) is wider than half the image along axis {axis} (size {n})"
            )
    return width


def _weighted_mean(image, windows, mask) -> float:
    """Mean of ``image`` weighted by the mask or the separable window.

    Subtracting it makes the windowed image sum to exactly zero, so no DC
    leaks into the first shells.
    """
    if mask is not None:
        return float((image * mask).sum() / mask.sum())
    weighted_sum = image
    for w in reversed(windows):
        weighted_sum = weighted_sum @ w
    return float(weighted_sum) / float(np.prod([float(w.sum()) for w in windows]))


def _windowed(image, mean: float, xp, windows=None, mask=None):
    """New array ``(image - mean) * window`` (separable ``windows``, or ``mask``)."""
    out = xp.subtract(image, image.dtype.type(mean))
    if mask is not None:
        out *= mask
        return out
    for axis, w in enumerate(windows):
        shape = [1] * out.ndim
        shape[axis] = w.size
        out *= w.reshape(shape)
    return out


def compiled(xp) -> bool:
    """True when the numba kernels do the work: numpy arrays, JIT enabled."""
    return xp is np and kernels.jit_enabled()


def working_mask(mask, dtype, xp):
    """``mask`` on ``xp``: as it is for the compiled kernels if native float32/64 (no copy), else as ``dtype``."""
    mask = to_device(mask, xp)
    if compiled(xp) and mask.dtype in (np.dtype(np.float32), np.dtype(np.float64)):
        return mask
    return mask.astype(dtype, copy=False)


def checked_mask_rows(a, b, mask) -> kernels.MaskRows:
    """:func:`~.kernels.mask_rows`, raising :func:`~.validation.check_mask`'s error for a bad mask value.

    Its one pass flags any value that check_mask rejects, which then names it.
    """
    rows = kernels.mask_rows(a, b, mask)
    if not rows.valid:
        check_mask(mask, a.shape)
    return rows


def _packed(a, b, windows, mask):
    """Complex array ``(a - mean_a) w + i (b - mean_b) w`` and where it can be nonzero (numpy, CPU path).

    Returns
    -------
    packed : complex ndarray, shape of ``a``
    support : tuple of slice or None
        The mask's bounding box (None with a window).
    """
    complex_dtype = np.result_type(a.dtype, np.complex64)
    if mask is None:
        return kernels.pack_windowed(a, b, windows, complex_dtype), None
    rows = checked_mask_rows(a, b, mask)
    return kernels.pack_masked(a, b, mask, rows, complex_dtype), rows.support


def _real_product(x, y):
    """``Re(x * conj(y))`` elementwise, in the real dtype of ``x``."""
    out = x.real * y.real
    out += x.imag * y.imag
    return out


def _correlation_sums(a, b, geometry: ShellGeometry, xp, windows, mask, progress):
    """Sums over each shell of the full spectrum: counts, Re F1 F2*, |F1|^2, |F2|^2.

    On the CPU with numba: both windowed images packed as ``a + i b``, one
    in-place complex FFT (skipping the lines that are zero outside a mask),
    one compiled pass that unpacks and sums. Otherwise
    (GPU, or ``NAPARI_RESOLUTION_NO_JIT``): :func:`_array_sums`.

    Returns
    -------
    ndarray, shape (4, n_shells), float64
    """
    if not compiled(xp):
        return _array_sums(a, b, geometry, xp, windows, mask, progress)
    packed, support = _packed(a, b, windows, mask)
    _report(progress, 0.2)
    spectrum = fftn_inplace(packed, support)
    _report(progress, 0.8)
    sums = kernels.packed_shell_sums(spectrum, geometry.squared_coordinates("packed"), geometry.n_shells)
    _report(progress, 1.0)
    return sums


def _array_sums(a, b, geometry: ShellGeometry, xp, windows, mask, progress):
    """Array version of :func:`_correlation_sums` (numpy or cupy): two real FFTs, then :func:`spectra_sums`."""
    if windows is not None:
        windows = [xp.asarray(w, dtype=a.dtype) for w in windows]
    spectra = []
    for image in (a, b):
        mean = _weighted_mean(image, windows, mask)
        spectra.append(rfftn(_windowed(image, mean, xp, windows, mask)))  # the windowed copy dies here
        _report(progress, 0.4 * len(spectra))
    sums = spectra_sums(*spectra, geometry, xp)
    _report(progress, 1.0)
    return sums


def spectra_sums(spectrum1, spectrum2, geometry: ShellGeometry, xp=np) -> np.ndarray:
    """Shell sums of two rfft spectra: counts, Re F1 F2*, |F1|^2, |F2|^2, shape (4, n_shells).

    The array path (GPU, or CPU without numba): each per-voxel term is folded
    over mirrored rows (same shells), weighted by its Hermitian multiplicity
    and scattered into shells with bincount.
    """
    columns = hermitian_weights(geometry.shape[-1])
    length = geometry.n_shells
    index, counts = folded_shells(geometry)
    index = xp.asarray(index)
    columns = xp.asarray(columns, dtype=spectrum1.real.dtype)
    sums = [counts.astype(np.float64)]
    for x, y in ((spectrum1, spectrum2), (spectrum1, spectrum1), (spectrum2, spectrum2)):
        values = fold_mirrored(_real_product(x, y), xp)
        values *= columns
        sums.append(to_host(xp.bincount(index, weights=values.ravel(), minlength=length)[:length]))
    return np.stack(sums)


def _report(progress, fraction: float) -> None:
    if progress is not None:
        progress(fraction)


def fourier_correlation(
    a,
    b,
    *,
    pixel_size=1.0,
    threshold="half-bit",
    ring_thickness: int = 1,
    apodization: int = 20,
    mask=None,
    crossing_rule: str = "first-below",
    progress=None,
) -> CorrelationResult:
    """Fourier ring (2-D) or shell (3-D) correlation of two independent images.

    Each image is mean-subtracted and windowed (a Tukey taper of
    ``apodization`` pixels on every axis, or the soft ``mask`` instead when one
    is given), transformed, and correlated shell by shell.

    Parameters
    ----------
    a, b : array, shape (Y, X) or (Z, Y, X)
        The two images or half-maps (numpy or cupy, any real dtype; float32
        is computed in float32). Not modified.
    pixel_size : float or sequence of float
        Pixel size, one value or one per axis (physical units, e.g. Å or nm).
    threshold : str or float
        "half-bit" (default), "one-bit", "0.143", "0.5", "3-sigma", or a
        fixed value in (0, 1).
    ring_thickness : int
        Shell width in Fourier sampling steps.
    apodization : int
        Taper width in pixels at each border; 0 disables it. Ignored when
        ``mask`` is given (the mask is the window).
    mask : array, optional
        Real-space weights in [0, 1], same shape as ``a``.
    crossing_rule : {"first-below", "last-above"}
        "first-below" (default): first shell below the threshold, linearly
        interpolated. "last-above": toupy-compatible, not interpolated.
    progress : callable, optional
        Called with the completed fraction in [0, 1]; an exception raised
        inside it (e.g. a cancel request) aborts the computation.

    Returns
    -------
    CorrelationResult

    Raises
    ------
    ValueError
        Shape mismatch, not 2-D/3-D, NaN/Inf, constant image, unknown
        threshold or crossing rule, bad mask, or apodization wider than half
        the image.
    """
    check_image(a, "a")
    check_image(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    criterion, _ = parse_threshold(threshold)
    width = 0 if mask is not None else _check_apodization(apodization, a.shape)  # a mask replaces the taper
    xp = get_namespace(a, b, mask)
    if mask is not None:
        check_mask(mask, a.shape, values=not compiled(xp))  # the compiled path checks them as it packs
    check_progress(progress)
    geometry = shell_geometry(a.shape, pixel_size, ring_thickness)
    check_crossing_rule(crossing_rule)

    dtype = np.result_type(working_dtype(a.dtype), working_dtype(b.dtype))
    a, b = (to_device(x, xp).astype(dtype, copy=False) for x in (a, b))
    mask = None if mask is None else working_mask(mask, dtype, xp)
    windows = None if mask is not None else [tukey_window(n, width) for n in a.shape]
    sums = _correlation_sums(a, b, geometry, xp, windows, mask, progress)
    return _assemble(sums, geometry, criterion, threshold, crossing_rule, {
        "shape": tuple(a.shape), "ring_thickness": geometry.ring_thickness,
        "apodization": width, "masked": mask is not None,
        "crossing_rule": crossing_rule, "dtype": str(dtype), "backend": xp.__name__,
    })


def curve_from_sums(sums) -> tuple[np.ndarray, np.ndarray]:
    """Shell counts and correlation from shell sums (counts, cross, power1, power2).

    Shells without power get NaN; a DC-only first shell gets 1 by convention
    (the means are removed, so its own value is meaningless).

    Returns
    -------
    n_points : ndarray of int64, shape (n_shells,)
    correlation : ndarray of float64, shape (n_shells,)
    """
    counts, cross, power1, power2 = sums
    n_points = np.rint(counts).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        correlation = cross / np.sqrt(power1 * power2)
    correlation[~np.isfinite(correlation)] = np.nan
    if n_points[0] == 1:
        correlation[0] = 1.0
    return n_points, correlation


def _assemble(sums, geometry, criterion, threshold, crossing_rule, parameters) -> CorrelationResult:
    n_points, correlation = curve_from_sums(sums)
    frequency = geometry.frequency
    curve = threshold_curve(threshold, n_points)
    crossing, status = find_crossing(frequency, correlation, curve, crossing_rule)
    ssnr = ssnr_from_correlation(correlation)
    ssnr_threshold = ssnr_from_correlation(np.minimum(curve, 1.0))
    ssnr_crossing, _ = find_crossing(frequency, ssnr, ssnr_threshold, crossing_rule,
                                     decidable_shells(correlation, curve))
    reference = geometry.reference_pixel
    resolution = resolution_from_crossing(crossing, status, reference)
    return CorrelationResult(
        frequency=frequency,
        correlation=correlation,
        n_points=n_points,
        threshold=curve,
        thresholds=all_threshold_curves(n_points),
        criterion=criterion,
        crossing=crossing,
        status=status,
        resolution=resolution,
        resolution_half=None if resolution is None else resolution / 2,
        ssnr=ssnr,
        ssnr_threshold=ssnr_threshold,
        ssnr_crossing=ssnr_crossing,
        pixel_size=geometry.pixel_size,
        reference_pixel_size=reference,
        parameters=parameters,
    )


def _require_rank(ndim: int, a, b, alias: str, other: str) -> None:
    for name, image in (("a", a), ("b", b)):
        if getattr(image, "ndim", None) != ndim:
            shape = getattr(image, "shape", None)
            raise ValueError(f"{alias} needs {ndim}-D data: {name} has shape {shape}; use {other} instead")


def frc(a, b, **kwargs) -> CorrelationResult:
    """Fourier ring correlation of two 2-D images; see :func:`fourier_correlation`."""
    _require_rank(2, a, b, "frc", "fsc")
    return fourier_correlation(a, b, **kwargs)


def fsc(a, b, **kwargs) -> CorrelationResult:
    """Fourier shell correlation of two 3-D volumes; see :func:`fourier_correlation`."""
    _require_rank(3, a, b, "fsc", "frc")
    return fourier_correlation(a, b, **kwargs)
