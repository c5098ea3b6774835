"""The result protocol every estimator implements, and helpers for its frozen dataclasses.

Every result is a frozen dataclass deriving from :class:`Result`. Whatever
the estimator, it has

* ``status``: one of :data:`STATUSES` ("resolved", "bound", "unresolved");
* ``warnings``: a tuple of strings (empty when nothing is doubtful);
* ``parameters``: a dict of what produced it, including the compute ``path``
  ("numba", "numpy" or "cupy") where the estimator has several;
* ``pixel_size``: a tuple with one pixel size per axis of the analysed data;
* ``summary(unit)``: one line a user can copy;
* ``plots(unit)``: Qt-free descriptions of its curves (:mod:`.figures`), drawn
  alike by the PNG writer and the napari panel;
* ``to_dict()``: every field as JSON-ready values.

:meth:`Result.__post_init__` checks the shared fields, so a result that breaks
the protocol fails when it is made, not when a user reads it.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import warnings
from typing import ClassVar

import numpy as np

__all__ = ["PIXEL_UNIT", "STATUSES", "Result", "ShellResultMixin", "interval_text", "issue_warnings", "jsonable",
           "length", "number", "resolution_summary", "result_dataclass"]

#: The unit of lengths in pixels (no physical pixel size known): printed with the numbers, written as no unit.
PIXEL_UNIT = "px"
#: Printed numbers are plain (no exponent) from 10**-PLAIN_DIGITS[0] up to 10**PLAIN_DIGITS[1].
PLAIN_DIGITS = (6, 15)

#: The one status vocabulary of every estimator, with what it means for the number it reports.
STATUSES = {
    "resolved": "a resolution was measured (a curve crossed its criterion, a peak was found)",
    "bound": "only a bound: the curve stays above its criterion over the whole measured range "
             "(e.g. up to Nyquist), so the resolution is at least as fine as the number given",
    "unresolved": "no resolution: the curve is never above its criterion, or no valid peak exists",
}

#: The package of the estimators: warnings point at the first caller outside it.
_CORE = __name__.rpartition(".")[0]

#: Every result is a frozen, keyword-only dataclass compared by identity (it holds arrays).
result_dataclass = dataclasses.dataclass(frozen=True, eq=False, kw_only=True)


def jsonable(value):
    """Convert ``value`` to plain JSON types; NaN and +/-Inf become None."""
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())  # a list, or a scalar for a 0-d array
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


class ResultMixin:
    """Mixin for frozen dataclasses: arrays made read-only, ``to_dict()`` for JSON."""

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
            elif isinstance(value, dict):
                for item in value.values():
                    if isinstance(item, np.ndarray):
                        item.flags.writeable = False

    def to_dict(self) -> dict:
        """Every field as JSON-ready values (lists, floats, None for NaN/Inf)."""
        return {f.name: jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}


@result_dataclass
class Result(ResultMixin):
    """Base of every estimator's result: the shared fields, declared here once and checked when it is made.

    Subclasses are :data:`result_dataclass` dataclasses adding their own
    fields; they implement :meth:`summary`, :meth:`plots` and
    :meth:`columns`, and name their main number in :attr:`HEADLINE` (or
    override :meth:`headline`).

    Attributes
    ----------
    status : str
        One of :data:`STATUSES`.
    pixel_size : tuple of float
        Pixel size per axis of the analysed data (physical units).
    warnings : tuple of str
        Doubts about the numbers (empty when there are none).
    parameters : dict
        Everything else that produced the result, including the compute
        ``path`` ("numba", "numpy", "cupy", ...).
    """

    #: (attribute holding the main number, what it is): what :meth:`headline` reports.
    HEADLINE: ClassVar[tuple[str, str]] = ("resolution", "resolution")

    status: str
    pixel_size: tuple
    warnings: tuple = ()
    parameters: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        super().__post_init__()
        name = type(self).__name__
        if self.status not in STATUSES:
            raise TypeError(f"{name}.status must be one of {', '.join(STATUSES)}, got {self.status!r}")
        if not isinstance(self.warnings, tuple) or not all(isinstance(w, str) for w in self.warnings):
            raise TypeError(f"{name}.warnings must be a tuple of str, got {self.warnings!r}")
        if not isinstance(self.parameters, dict):
            raise TypeError(f"{name}.parameters must be a dict, got {type(self.parameters).__name__}")
        if not isinstance(self.pixel_size, tuple) or not all(isinstance(p, float) for p in self.pixel_size):
            raise TypeError(f"{name}.pixel_size must be a tuple of float (one per axis), got {self.pixel_size!r}")

    def summary(self, unit: str = "") -> str:  # pragma: no cover - every subclass overrides it
        """One line a user can copy, with the number, its unit, its meaning and the status."""
        raise NotImplementedError

    def unit_of_lengths(self, unit: str) -> str:
        """The unit printed with this result's lengths: ``unit``; else "px" (:data:`PIXEL_UNIT`) when every pixel
        size is 1 (the lengths are in pixels); else "" (a pixel size without a unit: the bare numbers)."""
        if unit or any(size != 1.0 for size in self.pixel_size):
            return unit
        return PIXEL_UNIT

    def plots(self, unit: str = "", **options) -> tuple:  # pragma: no cover - every subclass overrides it
        """The curves of this result as :class:`~.figures.Plot` descriptions (Qt-free)."""
        raise NotImplementedError

    def columns(self, **options) -> dict:  # pragma: no cover - every subclass overrides it
        """The result's table (what ``--csv`` writes): column name -> 1-D values, all of one length."""
        raise NotImplementedError

    def headline(self) -> tuple[str, float | None]:
        """What the main number is (e.g. "resolution") and its value (None when there is none).

        It is the number a job reports in its summary row (the CLI's
        ``summary.csv``); :attr:`HEADLINE` names it.
        """
        attribute, quantity = self.HEADLINE
        return quantity, getattr(self, attribute)


def number(value, digits: int = 3) -> str:
    """``value`` as printed in every summary: ``digits`` significant digits in plain notation, never an exponent.

    ``1432.7`` -> ``1433`` (the whole digits are kept), ``4.2431`` -> ``4.24``, ``0.0426137`` -> ``0.0426``,
    ``5.0`` -> ``5`` (no trailing zeros); an exponent only below 1e-6 or from 1e15 on, NaN and Inf as ``nan``, ``inf``.

    Parameters
    ----------
    value : float
        The number.
    digits : int
        Significant digits (at least; whole digits are never rounded away).
    """
    value = float(value)
    if not math.isfinite(value) or value == 0:
        return f"{value:g}"
    magnitude = math.floor(math.log10(abs(value)))
    if not -PLAIN_DIGITS[0] <= magnitude < PLAIN_DIGITS[1]:
        return f"{value:.{digits}g}"
    text = f"{value:.{max(0, digits - 1 - magnitude)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def length(value, unit: str = "", digits: int = 3) -> str:
    """A length as printed: :func:`number` and its unit, e.g. ``1430 Å``, ``4.24 px``; the bare number without a
    unit (a pixel size given without one)."""
    return f"{number(value, digits)} {unit}" if unit else number(value, digits)


def issue_warnings(notes, category=RuntimeWarning) -> None:
    """Issue each of ``notes`` (a result's warnings) as a warning of ``category``.

    Every estimator issues its doubts this way, so they point at the line of
    the user's code that called the estimator, however deep inside the core
    they are issued (the first caller outside ``napari_resolution.core``).
    """
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith(_CORE):
        level, frame = level + 1, frame.f_back
    for note in notes:
        warnings.warn(note, category, stacklevel=level)


def resolution_summary(resolution, status: str, criterion: str, unit: str = "", *, curve: str = "correlation",
                       qualifier: str = "", extra: str = "", interval=None) -> str:
    """One copyable line, e.g. ``3.42 Å (half-bit, full period) · 1.71 Å half period · status resolved``.

    Parameters
    ----------
    resolution : float or None
        Full-period resolution (the Nyquist bound for "bound").
    status : str
        One of :data:`STATUSES`.
    criterion : str
        Threshold name.
    unit : str
        Unit of the resolution (:meth:`Result.unit_of_lengths`).
    curve : str
        What was read ("correlation", "corrected FSC"), for the no-resolution message.
    qualifier : str
        Added inside the parentheses, e.g. "phase-randomisation corrected".
    extra : str
        Appended before the status, e.g. " · masked 3.1 Å".
    interval : (float or None, float or None), optional
        (finest, coarsest) resolution of a confidence interval, shown as ``[4.25, 4.40]`` after the number
        (``≤`` for a finest bound at Nyquist is implied; a missing coarsest edge shows as ``…``).
    """
    if status == "unresolved":
        return f"no resolution: the {curve} is never above {criterion} · status unresolved"
    bound = "≤ " if status == "bound" else ""
    qualifier = f", {qualifier}" if qualifier else ""
    return (f"{bound}{length(resolution, unit)}{interval_text(interval)} ({criterion}, full period{qualifier}) · "
            f"{bound}{length(resolution / 2, unit)} half period{extra} · status {status}")


def interval_text(interval) -> str:
    """`` [4.25, 4.40]`` for a (finest, coarsest) interval (a missing edge shows as ``…``); "" for None."""
    if interval is None:
        return ""
    return " [" + ", ".join("…" if edge is None else number(edge) for edge in interval) + "]"


class ShellResultMixin(Result):
    """Results on frequency shells: physical frequencies from ``frequency`` and ``reference_pixel_size``."""

    def curve_columns(self, curves: dict) -> dict:
        """Table of per-shell ``curves`` (name -> values): the frequency first, the voxel counts and every
        criterion's curve after them."""
        columns = {"frequency_cycles_per_pixel": self.frequency, **curves, "n_points": self.n_points}
        columns.update({f"threshold_{name}": curve for name, curve in self.thresholds.items()})
        return columns

    @property
    def spatial_frequency(self) -> np.ndarray:
        """Shell centres in cycles per physical unit (``frequency / reference_pixel_size``)."""
        return self.frequency / self.reference_pixel_size
