"""Dock widget "Decorrelation analysis": resolution of one image (or of each slice of a stack)."""

from __future__ import annotations

from magicgui.widgets import CheckBox, ComboBox, FloatSpinBox, LineEdit, SpinBox

from ...core.decorrelation import DecorrelationStackResult, decorrelation
from ..layers import layer_data
from .base import IMAGES, EstimatorWidget, LayerInput
from .fourier import CONFIDENCE

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


class DecorrelationWidget(EstimatorWidget):
    """Decorrelation analysis (Descloux et al. 2019) of an image layer; stacks slice by slice.

    The panel shows every d(r) curve (unfiltered emphasised), the valid peaks
    and the cut-off; for several slices of a stack, a second panel shows the
    resolution per slice and the curves are those of the slice nearest the
    median. The result line names the slice (and axis) the curves are from.
    """

    layer_inputs = (LayerInput("image", "Image", arguments=("image",), outputs=IMAGES),)
    panels = (("decorrelation d(r)", None), ("resolution (full period)", "slice index"))
    supports_gpu = True

    def __init__(self, napari_viewer):
        super().__init__(napari_viewer)
        self._update_visibility()
        self.connections.connect(napari_viewer.dims.events.current_step, self._inputs_changed)

    @property
    def slice_panel(self):
        """The panel of the resolution per slice (shown for stacks)."""
        return self.curve_panels[1]

    def build_options(self) -> list:
        """Slice selection for stacks, radii, filters, range, apodization and the interval."""
        self.slice_mode = ComboBox(label="3-D: analyse", choices=list(_SLICE_MODES), value="all slices")
        self.axis = SpinBox(label="3-D: slice axis", value=0, min=0, max=2)
        self.slices = LineEdit(label="3-D: slices", value="0:10")
        self.n_radii = SpinBox(label="Radii", value=50, min=10, max=400)
        self.n_highpass = SpinBox(label="High-pass filters", value=10, min=2, max=60)
        self.r_min = FloatSpinBox(label="r min (Nyquist)", value=0.0, min=0.0, max=0.99, step=0.05)
        self.r_max = FloatSpinBox(label="r max (Nyquist)", value=1.0, min=0.01, max=1.0, step=0.05)
        self.apodization = SpinBox(label="Apodization (px)", value=20, min=0, max=100000)
        self.interval = CheckBox(text=f"{CONFIDENCE:.0%} interval", value=False)
        self.interval.tooltip = ("the range of resolutions the image's noise allows (shown as [low, high] and as a "
                                 "bar on the peak), from 50 noise resamples: about 50x the analysis's time")
        self.slice_mode.changed.connect(self._update_visibility)
        return [self.slice_mode, self.axis, self.slices, self.n_radii, self.n_highpass, self.r_min, self.r_max,
                self.apodization, self.interval]

    def layer_changed(self) -> None:
        """Show the stack options only for 3-D images."""
        self._update_visibility()

    def _update_visibility(self, _=None) -> None:
        is_stack = self.image.value is not None and self.image.value.ndim == 3
        for widget in (self.slice_mode, self.axis):
            widget.visible = is_stack
        self.slices.visible = is_stack and self.slice_mode.value == "listed slices"
        self.slice_panel.setVisible(is_stack and self.slice_mode.value != "current slice")

    def current_inputs(self) -> dict:
        """The inputs, and the viewer's slice when "current slice" is analysed."""
        inputs = super().current_inputs()
        if inputs.get(self.slice_mode.label) == "current slice":
            inputs["Current slice"] = str(self._current_slice(self.image.value))
        return inputs

    def _current_slice(self, layer) -> int:
        """Index along the slice axis of the slice the viewer shows."""
        return int(round(layer.world_to_data(self.viewer.dims.point)[self.axis.value]))

    def parameters(self) -> dict:
        """The inputs as keyword arguments of :func:`decorrelation` (raises ValueError)."""
        layer = self.picked("image")
        image = layer_data(layer)
        parameters = {
            "image": image, "pixel_size": self.pixel_size_value(), "n_radii": self.n_radii.value,
            "n_highpass": self.n_highpass.value, "r_min": self.r_min.value, "r_max": self.r_max.value,
            "apodization": self.apodization.value, "device": self.device(),
            "confidence": CONFIDENCE if self.interval.value else None, "seed": 0,
        }
        if image.ndim == 3:
            parameters["axis"] = self.axis.value
            parameters["slices"] = self._selected_slices(layer)
        return parameters

    def _selected_slices(self, layer):
        if self.slice_mode.value == "current slice":
            return [self._current_slice(layer)]
        if self.slice_mode.value == "listed slices":
            return parse_slices(self.slices.value)
        return None

    def compute(self, parameters: dict, progress):
        """:func:`decorrelation` of the image or of the chosen slices."""
        return decorrelation(**parameters, progress=progress)

    def summary(self, result) -> str:
        """The summary; for a stack, with the slice (and axis) whose curves are shown."""
        if not isinstance(result, DecorrelationStackResult):
            return super().summary(result)
        index = result.slice_indices[result.median_slice]
        if len(result.slices) == 1:
            return f"slice {index} along axis {result.axis}: {result.slices[0].summary(self.unit.value)}"
        return f"{super().summary(result)} · curves of slice {index} along axis {result.axis} (nearest the median)"

    def draw(self, result, title: str, *, replace: bool = False) -> None:
        """The curves in the first panel; for several slices, the resolution per slice in the second."""
        *per_slice, curves = self.plots(result)
        stack = isinstance(result, DecorrelationStackResult)
        self.panel.show_run(curves.titled(f"{title}, {curves.title}" if stack else title), self.shown.inputs)
        self.slice_panel.setVisible(bool(per_slice))
        for plot in per_slice:
            self.slice_panel.show_run(plot.titled(title), self.shown.inputs)
