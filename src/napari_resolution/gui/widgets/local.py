"""Dock widget "Local resolution": a local-resolution map, shown as an overlay layer.

Two methods: the block-wise FSC of two half-maps (:func:`~napari_resolution.core.local.local_fsc`),
or a calibrated test of one map's local band power against noise
(:func:`~napari_resolution.core.single_map.local_resolution`). The map goes to
the layer ``<map> local resolution`` (colormap turbo reversed, so finer is
warmer; NaN, outside the mask or not significant, transparent), with a colour
bar in physical units and the histogram of the map. Clicking the map layer (a
click, not a drag, while the layer is selected) shows how the map was decided
there (the box's FSC, or the band powers against their noise thresholds) in a
second panel and in the result line, and outlines the box or window in the
layer ``<map> local box``.

Half-map layers that are lazy (dask, zarr) and would not fit in memory are
computed block by block, and their map is written into a zarr array in a
temporary folder of this session: the layer reads it chunk by chunk (never a
dask graph that would recompute on every slice change).
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import uuid
from pathlib import Path

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, FloatSpinBox, LineEdit, SpinBox
from napari.utils.colormaps import Colormap, ensure_colormap
from qtpy.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ...core.backend import is_lazy
from ...core.local import local_fsc, streams
from ...core.single_map import NOISE_SOURCES, WINDOW_PERIODS, SingleMapResult, local_resolution
from ..layers import MouseDrags, click, clicked_voxel, find_output, layer_data
from .base import IMAGES, MASKS, EstimatorWidget, LayerInput

__all__ = ["ColourBar", "LocalResolutionWidget"]

ESTIMATOR = "local resolution"
#: Percentiles of the map's finite values that set the contrast limits.
CONTRAST_PERCENTILES = (2, 98)
_LAYER_STYLE = {"blending": "translucent", "opacity": 0.6}
CLICK_HELP = ("Select the map layer and click it (without dragging) to see how the map was decided there (the "
              "box's FSC, or the band powers against noise); in 3-D view, the first voxel of the map along the line "
              "of sight.")
#: The methods, as the widget lists them.
HALF_MAPS, SINGLE_MAP = "Half-maps (local FSC)", "Single map"
#: The noise choice standing for a known noise level.
NOISE_LEVEL = "level (std)"
#: How the single-map test reads the map: the choices and the core's ``threshold`` for each.
READINGS = {"FSC 0.143 equivalent": "0.143", "FSC 0.5 equivalent": "0.5", "significance only": None}
#: The p-value map's layer: ``<map> local p-value``, one map per band (the first axis).
P_ESTIMATOR = "local p-value"


_SESSION_FOLDER: list = []  # the temporary folder of the zarr maps, made on first need, removed at exit


@dataclasses.dataclass(frozen=True)
class ZarrMapWanted:
    """What :meth:`LocalResolutionWidget.parameters` asks for instead of ``out``: a zarr map of this shape,
    made by :meth:`~LocalResolutionWidget.compute` (in the run, so that a run that fails leaves none)."""

    shape: tuple
    pixel_size: object
    unit: str


def session_zarr_map(wanted: ZarrMapWanted) -> tuple:
    """A new zarr map in this session's temporary folder (removed when Python exits), and its path."""
    from ... import io

    if not _SESSION_FOLDER:
        _SESSION_FOLDER.append(tempfile.TemporaryDirectory(prefix="napari-resolution-maps-"))
    path = Path(_SESSION_FOLDER[0].name) / f"local-resolution-{uuid.uuid4().hex[:8]}.zarr"
    return io.new_zarr_map(path, wanted.shape, wanted.pixel_size, wanted.unit), path


def reversed_turbo() -> Colormap:
    """napari's "turbo" reversed: low values (fine resolution) red, high values (coarse) blue."""
    turbo = ensure_colormap("turbo")
    return Colormap(colors=turbo.colors[::-1], controls=1 - turbo.controls[::-1], name="turbo_r",
                    display_name="turbo (reversed)")


def contrast_limits(values) -> tuple[float, float]:
    """The 2nd and 98th percentiles of the finite ``values`` (a range around them when equal; (0, 1) if none)."""
    finite = np.asarray(values)[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    low, high = (float(v) for v in np.percentile(finite, CONTRAST_PERCENTILES))
    return (low, high) if high > low else (low - 0.5 * abs(low) - 0.5, high + 0.5 * abs(high) + 0.5)


class ColourBar(QWidget):
    """A horizontal strip of a colormap between two labelled values (with their unit)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.low, self.strip, self.high = QLabel(), QLabel(), QLabel()
        self.strip.setMinimumSize(80, 14)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.low)
        row.addWidget(self.strip, stretch=1)
        row.addWidget(self.high)
        self.hint = QLabel(CLICK_HELP)
        self.hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.hint)

    def show_colormap(self, colormap, limits, unit: str = "") -> None:
        """Draw ``colormap`` (napari) from ``limits[0]`` (left) to ``limits[1]`` (right), labelled in ``unit``."""
        stops = ", ".join(f"stop:{t:.2f} rgb({r * 255:.0f}, {g * 255:.0f}, {b * 255:.0f})"
                          for t, (r, g, b, _) in zip(np.linspace(0, 1, 11), colormap.map(np.linspace(0, 1, 11))))
        self.strip.setStyleSheet(f"background: qlineargradient(x1:0, y1:0, x2:1, y2:0, {stops});")
        spaced = f" {unit}" if unit else ""
        self.low.setText(f"{limits[0]:.3g}{spaced}")
        self.high.setText(f"{limits[1]:.3g}{spaced}")
        self.strip.setToolTip(f"local resolution (full period) of the map layer, {limits[0]:.3g} to "
                              f"{limits[1]:.3g}{spaced}: its contrast limits")


class LocalResolutionWidget(EstimatorWidget):
    """Local resolution of two half-maps (local FSC) or of one map (statistical test): a map layer, its histogram,
    and on click how the map was decided there."""

    layer_inputs = (LayerInput("half1", "Half-map 1", arguments=("half1",), outputs=IMAGES),
                    LayerInput("half2", "Half-map 2", arguments=("half2",), outputs=IMAGES),
                    LayerInput("mask", "Mask", optional=True, arguments=("mask",), outputs=MASKS))
    panels = (("voxels", "local resolution, full period"), ("Fourier shell correlation", None))
    supports_gpu = True

    def __init__(self, napari_viewer):
        #: The map layer the shown result is drawn in (clicks on it inspect a box).
        self.map_layer = None
        self._stores = []  # (folder, array) of the zarr maps this widget made (lazy inputs too large for memory)
        self._box_line = None  # the inspected box's line under the summary
        self._inspected = None  # data position of the inspected box
        self._followed: list = []  # layers whose mouse and display events we listen to
        super().__init__(napari_viewer)
        self.start_in_the_fitting_method()
        self.colour_bar = ColourBar()
        self.colour_bar.setVisible(False)
        self.body.insertWidget(3, self.colour_bar)  # under the result line
        self.box_panel.setVisible(False)
        self.box_panel.setToolTip(CLICK_HELP)
        self.run_button.tooltip = CLICK_HELP

    @property
    def box_panel(self):
        """The panel of the inspected box's FSC (shown after the first click)."""
        return self.curve_panels[1]

    def build_options(self) -> list:
        """The method; box and step (automatic or set) and threshold, or the noise, significance and window."""
        self.method = ComboBox(label="Method", choices=[HALF_MAPS, SINGLE_MAP], value=HALF_MAPS)
        self.method.tooltip = ("Half-maps: the FSC of small boxes of two independent halves. Single map, a statistical "
                               "test: each voxel's finest band whose local power is significantly above noise (with a "
                               "second half-map, their average is tested and their difference is the noise).")
        self.auto_box = CheckBox(text="Automatic box (5 × global resolution)", value=True)
        self.box = SpinBox(label="Box (px)", value=32, min=8, max=4096, step=2, enabled=False)
        self.auto_step = CheckBox(text="Automatic step (box / 4)", value=True)
        self.step = SpinBox(label="Step (px)", value=8, min=1, max=4096, enabled=False)
        self.add_threshold_options("0.143")
        self.auto_box.changed.connect(lambda auto: setattr(self.box, "enabled", not auto))
        self.auto_step.changed.connect(lambda auto: setattr(self.step, "enabled", not auto))
        self.noise = ComboBox(label="Noise from", choices=[*NOISE_SOURCES, NOISE_LEVEL], value="auto")
        self.noise.tooltip = ("auto: the half-map difference with a second half-map, else outside the mask with a "
                              "mask, else the map's corners; level: white noise of the standard deviation below")
        self.noise_level = FloatSpinBox(label="Noise std", value=1.0, min=1e-9, max=1e9, step=0.1, visible=False)
        self.significance = FloatSpinBox(label="Significance", value=0.05, min=0.001, max=0.5, step=0.01)
        self.reading = ComboBox(label="Read as", choices=list(READINGS), value="FSC 0.143 equivalent")
        self.reading.tooltip = ("FSC equivalent: a band passes where the local signal-to-noise ratio reaches the one "
                                "where two half-maps' FSC crosses 0.143 (or 0.5), and is significant; significance "
                                "only: where it is significant (finer the wider the window)")
        self.auto_window = CheckBox(text=f"Automatic window ({WINDOW_PERIODS[3]:g} periods, 2-D: "
                                         f"{WINDOW_PERIODS[2]:g})", value=True)
        self.auto_window.tooltip = (f"a Gaussian window of {WINDOW_PERIODS[3]:g} periods of each band in 3-D, "
                                    f"{WINDOW_PERIODS[2]:g} in 2-D (a 2-D window holds fewer samples)")
        self.window = FloatSpinBox(label="Window (periods)", value=WINDOW_PERIODS[3], min=0.0, max=4.0, step=0.1,
                                   enabled=False)
        self.window.tooltip = "Gaussian window's standard deviation in periods of each band (0: none)"
        self.bands = LineEdit(label="Resolutions (periods)", value="")
        self.bands.tooltip = ("optional: the bands' periods, comma-separated, in the pixel size's unit (e.g. "
                              "16, 12, 8, 6, 4, 3); empty: 20 bands from a sixth of the map (a sixteenth with the "
                              "noise from the corners) to Nyquist")
        self.p_layer = CheckBox(text="p-value layer (one map per band)", value=False)
        self.p_layer.tooltip = ("also show the p-value of every voxel at every band (the chance that noise alone "
                                "passes every band up to it), as a layer with a slider over the bands")
        self.auto_window.changed.connect(lambda auto: setattr(self.window, "enabled", not auto))
        self.noise.changed.connect(lambda value: setattr(self.noise_level, "visible", value == NOISE_LEVEL))
        self.method.changed.connect(self._method_changed)
        self._fsc_options = [self.auto_box, self.box, self.auto_step, self.step, self.threshold]
        self._single_options = [self.noise, self.reading, self.significance, self.auto_window, self.window,
                                self.bands, self.p_layer]
        for option in self._single_options:
            option.visible = False
        return [self.method, *self._fsc_options, self.custom, *self._single_options, self.noise_level]

    @property
    def single(self) -> bool:
        """True when the single-map method is chosen."""
        return self.method.value == SINGLE_MAP

    def reset_choices(self, event=None) -> None:
        """As the base, but with the single-map method the second half-map is optional: never filled for the user."""
        keep_empty = self.single and self.half2.value is None
        super().reset_choices(event)
        if keep_empty:
            self.half2.value = None

    def _method_changed(self, _=None) -> None:
        """Show the chosen method's options and name the pickers after its inputs (a single map: no second half
        unless the user picks one; the half-maps: the base fills it again)."""
        if self.single:
            self.half2.value = None
        else:
            self.reset_choices()
        for option in self._fsc_options:
            option.visible = not self.single
        for option in self._single_options:
            option.visible = self.single
        self.custom.visible = not self.single and self.threshold.value == "custom"
        self.noise_level.visible = self.single and self.noise.value == NOISE_LEVEL
        self.half1.label = "Map (or half-map 1)" if self.single else "Half-map 1"
        self.half2.label = "Half-map 2 (optional)" if self.single else "Half-map 2"

    def start_in_the_fitting_method(self) -> None:
        """One map in the viewer: the single-map method; otherwise the half-maps (the default)."""
        if len(self.usable_layers(self.layer_inputs[0])) == 1:
            self.method.value = SINGLE_MAP

    def layer_changed(self) -> None:
        """Keep the box within the picked map."""
        layer = self.half1.value
        if layer is not None and hasattr(layer.data, "shape"):
            self.box.max = max(8, min(layer_data(layer).shape))

    def parameters(self) -> dict:
        """The inputs as keyword arguments of the chosen method's core function (raises ValueError)."""
        mask = self.mask.value
        common = {"mask": None if mask is None else layer_data(mask), "pixel_size": self.pixel_size_value(),
                  "device": self.device()}
        if self.single:
            second = self.half2.value
            if second is not None and second in (self.half1.value, mask):
                raise ValueError(f"{self.half2.label} is the same layer as "
                                 f"{'the map' if second is self.half1.value else 'the mask'}: pick another or none")
            noise = self.noise_level.value if self.noise.value == NOISE_LEVEL else self.noise.value
            return {"half1": layer_data(self.picked("half1")), "half2": None if second is None else layer_data(second),
                    "noise": noise, "threshold": READINGS[self.reading.value], "significance": self.significance.value,
                    "window": None if self.auto_window.value else self.window.value,
                    "resolutions": self._band_periods(), "p_values": self.p_layer.value, **common}
        threshold = self.threshold_value()
        halves = {"half1": layer_data(self.picked("half1")), "half2": layer_data(self.picked("half2"))}
        return {**halves, "box": None if self.auto_box.value else self.box.value,
                "step": None if self.auto_step.value else self.step.value, "threshold": threshold,
                "out": self._map_store(halves, common), **common}

    def _band_periods(self):
        """The periods typed in "Resolutions (periods)" (None when empty); ValueError naming the field."""
        text = self.bands.value.strip()
        if not text:
            return None
        try:
            return [float(part) for part in text.replace(";", ",").split(",") if part.strip()]
        except ValueError:
            raise ValueError(f"{self.bands.label}: expected comma-separated periods, got {text!r}") from None

    def _map_store(self, halves: dict, common: dict):
        """A zarr map wanted for lazy half-maps too large for memory (computed block by block), else None."""
        if not streams((*halves.values(), common["mask"])):
            return None
        return ZarrMapWanted(tuple(halves["half1"].shape), common["pixel_size"], self.unit.value)

    def compute(self, parameters: dict, progress):
        """:func:`~napari_resolution.core.local.local_fsc` of the half-maps, or
        :func:`~napari_resolution.core.single_map.local_resolution` of the map; a wanted zarr map is made
        here and removed again if the run fails."""
        estimate = local_resolution if "significance" in parameters else local_fsc
        store = None
        if isinstance(parameters.get("out"), ZarrMapWanted):
            out, store = session_zarr_map(parameters["out"])
            parameters = {**parameters, "out": out}
        try:
            result = estimate(**parameters, progress=progress)
        except BaseException:
            if store is not None:
                shutil.rmtree(store, ignore_errors=True)
            raise
        if store is not None:
            self._stores.append((store, parameters["out"]))
        return result

    # ----------------------------------------------------------------- result
    def summary(self, result) -> str:
        """The map's summary, then the inspected box's line."""
        head = result.summary(self.unit.value)
        return head if self._box_line is None else f"{head}\n{self._box_line}"

    def show(self, result, title: str) -> None:
        """As the base, the inspected box's line left out until :meth:`show_views` inspects the box again."""
        self._box_line = None
        super().show(result, title)

    def show_views(self, result) -> None:
        """The map layer with its colour bar, what "automatic" chose, and the inspected box again."""
        if not isinstance(result, SingleMapResult):
            self.box.max, self.step.max = max(self.box.max, result.box), max(self.step.max, result.step)
            self.box.value, self.step.value = result.box, result.step  # what "automatic" chose (disabled then)
        source = self.shown.layers[0]
        lazy = is_lazy(result.map)  # a zarr map, read by the layer chunk by chunk
        limits = contrast_limits(result.values if lazy else result.map)  # the map lies within its boxes' values
        metadata = {"estimator": ESTIMATOR, "source": source.name, "unit": self.unit.value, **self.shown.settings,
                    "box": result.box, "step": result.step, "median": result.statistics["median"]}
        data = result.map if lazy else result.map.astype(np.float32)
        layer = self.show_layer(data, kind="local_resolution_map", estimator=ESTIMATOR, metadata=metadata,
                                colormap=reversed_turbo(), contrast_limits=limits, **_LAYER_STYLE)
        layer.contrast_limits = limits  # a new map, new limits (the rest of the display is the user's)
        self._drop_replaced_stores(result.map if lazy else None)
        self._follow(layer)
        self.map_layer = layer
        self._update_colour_bar()
        self.colour_bar.setVisible(True)
        self._show_p_values(result, source)
        self.box_panel.clear()
        inside = self._inspected is not None and len(self._inspected) == result.map.ndim and all(
            -0.5 <= p < n - 0.5 for p, n in zip(self._inspected, result.map.shape))
        if inside:
            self.inspect(self._inspected)
        else:
            self.box_panel.setVisible(False)

    def _show_p_values(self, result, source) -> None:
        """The p-value map as the layer ``<map> local p-value`` (bands along its first axis, contrast 0 to the
        significance level), or no such layer when the result has none."""
        p_values = getattr(result, "p_values", None)
        if p_values is None:
            earlier = find_output(self.viewer, "local_p_values", source)
            if earlier is not None:
                self.viewer.layers.remove(earlier)  # a map of an earlier run: it would be read as this one's
            return
        significance = result.parameters["significance"]
        metadata = {"estimator": P_ESTIMATOR, "source": source.name, "unit": self.unit.value,
                    "resolutions": result.parameters["resolutions"], "significance": significance}
        state = self.shown.sources[0]
        layer = self.show_layer(p_values, kind="local_p_values", estimator=P_ESTIMATOR, metadata=metadata,
                                scale=(1.0, *state.scale), translate=(0.0, *state.translate),
                                colormap="magma", contrast_limits=(0.0, significance), **_LAYER_STYLE)
        layer.contrast_limits = (0.0, significance)
        if self.map_layer is not None:
            self.viewer.layers.selection.active = self.map_layer  # clicks keep going to the map

    def _drop_replaced_stores(self, shown_map) -> None:
        """Remove this widget's zarr maps that no layer shows any more (all but ``shown_map``'s)."""
        for made in [made for made in self._stores if made[1] is not shown_map]:
            shutil.rmtree(made[0], ignore_errors=True)
            self._stores.remove(made)

    def _follow(self, layer) -> None:
        """Listen to clicks on ``layer`` and to its display changes (once per layer; undone on close)."""
        if any(followed == layer for followed in self._followed):  # == : napari hands plugins proxies
            return
        self._followed.append(layer)
        self.connections.connect(MouseDrags(layer), self.on_map_click)
        self.connections.connect(layer.events.contrast_limits, self._update_colour_bar)
        self.connections.connect(layer.events.colormap, self._update_colour_bar)

    def _update_colour_bar(self, _=None) -> None:
        layer = self.map_layer
        if layer is not None:
            self.colour_bar.show_colormap(layer.colormap, layer.contrast_limits, self.unit.value)

    # ---------------------------------------------------------------- inspect
    def on_map_click(self, layer, event):
        """napari mouse-drag callback of the map layer: a click (press, release, no move) inspects the box there
        (in a 3-D view the first voxel of the map along the line of sight)."""
        if layer != self.map_layer or self.result is None:  # != : the map layer is a proxy of ``layer``
            return
        yield from click(event, clicked_voxel(layer, event, self.result.map), self.inspect)

    def inspect(self, position) -> None:
        """Show how the map was decided nearest ``position`` (map pixel coordinates): panel, result line, outline.

        The box's FSC (local FSC) or the band powers against their noise
        thresholds at the nearest voxel whose curve was kept (single map).
        """
        result = self.result
        index = result.box_index(position)
        centre = [int(c) for c in result.centres[index]]
        curve = result.curve_at(position)
        unit = self.unit.value
        axes = "(z, y, x)" if len(centre) == 3 else "(y, x)"
        noun = "window" if isinstance(result, SingleMapResult) else "box"
        sides = result.window_at(index)
        size = f"{sides[0]}" if len(set(sides)) == 1 else "×".join(map(str, sides))
        self._inspected = tuple(float(p) for p in position)
        self._box_line = f"{noun} at {axes} = ({', '.join(map(str, centre))}), {size} px: {curve.summary(unit)}"
        note = self.result_line.note
        self.result_line.update_result(self.summary(result))
        self.box_panel.setVisible(True)
        self.box_panel.show_run(curve.plots(unit)[0].titled(f"{noun} at {axes} = ({', '.join(map(str, centre))})"))
        self.box_panel.set_stale(note)
        self.scroll_to(self.box_panel)  # below the histogram: scrolled into view
        self._outline(np.asarray(centre), np.asarray(self._inspected), np.asarray(sides))

    def _outline(self, centre, position, sides) -> None:
        """Outline the box (or window) of ``sides`` pixels per axis: a rectangle in the viewed plane through
        ``position``, layer ``<map> local box``."""
        low = centre - sides // 2 - 0.5  # pixel edges of the box
        high = low + sides
        rows, cols = self._plane_axes(len(centre))
        corners = np.repeat(np.round(position)[None], 4, axis=0)
        corners[:, rows] = [low[rows], low[rows], high[rows], high[rows]]
        corners[:, cols] = [low[cols], high[cols], high[cols], low[cols]]
        active = self.viewer.layers.selection.active
        self.show_layer([(corners, "rectangle")], kind="local_box", estimator="local box",
                        metadata={"estimator": "local box"}, layer_type="shapes", edge_color="white",
                        edge_width=max(1.0, float(sides.max()) / 16), face_color="transparent")
        if active is not None:
            self.viewer.layers.selection.active = active  # clicks keep going to the map

    def _plane_axes(self, ndim: int) -> tuple[int, int]:
        """The map's two axes shown on screen (the last two in a 3-D view)."""
        offset = self.viewer.dims.ndim - ndim
        shown = [axis - offset for axis in self.viewer.dims.displayed if axis - offset >= 0]
        return tuple(shown[-2:]) if len(shown) >= 2 and self.viewer.dims.ndisplay == 2 else (ndim - 2, ndim - 1)

