"""Fourier ring / shell correlation (FRC in 2-D, FSC in 3-D) and the SSNR.

``FSC(r) = Re sum F1 conj(F2) / sqrt(sum |F1|^2 sum |F2|^2)`` over each shell,
computed on the half spectrum (rfft) with Hermitian multiplicities, so the sums
and shell counts equal those of the full spectrum.
"""

from __future__ import annotations

from numbers import Real

import numpy as np

from .backend import in_memory, resolve_device, to_device
from .figures import COLORS, Curve, Plot, resolution_marker, threshold_curves, threshold_notes
from .frequency import edges_wrap, shell_geometry, tukey_window
from .results import ShellResultMixin, issue_warnings, resolution_summary, result_dataclass
from .spectral import (
    check_work,
    compute_path,
    correlation_sums,
    curve_from_sums,
    identical_inputs_warnings,
    working_mask,
)
from .thresholds import (
    all_threshold_curves,
    check_crossing_rule,
    criterion_resolutions,
    decidable_shells,
    find_crossing,
    parse_threshold,
    resolution_from_crossing,
    threshold_curve,
)
from .validation import (
    check_choice,
    check_image,
    check_int,
    check_progress,
    check_same_shape,
    renamed_keywords,
    shown,
    working_dtype,
)

__all__ = ["TAPERS", "CorrelationResult", "fourier_correlation", "frc", "fsc", "ssnr_from_correlation", "ssnr_limit"]

TAPERS = ("auto", "all")
#: A Tukey taper of width w correlates the two images by itself below about TAPER_REACH / w cycles/pixel
#: (measured: a 20-pixel taper biases crossings below 0.1 cycles/pixel, -12 % at 0.06, -37 % at 0.03).
TAPER_REACH = 2.0
#: A correlation may exceed 1 in magnitude by this much through rounding.
CORRELATION_ROUNDING = 1e-6
#: Edge taper width in pixels when none is given (capped at a quarter of the smallest axis).
DEFAULT_APODIZATION = 20
#: Shells wider than this fraction of the crossing radius read the resolution optimistic by more than about
#: 5 % (measured on simulated 64³/128³ half-maps: ratio 0.12 -> -3 %, 0.2 -> -5 %, 0.24 -> -10 %, 0.5 -> -25 %).
RING_BIAS_RATIO = 0.15
#: How a correlation result is read: as the correlation, or as the spectral SNR (``summary``, ``plots``, ``columns``).
VIEWS = ("correlation", "ssnr")

@result_dataclass
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
    resolutions : dict of str to dict
        The resolution every criterion (the chosen one first) reads from
        the curve: ``{"resolution", "status", "crossing"}``.
    criterion : str
        Name of the chosen criterion.
    crossing : float or None
        First crossing in cycles/pixel (None unless status is "resolved").
    status : str
        "resolved", "bound" (the curve stays above the threshold up to
        Nyquist: the resolution is a Nyquist bound) or "unresolved" (no
        resolution); see :data:`~.results.STATUSES`.
    resolution : float or None
        Full-period resolution, ``reference_pixel_size / crossing``, in the
        units of ``pixel_size``; for "bound" the Nyquist bound
        ``2 * reference_pixel_size``; None for "unresolved".
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
    confidence : float or None
        The level of :attr:`resolution_interval` (e.g. 0.95); None when no interval was asked for.
    resolution_interval : (float or None, float or None) or None
        (finest, coarsest) full-period resolution the shells' statistics allow
        at ``confidence``: where the upper and the lower edge of
        :attr:`correlation_band`, narrowed by :data:`CROSSING_NARROWING` (a
        crossing interpolates two shells), cross the threshold (the finest is the Nyquist
        bound when the upper edge never drops below it, the coarsest None
        when the lower edge is never above it).
    correlation_band : ndarray, shape (2, n_shells), or None
        Lower and upper edge of the pointwise confidence band of the
        correlation: Fisher's ``z = atanh(C)`` with standard error
        ``1 / sqrt(n - 3)`` per shell of ``n`` voxels (measured on independent
        noise images: the spread of ``C sqrt(n)`` is 0.99).
    warnings : tuple of str
        Doubts about the number (empty when there are none), also emitted
        as RuntimeWarning: a crossing where the edge taper correlates the
        images by itself.
    parameters : dict
        Everything else that produced the result (shape, ring thickness,
        in-plane apodization and the widths per axis, taper and the
        tapered axes, mask use, crossing rule, dtype, compute path).
    """

    frequency: np.ndarray
    correlation: np.ndarray
    n_points: np.ndarray
    threshold: np.ndarray
    thresholds: dict
    resolutions: dict
    criterion: str
    crossing: float | None
    resolution: float | None
    resolution_half: float | None
    ssnr: np.ndarray
    ssnr_threshold: np.ndarray
    ssnr_crossing: float | None
    reference_pixel_size: float
    confidence: float | None = None
    resolution_interval: tuple | None = None
    correlation_band: np.ndarray | None = None

    def summary(self, unit: str = "", *, view: str = "correlation") -> str:
        """One line a user can copy, e.g. ``3.42 Å (half-bit, full period) · 1.71 Å half period · status resolved``.

        With ``view="ssnr"`` the resolution is read where the SSNR crosses the
        criterion mapped to SSNR (``ssnr_crossing``).
        """
        _check_view(view)
        unit = self.unit_of_lengths(unit)
        if view == "ssnr":
            resolution = resolution_from_crossing(self.ssnr_crossing, self.status, self.reference_pixel_size)
            return resolution_summary(resolution, self.status, self.criterion, unit, curve="SSNR",
                                      qualifier="SSNR crossing")
        return resolution_summary(self.resolution, self.status, self.criterion, unit,
                                  interval=self.resolution_interval)

    def columns(self, *, view: str = "correlation") -> dict:
        """The curves per shell: frequency (cycles/pixel), correlation, SSNR, voxel counts and every criterion
        (with ``view="ssnr"``: frequency, SSNR and its threshold)."""
        _check_view(view)
        if view == "ssnr":
            return {"frequency_cycles_per_pixel": self.frequency, "ssnr": self.ssnr,
                    "ssnr_threshold": self.ssnr_threshold}
        return self.curve_columns({"correlation": self.correlation, "ssnr": self.ssnr})

    @property
    def name(self) -> str:
        """"FRC" for 2-D data, "FSC" for 3-D."""
        return "FRC" if len(self.pixel_size) == 2 else "FSC"

    def plots(self, unit: str = "", *, view: str = "correlation", all_thresholds: bool = False) -> tuple:
        """The correlation (or, with ``view="ssnr"``, the SSNR) plot.

        Parameters
        ----------
        unit : str
            Unit of the pixel size (marker labels, read-out).
        view : {"correlation", "ssnr"}
            Which curve to show (with the thresholds mapped to SSNR, ``2 T / (1 - T)``).
        all_thresholds : bool
            Draw every criterion, not only the chosen one, and list the resolution each gives.
        """
        _check_view(view)
        notes = threshold_notes(self.resolutions, unit) if all_thresholds else ()
        if view == "ssnr":
            return (self._ssnr_plot(unit, all_thresholds, notes),)
        curves = [Curve(self.name, self.frequency, self.correlation), *self._band_curves(),
                  *threshold_curves(self.frequency, self.criterion, self.threshold, self.thresholds, all_thresholds)]
        return (Plot(self.name, tuple(curves), resolution_marker(self.crossing, self.resolution, self.status, unit),
                     y_label="Fourier correlation", y_range=(-0.1, 1.05), pixel_size=self.reference_pixel_size,
                     unit=unit, notes=notes),)

    def _band_curves(self) -> list:
        """The confidence band's two edges, dotted, when an interval was asked for."""
        if self.correlation_band is None:
            return []
        label = f"{self.confidence:.0%} band"
        return [Curve(label, self.frequency, self.correlation_band[0], "reference", COLORS["measured"]),
                Curve("", self.frequency, self.correlation_band[1], "reference", COLORS["measured"])]

    def _ssnr_plot(self, unit: str, all_thresholds: bool, notes: tuple) -> Plot:
        every = {name: ssnr_from_correlation(np.minimum(curve, 1.0))
                 for name, curve in self.thresholds.items()} if all_thresholds else {}
        curves = [Curve("SSNR", self.frequency, self.ssnr),
                  Curve(f"SSNR threshold ({self.criterion})", self.frequency, self.ssnr_threshold, "threshold",
                        COLORS["threshold"]),
                  *threshold_curves(self.frequency, self.criterion, self.ssnr_threshold, every, all_thresholds)[1:]]
        asymptote = ssnr_limit(self.criterion)
        if asymptote > 0:
            curves.append(Curve(f"asymptote {asymptote:.3g}", np.array([0.0, 0.5]), np.full(2, asymptote),
                                "reference", COLORS["reference"]))
        markers = resolution_marker(self.ssnr_crossing, self.resolution, self.status, unit)
        return Plot(f"{self.name} SSNR", tuple(curves), markers, y_label="SSNR", log_y=True,
                    pixel_size=self.reference_pixel_size, unit=unit, notes=notes)


def _check_view(view) -> str:
    """``view`` when it is a view of a correlation result (:data:`VIEWS`), else a ValueError."""
    return check_choice(view, "view", VIEWS)


def ssnr_limit(criterion) -> float:
    """SSNR threshold of a criterion (a name, a number or a number's text) for infinitely large shells.

    ``2 T / (1 - T)`` with T the criterion's limit: sqrt(2) - 1 for half-bit, 1 for one-bit, 0 for 3-sigma.

    Raises
    ------
    ValueError
        An unknown criterion (naming ``threshold``, as :func:`fourier_correlation` does).
    """
    try:
        parse_threshold(criterion)
    except ValueError:
        if not isinstance(criterion, str):
            raise
        try:
            criterion = float(criterion)
        except ValueError:
            parse_threshold(criterion)  # re-raise the message that names the threshold
    limit = float(threshold_curve(criterion, [np.inf])[0])
    return 2 * limit / (1 - limit)


def ssnr_from_correlation(correlation) -> np.ndarray:
    """Spectral SNR of a half-dataset correlation: ``2 C / (1 - C)`` (inf where C = 1, NaN where C is NaN).

    Raises
    ------
    ValueError
        ``correlation`` is not an array of real numbers in [-1, 1] (or NaN).
    """
    try:
        values = np.asarray(correlation)
    except ValueError:
        raise ValueError("correlation must be an array of numbers (got a ragged sequence)") from None
    if values.dtype.kind not in "biuf":
        raise ValueError(f"correlation must be real numbers, got dtype {values.dtype}")
    c = values.astype(np.float64)
    if np.any(np.abs(c) > 1 + CORRELATION_ROUNDING):
        raise ValueError(f"correlation must lie in [-1, 1], got values from {np.nanmin(c):g} to {np.nanmax(c):g}")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isnan(c), np.nan, np.where(c < 1, 2 * c / (1 - c), np.inf))


def _check_apodization(apodization, shape) -> tuple[int, ...]:
    """The taper width in pixels per axis.

    The width (None: the default, capped at a quarter of the smaller in-plane
    axis) applies to the last two axes, which must be at least twice as long.
    The slice axis of a 3-D stack shorter than twice the width (a thin stack)
    gets a quarter of its length instead of an error.
    """
    plane = shape[-2:]
    if apodization is None:
        width = min(DEFAULT_APODIZATION, min(plane) // 4)
    else:
        width = check_int(apodization, "apodization", minimum=0)
    for axis, n in enumerate(plane, start=len(shape) - 2):
        if width > n // 2:
            raise ValueError(
                f"apodization ({width} pixels) is wider than half the image along axis {axis} (size {n})"
            )
    return tuple(width if width <= n // 2 else n // 4 for n in shape[:-2]) + (width,) * 2


@renamed_keywords(a="half1", b="half2")
@in_memory("half1", "half2", "mask")
def fourier_correlation(
    half1,
    half2,
    *,
    pixel_size=1.0,
    threshold="half-bit",
    ring_thickness: int = 1,
    apodization: int | None = None,
    taper: str = "auto",
    mask=None,
    crossing_rule: str = "first-below",
    confidence=None,
    device=None,
    progress=None,
) -> CorrelationResult:
    """Fourier ring (2-D) or shell (3-D) correlation of two independent images.

    Each image is mean-subtracted and windowed (a Tukey taper of
    ``apodization`` pixels on every axis, or the soft ``mask`` instead when one
    is given), transformed, and correlated shell by shell.

    Parameters
    ----------
    half1, half2 : array, shape (Y, X) or (Z, Y, X)
        The two images or half-maps (numpy or cupy, any real dtype; float32
        is computed in float32). Not modified.
    pixel_size : float or sequence of float
        Pixel size, one value or one per axis (physical units, e.g. Å or nm).
    threshold : str or float
        "half-bit" (default), "one-bit", "0.143", "0.5", "3-sigma", or a
        fixed value in (0, 1).
    ring_thickness : int
        Shell width in Fourier sampling steps.
    apodization : int, optional
        Taper width in pixels at each border; 0 disables it. Default:
        20 pixels, at most a quarter of the smaller in-plane (last two)
        axis. The slice axis of a thin stack, shorter than twice the
        width, gets a quarter of its length instead (a 16-slice stack: 4
        pixels); the widths used per axis are in
        ``parameters["apodization_axes"]``. Ignored when ``mask`` is given
        (the mask is the window).
    taper : {"auto", "all"}
        "auto" (default): taper only the axes whose edges do not wrap
        (:func:`~.frequency.edges_wrap`: a crop of a larger field), so
        periodic data (simulations, boxes with flat solvent edges) is not
        windowed; "all": every axis. A taper correlates the two images by
        itself below about 2 / apodization cycles/pixel: a crossing there
        comes with a warning.
    mask : array, optional
        Real-space weights in [0, 1], same shape as ``half1``.
    crossing_rule : {"first-below", "last-above"}
        "first-below" (default): first shell below the threshold, linearly
        interpolated. "last-above": toupy-compatible, not interpolated.
    confidence : float, optional
        E.g. 0.95: also give ``resolution_interval``, the range of
        resolutions the shells' statistics allow at that level (shown in
        the summary, ``4.32 Å [4.25, 4.40]``, and as a band in the plot).
    device : {None, "cpu", "gpu"}
        Where to compute: None where the inputs live (numpy: CPU, cupy:
        GPU); "gpu" copies numpy inputs to the GPU (needs cupy); "cpu"
        copies cupy inputs to the host.
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
        threshold or crossing rule, bad mask, apodization wider than half
        the image along one of its last two axes, or an unknown or
        unavailable device.
    """
    check_image(half1, "half1")
    check_image(half2, "half2")
    check_same_shape(half1, half2, ("half1", "half2"))
    criterion, _ = parse_threshold(threshold)
    widths = check_edge_options(apodization, taper, half1.shape, masked=mask is not None)
    check_progress(progress)
    geometry = shell_geometry(half1.shape, pixel_size, ring_thickness)
    check_crossing_rule(crossing_rule)
    confidence = check_confidence(confidence)
    xp = resolve_device(device, half1, half2, mask)
    path = compute_path(xp)

    dtype = np.result_type(working_dtype(half1.dtype), working_dtype(half2.dtype))
    check_work({"half1": half1, "half2": half2, "mask": mask}, dtype, path)
    half1, half2 = (to_device(x, xp).astype(dtype, copy=False) for x in (half1, half2))
    mask = None if mask is None else working_mask(mask, half1.shape, dtype, xp, path)
    tapered, windows = edge_windows(half1, half2, widths, taper, xp, masked=mask is not None)
    sums = correlation_sums(half1, half2, geometry, xp, path, windows=windows, mask=mask, progress=progress)
    return result_from_sums(sums, geometry, threshold, crossing_rule, {
        "shape": tuple(half1.shape), "ring_thickness": geometry.ring_thickness,
        "apodization": max(widths), "apodization_axes": widths, "taper": taper, "tapered_axes": tapered,
        "masked": mask is not None,
        "crossing_rule": crossing_rule, "dtype": str(dtype), "path": path,
    }, confidence)


def check_edge_options(apodization, taper, shape, *, masked: bool) -> tuple[int, ...]:
    """The taper width per axis (all 0 with a mask: the mask is the window), after checking ``taper``.

    Raises
    ------
    ValueError
        An apodization wider than half the image, or an unknown taper (see :func:`fourier_correlation`).
    """
    widths = (0,) * len(shape) if masked else _check_apodization(apodization, shape)
    check_choice(taper, "taper", TAPERS)
    return widths


def edge_windows(a, b, widths: tuple, taper: str, xp, *, masked: bool) -> tuple:
    """The tapered axes and the separable window of two images (None with a mask).

    Parameters
    ----------
    a, b : array
        The two images on ``xp``.
    widths : tuple of int
        Taper width per axis (:func:`check_edge_options`).
    taper : {"auto", "all"}
    xp : module
    masked : bool
        A mask replaces the window.

    Returns
    -------
    tapered : tuple of bool
        Per axis, whether it is tapered.
    windows : list of ndarray or None
        One Tukey window per axis (width 0 on untapered axes), None when masked.
    """
    tapered = _tapered_axes(a, b, widths, taper, xp)
    windows = None if masked else [tukey_window(n, w if on else 0) for n, w, on in zip(a.shape, widths, tapered)]
    return tapered, windows


def _tapered_axes(a, b, widths: tuple, taper: str, xp) -> tuple[bool, ...]:
    """The axes that get the edge taper: none of width 0, all others for "all", those that do not wrap for "auto"."""
    if not any(widths):
        return (False,) * a.ndim
    if taper == "all":
        return tuple(w > 0 for w in widths)
    return tuple(w > 0 and not wraps for w, wraps in zip(widths, edges_wrap(a, b, xp)))


def _taper_warnings(crossing, status: str, parameters: dict) -> tuple:
    """A warning when the resolution was read where the edge taper itself correlates the two images."""
    tapered = parameters.get("tapered_axes", ())
    widths = parameters.get("apodization_axes", (parameters.get("apodization", 0),) * len(tapered))
    width = max((w for w, on in zip(widths, tapered) if on), default=0)
    if status != "resolved" or width == 0 or crossing >= TAPER_REACH / width:
        return ()
    return (f"the crossing ({crossing:.3f} cycles/pixel) lies below {TAPER_REACH}/apodization = "
            f"{TAPER_REACH / width:.3f} cycles/pixel, where the {width}-pixel edge taper itself correlates the "
            "two images: the resolution may read optimistic; use a narrower taper, a larger box, or "
            "taper='auto' on data whose edges wrap",)


def _ring_warnings(crossing, status: str, geometry) -> tuple:
    """A warning when the shells are wide next to the crossing frequency (the curve then reads optimistic)."""
    if status != "resolved" or geometry.ring_thickness == 1:
        return ()
    steps = crossing / geometry.reference_pixel / (geometry.spacing / geometry.ring_thickness)
    if geometry.ring_thickness <= RING_BIAS_RATIO * steps:
        return ()
    advised = max(1, int(RING_BIAS_RATIO * steps))
    return (f"ring_thickness {geometry.ring_thickness} spans {geometry.ring_thickness / steps:.0%} of the crossing "
            f"frequency ({steps:.0f} Fourier steps): wide shells average in the stronger signal below the crossing "
            f"and read optimistic (more than 5 % on simulated data); use ring_thickness <= {advised}",)


def check_confidence(confidence) -> float | None:
    """``confidence`` as a float in (0, 1), or None; else a ValueError naming it."""
    if confidence is None:
        return None
    if isinstance(confidence, bool) or not isinstance(confidence, Real) or not 0 < confidence < 1:
        raise ValueError(f"confidence must be a level in (0, 1), e.g. 0.95, or None; got {shown(confidence)}")
    return float(confidence)


#: A crossing interpolates two shells, ``(1 - t) C_i + t C_(i+1)``: averaged over ``t``, its variance is 2/3 of one
#: shell's, so the resolution interval reads the band narrowed by sqrt(2/3) (20 realisations of 256², 512² and
#: 64³ phantoms: coverage of the truth 19-20 of 20; width 0.99-1.66x the realisations' 95 % spread, 1.2-1.95x
#: with the shells' full band).
CROSSING_NARROWING = (2 / 3) ** 0.5


def correlation_band(correlation, n_points, confidence: float, narrowing: float = 1.0) -> np.ndarray:
    """Pointwise confidence band of a Fourier correlation curve (Fisher's z, standard error ``1 / sqrt(n - 3)``).

    Parameters
    ----------
    correlation : ndarray, shape (n_shells,)
    n_points : ndarray, shape (n_shells,)
        Voxels per shell (full spectrum).
    confidence : float
        Level in (0, 1).
    narrowing : float
        Factor on the band's half width in z (:data:`CROSSING_NARROWING` for the crossing's interval).

    Returns
    -------
    ndarray, shape (2, n_shells)
        Lower and upper edge; NaN where the curve is NaN, +-1 where a shell has 3 voxels or fewer.
    """
    from scipy.stats import norm

    voxels = np.asarray(n_points, dtype=float)
    width = narrowing * norm.ppf(0.5 + confidence / 2) / np.sqrt(np.maximum(voxels - 3, 1e-12))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.arctanh(np.clip(correlation, -1 + 1e-12, 1 - 1e-12))
    band = np.tanh(np.stack([z - width, z + width]))
    band[:, np.isnan(correlation)] = np.nan
    return band


def _interval(frequency, band, curve, crossing_rule, reference) -> tuple:
    """(finest, coarsest) resolution: where the upper and the lower edge of the band cross the threshold."""
    readings = []
    for edge in band[::-1]:  # the upper edge crosses last: the finest resolution
        crossing, status = find_crossing(frequency, edge, curve, crossing_rule)
        readings.append(resolution_from_crossing(crossing, status, reference))
    return tuple(readings)


def result_from_sums(sums, geometry, threshold, crossing_rule: str, parameters: dict,
                     confidence=None, *, kind: type = CorrelationResult) -> CorrelationResult:
    """The :class:`CorrelationResult` of shell sums (e.g. one box of a local FSC).

    Parameters
    ----------
    sums : ndarray, shape (4, n_shells)
        Counts, Re A B*, |A|^2, |B|^2 per shell (:func:`~.spectral.correlation_sums`).
    geometry : ShellGeometry
        The shells the sums were made on.
    threshold : str or float
        Criterion (see :func:`fourier_correlation`).
    crossing_rule : {"first-below", "last-above"}
    parameters : dict
        Recorded in the result.
    confidence : float, optional
        Level of the resolution interval (see :attr:`CorrelationResult.resolution_interval`).
    kind : type
        The class made: :class:`CorrelationResult` or a subclass (one with its own summary line).
    """
    criterion, _ = parse_threshold(threshold)
    confidence = check_confidence(confidence)
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
    thresholds = all_threshold_curves(n_points)
    notes = (identical_inputs_warnings(correlation) + _taper_warnings(crossing, status, parameters)
             + _ring_warnings(crossing, status, geometry))
    issue_warnings(notes)
    band = None if confidence is None else correlation_band(correlation, n_points, confidence)
    interval = None if band is None else _interval(
        frequency, correlation_band(correlation, n_points, confidence, CROSSING_NARROWING), curve, crossing_rule,
        geometry.reference_pixel)
    return kind(
        frequency=frequency,
        correlation=correlation,
        n_points=n_points,
        threshold=curve,
        thresholds=thresholds,
        resolutions=criterion_resolutions(frequency, correlation, {criterion: curve, **thresholds}, reference,
                                          crossing_rule),
        criterion=criterion,
        crossing=crossing,
        status=status,
        resolution=resolution,
        resolution_half=None if resolution is None else resolution / 2,
        confidence=confidence,
        resolution_interval=interval,
        correlation_band=band,
        ssnr=ssnr,
        ssnr_threshold=ssnr_threshold,
        ssnr_crossing=ssnr_crossing,
        pixel_size=geometry.pixel_size,
        reference_pixel_size=reference,
        warnings=notes,
        parameters=parameters,
    )


def _require_rank(ndim: int, half1, half2, alias: str, other: str) -> None:
    for name, image in (("half1", half1), ("half2", half2)):
        if getattr(image, "ndim", None) != ndim:
            shape = getattr(image, "shape", None)
            raise ValueError(f"{alias} needs {ndim}-D data: {name} has shape {shape}; use {other} instead")


@renamed_keywords(a="half1", b="half2")
def frc(half1, half2, **kwargs) -> CorrelationResult:
    """Fourier ring correlation of two 2-D images; see :func:`fourier_correlation`."""
    _require_rank(2, half1, half2, "frc", "fsc")
    return fourier_correlation(half1, half2, **kwargs)


@renamed_keywords(a="half1", b="half2")
def fsc(half1, half2, **kwargs) -> CorrelationResult:
    """Fourier shell correlation of two 3-D volumes; see :func:`fourier_correlation`."""
    _require_rank(3, half1, half2, "fsc", "frc")
    return fourier_correlation(half1, half2, **kwargs)
