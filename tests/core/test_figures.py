"""Overlays described Qt-free: several measured things in one plot, and runs compared."""

import numpy as np

from napari_resolution.core.figures import COLORS, PALETTE, Curve, Marker, Plot, overlay, overlay_runs

X = np.linspace(0, 0.5, 5)


def _plot(title="p", markers=()):
    return Plot(title, (Curve("MTF", X, 1 - X), Curve("noise", X, 0 * X, "reference", COLORS["reference"])),
                markers, y_label="MTF")


def test_overlay_colours_and_names_each_plot_and_shares_neutral_markers():
    nyquist = Marker(0.5, "Nyquist")
    plots = [_plot(markers=(Marker(0.2, "MTF50", PALETTE[0]), nyquist)),
             _plot(markers=(Marker(0.3, "MTF50", PALETTE[0]), nyquist))]
    shown = overlay(plots, ["1", "2"], ["#111111", "#222222"], curve_label="{label} {name}")
    assert [(c.label, c.color) for c in shown.curves] == [("MTF 1", "#111111"), ("noise 1", "#111111"),
                                                          ("MTF 2", "#222222"), ("noise 2", "#222222")]
    assert [(m.label, m.color) for m in shown.markers] == [("1: MTF50", "#111111"), ("Nyquist", COLORS["marker"]),
                                                           ("2: MTF50", "#222222")]
    assert shown.y_label == "MTF" and [c.role for c in shown.curves] == ["measured", "reference"] * 2
    channels = overlay(plots, ["ch 1", "ch 2"])  # palette colours in turn, "name: label"
    assert channels.curves[2].label == "ch 2: MTF" and channels.curves[2].color == PALETTE[1]


def test_overlay_runs_keeps_the_latest_guides_and_thins_earlier_runs():
    runs = [_plot("first", (Marker(0.1, "old"),)), _plot("second", (Marker(0.2, "new"),))]
    assert overlay_runs(runs[:1], ["first"]) is runs[0]
    shown = overlay_runs(runs, ["Threshold: 0.5", "Threshold: 0.143"])
    assert [(c.label, c.role, c.color) for c in shown.curves] == [
        ("MTF — Threshold: 0.5", "secondary", PALETTE[0]), ("MTF — Threshold: 0.143", "measured", PALETTE[1]),
        ("noise", "reference", COLORS["reference"])]
    assert shown.title == "second" and [m.label for m in shown.markers] == ["new"]
