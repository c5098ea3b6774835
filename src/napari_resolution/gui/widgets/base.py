"""The estimator widget base: layer pickers, pixel size, runner, result line, panels, clean-up.

A dock widget for an estimator is a subclass that declares

* :attr:`~EstimatorWidget.layer_inputs`: the layers it reads (:class:`LayerInput`);
* :meth:`~EstimatorWidget.build_options`: its own input widgets;
* :meth:`~EstimatorWidget.parameters`: the inputs as the core function's keywords;
* :meth:`~EstimatorWidget.compute`: the call into the core (runs in a worker thread);

and, when the default is not enough, :meth:`~EstimatorWidget.show` for the
result. Everything else is here: pickers that follow the layer list and pick
a usable layer whenever none is picked, the pixel size and unit read from the
first layer, a "Use GPU" option mapped to the core's ``device``, the Run
button, the runner (progress, Cancel, errors as notifications), the result
line, the curve panels, and disconnecting every viewer event when the widget
is closed, taken out of its dock (napari's close button) or destroyed.
"""

from __future__ import annotations

from dataclasses import dataclass

from magicgui.widgets import CheckBox, ComboBox, Container, LineEdit, PushButton
from napari.utils.notifications import show_warning
from qtpy.QtCore import QEvent
from qtpy.QtWidgets import QVBoxLayout, QWidget

from ...core.backend import gpu_available
from ..layers import EventConnections, fill_pixel_size, grey_images, parse_pixel_size, refresh_on_layer_events
from ..plots import CurvePanel, ResultLine
from ..runner import Runner, checked

__all__ = ["EstimatorWidget", "LayerInput"]


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
    """

    attribute: str
    label: str
    ndims: tuple = (2, 3)
    optional: bool = False


class EstimatorWidget(QWidget):
    """Base of every estimator dock widget (see the module docstring for what a subclass declares)."""

    layer_inputs: tuple = ()
    #: Labels of the curve panels, top to bottom: (y label, x label or None for spatial frequency).
    panels: tuple = (("", None),)
    run_text = "Run"
    supports_gpu = False

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.result = None
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
        self.runner = Runner()
        self.result_line = ResultLine()
        self.curve_panels = [CurvePanel(napari_viewer, y_label=y, **({"x_label": x} if x else {}))
                             for y, x in self.panels]
        self._lay_out()
        self.runner.set_controls([self.inputs.native])
        self.run_button.changed.connect(self.run)
        if self.layer_inputs:
            self.pickers()[0].changed.connect(self._first_layer_changed)
        refresh_on_layer_events(self.connections, napari_viewer, self.reset_choices)
        self.reset_choices()

    def _lay_out(self) -> None:
        layout = QVBoxLayout(self)
        for widget in (self.inputs.native, self.runner, self.result_line, *self.curve_panels):
            layout.addWidget(widget)
        layout.addStretch(1)

    def event(self, event) -> bool:
        """Disconnect from the viewer when taken out of a dock (napari closes a dock widget that way)."""
        if event.type() == QEvent.ParentChange:
            if self._docked and self.parent() is None:
                self.disconnect_viewer()
            self._docked = self.parent() is not None
        return super().event(event)

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

    def title(self) -> str:
        """Name of a run (legend of overlaid runs): the picked layers."""
        return " vs ".join(picker.value.name for picker in self.pickers()[:2] if picker.value is not None)

    # --------------------------------------------------------------- layers
    def pickers(self) -> list:
        """The layer pickers, in the order of :attr:`layer_inputs`."""
        return [getattr(self, spec.attribute) for spec in self.layer_inputs]

    def usable_layers(self, spec: LayerInput) -> list:
        """Layers a picker offers: grey-level images of an accepted dimensionality."""
        return grey_images(self.viewer.layers, spec.ndims)

    def _choices_for(self, spec: LayerInput):
        return lambda widget=None: [(layer.name, layer) for layer in self.usable_layers(spec)]

    def reset_choices(self, event=None) -> None:
        """Refresh the pickers (layers came or went) and fill every empty required one."""
        self.inputs.reset_choices()
        taken = [picker.value for picker in self.pickers() if picker.value is not None]
        for spec, picker in zip(self.layer_inputs, self.pickers()):
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
        """The layer picked in ``attribute``; ValueError naming the picker when it is empty."""
        layer = getattr(self, attribute).value
        if layer is None:
            raise ValueError(f"choose a layer for {getattr(self, attribute).label}")
        return layer

    def pixel_size_value(self):
        """The pixel size field parsed (one number or one per axis)."""
        return parse_pixel_size(self.pixel_size.value)

    def device(self):
        """The core's ``device`` for the "Use GPU" option: "gpu" or None."""
        return "gpu" if self.use_gpu.value and self.use_gpu.enabled and self.supports_gpu else None

    # ------------------------------------------------------------------ run
    def run(self, _=None) -> None:
        """Start the computation in a worker thread (bad input becomes an error notification)."""
        parameters = checked(self.parameters)
        if parameters is None:
            return
        title = self.title()
        self.runner.start(lambda progress: self.compute(parameters, progress),
                          lambda result: self.show(result, title))

    def show(self, result, title: str) -> None:
        """Show a result: its summary line, its plots in the panels, its warnings as notifications."""
        self.result = result
        self._title = title
        self.result_line.setText(result.summary(self.unit.value))
        self.draw(result, title)
        for note in result.warnings:
            show_warning(note)

    def draw(self, result, title: str, *, replace: bool = False) -> None:
        """Draw ``result.plots`` into the panels (the latest run replaced when ``replace``)."""
        plots = result.plots(self.unit.value, **self.plot_options())
        for panel, plot in zip(self.curve_panels, plots):
            if replace:
                panel.replace_latest(plot.titled(title))
            else:
                panel.show_run(plot.titled(title))

    def redraw(self, _=None) -> None:
        """Draw the current result again (a display option changed)."""
        if self.result is not None and self.panel is not None and self.panel.runs:
            self.draw(self.result, self._title, replace=True)
