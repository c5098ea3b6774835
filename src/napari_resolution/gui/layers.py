"""Bridges between napari layers and the core: pixel sizes, data, result layers.

User layers are only ever read; results go to layers named ``<input> <estimator>``
that are created once and updated in place on later runs.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "EventConnections",
    "add_or_update_layer",
    "beside",
    "fill_pixel_size",
    "format_pixel_size",
    "grey_images",
    "layer_data",
    "layer_pixel_size",
    "parse_pixel_size",
    "refresh_on_layer_events",
]


def layer_pixel_size(layer) -> tuple[tuple[float, ...], str]:
    """Pixel size per axis and its unit for an image layer.

    Taken from ``layer.metadata["pixel_size"]`` / ``["unit"]`` when the reader
    (or the user) put them there, else from ``layer.scale`` (unit from the
    layer's ``units`` when napari knows them, else "").
    """
    ndim = layer.data.ndim if not getattr(layer, "multiscale", False) else layer.data[0].ndim
    metadata = getattr(layer, "metadata", {}) or {}
    if "pixel_size" in metadata:
        sizes = np.broadcast_to(np.asarray(metadata["pixel_size"], dtype=float), (ndim,))
    else:
        sizes = np.asarray(layer.scale, dtype=float)[-ndim:]
    unit = metadata.get("unit") or _layer_unit(layer)
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


def layer_data(layer):
    """The layer's pixels as they are stored (level 0 of a multiscale), never copied nor loaded.

    A lazy (dask, zarr) layer stays lazy until the core needs its values.
    """
    return layer.data[0] if getattr(layer, "multiscale", False) else layer.data


def add_or_update_layer(viewer, data, *, source, estimator: str, metadata: dict | None = None,
                        layer_type: str = "image", scale=None, translate=None, into_view: bool = False, **kwargs):
    """Show ``data`` as the layer ``"<source name> <estimator>"``, updated in place on later runs.

    The layer takes ``scale`` and ``translate`` when given, else the source
    layer's, and the source's units of its axes (so napari does not warn of
    inconsistent units); ``metadata`` (the parameters of the run) goes to
    ``layer.metadata``. A layer of that name, type and dimensionality gets
    the new data, placement and metadata; display keywords (``kwargs``) apply
    when the layer is created. The source layer is only read.

    Parameters
    ----------
    viewer : napari.Viewer
    data : array or list
        What ``viewer.add_<layer_type>`` takes (e.g. ``[(corners, "rectangle")]`` for shapes).
    source : napari.layers.Layer
        The input layer the result belongs to.
    estimator : str
        End of the layer's name, e.g. "local resolution".
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
    layer = viewer.layers[name] if name in viewer.layers else None
    if isinstance(layer, getattr(napari.layers, layer_type.capitalize())) and layer.ndim == len(placement["scale"]):
        layer.data = data
        for attribute, value in placement.items():
            setattr(layer, attribute, value)
        layer.metadata = dict(metadata or {})
        return layer
    layer = getattr(viewer, f"add_{layer_type}")(data, name=name, metadata=dict(metadata or {}), **placement,
                                                 **kwargs)
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
