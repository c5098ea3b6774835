"""The cryo-EM forward model: central slices of a volume's spectrum, CTF-weighted back-projection, orientations.

A particle image is the projection of the volume along a viewing direction; by
the Fourier slice theorem its 2-D spectrum is the central slice of the
volume's 3-D spectrum perpendicular to that direction. Projections are taken
by interpolating slices in the spectrum of the zero-padded volume (cubic
B-spline, or trilinear as the fast option); reconstructions by splatting the
CTF-weighted slices back (trilinear) into a numerator ``sum CTF P`` and a
denominator ``sum CTF^2``, then ``num / (den + regularization)`` (Wiener).

Conventions (docs/cryoem_forward_model.md has them beside recovar's):

* Volumes are cubes (Z, Y, X) of N³ with the centre at index N // 2 on each
  axis; images are (Y, X) squares of N² with the centre at N // 2.
* A rotation matrix R acts on (x, y, z) column vectors, x being the last
  array axis. Image frequency (kx, ky) samples the volume's spectrum at
  ``R (kx, ky, 0)``: the image is the projection of the volume along ``R z``
  (R's third column, the viewing direction), its x axis along ``R x`` and its
  y axis along ``R y``. The identity projects along z (sums axis 0).
* Spectra are unnormalised DFTs (numpy's) in unshifted FFT order, images in
  the rfft layout (Y, X // 2 + 1). For the identity rotation, the slice at the
  grid points is exactly the 2-D DFT of the projection (``volume.sum(0)``).
* The volume is zero-padded to P = ``padding`` N samples per axis, its centre
  moved to the origin (so its spectrum is smooth and interpolates well), and
  the interpolation kernel's real-space profile divided out before the
  transform: ``sinc(x/P)^2`` per axis for trilinear, ``sinc(x/P)^4`` for the
  cubic B-spline (the transform of the kernel). Within the volume's box the
  interpolated spectrum is then that of the volume itself; what remains is
  aliasing from the kernel's side lobes (the padding keeps it small).
* Pixels beyond the images' Nyquist circle (``ky^2 + kx^2 > (N/2)^2``) are 0
  and are not back-projected.

The compiled kernels (:func:`~.kernels.slice_volume`, :func:`~.kernels.splat_slices`)
do each step in one parallel pass on the CPU; the array code here is the
reference and the GPU path (cupy), and tests check that both agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import kernels
from .backend import check_allocation, format_bytes, irfftn, resolve_device, rfftn, to_device, to_host
from .frequency import hermitian_weights
from .spectral import compute_path
from .validation import check_choice, check_int, random_generator, shown

__all__ = [
    "INTERPOLATIONS",
    "BackProjector",
    "SlicingVolume",
    "central_slices",
    "check_rotations",
    "image_frequencies",
    "image_spectra",
    "model_volume",
    "particle_images",
    "preferred_rotations",
    "prepare_volume",
    "random_rotations",
    "wiener_regularization",
]

#: Interpolation of the central slices: cubic B-spline (64 nodes), or trilinear (8 nodes; the fast option).
INTERPOLATIONS = ("cubic", "linear")
#: Tolerance on ``R R^T = I`` and ``det R = 1`` for a rotation matrix.
ROTATION_TOLERANCE = 1e-4


def random_rotations(n: int, *, seed=None) -> np.ndarray:
    """``n`` rotation matrices drawn uniformly from SO(3) (Haar measure: normalised Gaussian quaternions).

    Returns
    -------
    ndarray, float64, shape (n, 3, 3)
        Acting on (x, y, z) column vectors.
    """
    n = check_int(n, "n", minimum=1)
    quaternions = random_generator(seed).standard_normal((n, 4))
    return _quaternion_matrices(quaternions / np.linalg.norm(quaternions, axis=1, keepdims=True))


def _quaternion_matrices(q) -> np.ndarray:
    """Rotation matrices of unit quaternions (w, x, y, z), shape (n, 3, 3)."""
    w, x, y, z = q.T
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], axis=-1),
        np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], axis=-1),
        np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], axis=-1),
    ], axis=1)


def preferred_rotations(n: int, *, spread: float = 15.0, fraction: float = 1.0, seed=None) -> np.ndarray:
    """Rotations with a preferred orientation: views within ``spread`` degrees of the z axis ("top views").

    A ``fraction`` of the particles look along directions drawn uniformly
    from the spherical cap of half-angle ``spread`` around +z, each with a
    uniform in-plane rotation; the others are uniform over SO(3) (the few
    side views real data sets with a preferred orientation still hold).
    With only top views, the slices leave a double cone around z of
    half-angle ``90 - spread`` degrees empty.

    Returns
    -------
    ndarray, float64, shape (n, 3, 3)
        The first ``round(fraction n)`` are the top views.
    """
    n = check_int(n, "n", minimum=1)
    spread = float(spread)
    if not 0 <= spread <= 180:
        raise ValueError(f"spread must be in [0, 180] degrees, got {shown(spread)}")
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be in [0, 1], got {shown(fraction)}")
    rng = random_generator(seed)
    top = int(round(fraction * n))
    cos_tilt = 1 - rng.uniform(0, 1, top) * (1 - math.cos(math.radians(spread)))  # uniform on the cap
    tilt, azimuth, spin = np.arccos(cos_tilt), rng.uniform(0, 2 * math.pi, top), rng.uniform(0, 2 * math.pi, top)
    views = _about_z(azimuth) @ _about_y(tilt) @ _about_z(spin)  # third column: (sin t cos a, sin t sin a, cos t)
    return np.concatenate([views, random_rotations(n - top, seed=rng)]) if top < n else views


def _about_z(angle) -> np.ndarray:
    c, s, zero, one = np.cos(angle), np.sin(angle), np.zeros_like(angle), np.ones_like(angle)
    return np.stack([np.stack([c, -s, zero], -1), np.stack([s, c, zero], -1), np.stack([zero, zero, one], -1)], 1)


def _about_y(angle) -> np.ndarray:
    c, s, zero, one = np.cos(angle), np.sin(angle), np.zeros_like(angle), np.ones_like(angle)
    return np.stack([np.stack([c, zero, s], -1), np.stack([zero, one, zero], -1), np.stack([-s, zero, c], -1)], 1)


def check_rotations(rotations, name: str = "rotations") -> np.ndarray:
    """``rotations`` as a float64 (n, 3, 3) array of proper rotations, or a ValueError naming ``name``."""
    try:
        matrices = np.asarray(to_host(rotations), dtype=np.float64)
    except (TypeError, ValueError):
        matrices = np.zeros(0)
    if matrices.ndim == 2 and matrices.shape == (3, 3):
        matrices = matrices[np.newaxis]
    if matrices.ndim != 3 or matrices.shape[1:] != (3, 3) or matrices.shape[0] == 0:
        raise ValueError(f"{name} must be rotation matrices of shape (n, 3, 3), got {shown(rotations)}")
    if not np.isfinite(matrices).all():
        raise ValueError(f"{name} must be finite")
    orthogonal = np.abs(matrices @ matrices.transpose(0, 2, 1) - np.eye(3)).max(axis=(1, 2))
    bad = np.flatnonzero((orthogonal > ROTATION_TOLERANCE) | (np.abs(np.linalg.det(matrices) - 1) > ROTATION_TOLERANCE))
    if bad.size:
        raise ValueError(f"{name}[{bad[0]}] is not a rotation (R R^T = I and det R = 1 within {ROTATION_TOLERANCE:g})")
    return matrices


def model_volume(size: int = 64, *, n_atoms: int | None = None, sigma: float = 0.5, radius: float | None = None,
                 seed=None, dtype=np.float32) -> np.ndarray:
    """An atom-like test volume with a known spectrum: Gaussian "atoms" at random voxels of a ball.

    The volume is ``sum_j g(x - x_j)`` over ``n_atoms`` random voxels ``x_j``
    (repeats allowed) within ``radius`` of the centre (N // 2 on each axis),
    with ``g`` a Gaussian of standard deviation ``sigma`` voxels and unit
    integral, built in Fourier space on the periodic grid: its
    spectrum is exactly ``FFT(atom counts) exp(-2 pi^2 sigma^2 k^2)``.

    Parameters
    ----------
    size : int
        Side N of the cube (>= 16).
    n_atoms : int, optional
        Default: one per 20 voxels of the ball.
    sigma : float
        Atom width in voxels (0.5 to size / 8). The default, 0.5, keeps the
        power spectrum up to Nyquist (``exp(-4 pi^2 sigma^2 k^2)``: 0.08 at
        0.5 cycles/voxel), as a map's Wilson plateau does; a blurrier volume
        has so little power at high frequency that what a Wiener
        reconstruction spreads from the low frequencies outweighs it there.
    radius : float, optional
        Radius of the ball, voxels; default 0.35 N (within N/2 - 3 sigma, so
        that every projection fits in its N² image).
    seed : int, optional
    dtype : float32 or float64

    Returns
    -------
    ndarray, shape (N, N, N)
    """
    size = check_int(size, "size", minimum=16)
    if not 0.5 <= sigma <= size / 8:
        raise ValueError(f"sigma must be in [0.5, {size / 8:g}] voxels for size {size}, got {shown(sigma)}")
    radius = 0.35 * size if radius is None else float(radius)
    if not 1 <= radius <= size / 2 - 3 * sigma:
        raise ValueError(f"radius must be in [1, {size / 2 - 3 * sigma:g}] voxels (inside the box with its "
                         f"atoms' 3-sigma tails), got {shown(radius)}")
    check_allocation(size**3 * 32, f"size {size}", "a smaller size")
    rng = random_generator(seed)
    centred = np.arange(size) - size // 2
    inside = np.flatnonzero((centred[:, None, None] ** 2 + centred[None, :, None] ** 2
                             + centred[None, None, :] ** 2 <= radius**2).ravel())
    n_atoms = max(1, inside.size // 20) if n_atoms is None else check_int(n_atoms, "n_atoms", minimum=1)
    counts = np.bincount(rng.choice(inside, n_atoms), minlength=size**3).reshape((size,) * 3).astype(np.float64)
    k = np.fft.fftfreq(size)
    kr = np.fft.rfftfreq(size)
    blur = np.exp(-2 * np.pi**2 * sigma**2 * (k[:, None, None] ** 2 + k[None, :, None] ** 2 + kr[None, None, :] ** 2))
    return irfftn(rfftn(counts) * blur, counts.shape).astype(dtype)


def image_frequencies(size: int) -> tuple[np.ndarray, np.ndarray]:
    """The images' frequencies in samples: rows ``fftfreq(N) N`` and the rfft columns ``rfftfreq(N) N``, float64."""
    return np.fft.fftfreq(size) * size, np.fft.rfftfreq(size) * size


def _column_weights(size: int, xp) -> object:
    """1 for interior rfft columns, 1/2 for the self-conjugate ones (DC and, for even N, Nyquist), float32."""
    return xp.asarray((hermitian_weights(size) / 2).astype(np.float32))


def _centre_indices(size: int, padded: int) -> np.ndarray:
    """Where the volume's voxels go in the padded grid: its centre N // 2 at index 0 (periodic)."""
    return (np.arange(size) - size // 2) % padded


def _apodization(padded: int, interpolation: str) -> np.ndarray:
    """The interpolation kernel's real-space profile along one axis of the padded grid (FFT order)."""
    profile = np.sinc(np.fft.fftfreq(padded))
    return profile**4 if interpolation == "cubic" else profile**2


@dataclass(frozen=True, eq=False)
class SlicingVolume:
    """A volume made ready for central slices (:func:`prepare_volume`).

    Attributes
    ----------
    coefficients : complex64 array, shape (P, P, P)
        Spectrum of the padded, centred volume with the kernel's profile
        divided out (the interpolation nodes), FFT order; numpy or cupy.
    size : int
        N, the side of the volume and of the images.
    padding : int
        P / N.
    interpolation : str
        "cubic" or "linear".
    """

    coefficients: object
    size: int
    padding: int
    interpolation: str


def _check_volume(volume, name: str = "volume"):
    shape = getattr(volume, "shape", None)
    if shape is None or len(shape) != 3 or len(set(shape)) != 1 or shape[0] < 8:
        raise ValueError(f"{name} must be a cube (N, N, N) with N >= 8, got shape {shown(shape)}")
    if getattr(volume, "dtype", np.dtype(object)).kind not in "biuf":
        raise ValueError(f"{name} must be real numbers, got dtype {shown(getattr(volume, 'dtype', None))}")
    return int(shape[0])


def _check_padding(padding) -> int:
    padding = check_int(padding, "padding", minimum=1)
    if padding > 4:
        raise ValueError(f"padding must be 1 to 4, got {padding}")
    return padding


def prepare_volume(volume, *, interpolation: str = "cubic", padding: int = 2, device=None) -> SlicingVolume:
    """Pad, centre and transform ``volume`` once, for any number of :func:`central_slices`.

    Parameters
    ----------
    volume : array, shape (N, N, N)
        Real volume (numpy or cupy), centre at N // 2.
    interpolation : {"cubic", "linear"}
    padding : int
        Zero-padding factor, 1 to 4 (default 2).
    device : {None, "cpu", "gpu"}

    Returns
    -------
    SlicingVolume
    """
    size = _check_volume(volume)
    interpolation = check_choice(interpolation, "interpolation", INTERPOLATIONS)
    padding = _check_padding(padding)
    xp = resolve_device(device, volume)
    padded_size = padding * size
    check_allocation(padded_size**3 * 16, f"volume of {size}³ padded {padding}x")
    profile = _apodization(padded_size, interpolation)
    where = _centre_indices(size, padded_size)
    padded = xp.zeros((padded_size,) * 3, np.complex64)
    scaled = to_device(volume, xp).astype(np.float32) / xp.asarray(
        (profile[where, None, None] * profile[None, where, None] * profile[None, None, where]).astype(np.float32))
    padded[xp.ix_(*(xp.asarray(where),) * 3)] = scaled
    return SlicingVolume(_fft3(padded, xp), size, padding, interpolation)


def _fft3(array, xp):
    if xp is np:
        import scipy.fft

        return scipy.fft.fftn(array, overwrite_x=True, workers=-1)
    return xp.fft.fftn(array)


def central_slices(volume, rotations, *, image_size: int | None = None, interpolation: str = "cubic",
                   padding: int = 2, device=None):
    """Spectra of the projections of ``volume`` at ``rotations``: central slices of its 3-D spectrum.

    Parameters
    ----------
    volume : array, shape (N, N, N), or SlicingVolume
        A real volume (prepared here with ``interpolation`` and ``padding``),
        or one from :func:`prepare_volume` (its own settings are used).
    rotations : array, shape (n, 3, 3)
        Rotation matrices on (x, y, z) (see the module's conventions).
    image_size : int, optional
        Side M of the images, from N (default) to P = padding N: the
        projection into an M² field (the volume's projection padded with
        zeros), sampled ``P / M`` voxels apart.
    interpolation, padding, device
        As in :func:`prepare_volume`, for a volume not yet prepared.

    Returns
    -------
    complex64 array, shape (n, M, M // 2 + 1)
        rfft2 spectra (unnormalised) of projections whose centre is at the
        origin; 0 beyond the Nyquist circle (radius M / 2 samples).
        :func:`particle_images` gives the images, centre at M // 2.
    """
    if not isinstance(volume, SlicingVolume):
        volume = prepare_volume(volume, interpolation=interpolation, padding=padding, device=device)
    matrices = check_rotations(rotations)
    xp = resolve_device(None, volume.coefficients)
    grid_size = volume.padding * volume.size
    size = volume.size if image_size is None else check_int(image_size, "image_size", minimum=volume.size)
    if size > grid_size:
        raise ValueError(f"image_size must be from {volume.size} to {grid_size} (the padded volume), got {size}")
    ky, kx = image_frequencies(size)
    scale, radius_sq = grid_size / size, (size / 2) ** 2
    cubic = volume.interpolation == "cubic"
    if compute_path(xp) == "numba":
        return kernels.slice_volume(volume.coefficients, matrices, ky, kx, scale, radius_sq, cubic)
    return _slices_array(volume.coefficients, matrices, ky, kx, scale, radius_sq, cubic, xp)


def _points(rotations, ky, kx, scale: float, radius_sq: float, xp):
    """The pixels inside the Nyquist circle (rows, cols) and their array coordinates (z, y, x), each (n, m)."""
    rows, cols = np.nonzero(ky[:, None] ** 2 + kx[None, :] ** 2 <= radius_sq)
    r = xp.asarray(rotations)
    fy, fx = xp.asarray(ky[rows]), xp.asarray(kx[cols])
    coordinates = [scale * (r[:, axis, 0, None] * fx + r[:, axis, 1, None] * fy) for axis in (2, 1, 0)]
    return xp.asarray(rows), xp.asarray(cols), coordinates


def _cubic_nodes(position, size: int, xp):
    """Node indices and cubic B-spline weights of the 4 nodes around each position, each a list of 4 arrays."""
    base = xp.floor(position)
    t = position - base
    s = 1 - t
    weights = [s**3 / 6, (4 - 6 * t**2 + 3 * t**3) / 6, (1 + 3 * t + 3 * t**2 - 3 * t**3) / 6, t**3 / 6]
    first = base.astype(np.int64) - 1
    return [(first + j) % size for j in range(4)], weights


def _linear_nodes(position, size: int, xp):
    """Node indices and trilinear weights of the 2 nodes around each position."""
    base = xp.floor(position)
    t = position - base
    first = base.astype(np.int64) % size
    return [first, (first + 1) % size], [1 - t, t]


def _slices_array(coefficients, rotations, ky, kx, scale, radius_sq, cubic: bool, xp):
    """Array version of :func:`~.kernels.slice_volume` (numpy or cupy): the reference and the GPU path."""
    size = coefficients.shape[0]
    rows, cols, coordinates = _points(rotations, np.asarray(ky), np.asarray(kx), scale, radius_sq, xp)
    nodes = [(_cubic_nodes if cubic else _linear_nodes)(c, size, xp) for c in coordinates]
    flat = coefficients.reshape(-1)
    values = xp.zeros(coordinates[0].shape, np.complex64)
    for iz, wz in zip(*nodes[0]):
        for iy, wy in zip(*nodes[1]):
            plane = (iz * size + iy) * size
            weight_zy = wz * wy
            for ix, wx in zip(*nodes[2]):
                values += (weight_zy * wx).astype(np.float32) * flat[plane + ix]
    out = xp.zeros((rotations.shape[0], len(ky), len(kx)), np.complex64)
    out[:, rows, cols] = values
    return out


def particle_images(spectra, size: int | None = None):
    """Real images from their rfft2 spectra (centre at the origin), cropped to ``size``² around their centre.

    Parameters
    ----------
    spectra : complex array, shape (..., M, M // 2 + 1)
        E.g. :func:`central_slices` (numpy or cupy).
    size : int, optional
        Side of the crop, at most M (default M).

    Returns
    -------
    float32 array, shape (..., size, size)
        Centre at ``size // 2``, as the volume's.
    """
    xp = resolve_device(None, spectra)
    full = spectra.shape[-2]
    size = full if size is None else check_int(size, "size", minimum=1)
    if size > full:
        raise ValueError(f"size must be at most the images' {full}, got {size}")
    images = _irfft2(spectra, full, xp).astype(np.float32, copy=False)
    out = xp.empty((*images.shape[:-2], size, size), np.float32)
    for small, large in _centred_blocks(size, full):
        out[small] = images[large]
    return out


def image_spectra(images, size: int | None = None):
    """rfft2 spectra (centre at the origin) of images zero-padded to ``size``², the inverse of :func:`particle_images`.

    Parameters
    ----------
    images : real array, shape (..., N, N)
        Centre at N // 2 (numpy or cupy).
    size : int, optional
        Side M >= N of the padded images (default N: no padding).

    Returns
    -------
    complex64 array, shape (..., M, M // 2 + 1)
    """
    xp = resolve_device(None, images)
    small = images.shape[-1]
    size = small if size is None else check_int(size, "size", minimum=small)
    padded = xp.zeros((*images.shape[:-2], size, size), np.float32)
    for inside, outside in _centred_blocks(small, size):
        padded[outside] = images[inside]
    return _rfft2(padded, xp).astype(np.complex64, copy=False)


def _centred_blocks(small: int, large: int) -> list[tuple[tuple, tuple]]:
    """Index pairs (of the last two axes) that move a small image, centre at small // 2, to the origin of a large one.

    :func:`_centre_indices` as 2 contiguous ranges per axis: positions from the
    centre on go to 0..., those before it to the end of the large axis.
    """
    half = small // 2
    pairs = [(slice(half, small), slice(0, small - half)), (slice(0, half), slice(large - half, large))]
    return [((Ellipsis, ys, xs), (Ellipsis, yl, xl)) for ys, yl in pairs for xs, xl in pairs]


def _irfft2(spectra, size: int, xp):
    if xp is np:
        import scipy.fft

        return scipy.fft.irfft2(spectra, s=(size, size), workers=-1)
    return xp.fft.irfft2(spectra, s=(size, size))


def _rfft2(images, xp):
    if xp is np:
        import scipy.fft

        return scipy.fft.rfft2(images, workers=-1)
    return xp.fft.rfft2(images)


class BackProjector:
    """Accumulates CTF-weighted central slices into a volume's spectrum, and reconstructs it (Wiener).

    Each slice ``P`` with its ``CTF`` adds ``CTF P`` to a numerator and
    ``CTF^2`` to a denominator at the 8 voxels around each of its points
    (trilinear splatting) on the padded grid; the reconstruction is
    ``num / (den + regularization)``, Hermitian-completed, transformed back,
    cropped to N³ and divided by the splatting kernel's real-space profile
    ``sinc(x/P)^2`` per axis: where the slices sample the spectrum densely,
    ``num / den`` is the spectrum convolved with the trilinear kernel.
    Several channels (e.g. noisy and noise-free slices of the
    same particles) share one denominator.

    Parameters
    ----------
    size : int
        N, the side of the images and of the volume.
    padding : int
        Padding factor of the accumulation grid, 1 to 4 (default 2).
    channels : int
        Number of spectra accumulated per slice.
    device : {None, "cpu", "gpu"}
        Where the accumulators live.
    """

    def __init__(self, size: int, *, padding: int = 2, channels: int = 1, device=None):
        self.size = check_int(size, "size", minimum=8)
        self.padding = _check_padding(padding)
        self.channels = check_int(channels, "channels", minimum=1)
        self.xp = resolve_device(device)
        self.path = compute_path(self.xp)
        grid = (self.padding * self.size,) * 3
        chunks = kernels.splat_chunks() if self.path == "numba" else 1
        n_bytes = chunks * math.prod(grid) * (8 * self.channels + 4)
        check_allocation(n_bytes, f"size {self.size} padded {self.padding}x with {self.channels} channel(s)",
                         f"{format_bytes(n_bytes)} of accumulators: a smaller size or padding")
        self._numerators = self.xp.zeros((chunks, self.channels, *grid), np.complex64)
        self._denominators = self.xp.zeros((chunks, *grid), np.float32)
        self.count = 0

    def add(self, spectra, rotations, ctf=None) -> None:
        """Back-project slices.

        Parameters
        ----------
        spectra : complex array, shape (n, M, M // 2 + 1) or (channels, n, M, M // 2 + 1)
            rfft2 spectra of the images, centre at the origin (as
            :func:`central_slices` and :func:`image_spectra` give them), of
            N² images or of images zero-padded to M from N to P. Padded to P
            (what real particle images need), their samples are as dense as
            the grid's; N² spectra stand for N-periodic images, whose
            copies N apart the splatting spreads into the volume's corners.
        rotations : array, shape (n, 3, 3)
        ctf : real array, shape (n, M, M // 2 + 1), optional
            Each image's CTF on the same grid (rfft layout); None: 1.
        """
        xp = self.xp
        values = xp.asarray(spectra).astype(np.complex64, copy=False)
        if values.ndim == 3:
            values = values[np.newaxis]
        matrices = check_rotations(rotations)
        grid_size = self.padding * self.size
        image_size = values.shape[-2] if values.ndim == 4 and self.size <= values.shape[-2] <= grid_size else self.size
        expected = (self.channels, matrices.shape[0], image_size, image_size // 2 + 1)
        if tuple(values.shape) != expected:
            raise ValueError(f"spectra must have shape {expected[1:] if self.channels == 1 else expected} for "
                             f"{matrices.shape[0]} rotations (M from {self.size} to {grid_size}), "
                             f"got {tuple(values.shape)}")
        weights = (xp.ones(expected[1:], np.float32) if ctf is None
                   else xp.asarray(ctf).astype(np.float32, copy=False))
        if tuple(weights.shape) != expected[1:]:
            raise ValueError(f"ctf must have shape {expected[1:]}, got {tuple(weights.shape)}")
        ky, kx = image_frequencies(image_size)
        scale, radius_sq, columns = grid_size / image_size, (image_size / 2) ** 2, _column_weights(image_size, xp)
        if self.path == "numba":
            kernels.splat_slices(np.ascontiguousarray(values), np.ascontiguousarray(weights), matrices, ky, kx,
                                 columns, scale, radius_sq, self._numerators, self._denominators)
        else:
            self._splat_array(values, weights, matrices, ky, kx, columns, scale, radius_sq)
        self.count += matrices.shape[0]

    def _splat_array(self, values, weights, rotations, ky, kx, columns, scale, radius_sq) -> None:
        """Array version of :func:`~.kernels.splat_slices` (numpy or cupy): one bincount per sum."""
        xp, grid_size = self.xp, self.padding * self.size
        rows, cols, coordinates = _points(rotations, ky, kx, scale, radius_sq, xp)
        nodes = [_linear_nodes(c, grid_size, xp) for c in coordinates]
        ctf = weights[:, rows, cols] * columns[cols]
        index, splat = [], []
        for iz, wz in zip(*nodes[0]):
            for iy, wy in zip(*nodes[1]):
                for ix, wx in zip(*nodes[2]):
                    index.append(((iz * grid_size + iy) * grid_size + ix).ravel())
                    splat.append((wz * wy * wx).astype(np.float32).ravel())
        index, splat = xp.concatenate(index), xp.concatenate(splat)
        n_voxels = grid_size**3
        ctf_values = xp.tile((ctf * weights[:, rows, cols]).ravel(), 8)
        self._denominators[0] += xp.bincount(index, splat * ctf_values, minlength=n_voxels).reshape(
            self._denominators.shape[1:]).astype(np.float32)
        for channel in range(self.channels):
            weighted = xp.tile((ctf * values[channel][:, rows, cols]).ravel(), 8) * splat
            for part, unit in ((weighted.real, 1), (weighted.imag, 1j)):
                summed = xp.bincount(index, part, minlength=n_voxels).reshape(self._denominators.shape[1:])
                self._numerators[0, channel] += (unit * summed).astype(np.complex64)

    def sums(self):
        """The Hermitian-completed numerators and denominator on the rfft half of the padded grid.

        Returns
        -------
        numerators : complex array, shape (channels, P, P, P // 2 + 1)
        denominator : real array, shape (P, P, P // 2 + 1)
        """
        xp = self.xp
        numerators = self._numerators.sum(axis=0)
        denominator = self._denominators.sum(axis=0)
        grid_size = self.padding * self.size
        half = grid_size // 2 + 1
        mirror = xp.asarray((-np.arange(grid_size)) % grid_size)
        mirror_half = mirror[:half]

        def completed(array):
            flipped = xp.take(xp.take(xp.take(array, mirror, axis=-3), mirror, axis=-2), mirror_half, axis=-1)
            return array[..., :half] + xp.conj(flipped)

        return completed(numerators), completed(denominator).real

    def reconstruct(self, regularization=1.0, channels=None):
        """The Wiener reconstruction ``num / (den + regularization)`` of each channel, cropped to N³.

        Parameters
        ----------
        regularization : float or array
            The inverse signal-to-noise ratio per voxel (``sigma_noise^2 /
            sigma_signal^2`` in the units of the spectra): a number, or an
            array broadcasting against the rfft half of the padded grid
            (P, P, P // 2 + 1) in FFT order. Voxels with ``den +
            regularization == 0`` are 0.
        channels : sequence of int, optional
            Which channels (default all).

        Returns
        -------
        list of real arrays, shape (N, N, N), float32
            One per channel, on the accumulators' device, centre at N // 2.
        """
        xp = self.xp
        numerators, denominator = self.sums()
        total = denominator + xp.asarray(regularization, dtype=np.float32)
        inverse = xp.where(total > 0, 1 / xp.where(total > 0, total, 1), 0).astype(np.float32)
        grid_size = self.padding * self.size
        where = _centre_indices(self.size, grid_size)
        profile = _apodization(grid_size, "linear")[where]
        correction = xp.asarray((1 / (profile[:, None, None] * profile[None, :, None] * profile[None, None, :]))
                                .astype(np.float32))
        crop = xp.ix_(*(xp.asarray(where),) * 3)
        volumes = []
        for channel in range(self.channels) if channels is None else channels:
            padded = irfftn(numerators[channel] * inverse, (grid_size,) * 3)
            volumes.append(padded[crop].astype(np.float32) * correction)
        return volumes


def wiener_regularization(volume, noise_variance: float, *, padding: int = 2, device=None):
    """``noise_variance / tau^2(|k|)`` on the rfft half of the padded grid: the Wiener term of a known volume.

    ``tau^2`` is the spherical average of the volume's power spectrum
    ``|DFT(volume)|^2`` (shells one sample wide), the expected signal power of
    a voxel at that radius; ``noise_variance`` is that of one Fourier
    coefficient of an image (``N^2 sigma^2`` for white noise of standard
    deviation ``sigma`` in N² pixels). Where ``tau^2`` is 0 the term is
    infinite (the reconstruction is 0 there).

    Returns
    -------
    float32 array, shape (P, P, P // 2 + 1), P = padding N, FFT order
    """
    size = _check_volume(volume)
    padding = _check_padding(padding)
    xp = resolve_device(device, volume)
    spectrum = np.fft.rfftn(np.asarray(to_host(volume), dtype=np.float64))
    k, kr = np.fft.fftfreq(size) * size, np.fft.rfftfreq(size) * size
    radius = np.sqrt(k[:, None, None] ** 2 + k[None, :, None] ** 2 + kr[None, None, :] ** 2)
    shells = np.rint(radius).astype(np.int64).ravel()
    weights = np.broadcast_to(hermitian_weights(size), spectrum.shape).ravel()
    power = np.bincount(shells, weights * np.abs(spectrum.ravel()) ** 2) / np.bincount(shells, weights)
    grid_size = padding * size
    kp, kpr = np.fft.fftfreq(grid_size) * grid_size, np.fft.rfftfreq(grid_size) * grid_size
    padded_radius = np.sqrt(kp[:, None, None] ** 2 + kp[None, :, None] ** 2 + kpr[None, None, :] ** 2) / padding
    tau = np.interp(padded_radius, np.arange(power.size), power, right=0.0)
    with np.errstate(divide="ignore"):
        return xp.asarray(np.where(tau > 0, float(noise_variance) / np.where(tau > 0, tau, 1), np.inf)
                          .astype(np.float32))
