"""Decorrelation analysis: resolution from a single image (Descloux, Grußmayer & Radenovic 2019).

The image spectrum ``I(k)`` is correlated with its normalised self ``I/|I|``
restricted to discs of growing radius ``r`` (normalised frequency, 1 = Nyquist):

    d(r) = Re sum_{|k|<r} I conj(I/|I|) / (||I||_{|k|<1} * ||I/|I|||_{|k|<r})
         = sum_{|k|<r} |I| / (sqrt(sum_{|k|<1} |I|^2) * sqrt(N(r)))

It rises while the disc gathers signal and falls once it gathers noise; the
position of its local maximum estimates the cut-off. Repeating with Gaussian
high-pass filters ``1 - exp(-2 g^2 r^2)`` moves the peak outwards; the highest
peak of amplitude >= 0.05 over all filters (with one refined pass) is ``kc_max``
and the resolution is ``2 / kc_max`` pixels (full period). No threshold.

Because ``d`` depends only on amplitudes and radii, the spectrum is reduced once
to sums per exact radius (the half spectrum, folded over mirrored rows and
grouped by the integer key ``ky^2 X^2 + kx^2 Y^2``); every filter and radius is
then a cumulative sum over the sorted unique radii: no mask per radius.

With ``confidence``, the analysis is repeated on :data:`RESAMPLES` resamples of
the image's noise (the decorrelation's own model: signal plus white noise; the
noise power read beyond the cut-off, the signal's share of each ring kept) and
``resolution_interval`` spans their quantiles, the measured cut-off and the
radius step the peak was read on.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from numbers import Integral, Real

import numpy as np

from . import kernels
from .backend import check_allocation, get_namespace, in_memory, resolve_device, rfftn, to_device
from .correlation import check_confidence
from .figures import COLORS, Curve, Marker, Plot
from .frequency import fold_mirrored, frequency_axes, hermitian_weights, normalize_pixel_size, tukey_window
from .progress import Progress, progress_of
from .results import Result, interval_text, issue_warnings, length, number, result_dataclass
from .spectral import binned_sums, compute_path
from .validation import check_int, shown, working_dtype

__all__ = ["DecorrelationResult", "DecorrelationStackResult", "decorrelation", "local_maximum"]

#: Peaks below this amplitude are not significant (Descloux et al.).
MIN_AMPLITUDE = 0.05
#: A local maximum must exceed the lowest value after it by this much (numerical noise).
PEAK_SIGNIFICANCE = 0.001
#: Elements of (slices x filters x radii) arrays computed at once.
_BATCH_ELEMENTS = 1 << 23
#: Pixels of a stack analysed in one batch (about 0.4 s on two cores): progress is reported after each.
CHUNK_PIXELS = 1 << 22
#: n_radii may reach one radius per Fourier ring of the analysed plane (max(Y, X) // 2 rings from DC to Nyquist),
#: or ImDecorr's default of 50 on smaller images. Finer radii find peaks in the noise of d(r): on band-limited
#: noise of 512 x 512 (cut-off 0.2 cycles/pixel, truth 5 px), 256 radii read 4.99 px, 512 radii 2.0-2.85 px.
MAX_RADII = 50
#: The noise beyond the cut-off must be white: when the rings' median power over the outer third of the range from
#: the cut-off to Nyquist is below this fraction of the middle third's, the result warns and gets no interval (the
#: inner third is left out: a sharp band edge leaks into it). Measured: white noise (band-limited images with noise
#: 0.05-0.5, blurred emitters with Poisson noise, scikit-image's camera and cell, a blurred camera plus noise)
#: 0.63-1.0; Gaussian-smoothed noise (sigma 1, 1.5, 3 px) 0.35, 0.003, 0.2; a 2x cubic upsample 0.07; noise-free
#: band-limited noise 0.1.
WHITE_NOISE_RATIO = 0.5
#: Planes narrower than this (pixels) read the cut-off too high (docs/decorrelation.md): their results warn.
SMALL_FIELD = 160
#: Noise resamples behind a resolution interval: the 2.5 % and 97.5 % quantiles fall between the first two and
#: the last two of 50 (the calibration over noise realisations is in docs/decorrelation.md).
RESAMPLES = 50


@result_dataclass
class DecorrelationResult(Result):
    """Decorrelation analysis of one 2-D image.

    Attributes
    ----------
    radii : ndarray, shape (n_radii,)
        First-pass disc radii, normalised frequency (1 = Nyquist).
    d0 : ndarray, shape (n_radii,)
        Decorrelation curve of the unfiltered image.
    curves : ndarray, shape (n_highpass + 1, n_radii)
        Curves of the first-pass high-pass filters.
    refined_radii : ndarray, shape (n_radii,)
        Radii of the refinement pass.
    refined_curves : ndarray, shape (n_highpass, n_radii)
        Curves of the refined filters.
    highpass_widths : ndarray, shape (2 * n_highpass + 1,)
        Filter widths ``g`` (pixels) of the first then the refined pass.
    peaks : ndarray, shape (2 * n_highpass + 2, 2)
        (kc, amplitude) of every curve's local maximum: the filters in order,
        then the unfiltered curve. kc = 0 where there is no significant peak.
    kc_max : float or None
        Highest valid peak position as a fraction of Nyquist (Descloux's
        normalised frequency), None if "unresolved".
    cutoff : float or None
        The same in cycles/pixel, ``kc_max / 2``.
    amplitude : float
        Peak amplitude of the unfiltered curve (an estimate of image SNR).
    resolution : float or None
        Full period, ``2 * pixel / kc_max`` (pixel: the analysed plane's);
        None if "unresolved".
    resolution_half : float or None
        Half period.
    confidence : float or None
        The level of :attr:`resolution_interval` (e.g. 0.95); None when no interval was asked for.
    resolution_interval : (float or None, float or None) or None
        (finest, coarsest) full-period resolution of the interval: the cut-offs read on noise resamples of the
        image (their quantiles), widened to hold the measured cut-off and by a radius step towards coarser
        resolution (a hard band edge peaks on the first disc beyond it). An edge is None
        where the resamples lose the peak (coarsest) or reach the searched range's end (finest). None without
        ``confidence`` and for "bound" or "unresolved" results.
    noise_falloff : float or None
        The rings' median power over the outer third of the range from the cut-off to Nyquist divided by the
        middle third's: about 1 for white noise; below :data:`WHITE_NOISE_RATIO` (smoothed, denoised,
        interpolated or compressed data) the result warns and gets no interval. None when unresolved or when
        fewer than 6 rings lie beyond the cut-off.
    status : str
        "resolved"; "bound" when the highest peak lies within a radius step
        of the searched range's end (``kc_max`` is then ``r_max`` and the
        resolution only a bound, with a warning); "unresolved" when no peak
        reaches amplitude 0.05.
    pixel_size : tuple of float
        Pixel size of the analysed plane's two axes (equal).
    warnings : tuple of str
        Doubts about the number (empty when there are none).
    parameters : dict
        n_radii, n_highpass, r_min, r_max, apodization, shape, compute path.
    """

    radii: np.ndarray
    d0: np.ndarray
    curves: np.ndarray
    refined_radii: np.ndarray
    refined_curves: np.ndarray
    highpass_widths: np.ndarray
    peaks: np.ndarray
    kc_max: float | None
    amplitude: float
    resolution: float | None
    resolution_half: float | None
    confidence: float | None = None
    resolution_interval: tuple | None = None
    noise_falloff: float | None = None

    @property
    def cutoff(self) -> float | None:
        """kc_max in cycles/pixel (Nyquist = 0.5), None if "unresolved"."""
        return None if self.kc_max is None else self.kc_max / 2

    def columns(self) -> dict:
        """Every d(r) curve against the frequency (cycles/pixel): the unfiltered one, each high-pass
        (``highpass_<i>``), and the refinement pass on its own radii (``refined_<i>``)."""
        columns = {"frequency_cycles_per_pixel": self.radii / 2, "unfiltered": self.d0}
        columns.update({f"highpass_{i}": curve for i, curve in enumerate(self.curves)})
        columns["refined_frequency_cycles_per_pixel"] = self.refined_radii / 2
        columns.update({f"refined_{i}": curve for i, curve in enumerate(self.refined_curves)})
        return columns

    def summary(self, unit: str = "") -> str:
        """One copyable line with the resolution, the cut-off (cycles/pixel) and the amplitude."""
        if self.status == "unresolved":
            return "no resolution: no significant decorrelation peak · status unresolved"
        unit = self.unit_of_lengths(unit)
        bound = "≤ " if self.status == "bound" else ""
        interval = interval_text(self.resolution_interval) or self._missing_interval()
        return (f"{bound}{length(self.resolution, unit)}{interval} (decorrelation, full period) · {bound}"
                f"{length(self.resolution_half, unit)} half period · cut-off {self.cutoff:.4f} cycles/pixel · "
                f"A0 {self.amplitude:.2f} · status {self.status}")

    def _missing_interval(self) -> str:
        """Why an interval asked for is missing (`` [no interval: a bound]``), or ""."""
        if self.confidence is None:
            return ""
        reason = "a bound" if self.status == "bound" else "noise not white"
        return f" [no interval: {reason}]"

    def plots(self, unit: str = "") -> tuple:
        """Every d(r) curve against cycles/pixel (unfiltered emphasised), the valid peaks and the cut-off."""
        curves = [Curve("unfiltered d(r)", self.radii / 2, self.d0, "measured", COLORS["corrected"])]
        curves += [Curve("high-pass" if i == 0 else "", self.radii / 2, curve, "family", COLORS["family"])
                   for i, curve in enumerate(self.curves)]
        curves += [Curve("refined" if i == 0 else "", self.refined_radii / 2, curve, "family", COLORS["refined"])
                   for i, curve in enumerate(self.refined_curves)]
        valid = self.peaks[self.peaks[:, 1] > 0]
        curves.append(Curve("peaks (amplitude ≥ 0.05)", valid[:, 0] / 2, valid[:, 1], "points", COLORS["peaks"]))
        curves.extend(self._interval_bar())
        bound = "≤ " if self.status == "bound" else ""
        markers = () if self.kc_max is None else (Marker(self.cutoff, f"{bound}{length(self.resolution, unit)}"),)
        return (Plot("decorrelation", tuple(curves), markers, y_label="decorrelation d(r)", y_range=(0.0, 1.02),
                     pixel_size=self.pixel_size[-1], unit=unit),)

    def _interval_bar(self) -> list:
        """The interval as a horizontal bar (cycles/pixel) at the height of the peak read, when there is one.

        A missing edge reaches the end of the axis (0, or ``r_max`` for the finest).
        """
        if self.resolution_interval is None:
            return []
        pixel = self.pixel_size[-1]
        finest, coarsest = self.resolution_interval
        ends = np.array([0.0 if coarsest is None else pixel / coarsest,
                         self.parameters["r_max"] / 2 if finest is None else pixel / finest])
        height = float(self.peaks[np.argmax(self.peaks[:, 0]), 1])
        return [Curve(f"{self.confidence:.0%} interval", ends, np.full(2, height), "secondary", COLORS["peaks"])]


@result_dataclass
class DecorrelationStackResult(Result):
    """Decorrelation analysis of the slices of a volume or the frames of a time stack.

    Attributes
    ----------
    slices : tuple of DecorrelationResult
        One result per analysed slice.
    slice_indices : ndarray of int
        Index of each analysed slice along ``axis``.
    resolutions : ndarray
        Full-period resolution per resolved slice (NaN for the others); when
        no slice is resolved, the bound of each "bound" slice.
    median, mean, std : float or None
        Over those values (None if there are none).
    n_resolved : int
        Slices with a resolution.
    axis : int
        Axis sliced.
    status : str
        "resolved" if any slice is, else "bound" if any slice reads a bound,
        else "unresolved".
    pixel_size : tuple of float
        Pixel size of the analysed plane's two axes.
    warnings : tuple of str
        Doubts about the numbers (e.g. slices without a resolution).
    parameters : dict
        As each slice's, plus the axis.
    """

    slices: tuple
    slice_indices: np.ndarray
    resolutions: np.ndarray
    median: float | None
    mean: float | None
    std: float | None
    n_resolved: int
    axis: int

    HEADLINE = ("median", "median resolution of the slices")

    def columns(self) -> dict:
        """The resolution of every slice (NaN where unresolved) by its index along ``axis``; with intervals,
        their edges (``finest``, ``coarsest``; NaN where a slice has none or an edge is open)."""
        columns = {"slice": self.slice_indices, "resolution": self.resolutions}
        if self.slices[0].confidence is not None:
            columns.update(zip(("finest", "coarsest"), self.interval_edges))
        return columns

    @property
    def interval_edges(self) -> np.ndarray:
        """(finest, coarsest) of every slice's interval, shape (2, n_slices), NaN where there is none."""
        return np.array([[np.nan if edge is None else edge for edge in (s.resolution_interval or (None, None))]
                         for s in self.slices], dtype=float).T

    def summary(self, unit: str = "") -> str:
        """One copyable line: median and spread over the slices."""
        if self.status == "unresolved":
            return f"no resolution in any of {len(self.slices)} slices · status unresolved"
        unit = self.unit_of_lengths(unit)
        if self.status == "bound":
            return (f"≤ {length(self.median, unit)} (decorrelation, full period, a bound: every peak at the end of the "
                    f"range) · 0/{len(self.slices)} slices resolved · status bound")
        return (f"{length(self.median, unit)} median (decorrelation, full period) · mean {number(self.mean)} ± "
                f"{length(self.std, unit)} · {self.n_resolved}/{len(self.slices)} slices resolved · "
                f"status {self.status}")

    @property
    def median_slice(self) -> int:
        """Position (in ``slices``) of the resolved slice nearest the median, or 0."""
        if self.median is None:
            return 0
        return int(np.nanargmin(np.abs(self.resolutions - self.median)))

    def plots(self, unit: str = "") -> tuple:
        """The resolution per slice, then the curves of the slice nearest the median (only those for one slice)."""
        nearest = self.median_slice
        curves_plot = self.slices[nearest].plots(unit)[0].titled(f"slice {self.slice_indices[nearest]}")
        if len(self.slices) == 1:
            return (curves_plot,)
        curves = [Curve("resolution", self.slice_indices.astype(float), self.resolutions)]
        if self.slices[0].confidence is not None:
            finest, coarsest = self.interval_edges
            label = f"{self.slices[0].confidence:.0%} interval"
            curves += [Curve(label, self.slice_indices.astype(float), finest, "reference", COLORS["measured"]),
                       Curve("", self.slice_indices.astype(float), coarsest, "reference", COLORS["measured"])]
        if self.median is not None:
            ends = self.slice_indices[[0, -1]].astype(float)
            curves.append(Curve(f"median {length(self.median, unit)}", ends, np.full(2, self.median),
                                "reference", COLORS["reference"]))
        per_slice = Plot("resolution per slice", tuple(curves), x_label=f"slice index along axis {self.axis}",
                         y_label=f"resolution, full period ({unit or 'pixel_size units'})", frequency_axis=False,
                         x_range=None, pixel_size=self.pixel_size[-1], unit=unit, integer_x=True)
        return per_slice, curves_plot


def local_maximum(curve) -> tuple[int, float]:
    """Index and value of the highest significant local maximum of a decorrelation curve.

    A maximum at the last radius is not a peak: it is dropped and the search
    goes on leftwards; a candidate counts only if it exceeds the lowest value
    after it by more than :data:`PEAK_SIGNIFICANCE`. Returns (0, 0.0) if none.

    Raises
    ------
    ValueError
        ``curve`` is not a non-empty 1-D array of finite numbers.
    """
    values = _checked_curve(curve)
    work = values.copy()
    index = int(np.argmax(work))
    length = work.size
    while index == length - 1:
        length -= 1
        if length == 0:
            return 0, 0.0
        index = int(np.argmax(work[:length]))
        floor = values[index:].min()
        if work[index] - floor > PEAK_SIGNIFICANCE:
            break
        work[index] = floor
        index = length - 1
    return index, float(values[index])


def _checked_curve(curve) -> np.ndarray:
    """``curve`` as a 1-D float64 array of finite values, or a ValueError naming it."""
    try:
        values = np.asarray(curve)
    except ValueError:  # a ragged sequence
        values = np.asarray(None)
    if values.dtype.kind not in "biuf" or values.ndim != 1 or values.size == 0:
        raise ValueError(f"curve must be a non-empty 1-D array of numbers, got dtype {values.dtype}, "
                         f"shape {values.shape}")
    values = values.astype(np.float64)
    if not np.isfinite(values).all():
        raise ValueError("curve contains NaN or Inf values")
    return values


@lru_cache(maxsize=8)
def _radial_groups(shape: tuple[int, int]):
    """Group the folded half spectrum of a (Y, X) image by exact normalised radius < 1.

    Returns
    -------
    inverse : ndarray of intp, shape (Y // 2 + 1) * (X // 2 + 1)
        Group of every folded voxel; ``n_groups`` for voxels at radius >= 1.
    radii : ndarray, shape (n_groups,)
        Normalised radius of each group, ascending.
    columns : ndarray, shape (X // 2 + 1,)
        Hermitian multiplicity of each rfft column.
    """
    rows, cols = shape
    ky = np.arange(rows // 2 + 1, dtype=np.int64)
    kx = np.arange(cols // 2 + 1, dtype=np.int64)
    key = (ky[:, None] ** 2) * cols**2 + (kx[None, :] ** 2) * rows**2
    inside = 4 * key < (rows * cols) ** 2  # normalised radius < 1
    unique, inverse = np.unique(key[inside], return_inverse=True)
    groups = np.full(key.shape, unique.size, dtype=np.intp)
    groups[inside] = inverse
    radii = 2 * np.sqrt(unique.astype(np.float64)) / (rows * cols)
    for array in (groups, radii):
        array.flags.writeable = False
    return groups.ravel(), radii, hermitian_weights(cols)


def _radial_sums(amplitude, shape: tuple[int, int], xp):
    """Per slice and radius group: sum |I|, sum |I|^2 and the count of non-zero voxels.

    Parameters
    ----------
    amplitude : array, shape (S, Y, X // 2 + 1)
        |rfft2| of a stack of images of real-space ``shape`` (Y, X).
    shape : tuple of int
        Real-space (Y, X).
    xp : module
        numpy or cupy.

    Returns
    -------
    three ndarrays of shape (S, n_groups), on the host
    """
    n_slices = amplitude.shape[0]
    groups, radii, columns = _radial_groups(shape)
    weights = xp.asarray(columns, dtype=amplitude.dtype)
    sums = []
    for term in (amplitude, amplitude * amplitude, (amplitude > 0).astype(amplitude.dtype)):
        folded = fold_mirrored(term, xp, first_axis=1) * weights
        sums.append(binned_sums(groups, folded.reshape(n_slices, -1), radii.size, xp))
    return sums


def _curves(sums, radii_groups, widths, radii):
    """Decorrelation curves for every slice, filter and radius.

    Parameters
    ----------
    sums : tuple of three ndarrays, shape (S, U)
        Per-group sum |I|, sum |I|^2, non-zero count (from :func:`_radial_sums`).
    radii_groups : ndarray, shape (U,)
        Normalised radius of each group, ascending.
    widths : ndarray, shape (S, H)
        High-pass widths ``g`` per slice (``inf`` = no filter).
    radii : ndarray, shape (S, R)
        Disc radii per slice (normalised frequency).

    Returns
    -------
    ndarray, shape (S, H, R)
        d(r), quantised down to 0.001 as in ImDecorr (NaN -> 0).
    """
    amplitude, power, count = sums
    positions = np.searchsorted(radii_groups, radii, side="left")  # groups strictly inside each disc
    n_inside = _prefix(np.cumsum(count, axis=1), positions)  # (S, R)
    out = np.empty((*widths.shape, radii.shape[1]))
    per_slice = max(1, _BATCH_ELEMENTS // max(1, widths.shape[1] * radii_groups.size))
    for first in range(0, widths.shape[0], per_slice):
        part = slice(first, first + per_slice)
        g = widths[part][:, :, None]
        with np.errstate(over="ignore", invalid="ignore"):
            filters = np.where(np.isinf(g), 1.0, -np.expm1(-2 * g * g * radii_groups**2))  # (s, H, U)
        numerator = _prefix(np.cumsum(amplitude[part][:, None, :] * filters, axis=2), positions[part][:, None, :])
        norm = np.sqrt(np.einsum("su,shu->sh", power[part], filters * filters))
        with np.errstate(divide="ignore", invalid="ignore"):
            curve = numerator / (norm[:, :, None] * np.sqrt(n_inside[part][:, None, :]))
        out[part] = np.floor(1000 * np.nan_to_num(curve, nan=0.0, posinf=0.0)) / 1000
    return out


def _prefix(cumulative, positions):
    """``cumulative[..., p - 1]`` (0 where p == 0) along the last axis, for every position."""
    padded = np.concatenate([np.zeros((*cumulative.shape[:-1], 1)), cumulative], axis=-1)
    return np.take_along_axis(padded, np.broadcast_to(positions, (*cumulative.shape[:-1], positions.shape[-1])),
                              axis=-1)


def _peaks(curves, radii):
    """(kc, amplitude) of the local maximum of every curve; curves (S, H, R), radii (S, R).

    A curve without a peak gives (its first radius, 0), as :func:`local_maximum` reads it.
    """
    if kernels.jit_enabled():
        index = kernels.local_maxima(curves.reshape(-1, curves.shape[-1]), PEAK_SIGNIFICANCE).reshape(curves.shape[:2])
        found = index >= 0
        index = np.where(found, index, 0)
        amplitude = np.where(found, np.take_along_axis(curves, index[..., None], axis=-1)[..., 0], 0.0)
        return np.stack([np.take_along_axis(radii, index, axis=-1), amplitude], axis=-1)
    out = np.zeros((*curves.shape[:2], 2))
    for s, h in np.ndindex(curves.shape[:2]):
        index, amplitude = local_maximum(curves[s, h])
        out[s, h] = radii[s, index], amplitude
    return out


def _refine(first_peaks, widths, radii, n_radii: int, n_highpass: int, rows: int):
    """Filter widths and radii of the refinement pass (per slice), around the highest first-pass peak.

    ``first_peaks`` (S, H + 1, 2) holds the unfiltered peak then each filter's.
    """
    n_slices = first_peaks.shape[0]
    refined_widths = np.empty((n_slices, n_highpass))
    refined_radii = np.empty((n_slices, n_radii))
    for s in range(n_slices):
        kc = first_peaks[s, :, 0]
        best = int(np.flatnonzero(kc == kc.max())[-1])  # 0 = unfiltered, i = filter i - 1
        g = widths[s]
        if best == 0:
            low, high = rows, g[0]
        elif best >= g.size:
            low, high = g[best - 2], g[best - 1]
        else:
            low, high = g[best - 1], g[best]
        refined_widths[s] = np.exp(np.linspace(np.log(low), np.log(high), n_highpass))
        step = radii[s, 1] - radii[s, 0]
        start = max(kc[best] - step, 0.0)
        stop = min(kc[best] + 0.3, 1.0, radii[s, -1])
        refined_radii[s] = np.linspace(start, stop, n_radii)
    return refined_widths, refined_radii


def _check_parameters(n_radii, n_highpass, r_min, r_max) -> tuple[int, int, float, float]:
    n_radii = check_int(n_radii, "n_radii", minimum=10)
    n_highpass = check_int(n_highpass, "n_highpass", minimum=2)
    if not all(isinstance(r, Real) for r in (r_min, r_max)):
        raise ValueError(f"r_min and r_max must be numbers in [0, 1], got {shown(r_min)}, {shown(r_max)}")
    r_min, r_max = float(r_min), float(r_max)
    if not 0 <= r_min < r_max <= 1:
        raise ValueError(f"r_min and r_max must satisfy 0 <= r_min < r_max <= 1 (Nyquist), got {r_min}, {r_max}")
    return n_radii, n_highpass, r_min, r_max


def _stack(image, axis: int, slices):
    """A (Z, Y, X) view of ``image`` with the slices along ``axis`` first, and the indices of those to analyse.

    A 2-D image is one slice: ``slices`` and an ``axis`` other than 0 are refused (they would be ignored).
    """
    if image.ndim == 2:
        if slices is not None:
            raise ValueError(f"slices picks slices of a 3-D image; image is 2-D, got slices {shown(slices)}")
        if not (isinstance(axis, Integral) and not isinstance(axis, bool) and axis == 0):
            raise ValueError(f"axis picks the slicing axis of a 3-D image; image is 2-D, got axis {shown(axis)}")
        return image[None], np.array([0])
    if isinstance(axis, bool) or not isinstance(axis, Integral) or axis not in (0, 1, 2, -1, -2, -3):
        raise ValueError(f"axis must be 0, 1 or 2 for a 3-D image, got {shown(axis)}")
    moved = image.swapaxes(0, axis) if axis % 3 else image
    try:
        indices = np.arange(moved.shape[0]) if slices is None else np.asarray(slices).ravel()
    except ValueError:  # a ragged sequence
        indices = np.array([])
    if indices.size == 0 or indices.dtype.kind not in "iu" or indices.min() < -moved.shape[0] \
            or indices.max() >= moved.shape[0]:
        raise ValueError(f"slices must be indices along axis {axis} (size {moved.shape[0]}), got {shown(slices)}")
    return moved, indices % moved.shape[0]


def _check_counts(n_radii: int, n_highpass: int, indices, plane: tuple, itemsize: int) -> None:
    """ValueError for more radii or filters than the plane supports, or curves that would not fit in memory.

    At most one radius per Fourier ring (or :data:`MAX_RADII`), and no more filters than radii (each
    filter's peak lies on one of them). The memory: the analysed slices (a copy), and each slice's curves
    (first pass, refined pass, and the result's copies).
    """
    rings = max(plane) // 2
    most = max(MAX_RADII, rings)
    if n_radii > most:
        raise ValueError(f"n_radii must be at most {most} for a {plane[0]} x {plane[1]} plane ({rings} Fourier "
                         f"rings from DC to Nyquist: finer radii find peaks in the noise of d(r)), got {n_radii}")
    if n_highpass > n_radii:
        raise ValueError(f"n_highpass must be at most n_radii ({n_radii}): each filter's peak lies on one of the "
                         f"radii, got {n_highpass}")
    curves = 24 * (2 * n_highpass + 2) * n_radii
    check_allocation(len(indices) * (plane[0] * plane[1] * (itemsize + 1) + curves),
                     f"image ({len(indices)} slices of {plane[0]} x {plane[1]}, each {2 * n_highpass + 2} curves of "
                     f"{n_radii} radii)", "analyse fewer slices (slices=) or use fewer radii")


def _in_plane_pixel(pixel_size, ndim: int, axis: int) -> float:
    sizes = normalize_pixel_size(pixel_size, ndim)
    plane = [p for i, p in enumerate(sizes) if ndim == 2 or i != axis % 3]
    if not np.isclose(plane[0], plane[1], rtol=1e-6):
        raise ValueError(f"decorrelation needs square pixels in the analysed plane, got {tuple(plane)}")
    return plane[0]


def _spectra_amplitude(stack, apodization: int, xp):
    """|rfft2| of every slice after subtracting its mean and applying the edge taper."""
    rows, cols = stack.shape[1:]
    data = stack.astype(working_dtype(stack.dtype))  # a copy: the user's data is never modified
    peak = xp.maximum(data.max(axis=(1, 2), keepdims=True), -data.min(axis=(1, 2), keepdims=True))
    data /= xp.where(peak > 0, peak, 1)  # d(r) does not depend on a slice's scale; at 1, |I|^2 cannot overflow
    data -= data.mean(axis=(1, 2), keepdims=True)
    data *= xp.asarray(np.multiply.outer(tukey_window(rows, apodization), tukey_window(cols, apodization)),
                       dtype=data.dtype)
    return xp.abs(rfftn(data, axes=(1, 2)))


@in_memory("image")
def decorrelation(
    image,
    *,
    pixel_size=1.0,
    n_radii: int = 50,
    n_highpass: int = 10,
    r_min: float = 0.0,
    r_max: float = 1.0,
    apodization: int = 20,
    axis: int = 0,
    slices=None,
    confidence=None,
    seed=None,
    device=None,
    progress=None,
):
    """Resolution of a single image by decorrelation analysis (Descloux et al. 2019).

    Parameters
    ----------
    image : array, shape (Y, X), or (Z, Y, X) analysed slice by slice
        numpy or cupy; not modified. A 3-D input may be a volume or a time stack.
    pixel_size : float or sequence of float
        Pixel size (per axis allowed); the analysed plane must have square pixels.
    n_radii : int
        Disc radii sampled between ``r_min`` and ``r_max`` (>= 10; ImDecorr uses 50); at most one per
        Fourier ring of the analysed plane, ``max(Y, X) // 2`` (or 50 on smaller planes): finer radii
        find peaks in the noise of d(r).
    n_highpass : int
        Gaussian high-pass filters per pass (ImDecorr: 10), at most ``n_radii``.
    r_min, r_max : float
        Radius range, normalised frequency (1 = Nyquist).
    apodization : int
        Edge taper width in pixels, applied after subtracting the mean.
    axis : int
        For 3-D input: the axis along which slices (or frames) are taken.
    slices : sequence of int, optional
        For 3-D input: the slices to analyse (default all).
    confidence : float, optional
        E.g. 0.95: also give each resolved result a ``resolution_interval``, read on :data:`RESAMPLES` noise
        resamples of the image (the analysis 51 times, batched), shown as ``319 nm [303, 335]`` in the summary
        and as an error bar on the peak in the plot.
    seed : int, optional
        Seed of the resamples (the same seed, the same interval).
    device : {None, "cpu", "gpu"}
        Where to compute the spectra (see :func:`~.correlation.fourier_correlation`).
    progress : callable, optional
        Receives the completed fraction; raising in it cancels.

    Returns
    -------
    DecorrelationResult for 2-D input, DecorrelationStackResult for 3-D input.
        A constant image (or slice) gives status "unresolved", not an error.

    Raises
    ------
    ValueError
        Not 2-D/3-D, smaller than 32 pixels in the plane, NaN/Inf, bad parameters, more radii or
        filters than the plane supports, or curves that would not fit in the memory available.
    """
    shape = getattr(image, "shape", None)
    if shape is None or len(shape) not in (2, 3):
        raise ValueError(f"image must be a 2-D or 3-D array, got shape {shape}")
    try:
        working_dtype(getattr(image, "dtype", object))
    except ValueError as err:
        raise ValueError(f"image: {err}") from None
    n_radii, n_highpass, r_min, r_max = _check_parameters(n_radii, n_highpass, r_min, r_max)
    confidence = check_confidence(confidence)
    seed = None if seed is None else check_int(seed, "seed")
    report = progress_of(progress)
    stack, indices = _stack(image, axis, slices)
    rows, cols = stack.shape[1:]
    if min(rows, cols) < 32:
        raise ValueError(f"image must be at least 32 pixels on each side of the analysed plane, got {(rows, cols)}")
    _check_counts(n_radii, n_highpass, indices, (rows, cols), np.dtype(image.dtype).itemsize)
    stack = stack[indices] if len(shape) == 3 else stack
    apodization = check_int(apodization, "apodization", minimum=0)
    if apodization > min(rows, cols) // 2:
        raise ValueError(f"apodization ({apodization} pixels) is wider than half the image ({(rows, cols)})")
    pixel = _in_plane_pixel(pixel_size, len(shape), axis)
    xp = resolve_device(device, image)
    stack = to_device(stack, xp)
    if not bool(xp.isfinite(stack).all()):
        raise ValueError("image contains NaN or Inf values")

    parameters = {"n_radii": n_radii, "n_highpass": n_highpass, "r_min": r_min, "r_max": r_max,
                  "apodization": apodization, "shape": tuple(shape), "plane": (rows, cols), "path": compute_path(xp)}
    if confidence is not None:
        parameters.update({"confidence": confidence, "resamples": RESAMPLES, "seed": seed})
    resampling = None if confidence is None else (confidence, xp.random.default_rng(seed))
    per_chunk = max(1, CHUNK_PIXELS // (rows * cols))
    n_slices = stack.shape[0]
    results = []
    for first in range(0, n_slices, per_chunk):
        chunk = stack[first:first + per_chunk]
        part = report.part(first / n_slices, (first + chunk.shape[0]) / n_slices)
        results.extend(_analyse_chunk(chunk, pixel, parameters, resampling, xp, part))
    results = tuple(results)
    report(1.0)
    result = results[0] if len(shape) == 2 else _stack_result(results, indices, axis % 3, parameters)
    issue_warnings(result.warnings)
    return result


def _analyse_chunk(chunk, pixel: float, parameters: dict, resampling, xp, report) -> list:
    """The results of the slices of ``chunk`` (S, Y, X), with their intervals when ``resampling`` is
    (confidence, numpy or cupy Generator) rather than None."""
    amplitude = _spectra_amplitude(chunk, parameters["apodization"], xp)
    shape = chunk.shape[1:]
    analysed = 1.0 if resampling is None else 0.05
    columns = _analyse(amplitude, shape, _options(parameters), report.part(0.0, analysed))
    power = _ring_power(amplitude, shape)
    results = [_with_noise_falloff(_result(*(column[s] for column in columns), pixel, parameters), power[s], shape)
               for s in range(chunk.shape[0])]
    if resampling is None:
        return results
    return _with_intervals(results, amplitude, power, parameters, resampling, report.part(analysed, 1.0))


def _ring_power(amplitude, shape: tuple[int, int]) -> np.ndarray:
    """Mean power per ring (:func:`_rings`) of every slice's spectrum ``amplitude``: (S, n_rings), on the host."""
    rings, inner, counts = _rings(shape)
    return binned_sums(rings, (amplitude * amplitude).reshape(amplitude.shape[0], -1), inner.size,
                       get_namespace(amplitude)) / counts


def _with_noise_falloff(result, power, shape: tuple[int, int]):
    """``result`` with its ``noise_falloff`` from its rings' ``power``, and the warning when the noise is not
    white (the decorrelation's model: the number then follows the processing, not the optics)."""
    if result.kc_max is None:
        return result
    inner = _rings(shape)[1]
    beyond = np.flatnonzero((inner >= result.kc_max) & (inner < 1))
    if beyond.size < 6:
        return result
    third = beyond.size // 3
    middle = np.median(power[beyond[third:2 * third]])
    falloff = float(np.median(power[beyond[-third:]]) / max(middle, np.finfo(float).tiny))
    notes = () if falloff >= WHITE_NOISE_RATIO else (
        f"the noise beyond the cut-off is not white: its power falls to {falloff:.2g}x towards Nyquist (white noise "
        "stays near 1). Smoothed, denoised, deconvolved, interpolated or compressed data read a cut-off set by the "
        "processing, not by the optics (noise-free simulated images look the same); measure the raw data, or a "
        "two-image FRC",)
    return dataclasses.replace(result, noise_falloff=falloff, warnings=result.warnings + notes)


def _options(parameters: dict) -> tuple:
    """(n_radii, n_highpass, r_min, r_max), as :func:`_analyse` takes them."""
    return tuple(parameters[name] for name in ("n_radii", "n_highpass", "r_min", "r_max"))


def _analyse(amplitude, shape: tuple[int, int], options: tuple, report):
    """Decorrelation of every slice, batched, from the slices' spectra.

    ``amplitude`` (S, Y, X // 2 + 1) is |rfft2| of images of real-space ``shape`` (Y, X); ``options`` is
    (n_radii, n_highpass, r_min, r_max). Returns, each with one row per slice: radii, d0, curves, refined radii,
    refined curves, filter widths (first and refined passes) and peaks, as :func:`_result` takes them.
    """
    n_radii, n_highpass, r_min, r_max = options
    rows, cols = shape
    xp = get_namespace(amplitude)
    sums = _radial_sums(amplitude, shape, xp)
    report(0.3)
    groups_radii = _radial_groups((rows, cols))[1]
    n_slices = amplitude.shape[0]
    radii = np.broadcast_to(np.linspace(r_min, r_max, n_radii), (n_slices, n_radii))
    d0 = _curves(sums, groups_radii, np.full((n_slices, 1), np.inf), radii)[:, 0]
    unfiltered = _peaks(d0[:, None], radii)
    with np.errstate(divide="ignore"):
        widest = np.where(unfiltered[:, 0, 0] > 0, 2 / unfiltered[:, 0, 0], max(rows, cols) / 2)
    widths = np.concatenate([np.full((n_slices, 1), rows / 4),
                             np.exp(np.linspace(np.log(widest), np.log(0.15), n_highpass).T)], axis=1)
    curves = _curves(sums, groups_radii, widths, radii)
    first = _peaks(curves, radii)
    report(0.6)
    refined_widths, refined_radii = _refine(np.concatenate([unfiltered, first], axis=1), widths, radii,
                                            n_radii, n_highpass, rows)
    refined_curves = _curves(sums, groups_radii, refined_widths, refined_radii)
    refined = _peaks(refined_curves, refined_radii)
    report(0.9)
    return (radii, d0, curves, refined_radii, refined_curves, np.concatenate([widths, refined_widths], axis=1),
            np.concatenate([first, refined, unfiltered], axis=1))


def _with_intervals(results: list, amplitude, power, parameters: dict, resampling, report) -> list:
    """``results`` with their ``confidence``, and those resolved over white noise with a ``resolution_interval``
    read on noise resamples of their spectra ``amplitude`` (S, Y, X // 2 + 1; ``power`` per ring, (S, n_rings))."""
    confidence, rng = resampling
    results = [dataclasses.replace(result, confidence=confidence) for result in results]
    resolved = [s for s, result in enumerate(results) if result.status == "resolved"
                and (result.noise_falloff or 1.0) >= WHITE_NOISE_RATIO]
    if not resolved:
        return results
    cutoffs = np.array([results[s].kc_max for s in resolved])
    xp = get_namespace(amplitude)
    samples = _resampled_cutoffs(amplitude[xp.asarray(resolved)], power[resolved], cutoffs, parameters, rng, report)
    for s, kc, sample in zip(resolved, cutoffs, samples):
        interval = _resolution_interval(kc, sample, confidence, parameters, results[s].pixel_size[0])
        results[s] = dataclasses.replace(results[s], resolution_interval=interval)
    return results


def _resampled_cutoffs(amplitude, power, cutoffs, parameters: dict, rng, report) -> np.ndarray:
    """``kc_max`` of :data:`RESAMPLES` resamples of each slice's spectrum (0 where a resample has no valid peak).

    A resample keeps each ring's signal share of the measured amplitudes and draws new white noise of the
    measured noise power (:func:`_noise_model`): on average it holds the measured power in every ring.

    Parameters
    ----------
    amplitude : array, shape (S, Y, X // 2 + 1)
        |rfft2| of the slices, numpy or cupy.
    power : ndarray, shape (S, n_rings)
        Their mean power per ring (:func:`_ring_power`).
    cutoffs : ndarray, shape (S,)
        Each slice's ``kc_max`` (normalised frequency).
    parameters : dict
        The result's (n_radii, n_highpass, r_min, r_max).
    rng : numpy or cupy Generator
        On the spectra's device.
    report : Progress

    Returns
    -------
    ndarray, shape (S, RESAMPLES)
    """
    xp = get_namespace(amplitude)
    shape = tuple(parameters["plane"])
    noise_power, share = _noise_model(power, shape, cutoffs)
    rings = xp.asarray(_rings(shape)[0])
    signal = amplitude * xp.asarray(share, dtype=amplitude.dtype)[:, rings].reshape(amplitude.shape)
    scale = xp.asarray(np.sqrt(noise_power / 2), dtype=amplitude.dtype)[:, None, None]
    total = amplitude.shape[0] * RESAMPLES
    per_batch = max(1, CHUNK_PIXELS // (shape[0] * shape[1]))
    out = np.empty(total)
    for first in range(0, total, per_batch):
        which = xp.arange(first, min(first + per_batch, total)) // RESAMPLES
        noise = rng.standard_normal((2, which.size, *amplitude.shape[1:]), dtype=np.float32) * scale[which]
        resampled = xp.hypot(signal[which] + noise[0], noise[1])
        peaks = _analyse(resampled, shape, _options(parameters), Progress())[-1]
        out[first:first + which.size] = _valid_peaks(peaks, parameters)[..., 0].max(axis=-1)
        report((first + which.size) / total)
    return out.reshape(amplitude.shape[0], RESAMPLES)


@lru_cache(maxsize=8)
def _rings(shape: tuple[int, int]):
    """Rings of the rfft2 layout of a (Y, X) image, a frequency sample of the longer axis wide.

    Returns
    -------
    rings : ndarray of intp, shape (Y * (X // 2 + 1),)
        Ring of every coefficient.
    inner : ndarray, shape (n_rings,)
        Inner radius of each ring, normalised frequency (1 = Nyquist).
    counts : ndarray, shape (n_rings,)
        Coefficients per ring (each ring holds at least one: the longer axis's sample).
    """
    rows, cols = frequency_axes(shape)
    per_unit = max(shape) / 2  # rings per unit of normalised frequency
    rings = np.floor(2 * np.hypot(rows[:, None], cols[None, :]) * per_unit).astype(np.intp).ravel()
    counts = np.bincount(rings)
    for array in (rings, counts):
        array.flags.writeable = False
    return rings, np.arange(counts.size) / per_unit, counts


def _noise_model(power, shape: tuple[int, int], cutoffs) -> tuple[np.ndarray, np.ndarray]:
    """Per slice, the white noise's power per coefficient and the signal's share of each ring's amplitudes,
    from each slice's mean ``power`` per ring (S, n_rings).

    The noise power is the median over the rings beyond the cut-off of their mean power (signal that reaches
    past the cut-off raises it: the interval then errs wide). The share ``sqrt(1 - noise / power)`` scales a
    ring's amplitudes to the power of its signal alone.

    Returns
    -------
    noise : ndarray, shape (S,)
    share : ndarray, shape (S, n_rings), in [0, 1]
    """
    inner = _rings(shape)[1]
    noise = np.nanmedian(np.where(inner[None, :] >= cutoffs[:, None], power, np.nan), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.sqrt(np.clip(1 - noise[:, None] / power, 0.0, 1.0))
    return noise, np.nan_to_num(share)


def _resolution_interval(kc: float, samples, confidence: float, parameters: dict, pixel: float) -> tuple:
    """(finest, coarsest) full-period resolution from the resamples' cut-offs ``samples`` and the measured ``kc``.

    The quantiles of the samples, widened to hold ``kc``, then a first-pass radius step towards low
    frequencies: a hard band edge peaks on the first disc beyond it, and the refined pass's filtered curves
    peak up to about a step beyond it too (band-limited noise: truth covered 20 of 20 times in every case of
    docs/decorrelation.md; 13 of 20 in one case with half a step each side).
    """
    low, high = (float(q) for q in np.quantile(samples, [(1 - confidence) / 2, (1 + confidence) / 2]))
    kc, step = float(kc), _first_step(parameters)
    bound = high >= parameters["r_max"] - step * (1 + 1e-9)  # resamples whose peak reached the range's end
    finest = None if bound else 2 * pixel / max(high, kc)
    coarsest = None if low <= 0 or min(low, kc) - step <= 0 else 2 * pixel / (min(low, kc) - step)
    return finest, coarsest


def _valid_peaks(peaks, parameters: dict):
    """``peaks`` (..., P, 2) with those below :data:`MIN_AMPLITUDE` zeroed, and those at the range's start
    (:func:`_at_range_start`)."""
    keep = (peaks[..., 1] >= MIN_AMPLITUDE) & ~_at_range_start(peaks, parameters)
    return np.where(keep[..., None], peaks, 0.0)


def _at_range_start(peaks, parameters: dict):
    """Per peak of ``peaks`` (..., P, 2): True where ``r_min`` > 0 and the peak lies at ``r_min`` or below it (the
    curve falls from the range's start: its maximum may lie below the range)."""
    if parameters["r_min"] <= 0:
        return np.zeros(peaks.shape[:-1], dtype=bool)
    return peaks[..., 0] <= parameters["r_min"] + _first_step(parameters) / 2


def _result(radii, d0, curves, refined_radii, refined_curves, widths, peaks, pixel, parameters):
    at_start = bool(np.any(_at_range_start(peaks, parameters) & (peaks[:, 1] >= MIN_AMPLITUDE)))
    peaks = _valid_peaks(peaks, parameters)
    kc_max = float(peaks[:, 0].max())
    status = _status(kc_max, parameters)
    if status == "bound":
        kc_max = parameters["r_max"]
    resolution = 2 * pixel / kc_max if status != "unresolved" else None
    return DecorrelationResult(
        radii=np.array(radii), d0=np.array(d0), curves=np.array(curves), refined_radii=np.array(refined_radii),
        refined_curves=np.array(refined_curves), highpass_widths=np.array(widths), peaks=np.array(peaks),
        kc_max=kc_max if status != "unresolved" else None, amplitude=float(peaks[-1, 1]), resolution=resolution,
        resolution_half=None if resolution is None else resolution / 2,
        status=status, pixel_size=(float(pixel), float(pixel)),
        warnings=_edge_warnings(status, parameters) + _start_warnings(status, at_start, parameters)
        + _size_warnings(status, parameters), parameters=dict(parameters),
    )


def _first_step(parameters: dict) -> float:
    """The first pass's radius step (normalised frequency)."""
    return (parameters["r_max"] - parameters["r_min"]) / (parameters["n_radii"] - 1)


def _status(kc_max: float, parameters: dict) -> str:
    """"resolved" for a peak inside the searched range; "bound" for one within a first-pass radius step of its
    end ``r_max`` (the curves still rise there: the image holds information, or non-white noise, up to the
    range's end, so the peak is not a resolution); "unresolved" for no valid peak."""
    if kc_max <= 0:
        return "unresolved"
    return "bound" if kc_max >= parameters["r_max"] - _first_step(parameters) * (1 + 1e-9) else "resolved"


def _edge_warnings(status: str, parameters: dict) -> tuple:
    """The warning of a peak at the end of the searched range (status "bound"), naming the ways out."""
    if status != "bound":
        return ()
    end = "Nyquist" if parameters["r_max"] == 1 else f"r_max = {parameters['r_max']:g} (x Nyquist)"
    return (f"the decorrelation peak lies at the end of the searched range ({end}): the curves still rise there, "
            "so the number is only a bound, not a resolution; this happens when the image holds sharp isolated "
            "features (sparse spots, hot pixels) or noise that is not white (camera pattern, compression). "
            "Measure a two-image FRC where a second image exists, or check the spot width (MTF of a bead)"
            + ("" if parameters["r_max"] == 1 else ", or raise r_max"),)


def _start_warnings(status: str, at_start: bool, parameters: dict) -> tuple:
    """The warning of a curve whose only peak lies at ``r_min`` > 0 (left out: the cut-off may lie below)."""
    if status != "unresolved" or not at_start:
        return ()
    return (f"the decorrelation curves peak only at the start of the searched range (r_min = {parameters['r_min']:g}"
            " x Nyquist), where they may still rise below it: no resolution is read there; lower r_min",)


def _size_warnings(status: str, parameters: dict) -> tuple:
    """The warning of a plane under :data:`SMALL_FIELD` pixels, where the cut-off reads too high."""
    plane = parameters["plane"]
    if status == "unresolved" or min(plane) >= SMALL_FIELD:
        return ()
    return (f"the analysed plane is {plane[0]} x {plane[1]} pixels: on planes under {SMALL_FIELD} pixels the edge "
            "taper and the field's own edges spread the spectrum past its cut-off, and decorrelation reads the "
            "cut-off too high, the resolution too fine (band-limited noise: cut-off 7-15 % high at 128², 14-25 % "
            "at 96², 17-60 % at 64², against 2-6 % at 256²; a resolution interval does not hold this bias). "
            "Analyse a larger field where there is one",)


def _stack_result(results, indices, axis: int, parameters: dict) -> DecorrelationStackResult:
    """The statistics of the resolved slices; with none resolved, a bound if some slice reads one."""
    statuses = [r.status for r in results]
    counted = "resolved" if "resolved" in statuses else "bound" if "bound" in statuses else "unresolved"
    resolutions = np.array([r.resolution if r.status == counted else np.nan for r in results], dtype=float)
    resolved = resolutions[np.isfinite(resolutions)]
    statistics = (float(np.median(resolved)), float(np.mean(resolved)), float(np.std(resolved))) \
        if resolved.size else (None, None, None)
    return DecorrelationStackResult(
        slices=results, slice_indices=np.asarray(indices), resolutions=resolutions, median=statistics[0],
        mean=statistics[1], std=statistics[2], n_resolved=statuses.count("resolved"), axis=axis,
        status=counted, pixel_size=results[0].pixel_size,
        warnings=_stack_warnings(statuses, results), parameters={**parameters, "axis": axis},
    )


def _stack_warnings(statuses: list, results) -> tuple:
    """Warnings when some slices have no resolution or only a bound (the statistics cover the resolved
    slices only), the bound's own warning when that is all there is, a small plane's, and noise that is not
    white in some slices."""
    n_slices, n_resolved, n_bound = len(statuses), statuses.count("resolved"), statuses.count("bound")
    notes = []
    if 0 < n_resolved < n_slices:
        notes.append(f"{n_slices - n_resolved} of {n_slices} slices have no significant peak or only a bound at "
                     "the end of the range: the statistics cover the resolved slices only")
    if n_bound and not n_resolved:
        notes.extend(_edge_warnings("bound", results[0].parameters))
    if n_bound or n_resolved:
        notes.extend(_size_warnings("resolved", results[0].parameters))
    coloured = [r for r in results if r.noise_falloff is not None and r.noise_falloff < WHITE_NOISE_RATIO]
    if coloured:
        notes.append(f"{len(coloured)} of {n_slices} slices: {coloured[0].warnings[-1]}")
    return tuple(notes)
