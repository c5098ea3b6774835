"""Dock widget "Mask": a soft solvent mask from one map or two half-maps, shown as a layer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from magicgui.widgets import CheckBox, FloatSpinBox

from ...core.masks import average_maps, lowpass_map, make_mask, mask_threshold, thresholded_region
from ...core.validation import check_same_shape
from ..layers import add_or_update_layer, layer_data
from ..runner import checked
from .base import IMAGES, EstimatorWidget, LayerInput

__all__ = ["MaskWidget"]

_LAYER_STYLE = {"colormap": "gray", "opacity": 0.4, "blending": "translucent", "contrast_limits": (0, 1)}


@dataclass(frozen=True)
class _Preview:
    """The low-passed map the preview thresholds, and what it was computed from."""

    key: tuple
    smooth: np.ndarray


class MaskWidget(EstimatorWidget):
    """Build a soft mask (low-pass, threshold, clean-up, extension, raised-cosine edge) from map layers.

    The result goes to the layer ``<map> mask`` (grey, translucent), created once
    and updated on later runs. With *Live threshold preview* ticked, moving the
    threshold shows in that layer the region :func:`~.masks.make_mask` starts
    from (:func:`~.masks.thresholded_region` of :func:`~.masks.lowpass_map`).
    """

    layer_inputs = (LayerInput("map", "Map / half-map 1", arguments=("volume", "half1"), outputs=IMAGES),
                    LayerInput("second", "Half-map 2", optional=True, arguments=("half2",), outputs=IMAGES))
    panels = ()
    run_text = "Make mask"

    def __init__(self, napari_viewer):
        self._preview = None
        super().__init__(napari_viewer)
        self.result_line.show_result("Distances are in the pixel size's unit.")
        self.pixel_size.changed.connect(self._show_preview)

    def build_options(self) -> list:
        """Threshold (automatic or a value), low-pass, extension, soft edge, clean-up, preview."""
        self.auto_threshold = CheckBox(text="Automatic threshold (Otsu)", value=True)
        self.threshold = FloatSpinBox(label="Threshold", value=0.0, min=-1e9, max=1e9, step=0.01, enabled=False)
        self.lowpass = FloatSpinBox(label="Low-pass σ", value=2.0, min=0.0, max=1e4, step=0.5)
        self.extend = FloatSpinBox(label="Extend", value=3.0, min=0.0, max=1e4, step=1.0)
        self.soft_edge = FloatSpinBox(label="Soft edge", value=6.0, min=0.0, max=1e4, step=1.0)
        self.cleanup = CheckBox(text="Fill holes, keep largest part", value=True)
        self.preview = CheckBox(text="Live threshold preview", value=False)
        self.auto_threshold.changed.connect(lambda auto: setattr(self.threshold, "enabled", not auto))
        for widget in (self.threshold, self.preview, self.lowpass):
            widget.changed.connect(self._show_preview)
        return [self.auto_threshold, self.threshold, self.lowpass, self.extend, self.soft_edge, self.cleanup,
                self.preview]

    def layer_changed(self) -> None:
        """A new map: start the manual threshold at the level "auto" would use."""
        self._map_changed()

    def sources_changed(self) -> None:
        """A picked map got new data (or was renamed, rescaled): the preview shows the region of what it is now."""
        self._show_preview()

    def _map_changed(self) -> None:
        if self.map.value is None:
            return
        level = checked(lambda: mask_threshold(self._smoothed_map(), "auto", pixel_size=self.pixel_size_value()))
        if level is not None:
            self.threshold.value = level

    def options(self) -> dict:
        """The widget's parameters as keyword arguments of :func:`make_mask`."""
        return {
            "threshold": "auto" if self.auto_threshold.value else float(self.threshold.value),
            "lowpass_sigma": float(self.lowpass.value), "extend": float(self.extend.value),
            "soft_edge": float(self.soft_edge.value), "cleanup": bool(self.cleanup.value),
            "pixel_size": self.pixel_size_value(),
        }

    def _volume(self):
        """The picked map, or the average of the two picked half-maps."""
        first, second = self.picked("map"), self.second.value
        if second is None:
            return layer_data(first)
        data, other = layer_data(first), layer_data(second)
        check_same_shape(data, other, (f"layer '{first.name}'", f"layer '{second.name}'"))
        return average_maps(data, other)

    def parameters(self) -> dict:
        """The map (or half-map average) and the mask options."""
        return {"volume": self._volume(), **self.options()}

    def compute(self, parameters: dict, progress):
        """:func:`make_mask` of the map."""
        return make_mask(**parameters)

    def summary(self, mask) -> str:
        """The share of the box the mask holds."""
        return f"Mask: {100 * float((mask > 0.5).mean()):.1f} % of the box inside (value > 0.5)."

    def show_views(self, mask) -> None:
        """The mask as the layer ``<map> mask``."""
        metadata = {"estimator": "mask", "source": self.shown.layers[0].name, **self.shown.settings}
        self.show_layer(mask, kind="mask", estimator="mask", metadata=metadata, **_LAYER_STYLE)

    def result_warnings(self, mask) -> tuple:
        """None: a mask is an array."""
        return ()

    def _show_preview(self, _=None) -> None:
        if not self.preview.value or self.auto_threshold.value or self.map.value is None:
            return
        smooth = checked(self._smoothed_map)
        if smooth is None:
            return
        region = checked(lambda: thresholded_region(smooth, self.threshold.value, pixel_size=self.pixel_size_value()))
        if region is None:
            return
        preview = region.astype(np.float32)
        add_or_update_layer(self.viewer, preview, source=self.map.value, estimator="mask", kind="mask",
                            metadata={"estimator": "mask preview", "threshold": float(self.threshold.value)},
                            **_LAYER_STYLE)

    def _smoothed_map(self) -> np.ndarray:
        """:func:`~.masks.lowpass_map` of the map, cached per map (and its data), σ and pixel size."""
        maps = [None if layer is None else (layer.unique_id, self.data_version(layer))
                for layer in (self.map.value, self.second.value)]
        key = (*maps, float(self.lowpass.value), self.pixel_size.value)
        if self._preview is None or self._preview.key != key:
            smooth = lowpass_map(self._volume(), float(self.lowpass.value), pixel_size=self.pixel_size_value())
            self._preview = _Preview(key, smooth)
        return self._preview.smooth
