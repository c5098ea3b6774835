"""A dock widget built around one image layer picker (shared by the single-image estimators)."""

from __future__ import annotations

from magicgui.widgets import ComboBox, LineEdit
from qtpy.QtWidgets import QWidget

from ..layers import fill_pixel_size, grey_images, refresh_on_layer_events

__all__ = ["SingleImageWidget"]


class SingleImageWidget(QWidget):
    """Base of widgets that analyse one image layer.

    Subclasses set :attr:`ndims` (accepted image dimensionalities), build
    their ``self.inputs`` container around :attr:`image`, :attr:`pixel_size`
    and :attr:`unit`, then call :meth:`connect_image_picker`; they override
    :meth:`image_changed` to react to a new image.
    """

    ndims: tuple = (2,)

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.image = ComboBox(label="Image", choices=self._choices, nullable=True)
        self.pixel_size = LineEdit(label="Pixel size", value="1")
        self.unit = LineEdit(label="Unit", value="")

    def images(self) -> list:
        """Image layers this widget can analyse (grey-level, of an accepted dimensionality)."""
        return grey_images(self.viewer.layers, self.ndims)

    def _choices(self, widget=None) -> list:
        return [(layer.name, layer) for layer in self.images()]

    def reset_choices(self, event=None) -> None:
        """Refresh the layer pickers (called when layers come and go)."""
        self.inputs.reset_choices()

    def connect_image_picker(self) -> None:
        """Follow layer changes, select the first usable image and fill its pixel size."""
        self.image.changed.connect(self._image_picked)
        refresh_on_layer_events(self.viewer, self.reset_choices)
        self.reset_choices()
        images = self.images()
        if images:
            self.image.value = images[0]
        self._image_picked()

    def _image_picked(self, _=None) -> None:
        fill_pixel_size(self.image.value, self.pixel_size, self.unit)
        self.image_changed()

    def image_changed(self) -> None:
        """Hook: the picked image (or its pixel size) changed."""
