"""Headless PNG plots for the CLI (matplotlib's Agg canvas; never imports Qt)."""

from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["plot_correlation"]


def plot_correlation(result, path, *, unit: str = "", expected=None, title: str = "") -> None:
    """Save the FSC/FRC curve, its threshold and the crossing to a PNG.

    Parameters
    ----------
    result : CorrelationResult or PhaseRandomizedResult
        The measured curve(s); a phase-randomised result draws its four curves
        and marks the randomisation shell.
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
    for label, curve, style in _curves(result):
        axes.plot(result.frequency, curve, label=label, **style)
    if hasattr(result, "randomization_frequency"):
        axes.axvline(result.randomization_frequency, color="0.5", lw=0.8, ls=":")
        axes.annotate("phases randomised →", (result.randomization_frequency, -0.07), xytext=(4, 0),
                      textcoords="offset points", color="0.4", fontsize=8)
    if expected is not None:
        axes.plot(expected.frequency, expected.correlation, color="0.3", lw=1.2, ls=":", label="expected")
    axes.plot(result.frequency, result.threshold, color="C3", lw=1.2, ls="--", label=result.criterion)
    if result.crossing is not None:
        axes.axvline(result.crossing, color="C2", lw=1)
        label = f"{result.resolution:.3g} {unit}".strip()
        axes.annotate(label, (result.crossing, 0.6), xytext=(6, 0), textcoords="offset points", color="C2")
    axes.axhline(0, color="0.7", lw=0.8)
    axes.set_xlim(0, 0.5)
    lowest = min(float(np.nanmin(curve)) for _, curve, _ in _curves(result))
    axes.set_ylim(min(-0.1, lowest), 1.05)
    pixel = f"{result.reference_pixel_size:g} {unit}".strip()
    axes.set_xlabel(f"spatial frequency (cycles/pixel; pixel = {pixel})")
    axes.set_ylabel("Fourier correlation")
    axes.set_title(title or "\n".join(textwrap.wrap(result.summary(unit), 90)), fontsize=9)
    axes.legend(loc="upper right", fontsize=8, framealpha=0.9)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)


def _curves(result) -> list[tuple[str, np.ndarray, dict]]:
    """(label, values, line style) of every curve a result has."""
    if hasattr(result, "corrected"):
        return [
            ("unmasked", result.unmasked, {"color": "C7", "lw": 1.2}),
            ("masked", result.masked, {"color": "C0", "lw": 1.2}),
            ("phase-randomised masked", result.randomized, {"color": "C1", "lw": 1.2}),
            ("corrected", result.corrected, {"color": "C2", "lw": 2.0}),
        ]
    return [("measured", result.correlation, {"color": "C0", "lw": 1.8})]
