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

__all__ = [
    "CRITERIA",
    "STATUSES",
    "all_threshold_curves",
    "check_crossing_rule",
    "decidable_shells",
    "find_crossing",
    "parse_threshold",
    "resolution_from_crossing",
    "threshold_curve",
]

CRITERIA = ("half-bit", "one-bit", "0.143", "0.5", "3-sigma")
STATUSES = ("crossed", "never_below", "never_above")
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
    decidable[0] = False
    return decidable


def resolution_from_crossing(crossing, status: str, reference_pixel: float):
    """Full-period resolution for a crossing: ``reference / crossing``, the Nyquist bound, or None."""
    if status == "crossed":
        return reference_pixel / crossing
    if status == "never_below":
        return reference_pixel / 0.5
    return None


def find_crossing(frequency, curve, threshold, rule: str = "first-below", decidable=None):
    """Locate where ``curve`` drops below ``threshold``.

    Only *decidable* shells take part (see :func:`decidable_shells`).

    Parameters
    ----------
    frequency, curve, threshold : ndarray, shape ``(n_shells,)``
        Shell centres (cycles/pixel), curve and threshold values.
    rule : {"first-below", "last-above"}
        "first-below": the first decidable shell below the threshold, linearly
        interpolated with the shell before it. "last-above": toupy's rule, the
        last shell at or above the threshold, not interpolated.
    decidable : ndarray of bool, optional
        Overrides the default choice of decidable shells.

    Returns
    -------
    crossing : float or None
        Crossing frequency (cycles/pixel), None unless status is "crossed".
    status : {"crossed", "never_below", "never_above"}
        "never_below": the curve stays at or above the threshold up to
        Nyquist; "never_above": it is already below at the first decidable shell.
    """
    check_crossing_rule(rule)
    frequency, curve, threshold = (np.asarray(x, dtype=np.float64) for x in (frequency, curve, threshold))
    if decidable is None:
        decidable = decidable_shells(curve, threshold)
    shells = np.flatnonzero(decidable)
    if shells.size == 0:
        return None, "never_above"
    margin = curve[shells] - threshold[shells]
    if rule == "last-above":
        above = np.flatnonzero(margin >= 0)
        if above.size == 0:
            return None, "never_above"
        if above[-1] == shells.size - 1:
            return None, "never_below"
        return float(frequency[shells[above[-1]]]), "crossed"
    below = np.flatnonzero(margin < 0)
    if below.size == 0:
        return None, "never_below"
    j = below[0]
    if j == 0:
        return None, "never_above"
    f0, f1 = frequency[shells[j - 1]], frequency[shells[j]]
    fraction = margin[j - 1] / (margin[j - 1] - margin[j])
    return float(f0 + (f1 - f0) * fraction), "crossed"
