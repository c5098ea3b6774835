"""Dock widget "Blink PSF": the PSF and on-time of blinking single-molecule movies, one per channel.

One movie layer (T, Y, X) per channel, each with its own (y, x) pixel size
filled from the layer; channels are added and removed with buttons. A run
streams every movie frame chunk by chunk (progress over frames, Cancel) and
shows, per channel, the PSF and the autocorrelation as small image layers
(``<movie> blink PSF`` / ``<movie> blink autocorrelation``, centred on the
origin, in the movie's physical units), a row of the results table (σx, σy,
θ, σ, FWHM, on-time) and the radial profile and temporal autocorrelation in
the panels (channels in their own colours). The PSF (TIFF) and its spline
(.npz) are exported from the buttons below the table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, FloatSpinBox, LineEdit, PushButton, SpinBox
from napari.utils.notifications import show_info
from qtpy.QtWidgets import QFileDialog, QHBoxLayout, QPushButton, QWidget

from ... import io
from ...core.blink import BlinkChannelsResult, blink_psf
from ...core.figures import overlay
from ..layers import add_or_update_layer, beside, fill_pixel_size, layer_data, parse_pixel_size
from .base import EstimatorWidget, LayerInput, ResultsTable, core_warnings, narrow

__all__ = ["BlinkPSFWidget"]

ESTIMATOR = "blink PSF"
#: The background choices, as the widget lists them, and the core's ``background`` for each.
BACKGROUNDS = {"auto": "auto", "temporal mean": "mean", "moving mean": "moving", "clipped median": "median-clip"}
COLUMNS = ("ch", "σx", "σy", "θ (°)", "σ", "FWHM", "on-time", "note")
#: The headers' tooltips ("{unit}": the pixel size's unit).
COLUMN_TIPS = ("channel", "σ along x ({unit})", "σ along y ({unit})", "the major axis's angle from +x towards +y",
               "the geometric mean √(σx σy) ({unit})", "full width at half maximum ({unit})",
               "the mean on-time (frames)", "warnings")


class BlinkPSFWidget(EstimatorWidget):
    """PSF (rotated Gaussian, image, spline) and on-time of one blinking movie layer per channel."""

    layer_inputs = (LayerInput("movie", "Channel 1", ndims=(3,), arguments=("movie", "movie[0]")),)
    panels = (("PSF (pixel values sum to 1)", "radius"), ("autocovariance / lag 1", "lag (frames)"))
    supports_gpu = True

    def __init__(self, napari_viewer):
        #: Channels 2, 3...: (layer picker, its pixel size field).
        self.channels: list = []
        super().__init__(napari_viewer)
        self.pixel_size.label = "Channel 1 pixel (y, x)"
        self.table = ResultsTable(COLUMNS, 90, _column_tips(""))
        self.body.insertWidget(3, self.table)  # under the result line
        self.body.insertWidget(4, self._export_buttons())
        self._background_changed()
        self.layer_changed()

    def _export_buttons(self) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        for text, action in (("Export PSF (TIFF)…", self._ask_psf), ("Export spline (.npz)…", self._ask_spline)):
            button = QPushButton(text)
            button.clicked.connect(action)
            layout.addWidget(button)
        return row

    # ---------------------------------------------------------------- inputs
    def build_options(self) -> list:
        """Channel buttons, crop, background, excluded centre, lags and the time per frame."""
        self.add_channel_button = PushButton(text="Add channel")
        self.remove_channel_button = PushButton(text="Remove channel", enabled=False)
        self.auto_crop = CheckBox(text="Automatic crop (up to 41 px)", value=True)
        self.crop = SpinBox(label="Crop (px, odd)", value=41, min=5, max=1001, step=2, enabled=False)
        self.background = ComboBox(label="Background", choices=list(BACKGROUNDS), value=next(iter(BACKGROUNDS)))
        self.background.tooltip = ("subtracted from each pixel. auto: its temporal mean, or its mean over each eighth "
                                   "of the movie when the background drifts (with a warning); moving mean: over the "
                                   "window below (drift, bleaching); clipped median: smlmLP's, biased (to compare)")
        self.window = SpinBox(label="Window (frames)", value=200, min=3, max=100000)
        self.exclude_center = ComboBox(label="Excluded besides zero lag", value="auto",
                                       choices=["auto", "pixel", "row", "column", "cross"])
        self.lags = SpinBox(label="Temporal lags", value=20, min=4, max=1000)
        self.exposure = FloatSpinBox(label="Frame time (ms)", value=0.0, min=0.0, max=1e6, step=1.0)
        self.exposure.tooltip = "time per frame, to give the on-time in ms too (0: unknown, the on-time in frames)"
        self.add_channel_button.changed.connect(self.add_channel)
        self.remove_channel_button.changed.connect(self.remove_channel)
        self.background.changed.connect(self._background_changed)
        self.auto_crop.changed.connect(lambda auto: setattr(self.crop, "enabled", not auto))
        return [self.add_channel_button, self.remove_channel_button, self.auto_crop, self.crop, self.background,
                self.window, self.exclude_center, self.lags, self.exposure]

    def _background_changed(self, _=None) -> None:
        self.window.visible = self.background.value == "moving mean"

    def layer_changed(self) -> None:
        """Channel 1's pixel size is the picked movie's (y, x)."""
        fill_pixel_size(self.movie.value, self.pixel_size, axes=2)

    def add_channel(self, _=None) -> None:
        """A picker and a pixel size field for one more channel (the base fills it with a movie not picked yet)."""
        number = len(self.channels) + 2
        picker = ComboBox(label=f"Channel {number}", choices=self._choices_for(_channel_input(number)), nullable=True,
                          value=None)
        field = LineEdit(label=f"Channel {number} pixel (y, x)", value="1")
        narrow(picker)
        picker.changed.connect(lambda layer: fill_pixel_size(layer, field, axes=2))
        position = self.inputs.index(self.add_channel_button)
        self.inputs.insert(position, field)
        self.inputs.insert(position, picker)
        self.channels.append((picker, field))
        self.remove_channel_button.enabled = True
        self.reset_choices()
        self._inputs_changed()

    def remove_channel(self, _=None) -> None:
        """Remove the last added channel."""
        if not self.channels:
            return
        picker, field = self.channels.pop()
        self.inputs.remove(picker)
        self.inputs.remove(field)
        self.remove_channel_button.enabled = bool(self.channels)
        self._inputs_changed()

    def layer_rescaled(self, layer) -> None:
        """Each channel's pixel size follows its movie's scale."""
        super().layer_rescaled(layer)
        for picker, field in self.channels:
            if picker.value is not None and layer == picker.value:
                fill_pixel_size(layer, field, axes=2)

    def layer_pickers(self) -> list:
        """Channel 1's picker, then those of the added channels."""
        return [*super().layer_pickers(),
                *((_channel_input(number), picker) for number, (picker, _) in enumerate(self.channels, 2))]

    def title(self) -> str:
        """The picked movies, e.g. ``green + red``."""
        return " + ".join(picker.value.name for picker in self.pickers() if picker.value is not None)

    def parameters(self) -> dict:
        """The inputs as keyword arguments of :func:`~napari_resolution.core.blink.blink_psf` (raises ValueError)."""
        layers = [self.picked("movie")]
        for number, (picker, _) in enumerate(self.channels, 2):
            if picker.value is None:
                raise self.no_layer(_channel_input(number), picker)
            layers.append(picker.value)
        sizes = [self.pixel_size_value(), *(parse_pixel_size(field.value) for _, field in self.channels)]
        mode = BACKGROUNDS[self.background.value]
        single = len(layers) == 1
        return {"movie": layer_data(layers[0]) if single else [layer_data(layer) for layer in layers],
                "pixel_size": sizes[0] if single else sizes, "crop": None if self.auto_crop.value else self.crop.value,
                "background": ("moving", self.window.value) if mode == "moving" else mode,
                "exclude_center": self.exclude_center.value, "lags": self.lags.value,
                "exposure_ms": self.exposure.value or None, "device": self.device()}

    def compute(self, parameters: dict, progress):
        """:func:`~napari_resolution.core.blink.blink_psf` of every channel."""
        return blink_psf(**parameters, progress=progress)

    # ---------------------------------------------------------------- results
    @property
    def results(self) -> list:
        """The shown result of each channel (none before the first run)."""
        return _channels(self.result)

    def summary(self, result) -> str:
        """Each channel's summary on its line (``channel n:`` before it when there are several)."""
        if not isinstance(result, BlinkChannelsResult):
            return result.summary(self.unit.value)
        return "\n".join(f"channel {number}: {channel.summary(self.unit.value)}"
                         for number, channel in enumerate(result, 1))

    def plots(self, result) -> tuple:
        """The channels' radial profiles, then their temporal autocorrelations, each channel in its colour."""
        plots = [channel.plots(self.unit.value) for channel in _channels(result)]
        if len(plots) == 1:
            return plots[0]
        names = [f"ch {number}" for number in range(1, len(plots) + 1)]
        return tuple(overlay(panel, names) for panel in zip(*plots))

    def show_views(self, result) -> None:
        """Every channel's layers beside its movie and its row of the table."""
        for movie, channel in zip(self.shown.layers, _channels(result)):
            self._show_layers(movie, channel)
        self.table.set_columns(COLUMNS, _column_tips(self.unit.value))
        self.table.fill(*_table_rows(_channels(result)))

    def _show_layers(self, movie, result) -> None:
        """The PSF and, under it, the autocorrelation as image layers in physical units, right of the movie."""
        metadata = {"estimator": ESTIMATOR, "source": movie.name, "unit": self.unit.value,
                    "sigma_x": result.sigma_x, "sigma_y": result.sigma_y, "theta": result.theta,
                    "on_time": result.on_time, **result.parameters}
        top, left = beside(movie, result.psf.shape[1] * result.pixel_size[1] / 2, 2)
        below = top + 1.1 * result.psf.shape[0] * result.pixel_size[0]
        for suffix, kind, data, colormap, row in (
                ("blink PSF", "psf", result.psf, "magma", top),
                ("blink autocorrelation", "autocorrelation", result.autocorrelation, "viridis", below)):
            add_or_update_layer(self.viewer, data, source=movie, estimator=suffix, kind=kind, metadata=metadata,
                                scale=result.pixel_size, translate=(row, left), into_view=True, colormap=colormap)

    # ---------------------------------------------------------------- export
    def export_psf(self, path) -> list[str]:
        """Write each channel's PSF image (``_c1``, ``_c2``... for several) with its pixel size; the paths."""
        written = []
        for path_k, result in zip(_channel_paths(path, len(self.results)), self.results):
            io.write_image(path_k, result.psf.astype(np.float32), result.pixel_size, self.unit.value)
            written.append(path_k)
        return written

    def export_spline(self, path) -> list[str]:
        """Write each channel's spline (knots, coefficients, degree, pixel size, PSF) as .npz; the paths."""
        written = []
        for path_k, result in zip(_channel_paths(path, len(self.results)), self.results):
            io.write_npz(path_k, result.spline_arrays())
            written.append(path_k)
        return written

    def _ask_psf(self) -> None:
        self._export("Export PSF", "psf.tif", "TIFF (*.tif *.tiff)", self.export_psf)

    def _ask_spline(self) -> None:
        self._export("Export spline", "psf_spline.npz", "NumPy archive (*.npz)", self.export_spline)

    def _export(self, caption: str, default: str, pattern: str, writer) -> None:
        if not self.results:
            show_info("Run first: there is no PSF to export yet.")
            return
        path, _ = QFileDialog.getSaveFileName(self, caption, default, pattern)
        if not path:
            return
        with core_warnings(show=True):  # e.g. "pixel size not stored: unit unknown"
            written = writer(path)
        show_info("wrote " + ", ".join(written))


def _column_tips(unit: str) -> list[str]:
    """The table's header tooltips with the pixel size's ``unit``."""
    return [tip.format(unit=unit or "pixel size units") for tip in COLUMN_TIPS]


def _channel_input(number: int) -> LayerInput:
    """The picker of channel ``number`` (2, 3...): the core's ``movie[number - 1]``."""
    return LayerInput(f"channel{number}", f"Channel {number}", ndims=(3,), arguments=(f"movie[{number - 1}]",))


def _channels(result) -> list:
    """The result of each channel: the channels of several, the one result for one, none for None."""
    if result is None:
        return []
    return list(result) if isinstance(result, BlinkChannelsResult) else [result]


def _channel_paths(path, count: int) -> list[str]:
    """``path`` for one channel; ``<stem>_c1<suffix>``, ``_c2``... for several."""
    path = Path(path)
    if count == 1:
        return [str(path)]
    return [str(path.with_name(f"{path.stem}_c{n}{path.suffix}")) for n in range(1, count + 1)]


def _table_rows(results) -> tuple[list, list]:
    """Per channel, the table's texts (σx, σy, θ, σ, FWHM, on-time, warnings) and their tooltips (± errors)."""
    rows, tips = [], []
    for number, result in enumerate(results, 1):
        numbers = [(result.sigma_x, result.sigma_x_error), (result.sigma_y, result.sigma_y_error),
                   (result.theta, result.theta_error), (result.sigma, result.sigma_error), (result.fwhm, None),
                   (result.on_time, result.on_time_error)]
        rows.append([str(number), *(_number(value) for value, _ in numbers), "\n".join(result.warnings)])
        tips.append([str(number), *(_number(value, error) for value, error in numbers), rows[-1][-1]])
    return rows, tips


def _number(value, error=None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4g}" if error is None else f"{value:.4g} ± {error:.2g}"
