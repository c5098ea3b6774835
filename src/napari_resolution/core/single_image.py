"""One-image FRC: two independent halves made from one image, then their Fourier ring correlation.

Two splits, for two kinds of data:

* **binomial** (photon splitting; Rieger et al. 2024): every pixel's ``n``
  photons are dealt to two images, each photon to either with probability
  1/2. For Poisson counts the two images are independent Poisson images of
  half the dose: their FRC is exactly the two-image FRC of two independent
  exposures of half the photons. Camera data must first be converted to
  photons (``gain`` ADU per photon, ``offset`` ADU).
* **checkerboard** (Koho et al. 2019): the pixels of even rows and columns
  against those of odd rows and columns (and the two other diagonal
  sub-images, likewise), for data that are not photon counts. The
  sub-images sample the scene half a (sub-)pixel apart along both axes; that
  shift is undone exactly in Fourier space. Each holds a quarter of the
  photons: the curve is mapped to what two whole images read
  (``4 C / (1 + 3 C)``, the spectral SNR times 4), so no empirical
  calibration is needed. Their pixel is twice the image's: the curve reaches
  a quarter of the image's sampling frequency (a resolution of 4 pixels) and
  data with detail beyond that alias.
"""

from __future__ import annotations

import numpy as np

from .backend import resolve_device, to_device, to_host
from .correlation import CorrelationResult, check_edge_options, edge_windows, fourier_correlation, result_from_sums
from .frequency import frequency_axes, normalize_pixel_size, shell_geometry
from .results import issue_warnings
from .spectral import check_work, compute_path, spectra_sums, windowed_spectrum
from .thresholds import check_crossing_rule, parse_threshold
from .validation import check_choice, check_image, check_number, working_dtype

__all__ = ["SPLITS", "binomial_split", "single_image_frc"]

SPLITS = ("binomial", "checkerboard")
#: Photon counts may differ from integers by this much (floating-point storage of integer counts).
COUNT_ROUNDING = 1e-6
#: Photon counts below this are split with the bits of one random word (:func:`binomial_split`).
WORD_BITS = 64
#: Masks of the n lowest bits of a 64-bit word, n = 0 ... 63.
_LOWEST_BITS = (np.uint64(1) << np.arange(WORD_BITS, dtype=np.uint64)) - np.uint64(1)
#: Below this ratio of the neighbours' noise variance to the mean, an image cannot be photon counts.
POISSON_NOISE_FLOOR = 0.25
#: A warning when more than this fraction of the pixels fall below the offset (read noise, a wrong offset).
NEGATIVE_FRACTION = 0.05


def photon_counts(image, gain=None, offset: float = 0.0) -> np.ndarray:
    """Photon counts of an image: the image itself when it holds counts, else ``(image - offset) / gain`` rounded.

    Parameters
    ----------
    image : ndarray
        Counts (non-negative integers, any dtype), or camera values (ADU) with ``gain``.
    gain : float, optional
        ADU per photon (> 0); None: ``image`` already holds photon counts.
    offset : float
        Camera offset (ADU) subtracted before dividing by ``gain``.

    Returns
    -------
    ndarray of int64
        Non-negative counts; with ``gain``, values below the offset count 0 (a warning says how many).

    Raises
    ------
    ValueError
        Without ``gain``: values that are not non-negative integers (camera data: give ``gain`` and ``offset``,
        or use the checkerboard split); a ``gain`` that is not a positive number.
    """
    values = np.asarray(image)
    if gain is None:
        if check_number(offset, "offset") != 0:
            raise ValueError("offset needs gain: give the camera's gain (ADU per photon) with its offset")
        if values.dtype.kind in "ui" and (values.dtype.kind == "u" or values.min() >= 0):
            return values.astype(np.int64, copy=False)
        as_float = values.astype(np.float64)
        if np.any(as_float < 0) or np.any(np.abs(as_float - np.round(as_float)) > COUNT_ROUNDING):
            raise ValueError("image must hold photon counts (non-negative integers) for the binomial split, got "
                             f"values from {as_float.min():g} to {as_float.max():g} with fractions: give gain and "
                             "offset to convert camera values to photons, or use method='checkerboard'")
        return np.round(as_float).astype(np.int64)
    gain = check_number(gain, "gain", 0.0, above=True)
    photons = np.round((values.astype(np.float64) - check_number(offset, "offset")) / gain)
    negative = float(np.mean(photons < 0))
    if negative > NEGATIVE_FRACTION:
        issue_warnings((f"{negative:.0%} of the pixels lie below the offset ({offset:g} ADU) and count 0 photons: "
                        "check offset (the camera's dark level) and gain",))
    return np.maximum(photons, 0).astype(np.int64)


def _poisson_warnings(counts) -> tuple:
    """A warning when the image holds far less noise than photon counts would: not counts (or a wrong gain).

    Half the variance of the differences between diagonal neighbours is at
    least the noise variance (structure only adds to it); for Poisson counts
    the noise variance is the mean.
    """
    values = counts[: counts.shape[0] // 2 * 2, : counts.shape[1] // 2 * 2].astype(np.float64)
    neighbours = values[0::2, 0::2] - values[1::2, 1::2]
    ratio = float(np.var(neighbours) / 2 / max(values.mean(), 1e-300))
    if ratio >= POISSON_NOISE_FLOOR:
        return ()
    return (f"the image holds {ratio:.2g}x the noise photon counts would (neighbouring pixels differ too little): "
            "it is not photon counts, or gain is wrong; the binomial split then adds noise the data do not have "
            "and reads too coarse: give gain and offset, or use method='checkerboard'",)


def binomial_split(counts, seed=None) -> tuple[np.ndarray, np.ndarray]:
    """Deal every pixel's photons to two images, each photon to either with probability 1/2.

    A pixel of ``n < 64`` photons keeps as many photons as a random 64-bit
    word has set bits among its ``n`` lowest (exactly Binomial(n, 1/2), seven
    times faster than numpy's binomial sampler); larger counts use the sampler.

    Parameters
    ----------
    counts : ndarray of int, any shape
        Non-negative photon counts.
    seed : int or numpy Generator, optional

    Returns
    -------
    first, second : ndarray of float32, the shape of ``counts``
        ``first + second == counts``; for Poisson counts, independent Poisson images of half the mean.
    """
    rng = np.random.default_rng(seed)
    counts = np.asarray(counts, dtype=np.int64)
    words = rng.bit_generator.random_raw(counts.size).reshape(counts.shape)  # 64 random bits per pixel
    words &= _LOWEST_BITS[np.minimum(counts, WORD_BITS - 1)]
    first = np.bitwise_count(words).astype(np.float32)
    many = counts >= WORD_BITS
    if many.any():
        first[many] = rng.binomial(counts[many], 0.5)
    return first, counts.astype(np.float32) - first


def single_image_frc(
    image,
    *,
    method: str = "binomial",
    gain=None,
    offset: float = 0.0,
    pixel_size=1.0,
    threshold="1/7",
    apodization: int | None = None,
    taper: str = "auto",
    crossing_rule: str = "first-below",
    confidence=None,
    seed=None,
    device=None,
) -> CorrelationResult:
    """The Fourier ring correlation of one 2-D image, split into two independent halves.

    Parameters
    ----------
    image : array, shape (Y, X)
        One image (numpy or cupy; not modified).
    method : {"binomial", "checkerboard"}
        "binomial" (default): photon splitting, for photon counts (or camera
        values with ``gain``/``offset``); reads what the two-image FRC of
        two independent exposures of half the photons reads.
        "checkerboard": the diagonal sub-images, for any data, up to a
        quarter of the sampling frequency.
    gain : float, optional
        ADU per photon (binomial split of camera data).
    offset : float
        Camera offset in ADU (with ``gain``).
    pixel_size : float or (float, float)
        Pixel size per axis (physical units).
    threshold : str or float
        Criterion (default "1/7", i.e. 0.143; see :func:`~.correlation.fourier_correlation`).
    apodization, taper, crossing_rule, confidence
        As in :func:`~.correlation.fourier_correlation`.
    seed : int, optional
        Seed of the binomial split (the same seed, the same halves).
    device : {None, "cpu", "gpu"}
        Where to correlate.

    Returns
    -------
    CorrelationResult
        ``parameters["split"]`` says which split; the checkerboard's
        frequencies are in cycles per sub-image pixel (twice the image's
        pixel: ``reference_pixel_size``), so its resolutions are in the
        image's units as usual.

    Raises
    ------
    ValueError
        Not a 2-D finite image; an unknown method; non-count data for the
        binomial split without ``gain``; an image too small to split.
    """
    check_image(image, "image", ndims=(2,), min_size=16 if method == "checkerboard" else 8)
    check_choice(method, "method", SPLITS)
    sizes = normalize_pixel_size(pixel_size, 2)
    if method == "binomial":
        counts = photon_counts(to_host(image), gain, offset)
        if counts.sum() == 0:
            raise ValueError("image holds no photons: nothing to split")
        issue_warnings(_poisson_warnings(counts))
        first, second = binomial_split(counts, seed)
        result = fourier_correlation(first, second, pixel_size=sizes, threshold=threshold, apodization=apodization,
                                     taper=taper, crossing_rule=crossing_rule, confidence=confidence,
                                     device=device)
        result.parameters.update({"split": "binomial", "gain": gain, "offset": offset, "seed": seed,
                                  "photons": int(counts.sum())})
        return result
    if gain is not None:
        raise ValueError("gain is for the binomial split: the checkerboard split needs no photon counts")
    return _checkerboard_frc(image, sizes, threshold, apodization, taper, crossing_rule, confidence, device)


#: The diagonal pairs of sub-images: (rows, columns) of the first and the second, and where the second's samples
#: lie relative to the first's, in sub-image pixels.
_PAIRS = (((0, 0), (1, 1), (0.5, 0.5)), ((0, 1), (1, 0), (0.5, -0.5)))


def _full_image_equivalent(sums) -> np.ndarray:
    """Shell sums whose correlation is the two-image FRC of two images like the whole one: ``4 C / (1 + 3 C)``.

    A sub-image holds a quarter of the image's photons over the same field:
    at every frequency its spectral SNR is a quarter of the image's (the
    signal's spectral density per sub-image frequency unit is a quarter, the
    noise's the same), so ``SNR = C / (1 - C)`` is scaled by 4. Negative
    correlations (no signal: noise) stay as they are.
    """
    counts, cross, power1, power2 = sums
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = np.sqrt(power1) * np.sqrt(power2)
        measured = cross / norm
        scaled = np.where(measured > 0, 4 * measured / (1 + 3 * measured), measured)
    calibrated = sums.copy()
    calibrated[1] = np.where(np.isfinite(scaled), scaled * norm, cross)
    return calibrated


def _checkerboard_frc(image, sizes, threshold, apodization, taper, crossing_rule, confidence,
                      device) -> CorrelationResult:
    """:func:`single_image_frc` with the checkerboard split: both diagonal pairs, their half-pixel shift undone."""
    parse_threshold(threshold)
    check_crossing_rule(crossing_rule)
    xp = resolve_device(device, image)
    dtype = working_dtype(image.dtype)
    check_work({"image": image}, dtype, compute_path(xp))
    data = to_device(image, xp).astype(dtype, copy=False)
    data = data[: data.shape[0] // 2 * 2, : data.shape[1] // 2 * 2]
    sub_shape = (data.shape[0] // 2, data.shape[1] // 2)
    sub_sizes = tuple(2 * p for p in sizes)
    spectrum_dtype = np.result_type(dtype, np.complex64)
    widths = check_edge_options(apodization, taper, sub_shape, masked=False)
    geometry = shell_geometry(sub_shape, sub_sizes)
    frequencies = [xp.asarray(f) for f in frequency_axes(sub_shape)]  # cycles per sub-image pixel
    sums, tapered = 0.0, ()
    for (r1, c1), (r2, c2), shift in _PAIRS:
        first, second = data[r1::2, c1::2], data[r2::2, c2::2]
        tapered, windows = edge_windows(first, second, widths, taper, xp, masked=False)
        windows = [xp.asarray(w, dtype=dtype) for w in windows]
        rows, columns = (xp.exp(2j * np.pi * f * step).astype(spectrum_dtype) for f, step in zip(frequencies, shift))
        phase = rows[:, None] * columns[None, :]  # the shift's phase ramp, separable
        spectra = windowed_spectrum(first, xp, windows), windowed_spectrum(second, xp, windows) * phase.conj()
        sums = sums + spectra_sums(*spectra, geometry, xp)
    return result_from_sums(_full_image_equivalent(sums), geometry, threshold, crossing_rule, {
        "shape": tuple(image.shape), "split": "checkerboard", "sub_image_shape": sub_shape,
        "apodization_axes": widths, "tapered_axes": tapered, "taper": taper, "crossing_rule": crossing_rule,
        "dtype": str(np.dtype(dtype)), "path": compute_path(xp), "ring_thickness": 1,
    }, confidence)
