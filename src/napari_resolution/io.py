"""Read images with their pixel size, write images (MRC, TIFF, NPY, zarr, OME-Zarr) and results (JSON, CSV).

Read here: MRC (mrcfile), TIFF with ImageJ or OME calibration (tifffile), NPY, zarr arrays; through the field's
libraries (:mod:`.formats`): DigitalMicrograph, EMD, TIA and HyperSpy files (RosettaSciIO), OME-TIFF, ND2, CZI
and LIF (bioio and its plugins), OME-Zarr (ome-zarr). Every pixel size comes in one unit (:mod:`.units`).
Qt-free: used by the CLI, the napari reader and scripts.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import shutil
import struct
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import formats
from .core.results import PIXEL_UNIT, jsonable
from .core.validation import shown
from .formats import half_map_names, half_map_pairs, half_map_partner, star_beside, star_pixel_size
from .units import LENGTH_EXPONENTS, LENGTH_NAMES, common_unit, convert, short_unit

__all__ = ["IMAGE_SUFFIXES", "LENGTH_NAMES", "LoadedImage", "PIXEL_UNIT", "RGB_ADVICE", "grey_image", "half_map_names",
           "half_map_pairs", "half_map_partner", "is_rgb", "lazy_image", "map_image", "mrc_placement", "new_zarr_map",
           "read_image", "star_beside", "star_pixel_size", "wrapped_int16", "write_csv", "write_image", "write_json",
           "write_mrc", "write_npz", "write_tiff", "written_aside", "zarr_written_aside"]

MRC_SUFFIXES = (".mrc", ".mrcs", ".map", ".rec")
ZARR_SUFFIX = ".zarr"
#: An OME-Zarr image's folder name ends so (written with NGFF metadata; read by its metadata whatever its name).
OME_ZARR_SUFFIX = ".ome.zarr"
#: Bytes per value of the MRC data modes (int8, int16, float32, complex int16, complex float32, uint16,
#: float16).
_MRC_MODE_BYTES = {0: 1, 1: 2, 2: 4, 3: 4, 4: 8, 6: 2, 12: 2}
#: Chunk side of the zarr maps :func:`new_zarr_map` makes (64^3 float32: 1 MiB).
ZARR_CHUNK = 64
TIFF_SUFFIXES = (".tif", ".tiff")
#: Pixel sizes a TIFF's resolution tags (pixels per unit, a ratio of 32-bit integers) hold, exclusive.
TIFF_SIZES = (2.0**-32, 2.0**32)

_TIFF_MAGIC = (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")  # classic and BigTIFF, both byte orders
_NPY_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
#: What an RGB image needs before it is measured (the GUI's pickers and the CLI's readers say it).
RGB_ADVICE = "split it into grey channels"
#: Short unit -> how ImageJ writes it in the (ASCII) image description.
_IMAGEJ_UNITS = {"µm": "micron", "Å": "\\u00C5"}


@dataclass(frozen=True)
class LoadedImage:
    """An image read from disk.

    Attributes
    ----------
    data : ndarray
        The pixel values, ``(Y, X)`` or ``(Z, Y, X)``.
    pixel_size : tuple of float or None
        Per-axis pixel size in ``unit`` from the file's header or metadata, in
        the axis order of ``data`` (1.0 for a non-spatial axis such as a TIFF
        channel axis); None if unknown.
    unit : str
        Unit of ``pixel_size``: "Å" for MRC, "µm", "nm" or "Å" for the others (the X axis' unit; metres and
        other lengths converted to the readable one of these); "" if unknown.
    axes : str
        One letter per axis of ``data`` (tifffile's): "YX" or "ZYX" for MRC ("QZYX" for a volume stack),
        e.g. "ZYX", "CYX", "TYX", "QYX" (unknown) or "YXS" (RGB samples) for the others; "" for NPY and zarr
        arrays.
    pixel_size_source : str
        The file the pixel size came from when not this one's metadata (a RELION STAR file beside it); "" else.
    """

    data: np.ndarray
    pixel_size: tuple | None
    unit: str
    axes: str = ""
    pixel_size_source: str = ""


class _BadFile(ValueError):
    """A file the readers recognise as wrong; :func:`read_image` prefixes its path."""


def read_image(path, *, unsigned: bool = False) -> LoadedImage:
    """Read an image or volume from any of :data:`IMAGE_SUFFIXES`.

    ``.mrc/.mrcs/.map/.rec`` (mrcfile), ``.tif/.tiff`` (tifffile), ``.ome.tif/.ome.tiff`` (bioio-ome-tiff),
    ``.npy``, ``.dm3/.dm4/.emd/.ser/.hspy`` (RosettaSciIO), ``.nd2/.czi/.lif`` (bioio's plugins: the
    ``[formats]`` extra), a ``.zarr`` folder (an OME-Zarr image or a zarr array, read whole: see
    :func:`lazy_image`).

    Legacy MRC files without the 'MAP' ID (old FEI, IMOD) are read
    permissively, with a RuntimeWarning. int16 data that looks like unsigned
    counts that wrapped past 32767 (:func:`wrapped_int16`) gets a
    RuntimeWarning naming ``unsigned``.

    Parameters
    ----------
    path : str or Path
        The file; its suffix (any case) chooses the reader.
    unsigned : bool
        Read int16 data as the uint16 it holds (cameras' counts stored in a
        signed type: MRC mode 1 of some acquisition programs).

    Returns
    -------
    LoadedImage
        The data with its pixel size: the MRC voxel size (Å), the ImageJ or
        OME-XML calibration of a TIFF, the axes' calibration of an electron
        microscopy file, a light microscopy file's physical pixel sizes, an
        OME-Zarr image's scale; none for ``.npy``.

    Raises
    ------
    ValueError
        Missing, unreadable, corrupt, truncated or unsupported file, or one whose reader is not installed (the
        message names the path, and the extra to install).
    """
    path = Path(path)
    reader = _reader_of(path)
    if reader is _read_zarr:
        _check_zarr_path(path)
    else:
        _check_path(path)
    try:
        image = reader(path)
    except (_BadFile, formats.UnreadableFile) as err:
        raise ValueError(f"{path}: {err}") from None
    except Exception as err:  # corrupt files raise many types across readers
        raise ValueError(f"{path}: cannot read file ({type(err).__name__}: {err})") from None
    return _signedness(image, path, unsigned)


def is_rgb(image: LoadedImage) -> bool:
    """Whether ``image`` holds colours: RGB(A) samples on its last axis (a TIFF's "S" axis), or a 3-D array whose
    last axis has 3 or 4 values (Y, X, colour: no volume or stack is 3 or 4 pixels wide)."""
    shape = image.data.shape
    return image.axes.endswith("S") or (len(shape) == 3 and shape[-1] in (3, 4) and min(shape[:-1]) > 4)


def grey_image(image: LoadedImage, path) -> LoadedImage:
    """``image`` read from ``path``, or a ValueError naming ``path`` when it holds colours (:func:`is_rgb`): the
    estimators measure grey levels."""
    if is_rgb(image):
        raise ValueError(f"{path}: is RGB (shape {image.data.shape}, colours on the last axis): {RGB_ADVICE} and give "
                         "one, or convert it to grey (Fiji: Image > Color > Split Channels, or Image > Type > 8-bit; "
                         "napari: right-click the layer > Split RGB)")
    return image


def wrapped_int16(data) -> float | None:
    """The fraction of negative values when int16 ``data`` looks like wrapped unsigned counts, else None.

    Unsigned counts above 32767 stored as int16 turn negative: the values then
    sit on both sides of the wrap (near +32767 and below 0) and are far more
    spread out than the same bits read as uint16; or, when every count is
    above 32767, every value is negative. Real signed data (centred on 0) is
    neither. Decided on at most about 10^6 values.
    """
    if np.dtype(getattr(data, "dtype", object)) != np.int16 or data.size == 0:
        return None
    flat = np.asarray(data).reshape(-1)
    sample = np.asarray(flat[::max(1, flat.size // 1_000_000)])
    negative = float((sample < 0).mean())
    if negative < 0.01:
        return None
    if negative == 1.0:
        return negative
    signed_spread, unsigned_spread = float(sample.std()), float(sample.view(np.uint16).std())
    return negative if unsigned_spread < 0.5 * signed_spread else None


def _signedness(image: LoadedImage, path: Path, unsigned: bool) -> LoadedImage:
    """``image`` with int16 data read as uint16 when ``unsigned``; else a warning when it looks wrapped."""
    if np.dtype(image.data.dtype) != np.int16:
        return image
    if unsigned:
        return LoadedImage(image.data.view(np.uint16), image.pixel_size, image.unit, image.axes)
    negative = wrapped_int16(image.data)
    if negative is not None:
        warnings.warn(f"{path}: int16 data with {100 * negative:.0f} % negative values looks like unsigned counts "
                      "that wrapped past 32767; read it as unsigned (unsigned=True, CLI --unsigned)",
                      RuntimeWarning, stacklevel=3)
    return image


def _reader_of(path: Path):
    """The reader of ``path`` by its name: :data:`formats.OME_TIFF_SUFFIXES`, else its suffix (any case)."""
    if path.name.lower().endswith(formats.OME_TIFF_SUFFIXES):
        return _read_ome_tiff
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise ValueError(f"{path}: unsupported file type {path.suffix!r} (supported: {', '.join(IMAGE_SUFFIXES)})")
    return reader


def map_image(path, *, unsigned: bool = False) -> LoadedImage:
    """:func:`read_image`, but memory-mapped (read-only) where the file's layout allows: NPY and uncompressed,
    untiled TIFF. Other files are read whole. For streaming estimators over large movies.
    """
    path = Path(path)
    _check_path(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        with contextlib.suppress(Exception):  # pickled, empty, cut, corrupt: read_image says why
            return _signedness(LoadedImage(np.load(path, mmap_mode="r", allow_pickle=False), None, ""), path,
                               unsigned)
    if suffix in TIFF_SUFFIXES:
        import tifffile

        with contextlib.suppress(Exception):  # compressed, tiled: read whole (corrupt: read_image says why)
            data = tifffile.memmap(path, mode="r")
            with tifffile.TiffFile(path) as tif:
                axes = tif.series[0].axes
                sizes, unit = _tiff_pixel_size(tif, axes, path)
            return _signedness(LoadedImage(data, sizes, unit, axes), path, unsigned)
    return read_image(path, unsigned=unsigned)


def lazy_image(path) -> LoadedImage:
    """The image at ``path`` as a dask array, read chunk by chunk by whichever process computes it.

    A ``.zarr`` folder: an OME-Zarr image (its full resolution, with the
    scale and units of its NGFF metadata) or a zarr array (pixel size and
    unit from its ``pixel_size`` and ``unit`` attributes, as
    :func:`new_zarr_map` writes them); an MRC, NPY or uncompressed TIFF
    file memory-mapped in each process that reads it (the graph holds the
    absolute path, never the data); other files (compressed TIFF, the
    formats of :mod:`.formats`) read whole here, so their data travels with
    the graph. Needs dask.

    Raises
    ------
    ValueError
        As :func:`read_image`, naming the path.
    """
    import dask.array as da

    path = Path(path)
    if path.suffix.lower() == ZARR_SUFFIX:
        _check_zarr_path(path)
        return _zarr_image(path)
    image = _mrc_mapped(path) if path.suffix.lower() in MRC_SUFFIXES else map_image(path)
    if image.data.size == 0:  # a corrupt header's sizes (dask cannot chunk an empty array)
        raise ValueError(f"{path}: holds no data (shape {image.data.shape})")
    if not isinstance(image.data, np.memmap):
        return LoadedImage(da.from_array(image.data), image.pixel_size, image.unit, image.axes)
    order = "F" if image.data.flags.f_contiguous and not image.data.flags.c_contiguous else "C"
    mapped = _MappedFile(path.resolve(), image.data.shape, image.data.dtype, image.data.offset, order)
    return LoadedImage(da.from_array(mapped, asarray=True, name=f"mapped-{path}-{path.stat().st_mtime_ns}"),
                       image.pixel_size, image.unit, image.axes)


def _check_zarr_path(path: Path) -> None:
    """Raise unless ``path`` is a folder (a zarr array or an OME-Zarr image)."""
    if not path.is_dir():
        raise ValueError(f"{path}: no such zarr array or OME-Zarr image")


def _read_zarr(path: Path) -> LoadedImage:
    """A ``.zarr`` folder read whole (:func:`_zarr_image`)."""
    image = _zarr_image(path)
    return LoadedImage(np.asarray(image.data), image.pixel_size, image.unit, image.axes)


def _zarr_image(path: Path) -> LoadedImage:
    """A ``.zarr`` folder as a dask array: an OME-Zarr image (:func:`formats.read_ome_zarr`), else a zarr array
    with the pixel size its attributes hold."""
    import dask.array as da
    import zarr

    if formats.is_ome_zarr(path):
        try:
            return _calibrated(formats.read_ome_zarr(path))
        except formats.UnreadableFile as err:
            raise ValueError(f"{path}: {err}") from None
        except Exception as err:  # ome-zarr raises several types for metadata it cannot follow
            raise ValueError(f"{path}: cannot read OME-Zarr image ({type(err).__name__}: {err})") from None
    try:
        array = zarr.open_array(str(path), mode="r")
    except Exception as err:  # zarr raises several types for a folder that is not an array
        raise ValueError(f"{path}: cannot read zarr array ({type(err).__name__}: {err})") from None
    sizes = array.attrs.get("pixel_size")
    sizes = None if sizes is None else tuple(float(size) for size in sizes)
    return LoadedImage(da.from_zarr(array), sizes, str(array.attrs.get("unit", "")))


def _calibrated(reading: formats.Reading) -> LoadedImage:
    """A library's :class:`formats.Reading` as a LoadedImage, its sizes in one unit (:func:`.units.common_unit`)."""
    sizes, unit = _axis_sizes(common_unit(reading.calibration), reading.axes)
    return LoadedImage(reading.data, sizes, unit, reading.axes)


def _mrc_mapped(path: Path) -> LoadedImage:
    """An MRC file's data memory-mapped (read-only), with its voxel size."""
    _check_path(path)
    try:
        _check_mrc_header(path)
        data, voxel = _mrc_data(path, mapped=True)
    except _BadFile as err:
        raise ValueError(f"{path}: {err}") from None
    except Exception as err:  # corrupt files raise many types, as in read_image
        raise ValueError(f"{path}: cannot read file ({type(err).__name__}: {err})") from None
    return _mrc_image(data, voxel)


class _MappedFile:
    """An array-like over the raw data block of a file, memory-mapped on first read in each process.

    Pickled (sent to dask workers) as its absolute path and layout only (``order``: "C", or "F" for a
    Fortran-ordered NPY file).
    """

    def __init__(self, path: Path, shape: tuple, dtype, offset: int, order: str = "C"):
        self.path, self.shape, self.dtype, self.offset = str(path), tuple(shape), np.dtype(dtype), int(offset)
        self.order, self.ndim = order, len(self.shape)
        self._data = None

    def __getitem__(self, index):
        if self._data is None:
            self._data = np.memmap(self.path, self.dtype, "r", offset=self.offset, shape=self.shape,
                                   order=self.order)
        return np.asarray(self._data[index])

    def __getstate__(self):
        return {**self.__dict__, "_data": None}


def new_zarr_map(path, shape, pixel_size, unit: str, *, ome: bool | None = None):
    """A new float32 zarr array at ``path`` (a ``.zarr`` folder, replaced), chunks of :data:`ZARR_CHUNK`, filled
    with NaN: an OME-Zarr image whose NGFF metadata hold ``pixel_size`` as the scale of its coordinate
    transformations and ``unit`` as its axes' unit (napari and the OME tools read it) when ``ome`` (default: the
    name ends in ``.ome.zarr``), else a zarr array holding ``pixel_size`` (one per axis) and ``unit`` as
    attributes. :func:`lazy_image` reads both back."""
    import zarr

    path = Path(path)
    if path.suffix.lower() != ZARR_SUFFIX:
        raise ValueError(f"{path}: a zarr map's name must end in {ZARR_SUFFIX}")
    sizes = [float(size) for size in np.broadcast_to(np.asarray(pixel_size, float), (len(shape),))]
    if path.name.lower().endswith(OME_ZARR_SUFFIX) if ome is None else ome:
        known = short_unit(unit) if unit not in ("", PIXEL_UNIT) else ""
        return formats.new_ome_zarr(path, shape, sizes, known or "", ZARR_CHUNK)
    array = zarr.open_array(str(path), mode="w", shape=tuple(shape), chunks=(ZARR_CHUNK,) * len(shape),
                            dtype=np.float32, fill_value=np.nan)
    array.attrs.update({"pixel_size": sizes, "unit": unit})
    return array


def _check_path(path: Path) -> None:
    """Raise unless ``path`` is an existing regular file."""
    if not path.exists():
        raise ValueError(f"{path}: no such file")
    if path.is_dir():
        raise ValueError(f"{path}: is a directory")
    if not path.is_file():
        raise ValueError(f"{path}: not a regular file")


def _head(path: Path, size: int) -> bytes:
    """The first ``size`` bytes of ``path`` (fewer if the file is shorter)."""
    with open(path, "rb") as handle:
        return handle.read(size)


def _positive(sizes) -> bool:
    """Whether every size is finite and above zero."""
    return all(math.isfinite(s) and s > 0 for s in sizes)


@contextlib.contextmanager
def zarr_written_aside(path):
    """A hidden folder beside ``path`` (a ``.zarr`` folder) to build a zarr map in; it takes the place of ``path``
    only when the block succeeds, by two renames (the old map goes only once the new one is in place); on failure
    it is removed and an older map at ``path`` stays as it was.

    Yields
    ------
    Path
        The hidden folder, named with the same ``.zarr`` or ``.ome.zarr`` ending as ``path``.
    """
    final = Path(path)
    ending = OME_ZARR_SUFFIX if final.name.lower().endswith(OME_ZARR_SUFFIX) else ZARR_SUFFIX
    stem = final.name[:-len(ending)]
    partial = final.with_name(f".{stem}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}{ending}")
    try:
        yield partial
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if not (final.exists() or final.is_symlink()):
        partial.rename(final)
        return
    old = final.with_name(f".{stem}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}{ending}")
    final.rename(old)
    partial.rename(final)
    if old.is_dir() and not old.is_symlink():
        shutil.rmtree(old)
    else:
        old.unlink()


def _read_mrc(path: Path) -> LoadedImage:
    _check_mrc_header(path)
    return _mrc_image(*_mrc_data(path))


def _mrc_image(data: np.ndarray, voxel: tuple) -> LoadedImage:
    """An MRC file's ``data`` with its ``(Z, Y, X)`` voxel size (Å; None unless all positive)."""
    sizes = ((1.0,) * data.ndim + voxel)[-data.ndim:]  # a volume stack's first axis is not spatial
    known = _positive(sizes)
    return LoadedImage(data, sizes if known else None, "Å" if known else "", "QZYX"[-data.ndim:])


def _check_mrc_header(path: Path) -> None:
    """Raise unless the file at ``path`` starts with a whole MRC header.

    A header without the 'MAP' ID (legacy files: old FEI, IMOD) is accepted,
    with a RuntimeWarning, when its sizes and mode describe the file.
    """
    head = _head(path, 1024)
    legacy = head[208:211] != b"MAP"
    if legacy and not _legacy_mrc_header(head, path.stat().st_size):
        raise _BadFile("not an MRC file (no 'MAP' ID at byte 208, and the header's sizes and mode do not "
                       "describe this file)")
    if len(head) < 1024:
        raise _BadFile(f"truncated MRC file (header cut at {len(head)} of 1024 bytes)")
    if legacy:
        warnings.warn(f"{path}: legacy MRC header without the 'MAP' ID (old FEI or IMOD file): read permissively; "
                      "check the pixel size", RuntimeWarning, stacklevel=4)


def _legacy_mrc_header(head: bytes, size: int) -> bool:
    """Whether ``head`` (no 'MAP' ID) holds sizes, a data mode and an extended header length that fit a file of
    ``size`` bytes, in either byte order."""
    if len(head) < 1024:
        return False
    for order in "<>":
        nx, ny, nz, mode = struct.unpack(f"{order}4i", head[:16])
        extended = struct.unpack(f"{order}i", head[92:96])[0]
        if mode in _MRC_MODE_BYTES and all(0 < n <= 1 << 20 for n in (nx, ny, nz)) and extended >= 0 \
                and 1024 + extended + nx * ny * nz * _MRC_MODE_BYTES[mode] <= size:
            return True
    return False


def _mrc_data(path: Path, mapped: bool = False) -> tuple[np.ndarray, tuple]:
    """The data (read, or memory-mapped read-only) and the ``(Z, Y, X)`` voxel size of an MRC file; mrcfile's
    warnings explain a missing data block."""
    import mrcfile

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with (mrcfile.mmap if mapped else mrcfile.open)(path, mode="r", permissive=True) as mrc:
            if mrc.data is None:
                reasons = "; ".join(str(w.message) for w in caught)
                raise _BadFile(f"truncated or corrupt MRC file ({reasons})")
            voxel, unset = _mrc_voxel(mrc)
            data = np.memmap(path, mrc.data.dtype, "r", offset=mrc.data.offset, shape=mrc.data.shape) if mapped \
                else np.array(mrc.data)
    _warn_unset_voxel(path, unset)
    return data, voxel


def _mrc_voxel(mrc) -> tuple[tuple, bool]:
    """An open MRC file's ``(Z, Y, X)`` voxel size (Å), and whether it is probably unset: exactly 1 Å on a file
    with an extended header (FEI, SerialEM), whose writers leave 1 Å when they know no pixel size."""
    voxel = mrc.voxel_size
    sizes = (float(voxel.z), float(voxel.y), float(voxel.x))
    extended = int(mrc.header.nsymbt) > 0 or bytes(mrc.header.exttyp).startswith(b"FEI")
    return sizes, extended and all(size == 1.0 for size in sizes)


def _warn_unset_voxel(path: Path, unset: bool) -> None:
    if unset:
        warnings.warn(f"{path}: the header's pixel size is exactly 1 Å on a file with an extended (FEI) header: "
                      "probably unset; give the real one (pixel_size, CLI --pixel-size)", RuntimeWarning,
                      stacklevel=4)


def _read_tiff(path: Path) -> LoadedImage:
    import tifffile

    if _head(path, 4) not in _TIFF_MAGIC:
        raise _BadFile("not a TIFF file")
    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        data = np.asarray(series.asarray())
        if data.shape != tuple(series.shape) or data.size == 0:  # tifffile logs undecodable samples, returns none
            raise _BadFile(f"cannot decode the TIFF image data (read shape {data.shape}, expected {series.shape})")
        _check_imagej_images(tif.imagej_metadata, series)
        sizes, unit = _tiff_pixel_size(tif, series.axes, path)
    return LoadedImage(data, sizes, unit, series.axes)


def _read_ome_tiff(path: Path) -> LoadedImage:
    """An OME-TIFF through bioio-ome-tiff; one whose OME-XML bioio refuses (it does not validate) is read as a plain
    TIFF (:func:`_read_tiff`, which says why its pixel size is unknown)."""
    from bioio_base.exceptions import UnsupportedFileFormatError

    try:
        return _calibrated(formats.read_bioio(path))
    except UnsupportedFileFormatError:
        return _read_tiff(path)


def _read_em(path: Path) -> LoadedImage:
    """An electron microscopy file through RosettaSciIO (:func:`formats.read_em`)."""
    return _calibrated(formats.read_em(path))


def _read_bioio(path: Path) -> LoadedImage:
    """An ND2, CZI or LIF file through its bioio plugin (:func:`formats.read_bioio`)."""
    return _calibrated(formats.read_bioio(path))


def _check_imagej_images(metadata: dict | None, series) -> None:
    """Raise when an ImageJ file holds fewer images than its description lists (a cut file)."""
    if not metadata:
        return
    found = math.prod(n for n, axis in zip(series.shape, series.axes) if axis not in "YXS")
    listed = metadata.get("images", 1)
    if found < listed:
        raise _BadFile(f"truncated TIFF file (its ImageJ description lists {listed} images, found {found})")


def _tiff_pixel_size(tif, axes: str, path: Path) -> tuple[tuple | None, str]:
    """Per-axis pixel size and unit from OME-XML or ImageJ metadata; ``(None, "")`` when unknown (a RuntimeWarning
    when the OME-XML does not validate)."""
    if tif.ome_metadata:
        calibration = formats.ome_tiff_calibration(tif.ome_metadata)
        if calibration is None:
            warnings.warn(f"{path}: its OME-XML does not validate against the OME schema: pixel size not read; give "
                          "it (pixel_size, CLI --pixel-size)", RuntimeWarning, stacklevel=4)
        found = common_unit(calibration or {})
    elif tif.imagej_metadata:
        found = _imagej_sizes(tif.imagej_metadata, tif.pages[0].tags)
    else:
        found = None
    return _axis_sizes(found, axes)


def _axis_sizes(found: tuple[dict, str] | None, axes: str) -> tuple[tuple | None, str]:
    """One size per axis of ``axes`` from ``found`` (``({"X":, "Y":, "Z":}, unit)``; 1 for an axis that is not
    spatial), and its unit; ``(None, "")`` when a spatial axis has no size or a size is not positive."""
    if found is None or any(axis in "ZYX" and axis not in found[0] for axis in axes):
        return None, ""
    sizes = tuple(found[0].get(axis, 1.0) for axis in axes)
    return (sizes, found[1]) if _positive(sizes) else (None, "")


def _imagej_sizes(metadata: dict, tags) -> tuple[dict, str] | None:
    """``({"X":, "Y":, "Z":}, unit)`` from the resolution tags, ``spacing`` (default 1, as ImageJ) and ``unit``."""
    unit = short_unit(str(metadata.get("unit", "")))
    x_size = _tag_size(tags, "XResolution")
    if unit is None or x_size is None:
        return None
    y_size = _tag_size(tags, "YResolution") or x_size
    return {"X": x_size, "Y": y_size, "Z": float(metadata.get("spacing", 1.0))}, unit


def _tag_size(tags, name: str) -> float | None:
    """Pixel size from a resolution tag (pixels per unit as a rational); None if absent or zero."""
    tag = tags.get(name)
    if tag is None or not tag.value[0]:
        return None
    return tag.value[1] / tag.value[0]


def _read_npy(path: Path) -> LoadedImage:
    with open(path, "rb") as handle:
        shape, dtype = _npy_header(handle)
        expected = math.prod(shape) * dtype.itemsize
        found = path.stat().st_size - handle.tell()
        if found < expected:
            raise _BadFile(f"truncated .npy file ({found} of {expected} data bytes)")
        handle.seek(0)
        return LoadedImage(np.lib.format.read_array(handle, allow_pickle=False), None, "")


def _npy_header(handle) -> tuple[tuple, np.dtype]:
    """Shape and dtype from a .npy header; object dtypes (pickles) are refused."""
    try:
        version = np.lib.format.read_magic(handle)
    except ValueError:
        raise _BadFile("not a .npy file") from None
    if version not in _NPY_HEADERS:
        raise _BadFile(f"unsupported .npy format version {version}")
    shape, _, dtype = _NPY_HEADERS[version](handle)
    if dtype.hasobject:
        raise _BadFile("pickled (object) .npy files are refused")
    return shape, dtype


_READERS = {**dict.fromkeys(MRC_SUFFIXES, _read_mrc), **dict.fromkeys(TIFF_SUFFIXES, _read_tiff), ".npy": _read_npy,
            **dict.fromkeys(formats.EM_SUFFIXES, _read_em), **dict.fromkeys(formats.BIOIO_PLUGINS, _read_bioio),
            ZARR_SUFFIX: _read_zarr}
#: Every name ending :func:`read_image` reads.
IMAGE_SUFFIXES = (*MRC_SUFFIXES, *TIFF_SUFFIXES, *formats.OME_TIFF_SUFFIXES, ".npy", *formats.EM_SUFFIXES,
                  *formats.BIOIO_PLUGINS, ZARR_SUFFIX)


@contextlib.contextmanager
def written_aside(path):
    """A temporary file beside ``path`` to write; it takes the place of ``path`` only when the block succeeds.

    Every writer of this module (and the PNG writer) writes this way, so an
    interrupt or a failure never leaves a partial or empty file and never
    destroys an older file at ``path``: the temporary file is removed.

    Parameters
    ----------
    path : str or Path
        The file to write.

    Yields
    ------
    Path
        A hidden file in the same folder with the same suffix (writers that pick
        the format from the suffix pick the same one).
    """
    path = Path(path)
    temporary = path.with_name(f".{path.stem}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}{path.suffix}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def write_mrc(path, data: np.ndarray, pixel_size=1.0, placement: dict | None = None) -> None:
    """Write ``data`` as float32 to an MRC file.

    Parameters
    ----------
    path : str or Path
        The file, overwritten if it exists.
    data : array_like
        ``(Y, X)`` or ``(Z, Y, X)``.
    pixel_size : float or sequence of float
        Voxel size in Å, one value or one per axis of ``data``.
    placement : dict, optional
        ``{"origin": (x, y, z) Å, "start": (nxstart, nystart, nzstart)}`` of
        another map (:func:`mrc_placement`), so that viewers (ChimeraX)
        place this one on it.
    """
    import mrcfile

    data = _float32(data)
    sizes = np.broadcast_to(np.asarray(pixel_size, dtype=float), (data.ndim,))
    with np.errstate(over="ignore"):
        cells = (sizes * data.shape).astype(np.float32)  # the header holds each axis' length, in float32
    if not (np.all(cells > 0) and np.allclose(cells.astype(float) / data.shape, sizes, rtol=1e-3)):
        raise ValueError(f"pixel_size {shown(sizes.tolist())} Å cannot be stored in an MRC header (float32 cell "
                         f"lengths of {shown(data.shape)} voxels)")
    with written_aside(path) as temporary, mrcfile.new(temporary, overwrite=True) as mrc:
        mrc.set_data(data)
        xyz = list(sizes[::-1]) + [1.0] * (3 - data.ndim)
        mrc.voxel_size = tuple(xyz)
        if placement is not None:
            mrc.header.origin = tuple(placement["origin"])
            mrc.header.nxstart, mrc.header.nystart, mrc.header.nzstart = placement["start"]


def _float32(data) -> np.ndarray:
    """``data`` as float32, or a ValueError naming data when it is not real or its values exceed float32."""
    data = np.asarray(data)
    if data.dtype.kind not in "biuf":
        raise ValueError(f"data must hold real numbers, got dtype {data.dtype}")
    with np.errstate(over="ignore"):
        single = data.astype(np.float32)
    if not np.array_equal(np.isfinite(single), np.isfinite(data)):
        raise ValueError("data has values beyond the float32 range (about 3.4e38): rescale it")
    return single


def mrc_placement(path) -> dict:
    """The origin (x, y, z, Å) and the start indices (nxstart, nystart, nzstart) of an MRC file's header."""
    import mrcfile

    path = Path(path)
    _check_mrc_header(path)
    with mrcfile.open(path, mode="r", permissive=True, header_only=True) as mrc:
        header = mrc.header
        return {"origin": tuple(float(header.origin[axis]) for axis in ("x", "y", "z")),
                "start": (int(header.nxstart), int(header.nystart), int(header.nzstart))}


def write_tiff(path, data: np.ndarray, pixel_size=None, unit: str = "µm") -> None:
    """Write an ImageJ TIFF, calibrated so that :func:`read_image` and ImageJ read the pixel size back.

    Parameters
    ----------
    path : str or Path
        The file, overwritten if it exists.
    data : array_like
        ``(Y, X)`` or ``(Z, Y, X)``; uint8 and uint16 are kept, other types written as float32.
    pixel_size : float or sequence of float, optional
        Pixel size in ``unit``, one value or one per axis of ``data``; None writes no calibration.
    unit : str
        Unit of ``pixel_size``: "µm", "nm", "Å" (or "um", "micron", "angstrom"...).

    Raises
    ------
    ValueError
        ``data`` is not 2-D or 3-D, a pixel size is not positive, or ``unit`` is not a known length.
    """
    import tifffile

    data = np.asarray(data)
    if data.ndim not in (2, 3):
        raise ValueError(f"write_tiff needs a 2-D or 3-D array, got shape {data.shape}")
    if data.dtype not in (np.uint8, np.uint16):
        data = _float32(data)
    metadata, options = {"axes": "ZYX"[-data.ndim:]}, {}
    if pixel_size is not None:
        sizes, short = _calibration(pixel_size, unit, data.ndim)
        if not all(TIFF_SIZES[0] < size < TIFF_SIZES[1] for size in sizes[-2:]):
            raise ValueError(f"pixel_size {shown(sizes)} {short} cannot be stored in TIFF resolution tags (pixels per "
                             f"unit as a ratio of 32-bit integers): give it in another unit")
        metadata["unit"] = _IMAGEJ_UNITS.get(short, short)
        if data.ndim == 3:
            metadata["spacing"] = sizes[0]
        options["resolution"] = (1 / sizes[-1], 1 / sizes[-2])
    with written_aside(path) as temporary:
        tifffile.imwrite(temporary, data, imagej=True, metadata=metadata, **options)


def _calibration(pixel_size, unit: str, ndim: int) -> tuple[list, str]:
    """Checked per-axis pixel sizes and the short unit name for :func:`write_tiff`."""
    try:
        sizes = np.broadcast_to(np.asarray(pixel_size, dtype=float), (ndim,)).tolist()
    except (TypeError, ValueError):  # not numbers, or a count that matches no axis
        sizes = [math.nan]
    if not _positive(sizes):
        raise ValueError(f"pixel sizes must be positive and finite, got {pixel_size}")
    short = short_unit(unit)
    if short is None:
        raise ValueError(f"unknown length unit {unit!r} (known: {', '.join(LENGTH_EXPONENTS)})")
    return sizes, short


def write_image(path, data: np.ndarray, pixel_size, unit: str) -> None:
    """Write an image with its pixel size, in the format its extension names.

    ``.mrc/.map/.rec/.mrcs``: MRC, float32, voxel size converted to Å (a size
    with no unit is taken as Å, the MRC convention). ``.tif/.tiff``: ImageJ
    TIFF with resolution tags, spacing and unit (no calibration when the unit
    is unknown: a RuntimeWarning says so unless every size is 1). ``.npy``:
    the array as it is; the format has no place for a pixel size.
    ``.ome.zarr``: an OME-Zarr image, float32, the pixel size as the scale of
    its coordinate transformations and the unit as its axes' unit (NGFF);
    ``.zarr``: a zarr array holding them as attributes (:func:`new_zarr_map`).

    Parameters
    ----------
    path : str or Path
        The file, overwritten if it exists; its suffix (any case) picks the format.
    data : array_like
        ``(Y, X)`` or ``(Z, Y, X)``.
    pixel_size : float or sequence of float
        Pixel size in ``unit``, one value or one per axis of ``data``.
    unit : str
        "µm", "nm", "Å"... (or "micrometer", "angstrom", "micron"...); "" or "px" (:data:`PIXEL_UNIT`) if
        unknown.

    Raises
    ------
    ValueError
        Naming ``path``: an unsupported extension, ``data`` not 2-D or 3-D, a
        pixel size not positive, or a unit that is not a length.
    """
    path = Path(path)
    unit = "" if unit == PIXEL_UNIT else unit
    writer = _WRITERS.get(path.suffix.lower())
    if writer is None:
        raise ValueError(f"{path}: cannot write {path.suffix!r} files (supported: {', '.join(_WRITERS)})")
    data = np.asarray(data)
    try:
        if data.ndim not in (2, 3):
            raise ValueError(f"needs a 2-D or 3-D array, got shape {data.shape}")
        sizes, short = _calibration(pixel_size, unit or "Å", data.ndim)
        writer(path, data, sizes, short if unit else "")
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


def _write_mrc_in(path: Path, data: np.ndarray, sizes: list, unit: str) -> None:
    """:func:`write_mrc` with the sizes converted from ``unit`` ("" taken as Å) to Å."""
    write_mrc(path, data, [convert(size, unit or "Å", "Å") for size in sizes])


def _write_tiff_in(path: Path, data: np.ndarray, sizes: list, unit: str) -> None:
    """:func:`write_tiff`, calibrated when ``unit`` is known."""
    if not unit and any(size != 1 for size in sizes):
        warnings.warn(f"{path}: pixel size {sizes} not stored: its unit is unknown", RuntimeWarning, stacklevel=3)
    write_tiff(path, data, sizes if unit else None, unit or "µm")


def _write_npy(path: Path, data: np.ndarray, sizes: list, unit: str) -> None:
    """``np.save`` (no pixel size: .npy has no header for it)."""
    with written_aside(path) as temporary, open(temporary, "wb") as handle:
        np.save(handle, data, allow_pickle=False)


def _write_zarr(path: Path, data: np.ndarray, sizes: list, unit: str) -> None:
    """:func:`new_zarr_map` (OME-Zarr for a ``.ome.zarr`` name) filled with ``data``, built aside
    (:func:`zarr_written_aside`)."""
    data = _float32(data)
    with zarr_written_aside(path) as partial:
        new_zarr_map(partial, data.shape, sizes, unit)[...] = data


_WRITERS = {**dict.fromkeys(MRC_SUFFIXES, _write_mrc_in), **dict.fromkeys(TIFF_SUFFIXES, _write_tiff_in),
            ".npy": _write_npy, ZARR_SUFFIX: _write_zarr}


def write_json(path, payload: dict) -> None:
    """Write ``payload`` as indented JSON.

    Parameters
    ----------
    path : str or Path
        The file, or "-" to print to stdout.
    payload : dict
        JSON-able values; arrays and NumPy scalars are converted, NaN and +/-Inf written as null.

    Raises
    ------
    ValueError
        A value JSON has no place for (a complex number, a set, bytes...): nothing is written.
    """
    try:
        text = json.dumps(jsonable(payload), indent=2, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as err:  # a complex number, a set, bytes, a circular reference...
        raise ValueError(f"payload cannot be written as JSON ({err})") from None
    if str(path) == "-":
        print(text)
    else:
        with written_aside(path) as temporary:
            temporary.write_text(text + "\n", encoding="utf-8")


def write_npz(path, arrays: dict) -> None:
    """Write named arrays as an uncompressed ``.npz`` archive (``np.savez``), written aside and renamed.

    Parameters
    ----------
    path : str or Path
        The file, overwritten if it exists (no ``.npz`` is appended).
    arrays : dict of str to array_like
        Name -> array of numbers or text (read back without unpickling).

    Raises
    ------
    ValueError
        An array of Python objects, which only pickling could store (nothing is written).
    """
    values = {name: np.asarray(value) for name, value in arrays.items()}
    for name, value in values.items():
        if value.dtype.hasobject:
            raise ValueError(f"arrays[{name!r}] holds Python objects (dtype object): only numbers and text are "
                             "written")
    with written_aside(path) as temporary, open(temporary, "wb") as handle:
        np.savez(handle, **values)


def write_csv(path, columns: dict) -> None:
    """Write columns as CSV with a header row.

    Parameters
    ----------
    path : str or Path
        The file, overwritten if it exists.
    columns : dict
        Column name -> 1-D values, all of the same length.

    Raises
    ------
    ValueError
        A column is not 1-D or the lengths differ (nothing is written).
    """
    names = list(columns)
    values = [np.asarray(columns[name]) for name in names]
    if any(v.ndim != 1 for v in values) or len({len(v) for v in values}) > 1:
        shapes = ", ".join(f"{name} {v.shape}" for name, v in zip(names, values))
        raise ValueError(f"write_csv needs 1-D columns of one length, got {shapes}")
    with written_aside(path) as temporary, open(temporary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        writer.writerows(zip(*(v.tolist() for v in values)))
