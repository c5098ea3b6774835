"""Split-dataset tomography: two reconstructions from the even and odd projections, and their FRC/FSC.

The projections are sorted by angle and dealt alternately into two halves
(toupy ``FSCtools.split_dataset``); each half is reconstructed by filtered
back-projection and the two reconstructions are correlated with
:func:`~.correlation.fourier_correlation`, with the half-bit threshold by
default (each half carries half the dose).

The back-projection filters every projection of every slice in one batched
FFT along the detector, then back-projects the whole stack in one pass:
a compiled kernel on the CPU (numba, every core), array code on the GPU
(cupy) and where numba is disabled. scikit-image's ``iradon``, slice by slice
in threads, is the reference (``backend="skimage"``); both agree to float32
rounding. Projections are weighted uniformly, as the peers do (``weighting``).

Real tilt series leave the model in ways that still give a plausible number,
so they are checked: the tilt axis of a projection stack is found from the
data (:func:`detect_tilt_axis`; a given one that disagrees is warned of), and
a missing wedge is named in a warning with its angle.
"""

from __future__ import annotations

import dataclasses
import math
import re
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral, Real

import numpy as np
import scipy.fft

from . import kernels
from .backend import check_allocation, in_memory, resolve_device, to_device, to_host
from .correlation import DEFAULT_APODIZATION, CorrelationResult, fourier_correlation
from .frequency import tukey_window
from .masks import raised_cosine_mask
from .progress import progress_of
from .results import Result, issue_warnings, jsonable, resolution_summary, result_dataclass
from .spectral import compute_path
from .validation import check_choice, check_image, is_number, renamed, shown, working_dtype

__all__ = [
    "BACKENDS",
    "FILTERS",
    "TILT_AXES",
    "WEIGHTINGS",
    "TomographyResult",
    "angular_weights",
    "detect_tilt_axis",
    "filtered_back_projection",
    "parse_angles",
    "reconstruction_pixel_size",
    "split_dataset",
    "tomography_frc",
]

#: Reconstruction filters (scikit-image's names); all radially symmetric, so they cancel in the FRC.
FILTERS = ("ramp", "shepp-logan", "cosine", "hamming", "hann")
#: "auto": the batched FBP (numba on the CPU, cupy on the GPU); "skimage": ``iradon`` per slice, in threads.
BACKENDS = ("auto", "skimage")
#: Quadrature weights of the projections: "uniform" (pi / count each, as scikit-image's ``iradon``, ASTRA and
#: toupy) or "gaps" (each projection its angular interval, :func:`angular_weights`).
WEIGHTINGS = ("uniform", "gaps")
#: Named tilt axes (besides an in-plane angle in degrees): "auto" (from the data), "y" (along a projection's first
#: axis, the rows: each row is a sinogram) or "x" (along its second axis, the detector).
TILT_AXES = ("auto", "y", "x")
#: "auto" takes the axis whose profiles change less across tilts when the other's change at least this many times
#: more; closer than that, the data cannot tell and "y" is assumed (with a warning).
AXIS_EVIDENCE = 1.1
#: A given tilt axis disagrees with the data when the profiles across it change this many times less than along it.
AXIS_DISAGREEMENT = 2.0
#: The profiles are compared up to this frequency (cycles/pixel): their changes are smooth, the noise is white.
PROFILE_BAND = 0.25
#: Fewest projections in all (each half gets half of them).
MIN_ANGLES = 8
#: A gap between projection directions wider than this many median gaps is a missing wedge (named in a warning);
#: with ``weighting="gaps"`` a gap weighs no more than this many mean gaps.
MAX_GAP_RATIO = 4.0
#: Slices back-projected per pass: progress (and Cancel) comes between passes.
SLICES_PER_PASS = 32
#: How the correlation's errors about its inputs name them: by the sinogram they come from.
RECONSTRUCTIONS = {"half1": "sinogram (the reconstruction of its even projections)",
                   "half2": "sinogram (the reconstruction of its odd projections)"}
#: Bytes per voxel of the two reconstructions' correlation and its mask (float32; measured at most 28).
CORRELATION_BYTES = 32
#: Soft edge of the circular mask, as a fraction of the reconstruction's side (at least MIN_EDGE pixels).
EDGE_FRACTION = 1 / 16
MIN_EDGE = 4


@result_dataclass
class TomographyResult(Result):
    """Two half-dataset reconstructions and their Fourier ring (2-D) or shell (3-D) correlation.

    Attributes
    ----------
    reconstructions : tuple of two float32 ndarray, shape (N, N) or (rows, N, N)
        From the even and the odd projections (sorted by angle), in the
        units of the sinogram per pixel.
    angles : tuple of two ndarray
        Angles of each half in degrees, sorted.
    correlation : CorrelationResult
        FRC (a 2-D sinogram) or FSC (a projection stack) of the two.
    criterion : str
        Threshold name.
    crossing : float or None
        Crossing in cycles/pixel (of ``correlation``).
    status : str
        "resolved", "bound" or "unresolved" (of ``correlation``).
    resolution : float or None
        Full-period resolution in the units of ``pixel_size``.
    resolution_half : float or None
        Half-period resolution.
    pixel_size : tuple of float
        Pixel size per axis of the reconstructions.
    warnings : tuple of str
        A tilt axis that disagrees with the data (or that the data cannot
        tell), a missing wedge, angular undersampling, and the correlation's
        own warnings.
    parameters : dict
        Layout (``angle_axis``, ``shape``), ``filter``, ``center``,
        ``circle``, ``weighting``, ``mask_edge`` (pixels), ``n_angles`` per
        half, ``missing_wedge`` and ``angle_span`` (degrees of projection
        directions missing and covered, modulo 180°), the tilt axis
        (``tilt_axis``: "y", "x", an angle in degrees, or None for a 2-D
        sinogram; ``tilt_axis_from``: "given", "detected" or "assumed";
        ``profile_variation`` and ``tilt_axis_evidence``, see
        :func:`detect_tilt_axis`), ``path`` (the path that ran: "numba",
        "numpy", "cupy" or "skimage") and the correlation's parameters under
        ``frc``.
    """

    reconstructions: tuple
    angles: tuple
    correlation: CorrelationResult
    criterion: str
    crossing: float | None
    resolution: float | None
    resolution_half: float | None

    def __post_init__(self):
        super().__post_init__()
        for array in (*self.reconstructions, *self.angles):
            array.flags.writeable = False

    def summary(self, unit: str = "") -> str:
        """One copyable line, e.g. ``42.1 nm (half-bit, full period, even/odd split) · ... · status resolved``."""
        return resolution_summary(self.resolution, self.status, self.criterion, self.unit_of_lengths(unit),
                                  qualifier="even/odd split")

    def columns(self) -> dict:
        """The even/odd reconstructions' correlation per shell (see :meth:`CorrelationResult.columns`)."""
        return self.correlation.columns()

    def plots(self, unit: str = "", **options) -> tuple:
        """The correlation plot of the two halves (options as :meth:`CorrelationResult.plots`)."""
        return tuple(self._relabelled(plot) for plot in self.correlation.plots(unit, **options))

    def _relabelled(self, plot):
        """``plot`` titled as a split-dataset correlation, its measured curve labelled e.g. "FRC even/odd"."""
        name = self.correlation.name
        curves = tuple(dataclasses.replace(curve, label=f"{name} even/odd") if curve.label == name else curve
                       for curve in plot.curves)
        return dataclasses.replace(plot, title=f"split-dataset {plot.title}", curves=curves)

    def to_dict(self) -> dict:
        """Every field as JSON-ready values; the reconstructions by their shape and dtype only."""
        out = {f.name: jsonable(getattr(self, f.name)) for f in dataclasses.fields(self) if f.name != "reconstructions"}
        out["reconstructions"] = [{"shape": list(r.shape), "dtype": str(r.dtype)} for r in self.reconstructions]
        return out


# ----------------------------------------------------------------------------- input
def _angle_axis(angle_axis, ndim: int) -> int:
    """``angle_axis`` as a non-negative axis; None: 1 for a sinogram (detector, angles), 0 for a stack."""
    if angle_axis is None:
        return 1 if ndim == 2 else 0
    if isinstance(angle_axis, bool) or not isinstance(angle_axis, Integral) or not -ndim <= angle_axis < ndim:
        raise ValueError(f"angle_axis must be an integer from {-ndim} to {ndim - 1} for {ndim}-D data, "
                         f"got {shown(angle_axis)}")
    return int(angle_axis) % ndim


def _check_sinogram(sinogram, theta, angle_axis):
    """Check the data and the angles; return the angle axis and the angles (float64 degrees)."""
    ndim = getattr(sinogram, "ndim", None)
    if ndim not in (2, 3):
        raise ValueError(f"sinogram must be a 2-D sinogram (detector, angles) or a 3-D projection stack "
                         f"(angles, rows, detector), got shape {getattr(sinogram, 'shape', None)}")
    axis = _angle_axis(angle_axis, ndim)
    angles = _check_theta(theta)
    if angles.size != sinogram.shape[axis]:
        raise ValueError(f"theta has {angles.size} angles but sinogram has {sinogram.shape[axis]} projections "
                         f"along axis {axis} (angle_axis)")
    check_image(sinogram, "sinogram", min_size=1)
    if min(n for i, n in enumerate(sinogram.shape) if i != axis) < MIN_ANGLES:
        raise ValueError(f"sinogram must have at least {MIN_ANGLES} detector pixels (and rows), got shape "
                         f"{sinogram.shape} with angles along axis {axis}")
    return axis, angles


def _check_stack(stack) -> None:
    """ValueError naming stack unless it is a 3-D real array of finite values with a detector of 8 pixels or more."""
    if getattr(stack, "ndim", None) != 3 or not hasattr(stack, "dtype"):
        raise ValueError(f"stack must be 3-D (slices, angles, detector), got shape {getattr(stack, 'shape', None)}")
    try:
        working_dtype(stack.dtype)
    except ValueError as err:
        raise ValueError(f"stack: {err}") from None
    if min(stack.shape[:2]) < 1 or stack.shape[-1] < MIN_ANGLES:
        raise ValueError(f"stack must hold projections of at least {MIN_ANGLES} detector pixels, got shape "
                         f"{stack.shape}")
    if not bool(resolve_device(None, stack).isfinite(stack).all()):
        raise ValueError("stack contains NaN or Inf values")


def _check_theta(theta) -> np.ndarray:
    """``theta`` as a 1-D float64 array of at least :data:`MIN_ANGLES` finite angles."""
    try:
        angles = np.asarray(to_host(theta))
    except ValueError:  # a ragged sequence
        angles = np.asarray(None)
    if angles.dtype.kind not in "iuf":
        raise ValueError(f"theta must be a 1-D sequence of angles in degrees, got {shown(theta)}")
    angles = angles.astype(np.float64)
    if angles.ndim != 1:
        raise ValueError(f"theta must be 1-D (angles in degrees), got shape {angles.shape}")
    if angles.size < MIN_ANGLES:
        raise ValueError(f"theta must have at least {MIN_ANGLES} angles (4 per half), got {angles.size}")
    if not np.isfinite(angles).all():
        raise ValueError("theta contains NaN or Inf values")
    _check_angle_values(angles)
    return angles


def _check_angle_values(angles: np.ndarray) -> None:
    """ValueError for angles that cannot be a tilt series in degrees: all equal, repeated, or radians."""
    low, high = float(angles.min()), float(angles.max())
    if low == high:
        raise ValueError(f"theta: every angle is {low:g}°: the projections need angles that differ")
    values, counts = np.unique(angles, return_counts=True)
    if counts.max() > 1:
        repeated = values[counts > 1]
        raise ValueError(f"theta repeats angles ({', '.join(f'{a:g}°' for a in repeated[:3])}"
                         f"{', ...' if repeated.size > 3 else ''}): each projection needs its own angle; "
                         "remove the repeats, or check the angles file")
    if high - low <= RADIAN_SPAN:
        raise ValueError(f"theta spans only {high - low:.3g}° ({low:.3g} to {high:.3g}): these look like radians; "
                         "give the angles in degrees (numpy.degrees(theta))")


#: Angles that span at most this (degrees) are taken for radians: a tilt series spans tens of degrees or more.
RADIAN_SPAN = 2 * math.pi + 1e-6


def _check_center(center, n_detector: int):
    """The rotation axis on the detector (pixels from its first sample); None: ``n_detector // 2``."""
    if center is None:
        return float(n_detector // 2)
    if isinstance(center, bool) or not isinstance(center, Real) or not 0 <= center <= n_detector - 1:
        raise ValueError(f"center must be a detector position from 0 to {n_detector - 1} (pixels), "
                         f"got {shown(center)}")
    return float(center)


def parse_angles(text: str, source: str = "angles") -> np.ndarray:
    """Angles in degrees from the text of an angles file: numbers separated by spaces, commas, semicolons or
    lines; lines starting with "#" are comments.

    Raises
    ------
    ValueError
        Naming ``source`` when a value is not a finite number or there is none.
    """
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    values = [value for value in re.split(r"[\s,;]+", " ".join(lines)) if value]
    try:
        angles = np.array([float(value) for value in values], dtype=np.float64)
    except ValueError:
        raise ValueError(f"{source}: expected numbers (degrees) separated by spaces, commas or lines") from None
    if angles.size == 0:
        raise ValueError(f"{source}: no angles found")
    if not np.isfinite(angles).all():
        raise ValueError(f"{source}: expected finite numbers (degrees), got "
                         f"{shown(values[int(np.argmin(np.isfinite(angles)))])}")
    return angles


def reconstruction_pixel_size(pixel_size, ndim: int, angle_axis=None, tilt_axis="y", sinogram=None):
    """The reconstruction's pixel size from one of the sinogram's axes.

    Parameters
    ----------
    pixel_size : float or sequence of float
        One value (the detector pixel), or one per sinogram axis (e.g. from a
        file header or a layer's scale), the angle axis included.
    ndim : int
        Dimensions of the sinogram (2 or 3).
    angle_axis : int, optional
        As in :func:`tomography_frc`.
    tilt_axis : {"y", "x", "auto"} or float
        As in :func:`tomography_frc`: the rows of the reconstruction run
        along it (an angle counts as the nearer of y and x). "auto": the
        axis :func:`detect_tilt_axis` finds in ``sinogram`` when the
        projections' two pitches differ (else both give the same).
    sinogram : array, optional
        The data, for ``tilt_axis="auto"`` (without it: "y").

    Returns
    -------
    float or tuple of float
        ``pixel_size`` as it is when it is one value or does not have
        ``ndim`` values; else the detector pitch for both axes of a slice
        (Y, X), and for a stack the pitch along the tilt axis first
        (rows, Y, X).
    """
    if isinstance(pixel_size, Real) or len(pixel_size) != ndim or ndim not in (2, 3):
        return pixel_size
    axis = _angle_axis(angle_axis, ndim)
    kept = [float(p) for i, p in enumerate(pixel_size) if i != axis]
    if ndim == 2:
        return kept[0]
    tilt_axis = _check_tilt_axis(tilt_axis, ndim)
    if tilt_axis == "auto" and kept[0] != kept[-1] and sinogram is not None:
        tilt_axis = detect_tilt_axis(sinogram, angle_axis=angle_axis)["tilt_axis"]
    if tilt_axis == "x" or (is_number(tilt_axis) and (tilt_axis + 45.0) % 180.0 - 45.0 > 45.0):
        kept.reverse()
    return kept[0], kept[-1], kept[-1]


# ----------------------------------------------------------------------------- tilt axis
def _check_tilt_axis(tilt_axis, ndim: int):
    """``tilt_axis`` as "auto", "y", "x" or a float (degrees); a 2-D sinogram takes only "auto" or "y"."""
    if isinstance(tilt_axis, str) and tilt_axis in TILT_AXES:
        value = tilt_axis
    elif is_number(tilt_axis):
        value = float(tilt_axis)
    else:
        raise ValueError(f"tilt_axis must be 'auto', 'y', 'x' or an in-plane angle in degrees (from y towards x), "
                         f"got {shown(tilt_axis)}")
    if ndim == 2 and value not in ("auto", "y"):
        raise ValueError(f"tilt_axis {shown(tilt_axis)} applies to a 3-D projection stack (angles, rows, detector); "
                         "a 2-D sinogram (detector, angles) is one slice already: leave tilt_axis at 'auto'")
    return value


def _variation(profiles: np.ndarray) -> float:
    """How much profiles (tilts, positions) change across tilts: the mean square left after each tilt's offset and
    scale are fitted to the mean profile, the profiles smoothed to :data:`PROFILE_BAND` cycles/pixel."""
    size = profiles.shape[1]
    spectrum = np.fft.rfft(profiles, axis=1)
    spectrum[:, 0] = 0  # each tilt's offset
    spectrum[:, np.fft.rfftfreq(size) > PROFILE_BAND] = 0
    smooth = np.fft.irfft(spectrum, n=size, axis=1)
    mean = smooth.mean(axis=0)
    norm = float(mean @ mean)
    scale = smooth @ mean / norm if norm > 0 else np.zeros(len(smooth))
    return float(np.mean((smooth - scale[:, None] * mean) ** 2))


def _profile_variation(stack) -> dict:
    """The change across tilts of the projections' profiles along y and along x, of a (rows, angles, detector) stack.

    A profile along one axis sums each projection over the other; each sum
    is divided by the square root of its count, so white noise weighs the
    same in both.
    """
    xp = resolve_device(None, stack)
    along_y = to_host(stack.sum(axis=2, dtype=xp.float64)).T / math.sqrt(stack.shape[2])  # (angles, rows)
    along_x = to_host(stack.sum(axis=0, dtype=xp.float64)) / math.sqrt(stack.shape[0])  # (angles, detector)
    return {"y": _variation(along_y), "x": _variation(along_x)}


def _ratio(across: float, along: float) -> float:
    """``across / along``: how many times more the profiles across an axis change than along it (1 when both are 0)."""
    if along > 0:
        return across / along
    return math.inf if across > 0 else 1.0


@in_memory("sinogram")
def detect_tilt_axis(sinogram, *, angle_axis=None) -> dict:
    """Which axis of the projections the tilt axis runs along, from the data.

    For parallel beams the projected mass of every slice perpendicular to the
    tilt axis is the same at every tilt (Helgason–Ludwig, order 0): the
    profile along the tilt axis (each projection summed across it) stays
    the same across tilts, while the profile across it changes with the
    tilt. Both profiles of every projection are compared (each tilt's offset
    and scale fitted out, so exposure changes and a slab's growing thickness
    do not count; smoothed to 0.25 cycles/pixel), and the axis whose
    profiles change less is the tilt axis. It costs two sums over the stack
    (under 1 % of :func:`tomography_frc`'s time).

    Parameters
    ----------
    sinogram : array, shape (angles, rows, detector)
        A projection stack (numpy or cupy); ``angle_axis`` as in
        :func:`tomography_frc`. Of the other two axes the first is y, the
        second x.
    angle_axis : int, optional
        Axis of the angles (default 0).

    Returns
    -------
    dict
        ``tilt_axis`` ("y" or "x"); ``tilt_axis_from`` ("detected", or
        "assumed" when the profiles along y and x change alike, within a
        factor :data:`AXIS_EVIDENCE`: then "y"); ``profile_variation``
        (mean square change of the profiles along "y" and along "x", in
        the data's units squared per pixel; the smaller is the tilt axis);
        ``tilt_axis_evidence`` (how many times more the profiles across the
        chosen axis change than along it).

    Raises
    ------
    ValueError
        Not a 3-D stack, NaN/Inf, constant, or a bad ``angle_axis``.
    """
    if getattr(sinogram, "ndim", None) != 3:
        raise ValueError(f"sinogram must be a 3-D projection stack (angles, rows, detector) to have a tilt axis, "
                         f"got shape {getattr(sinogram, 'shape', None)}")
    axis = _angle_axis(angle_axis, 3)
    check_image(sinogram, "sinogram", ndims=(3,), min_size=1)
    return _detected(_as_stack(sinogram, axis))


def _detected(stack) -> dict:
    """:func:`detect_tilt_axis` of a (rows, angles, detector) stack."""
    variation = _profile_variation(stack)
    ratio = _ratio(variation["x"], variation["y"])
    if ratio >= AXIS_EVIDENCE or ratio <= 1 / AXIS_EVIDENCE:
        chosen, source = ("y" if ratio > 1 else "x"), "detected"
    else:
        chosen, source = "y", "assumed"
    evidence = ratio if chosen == "y" else _ratio(variation["y"], variation["x"])
    return {"tilt_axis": chosen, "tilt_axis_from": source, "profile_variation": variation,
            "tilt_axis_evidence": evidence}


def _oriented(stack, tilt_axis) -> tuple:
    """The (rows, angles, detector) stack turned so that its rows run along the tilt axis; parameters and notes.

    "x" swaps the rows and the detector (a view); an angle first swaps them
    when it is nearer x than y, then rotates every projection by the rest
    (at most 45°; linear interpolation, the corners brought in take the
    nearest edge's values).
    """
    detected = _detected(stack)
    if tilt_axis == "auto":
        notes = () if detected["tilt_axis_from"] == "detected" else (_undetected_note(detected["tilt_axis_evidence"]),)
        return _swapped(stack, detected["tilt_axis"] == "x"), detected, notes
    if isinstance(tilt_axis, str):
        turned, variation = _swapped(stack, tilt_axis == "x"), detected["profile_variation"]
        evidence = _ratio(variation["x" if tilt_axis == "y" else "y"], variation[tilt_axis])
    else:
        turned = _rotated(stack, tilt_axis)
        variation = _profile_variation(turned)
        evidence = _ratio(variation["x"], variation["y"])
    parameters = {"tilt_axis": tilt_axis, "tilt_axis_from": "given",
                  "profile_variation": detected["profile_variation"], "tilt_axis_evidence": evidence}
    return turned, parameters, _disagreement_notes(tilt_axis, evidence)


def _swapped(stack, swap: bool):
    """The stack with its rows and detector swapped (a view) when ``swap``."""
    return resolve_device(None, stack).swapaxes(stack, 0, 2) if swap else stack


def _rotated(stack, angle: float):
    """A (rows, angles, detector) stack whose tilt axis lies at ``angle`` degrees from the rows towards the detector,
    turned so that it lies along the rows (swapped first when nearer the detector, then rotated by at most 45°)."""
    folded = (angle + 45.0) % 180.0 - 45.0
    if folded > 45.0:
        stack, folded = _swapped(stack, True), 90.0 - folded
    if folded == 0:
        return stack
    xp = resolve_device(None, stack)
    if xp is np:
        from scipy.ndimage import rotate
    else:
        from cupyx.scipy.ndimage import rotate
    return rotate(stack.astype(xp.float32), -folded, axes=(0, 2), reshape=False, order=1, mode="nearest")


def _undetected_note(evidence: float) -> str:
    """The warning when the profiles along y and along x change alike (``evidence``: across y / along y)."""
    return ("tilt_axis: the data do not tell the tilt axis (the projections' profiles along y and along x change "
            f"alike across the tilts: {evidence:.3g} times, within a factor {AXIS_EVIDENCE:g}): assumed along y "
            "(each row a sinogram); if it runs along x, pass tilt_axis='x'")


def _disagreement_notes(tilt_axis, evidence: float) -> tuple:
    """A warning when the projections' profiles change clearly less across the given tilt axis than along it."""
    if evidence * AXIS_DISAGREEMENT > 1:
        return ()
    if isinstance(tilt_axis, str):
        other = "x" if tilt_axis == "y" else "y"
        looks, way_out = f"along {other}", f"tilt_axis='{other}'"
    else:
        across = (tilt_axis + 90.0) % 180.0
        looks, way_out = f"at {across:g}°", f"tilt_axis={across:g}"
    return (f"tilt_axis={shown(tilt_axis)} disagrees with the data: the projections' profiles across that axis "
            f"change {1 / evidence:.3g} times less over the tilts than along it, whereas along a parallel-beam tilt "
            f"axis they stay the same; the tilt axis looks {looks}, and reconstructions about the wrong axis are "
            f"ring artefacts that still give a plausible resolution: pass {way_out} or 'auto'",)


# ----------------------------------------------------------------------------- missing wedge
def _missing_wedge(theta: np.ndarray) -> tuple:
    """The missing wedge (degrees): the largest gap between consecutive projection directions (modulo 180°) when it
    is wider than :data:`MAX_GAP_RATIO` median gaps, else 0; and the middle tilt of the sampled directions."""
    folded = np.sort(np.mod(theta, 180.0))
    gaps = np.diff(np.append(folded, folded[0] + 180.0))  # the gap after each direction, cyclic
    largest = int(np.argmax(gaps))
    typical = float(np.median(gaps[gaps > 1e-6]))  # opposite views (over 360°) are the same direction
    wedge = float(gaps[largest]) if gaps[largest] > MAX_GAP_RATIO * typical else 0.0
    middle = folded[(largest + 1) % folded.size] + (180.0 - wedge) / 2  # from the first direction after the wedge
    low, high = float(theta.min()), float(theta.max())
    return wedge, float(middle + 180.0 * round(((low + high) / 2 - middle) / 180.0))  # a tilt within the range


def _wedge_notes(theta: np.ndarray, wedge: float, middle: float) -> tuple:
    """The missing-wedge warning: the angles' span, the wedge, and the direction the resolution is worse along."""
    if wedge == 0:
        return ()
    low, high = float(theta.min()), float(theta.max())
    span = f"±{high:.3g}°" if math.isclose(-low, high, rel_tol=1e-3) else f"{low:.3g}° to {high:.3g}°"
    return (f"angles span {span}: a {wedge:.3g}° missing wedge; the resolution is that of the sampled directions, "
            f"worse along the beam (its direction at the middle tilt, {middle:.3g}°)",)


# ----------------------------------------------------------------------------- split
@in_memory("sinogram")
def split_dataset(sinogram, theta, *, angle_axis=None):
    """Split a tomographic dataset into its even and odd projections (toupy ``split_dataset``).

    The angles are sorted first (stable), then projections 0, 2, 4, ... form
    the first half and 1, 3, 5, ... the second: two interleaved sets that
    each cover the whole angular range.

    Parameters
    ----------
    sinogram : array, shape (detector, angles) or (angles, rows, detector)
        A 2-D sinogram as scikit-image lays it out, or a 3-D projection
        stack as tomography libraries do (numpy or cupy). Not modified.
    theta : sequence of float, shape (angles,)
        Projection angles in degrees, any order.
    angle_axis : int, optional
        Axis of ``sinogram`` that holds the angles (default 1 in 2-D, 0 in 3-D).

    Returns
    -------
    sinogram1, sinogram2 : array
        The halves, in the layout of ``sinogram`` (new arrays).
    theta1, theta2 : ndarray of float64
        Their angles in degrees, sorted.

    Raises
    ------
    ValueError
        Not 2-D/3-D, NaN/Inf, a bad ``angle_axis``, fewer than 8 angles or
        not one angle per projection.
    """
    axis, angles = _check_sinogram(sinogram, theta, angle_axis)
    return _split(sinogram, angles, axis)


def _split(sinogram, angles: np.ndarray, axis: int):
    """The even and odd projections (angles sorted, stable) along ``axis``, new arrays; and their angles."""
    order = np.argsort(angles, kind="stable")
    xp = resolve_device(None, sinogram)
    data = np.asarray(sinogram) if xp is np else sinogram
    first, second = (xp.take(data, xp.asarray(order[start::2]), axis=axis) for start in (0, 1))
    return first, second, angles[order[0::2]], angles[order[1::2]]


# ----------------------------------------------------------------------------- reconstruction
def angular_weights(theta) -> np.ndarray:
    """Angular interval of each projection in radians (the FBP quadrature weights).

    Each projection weighs half the gap to each of its neighbours, the angles
    taken modulo 180° (opposite views see the same line integrals), so the
    weights sum to π; uniform angles weigh π / count each, as in
    scikit-image. A gap wider than :data:`MAX_GAP_RATIO` mean gaps (a missing
    wedge) counts as that many (the weights then sum to less than π).

    Parameters
    ----------
    theta : ndarray, shape (angles,)
        Angles in degrees, any order.

    Returns
    -------
    ndarray of float64, shape (angles,)
    """
    folded = np.mod(np.deg2rad(np.asarray(theta, dtype=np.float64)), np.pi)
    order = np.argsort(folded, kind="stable")
    ordered = folded[order]
    gaps = np.diff(np.append(ordered, ordered[0] + np.pi))  # gap after each angle, cyclic
    gaps = np.minimum(gaps, MAX_GAP_RATIO * np.pi / gaps.size)
    weights = np.empty_like(folded)
    weights[order] = 0.5 * (gaps + np.roll(gaps, 1))
    return weights


def _weights(theta: np.ndarray, weighting: str) -> np.ndarray:
    """Quadrature weight of each projection in radians: pi / count each ("uniform") or its interval ("gaps")."""
    if weighting == "uniform":
        return np.full(theta.size, np.pi / theta.size)
    return angular_weights(theta)


def _fourier_filter(size: int, name: str) -> np.ndarray:
    """The reconstruction filter on the rfft frequencies of ``size`` samples (scikit-image's definition).

    The ramp is the transform of its band-limited spatial form (Kak & Slaney
    eq. 61), which removes the DC bias of a sampled ``|f|``; the others are
    the ramp times a window (scikit-image's windows are off by one sample
    from even; a real projection sees their even part, kept here). Shape
    ``(size // 2 + 1,)``.
    """
    odd = np.concatenate((np.arange(1, size / 2 + 1, 2, dtype=int), np.arange(size / 2 - 1, 0, -2, dtype=int)))
    spatial = np.zeros(size)
    spatial[0] = 0.25
    spatial[1::2] = -1 / (np.pi * odd) ** 2
    ramp = 2 * np.real(np.fft.fft(spatial))
    frequency = np.fft.fftfreq(size)
    window = {
        "ramp": lambda: np.ones(size),
        "shepp-logan": lambda: np.sinc(frequency),
        "cosine": lambda: np.fft.fftshift(np.sin(np.linspace(0, np.pi, size, endpoint=False))),
        "hamming": lambda: np.fft.fftshift(np.hamming(size)),
        "hann": lambda: np.fft.fftshift(np.hanning(size)),
    }[name]()
    response = ramp * window
    return 0.5 * (response + np.roll(response[::-1], 1))[: size // 2 + 1]  # even part: what a real input sees


def _padded_size(n_detector: int, circle: bool) -> int:
    """FFT length along the detector, as scikit-image's ``iradon``: at least 64, the next power of two of twice
    the detector, or with ``circle`` of twice the diagonal of the square it spans (the filters' shape depends on
    it slightly)."""
    span = math.ceil(math.sqrt(2) * n_detector) if circle else n_detector
    return max(64, 2 ** math.ceil(math.log2(2 * span)))


def _filtered(stack, theta: np.ndarray, filter_name: str, circle: bool, weighting: str, xp):
    """Filter and weight every projection: (slices, angles, detector) in, float32 of the same shape out."""
    n_detector = stack.shape[-1]
    size = _padded_size(n_detector, circle)
    response = _fourier_filter(size, filter_name).astype(np.float32)
    weights = (0.5 * _weights(theta, weighting)).astype(np.float32)[:, None]
    if xp is np:
        spectrum = scipy.fft.rfft(stack, n=size, axis=-1, workers=-1)
        spectrum *= response
        out = scipy.fft.irfft(spectrum, n=size, axis=-1, workers=-1)[..., :n_detector]
    else:
        import cupyx.scipy.fft as cufft

        spectrum = cufft.rfft(stack, n=size, axis=-1)
        spectrum *= xp.asarray(response)
        out = cufft.irfft(spectrum, n=size, axis=-1)[..., :n_detector]
    return out * xp.asarray(weights)


def _backproject_array(filtered, theta: np.ndarray, center: float, size: int, circle: bool, xp):
    """Back-projection with array code (cupy, or numpy without numba): one vectorised pass per angle.

    ``filtered`` is (slices, angles, detector); returns (slices, size, size) float32.
    """
    n_detector = filtered.shape[-1]
    coordinates = xp.arange(size, dtype=xp.float32) - size // 2
    rows, cols = coordinates[:, None], coordinates[None, :]
    out = xp.zeros((filtered.shape[0], size, size), dtype=xp.float32)
    for a, angle in enumerate(np.deg2rad(theta)):
        position = center + cols * np.float32(math.cos(angle)) - rows * np.float32(math.sin(angle))
        left = xp.floor(position)
        weight = position - left
        left = left.astype(xp.int64)
        inside = (left >= 0) & (left < n_detector - 1)
        left = xp.clip(left, 0, n_detector - 2)
        projection = filtered[:, a, :]
        value = projection[:, left] + weight * (projection[:, left + 1] - projection[:, left])
        out += xp.where(inside, value, 0)
    if circle:
        out *= (rows**2 + cols**2 <= (size // 2) ** 2)
    return out


def _backproject(filtered, theta: np.ndarray, center: float, size: int, circle: bool, xp, path: str):
    """(slices, angles, detector) filtered projections -> (slices, size, size) float32 reconstructions."""
    if path != "numba":
        return _backproject_array(filtered, theta, center, size, circle, xp)
    radians = np.deg2rad(theta)
    radius_sq = (size // 2) ** 2 if circle else np.inf
    stacked = np.ascontiguousarray(np.asarray(filtered, dtype=np.float32).transpose(1, 2, 0))
    out = kernels.backproject(stacked, np.cos(radians), np.sin(radians), center, size, radius_sq)
    return np.ascontiguousarray(out.transpose(2, 0, 1))


def _reconstruction_side(n_detector: int, circle: bool) -> int:
    """Side of the square reconstructed from ``n_detector`` samples: the detector, or the square of that diagonal."""
    return n_detector if circle else int(math.floor(n_detector / math.sqrt(2)))


def _reconstruction_bytes(shape: tuple, circle: bool) -> int:
    """Bytes the reconstruction of (slices, angles, detector) projections holds: the (slices, N, N) float32
    volume (twice, its passes joined at the end) and one pass's filtered projections and output."""
    slices, angles, n_detector = shape
    side = _reconstruction_side(n_detector, circle)
    padded = _padded_size(n_detector, circle)
    per_pass = min(SLICES_PER_PASS, slices) * (angles * (12 * padded + 12 * n_detector) + 8 * side**2)
    return 8 * slices * side**2 + per_pass


def _skimage_slices(stack, theta: np.ndarray, filter_name: str, center: float, size: int, circle: bool,
                    weighting: str):
    """scikit-image ``iradon`` of each slice of (slices, angles, detector), in threads, weighted by ``weighting``.

    The rotation axis is shifted to the detector's middle by padding, as
    ``iradon`` has it at ``detector // 2``.
    """
    from skimage.transform import iradon

    scale = _weights(theta, weighting)[:, None] * theta.size / np.pi  # iradon weighs every projection pi / count
    shift = int(round(center)) - stack.shape[-1] // 2

    def one(sinogram):
        columns = (np.asarray(sinogram, dtype=np.float64) * scale).T  # (detector, angles)
        columns = np.pad(columns, ((max(0, -2 * shift), max(0, 2 * shift)), (0, 0)))
        return iradon(columns, theta, output_size=size, filter_name=filter_name, circle=circle)

    with ThreadPoolExecutor() as pool:
        return np.stack(list(pool.map(one, stack))).astype(np.float32)


@in_memory("stack")
def filtered_back_projection(stack, theta, *, filter="ramp", center=None, circle=True, weighting="uniform",
                             backend="auto", device=None):
    """Filtered back-projection of a stack of sinograms, all slices at once.

    Parameters
    ----------
    stack : array, shape (slices, angles, detector)
        Projections (line integrals), numpy or cupy. Not modified.
    theta : sequence of float, shape (angles,)
        Angles in degrees, any order.
    filter : str
        One of :data:`FILTERS`.
    center : float, optional
        Rotation axis on the detector in pixels (default ``detector // 2``,
        scikit-image's convention; "skimage" rounds it to whole pixels).
    weighting : {"uniform", "gaps"}
        Quadrature weight of each projection: "uniform" (default) pi / count,
        as scikit-image's ``iradon``, ASTRA and toupy; "gaps" its angular
        interval (:func:`angular_weights`), better for angles that are not
        evenly spaced.
    circle : bool
        True: the object lies within the circle the detector spans;
        reconstruct an N × N square (N = detector) and zero it outside the
        inscribed circle. False: the object fills the square whose diagonal
        the detector spans, N = floor(detector / sqrt(2)).
    backend : {"auto", "skimage"}
        "auto": the batched FBP (:func:`~.kernels.backproject` on the CPU,
        array code on the GPU); "skimage": ``iradon`` per slice in threads.
    device : {None, "cpu", "gpu"}
        Where to compute ("auto" only; see :func:`~.correlation.fourier_correlation`).

    Returns
    -------
    reconstruction : float32 array, shape (slices, N, N)
        On the device it was computed on.
    path : str
        "numba", "numpy", "cupy" or "skimage".
    """
    _check_stack(stack)
    angles = _check_theta(theta)
    if angles.size != stack.shape[1]:
        raise ValueError(f"theta has {angles.size} angles but stack has {stack.shape[1]} projections along axis 1")
    _check_memory("stack", tuple(stack.shape), circle)
    return _reconstruct(stack, angles, filter, _check_center(center, stack.shape[-1]), circle, weighting, backend,
                        device)


def _reconstruct(stack, angles, filter_name, center, circle, weighting, backend, device, progress=None):
    """:func:`filtered_back_projection` of checked input; ``progress`` gets the fraction of slices done."""
    check_choice(filter_name, "filter", FILTERS)
    check_choice(weighting, "weighting", WEIGHTINGS)
    check_choice(backend, "backend", BACKENDS)
    progress = progress_of(progress)
    size = _reconstruction_side(stack.shape[-1], circle)
    if backend == "skimage":
        return _skimage_slices(to_host(stack), angles, filter_name, center, size, circle, weighting), "skimage"
    xp = resolve_device(device, stack)
    path = compute_path(xp)
    parts = []
    for start in range(0, stack.shape[0], SLICES_PER_PASS):
        chunk = to_device(stack[start:start + SLICES_PER_PASS], xp).astype(xp.float32)
        filtered = _filtered(chunk, angles, filter_name, circle, weighting, xp)
        parts.append(_backproject(filtered, angles, center, size, circle, xp, path))
        progress(min(start + SLICES_PER_PASS, stack.shape[0]) / stack.shape[0])
    return (parts[0] if len(parts) == 1 else xp.concatenate(parts)), path


# ----------------------------------------------------------------------------- the estimator
def _check_memory(name: str, shape: tuple, circle, per_voxel: float = 0.0, extra: float = 0.0) -> None:
    """ValueError naming ``name`` when reconstructing (slices, angles, detector) projections would not fit in memory.

    Beside the reconstruction, ``per_voxel`` bytes per voxel of it (the other half's, the correlation's)
    and ``extra`` bytes (the split projections) are needed.
    """
    slices, angles, n_detector = shape
    side = _reconstruction_side(n_detector, bool(circle))
    check_allocation(_reconstruction_bytes(shape, bool(circle)) + per_voxel * slices * side**2 + extra,
                     f"{name} ({slices} slices of {angles} angles x {n_detector} detector pixels: reconstructions of "
                     f"{slices} x {side} x {side})", "crop the detector or the rows, or bin them")


def _as_stack(sinogram, axis: int):
    """The data as (slices, angles, detector): a 2-D sinogram is one slice; a stack keeps its other axes' order."""
    if sinogram.ndim == 2:
        return sinogram.T[None] if axis == 1 else sinogram[None]
    xp = resolve_device(None, sinogram)
    return xp.moveaxis(sinogram, axis, 1)


def _undersampling_warnings(halves: tuple, size: int, span: float = 180.0) -> tuple:
    """A warning when a half has fewer distinct directions (modulo 180°) than pi/2 N for an N-pixel field, or
    than its share ``span / 180`` when the directions span less than 180° (a missing wedge): the step counts."""
    needed = math.pi / 2 * size * span / 180.0
    directions = min(_directions(angles) for angles in halves)
    if directions >= needed:
        return ()
    share = "" if span == 180 else f" * {span:.3g}/180"
    within = "" if span == 180 else f" and the {span:.3g}° the directions span"
    return (f"each half has {directions} projection directions, fewer than pi/2 * N{share} = {needed:.0f} for the "
            f"{size}-pixel field{within}: angular undersampling (streaks) limits the correlation before noise does, "
            "so the resolution reads pessimistic; acquire more angles or reconstruct a smaller field",)


def _directions(theta: np.ndarray) -> int:
    """Distinct projection directions: angles modulo 180° (opposite views see the same lines), 1e-6° apart."""
    folded = np.sort(np.mod(theta, 180.0))
    return max(1, int(np.count_nonzero(np.diff(np.append(folded, folded[0] + 180.0)) > 1e-6)))


def _circle_mask(shape: tuple) -> tuple:
    """Soft disc inside the reconstruction circle (for a stack a cylinder, tapered at its end rows) and its edge.

    The rows of a stack are a crop along the rotation axis: they get the
    correlation's default edge taper (20 pixels, at most a quarter of them).
    """
    size = shape[-1]
    edge = max(MIN_EDGE, int(round(size * EDGE_FRACTION)))
    disc = raised_cosine_mask((size, size), size // 2 - edge, size // 2)
    if len(shape) == 2:
        return disc, edge
    rows = tukey_window(shape[0], min(DEFAULT_APODIZATION, shape[0] // 4)).astype(np.float32)
    return rows[:, None, None] * disc, edge


@in_memory("sinogram")
def tomography_frc(sinogram, theta, *, angle_axis=None, tilt_axis="auto", pixel_size=1.0, filter="ramp",
                   threshold="half-bit", center=None, circle=True, weighting="uniform", backend="auto", device=None,
                   progress=None, **frc_options) -> TomographyResult:
    """Resolution of a tomogram from two reconstructions of its even and odd projections.

    The projections are split by :func:`split_dataset`, each half is
    reconstructed by :func:`filtered_back_projection` (a stack slice by
    slice into a (rows, N, N) volume) and the two are correlated by
    :func:`~.correlation.fourier_correlation` (FRC in 2-D, FSC for a stack).

    Parameters
    ----------
    sinogram : array, shape (detector, angles) or (angles, rows, detector)
        A 2-D sinogram (scikit-image layout) or a 3-D projection stack
        (numpy or cupy; line integrals, e.g. -log of the transmission). Not
        modified.
    theta : sequence of float, shape (angles,)
        Projection angles in degrees, any order, not necessarily uniform; at
        least 8.
    angle_axis : int, optional
        Axis of the angles (default 1 in 2-D, 0 in 3-D). Of a stack's other
        two axes, the axes of each projection, the first is y, the second x.
    tilt_axis : {"auto", "y", "x"} or float
        The axis of a stack's projections that the tilt axis runs along:
        "y" (each row a sinogram, reconstructed into a slice), "x" (each
        column), or an in-plane angle in degrees from y towards x (the
        projections are rotated so that it lies along y, linear
        interpolation, about 15 % more time);
        "auto" (default): from the data (:func:`detect_tilt_axis`; "y" when
        the data cannot tell, with a warning). A warning when a given axis
        clearly disagrees with the data. A 2-D sinogram is one slice: "auto"
        or "y".
    pixel_size : float or sequence of float
        Detector pixel size, one value or one per reconstruction axis
        ((Y, X), or (rows, Y, X) for a stack, the rows along the tilt axis).
    filter : str
        Reconstruction filter, one of :data:`FILTERS` (default "ramp").
        Radially symmetric filters multiply both halves alike and cancel in
        the correlation: the crossing does not depend on it.
    threshold : str or float
        Criterion (default "half-bit": each half carries half the dose).
    center : float, optional
        Rotation axis on the detector (the projections' axis across the tilt
        axis) in pixels (default ``detector // 2``).
    circle : bool
        True (default): the object lies within the circle the detector
        spans; the reconstructions are zero outside it and are correlated
        inside a soft disc (raised-cosine edge of N/16 pixels, at least 4)
        ending at the circle, so the common jump at the circle's edge does
        not correlate the halves at high frequency (a stack: a cylinder,
        its end rows tapered). False: the whole N/sqrt(2) square, with the
        correlation's default edge taper.
    weighting : {"uniform", "gaps"}
        Quadrature weight of each projection: "uniform" (default, as
        scikit-image, ASTRA and toupy) or "gaps" (its angular interval); see
        :func:`filtered_back_projection`. On tilt series with a missing wedge
        "uniform" reconstructs as close to the object or closer (measured in
        docs/tomography.md); "gaps" suits angles that are not evenly spaced.
    backend : {"auto", "skimage"}
        See :func:`filtered_back_projection`.
    device : {None, "cpu", "gpu"}
        Where to compute (reconstruction and correlation).
    progress : callable, optional
        Called with the completed fraction (backend "auto": after each pass
        of up to 32 slices of each half); an exception raised inside it
        aborts.
    **frc_options
        Passed to :func:`~.correlation.fourier_correlation` (e.g.
        ``ring_thickness``, ``crossing_rule``, ``apodization``, or a
        ``mask`` to use instead of the soft disc).

    Returns
    -------
    TomographyResult

    Raises
    ------
    ValueError
        Not 2-D/3-D, NaN/Inf, a constant sinogram, fewer than 8 angles or
        not one per projection, angles that are all equal, repeated or look
        like radians, a bad ``angle_axis`` or ``tilt_axis``, a ``center`` off
        the detector, an unknown filter, weighting, backend or threshold, or
        a bad correlation option.

    Warns
    -----
    RuntimeWarning
        A given tilt axis that disagrees with the data, or one the data
        cannot tell; a missing wedge (the directions' span and the wedge);
        angular undersampling; the correlation's own warnings. All are also
        in ``result.warnings``.
    """
    axis, angles = _check_sinogram(sinogram, theta, angle_axis)
    tilt_axis = _check_tilt_axis(tilt_axis, sinogram.ndim)
    check_choice(filter, "filter", FILTERS)
    check_choice(weighting, "weighting", WEIGHTINGS)
    check_choice(backend, "backend", BACKENDS)
    report = progress_of(progress)
    if not isinstance(circle, (bool, np.bool_)):
        raise ValueError(f"circle must be True or False, got {shown(circle)}")
    stack = _as_stack(sinogram, axis)
    if sinogram.ndim == 2:
        orientation, axis_notes = {"tilt_axis": None}, ()
    else:
        stack, orientation, axis_notes = _oriented(stack, tilt_axis)
    center = _check_center(center, stack.shape[-1])
    _check_memory("sinogram", (stack.shape[0], math.ceil(stack.shape[1] / 2), stack.shape[2]), circle,
                  4 + CORRELATION_BYTES, extra=stack.size * np.dtype(stack.dtype).itemsize)
    wedge, middle = _missing_wedge(angles)
    first, second, *halves = _split(stack, angles, 1)
    recons = []
    for index, (half, part) in enumerate(zip((first, second), report.parts(2))):
        volume, path = _reconstruct(half, halves[index], filter, center, circle, weighting, backend, device, part)
        recons.append(volume[0] if sinogram.ndim == 2 else volume)
    edge = 0
    if circle and "mask" not in frc_options:
        frc_options["mask"], edge = _circle_mask(recons[0].shape)
    try:
        correlation = fourier_correlation(recons[0], recons[1], pixel_size=pixel_size, threshold=threshold,
                                          device=device, **frc_options)
    except ValueError as err:  # about a reconstruction (e.g. constant): the user's argument is the sinogram
        raise ValueError(renamed(str(err), RECONSTRUCTIONS)) from None
    notes = (axis_notes + _wedge_notes(angles, wedge, middle)
             + _undersampling_warnings(tuple(halves), recons[0].shape[-1], 180.0 - wedge))
    issue_warnings(notes)
    return TomographyResult(
        reconstructions=tuple(to_host(r) for r in recons), angles=tuple(np.sort(h) for h in halves),
        correlation=correlation, criterion=correlation.criterion, crossing=correlation.crossing,
        status=correlation.status, resolution=correlation.resolution, resolution_half=correlation.resolution_half,
        pixel_size=correlation.pixel_size, warnings=notes + correlation.warnings,
        parameters={"shape": tuple(sinogram.shape), "angle_axis": axis, **orientation, "filter": filter,
                    "center": center, "circle": bool(circle), "weighting": weighting, "mask_edge": edge,
                    "n_angles": tuple(h.size for h in halves), "missing_wedge": wedge, "angle_span": 180.0 - wedge,
                    "path": path, "frc": correlation.parameters},
    )
