"""Dock widget "Tomography split": two reconstructions from the even and odd projections, and their FRC/FSC."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, FileEdit, FloatSpinBox, LineEdit, SpinBox

from ...core.thresholds import CRITERIA
from ...core.tomography import FILTERS, TILT_AXES, WEIGHTINGS, parse_angles, reconstruction_pixel_size, tomography_frc
from ..layers import add_or_update_layer, beside, format_pixel_size, layer_data, layer_pixel_size
from .base import EstimatorWidget, LayerInput

__all__ = ["TomographyWidget"]

_FROM_LAYER, _RANGE, _FILE = "from the layer", "start / stop / count", "file"
_DEFAULT_AXIS = "default"
_ANGLE = "angle"


class TomographyWidget(EstimatorWidget):
    """Split-dataset tomography of a sinogram (detector, angles) or projection stack (angles, rows, detector).

    The angles come from the layer (``metadata["theta"]``, as the sample
    data has them), from start/stop/count (stop excluded) or from a text/CSV
    file. The tilt axis of a stack is detected from the data or chosen (y,
    x, or an in-plane angle). The two reconstructions are shown as the
    layers ``<input> even`` and ``<input> odd``, the FRC (FSC for a stack) in
    the panel.
    """

    layer_inputs = (LayerInput("sinogram", "Sinogram", arguments=("sinogram",)),)
    panels = (("Fourier correlation", None),)
    supports_gpu = True

    def build_options(self) -> list:
        """Angles (source, range or file), angle axis, tilt axis, filter, threshold, centre, weighting and circle."""
        self.angle_source = ComboBox(label="Angles", choices=[_FROM_LAYER, _RANGE, _FILE], value=_RANGE)
        self.start = FloatSpinBox(label="Start (°)", value=0.0, min=-36000, max=36000, step=1)
        self.stop = FloatSpinBox(label="Stop (°, excluded)", value=180.0, min=-36000, max=36000, step=1)
        self.count = SpinBox(label="Count", value=180, min=8, max=10_000_000)
        self.angles_file = FileEdit(label="Angles file", mode="r", filter="*.txt *.csv *.tlt *.rawtlt")
        self.angle_axis = ComboBox(label="Angle axis", choices=[_DEFAULT_AXIS, "0", "1", "2"], value=_DEFAULT_AXIS)
        self.angle_axis.tooltip = "default: 1 for a sinogram (detector, angles), 0 for a stack (angles, rows, detector)"
        self.tilt_axis = ComboBox(label="Tilt axis", choices=[*TILT_AXES, _ANGLE], value="auto")
        self.tilt_axis.tooltip = ("axis of a stack's projections the tilt axis runs along: auto (detected from the "
                                  "data), y (each row a sinogram), x, or an in-plane angle")
        self.tilt_angle = FloatSpinBox(label="Tilt axis angle (°)", value=0.0, min=-180, max=180, step=0.5)
        self.tilt_angle.tooltip = "in-plane angle of the tilt axis, degrees from y towards x"
        self.tilt_angle.visible = False
        self.filter = ComboBox(label="Filter", choices=list(FILTERS), value="ramp")
        self.weighting = ComboBox(label="Weighting", choices=list(WEIGHTINGS), value="uniform")
        self.weighting.tooltip = ("weight of each projection: uniform (as iradon, ASTRA, toupy) or its angular "
                                  "interval (gaps: for unevenly spaced angles)")
        self.threshold = ComboBox(label="Threshold", choices=list(CRITERIA), value="half-bit")
        self.center = LineEdit(label="Rotation axis (px)", value="auto")
        self.center.tooltip = "detector position of the rotation axis in pixels; auto (or empty): detector // 2"
        self.circle = CheckBox(text="Object inside the detector's circle", value=True)
        self.angle_source.changed.connect(self._update_angles)
        self.angle_axis.changed.connect(self.layer_changed)
        self.tilt_axis.changed.connect(self.layer_changed)
        self._update_angles()
        return [self.angle_source, self.start, self.stop, self.count, self.angles_file, self.angle_axis,
                self.tilt_axis, self.tilt_angle, self.filter, self.threshold, self.center, self.weighting,
                self.circle]

    def layer_changed(self) -> None:
        """Angles from the layer when it has them, else a count that fits; the tilt axis's choice for a stack; the
        reconstruction's pixel size."""
        layer = self.sinogram.value
        stack = layer is not None and layer.ndim == 3
        self.tilt_axis.visible = stack
        self.tilt_angle.visible = stack and self.tilt_axis.value == _ANGLE
        if layer is None:
            return
        if "theta" in layer.metadata:
            self.angle_source.value = _FROM_LAYER
        sizes, _ = layer_pixel_size(layer)
        self.pixel_size.value = format_pixel_size(np.atleast_1d(self._recon_pixel_size(sizes, layer)))
        self._update_angles()

    def _recon_pixel_size(self, sizes, layer):
        data = layer.data if isinstance(layer.data, np.ndarray) else None  # a lazy stack is not read to detect
        try:
            return reconstruction_pixel_size(sizes, layer.ndim, self._angle_axis(), self._tilt_axis(layer), data)
        except ValueError:
            return sizes

    def _tilt_axis(self, layer):
        """The tilt axis for the core: "auto" for a sinogram (it has none), the angle when one is chosen."""
        if layer.ndim == 2:
            return "auto"
        return self.tilt_angle.value if self.tilt_axis.value == _ANGLE else self.tilt_axis.value

    def _angle_axis(self):
        return None if self.angle_axis.value == _DEFAULT_AXIS else int(self.angle_axis.value)

    def _update_angles(self, _=None) -> None:
        """Show the inputs of the chosen angle source; the count follows the layer's projections."""
        source = self.angle_source.value
        for widget in (self.start, self.stop, self.count):
            widget.visible = source == _RANGE
        self.angles_file.visible = source == _FILE
        layer = self.sinogram.value
        if layer is not None and source == _RANGE:
            axis = self._angle_axis()
            axis = (1 if layer.ndim == 2 else 0) if axis is None else axis
            if axis < layer.ndim:
                self.count.value = max(self.count.min, layer.data.shape[axis])

    def _angles(self, layer) -> np.ndarray:
        if self.angle_source.value == _FROM_LAYER:
            if "theta" not in layer.metadata:
                raise ValueError(f"layer '{layer.name}' has no angles in its metadata (\"theta\"): "
                                 "give them as start / stop / count or as a file")
            return np.asarray(layer.metadata["theta"], dtype=float)
        if self.angle_source.value == _FILE:
            path = Path(self.angles_file.value)
            if not path.is_file():
                raise ValueError(f"angles file {path}: no such file")
            return parse_angles(path.read_text(), f"angles file {path.name}")
        return np.linspace(self.start.value, self.stop.value, self.count.value, endpoint=False)

    def _center(self):
        text = self.center.value.strip()
        if text in ("", "auto"):
            return None
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"rotation axis must be a number of pixels or 'auto', got {text!r}") from None

    def parameters(self) -> dict:
        """The inputs as keyword arguments of :func:`tomography_frc` (raises ValueError)."""
        layer = self.picked("sinogram")
        return {"sinogram": layer_data(layer), "theta": self._angles(layer), "angle_axis": self._angle_axis(),
                "tilt_axis": self._tilt_axis(layer), "pixel_size": self.pixel_size_value(),
                "filter": self.filter.value, "threshold": self.threshold.value, "center": self._center(),
                "circle": self.circle.value, "weighting": self.weighting.value, "device": self.device()}

    def compute(self, parameters: dict, progress):
        """:func:`tomography_frc` (progress after each pass of slices of each half)."""
        return tomography_frc(**parameters, progress=progress)

    def show_views(self, result) -> None:
        """The two reconstructions as ``<input> even`` / ``<input> odd``, side by side to the right of the input
        (not over it)."""
        source = self.shown.layers[0]
        metadata = {"estimator": "tomography split", "source": source.name, **self.shown.settings,
                    "pixel_size": result.pixel_size, "unit": self.unit.value}
        width = result.reconstructions[0].shape[-1] * result.pixel_size[-1]
        for number, (half, volume) in enumerate(zip(("even", "odd"), result.reconstructions)):
            place = beside(source, (number + 0.1) * 1.1 * width, volume.ndim)  # side by side, right of the input
            add_or_update_layer(self.viewer, volume, source=source, estimator=half, kind=f"{half}_reconstruction",
                                metadata=metadata, scale=result.pixel_size, translate=place, into_view=True,
                                colormap="gray")
