"""Dock widget "MTF": slanted-edge ROIs (rectangles) or beads (points) picked on an image layer.

Every ROI gets its MTF (with its noise level and its MTF50, MTF10 and
noise-floor markers), drawn in the ROI's colour and listed in a table (MTF50,
MTF10, MTF at Nyquist; with a length unit the MTF50 period and line pairs per
millimetre; edge angle or FWHM, notes); the ROIs on the image are outlined in
their colour and numbered like the table's rows and the curves. On request a
second panel shows each ROI's profile (ESF / LSF of an edge, radial profile of
a bead: the LSF and the Gaussian fit in a lighter shade of the ROI's colour).
Results are cached by ROI geometry, so moving or editing one ROI recomputes
that ROI only, and a failing ROI is notified once, when it is computed.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from magicgui.widgets import CheckBox, PushButton, RadioButtons, SpinBox
from napari.layers import Points, Shapes
from napari.utils.colormaps.standardize_color import transform_color
from napari.utils.notifications import show_error

from ...core.figures import PALETTE, overlay
from ...core.mtf import BeadStackResult, mtf_edge, mtf_point
from ..layers import add_or_update_layer, find_output, layer_data
from ..runner import checked
from .base import EstimatorWidget, LayerInput, ResultsTable

__all__ = ["MTFWidget"]

COLUMNS = ("ROI", "MTF50\nc/px", "MTF10\nc/px", "MTF\nNyq.", "angle/\nFWHM", "note")
COLUMN_TIPS = ("the ROI's number, on the image and in the curves", "MTF50: where the MTF falls to 0.5, cycles/pixel",
               "MTF10: where the MTF falls to 0.1, cycles/pixel", "the MTF at the Nyquist frequency (0.5 cycles/pixel)",
               "the edge's angle, or the bead's FWHM (a z-stack's lateral / axial)", "warnings and errors")
#: Columns added before "angle / FWHM" when the unit is a length: the MTF50 period and line pairs per millimetre.
PHYSICAL = ("period", "lp/\nmm")
#: Millimetres per unit of the lengths whose line pairs per millimetre the table gives.
MILLIMETRES = {"m": 1e3, "cm": 10.0, "mm": 1.0, "µm": 1e-3, "um": 1e-3, "nm": 1e-6, "Å": 1e-7, "pm": 1e-9}
#: How much of white the lighter shade of a ROI's colour takes (its LSF, its Gaussian fit).
LIGHTER = 0.55
#: Profile panel per mode: check box text, then the empty panel's (y, x) axis labels.
PROFILES = {"Edge": ("Show ESF / LSF", "ESF / LSF", "distance from the edge (pixels)"),
            "Point": ("Show bead profile", "PSF (normalised)", "distance from the bead centre (pixels)")}
#: ROI layer per mode: end of its name, its kind (:data:`~..layers.KINDS`), layer type, display keywords.
ROI_LAYERS = {"Edge": ("MTF edges", "mtf_edges", "shapes", {"shape_type": "rectangle", "edge_width": 2,
                                                             "edge_color": PALETTE[0], "face_color": "transparent"}),
              "Point": ("MTF beads", "mtf_beads", "points", {"size": 8, "face_color": "transparent",
                                                             "border_color": PALETTE[0], "border_width": 0.2})}
#: The ROIs' numbers on the image: napari text keywords (the colour is each ROI's).
NUMBERS = {"string": "{number}", "anchor": "upper_left", "size": 10}


class MTFWidget(EstimatorWidget):
    """MTF of the edges (rectangles) or beads (points) the user picks on a 2-D image layer (beads also in a z-stack).

    There is no Run button: drawing, moving or deleting an ROI recomputes
    what changed.
    """

    layer_inputs = (LayerInput("image", "Image", ndims=(2, 3), arguments=("image",)),)
    panels = (("MTF", None), PROFILES["Edge"][1:])
    run_text = ""

    def __init__(self, napari_viewer):
        self.results: dict = {}  # geometry key -> MTFResult or error message
        self._pending = False
        self._cached_for = None  # the settings the cached results belong to
        self.table = ResultsTable(COLUMNS, 140, COLUMN_TIPS)  # before the base picks an image and fills it
        super().__init__(napari_viewer)
        self.body.insertWidget(2, self.table)
        self.result_line.setVisible(False)
        self.profile_panel.setVisible(False)
        self.show_profile.changed.connect(lambda on: (self.profile_panel.setVisible(on), self.refresh_views()))
        for field in (self.pixel_size, self.box):
            field.changed.connect(self._parameters_changed)

    @property
    def profile_panel(self):
        """The profile panel (ESF / LSF of edges, radial profile of beads; shown on request)."""
        return self.curve_panels[1]

    def build_options(self) -> list:
        """Edge or point mode, the bead box, the ROI button and the profile option."""
        self.mode = RadioButtons(label="Mode", choices=["Edge", "Point"], value="Edge", orientation="horizontal")
        self.box = SpinBox(label="Bead box (px)", value=32, min=8, max=512, visible=False)
        self.pick_button = PushButton(text="Draw ROIs on the image")
        self.show_profile = CheckBox(text=PROFILES["Edge"][0], value=False)
        self.mode.changed.connect(self._mode_changed)
        self.pick_button.changed.connect(self.start_picking)
        return [self.mode, self.box, self.pick_button, self.show_profile]

    # ------------------------------------------------------------------ layers
    def layer_changed(self) -> None:
        """Another image picked: forget every cached result."""
        self._parameters_changed()

    def sources_changed(self) -> None:
        """The image got new data (or was renamed, rescaled): its cached results go if its data changed."""
        self._parameters_changed()

    def _mode_changed(self, _=None) -> None:
        point = self.mode.value == "Point"
        self.box.visible = point
        self.pick_button.text = "Click beads on the image" if point else "Draw ROIs on the image"
        text, y_label, x_label = PROFILES[self.mode.value]
        self.show_profile.text = text
        self.profile_panel.plot_item.setLabel("left", y_label)
        self.profile_panel.plot_item.setLabel("bottom", x_label)
        self._parameters_changed()

    def _parameters_changed(self, _=None) -> None:
        """Forget the cached results if the image, mode, pixel size or box changed, then recompute.

        Every layer event refills the pickers and the mode buttons, which report a change even when
        the value is the same: then the results stay (and a failing ROI is not notified again).
        """
        image = self.image.value
        settings = (image, None if image is None else self.data_version(image), self.mode.value,
                    self.pixel_size.value, self.box.value)
        if settings != self._cached_for:
            self._cached_for = settings
            self.results.clear()
        self.recompute()

    @property
    def roi_layer_name(self) -> str:
        """Name of the layer holding the ROIs for the current image and mode."""
        image = self.image.value
        return f"{image.name if image is not None else 'image'} {ROI_LAYERS[self.mode.value][0]}"

    def roi_layer(self, create: bool = False):
        """The Shapes (edge) or Points (bead) layer of ROIs of the image (the one made for it, whatever its name now,
        else the layer of :attr:`roi_layer_name`), created on request."""
        suffix, kind, layer_type, style = ROI_LAYERS[self.mode.value]
        made = None if self.image.value is None else find_output(self.viewer, kind, self.image.value)
        if made is not None:
            return made
        name = self.roi_layer_name
        if name in self.viewer.layers:
            return self.viewer.layers[name]
        if not create:
            return None
        layer = add_or_update_layer(self.viewer, None, source=self.image.value, estimator=suffix, kind=kind,
                                    layer_type=layer_type, **style)
        self.connections.connect(layer.events.data, self.recompute)
        return layer

    def start_picking(self, _=None) -> None:
        """Create (or reuse) the ROI layer, select it and switch it to drawing mode."""
        if self.image.value is None:
            show_error(f"{self.no_layer(*self.layer_pickers()[0])} (an image: 2-D, or a z-stack for beads)")
            return
        layer = self.roi_layer(create=True)
        self.viewer.layers.selection.active = layer
        layer.mode = "add" if isinstance(layer, Points) else "add_rectangle"

    # ------------------------------------------------------------- computation
    def rois(self) -> list:
        """Current ROIs in image pixels: (row0, col0, row1, col1) for edges, (row, col) for beads.

        Rectangles are given in pixel-edge coordinates (napari puts pixel
        centres at integers, so a rectangle along the image border spans
        0 to the image size): the core rejects any part outside the image.
        """
        layer, image = self.roi_layer(), self.image.value
        if layer is None or image is None:
            return []
        if isinstance(layer, Points):  # a bead in a z-stack: (z, row, col)
            return [tuple(image.world_to_data(layer.data_to_world(p))[-image.ndim:]) for p in layer.data]
        boxes = []
        for shape in layer.data:
            corners = np.array([image.world_to_data(layer.data_to_world(v))[-2:] for v in shape])
            low, high = corners.min(axis=0) + 0.5, corners.max(axis=0) + 0.5
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
        """Cache what the worker computed; notify each ROI that failed, by its number."""
        self.results.update(done)
        noun = "bead" if self.mode.value == "Point" else "ROI"
        for number, roi in enumerate(self.rois(), 1):
            message = done.get(self.key(roi))
            if isinstance(message, str):
                show_error(f"MTF {noun} {number}: {message}")

    def _finished(self) -> None:
        if self._pending:
            self._pending = False
            self.recompute()
        else:
            self.refresh_views()

    # ------------------------------------------------------------------- views
    def current(self) -> list:
        """(number, colour, result or error message) of every ROI with a result, in layer order (numbers from 1)."""
        return [(index + 1, PALETTE[index % len(PALETTE)], self.results[self.key(roi)])
                for index, roi in enumerate(self.rois()) if self.key(roi) in self.results]

    def refresh_views(self) -> None:
        """Redraw the table, the MTF panel and the profile panel from the cached results."""
        rows = self.current()
        self._colour_layer(len(self.rois()))
        self._fill_table(rows)
        valid = [row for row in rows if not isinstance(row[2], str)]
        for panel in self.curve_panels:
            panel.clear()
        if not valid:
            return
        unit = self.unit.value
        self.panel.show_run(_overlay(valid, lambda result: result.mtf_plot(unit)))
        if self.show_profile.value:
            self.profile_panel.show_run(_lighter_guides(_overlay(valid, lambda result: result.profile_plot(unit))))

    def _colour_layer(self, count: int) -> None:
        """Outline each ROI (rectangle or bead) in its colour and number it, as the table's rows and the curves."""
        layer = self.roi_layer()
        if layer is None or not count:
            return
        names = [PALETTE[i % len(PALETTE)] for i in range(count)]
        colours = transform_color(names)
        attribute = "edge_color" if isinstance(layer, Shapes) else "border_color"
        current = getattr(layer, attribute)
        if current.shape != colours.shape or not np.allclose(current, colours):
            setattr(layer, attribute, colours)
        numbers = np.arange(1, count + 1)
        if "number" not in layer.features or not np.array_equal(layer.features["number"], numbers):
            layer.features = {"number": numbers, "colour": names}
            layer.text = {**NUMBERS, "color": {"feature": "colour"}}

    def _fill_table(self, rows) -> None:
        """One row per ROI: its number in its colour, MTF50, MTF10, MTF at Nyquist, with a length unit the MTF50
        period and lp/mm, angle or FWHM (with its unit), notes (warnings, errors)."""
        unit = self.unit.value
        physical = unit in MILLIMETRES
        headers, tips = _columns(unit)
        if self.table.columns != headers:
            self.table.set_columns(headers, tips)
        cells = []
        for number, _, result in rows:
            if isinstance(result, str):
                values, note = ("—",) * (len(headers) - 2), result
            else:
                lateral = result.lateral if isinstance(result, BeadStackResult) else result
                values = (_fmt(lateral.f50), _fmt(lateral.f10), f"{lateral.mtf_nyquist:.3f}",
                          *(_physical(lateral.resolution_50, unit) if physical else ()), _detail(result, unit))
                note = "\n".join(result.warnings)
            cells.append((f"● {number}", *values, note))
        self.table.fill(cells, colors=[colour for _, colour, _ in rows])


def _overlay(rows, plot_of):
    """One plot of every ROI's ``plot_of(result)`` (:func:`~...core.figures.overlay`): in the ROI's colour, numbered.

    ``rows`` are (number, colour, result) of the ROIs with a result.
    """
    return overlay([plot_of(result) for _, _, result in rows], [str(number) for number, _, _ in rows],
                   [colour for _, colour, _ in rows], curve_label="{label} {name}")


def _columns(unit: str) -> tuple[list, list]:
    """The table's headers and their tooltips: :data:`COLUMNS`, with :data:`PHYSICAL` for a length ``unit``."""
    if unit not in MILLIMETRES:
        return list(COLUMNS), list(COLUMN_TIPS)
    return ([*COLUMNS[:4], f"{PHYSICAL[0]}\n({unit})", PHYSICAL[1], *COLUMNS[4:]],
            [*COLUMN_TIPS[:4], f"the period where the MTF falls to 0.5 ({unit})",
             "line pairs per millimetre where the MTF falls to 0.5", *COLUMN_TIPS[4:]])


def _lighter_guides(plot):
    """``plot`` with every curve but the measured ones (an LSF, a Gaussian fit) in a lighter shade of its colour."""
    return replace(plot, curves=tuple(curve if curve.role == "measured" else replace(curve, color=_lighter(curve.color))
                                      for curve in plot.curves))


def _lighter(color: str) -> str:
    """The hex colour ``color`` mixed with :data:`LIGHTER` of white."""
    red, green, blue = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(value + LIGHTER * (255 - value)):02x}" for value in (red, green, blue))


def _physical(period, unit: str) -> tuple[str, str]:
    """The MTF50 period in ``unit`` and its line pairs per millimetre, as the table shows them."""
    if period is None:
        return "n/a", "n/a"
    return _significant(period), _significant(1 / (period * MILLIMETRES[unit]))


def _significant(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits, trailing zeros kept, never in exponent notation: 4.00, 548, 1825."""
    decimals = max(0, digits - 1 - int(np.floor(np.log10(abs(value))))) if value else digits - 1
    return f"{value:.{decimals}f}"


def _detail(result, unit: str = "") -> str:
    """The table's last number: the edge angle, the bead's FWHM, or a z-stack bead's lateral / axial FWHM (in
    ``unit``)."""
    spaced = f" {unit}" if unit else ""
    if isinstance(result, BeadStackResult):
        axial = "n/a" if result.axial_fwhm is None else f"{result.axial_fwhm:.3g}"
        return f"{result.lateral_fwhm:.3g} / z {axial}{spaced}"
    return f"{result.edge_angle:.2f}°" if result.kind == "edge" else f"{result.fwhm:.3g}{spaced}"


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"
