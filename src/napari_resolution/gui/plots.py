"""One themed pyqtgraph curve panel, reused by every widget.

It draws the Qt-free :class:`~napari_resolution.core.figures.Plot` that a
result describes (the PNG writer draws the same ones): curves styled by their
role, markers (vertical lines with a label, e.g. the crossing); keeps earlier
runs' measured curves when "Overlay runs" is on; reads out frequency,
resolution and value under the mouse; exports PNG and CSV; follows the napari
theme.
"""

from __future__ import annotations

import csv

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QCheckBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..core.figures import COLORS, FREQUENCY_LABEL, PALETTE, ROLES, Curve, Plot
from .layers import EventConnections

__all__ = ["CurvePanel", "ResultLine"]

_PEN_STYLES = {"solid": Qt.SolidLine, "dashed": Qt.DashLine, "dotted": Qt.DotLine}


class ResultLine(QLabel):
    """The result of a run as one selectable, wrapping line of text (copy it with the mouse or Ctrl+C)."""

    def __init__(self, placeholder: str = "result appears here", parent=None):
        super().__init__(placeholder, parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextSelectableByMouse | Qt.TextSelectableByKeyboard)
        self.setStyleSheet("QLabel { padding: 4px; border: 1px solid palette(mid); }")


class CurvePanel(QWidget):
    """A plot of a result's curves with read-out, overlay and export.

    Axis labels, ranges and scales come from the :class:`Plot` shown; the
    constructor's labels are those of the empty panel.

    Parameters
    ----------
    viewer : napari.Viewer, optional
        Its theme is followed (and its changes).
    y_label : str
        Left axis label before anything is shown.
    x_label : str
        Bottom axis label before anything is shown.
    """

    def __init__(self, viewer=None, *, y_label: str = "", x_label: str = FREQUENCY_LABEL, parent=None):
        super().__init__(parent)
        self.runs: list[Plot] = []
        self.plot_widget = pg.PlotWidget()
        self.plot_item = self.plot_widget.getPlotItem()
        self.plot_item.setLabel("bottom", x_label)
        self.plot_item.setLabel("left", y_label)
        self.plot_item.showGrid(x=True, y=True, alpha=0.25)
        for axis in ("left", "bottom"):
            self.plot_item.getAxis(axis).enableAutoSIPrefix(False)
        self.legend = self.plot_item.addLegend(offset=(-10, 10))
        self.readout = QLabel(" ")
        self.readout.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.overlay_box = QCheckBox("Overlay runs")
        self._crosshair = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#888888", width=1))
        self.plot_item.addItem(self._crosshair, ignoreBounds=True)
        self.plot_widget.scene().sigMouseMoved.connect(self._mouse_moved)
        self._build_layout()
        self._viewer = viewer
        self.connections = EventConnections(self)
        if viewer is not None:
            self.connections.connect(viewer.events.theme, self._theme_changed)
            self.apply_theme(viewer.theme)

    def _build_layout(self) -> None:
        buttons = QHBoxLayout()
        for text, slot in (("Export PNG", self._ask_png), ("Export CSV", self._ask_csv), ("Clear", self.clear)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.overlay_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot_widget, stretch=1)
        layout.addWidget(self.readout)
        layout.addLayout(buttons)
        self.plot_widget.setMinimumHeight(260)

    # ----------------------------------------------------------------- theme
    def _theme_changed(self, event=None) -> None:
        self.apply_theme(self._viewer.theme)

    def apply_theme(self, name: str) -> None:
        """Colour the plot like the napari theme ``name``."""
        from napari.utils.theme import get_theme

        theme = get_theme(name)
        background, text = theme.canvas.as_hex(), theme.text.as_hex()
        if background in ("#000000", "black"):
            background = theme.background.as_hex()
        self.plot_widget.setBackground(background)
        for axis in ("left", "bottom"):
            item = self.plot_item.getAxis(axis)
            item.setPen(pg.mkPen(text))
            item.setTextPen(pg.mkPen(text))
        self.legend.setLabelTextColor(text)
        self._text_color = text
        self._redraw()

    # ------------------------------------------------------------------ runs
    @property
    def latest(self) -> Plot | None:
        """The plot shown last (None when empty)."""
        return self.runs[-1] if self.runs else None

    def show_run(self, plot: Plot) -> None:
        """Draw ``plot``; earlier runs' measured curves stay (faded) when overlaying."""
        self.runs = [*self.runs, plot] if self.overlay_box.isChecked() else [plot]
        self._redraw()

    def replace_latest(self, plot: Plot) -> None:
        """Redraw the latest run differently (e.g. with more thresholds shown)."""
        self.runs = [*self.runs[:-1], plot]
        self._redraw()

    def clear(self) -> None:
        """Remove every run."""
        self.runs = []
        self._redraw()

    def _redraw(self) -> None:
        self.plot_item.clear()
        self.legend.clear()
        self.plot_item.addItem(self._crosshair, ignoreBounds=True)
        latest = self.latest
        if latest is None:
            return
        self.plot_item.setLabel("bottom", latest.x_label)
        self.plot_item.setLabel("left", latest.y_label)
        self.plot_item.setLogMode(y=latest.log_y)
        for index, plot in enumerate(self.runs):
            is_latest = index == len(self.runs) - 1
            for curve in plot.curves:
                if curve.is_data or is_latest:
                    self._draw_curve(curve, plot, index, is_latest)
        for marker in latest.markers:
            self._draw_marker(marker)
        if latest.x_range is not None:
            self.plot_item.setXRange(*latest.x_range, padding=0.02)
        else:
            self.plot_item.enableAutoRange(axis="x")
        self._fit_values(latest)

    def _fit_values(self, latest: Plot) -> None:
        """Value range from the measured curves only (thresholds near DC would flatten the plot)."""
        values = [np.asarray(c.y, float) for plot in self.runs for c in plot.curves if c.is_data]
        values = np.concatenate(values) if values else np.array([])
        values = values[np.isfinite(values)]
        if latest.log_y:
            values = values[values > 0]
            if values.size:
                low, high = np.log10(values.min()), np.log10(values.max())
                self.plot_item.setYRange(max(low, high - 8) - 0.3, high + 0.3, padding=0)
        elif latest.y_range is None or not values.size:
            self.plot_item.enableAutoRange(axis="y")
        else:
            low, high = latest.y_range
            self.plot_item.setYRange(min(low, values.min() - 0.05), max(high, values.max() + 0.05), padding=0)

    def _draw_curve(self, curve: Curve, plot: Plot, run_index: int, is_latest: bool) -> None:
        overlaid = len(self.runs) > 1
        color = PALETTE[run_index % len(PALETTE)] if overlaid and curve.is_data else curve.color
        x, y = np.asarray(curve.x, float), np.asarray(curve.y, float)
        if plot.log_y:
            y = np.where(y > 0, y, np.nan)
        name = f"{curve.label} — {plot.title}" if overlaid and curve.is_data and curve.label else curve.label
        style, width = ROLES[curve.role]
        if style is None:
            self.plot_item.plot(x, y, pen=None, symbol="x", symbolPen=pg.mkPen(color, width=2), symbolSize=9,
                                name=name or None)
            return
        pen = pg.mkPen(color, width=width if is_latest else 1.2, style=_PEN_STYLES[style])
        self.plot_item.plot(x, y, pen=pen, name=name or None, connect="finite")  # unnamed: not in the legend

    def _draw_marker(self, marker) -> None:
        color = getattr(self, "_text_color", marker.color) if marker.color == COLORS["marker"] else marker.color
        line = pg.InfiniteLine(pos=marker.x, angle=90, movable=False, pen=pg.mkPen(color, width=1))
        pg.InfLineLabel(line, text=marker.label, position=0.55, rotateAxis=(1, 0), anchor=(1, 1), color=color)
        self.plot_item.addItem(line)

    # -------------------------------------------------------------- read-out
    def readout_text(self, x: float) -> str:
        """Read-out at abscissa ``x``: on frequency plots the physical frequency and resolution, then the value."""
        plot = self.latest
        if plot is None or (plot.frequency_axis and x <= 0):
            return " "
        data = [c for c in plot.curves if c.is_data]
        value = np.interp(x, data[0].x, data[0].y, left=np.nan, right=np.nan) if data else np.nan
        label = data[0].label if data else "value"
        if not plot.frequency_axis:
            return f"x = {x:.3g} · {label} = {value:.3g}"
        unit = plot.unit or "unit"
        parts = [f"f = {x:.4f} cycles/pixel = {x / plot.pixel_size:.4g} 1/{unit}",
                 f"→ {plot.pixel_size / x:.3g} {plot.unit} (full period)".replace("  ", " ")]
        if data:
            parts.append(f"{label} = {value:.3g}")
        return " · ".join(parts)

    def _mouse_moved(self, position) -> None:
        if not self.plot_item.sceneBoundingRect().contains(position):
            return
        x = self.plot_item.vb.mapSceneToView(position).x()
        self._crosshair.setPos(x)
        self.readout.setText(self.readout_text(x))

    # ---------------------------------------------------------------- export
    def export_png(self, path) -> None:
        """Save the plot as a PNG image."""
        ImageExporter(self.plot_item).export(str(path))

    def export_csv(self, path) -> None:
        """Save every shown curve as CSV rows: run, curve, frequency, value."""
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["run", "curve", "frequency_cycles_per_pixel", "value"])
            for run in self.runs:
                for curve in run.curves:
                    for x, y in zip(np.asarray(curve.x).tolist(), np.asarray(curve.y).tolist()):
                        writer.writerow([run.title, curve.label, x, y])

    def _ask_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export plot", "curve.png", "PNG (*.png)")
        if path:
            self.export_png(path)

    def _ask_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export curves", "curves.csv", "CSV (*.csv)")
        if path:
            self.export_csv(path)
