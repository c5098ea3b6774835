"""Headless PNG plots for the CLI (matplotlib's Agg canvas; never imports Qt)."""

from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["plot_correlation", "plot_decorrelation", "plot_mtf"]


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


def plot_decorrelation(result, path, *, unit: str = "", title: str = "") -> None:
    """Save a decorrelation analysis to a PNG.

    A 2-D result shows every d(r) curve (unfiltered emphasised, filters thin),
    the valid peaks and kc_max; a stack result shows the resolution per slice.
    """
    figure = Figure(figsize=(7, 4.2), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    if hasattr(result, "slices"):
        _draw_stack(axes, result, unit)
    else:
        _draw_decorrelation(axes, result, unit)
    axes.set_title(title or "\n".join(textwrap.wrap(result.summary(unit), 90)), fontsize=9)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)


def _draw_decorrelation(axes, result, unit: str) -> None:
    for curve in result.curves:
        axes.plot(result.radii / 2, curve, color="0.6", lw=0.8)
    for curve in result.refined_curves:
        axes.plot(result.refined_radii / 2, curve, color="C0", lw=0.8, alpha=0.7)
    axes.plot(result.radii / 2, result.d0, color="C2", lw=2.0, label="unfiltered d(r)")
    valid = result.peaks[result.peaks[:, 1] > 0]
    axes.plot(valid[:, 0] / 2, valid[:, 1], "x", color="C3", label="peaks (amplitude ≥ 0.05)")
    if result.kc_max is not None:
        axes.axvline(result.kc_max / 2, color="C3", lw=1)
        axes.annotate(f"{result.resolution:.3g} {unit}".strip(), (result.kc_max / 2, 0.95), xytext=(6, 0),
                      textcoords="offset points", color="C3")
    axes.set_xlim(0, 0.5)
    axes.set_ylim(0, 1.02)
    axes.set_xlabel(f"spatial frequency (cycles/pixel; pixel = {result.pixel_size:g} {unit})".replace(" )", ")"))
    axes.set_ylabel("decorrelation d(r)")
    axes.legend(loc="lower right", fontsize=8, framealpha=0.9)


def _draw_stack(axes, result, unit: str) -> None:
    axes.plot(result.slice_indices, result.resolutions, "o-", color="C0", ms=3)
    if result.median is not None:
        axes.axhline(result.median, color="C3", lw=1, label=f"median {result.median:.3g} {unit}".strip())
        axes.legend(loc="upper right", fontsize=8)
    axes.set_xlabel(f"slice index along axis {result.axis}")
    axes.set_ylabel(f"resolution, full period ({unit or 'pixel_size units'})")


def plot_mtf(result, path, *, unit: str = "", title: str = "") -> None:
    """Save an MTF (with the ESF/LSF of an edge, or the PSF box of a bead) to a PNG."""
    figure = Figure(figsize=(9, 4.0), dpi=120)
    FigureCanvasAgg(figure)
    curve, detail = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    curve.plot(result.frequency, result.mtf, color="C0", lw=1.8, label="MTF")
    for level, value, color in ((0.5, result.f50, "C2"), (0.1, result.f10, "C1")):
        if value is not None:
            curve.axvline(value, color=color, lw=1, ls="--", label=f"MTF{int(level * 100)} {value:.3f} c/px")
    curve.axvline(0.5, color="0.6", lw=0.8, ls=":", label="Nyquist")
    curve.set_xlim(0, result.frequency.max())
    curve.set_ylim(0, 1.05)
    curve.set_xlabel("spatial frequency (cycles/pixel)")
    curve.set_ylabel("MTF")
    curve.legend(loc="upper right", fontsize=8)
    curve.grid(alpha=0.3)
    if result.kind == "edge":
        detail.plot(result.esf_position, (result.esf - result.esf.min()) / np.ptp(result.esf), color="C0",
                    lw=1, label="ESF (normalised)")
        detail.plot(result.esf_position, result.lsf, color="C3", lw=1, label="LSF")
        detail.set_xlim(-15, 15)
        detail.set_xlabel("distance from the edge (pixels)")
        detail.legend(loc="upper left", fontsize=8)
        detail.grid(alpha=0.3)
    else:
        detail.imshow(result.psf, cmap="magma")
        detail.set_title(f"PSF box · FWHM {result.fwhm:.3g} {unit}".strip(), fontsize=8)
        detail.set_axis_off()
    figure.suptitle(title or "\n".join(textwrap.wrap(result.summary(unit), 110)), fontsize=9)
    figure.tight_layout()
    figure.savefig(path)
