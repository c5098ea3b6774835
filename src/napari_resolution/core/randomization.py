"""Mask-corrected FSC by phase randomisation (Chen et al. 2013; RELION postprocess).

A mask multiplies each half-map, which convolves their spectra with the
mask's: a sharp mask correlates by itself and inflates the masked FSC. To
measure that inflation, the phases of both half-maps are replaced by
independent random phases beyond the shell where the unmasked FSC first drops
below 0.8, the randomised maps are masked the same way, and

    FSC_true = (FSC_masked - FSC_randomised) / (1 - FSC_randomised)

beyond that shell (below it FSC_true = FSC_masked).
"""

from __future__ import annotations

from functools import partial
from numbers import Integral, Real

import numpy as np

from . import kernels
from .backend import fftn_inplace, ifftn_inplace, in_memory, irfftn, resolve_device, rfftn, to_device
from .figures import COLORS, Curve, Marker, Plot, resolution_marker, threshold_curves, threshold_notes
from .frequency import ShellGeometry, shell_geometry, shell_index
from .results import ShellResultMixin, issue_warnings, length, resolution_summary, result_dataclass
from .spectral import (
    check_work,
    compute_path,
    correlation_sums,
    curve_from_sums,
    identical_inputs_warnings,
    packed_mask_rows,
    spectra_sums,
    sums_in_range,
    unit_peak,
    working_mask,
)
from .thresholds import (
    all_threshold_curves,
    criterion_resolutions,
    find_crossing,
    parse_threshold,
    resolution_from_crossing,
    threshold_curve,
)
from .validation import check_image, check_progress, check_same_shape, renamed_keywords, shown, working_dtype

__all__ = ["RANDOMIZED_LABEL", "PhaseRandomizedResult", "check_randomize_at", "corrected_curve", "phase_randomized_fsc",
           "randomization_shell", "randomize_phases"]

#: A randomised-masked FSC above SHARP_MASK_LEVEL more than SHARP_MASK_OFFSET
#: cycles/pixel past the randomisation frequency means the mask's own
#: correlation reaches far (a soft edge of less than about 5 pixels).
SHARP_MASK_LEVEL = 0.2
SHARP_MASK_OFFSET = 0.05
#: The label of the line at the randomisation frequency: the phases are randomised from there on (short: it stands
#: at the top of a plot a dock wide, beside the resolution's label).
RANDOMIZED_LABEL = "phases randomised →"


@result_dataclass
class PhaseRandomizedResult(ShellResultMixin):
    """Unmasked, masked, phase-randomised-masked and corrected FSC on the same shells.

    Attributes
    ----------
    frequency : ndarray, shape (n_shells,)
        Shell centres, cycles/pixel (reference pixel), DC to Nyquist.
    n_points : ndarray of int, shape (n_shells,)
        Fourier voxels per shell (full spectrum).
    unmasked, masked, randomized, corrected : ndarray, shape (n_shells,)
        The four curves. ``corrected`` equals ``masked`` up to the
        randomisation shell.
    threshold : ndarray, shape (n_shells,)
        The chosen criterion's curve; ``thresholds`` has every criterion's.
    resolutions : dict of str to dict
        The resolution every criterion (the chosen one first) reads from the
        corrected curve: ``{"resolution", "status", "crossing"}``.
    criterion : str
        Name of the chosen criterion.
    randomization_shell : int
        Phases are randomised in the shells after this one.
    randomization_frequency : float
        Its frequency, cycles/pixel.
    crossing, status, resolution, resolution_half
        Read from the corrected curve, with the rules of
        :func:`fourier_correlation` (full period, pixel_size units).
    masked_resolution, unmasked_resolution : float or None
        The same read from the masked (uncorrected) and unmasked curves.
    pixel_size : tuple of float
        Pixel size per axis; ``reference_pixel_size`` is the largest.
    warnings : tuple of str
        Mask too sharp; corrected curve below the randomised one; no
        randomisation possible.
    parameters : dict
        randomize_at, seed, shape, dtype, compute path.
    """

    frequency: np.ndarray
    n_points: np.ndarray
    unmasked: np.ndarray
    masked: np.ndarray
    randomized: np.ndarray
    corrected: np.ndarray
    threshold: np.ndarray
    thresholds: dict
    resolutions: dict
    criterion: str
    randomization_shell: int
    randomization_frequency: float
    crossing: float | None
    resolution: float | None
    resolution_half: float | None
    masked_resolution: float | None
    unmasked_resolution: float | None
    reference_pixel_size: float

    def summary(self, unit: str = "") -> str:
        """One copyable line: corrected resolution, criterion, and the uncorrected masked one beside it."""
        unit = self.unit_of_lengths(unit)
        masked = "" if self.masked_resolution is None else f" · masked {length(self.masked_resolution, unit)}"
        return resolution_summary(self.resolution, self.status, self.criterion, unit, curve="corrected FSC",
                                  qualifier="phase-randomisation corrected", extra=masked)

    def columns(self) -> dict:
        """The four curves per shell, with the frequency (cycles/pixel), voxel counts and every criterion."""
        return self.curve_columns({"unmasked": self.unmasked, "masked": self.masked, "randomized": self.randomized,
                                   "corrected": self.corrected})

    def plots(self, unit: str = "", *, all_thresholds: bool = False) -> tuple:
        """The four curves, the threshold(s), the resolution and the randomisation frequency.

        With ``all_thresholds``, every criterion's curve and the resolution each gives on the corrected curve.
        """
        f = self.frequency
        notes = threshold_notes(self.resolutions, unit) if all_thresholds else ()
        curves = [Curve("corrected", f, self.corrected, "measured", COLORS["corrected"]),
                  Curve("masked", f, self.masked, "secondary", COLORS["masked"]),
                  Curve("phase-randomised masked", f, self.randomized, "secondary", COLORS["randomized"]),
                  Curve("unmasked", f, self.unmasked, "secondary", COLORS["unmasked"]),
                  *threshold_curves(f, self.criterion, self.threshold, self.thresholds, all_thresholds)]
        markers = (*resolution_marker(self.crossing, self.resolution, self.status, unit),
                   Marker(self.randomization_frequency, RANDOMIZED_LABEL, COLORS["reference"]))
        return (Plot("phase-randomised FSC", tuple(curves), markers, y_label="Fourier correlation",
                     y_range=(-0.1, 1.05), pixel_size=self.reference_pixel_size, unit=unit, notes=notes),)


def _seeds(seed, count: int) -> list[int]:
    """``count`` independent 64-bit seeds from ``seed`` (None: fresh entropy; else an integer >= 0)."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0):
        raise ValueError(f"seed must be None or an integer >= 0, got {shown(seed)}")
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(count, dtype=np.uint64)]


def _randomize_spectrum(spectrum, geometry: ShellGeometry, cutoff_shell: int, seed: int, xp, path: str) -> None:
    """Random phases, in place, for every shell beyond ``cutoff_shell`` of an rfft spectrum."""
    n_last = geometry.shape[-1]
    if path == "numba":
        kernels.randomize_half_spectrum(spectrum, geometry.squared_coordinates(), cutoff_shell, seed, n_last)
        return
    rng = xp.random.default_rng(seed)
    phase = xp.exp(2j * np.pi * rng.random(spectrum.shape))
    columns = [0, spectrum.shape[-1] - 1] if n_last % 2 == 0 else [0]
    mirror_axes = tuple(range(spectrum.ndim - 1))
    for column in columns:  # self-conjugate columns need phi(-k) = -phi(k)
        plane = phase[..., column]
        mirrored = xp.roll(xp.flip(plane, axis=mirror_axes), 1, axis=mirror_axes)
        phase[..., column] = plane * xp.conj(mirrored)
    beyond = shell_index(geometry, xp, half=True) > cutoff_shell
    spectrum *= xp.where(beyond, phase, 1).astype(spectrum.dtype)


@in_memory("volume")
def randomize_phases(volume, beyond: float, *, pixel_size=1.0, seed=None):
    """Replace the Fourier phases of ``volume`` by random ones beyond a frequency.

    Amplitudes are kept exactly; phases of every shell after the one holding
    ``beyond`` are uniform random and Hermitian, so the result is real.

    Parameters
    ----------
    volume : array, shape (Y, X) or (Z, Y, X)
        Real map (numpy or cupy; not modified).
    beyond : float
        Frequency in cycles/pixel (reference pixel) in [0, 0.5].
    pixel_size : float or sequence of float
        Pixel size per axis (shells are in physical frequency).
    seed : int, optional
        Same seed, same phases on the same compute path (numba, numpy or
        cupy; see :mod:`.spectral`), whatever the number of threads.

    Returns
    -------
    array of the working dtype, shape of ``volume``

    Raises
    ------
    ValueError
        Bad volume, beyond, pixel size or seed, or values so close to the
        dtype's largest that the randomised map overflows it.
    """
    check_image(volume, "volume")
    if not (isinstance(beyond, Real) and 0 <= beyond <= 0.5):
        raise ValueError(f"beyond must be a frequency in [0, 0.5] cycles/pixel, got {shown(beyond)}")
    geometry = shell_geometry(volume.shape, pixel_size)
    xp = resolve_device(None, volume)
    phase_seed = _seeds(seed, 1)[0]
    check_work({"volume": volume}, working_dtype(volume.dtype), compute_path(xp))
    data = to_device(volume, xp).astype(working_dtype(volume.dtype), copy=False)
    peak = data.dtype.type(max(float(data.max()), -float(data.min())))  # > 0: the volume is not constant
    spectrum = rfftn(data / peak)  # at a peak of 1, the transform of huge values cannot overflow
    shell = int(np.floor(beyond / geometry.frequency[1] + 0.5)) if geometry.n_shells > 1 else 0
    _randomize_spectrum(spectrum, geometry, shell, phase_seed, xp, compute_path(xp))
    with np.errstate(over="ignore"):
        randomized = irfftn(spectrum, volume.shape).astype(data.dtype, copy=False) * peak
    if not bool(xp.isfinite(randomized).all()):
        raise ValueError(f"volume values (up to {float(peak):.3g}) are too close to the largest {data.dtype}: "
                         "the randomised map overflows it")
    return randomized


def randomization_shell(unmasked, *, frequency, randomize_at, reference_pixel) -> int:
    """Index of the last shell whose phases are kept: where the ``unmasked`` FSC first drops below a level
    ``randomize_at`` < 1, or the shell of a resolution ``randomize_at`` >= 1 (``reference_pixel`` units)."""
    if randomize_at < 1:
        below = np.flatnonzero(unmasked[1:] < randomize_at) + 1
        return int(below[0]) if below.size else len(frequency) - 1
    return min(int(np.floor(reference_pixel / randomize_at / frequency[1] + 0.5)), len(frequency) - 1)


def check_randomize_at(randomize_at, reference_pixel: float) -> float:
    """``randomize_at`` as a float: an FSC level in (0, 1) or a resolution >= 1 no finer than Nyquist."""
    if isinstance(randomize_at, bool) or not isinstance(randomize_at, Real) or not randomize_at > 0:
        raise ValueError(f"randomize_at must be an FSC level in (0, 1) or a resolution >= 1, got {shown(randomize_at)}")
    if randomize_at >= 1 and reference_pixel / randomize_at > 0.5:
        raise ValueError(f"randomize_at ({randomize_at}) is finer than Nyquist ({2 * reference_pixel:g})")
    return float(randomize_at)


@renamed_keywords(h1="half1", h2="half2")
@in_memory("half1", "half2", "mask")
def phase_randomized_fsc(
    half1,
    half2,
    mask,
    *,
    randomize_at=0.8,
    pixel_size=1.0,
    threshold="0.143",
    seed=None,
    device=None,
    progress=None,
) -> PhaseRandomizedResult:
    """Mask-corrected FSC of two half-maps by phase randomisation.

    Parameters
    ----------
    half1, half2 : array, shape (Y, X) or (Z, Y, X)
        Half-maps (numpy or cupy, not modified).
    mask : array, same shape
        Soft real-space mask in [0, 1].
    randomize_at : float
        A number in (0, 1): randomise beyond the shell where the unmasked
        FSC first drops below it (default 0.8, as RELION). A number >= 1: a
        resolution in pixel_size units to randomise beyond.
    pixel_size : float or sequence of float
        Pixel size per axis.
    threshold : str or float
        Criterion for the resolution (default "0.143", gold-standard half maps).
    seed : int, optional
        Seed of the random phases: the same seed gives the same curves on
        the same compute path (``parameters["path"]``); other paths draw
        other, equally random phases.
    device : {None, "cpu", "gpu"}
        Where to compute (see :func:`~.correlation.fourier_correlation`).
    progress : callable, optional
        Receives the completed fraction; raising in it cancels.

    Returns
    -------
    PhaseRandomizedResult
        Also emitted as ``RuntimeWarning``: each entry of ``result.warnings``.

    Raises
    ------
    ValueError
        Bad maps, mask, threshold, randomize_at or pixel size.
    """
    check_image(half1, "half1")
    check_image(half2, "half2")
    check_same_shape(half1, half2, ("half1", "half2"))
    if mask is None:
        raise ValueError("mask is required for the phase-randomised FSC")
    criterion, _ = parse_threshold(threshold)
    check_progress(progress)
    geometry = shell_geometry(half1.shape, pixel_size)
    randomize_at = check_randomize_at(randomize_at, geometry.reference_pixel)
    xp = resolve_device(device, half1, half2, mask)
    path = compute_path(xp)
    dtype = np.result_type(working_dtype(half1.dtype), working_dtype(half2.dtype))
    check_work({"half1": half1, "half2": half2, "mask": mask}, dtype, path)
    half1, half2 = (to_device(x, xp).astype(dtype, copy=False) for x in (half1, half2))
    mask = working_mask(mask, half1.shape, dtype, xp, path)
    report = progress or (lambda fraction: None)
    cutoff_for = partial(randomization_shell, frequency=geometry.frequency, randomize_at=randomize_at,
                         reference_pixel=geometry.reference_pixel)
    unmasked_sums, masked_sums, randomized_sums, cutoff = _all_sums(half1, half2, mask, geometry, cutoff_for,
                                                                    _seeds(seed, 2), xp, path, report)
    n_points, unmasked = curve_from_sums(unmasked_sums)
    report(1.0)
    return _assemble(geometry, n_points, unmasked, curve_from_sums(masked_sums)[1],
                     curve_from_sums(randomized_sums)[1], cutoff, threshold, criterion,
                     {"randomize_at": randomize_at, "seed": seed, "shape": tuple(half1.shape), "dtype": str(dtype),
                      "path": path})


def _all_sums(h1, h2, mask, geometry, cutoff_for, seeds, xp, path, report):
    """:func:`_shell_sums_packed` (numba path) or :func:`_shell_sums_array`, for maps of any scale.

    Maps so large or so small that their spectra's products overflow or
    underflow (:func:`~.spectral.sums_in_range`) are scaled to a peak of 1
    and summed again: no curve depends on the scale.
    """
    def sums(a, b):
        if path == "numba":
            return _shell_sums_packed(a, b, mask, geometry, cutoff_for, seeds[0], report)
        return _shell_sums_array(a, b, mask, geometry, cutoff_for, seeds, xp, path, report)

    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        first = sums(h1, h2)
    if all(sums_in_range(part, h1.dtype) for part in first[:3]):
        return first
    return sums(unit_peak(h1), unit_peak(h2))


def _shell_sums_array(h1, h2, mask, geometry, cutoff_for, seeds, xp, path, report):
    """Unmasked, masked and randomised-masked shell sums with array operations (GPU, or CPU without numba).

    Returns
    -------
    unmasked, masked, randomized : ndarray, shape (4, n_shells)
        Shell sums as :func:`~.spectral.spectra_sums`.
    cutoff : int
        The randomisation shell.
    """
    spectra = [rfftn(h1), rfftn(h2)]
    unmasked = spectra_sums(*spectra, geometry, xp)
    cutoff = cutoff_for(curve_from_sums(unmasked)[1])
    report(0.2)
    randomized_maps = []
    for spectrum, half_seed in zip(spectra, seeds):
        _randomize_spectrum(spectrum, geometry, cutoff, half_seed, xp, path)
        randomized_maps.append(irfftn(spectrum, h1.shape).astype(h1.dtype, copy=False))
    spectra.clear()
    report(0.4)
    masked = correlation_sums(h1, h2, geometry, xp, path, mask=mask)
    report(0.7)
    return unmasked, masked, correlation_sums(*randomized_maps, geometry, xp, path, mask=mask), cutoff


def _shell_sums_packed(h1, h2, mask, geometry, cutoff_for, seed, report):
    """As :func:`_shell_sums_array`, on the CPU in one complex buffer with four complex FFTs.

    1. The masked maps, packed as ``a + i b`` (zero outside the mask's
       bounding box), transformed in place: the masked sums.
    2. The same buffer receives ``h1 + i h2``, transformed: the unmasked sums,
       hence the randomisation shell.
    3. The pairs ``(k, -k)`` of that spectrum get random phases for both maps
       at once; the inverse transform is ``r1 + i r2``, computed only inside
       the mask's box, masked in place and transformed forward: the
       randomised-masked sums.

    The transforms of the masked maps skip the lines that are zero outside
    the mask's box; no real FFT and no second large array are needed.
    """
    squared = geometry.squared_coordinates("packed")

    def shell_sums(spectrum):
        return kernels.packed_shell_sums(spectrum, squared, geometry.n_shells)

    rows = packed_mask_rows(h1, h2, mask)
    buffer = kernels.pack_masked(h1, h2, mask, rows, np.result_type(h1.dtype, np.complex64))
    masked = shell_sums(fftn_inplace(buffer, rows.support))
    report(0.25)
    kernels.pack_pair(h1, h2, buffer)
    unmasked = shell_sums(fftn_inplace(buffer))
    cutoff = cutoff_for(curve_from_sums(unmasked)[1])
    report(0.5)
    kernels.randomize_packed_pairs(buffer, squared, cutoff, seed)
    randomized_maps = ifftn_inplace(buffer, rows.support)
    kernels.mask_packed_inplace(randomized_maps, mask, rows)
    report(0.75)
    return unmasked, masked, shell_sums(fftn_inplace(randomized_maps, rows.support)), cutoff


def corrected_curve(masked, randomized, cutoff: int) -> np.ndarray:
    """The masked FSC corrected by phase randomisation beyond shell ``cutoff``: ``(M - R) / (1 - R)``.

    Parameters
    ----------
    masked, randomized : ndarray, shape (..., n_shells)
        The masked FSC and the masked FSC of the phase-randomised maps (one curve, or one per cone).
    cutoff : int
        The last shell whose phases were kept: it and the shells before it are left as measured.

    Returns
    -------
    ndarray, shape of ``masked``
        NaN where the randomised FSC is 1 (nothing left to correct from).
    """
    corrected = np.array(masked, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        fixed = (masked - randomized) / (1 - randomized)
    beyond = slice(cutoff + 1, None)
    corrected[..., beyond] = np.where(randomized[..., beyond] < 1, fixed[..., beyond], np.nan)
    return corrected


def _assemble(geometry, n_points, unmasked, masked, randomized, cutoff, threshold, criterion, parameters):
    frequency, reference = geometry.frequency, geometry.reference_pixel
    corrected = corrected_curve(masked, randomized, cutoff)
    curve = threshold_curve(threshold, n_points)
    crossing, status = find_crossing(frequency, corrected, curve)
    masked_crossing, masked_status = find_crossing(frequency, masked, curve)
    unmasked_crossing, unmasked_status = find_crossing(frequency, unmasked, curve)
    resolution = resolution_from_crossing(crossing, status, reference)
    thresholds = all_threshold_curves(n_points)
    notes = [*identical_inputs_warnings(unmasked), *_warnings(frequency, randomized, corrected, cutoff, crossing,
                                                              status)]
    issue_warnings(notes)
    return PhaseRandomizedResult(
        frequency=frequency, n_points=n_points, unmasked=unmasked, masked=masked, randomized=randomized,
        corrected=corrected, threshold=curve, thresholds=thresholds, criterion=criterion,
        resolutions=criterion_resolutions(frequency, corrected, {criterion: curve, **thresholds}, reference),
        randomization_shell=int(cutoff), randomization_frequency=float(frequency[cutoff]),
        crossing=crossing, status=status, resolution=resolution,
        resolution_half=None if resolution is None else resolution / 2,
        masked_resolution=resolution_from_crossing(masked_crossing, masked_status, reference),
        unmasked_resolution=resolution_from_crossing(unmasked_crossing, unmasked_status, reference),
        pixel_size=geometry.pixel_size, reference_pixel_size=reference, warnings=tuple(notes),
        parameters=parameters,
    )


def _warnings(frequency, randomized, corrected, cutoff, crossing, status) -> list[str]:
    notes = []
    last = len(frequency) - 1
    if cutoff >= last:
        notes.append("the unmasked FSC never drops below randomize_at: no phases were randomised "
                     "(corrected = masked)")
        return notes
    tail = randomized[frequency > frequency[cutoff] + SHARP_MASK_OFFSET]
    if np.any(tail > SHARP_MASK_LEVEL):  # NaN shells (no power) are not above it
        notes.append(f"the phase-randomised masked FSC stays above {SHARP_MASK_LEVEL} beyond the randomisation "
                     f"shell ({frequency[cutoff]:.3f} cycles/pixel): the mask is too sharp; soften its edge")
    if status == "unresolved":
        return notes
    # shells that decide the resolution: after the randomisation shell, up to the last one above threshold
    end = last if status == "bound" else int(np.searchsorted(frequency, crossing)) - 1
    window = slice(cutoff + 1, end + 1)
    if np.any(corrected[window] < randomized[window]):
        notes.append("the corrected FSC falls below the phase-randomised one before the resolution: "
                     "the mask correlation dominates; check the mask")
    return notes
