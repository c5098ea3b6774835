"""Dock widget "Localisation FRC": the Fourier ring correlation of the localisations of a Points layer.

The points' positions are their last two coordinates (y, x) times "Scale"
(the layer's scale, with its unit), so the result is in that unit. The frame
of each localisation is the first coordinate of a 3-D (frame, y, x) layer
when it holds whole numbers (else, a z say, a warning says it is not taken),
else the layer's frame feature; the localisation precision is the
"Precision" field, else the layer's precision feature (the names of
:func:`~napari_resolution.core.localization.recognised_columns`: ``frame``,
``uncertainty [nm]``, ``precision``, ...; a precision feature whose name
states a length unit is converted to the widget's unit, one whose name
states none is in the points' coordinates and scaled as they are). A run
splits the localisations in two halves (time blocks when the frames are
known, else at random), renders and correlates them
(:func:`~napari_resolution.core.localization.localization_frc`), and shows
the FRC curve (with its confidence band for "95 % interval"), the result line
and, on request, every localisation rendered at the rendering pixel as an
image layer ``<points> rendered`` laid over the points. The rendering pixel
defaults to half the median precision; the field shows that default while
it is empty.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, LineEdit, SpinBox
from napari.utils.notifications import show_warning

from ...core.localization import (
    DEFAULT_BLOCKS,
    MIN_LOCALIZATIONS,
    default_pixel_size,
    localization_frc,
    recognised_columns,
    rendered_image,
)
from ...io import PIXEL_UNIT
from ...units import convert, short_unit
from ..layers import fill_pixel_size
from .base import EstimatorWidget, LayerInput
from .fourier import CONFIDENCE

__all__ = ["LocalizationFRCWidget", "Outcome", "layer_precision", "localization_table"]

#: The kind (:data:`~..layers.KINDS`) and the name's end of the rendered image layer.
IMAGE_KIND, IMAGE_NAME = "localization_image", "rendered"
#: What an empty "Precision" field shows.
PRECISION_FROM_LAYER = "from the layer"


class Outcome(NamedTuple):
    """What a run returns: the core's result, the rendered image (None when not asked for) and the (y, x) scale
    the positions were multiplied by."""

    result: object
    image: np.ndarray | None
    scale: tuple


def localization_table(layer, scale, unit: str) -> tuple[np.ndarray, dict]:
    """The localisations of a Points layer as :func:`~napari_resolution.core.localization.localization_frc` reads
    them.

    Parameters
    ----------
    layer : napari.layers.Points
        2-D (y, x) or 3-D (frame, y, x) points; frames and precisions may be features. The first coordinate
        of a 3-D layer is the frame only when it holds whole numbers (:func:`_frame_axis`).
    scale : (float, float)
        Length of one unit of the points' y and x coordinates, in ``unit``.
    unit : str
        The unit of ``scale`` (the widget's "Unit").

    Returns
    -------
    table : ndarray of float64, shape (N, 2 to 4)
        x, y (times ``scale``), then the frame and the precision (:func:`layer_precision`) where known.
    columns : dict
        Role ("x", "y", "frame", "precision") -> column index of ``table``.

    Raises
    ------
    ValueError
        A frame or precision feature that does not hold numbers.
    """
    data = np.asarray(layer.data, dtype=np.float64)
    columns = {"x": data[:, -1] * scale[1], "y": data[:, -2] * scale[0]}
    frame = data[:, 0] if _frame_axis(layer) else _feature(layer, "frame")
    if frame is not None:
        columns["frame"] = frame
    precision = layer_precision(layer, scale, unit)
    if precision is not None:
        columns["precision"] = precision
    return np.column_stack(list(columns.values())), dict(zip(columns, range(len(columns))))


def layer_precision(layer, scale, unit: str) -> np.ndarray | None:
    """The layer's precision feature in ``unit``, shape (N,); None without one.

    Parameters
    ----------
    layer : napari.layers.Points
    scale : (float, float)
        Length of one unit of the points' y and x coordinates, in ``unit``.
    unit : str
        The unit of ``scale``.

    Returns
    -------
    ndarray of float64, shape (N,), or None
        A feature whose name states a length unit ("uncertainty [nm]") converted to ``unit``, or as it is when
        ``unit`` is no length unit (:func:`_precision_note`); one whose name states none is in the points'
        coordinates, times the geometric mean of ``scale``.
    """
    precision = _feature(layer, "precision")
    if precision is None:
        return None
    stated, target = _found(layer, "precision")[1], short_unit(unit)
    if not stated:
        return precision * math.sqrt(scale[0] * scale[1])
    return precision if target is None else convert(precision, stated, target)


def _precision_note(layer, unit: str) -> str | None:
    """The warning for a precision feature whose name states a length unit while ``unit`` is none (it is then
    taken as it is); None otherwise."""
    found = _found(layer, "precision")
    if found is None or not found[1] or short_unit(unit) is not None:
        return None
    name, stated = found
    return (f"layer '{layer.name}': its precision feature '{name}' is in {stated}, and Unit {unit!r} is no length "
            f"unit: the precision is taken in {stated} as it is; set Unit to the unit of Scale")


def _frame_axis(layer) -> bool:
    """Whether the layer's first coordinate is the frame: that of a 3-D layer, when it holds whole numbers only
    (else it is, say, z)."""
    if layer.ndim != 3:
        return False
    first = np.asarray(layer.data[:, 0], dtype=np.float64)
    return bool(np.all(first == np.round(first)))


def _frame_axis_note(layer) -> str | None:
    """Why a 3-D layer's first coordinate is not taken as the frame, and where the frames come from instead;
    None for a 2-D layer or one whose first coordinate is the frame."""
    if layer.ndim != 3 or _frame_axis(layer):
        return None
    instead = "the split is random" if _found(layer, "frame") is None else "its frame feature gives the frames"
    return (f"layer '{layer.name}': its first coordinate holds values that are not whole numbers, so it is not "
            "taken as the frame (the first coordinate of a 3-D Points layer must be the frame number for the "
            f"time-block split); {instead}")


def _found(layer, role: str) -> tuple | None:
    """The layer's feature of ``role`` (a recognised column name): its name and the unit the name states (or
    ""); None without one."""
    return recognised_columns(layer.features.columns).get(role)


def _feature(layer, role: str):
    """The layer's feature of ``role`` (a recognised column name) as float64, shape (N,), or None."""
    found = _found(layer, role)
    if found is None:
        return None
    try:
        return np.asarray(layer.features[found[0]], dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"layer '{layer.name}': its {role} feature '{found[0]}' must hold numbers") from None


def _optional_number(text: str, label: str) -> float | None:
    """A field that may be left empty: None, else its positive number (ValueError naming ``label``)."""
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{label} must be a number, or empty, got {text!r}") from None
    if not value > 0:
        raise ValueError(f"{label} must be positive, got {text!r}")
    return value


class LocalizationFRCWidget(EstimatorWidget):
    """FRC of the localisations of a Points layer split in two halves (time blocks or random), with the
    Q-correction, a confidence interval and the rendered image."""

    layer_inputs = (LayerInput("points", "Points", arguments=("table",), layer_type="points"),)
    panels = (("Fourier ring correlation", None),)
    supports_gpu = True

    def __init__(self, napari_viewer):
        #: What the shown run returned (None before the first result).
        self._outcome: Outcome | None = None
        super().__init__(napari_viewer)
        self.pixel_size.label = "Scale (y, x)"
        self.pixel_size.tooltip = ("the length of one unit of the points' coordinates (the layer's scale): 1 with the "
                                   "unit nm for points in nm; 160 and nm for points in 160 nm camera pixels")
        for field in (self.pixel_size, self.unit, self.precision):
            field.changed.connect(self._show_default_pixel)
        self._split_changed()
        self._show_default_pixel()  # the picked layer's defaults were set as the base picked it

    def build_options(self) -> list:
        """Rendering pixel, precision, split (time blocks or seed), Q-correction, threshold, interval and the
        rendered image."""
        self.render_pixel = LineEdit(label="Render pixel", value="")
        self.render_pixel.tooltip = ("the pixel the halves are rendered at, in the unit above; empty: half the median "
                                     "localisation precision (shown greyed)")
        self.precision = LineEdit(label="Precision", value="")
        self.precision.native.setPlaceholderText(PRECISION_FROM_LAYER)
        self.precision.tooltip = ("localisation precision per axis (standard deviation, in the unit above); empty: "
                                  "the layer's precision feature (e.g. 'precision', 'uncertainty [nm]')")
        self.split = ComboBox(label="Split", choices=["blocks", "random"], value="blocks")
        self.split.tooltip = ("blocks: alternate time blocks of frames (a burst of one emitter stays in one half); "
                              "random: each localisation to either half (reads optimistic when emitters repeat)")
        self.n_blocks = SpinBox(label="Time blocks", value=DEFAULT_BLOCKS, min=2, max=100000)
        self.seed = SpinBox(label="Seed", value=0, min=0, max=2**31 - 1)
        self.correct = CheckBox(text="Correct repeats (Q)", value=False)
        self.correct.tooltip = ("remove the correlation of one emitter's repeated localisations (Nieuwenhuizen's "
                                "Q-correction); needs the precision")
        self.add_threshold_options("0.143")
        self.interval = CheckBox(text=f"{CONFIDENCE:.0%} interval", value=False)
        self.interval.tooltip = ("the range of resolutions the curve's noise allows (shown as [low, high]) and the "
                                 "curve's confidence band")
        self.add_image = CheckBox(text="Add the rendered image", value=False)
        self.add_image.tooltip = (f"every localisation rendered at the rendering pixel, as the image layer "
                                  f"'<points> {IMAGE_NAME}' over the points (large fields take memory)")
        self.split.changed.connect(self._split_changed)
        return [self.render_pixel, self.precision, self.split, self.n_blocks, self.seed, self.correct, self.threshold,
                self.custom, self.interval, self.add_image]

    # ---------------------------------------------------------------- inputs
    def _split_changed(self, _=None) -> None:
        self.n_blocks.visible = self.split.value == "blocks"
        self.seed.visible = self.split.value == "random"

    def layer_changed(self) -> None:
        """A Points layer picked: the scale of its (y, x) axes, the unit its features name (points in nm opened
        from a table), the split its frames allow (a warning when a 3-D layer's first coordinate is no frame)
        and the default rendering pixel (:meth:`layer_rescaled` keeps the unit and the split)."""
        layer = self.points.value
        if layer is not None:
            features = recognised_columns(layer.features.columns)
            units = {unit for _, unit in features.values() if unit}
            if self.unit.value == PIXEL_UNIT and len(units) == 1:
                self.unit.value = units.pop()
            self.split.value = "blocks" if _frame_axis(layer) or "frame" in features else "random"
            note = _frame_axis_note(layer)
            if note is not None:
                show_warning(note)
        self._show_default_pixel()

    def layer_rescaled(self, layer) -> None:
        """The picked layer's scale changed: "Scale" follows it; the unit and the split (the user's, or those set
        when the layer was picked) stay."""
        if layer is self.points.value:
            fill_pixel_size(layer, self.pixel_size)

    def _show_default_pixel(self, _=None) -> None:
        """Show the rendering pixel an empty field stands for (half the median precision), or that it is needed."""
        layer = self.points.value
        try:
            precision = _optional_number(self.precision.value, "precision")
            if precision is None and layer is not None:
                precision = layer_precision(layer, self.scale(), self.unit.value)
        except ValueError:  # being typed, or a feature that is no number: said when the run reads it
            precision = None
        pixel = default_pixel_size(precision)
        unit = f" {self.unit.value}" if self.unit.value else ""
        self.render_pixel.native.setPlaceholderText("needed: no precision known" if pixel is None
                                                    else f"auto: {pixel:.3g}{unit}")

    def scale(self) -> tuple:
        """The "Scale (y, x)" field as (y, x); ValueError unless it is one or two positive numbers."""
        sizes = np.atleast_1d(self.pixel_size_value()).astype(float)
        if sizes.size not in (1, 2) or not np.all(sizes > 0):
            raise ValueError(f"scale must be one positive number or two (y, x), got {self.pixel_size.value!r}")
        return tuple(float(s) for s in np.broadcast_to(sizes, (2,)))

    def current_inputs(self) -> dict:
        """As the base, with an empty rendering pixel shown as "auto" (an empty precision is left out)."""
        inputs = super().current_inputs()
        for field, empty in ((self.render_pixel, "auto"), (self.precision, "none")):
            if inputs.get(field.label) == "":
                inputs[field.label] = empty
        return inputs

    def parameters(self) -> dict:
        """The inputs as keyword arguments of :func:`~napari_resolution.core.localization.localization_frc`, with
        the scale and whether to render the image.

        Raises
        ------
        ValueError
            No Points layer, too few points, a bad scale, precision or rendering pixel, no precision where one is
            needed (the default rendering pixel, the Q-correction).
        """
        layer = self.picked("points")
        scale = self.scale()
        table, columns = localization_table(layer, scale, self.unit.value)
        if len(table) < MIN_LOCALIZATIONS:
            raise ValueError(f"layer '{layer.name}' has {len(table)} point{'s' if len(table) != 1 else ''}: the FRC "
                             f"needs at least {MIN_LOCALIZATIONS} localisations")
        precision = _optional_number(self.precision.value, "precision")
        pixel = _optional_number(self.render_pixel.value, "render pixel")
        if precision is None and "precision" not in columns and (pixel is None or self.correct.value):
            needs = "Correct repeats needs" if self.correct.value else "the default render pixel is half"
            raise ValueError(f"{needs} the localisation precision, and layer '{layer.name}' has none (no precision or "
                             "uncertainty feature): fill in Precision" + ("" if self.correct.value
                                                                           else " or Render pixel"))
        if precision is None and (note := _precision_note(layer, self.unit.value)) is not None:
            show_warning(note)
        threshold = self.threshold_value()
        return {"table": table, "columns": columns, "pixel_size": pixel, "precision": precision,
                "split": self.split.value, "n_blocks": self.n_blocks.value, "seed": self.seed.value,
                "correct_repeats": bool(self.correct.value), "threshold": threshold,
                "confidence": CONFIDENCE if self.interval.value else None, "device": self.device(),
                "render": bool(self.add_image.value), "scale": scale}

    def compute(self, parameters: dict, progress) -> Outcome:
        """The localisation FRC and, when asked for, the rendered image."""
        options = {key: value for key, value in parameters.items() if key not in ("render", "scale")}
        result = localization_frc(**options, progress=progress)
        image = rendered_image(parameters["table"], result, columns=parameters["columns"]) if parameters["render"] \
            else None
        return Outcome(result, image, parameters["scale"])

    # ---------------------------------------------------------------- results
    def show(self, outcome: Outcome, title: str) -> None:
        """Show the result (the base), and the rendered image when there is one."""
        self._outcome = outcome
        super().show(outcome.result, title)

    def show_views(self, result) -> None:
        """The rendered image over the points, when it was asked for."""
        if self._outcome.image is not None:
            self._show_image(self._outcome)

    def _show_image(self, outcome: Outcome) -> None:
        """The rendered image as ``<points> rendered``, each pixel over the points it counts.

        The image's pixel (0, 0) has its corner at the field's origin (y, x, in the scaled unit); the points'
        world coordinates are their coordinates times the layer's scale plus its translate.
        """
        state = self.shown.sources[0]
        parameters = outcome.result.parameters
        pixel = parameters["pixel_size"]
        world = np.asarray(state.scale[-2:], dtype=float) / np.asarray(outcome.scale)  # world units per scaled unit
        origin = np.asarray(parameters["field"]["origin"], dtype=float)
        metadata = {"estimator": "localisation FRC", "unit": self.unit.value, "pixel_size": (pixel, pixel),
                    "field": parameters["field"], "split": parameters["split"],
                    "n_localizations": parameters["n_localizations"]}
        self.show_layer(outcome.image, kind=IMAGE_KIND, estimator=IMAGE_NAME, metadata=metadata,
                        scale=tuple(pixel * world),
                        translate=tuple(np.asarray(state.translate[-2:], dtype=float) + (origin + pixel / 2) * world),
                        colormap="magma", blending="additive")
