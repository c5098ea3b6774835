"""Headless PNG plots for the CLI (matplotlib's Agg canvas; never imports Qt).

Draws the Qt-free :class:`~napari_resolution.core.figures.Plot` descriptions
a result gives, with the styles of :data:`~napari_resolution.core.figures.ROLES`,
so a PNG shows the same curves, labels and colours as the napari panel: marker
labels at the top of their lines, on a background, clear of the curves and of
each other; a second (top) axis in resolution units where the unit is known;
a plot's notes (e.g. every threshold's resolution) under it.
"""

from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .core.figures import COLORS, ROLES, Plot, label_side, labelled_range, resolution_ticks
from .core.results import length
from .io import written_aside

__all__ = ["plot_figure", "save_plots", "save_result_plot"]

_LINESTYLES = {"solid": "-", "dashed": "--", "dotted": ":"}
#: Marker labels: font size (points), gap between a label and its line and between rows (points).
_LABEL_SIZE, _LABEL_GAP, _ROW = 7.5, 3.0, 13.0
#: Label rows tried below the top of the axes (the lowest sits about halfway down a 4-inch plot).
_ROWS = 8


def save_result_plot(result, path, *, unit: str = "", expected=None, title: str = "", **options) -> None:
    """Save every plot of ``result`` side by side to a PNG, titled by its summary line.

    Parameters
    ----------
    result : Result
        Any estimator's result (its ``plots(unit, **options)`` are drawn).
    path : str or Path
        Output PNG file.
    unit : str
        Unit of the pixel size.
    expected : ExpectedCorrelation, optional
        Analytic curve added to the first plot (simulated data).
    title : str
        Figure title (default: the result's summary line).
    **options
        Passed to ``result.plots`` (e.g. ``all_thresholds=True``).
    """
    plots = list(result.plots(unit, **options))
    if expected is not None:
        plots[0] = plots[0].with_curves(expected.as_curve())
    save_plots(plots, path, title=title or result.summary(unit))


def save_plots(plots, path, *, title: str = "") -> None:
    """Draw ``plots`` in one row of axes (:func:`plot_figure`) and save them as a PNG (written aside and renamed:
    see :func:`~.io.written_aside`)."""
    with written_aside(path) as temporary:
        plot_figure(plots, title=title).savefig(temporary)


def plot_figure(plots, *, title: str = "") -> Figure:
    """The figure of ``plots``, one row of axes, laid out and with its marker labels placed.

    Parameters
    ----------
    plots : sequence of Plot
        What to draw, left to right.
    title : str
        Figure title (wrapped at 100 characters).
    """
    widths = [3 if plot.image is None and plot.frequency_axis else 2 for plot in plots]
    notes = max((len(_notes_text(plot).splitlines()) for plot in plots), default=0)
    figure = Figure(figsize=(7.0 if len(plots) == 1 else 9.5, 4.2 + 0.16 * notes), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, len(plots), gridspec_kw={"width_ratios": widths}, squeeze=False)[0]
    obstacles = [_draw(ax, plot) for ax, plot in zip(axes, plots)]
    figure.suptitle("\n".join(textwrap.wrap(title, 100)), fontsize=9)
    figure.tight_layout()
    for ax, plot, lines in zip(axes, plots, obstacles):
        _label_markers(ax, plot.markers, lines)
        if any(curve.label for curve in plot.curves):
            ax.legend(loc="best", fontsize=7, framealpha=0.9)  # placed at draw time, clear of the labels
    return figure


def _draw(axes, plot: Plot) -> list:
    """Draw ``plot`` in ``axes`` (marker lines without their labels); return the curves' lines."""
    if plot.image is not None:
        axes.imshow(plot.image, cmap="magma")
        axes.set_title(plot.title, fontsize=8)
        axes.set_axis_off()
        return []
    lines = []
    for curve in plot.curves:
        style, width = ROLES[curve.role]
        label = curve.label or None
        if style is None:
            lines += axes.plot(curve.x, curve.y, "x", color=curve.color, label=label)
        else:
            lines += axes.plot(curve.x, curve.y, _LINESTYLES[style], color=curve.color, lw=width, label=label)
    for marker in plot.markers:
        axes.axvline(marker.x, color=_on_white(marker.color), lw=1)
    _axes_ranges(axes, plot)
    if plot.integer_x:
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel(_x_label(plot))
    axes.set_ylabel(plot.y_label)
    axes.grid(alpha=0.3)
    _resolution_axis(axes, plot)
    if plot.notes:
        axes.annotate(_notes_text(plot), (0, 0), xycoords=("axes fraction", axes.xaxis.label), xytext=(0, -4),
                      textcoords="offset points", va="top", fontsize=7)
    return lines


def _notes_text(plot: Plot) -> str:
    return "\n".join(textwrap.wrap(" · ".join(plot.notes), 110))


def _resolution_axis(axes, plot: Plot) -> None:
    """A top axis ticked in resolution units (``pixel_size / frequency``) where the plot has one."""
    if plot.resolution_axis is None:
        return
    ticks = resolution_ticks(plot.pixel_size, *axes.get_xlim())
    top = axes.secondary_xaxis("top")
    top.set_xticks([frequency for frequency, _ in ticks], [text for _, text in ticks])
    top.set_xlabel(plot.resolution_axis, fontsize=8)
    top.tick_params(labelsize=8)


def _label_markers(axes, markers, obstacles) -> None:
    """Each marker's label at the top of its line, on a background, on the side
    :func:`~.core.figures.label_side` gives (inside the axes), lowered row by row until it overlaps neither an
    earlier label nor a curve (else the first row clear of the labels)."""
    renderer = axes.figure.canvas.get_renderer()
    inside = axes.get_window_extent(renderer)
    placed = []
    for marker in sorted(markers, key=lambda m: m.x):
        color = _on_white(marker.color)
        label = axes.annotate(marker.label, (marker.x, 1), xycoords=("data", "axes fraction"),
                              xytext=(_LABEL_GAP, -_LABEL_GAP), textcoords="offset points", va="top",
                              fontsize=_LABEL_SIZE, color=color,
                              bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": color, "lw": 0.6, "alpha": 0.9})
        box = label.get_window_extent(renderer).padded(2)
        x = axes.transData.transform((marker.x, 0))[0]
        if label_side(x, box.x1 - x, inside.x0, inside.x1) < 0:
            label.set_horizontalalignment("right")
            label.xyann = (-_LABEL_GAP, label.xyann[1])
        rows = [_box(label, row, renderer) for row in range(_ROWS)]
        free = [row for row, box in enumerate(rows) if not any(box.overlaps(other) for other in placed)]
        clear = [row for row in free if not any(_crosses(line, rows[row]) for line in obstacles)]
        row = (clear or free or [0])[0]
        placed.append(_box(label, row, renderer))


def _box(label, row: int, renderer):
    """The window extent of ``label`` moved to ``row``, padded by its background box."""
    label.xyann = (label.xyann[0], -_LABEL_GAP - row * _ROW)
    return label.get_window_extent(renderer).padded(2)


def _crosses(line, box) -> bool:
    """True when the drawn ``line`` (display coordinates) enters ``box``."""
    path = line.get_transform().transform_path(line.get_path())
    return bool(path.intersects_bbox(box, filled=False))


def _on_white(color: str) -> str:
    """Marker colours are chosen for napari's dark canvas; its light greys become dark grey on white."""
    return "0.3" if color in (COLORS["marker"], COLORS["reference"]) else color


def _axes_ranges(axes, plot: Plot) -> None:
    """Fixed ranges of ``plot``; a log axis spans the measured values (at most 8 decades), a range that follows
    the data of a plot with markers leaves room for their labels above the values, as in the panel."""
    if plot.x_range is not None:
        axes.set_xlim(*plot.x_range)
    values = np.concatenate([np.asarray(c.y, float).ravel() for c in plot.curves if c.is_data] or [[]])
    values = values[np.isfinite(values)]
    if plot.log_y:
        axes.set_yscale("log")
        values = values[values > 0]
        if values.size:
            high = np.log10(values.max())
            axes.set_ylim(10 ** (max(np.log10(values.min()), high - 8) - 0.3), 10 ** (high + 0.3))
    elif plot.y_range is not None:
        axes.set_ylim(min(plot.y_range[0], values.min(initial=plot.y_range[0])), plot.y_range[1])
    elif plot.markers and values.size:
        axes.set_ylim(*labelled_range(values))


def _x_label(plot: Plot) -> str:
    if not (plot.frequency_axis and plot.x_label.endswith(")")):
        return plot.x_label
    return f"{plot.x_label[:-1]}; pixel = {length(plot.pixel_size, plot.unit)})"
