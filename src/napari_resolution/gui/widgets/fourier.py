"""Dock widgets "Fourier shell correlation" and "SSNR" (2-D FRC and 3-D FSC)."""

from __future__ import annotations

import warnings

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, Container, FloatSpinBox, LineEdit, PushButton, SpinBox
from napari.utils.notifications import show_info, show_warning
from qtpy.QtWidgets import QVBoxLayout, QWidget

from ...core.backend import gpu_available
from ...core.correlation import CorrelationResult, fourier_correlation
from ...core.randomization import PhaseRandomizedResult, phase_randomized_fsc
from ...core.thresholds import CRITERIA, parse_threshold
from ..layers import fill_pixel_size, grey_images, layer_data, parse_pixel_size, refresh_on_layer_events
from ..plots import Curve, CurvePanel, Marker, ResultLine, Run
from ..runner import Runner, checked

__all__ = ["FourierCorrelationWidget", "SSNRWidget"]

_THRESHOLD_COLOR = "#ff5a5a"
_OTHER_THRESHOLD_COLORS = ("#d0a040", "#b080ff", "#60c0c0", "#a0a0a0", "#ff80c0")


class FourierCorrelationWidget(QWidget):
    """FRC (2-D) / FSC (3-D) of two image layers, with thresholds, crossing and a copyable result line."""

    estimator = "FSC"
    y_label = "Fourier correlation"
    log_y = False
    supports_randomization = True

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.result: CorrelationResult | None = None
        self._running_layers: tuple = ()
        self._build_inputs()
        self.runner = Runner()
        self.result_line = ResultLine()
        self.panel = CurvePanel(napari_viewer, y_label=self.y_label, log_y=self.log_y)
        layout = QVBoxLayout(self)
        for widget in (self.inputs.native, self.runner, self.result_line, self.panel):
            layout.addWidget(widget)
        self.runner.set_controls([self.inputs.native])
        self._connect_viewer()
        self._layer_changed()

    # ---------------------------------------------------------------- inputs
    def _build_inputs(self) -> None:
        self.first = ComboBox(label="Image 1", choices=self._image_choices, nullable=True)
        self.second = ComboBox(label="Image 2", choices=self._image_choices, nullable=True)
        self.mask = ComboBox(label="Mask", choices=self._image_choices, nullable=True, value=None)
        self.pixel_size = LineEdit(label="Pixel size", value="1")
        self.unit = LineEdit(label="Unit", value="")
        self.threshold = ComboBox(label="Threshold", choices=[*CRITERIA, "custom"], value="half-bit")
        self.custom = FloatSpinBox(label="Custom value", value=0.2, min=0.001, max=0.999, step=0.01, visible=False)
        self.show_all = CheckBox(text="Show all thresholds", value=False)
        self.ring_thickness = SpinBox(label="Ring thickness", value=1, min=1, max=50)
        self.apodization = SpinBox(label="Apodization (px)", value=20, min=0, max=100000)
        self.randomize = CheckBox(text="Correct by phase randomisation (needs a mask)", value=False,
                                  visible=self.supports_randomization)
        self.randomize_at = FloatSpinBox(label="Randomise below FSC", value=0.8, min=0.05, max=0.99, step=0.05,
                                         visible=False)
        self.use_gpu = CheckBox(text="Use GPU", value=False, enabled=gpu_available())
        self.use_gpu.tooltip = "Run on the GPU with cupy" if gpu_available() else "needs cupy and a CUDA GPU"
        self.run_button = PushButton(text="Run")
        self.inputs = Container(widgets=[
            self.first, self.second, self.mask, self.pixel_size, self.unit, self.threshold, self.custom,
            self.show_all, self.ring_thickness, self.apodization, self.randomize, self.randomize_at,
            self.use_gpu, self.run_button,
        ])
        self.randomize.changed.connect(self._randomize_toggled)
        self.first.changed.connect(self._layer_changed)
        self.threshold.changed.connect(lambda value: setattr(self.custom, "visible", value == "custom"))
        self.show_all.changed.connect(lambda _: self._redraw_result())
        self.run_button.changed.connect(self.run)

    def _randomize_toggled(self, on: bool) -> None:
        self.randomize_at.visible = on
        self.ring_thickness.enabled = self.apodization.enabled = not on

    def _image_choices(self, widget=None) -> list:
        return [(layer.name, layer) for layer in grey_images(self.viewer.layers)]

    def _connect_viewer(self) -> None:
        refresh_on_layer_events(self.viewer, self.reset_choices)
        self.viewer.layers.events.removed.connect(self._layer_removed)
        self.reset_choices()
        images = grey_images(self.viewer.layers)
        if len(images) >= 2:
            self.first.value, self.second.value = images[0], images[1]

    def reset_choices(self, event=None) -> None:
        """Refresh the layer pickers (called when layers come and go)."""
        self.inputs.reset_choices()

    def _layer_changed(self, _=None) -> None:
        fill_pixel_size(self.first.value, self.pixel_size, self.unit)

    def _layer_removed(self, event) -> None:
        if self.runner.busy and event.value in self._running_layers:
            show_info(f"Layer '{event.value.name}' was removed during the run; "
                      "the result refers to its data when the run started.")

    # ------------------------------------------------------------------- run
    def parameters(self) -> dict:
        """The inputs as keyword arguments of :func:`fourier_correlation`.

        Raises
        ------
        ValueError
            A missing layer, shapes that differ, or a bad pixel size.
        """
        first, second, mask = self.first.value, self.second.value, self.mask.value
        if first is None or second is None:
            raise ValueError("choose two image layers (Image 1 and Image 2)")
        a, b = layer_data(first), layer_data(second)
        if a.shape != b.shape:
            raise ValueError(f"'{first.name}' has shape {a.shape} but '{second.name}' has shape {b.shape}: "
                             "the two images must have the same shape")
        threshold = self.custom.value if self.threshold.value == "custom" else self.threshold.value
        common = {"pixel_size": parse_pixel_size(self.pixel_size.value), "threshold": threshold}
        self._running_layers = tuple(layer for layer in (first, second, mask) if layer is not None)
        if self.randomize.value:
            if mask is None:
                raise ValueError("phase randomisation needs a mask: choose a mask layer (e.g. from the Mask widget)")
            return {"h1": a, "h2": b, "mask": layer_data(mask), "randomize_at": float(self.randomize_at.value),
                    "seed": 0, **common}
        return {"a": a, "b": b, "mask": None if mask is None else layer_data(mask), **common,
                "ring_thickness": self.ring_thickness.value, "apodization": self.apodization.value}

    def run(self, _=None) -> None:
        """Start the computation in a worker thread (errors become notifications)."""
        parameters = checked(self.parameters)
        if parameters is None:
            return
        use_gpu = bool(self.use_gpu.value and self.use_gpu.enabled)
        names = " vs ".join(layer.name for layer in self._running_layers[:2])
        self.runner.start(lambda progress: self._compute(parameters, use_gpu, progress),
                          lambda result: self._show(result, names))

    @staticmethod
    def _compute(parameters: dict, use_gpu: bool, progress):
        if use_gpu:
            import cupy

            parameters = {k: cupy.asarray(v) if isinstance(v, np.ndarray) else v for k, v in parameters.items()}
        if "h1" in parameters:
            with warnings.catch_warnings():  # the result carries them; they are shown as notifications
                warnings.simplefilter("ignore", RuntimeWarning)
                return phase_randomized_fsc(**parameters, progress=progress)
        return fourier_correlation(**parameters, progress=progress)

    # --------------------------------------------------------------- results
    def _show(self, result, title: str) -> None:
        self.result = result
        self._title = title
        self.result_line.setText(result.summary(self.unit.value))
        self.panel.show_run(self.make_run(result, title))
        for note in getattr(result, "warnings", ()):
            show_warning(note)

    def _redraw_result(self) -> None:
        if self.result is not None and self.panel.runs:
            self.panel.replace_latest(self.make_run(self.result, self._title))

    def make_run(self, result, title: str) -> Run:
        """The curves and markers the panel draws for ``result`` (plain or phase-randomised)."""
        if isinstance(result, PhaseRandomizedResult):
            curves = [Curve(label, result.frequency, values, color=color)
                      for label, values, color in _randomized_curves(result)]
        else:
            curves = [Curve(self.estimator_label(result), result.frequency, result.correlation)]
        curves.append(Curve(result.criterion, result.frequency, result.threshold, "threshold", _THRESHOLD_COLOR))
        if self.show_all.value:
            others = [(n, c) for n, c in result.thresholds.items() if n != result.criterion]
            for (name, curve), color in zip(others, _OTHER_THRESHOLD_COLORS):
                curves.append(Curve(name, result.frequency, curve, "threshold", color))
        markers = self._markers(result, result.crossing)
        if isinstance(result, PhaseRandomizedResult):
            markers.append(Marker(result.randomization_frequency, "phases randomised →"))
        return Run(title, curves, markers, result.reference_pixel_size, self.unit.value)

    def _markers(self, result, crossing) -> list[Marker]:
        unit = f" {self.unit.value}" if self.unit.value else ""
        if result.status == "crossed":
            return [Marker(crossing, f"{result.resolution:.3g}{unit}")]
        if result.status == "never_below":
            return [Marker(0.5, f"≤ {result.resolution:.3g}{unit} (Nyquist)")]
        return []

    @staticmethod
    def estimator_label(result: CorrelationResult) -> str:
        """"FRC" for 2-D results, "FSC" for 3-D."""
        return "FRC" if len(result.parameters["shape"]) == 2 else "FSC"


class SSNRWidget(FourierCorrelationWidget):
    """Spectral SNR from two images, with its frequency-dependent threshold and asymptote."""

    estimator = "SSNR"
    y_label = "SSNR"
    log_y = True
    supports_randomization = False

    def make_run(self, result: CorrelationResult, title: str) -> Run:
        """SSNR curve, its threshold curve (dashed) and the threshold's asymptote (dotted)."""
        curves = [
            Curve("SSNR", result.frequency, result.ssnr),
            Curve(f"SSNR threshold ({result.criterion})", result.frequency, result.ssnr_threshold,
                  "threshold", _THRESHOLD_COLOR),
        ]
        asymptote = _ssnr_asymptote(result.criterion)
        if asymptote > 0:
            curves.append(Curve(f"asymptote {asymptote:.3g}", np.array([0.0, 0.5]), np.full(2, asymptote),
                                "reference", "#a0a0a0"))
        return Run(title, curves, self._markers(result, result.ssnr_crossing),
                   result.reference_pixel_size, self.unit.value)


def _randomized_curves(result: PhaseRandomizedResult) -> list[tuple[str, np.ndarray, str]]:
    """(label, values, colour) of the four phase-randomisation curves; the corrected one first."""
    return [("corrected", result.corrected, "#40c090"), ("masked", result.masked, "#4fa3ff"),
            ("randomised masked", result.randomized, "#ffb000"), ("unmasked", result.unmasked, "#a0a0a0")]


def _ssnr_asymptote(criterion: str) -> float:
    """SSNR threshold for infinitely large shells: 2 T / (1 - T) with T the criterion's limit."""
    if criterion == "3-sigma":
        return 0.0
    limits = {"half-bit": 0.2071 / 1.2071, "one-bit": 0.5 / 1.5}
    limit = limits.get(criterion)
    if limit is None:
        limit = parse_threshold(float(criterion) if criterion not in ("0.143", "0.5") else criterion)[1]
    return 2 * limit / (1 - limit)
