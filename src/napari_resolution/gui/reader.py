"""napari reader for MRC files (.mrc .mrcs .map .rec): layer scale from the voxel size (Å)."""

from __future__ import annotations

from pathlib import Path

from .. import io

__all__ = ["get_reader", "read_mrc"]


def get_reader(path):
    """Return :func:`read_mrc` when every path is an MRC file, else None."""
    paths = [path] if isinstance(path, (str, Path)) else list(path)
    if paths and all(str(p).lower().endswith(io.MRC_SUFFIXES) for p in paths):
        return read_mrc
    return None


def read_mrc(path) -> list[tuple]:
    """Read MRC files as image layers with their voxel size as scale.

    Returns
    -------
    list of (data, kwargs, "image")
        ``kwargs`` has the name, the scale (Å per pixel, or 1 when the header
        has none) and metadata with ``pixel_size``, ``unit`` and ``source``.

    Raises
    ------
    ValueError
        For a corrupt, truncated or unreadable file, naming it.
    """
    paths = [path] if isinstance(path, (str, Path)) else list(path)
    layers = []
    for item in paths:
        image = io.read_image(item)
        sizes = image.pixel_size or (1.0,) * image.data.ndim
        metadata = {"pixel_size": sizes, "unit": image.unit, "source": str(item)}
        kwargs = {"name": Path(item).stem, "scale": sizes, "metadata": metadata}
        if image.unit == "Å":
            kwargs["units"] = ("angstrom",) * image.data.ndim
        layers.append((image.data, kwargs, "image"))
    return layers
