"""Qt-free descriptions of what a result shows: curves, markers, axes, one palette.

Every result's ``plots(unit)`` returns :class:`Plot` objects; the matplotlib
PNG writer (:mod:`napari_resolution.plotting`) and the napari curve panel
(:mod:`napari_resolution.gui.plots`) both draw those, so a curve has the same
label, colour and line style everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

__all__ = ["COLORS", "FREQUENCY_LABEL", "PALETTE", "ROLES", "Curve", "Marker", "Plot", "resolution_marker",
           "threshold_curves"]

#: How each role is drawn: line style ("solid", "dashed", "dotted" or None for symbols only) and width.
ROLES = {
    "measured": ("solid", 2.0),     # the curve the result is read from
    "secondary": ("solid", 1.2),    # other measured curves (masked, unmasked, ...)
    "family": ("solid", 0.8),       # many thin curves of one kind (decorrelation filters)
    "threshold": ("dashed", 1.5),   # criterion curves
    "expected": ("dotted", 1.5),    # analytic truth of simulated data
    "reference": ("dotted", 1.0),   # guides: asymptotes, medians
    "points": (None, 0.0),          # symbols only (peaks)
}

#: Named colours shared by every plot (readable on napari's dark canvas and on white PNGs).
COLORS = {
    "measured": "#2f8fff",
    "corrected": "#30b080",
    "masked": "#2f8fff",
    "randomized": "#f0a000",
    "unmasked": "#9a9a9a",
    "threshold": "#f04848",
    "expected": "#b0b0b0",
    "reference": "#9a9a9a",
    "family": "#8a8a8a",
    "refined": "#2f8fff",
    "peaks": "#f04848",
    "marker": "#d0d0d0",
}

#: Colours for lists of things (overlaid runs, ROIs, extra thresholds).
PALETTE = ("#2f8fff", "#f0a000", "#30b080", "#d060d0", "#f04848", "#9090ff", "#b0b030", "#40c0c0")

FREQUENCY_LABEL = "spatial frequency (cycles/pixel)"


@dataclass(frozen=True)
class Curve:
    """One line of a plot.

    Attributes
    ----------
    label : str
        Legend entry ("" keeps it out of the legend).
    x, y : ndarray, shape (n,)
        Abscissa (cycles/pixel on frequency plots) and values.
    role : str
        One of :data:`ROLES`: decides line style and width.
    color : str
        Hex colour.
    """

    label: str
    x: np.ndarray
    y: np.ndarray
    role: str = "measured"
    color: str = COLORS["measured"]

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, got {self.role!r}")

    @property
    def is_data(self) -> bool:
        """True for measured curves (they set the value range and are kept when runs are overlaid)."""
        return self.role in ("measured", "secondary")


@dataclass(frozen=True)
class Marker:
    """A vertical line at ``x`` (the plot's abscissa units) with a text label."""

    x: float
    label: str
    color: str = COLORS["marker"]


@dataclass(frozen=True)
class Plot:
    """One plot panel.

    Attributes
    ----------
    title : str
        What the plot shows (a run's name when overlaid).
    curves : tuple of Curve
    markers : tuple of Marker
    x_label, y_label : str
        Axis labels.
    frequency_axis : bool
        True when x is spatial frequency in cycles/pixel (the read-out then
        converts it to a physical frequency and a resolution).
    x_range, y_range : (float, float) or None
        Fixed axis ranges; None follows the data.
    log_y : bool
        Logarithmic value axis (non-positive values are not drawn).
    pixel_size : float
        Physical size of one pixel along x (the reference pixel).
    unit : str
        Unit of ``pixel_size``.
    image : ndarray or None
        A 2-D image to show instead of curves (e.g. the PSF box of a bead).
    """

    title: str
    curves: tuple = ()
    markers: tuple = ()
    x_label: str = FREQUENCY_LABEL
    y_label: str = ""
    frequency_axis: bool = True
    x_range: tuple | None = (0.0, 0.5)
    y_range: tuple | None = None
    log_y: bool = False
    pixel_size: float = 1.0
    unit: str = ""
    image: np.ndarray | None = field(default=None, repr=False)

    def with_curves(self, *curves: Curve) -> Plot:
        """A copy with ``curves`` added."""
        return replace(self, curves=(*self.curves, *curves))

    def titled(self, title: str) -> Plot:
        """A copy with another title."""
        return replace(self, title=title)


def threshold_curves(frequency, criterion: str, chosen, every: dict, show_all: bool = False) -> list:
    """The chosen criterion's dashed curve, then (``show_all``) every other criterion's in palette colours.

    Parameters
    ----------
    frequency : ndarray, shape (n_shells,)
        Shell centres.
    criterion : str
        Name of the chosen criterion.
    chosen : ndarray, shape (n_shells,)
        Its curve.
    every : dict of str to ndarray
        Every named criterion's curve.
    show_all : bool
        Add the criteria other than the chosen one.
    """
    curves = [Curve(criterion, frequency, chosen, "threshold", COLORS["threshold"])]
    if show_all:
        others = [(name, curve) for name, curve in every.items() if name != criterion]
        colors = [color for color in PALETTE[1:] if color != COLORS["threshold"]]  # none like the chosen one
        curves += [Curve(name, frequency, curve, "threshold", color) for (name, curve), color in zip(others, colors)]
    return curves


def resolution_marker(x, resolution, status: str, unit: str = "") -> tuple:
    """The marker of a resolution read at frequency ``x``: the number, "≤ …" for a bound, none without one."""
    spaced = f" {unit}" if unit else ""
    if status == "resolved":
        return (Marker(float(x), f"{resolution:.3g}{spaced}"),)
    if status == "bound":
        return (Marker(0.5, f"≤ {resolution:.3g}{spaced} (Nyquist)"),)
    return ()
