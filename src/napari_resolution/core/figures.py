"""Qt-free descriptions of what a result shows: curves, markers, axes, one palette.

Every result's ``plots(unit)`` returns :class:`Plot` objects; the matplotlib
PNG writer (:mod:`napari_resolution.plotting`) and the napari curve panel
(:mod:`napari_resolution.gui.plots`) both draw those, so a curve has the same
label, colour and line style everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .results import length, number

__all__ = ["COLORS", "FREQUENCY_LABEL", "PALETTE", "ROLES", "Curve", "Marker", "Plot", "label_side", "labelled_range",
           "overlay", "overlay_runs", "resolution_marker", "resolution_ticks", "threshold_curves", "threshold_notes"]

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
#: Marker labels go left of their line in this right part of a plot (a fraction of its width from the left).
LEFT_PART = 0.6
#: Of the value range of a plot with markers that follows its data, the share left free above the values: the
#: labels sit at the top of the lines, above a histogram's peak rather than on it.
LABEL_HEADROOM = 0.2
#: And the share left free below the values.
MARGIN = 0.03


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
    notes : tuple of str
        Lines of text shown with the plot (e.g. every threshold's resolution).
    integer_x : bool
        x holds whole numbers (e.g. slice indices): ticked at whole numbers only.
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
    notes: tuple = ()
    integer_x: bool = False

    @property
    def resolution_axis(self) -> str | None:
        """Label of a second x axis in resolution units (``pixel_size / x``), None where there is none.

        Frequency plots of data with a known unit have one.
        """
        if not (self.frequency_axis and self.unit and self.image is None):
            return None
        return f"resolution, full period ({self.unit})"

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
    if status == "resolved":
        return (Marker(float(x), length(resolution, unit)),)
    if status == "bound":
        return (Marker(0.5, f"≤ {length(resolution, unit)} (Nyquist)"),)
    return ()


def threshold_notes(resolutions: dict, unit: str = "") -> tuple:
    """One line per criterion, e.g. ``"0.143: 3.1 Å (resolved)"``.

    Parameters
    ----------
    resolutions : dict of str to dict
        Criterion name to ``{"resolution", "status"}``
        (:func:`~.thresholds.criterion_resolutions`).
    unit : str
        Unit of the resolutions.
    """
    lines = []
    for name, reading in resolutions.items():
        resolution, status = reading["resolution"], reading["status"]
        value = "none" if resolution is None else f"{'≤ ' if status == 'bound' else ''}{length(resolution, unit)}"
        lines.append(f"{name}: {value} ({status})")
    return tuple(lines)


def label_side(x: float, width: float, left: float, right: float) -> int:
    """The side of its line a marker label goes: 1 (right) or -1 (left), so that it stays in the plot.

    Right of the line, left of it in the right part of the plot
    (:data:`LEFT_PART`) or where it would pass the right edge; where it fits
    on neither side, the side with more room.

    Parameters
    ----------
    x : float
        The line (any coordinates along the plot's width, e.g. pixels).
    width : float
        The label's width, in the same coordinates.
    left, right : float
        The plot's edges.
    """
    fits_right, fits_left = x + width <= right, x - width >= left
    if fits_right and fits_left:
        return -1 if x > left + LEFT_PART * (right - left) else 1
    if fits_right or fits_left:
        return 1 if fits_right else -1
    return 1 if right - x >= x - left else -1


def labelled_range(values) -> tuple[float, float] | None:
    """The value range of a linear plot with markers whose range follows its data: the values, with
    :data:`MARGIN` of it free below and :data:`LABEL_HEADROOM` above for the marker labels (None without values).

    Parameters
    ----------
    values : ndarray
        The measured curves' finite values.
    """
    if not np.size(values):
        return None
    low, high = float(np.min(values)), float(np.max(values))
    span = high - low or abs(high) or 1.0
    return low - MARGIN * span, high + LABEL_HEADROOM * span


def overlay(plots, names, colors=PALETTE, *, curve_label: str = "{name}: {label}",
            marker_label: str = "{name}: {label}") -> Plot:
    """One plot of several things measured together (channels, ROIs), each in its own colour.

    Every curve and every marker of its own takes its plot's colour and a
    label naming it; markers in the neutral guide colour (e.g. Nyquist) are
    shared and kept once. Axes, ranges and notes are the first plot's.

    Parameters
    ----------
    plots : sequence of Plot
        One plot per thing, alike (the same kind of result).
    names : sequence of str
        Per plot, its name (e.g. "ch 1", "2").
    colors : sequence of str
        Hex colours, used in turn.
    curve_label, marker_label : str
        Labels of curves and own markers, formatted with ``name`` and the
        curve's or marker's ``label``.

    Returns
    -------
    Plot
    """
    tinted = [(name, colors[index % len(colors)], plot) for index, (name, plot) in enumerate(zip(names, plots))]
    curves = [replace(curve, label=curve_label.format(name=name, label=curve.label), color=color)
              for name, color, plot in tinted for curve in plot.curves]
    markers = {}
    for name, color, plot in tinted:
        for marker in plot.markers:
            own = marker.color != COLORS["marker"]
            shown = replace(marker, label=marker_label.format(name=name, label=marker.label), color=color) \
                if own else marker
            markers.setdefault((shown.x, shown.label), shown)
    return replace(plots[0], curves=tuple(curves), markers=tuple(markers.values()))


def overlay_runs(plots, names) -> Plot:
    """Runs of one estimator drawn together for comparison (the latest last).

    Every run's measured curves (:attr:`Curve.is_data`) take the run's
    palette colour and its name in their label (``"<label> — <name>"``),
    those of earlier runs thinner (role "secondary"); the latest run's other
    curves (thresholds, guides), its markers, axes and notes are kept as they
    are. One run: its plot unchanged.

    Parameters
    ----------
    plots : sequence of Plot
        The runs, oldest first.
    names : sequence of str
        Per run, what tells it from the others (e.g. "Threshold: 0.143").

    Returns
    -------
    Plot
    """
    if len(plots) == 1:
        return plots[0]
    curves = []
    for index, (plot, name) in enumerate(zip(plots, names)):
        latest = index == len(plots) - 1
        for curve in plot.curves:
            if curve.is_data:
                label = f"{curve.label} — {name}" if curve.label else ""
                curves.append(replace(curve, label=label, color=PALETTE[index % len(PALETTE)],
                                      role=curve.role if latest else "secondary"))
            elif latest:
                curves.append(curve)
    return replace(plots[-1], curves=tuple(curves))


#: Mantissas of the resolution values a second axis may be ticked at.
_NICE = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)


def resolution_ticks(pixel_size: float, low: float, high: float, count: int = 6) -> list:
    """Ticks of a second frequency axis in resolution units: round resolutions and where they sit.

    Parameters
    ----------
    pixel_size : float
        Pixel size the frequencies refer to (resolution = ``pixel_size / frequency``).
    low, high : float
        Shown frequency range, cycles/pixel.
    count : int
        At most about this many ticks; neighbours are at least ``(high - low) / count`` apart.

    Returns
    -------
    list of (float, str)
        (frequency in cycles/pixel, resolution as text), highest frequency first; round
        resolutions, or three evenly spaced ones when fewer than two round ones fit.
    """
    if high <= max(low, 0.0):
        return []
    gap = (high - low) / count
    floor = max(low, gap / 2)  # no tick at the (infinite) resolution of DC
    decades = np.arange(np.floor(np.log10(pixel_size / high)), np.ceil(np.log10(pixel_size / floor)) + 1)
    values = sorted(m * 10.0 ** d for d in decades for m in _NICE)
    ticks = []
    for value in values:
        frequency = pixel_size / value
        if floor <= frequency <= high and (not ticks or ticks[-1][0] - frequency >= gap):
            ticks.append((float(frequency), f"{value:g}"))
    if len(ticks) < 2:  # zoomed in between round values
        ticks = [(float(f), number(pixel_size / f)) for f in np.linspace(high, floor, 3)]
    return ticks
