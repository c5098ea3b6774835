"""The contrast transfer function (CTF) of a transmission electron microscope, and its zeros.

Conventions (docs/cryoem_forward_model.md has the table beside recovar's):

* Units: pixel size and defocus in Å, voltage in kV, spherical aberration
  ``cs`` in mm, angles in degrees, B-factor in Å².
* Defocus is positive for underfocus (the usual imaging condition).
* Phase: ``chi(k) = pi lambda dz k^2 - pi/2 cs lambda^3 k^4 + phase_shift``;
  ``CTF = -(sqrt(1 - A^2) sin chi + A cos chi) exp(-B k^2 / 4)`` with ``A``
  the amplitude contrast. It equals ``-sin(chi + asin A)`` times the
  envelope, so its zeros are at ``chi + asin A = n pi``; at low frequency it
  is ``-A`` (negative: a particle darker than the ice for positive density).
* Astigmatism: ``dz(phi) = (dz_u + dz_v) / 2 + (dz_u - dz_v) / 2 cos 2(phi - phi_ast)``
  with ``phi`` the angle of the frequency from the +x axis (the last array
  axis, columns) towards +y (rows, increasing row index): ``defocus_u`` is
  the defocus along ``astigmatism_angle``, ``defocus_v`` across it.
* Grid: the unshifted FFT order of ``shape`` (``numpy.fft.fftfreq``), the
  rfft half (last axis ``X // 2 + 1``) with ``half=True``.
* Wavelength: relativistic, ``lambda = 12.2643247 / sqrt(V (1 + 0.978466e-6 V))`` Å (``V`` in volts).

These are recovar's (``recovar.core.ctf.evaluate_ctf``) as well: its phase
``gamma = -chi`` and its ``sqrt(1 - w^2) sin gamma - w cos gamma`` are the same
function; recovar evaluates it on a centred (fftshifted) grid.
"""

from __future__ import annotations

import math

import numpy as np

from .backend import get_namespace
from .frequency import frequency_axes
from .validation import check_number, shown

__all__ = ["ctf", "ctf_zeros", "electron_wavelength", "evaluate_ctf"]

#: h / sqrt(2 m e) in Å V^(1/2), and e / (2 m c^2) in 1/V: the relativistic electron wavelength.
_WAVELENGTH_CONSTANT, _RELATIVISTIC = 12.2643247, 0.978466e-6


def electron_wavelength(voltage: float) -> float:
    """Relativistic electron wavelength in Å at an accelerating ``voltage`` in kV (300 kV: 0.0197 Å).

    Raises
    ------
    ValueError
        A voltage that is not a positive finite number.
    """
    volts = 1000.0 * check_number(voltage, "voltage", 0.0, above=True)
    if not math.isfinite(volts):
        raise ValueError(f"voltage must be a finite number of kV, got {shown(voltage)}")
    return _WAVELENGTH_CONSTANT / math.sqrt(volts * (1.0 + _RELATIVISTIC * volts))


def _parameter(value, name: str, low: float = -math.inf, high: float = math.inf):
    """``value`` (a number or a 1-D sequence of numbers, one per image) as float64, each in [low, high]."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number or a 1-D sequence of numbers, got {shown(value)}") from None
    if array.ndim > 1 or not np.isfinite(array).all() or not ((array >= low) & (array <= high)).all():
        limits = "" if math.isinf(low) and math.isinf(high) else f" from {low:g} to {high:g}"
        raise ValueError(f"{name} must be finite{limits}, one number or one per image, got {shown(value)}")
    return array


def _check_voltage_cs(voltage, cs) -> tuple[float, float]:
    wavelength = electron_wavelength(voltage)
    cs = check_number(cs, "cs", 0.0)
    if not math.isfinite(cs):
        raise ValueError(f"cs must be a finite number of mm, got {shown(cs)}")
    return wavelength, cs * 1e7


def evaluate_ctf(frequency_y, frequency_x, *, voltage=300.0, cs=2.7, defocus_u, defocus_v=None,
                 astigmatism_angle=0.0, amplitude_contrast=0.1, phase_shift=0.0, bfactor=0.0):
    """The CTF at given spatial frequencies: any grid, a central slice's in-plane frequencies, one ray.

    Parameters
    ----------
    frequency_y, frequency_x : array
        Spatial frequencies in 1/Å along the rows (y) and the columns (x),
        broadcastable against each other (numpy or cupy: the result lives
        where they do).
    voltage : float
        Accelerating voltage, kV.
    cs : float
        Spherical aberration, mm (>= 0).
    defocus_u, defocus_v : float or 1-D array
        Defocus along and across ``astigmatism_angle``, Å, positive for
        underfocus; ``defocus_v`` None: no astigmatism. One value per image
        gives one CTF per image (a leading axis).
    astigmatism_angle : float or 1-D array
        Direction of ``defocus_u``, degrees from +x towards +y.
    amplitude_contrast : float or 1-D array
        Fraction ``A`` in [0, 1).
    phase_shift : float or 1-D array
        Extra phase (a phase plate), degrees.
    bfactor : float or 1-D array
        B-factor of the envelope ``exp(-B k^2 / 4)``, Å².

    Returns
    -------
    array, float
        The broadcast shape of the frequencies, with a leading axis of the
        images' count when a parameter has one value per image.
    """
    xp = get_namespace(frequency_y, frequency_x)
    wavelength, cs_angstrom = _check_voltage_cs(voltage, cs)
    defocus_u = _parameter(defocus_u, "defocus_u")
    defocus_v = defocus_u if defocus_v is None else _parameter(defocus_v, "defocus_v")
    angle = np.deg2rad(_parameter(astigmatism_angle, "astigmatism_angle"))
    contrast = _parameter(amplitude_contrast, "amplitude_contrast", 0.0, 1.0 - 1e-12)
    shift = np.deg2rad(_parameter(phase_shift, "phase_shift"))
    bfactor = _parameter(bfactor, "bfactor")
    per_image = [defocus_u, defocus_v, angle, contrast, shift, bfactor]
    try:
        per_image = np.broadcast_arrays(*per_image)
    except ValueError:
        counts = sorted({p.size for p in per_image if p.ndim == 1})
        raise ValueError(f"defocus_u, defocus_v, astigmatism_angle, amplitude_contrast, phase_shift and bfactor "
                         f"must have one value or the same number of values (one per image), got {counts}") from None
    ky, kx = xp.asarray(frequency_y), xp.asarray(frequency_x)
    dtype = np.result_type(ky.dtype, kx.dtype, np.float32)
    grid_ndim = max(ky.ndim, kx.ndim)
    du, dv, angle, contrast, shift, bfactor = per_image
    offset = shift + np.arcsin(contrast)  # -(sqrt(1 - A^2) sin chi + A cos chi) = -sin(chi + asin A)
    mean, difference = 0.5 * (du + dv), 0.5 * (du - dv)
    cos_angle, sin_angle = difference * np.cos(2 * angle), difference * np.sin(2 * angle)
    ky, kx = ky.astype(dtype, copy=False), kx.astype(dtype, copy=False)
    squared = ky * ky + kx * kx
    safe = xp.where(squared > 0, squared, 1)
    cos_2phi, sin_2phi = (kx * kx - ky * ky) / safe, 2 * kx * ky / safe  # cos 2 phi, sin 2 phi (0 at DC)

    def per(value):
        return xp.asarray(value.reshape(value.shape + (1,) * grid_ndim), dtype=dtype)

    defocus = per(mean) + per(cos_angle) * cos_2phi + per(sin_angle) * sin_2phi  # dz(phi)
    chi = (math.pi * wavelength) * defocus * squared - (0.5 * math.pi * cs_angstrom * wavelength**3) * squared**2
    values = -xp.sin(chi + per(offset))
    if (bfactor != 0).any():
        values *= xp.exp(per(-0.25 * bfactor) * squared)
    return values


def ctf(shape, *, pixel_size, voltage=300.0, cs=2.7, defocus_u, defocus_v=None, astigmatism_angle=0.0,
        amplitude_contrast=0.1, phase_shift=0.0, bfactor=0.0, half: bool = False) -> np.ndarray:
    """The CTF on the Fourier grid of an image of ``shape``, in unshifted FFT order.

    Parameters
    ----------
    shape : tuple of 2 int
        Real-space image shape (Y, X).
    pixel_size : float
        Pixel size, Å.
    voltage, cs, defocus_u, defocus_v, astigmatism_angle, amplitude_contrast, phase_shift, bfactor
        As in :func:`evaluate_ctf` (kV, mm, Å, Å, degrees, fraction,
        degrees, Å²); one value per image gives a stack.
    half : bool
        True: the rfft half, ``(Y, X // 2 + 1)``.

    Returns
    -------
    ndarray, float64, shape (Y, X) or (Y, X // 2 + 1)
        With a leading axis (n,) when a parameter has n values.

    Notes
    -----
    The CTF of a central slice through a 3-D spectrum is that of its image:
    a function of the slice's in-plane frequencies, which
    :func:`evaluate_ctf` takes directly.
    """
    if not (isinstance(shape, (tuple, list)) and len(shape) == 2
            and all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1 for n in shape)):
        raise ValueError(f"shape must be 2 positive integers (Y, X), got {shown(shape)}")
    pixel = check_number(pixel_size, "pixel_size", 0.0, above=True)
    if not math.isfinite(pixel):
        raise ValueError(f"pixel_size must be a finite number of Å, got {shown(pixel_size)}")
    ky, kx = frequency_axes(tuple(int(n) for n in shape), pixel, half)
    return evaluate_ctf(ky[:, None], kx[None, :], voltage=voltage, cs=cs, defocus_u=defocus_u, defocus_v=defocus_v,
                        astigmatism_angle=astigmatism_angle, amplitude_contrast=amplitude_contrast,
                        phase_shift=phase_shift, bfactor=bfactor)


def ctf_zeros(defocus: float, count: int = 5, *, voltage=300.0, cs=2.7, amplitude_contrast=0.1,
              phase_shift=0.0) -> np.ndarray:
    """Spatial frequencies (1/Å) of the first ``count`` zeros of the CTF at one ``defocus`` (Å), from the formula.

    The zeros solve ``chi(k) + asin A = n pi`` for whole ``n``: with ``s = k^2``,
    ``f(s) = pi lambda dz s - pi/2 cs lambda^3 s^2 + phase + asin A`` starts at
    ``phase + asin A`` and, in underfocus, rises to a maximum (where spherical
    aberration turns the phase back, far beyond the frequencies a detector
    records) before it falls; in overfocus it falls from the start. The zeros
    are taken in order along that first branch: the root of the quadratic
    nearest to DC for each ``n`` it passes. Fewer than ``count`` when the
    branch ends before them.
    """
    wavelength, cs_angstrom = _check_voltage_cs(voltage, cs)
    defocus = check_number(defocus, "defocus")
    contrast = check_number(amplitude_contrast, "amplitude_contrast", 0.0)
    count = int(count)
    if not contrast < 1 or not math.isfinite(defocus):
        raise ValueError(f"amplitude_contrast must be in [0, 1) and defocus finite, got {shown(amplitude_contrast)}, "
                         f"{shown(defocus)}")
    offset = math.radians(check_number(phase_shift, "phase_shift")) + math.asin(contrast)
    a, b = 0.5 * math.pi * cs_angstrom * wavelength**3, math.pi * wavelength * defocus  # f(s) = offset + b s - a s^2
    rising = b > 0
    if not rising and a == 0 and b == 0:
        return np.zeros(0)
    step = 1 if rising else -1
    n = math.floor(offset / math.pi) + 1 if rising else math.ceil(offset / math.pi) - 1
    zeros = []
    while len(zeros) < count:
        c = n * math.pi - offset  # a s^2 - b s + c = 0
        if a == 0:
            squared = c / b
        else:
            discriminant = b * b - 4 * a * c
            if discriminant < 0:
                break
            squared = (b - math.sqrt(discriminant)) / (2 * a) if rising else (b + math.sqrt(discriminant)) / (2 * a)
        zeros.append(math.sqrt(squared))
        n += step
    return np.asarray(zeros)

