"""napari reader for the files :func:`..io.read_image` reads (but .npy): MRC, TIFF and OME-TIFF, the electron
microscopy formats (.dm3 .dm4 .emd .ser .hspy), ND2, CZI, LIF, and .zarr folders (OME-Zarr images, zarr arrays,
opened lazily): layer scale from the pixel size."""

from __future__ import annotations

from pathlib import Path

from .. import io

__all__ = ["get_reader", "read_layers"]

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
