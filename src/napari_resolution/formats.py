"""The field's own readers for the formats beyond MRC, TIFF and NPY, and RELION's files.

* Electron microscopy (``.dm3 .dm4 .emd .ser .hspy``): RosettaSciIO, the HyperSpy ecosystem's I/O, with the
  axes' calibration.
* Light microscopy: bioio with its plugins: ``bioio-ome-tiff`` (``.ome.tif``), and ``bioio-nd2``,
  ``bioio-czi``, ``bioio-lif`` (``.nd2 .czi .lif``: the ``[formats]`` extra).
* OME-Zarr (a ``.zarr`` folder with NGFF ``multiscales``): ome-zarr, in and out.
* RELION: STAR files through starfile (:func:`star_pixel_size`), and the half-map pairs by their names
  (:func:`half_map_partner`, :func:`half_map_pairs`).

Each reader returns a :class:`Reading`: the data, one letter per axis, and each axis' size and unit as the
file holds them; :mod:`.io` turns it into a ``LoadedImage`` with the pixel size in one unit
(:func:`.units.common_unit`), exactly as for MRC and TIFF. The libraries are imported when a file needs them.
Errors are :class:`UnreadableFile` (the caller names the path) or the libraries' own.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import re
import warnings
from pathlib import Path
from typing import NamedTuple

from .units import LENGTH_NAMES, short_unit

__all__ = ["BIOIO_PLUGINS", "EM_SUFFIXES", "FORMATS_EXTRA", "OME_TIFF_SUFFIXES", "Reading", "UnreadableFile",
           "half_map_names", "half_map_pairs", "half_map_partner", "is_ome_zarr", "new_ome_zarr",
           "ome_tiff_calibration", "read_bioio", "read_em", "read_ome_zarr", "star_beside", "star_pixel_size"]

#: RosettaSciIO's plugin for each electron-microscopy suffix.
EM_SUFFIXES = {".dm3": "digitalmicrograph", ".dm4": "digitalmicrograph", ".emd": "emd", ".ser": "tia",
               ".hspy": "hspy"}
#: The bioio plugin (distribution, module) for each light-microscopy suffix of the ``[formats]`` extra.
BIOIO_PLUGINS = {".nd2": ("bioio-nd2", "bioio_nd2"), ".czi": ("bioio-czi", "bioio_czi"),
                 ".lif": ("bioio-lif", "bioio_lif")}
#: OME-TIFF: read by bioio-ome-tiff (a dependency).
OME_TIFF_SUFFIXES = (".ome.tif", ".ome.tiff")
#: How to install the plugins of the proprietary formats.
FORMATS_EXTRA = "pip install 'napari-resolution[formats]'"
#: STAR labels holding a pixel size (Å), the map's first: model, optics groups, micrographs.
STAR_PIXEL_LABELS = ("rlnPixelSize", "rlnImagePixelSize", "rlnMicrographPixelSize",
                     "rlnMicrographOriginalPixelSize")
#: The two halves' names: (first, second) spellings of RELION (half1/half2) and cryoSPARC (half_A/half_B).
HALF_NAMES = (("half1", "half2"), ("half_A", "half_B"))
#: RELION's maps of one iteration (``run_it025_half1_class001.mrc``), left out of a folder with final maps.
_ITERATION = re.compile(r"_it\d{3}_")


class UnreadableFile(ValueError):
    """A file its reader recognises as wrong, or whose reader is not installed; the caller prefixes its path."""


class Reading(NamedTuple):
    """What a library read: the data and its calibration as the file holds it.

    Attributes
    ----------
    data : ndarray or dask array
        The pixel values.
    axes : str
        One letter per axis: Z, Y, X spatial (the last ones), others "C" (channel), "T" (time), "S" (colour
        samples) or "Q" (anything else).
    calibration : dict of str to (float, str)
        Spatial axis letter -> (size, unit name as the file spells it) for the axes that have one.
    """

    data: object
    axes: str
    calibration: dict


# ----------------------------------------------------------------------------- electron microscopy
def read_em(path: Path) -> Reading:
    """A DigitalMicrograph, EMD (Velox or Berkeley), TIA (``.ser``) or HyperSpy file through RosettaSciIO.

    The file's first image (a signal with two signal axes; a stack of them, or a 3-D volume) is read with
    its axes' scales and units: the last axes with a length unit are Z, Y, X; a diffraction pattern (1/nm)
    has none. Other signals of the file (spectra, other detectors) are left out with a RuntimeWarning.
    """
    plugin = importlib.import_module(f"rsciio.{EM_SUFFIXES[path.suffix.lower()]}")
    with _quiet():
        signals = plugin.file_reader(str(path))
    images = [signal for signal in signals if _signal_axes(signal) >= 2]
    if not images:
        raise UnreadableFile(f"holds no image (its {len(signals)} signal(s) have fewer than two signal axes)")
    if len(signals) > 1:
        titles = [_title(signal) for signal in signals]
        warnings.warn(f"{path}: holds {len(signals)} signals ({', '.join(titles)}): read the first image, "
                      f"{_title(images[0])}", RuntimeWarning, stacklevel=4)
    image = images[0]
    axes = list(image["axes"])
    letters, calibration = ["Q"] * len(axes), {}
    spatial = [index for index, axis in enumerate(axes) if short_unit(axis.get("units")) is not None][-3:]
    for letter, index in zip("XYZ", reversed(spatial)):
        letters[index] = letter
        calibration[letter] = (float(axes[index].get("scale", 1.0)), axes[index]["units"])
    return Reading(image["data"], "".join(letters), calibration)


def _signal_axes(signal: dict) -> int:
    return sum(not axis.get("navigate", False) for axis in signal["axes"])


def _title(signal: dict) -> str:
    return str(signal.get("metadata", {}).get("General", {}).get("title") or "untitled")


# ----------------------------------------------------------------------------- light microscopy
def read_bioio(path: Path) -> Reading:
    """An OME-TIFF (bioio-ome-tiff), ND2, CZI or LIF file (their bioio plugins), first scene.

    The axes of length 1 other than Y and X are dropped (bioio's TCZYX becomes e.g. ZYX or CYX). Sizes: the
    OME metadata's with their units for OME-TIFF; the plugins' (µm, bioio's convention, unless the reader
    gives units) for the others.

    Raises
    ------
    UnreadableFile
        The plugin for the suffix is not installed (naming the ``[formats]`` extra).
    """
    reader_class = _bioio_reader(path)
    with _quiet():
        reader = reader_class(str(path))
        order = "".join(d for d, n in zip(reader.dims.order, reader.dims.shape) if n > 1 or d in "YX")
        data = reader.get_image_data(order)
        if path.name.lower().endswith(OME_TIFF_SUFFIXES):
            calibration = _ome_calibration(reader.metadata.images[reader.current_scene_index].pixels)
        else:
            calibration = _plugin_calibration(reader)
    axes = "".join(letter if letter in "TCZYXS" else "Q" for letter in order)
    return Reading(data, axes, calibration)


def _bioio_reader(path: Path):
    """The bioio Reader class for ``path``'s suffix; UnreadableFile naming the extra when it is missing."""
    if path.name.lower().endswith(OME_TIFF_SUFFIXES):
        distribution, module = "bioio-ome-tiff", "bioio_ome_tiff"
    else:
        distribution, module = BIOIO_PLUGINS[path.suffix.lower()]
    try:
        return importlib.import_module(module).Reader
    except ImportError:
        raise UnreadableFile(f"reading {path.suffix} files needs the bioio plugin {distribution}: "
                             f"{FORMATS_EXTRA}") from None


@contextlib.contextmanager
def _quiet():
    """Silence the libraries' warnings about metadata they skip (ome-types' deprecation notes, xsdata's
    converters): our own warnings say what matters."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _plugin_calibration(reader) -> dict:
    """Z, Y, X sizes of a bioio reader, in the unit its dimension properties give, else µm."""
    sizes = reader.physical_pixel_sizes
    properties = reader.dimension_properties
    calibration = {}
    for axis in "ZYX":
        size, unit = getattr(sizes, axis), getattr(properties, axis).unit
        if size is not None:
            calibration[axis] = (size, "µm" if unit is None else str(unit))
    return calibration


def ome_tiff_calibration(xml: str) -> dict | None:
    """Z, Y, X sizes and units of the first image of OME-XML (parsed by ome-types); None when the XML does not
    validate."""
    import ome_types

    with _quiet():
        try:
            ome = ome_types.from_xml(xml)
        except Exception:  # noqa: BLE001 - ome-types raises parser and validation errors of several types
            return None
    return _ome_calibration(ome.images[0].pixels) if ome.images else {}


def _ome_calibration(pixels) -> dict:
    """{axis: (size, unit)} of an ome-types ``Pixels`` (the unit defaults to µm, as OME says)."""
    calibration = {}
    for axis in "ZYX":
        size = getattr(pixels, f"physical_size_{axis.lower()}")
        if size is not None:
            calibration[axis] = (size, getattr(pixels, f"physical_size_{axis.lower()}_unit", None) or "µm")
    return calibration


# ----------------------------------------------------------------------------- OME-Zarr
def is_ome_zarr(path: Path) -> bool:
    """Whether the folder ``path`` is an OME-Zarr image (NGFF ``multiscales`` metadata, version 0.4 or 0.5)."""
    import zarr

    try:
        group = zarr.open_group(str(path), mode="r")
    except Exception:  # noqa: BLE001 - not a group (an array, or not zarr): zarr raises several types
        return False
    attributes = group.attrs.asdict()
    return "multiscales" in attributes.get("ome", attributes)


def read_ome_zarr(path: Path) -> Reading:
    """The full-resolution level of an OME-Zarr image as a dask array, with the scale of its coordinate
    transformations and the units of its axes."""
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Multiscales, Reader

    with _quiet():
        location = parse_url(str(path), mode="r")
        if location is None:
            raise UnreadableFile("not an OME-Zarr image")
        node = next((node for node in Reader(location)() if any(isinstance(spec, Multiscales)
                                                                 for spec in node.specs)), None)
    if node is None:
        raise UnreadableFile("holds no OME-Zarr multiscale image")
    data, metadata = node.data[0], node.metadata
    names = [axis["name"].lower() if isinstance(axis, dict) else str(axis).lower()
             for axis in metadata.get("axes") or ({"name": name} for name in "tczyx"[-data.ndim:])]
    kinds = {"z": "Z", "y": "Y", "x": "X", "c": "C", "t": "T"}
    letters = "".join(kinds.get(name, "Q") for name in names)
    scale = next((transform["scale"] for transform in (metadata.get("coordinateTransformations") or [[]])[0]
                  if transform.get("type") == "scale"), [1.0] * data.ndim)
    calibration = {}
    for letter, axis, size in zip(letters, metadata.get("axes") or [], scale):
        unit = axis.get("unit") if isinstance(axis, dict) else None
        if letter in "ZYX" and unit is not None:
            calibration[letter] = (float(size), unit)
    return Reading(data, letters, calibration)


def new_ome_zarr(path: Path, shape, pixel_size, unit: str, chunk: int):
    """A new OME-Zarr image at ``path`` (one float32 level of ``shape`` filled with NaN, chunks of ``chunk``),
    whose NGFF metadata hold ``pixel_size`` as the scale of its coordinate transformations and ``unit`` as its
    axes' unit (none for "" ); returns the zarr array to fill."""
    import numpy as np
    import zarr

    with _quiet():  # importing ome_zarr.writer warns of its own deprecated defaults
        from ome_zarr.writer import write_multiscales_metadata

    group = zarr.open_group(str(path), mode="w")
    create = getattr(group, "create_array", None) or group.create_dataset  # zarr 3, else zarr 2
    array = create("0", shape=tuple(shape), chunks=(chunk,) * len(shape), dtype=np.float32, fill_value=np.nan)
    axes = [{"name": name, "type": "space", **({"unit": LENGTH_NAMES[unit]} if unit else {})}
            for name in "zyx"[-len(shape):]]
    write_multiscales_metadata(group, [{"path": "0", "coordinateTransformations": [
        {"type": "scale", "scale": [float(size) for size in pixel_size]}]}], axes=axes)
    return array


# ----------------------------------------------------------------------------- RELION
def star_pixel_size(path) -> float:
    """The pixel size (Å) a RELION STAR file holds: ``_rlnPixelSize`` (``run_model.star``), else the optics
    groups' ``_rlnImagePixelSize`` (``run_data.star``), else a micrograph pixel size.

    Raises
    ------
    ValueError
        Naming ``path``: not a STAR file, no pixel size in it, or optics groups with different pixel sizes.
    """
    import starfile

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such STAR file")
    try:
        with _quiet():
            blocks = starfile.read(path, always_dict=True)
    except Exception as err:  # noqa: BLE001 - the parser raises several types on a file that is not STAR
        raise ValueError(f"{path}: cannot read it as a STAR file ({type(err).__name__}: {err})") from None
    for label in STAR_PIXEL_LABELS:
        for block in blocks.values():
            values = _star_values(block, label)
            if values:
                return _one_pixel_size(path, label, values)
    raise ValueError(f"{path}: no pixel size in it (none of {', '.join('_' + label for label in STAR_PIXEL_LABELS)})")


def _star_values(block, label: str) -> list:
    """The values of ``label`` in one STAR block (a dict for a single row, a table otherwise)."""
    if isinstance(block, dict):
        return [block[label]] if label in block else []
    return block[label].tolist() if label in getattr(block, "columns", ()) else []


def _one_pixel_size(path: Path, label: str, values: list) -> float:
    """The one pixel size of ``values`` (a ValueError for several, or one that is not a positive number)."""
    try:
        sizes = sorted({float(value) for value in values})
    except (TypeError, ValueError):
        sizes = []
    if len(sizes) != 1 or not (math.isfinite(sizes[0]) and sizes[0] > 0):
        found = ", ".join(str(value) for value in dict.fromkeys(values))
        raise ValueError(f"{path}: _{label} must be one positive number, got {found}: give --pixel-size")
    return sizes[0]


def star_beside(path) -> Path | None:
    """The RELION STAR file beside a map that holds its pixel size: ``<run>_model.star`` of the map's run
    (``run_half1_class001_unfil.mrc`` -> ``run_model.star``), else ``run_model.star``, else ``run_data.star``;
    None when there is none."""
    path = Path(path)
    run = re.split(r"_half|_class\d", path.stem, maxsplit=1)[0]
    candidates = [f"{run}_model.star", "run_model.star", f"{run}_data.star", "run_data.star"]
    return next((path.with_name(name) for name in dict.fromkeys(candidates) if path.with_name(name).is_file()),
                None)


def half_map_partner(path) -> Path | None:
    """The other half-map of ``path`` by its name, when that file exists: ``run_half1_class001_unfil.mrc`` <->
    ``run_half2_class001_unfil.mrc`` (RELION), ``..._map_half_A.mrc`` <-> ``..._map_half_B.mrc`` (cryoSPARC).

    The first of :func:`half_map_names` that exists; None when none does or the name names no half.
    """
    return next((name for name in half_map_names(path) if name.is_file()), None)


def half_map_names(path) -> list[Path]:
    """The paths the other half-map of ``path`` has by its name, the likeliest first (empty: the name names no
    half, as RELION's ``half1``/``half2`` or cryoSPARC's ``half_A``/``half_B``).

    The last occurrence of the half's name in the file name is swapped first (a folder named ``half1`` is left
    alone).
    """
    path = Path(path)
    return [path.with_name(path.name[:match.start()] + other + path.name[match.end():])
            for first, second in HALF_NAMES for this, other in ((first, second), (second, first))
            for match in reversed(list(re.finditer(re.escape(this), path.name)))]


def half_map_pairs(folder, suffixes) -> list[tuple[Path, Path]]:
    """Every half-map pair under ``folder`` (recursively): each file named with ``half1`` (or ``half_A``) and one
    of ``suffixes`` whose :func:`half_map_partner` exists, in name order.

    In a folder holding final maps, RELION's maps of single iterations (``run_it025_half1_class001.mrc``) are
    left out.
    """
    folder = Path(folder)
    firsts = sorted(path for first, _ in HALF_NAMES for path in folder.rglob(f"*{first}*")
                    if path.is_file() and path.name.lower().endswith(tuple(suffixes)))
    pairs = [(path, partner) for path in firsts if (partner := half_map_partner(path)) is not None
             and any(second in partner.name for _, second in HALF_NAMES)]
    finals = {first.parent for first, _ in pairs if not _ITERATION.search(first.name)}
    return [(first, second) for first, second in pairs
            if not (_ITERATION.search(first.name) and first.parent in finals)]
