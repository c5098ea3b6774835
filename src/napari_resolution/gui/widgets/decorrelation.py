"""Dock widget "Decorrelation analysis": resolution of one image (or of each slice of a stack)."""

from __future__ import annotations

import numpy as np
from magicgui.widgets import ComboBox, Container, FloatSpinBox, LineEdit, PushButton, SpinBox
from qtpy.QtWidgets import QVBoxLayout

from ...core.decorrelation import DecorrelationResult, DecorrelationStackResult, decorrelation
from ..layers import layer_data, parse_pixel_size
from ..plots import Curve, CurvePanel, Marker, ResultLine, Run
from ..runner import Runner, checked
from .base import SingleImageWidget

__all__ = ["DecorrelationWidget"]

_SLICE_MODES = ("all slices", "current slice", "listed slices")


def parse_slices(text: str) -> list[int]:
    """Slice indices from ``"3, 5, 9"`` or a range ``"0:40:4"`` (start:stop[:step]).

    Raises
    ------
    ValueError
        Naming "slices" when the text is neither.
    """
    try:
        if ":" in text:
            parts = [int(p) if p.strip() else None for p in text.split(":")]
            if len(parts) not in (2, 3) or parts[1] is None:
                raise ValueError
            return list(range(parts[0] or 0, parts[1], parts[2] if len(parts) == 3 and parts[2] else 1))
        return [int(p) for p in text.replace(";", ",").split(",") if p.strip()]
    except ValueError:
        raise ValueError(f"slices must be indices like '3, 5, 9' or a range like '0:40:4', got {text!r}") from None


class DecorrelationWidget(SingleImageWidget):
    """Decorrelation analysis (Descloux et al. 2019) of an image layer; stacks slice by slice.

    The panel shows every d(r) curve (unfiltered emphasised), the valid peaks
    and kc_max; for a stack, a second panel shows the resolution per slice and
    the curves are those of the slice nearest the median.
    """

    ndims = (2, 3)

    def __init__(self, napari_viewer):
        super().__init__(napari_viewer)
        self.result = None
        self.slice_mode = ComboBox(label="3-D: analyse", choices=list(_SLICE_MODES), value="all slices")
        self.axis = SpinBox(label="3-D: slice axis", value=0, min=0, max=2)
        self.slices = LineEdit(label="3-D: slices", value="0:10")
        self.n_radii = SpinBox(label="Radii", value=50, min=10, max=400)
        self.n_highpass = SpinBox(label="High-pass filters", value=10, min=2, max=60)
        self.r_min = FloatSpinBox(label="r min (Nyquist)", value=0.0, min=0.0, max=0.99, step=0.05)
        self.r_max = FloatSpinBox(label="r max (Nyquist)", value=1.0, min=0.01, max=1.0, step=0.05)
        self.apodization = SpinBox(label="Apodization (px)", value=20, min=0, max=100000)
        self.run_button = PushButton(text="Run")
        self.inputs = Container(widgets=[
            self.image, self.pixel_size, self.unit, self.slice_mode, self.axis, self.slices, self.n_radii,
            self.n_highpass, self.r_min, self.r_max, self.apodization, self.run_button,
        ])
        self.runner = Runner()
        self.result_line = ResultLine()
        self.panel = CurvePanel(napari_viewer, y_label="decorrelation d(r)")
        self.slice_panel = CurvePanel(napari_viewer, y_label="resolution (full period)", x_label="slice index")
        layout = QVBoxLayout(self)
        for widget in (self.inputs.native, self.runner, self.result_line, self.panel, self.slice_panel):
            layout.addWidget(widget)
        self.runner.set_controls([self.inputs.native])
        self.slice_mode.changed.connect(self._update_visibility)
        self.run_button.changed.connect(self.run)
        self.connect_image_picker()

    def image_changed(self) -> None:
        """Show the stack options only for 3-D images."""
        self._update_visibility()

    def _update_visibility(self, _=None) -> None:
        is_stack = self.image.value is not None and self.image.value.ndim == 3
        for widget in (self.slice_mode, self.axis):
            widget.visible = is_stack
        self.slices.visible = is_stack and self.slice_mode.value == "listed slices"
        self.slice_panel.setVisible(is_stack)

    def parameters(self) -> dict:
        """The inputs as keyword arguments of :func:`decorrelation` (raises ValueError)."""
        layer = self.image.value
        if layer is None:
            raise ValueError("choose an image layer")
        image = layer_data(layer)
        parameters = {
            "image": image, "pixel_size": parse_pixel_size(self.pixel_size.value), "n_radii": self.n_radii.value,
            "n_highpass": self.n_highpass.value, "r_min": self.r_min.value, "r_max": self.r_max.value,
            "apodization": self.apodization.value,
        }
        if image.ndim == 3:
            parameters["axis"] = self.axis.value
            parameters["slices"] = self._selected_slices(layer)
        return parameters

    def _selected_slices(self, layer):
        if self.slice_mode.value == "current slice":
            position = layer.world_to_data(self.viewer.dims.point)
            return [int(round(position[self.axis.value]))]
        if self.slice_mode.value == "listed slices":
            return parse_slices(self.slices.value)
        return None

    def run(self, _=None) -> None:
        """Run the analysis in a worker thread."""
        parameters = checked(self.parameters)
        if parameters is None:
            return
        title = self.image.value.name
        self.runner.start(lambda progress: decorrelation(**parameters, progress=progress),
                          lambda result: self._show(result, title))

    def _show(self, result, title: str) -> None:
        self.result = result
        unit = self.unit.value
        self.result_line.setText(result.summary(unit))
        if isinstance(result, DecorrelationStackResult):
            self.slice_panel.show_run(self.slice_run(result, title))
            shown = _median_slice(result)
            title = f"{title}, slice {result.slice_indices[shown]}"
            self.panel.show_run(self.curves_run(result.slices[shown], title))
        else:
            self.panel.show_run(self.curves_run(result, title))

    def curves_run(self, result: DecorrelationResult, title: str) -> Run:
        """All d(r) curves against cycles/pixel (= r / 2), the peaks and kc_max."""
        curves = [Curve("unfiltered d(r)", result.radii / 2, result.d0, color="#40c090")]
        curves += [Curve("high-pass" if i == 0 else "", result.radii / 2, curve, "reference", "#8a8a8a")
                   for i, curve in enumerate(result.curves)]
        curves += [Curve("refined" if i == 0 else "", result.refined_radii / 2, curve, "reference", "#4fa3ff")
                   for i, curve in enumerate(result.refined_curves)]
        valid = result.peaks[result.peaks[:, 1] > 0]
        curves.append(Curve("peaks", valid[:, 0] / 2, valid[:, 1], "points", "#ff5a5a"))
        unit = f" {self.unit.value}" if self.unit.value else ""
        markers = [] if result.kc_max is None else [Marker(result.kc_max / 2, f"{result.resolution:.3g}{unit}")]
        return Run(title, curves, markers, result.pixel_size, self.unit.value)

    def slice_run(self, result: DecorrelationStackResult, title: str) -> Run:
        """Resolution per slice with the median as a reference line."""
        curves = [Curve("resolution", result.slice_indices.astype(float), result.resolutions)]
        if result.median is not None:
            ends = result.slice_indices[[0, -1]].astype(float)
            curves.append(Curve(f"median {result.median:.3g}", ends, np.full(2, result.median), "reference"))
        return Run(title, curves, [], 1.0, self.unit.value)


def _median_slice(result: DecorrelationStackResult) -> int:
    """Index (in ``result.slices``) of the resolved slice nearest the median, or 0."""
    if result.median is None:
        return 0
    return int(np.nanargmin(np.abs(result.resolutions - result.median)))
