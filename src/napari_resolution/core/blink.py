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

One streaming pass over the frames (in chunks) accumulates
``Σ_t |rfft2(f_t - r)|²`` and ``Σ_t rfft2(f_t - r)`` (``r`` a reference image,
the first chunk's mean, which keeps the sums small); then

    Σ_t |F(f_t - m)|² = Σ_t |F(f_t - r)|² - |Σ_t F(f_t - r)|² / T

is the fluctuations' power about the temporal mean ``m`` exactly, and one
``irfft2(..., s=frame shape)`` gives the circular autocorrelation. It is
divided by the number of pixel pairs at each lag (pairs that wrap around the
frame join independent pixels: their expectation is zero), so small frames
are not biased. The zero-lag pixel (shot and read noise) is excluded from the
fit, or the whole central row and column with ``exclude_center="cross"``
(sCMOS line noise); in the PSF image these pixels are filled with the fitted
model. The PSF image is the zero-phase PSF ``ifft2(√|fft2(AC)|)`` (its flat
noise floor removed first). Errors: a delete-a-block jackknife over 8 blocks
of frames, whose sums the pass keeps apart.

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
from scipy import interpolate, optimize

from .backend import check_allocation, irfftn, resolve_device, rfftn, to_device, to_host
from .figures import COLORS, Curve, Plot
from .frequency import frequency_axes, normalize_pixel_size
from .progress import progress_of
from .results import STATUSES, Result, issue_warnings, length, number, result_dataclass
from .spectral import compute_path, ring_means
from .validation import check_choice, check_int, check_number, shown, working_dtype

__all__ = ["BlinkChannelsResult", "BlinkPSFResult", "autocorrelation_model", "blink_psf"]

EXCLUDE_CENTER = ("pixel", "cross")
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
#: Bytes per pixel of a frame held once for the whole movie: per jackknife block, the sums of |F|^2 and F.
SUMS_BYTES = JACKKNIFE_BLOCKS * 12
#: Bytes per pixel of each frame of a chunk in flight (as stored, in the working precision, its spectrum).
CHUNK_BYTES = 40
#: Bytes per lag of the autocorrelation crop that its fits hold (the model at 6 x 6 quadrature nodes).
FIT_BYTES = 2500
#: Largest magnitude of a float movie's values in each working precision: sums of squared spectra stay finite.
MAGNITUDE = {np.dtype(np.float32): 1e12, np.dtype(np.float64): 1e140}
#: Relative change of the mean frame intensity between the first and last tenth that gets a warning.
DRIFT_WARNING = 0.2


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
        The fitted model of ``autocorrelation`` (no noise spike).
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
        crop, background, window, exclude_center, lags, exposure_ms, chunk_frames, shape, dtype, path.
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
            covariance = _covariance(self.sigma_x, self.sigma_y, math.radians(self.theta))
            nodes = (_box_nodes(self.pixel_size[0]), _box_nodes(self.pixel_size[1]))
            fit = _smeared_gaussian(y, x, covariance, *nodes) * self.pixel_size[0] * self.pixel_size[1]
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


def blink_psf(movie, *, pixel_size=1.0, crop=None, background="mean", exclude_center: str = "pixel",
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
    background : "mean", ("moving", n_frames) or "median-clip"
        What is subtracted from each pixel: its temporal mean over the
        movie, its mean over a moving window of ``n_frames`` (drift,
        bleaching), or smlmLP's clipped temporal median ``max(f - median, 0)``
        (then each frame's spatial mean; biased, for comparison only).
    exclude_center : {"pixel", "cross"}
        Excluded from the fit: the zero-lag pixel, or the whole central row
        and column (sCMOS line noise).
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
    if isinstance(background, str) and background in ("mean", "median-clip"):
        return background, None
    if (isinstance(background, (tuple, list)) and len(background) == 2 and background[0] == "moving"
            and isinstance(background[1], Integral) and not isinstance(background[1], bool) and background[1] >= 3):
        return "moving", int(background[1])
    raise ValueError(f"background must be 'mean', ('moving', n_frames >= 3) or 'median-clip', got {shown(background)}")


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

    The pass holds the sums (:data:`SUMS_BYTES` per pixel) and each frame's total; a chunk of frames
    (and the moving window around it) in flight; the low frequencies of the last ``lags`` frames; the
    fits, :data:`FIT_BYTES` per lag of the crop.
    """
    frames, rows, cols = shape
    pixels = rows * cols
    check_allocation(SUMS_BYTES * pixels + 8 * frames, f"{name} ({frames} frames of {rows} x {cols} pixels)",
                     "crop or bin the frames")
    cause = "chunk_frames" if options.chunk_frames is not None else "background" if options.window else name
    window = min(options.window or 0, frames)
    check_allocation(CHUNK_BYTES * pixels * (chunk + window),
                     f"{cause} ({chunk} frames at a time{f', a moving window of {window}' if window else ''}, "
                     f"{rows} x {cols} pixels each)", "use fewer frames per chunk")
    low = math.prod(index.size for index in _low_frequencies(rows, cols))
    lags = min(options.lags, frames - 1)
    check_allocation(16 * low * (3 * lags + chunk), f"lags ({lags} frames of {low} low frequencies)",
                     "use fewer lags")
    check_allocation(FIT_BYTES * crop**2, f"crop ({crop} px)", f"use a smaller crop (the default: {DEFAULT_CROP})")


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
    sums = _Accumulator(movie, name, xp, options, chunk).run(report)
    power, spectrum = sums.power.sum(axis=0), sums.spectrum.sum(axis=0)
    autocorrelation = _cropped_autocorrelation(power, spectrum, frames, (rows, cols), crop, options.background)
    if not autocorrelation[crop // 2, crop // 2] > 1e-9 * max(sums.mean_level**2, np.finfo(float).tiny):
        raise ValueError(f"{name} has no temporal fluctuations (every frame is the same): nothing blinks")
    spatial = _fit_psf(autocorrelation, pixel, options.exclude_center)
    spatial = _with_jackknife_errors(spatial, _replicates(sums, crop, options.background), pixel,
                                     options.exclude_center)
    temporal = _fit_temporal(sums.temporal(options.lags))
    parameters = {"crop": crop, "background": options.background, "window": options.window,
                  "exclude_center": options.exclude_center, "lags": options.lags, "exposure_ms": options.exposure_ms,
                  "chunk_frames": chunk, "shape": (frames, rows, cols), "dtype": str(movie.dtype),
                  "path": compute_path(xp)}
    notes = _warnings(spatial, temporal, sums, frames, crop, pixel, options.background)
    return _result(autocorrelation, spatial, temporal, frames, pixel, notes, parameters)


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

        The products are real dot products of the (real, imaginary) pairs, summed by ``einsum``: BLAS
        (``vdot``) would start its own threads, which then spin against the FFT's.
        """
        joined = np.ascontiguousarray(frames if self.tail is None else np.concatenate([self.tail, frames]))
        pairs = joined.view(np.float64)
        start = joined.shape[0] - frames.shape[0]
        for lag in range(self.lags + 1):
            first = max(start, lag)
            if first < joined.shape[0]:
                self.products[lag] += np.einsum("ij,ij->", pairs[first - lag:joined.shape[0] - lag], pairs[first:])
        self.tail = joined[-self.lags:].copy()
        self.head = frames[:self.lags].copy() if self.head is None else \
            np.concatenate([self.head, frames[:self.lags - self.head.shape[0]]])
        self.total = self.total + frames.sum(axis=0)
        self.count += frames.shape[0]

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
    """One pass over the frames: spectral sums, each frame's total and the temporal lag sums."""

    def __init__(self, movie, name: str, xp, options: _Options, chunk: int):
        self.movie, self.name, self.xp, self.options, self.chunk = movie, name, xp, options, chunk
        self.frames, self.rows, self.cols = (int(n) for n in movie.shape)
        self.dtype = working_dtype(movie.dtype)
        self.blocks = np.zeros(JACKKNIFE_BLOCKS, dtype=np.int64)  # frames per jackknife block
        self.power = xp.zeros((JACKKNIFE_BLOCKS, self.rows, self.cols // 2 + 1))  # per block: sum |F|^2
        self.spectrum = xp.zeros((JACKKNIFE_BLOCKS, self.rows, self.cols // 2 + 1), dtype=complex)  # per block: sum F
        self.totals = np.empty(self.frames)
        self.lags = _LagSums(min(options.lags, self.frames - 1))
        self.low = tuple(xp.asarray(index) for index in _low_frequencies(self.rows, self.cols))
        self.reference = None
        self.median = None
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
            spectra = rfftn(self._fluctuations(raw, start, stop), axes=(1, 2))
            _release(self.movie)  # the frames read are used: their pages can go
            self._add(spectra, start, stop)
            report(stop / self.frames)
        return self

    def _add(self, spectra, start: int, stop: int) -> None:
        """Accumulate a chunk's spectra: power and sum (chunk sums in single precision), totals, low frequencies."""
        pairs = spectra.view(spectra.real.dtype)  # (C, Y, 2 (X // 2 + 1)): real and imaginary parts
        block = np.arange(start, stop) * self.blocks.size // self.frames
        for index in np.unique(block):
            part = slice(*(np.flatnonzero(block == index)[[0, -1]] + [0, 1]))
            power = self.xp.einsum("ijk,ijk->jk", pairs[part], pairs[part])
            self.power[index] += power[:, 0::2] + power[:, 1::2]
            self.spectrum[index] += spectra[part].sum(axis=0)
            self.blocks[index] += part.stop - part.start
        self.totals[start:stop] = to_host(spectra[:, 0, 0].real)
        self.lags.add(to_host(spectra[:, self.low[0], self.low[1]]).reshape(stop - start, -1).astype(complex))

    def _fluctuations(self, raw, start: int, stop: int):
        """What is autocorrelated: frames minus the reference, the moving mean or the clipped median."""
        if self.options.background == "mean":
            return self.centred(raw)  # the temporal mean is removed from the sums at the end
        if self.options.background == "median-clip":
            clipped = self.xp.maximum(self.xp.subtract(raw, self.median, dtype=self.dtype), 0)
            return clipped - clipped.mean(axis=(1, 2), keepdims=True)
        return self.centred(raw) - self._moving_mean(start, stop)

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

        Parseval: a pixel sum of products is the sum over the full spectrum divided by Y X; the half
        spectrum's columns kx >= 1 stand for two coefficients each.
        """
        pixels = self.rows * self.cols
        return self.lags.covariance(lags, 2 / pixels**2)


def _low_frequencies(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the half-spectrum coefficients with |ky| <= LOW_PASS, 0 < kx <= LOW_PASS.

    The temporal autocorrelation is measured on them: the movie low-pass filtered (a spatial filter keeps
    every emitter's temporal statistics), without the kx = 0 column, hence without the DC term (global
    intensity changes).
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


def _cropped_autocorrelation(power, spectrum, frames: int, shape: tuple, crop: int, background: str) -> np.ndarray:
    """Mean autocovariance per pixel pair and frame at lags within the crop, zero lag at the centre.

    ``power`` and ``spectrum`` are the sums over ``frames`` frames (of real-space ``shape``) of ``|F|^2``
    and ``F``; the temporal mean is removed from the power except for "median-clip" (smlmLP removes none;
    after a moving mean, what is left of a static part goes too).
    """
    if background != "median-clip":
        power = power - abs(spectrum) ** 2 / frames
    circular = to_host(irfftn(power, shape))
    half = crop // 2
    offsets = np.arange(-half, half + 1)
    block = circular[np.ix_(offsets % shape[0], offsets % shape[1])]
    pairs = np.outer(shape[0] - np.abs(offsets), shape[1] - np.abs(offsets))
    return block / (pairs * frames)


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


def _smeared_gaussian(lag_y, lag_x, covariance, nodes_y, nodes_x) -> np.ndarray:
    """Gaussian density of ``covariance`` (2x2) averaged over the quadrature ``nodes`` offsets, at the lags."""
    (ny, wy), (nx, wx) = nodes_y, nodes_x
    inverse = np.linalg.inv(covariance)
    dy = lag_y[..., None, None] - ny[:, None]
    dx = lag_x[..., None, None] - nx[None, :]
    exponent = inverse[0, 0] * dy**2 + 2 * inverse[0, 1] * dy * dx + inverse[1, 1] * dx**2
    density = np.exp(-exponent / 2) / (2 * np.pi * math.sqrt(np.linalg.det(covariance)))
    return np.einsum("...ij,i,j->...", density, wy, wx)


def _covariance(sigma_x: float, sigma_y: float, theta: float) -> np.ndarray:
    """(y, x) covariance of a Gaussian with sigma_x along ``theta`` (radians from +x towards +y)."""
    c, s = math.cos(theta), math.sin(theta)
    rotation = np.array([[s, c], [c, -s]])  # columns: the major axis (y, x) and the minor axis
    return rotation @ np.diag([sigma_x**2, sigma_y**2]) @ rotation.T


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
    covariance = 2 * _covariance(sigma_x, sigma_y, math.radians(theta))
    lag_y, lag_x = np.broadcast_arrays(np.asarray(lag_y, dtype=float), np.asarray(lag_x, dtype=float))
    return _smeared_gaussian(lag_y, lag_x, covariance, _tent_nodes(pixel[0]), _tent_nodes(pixel[1])) \
        * pixel[0] * pixel[1]


@dataclass(frozen=True)
class _SpatialFit:
    values: np.ndarray  # sigma_x, sigma_y, theta (radians), amplitude, offset
    errors: np.ndarray  # their standard errors, then sigma's
    model: np.ndarray
    at_bound: bool
    success: bool
    fit_errors: np.ndarray  # the errors from the Jacobian

    @property
    def significant(self) -> bool:
        """A PSF is measured: the fit converged and its amplitude stands out of both its errors.

        (The jackknife alone is fooled by blocks of frames that repeat each other.)
        """
        error = max(self.errors[3], self.fit_errors[3])
        return bool(self.success and self.values[3] > SIGNIFICANCE * error and np.isfinite(self.errors[:3]).all())


def _fit_psf(autocorrelation: np.ndarray, pixel: tuple, exclude: str, start=None) -> _SpatialFit:
    """Least-squares fit of the pixel-integrated Gaussian autocorrelation model (no bound on the amplitude).

    Errors come from the Jacobian (lags taken as independent) until :func:`_with_jackknife_errors`
    replaces them. The fit runs in units of the larger pixel (widths scaled back at the end), so that
    it does not depend on the unit of the pixel size (at 1e15 nm it read noise as a PSF).
    """
    scale = max(pixel)
    lengths = np.array([scale, scale, 1.0, 1.0, 1.0])  # what each parameter is in units of the larger pixel
    pixel = (pixel[0] / scale, pixel[1] / scale)
    half = autocorrelation.shape[0] // 2
    offsets = np.arange(-half, half + 1)
    lag_y, lag_x = np.meshgrid(offsets * pixel[0], offsets * pixel[1], indexing="ij")
    used = _fit_mask(autocorrelation.shape[0], exclude)
    nodes = (_tent_nodes(pixel[0]), _tent_nodes(pixel[1]))
    area = pixel[0] * pixel[1]

    def model(params, y, x):
        sigma_x, sigma_y, theta, amplitude, offset = params
        covariance = 2 * _covariance(sigma_x, sigma_y, theta)
        return amplitude * area * _smeared_gaussian(y, x, covariance, *nodes) + offset

    def residuals(params):
        return model(params, lag_y[used], lag_x[used]) - autocorrelation[used]

    low, high = 0.05 * min(pixel), autocorrelation.shape[0] * max(pixel)
    start = _initial_guess(autocorrelation, used, lag_y, lag_x, pixel) if start is None else np.array(start) / lengths
    start[:2] = np.clip(start[:2], low * 1.01, high * 0.99)
    bounds = ([low, low, -np.inf, -np.inf, -np.inf], [high, high, np.inf, np.inf, np.inf])
    fit = optimize.least_squares(residuals, start, bounds=bounds, x_scale="jac")
    errors = _standard_errors(fit, int(used.sum()))
    sigma = math.sqrt(fit.x[0] * fit.x[1])
    errors = np.append(errors * lengths, scale * sigma / 2 * math.hypot(errors[0] / fit.x[0], errors[1] / fit.x[1]))
    at_bound = bool(np.any(np.isclose(fit.x[:2], low, rtol=1e-3)) or np.any(np.isclose(fit.x[:2], high, rtol=1e-3)))
    return _SpatialFit(fit.x * lengths, errors, model(fit.x, lag_y, lag_x), at_bound, bool(fit.success), errors)


def _replicates(sums, crop: int, background: str) -> list:
    """The cropped autocorrelation without each jackknife block of frames in turn."""
    power, spectrum = sums.power.sum(axis=0), sums.spectrum.sum(axis=0)
    return [_cropped_autocorrelation(power - sums.power[k], spectrum - sums.spectrum[k], sums.frames - sums.blocks[k],
                                     (sums.rows, sums.cols), crop, background) for k in range(sums.blocks.size)]


def _with_jackknife_errors(fit: _SpatialFit, replicates: list, pixel: tuple, exclude: str) -> _SpatialFit:
    """``fit`` with delete-a-block jackknife errors: each replicate leaves one block of frames out.

    Neighbouring lags share their noise, so the Jacobian's errors are several times too small.
    """
    values = []
    for autocorrelation in replicates:
        again = _fit_psf(autocorrelation, pixel, exclude, start=fit.values).values
        theta = fit.values[2] + (again[2] - fit.values[2] + math.pi / 2) % math.pi - math.pi / 2  # same branch
        values.append([again[0], again[1], theta, again[3], again[4], math.sqrt(again[0] * again[1])])
    values = np.asarray(values)
    count = len(replicates)
    errors = np.sqrt((count - 1) / count * ((values - values.mean(axis=0)) ** 2).sum(axis=0))
    return _SpatialFit(fit.values, errors, fit.model, fit.at_bound, fit.success, fit.fit_errors)


def _fit_mask(crop: int, exclude: str) -> np.ndarray:
    used = np.ones((crop, crop), dtype=bool)
    centre = crop // 2
    if exclude == "cross":
        used[centre, :] = used[:, centre] = False
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
def _psf_image(autocorrelation, fit: _SpatialFit, exclude: str) -> np.ndarray:
    """Zero-phase PSF ``ifft2(√|fft2(AC - offset)|)`` with the excluded lags from the model; sum 1.

    The autocorrelation's noise has a flat spectrum, which the square root would turn into a spike at the
    centre (+14 % at σ = 1.5 px, 3000 frames): its level, the median where the fitted model's spectrum is
    below :data:`NOISE_SPECTRUM` of its peak, is subtracted (negative values set to 0) and those
    frequencies, noise only, are left out (the centre is then within about 2 % of the model).
    """
    offset = fit.values[4]
    filled = np.where(_fit_mask(autocorrelation.shape[0], exclude), autocorrelation, fit.model) - offset
    spectrum = np.fft.fft2(np.fft.ifftshift(filled)).real  # real: the autocorrelation is symmetric
    model = np.fft.fft2(np.fft.ifftshift(fit.model - offset)).real
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
    covariance = _covariance(*fit.values[:3])
    image = _smeared_gaussian(lag_y, lag_x, covariance, _box_nodes(pixel[0]), _box_nodes(pixel[1]))
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
def _warnings(spatial: _SpatialFit, temporal: _TemporalFit, sums: _Accumulator, frames: int, crop: int,
              pixel: tuple, background: str) -> tuple:
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
    if background == "mean":
        notes += _drift_notes(sums, frames)
    return tuple(notes)


def _drift_notes(sums: _Accumulator, frames: int) -> list:
    """A warning when the mean frame intensity changes by more than DRIFT_WARNING between the first and last tenth.

    With the temporal mean, the spectra's DC terms are each frame's sum minus the reference's.
    """
    tenth = max(1, frames // 10)
    totals = sums.totals + float(to_host(sums.reference.sum()))
    first, last = totals[:tenth].mean(), totals[-tenth:].mean()
    if first > 0 and abs(last - first) > DRIFT_WARNING * first:
        return [f"the mean frame intensity changes by {100 * (last / first - 1):+.0f} % over the movie "
                "(bleaching or drift): consider background=('moving', n_frames)"]
    return []


def _result(autocorrelation, spatial: _SpatialFit, temporal: _TemporalFit, frames: int, pixel: tuple,
            notes: tuple, parameters: dict) -> BlinkPSFResult:
    exclude = parameters["exclude_center"]
    resolved = spatial.significant
    numbers = _canonical(spatial) if resolved else dict.fromkeys(
        ("sigma_x", "sigma_y", "theta", "sigma", "sigma_x_error", "sigma_y_error", "theta_error", "sigma_error",
         "fwhm"))
    psf = _psf_image(autocorrelation, spatial, exclude)
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
