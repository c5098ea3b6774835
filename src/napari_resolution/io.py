"""Read images with their pixel size (MRC, TIFF, NPY) and write results (JSON, CSV).

Qt-free: used by the CLI, the napari reader and scripts.
"""

from __future__ import annotations

import csv
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["LoadedImage", "read_image", "write_csv", "write_json", "write_mrc"]

MRC_SUFFIXES = (".mrc", ".mrcs", ".map", ".rec")
TIFF_SUFFIXES = (".tif", ".tiff")


@dataclass(frozen=True)
class LoadedImage:
    """An image read from disk.

    Attributes
    ----------
    data : ndarray
        The pixel values, ``(Y, X)`` or ``(Z, Y, X)``.
    pixel_size : tuple of float or None
        Per-axis pixel size in ``unit`` from the file header, None if unknown.
    unit : str
        Unit of ``pixel_size`` ("Å" for MRC, "" if unknown).
    """

    data: np.ndarray
    pixel_size: tuple | None
    unit: str


def read_image(path) -> LoadedImage:
    """Read an image or volume from ``.mrc/.mrcs/.map/.rec``, ``.tif/.tiff`` or ``.npy``.

    Raises
    ------
    ValueError
        Missing, unreadable, corrupt or unsupported file (message names the path).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in MRC_SUFFIXES:
            return _read_mrc(path)
        if suffix in TIFF_SUFFIXES:
            import tifffile

            return LoadedImage(np.asarray(tifffile.imread(path)), None, "")
        if suffix == ".npy":
            return LoadedImage(np.load(path, allow_pickle=False), None, "")
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    except Exception as err:  # corrupt files raise many types across readers
        raise ValueError(f"{path}: cannot read file ({type(err).__name__}: {err})") from None
    supported = ", ".join(MRC_SUFFIXES + TIFF_SUFFIXES + (".npy",))
    raise ValueError(f"{path}: unsupported file type {suffix!r} (supported: {supported})")


def _read_mrc(path: Path) -> LoadedImage:
    import mrcfile

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with mrcfile.open(path, mode="r", permissive=True) as mrc:
            if mrc.data is None:
                raise ValueError("corrupt or truncated MRC file (no data block)")
            data = np.array(mrc.data)
            voxel = mrc.voxel_size
            sizes = (float(voxel.z), float(voxel.y), float(voxel.x))
    sizes = sizes[-data.ndim:]
    known = all(s > 0 for s in sizes)
    return LoadedImage(data, sizes if known else None, "Å" if known else "")


def write_mrc(path, data: np.ndarray, pixel_size=1.0) -> None:
    """Write ``data`` (float32) to an MRC file with voxel size ``pixel_size`` (Å, scalar or per axis)."""
    import mrcfile

    data = np.asarray(data, dtype=np.float32)
    sizes = np.broadcast_to(np.asarray(pixel_size, dtype=float), (data.ndim,))
    with mrcfile.new(path, overwrite=True) as mrc:
        mrc.set_data(data)
        xyz = list(sizes[::-1]) + [1.0] * (3 - data.ndim)
        mrc.voxel_size = tuple(xyz)


def write_json(path, payload: dict) -> None:
    """Write ``payload`` as indented JSON; ``path`` "-" prints to stdout."""
    text = json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False)
    if str(path) == "-":
        print(text)
    else:
        Path(path).write_text(text + "\n", encoding="utf-8")


def write_csv(path, columns: dict) -> None:
    """Write equal-length 1-D ``columns`` (name -> values) as CSV with a header row."""
    names = list(columns)
    rows = zip(*(np.asarray(columns[n]).tolist() for n in names))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        writer.writerows(rows)
