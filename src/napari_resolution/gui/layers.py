"""Bridges between napari layers and the core: pixel sizes, data, result layers.

User layers are only ever read; results go to layers named ``<input> <estimator>``
that are created once and updated in place on later runs. Every layer the plugin
makes carries its kind and source in ``metadata["napari_resolution"]``
(:func:`output_kind`): a re-run finds its layer by that tag, not by name, and
the widgets' pickers offer a plugin output only where it is an input.
"""

from __future__ import annotations

import numpy as np

from ..io import PIXEL_UNIT

__all__ = [
    "KINDS",
    "TAG",
    "EventConnections",
    "MouseDrags",
    "add_or_update_layer",
    "beside",
    "click",
    "clicked_voxel",
    "fill_pixel_size",
    "find_output",
    "format_pixel_size",
    "grey_images",
    "layer_data",
    "layer_pixel_size",
    "output_kind",
    "parse_pixel_size",
    "points_layers",
    "refresh_on_layer_events",
]

#: The metadata key of the plugin's output layers: ``{"kind": ..., "source": name, "source_id": id}``.
TAG = "napari_resolution"
#: Kinds of the plugin's output layers, and what each is, as a sentence names it.
KINDS = {
    "local_resolution_map": "a local-resolution map",
    "local_box": "the outline of an inspected box",
    "local_p_values": "a map of local p-values (from the Local resolution widget)",
    "mask": "a mask (from the Mask widget)",
    "even_reconstruction": "the reconstruction of the even projections (from the Tomography split widget)",
    "odd_reconstruction": "the reconstruction of the odd projections (from the Tomography split widget)",
    "psf": "a PSF (from the Blink PSF widget)",
    "autocorrelation": "an autocorrelation (from the Blink PSF widget)",
    "mtf_edges": "the MTF widget's edge ROIs",
    "mtf_beads": "the MTF widget's beads",
    "fsc_volume": "a 3DFSC volume (from the Directional FSC widget)",
    "resolution_surface": "a resolution surface (from the Directional FSC widget)",
    "localization_image": "rendered localisations (from the Localisation FRC widget)",
}


def layer_pixel_size(layer) -> tuple[tuple[float, ...], str]:
    """Pixel size per axis and its unit for an image layer.

    The pixel size is the layer's ``scale``; where that is napari's default
    (all ones), ``layer.metadata["pixel_size"]`` when a reader (or the user)
    put one there. So a scale changed after the layer was opened wins over
    the metadata the reader wrote. The unit is ``metadata["unit"]``, else the
    layer's ``units`` when napari knows them, else "px" (:data:`~..io.PIXEL_UNIT`)
    when no pixel size is known (all ones: the numbers are in pixels), else "".
    """
    ndim = layer.data.ndim if not getattr(layer, "multiscale", False) else layer.data[0].ndim
    metadata = getattr(layer, "metadata", {}) or {}
    sizes = np.asarray(layer.scale, dtype=float)[-ndim:]
    if "pixel_size" in metadata and np.all(sizes == 1):
        sizes = np.broadcast_to(np.asarray(metadata["pixel_size"], dtype=float), (ndim,))
    unit = metadata.get("unit") or _layer_unit(layer) or (PIXEL_UNIT if np.all(sizes == 1) else "")
    return tuple(float(s) for s in sizes), unit


def _layer_unit(layer) -> str:
    units = getattr(layer, "units", None)
    if not units:
        return ""
    text = str(units[-1])
    return "" if text in ("pixel", "dimensionless", "") else _short_unit(text)


def _short_unit(text: str) -> str:
    return {"angstrom": "Å", "nanometer": "nm", "micrometer": "µm", "millimeter": "mm"}.get(text, text)


def format_pixel_size(sizes) -> str:
    """``"1.06"`` for isotropic sizes, ``"2, 1, 1"`` otherwise."""
    sizes = [float(s) for s in sizes]
    if all(s == sizes[0] for s in sizes):
        return f"{sizes[0]:g}"
    return ", ".join(f"{s:g}" for s in sizes)


def parse_pixel_size(text: str):
    """Parse a pixel size field: one number or comma-separated numbers.

    Raises
    ------
    ValueError
        Naming "pixel size" when the text is not numbers.
    """
    try:
        values = [float(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"pixel size must be a number or comma-separated numbers, got {text!r}") from None
    if not values:
        raise ValueError("pixel size is empty")
    return values[0] if len(values) == 1 else tuple(values)


def grey_images(layers, ndims=(2, 3)) -> list:
    """The grey-level (not RGB) image layers of an accepted dimensionality."""
    from napari.layers import Image

    return [layer for layer in layers if isinstance(layer, Image) and not layer.rgb and layer.ndim in ndims]


def points_layers(layers, ndims=(2, 3)) -> list:
    """The points layers of an accepted dimensionality."""
    from napari.layers import Points

    return [layer for layer in layers if isinstance(layer, Points) and layer.ndim in ndims]


def layer_data(layer):
    """The layer's pixels as they are stored (level 0 of a multiscale), never copied nor loaded.

    A lazy (dask, zarr) layer stays lazy until the core needs its values.
    """
    return layer.data[0] if getattr(layer, "multiscale", False) else layer.data


def output_kind(layer) -> str | None:
    """The kind of a layer the plugin made (a key of :data:`KINDS`), None for any other layer."""
    tag = (getattr(layer, "metadata", None) or {}).get(TAG)
    return tag.get("kind") if isinstance(tag, dict) else None


def find_output(viewer, kind: str, source):
    """The layer of ``kind`` the plugin made from ``source`` (found by its tag, whatever its name), else None."""
    source_id = str(source.unique_id)
    for layer in viewer.layers:
        tag = layer.metadata.get(TAG)
        if isinstance(tag, dict) and tag.get("kind") == kind and tag.get("source_id") == source_id:
            return layer
    return None


def add_or_update_layer(viewer, data, *, source, estimator: str, kind: str, metadata: dict | None = None,
                        layer_type: str = "image", scale=None, translate=None, into_view: bool = False, **kwargs):
    """Show ``data`` as the layer ``"<source name> <estimator>"``, updated in place on later runs.

    The layer is tagged ``metadata["napari_resolution"] = {"kind": kind, "source": ..., "source_id": ...}``;
    a later run updates the layer of that kind made from the same source
    (:func:`find_output`), renamed after the source if the source was renamed,
    else a layer of the name made by the plugin with that kind; a user's layer
    of the name is never written into. The layer takes ``scale`` and
    ``translate`` when given, else the source layer's, and the source's units
    of its axes (so napari does not warn of inconsistent units); ``metadata``
    (the parameters of the run) goes to ``layer.metadata``. A found layer of
    the same type and dimensionality gets the new data, placement and
    metadata; display keywords (``kwargs``) apply when the layer is created.
    The source layer is only read.

    Parameters
    ----------
    viewer : napari.Viewer
    data : array or list
        What ``viewer.add_<layer_type>`` takes (e.g. ``[(corners, "rectangle")]`` for shapes).
    source : napari.layers.Layer
        The input layer the result belongs to.
    estimator : str
        End of the layer's name, e.g. "local resolution".
    kind : str
        What the layer is, a key of :data:`KINDS` (e.g. "local_resolution_map").
    metadata : dict, optional
        The run's parameters.
    layer_type : str
        "image", "shapes", "points"...
    scale, translate : sequence of float, optional
        Placement in world units, one per axis of the layer (e.g. :func:`beside` the source).
    into_view : bool
        Reset the view when the layer is created (one placed beside the source may lie off screen).
    **kwargs
        Display keywords of ``viewer.add_<layer_type>`` (colormap, opacity...).

    Returns
    -------
    napari.layers.Layer
    """
    import napari.layers

    name = f"{source.name} {estimator}"
    placement = {"scale": tuple(source.scale if scale is None else scale),
                 "translate": tuple(source.translate if translate is None else translate)}
    if getattr(source, "units", None) is not None:  # napari >= 0.5.5
        units = tuple(source.units)[-len(placement["scale"]):]  # extra leading axes (e.g. bands): the first's unit
        placement["units"] = units[:1] * (len(placement["scale"]) - len(units)) + units
    metadata = {**(metadata or {}), TAG: {"kind": kind, "source": source.name, "source_id": str(source.unique_id)}}
    layer = find_output(viewer, kind, source)
    if layer is None and name in viewer.layers and output_kind(viewer.layers[name]) == kind:
        layer = viewer.layers[name]
    if isinstance(layer, getattr(napari.layers, layer_type.capitalize())) and layer.ndim == len(placement["scale"]):
        layer.data = data
        for attribute, value in placement.items():
            setattr(layer, attribute, value)
        layer.metadata = metadata
        if layer.name != name:
            layer.name = name
        return layer
    layer = getattr(viewer, f"add_{layer_type}")(data, name=name, metadata=metadata, **placement, **kwargs)
    if into_view:
        viewer.reset_view()
    return layer


def beside(source, offset: float, ndim: int) -> tuple:
    """World translate of a layer of ``ndim`` axes ``offset`` right of ``source``'s right edge, level with its top.

    Parameters
    ----------
    source : napari.layers.Layer
        The input layer.
    offset : float
        Gap between the source's right edge and the layer's origin, world units.
    ndim : int
        Axes of the placed layer (the source's last ``ndim``).

    Returns
    -------
    tuple of float
    """
    top = tuple(float(t) for t in tuple(source.translate)[-ndim:-1])
    edge = float(source.translate[-1]) + layer_data(source).shape[-1] * float(source.scale[-1])
    return (*top, edge + offset)


def fill_pixel_size(layer, pixel_size_field, unit_field=None, axes: int | None = None) -> None:
    """Put the layer's pixel size (of its last ``axes``, default all) and unit into a widget's editable fields;
    nothing for None."""
    if layer is None:
        return
    sizes, unit = layer_pixel_size(layer)
    pixel_size_field.value = format_pixel_size(sizes[-axes:] if axes else sizes)
    if unit_field is not None:
        unit_field.value = unit


class EventConnections:
    """The viewer events a widget listens to, all disconnected when the widget goes.

    ``owner`` is a QWidget: its ``destroyed`` signal disconnects everything,
    so a closed dock widget is never called by the viewer again. The
    disconnecting closure holds the list of connections, not the widget.
    """

    def __init__(self, owner):
        self._connections: list = []
        owner.destroyed.connect(_disconnect_all_later(self._connections))

    def connect(self, emitter, callback) -> None:
        """Connect ``callback`` to the napari event ``emitter`` and remember it."""
        emitter.connect(callback)
        self._connections.append((emitter, callback))

    def disconnect_all(self) -> None:
        """Disconnect every remembered callback."""
        _disconnect(self._connections)


def _disconnect(connections: list) -> None:
    while connections:
        emitter, callback = connections.pop()
        try:
            emitter.disconnect(callback)
        except (RuntimeError, TypeError, ValueError):  # the viewer went first
            pass


def _disconnect_all_later(connections: list):
    return lambda *_: _disconnect(connections)


def refresh_on_layer_events(connections: EventConnections, viewer, callback) -> None:
    """Call ``callback`` whenever layers are added, removed, moved or renamed."""
    events = viewer.layers.events
    for event in (events.inserted, events.removed, events.moved, events.changed):
        connections.connect(event, callback)


class MouseDrags:
    """A layer's mouse-drag callbacks as an emitter: :class:`EventConnections` removes the callback."""

    def __init__(self, layer):
        self.layer = layer

    def connect(self, callback) -> None:
        self.layer.mouse_drag_callbacks.append(callback)

    def disconnect(self, callback) -> None:
        self.layer.mouse_drag_callbacks.remove(callback)


def click(event, position, act):
    """The rest of a napari mouse-drag callback after the press: ``act(position)`` when the button is released
    without a move (a click, not a pan), and ``position`` is not None.

    Use it as ``yield from click(event, position, act)`` with ``position`` read at the press.
    """
    dragged = False
    yield
    while event.type == "mouse_move":
        dragged = True
        yield
    if not dragged and position is not None:
        act(position)


def clicked_voxel(layer, event, values):
    """The clicked point in ``layer``'s data coordinates (None outside its data).

    In a 3-D view: the first voxel along the line of sight where ``values``
    (the layer's data, or what is shown of it) is finite, else the middle of
    the line through the data.

    Parameters
    ----------
    layer : napari.layers.Layer
    event : napari mouse event
        Its ``position`` (world), ``view_direction`` and ``dims_displayed``.
    values : array
        The layer's data (finite where there is something to click).

    Returns
    -------
    tuple of float or None
    """
    displayed = getattr(event, "dims_displayed", None)
    shape = np.asarray(values.shape)
    if displayed is not None and len(displayed) == 3:
        start, end = layer.get_ray_intersections(event.position, event.view_direction, displayed, world=True)
        if start is None:
            return None
        points = np.linspace(start, end, int(np.linalg.norm(np.subtract(end, start))) + 2)
        pixels = np.clip(np.round(points).astype(int), 0, shape - 1)
        finite = np.flatnonzero(np.isfinite(values[tuple(pixels.T)]))
        return tuple(points[finite[0]] if finite.size else points[len(points) // 2])
    position = np.asarray(layer.world_to_data(event.position), dtype=float)[-len(shape):]
    return tuple(position) if np.all((position >= -0.5) & (position < shape - 0.5)) else None
