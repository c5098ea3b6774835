"""Dock widget "Mask": a soft solvent mask from one map or two half-maps, shown as a layer."""

from __future__ import annotations

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, Container, FloatSpinBox, LineEdit, PushButton
from qtpy.QtWidgets import QLabel, QVBoxLayout, QWidget
from scipy import ndimage

from ...core.masks import make_mask
from ..layers import (
    add_or_update_image,
    fill_pixel_size,
    grey_images,
    layer_data,
    parse_pixel_size,
    refresh_on_layer_events,
)
from ..runner import Runner, checked

__all__ = ["MaskWidget"]


class MaskWidget(QWidget):
    """Build a soft mask (low-pass, threshold, clean-up, extension, raised-cosine edge) from map layers.

    The result goes to the layer ``<map> mask`` (grey, translucent), created once
    and updated on later runs. With *Live threshold preview* ticked, moving the
    threshold shows the thresholded low-passed map in that layer at once.
    """

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self._smoothed = None  # (key, low-passed map) cached for the live preview
        self.map = ComboBox(label="Map / half-map 1", choices=self._choices, nullable=True)
        self.second = ComboBox(label="Half-map 2", choices=self._choices, nullable=True, value=None)
        self.pixel_size = LineEdit(label="Pixel size", value="1")
        self.auto_threshold = CheckBox(text="Automatic threshold (Otsu)", value=True)
        self.threshold = FloatSpinBox(label="Threshold", value=0.0, min=-1e9, max=1e9, step=0.01, enabled=False)
        self.lowpass = FloatSpinBox(label="Low-pass σ", value=2.0, min=0.0, max=1e4, step=0.5)
        self.extend = FloatSpinBox(label="Extend", value=3.0, min=0.0, max=1e4, step=1.0)
        self.soft_edge = FloatSpinBox(label="Soft edge", value=6.0, min=0.0, max=1e4, step=1.0)
        self.cleanup = CheckBox(text="Fill holes, keep largest part", value=True)
        self.preview = CheckBox(text="Live threshold preview", value=False)
        self.run_button = PushButton(text="Make mask")
        self.inputs = Container(widgets=[
            self.map, self.second, self.pixel_size, self.auto_threshold, self.threshold, self.lowpass,
            self.extend, self.soft_edge, self.cleanup, self.preview, self.run_button,
        ])
        self.runner = Runner()
        self.status = QLabel("Distances are in the pixel size's unit.")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        for widget in (self.inputs.native, self.runner, self.status):
            layout.addWidget(widget)
        layout.addStretch(1)
        self.runner.set_controls([self.inputs.native])
        self.auto_threshold.changed.connect(lambda auto: setattr(self.threshold, "enabled", not auto))
        self.threshold.changed.connect(self._preview_threshold)
        self.preview.changed.connect(self._preview_threshold)
        self.map.changed.connect(self._map_changed)
        self.run_button.changed.connect(self.run)
        refresh_on_layer_events(self.viewer, self.reset_choices)
        self.reset_choices()
        choices = self._choices()
        if choices:
            self.map.value = choices[0][1]
        self._map_changed()

    def _choices(self, widget=None) -> list:
        return [(layer.name, layer) for layer in grey_images(self.viewer.layers) if not layer.name.endswith(" mask")]

    def reset_choices(self, event=None) -> None:
        """Refresh the layer pickers."""
        self.inputs.reset_choices()

    def _map_changed(self, _=None) -> None:
        layer = self.map.value
        if layer is None:
            return
        fill_pixel_size(layer, self.pixel_size)
        data = layer_data(layer)
        self.threshold.value = float(np.mean(data) + np.std(data))

    def options(self) -> dict:
        """The widget's parameters as keyword arguments of :func:`make_mask`."""
        return {
            "threshold": "auto" if self.auto_threshold.value else float(self.threshold.value),
            "lowpass_sigma": float(self.lowpass.value), "extend": float(self.extend.value),
            "soft_edge": float(self.soft_edge.value), "cleanup": bool(self.cleanup.value),
            "pixel_size": parse_pixel_size(self.pixel_size.value),
        }

    def _volume(self):
        first, second = self.map.value, self.second.value
        if first is None:
            raise ValueError("choose a map layer")
        data = layer_data(first)
        if second is None:
            return data
        other = layer_data(second)
        if other.shape != data.shape:
            raise ValueError(f"'{first.name}' has shape {data.shape} but '{second.name}' has shape {other.shape}")
        return (data.astype(np.float32) + other.astype(np.float32)) / 2

    def run(self, _=None) -> None:
        """Compute the soft mask in a worker thread and show it as ``<map> mask``."""
        inputs = checked(lambda: (self._volume(), self.options()))
        if inputs is None:
            return
        volume, options = inputs
        source = self.map.value
        self.runner.start(lambda progress: make_mask(volume, **options),
                          lambda mask: self._show(mask, source, options))

    def _show(self, mask, source, options) -> None:
        metadata = {"estimator": "mask", **{k: v for k, v in options.items() if k != "pixel_size"},
                    "pixel_size": options["pixel_size"], "source": source.name}
        add_or_update_image(self.viewer, mask, source=source, estimator="mask", metadata=metadata,
                            colormap="gray", opacity=0.4, blending="translucent", contrast_limits=(0, 1))
        inside = 100 * float((mask > 0.5).mean())
        self.status.setText(f"Mask: {inside:.1f} % of the box inside (value > 0.5).")

    def _preview_threshold(self, _=None) -> None:
        if not self.preview.value or self.auto_threshold.value or self.map.value is None:
            return
        smoothed = checked(self._smoothed_map)
        if smoothed is None:
            return
        preview = (smoothed > self.threshold.value).astype(np.float32)
        add_or_update_image(self.viewer, preview, source=self.map.value, estimator="mask",
                            metadata={"estimator": "mask preview", "threshold": float(self.threshold.value)},
                            colormap="gray", opacity=0.4, blending="translucent", contrast_limits=(0, 1))

    def _smoothed_map(self) -> np.ndarray:
        """The low-passed map used for thresholding, cached per map and σ."""
        sizes = parse_pixel_size(self.pixel_size.value)
        key = (id(self.map.value), id(self.second.value), float(self.lowpass.value), str(sizes))
        if self._smoothed is None or self._smoothed[0] != key:
            volume = self._volume().astype(np.float32)
            per_axis = np.broadcast_to(np.asarray(sizes, dtype=float), (volume.ndim,))
            sigma = [float(self.lowpass.value) / p for p in per_axis]
            self._smoothed = (key, ndimage.gaussian_filter(volume, sigma) if self.lowpass.value > 0 else volume)
        return self._smoothed[1]
