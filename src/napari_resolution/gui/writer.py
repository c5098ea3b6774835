"""napari writer: an image layer to MRC or TIFF with its pixel size (the layer's scale, in its unit)."""

from __future__ import annotations

from .. import io

__all__ = ["write_image_layer"]

#: napari's unit of an uncalibrated axis.
_NO_UNITS = ("pixel", "dimensionless", "")


def write_image_layer(path: str, data, meta: dict) -> list[str]:
    """Write one image layer, in the format its extension names (see :func:`napari_resolution.io.write_image`).

    The pixel size is the layer's scale; its unit the layer's ``units`` (X
    axis) when they are a length, else ``metadata["unit"]`` (the samples and
    the widgets' inputs carry it there), else unknown. MRC stores it in Å
    (converted from nm, µm...; an unknown unit is taken as Å), TIFF as
    ImageJ resolution tags, spacing and unit.

    Parameters
    ----------
    path : str
        The file to write.
    data : array_like or list of array_like
        The layer's data (level 0 of a multiscale layer is written).
    meta : dict
        The layer's state: ``scale``, ``units``, ``metadata``, ``rgb``, ``multiscale``.

    Returns
    -------
    list of str
        ``[path]``.

    Raises
    ------
    ValueError
        Naming the path: an RGB layer, a layer that is not 2-D or 3-D, an unsupported extension.
    """
    if meta.get("rgb"):
        raise ValueError(f"{path}: an RGB layer cannot be written with a pixel size; convert it to grey first")
    image = data[0] if meta.get("multiscale") else data
    io.write_image(path, image, tuple(meta["scale"]), _unit(meta))
    return [path]


def _unit(meta: dict) -> str:
    """The layer's length unit: its X axis's napari unit, else ``metadata["unit"]``, else ""."""
    units = meta.get("units") or ()
    named = str(units[-1]) if units else ""
    if named not in _NO_UNITS:
        return named
    return str((meta.get("metadata") or {}).get("unit", ""))
