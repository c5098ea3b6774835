"""Shell sums of one or two spectra, shared by every Fourier estimator; the one place a compute path is chosen.

Three paths compute the same sums:

* ``"numba"``: numpy inputs with the compiled kernels (:mod:`.kernels`): both
  windowed images packed as ``a + i b``, one in-place complex FFT, one
  compiled pass that unpacks and sums;
* ``"numpy"``: numpy inputs with ``NAPARI_RESOLUTION_NO_JIT`` set (or no
  numba): real FFTs, terms folded over mirrored rows, bincount;
* ``"cupy"``: cupy inputs, the same array code on the GPU.

:func:`compute_path` decides which; estimators branch on its answer and
record it in their result's ``parameters["path"]``. Random phases drawn from
one seed are reproducible on each path (any thread count) but differ between
paths: each path's phases are independent uniform draws.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from . import kernels
from .backend import check_allocation, fftn_inplace, rfftn, to_device, to_host
from .frequency import ShellGeometry, fold_mirrored, folded_shells, hermitian_weights
from .progress import progress_of
from .validation import check_mask, shown

__all__ = [
    "RadialProfile",
    "binned_sums",
    "check_work",
    "compute_path",
    "correlation_sums",
    "curve_from_sums",
    "identical_inputs_warnings",
    "packed_mask_rows",
    "radial_profile",
    "ring_means",
    "spectra_sums",
    "sums_in_range",
    "windowed_spectrum",
    "unit_peak",
    "working_mask",
]

#: Words (of the working precision) per voxel that a correlation of two inputs holds on each host path: the
#: compiled path packs both spectra in one buffer, transformed in place; the array path holds each spectrum and
#: their products (measured at most 2.2 and 8.4 for the FSC, the phase-randomised FSC and random phases).
WORK_WORDS = {"numba": 2.5, "numpy": 9.0}

#: A correlation above 1 - this in every shell means the two inputs are the same image.
IDENTICAL_TOLERANCE = 1e-6

def compute_path(xp) -> str:
    """The path that computes on arrays of namespace ``xp``: "cupy", "numba" or "numpy"."""
    if xp is not np:
        return "cupy"
    return "numba" if kernels.jit_enabled() else "numpy"


def check_work(arrays: dict, dtype, path: str) -> None:
    """ValueError naming the inputs when a correlation of them would not fit in the memory available.

    Parameters
    ----------
    arrays : dict of str to array or None
        The inputs by argument name (None: not given); each not already of ``dtype`` is copied into it.
    dtype : numpy dtype
        The working precision.
    path : str
        The compute path (:func:`compute_path`); "cupy" computes in the GPU's memory, not checked here.
    """
    if path not in WORK_WORDS:
        return
    given = {name: array for name, array in arrays.items() if array is not None}
    first = next(iter(given.values()))
    copies = sum(not (isinstance(getattr(array, "dtype", None), np.dtype) and array.dtype == dtype)
                 for array in given.values())
    names = " and ".join(name for name in given if name != "mask")
    check_allocation(first.size * np.dtype(dtype).itemsize * (WORK_WORDS[path] + copies),
                     f"{names} ({shown(tuple(first.shape))} voxels, computed in {np.dtype(dtype)})", "crop or bin them")


def working_mask(mask, shape, dtype, xp, path: str):
    """Check ``mask`` against ``shape`` and return it as the ``path`` computes with it.

    The array paths check its values here; the numba path checks them in
    the pass that packs the masked images (:func:`packed_mask_rows`), with the
    same messages, so a bad mask fails alike on every path. A native
    float32/64 mask goes to the kernels as it is (no copy); any other is
    converted to ``dtype``.
    """
    check_mask(mask, shape, values=False)
    if np.dtype(getattr(mask, "dtype", object)).kind not in "biuf":
        raise ValueError(f"mask must hold real weights in [0, 1], got dtype {mask.dtype}")
    if path != "numba":
        check_mask(mask, shape)
    mask = to_device(mask, xp)
    if path == "numba" and mask.dtype in (np.dtype(np.float32), np.dtype(np.float64)):
        return mask
    converted = mask.astype(dtype, copy=False)
    if converted is not mask and not bool((converted > 0).any()):  # e.g. float64 weights below float32's range
        raise ValueError(f"mask is zero everywhere in {np.dtype(dtype)}: its weights are too small for it")
    return converted


def packed_mask_rows(a, b, mask) -> kernels.MaskRows:
    """:func:`~.kernels.mask_rows`, raising :func:`~.validation.check_mask`'s error for a bad mask value.

    Its one pass flags any value that check_mask rejects, which then names it.
    """
    rows = kernels.mask_rows(a, b, mask)
    if not rows.valid:
        check_mask(mask, a.shape)
    return rows


def binned_sums(index, terms, n_bins: int, xp=np) -> np.ndarray:
    """Sums of a batch of per-voxel terms into bins, one bincount for the whole batch.

    Parameters
    ----------
    index : array of int, shape (V,)
        Bin of every voxel; values >= ``n_bins`` are dropped.
    terms : array, shape (S, V)
        S terms (or slices, boxes, frames) per voxel, on ``xp``.
    n_bins : int
        Number of bins kept.
    xp : module
        numpy or cupy.

    Returns
    -------
    ndarray of float64, shape (S, n_bins), on the host
    """
    n_terms = terms.shape[0]
    width = int(max(n_bins, int(index.max()) + 1 if index.size else 0))
    batched = (xp.asarray(index)[None, :] + width * xp.arange(n_terms)[:, None]).ravel()
    total = xp.bincount(batched, weights=terms.reshape(-1), minlength=n_terms * width)
    return to_host(total).reshape(n_terms, width)[:, :n_bins].astype(np.float64, copy=False)


class RadialProfile(NamedTuple):
    """Weighted means of values in bins of radius (:func:`radial_profile`).

    Attributes
    ----------
    counts : ndarray of float64, shape (n_bins,)
        Summed weight of the samples in each bin (their number without weights).
    means : ndarray of float64, shape (..., n_bins), or None
        Weighted mean of each row of values in each bin, NaN in an empty bin;
        None when no values were given.
    centres : ndarray, shape (n_bins,)
        Radius at the centre of each bin.
    """

    counts: np.ndarray
    means: np.ndarray | None
    centres: np.ndarray


def radial_profile(radius, values=None, width: float = 1.0, *, weights=None, centred: bool = True, reach=None,
                   n_bins=None) -> RadialProfile:
    """Radial average: the weighted mean of ``values`` in bins of ``radius``, every row of a batch in one bincount.

    Parameters
    ----------
    radius : ndarray, any shape
        Radius of every sample, any unit (e.g. :attr:`~.frequency.FourierGrid.radius`,
        or distances to a centre in real space), non-negative.
    values : ndarray, shape (..., *radius.shape), optional
        Values to average, one row per leading index (e.g. a power spectrum,
        or an image and the radius itself for the rings' mean radii).
    width : float
        Bin width, ``radius`` units.
    weights : ndarray, broadcastable to ``radius.shape``, optional
        Weight of every sample, e.g. the Hermitian multiplicity of an rfft
        column (:attr:`~.frequency.FourierGrid.weights`); default 1.
    centred : bool
        True: bin ``k`` holds radii in ``[(k - 1/2) width, (k + 1/2) width)``
        (centred on ``k width``, DC alone in bin 0); False: in ``[k width,
        (k + 1) width)``.
    reach : float, optional
        Samples farther than this (``radius > reach``) are left out.
    n_bins : int, optional
        Bins kept (samples beyond are left out); default up to the farthest sample's.

    Returns
    -------
    RadialProfile
        ``counts`` and ``centres`` of shape (n_bins,), ``means`` of shape (..., n_bins).
    """
    radius = np.asarray(radius)
    batch = () if values is None else np.shape(values)[: np.ndim(values) - radius.ndim]
    rows = [np.ones((1, radius.size)) if weights is None else
            np.broadcast_to(np.asarray(weights, dtype=np.float64), radius.shape).reshape(1, -1)]
    if values is not None:
        rows.append(np.asarray(values).reshape(-1, radius.size) * rows[0])
    index = np.floor(radius.reshape(-1) / width + (0.5 if centred else 0.0)).astype(np.intp)
    terms = np.concatenate(rows) if len(rows) > 1 else rows[0]
    if reach is not None:
        kept = radius.reshape(-1) <= reach
        index, terms = index[kept], terms[:, kept]
    n_bins = (int(index.max()) + 1 if index.size else 0) if n_bins is None else int(n_bins)
    sums = binned_sums(index, terms, n_bins)
    counts = sums[0]
    means = None
    if values is not None:
        means = np.divide(sums[1:], counts, out=np.full(sums[1:].shape, np.nan), where=counts > 0)
        means = means.reshape(*batch, n_bins)
    return RadialProfile(counts, means, (np.arange(n_bins) + (0 if centred else 0.5)) * width)


def ring_means(image, centre, width: float, *, pixel_size=1.0, centred: bool = True,
               reach=None) -> tuple[np.ndarray, np.ndarray]:
    """Mean distance and mean value of an image's pixels in rings around a point (:func:`radial_profile`).

    Parameters
    ----------
    image : ndarray, shape (Y, X) (any number of axes)
        The values.
    centre : sequence of float
        The point, pixel indices per axis (any real values).
    width : float
        Ring width, ``pixel_size`` units.
    pixel_size : float or sequence of float
        Pixel size, one value or one per axis.
    centred, reach
        As in :func:`radial_profile`; ``reach`` in ``pixel_size`` units.

    Returns
    -------
    radii, means : ndarray, shape (n_rings,)
        Mean distance (``pixel_size`` units) and mean value of every ring
        that holds a pixel, inner to outer.
    """
    sizes = np.broadcast_to(np.asarray(pixel_size, dtype=np.float64), (image.ndim,))
    offsets = [(index - c) * p for index, c, p in zip(np.indices(image.shape, dtype=float), centre, sizes)]
    radius = functools.reduce(np.hypot, offsets)
    counts, (radii, means), _ = radial_profile(radius, np.stack([radius, image]), width, centred=centred, reach=reach)
    filled = counts > 0
    return radii[filled], means[filled]


def _real_product(x, y):
    """``Re(x * conj(y))`` elementwise, in the real dtype of ``x``."""
    out = x.real * y.real
    out += x.imag * y.imag
    return out


def spectra_sums(spectrum1, spectrum2, geometry: ShellGeometry, xp=np) -> np.ndarray:
    """Shell sums of two rfft spectra: counts, Re F1 F2*, |F1|^2, |F2|^2, shape (4, n_shells).

    The array path (GPU, or CPU without numba): each per-voxel term is folded
    over mirrored rows (same shells), weighted by its Hermitian multiplicity
    and scattered into shells. Spectra with a leading batch axis (B, ...)
    (e.g. boxes of a local FSC) give (B, 4, n_shells), in one bincount.
    """
    batched = spectrum1.ndim > len(geometry.shape)
    columns = xp.asarray(hermitian_weights(geometry.shape[-1]), dtype=spectrum1.real.dtype)
    index, counts = folded_shells(geometry)
    terms = []
    for x, y in ((spectrum1, spectrum2), (spectrum1, spectrum1), (spectrum2, spectrum2)):
        values = fold_mirrored(_real_product(x, y), xp, first_axis=int(batched))
        values *= columns
        terms.append(values.reshape(-1, index.size))
    n_shells = geometry.n_shells
    sums = binned_sums(index, xp.concatenate(terms), n_shells, xp).reshape(3, -1, n_shells)
    full = np.concatenate([np.broadcast_to(counts.astype(np.float64), (1, sums.shape[1], n_shells)), sums])
    return np.moveaxis(full, 1, 0) if batched else full[:, 0]


def correlation_sums(a, b, geometry: ShellGeometry, xp, path: str, *, windows=None, mask=None,
                     progress=None) -> np.ndarray:
    """Per-shell sums of two images after mean subtraction and a window or mask.

    Parameters
    ----------
    a, b : array, shape ``geometry.shape``
        Images of the working dtype on ``xp`` (not modified).
    geometry : ShellGeometry
        Shells of the full spectrum.
    xp : module
        numpy or cupy.
    path : str
        From :func:`compute_path`.
    windows : sequence of 1-D ndarray, optional
        Separable window, one per axis (used when ``mask`` is None).
    mask : array, optional
        Real-space weights from :func:`working_mask`; replaces the window.
    progress : callable, optional
        Receives the completed fraction.

    Returns
    -------
    ndarray, shape (4, n_shells), float64
        Counts, Re F1 F2*, |F1|^2, |F2|^2 per shell (full-spectrum multiplicities).

    Notes
    -----
    Values so large or so small that the spectra's products overflow or
    underflow (:func:`sums_in_range`) are found in the sums; the two images
    are then scaled to a peak of 1 (:func:`unit_peak`) and summed again: the
    correlation does not depend on their scales.
    """
    progress = progress_of(progress)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        sums = _correlation_sums(a, b, geometry, xp, path, windows, mask, progress)
    if sums_in_range(sums, a.dtype):
        return sums
    return _correlation_sums(unit_peak(a), unit_peak(b), geometry, xp, path, windows, mask, progress)


def sums_in_range(sums, dtype) -> bool:
    """Whether shell sums (counts, cross, power1, power2) are finite and each power well above underflow.

    ``dtype`` is the images' working dtype: a largest shell power below the
    square root of its smallest normal number means products were lost to underflow.
    """
    finite = bool(np.isfinite(sums).all())
    return finite and float(np.min(np.max(sums[2:], axis=1))) > float(np.finfo(dtype).tiny) ** 0.5


def unit_peak(image):
    """``image`` divided by its largest absolute value (itself if that is 0): a scale its spectrum's squares fit."""
    peak = max(float(image.max()), -float(image.min()))
    return image / image.dtype.type(peak) if peak > 0 else image


def _correlation_sums(a, b, geometry: ShellGeometry, xp, path: str, windows, mask, progress) -> np.ndarray:
    """:func:`correlation_sums` for images of any scale, computed once."""
    if path != "numba":
        return _array_sums(a, b, geometry, xp, windows, mask, progress)
    complex_dtype = np.result_type(a.dtype, np.complex64)
    if mask is None:
        packed, support = kernels.pack_windowed(a, b, windows, complex_dtype), None
    else:
        rows = packed_mask_rows(a, b, mask)
        packed, support = kernels.pack_masked(a, b, mask, rows, complex_dtype), rows.support
    progress(0.2)
    spectrum = fftn_inplace(packed, support, progress.part(0.2, 0.8) if progress.reports else None)
    sums = kernels.packed_shell_sums(spectrum, geometry.squared_coordinates("packed"), geometry.n_shells)
    progress(1.0)
    return sums


def _weighted_mean(image, windows, mask) -> float:
    """Mean of ``image`` weighted by the mask or the separable window.

    Subtracting it makes the windowed image sum to exactly zero, so no DC
    leaks into the first shells.
    """
    if mask is not None:
        return float((image * mask).sum() / mask.sum())
    if windows is None:
        return float(image.mean())
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
    for axis, w in enumerate(windows or ()):
        shape = [1] * out.ndim
        shape[axis] = w.size
        out *= w.reshape(shape)
    return out


def windowed_spectrum(image, xp, windows=None, mask=None):
    """rfft of ``(image - mean) * window``: the spectrum every Fourier correlation compares.

    Parameters
    ----------
    image : array
        Image of the working dtype on ``xp`` (not modified).
    xp : module
        numpy or cupy.
    windows : sequence of 1-D array, optional
        Separable window, one per axis, on ``xp`` (used when ``mask`` is None).
    mask : array, optional
        Real-space weights (:func:`working_mask`); replaces the window.
        With neither, only the mean is removed.

    Returns
    -------
    array, complex, shape of the rfft of ``image``
        The weighted mean (by window or mask) is removed first, so no DC leaks into the first shells.
    """
    mean = _weighted_mean(image, windows, mask)
    return rfftn(_windowed(image, mean, xp, windows, mask))  # the windowed copy dies here


def _array_sums(a, b, geometry: ShellGeometry, xp, windows, mask, progress):
    """Array version of :func:`correlation_sums` (numpy or cupy): two real FFTs, then :func:`spectra_sums`."""
    if windows is not None:
        windows = [xp.asarray(w, dtype=a.dtype) for w in windows]
    spectra = []
    for image in (a, b):
        spectra.append(windowed_spectrum(image, xp, windows, mask))
        progress(0.4 * len(spectra))
    sums = spectra_sums(*spectra, geometry, xp)
    progress(1.0)
    return sums


def curve_from_sums(sums) -> tuple[np.ndarray, np.ndarray]:
    """Shell counts and correlation from shell sums (counts, cross, power1, power2).

    Shells without power get NaN; a DC-only first shell gets 1 by convention
    (the means are removed, so its own value is meaningless).

    Parameters
    ----------
    sums : ndarray, shape (4, ..., n_shells)
        Counts, Re A B*, |A|^2, |B|^2 (of one pair, or of a batch along the middle axes).

    Returns
    -------
    n_points : ndarray of int64, shape (..., n_shells)
    correlation : ndarray of float64, shape (..., n_shells)
    """
    counts, cross, power1, power2 = sums
    n_points = np.rint(counts).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        correlation = cross / (np.sqrt(power1) * np.sqrt(power2))  # the product of two large powers overflows
    correlation[~np.isfinite(correlation)] = np.nan
    correlation[..., 0] = np.where(n_points[..., 0] == 1, 1.0, correlation[..., 0])
    return n_points, correlation


def identical_inputs_warnings(correlation) -> tuple:
    """A warning when ``correlation`` is 1 in every shell past DC: the same image twice measures nothing.

    Parameters
    ----------
    correlation : ndarray, shape (n_shells,)
        A Fourier correlation curve (of the unmasked inputs).

    Returns
    -------
    tuple of str
        The warning, or nothing.
    """
    if not np.all(correlation[1:] > 1 - IDENTICAL_TOLERANCE):
        return ()
    return ("the correlation is 1 in every shell: the two inputs are the same image (the same file or layer "
            "twice?); a resolution needs two independent halves",)
