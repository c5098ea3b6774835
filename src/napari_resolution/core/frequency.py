"""Frequency grids, shell indices, windows and half-spectrum weights: the one Fourier grid of the package.

Conventions (see ``docs/conventions.md``):

* Arrays are ``(rows, cols)`` or ``(slices, rows, cols)``; pixel sizes are per
  axis in the same order and in one physical unit.
* Shells are spheres in *physical* frequency, so odd, non-square and
  anisotropic grids are binned correctly. The shell spacing is the finest
  Fourier sampling step, ``1 / max(n_i * p_i)``, times ``ring_thickness``.
* Frequencies are reported in cycles per *reference pixel*, the largest pixel
  size, so that 0.5 is the Nyquist frequency of the coarsest axis: the radius of
  the largest sphere the grid samples in every direction. Corners beyond it are
  not a shell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property, lru_cache
from numbers import Real

import numpy as np

from .validation import shown

__all__ = [
    "PIXEL_SIZE_RANGE",
    "WRAP_Z",
    "FourierGrid",
    "ShellGeometry",
    "edges_wrap",
    "fold_mirrored",
    "folded_shells",
    "frequency_axes",
    "hermitian_weights",
    "normalize_pixel_size",
    "shell_geometry",
    "shell_counts",
    "shell_index",
    "tukey_window",
]


#: Smallest and largest pixel size: beyond, squared distances and frequencies overflow float64.
PIXEL_SIZE_RANGE = (1e-100, 1e100)


def normalize_pixel_size(pixel_size, ndim: int, name: str = "pixel_size") -> tuple[float, ...]:
    """Return ``pixel_size`` as a tuple of ``ndim`` positive floats.

    Parameters
    ----------
    pixel_size : float or sequence of float
        One size for every axis, or one per axis in array order.
    ndim : int
        Number of array axes.
    name : str
        Argument name used in error messages.

    Raises
    ------
    ValueError
        If a size is not a number in :data:`PIXEL_SIZE_RANGE` (any unit) or
        the count is wrong.
    """
    if isinstance(pixel_size, Real) and not isinstance(pixel_size, bool):
        sizes = (float(pixel_size),) * ndim
    else:
        try:
            if isinstance(pixel_size, (str, bytes)):  # not a sequence of its characters
                raise TypeError
            sizes = tuple(float(p) for p in pixel_size)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} must be a positive number or one per axis, got {shown(pixel_size)}"
            ) from None
        if len(sizes) != ndim:
            raise ValueError(
                f"{name} has {len(sizes)} values but the data has {ndim} axes"
            )
    low, high = PIXEL_SIZE_RANGE
    if not all(low <= p <= high for p in sizes):
        raise ValueError(f"{name} must be finite and positive (from {low:g} to {high:g} in any unit), "
                         f"got {shown(pixel_size)}")
    return sizes


@dataclass(frozen=True)
class ShellGeometry:
    """How the Fourier grid of an array is binned into shells.

    Attributes
    ----------
    shape : tuple of int
        Real-space shape of the data.
    pixel_size : tuple of float
        Pixel size per axis (physical units).
    ring_thickness : int
        Shell width in Fourier sampling steps.
    spacing : float
        Shell width in cycles per physical unit.
    reference_pixel : float
        Largest pixel size; frequencies are in cycles per reference pixel.
    n_shells : int
        Shells from DC (index 0) to Nyquist of the coarsest axis.
    """

    shape: tuple[int, ...]
    pixel_size: tuple[float, ...]
    ring_thickness: int
    spacing: float
    reference_pixel: float
    n_shells: int

    @property
    def frequency(self) -> np.ndarray:
        """Shell centres in cycles per reference pixel, shape ``(n_shells,)``."""
        return np.arange(self.n_shells) * self.spacing * self.reference_pixel

    def axis_coordinates(self, half: bool = True) -> list[np.ndarray]:
        """Per-axis frequencies in shell units (float64), FFT order.

        With ``half=True`` the last axis is the non-negative half of an rfft.
        Beyond ``n_shells`` (past Nyquist, along the finer axes of very
        anisotropic pixels) values are clipped to ``n_shells``: still past
        Nyquist, and their squares cannot overflow a shell index.
        """
        coords = []
        for freqs in frequency_axes(self.shape, self.pixel_size, half):
            with np.errstate(over="ignore"):
                coords.append(np.clip(freqs / self.spacing, -self.n_shells, self.n_shells))
        return coords


    def squared_coordinates(self, layout: str = "half") -> list[np.ndarray]:
        """Per-axis squared frequencies in shell units, for a compiled kernel.

        ``layout`` "half": the rfft layout; "packed": a full complex spectrum
        of which only the non-negative half of the last axis is visited.
        """
        coords = self.axis_coordinates(half=layout == "half")
        if layout == "packed":
            coords[-1] = coords[-1][: self.shape[-1] // 2 + 1]
        return [c * c for c in coords]


def frequency_axes(shape, spacing=1.0, half: bool = True) -> list[np.ndarray]:
    """The sampled frequencies of each axis of a grid's spectrum, in FFT order.

    Parameters
    ----------
    shape : tuple of int
        Real-space shape, any number of axes.
    spacing : float or sequence of float
        Sample spacing, one value or one per axis (physical units).
    half : bool
        True for the rfft layout: the last axis holds its non-negative
        frequencies only, ``shape[-1] // 2 + 1`` of them.

    Returns
    -------
    list of ndarray, float64
        Per axis, shape ``(n,)`` (the halved last axis ``(n // 2 + 1,)``),
        cycles per ``spacing`` unit: ``np.fft.fftfreq(n, d=spacing)``.
    """
    spacings = normalize_pixel_size(spacing, len(shape), "spacing")
    last = len(shape) - 1
    return [np.fft.rfftfreq(n, d=h) if half and axis == last else np.fft.fftfreq(n, d=h)
            for axis, (n, h) in enumerate(zip(shape, spacings))]


class FourierGrid:
    """The rfft spectrum of a periodic grid: per-axis frequencies, radius and Hermitian weights.

    Any spacing per axis, so the same class serves a map (its pixel
    sizes), a crop of its spectrum (a coarser spacing over the same extent)
    and a rescaled grid.

    Parameters
    ----------
    shape : tuple of int
        Real-space shape, any number of axes.
    spacing : float or sequence of float
        Sample spacing, one value or one per axis (physical units).
    scale : float
        Factor applied to every frequency: 1 gives cycles per ``spacing``
        unit; the reference pixel gives cycles per reference pixel; ``n``
        gives frequency samples of an ``n``-point axis of spacing 1.
    xp : module
        numpy or cupy: where the arrays live.
    dtype : dtype
        Real dtype of the arrays (float32 or float64).

    Attributes
    ----------
    shape : tuple of int
        Real-space shape.
    components : list of array
        Per axis, its frequencies (times ``scale``) shaped to broadcast
        against the spectrum, shape ``(1, ..., n_axis, ..., 1)`` (the last
        axis ``n // 2 + 1`` long).
    radius : array, shape of the rfft spectrum
        ``sqrt(sum of squared components)``, same units.
    """

    def __init__(self, shape, spacing=1.0, scale: float = 1.0, xp=np, dtype=np.float64):
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype)
        self.xp = xp
        self.components = []
        for axis, freqs in enumerate(frequency_axes(self.shape, spacing)):
            view = [-1 if a == axis else 1 for a in range(len(self.shape))]
            self.components.append(xp.asarray((freqs * scale).astype(self.dtype).reshape(view)))
        self.radius = xp.sqrt(self.squared_radius())

    @property
    def size(self) -> int:
        """Number of real-space samples."""
        return math.prod(self.shape)

    def squared_radius(self):
        """The squared radius, a new array of the rfft spectrum's shape (the sum of the squared components)."""
        return sum(c * c for c in self.components)

    @cached_property
    def inverse_radius(self):
        """``1 / radius``, 0 at DC; the rfft spectrum's shape, made on first use."""
        xp, tiny = self.xp, self.radius.dtype.type(1e-30)
        return xp.where(self.radius > 0, 1 / xp.maximum(self.radius, tiny), 0).astype(self.dtype)

    @property
    def weights(self) -> np.ndarray:
        """Hermitian multiplicity of each rfft column (:func:`hermitian_weights`), shape ``(n_last // 2 + 1,)``:
        broadcasts against :attr:`radius` to weigh every sample by the full-spectrum voxels it stands for."""
        return hermitian_weights(self.shape[-1])


def shell_geometry(shape, pixel_size=1.0, ring_thickness: int = 1) -> ShellGeometry:
    """Build the :class:`ShellGeometry` for an array of ``shape``.

    Parameters
    ----------
    shape : tuple of int
        Real-space shape, 2-D or 3-D.
    pixel_size : float or sequence of float
        Pixel size, one value or one per axis.
    ring_thickness : int
        Shell width in Fourier sampling steps, from 1 to a quarter of the
        steps up to Nyquist (at least 4 shells).

    Raises
    ------
    ValueError
        A bad pixel size, or a ring thickness that is not an integer in
        that range.
    """
    shape = tuple(int(n) for n in shape)
    sizes = normalize_pixel_size(pixel_size, len(shape))
    if isinstance(ring_thickness, bool) or not isinstance(ring_thickness, (int, np.integer)):
        raise ValueError(f"ring_thickness must be an integer >= 1, got {shown(ring_thickness)}")
    if ring_thickness < 1:
        raise ValueError(f"ring_thickness must be an integer >= 1, got {ring_thickness}")
    step = 1.0 / max(n * p for n, p in zip(shape, sizes))
    spacing = step * int(ring_thickness)
    reference = max(sizes)
    nyquist = 0.5 / reference
    n_shells = int(np.floor(nyquist / spacing + 1e-9)) + 1
    widest = max(1, int(np.floor(nyquist / step + 1e-9)) // 4)
    if ring_thickness > widest:
        raise ValueError(f"ring_thickness must be at most {widest} (a quarter of the {4 * widest} Fourier steps up "
                         f"to Nyquist) for shape {shape}, got {ring_thickness}")
    return ShellGeometry(shape, sizes, int(ring_thickness), spacing, reference, n_shells)


def shell_index(geometry: ShellGeometry, xp=np, half: bool = True):
    """Shell index of every Fourier voxel (nearest shell centre).

    Parameters
    ----------
    geometry : ShellGeometry
        Binning of the grid.
    xp : module
        numpy or cupy: where the index array is built.
    half : bool
        True for the rfft layout (last axis halved), False for the full grid.

    Returns
    -------
    array of intp
        Shape of the spectrum; values >= ``geometry.n_shells`` lie beyond Nyquist.
    """
    coords = geometry.axis_coordinates(half=half)
    ndim = len(coords)
    radius_sq = None
    for axis, c in enumerate(coords):
        shape = [1] * ndim
        shape[axis] = c.size
        term = xp.asarray(c * c).reshape(shape)
        radius_sq = term if radius_sq is None else radius_sq + term
    return xp.floor(xp.sqrt(radius_sq) + 0.5).astype(xp.intp)


def hermitian_weights(n_last: int):
    """Multiplicity of each rfft column in the full spectrum.

    Parameters
    ----------
    n_last : int
        Real-space length of the last axis.

    Returns
    -------
    ndarray, shape ``(n_last // 2 + 1,)``
        2 for interior columns, 1 for column 0 and, for even ``n_last``, the
        Nyquist column (they are their own conjugate partners).
    """
    weights = np.full(n_last // 2 + 1, 2.0)
    weights[0] = 1.0
    if n_last % 2 == 0:
        weights[-1] = 1.0
    return weights


def tukey_window(n: int, width: int) -> np.ndarray:
    """1-D Tukey window: flat top, raised-cosine taper of ``width`` pixels per end.

    Parameters
    ----------
    n : int
        Window length in pixels.
    width : int
        Taper length in pixels at each end; 0 gives all ones. Must not exceed
        ``n // 2``.

    Returns
    -------
    ndarray, shape ``(n,)``, float64
        Values in (0, 1]; sample ``i`` of the taper is
        ``sin^2(pi/2 * (i + 0.5) / width)``, symmetric about the centre.
    """
    window = np.ones(n)
    if width > 0:
        ramp = np.sin(0.5 * np.pi * (np.arange(width) + 0.5) / width) ** 2
        window[:width] = ramp
        window[n - width:] = ramp[::-1]
    return window


#: An axis whose wrap-around step correlates the two images this many standard errors more than
#: the steps next to it does not wrap (one-sided; about 0.6 % of periodic axes are tapered needlessly).
WRAP_Z = 2.5
#: Boundary samples per axis the wrap test reads at most.
WRAP_SAMPLES = 4096


def edges_wrap(a, b, xp=np) -> tuple[bool, ...]:
    """Per axis: do two images continue across their opposite edges as they do across any two rows?

    A crop of a larger field jumps where its last row meets its first, and the
    jump is common to both images (it is signal): their spectra then share a
    correlated cross that an edge taper must remove. A periodic image (a
    simulation, a map whose box edges are flat solvent) has no such jump, and
    a taper would only smear its steep low-frequency signal into higher
    shells. The test compares, across the boundary samples, the product of
    the two images' wrap-around steps ``(u[-1] - u[0])`` with the product of
    their steps next to the edges (``u[1] - u[0]``, ``u[-1] - u[-2]``); noise,
    independent in the two images, cancels in expectation.

    Parameters
    ----------
    a, b : array, same shape
        The two images (numpy or cupy); only the two planes at each end of
        every axis are read.
    xp : module
        numpy or cupy.

    Returns
    -------
    tuple of bool
        True for an axis whose edges wrap (no taper needed).
    """
    return tuple(bool(_wrap_statistic(a, b, axis, xp) < WRAP_Z) for axis in range(a.ndim))


def _edge_planes(image, axis: int):
    """The planes 0, 1, -2, -1 along ``axis`` as float64, shape (4, M), at most :data:`WRAP_SAMPLES` per plane.

    Larger planes are thinned along their first axis: the test needs a few
    thousand samples, not a pass over a 256^3 map's faces.
    """
    other = 1 if axis == 0 else 0
    step = -(-int(np.prod(image.shape)) // image.shape[axis] // WRAP_SAMPLES)
    thinned = tuple(slice(None, None, step) if d == other else slice(None) for d in range(image.ndim))
    planes = image[thinned].take([0, 1, -2, -1], axis=axis)
    planes = planes.reshape(*planes.shape[:axis], 4, -1).swapaxes(0, axis).reshape(4, -1).astype(np.float64)
    peak = float(abs(planes).max())  # the test is scale-free: scaled to 1, huge values cannot overflow it
    return planes / peak if peak > 0 else planes


def _wrap_statistic(a, b, axis: int, xp) -> float:
    """z-score of (wrap-step product - neighbour-step product) over the boundary samples of ``axis``."""
    a0, a1, a2, a3 = _edge_planes(a, axis)
    b0, b1, b2, b3 = _edge_planes(b, axis)
    excess = (a3 - a0) * (b3 - b0) - 0.5 * ((a1 - a0) * (b1 - b0) + (a3 - a2) * (b3 - b2))
    spread = float(xp.std(excess, ddof=1)) / np.sqrt(excess.size)
    mean = float(xp.mean(excess))
    if spread == 0:
        return 0.0 if mean <= 0 else np.inf
    return mean / spread


def shell_counts(geometry: ShellGeometry) -> np.ndarray:
    """Fourier voxels per shell of the full spectrum, shape ``(n_shells,)``, int64."""
    index = shell_index(geometry, np, half=False)
    return np.bincount(index.ravel(), minlength=geometry.n_shells)[: geometry.n_shells].astype(np.int64)


def fold_mirrored(values, xp=np, first_axis: int = 0):
    """Sum each row of the non-last axes with its mirror row (k with -k).

    A shell index depends on ``|k|`` only, so on an rfft spectrum rows ``i``
    and ``n - i`` of every axis but the last share their shells. Folding them
    first shrinks what a shell sum must scatter (4x in 3-D, 2x in 2-D).

    Parameters
    ----------
    values : array, shape (..., m)
        Per-voxel values on the rfft layout.
    xp : module
        numpy or cupy.
    first_axis : int
        First axis to fold (1 for a stack of images along axis 0).

    Returns
    -------
    array, shape (n0 // 2 + 1, ..., m)
        New array; row 0 (and, for even lengths, row n / 2) is its own mirror.
    """
    for axis in range(first_axis, values.ndim - 1):
        rows = xp.moveaxis(values, axis, 0)
        n, kept = rows.shape[0], rows.shape[0] // 2 + 1
        folded = rows[:kept].copy()
        folded[1 : n - kept + 1] += rows[: kept - 1 : -1]
        values = xp.moveaxis(folded, 0, axis)
    return values


def _mirror_multiplicity(n: int) -> np.ndarray:
    """How many rows of an axis of length ``n`` each folded row stands for."""
    kept = n // 2 + 1
    multiplicity = np.ones(kept)
    multiplicity[1 : n - kept + 1] = 2
    return multiplicity


@lru_cache(maxsize=8)
def folded_shells(geometry: ShellGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Shell index of the folded rfft spectrum and the full-spectrum shell counts.

    Cached per geometry, so repeated runs on data of one shape skip it.

    Returns
    -------
    index : ndarray of intp, shape of :func:`fold_mirrored` output, flattened
        Shell of every folded voxel (values >= n_shells lie beyond Nyquist).
    counts : ndarray of int64, shape (n_shells,)
        Fourier voxels per shell of the full spectrum.
    """
    coords = geometry.axis_coordinates(half=True)
    kept = [np.abs(c[: n // 2 + 1]) for c, n in zip(coords[:-1], geometry.shape[:-1])] + [coords[-1]]
    grids = np.meshgrid(*[c * c for c in kept], indexing="ij", sparse=True)
    index = np.floor(np.sqrt(sum(grids)) + 0.5).astype(np.intp).ravel()
    weights = [_mirror_multiplicity(n) for n in geometry.shape[:-1]] + [hermitian_weights(geometry.shape[-1])]
    multiplicity = np.ones(1)
    for w in weights:
        multiplicity = np.multiply.outer(multiplicity, w)
    counts = np.bincount(index, weights=multiplicity.ravel(), minlength=geometry.n_shells)
    counts = np.rint(counts[: geometry.n_shells]).astype(np.int64)
    index.flags.writeable = False
    counts.flags.writeable = False
    return index, counts
