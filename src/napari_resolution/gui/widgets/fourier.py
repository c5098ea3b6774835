"""Dock widgets "Fourier shell correlation" and "SSNR" (2-D FRC and 3-D FSC)."""

from __future__ import annotations

from magicgui.widgets import CheckBox, ComboBox, FloatSpinBox, SpinBox

from ...core.correlation import DEFAULT_APODIZATION, fourier_correlation
from ...core.randomization import phase_randomized_fsc
from ...core.thresholds import CRITERIA
from ..layers import layer_data
from .base import IMAGES, MASKS, EstimatorWidget, LayerInput

__all__ = ["RANDOMIZE_NEEDS_MASK", "FourierCorrelationWidget", "SSNRWidget"]

RANDOMIZE_NEEDS_MASK = "phase randomisation needs a mask: choose a mask layer (e.g. from the Mask widget)"


class FourierCorrelationWidget(EstimatorWidget):
    """FRC (2-D) / FSC (3-D) of two image layers, with thresholds, crossing and a copyable result line."""

    layer_inputs = (LayerInput("first", "Image 1", arguments=("half1",), outputs=IMAGES),
                    LayerInput("second", "Image 2", arguments=("half2",), outputs=IMAGES),
                    LayerInput("mask", "Mask", optional=True, arguments=("mask",), outputs=MASKS))
    panels = (("Fourier correlation", None),)
    supports_gpu = True
    supports_randomization = True

    def build_options(self) -> list:
        """Threshold, ring thickness, apodization and phase randomisation."""
        self.threshold = ComboBox(label="Threshold", choices=[*CRITERIA, "custom"], value="half-bit")
        self.custom = FloatSpinBox(label="Custom value", value=0.2, min=0.001, max=0.999, step=0.01, visible=False)
        self.show_all = CheckBox(text="Show all thresholds", value=False)
        self.ring_thickness = SpinBox(label="Ring thickness", value=1, min=1, max=50)
        self.apodization = SpinBox(label="Apodization (px)", value=DEFAULT_APODIZATION, min=0, max=100000)
        self.taper = ComboBox(label="Taper", choices=["auto", "all"], value="auto")
        self.taper.tooltip = "auto: taper only the axes whose edges do not wrap; all: every axis"
        self.randomize = CheckBox(text="Correct by phase randomisation", value=False,
                                  visible=self.supports_randomization)
        self.randomize.tooltip = "needs a mask: the masked FSC corrected for the mask's own correlation"
        self.randomize_at = FloatSpinBox(label="Randomise below FSC", value=0.8, min=0.05, max=0.99, step=0.05,
                                         visible=False)
        self.randomize.changed.connect(self._randomize_toggled)
        self.threshold.changed.connect(lambda value: setattr(self.custom, "visible", value == "custom"))
        self.show_all.changed.connect(self.redraw)
        return [self.threshold, self.custom, self.show_all, self.ring_thickness, self.apodization, self.taper,
                self.randomize, self.randomize_at]

    def _randomize_toggled(self, on: bool) -> None:
        self.randomize_at.visible = on
        self.ring_thickness.enabled = self.apodization.enabled = self.taper.enabled = not on

    def layer_changed(self) -> None:
        """Keep the apodization within the picked image: at most half its smaller in-plane (last two) axis, the
        default a quarter (a thin stack's slice axis gets its own narrower taper in the core)."""
        layer = self.first.value
        if layer is None or not hasattr(layer.data, "shape"):
            return
        smallest = min(layer.data.shape[-2:])
        if self.apodization.value > smallest // 2:
            self.apodization.value = min(DEFAULT_APODIZATION, smallest // 4)
        self.apodization.max = smallest // 2

    def plot_options(self) -> dict:
        """Every criterion's curve and resolution when "Show all thresholds" is ticked."""
        return {"all_thresholds": bool(self.show_all.value)}

    def display_options(self) -> list:
        """"Show all thresholds" only changes the plot."""
        return [self.show_all]

    def parameters(self) -> dict:
        """The inputs as keyword arguments of :func:`fourier_correlation` or :func:`phase_randomized_fsc`.

        Raises
        ------
        ValueError
            A missing layer, shapes that differ, or a bad pixel size.
        """
        a, b = self.picked_pair("first", "second")
        mask = self.mask.value
        threshold = self.custom.value if self.threshold.value == "custom" else self.threshold.value
        common = {"pixel_size": self.pixel_size_value(), "threshold": threshold, "device": self.device()}
        if self.randomize.value and self.supports_randomization:
            if mask is None:
                raise ValueError(RANDOMIZE_NEEDS_MASK)
            return {"half1": a, "half2": b, "mask": layer_data(mask), "randomize_at": float(self.randomize_at.value),
                    "seed": 0, **common}
        return {"half1": a, "half2": b, "mask": None if mask is None else layer_data(mask), **common,
                "ring_thickness": self.ring_thickness.value, "apodization": self.apodization.value,
                "taper": self.taper.value}

    def compute(self, parameters: dict, progress):
        """The phase-randomised FSC when randomising, else the plain FRC/FSC."""
        if "randomize_at" in parameters:
            return phase_randomized_fsc(**parameters, progress=progress)
        return fourier_correlation(**parameters, progress=progress)


class SSNRWidget(FourierCorrelationWidget):
    """Spectral SNR from two images, with its frequency-dependent threshold and asymptote."""

    panels = (("SSNR", None),)
    supports_randomization = False

    def plot_options(self) -> dict:
        """The SSNR view of the correlation result (every criterion's when "Show all thresholds" is ticked)."""
        return {**super().plot_options(), "view": "ssnr"}
