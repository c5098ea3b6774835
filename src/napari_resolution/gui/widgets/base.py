"""The estimator widget base: layer pickers, pixel size, runner, result line, panels, clean-up.

A dock widget for an estimator is a subclass that declares

* :attr:`~EstimatorWidget.layer_inputs`: the layers it reads (:class:`LayerInput`);
* :meth:`~EstimatorWidget.build_options`: its own input widgets;
* :meth:`~EstimatorWidget.parameters`: the inputs as the core function's keywords;
* :meth:`~EstimatorWidget.compute`: the call into the core (runs in a worker thread);

and, when the default is not enough, :meth:`~EstimatorWidget.summary` for the
result line, :meth:`~EstimatorWidget.show_views` for its own views (result
layers through :func:`~..layers.add_or_update_layer`, a :class:`ResultsTable`),
:meth:`~EstimatorWidget.plots` and :meth:`~EstimatorWidget.result_warnings`
for what the panels show and the warnings (under the result line, and as
notifications), and
:meth:`~EstimatorWidget.display_options` for the options that only change the
plot. Everything else is here: pickers that follow the layer list and pick
a usable layer whenever none is picked, the pixel size and unit read from the
first layer, a "Use GPU" option mapped to the core's ``device``, the Run
button, the runner (progress, Cancel, errors as notifications naming the
layers, the core's RuntimeWarnings left to the result: :func:`core_warnings`), the result
line with what the result was computed from and its warnings, the curve panels (overlaid runs
named by the inputs that differ), marking the shown result stale when the
inputs change or a run is cancelled or fails, a narrow layout that scrolls
(subclasses add their own views to :attr:`~EstimatorWidget.body`), and
disconnecting every viewer event when the widget is closed, taken out of its
dock (napari's close button) or destroyed.

Stale results: a run records what it starts from (:class:`Run`): every input
as shown and, per picked layer, its identity, name, data (the object and how
often it was replaced) and scale (:class:`LayerState`). The shown result is
compared with the inputs and layers whenever an input or a picked layer
changes (renamed, removed, its data replaced, rescaled), during a run too,
and when a run finishes: a result whose inputs changed while it ran is shown
marked stale. Result layers (:meth:`EstimatorWidget.show_layer`) are placed
as their source was when the run started and are found again by their tag,
not their name (:func:`~..layers.add_or_update_layer`), so renaming an input
never leaves an old result layer behind.
"""

from __future__ import annotations

import re
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, Container, FloatSpinBox, LineEdit, PushButton
from napari.layers import Layer
from napari.utils.notifications import show_info, show_warning
from qtpy.QtCore import QEvent, QSize, Qt, QTimer
from qtpy.QtGui import QColor
from qtpy.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFrame,
    QMainWindow,
    QScrollArea,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.backend import gpu_available
from ...core.thresholds import CRITERIA
from ...core.validation import check_same_shape, renamed
from ...io import PIXEL_UNIT, RGB_ADVICE
from ..layers import (
    KINDS,
    EventConnections,
    add_or_update_layer,
    fill_pixel_size,
    grey_images,
    layer_data,
    output_kind,
    parse_pixel_size,
    points_layers,
    refresh_on_layer_events,
)
from ..notices import show_core_notes
from ..plots import CurvePanel, ResultLine
from ..runner import Cancelled, Runner, checked

__all__ = ["IMAGES", "MASKS", "EstimatorWidget", "LayerInput", "LayerState", "ResultsTable", "Run", "core_warnings",
           "narrow"]

#: Widest size hint of a dock widget (pixels): room for the canvas on a 1280-pixel screen.
MAX_WIDTH = 400
#: Characters a drop-down list needs room for (a longer choice or layer name is cut off in the closed list).
COMBO_CHARACTERS = 8
STALE = "stale: inputs changed since this run"


@dataclass(frozen=True)
class LayerInput:
    """One layer picker of an estimator widget.

    Attributes
    ----------
    attribute : str
        Name of the widget attribute holding the picker (e.g. "first").
    label : str
        Label shown beside it.
    ndims : tuple of int
        Accepted layer dimensionalities.
    optional : bool
        Optional pickers start empty and are never filled automatically.
    arguments : tuple of str
        The core's arguments the layer feeds (e.g. ("half1",), or ("movie[1]",)
        for an item of a list): its errors about them then name the layer instead.
    outputs : tuple of str
        The kinds of the plugin's own output layers the picker offers too
        (keys of :data:`~..layers.KINDS`, e.g. ("mask",) for a mask); it
        leaves out every other output (a local-resolution map is no half-map).
    layer_type : {"image", "points"}
        What the picker offers: grey-level image layers, or points layers.
    """

    attribute: str
    label: str
    ndims: tuple = (2, 3)
    optional: bool = False
    arguments: tuple = ()
    outputs: tuple = ()
    layer_type: str = "image"


#: What :class:`LayerInput` ``outputs`` takes for an image measured as data: the even/odd reconstructions of a
#: tomography split are half-maps.
IMAGES = ("even_reconstruction", "odd_reconstruction")
#: What it takes for a mask: the Mask widget's masks.
MASKS = ("mask",)


@dataclass(frozen=True)
class LayerState:
    """What a result computed from a layer depends on, as it was when the run started.

    Attributes
    ----------
    layer_id : object
        The layer's ``unique_id`` (the same layer, not another of its name).
    name : str
    data : tuple
        ``id`` of the layer's data and how often its data was replaced since the widget was made.
    scale : tuple of float
    translate : tuple of float
        Where the layer was (result layers are placed there); not compared: it changes no result.
    """

    layer_id: object
    name: str
    data: tuple
    scale: tuple
    translate: tuple = field(default=(), compare=False)


@dataclass(frozen=True)
class Run:
    """What a run was computed from.

    Attributes
    ----------
    title : str
        The picked layers' names (the default name of its curves).
    inputs : dict of str to str
        Every input as shown, label to text (layers by name), display options left out.
    layers : tuple
        The picked layers.
    settings : dict
        The core's keywords that are not arrays (threshold, pixel size, ...).
    sources : tuple of LayerState
        The picked layers as they were when the run started.
    """

    title: str
    inputs: dict
    layers: tuple = ()
    settings: dict = field(default_factory=dict)
    sources: tuple = ()

    @property
    def description(self) -> str:
        """The inputs on one line, e.g. ``Image 1: a · Image 2: b · Pixel size: 1.1 · Threshold: half-bit``.

        Empty pickers, empty fields and unticked options are left out.
        """
        return " · ".join(f"{label}: {value}" for label, value in self.inputs.items()
                          if value not in ("none", "off", ""))


def _shown(value) -> str:
    """An input value as text: layers by name, booleans as on/off, numbers short."""
    if isinstance(value, Layer):
        return value.name
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return "none" if value is None else str(value)


class EstimatorWidget(QWidget):
    """Base of every estimator dock widget (see the module docstring for what a subclass declares)."""

    layer_inputs: tuple = ()
    #: Labels of the curve panels, top to bottom: (y label, x label or None for spatial frequency).
    panels: tuple = (("", None),)
    run_text = "Run"
    supports_gpu = False

    def __init__(self, napari_viewer):
        super().__init__()
        show_core_notes()  # e.g. "compiling the CPU kernels (first run only ...)"
        self.viewer = napari_viewer
        self.result = None
        #: What the shown result was computed from (None before the first result).
        self.shown: Run | None = None
        #: What the running computation started from (None when none runs).
        self.running: Run | None = None
        self._replaced: dict = {}  # layer unique_id -> how often its data was replaced
        self._docked = False
        self.connections = EventConnections(self)
        for spec in self.layer_inputs:
            setattr(self, spec.attribute, ComboBox(label=spec.label, choices=self._choices_for(spec),
                                                   nullable=True, value=None))
        self.pixel_size = LineEdit(label="Pixel size", value="1")
        self.unit = LineEdit(label="Unit", value="")
        self.use_gpu = CheckBox(text="Use GPU", value=False, enabled=gpu_available(), visible=self.supports_gpu)
        self.use_gpu.tooltip = "Run on the GPU with cupy" if gpu_available() else "needs cupy and a CUDA GPU"
        self.run_button = PushButton(text=self.run_text, visible=bool(self.run_text))
        self.inputs = Container(widgets=[*self.pickers(), self.pixel_size, self.unit, *self.build_options(),
                                         self.use_gpu, self.run_button])
        for widget in self.inputs:
            narrow(widget)
        self.runner = Runner()
        self.result_line = ResultLine()
        self.curve_panels = [CurvePanel(napari_viewer, y_label=y, **({"x_label": x} if x else {}))
                             for y, x in self.panels]
        #: The scrolled layout: inputs, runner, result line, panels (a subclass inserts its own views).
        self.body = self._lay_out()
        self.runner.set_controls([self.inputs.native])
        self.run_button.changed.connect(self.run)
        if self.layer_inputs:
            self.pickers()[0].changed.connect(self._first_layer_changed)
        refresh_on_layer_events(self.connections, napari_viewer, self.reset_choices)
        self.connections.connect(napari_viewer.layers.events, self._layer_event)  # every layer's events too
        self.reset_choices()
        self.inputs.changed.connect(self._inputs_changed)
        self.pixel_size.changed.connect(self._pixel_size_edited)

    def _lay_out(self) -> QVBoxLayout:
        """Inputs, runner, result line and panels in a scroll area; returns their layout."""
        content = QWidget()
        body = QVBoxLayout(content)
        for widget in (self.inputs.native, self.runner, self.result_line, *self.curve_panels):
            body.addWidget(widget)
        body.addStretch(1)
        self.scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        scroll.setWidget(content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Expanding)  # napari adds no stretch below
        return body

    def sizeHint(self) -> QSize:
        """The content's size, at most :data:`MAX_WIDTH` wide (tall content scrolls)."""
        hint = self.body.parentWidget().sizeHint()
        return QSize(min(hint.width() + self.style().pixelMetric(self.style().PM_ScrollBarExtent), MAX_WIDTH),
                     hint.height())

    def minimumSizeHint(self) -> QSize:
        """Small: the scroll area shows what does not fit."""
        return QSize(min(super().minimumSizeHint().width(), MAX_WIDTH), 120)

    def event(self, event) -> bool:
        """Disconnect from the viewer when taken out of a dock (napari closes a dock widget that way); once
        docked, join the tabs of this plugin's other docks there (:meth:`tabify`)."""
        if event.type() == QEvent.ParentChange:
            if self._docked and self.parent() is None:
                self.disconnect_viewer()
            if not self._docked and self.parent() is not None:
                QTimer.singleShot(0, self.tabify)  # once napari has put the dock in its window
            self._docked = self.parent() is not None
        return super().event(event)

    def dock(self) -> QDockWidget | None:
        """The dock widget holding this widget (None when it is not docked)."""
        parent = self.parentWidget()
        while parent is not None and not isinstance(parent, QDockWidget):
            parent = parent.parentWidget()
        return parent

    def tabify(self) -> None:
        """Put this widget's dock in a tab beside the last of this plugin's docks in the same dock area, rather than
        stacked under it (three stacked docks leave each a sliver of the window's height), and show it."""
        dock = self.dock()
        window = None if dock is None else dock.parentWidget()
        if not isinstance(window, QMainWindow) or dock.isFloating():
            return
        area = window.dockWidgetArea(dock)
        others = [other for other in window.findChildren(QDockWidget)
                  if other is not dock and not other.isFloating() and other.isVisible()
                  and window.dockWidgetArea(other) == area and other.findChild(EstimatorWidget) is not None]
        if others:
            window.tabifyDockWidget(others[-1], dock)
            dock.show()
            dock.raise_()

    def scroll_to(self, widget) -> None:
        """Scroll the dock so that ``widget`` (e.g. a panel just shown) is in view, once the layout has placed it."""
        QTimer.singleShot(0, lambda: self.scroll.ensureWidgetVisible(widget, 0, 0))

    def closeEvent(self, event) -> None:
        """Closing the widget disconnects it from the viewer."""
        self.disconnect_viewer()
        super().closeEvent(event)

    def disconnect_viewer(self) -> None:
        """Stop listening to the viewer (layers, theme) and cancel a running computation."""
        self.runner.cancel()
        self.connections.disconnect_all()
        for panel in self.curve_panels:
            panel.connections.disconnect_all()

    @property
    def panel(self) -> CurvePanel | None:
        """The first curve panel (None for a widget without one)."""
        return self.curve_panels[0] if self.curve_panels else None

    # ------------------------------------------------------------- subclass
    def add_threshold_options(self, default: str) -> None:
        """``self.threshold``, every criterion or "custom" (``default`` first chosen), and ``self.custom``, its
        value, shown only for "custom": the widget lists both among its options."""
        self.threshold = ComboBox(label="Threshold", choices=[*CRITERIA, "custom"], value=default)
        self.custom = FloatSpinBox(label="Custom value", value=0.2, min=0.001, max=0.999, step=0.01, visible=False)
        self.threshold.changed.connect(lambda value: setattr(self.custom, "visible", value == "custom"))

    def threshold_value(self):
        """The threshold chosen in :meth:`add_threshold_options`: a criterion's name, or the custom value."""
        return self.custom.value if self.threshold.value == "custom" else self.threshold.value

    def build_options(self) -> list:
        """The estimator's own input widgets, shown after the pixel size."""
        return []

    def parameters(self) -> dict:
        """The inputs as keyword arguments of :meth:`compute`; raises ValueError naming what is wrong."""
        raise NotImplementedError

    def compute(self, parameters: dict, progress):
        """Call the core with ``parameters`` (in a worker thread) and return its result."""
        raise NotImplementedError

    def plot_options(self) -> dict:
        """Keywords for ``result.plots`` (e.g. which thresholds to show)."""
        return {}

    def display_options(self) -> list:
        """The option widgets that change only how a result is shown (never make it stale)."""
        return []

    def summary(self, result) -> str:
        """The result line of ``result``: its summary."""
        return result.summary(self.unit.value)

    def title(self) -> str:
        """Name of a run (legend of overlaid runs): the picked layers."""
        return " vs ".join(picker.value.name for picker in self.pickers()[:2] if picker.value is not None)

    # --------------------------------------------------------------- layers
    def layer_pickers(self) -> list:
        """(:class:`LayerInput`, picker) of every layer picker: those of :attr:`layer_inputs` (a subclass may add)."""
        return [(spec, getattr(self, spec.attribute)) for spec in self.layer_inputs]

    def pickers(self) -> list:
        """The layer pickers, in the order of :meth:`layer_pickers`."""
        return [picker for _, picker in self.layer_pickers()]

    def usable_layers(self, spec: LayerInput) -> list:
        """Layers a picker offers: grey-level images (or points, :attr:`LayerInput.layer_type`) of an accepted
        dimensionality, and of the plugin's own outputs only the kinds it takes (:attr:`LayerInput.outputs`)."""
        offered = points_layers if spec.layer_type == "points" else grey_images
        return [layer for layer in offered(self.viewer.layers, spec.ndims)
                if output_kind(layer) in (None, *spec.outputs)]

    def unusable_layers(self, spec: LayerInput) -> list[str]:
        """Why each layer the picker of ``spec`` leaves out cannot be used there, e.g. ``'m' is 4-D: pick a time
        point or channel (right-click it > Split Stack)``."""
        usable = self.usable_layers(spec)
        return [_unusable(layer, spec) for layer in self.viewer.layers if layer not in usable]

    def _choices_for(self, spec: LayerInput):
        return lambda widget=None: [(layer.name, layer) for layer in self.usable_layers(spec)]

    def reset_choices(self, event=None) -> None:
        """Refresh the pickers (layers came, went or were renamed), fill every empty required one, and say in each
        picker's tooltip which layers it leaves out and why."""
        for picker in self.pickers():  # a renamed layer's item first takes its new name: magicgui keeps it picked
            combo = picker.native
            for index in range(combo.count()):
                layer = combo.itemData(index)
                if isinstance(layer, Layer) and combo.itemText(index) != layer.name:
                    combo.setItemText(index, layer.name)
        self.inputs.reset_choices()
        for spec, picker in self.layer_pickers():
            picker.tooltip = "\n".join([f"{_dims(spec.ndims)} {_TYPES[spec.layer_type]} layers",
                                        *self.unusable_layers(spec)])
        taken = [picker.value for picker in self.pickers() if picker.value is not None]
        for spec, picker in self.layer_pickers():
            if picker.value is not None or spec.optional:
                continue
            free = [layer for layer in self.usable_layers(spec) if layer not in taken]
            if free:
                picker.value = free[0]
                taken.append(free[0])

    def _first_layer_changed(self, _=None) -> None:
        fill_pixel_size(self.pickers()[0].value, self.pixel_size, self.unit)
        self.layer_changed()

    def layer_changed(self) -> None:
        """Hook: the first picked layer (hence the pixel size) changed."""

    def picked(self, attribute: str):
        """The layer picked in ``attribute``; ValueError naming the picker when it is empty (and the layers it
        cannot take, with why)."""
        picker = getattr(self, attribute)
        if picker.value is None:
            spec = next(spec for spec, other in self.layer_pickers() if other is picker)
            raise self.no_layer(spec, picker)
        return picker.value

    def picked_pair(self, first: str, second: str) -> tuple:
        """The data of the layers picked in ``first`` and ``second`` (attributes); ValueError naming an empty
        picker, or both layers when their shapes differ."""
        layers = self.picked(first), self.picked(second)
        data = tuple(map(layer_data, layers))
        check_same_shape(*data, tuple(f"layer '{layer.name}'" for layer in layers))
        return data

    def no_layer(self, spec: LayerInput, picker) -> ValueError:
        """The error of the empty picker of ``spec``: "choose a layer for ...", with the layers open that it cannot
        take and why, or that none is open."""
        reasons = self.unusable_layers(spec) if len(self.viewer.layers) else ["no layer is open"]
        message = f"choose a layer for {picker.label}"
        return ValueError(f"{message}: {'; '.join(reasons)}" if reasons else message)

    def pixel_size_value(self):
        """The pixel size field parsed (one number or one per axis)."""
        return parse_pixel_size(self.pixel_size.value)

    def device(self):
        """The core's ``device`` for the "Use GPU" option: "gpu" or None."""
        return "gpu" if self.use_gpu.value and self.use_gpu.enabled and self.supports_gpu else None

    # --------------------------------------------------------------- inputs
    def current_inputs(self) -> dict:
        """Every input as shown, label to text: visible, enabled, and not a display option."""
        left_out = {id(w) for w in (self.run_button, self.use_gpu, *self.display_options())}
        return {widget.label or getattr(widget, "text", widget.name): _shown(widget.value) for widget in self.inputs
                if id(widget) not in left_out and hasattr(widget, "value") and not widget.native.isHidden()
                and widget.native.isEnabledTo(self.inputs.native)}

    def picked_layers(self) -> tuple:
        """The layers picked now (empty pickers left out), in the order of :meth:`pickers`."""
        return tuple(picker.value for picker in self.pickers() if picker.value is not None)

    def layer_state(self, layer) -> LayerState:
        """``layer``'s identity, name, data and scale now (what a result computed from it depends on)."""
        return LayerState(layer.unique_id, layer.name, self.data_version(layer), tuple(layer.scale),
                          tuple(layer.translate))

    def data_version(self, layer) -> tuple:
        """The identity of ``layer``'s data: the object and how often the layer's data was replaced."""
        return id(layer_data(layer)), self._replaced.get(layer.unique_id, 0)

    def _layer_event(self, event) -> None:
        """Any event of the layer list or of a layer in it: a picked layer or one a result came from that was
        renamed, got new data or a new scale makes the shown result stale (or current again)."""
        if event.type == "removed":
            self._layer_removed(event.value)
        if event.type not in ("name", "data", "scale") or not event.sources:
            return
        layer = event.sources[0]
        if event.type == "data":
            self._replaced[layer.unique_id] = self._replaced.get(layer.unique_id, 0) + 1
        sources = [*self.picked_layers(), *(source for run in (self.shown, self.running) if run is not None
                                            for source in run.layers)]
        if layer not in sources:
            return
        if event.type == "name":
            self.reset_choices()  # the pickers show the new name
        elif event.type == "scale":
            self.layer_rescaled(layer)
        self._inputs_changed()
        self.sources_changed()

    def _layer_removed(self, layer) -> None:
        if self.running is not None and layer in self.running.layers:
            show_info(f"Layer '{layer.name}' was removed during the run; "
                      "the result refers to its data when the run started.")

    def layer_rescaled(self, layer) -> None:
        """A picked layer's scale changed: the pixel size follows the first picked layer's."""
        if self.pickers() and self.pickers()[0].value is not None and layer == self.pickers()[0].value:
            self._first_layer_changed()

    def sources_changed(self) -> None:
        """Hook: a picked layer was renamed, got new data or a new scale (the stale marking is done)."""

    def _pixel_size_edited(self, _=None) -> None:
        """A pixel size other than 1 is no longer in pixels: the unit "px" goes (the user names the unit)."""
        if self.unit.value != PIXEL_UNIT:
            return
        try:
            sizes = np.atleast_1d(self.pixel_size_value())
        except ValueError:  # being typed: said when the run reads it
            return
        if np.any(sizes != 1):
            self.unit.value = ""

    def _inputs_changed(self, _=None) -> None:
        if self.shown is not None:
            current = (self.current_inputs() == self.shown.inputs
                       and tuple(map(self.layer_state, self.picked_layers())) == self.shown.sources)
            self.mark_stale(None if current else STALE)

    def mark_stale(self, note: str | None) -> None:
        """Grey the shown result out with ``note`` in the result line and the panels (None: it is current)."""
        self.result_line.set_note(note)
        for panel in self.curve_panels:
            if panel.runs:
                panel.set_stale(note)

    def _run_failed(self, error: Exception) -> None:
        self.mark_stale("last run cancelled" if isinstance(error, Cancelled) else f"last run failed: {error}")

    # ------------------------------------------------------------------ run
    def run(self, _=None) -> None:
        """Start the computation in a worker thread (bad input becomes an error notification)."""
        parameters = checked(self.parameters, on_error=self._run_failed)
        if parameters is None:
            return
        layers = self.picked_layers()
        run = Run(self.title(), self.current_inputs(), layers,
                  {key: value for key, value in parameters.items() if not hasattr(value, "shape")},
                  tuple(map(self.layer_state, layers)))
        names = self.argument_names()
        if not self.runner.busy:  # else the runner refuses to start it
            self.running = run
        self.runner.start(lambda progress: self._compute_named(parameters, progress, names),
                          lambda result: self._succeeded(result, run), on_error=self._run_failed,
                          on_finish=self._run_finished)

    def _compute_named(self, parameters: dict, progress, names: dict):
        """:meth:`compute` under :func:`core_warnings`, its errors naming the layers instead of the core's
        arguments."""
        try:
            with core_warnings():
                return self.compute(parameters, progress)
        except ValueError as error:
            raise ValueError(_named(str(error), names)) from None

    def argument_names(self) -> dict:
        """The core's argument names -> "layer 'name'" of the layer picked for each."""
        names = {}
        for spec, picker in self.layer_pickers():
            if picker.value is not None:
                names.update(dict.fromkeys(spec.arguments, f"layer '{picker.value.name}'"))
        return names

    def _succeeded(self, result, run: Run) -> None:
        """Show the result of ``run``, marked stale if its inputs changed while it ran."""
        self.shown = run
        self.show(result, run.title)
        self._inputs_changed()

    def _run_finished(self) -> None:
        self.running = None

    def show(self, result, title: str) -> None:
        """Show a result: its line with its warnings, its plots in the panels, its own views; its warnings as
        notifications too."""
        self.result = result
        self._title = title
        notes = self.result_warnings(result)
        self.result_line.show_result(self.summary(result), self.shown.description, notes)
        self.draw(result, title)
        self.show_views(result)
        for note in notes:
            show_warning(note)

    def show_views(self, result) -> None:
        """Hook: show ``result`` in the widget's own views (result layers through :meth:`show_layer`, a results
        table)."""

    def show_layer(self, data, *, kind: str, estimator: str, source: int = 0, **kwargs):
        """``data`` as the result layer of ``kind`` of the shown run's ``source``-th picked layer.

        :func:`~..layers.add_or_update_layer` (``kwargs`` are its keywords), placed
        where the source layer was when the run started unless ``scale`` or
        ``translate`` are given: the result layer's scale is the one it was computed with.
        """
        state = self.shown.sources[source]
        placement = {"scale": state.scale, "translate": state.translate}
        return add_or_update_layer(self.viewer, data, source=self.shown.layers[source], estimator=estimator,
                                   kind=kind, **{**placement, **kwargs})

    def result_warnings(self, result) -> tuple:
        """The notes shown under the result line and as warning notifications: the result's warnings."""
        return result.warnings

    def plots(self, result) -> tuple:
        """What the panels show, top to bottom: ``result.plots`` with :meth:`plot_options`."""
        return result.plots(self.unit.value, **self.plot_options())

    def draw(self, result, title: str, *, replace: bool = False) -> None:
        """Draw :meth:`plots` into the panels (the latest run replaced when ``replace``; none without panels)."""
        if not self.curve_panels:
            return
        for panel, plot in zip(self.curve_panels, self.plots(result)):
            if replace:
                panel.replace_latest(plot.titled(title))
            else:
                panel.show_run(plot.titled(title), self.shown.inputs)

    def redraw(self, _=None) -> None:
        """Draw the current result again (a display option changed)."""
        if self.result is not None and self.panel is not None and self.panel.runs:
            self.draw(self.result, self._title, replace=True)


def narrow(widget) -> None:
    """Let a drop-down list (magicgui ComboBox) be narrower than its longest choice: a dock fits its width
    whatever the layers are named (the open list shows every choice in full)."""
    if isinstance(widget, ComboBox):
        widget.native.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        widget.native.setMinimumContentsLength(COMBO_CHARACTERS)


def _dims(ndims) -> str:
    """``(2, 3)`` as "2-D or 3-D"."""
    return " or ".join(f"{n}-D" for n in ndims)


#: What a picker of each :attr:`LayerInput.layer_type` offers, as its tooltip names it.
_TYPES = {"image": "grey-level image", "points": "points"}


def _unusable(layer, spec: LayerInput) -> str:
    """Why the picker of ``spec`` leaves ``layer`` out."""
    from napari.layers import Image, Points

    name = f"'{layer.name}'"
    image = spec.layer_type == "image"
    if not isinstance(layer, Image if image else Points):
        kind = layer.__class__.__name__
        return f"{name} is {_article(kind)} {kind} layer, not {'an image' if image else 'a Points layer'}"
    if image and layer.rgb:
        return f"{name} is RGB: {RGB_ADVICE} (right-click it > Split RGB)"
    if image and layer.ndim > max(spec.ndims):
        return f"{name} is {layer.ndim}-D: pick a time point or channel (right-click it > Split Stack)"
    if layer.ndim not in spec.ndims:
        return f"{name} is {layer.ndim}-D, not {_dims(spec.ndims)}"
    return f"{name} is {KINDS.get(output_kind(layer), 'a result of this plugin')}, not an input here"


def _article(word: str) -> str:
    """The indefinite article of ``word`` ("an" before a vowel: "an Image", "a Labels")."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def _named(message: str, names: dict) -> str:
    """The core's error ``message`` with the argument it starts with named as in ``names``.

    As :func:`~...core.validation.renamed`, and an item of a list argument
    too ("movie[1] contains NaN" when ``names`` has "movie[1]").
    """
    item = re.match(r"\w+\[\d+\]", message)
    if item is not None and item.group() in names:
        return names[item.group()] + message[item.end():]
    return renamed(message, names)


@contextmanager
def core_warnings(show: bool = False):
    """Run core code with its RuntimeWarnings silenced, or shown as napari warning notifications.

    Silenced (the default) where the result carries them (its ``warnings``,
    shown by :meth:`EstimatorWidget.show`); with ``show``, every warning
    caught in the block is notified once, after it (e.g. a writer's "pixel
    size not stored").
    """
    with warnings.catch_warnings(record=show) as caught:
        warnings.simplefilter("always" if show else "ignore", RuntimeWarning)
        yield
    for note in dict.fromkeys(str(warning.message) for warning in caught or ()):
        show_warning(note)


class ResultsTable(QTableWidget):
    """A table of results, a row per thing (channel, ROI): no row numbers, cells wrapping, the last column stretched.

    Parameters
    ----------
    columns : sequence of str
        Column headers (a line break makes a narrower column).
    minimum_height : int
        Pixels.
    tips : sequence of str, optional
        Per column, the header's tooltip (e.g. the unit a short header leaves out).
    """

    def __init__(self, columns, minimum_height: int, tips=()):
        super().__init__(0, len(columns))
        self.verticalHeader().setVisible(False)
        self.setMinimumHeight(minimum_height)
        self.setWordWrap(True)
        self.set_columns(columns, tips)

    def set_columns(self, columns, tips=()) -> None:
        """Show the columns ``columns`` (headers), with the header tooltips ``tips``.

        Every column is as wide as its header until rows fill it; the last fills the width left, and is no wider
        than its header where nothing is left (Qt keeps a stretched column at least as wide as it was when it began
        to stretch: 100 pixels by default).
        """
        header = self.horizontalHeader()
        header.setStretchLastSection(False)
        self.setColumnCount(len(columns))
        self.setHorizontalHeaderLabels(list(columns))
        for column, tip in enumerate(tips):
            self.horizontalHeaderItem(column).setToolTip(tip)
        for column in range(len(columns)):
            header.resizeSection(column, header.sectionSizeHint(column))
        header.setStretchLastSection(True)

    @property
    def columns(self) -> list[str]:
        """The column headers."""
        return [self.horizontalHeaderItem(column).text() for column in range(self.columnCount())]

    def fill(self, rows, tips=None, colors=None) -> None:
        """Show ``rows``; the columns but the last fit their text, the rows their wrapped text.

        Parameters
        ----------
        rows : sequence of sequence of str
            Per row, a text per column.
        tips : sequence of sequence of str, optional
            Per row, each cell's tooltip (default: its text).
        colors : sequence of str, optional
            Per row, the hex colour of its first cell's text.
        """
        self.setRowCount(len(rows))
        for row, texts in enumerate(rows):
            for column, (text, tip) in enumerate(zip(texts, texts if tips is None else tips[row])):
                cell = QTableWidgetItem(text)
                cell.setToolTip(tip)
                self.setItem(row, column, cell)
            if colors is not None:
                self.item(row, 0).setForeground(QColor(colors[row]))
        for column in range(self.columnCount() - 1):
            self.resizeColumnToContents(column)
        self.resizeRowsToContents()
