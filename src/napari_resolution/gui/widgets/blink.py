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

import dataclasses
import warnings
from pathlib import Path

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, FloatSpinBox, LineEdit, PushButton, SpinBox
from napari.utils.notifications import show_info, show_warning
from qtpy.QtWidgets import QFileDialog, QHBoxLayout, QPushButton, QTableWidget, QTableWidgetItem, QWidget

from ... import io
from ...core.blink import BlinkChannelsResult, blink_psf
from ...core.figures import PALETTE
from ..layers import format_pixel_size, layer_data, layer_pixel_size, parse_pixel_size
from .base import EstimatorWidget, LayerInput, results_table

__all__ = ["BlinkPSFWidget"]

ESTIMATOR = "blink PSF"
BACKGROUNDS = {"temporal mean": "mean", "moving mean": "moving", "clipped median (smlmLP, biased)": "median-clip"}
COLUMNS = ("channel", "σx", "σy", "θ (°)", "σ", "FWHM", "on-time (frames)", "note")


class BlinkPSFWidget(EstimatorWidget):
    """PSF (rotated Gaussian, image, spline) and on-time of one blinking movie layer per channel."""

    layer_inputs = (LayerInput("movie", "Channel 1", ndims=(3,), arguments=("movie",)),)
    panels = (("PSF (pixel values sum to 1)", "radius"), ("autocovariance / lag 1", "lag (frames)"))
    supports_gpu = True

    def __init__(self, napari_viewer):
        #: Channels 2, 3...: (layer picker, its pixel size field).
        self.channels: list = []
        self.results: list = []
        super().__init__(napari_viewer)
        self.pixel_size.label = "Channel 1 pixel (y, x)"
        self.table = results_table(COLUMNS, 90)
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
        self.background = ComboBox(label="Background", choices=list(BACKGROUNDS), value="temporal mean")
        self.window = SpinBox(label="Window (frames)", value=200, min=3, max=100000)
        self.exclude_center = ComboBox(label="Excluded at zero lag", choices=["pixel", "cross"], value="pixel")
        self.lags = SpinBox(label="Temporal lags", value=20, min=4, max=1000)
        self.exposure = FloatSpinBox(label="Time per frame (ms; 0 none)", value=0.0, min=0.0, max=1e6, step=1.0)
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
        _fill_plane_pixel_size(self.movie.value, self.pixel_size)

    def add_channel(self, _=None) -> None:
        """A picker and a pixel size field for one more channel (the first movie not picked yet)."""
        number = len(self.channels) + 2
        spec = LayerInput(f"channel{number}", f"Channel {number}", ndims=(3,))
        picker = ComboBox(label=spec.label, choices=self._choices_for(spec), nullable=True, value=None)
        field = LineEdit(label=f"Channel {number} pixel (y, x)", value="1")
        picker.changed.connect(lambda layer: _fill_plane_pixel_size(layer, field))
        taken = [p.value for p in self.channel_pickers()]
        free = [layer for layer in self.usable_layers(spec) if layer not in taken]
        position = self.inputs.index(self.add_channel_button)
        self.inputs.insert(position, field)
        self.inputs.insert(position, picker)
        picker.value = free[0] if free else None
        self.channels.append((picker, field))
        self.remove_channel_button.enabled = True
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

    def channel_pickers(self) -> list:
        """Every channel's layer picker, channel 1 first."""
        return [self.movie, *(picker for picker, _ in self.channels)]

    def title(self) -> str:
        """The picked movies, e.g. ``green + red``."""
        return " + ".join(picker.value.name for picker in self.channel_pickers() if picker.value is not None)

    def parameters(self) -> dict:
        """The inputs as keyword arguments of :func:`~napari_resolution.core.blink.blink_psf` (raises ValueError)."""
        layers = [self.picked("movie")]
        for picker, _ in self.channels:
            if picker.value is None:
                raise ValueError(f"choose a movie layer for {picker.label}")
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
        """:func:`~napari_resolution.core.blink.blink_psf` of every channel (errors name the channel's layer)."""
        names = [picker.value.name for picker in self.channel_pickers() if picker.value is not None]
        try:
            with warnings.catch_warnings():  # the results carry them; they are shown as notifications
                warnings.simplefilter("ignore", RuntimeWarning)
                return blink_psf(**parameters, progress=progress)
        except ValueError as error:
            message = str(error)
            for index, name in enumerate(names):
                message = message.replace(f"movie[{index}]", f"layer '{name}'")
            raise ValueError(message) from None

    # ---------------------------------------------------------------- results
    def show(self, result, title: str) -> None:
        """Layers, table, result line, panels and warnings of every channel."""
        self.result = result
        self._title = title
        self.results = list(result) if isinstance(result, BlinkChannelsResult) else [result]
        layers = [picker.value for picker in self.channel_pickers()][:len(self.results)]
        unit = self.unit.value
        several = len(self.results) > 1
        lines = [f"channel {n}: {r.summary(unit)}" if several else r.summary(unit)
                 for n, r in enumerate(self.results, 1)]
        self.result_line.show_result("\n".join(lines), self.shown.description)
        for layer, channel in zip(layers, self.results):
            self._show_layers(layer, channel)
        _fill_table(self.table, self.results)
        self.draw(result, title)
        for number, channel in enumerate(self.results, 1):
            for note in channel.warnings:
                show_warning(f"channel {number}: {note}" if several else note)

    def draw(self, result, title: str, *, replace: bool = False) -> None:
        """The channels' radial profiles in the first panel, their temporal autocorrelations in the second."""
        plots = [channel.plots(self.unit.value) for channel in self.results]
        for index, panel in enumerate(self.curve_panels):
            panel.show_run(_combined([channel_plots[index] for channel_plots in plots]).titled(title),
                           self.shown.inputs)

    def _show_layers(self, layer, result) -> None:
        """The PSF and, under it, the autocorrelation as image layers in physical units, right of the movie."""
        metadata = {"estimator": ESTIMATOR, "source": layer.name, "unit": self.unit.value,
                    "sigma_x": result.sigma_x, "sigma_y": result.sigma_y, "theta": result.theta,
                    "on_time": result.on_time, **result.parameters}
        top, left = _beside(layer, result)
        below = top + 1.1 * result.psf.shape[0] * result.pixel_size[0]
        units = getattr(layer, "units", None)
        new = f"{layer.name} blink PSF" not in self.viewer.layers
        for suffix, data, colormap, row in (("blink PSF", result.psf, "magma", top),
                                            ("blink autocorrelation", result.autocorrelation, "viridis", below)):
            placement = {"scale": result.pixel_size, "translate": (row, left)}
            if units is not None:
                placement["units"] = tuple(units)[-2:]
            name = f"{layer.name} {suffix}"
            if name in self.viewer.layers:
                shown = self.viewer.layers[name]
                shown.data = data
                for attribute, value in placement.items():
                    setattr(shown, attribute, value)
                shown.metadata = dict(metadata)
            else:
                self.viewer.add_image(data, name=name, colormap=colormap, metadata=dict(metadata), **placement)
        if new:
            self.viewer.reset_view()  # the new layers lie beside the movie: bring them into view

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
            np.savez(path_k, **result.spline_arrays())
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
        with warnings.catch_warnings(record=True) as caught:  # e.g. "pixel size not stored: unit unknown"
            warnings.simplefilter("always", RuntimeWarning)
            written = writer(path)
        for note in dict.fromkeys(str(w.message) for w in caught):
            show_warning(note)
        show_info("wrote " + ", ".join(written))


def _beside(layer, result) -> tuple:
    """World (y, x) of the PSF layers' first pixel: level with the movie's top, a PSF's width right of its edge."""
    top, left = (float(t) for t in tuple(layer.translate)[-2:])
    width = float(layer.data.shape[-1]) * float(tuple(layer.scale)[-1])
    gap = result.psf.shape[1] * result.pixel_size[1] / 2
    return top, left + width + gap


def _fill_plane_pixel_size(layer, field) -> None:
    """Put the (y, x) pixel size of a movie layer into ``field`` (nothing without a layer)."""
    if layer is not None:
        field.value = format_pixel_size(layer_pixel_size(layer)[0][-2:])


def _channel_paths(path, count: int) -> list[str]:
    """``path`` for one channel; ``<stem>_c1<suffix>``, ``_c2``... for several."""
    path = Path(path)
    if count == 1:
        return [str(path)]
    return [str(path.with_name(f"{path.stem}_c{n}{path.suffix}")) for n in range(1, count + 1)]


def _combined(plots):
    """One plot of every channel's: curves in the channel's colour, labelled by channel (one channel as it is)."""
    if len(plots) == 1:
        return plots[0]
    curves = [dataclasses.replace(curve, label=f"ch {number}: {curve.label}",
                                  color=PALETTE[(number - 1) % len(PALETTE)])
              for number, plot in enumerate(plots, 1) for curve in plot.curves]
    return dataclasses.replace(plots[0], curves=tuple(curves))


def _fill_table(table: QTableWidget, results) -> None:
    """One row per channel: σx, σy, θ, σ, FWHM, on-time (± errors in the tooltips), warnings in the note."""
    table.setRowCount(len(results))
    for row, result in enumerate(results):
        numbers = [(result.sigma_x, result.sigma_x_error), (result.sigma_y, result.sigma_y_error),
                   (result.theta, result.theta_error), (result.sigma, result.sigma_error), (result.fwhm, None),
                   (result.on_time, result.on_time_error)]
        cells = [str(row + 1), *(_number(value) for value, _ in numbers), "\n".join(result.warnings)]
        tips = [cells[0], *(_number(value, error) for value, error in numbers), cells[-1]]
        for column, (text, tip) in enumerate(zip(cells, tips)):
            cell = QTableWidgetItem(text)
            cell.setToolTip(tip)
            table.setItem(row, column, cell)
    for column in range(len(COLUMNS) - 1):
        table.resizeColumnToContents(column)
    table.resizeRowsToContents()


def _number(value, error=None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4g}" if error is None else f"{value:.4g} ± {error:.2g}"
