"""Directional (conical) Fourier shell correlation: the resolution along every direction, in one pass.

The FSC of the Fourier voxels in a double cone around a direction ``u`` (half
angle ``cone_angle``) gives the resolution along ``u`` (3DFSC, Tan et al.
2017; sectioned FSC, Koho et al. 2019). Every direction comes from one
transform of each half-map and one scatter of the spectra's products:

1. every Fourier voxel of the rfft half is binned by its shell (physical
   radius) and by its direction folded onto a hemisphere (a fine grid of
   ``THETA_BINS`` x ``PHI_BINS`` angular bins), in one bincount per product;
2. a (angular bin x cone) matrix holds the fraction of each bin inside each
   cone, so the cones' shell sums are one matrix product.

The cones overlap (a voxel counts in every cone it lies in), as in 3DFSC.
Voxels beyond the Nyquist frequency of their own direction (the ellipsoid
``sum (2 k_i p_i)^2 <= 1`` for pixel sizes ``p_i``) are left out, so with
anisotropic voxels each direction's shells reach its own Nyquist: along x
``1 / (2 p_x)``, along z ``1 / (2 p_z)``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from numbers import Real

import numpy as np

from . import kernels
from .backend import in_memory, resolve_device, to_device, to_host
from .correlation import CORRELATION_ROUNDING, check_edge_options, edge_windows
from .figures import COLORS, PALETTE, Curve, Marker, Plot
from .frequency import frequency_axes, hermitian_weights, normalize_pixel_size
from .randomization import check_randomize_at, corrected_curve, randomization_shell, randomize_phases
from .results import Result, issue_warnings, length, number, result_dataclass
from .spectral import check_work, compute_path, windowed_spectrum, working_mask
from .thresholds import STATUSES, find_crossings, parse_threshold, threshold_curve
from .validation import check_image, check_int, check_progress, check_same_shape, shown, working_dtype

__all__ = ["DirectionalFSCResult", "directional_fsc", "hemisphere_directions"]

#: Half angle of each cone, degrees (3DFSC's default is 20 degrees).
DEFAULT_CONE_ANGLE = 20.0
#: Directions spread evenly over the half-sphere when none are given.
DEFAULT_DIRECTIONS = 300
#: Angular bins of the folded hemisphere: polar angle (from z) and azimuth; 3 x 6 degrees.
THETA_BINS, PHI_BINS = 30, 60
#: Shells pooled around each shell of a cone (odd): see :func:`_pooled`.
SHELL_WINDOW = 3
#: Pooled shells of a cone with fewer Fourier voxels than this cannot decide a crossing (their FSC is noise:
#: its standard deviation is about sqrt(2 / n)).
MIN_CONE_POINTS = 50
#: Sub-samples per angular bin and axis that decide which fraction of a bin lies inside a cone.
SUBSAMPLES = 4
#: Fewer directions than this give no sphericity (the surface through them is too coarse to mean anything).
MIN_SPHERICITY_DIRECTIONS = 20
#: The named cones a microscopist reads: around the xy-plane (lateral) and around the z axis (axial).
NAMED_CONES = ("lateral", "axial")
#: Directions whose resolutions spread more than this (max / min) get an anisotropy note in the summary.
ANISOTROPY_NOTE = 1.2


@result_dataclass
class DirectionalFSCResult(Result):
    """The FSC in cones around many directions, the resolution along each, and summaries of their spread.

    Attributes
    ----------
    frequency : ndarray, shape (n_shells,)
        Shell centres in cycles per reference pixel (the largest pixel
        size); past 0.5 along finer axes of anisotropic voxels.
    directions : ndarray, shape (n, 3)
        Unit vectors (z, y, x) in physical space, on the half-sphere z >= 0.
    correlation : ndarray, shape (n, n_shells)
        FSC in the double cone around each direction; NaN beyond the
        direction's Nyquist frequency and in empty shells.
    n_points : ndarray, shape (n, n_shells)
        Fourier voxels (full spectrum) in each cone's shell.
    threshold : ndarray, shape (n, n_shells)
        The criterion's curve for those counts.
    criterion : str
        Name of the criterion.
    crossings : ndarray, shape (n,)
        Crossing frequency per direction (cycles per reference pixel), NaN
        unless that direction is "resolved".
    resolutions : ndarray, shape (n,)
        Full-period resolution per direction (``pixel_size`` units): for
        "bound" directions their Nyquist bound, NaN for "unresolved".
    statuses : tuple of str
        Status per direction.
    nyquist : ndarray, shape (n,)
        Each direction's Nyquist frequency, cycles per reference pixel.
    resolution : float or None
        Median of the directions' resolutions (unresolved directions count
        as infinitely coarse); None when most are unresolved.
    sphericity : float or None
        Tan et al.'s sphericity, ``pi^(1/3) (6 V)^(2/3) / A``, of the surface
        made of every direction's crossing frequency (its Nyquist when
        bound): 1 for an isotropic map. None when a direction is unresolved
        or fewer than :data:`MIN_SPHERICITY_DIRECTIONS` were measured.
    cones : dict of str to dict
        "lateral" (within ``cone_angle`` of the xy-plane) and "axial"
        (around z), each with ``correlation``, ``n_points``, ``threshold``
        (n_shells,), ``crossing``, ``resolution``, ``status`` and ``nyquist``;
        also "all" (every voxel: the global FSC on the same shells).
    cone_angle : float
        Half angle of the cones, degrees.
    reference_pixel_size : float
        Largest pixel size: the unit of ``frequency``.
    """

    HEADLINE = ("resolution", "median directional resolution")

    frequency: np.ndarray
    directions: np.ndarray
    correlation: np.ndarray
    n_points: np.ndarray
    threshold: np.ndarray
    criterion: str
    crossings: np.ndarray
    resolutions: np.ndarray
    statuses: tuple
    nyquist: np.ndarray
    resolution: float | None
    sphericity: float | None
    cones: dict
    cone_angle: float
    reference_pixel_size: float

    @property
    def lateral(self) -> float | None:
        """Resolution in the cone around the xy-plane (None when unresolved)."""
        return self.cones["lateral"]["resolution"]

    @property
    def axial(self) -> float | None:
        """Resolution in the cone around the z axis (None when unresolved)."""
        return self.cones["axial"]["resolution"]

    def summary(self, unit: str = "") -> str:
        """``median 4.3 Å over 300 directions (0.143; 3.9-5.1 Å) · lateral 4.0 Å · axial 5.0 Å · sphericity 0.93``."""
        if self.resolution is None:
            return f"no resolution: most directions never rise above {self.criterion} · status {self.status}"
        unit = self.unit_of_lengths(unit)
        finite = self.resolutions[np.isfinite(self.resolutions)]
        parts = [f"median {_bounded(self.resolution, self.status, unit)} over {len(self.statuses)} directions "
                 f"({self.criterion}; {number(finite.min())}-{length(finite.max(), unit)})"]
        for name in NAMED_CONES:
            cone = self.cones[name]
            value = "unresolved" if cone["resolution"] is None else \
                _bounded(cone["resolution"], cone["status"], unit)
            parts.append(f"{name} {value}")
        if self.sphericity is not None:
            parts.append(f"sphericity {self.sphericity:.3f}")
        return " · ".join(parts) + f" · status {self.status}"

    def columns(self) -> dict:
        """One row per direction: its unit vector, resolution, crossing, Nyquist and status."""
        return {"z": self.directions[:, 0], "y": self.directions[:, 1], "x": self.directions[:, 2],
                "resolution": self.resolutions, "crossing_cycles_per_pixel": self.crossings,
                "nyquist_cycles_per_pixel": self.nyquist, "status": np.array(self.statuses)}

    def plots(self, unit: str = "", *, direction: int | None = None) -> tuple:
        """The lateral, axial and global FSC curves (and one chosen direction's), and the histogram.

        Parameters
        ----------
        unit : str
            Unit of the pixel size.
        direction : int, optional
            Index into :attr:`directions` of a direction whose curve is added.
        """
        return self._curves_plot(unit, direction), self._histogram_plot(unit)

    def _curves_plot(self, unit: str, direction: int | None) -> Plot:
        curves, markers = [], []
        chosen = [("all", "all directions", COLORS["unmasked"], "secondary"),
                  ("lateral", "lateral", PALETTE[0], "measured"), ("axial", "axial", PALETTE[1], "measured")]
        for key, label, color, role in chosen:
            cone = self.cones[key]
            curves.append(Curve(f"FSC {label}", self.frequency, cone["correlation"], role, color))
            if key != "all" and cone["resolution"] is not None:
                at = cone["crossing"] if cone["status"] == "resolved" else cone["nyquist"]
                markers.append(Marker(at, f"{label} {_bounded(cone['resolution'], cone['status'], unit)}", color))
        if direction is not None:
            index = check_int(direction, "direction")
            if index >= len(self.statuses):
                raise ValueError(f"direction must be an index below {len(self.statuses)}, got {index}")
            z, y, x = self.directions[index]
            curves.append(Curve(f"FSC ({z:.2f}, {y:.2f}, {x:.2f})", self.frequency, self.correlation[index],
                                "measured", PALETTE[2]))
        curves.append(Curve(f"threshold ({self.criterion})", self.frequency, self.cones["all"]["threshold"],
                            "threshold", COLORS["threshold"]))
        high = float(np.nanmax(self.nyquist))
        return Plot(f"directional FSC (cones of {self.cone_angle:g}°)", tuple(curves), tuple(markers),
                    y_label="Fourier shell correlation", y_range=(-0.1, 1.05), x_range=(0.0, high),
                    pixel_size=self.reference_pixel_size, unit=unit)

    def _histogram_plot(self, unit: str) -> Plot:
        finite = self.resolutions[np.isfinite(self.resolutions)]
        counts, edges = np.histogram(finite, bins=max(1, min(30, finite.size // 5))) if finite.size else \
            (np.zeros(0), np.zeros(1))
        centres = (edges[:-1] + edges[1:]) / 2 if edges.size > 1 else edges
        markers = () if self.resolution is None else \
            (Marker(self.resolution, f"median {length(self.resolution, unit)}"),)
        return Plot("directional resolution", (Curve("directions", centres, counts.astype(float)),), markers,
                    x_label=f"resolution, full period ({unit or 'px'})", y_label="directions",
                    frequency_axis=False, x_range=None, unit=unit)

    def surface(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The resolution surface as a mesh for a napari Surface layer: every direction and its opposite.

        Returns
        -------
        vertices : ndarray, shape (2 n, 3)
            Each direction times its crossing frequency (its Nyquist when
            bound; 0 when unresolved), cycles per ``pixel_size`` unit, (z, y, x).
        faces : ndarray of int, shape (m, 3)
            Triangles of the directions' convex hull.
        values : ndarray, shape (2 n,)
            Resolution of each vertex (``pixel_size`` units; NaN when unresolved).
        """
        radii = np.nan_to_num(1 / self.resolutions, nan=0.0)
        both = np.concatenate([self.directions, -self.directions])
        return both * np.tile(radii, 2)[:, None], _hull_faces(both), np.tile(self.resolutions, 2)

    def fsc_volume(self) -> np.ndarray:
        """The 3DFSC-style volume: at every Fourier voxel, the FSC of its nearest direction at its shell.

        Returns
        -------
        ndarray of float32, the data's shape
            Centred (zero frequency in the middle, ``numpy.fft.fftshift``
            order); NaN beyond each voxel's Nyquist. Voxel ``i`` along axis
            ``a`` is frequency ``(i - n_a // 2) / (n_a p_a)``.
        """
        shape, sizes = self.parameters["shape"], self.pixel_size
        grid = _voxel_geometry(shape, sizes, self.parameters["ring_thickness"], half=False)
        nearest = _nearest_directions(self.directions)
        values = np.full(grid.shell.shape, np.nan, dtype=np.float32)
        kept = grid.kept
        rows = nearest[grid.angle[kept]]
        values[kept] = self.correlation[rows, grid.shell[kept]]
        return np.fft.fftshift(values.reshape(shape))


def _bounded(value: float, status: str, unit: str) -> str:
    """``4.2 Å`` or, for a bound, ``≤ 4.2 Å``."""
    return f"{'≤ ' if status == 'bound' else ''}{length(value, unit)}"


def hemisphere_directions(count: int = DEFAULT_DIRECTIONS) -> np.ndarray:
    """Unit vectors spread evenly over the half-sphere z >= 0 (a Fibonacci lattice).

    Parameters
    ----------
    count : int
        Number of directions (>= 6).

    Returns
    -------
    ndarray, shape (count, 3)
        (z, y, x) unit vectors; equal solid angle per direction.
    """
    count = check_int(count, "count", minimum=6)
    z = (np.arange(count) + 0.5) / count
    azimuth = np.arange(count) * math.pi * (3 - math.sqrt(5))
    radius = np.sqrt(1 - z * z)
    return np.stack([z, radius * np.sin(azimuth), radius * np.cos(azimuth)], axis=1)


def _check_directions(directions) -> np.ndarray:
    """``directions`` as (n, 3) unit vectors folded onto z >= 0, or a ValueError naming it."""
    if directions is None:
        return hemisphere_directions()
    if isinstance(directions, (int, np.integer)) and not isinstance(directions, bool):
        return hemisphere_directions(directions)
    try:
        vectors = np.asarray(directions, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"directions must be a count or an (n, 3) array of (z, y, x) vectors, "
                         f"got {shown(directions)}") from None
    vectors = vectors.reshape(1, -1) if vectors.ndim == 1 else vectors
    if vectors.ndim != 2 or vectors.shape[1] != 3 or vectors.shape[0] == 0 or not np.isfinite(vectors).all():
        raise ValueError(f"directions must be an (n, 3) array of finite (z, y, x) vectors, got shape {vectors.shape}")
    norms = np.linalg.norm(vectors, axis=1)
    if np.any(norms == 0):
        raise ValueError("directions must not hold a zero vector")
    vectors = vectors / norms[:, None]
    return np.where(vectors[:, :1] < 0, -vectors, vectors)


def _check_cone_angle(cone_angle) -> float:
    if isinstance(cone_angle, bool) or not isinstance(cone_angle, Real) or not 1 <= cone_angle <= 90:
        raise ValueError(f"cone_angle must be a half angle in degrees from 1 to 90, got {shown(cone_angle)}")
    return float(cone_angle)


@dataclass(frozen=True)
class _VoxelGeometry:
    """Shell and angular bin of every Fourier voxel (flattened), and whether it is inside its own Nyquist."""

    shell: np.ndarray
    angle: np.ndarray
    kept: np.ndarray


def _shell_spacing(shape, sizes, ring_thickness: int) -> tuple[float, int]:
    """Shell width (cycles per unit; the finest Fourier step times ``ring_thickness``) and the number of shells
    up to the finest axis's Nyquist."""
    spacing = ring_thickness / max(n * p for n, p in zip(shape, sizes))
    return spacing, int(math.floor(0.5 / min(sizes) / spacing + 1e-9)) + 1


def _voxel_geometry(shape, sizes, ring_thickness: int, *, half: bool = True, xp=np) -> _VoxelGeometry:
    """:class:`_VoxelGeometry` of the rfft half (``half``) or of the full spectrum of ``shape``."""
    spacing, _ = _shell_spacing(shape, sizes, ring_thickness)
    kz, ky, kx = (xp.asarray(k, dtype=np.float64) for k in frequency_axes(shape, sizes, half))
    kz, ky, kx = kz[:, None, None], ky[None, :, None], kx[None, None, :]
    sign = xp.where(kz < 0, -1.0, 1.0)  # fold -k onto k: the hemisphere z >= 0
    lateral = xp.sqrt(ky * ky + kx * kx)
    radius = xp.sqrt(kz * kz + lateral * lateral)
    theta = xp.arctan2(lateral, xp.abs(kz))
    phi = xp.arctan2(sign * ky, sign * kx) % (2 * math.pi)
    angle = (xp.minimum((theta * (THETA_BINS / (math.pi / 2))).astype(xp.intp), THETA_BINS - 1) * PHI_BINS
             + xp.minimum((phi * (PHI_BINS / (2 * math.pi))).astype(xp.intp), PHI_BINS - 1))
    shell = xp.floor(radius / spacing + 0.5).astype(xp.intp)
    # the voxel's own Nyquist: the ellipsoid sum (2 k_i p_i)^2 <= 1 along its direction
    stretched = xp.sqrt((kz * sizes[0]) ** 2 + (ky * sizes[1]) ** 2 + (kx * sizes[2]) ** 2)
    own_nyquist = xp.where(stretched > 0, 0.5 * radius / xp.maximum(stretched, 1e-300), np.inf)
    kept = shell <= xp.floor(own_nyquist / spacing + 1e-6)  # rounding: an exact Nyquist shell is kept
    return _VoxelGeometry(shell.ravel(), xp.broadcast_to(angle, shell.shape).ravel(),
                          xp.broadcast_to(kept, shell.shape).ravel())


def _bin_directions() -> tuple[np.ndarray, np.ndarray]:
    """Sub-sample unit vectors of every angular bin and their solid-angle weights.

    Returns
    -------
    vectors : ndarray, shape (THETA_BINS * PHI_BINS, SUBSAMPLES**2, 3)
    weights : ndarray, shape (THETA_BINS * PHI_BINS, SUBSAMPLES**2)
    """
    offsets = (np.arange(SUBSAMPLES) + 0.5) / SUBSAMPLES
    theta = (np.arange(THETA_BINS)[:, None] + offsets) * (math.pi / 2 / THETA_BINS)
    phi = (np.arange(PHI_BINS)[:, None] + offsets) * (2 * math.pi / PHI_BINS)
    t = np.broadcast_to(theta[:, None, :, None], (THETA_BINS, PHI_BINS, SUBSAMPLES, SUBSAMPLES))
    p = np.broadcast_to(phi[None, :, None, :], t.shape)
    vectors = np.stack([np.cos(t), np.sin(t) * np.sin(p), np.sin(t) * np.cos(p)], axis=-1)
    return vectors.reshape(THETA_BINS * PHI_BINS, -1, 3), np.sin(t).reshape(THETA_BINS * PHI_BINS, -1)


def _cone_membership(directions, cone_angle: float) -> np.ndarray:
    """Fraction of each angular bin inside each cone: the directions' double cones, then lateral, axial and all.

    Returns
    -------
    ndarray, shape (THETA_BINS * PHI_BINS, n + 3)
    """
    return _cached_membership(directions.tobytes(), len(directions), float(cone_angle)).copy()


@functools.lru_cache(maxsize=4)
def _cached_membership(packed_directions: bytes, count: int, cone_angle: float) -> np.ndarray:
    """:func:`_cone_membership` of directions given as bytes (a widget's reruns reuse it)."""
    directions = np.frombuffer(packed_directions, dtype=np.float64).reshape(count, 3)
    vectors, weights = _bin_directions()
    cosine, sine = math.cos(math.radians(cone_angle)), math.sin(math.radians(cone_angle))
    z = np.abs(vectors[..., :1])
    inside = np.concatenate([np.abs(vectors @ directions.T) >= cosine, z <= sine, z >= cosine,
                             np.ones_like(z, dtype=bool)], axis=-1)  # (bins, sub-samples, n + 3)
    return np.matmul(weights[:, None, :], inside.astype(np.float64))[:, 0, :] / weights.sum(axis=1)[:, None]


def _nearest_directions(directions) -> np.ndarray:
    """Index of the direction nearest to each angular bin's centre (up to sign), shape (THETA_BINS * PHI_BINS,)."""
    vectors, weights = _bin_directions()
    centres = (vectors * weights[..., None]).sum(axis=1)
    return np.argmax(np.abs(centres @ directions.T), axis=1)


def _direction_nyquist(directions, sizes) -> np.ndarray:
    """Nyquist frequency along each direction, cycles per unit: ``1 / (2 sqrt(sum u_i^2 p_i^2))``."""
    return 0.5 / np.sqrt((directions**2 * np.asarray(sizes) ** 2).sum(axis=1))


def _bin_index(shape, sizes, ring_thickness: int, xp) -> tuple[object, int]:
    """Combined (shell, angular bin) index of every rfft voxel, ``n_shells * n_angles`` for those left out.

    Made once per shape, pixel size and shell width (kept for reruns, e.g.
    a widget's), on ``xp``.

    Returns
    -------
    index : array of int, shape (V,)
    n_shells : int
    """
    key = (tuple(shape), tuple(sizes), int(ring_thickness), xp.__name__, compute_path(xp))
    if key not in _INDEX_CACHE:
        _INDEX_CACHE.clear()  # one shape at a time: an index is 8 bytes per voxel of the rfft half
        _INDEX_CACHE[key] = _new_bin_index(shape, sizes, ring_thickness, xp)
    return _INDEX_CACHE[key]


def _new_bin_index(shape, sizes, ring_thickness: int, xp) -> tuple[object, int]:
    """:func:`_bin_index` computed: by the compiled kernel on the CPU, else by :func:`_voxel_geometry`."""
    spacing, n_shells = _shell_spacing(shape, sizes, ring_thickness)
    if compute_path(xp) == "numba":
        axes = frequency_axes(shape, sizes, True)
        return kernels.direction_bin_index(axes, sizes, spacing, n_shells, THETA_BINS, PHI_BINS).ravel(), n_shells
    geometry = _voxel_geometry(shape, sizes, ring_thickness, xp=xp)
    n_bins = n_shells * THETA_BINS * PHI_BINS
    inside = geometry.kept & (geometry.shell < n_shells)
    return xp.where(inside, geometry.shell * (THETA_BINS * PHI_BINS) + geometry.angle, n_bins), n_shells


_INDEX_CACHE: dict = {}


def _binned_products(spectrum1, spectrum2, index, n_shells: int, n_last: int, xp) -> np.ndarray:
    """Counts, Re F1 F2*, |F1|^2, |F2|^2 per (shell, angular bin) of two rfft spectra, in one bincount each.

    Parameters
    ----------
    spectrum1, spectrum2 : array, complex
        rfft spectra of the two maps.
    index, n_shells
        From :func:`_bin_index`.
    n_last : int
        Real-space length of the last axis (for the Hermitian weights).
    xp : module

    Returns
    -------
    ndarray of float64, shape (4, n_shells, THETA_BINS * PHI_BINS), on the host
    """
    n_angles = THETA_BINS * PHI_BINS
    n_bins = n_shells * n_angles
    weights = xp.broadcast_to(xp.asarray(hermitian_weights(n_last), dtype=spectrum1.real.dtype),
                              spectrum1.shape).ravel()
    a, b = spectrum1.ravel(), spectrum2.ravel()
    terms = (weights, (a.real * b.real + a.imag * b.imag) * weights, (a.real**2 + a.imag**2) * weights,
             (b.real**2 + b.imag**2) * weights)
    sums = [to_host(xp.bincount(index, weights=term, minlength=n_bins + 1))[:n_bins] for term in terms]
    return np.stack(sums).astype(np.float64).reshape(4, n_shells, n_angles)


def _cone_curves(binned, membership) -> tuple[np.ndarray, np.ndarray]:
    """Shell counts and FSC of every cone, each shell pooled with its neighbours (:data:`SHELL_WINDOW`) but in the
    last cone (all voxels: the global FSC).

    Returns
    -------
    counts, correlation : ndarray, shape (n_cones, n_shells)
        Fourier voxels (full spectrum) in each pooled shell, and its FSC (NaN at DC and in empty shells).
    """
    n_terms, n_shells, n_angles = binned.shape
    sums = (binned.reshape(-1, n_angles) @ membership).reshape(n_terms, n_shells, -1)  # one 2-D product: BLAS
    sums = np.ascontiguousarray(np.swapaxes(sums, 1, 2))  # (4, n_cones, n_shells)
    sums[..., 0] = 0.0  # DC carries no information once the means are removed
    sums[:, :-1] = _pooled(sums[:, :-1])  # the last cone, every voxel, has enough of them per shell
    counts, cross, power1, power2 = sums
    with np.errstate(divide="ignore", invalid="ignore"):
        correlation = cross / np.sqrt(power1 * power2)
    correlation[~np.isfinite(correlation)] = np.nan
    correlation[:, 0] = np.nan
    return counts, correlation


def _pooled(sums) -> np.ndarray:
    """Every shell's sums added to those of its neighbours: a window of :data:`SHELL_WINDOW` shells, centred.

    A cone holds a small share of each shell's voxels; without pooling its
    curve is so noisy that the first crossing comes early (measured at 96³:
    the axial resolution 14-16 % coarse, 3-30 % of the directions of an
    isotropic pair unresolved). A centred window keeps the crossing where it
    is on a locally straight curve and averages the noise down by about
    ``sqrt(SHELL_WINDOW)``.
    """
    reach = SHELL_WINDOW // 2
    padded = np.pad(sums, [(0, 0)] * (sums.ndim - 1) + [(reach, reach)])
    n = sums.shape[-1]
    return sum(padded[..., offset:offset + n] for offset in range(SHELL_WINDOW))


def _read_cones(frequency, correlation, counts, nyquist, threshold, reference) -> dict:
    """Crossings, statuses and resolutions of a batch of cone curves, each read up to its own Nyquist."""
    beyond = frequency[None, :] > nyquist[:, None] + 1e-9
    correlation = np.where(beyond, np.nan, np.clip(correlation, -1 - CORRELATION_ROUNDING, 1))
    curves = threshold_curve(threshold, counts)
    decidable = (counts >= MIN_CONE_POINTS) & np.isfinite(correlation) & (curves < 1)
    crossings, codes = find_crossings(frequency, correlation, curves, decidable=decidable)
    statuses = tuple(STATUSES[code] for code in codes)
    with np.errstate(divide="ignore"):
        resolutions = np.where(codes == 0, reference / crossings, np.where(codes == 1, reference / nyquist, np.nan))
    return {"correlation": correlation, "threshold": curves, "crossings": crossings, "statuses": statuses,
            "resolutions": resolutions}


def _median_reading(resolutions, statuses) -> tuple[float | None, str]:
    """The median direction's resolution and status (the lower middle one; unresolved ones rank coarsest).

    None and "unresolved" when that direction is unresolved (most are).
    """
    ranked = np.where(np.isfinite(resolutions), resolutions, np.inf)
    middle = np.argsort(ranked, kind="stable")[(len(ranked) - 1) // 2]
    if not np.isfinite(ranked[middle]):
        return None, "unresolved"
    return float(ranked[middle]), statuses[middle]


def _hull_faces(vectors) -> np.ndarray:
    """Triangles of the convex hull of unit vectors (every one is a vertex).

    Raises
    ------
    ValueError
        The vectors do not span the sphere (fewer than 3 directions, or all in one plane).
    """
    from scipy.spatial import ConvexHull, QhullError

    try:
        return ConvexHull(vectors).simplices.astype(np.int64)
    except QhullError:
        raise ValueError(f"the {len(vectors) // 2} directions do not span the sphere: a surface needs at least 3 "
                         "directions, not all in one plane") from None


def sphericity(directions, radii) -> float:
    """Sphericity ``pi^(1/3) (6 V)^(2/3) / A`` of the star-shaped surface ``r(u)`` over directions and opposites.

    Parameters
    ----------
    directions : ndarray, shape (n, 3)
        Unit vectors on a half-sphere.
    radii : ndarray, shape (n,)
        Radius along each (positive).

    Returns
    -------
    float
        1 for a sphere sampled finely; lower the more the surface departs from one.
    """
    both = np.concatenate([directions, -directions])
    points = both * np.tile(radii, 2)[:, None]
    faces = _hull_faces(both)
    a, b, c = (points[faces[:, i]] for i in range(3))
    volume = np.abs(np.einsum("ij,ij->i", a, np.cross(b, c))).sum() / 6
    area = np.linalg.norm(np.cross(b - a, c - a), axis=1).sum() / 2
    return float(math.pi ** (1 / 3) * (6 * volume) ** (2 / 3) / area)


def _spectra(half1, half2, mask, windows, xp):
    """The rfft spectra of the two halves after mean removal and the window or mask."""
    return windowed_spectrum(half1, xp, windows, mask), windowed_spectrum(half2, xp, windows, mask)


@in_memory("half1", "half2", "mask")
def directional_fsc(
    half1,
    half2,
    *,
    cone_angle: float = DEFAULT_CONE_ANGLE,
    directions=None,
    pixel_size=1.0,
    threshold="0.143",
    ring_thickness: int = 1,
    apodization: int | None = None,
    taper: str = "auto",
    mask=None,
    randomize_at=None,
    seed=None,
    device=None,
    progress=None,
) -> DirectionalFSCResult:
    """Fourier shell correlation in cones around many directions: the resolution along each, in one pass.

    Parameters
    ----------
    half1, half2 : array, shape (Z, Y, X)
        Two independent half-maps (numpy or cupy; not modified).
    cone_angle : float
        Half angle of each double cone, degrees (1-90; default 20, as 3DFSC).
    directions : int or array of shape (n, 3), optional
        The cones' axes as (z, y, x) vectors in physical space, or how many
        to spread evenly over the half-sphere (default 300).
    pixel_size : float or sequence of float
        Pixel size per axis (z, y, x); anisotropic voxels give each
        direction its own Nyquist.
    threshold : str or float
        Criterion (default "0.143", for gold-standard half-maps; see
        :func:`~.correlation.fourier_correlation`).
    ring_thickness : int
        Shell width in Fourier steps of the finest sampling.
    apodization, taper
        Edge taper as in :func:`~.correlation.fourier_correlation`
        (ignored with a mask).
    mask : array, optional
        Soft real-space mask in [0, 1], the data's shape (replaces the taper).
    randomize_at : float, optional
        With a mask: correct each direction's masked FSC by phase
        randomisation beyond the shell where the global unmasked FSC drops
        below this level (e.g. 0.8, as RELION), or beyond this resolution
        when >= 1 (see :func:`~.randomization.phase_randomized_fsc`).
    seed : int, optional
        Seed of the random phases.
    device : {None, "cpu", "gpu"}
        Where to compute.
    progress : callable, optional
        Receives the completed fraction; raising inside it cancels.

    Returns
    -------
    DirectionalFSCResult

    Raises
    ------
    ValueError
        Maps that are not 3-D, differ in shape or hold NaN/Inf; a bad
        cone angle, direction, threshold, pixel size, mask or apodization;
        ``randomize_at`` without a mask.
    """
    check_image(half1, "half1", ndims=(3,))
    check_image(half2, "half2", ndims=(3,))
    check_same_shape(half1, half2, ("half1", "half2"))
    cone_angle = _check_cone_angle(cone_angle)
    vectors = _check_directions(directions)
    sizes = normalize_pixel_size(pixel_size, 3)
    criterion, _ = parse_threshold(threshold)
    ring_thickness = check_int(ring_thickness, "ring_thickness", minimum=1)
    if ring_thickness > max(1, min(half1.shape) // 8):
        raise ValueError(f"ring_thickness must be at most {max(1, min(half1.shape) // 8)} for shape "
                         f"{tuple(half1.shape)}, got {ring_thickness}")
    widths = check_edge_options(apodization, taper, half1.shape, masked=mask is not None)
    if randomize_at is not None:
        if mask is None:
            raise ValueError("randomize_at needs a mask: the phase-randomisation correction is for masked maps")
        randomize_at = check_randomize_at(randomize_at, max(sizes))
    check_progress(progress)
    report = progress or (lambda fraction: None)
    xp = resolve_device(device, half1, half2, mask)
    path = compute_path(xp)
    dtype = np.result_type(working_dtype(half1.dtype), working_dtype(half2.dtype))
    check_work({"half1": half1, "half2": half2, "mask": mask}, dtype, path)
    half1, half2 = (to_device(x, xp).astype(dtype, copy=False) for x in (half1, half2))
    mask = None if mask is None else working_mask(mask, half1.shape, dtype, xp, "numpy")
    tapered, windows = edge_windows(half1, half2, widths, taper, xp, masked=mask is not None)
    windows = None if windows is None else [xp.asarray(w, dtype=dtype) for w in windows]

    index, n_shells = _bin_index(half1.shape, sizes, ring_thickness, xp)
    report(0.1)
    membership = _cone_membership(vectors, cone_angle)

    def cone_curves(first, second, weights, windows):
        spectra = _spectra(first, second, weights, windows, xp)
        return _cone_curves(_binned_products(*spectra, index, n_shells, half1.shape[-1], xp), membership)

    counts, correlation = cone_curves(half1, half2, mask, windows)
    report(0.5)
    reference = max(sizes)
    frequency = np.arange(n_shells) * _shell_spacing(half1.shape, sizes, ring_thickness)[0] * reference
    randomization = None
    if randomize_at is not None:
        correlation, randomization = _randomization_corrected(half1, half2, mask, correlation, cone_curves,
                                                              frequency, sizes, randomize_at, seed, xp, report)
    report(0.9)
    parameters = {"shape": tuple(half1.shape), "ring_thickness": int(ring_thickness), "apodization_axes": widths,
                  "taper": taper, "tapered_axes": tapered, "masked": mask is not None, "dtype": str(dtype),
                  "path": path, "angular_bins": (THETA_BINS, PHI_BINS), "randomization": randomization}
    result = _assemble(frequency, vectors, counts, correlation, sizes, cone_angle, threshold, criterion, parameters)
    report(1.0)
    return result


def _randomization_corrected(half1, half2, mask, masked, cone_curves, frequency, sizes, randomize_at, seed, xp,
                             report):
    """Each cone's masked FSC corrected by phase randomisation beyond one shell (RELION's correction, per cone).

    Returns
    -------
    corrected : ndarray, shape (n_cones, n_shells)
    details : dict
        The randomisation shell and frequency.
    """
    reference = max(sizes)
    unmasked = cone_curves(half1, half2, None, None)[1]
    cutoff = randomization_shell(unmasked[-1], frequency=frequency, randomize_at=randomize_at,
                                 reference_pixel=reference)
    beyond = min(float(frequency[cutoff]), 0.5)
    seeds = np.random.SeedSequence(seed).generate_state(2)
    randomized_maps = [randomize_phases(half, beyond, pixel_size=sizes, seed=int(half_seed))
                       for half, half_seed in zip((half1, half2), seeds)]
    report(0.7)
    randomized = cone_curves(*randomized_maps, mask, None)[1]
    details = {"randomize_at": float(randomize_at), "shell": cutoff, "frequency": float(frequency[cutoff]),
               "seed": seed}
    return corrected_curve(masked, randomized, cutoff), details


def _assemble(frequency, vectors, counts, correlation, sizes, cone_angle, threshold, criterion, parameters):
    """The :class:`DirectionalFSCResult` of every cone's curve."""
    reference = max(sizes)
    n = len(vectors)
    in_plane = 0.5 / max(sizes[1:]) * reference
    nyquist = np.concatenate([_direction_nyquist(vectors, sizes) * reference,
                              [in_plane, 0.5 / sizes[0] * reference, 0.5]])
    readings = _read_cones(frequency, correlation, counts, nyquist, threshold, reference)
    resolutions = readings["resolutions"][:n]
    statuses = readings["statuses"][:n]
    median, status = _median_reading(resolutions, statuses)
    notes = _warnings(statuses, resolutions)
    spherical = None if "unresolved" in statuses or n < MIN_SPHERICITY_DIRECTIONS else \
        sphericity(vectors, 1 / resolutions)
    cones = {}
    for offset, name in enumerate((*NAMED_CONES, "all")):
        row = n + offset
        crossing = readings["crossings"][row]
        cones[name] = {"correlation": readings["correlation"][row], "n_points": counts[row],
                       "threshold": readings["threshold"][row],
                       "crossing": None if np.isnan(crossing) else float(crossing),
                       "resolution": None if np.isnan(readings["resolutions"][row]) else
                       float(readings["resolutions"][row]),
                       "status": readings["statuses"][row], "nyquist": float(nyquist[row])}
    issue_warnings(notes)
    return DirectionalFSCResult(
        frequency=frequency, directions=vectors, correlation=readings["correlation"][:n], n_points=counts[:n],
        threshold=readings["threshold"][:n], criterion=criterion, crossings=readings["crossings"][:n],
        resolutions=resolutions, statuses=statuses, nyquist=nyquist[:n], resolution=median,
        sphericity=spherical, cones=cones, cone_angle=cone_angle, reference_pixel_size=reference, status=status,
        pixel_size=tuple(float(p) for p in sizes), warnings=tuple(notes), parameters=parameters)


def _warnings(statuses, resolutions) -> list[str]:
    """Doubts: directions that only give a Nyquist bound, or none at all."""
    notes = []
    n = len(statuses)
    bound, unresolved = statuses.count("bound"), statuses.count("unresolved")
    if bound:
        notes.append(f"{bound} of {n} directions stay above the threshold up to their Nyquist frequency: their "
                     "resolutions are bounds (≤), and the spread and sphericity understate the anisotropy")
    if unresolved:
        notes.append(f"{unresolved} of {n} directions never rise above the threshold: no resolution along them "
                     "(sphericity not computed); wider cones (cone_angle) or more signal may resolve them")
    return notes
