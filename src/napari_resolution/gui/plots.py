"""One themed pyqtgraph curve panel, reused by every widget.

It draws the Qt-free :class:`~napari_resolution.core.figures.Plot` that a
result describes (the PNG writer draws the same ones): curves styled by their
role, markers (vertical lines labelled at their top, staggered when close),
a top axis in resolution units where the unit is known, the legend and the
plot's notes under it; keeps earlier runs' measured curves when "Overlay runs" is on,
named by the inputs that differ between them; greys a stale result out;
reads out frequency, resolution and value under the mouse; exports PNG and
CSV; follows the napari theme. pyqtgraph reads its labels, titles and legend
entries as HTML: their text is escaped (a "p < 0.05" would end at "p ").
"""

from __future__ import annotations

import csv
import itertools
import math
import re
from html import escape

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from qtpy.QtCore import QSize, Qt
from qtpy.QtWidgets import QCheckBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..core.figures import (
    COLORS,
    FREQUENCY_LABEL,
    ROLES,
    Curve,
    Plot,
    label_side,
    labelled_range,
    overlay_runs,
    resolution_ticks,
)
from .layers import EventConnections

__all__ = ["CurvePanel", "ResultLine", "headline", "log_ticks", "run_names", "whole_ticks"]

_PEN_STYLES = {"solid": Qt.SolidLine, "dashed": Qt.DashLine, "dotted": Qt.DotLine}
#: Opacity of the curves of a stale result.
_STALE_OPACITY = 0.35
#: Height of the plot (pixels, axes included) without the legend below it.
_PLOT_HEIGHT = 300
#: Pixels of the plot's width left of the legend (the value axis) and between a legend entry's sample and label.
_LEGEND_INSET, _LEGEND_GAP = 60, 20
#: Most ticks of a log value axis, and of a whole-number axis.
_LOG_TICKS = _WHOLE_TICKS = 8
_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


class ResultLine(QLabel):
    """The result of a run as selectable, wrapping text (copy it with the mouse or Ctrl+C).

    It shows the result, its warnings (a line each: the warning up to its first
    colon, semicolon or full stop, all of every warning on hover), what it was
    computed from and, while the result no longer matches the inputs (they
    changed, or the last run was cancelled or failed), a note saying so, greyed out.
    """

    _STYLE = "QLabel {{ padding: 4px; border: 1px solid palette(mid); {} }}"

    def __init__(self, placeholder: str = "result appears here", parent=None):
        super().__init__(placeholder, parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextSelectableByMouse | Qt.TextSelectableByKeyboard)
        self._result, self._source, self.note, self.warnings = placeholder, "", None, ()
        self._render()

    @property
    def stale(self) -> bool:
        """True while a note says the shown result does not match the inputs."""
        return self.note is not None

    def show_result(self, text: str, source: str = "", warnings=()) -> None:
        """Show a fresh result ``text``, what it was ``source``d from ("computed from: ...") and its ``warnings``
        (texts; those of an earlier result go)."""
        self._result, self._source, self.note, self.warnings = text, source, None, tuple(warnings)
        self._render()

    def update_result(self, text: str) -> None:
        """Show ``text`` as the shown result's line, its source, warnings and note kept (e.g. a box inspected)."""
        self._result = text
        self._render()

    def set_note(self, note: str | None) -> None:
        """Mark the result stale with ``note`` (e.g. "last run cancelled"); None: it is current."""
        self.note = note
        self._render()

    def _render(self) -> None:
        note = f" ({self.note})" if self.note else ""
        warned = "".join(f"\n⚠ {headline(warning)}" for warning in self.warnings)
        source = f"\ncomputed from: {self._source}" if self._source else ""
        self.setText(f"{self._result}{note}{warned}{source}")
        self.setToolTip("".join(f"<p>⚠ {escape(warning)}</p>" for warning in self.warnings))  # rich text wraps
        self.setStyleSheet(self._STYLE.format("color: #8a8a8a;" if self.note else ""))


def headline(warning: str) -> str:
    """``warning`` up to its first colon, semicolon or full stop followed by a space, then "…" (all of a warning
    without one), e.g. "the analysed plane is 128 x 128 pixels …"."""
    head = re.split(r"(?<!e\.g)(?<!i\.e)[:;.]\s", warning, maxsplit=1)
    return f"{head[0]} …" if len(head) > 1 else warning


def log_ticks(low: float, high: float, count: int = _LOG_TICKS) -> list:
    """Ticks of a log value axis showing ``10**low`` to ``10**high``, spaced so that their labels never overlap.

    Powers of ten (every one, or every few where more than ``count`` are
    shown); where fewer than three are shown, 1, 2 and 5 times them; where
    fewer than two of those, three evenly spaced values. pyqtgraph's own ticks
    label the minor steps of a short range (0.6, 0.7, 0.8, 0.9 one on the other).

    Returns
    -------
    list of (float, str)
        (``log10`` of the value, its text), e.g. (1.0, "10"), (5.0, "10⁵"), (5.3, "2·10⁵").
    """
    first, last = math.ceil(low), math.floor(high)
    stride = max(1, math.ceil((last - first + 1) / count))
    exponents = [e for e in range(first, last + 1) if e % stride == 0]
    if len(exponents) >= 3:
        return [(float(e), _power(1, e)) for e in exponents]
    steps = [(m, e) for e in range(first - 1, last + 1) for m in (1, 2, 5) if low <= e + math.log10(m) <= high]
    if len(steps) >= 2:
        return [(e + math.log10(m), _power(m, e)) for m, e in steps]
    return [(float(v), f"{10.0 ** v:.2g}") for v in np.linspace(low, high, 4)[1:-1]]


def whole_ticks(low: float, high: float, count: int = _WHOLE_TICKS) -> list:
    """Ticks of an axis of whole numbers (slice indices) showing ``low`` to ``high``: every whole number, or every
    2nd, 5th, 10th, 20th... where more than ``count`` would be shown (pyqtgraph's own ticks fall between them).

    Returns
    -------
    list of (float, str)
        (value, its text), e.g. (2.0, "2").
    """
    span = max(high - low, 1.0)
    step = next(m * 10 ** e for e in itertools.count() for m in (1, 2, 5) if span / (m * 10 ** e) <= count)
    return [(float(value), str(value)) for value in range(math.ceil(low / step) * step, math.floor(high) + 1, step)]


def _power(mantissa: int, exponent: int) -> str:
    """``mantissa × 10**exponent`` as text: plain from 0.001 to 1000, else ``10⁵`` or ``2·10⁵``."""
    if -3 <= exponent <= 3:
        return f"{mantissa * 10.0 ** exponent:g}"
    power = f"10{str(exponent).translate(_SUPERSCRIPTS)}"
    return power if mantissa == 1 else f"{mantissa}·{power}"


def run_names(plots, inputs) -> list[str]:
    """Legend names of overlaid runs: the inputs that differ between them, e.g. "Threshold: 0.143".

    Parameters
    ----------
    plots : sequence of Plot
        The runs (a run without ``inputs`` is told apart by its title).
    inputs : sequence of dict or None
        Per run, input label to value as shown.

    Returns
    -------
    list of str
        One name per run; "run N" (with the differences, if any) where two runs would share one.
    """
    known = [values if values is not None else {"": plot.title} for plot, values in zip(plots, inputs)]
    keys = [key for key in dict.fromkeys(k for values in known for k in values)
            if len({values.get(key, "—") for values in known}) > 1]
    names = [", ".join(f"{key}: {values.get(key, '—')}".lstrip(": ") for key in keys) for values in known]
    return [name if name and names.count(name) == 1 else ", ".join(filter(None, (f"run {number + 1}", name)))
            for number, name in enumerate(names)]


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
        self.run_inputs: list[dict | None] = []
        self.stale_note: str | None = None
        self.marker_labels: list[pg.InfLineLabel] = []
        self._text_color, self._background = COLORS["marker"], "#000000"
        self.plot_widget = pg.PlotWidget()
        self.plot_item = self.plot_widget.getPlotItem()
        self.set_label("bottom", x_label)
        self.set_label("left", y_label)
        self.plot_item.showGrid(x=True, y=True, alpha=0.25)
        for axis in ("left", "bottom", "top"):
            self.plot_item.getAxis(axis).enableAutoSIPrefix(False)
        self.legend = pg.LegendItem(offset=None, labelTextSize="8pt", horSpacing=10)
        self.plot_item.layout.addItem(self.legend, 4, 1)  # below the plot: it never hides a curve or a label
        self.readout = QLabel(" ")
        self.readout.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.readout.setWordWrap(True)
        self.notes = QLabel()
        self.notes.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.notes.setVisible(False)
        self.overlay_box = QCheckBox("Overlay runs")
        self._crosshair = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#888888", width=1))
        self.plot_item.addItem(self._crosshair, ignoreBounds=True)
        self.plot_widget.scene().sigMouseMoved.connect(self._mouse_moved)
        self.plot_item.vb.sigRangeChanged.connect(self._view_changed)
        self.plot_item.vb.sigResized.connect(self._view_changed)
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
        layout.addWidget(self.notes)
        layout.addWidget(self.readout)
        layout.addLayout(buttons)
        self.plot_widget.setMinimumSize(200, _PLOT_HEIGHT)

    def sizeHint(self) -> QSize:
        """Narrow, so that a dock of panels leaves the canvas room (a plot's own hint is 640 pixels wide)."""
        return QSize(340, super().sizeHint().height())

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
        for axis in ("left", "bottom", "top"):
            item = self.plot_item.getAxis(axis)
            item.setPen(pg.mkPen(text))
            item.setTextPen(pg.mkPen(text))
        self.legend.setLabelTextColor(text)
        self._text_color, self._background = text, background
        self._redraw()

    # ------------------------------------------------------------------ runs
    @property
    def latest(self) -> Plot | None:
        """The plot shown last (None when empty)."""
        return self.runs[-1] if self.runs else None

    def show_run(self, plot: Plot, inputs: dict | None = None) -> None:
        """Draw ``plot`` (a fresh result); earlier runs' measured curves stay (faded) when overlaying.

        ``inputs`` (label to value as shown) name overlaid runs by what differs between them.
        """
        keep = self.overlay_box.isChecked()
        self.runs = [*self.runs, plot] if keep else [plot]
        self.run_inputs = [*self.run_inputs, inputs] if keep else [inputs]
        self.stale_note = None
        self._redraw()

    def replace_latest(self, plot: Plot) -> None:
        """Redraw the latest run differently (e.g. with more thresholds shown)."""
        self.runs = [*self.runs[:-1], plot]
        self._redraw()

    def clear(self) -> None:
        """Remove every run."""
        self.runs, self.run_inputs, self.stale_note = [], [], None
        self._redraw()

    def set_stale(self, note: str | None) -> None:
        """Grey the curves out under the title ``note`` (the inputs changed, the last run failed); None: current."""
        self.stale_note = note
        self._show_staleness()

    def run_titles(self) -> list[str]:
        """Name of each shown run: its title alone, else what tells it from the others (:func:`run_names`)."""
        return [self.runs[0].title] if len(self.runs) == 1 else run_names(self.runs, self.run_inputs)

    def _redraw(self) -> None:
        self.plot_item.clear()
        self.legend.clear()
        self.marker_labels = []
        self.plot_item.addItem(self._crosshair, ignoreBounds=True)
        latest = self.latest
        self.notes.setText("\n".join(latest.notes) if latest else "")
        self.notes.setVisible(bool(latest and latest.notes))
        if latest is not None and latest.resolution_axis:
            self.set_label("top", latest.resolution_axis)  # shows the axis
        else:
            self.plot_item.hideAxis("top")
        if latest is None:
            self._show_staleness()
            return
        self.set_label("bottom", latest.x_label)
        self.set_label("left", latest.y_label)
        self.plot_item.setLogMode(y=latest.log_y)
        shown = overlay_runs(self.runs, self.run_titles())
        for curve in shown.curves:
            self._draw_curve(curve, shown.log_y)
        for marker in shown.markers:
            self._draw_marker(marker)
        if latest.x_range is not None:
            self.plot_item.setXRange(*latest.x_range, padding=0.02)
        else:
            self.plot_item.enableAutoRange(axis="x")
        self._fit_values(latest)
        self._view_changed()
        self._show_staleness()

    def set_label(self, axis: str, text: str) -> None:
        """Label ``axis`` ("left", "bottom", "top") with the plain ``text``."""
        self.plot_item.setLabel(axis, escape(text))

    def _fit_legend(self) -> None:
        """Legend entries in two columns where they fit, else one, an entry wider than the plot wrapped at its words;
        the plot grows to keep its height above them."""
        room = self.plot_widget.width() - _LEGEND_INSET
        widest = 0.0
        for sample, label in self.legend.items:
            label.item.setTextWidth(-1)  # unwrapped
            space = room - sample.width() - _LEGEND_GAP
            if label.item.boundingRect().width() > space:
                label.item.setTextWidth(max(space, _LEGEND_GAP))
            label.updateMin()
            widest = max(widest, sample.width() + label.item.boundingRect().width() + _LEGEND_GAP)
        self.legend.setColumnCount(2 if 2 * widest <= room else 1)
        self.plot_widget.setMinimumHeight(_PLOT_HEIGHT + int(self.legend.layout.preferredHeight()))

    def _show_staleness(self) -> None:
        opacity = 1.0 if self.stale_note is None else _STALE_OPACITY
        for item in self.plot_item.items:
            if item is not self._crosshair:
                item.setOpacity(opacity)
        if self.stale_note is None:
            self.plot_item.setTitle(None)
        else:
            self.plot_item.setTitle(escape(self.stale_note), color="#8a8a8a", size="9pt")

    def _fit_values(self, latest: Plot) -> None:
        """Value range from the measured curves only (thresholds near DC would flatten the plot); one that follows
        the data leaves room above them for the marker labels (:func:`~..core.figures.labelled_range`)."""
        values = [np.asarray(c.y, float) for plot in self.runs for c in plot.curves if c.is_data]
        values = np.concatenate(values) if values else np.array([])
        values = values[np.isfinite(values)]
        if latest.log_y:
            values = values[values > 0]
            if values.size:
                low, high = np.log10(values.min()), np.log10(values.max())
                self.plot_item.setYRange(max(low, high - 8) - 0.3, high + 0.3, padding=0)
        elif not values.size or (latest.y_range is None and not latest.markers):
            self.plot_item.enableAutoRange(axis="y")
        elif latest.y_range is None:
            self.plot_item.setYRange(*labelled_range(values), padding=0)
        else:
            low, high = latest.y_range
            self.plot_item.setYRange(min(low, values.min() - 0.05), max(high, values.max() + 0.05), padding=0)

    def _draw_curve(self, curve: Curve, log_y: bool) -> None:
        x, y = np.asarray(curve.x, float), np.asarray(curve.y, float)
        if log_y:
            y = np.where(y > 0, y, np.nan)
        style, width = ROLES[curve.role]
        if style is None:
            item = self.plot_item.plot(x, y, pen=None, symbol="x", symbolPen=pg.mkPen(curve.color, width=2),
                                       symbolSize=9, name=curve.label or None)
        else:
            pen = pg.mkPen(curve.color, width=width, style=_PEN_STYLES[style])
            item = self.plot_item.plot(x, y, pen=pen, name=curve.label or None, connect="finite")
        if curve.label:  # unnamed: not in the legend
            self.legend.addItem(item, escape(curve.label))

    def _draw_marker(self, marker) -> None:
        color = self._text_color if marker.color == COLORS["marker"] else marker.color
        line = pg.InfiniteLine(pos=marker.x, angle=90, movable=False, pen=pg.mkPen(color, width=1))
        label = pg.InfLineLabel(line, text=marker.label, position=1.0, color=color,
                                fill=self._translucent(self._background), border=pg.mkPen(color, width=1))
        self.marker_labels.append(label)
        self.plot_item.addItem(line)

    @staticmethod
    def _translucent(color: str):
        """A brush of ``color``, slightly see-through (the background of marker labels)."""
        brush = pg.mkColor(color)
        brush.setAlpha(215)
        return pg.mkBrush(brush)

    def _view_changed(self, *_) -> None:
        """Place the marker labels and the legend's columns, and tick a log value axis (:func:`log_ticks`), a
        whole-number x axis (:func:`whole_ticks`) and the resolution axis, for the view now shown."""
        self._place_labels()
        self._fit_legend()
        latest = self.latest
        (x_low, x_high), (y_low, y_high) = self.plot_item.vb.viewRange()
        log, whole = latest is not None and latest.log_y, latest is not None and latest.integer_x
        self.plot_item.getAxis("left").setTicks([log_ticks(y_low, y_high)] if log else None)
        self.plot_item.getAxis("bottom").setTicks([whole_ticks(x_low, x_high)] if whole else None)
        if latest is not None and latest.resolution_axis:
            self.plot_item.getAxis("top").setTicks([resolution_ticks(latest.pixel_size, x_low, x_high)])

    def _place_labels(self) -> None:
        """Each label at the top of its line, on the side :func:`~..core.figures.label_side` gives (inside the
        view), on the highest row where it does not overlap the labels placed before it."""
        view = self.plot_item.vb
        left, right = (view.mapViewToScene(pg.Point(x, 0)).x() for x in view.viewRange()[0])
        rows: list[list] = []
        for label in sorted(self.marker_labels, key=lambda item: item.line.value()):
            x = view.mapViewToScene(pg.Point(label.line.value(), 0)).x()
            width = label.textItem.boundingRect().width() + 6
            flip = label_side(x, width, left, right) < 0
            span = (x - width, x) if flip else (x, x + width)
            row = next((n for n, spans in enumerate(rows) if all(span[1] < a or span[0] > b for a, b in spans)),
                       len(rows))
            rows.extend([] for _ in range(row + 1 - len(rows)))
            rows[row].append(span)
            anchor = (1.03 if flip else -0.03, -1.1 * row)
            label.anchors = [anchor, anchor]
            label.setAnchor(anchor)

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
            for run, title in zip(self.runs, self.run_titles()):
                for curve in run.curves:
                    for x, y in zip(np.asarray(curve.x).tolist(), np.asarray(curve.y).tolist()):
                        writer.writerow([title, curve.label, x, y])

    def _ask_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export plot", "curve.png", "PNG (*.png)")
        if path:
            self.export_png(path)

    def _ask_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export curves", "curves.csv", "CSV (*.csv)")
        if path:
            self.export_csv(path)
