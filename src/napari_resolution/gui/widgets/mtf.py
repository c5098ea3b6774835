"""Dock widget "MTF": slanted-edge ROIs (rectangles) or beads (points) picked on an image layer.

Every ROI gets its MTF, drawn in the ROI's colour and listed in a table
(MTF50, MTF10, MTF at Nyquist, edge angle or FWHM). Results are cached by
ROI geometry, so moving or editing one ROI recomputes that ROI only.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from magicgui.widgets import CheckBox, PushButton, RadioButtons, SpinBox
from napari.layers import Points, Shapes
from napari.utils.colormaps.standardize_color import transform_color
from napari.utils.notifications import show_error
from qtpy.QtWidgets import QTableWidget, QTableWidgetItem

from ...core.figures import PALETTE
from ...core.mtf import mtf_edge, mtf_point
from ..layers import layer_data
from ..runner import checked
from .base import EstimatorWidget, LayerInput

__all__ = ["MTFWidget"]

COLUMNS = ("ROI", "MTF50 (c/px)", "MTF10 (c/px)", "MTF @ Nyquist", "angle / FWHM", "note")


class MTFWidget(EstimatorWidget):
    """MTF of the edges (rectangles) or beads (points) the user picks on a 2-D image layer.

    There is no Run button: drawing, moving or deleting an ROI recomputes
    what changed.
    """

    layer_inputs = (LayerInput("image", "Image", ndims=(2,)),)
    panels = (("MTF", None), ("ESF / LSF", "distance from the edge (pixels)"))
    run_text = ""

    def __init__(self, napari_viewer):
        self.results: dict = {}  # geometry key -> MTFResult or error message
        self._pending = False
        self.table = QTableWidget(0, len(COLUMNS))  # before the base picks an image and fills it
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setMinimumHeight(140)
        super().__init__(napari_viewer)
        self.layout().insertWidget(2, self.table)
        self.result_line.setVisible(False)
        self.profile_panel.setVisible(False)
        self.show_esf.changed.connect(lambda on: (self.profile_panel.setVisible(on), self.refresh_views()))
        for field in (self.pixel_size, self.box):
            field.changed.connect(self._parameters_changed)

    @property
    def profile_panel(self):
        """The ESF/LSF panel (shown on request)."""
        return self.curve_panels[1]

    def build_options(self) -> list:
        """Edge or point mode, the bead box, the ROI button and the ESF/LSF option."""
        self.mode = RadioButtons(label="Mode", choices=["Edge", "Point"], value="Edge", orientation="horizontal")
        self.box = SpinBox(label="Bead box (px)", value=32, min=8, max=512, visible=False)
        self.pick_button = PushButton(text="Draw ROIs on the image")
        self.show_esf = CheckBox(text="Show ESF / LSF", value=False)
        self.mode.changed.connect(self._mode_changed)
        self.pick_button.changed.connect(self.start_picking)
        return [self.mode, self.box, self.pick_button, self.show_esf]

    # ------------------------------------------------------------------ layers
    def layer_changed(self) -> None:
        """A new image: forget every cached result."""
        self._parameters_changed()

    def _mode_changed(self, _=None) -> None:
        point = self.mode.value == "Point"
        self.box.visible = point
        self.show_esf.visible = not point
        self.pick_button.text = "Click beads on the image" if point else "Draw ROIs on the image"
        self._parameters_changed()

    def _parameters_changed(self, _=None) -> None:
        self.results.clear()
        self.recompute()

    @property
    def roi_layer_name(self) -> str:
        """Name of the layer holding the ROIs for the current image and mode."""
        image = self.image.value
        suffix = "MTF beads" if self.mode.value == "Point" else "MTF edges"
        return f"{image.name if image is not None else 'image'} {suffix}"

    def roi_layer(self, create: bool = False):
        """The Shapes (edge) or Points (bead) layer of ROIs, created on request."""
        name = self.roi_layer_name
        if name in self.viewer.layers:
            return self.viewer.layers[name]
        if not create:
            return None
        image = self.image.value
        placement = {"scale": image.scale, "translate": image.translate}
        if self.mode.value == "Point":
            layer = self.viewer.add_points(np.empty((0, 2)), name=name, size=6, face_color="transparent",
                                           border_color="#ffb000", **placement)
        else:
            layer = self.viewer.add_shapes(name=name, shape_type="rectangle", edge_width=2,
                                           edge_color=PALETTE[0], face_color="transparent", **placement)
        self.connections.connect(layer.events.data, self.recompute)
        return layer

    def start_picking(self, _=None) -> None:
        """Create (or reuse) the ROI layer, select it and switch it to drawing mode."""
        if self.image.value is None:
            show_error("choose a 2-D image layer first")
            return
        layer = self.roi_layer(create=True)
        self.viewer.layers.selection.active = layer
        layer.mode = "add" if isinstance(layer, Points) else "add_rectangle"

    # ------------------------------------------------------------- computation
    def rois(self) -> list:
        """Current ROIs in image pixels: (row0, col0, row1, col1) for edges, (row, col) for beads."""
        layer, image = self.roi_layer(), self.image.value
        if layer is None or image is None:
            return []
        if isinstance(layer, Points):
            return [tuple(image.world_to_data(layer.data_to_world(p))[-2:]) for p in layer.data]
        boxes = []
        for shape in layer.data:
            corners = np.array([image.world_to_data(layer.data_to_world(v))[-2:] for v in shape])
            low, high = corners.min(axis=0), corners.max(axis=0)
            boxes.append((low[0], low[1], high[0], high[1]))
        return boxes

    @staticmethod
    def key(roi) -> tuple:
        """Cache key of an ROI: its geometry rounded to 0.01 pixel."""
        return tuple(round(float(v), 2) for v in roi)

    def recompute(self, event=None) -> None:
        """Compute the ROIs that have no cached result yet (in a worker), then refresh the views."""
        if self.runner.busy:
            self._pending = True
            return
        image = self.image.value
        todo = [roi for roi in self.rois() if self.key(roi) not in self.results]
        if image is None or not todo:
            self.refresh_views()
            return
        pixel = checked(self.pixel_size_value)
        if pixel is None:
            return
        data, point, box = layer_data(image), self.mode.value == "Point", self.box.value

        def compute(progress):
            done = {}
            for index, roi in enumerate(todo):
                progress(index / len(todo))
                try:
                    done[self.key(roi)] = (mtf_point(data, center=roi, box=box, pixel_size=pixel) if point
                                           else mtf_edge(data, roi=roi, pixel_size=pixel))
                except ValueError as error:
                    done[self.key(roi)] = str(error)
            return done

        self.runner.start(compute, self._store, on_finish=self._finished)

    def _store(self, done: dict) -> None:
        self.results.update(done)
        for message in done.values():
            if isinstance(message, str):
                show_error(f"MTF: {message}")

    def _finished(self) -> None:
        if self._pending:
            self._pending = False
            self.recompute()
        else:
            self.refresh_views()

    # ------------------------------------------------------------------- views
    def current(self) -> list:
        """(colour, ROI, result or error message) for every ROI, in layer order."""
        rows = []
        for index, roi in enumerate(self.rois()):
            if self.key(roi) in self.results:
                rows.append((PALETTE[index % len(PALETTE)], roi, self.results[self.key(roi)]))
        return rows

    def refresh_views(self) -> None:
        """Redraw the table, the MTF panel and the ESF/LSF panel from the cached results."""
        rows = self.current()
        self._colour_layer(len(self.rois()))
        self._fill_table(rows)
        valid = [(number, colour, result) for number, (colour, _, result) in enumerate(rows)
                 if not isinstance(result, str)]
        for panel in self.curve_panels:
            panel.clear()
        if valid:
            self.panel.show_run(self._combined(valid, 0, "MTF"))
        edges = [row for row in valid if row[2].kind == "edge"]
        if self.show_esf.value and edges:
            self.profile_panel.show_run(self._combined(edges, 1, "ESF/LSF"))

    def _combined(self, rows, which: int, title: str):
        """Plot ``which`` of every ROI's result in one panel, each ROI's curves in its colour."""
        unit = self.unit.value
        plots = [(number, colour, result.plots(unit)[which]) for number, colour, result in rows]
        curves = [replace(curve, label=f"{curve.label} {number + 1}", color=colour)
                  for number, colour, plot in plots for curve in plot.curves]
        return replace(plots[0][2], title=title, curves=tuple(curves), markers=())

    def _colour_layer(self, count: int) -> None:
        layer = self.roi_layer()
        if isinstance(layer, Shapes) and count:
            colours = transform_color([PALETTE[i % len(PALETTE)] for i in range(count)])
            if layer.edge_color.shape != colours.shape or not np.allclose(layer.edge_color, colours):
                layer.edge_color = colours

    def _fill_table(self, rows) -> None:
        self.table.setRowCount(len(rows))
        for row, (colour, _, result) in enumerate(rows):
            item = QTableWidgetItem(f"● {row + 1}")
            item.setForeground(_qcolor(colour))
            cells = [item]
            if isinstance(result, str):
                cells += [QTableWidgetItem(text) for text in ("—", "—", "—", "—", result)]
            else:
                detail = f"{result.edge_angle:.2f}°" if result.kind == "edge" else f"FWHM {result.fwhm:.3g}"
                values = (_fmt(result.f50), _fmt(result.f10), f"{result.mtf_nyquist:.3f}", detail,
                          "; ".join(result.warnings))
                cells += [QTableWidgetItem(text) for text in values]
            for column, cell in enumerate(cells):
                self.table.setItem(row, column, cell)
        self.table.resizeColumnsToContents()


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _qcolor(hex_colour: str):
    from qtpy.QtGui import QColor

    return QColor(hex_colour)
