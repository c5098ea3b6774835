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
        f"threshold must be one of {', '.join(CRITERIA)} or a number in (0, 1), got {threshold!r}"
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
    n = np.asarray(n_points, dtype=np.float64)
    if fixed is not None:
        return np.full(n.shape, fixed)
    with np.errstate(divide="ignore"):
        root = np.sqrt(n)
        if name == "half-bit":
            return (0.2071 + 1.9102 / root) / (1.2071 + 0.9102 / root)
        if name == "one-bit":
            return (0.5 + 2.4142 / root) / (1.5 + 1.4142 / root)
        return 3.0 / np.sqrt(n / 2.0)


def all_threshold_curves(n_points) -> dict[str, np.ndarray]:
    """Every named criterion's curve for the given shell counts."""
    return {name: threshold_curve(name, n_points) for name in CRITERIA}


def check_crossing_rule(rule) -> str:
    """Return ``rule`` if it is a known crossing rule, else raise ValueError naming crossing_rule."""
    if rule not in CROSSING_RULES:
        raise ValueError(f"crossing_rule must be one of {', '.join(CROSSING_RULES)}, got {rule!r}")
    return rule


def decidable_shells(curve, threshold) -> np.ndarray:
    """Shells that can decide a crossing: above DC, finite curve, threshold below 1.

    A threshold >= 1 (3-sigma gives one for shells of fewer than 18 voxels)
    cannot be passed by any correlation.
    """
    decidable = (np.asarray(threshold) < 1) & np.isfinite(curve)
    decidable[..., 0] = False
    return decidable


def resolution_from_crossing(crossing, status: str, reference_pixel: float):
    """Full-period resolution for a crossing: ``reference / crossing``, the Nyquist bound, or None."""
    if status == "resolved":
        return reference_pixel / crossing
    if status == "bound":
        return reference_pixel / 0.5
    return None


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
    curve = np.asarray(curve, dtype=np.float64)
    decidable = None if decidable is None else np.asarray(decidable)[None]
    crossings, statuses = find_crossings(frequency, curve[None], np.asarray(threshold)[None], rule, decidable)
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
    frequency = np.asarray(frequency, dtype=np.float64)
    curves = np.atleast_2d(np.asarray(curves, dtype=np.float64))
    thresholds = np.broadcast_to(np.asarray(thresholds, dtype=np.float64), curves.shape)
    if decidable is None:
        decidable = decidable_shells(curves, thresholds)
    decidable = np.broadcast_to(decidable, curves.shape)
    with np.errstate(invalid="ignore"):  # inf - inf in shells that are not decidable anyway
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
    with np.errstate(divide="ignore", invalid="ignore"):
        crossings = f0 + (f1 - f0) * (m0 / (m0 - m1))
    return np.where(statuses == _RESOLVED, crossings, np.nan), statuses.astype(np.int8)


def _last_above(frequency, margin, decidable):
    above = decidable & (margin >= 0)
    n_shells = margin.shape[-1]
    last_above = n_shells - 1 - np.argmax(above[:, ::-1], axis=-1)
    last_decidable = n_shells - 1 - np.argmax(decidable[:, ::-1], axis=-1)
    statuses = np.where(~above.any(axis=-1), _UNRESOLVED,
                        np.where(last_above == last_decidable, _BOUND, _RESOLVED))
    crossings = np.where(statuses == _RESOLVED, frequency[last_above], np.nan)
    return crossings, statuses.astype(np.int8)
