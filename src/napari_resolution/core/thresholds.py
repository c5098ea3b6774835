"""Resolution criteria for FSC/FRC curves and the first-crossing rule.

``n`` is the number of Fourier voxels in a shell of the *full* spectrum.

* half-bit (van Heel & Schatz 2005): ``(0.2071 + 1.9102/sqrt(n)) / (1.2071 + 0.9102/sqrt(n))`` -> 0.1716
* one-bit: ``(0.5 + 2.4142/sqrt(n)) / (1.5 + 1.4142/sqrt(n))`` -> 1/3
* 0.143 (1/7): Rosenthal & Henderson, for gold-standard half maps. It is not half-bit.
* 0.5: the classic fixed criterion.
* 3-sigma: ``3 / sqrt(n / 2)``, three standard deviations of pure-noise correlation.
"""

from __future__ import annotations

from numbers import Real

import numpy as np

from .results import STATUSES as _STATUS_MEANINGS
from .validation import check_choice, shown

__all__ = [
    "CRITERIA",
    "STATUSES",
    "all_threshold_curves",
    "check_crossing_rule",
    "decidable_shells",
    "find_crossing",
    "find_crossings",
    "parse_threshold",
    "resolution_from_crossing",
    "threshold_curve",
]

CRITERIA = ("half-bit", "one-bit", "0.143", "0.5", "3-sigma")
STATUSES = tuple(_STATUS_MEANINGS)
_RESOLVED, _BOUND, _UNRESOLVED = range(3)
CROSSING_RULES = ("first-below", "last-above")

_ALIASES = {
    "half-bit": "half-bit", "halfbit": "half-bit", "half_bit": "half-bit", "1/2-bit": "half-bit",
    "one-bit": "one-bit", "onebit": "one-bit", "one_bit": "one-bit", "1-bit": "one-bit",
    "0.143": "0.143", "1/7": "0.143",
    "0.5": "0.5",
    "3-sigma": "3-sigma", "3sigma": "3-sigma", "3_sigma": "3-sigma",
}


def parse_threshold(threshold) -> tuple[str, float | None]:
    """Return ``(criterion_name, fixed_value)`` for a threshold argument.

    ``fixed_value`` is None for the n-dependent criteria. A float in (0, 1)
    is a fixed threshold named by its value.

    Raises
    ------
    ValueError
        Unknown name, or a number outside (0, 1).
    """
    if isinstance(threshold, Real) and not isinstance(threshold, bool):
        value = float(threshold)
        if not 0 < value < 1:
            raise ValueError(f"threshold must lie in (0, 1), got {value}")
        return f"{value:g}", value
    if isinstance(threshold, str) and threshold.strip().lower() in _ALIASES:
        name = _ALIASES[threshold.strip().lower()]
        return name, {"0.143": 1 / 7, "0.5": 0.5}.get(name)
    raise ValueError(
        f"threshold must be one of {', '.join(CRITERIA)} or a number in (0, 1), got {shown(threshold)}"
    )


def threshold_curve(threshold, n_points) -> np.ndarray:
    """Threshold value per shell for a criterion.

    Parameters
    ----------
    threshold : str or float
        Criterion (see :data:`CRITERIA`) or fixed value.
    n_points : array_like, shape ``(n_shells,)``
        Fourier voxels per shell of the full spectrum.

    Returns
    -------
    ndarray, shape ``(n_shells,)``, float64
    """
    name, fixed = parse_threshold(threshold)
    n = _real_array(n_points, "n_points")
    if np.any(n < 0):
        raise ValueError(f"n_points must be shell counts >= 0, got a minimum of {n.min():g}")
    if fixed is not None:
        return np.full(n.shape, fixed)
    with np.errstate(divide="ignore", invalid="ignore"):
        root = np.sqrt(n)
        if name == "half-bit":  # an empty shell (n = 0) gets the limit 1.9102 / 0.9102
            return np.where(n > 0, (0.2071 + 1.9102 / root) / (1.2071 + 0.9102 / root), 1.9102 / 0.9102)
        if name == "one-bit":
            return np.where(n > 0, (0.5 + 2.4142 / root) / (1.5 + 1.4142 / root), 2.4142 / 1.4142)
        return 3.0 / np.sqrt(n / 2.0)


def all_threshold_curves(n_points) -> dict[str, np.ndarray]:
    """Every named criterion's curve for the given shell counts."""
    return {name: threshold_curve(name, n_points) for name in CRITERIA}


def check_crossing_rule(rule) -> str:
    """Return ``rule`` if it is a known crossing rule, else raise ValueError naming crossing_rule."""
    return check_choice(rule, "crossing_rule", CROSSING_RULES)


def decidable_shells(curve, threshold) -> np.ndarray:
    """Shells that can decide a crossing: above DC, finite curve, threshold below 1.

    A threshold >= 1 (3-sigma gives one for shells of fewer than 18 voxels)
    cannot be passed by any correlation.
    """
    curve, threshold = _real_array(curve, "curve"), _real_array(threshold, "threshold")
    if curve.ndim == 0 or curve.shape[-1] == 0:
        raise ValueError(f"curve must have at least one shell, got shape {curve.shape}")
    decidable = (_fitted(threshold, curve.shape, "threshold") < 1) & np.isfinite(curve)
    decidable[..., 0] = False
    return decidable


def resolution_from_crossing(crossing, status: str, reference_pixel: float):
    """Full-period resolution for a crossing: ``reference / crossing``, the Nyquist bound, or None.

    Raises
    ------
    ValueError
        An unknown status, a reference pixel that is not a positive number,
        or a crossing (for "resolved") and reference pixel that give no
        finite resolution.
    """
    if not isinstance(status, str) or status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {shown(status)}")
    if not (isinstance(reference_pixel, Real) and 0 < reference_pixel < np.inf):
        raise ValueError(f"reference_pixel must be a positive number, got {shown(reference_pixel)}")
    if status == "unresolved":
        return None
    crossing = 0.5 if status == "bound" else crossing  # a bound: the Nyquist frequency
    positive = isinstance(crossing, Real) and crossing > 0
    resolution = float(reference_pixel) / float(crossing) if positive else np.nan  # Python floats: no warning
    if not 0 < resolution < np.inf:
        raise ValueError(f"crossing ({shown(crossing)}) and reference_pixel ({shown(reference_pixel)}) give no "
                         f"finite resolution for status {status!r}: the crossing must be a positive frequency")
    return resolution


def find_crossing(frequency, curve, threshold, rule: str = "first-below", decidable=None):
    """Locate where ``curve`` drops below ``threshold``: :func:`find_crossings` for one curve.

    Returns
    -------
    crossing : float or None
        Crossing frequency (cycles/pixel), None unless status is "resolved".
    status : {"resolved", "bound", "unresolved"}
        "bound": the curve stays at or above the threshold up to Nyquist;
        "unresolved": it is already below at the first decidable shell.
    """
    curve, threshold = _real_array(curve, "curve"), _real_array(threshold, "threshold")
    decidable = None if decidable is None else _array(decidable, "decidable")[None]
    crossings, statuses = find_crossings(frequency, curve[None], threshold[None], rule, decidable)
    status = STATUSES[statuses[0]]
    return (float(crossings[0]) if status == "resolved" else None), status


def find_crossings(frequency, curves, thresholds, rule: str = "first-below", decidable=None):
    """Where each of a batch of curves drops below its threshold (no loop over curves).

    Only *decidable* shells take part (see :func:`decidable_shells`): a
    skipped shell is neither a crossing nor the shell a crossing is
    interpolated from.

    Parameters
    ----------
    frequency : ndarray, shape (n_shells,)
        Shell centres (cycles/pixel).
    curves : ndarray, shape (n_curves, n_shells)
        Curve values (e.g. one FSC per box).
    thresholds : ndarray, shape (n_curves, n_shells) or (n_shells,)
        Threshold values per curve (or one for all).
    rule : {"first-below", "last-above"}
        "first-below": the first decidable shell below the threshold, linearly
        interpolated with the decidable shell before it. "last-above": toupy's
        rule, the last shell at or above the threshold, not interpolated.
    decidable : ndarray of bool, shape like ``curves``, optional
        Overrides the default choice of decidable shells.

    Returns
    -------
    crossings : ndarray of float64, shape (n_curves,)
        Crossing frequencies (cycles/pixel), NaN where the status is not "resolved".
    statuses : ndarray of int8, shape (n_curves,)
        Index into :data:`STATUSES` ("resolved", "bound", "unresolved").
    """
    check_crossing_rule(rule)
    frequency = _real_array(frequency, "frequency")
    curves = np.atleast_2d(_real_array(curves, "curves"))
    if frequency.ndim != 1 or frequency.size == 0 or not np.isfinite(frequency).all() \
            or curves.shape[1:] != frequency.shape:
        raise ValueError(f"curves must have shape (n_curves, n_shells) and frequency (n_shells,), finite, "
                         f"n_shells >= 1; got {curves.shape} and {frequency.shape}")
    thresholds = _fitted(_real_array(thresholds, "thresholds"), curves.shape, "thresholds")
    if decidable is None:
        decidable = decidable_shells(curves, thresholds)
    decidable = _fitted(_array(decidable, "decidable"), curves.shape, "decidable")
    if decidable.dtype != bool:
        raise ValueError(f"decidable must be booleans, got dtype {decidable.dtype}")
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf in shells that are not decidable anyway
        margin = curves - thresholds
    if rule == "last-above":
        return _last_above(frequency, margin, decidable)
    return _first_below(frequency, margin, decidable)


def _previous_decidable(decidable) -> np.ndarray:
    """Per shell, the index of the decidable shell before it (-1 where none)."""
    positions = np.where(decidable, np.arange(decidable.shape[-1]), -1)
    before = np.maximum.accumulate(positions, axis=-1)
    return np.concatenate([np.full((decidable.shape[0], 1), -1), before[:, :-1]], axis=-1)


def _first_below(frequency, margin, decidable):
    rows = np.arange(margin.shape[0])
    below = decidable & (margin < 0)
    first = np.argmax(below, axis=-1)
    previous = _previous_decidable(decidable)[rows, first]
    statuses = np.where(~below.any(axis=-1), _BOUND, np.where(previous < 0, _UNRESOLVED, _RESOLVED))
    statuses[~decidable.any(axis=-1)] = _UNRESOLVED
    before = np.maximum(previous, 0)
    m0, m1 = margin[rows, before], margin[rows, first]
    f0, f1 = frequency[before], frequency[first]
    crossings = f0 + (f1 - f0) * _zero_fraction(m0, m1)
    return np.where(statuses == _RESOLVED, crossings, np.nan), statuses.astype(np.int8)


def _zero_fraction(m0, m1) -> np.ndarray:
    """Where the line from margin ``m0`` >= 0 to ``m1`` < 0 crosses zero, as a fraction of the step.

    Scaled first, so huge margins cannot overflow; an infinite ``m0`` (an
    infinite SSNR) crosses at the far end, two infinite margins half-way.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.maximum(np.abs(m0), np.abs(m1))
        fraction = (m0 / scale) / (m0 / scale - m1 / scale)
    return np.where(np.isinf(m0) & ~np.isinf(m1), 1.0, np.where(np.isnan(fraction), 0.5, np.clip(fraction, 0, 1)))


def _array(values, name: str) -> np.ndarray:
    """``np.asarray(values)``, or a ValueError naming ``name`` for a ragged sequence."""
    try:
        return np.asarray(values)
    except ValueError:
        raise ValueError(f"{name} must be an array, got a ragged sequence") from None


def _real_array(values, name: str) -> np.ndarray:
    """``values`` as a float64 array, or a ValueError naming ``name`` (text, complex, ragged, objects)."""
    array = _array(values, name)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be real numbers, got {type(values).__name__} of dtype {array.dtype}")
    return array.astype(np.float64, copy=False)


def _fitted(array, shape, name: str) -> np.ndarray:
    """``array`` broadcast to ``shape``, or a ValueError naming ``name``."""
    try:
        return np.broadcast_to(array, shape)
    except ValueError:
        raise ValueError(f"{name} of shape {array.shape} does not fit curves of shape {shape}") from None


def _last_above(frequency, margin, decidable):
    above = decidable & (margin >= 0)
    n_shells = margin.shape[-1]
    last_above = n_shells - 1 - np.argmax(above[:, ::-1], axis=-1)
    last_decidable = n_shells - 1 - np.argmax(decidable[:, ::-1], axis=-1)
    statuses = np.where(~above.any(axis=-1), _UNRESOLVED,
                        np.where(last_above == last_decidable, _BOUND, _RESOLVED))
    crossings = np.where(statuses == _RESOLVED, frequency[last_above], np.nan)
    return crossings, statuses.astype(np.int8)


def criterion_resolutions(frequency, curve, thresholds: dict, reference_pixel: float,
                          rule: str = "first-below") -> dict:
    """Every criterion's resolution read from one curve (one batched crossing search).

    Parameters
    ----------
    frequency : ndarray, shape (n_shells,)
        Shell centres (cycles/pixel).
    curve : ndarray, shape (n_shells,)
        The correlation the resolutions are read from.
    thresholds : dict of str to ndarray
        Criterion name to its curve, shape (n_shells,).
    reference_pixel : float
        Pixel size the frequencies refer to.
    rule : {"first-below", "last-above"}
        Crossing rule (:func:`find_crossings`).

    Returns
    -------
    dict of str to dict
        In the order of ``thresholds``: ``{"resolution": float or None,
        "status": str, "crossing": float or None}`` (full period, in the
        units of ``reference_pixel``).
    """
    names = list(thresholds)
    curves = np.broadcast_to(np.asarray(curve, dtype=np.float64), (len(names), len(curve)))
    crossings, statuses = find_crossings(frequency, curves, np.stack([thresholds[n] for n in names]), rule)
    readings = {}
    for name, crossing, index in zip(names, crossings, statuses):
        status = STATUSES[index]
        crossing = None if status != "resolved" else float(crossing)
        readings[name] = {"resolution": resolution_from_crossing(crossing, status, reference_pixel),
                          "status": status, "crossing": crossing}
    return readings
