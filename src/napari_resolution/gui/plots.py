"""One themed pyqtgraph curve panel, reused by every widget.

It shows runs made of curves (data solid, thresholds dashed) and markers
(vertical lines with a label, e.g. the crossing); keeps earlier runs when
"Overlay runs" is on; reads out frequency, resolution and value under the
mouse; exports PNG and CSV; follows the napari theme.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QCheckBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

__all__ = ["Curve", "CurvePanel", "Marker", "ResultLine", "Run"]

_PALETTE = ("#4fa3ff", "#ffb000", "#40c090", "#e070e0", "#f06060", "#a0a0ff", "#c0c040", "#60d0d0")


class ResultLine(QLabel):
    """The result of a run as one selectable, wrapping line of text (copy it with the mouse or Ctrl+C)."""

    def __init__(self, placeholder: str = "result appears here", parent=None):
        super().__init__(placeholder, parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextSelectableByMouse | Qt.TextSelectableByKeyboard)
        self.setStyleSheet("QLabel { padding: 4px; border: 1px solid palette(mid); }")


@dataclass
class Curve:
    """One line: ``kind`` is "data" (solid), "threshold" (dashed), "reference" (dotted) or "points" (markers)."""

    label: str
    x: np.ndarray
    y: np.ndarray
    kind: str = "data"
    color: str | None = None


@dataclass
class Marker:
    """A vertical line at ``x`` (cycles/pixel) with a text label."""

    x: float
    label: str


@dataclass
class Run:
    """What one computation shows: its curves, markers and scale for the read-out."""

    title: str
    curves: list[Curve]
    markers: list[Marker] = field(default_factory=list)
    pixel_size: float = 1.0
    unit: str = ""


class CurvePanel(QWidget):
    """A plot of curves against spatial frequency with read-out, overlay and export.

    Parameters
    ----------
    viewer : napari.Viewer, optional
        Its theme is followed (and its changes).
    y_label : str
        Left axis label.
    log_y : bool
        Logarithmic value axis (e.g. SSNR); non-positive values are not drawn.
    x_label : str, optional
        Bottom axis label for a panel whose x is not spatial frequency (then
        the x range follows the data and the read-out shows plain values).
    """

    def __init__(self, viewer=None, *, y_label: str = "", log_y: bool = False, x_label=None, parent=None):
        super().__init__(parent)
        self.runs: list[Run] = []
        self._log_y = log_y
        self._frequency_axis = x_label is None
        self.plot_widget = pg.PlotWidget()
        self.plot_item = self.plot_widget.getPlotItem()
        self.plot_item.setLabel("bottom", x_label or "spatial frequency (cycles/pixel)")
        self.plot_item.setLabel("left", y_label)
        self.plot_item.showGrid(x=True, y=True, alpha=0.25)
        self.plot_item.setLogMode(y=log_y)
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
        if viewer is not None:
            viewer.events.theme.connect(self._theme_changed)
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
    def show_run(self, run: Run) -> None:
        """Draw ``run``; earlier runs stay (faded data curves only) when overlaying."""
        self.runs = [*self.runs, run] if self.overlay_box.isChecked() else [run]
        self._redraw()

    def replace_latest(self, run: Run) -> None:
        """Redraw the latest run differently (e.g. with more thresholds shown)."""
        self.runs = [*self.runs[:-1], run]
        self._redraw()

    def clear(self) -> None:
        """Remove every run."""
        self.runs = []
        self._redraw()

    def _redraw(self) -> None:
        self.plot_item.clear()
        self.legend.clear()
        self.plot_item.addItem(self._crosshair, ignoreBounds=True)
        for index, run in enumerate(self.runs):
            latest = index == len(self.runs) - 1
            for number, curve in enumerate(run.curves):
                if curve.kind != "data" and not latest:
                    continue
                self._draw_curve(curve, run, index, number, latest)
            if latest:
                for marker in run.markers:
                    self._draw_marker(marker)
        if self._frequency_axis:
            self.plot_item.setXRange(0, 0.5, padding=0.02)
        else:
            self.plot_item.enableAutoRange(axis="x")
        self._fit_values()

    def _fit_values(self) -> None:
        """Value range from the data curves only (thresholds near DC would flatten the plot)."""
        values = [np.asarray(c.y, float) for run in self.runs for c in run.curves if c.kind == "data"]
        values = np.concatenate(values) if values else np.array([])
        values = values[np.isfinite(values)]
        if self._log_y:
            values = values[values > 0]
            if values.size:
                low, high = np.log10(values.min()), np.log10(values.max())
                self.plot_item.setYRange(max(low, high - 8) - 0.3, high + 0.3, padding=0)
        elif not self._frequency_axis:
            self.plot_item.enableAutoRange(axis="y")
        elif values.size:
            self.plot_item.setYRange(min(0.0, values.min()) - 0.05, max(1.0, values.max()) + 0.05, padding=0)

    def _draw_curve(self, curve: Curve, run: Run, run_index: int, number: int, latest: bool) -> None:
        color = curve.color or _PALETTE[(run_index + number) % len(_PALETTE)]
        x, y = np.asarray(curve.x, float), np.asarray(curve.y, float)
        if self._log_y:
            y = np.where(y > 0, y, np.nan)
        name = curve.label if len(self.runs) == 1 or curve.kind != "data" else f"{curve.label} — {run.title}"
        name = name or None  # unnamed curves stay out of the legend
        if curve.kind == "points":
            self.plot_item.plot(x, y, pen=None, symbol="x", symbolPen=pg.mkPen(color, width=2), symbolSize=9,
                                name=name)
            return
        style = {"data": Qt.SolidLine, "threshold": Qt.DashLine, "reference": Qt.DotLine}[curve.kind]
        pen = pg.mkPen(color, width=2 if curve.kind == "data" else 1.5, style=style)
        if not latest:
            pen.setWidthF(1.2)
        self.plot_item.plot(x, y, pen=pen, name=name, connect="finite")

    def _draw_marker(self, marker: Marker) -> None:
        color = getattr(self, "_text_color", "#dddddd")
        line = pg.InfiniteLine(pos=marker.x, angle=90, movable=False, pen=pg.mkPen(color, width=1))
        pg.InfLineLabel(line, text=marker.label, position=0.55, rotateAxis=(1, 0), anchor=(1, 1), color=color)
        self.plot_item.addItem(line)

    # -------------------------------------------------------------- read-out
    def readout_text(self, x: float) -> str:
        """Read-out at frequency ``x`` (cycles/pixel): physical frequency, resolution, curve value."""
        if not self.runs or (self._frequency_axis and x <= 0):
            return " "
        run = self.runs[-1]
        if not self._frequency_axis:
            data = [c for c in run.curves if c.kind == "data"]
            value = np.interp(x, data[0].x, data[0].y) if data else np.nan
            return f"x = {x:.3g} · {data[0].label if data else 'value'} = {value:.3g}"
        unit = run.unit or "unit"
        parts = [f"f = {x:.4f} cycles/pixel = {x / run.pixel_size:.4g} 1/{unit}",
                 f"→ {run.pixel_size / x:.3g} {run.unit} (full period)".replace("  ", " ")]
        data = [c for c in run.curves if c.kind == "data"]
        if data:
            value = np.interp(x, data[0].x, data[0].y, left=np.nan, right=np.nan)
            parts.append(f"{data[0].label} = {value:.3g}")
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
