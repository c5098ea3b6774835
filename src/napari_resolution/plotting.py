"""Headless PNG plots for the CLI (matplotlib's Agg canvas; never imports Qt).

Draws the Qt-free :class:`~napari_resolution.core.figures.Plot` descriptions
a result gives, with the styles of :data:`~napari_resolution.core.figures.ROLES`,
so a PNG shows the same curves, labels and colours as the napari panel.
"""

from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .core.figures import COLORS, ROLES, Plot

__all__ = ["save_plots", "save_result_plot"]

_LINESTYLES = {"solid": "-", "dashed": "--", "dotted": ":"}


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
    """Draw ``plots`` in one row of axes and save them as a PNG."""
    widths = [3 if plot.image is None and plot.frequency_axis else 2 for plot in plots]
    figure = Figure(figsize=(7.0 if len(plots) == 1 else 9.5, 4.2), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, len(plots), gridspec_kw={"width_ratios": widths}, squeeze=False)[0]
    for ax, plot in zip(axes, plots):
        _draw(ax, plot)
    figure.suptitle("\n".join(textwrap.wrap(title, 100)), fontsize=9)
    figure.tight_layout()
    figure.savefig(path)


def _draw(axes, plot: Plot) -> None:
    if plot.image is not None:
        axes.imshow(plot.image, cmap="magma")
        axes.set_title(plot.title, fontsize=8)
        axes.set_axis_off()
        return
    for curve in plot.curves:
        style, width = ROLES[curve.role]
        label = curve.label or None
        if style is None:
            axes.plot(curve.x, curve.y, "x", color=curve.color, label=label)
        else:
            axes.plot(curve.x, curve.y, _LINESTYLES[style], color=curve.color, lw=width, label=label)
    for number, marker in enumerate(plot.markers):
        axes.axvline(marker.x, color=_on_white(marker.color), lw=1)
        axes.annotate(marker.label, (marker.x, 0.92 - 0.08 * number), xycoords=("data", "axes fraction"),
                      xytext=(4, 0), textcoords="offset points", color=_on_white(marker.color), fontsize=8)
    _axes_ranges(axes, plot)
    axes.set_xlabel(_x_label(plot))
    axes.set_ylabel(plot.y_label)
    if any(curve.label for curve in plot.curves):
        axes.legend(loc="upper right", fontsize=7, framealpha=0.9)
    axes.grid(alpha=0.3)


def _on_white(color: str) -> str:
    """Marker colours are chosen for napari's dark canvas; its light greys become dark grey on white."""
    return "0.3" if color in (COLORS["marker"], COLORS["reference"]) else color


def _axes_ranges(axes, plot: Plot) -> None:
    if plot.log_y:
        axes.set_yscale("log")
    if plot.x_range is not None:
        axes.set_xlim(*plot.x_range)
    if plot.y_range is not None:
        values = [np.asarray(c.y, float) for c in plot.curves if c.is_data]
        lowest = min((float(np.nanmin(v)) for v in values if np.isfinite(v).any()), default=plot.y_range[0])
        axes.set_ylim(min(plot.y_range[0], lowest), plot.y_range[1])


def _x_label(plot: Plot) -> str:
    if not plot.frequency_axis:
        return plot.x_label
    pixel = f"{plot.pixel_size:g} {plot.unit}".strip()
    return f"{plot.x_label[:-1]}; pixel = {pixel})" if plot.x_label.endswith(")") else plot.x_label
