"""Dock widget "Directional FSC": the resolution along every direction of two 3-D half-maps (conical FSC).

The curves panel shows the FSC in the cones around the xy-plane (lateral) and
the z axis (axial) and of every voxel (all directions), the second panel the
histogram of the directions' resolutions. Two layers show the result in
Fourier space, drawn on the half-maps' grid (one Fourier voxel per map voxel,
zero frequency at the centre; the frequency step ``1 / (n p)`` of each axis is
in their metadata, "frequency_step": a scale in cycles per unit would make
napari's slice slider step by it): ``<half-map> 3DFSC``, the FSC of each
Fourier voxel's nearest direction at its shell
(:meth:`~napari_resolution.core.directional.DirectionalFSCResult.fsc_volume`), and
``<half-map> resolution surface``, every direction at its crossing frequency,
coloured by its resolution (finer warmer). Clicking the 3DFSC layer (a click,
not a drag, while the layer is selected) picks the direction from its centre
to the clicked point, and the "Direction" field picks one by its index or
the nearest to a (z, y, x) vector: that direction's FSC is added to the curves.
"""

from __future__ import annotations

import numpy as np
from magicgui.widgets import CheckBox, FloatSpinBox, LineEdit, SpinBox
from qtpy.QtWidgets import QLabel

from ...core.directional import DEFAULT_CONE_ANGLE, DEFAULT_DIRECTIONS, directional_fsc
from ..layers import MouseDrags, click, clicked_voxel, layer_data
from .base import IMAGES, MASKS, EstimatorWidget, LayerInput
from .fourier import RANDOMIZE_NEEDS_MASK
from .local import contrast_limits, reversed_turbo

__all__ = ["DirectionalFSCWidget", "nearest_direction", "parse_direction"]

ESTIMATOR = "directional FSC"
#: The fewest directions the widget asks for (the core's minimum).
MIN_DIRECTIONS = 6
CLICK_HELP = ("Select the 3DFSC layer and click it (without dragging) to add the FSC along the direction from its "
              "centre to the clicked point (in 3-D view, where the line of sight enters the measured volume).")


def nearest_direction(directions, vector) -> int | None:
    """Index of the direction (rows of ``directions``, unit vectors on the half-sphere) nearest the axis of
    ``vector`` (either sign); None for a zero vector."""
    vector = np.asarray(vector, dtype=float)
    norm = np.linalg.norm(vector)
    if norm == 0:
        return None
    return int(np.argmax(np.abs(np.asarray(directions) @ (vector / norm))))


def parse_direction(text: str, directions) -> int | None:
    """The direction the "Direction" field names: an index into ``directions``, or the direction nearest a
    ``z, y, x`` vector; None when empty.

    Raises
    ------
    ValueError
        Naming "direction" when the text is neither, the index is out of range or the vector is zero.
    """
    parts = [part for part in text.replace(";", ",").split(",") if part.strip()]
    if not parts:
        return None
    try:
        values = [float(part) for part in parts]
    except ValueError:
        values = []
    count = len(directions)
    if len(values) == 1 and values[0].is_integer() and 0 <= values[0] < count:
        return int(values[0])
    if len(values) == 3 and any(values):
        return nearest_direction(directions, values)
    raise ValueError(f"direction must be an index from 0 to {count - 1} or a vector z, y, x, got {text!r}")


class DirectionalFSCWidget(EstimatorWidget):
    """Directional (conical) FSC of two half-maps: lateral, axial and per-direction curves, the histogram of
    the directions' resolutions, the 3DFSC volume and the resolution surface as layers; click a direction."""

    layer_inputs = (LayerInput("half1", "Half-map 1", ndims=(3,), arguments=("half1",), outputs=IMAGES),
                    LayerInput("half2", "Half-map 2", ndims=(3,), arguments=("half2",), outputs=IMAGES),
                    LayerInput("mask", "Mask", ndims=(3,), optional=True, arguments=("mask",), outputs=MASKS))
    panels = (("Fourier shell correlation", None), ("directions", "resolution, full period"))
    supports_gpu = True

    def __init__(self, napari_viewer):
        #: The 3DFSC layer of the shown result (clicks on it pick a direction).
        self.volume_layer = None
        self._followed: list = []  # layers whose clicks we listen to
        super().__init__(napari_viewer)
        self.direction_line = QLabel(CLICK_HELP)
        self.direction_line.setWordWrap(True)
        self.body.insertWidget(3, self.direction_line)  # under the result line
        self.run_button.tooltip = CLICK_HELP

    def build_options(self) -> list:
        """Cone angle, number of directions, threshold, phase randomisation, and the direction shown."""
        self.cone_angle = FloatSpinBox(label="Cone angle (°)", value=DEFAULT_CONE_ANGLE, min=1, max=90, step=1)
        self.cone_angle.tooltip = "half angle of the double cone around each direction"
        self.directions = SpinBox(label="Directions", value=DEFAULT_DIRECTIONS, min=MIN_DIRECTIONS, max=100000,
                                  step=10)
        self.directions.tooltip = "how many directions, spread evenly over the half-sphere"
        self.add_threshold_options("0.143")
        self.randomize = CheckBox(text="Correct by phase randomisation", value=False)
        self.randomize.tooltip = "needs a mask: each direction's masked FSC corrected for the mask's own correlation"
        self.randomize_at = FloatSpinBox(label="Randomise below FSC", value=0.8, min=0.05, max=0.99, step=0.05,
                                         visible=False)
        self.randomize.changed.connect(lambda on: setattr(self.randomize_at, "visible", on))
        self.direction = LineEdit(label="Direction", value="")
        self.direction.tooltip = ("a direction whose FSC is added to the curves: its index, or a vector z, y, x (the "
                                  "nearest direction); empty: none. Or click the 3DFSC layer.")
        self.direction.changed.connect(self._direction_changed)
        return [self.cone_angle, self.directions, self.threshold, self.custom, self.randomize, self.randomize_at,
                self.direction]

    def display_options(self) -> list:
        """The direction shown only changes the plot."""
        return [self.direction]

    def parameters(self) -> dict:
        """The inputs as keyword arguments of :func:`~napari_resolution.core.directional.directional_fsc`.

        Raises
        ------
        ValueError
            A missing layer, shapes that differ, randomisation without a mask, or a bad pixel size.
        """
        half1, half2 = self.picked_pair("half1", "half2")
        mask = self.mask.value
        if self.randomize.value and mask is None:
            raise ValueError(RANDOMIZE_NEEDS_MASK)
        threshold = self.threshold_value()
        return {"half1": half1, "half2": half2, "mask": None if mask is None else layer_data(mask),
                "cone_angle": float(self.cone_angle.value), "directions": int(self.directions.value),
                "pixel_size": self.pixel_size_value(), "threshold": threshold,
                "randomize_at": float(self.randomize_at.value) if self.randomize.value else None, "seed": 0,
                "device": self.device()}

    def compute(self, parameters: dict, progress):
        """:func:`~napari_resolution.core.directional.directional_fsc`."""
        return directional_fsc(**parameters, progress=progress)

    # ----------------------------------------------------------------- result
    def chosen_direction(self, result) -> int | None:
        """The index of the direction shown in the curves (None: none, or not one of ``result``'s directions)."""
        try:
            return parse_direction(self.direction.value, result.directions)
        except ValueError:
            return None

    def plots(self, result) -> tuple:
        """The curves (with the chosen direction's) and the histogram."""
        return result.plots(self.unit.value, direction=self.chosen_direction(result))

    def show_views(self, result) -> None:
        """The 3DFSC volume and the resolution surface in Fourier space, and the chosen direction's line."""
        unit = self.unit.value
        metadata = {"estimator": ESTIMATOR, "source": self.shown.layers[0].name, "unit": unit, **self.shown.settings,
                    "frequency_unit": f"cycles/{unit or 'px'}"}
        shape, sizes = np.asarray(result.parameters["shape"]), np.asarray(result.pixel_size)
        metadata["frequency_step"] = tuple(float(v) for v in 1 / (shape * sizes))  # cycles per unit, per voxel
        # on the half-maps' grid (a voxel of the spectrum drawn as one of the map): a scale of cycles per unit would
        # make napari's slice slider step by that tiny frequency step on the maps too
        volume = self.show_layer(result.fsc_volume(), kind="fsc_volume", estimator="3DFSC", metadata=metadata,
                                 colormap="viridis", contrast_limits=(0.0, 1.0), scale=tuple(sizes),
                                 translate=(0.0, 0.0, 0.0))
        vertices, faces, values = result.surface()
        vertices = vertices * (shape * sizes)  # cycles per unit -> Fourier voxels from the volume's centre
        finite = values[np.isfinite(values)]
        shown_values = np.where(np.isfinite(values), values, finite.max() if finite.size else 0.0)  # coarsest
        limits = contrast_limits(finite)
        surface = self.show_layer((vertices, faces, shown_values), kind="resolution_surface",
                                  estimator="resolution surface", layer_type="surface", metadata=metadata,
                                  scale=tuple(sizes), translate=tuple((shape // 2) * sizes), colormap=reversed_turbo(),
                                  contrast_limits=limits)
        surface.contrast_limits = limits  # a new surface, new limits
        self.volume_layer = volume
        self._follow(volume)
        self._show_direction()

    def _follow(self, layer) -> None:
        """Listen to clicks on ``layer`` (once per layer; undone on close)."""
        if any(followed == layer for followed in self._followed):  # == : napari hands plugins proxies
            return
        self._followed.append(layer)
        self.connections.connect(MouseDrags(layer), self.on_volume_click)

    def _direction_changed(self, _=None) -> None:
        self._show_direction()
        self.redraw()

    def _show_direction(self) -> None:
        """The chosen direction's vector and resolution under the result line."""
        result = self.result
        try:
            index = None if result is None else parse_direction(self.direction.value, result.directions)
        except ValueError as error:
            self.direction_line.setText(str(error))
            return
        if index is None:
            self.direction_line.setText(CLICK_HELP)
            return
        z, y, x = result.directions[index]
        status = result.statuses[index]
        resolution = result.resolutions[index]
        spaced = f" {self.unit.value}" if self.unit.value else ""
        value = "unresolved" if status == "unresolved" else \
            f"{'≤ ' if status == 'bound' else ''}{resolution:.3g}{spaced} ({status})"
        self.direction_line.setText(f"direction {index} (z, y, x) = ({z:.2f}, {y:.2f}, {x:.2f}): {value}")

    # ------------------------------------------------------------------ click
    def on_volume_click(self, layer, event):
        """napari mouse-drag callback of the 3DFSC layer: a click (press, release, no move) picks the direction
        from the volume's centre to the clicked point."""
        if layer != self.volume_layer or self.result is None:  # != : the volume layer is a proxy of ``layer``
            return
        yield from click(event, clicked_voxel(layer, event, layer.data), self.pick)

    def pick(self, position) -> None:
        """Show the direction nearest the one from the volume's centre to ``position`` (its pixel coordinates)."""
        shape = np.asarray(self.result.parameters["shape"])
        frequency = (np.asarray(position) - shape // 2) / (shape * np.asarray(self.result.pixel_size))
        index = nearest_direction(self.result.directions, frequency)
        if index is not None:
            self.direction.value = str(index)
