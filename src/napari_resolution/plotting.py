"""Headless PNG plots for the CLI (matplotlib's Agg canvas; never imports Qt)."""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["plot_correlation"]


def plot_correlation(result, path, *, unit: str = "", expected=None, title: str = "") -> None:
    """Save the FSC/FRC curve, its threshold and the crossing to a PNG.

    Parameters
    ----------
    result : CorrelationResult
        The measured curve.
    path : str or Path
        Output PNG file.
    unit : str
        Unit of the pixel size, for the axis label and the resolution text.
    expected : ExpectedCorrelation, optional
        Analytic curve to draw for comparison (simulated data).
    title : str
        Figure title.
    """
    figure = Figure(figsize=(7, 4.2), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.plot(result.frequency, result.correlation, color="C0", lw=1.8, label="measured")
    if expected is not None:
        axes.plot(expected.frequency, expected.correlation, color="0.3", lw=1.2, ls=":", label="expected")
    axes.plot(result.frequency, result.threshold, color="C3", lw=1.2, ls="--", label=result.criterion)
    if result.crossing is not None:
        axes.axvline(result.crossing, color="C2", lw=1)
        axes.annotate(result.summary(unit).split(" · ")[0], (result.crossing, 0.6),
                      xytext=(6, 0), textcoords="offset points", color="C2")
    axes.axhline(0, color="0.7", lw=0.8)
    axes.set_xlim(0, 0.5)
    axes.set_ylim(min(-0.1, float(np.nanmin(result.correlation))), 1.05)
    pixel = f"{result.reference_pixel_size:g} {unit}".strip()
    axes.set_xlabel(f"spatial frequency (cycles/pixel; pixel = {pixel})")
    axes.set_ylabel("Fourier correlation")
    axes.set_title(title or result.summary(unit), fontsize=9)
    axes.legend(loc="upper right", frameon=False)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
