"""PSF from blinking single-molecule movies: the spatial autocorrelation of the fluctuations.

For independently blinking emitters, each pixel's fluctuation about its
temporal mean has the spatial autocovariance

    AC(d) = sum_i var(brightness_i) (h ⋆ h)(d) + noise δ(d)

whatever the density or structure (the second-order SOFI cumulant argument):
the terms between different emitters vanish. ``h`` is the pixel-integrated
PSF; averaged over the emitters' sub-pixel positions, ``h ⋆ h`` sampled at
integer lags is the Gaussian of covariance ``2 Σ`` convolved with the
autocorrelation of one pixel (a tent of half-width one pixel per axis), and
that is the model fitted here, in physical units: a rotated Gaussian PSF
(σx along θ from +x towards +y, σy across) gives exactly the fitted ``Σ``.

One streaming pass over the frames (in chunks, each frame less its spatial
mean: changes of the whole frame's intensity) accumulates
``Σ_t |rfft2(f_t - r)|²`` and ``Σ_t rfft2(f_t - r)`` of the frames zero-padded
by half the crop (``r`` a reference image, the first chunk's mean, which keeps
the sums small), per block of frames; then

    Σ_t |F(f_t - m)|² = Σ_t |F(f_t - r)|² - |Σ_t F(f_t - r)|² / T

is the fluctuations' power about the temporal mean ``m`` exactly, and one
``irfft2`` gives, at each lag of the crop, the sum over exactly the pixel
pairs inside the frame; it is divided by their number. Where the emitters do
not fill the frame to its edges, the pairs near the border carry less
blinking, the more so the longer the lag: the model includes this field
weight, measured from each pixel's covariance with its diagonal neighbour
(the same pass). The zero-lag pixel (shot and read noise) is excluded from the
fit, and the central row and/or column when they hold a ridge of line noise
(sCMOS); in the PSF image these pixels are filled with the fitted model. A
background that drifts shows as a PSF that changes when each block of frames
is taken about its own mean; then those means are used. The PSF image is the
zero-phase PSF ``ifft2(√|fft2(AC)|)`` (its flat noise floor removed first).
Errors: a delete-a-block jackknife over 8 blocks of frames, whose sums the
pass keeps apart (each replicate fitted by one Gauss-Newton step).

The same pass gives the temporal side: the mean temporal autocovariance of the
fluctuations (their spectral coefficients below 0.125 cycles/pixel, i.e. the
movie low-pass filtered) at lags 1..L, fitted with ``A λ^l + c``; for two-state
blinking ``λ = 1 - k_on - k_off`` per frame, so ``1 / (1 - λ)`` is the on-time
times ``1 - duty cycle`` (the on-time itself for sparse blinking).
"""

from __future__ import annotations

import math
import mmap
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import scipy.fft
from scipy import interpolate, optimize

from . import kernels
from .backend import check_allocation, irfftn, resolve_device, rfftn, to_device, to_host
from .figures import COLORS, Curve, Plot
from .frequency import frequency_axes, normalize_pixel_size
from .progress import progress_of
from .results import STATUSES, Result, issue_warnings, length, number, result_dataclass
from .spectral import compute_path, ring_means
from .validation import check_choice, check_int, check_number, shown, working_dtype

__all__ = ["BlinkChannelsResult", "BlinkPSFResult", "autocorrelation_model", "blink_psf"]

EXCLUDE_CENTER = ("auto", "pixel", "row", "column", "cross")
#: Pixels per chunk of frames (8 MiB of float32): a 256² movie streams 32 frames at a time.
CHUNK_PIXELS = 1 << 21
#: "median-clip" takes the temporal median of at most this many evenly spaced frames (exact below it).
MEDIAN_FRAMES = 512
#: The temporal autocorrelation uses the spectral coefficients up to this frequency (cycles/pixel).
LOW_PASS = 0.125
#: Fewer frames than this get a warning (the autocorrelation is noisy).
FEW_FRAMES = 500
#: The fitted amplitude must exceed this many standard errors for a PSF to be reported.
SIGNIFICANCE = 10.0
#: Largest crop chosen by default (smlmLP's crop_pix).
DEFAULT_CROP = 41
#: Gauss-Legendre nodes on each half of a pixel's autocorrelation tent (per axis): 1e-4 of the peak at σ 0.6 px.
_TENT_NODES = 3
#: The PSF image ignores the autocorrelation's spectrum where the fitted model's is below this fraction of its peak.
NOISE_SPECTRUM = 1e-3
#: Contiguous blocks of frames of the delete-a-block jackknife that gives the PSF parameters' errors.
JACKKNIFE_BLOCKS = 8
#: Fewest frames: two per jackknife block. Without the jackknife the errors (from the fit's Jacobian, several
#: times too small) let noise pass as a PSF: 2-frame movies of an isotropic σ 1.5 px read "resolved" at
#: σ 1.37-1.67 px with axis ratios up to 1.45.
MIN_FRAMES = 2 * JACKKNIFE_BLOCKS
#: Bytes per pixel of a zero-padded frame held once for the whole movie: per jackknife block, the sums of |F|^2
#: and F; the sums of neighbours' products; the spectra that the autocorrelations are made of, one at a time.
SUMS_BYTES = JACKKNIFE_BLOCKS * 12 + 8 + 64
#: Bytes per pixel of each zero-padded frame of a chunk in flight (as stored, in the working precision, padded,
#: its spectrum, the neighbours' products).
CHUNK_BYTES = 56
#: Bytes per lag of the autocorrelation crop that its fits hold (the model at 6 x 6 quadrature nodes).
FIT_BYTES = 2500
#: Largest magnitude of a float movie's values in each working precision: sums of squared spectra stay finite.
MAGNITUDE = {np.dtype(np.float32): 1e12, np.dtype(np.float64): 1e140}
#: A central row or column of the autocorrelation that stands more than this many noise levels above the other
#: lines, beyond the PSF, is a ridge of line noise (clean movies: -3 to +2; 1 ADU rms of row noise: 13).
RIDGE_SIGNIFICANCE = 6.0
#: Block means that move the fitted PSF covariance by more than this many times the difference's spread on a
#: stable movie show a drifting background (30 stable movies, 100 to 6000 frames, 24² to 128²: up to 6; drifts
#: that widen the PSF by 1.0 and 1.2 %: 17.5 and 16.7; by 0.2 %: 6.3).
DRIFT_SIGNIFICANCE = 10.0
#: Most model evaluations of a fit: a PSF's converges in about 10, noise's wanders (25 to 90) and is not
#: "resolved" anyway (a fit that stops here has not converged).
FIT_EVALUATIONS = 30
#: √2: PSF ⋆ PSF of a Gaussian is the Gaussian of twice its covariance.
ROOT2 = math.sqrt(2.0)


@result_dataclass
class BlinkPSFResult(Result):
    """PSF and on-time of one channel of a blinking movie.

    Lengths are in pixel_size units, angles in degrees, times in frames.

    Attributes
    ----------
    sigma_x, sigma_y : float or None
        Gaussian widths of the PSF along its major axis and across it (sigma_x >= sigma_y).
    theta : float or None
        Direction of the major axis, degrees in [0, 180) from +x (columns) towards +y (rows).
    sigma : float or None
        sqrt(sigma_x * sigma_y).
    sigma_x_error, sigma_y_error, theta_error, sigma_error : float or None
        Standard errors: delete-a-block jackknife over 8 contiguous blocks of frames (the spread a
        repeated acquisition of the same emitters would show).
    fwhm : float or None
        2 sqrt(2 ln 2) sigma.
    amplitude, offset : float or None
        Fitted volume of the autocorrelation peak (its sum over the lags, intensity²) and its constant offset
        (intensity²).
    autocorrelation : ndarray, shape (crop, crop)
        Mean autocovariance of the fluctuations per pixel pair (intensity²), zero lag at the centre, raw
        (the zero-lag pixel holds the noise spike).
    autocorrelation_model : ndarray, shape (crop, crop)
        The fitted model of ``autocorrelation`` (no noise spike; with the field weight: the density of blinking
        pairs at each lag relative to a field that blinks uniformly up to its edges).
    psf : ndarray, shape (crop, crop)
        Zero-phase PSF from the autocorrelation (offset removed, excluded pixels from the model), sum 1 (zero
        where the autocorrelation's spectrum is noise at every frequency: "unresolved").
    psf_model : ndarray, shape (crop, crop)
        The fitted Gaussian integrated over each pixel, sum 1.
    spline_knots_y, spline_knots_x : ndarray
        Knots of the bicubic interpolating spline of ``psf`` (physical offsets from its centre).
    spline_coefficients : ndarray, shape (len(knots_y) - 4, len(knots_x) - 4)
        Its B-spline coefficients (see :meth:`psf_at`).
    noise_spike : float
        Zero-lag excess over the model (intensity²): shot and read noise variance per pixel.
    lags : ndarray of int, shape (L,)
        Temporal lags 1..L (frames).
    temporal_autocorrelation : ndarray, shape (L,)
        Mean temporal autocovariance per pixel of the fluctuations low-pass filtered to 0.125 cycles/pixel
        (intensity²), at ``lags``.
    temporal_model : ndarray, shape (L,)
        Fitted ``A λ^l + c`` (NaN when the fit failed).
    on_time, on_time_error : float or None
        ``1 / (1 - λ)`` in frames, and its standard error from the fit's Jacobian (lags taken as
        independent: a lower bound). None when consecutive frames are not significantly correlated.
    frames : int
        Frames used.
    status : str
        "resolved" (a PSF was measured) or "unresolved" (no significant fluctuation correlation).
    pixel_size : tuple of float
        (y, x).
    warnings : tuple of str
    parameters : dict
        crop, background (asked), background_used ("mean", "blocks": each eighth of the movie about its own
        mean, "moving", "median-clip"), window, drift (how far the block means move the PSF, in times the spread
        of that difference on a stable movie; None when not tested), exclude_center (asked), excluded (the lags
        left out besides the zero lag: "pixel" none, "row", "column", "cross"), ridges (for "row" and "column":
        how many noise levels the central line of the autocorrelation stands above the others beyond the PSF),
        lags, exposure_ms, chunk_frames, shape, dtype, path.
    """

    sigma_x: float | None
    sigma_y: float | None
    theta: float | None
    sigma: float | None
    sigma_x_error: float | None
    sigma_y_error: float | None
    theta_error: float | None
    sigma_error: float | None
    fwhm: float | None
    amplitude: float | None
    offset: float | None
    autocorrelation: np.ndarray
    autocorrelation_model: np.ndarray
    psf: np.ndarray
    psf_model: np.ndarray
    spline_knots_y: np.ndarray
    spline_knots_x: np.ndarray
    spline_coefficients: np.ndarray
    noise_spike: float
    lags: np.ndarray
    temporal_autocorrelation: np.ndarray
    temporal_model: np.ndarray
    on_time: float | None
    on_time_error: float | None
    frames: int

    @property
    def on_time_ms(self) -> float | None:
        """The on-time in ms (needs ``exposure_ms``, the time per frame)."""
        exposure = self.parameters.get("exposure_ms")
        return None if exposure is None or self.on_time is None else self.on_time * exposure

    HEADLINE = ("fwhm", "PSF FWHM")

    def columns(self) -> dict:
        """The PSF's radial profile (mean over angles): radius (``pixel_size`` units) and PSF value."""
        profile = self._radial_plot("").curves[0]
        return {"radius": profile.x, "psf": profile.y}

    def summary(self, unit: str = "") -> str:
        """One copyable line: σ (σx, σy, θ), FWHM, on-time, frames, status."""
        on = "on-time n/a" if self.on_time is None else f"on-time {self.on_time:.3g} frames"
        if self.on_time_ms is not None:
            on += f" ({self.on_time_ms:.3g} ms)"
        if self.status == "unresolved":
            return f"no PSF: no significant correlation between neighbouring pixels' fluctuations · {on} · " \
                   f"{self.frames} frames · status unresolved"
        unit = self.unit_of_lengths(unit)
        return (f"PSF σ {length(self.sigma, unit, 4)} (σx {number(self.sigma_x, 4)}, σy {number(self.sigma_y, 4)}, "
                f"θ {self.theta:.1f}°) · FWHM {length(self.fwhm, unit, 4)} · {on} · {self.frames} frames · "
                f"status {self.status}")

    def psf_at(self, y, x) -> np.ndarray:
        """The spline of the normalised PSF at physical offsets (y, x) from its centre (0 outside the crop).

        Parameters
        ----------
        y, x : array_like
            Offsets in pixel_size units (broadcast together).

        Returns
        -------
        ndarray
            PSF values (``psf`` units: the pixel values sum to 1).
        """
        y, x = np.broadcast_arrays(np.asarray(y, dtype=float), np.asarray(x, dtype=float))
        inside = ((self.spline_knots_y[0] <= y) & (y <= self.spline_knots_y[-1])
                  & (self.spline_knots_x[0] <= x) & (x <= self.spline_knots_x[-1]))
        values = np.zeros(y.shape)
        if inside.any():
            basis_y = interpolate.BSpline.design_matrix(y[inside], self.spline_knots_y, 3)
            basis_x = interpolate.BSpline.design_matrix(x[inside], self.spline_knots_x, 3)
            values[inside] = np.asarray((basis_y @ self.spline_coefficients) * basis_x.toarray()).sum(axis=1)
        return values

    def spline_arrays(self) -> dict:
        """The spline as arrays to save (``np.savez``): knots, coefficients, degree, pixel size and the PSF.

        ``scipy.interpolate.NdBSpline((knots_y, knots_x), coefficients, 3)`` rebuilds it (offsets from the
        centre in pixel_size units, y first).
        """
        return {"knots_y": self.spline_knots_y, "knots_x": self.spline_knots_x,
                "coefficients": self.spline_coefficients, "degree": np.array(3),
                "pixel_size": np.asarray(self.pixel_size), "psf": self.psf}

    def plots(self, unit: str = "") -> tuple:
        """The PSF's radial profile (data, fit, spline) and the temporal autocorrelation (data, fit)."""
        return self._radial_plot(unit), self._temporal_plot()

    def _radial_plot(self, unit: str) -> Plot:
        reach = self.psf.shape[0] // 2 * min(self.pixel_size)
        if self.status == "resolved":
            reach = min(reach, 2.5 * self.fwhm)
        centre = [n // 2 for n in self.psf.shape]
        radius, data = ring_means(self.psf, centre, min(self.pixel_size) / 4, pixel_size=self.pixel_size, reach=reach)
        curves = [Curve("PSF from autocorrelation", radius, data, "points", COLORS["measured"])]
        if self.status == "resolved":
            fine = np.linspace(0, reach, 200)
            angles = np.linspace(0, np.pi, 36, endpoint=False)
            y, x = fine[:, None] * np.sin(angles), fine[:, None] * np.cos(angles)
            nodes = (_box_nodes(self.pixel_size[0]), _box_nodes(self.pixel_size[1]))
            fit = _smeared_gaussian(y, x, (self.sigma_x, self.sigma_y), math.radians(self.theta), *nodes) \
                * self.pixel_size[0] * self.pixel_size[1]
            curves += [Curve("Gaussian fit", fine, fit.mean(axis=1), "secondary", COLORS["randomized"]),
                       Curve("spline", fine, self.psf_at(y, x).mean(axis=1), "expected", COLORS["expected"])]
        return Plot("PSF radial profile (mean over angles)", tuple(curves),
                    x_label=f"radius ({unit or 'pixel_size units'})", y_label="PSF (pixel values sum to 1)",
                    frequency_axis=False, x_range=None, pixel_size=self.pixel_size[-1], unit=unit)

    def _temporal_plot(self) -> Plot:
        scale = self.temporal_autocorrelation[0] if self.temporal_autocorrelation.size else 1.0
        scale = scale if scale > 0 else 1.0
        lags = self.lags.astype(float)
        curves = [Curve("temporal autocorrelation", lags, self.temporal_autocorrelation / scale, "points",
                        COLORS["measured"])]
        if self.on_time is not None:
            curves.append(Curve(f"fit: on-time {self.on_time:.3g} frames", lags, self.temporal_model / scale,
                                "secondary", COLORS["randomized"]))
        return Plot("temporal autocorrelation", tuple(curves), x_label="lag (frames)",
                    y_label="autocovariance / lag 1", frequency_axis=False, x_range=None,
                    pixel_size=self.pixel_size[-1])


@result_dataclass
class BlinkChannelsResult(Result):
    """The blink PSFs of several channels (one movie each), as one result.

    It is a sequence of the channels' :class:`BlinkPSFResult` (``result[0]``,
    ``len(result)``, iteration), and follows the protocol itself: its status is
    the least certain channel's, its warnings are the channels' prefixed with
    ``channel <n>:`` (counted from 1), its ``pixel_size`` is the first
    channel's (each channel keeps its own).

    Attributes
    ----------
    channels : tuple of BlinkPSFResult
        One result per movie, in the order given.
    """

    HEADLINE = ("fwhm", "PSF FWHM of channel 1")

    channels: tuple

    @classmethod
    def of(cls, channels) -> BlinkChannelsResult:
        """The collection of ``channels`` (BlinkPSFResult, at least one), its shared fields derived from them."""
        channels = tuple(channels)
        order = list(STATUSES)
        status = max((channel.status for channel in channels), key=order.index)
        notes = tuple(f"channel {n}: {note}" for n, channel in enumerate(channels, 1) for note in channel.warnings)
        return cls(channels=channels, status=status, pixel_size=channels[0].pixel_size, warnings=notes,
                   parameters={"channels": len(channels), "path": channels[0].parameters["path"]})

    def __len__(self) -> int:
        return len(self.channels)

    def __getitem__(self, index) -> BlinkPSFResult:
        return self.channels[index]

    def __iter__(self):
        return iter(self.channels)

    @property
    def fwhm(self) -> float | None:
        """The first channel's FWHM (the number a batch summary row reports)."""
        return self.channels[0].fwhm

    def summary(self, unit: str = "") -> str:
        """Every channel's line, ``channel 1: … | channel 2: …``."""
        return " | ".join(f"channel {n}: {channel.summary(unit)}" for n, channel in enumerate(self.channels, 1))

    def plots(self, unit: str = "") -> tuple:
        """Every channel's plots, titled with the channel."""
        return tuple(plot.titled(f"channel {n}: {plot.title}")
                     for n, channel in enumerate(self.channels, 1) for plot in channel.plots(unit))

    def columns(self) -> dict:
        """Every channel's radial profile (``channel<n>_radius``, ``channel<n>_psf``), NaN-padded to one length."""
        tables = [channel.columns() for channel in self.channels]
        length = max(len(column) for table in tables for column in table.values())
        return {f"channel{n}_{name}": np.pad(np.asarray(values, dtype=float), (0, length - len(values)),
                                             constant_values=np.nan)
                for n, table in enumerate(tables, 1) for name, values in table.items()}


def blink_psf(movie, *, pixel_size=1.0, crop=None, background="auto", exclude_center: str = "auto",
              lags: int = 20, exposure_ms=None, chunk_frames=None, device=None, progress=None):
    """PSF (rotated Gaussian fit, image, spline) and on-time of a blinking single-molecule movie.

    Parameters
    ----------
    movie : array (T, Y, X), or a list of them (one per channel)
        numpy, memmap, cupy, dask or zarr; any integer or float dtype. Read
        frame chunk by frame chunk, never modified.
    pixel_size : float or (y, x); for a list, also one such entry per channel
        Pixel size (the lengths of the result are in its unit).
    crop : int, optional
        Odd side (pixels) of the autocorrelation crop around zero lag;
        default the largest odd size up to 41 that fits the frame.
    background : "auto", "mean", ("moving", n_frames) or "median-clip"
        What is subtracted from each pixel: its temporal mean over the
        movie ("mean"), its mean over a moving window of ``n_frames``
        (drift, bleaching), or smlmLP's clipped temporal median
        ``max(f - median, 0)`` (then each frame's spatial mean; biased, for
        comparison only). "auto": the temporal mean, unless each eighth of
        the movie about its own mean gives a significantly different PSF (a
        drifting background): then those means, with a warning. "mean"
        warns in that case.
    exclude_center : {"auto", "pixel", "row", "column", "cross"}
        Left out of the fit besides the zero lag (shot and read noise): the
        central row of the autocorrelation (pixels of one camera row: row
        noise), its central column, or both. "auto": the zero lag, and each
        central line that holds a ridge of correlated camera noise (it
        stands out of the other lines beyond the PSF), with a warning; the
        others warn when a ridge stays in the fit.
    lags : int
        Temporal lags 1..lags (frames) of the on-time fit (>= 4).
    exposure_ms : float, optional
        Time per frame (ms), for the on-time in ms.
    chunk_frames : int, optional
        Frames per chunk (default: 2 Mpixel chunks, and at least the moving window).
    device : {None, "cpu", "gpu"}
        Where to compute (default: where ``movie`` is).
    progress : callable, optional
        Called with the fraction done after each chunk.

    Returns
    -------
    BlinkPSFResult, or a BlinkChannelsResult for a list of movies

    Raises
    ------
    ValueError
        Not (T, Y, X), fewer than 16 frames, NaN/Inf, no fluctuations at all
        (every frame the same), a bad crop, pixel sizes not matching the
        channels, bad options.
    """
    report = progress_of(progress)
    options = _options(crop, background, exclude_center, lags, exposure_ms, chunk_frames, device)
    if not isinstance(movie, (list, tuple)):
        return _warned(_channel(movie, "movie", normalize_pixel_size(pixel_size, 2), options, report))
    if not movie:
        raise ValueError("movie must be an array (T, Y, X) or a non-empty list of them, got an empty list")
    sizes = _channel_pixel_sizes(pixel_size, len(movie))
    for index, channel in enumerate(movie):  # every channel checked before the first is computed
        _check_movie(channel, f"movie[{index}]")
    channels = [_channel(channel, f"movie[{index}]", sizes[index], options, part)
                for index, (channel, part) in enumerate(zip(movie, report.parts(len(movie))))]
    return _warned(BlinkChannelsResult.of(channels))


def _warned(result):
    """``result`` after issuing its warnings (a list of movies: each prefixed with its channel)."""
    issue_warnings(result.warnings)
    return result


@dataclass(frozen=True)
class _Options:
    crop: int | None
    background: str
    window: int | None
    exclude_center: str
    lags: int
    exposure_ms: float | None
    chunk_frames: int | None
    device: str | None


def _options(crop, background, exclude_center, lags, exposure_ms, chunk_frames, device) -> _Options:
    """The options checked (``crop`` against the frame later)."""
    mode, window = _background(background)
    return _Options(None if crop is None else check_int(crop, "crop", 5), mode, window,
                    check_choice(exclude_center, "exclude_center", EXCLUDE_CENTER), check_int(lags, "lags", 4),
                    None if exposure_ms is None else check_number(exposure_ms, "exposure_ms", 0, above=True),
                    None if chunk_frames is None else check_int(chunk_frames, "chunk_frames", 1), device)


def _background(background) -> tuple[str, int | None]:
    if isinstance(background, str) and background in ("auto", "mean", "median-clip"):
        return background, None
    if (isinstance(background, (tuple, list)) and len(background) == 2 and background[0] == "moving"
            and isinstance(background[1], Integral) and not isinstance(background[1], bool) and background[1] >= 3):
        return "moving", int(background[1])
    raise ValueError(f"background must be 'auto', 'mean', ('moving', n_frames >= 3) or 'median-clip', got "
                     f"{shown(background)}")


def _channel_pixel_sizes(pixel_size, count: int) -> list:
    """One (y, x) pixel size per channel from one value for all or one entry per channel."""
    if isinstance(pixel_size, Real) and not isinstance(pixel_size, bool):
        return [normalize_pixel_size(pixel_size, 2)] * count
    entries = list(pixel_size) if isinstance(pixel_size, (tuple, list)) else []
    if len(entries) != count:
        raise ValueError(f"pixel_size must be one value for every channel or one entry (P or (y, x)) per channel "
                         f"({count}), got {shown(pixel_size)}")
    return [normalize_pixel_size(entry, 2, f"pixel_size[{index}]") for index, entry in enumerate(entries)]


def _check_movie(movie, name: str) -> tuple[int, int, int]:
    shape = getattr(movie, "shape", None)
    if shape is None or not hasattr(movie, "dtype") or len(shape) != 3:
        raise ValueError(f"{name} must be a (T, Y, X) array, got {type(movie).__name__} of shape {shape}")
    try:
        working_dtype(movie.dtype)
    except ValueError as err:
        raise ValueError(f"{name}: {err}") from None
    frames, rows, cols = (int(n) for n in shape)
    if frames < MIN_FRAMES:
        raise ValueError(f"{name} must have at least {MIN_FRAMES} frames (the PSF's errors come from "
                         f"{JACKKNIFE_BLOCKS} blocks of at least 2 frames; fewer give noise as a PSF), got shape "
                         f"{tuple(shape)}")
    if min(rows, cols) < 8:
        raise ValueError(f"{name} frames must be at least 8 pixels on each side, got shape {tuple(shape)}")
    return frames, rows, cols


def _check_memory(name: str, shape: tuple, crop: int, chunk: int, options: _Options) -> None:
    """ValueError naming the argument whose value would not fit in the memory available.

    The pass holds the sums (:data:`SUMS_BYTES` per pixel of a zero-padded frame); a chunk of frames
    (and the moving window around it) in flight; the low frequencies of the last ``lags`` frames; the
    fits, :data:`FIT_BYTES` per lag of the crop.
    """
    frames, rows, cols = shape
    check_allocation(SUMS_BYTES * rows * cols, f"{name} ({frames} frames of {rows} x {cols} pixels)",
                     "crop or bin the frames")
    padded = _padded(rows, cols, crop)
    pixels = padded[0] * padded[1]
    check_allocation(SUMS_BYTES * pixels, f"crop ({crop} px: frames zero-padded to {padded[0]} x {padded[1]})",
                     f"use a smaller crop (the default: {DEFAULT_CROP})")
    cause = "chunk_frames" if options.chunk_frames is not None else "background" if options.window else name
    window = min(options.window or 0, frames)
    check_allocation(CHUNK_BYTES * pixels * (chunk + window),
                     f"{cause} ({chunk} frames at a time{f', a moving window of {window}' if window else ''}, "
                     f"{rows} x {cols} pixels each)", "use fewer frames per chunk")
    low = math.prod(index.size for index in _low_frequencies(*padded))
    lags = min(options.lags, frames - 1)
    check_allocation(16 * low * (3 * lags + chunk), f"lags ({lags} frames of {low} low frequencies)",
                     "use fewer lags")
    check_allocation(FIT_BYTES * crop**2, f"crop ({crop} px)", f"use a smaller crop (the default: {DEFAULT_CROP})")


def _padded(rows: int, cols: int, crop: int) -> tuple[int, int]:
    """The frame size the frames are zero-padded to: no lag of the crop joins pixels across the frame's edges."""
    return tuple(scipy.fft.next_fast_len(n + crop // 2, real=True) for n in (rows, cols))


def _crop(crop, rows: int, cols: int) -> int:
    """The odd crop side: at most the frame (an even axis of n pixels holds lags up to ±(n/2 - 1) once)."""
    largest = min(n if n % 2 else n - 1 for n in (rows, cols))
    if crop is None:
        return min(DEFAULT_CROP, largest)
    if crop % 2 == 0:
        raise ValueError(f"crop must be odd (zero lag at its centre pixel), got {crop}")
    if crop > largest:
        raise ValueError(f"crop must be at most {largest} for frames of {rows} x {cols} pixels, got {crop}")
    return crop


def _channel(movie, name: str, pixel: tuple, options: _Options, report) -> BlinkPSFResult:
    """Everything for one channel: one pass over the frames, the fits, the result."""
    frames, rows, cols = _check_movie(movie, name)
    crop = _crop(options.crop, rows, cols)
    xp = resolve_device(options.device, movie)
    chunk = options.chunk_frames or max(1, CHUNK_PIXELS // (rows * cols), options.window or 0)
    _check_memory(name, (frames, rows, cols), crop, min(chunk, frames), options)
    sums = _Accumulator(movie, name, xp, options, chunk, _padded(rows, cols, crop)).run(report)
    background, drift = _background_fit(sums, crop, pixel, options.background, name)
    ridges = _ridges(background.autocorrelation, background.reference, pixel)
    excluded = _exclusion(ridges) if options.exclude_center == "auto" else options.exclude_center
    spatial = _fit_without(background, excluded)
    temporal = _fit_temporal(sums.temporal(options.lags))
    parameters = {"crop": crop, "background": options.background, "background_used": background.mode,
                  "window": options.window, "drift": drift, "exclude_center": options.exclude_center,
                  "excluded": excluded, "ridges": ridges, "lags": options.lags, "exposure_ms": options.exposure_ms,
                  "chunk_frames": chunk, "shape": (frames, rows, cols), "dtype": str(movie.dtype),
                  "path": compute_path(xp)}
    notes = tuple(_warnings(spatial, temporal, frames, crop, pixel) + _line_notes(ridges, options.exclude_center)
                  + _drift_notes(drift, options.background))
    return _result(background.autocorrelation, spatial, temporal, frames, pixel, notes, parameters)


@dataclass(frozen=True)
class _Background:
    """The autocorrelation about one background, its jackknife replicates, its model and the cross-excluded fit."""

    mode: str
    autocorrelation: np.ndarray
    replicates: np.ndarray
    model: _Model
    reference: _SpatialFit


def _background_of(sums: _Accumulator, crop: int, pixel: tuple, mode: str) -> _Background:
    """The autocorrelation about the background ``mode`` ("mean", "moving", "blocks", "median-clip") and its fit
    with the central row and column left out (robust to line noise)."""
    centring = {"mean": "mean", "moving": "mean", "blocks": "blocks", "median-clip": "none"}[mode]
    autocorrelation, replicates = _autocorrelations(sums, crop, centring)
    model = _Model(crop, pixel, _field_weight(sums, crop, centring))
    return _Background(mode, autocorrelation, replicates, model, model.fit(autocorrelation, replicates, "cross"))


def _background_fit(sums: _Accumulator, crop: int, pixel: tuple, asked: str, name: str) -> tuple:
    """The background subtracted, and how far the block means move the fit (:func:`_drift`; None if not tried).

    With "auto" and "mean", each block of frames about its own mean is fitted too: a background that drifts
    over the movie (bleaching, focus or sample drift) adds a broad correlation that the temporal mean keeps
    and the block means mostly remove. "auto" takes the block means when they move the fit significantly.
    """
    chosen = _background_of(sums, crop, pixel, "mean" if asked == "auto" else asked)
    centre = crop // 2
    if not chosen.autocorrelation[centre, centre] > 1e-9 * max(sums.mean_level**2, np.finfo(float).tiny):
        raise ValueError(f"{name} has no temporal fluctuations (every frame is the same): nothing blinks")
    if asked not in ("auto", "mean"):
        return chosen, None
    blocks = _background_of(sums, crop, pixel, "blocks")
    drift = _drift(chosen, blocks, sums.frames)
    return (blocks if asked == "auto" and drift > DRIFT_SIGNIFICANCE else chosen), drift


def _drift(mean: _Background, blocks: _Background, frames: int) -> float:
    """How far the block means move the fit: the difference of the PSF covariances over its spread on a stable
    movie (largest of its three entries).

    On a stable movie the block means take a share ``φ`` of the fluctuations away and nothing else: both fits
    estimate the same PSF, the one about the temporal mean more precisely, and the variance of their difference
    is that of the block fit times ``φ`` (Hausman's test). ``φ`` is measured at the four diagonal neighbours of
    the zero lag (free of white and line noise), at least ``(blocks - 1) / frames`` (white noise's share). A
    jackknife of the difference would not do: a drift is no noise, and its replicates spread as much as it.
    """
    centre = mean.autocorrelation.shape[0] // 2
    near = (np.array([-1, -1, 1, 1]) + centre, np.array([-1, 1, -1, 1]) + centre)
    whole, within = mean.autocorrelation[near].sum(), blocks.autocorrelation[near].sum()
    if not whole > 0:
        return 0.0
    share = max(1 - within / whole, (JACKKNIFE_BLOCKS - 1) / frames)
    moments = blocks.reference.moments()
    errors = _jackknife_errors(moments[1:]) * math.sqrt(share)
    return _ratio(mean.reference.moments()[0] - moments[0], errors)


def _ridges(autocorrelation: np.ndarray, fit: _SpatialFit, pixel: tuple) -> dict:
    """How far the central row and column of the autocorrelation stand above the other lines, in noise levels.

    Noise shared along a camera's rows (columns), sCMOS line noise, adds a constant to the central row
    (column) at every lag, beyond the PSF too. There the residuals of the fit without both lines are compared:
    the central line's mean over the lags beyond three widths of PSF ⋆ PSF, against the same means of the other
    lines (their median and their spread, 1.4826 median absolute deviations, times √2: the central line's lags
    d and -d are one). Near the peak the emitters' own positions make the lines differ too, alike in every
    frame: a jackknife over frames cannot tell them from a ridge (clean movies of 3000 frames read up to 6
    jackknife errors). A line with fewer than 4 lags beyond the PSF on each side is not tested (0).
    """
    residual = autocorrelation - fit.model
    reach = 3 * ROOT2 * max(fit.values[:2]) if fit.significant else 0.0
    return {"row": _line_excess(residual, reach + pixel[1], pixel[1]),
            "column": _line_excess(residual.T, reach + pixel[0], pixel[0])}


def _line_excess(residual: np.ndarray, reach: float, spacing: float) -> float:
    """The central row's mean of ``residual`` beyond ``reach`` over the other rows' (their median and spread)."""
    half = residual.shape[1] // 2
    far = np.abs(np.arange(-half, half + 1)) * spacing > reach
    if far.sum() < 8:
        return 0.0
    means = residual[:, far].mean(axis=1)
    others = np.delete(means, half)
    level = np.median(others)
    spread = 1.4826 * np.median(np.abs(others - level)) * ROOT2  # the central row holds each lag twice (d, -d)
    return float((means[half] - level) / spread) if spread > 0 else 0.0


def _fit_without(background: _Background, exclude: str) -> _SpatialFit:
    """The fit without the zero lag and the lines of ``exclude``, from the fit without both central lines."""
    reference = background.reference
    if exclude == "cross":
        return reference
    start = reference.values if reference.success and not reference.at_bound else None
    return background.model.fit(background.autocorrelation, background.replicates, exclude, start)


def _exclusion(ridges: dict) -> str:
    """The exclusion of the central lines that hold a ridge (and of the zero lag)."""
    row, column = (ridges[line] > RIDGE_SIGNIFICANCE for line in ("row", "column"))
    return "cross" if row and column else "row" if row else "column" if column else "pixel"


# ----------------------------------------------------------------------------- the streaming pass
class _LagSums:
    """Sums for the temporal autocovariance at lags 0..L of a stream of frames' spectral coefficients."""

    def __init__(self, lags: int):
        self.lags = lags
        self.products = np.zeros(lags + 1)
        self.head = None  # the first <= L frames
        self.tail = None  # the last <= L frames
        self.total = 0.0
        self.count = 0

    def add(self, frames: np.ndarray) -> None:
        """Add a chunk (C, Q) of complex128 coefficients following the previous ones.

        The products are real dot products of the (real, imaginary) pairs: one compiled pass
        (:func:`.kernels.lag_products`), else summed by ``einsum`` lag by lag (the reference). Not BLAS:
        ``vdot`` would start its own threads, which then spin against the FFT's.
        """
        joined = np.ascontiguousarray(frames if self.tail is None else np.concatenate([self.tail, frames]))
        pairs = joined.view(np.float64)
        start = joined.shape[0] - frames.shape[0]
        if kernels.jit_enabled():
            kernels.lag_products(pairs, start, self.products)
        else:
            self._einsum_products(pairs, start)
        self.tail = joined[-self.lags:].copy()
        self.head = frames[:self.lags].copy() if self.head is None else \
            np.concatenate([self.head, frames[:self.lags - self.head.shape[0]]])
        self.total = self.total + frames.sum(axis=0)
        self.count += frames.shape[0]

    def _einsum_products(self, pairs: np.ndarray, start: int) -> None:
        """The reference of :func:`.kernels.lag_products`: ``einsum`` lag by lag."""
        for lag in range(self.lags + 1):
            first = max(start, lag)
            if first < pairs.shape[0]:
                self.products[lag] += np.einsum("ij,ij->", pairs[first - lag:pairs.shape[0] - lag], pairs[first:])

    def covariance(self, lags: int, scale: float) -> np.ndarray:
        """Autocovariance about the temporal mean at lags 1..min(lags, T - 2), mean over pairs, times ``scale``."""
        count = self.count
        lags = min(lags, count - 2)
        mean = self.total / count
        values = []
        for lag in range(1, lags + 1):
            before = self.total - self.tail[self.tail.shape[0] - lag:].sum(axis=0)  # frames 0 .. T-lag-1
            after = self.total - self.head[:lag].sum(axis=0)  # frames lag .. T-1
            centred = self.products[lag] - _real_dot(mean, before + after) + (count - lag) * _real_dot(mean, mean)
            values.append(scale * centred / (count - lag))
        return np.asarray(values)


def _check_magnitude(largest: float, name: str, dtype) -> None:
    """NaN/Inf, or values whose spectra's squares would overflow (or underflow) in ``dtype``: a ValueError."""
    if not math.isfinite(largest):
        raise ValueError(f"{name} contains NaN or Inf values")
    limit = MAGNITUDE[np.dtype(dtype)]
    if largest > limit or 0 < largest < 1 / limit:
        raise ValueError(f"{name} has values of magnitude {largest:.3g}: too large or too small to square in "
                         f"{np.dtype(dtype)} (rescale the movie)")


def _real_dot(a: np.ndarray, b: np.ndarray) -> float:
    """Re sum(conj(a) b) of two complex vectors, without BLAS."""
    return float(np.sum(a.real * b.real + a.imag * b.imag))


class _Accumulator:
    """One pass over the frames: spectral sums, the temporal lag sums and, per pixel, the sum of the products of
    each pixel's fluctuation with its diagonal neighbour's (where the blinking is)."""

    def __init__(self, movie, name: str, xp, options: _Options, chunk: int, padded: tuple):
        self.movie, self.name, self.xp, self.options, self.chunk = movie, name, xp, options, chunk
        self.frames, self.rows, self.cols = (int(n) for n in movie.shape)
        self.padded = padded
        self.dtype = working_dtype(movie.dtype)
        self.blocks = np.zeros(JACKKNIFE_BLOCKS, dtype=np.int64)  # frames per jackknife block
        half = (JACKKNIFE_BLOCKS, padded[0], padded[1] // 2 + 1)  # the half spectra of the zero-padded frames
        self.power = xp.zeros(half)  # per block: sum |F|^2
        self.spectrum = xp.zeros(half, dtype=complex)  # per block: sum F
        self.neighbours = xp.zeros((self.rows - 1, self.cols - 1))  # sum over frames of e(y, x) e(y + 1, x + 1)
        self.lags = _LagSums(min(options.lags, self.frames - 1))
        self.low = tuple(xp.asarray(index) for index in _low_frequencies(*padded))
        self.reference = None
        self.median = None
        self.buffer = None  # the zero-padded frames of a chunk
        self.mean_level = 0.0

    def read(self, start: int, stop: int):
        """Frames [start, stop) as stored, on the device; NaN/Inf rejected."""
        block = to_device(self.movie[start:stop], self.xp)
        if block.dtype.kind == "f":
            _check_magnitude(float(self.xp.abs(block).max()), self.name, self.dtype)
        return block

    def centred(self, block):
        """``block`` minus the reference image, in the working precision (one pass)."""
        return self.xp.subtract(block, self.reference, dtype=self.dtype)

    def run(self, report) -> _Accumulator:
        if self.options.background == "median-clip":
            self.median = self._median()
        for start in range(0, self.frames, self.chunk):
            stop = min(self.frames, start + self.chunk)
            raw = self.read(start, stop)
            if self.reference is None:
                self.reference = raw.mean(axis=0, dtype=self.dtype)
                self.mean_level = float(self.reference.mean())
            padded = self._padded_chunk(stop - start)
            self._fluctuations(raw, start, stop, padded)
            spectra = rfftn(padded, axes=(1, 2))
            _release(self.movie)  # the frames read are used: their pages can go
            self._add(spectra, start, stop)
            report(stop / self.frames)
        return self

    def _add(self, spectra, start: int, stop: int) -> None:
        """Accumulate a chunk's spectra: power and sum per jackknife block, low frequencies.

        numpy spectra take one compiled pass (:func:`.kernels.blink_spectral_sums`, in double precision); this
        array code (chunk sums in single precision) is its reference and the GPU path.
        """
        block = np.arange(start, stop) * self.blocks.size // self.frames
        np.add.at(self.blocks, block, 1)
        if self.xp is np and kernels.jit_enabled():
            kernels.blink_spectral_sums(spectra, block, self.power, self.spectrum)
        else:
            self._block_sums(spectra, block)
        self.lags.add(to_host(spectra[:, self.low[0], self.low[1]]).reshape(stop - start, -1).astype(complex))

    def _block_sums(self, spectra, block: np.ndarray) -> None:
        """Add each frame's ``|F|^2`` and ``F`` to its block's sums (``block``: each frame's)."""
        pairs = spectra.view(spectra.real.dtype)  # (C, Y, 2 (X // 2 + 1)): real and imaginary parts
        for index in np.unique(block):
            part = slice(*(np.flatnonzero(block == index)[[0, -1]] + [0, 1]))
            power = self.xp.einsum("ijk,ijk->jk", pairs[part], pairs[part])
            self.power[index] += power[:, 0::2] + power[:, 1::2]
            self.spectrum[index] += spectra[part].sum(axis=0)

    def _padded_chunk(self, count: int):
        """(count, padded rows, padded columns) frames of zeros but in the frame, which the pass overwrites."""
        if self.buffer is None:
            self.buffer = self.xp.zeros((min(self.chunk, self.frames), *self.padded), dtype=self.dtype)
        return self.buffer[:count]

    def _fluctuations(self, raw, start: int, stop: int, padded) -> None:
        """What is autocorrelated, written into the zero-padded chunk: frames minus the reference, the moving
        mean or the clipped median, each frame minus its own spatial mean (changes of the whole frame's
        intensity: bleaching, drift, flicker); the products of diagonal neighbours added to ``neighbours``.

        The temporal mean is removed from the sums at the end. numpy movies take one compiled pass
        (:func:`.kernels.blink_fluctuations`); this array code is its reference and the GPU path.
        """
        clip = self.options.background == "median-clip"
        reference = self.median if clip else self.reference
        moving = self._moving_mean(start, stop) if self.options.background == "moving" else None
        if self.xp is np and kernels.jit_enabled():
            kernels.blink_fluctuations(raw, reference, moving, clip, padded, self.neighbours)
            return
        out = padded[:, :self.rows, :self.cols]
        self.xp.subtract(raw, reference, out=out)
        if clip:
            self.xp.maximum(out, 0, out=out)
        elif moving is not None:
            out -= moving
        out -= out.mean(axis=(1, 2), keepdims=True)
        self.neighbours += self.xp.einsum("tij,tij->ij", out[:, :-1, :-1], out[:, 1:, 1:])

    def _moving_mean(self, start: int, stop: int):
        """Each frame's window mean (minus the reference) over ``window`` frames centred on it (cut at the ends)."""
        window = self.options.window
        low, high = max(0, start - window // 2), min(self.frames, stop + window - 1 - window // 2)
        block = self.centred(self.read(low, high))
        cumulative = self.xp.concatenate([self.xp.zeros((1, self.rows, self.cols), dtype=self.dtype),
                                          self.xp.cumsum(block, axis=0)])  # small: the frames minus the reference
        del block
        t = np.arange(start, stop)
        first = np.maximum(0, t - window // 2) - low
        last = np.minimum(self.frames, t + window - window // 2) - low
        span = self.xp.asarray((last - first).astype(self.dtype))[:, None, None]
        means = cumulative[self.xp.asarray(last)]
        means -= cumulative[self.xp.asarray(first)]
        means /= span
        return means

    def _median(self):
        step = max(1, -(-self.frames // MEDIAN_FRAMES))
        sample = to_device(self.movie[::step], self.xp).astype(self.dtype)
        _release(self.movie)
        return self.xp.median(sample, axis=0)

    def temporal(self, lags: int) -> np.ndarray:
        """Temporal autocovariance per pixel of the fluctuations low-pass filtered to LOW_PASS cycles/pixel.

        Parseval: a pixel sum of products is the sum over the full spectrum of the zero-padded frames divided
        by their size; the half spectrum's columns kx >= 1 stand for two coefficients each.
        """
        return self.lags.covariance(lags, 2 / (self.rows * self.cols * self.padded[0] * self.padded[1]))


def _low_frequencies(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the half-spectrum coefficients with |ky| <= LOW_PASS, 0 < kx <= LOW_PASS.

    The temporal autocorrelation is measured on them: the movie low-pass filtered (a spatial filter keeps
    every emitter's temporal statistics). Without the kx = 0 column, each coefficient stands for two.
    """
    ky, kx = frequency_axes((rows, cols))
    keep_y = np.flatnonzero(np.abs(ky) <= LOW_PASS)
    keep_x = np.flatnonzero((kx > 0) & (kx <= LOW_PASS))
    return keep_y[:, None], keep_x[None, :]


def _release(movie) -> None:
    """Drop the pages of a read-only memory-mapped movie just read, so that streaming keeps memory bounded."""
    mapping = getattr(movie, "_mmap", None)
    if isinstance(movie, np.memmap) and movie.mode == "r" and mapping is not None and hasattr(mapping, "madvise"):
        mapping.madvise(mmap.MADV_DONTNEED)


def _autocorrelations(sums: _Accumulator, crop: int, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean autocovariance per pixel pair and frame at the lags of the crop, and its jackknife replicates.

    The fluctuations are taken about ``mode``'s background: "mean", each pixel's temporal mean (what the pass
    subtracted, a moving mean, is then centred too); "blocks", each pixel's mean over each block of frames (a
    background that drifts slowly); "none", as the pass left them (median-clip). Replicate ``k`` leaves block
    ``k`` out. The frames were zero-padded: each lag's sum holds exactly its pairs inside the frame.

    Returns
    -------
    autocorrelation : ndarray, shape (crop, crop)
        Zero lag at the centre.
    replicates : ndarray, shape (blocks, crop, crop)
    """
    half = crop // 2
    offsets = np.arange(-half, half + 1)
    lags = ((offsets % sums.padded[0])[:, None], (offsets % sums.padded[1])[None, :])
    pairs = np.outer(sums.rows - np.abs(offsets), sums.cols - np.abs(offsets))
    left = [None, *range(sums.blocks.size)]  # the block each one leaves out
    stack = np.stack([to_host(irfftn(_power_about(sums, mode, block), sums.padded))[lags]
                      / (pairs * (sums.frames - (0 if block is None else sums.blocks[block]))) for block in left])
    return stack[0], stack[1:]


def _power_about(sums: _Accumulator, mode: str, left_out=None):
    """The fluctuations' power spectrum summed over the frames (but block ``left_out``) about ``mode``'s
    background (see :func:`_autocorrelations`)."""
    def kept(array):
        total = array.sum(axis=0)
        return total if left_out is None else total - array[left_out]

    if mode == "blocks":  # each block about its own mean
        return sum(sums.power[block] - abs(sums.spectrum[block]) ** 2 / sums.blocks[block]
                   for block in range(sums.blocks.size) if block != left_out)
    if mode == "none":
        return kept(sums.power)
    return kept(sums.power) - abs(kept(sums.spectrum)) ** 2 / (sums.frames - (0 if left_out is None else
                                                                              sums.blocks[left_out]))


def _field_weight(sums: _Accumulator, crop: int, mode: str) -> np.ndarray:
    """Density of blinking pixel pairs at each lag of the crop relative to a uniform field, 1 at zero lag.

    The autocorrelation is a mean over the pixel pairs at each lag, all inside the frame. When the emitters
    fill the field (and beyond), every pair carries the same PSF ⋆ PSF and the mean is unbiased; when they do
    not (a cell in the middle of the field, emitters kept away from the border), pairs near the border carry
    less blinking, the more so the longer the lag, and the mean falls off faster than PSF ⋆ PSF (widths read
    +3.5 % wide at 64², σ 2.5-3 px, emitters 2 σ inside the border). For a Gaussian PSF the covariance of the
    pair ``(p, p + d)`` is ``(PSF ⋆ PSF)(d) ρ(p + d/2)``, ``ρ`` the blinking variance (smoothed by the PSF)
    at the pair's midpoint; ``ρ`` is measured, free of white noise and of line noise along rows or columns,
    by each pixel's covariance with its diagonal neighbour (about ``mode``'s background). The weight is the
    mean of ``ρ`` over the midpoints of each lag's pairs relative to its mean over the frame: 1 everywhere
    for a uniform field, and when the map is noise (no positive mean).

    Returns
    -------
    ndarray, shape (crop, crop)
    """
    products = to_host(sums.neighbours)
    groups = {"none": [], "mean": [sums.spectrum.sum(axis=0)], "blocks": list(sums.spectrum)}[mode]
    counts = [sums.frames] if mode == "mean" else sums.blocks
    for spectrum, count in zip(groups, counts):  # less each group's temporal mean
        means = to_host(irfftn(spectrum, sums.padded))[:sums.rows, :sums.cols] / count
        products = products - count * means[:-1, :-1] * means[1:, 1:]
    rows, cols = _pair_cells(sums.rows, crop), _pair_cells(sums.cols, crop)
    density = rows @ products @ cols.T / np.outer(rows.sum(axis=1), cols.sum(axis=1))
    centre = crop // 2
    if not density[centre, centre] > 0:
        return np.ones((crop, crop))
    weight = density / density[centre, centre]
    return weight if np.isfinite(weight).all() and (weight > 0).all() else np.ones((crop, crop))


def _pair_cells(length: int, crop: int) -> np.ndarray:
    """(crop, length - 1): the length of each diagonal pair's cell inside the midpoints of each lag's pairs.

    Along an axis of ``length`` pixels (pixel ``k`` spans [k, k + 1]), the pairs at lag ``d`` have their
    midpoints over [|d|/2, length - |d|/2]; the diagonal pair (k, k + 1) stands for [k + 1/2, k + 3/2], the
    first and last extended to the frame's edges, so that a uniform map gives exactly the pair counts.
    """
    edges = np.concatenate([[0.0], np.arange(1.5, length - 1), [float(length)]])
    reach = np.abs(np.arange(crop) - crop // 2)[:, None] / 2
    return np.clip(np.minimum(length - reach, edges[None, 1:]) - np.maximum(reach, edges[None, :-1]), 0, None)


# ----------------------------------------------------------------------------- spatial model and fit
def _tent_nodes(pixel: float) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature of the autocorrelation of one pixel of width ``pixel`` (a tent on [-pixel, pixel], unit area)."""
    nodes, weights = np.polynomial.legendre.leggauss(_TENT_NODES)
    nodes, weights = (nodes + 1) / 2, weights / 2  # on [0, 1]
    half_weights = weights * (1 - nodes)  # the tent 1 - |u| on each half
    return np.concatenate([-nodes, nodes]) * pixel, np.concatenate([half_weights, half_weights])


def _box_nodes(pixel: float) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature of one pixel of width ``pixel`` (a box of unit area)."""
    nodes, weights = np.polynomial.legendre.leggauss(_TENT_NODES)
    return nodes * pixel / 2, weights / 2


def _smeared_gaussian(lag_y, lag_x, widths, theta: float, nodes_y, nodes_x, derivatives: bool = False):
    """Gaussian density averaged over the quadrature ``nodes`` offsets, at the lags.

    Parameters
    ----------
    lag_y, lag_x : ndarray
        Lags (same shape).
    widths : (float, float)
        Standard deviations along the direction ``theta`` and across it.
    theta : float
        Radians from +x towards +y.
    nodes_y, nodes_x : (ndarray, ndarray)
        Quadrature offsets and weights per axis.
    derivatives : bool
        Also return the derivatives by the two widths and ``theta`` (analytic).

    Returns
    -------
    ndarray, or (ndarray, (ndarray, ndarray, ndarray)) with ``derivatives``
        Same shape as the lags.
    """
    (ny, wy), (nx, wx) = nodes_y, nodes_x
    major, minor = widths
    c, s = math.cos(theta), math.sin(theta)
    dy = lag_y[..., None, None] - ny[:, None]
    dx = lag_x[..., None, None] - nx[None, :]
    along, across = (s * dy + c * dx) / major, (c * dy - s * dx) / minor  # in units of the widths
    weights = np.exp(-(along**2 + across**2) / 2) * (np.outer(wy, wx) / (2 * np.pi * major * minor))
    value = weights.sum(axis=(-2, -1))
    if not derivatives:
        return value
    return value, ((weights * (along**2 - 1)).sum(axis=(-2, -1)) / major,
                   (weights * (across**2 - 1)).sum(axis=(-2, -1)) / minor,
                   (weights * along * across).sum(axis=(-2, -1)) * (major / minor - minor / major))


def autocorrelation_model(lag_y, lag_x, sigma_x: float, sigma_y: float, theta: float, pixel_size=1.0) -> np.ndarray:
    """Expected autocorrelation per unit amplitude of a pixel-integrated Gaussian PSF at physical lags.

    The PSF ⋆ PSF of a Gaussian is the Gaussian of twice its covariance; pixel
    integration of both copies, averaged over sub-pixel positions, convolves it
    with a pixel's autocorrelation (a tent of half-width one pixel per axis).

    Parameters
    ----------
    lag_y, lag_x : array_like
        Lags in pixel_size units.
    sigma_x, sigma_y : float
        PSF widths (pixel_size units), sigma_x along ``theta``.
    theta : float
        Degrees from +x towards +y.
    pixel_size : float or (y, x)

    Returns
    -------
    ndarray
        Values at the lags; their sum over every integer lag is 1 (a density over lags).
    """
    pixel = normalize_pixel_size(pixel_size, 2)
    lag_y, lag_x = np.broadcast_arrays(np.asarray(lag_y, dtype=float), np.asarray(lag_x, dtype=float))
    return _smeared_gaussian(lag_y, lag_x, (ROOT2 * sigma_x, ROOT2 * sigma_y), math.radians(theta),
                             _tent_nodes(pixel[0]), _tent_nodes(pixel[1])) * pixel[0] * pixel[1]


@dataclass(frozen=True)
class _SpatialFit:
    values: np.ndarray  # sigma_x, sigma_y, theta (radians), amplitude, offset
    errors: np.ndarray  # their jackknife standard errors, then sigma's
    model: np.ndarray
    at_bound: bool
    success: bool
    fit_errors: np.ndarray  # the errors from the Jacobian
    replicates: np.ndarray  # (blocks, 5): the values without each block of frames (linearised)
    exclude: str
    field: np.ndarray  # the field weight the model includes (:func:`_field_weight`)

    @property
    def significant(self) -> bool:
        """A PSF is measured: the fit converged and its amplitude stands out of both its errors.

        (The jackknife alone is fooled by blocks of frames that repeat each other.)
        """
        error = max(self.errors[3], self.fit_errors[3])
        return bool(self.success and self.values[3] > SIGNIFICANCE * error and np.isfinite(self.errors[:3]).all())

    def moments(self) -> np.ndarray:
        """(1 + blocks, 3): the PSF's covariance (yy, xy, xx) of the fit, then of each replicate."""
        values = np.vstack([self.values, self.replicates])
        c, s = np.cos(values[:, 2]), np.sin(values[:, 2])
        major, minor = values[:, 0] ** 2, values[:, 1] ** 2
        return np.stack([major * s**2 + minor * c**2, (major - minor) * s * c, major * c**2 + minor * s**2], axis=1)


class _Model:
    """The autocorrelation model on the lags of a crop, fitted by least squares with its analytic Jacobian.

    ``A w(d) (PSF ⋆ PSF ∗ tent)(d) + offset``: :func:`autocorrelation_model` times the field weight ``w``
    (:func:`_field_weight`), in units of the larger pixel (widths scaled back at the end), so that the fit does
    not depend on the unit of the pixel size (at 1e15 nm it read noise as a PSF).
    """

    def __init__(self, crop: int, pixel: tuple, weight: np.ndarray):
        self.scale = max(pixel)
        self.lengths = np.array([self.scale, self.scale, 1.0, 1.0, 1.0])  # each parameter in larger pixels
        self.pixel = (pixel[0] / self.scale, pixel[1] / self.scale)
        offsets = np.arange(-(crop // 2), crop // 2 + 1)
        self.lag_y, self.lag_x = np.meshgrid(offsets * self.pixel[0], offsets * self.pixel[1], indexing="ij")
        self.nodes = (_tent_nodes(self.pixel[0]), _tent_nodes(self.pixel[1]))
        self.field = weight
        self.weight = weight * self.pixel[0] * self.pixel[1]
        self.crop = crop
        self.bounds = (0.05 * min(self.pixel), crop * max(self.pixel))

    def values(self, params, used=(slice(None),)) -> np.ndarray:
        """The model at the lags ``used`` (a boolean mask or an index)."""
        sigma_x, sigma_y, theta, amplitude, offset = params
        shape = _smeared_gaussian(self.lag_y[used], self.lag_x[used], (ROOT2 * sigma_x, ROOT2 * sigma_y), theta,
                                  *self.nodes)
        return amplitude * self.weight[used] * shape + offset

    def jacobian(self, params, used) -> np.ndarray:
        """(lags used, 5): the model's derivatives by its parameters."""
        sigma_x, sigma_y, theta, amplitude, _ = params
        shape, (d_major, d_minor, d_theta) = _smeared_gaussian(
            self.lag_y[used], self.lag_x[used], (ROOT2 * sigma_x, ROOT2 * sigma_y), theta, *self.nodes,
            derivatives=True)
        weight = self.weight[used]
        scaled = amplitude * weight
        return np.stack([scaled * ROOT2 * d_major, scaled * ROOT2 * d_minor, scaled * d_theta, weight * shape,
                         np.ones_like(shape)], axis=1)

    def fit(self, autocorrelation: np.ndarray, replicates: np.ndarray, exclude: str, start=None) -> _SpatialFit:
        """Least-squares fit (no bound on the amplitude) with delete-a-block jackknife errors.

        Each replicate (the autocorrelation without one block of frames) is fitted by one Gauss-Newton step from
        this fit (it differs from it by an eighth of the frames): the errors then cost one solve, not eight fits.
        Neighbouring lags share their noise, so the Jacobian's errors (``fit_errors``) are several times too small.
        """
        used = _fit_mask(self.crop, exclude)
        data = autocorrelation[used]
        low, high = self.bounds
        start = _initial_guess(autocorrelation, used, self.lag_y, self.lag_x, self.pixel) if start is None \
            else np.array(start) / self.lengths
        start[:2] = np.clip(start[:2], low * 1.01, high * 0.99)
        fit = optimize.least_squares(lambda params: self.values(params, used) - data, start,
                                     jac=lambda params: self.jacobian(params, used),
                                     bounds=([low, low, -np.inf, -np.inf, -np.inf], [high, high] + [np.inf] * 3),
                                     x_scale="jac", max_nfev=FIT_EVALUATIONS)
        steps = _gauss_newton_steps(fit.jac, replicates[:, used] - data)
        replicates = (fit.x + steps) * self.lengths
        values = fit.x * self.lengths
        sigma = math.sqrt(values[0] * values[1])
        errors = _jackknife_errors(np.column_stack([replicates, np.sqrt(np.abs(replicates[:, 0] * replicates[:, 1]))]))
        fit_errors = _standard_errors(fit, int(used.sum())) * self.lengths
        fit_errors = np.append(fit_errors, sigma / 2 * math.hypot(fit_errors[0] / values[0],
                                                                   fit_errors[1] / values[1]))
        at_bound = bool(np.any(np.isclose(fit.x[:2], low, rtol=1e-3)) or np.any(np.isclose(fit.x[:2], high,
                                                                                          rtol=1e-3)))
        return _SpatialFit(values, errors, self.values(fit.x), at_bound, bool(fit.success), fit_errors, replicates,
                           exclude, self.field)


def _gauss_newton_steps(jacobian: np.ndarray, changes: np.ndarray) -> np.ndarray:
    """(replicates, parameters): the least-squares parameter changes for data changes (replicates, lags).

    The Jacobian's columns are scaled to unit norm first, so that a direction the data do not determine (θ of
    a round PSF) is dropped instead of blowing up.
    """
    norms = np.sqrt(np.einsum("ij,ij->j", jacobian, jacobian))
    norms[norms == 0] = 1.0
    scaled = jacobian / norms
    normal = np.einsum("ij,ik->jk", scaled, scaled)  # einsum, not BLAS: its threads would spin against the FFT's
    return np.einsum("jk,ik,ri->rj", np.linalg.pinv(normal, rcond=1e-8, hermitian=True), scaled, changes) / norms


def _jackknife_errors(values: np.ndarray) -> np.ndarray:
    """Delete-a-block jackknife standard errors of each column of ``values`` (one row per replicate)."""
    count = values.shape[0]
    return np.sqrt((count - 1) / count * ((values - values.mean(axis=0)) ** 2).sum(axis=0))


def _ratio(difference: np.ndarray, errors: np.ndarray) -> float:
    """The largest ``|difference| / errors`` (0 for no difference, inf for a difference without error)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(errors > 0, np.abs(difference) / errors, np.where(difference == 0, 0.0, np.inf))
    return float(ratios.max())


def _fit_mask(crop: int, exclude: str) -> np.ndarray:
    """The lags fitted: all but the zero lag, and the central row (dy = 0) and/or column (dx = 0)."""
    used = np.ones((crop, crop), dtype=bool)
    centre = crop // 2
    if exclude in ("row", "cross"):
        used[centre, :] = False
    if exclude in ("column", "cross"):
        used[:, centre] = False
    used[centre, centre] = False
    return used


def _initial_guess(autocorrelation, used, lag_y, lag_x, pixel) -> np.ndarray:
    """Start from the second moments of the positive, offset-subtracted peak (tent variance removed)."""
    border = np.concatenate([autocorrelation[[0, -1], :].ravel(), autocorrelation[:, [0, -1]].ravel()])
    offset = float(np.median(border))
    weights = np.where(used, np.clip(autocorrelation - offset, 0, None), 0.0)
    centre = autocorrelation.shape[0] // 2
    peak = weights[centre - 1:centre + 2, centre - 1:centre + 2].max()
    weights = np.where(weights > 0.05 * peak, weights, 0.0) if peak > 0 else weights
    total = weights.sum()
    if not total > 0:
        return np.array([pixel[1], pixel[0], 0.0, 0.0, offset])
    moments = np.array([[(weights * lag_y**2).sum(), (weights * lag_y * lag_x).sum()],
                        [(weights * lag_y * lag_x).sum(), (weights * lag_x**2).sum()]]) / total
    covariance = (moments - np.diag([pixel[0] ** 2, pixel[1] ** 2]) / 6) / 2
    values, vectors = np.linalg.eigh(covariance)
    values = np.maximum(values, (0.3 * min(pixel)) ** 2)
    major = vectors[:, 1]  # (y, x)
    theta = math.atan2(major[0], major[1])
    return np.array([math.sqrt(values[1]), math.sqrt(values[0]), theta, total * pixel[0] * pixel[1], offset])


def _standard_errors(fit, count: int) -> np.ndarray:
    """Parameter standard errors from the Jacobian and the residual variance."""
    dof = max(1, count - fit.x.size)
    variance = 2 * fit.cost / dof
    jacobian = fit.jac
    with np.errstate(invalid="ignore"):
        covariance = np.linalg.pinv(jacobian.T @ jacobian) * variance
        return np.sqrt(np.clip(np.diag(covariance), 0, None)) if np.isfinite(covariance).all() else \
            np.full(fit.x.size, np.nan)


def _canonical(fit: _SpatialFit) -> dict:
    """The fit's numbers as reported: σx >= σy, θ of the major axis in [0, 180) degrees, σ, errors, FWHM."""
    sigma_x, sigma_y, theta = fit.values[:3]
    error_x, error_y, error_theta = fit.errors[:3]
    if sigma_y > sigma_x:
        sigma_x, sigma_y, error_x, error_y, theta = sigma_y, sigma_x, error_y, error_x, theta + math.pi / 2
    sigma, error = math.sqrt(sigma_x * sigma_y), fit.errors[5]
    return {"sigma_x": float(sigma_x), "sigma_y": float(sigma_y), "theta": float(math.degrees(theta) % 180),
            "sigma": sigma, "sigma_x_error": float(error_x), "sigma_y_error": float(error_y),
            "theta_error": float(math.degrees(error_theta)), "sigma_error": float(error),
            "fwhm": 2 * math.sqrt(2 * math.log(2)) * sigma}


# ----------------------------------------------------------------------------- PSF image and spline
def _psf_image(autocorrelation, fit: _SpatialFit) -> np.ndarray:
    """Zero-phase PSF ``ifft2(√|fft2((AC - offset) / w)|)`` with the excluded lags from the model; sum 1.

    ``w`` is the field weight of the fit (:func:`_field_weight`). The autocorrelation's noise has a flat
    spectrum, which the square root would turn into a spike at the centre (+14 % at σ = 1.5 px, 3000 frames):
    its level, the median where the fitted model's spectrum is below :data:`NOISE_SPECTRUM` of its peak, is
    subtracted (negative values set to 0) and those frequencies, noise only, are left out (the centre is then
    within about 2 % of the model).
    """
    offset = fit.values[4]
    filled = (np.where(_fit_mask(autocorrelation.shape[0], fit.exclude), autocorrelation, fit.model) - offset) \
        / fit.field
    spectrum = np.fft.fft2(np.fft.ifftshift(filled)).real  # real: the autocorrelation is symmetric
    model = np.fft.fft2(np.fft.ifftshift((fit.model - offset) / fit.field)).real
    noise = model < NOISE_SPECTRUM * model.max()
    floor = float(np.median(spectrum[noise])) if noise.sum() >= 16 else 0.0
    amplitude = np.where(noise, 0.0, np.sqrt(np.clip(spectrum - floor, 0, None)))
    psf = np.fft.fftshift(np.fft.ifft2(amplitude).real)
    total = psf.sum()  # the amplitude at zero frequency: 0 when even that is noise (no PSF to normalise)
    return psf / total if total > 0 else np.zeros_like(psf)


def _psf_model(shape: int, fit: _SpatialFit, pixel: tuple) -> np.ndarray:
    """The fitted Gaussian PSF integrated over each pixel of the crop, sum 1."""
    half = shape // 2
    offsets = np.arange(-half, half + 1)
    lag_y, lag_x = np.meshgrid(offsets * pixel[0], offsets * pixel[1], indexing="ij")
    image = _smeared_gaussian(lag_y, lag_x, fit.values[:2], fit.values[2], _box_nodes(pixel[0]), _box_nodes(pixel[1]))
    return image / image.sum()


def _spline(psf: np.ndarray, pixel: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Knots (y, x) and coefficients of the bicubic interpolating spline of ``psf`` on physical offsets."""
    half = psf.shape[0] // 2
    y = np.arange(-half, half + 1) * pixel[0]
    x = np.arange(-half, half + 1) * pixel[1]
    spline = interpolate.RectBivariateSpline(y, x, psf, kx=3, ky=3, s=0)
    knots_y, knots_x = spline.get_knots()
    coefficients = spline.get_coeffs().reshape(knots_y.size - 4, knots_x.size - 4)
    return knots_y, knots_x, coefficients


# ----------------------------------------------------------------------------- temporal fit
@dataclass(frozen=True)
class _TemporalFit:
    covariance: np.ndarray
    model: np.ndarray
    on_time: float | None
    error: float | None


def _fit_temporal(covariance: np.ndarray) -> _TemporalFit:
    """Fit ``A λ^l + c`` to the autocovariance at lags 1..L; on-time ``1 / (1 - λ)`` frames."""
    lags = np.arange(1, covariance.size + 1, dtype=float)
    failed = _TemporalFit(covariance, np.full(covariance.size, np.nan), None, None)
    if covariance.size < 4 or not covariance[0] > 0:
        return failed
    offset = float(covariance[-1])
    ratio = (covariance[1] - offset) / (covariance[0] - offset) if covariance[0] > offset else 0.5
    tau = -1 / math.log(min(max(ratio, 0.05), 0.99))

    def model(params):
        amplitude, log_tau, constant = params
        return amplitude * np.exp(-lags * np.exp(-np.clip(log_tau, -30.0, 30.0))) + constant

    start = [(covariance[0] - offset) * math.exp(1 / tau), math.log(tau), offset]
    fit = optimize.least_squares(lambda p: model(p) - covariance, start, x_scale="jac")
    errors = _standard_errors(fit, covariance.size)
    _, log_tau, constant = fit.x
    fitted = model(fit.x)
    noise = math.sqrt(2 * fit.cost / max(1, covariance.size - 3))
    if not (fit.success and fitted[0] - constant > SIGNIFICANCE * noise and np.isfinite(errors[1])):
        return failed
    tau = math.exp(log_tau)
    decay = math.exp(-1 / tau)
    on_time = 1 / (1 - decay)
    error = decay / (tau * (1 - decay) ** 2) * errors[1]  # d on_time / d log(tau)
    return _TemporalFit(covariance, fitted, on_time, float(error))


# ----------------------------------------------------------------------------- result
def _warnings(spatial: _SpatialFit, temporal: _TemporalFit, frames: int, crop: int, pixel: tuple) -> list:
    notes = []
    if frames < FEW_FRAMES:
        notes.append(f"only {frames} frames: the autocorrelation is noisy (use at least {FEW_FRAMES})")
    if not spatial.significant:
        notes.append("no significant correlation between neighbouring pixels' fluctuations: is the sample "
                     "blinking? (a static sample has only noise, which is uncorrelated)")
    else:
        widest = 2 * math.sqrt(2 * math.log(2)) * max(spatial.values[:2]) / min(pixel)
        if widest > crop / 4:
            notes.append(f"the PSF (FWHM {widest:.3g} px) is wider than a quarter of the crop ({crop} px): "
                         "use a larger crop")
        if spatial.at_bound:
            notes.append("the Gaussian fit stopped at a width bound: the PSF is not measured")
    if temporal.on_time is None:
        notes.append("no significant correlation between the fluctuations of consecutive frames: "
                     "the on-time is not measured (shorter than a frame?)")
    return notes


def _line_notes(ridges: dict, asked: str) -> list:
    """A warning for each central line of the autocorrelation that moves the fit: left out, or the way out."""
    notes = []
    for line, excess in ridges.items():
        if excess <= RIDGE_SIGNIFICANCE:
            continue
        ridge = (f"the autocorrelation has a ridge along its central {line}, {excess:.3g} noise levels above the "
                 f"other {line}s beyond the PSF: noise shared along the camera's {line}s (sCMOS line noise)")
        if asked == "auto":
            notes.append(f"{ridge}: the central {line} was left out of the fit")
        elif asked not in (line, "cross"):
            notes.append(f"{ridge}: use exclude_center='auto' (or '{line}', 'cross')")
    return notes


def _drift_notes(drift, asked: str) -> list:
    """A warning when the block means move the fit: what "auto" did, or the way out for "mean"."""
    if drift is None or drift <= DRIFT_SIGNIFICANCE:
        return []
    change = (f"the background drifts (each {JACKKNIFE_BLOCKS}th of the movie about its own mean moves the fit by "
              f"{drift:.3g} times its error: bleaching, focus or sample drift)")
    if asked == "auto":
        return [f"{change}: each {JACKKNIFE_BLOCKS}th's own mean was subtracted; background=('moving', n_frames), "
                "n well above the on-time, corrects it more finely"]
    return [f"{change}: use background='auto' or ('moving', n_frames), n well above the on-time"]


def _result(autocorrelation, spatial: _SpatialFit, temporal: _TemporalFit, frames: int, pixel: tuple,
            notes: tuple, parameters: dict) -> BlinkPSFResult:
    resolved = spatial.significant
    numbers = _canonical(spatial) if resolved else dict.fromkeys(
        ("sigma_x", "sigma_y", "theta", "sigma", "sigma_x_error", "sigma_y_error", "theta_error", "sigma_error",
         "fwhm"))
    psf = _psf_image(autocorrelation, spatial)
    psf_model = _psf_model(autocorrelation.shape[0], spatial, pixel)
    knots_y, knots_x, coefficients = _spline(psf, pixel)
    centre = autocorrelation.shape[0] // 2
    return BlinkPSFResult(
        **numbers, amplitude=float(spatial.values[3]) if resolved else None,
        offset=float(spatial.values[4]) if resolved else None, autocorrelation=autocorrelation,
        autocorrelation_model=spatial.model, psf=psf, psf_model=psf_model, spline_knots_y=knots_y,
        spline_knots_x=knots_x, spline_coefficients=coefficients,
        noise_spike=float(autocorrelation[centre, centre] - spatial.model[centre, centre]),
        lags=np.arange(1, temporal.covariance.size + 1), temporal_autocorrelation=temporal.covariance,
        temporal_model=temporal.model, on_time=temporal.on_time, on_time_error=temporal.error, frames=frames,
        status="resolved" if resolved else "unresolved", pixel_size=tuple(float(p) for p in pixel),
        warnings=notes, parameters=parameters,
    )
