"""napari readers: the images :func:`..io.read_image` reads (but .npy): MRC, TIFF and OME-TIFF, the electron
microscopy formats (.dm3 .dm4 .emd .ser .hspy), ND2, CZI, LIF, and .zarr folders (OME-Zarr images, zarr arrays,
opened lazily), with their pixel size as the layer scale; and localisation tables
(:func:`~..core.localization.read_localizations`: ThunderSTORM, rapidSTORM, Picasso, SMAP) as Points layers."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import io
from ..core.localization import is_localization_table, read_localizations, recognised_columns
from ..units import convert

__all__ = ["get_localization_reader", "get_reader", "read_layers", "read_localization_layers"]

#: The axes (tifffile's letters) that carry the file's length unit; others (channel, time...) are in pixels.
_SPATIAL = "ZYX"
#: What this reader opens: every suffix of :func:`..io.read_image` but .npy (napari reads it itself).
SUFFIXES = tuple(suffix for suffix in io.IMAGE_SUFFIXES if suffix != ".npy")


def get_reader(path):
    """Return :func:`read_layers` when every path has one of :data:`SUFFIXES`, else None."""
    paths = [path] if isinstance(path, (str, Path)) else list(path)
    if paths and all(_name(p).lower().endswith(SUFFIXES) for p in paths):
        return read_layers
    return None


def _name(path) -> str:
    """``path`` as text without a trailing separator (napari passes folders so)."""
    return str(path).rstrip("/\\")


def read_layers(path) -> list[tuple]:
    """Read files as image layers with their pixel size as scale.

    The MRC voxel size is in Å; the others' calibration in its own unit
    (:func:`..io.read_image`). When the unit is known the layer's ``units``
    name it on the spatial axes (Z, Y, X; "pixel" on a channel or time
    axis). A ``.zarr`` folder is opened lazily (a dask array,
    :func:`..io.lazy_image`).

    Returns
    -------
    list of (data, kwargs, "image")
        ``kwargs`` has the name (the file name without its suffix and
        ".ome"), the scale (the pixel size per axis, or 1 when the file has
        none), ``rgb`` (for TIFF colour samples), the units when known, and
        metadata with ``pixel_size``, ``unit`` and ``source``.

    Raises
    ------
    ValueError
        For a corrupt, truncated or unreadable file, naming it.
    """
    paths = [path] if isinstance(path, (str, Path)) else list(path)
    return [_layer(io.lazy_image(item) if _name(item).lower().endswith(io.ZARR_SUFFIX) else io.read_image(item),
                   item) for item in paths]


def _layer(image: io.LoadedImage, path) -> tuple:
    """One layer data tuple: RGB samples (a last "S" axis) are colours, not an axis with a scale."""
    axes, sizes = image.axes, image.pixel_size or (1.0,) * image.data.ndim
    rgb = axes.endswith("S")
    if rgb:
        axes, sizes = axes[:-1], sizes[:-1]
    metadata = {"pixel_size": tuple(sizes), "unit": image.unit, "source": str(path)}
    kwargs = {"name": Path(_name(path)).stem.removesuffix(".ome"), "scale": tuple(sizes), "rgb": rgb,
              "metadata": metadata}
    if image.unit:
        kwargs["units"] = tuple(io.LENGTH_NAMES[image.unit] if axis in _SPATIAL else "pixel" for axis in axes)
    return image.data, kwargs, "image"


def get_localization_reader(path):
    """Return :func:`read_localization_layers` when every path is a localisation table the core reads without
    naming its columns (:func:`~..core.localization.is_localization_table`), else None: other CSV and text
    files are left to other readers."""
    paths = [path] if isinstance(path, (str, Path)) else list(path)
    if paths and all(is_localization_table(p) for p in paths):
        return read_localization_layers
    return None


def read_localization_layers(path) -> list[tuple]:
    """Read localisation tables as 2-D Points layers, as the "Localisation FRC" widget reads them.

    Returns
    -------
    list of (data, kwargs, "points")
        ``data`` is (y, x) in the table's unit (nm for ThunderSTORM, rapidSTORM, Picasso with its camera pixel,
        SMAP); ``kwargs`` has the name (the file name without its suffix), the frame and the precision as
        ``features`` under the table's column names (``frame``, ``uncertainty [nm]``, ...; a precision keeps
        the unit its name states), the units when known, and metadata with ``unit`` and ``source``.

    Raises
    ------
    ValueError
        For a table the core cannot read (naming it), e.g. Picasso without its camera pixel.
    """
    paths = [path] if isinstance(path, (str, Path)) else list(path)
    return [_points(read_localizations(item), item) for item in paths]


def _points(locs, path) -> tuple:
    """One Points layer data tuple of ``locs`` read from ``path``."""
    features = {} if locs.frame is None else {locs.columns["frame"]: locs.frame}
    if locs.precision is not None:
        features.update([_named_precision(locs)])
    kwargs = {"name": Path(_name(path)).stem, "features": features,
              "metadata": {"unit": locs.unit, "source": str(path)}}
    if locs.unit:
        kwargs["units"] = (io.LENGTH_NAMES[locs.unit],) * 2
    return np.column_stack([locs.y, locs.x]), kwargs, "points"


def _named_precision(locs) -> tuple:
    """The precision under its column's name, in the unit that name states (the positions' when it states
    none): the core converted it to the positions' unit."""
    name = locs.columns["precision"]
    stated = recognised_columns([name]).get("precision", (name, ""))[1]
    if stated and locs.unit and stated != locs.unit:
        return name, convert(locs.precision, locs.unit, stated)
    return name, locs.precision
