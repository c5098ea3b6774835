"""Dock widgets "Fourier shell correlation" and "SSNR" (2-D FRC and 3-D FSC).

The FRC/FSC widget correlates two layers, or one 2-D image split in two
(:func:`~napari_resolution.core.single_image.single_image_frc`: binomial photon
splitting, or the checkerboard split) when "One image" is ticked or no second
layer is picked; "95 % interval" adds the resolution's confidence interval and
the curve's band.
"""

from __future__ import annotations

from magicgui.widgets import CheckBox, ComboBox, FloatSpinBox, LineEdit, SpinBox

from ...core.correlation import DEFAULT_APODIZATION, fourier_correlation
from ...core.randomization import phase_randomized_fsc
from ...core.single_image import SPLITS, single_image_frc
from ..layers import layer_data
from .base import IMAGES, MASKS, EstimatorWidget, LayerInput

__all__ = ["CONFIDENCE", "RANDOMIZE_NEEDS_MASK", "FourierCorrelationWidget", "SSNRWidget", "parse_gain"]

#: The level of the "95 % interval" option.
CONFIDENCE = 0.95
RANDOMIZE_NEEDS_MASK = "phase randomisation needs a mask: choose a mask layer (e.g. from the Mask widget)"


def parse_gain(text: str) -> float | None:
    """The gain field: None when empty (the image holds photon counts), else the number it holds.

    Raises
    ------
    ValueError
        Naming "gain" when the text is not a number.
    """
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"gain must be a number (ADU per photon), or empty for photon counts, got {text!r}") from None


class FourierCorrelationWidget(EstimatorWidget):
    """FRC (2-D) / FSC (3-D) of two image layers, or the FRC of one image split in two, with thresholds,
    crossing, an optional confidence interval and a copyable result line."""

    layer_inputs = (LayerInput("first", "Image 1", arguments=("half1", "image"), outputs=IMAGES),
                    LayerInput("second", "Image 2", arguments=("half2",), outputs=IMAGES),
                    LayerInput("mask", "Mask", optional=True, arguments=("mask",), outputs=MASKS))
    panels = (("Fourier correlation", None),)
    supports_gpu = True
    supports_randomization = True
    #: The one-image FRC and the confidence interval (the FRC/FSC widget, not the SSNR's).
    supports_one_image = True

    def __init__(self, napari_viewer):
        super().__init__(napari_viewer)
        self.second.changed.connect(self._mode_changed)
        self._mode_changed()

    def build_options(self) -> list:
        """Threshold, interval, the one-image split, ring thickness, apodization and phase randomisation."""
        self.add_threshold_options("half-bit")
        self.show_all = CheckBox(text="Show all thresholds", value=False)
        self.interval = CheckBox(text=f"{CONFIDENCE:.0%} interval", value=False, visible=self.supports_one_image)
        self.interval.tooltip = ("the range of resolutions the curve's noise allows (shown as [low, high]) and the "
                                 "curve's confidence band")
        self.one_image = CheckBox(text="One image (split it in two)", value=False, visible=self.supports_one_image)
        self.one_image.tooltip = "the FRC of one 2-D image split in two (also when no second image is picked)"
        self.split = ComboBox(label="Split", choices=list(SPLITS), value="binomial", visible=False)
        self.split.tooltip = ("binomial: each photon to either half (photon counts, or camera values with gain and "
                              "offset); checkerboard: the diagonal sub-images, for any data (up to 4 px)")
        self.gain = LineEdit(label="Gain (ADU/photon)", value="", visible=False)
        self.gain.tooltip = "the camera's ADU per photon; empty: the image holds photon counts"
        self.offset = FloatSpinBox(label="Offset (ADU)", value=0.0, min=-1e9, max=1e9, step=1.0, visible=False)
        self.ring_thickness = SpinBox(label="Ring thickness", value=1, min=1, max=50)
        self.apodization = SpinBox(label="Apodization (px)", value=DEFAULT_APODIZATION, min=0, max=100000)
        self.taper = ComboBox(label="Taper", choices=["auto", "all"], value="auto")
        self.taper.tooltip = "auto: taper only the axes whose edges do not wrap; all: every axis"
        self.randomize = CheckBox(text="Correct by phase randomisation", value=False,
                                  visible=self.supports_randomization)
        self.randomize.tooltip = "needs a mask: the masked FSC corrected for the mask's own correlation"
        self.randomize_at = FloatSpinBox(label="Randomise below FSC", value=0.8, min=0.05, max=0.99, step=0.05,
                                         visible=False)
        for option in (self.randomize, self.one_image, self.split):
            option.changed.connect(self._mode_changed)
        self.show_all.changed.connect(self.redraw)
        return [self.threshold, self.custom, self.show_all, self.interval, self.one_image, self.split, self.gain,
                self.offset, self.ring_thickness, self.apodization, self.taper, self.randomize, self.randomize_at]

    def single(self) -> bool:
        """True when one image is split in two: "One image" ticked, or a 2-D first image and no second."""
        if not self.supports_one_image:
            return False
        first = self.first.value
        return bool(self.one_image.value) or (self.second.value is None and first is not None and first.ndim == 2)

    def reset_choices(self, event=None) -> None:
        """As the base, but with "One image" ticked the second picker stays empty."""
        keep_empty = self.supports_one_image and self.one_image.value
        super().reset_choices(event)
        if keep_empty:
            self.second.value = None

    def _mode_changed(self, _=None) -> None:
        """Show the options of what runs: one image (split, gain and offset for binomial; offered for a 2-D first
        layer) or two, randomised or not."""
        first = self.first.value
        flat = first is None or first.ndim == 2
        if self.one_image.value and not flat:  # a 3-D first layer: two half-maps
            self.one_image.value = False
        if self.one_image.value:
            self.second.value = None
        elif self.supports_one_image and self.second.value is None:
            self.reset_choices()  # "One image" unticked: the second picker fills itself again, as the base does
        single = self.single()
        self.one_image.visible = self.supports_one_image and flat
        self.second.visible = not self.one_image.value
        self.split.visible = single
        self.gain.visible = self.offset.visible = single and self.split.value == "binomial"
        randomizing = self.randomize.value and self.supports_randomization and not single
        self.randomize.visible = self.supports_randomization and not single
        self.randomize_at.visible = randomizing
        self.interval.visible = self.supports_one_image and not randomizing
        self.ring_thickness.enabled = not (randomizing or single)
        self.apodization.enabled = self.taper.enabled = not randomizing

    def layer_changed(self) -> None:
        """Keep the apodization within the picked image: at most half its smaller in-plane (last two) axis, the
        default a quarter (a thin stack's slice axis gets its own narrower taper in the core); one image or two."""
        self._mode_changed()
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
        """The inputs as keyword arguments of :func:`fourier_correlation`, :func:`phase_randomized_fsc` or
        :func:`~napari_resolution.core.single_image.single_image_frc`.

        Raises
        ------
        ValueError
            A missing layer, shapes that differ, a 3-D image or a mask for the one-image FRC, a bad gain or pixel
            size.
        """
        threshold = self.threshold_value()
        common = {"pixel_size": self.pixel_size_value(), "threshold": threshold, "device": self.device()}
        mask = self.mask.value
        if self.single():
            return {**self._one_image(mask), **common}
        a, b = self.picked_pair("first", "second")
        if self.randomize.value and self.supports_randomization:
            if mask is None:
                raise ValueError(RANDOMIZE_NEEDS_MASK)
            return {"half1": a, "half2": b, "mask": layer_data(mask), "randomize_at": float(self.randomize_at.value),
                    "seed": 0, **common}
        return {"half1": a, "half2": b, "mask": None if mask is None else layer_data(mask), **common,
                "ring_thickness": self.ring_thickness.value, "apodization": self.apodization.value,
                "taper": self.taper.value, "confidence": self._confidence()}

    def _one_image(self, mask) -> dict:
        """The keywords of :func:`single_image_frc` but the common ones (raises ValueError)."""
        layer = self.picked("first")
        if layer.ndim != 2:
            raise ValueError(f"the one-image FRC splits a 2-D image; '{layer.name}' is {layer.ndim}-D: pick a second "
                             "half-map, or a 2-D image")
        if mask is not None:
            raise ValueError("the one-image FRC takes no mask: empty the Mask picker")
        binomial = self.split.value == "binomial"
        return {"image": layer_data(layer), "method": self.split.value,
                "gain": parse_gain(self.gain.value) if binomial else None,
                "offset": float(self.offset.value) if binomial else 0.0, "apodization": self.apodization.value,
                "taper": self.taper.value, "confidence": self._confidence(), "seed": 0}

    def _confidence(self) -> float | None:
        return CONFIDENCE if self.interval.value and self.supports_one_image else None

    def compute(self, parameters: dict, progress):
        """The one-image FRC, the phase-randomised FSC when randomising, else the plain FRC/FSC."""
        if "image" in parameters:
            progress(0.0)
            return single_image_frc(**parameters)
        if "randomize_at" in parameters:
            return phase_randomized_fsc(**parameters, progress=progress)
        return fourier_correlation(**parameters, progress=progress)


class SSNRWidget(FourierCorrelationWidget):
    """Spectral SNR from two images, with its frequency-dependent threshold and asymptote."""

    panels = (("SSNR", None),)
    supports_randomization = False
    supports_one_image = False

    def plot_options(self) -> dict:
        """The SSNR view of the correlation result (every criterion's when "Show all thresholds" is ticked)."""
        return {**super().plot_options(), "view": "ssnr"}
