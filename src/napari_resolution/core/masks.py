"""Solvent and spherical masks (after RELION's relion_mask_create and recovar.core.mask).

All masks are float32 arrays in [0, 1] computed on the CPU (distance
transforms, labelling and Otsu's threshold are host operations); a cupy input
is moved to the host first. Distances (``lowpass_sigma``, ``extend``,
``soft_edge``, ``radius``) are in ``pixel_size`` units, pixels by default, so
anisotropic voxels give round masks in physical space.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
from scipy import ndimage

from .backend import check_allocation, in_memory, to_host
from .frequency import normalize_pixel_size
from .validation import check_image, check_same_shape, shown, working_dtype

#: Bytes per voxel a spherical mask holds at its peak (its float64 distances and taper; measured with tracemalloc).
SPHERE_BYTES = 32
#: Bytes per voxel :func:`make_mask` holds at its peak (low-passed map, distance transforms; measured 55 to 59).
MASK_BYTES = 64

__all__ = [
    "average_maps",
    "lowpass_map",
    "make_mask",
    "mask_from_half_maps",
    "mask_threshold",
    "raised_cosine_mask",
    "soft_mask_outside_map",
    "soften_mask",
    "spherical_mask",
    "thresholded_region",
]


def _distance_from_center(shape, center, sizes) -> np.ndarray:
    """Euclidean distance (physical units) of every voxel from ``center`` (voxel coordinates).

    A centre far outside the box gives infinite distances (its squares overflow), hence zero mask values.
    """
    center = tuple(n // 2 for n in shape) if center is None else _coordinates(center, len(shape))
    with np.errstate(over="ignore"):
        axes = [(np.arange(n) - c) * p for n, c, p in zip(shape, center, sizes)]
        grids = np.meshgrid(*[a * a for a in axes], indexing="ij", sparse=True)
        return np.sqrt(sum(grids))


def _coordinates(center, ndim: int) -> tuple[float, ...]:
    """``center`` as ``ndim`` finite floats, or a ValueError naming it."""
    values = tuple(center) if isinstance(center, (tuple, list, np.ndarray)) else ()
    if len(values) != ndim or not all(isinstance(c, Real) and math.isfinite(c) for c in values):
        raise ValueError(f"center must be {ndim} finite voxel coordinates, got {shown(center)}")
    return tuple(float(c) for c in values)


def _real(value, name: str, minimum: float = 0.0) -> float:
    """``value`` as a finite float >= ``minimum``, or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, Real) or not minimum <= value < math.inf:
        bound = "" if minimum == -math.inf else f" >= {minimum:g}"
        raise ValueError(f"{name} must be a finite number{bound}, got {shown(value)}")
    return float(value)


def _host_float32(volume, name: str = "volume") -> np.ndarray:
    """``volume`` as a 2-D or 3-D float32 array on the host, or a ValueError naming ``name``.

    Not a copy when it already is one; values beyond the float32 range (which
    would turn into Inf) are refused.
    """
    shape = getattr(volume, "shape", None)
    if shape is None or len(shape) not in (2, 3) or not hasattr(volume, "dtype"):
        raise ValueError(f"{name} must be a 2-D or 3-D array, got {type(volume).__name__} of shape {shape}")
    try:
        working_dtype(volume.dtype)
    except ValueError as err:
        raise ValueError(f"{name}: {err}") from None
    data = np.asarray(to_host(volume))
    with np.errstate(over="ignore"):
        single = data.astype(np.float32, copy=False)
    if not np.isfinite(single).all() and np.isfinite(data).all():
        raise ValueError(f"{name} has values beyond the float32 range (about 3.4e38): rescale it")
    return single


def _cosine_taper(distance, width: float) -> np.ndarray:
    """1 at distance <= 0, raised cosine down to 0 at ``width``, 0 beyond (float32)."""
    distance = np.asarray(distance, dtype=np.float64)
    if width <= 0:
        return (distance <= 0).astype(np.float32)
    with np.errstate(over="ignore"):  # a width of a few denormals
        ramp = 0.5 * (1 + np.cos(np.pi * np.clip(distance / width, 0, 1)))
    return ramp.astype(np.float32)


def raised_cosine_mask(shape, radius: float, radius_p: float, *, center=None, pixel_size=1.0) -> np.ndarray:
    """1 inside ``radius``, raised-cosine fall to 0 at ``radius_p``, 0 beyond.

    Parameters
    ----------
    shape : tuple of int
        2-D (gives a disc) or 3-D.
    radius, radius_p : float
        Inner (full value) and outer (zero) radius, pixel_size units; ``radius_p >= radius``.
    center : sequence of float, optional
        Centre in voxel coordinates; default ``n // 2`` on every axis (the FFT centre).
    pixel_size : float or sequence of float
        Voxel size per axis.

    Returns
    -------
    ndarray of float32, shape ``shape``
    """
    shape = _check_shape(shape)
    sizes = normalize_pixel_size(pixel_size, len(shape))
    radius = _real(radius, "radius")
    radius_p = _real(radius_p, "radius_p", minimum=radius)
    check_allocation(SPHERE_BYTES * math.prod(shape), f"shape {shape}", "make a smaller mask")
    distance = _distance_from_center(shape, center, sizes)
    return _cosine_taper(distance - radius, radius_p - radius)


def spherical_mask(shape, radius=None, soft_edge: float = 0, center=None, *, pixel_size=1.0) -> np.ndarray:
    """A sphere (disc in 2-D) of ``radius`` with an optional raised-cosine edge outside it.

    ``radius`` defaults to the largest that fits in the box with its soft edge:
    ``min(n_i * p_i) / 2 - soft_edge`` (pixel_size units).
    """
    shape = _check_shape(shape)
    sizes = normalize_pixel_size(pixel_size, len(shape))
    soft_edge = _real(soft_edge, "soft_edge")
    if radius is None:
        radius = min(n * p for n, p in zip(shape, sizes)) / 2 - soft_edge
        if radius <= 0:
            raise ValueError(f"soft_edge ({soft_edge}) leaves no room for a sphere in a box of shape {shape}")
    radius = _real(radius, "radius")
    if not math.isfinite(radius + soft_edge):
        raise ValueError(f"radius ({radius:g}) plus soft_edge ({soft_edge:g}) must be finite")
    return raised_cosine_mask(shape, radius, radius + soft_edge, center=center, pixel_size=sizes)


def soften_mask(binary, width: float, *, pixel_size=1.0) -> np.ndarray:
    """Raised-cosine soft edge of ``width`` outside a binary mask.

    Voxels inside stay 1; outside, the value falls with the Euclidean distance
    to the region as ``(1 + cos(pi d / width)) / 2``, reaching 0 at ``width``.
    """
    kind = np.dtype(getattr(binary, "dtype", object)).kind
    if getattr(binary, "ndim", 0) < 1 or kind not in "biuf":
        raise ValueError(f"binary must be an array of booleans (or numbers), got {type(binary).__name__} "
                         f"of shape {getattr(binary, 'shape', None)}")
    binary = np.asarray(to_host(binary)).astype(bool)
    if not binary.any():
        raise ValueError("binary mask is empty: nothing to soften")
    width = _real(width, "width")
    sizes = normalize_pixel_size(pixel_size, binary.ndim)
    _check_within_box(("width", width), shape=binary.shape, sizes=sizes)
    distance = ndimage.distance_transform_edt(~binary, sampling=sizes)
    return _cosine_taper(distance, width)


@in_memory("volume")
def make_mask(
    volume,
    *,
    threshold="auto",
    lowpass_sigma=None,
    extend=None,
    soft_edge: float = 3,
    cleanup: bool = True,
    pixel_size=1.0,
    return_binary: bool = False,
):
    """Soft solvent mask of a map: low-pass, threshold, clean up, extend, soft edge.

    Parameters
    ----------
    volume : array, shape (Y, X) or (Z, Y, X)
        The map (e.g. the average of two half-maps). Not modified.
    threshold : "auto" or float
        "auto": Otsu's threshold of the low-passed map inside the inscribed
        sphere; a number: that density value.
    lowpass_sigma : float, optional
        Gaussian low-pass width (pixel_size units) before thresholding. None:
        ``max(2, N // 64)`` pixels (N the largest axis); 0: no low-pass.
    extend : float, optional
        Euclidean extension of the binary region (pixel_size units). None:
        ``ceil(6 N / 128)`` pixels; 0: none.
    soft_edge : float
        Width of the raised-cosine edge outside the extended region.
    cleanup : bool
        Fill holes and keep only the largest connected component.
    pixel_size : float or sequence of float
        Voxel size per axis.
    return_binary : bool
        Also return the binary region (after extension, before softening).

    Returns
    -------
    ndarray of float32 in [0, 1], or (soft, binary)

    Raises
    ------
    ValueError
        Constant, empty or non-finite input, or a threshold that selects no voxel.
    """
    check_image(volume, "volume")
    check_allocation(MASK_BYTES * math.prod(volume.shape), f"volume ({shown(tuple(volume.shape))} voxels)",
                     "crop or bin it")
    data = _host_float32(volume)
    sizes = normalize_pixel_size(pixel_size, data.ndim)
    grow = np.ceil(6 * max(data.shape) / 128) * min(sizes) if extend is None else _real(extend, "extend")
    soft_edge = _real(soft_edge, "soft_edge")
    _check_within_box(("extend", grow), ("soft_edge", soft_edge), shape=data.shape, sizes=sizes)
    smooth = lowpass_map(data, lowpass_sigma, pixel_size=sizes)
    level = mask_threshold(smooth, threshold, pixel_size=sizes)
    binary = thresholded_region(smooth, level, pixel_size=sizes)
    if cleanup:
        binary = _largest_component(ndimage.binary_fill_holes(binary))
    if not binary.any():
        raise ValueError(f"threshold {level:.4g} selects no voxel inside the inscribed sphere: lower it")
    if grow > 0:
        binary = ndimage.distance_transform_edt(~binary, sampling=sizes) <= grow
    soft = soften_mask(binary, soft_edge, pixel_size=sizes)
    return (soft, binary) if return_binary else soft


@in_memory("volume")
def lowpass_map(volume, lowpass_sigma=None, *, pixel_size=1.0) -> np.ndarray:
    """The low-passed map :func:`make_mask` thresholds (float32, on the host).

    Parameters
    ----------
    volume : array, shape (Y, X) or (Z, Y, X)
        The map (not modified).
    lowpass_sigma : float, optional
        Gaussian width (pixel_size units). None: ``max(2, N // 64)`` pixels
        (N the largest axis); 0: no low-pass.
    pixel_size : float or sequence of float
        Voxel size per axis.

    Raises
    ------
    ValueError
        Not a 2-D or 3-D real array, values beyond float32, a bad pixel
        size, or a ``lowpass_sigma`` that is negative or wider than the box.
    """
    data = _host_float32(volume)
    sizes = normalize_pixel_size(pixel_size, data.ndim)
    sigma = max(2, max(data.shape) // 64) * min(sizes) if lowpass_sigma is None else _real(lowpass_sigma,
                                                                                           "lowpass_sigma")
    if any(sigma / p > n for n, p in zip(data.shape, sizes)):  # wider than the box: a flat map, a huge kernel
        raise ValueError(f"lowpass_sigma ({sigma:g}) must not exceed the box, {data.shape} voxels of {sizes}")
    return ndimage.gaussian_filter(data, [sigma / p for p in sizes]) if sigma > 0 else data


def mask_threshold(smooth, threshold="auto", *, pixel_size=1.0) -> float:
    """The density level :func:`make_mask` thresholds ``smooth`` (from :func:`lowpass_map`) at.

    "auto" is Otsu's threshold of the voxels inside the inscribed sphere; a
    number is returned as it is (checked finite).
    """
    smooth = _host_float32(smooth, "smooth")
    inside = spherical_mask(smooth.shape, pixel_size=pixel_size) > 0
    return _threshold_level(smooth, inside, threshold)


def thresholded_region(smooth, level: float, *, pixel_size=1.0) -> np.ndarray:
    """The voxels of ``smooth`` above ``level`` inside the inscribed sphere: the region make_mask starts from."""
    smooth = _host_float32(smooth, "smooth")
    level = _real(level, "level", minimum=-math.inf)
    above = smooth > np.float64(level)  # a float64 level, not cast to float32 (where 1e300 overflows)
    return above & (spherical_mask(smooth.shape, pixel_size=pixel_size) > 0)


@in_memory("half1", "half2")
def average_maps(half1, half2) -> np.ndarray:
    """The float32 average of two half-maps of the same shape (checked), on the host."""
    check_same_shape(half1, half2, ("half1", "half2"))
    check_image(half1, "half1")
    check_image(half2, "half2")
    return (_host_float32(half1, "half1") + _host_float32(half2, "half2")) / 2


@in_memory("half1", "half2")
def mask_from_half_maps(half1, half2, **kwargs):
    """:func:`make_mask` of the average of two half-maps (same shape); keywords are forwarded."""
    average = average_maps(half1, half2)
    check_image(average, "the average of half1 and half2")  # a half-map and its negative
    return make_mask(average, **kwargs)


@in_memory("volume")
def soft_mask_outside_map(volume, radius=None, width: float = 3, *, noise=None, pixel_size=1.0):
    """Replace the outside of a soft sphere by the background (RELION's softMaskOutsideMap).

    Parameters
    ----------
    volume : array
        The map (not modified).
    radius : float, optional
        Sphere radius (pixel_size units); default half the box minus ``width``.
    width : float
        Raised-cosine edge width.
    noise : float, optional
        Background value; default the mean of the map weighted by ``1 - mask``.

    Returns
    -------
    masked : ndarray of float32
        ``volume * mask + background * (1 - mask)``.
    mask : ndarray of float32
    """
    check_image(volume, "volume")
    data = _host_float32(volume)
    width, sizes = _real(width, "width"), normalize_pixel_size(pixel_size, data.ndim)
    if radius is None and width >= min(n * p for n, p in zip(data.shape, sizes)) / 2:
        raise ValueError(f"width ({width:g}) leaves no room for a sphere in a box of shape {data.shape}")
    mask = spherical_mask(data.shape, radius, width, pixel_size=sizes)
    outside = 1 - mask
    if noise is None:
        if outside.sum() == 0:
            raise ValueError(f"radius ({radius}) makes the sphere fill the box: no background left to estimate; "
                             "give noise= or a smaller radius")
        noise = float(np.sum(data * outside, dtype=np.float64) / outside.sum())
    elif not abs(_real(noise, "noise", minimum=-math.inf)) <= float(np.finfo(np.float32).max):
        raise ValueError(f"noise must lie in the float32 range, got {shown(noise)}")
    return data * mask + np.float32(noise) * outside, mask


def _check_within_box(*distances, shape, sizes) -> None:
    """ValueError naming the first of ``distances`` ((name, value) pairs, pixel_size units) longer than the box.

    A solvent mask extended, or softened, by more than the box's largest extent covers (nearly) the whole box:
    it masks nothing, and the FSC that uses it is the unmasked one with a taper.
    """
    extent = max(n * p for n, p in zip(shape, sizes))
    for name, value in distances:
        if value > extent:
            raise ValueError(f"{name} ({value:g}) is larger than the box ({shown(tuple(shape))} voxels of "
                             f"{shown(tuple(sizes))}: {extent:g} along its longest axis): the mask would cover the "
                             "whole box")


def _check_shape(shape) -> tuple[int, ...]:
    sizes = tuple(shape) if isinstance(shape, (tuple, list, np.ndarray)) else ()
    if len(sizes) not in (2, 3) or not all(isinstance(n, Integral) and not isinstance(n, bool) and n >= 1
                                             for n in sizes):
        raise ValueError(f"shape must be 2-D or 3-D with positive integer sizes, got {shown(shape)}")
    return tuple(int(n) for n in sizes)


def _threshold_level(smooth, inside, threshold) -> float:
    if isinstance(threshold, str):
        if threshold != "auto":
            raise ValueError(f"threshold must be 'auto' or a number, got {shown(threshold)}")
        from skimage.filters import threshold_otsu

        try:
            return float(threshold_otsu(smooth[inside]))
        except ValueError as err:  # non-finite values, or too narrow a range for its histogram
            raise ValueError(f"threshold 'auto' (Otsu) failed on the low-passed map ({err}): give a number") from None
    return _real(threshold, "threshold", minimum=-math.inf)


def _largest_component(binary) -> np.ndarray:
    labels, count = ndimage.label(binary)
    if count <= 1:
        return binary
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return labels == np.argmax(sizes)
