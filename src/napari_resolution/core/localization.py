"""Localisation FRC (single-molecule localisation microscopy): two halves of a table of localisations.

The localisations are split into two halves, each half is rendered as a
histogram at ``pixel_size`` over the field they share, and the two images are
correlated ring by ring (Nieuwenhuizen et al. 2013; Banterle et al. 2013).

The same emitter localised in several frames (a blinking burst, a re-binding
DNA-PAINT strand) puts correlated localisations into both halves of a random
split: the halves are not independent and the FRC reads optimistic. Two
remedies are offered:

* ``split="blocks"``: the frames are cut into ``n_blocks`` time blocks, dealt
  alternately to the two halves, so that a burst of consecutive frames stays
  in one half;
* ``correct_repeats=True`` (Nieuwenhuizen et al. 2013's Q-correction): the
  spurious term the repeats add to the FRC numerator,
  ``c exp(-4 pi^2 sigma^2 q^2) sinc^2``, is estimated where it dominates the
  numerator (the plateau of ``numerator / (exp(...) sinc^2)`` beyond the
  structure's reach) and removed from the numerator and added to the
  denominators: what a split that keeps every emitter in one half reads.

Every table input is read into a :class:`Localizations` by
:func:`read_localizations`: numpy arrays, pandas DataFrames (ThunderSTORM,
SMAP, locan, Picasso column names), locan ``LocData`` objects and files
(ThunderSTORM CSV, rapidSTORM TXT, Picasso HDF5, SMAP MAT, locan ASDF).
"""

from __future__ import annotations

import csv
import dataclasses
import math
import xml.etree.ElementTree as ElementTree
from numbers import Integral, Real
from pathlib import Path
from typing import NamedTuple

import numpy as np
import scipy.fft

from .backend import check_allocation, resolve_device, to_device, to_host
from .correlation import CorrelationResult, result_from_sums
from .frequency import shell_geometry, tukey_window
from .progress import progress_of
from .results import issue_warnings, resolution_summary, result_dataclass
from .spectral import compute_path, correlation_sums, curve_from_sums
from .thresholds import find_crossing, parse_threshold, resolution_from_crossing, threshold_curve
from .validation import check_choice, check_int, check_number, check_progress, shown

__all__ = ["SPLITS", "LocalizationResult", "Localizations", "default_pixel_size", "is_localization_table",
           "localization_frc", "localization_summary", "read_localizations", "recognised_columns", "render_halves",
           "rendered_image", "repeat_statistics", "split_halves"]

SPLITS = ("random", "blocks")
#: Time blocks of ``split="blocks"`` when none are given.
DEFAULT_BLOCKS = 20
#: The default rendering pixel, as a fraction of the median localisation precision. The FRC resolution of
#: localisations is a few precisions; a pixel of half a precision keeps the pixel's own blur (sinc^2) at the
#: crossing within a few per cent (measured: docs/localization_frc.md).
PIXEL_FRACTION = 0.5
#: The fewest localisations a table may have (and each half, a quarter of it).
MIN_LOCALIZATIONS = 100
#: The fewest pixels of the rendered field along each axis.
MIN_FIELD = 16
#: Edge taper width as a fraction of the smaller side of the field (Nieuwenhuizen et al.'s FIRE: 1/8).
TAPER_FRACTION = 1 / 8
#: A random split warns when more than this fraction of the localisations reappear in the next frame.
REPEAT_FRACTION = 0.05
#: Neighbours in the next frame are searched within this many localisation precisions (per axis).
REPEAT_RADIUS = 3.0
#: Without a precision, within this many rendering pixels.
REPEAT_RADIUS_PIXELS = 4.0
#: Localisations examined for repeats (a strip of the field holding about this many).
REPEAT_SAMPLE = 20_000
#: Bands of shells the Q-correction reads its plateau from.
Q_BANDS = 40
#: The Q-correction reads only bands whose level is known to this relative standard error.
PLATEAU_PRECISION = 0.1
#: Bytes per pixel of the rendered field at the peak: two float32 images, their packed complex64 spectrum and
#: the window's working copies.
BYTES_PER_PIXEL = 32

#: Column names recognised in tables (compared in lower case), each with the unit of its values.
X_COLUMNS = (("x [nm]", "nm"), ("x_nm", "nm"), ("xnm", "nm"), ("x (nm)", "nm"), ("x [µm]", "µm"), ("x [um]", "µm"),
             ("position_x", ""), ("x", ""))
Y_COLUMNS = (("y [nm]", "nm"), ("y_nm", "nm"), ("ynm", "nm"), ("y (nm)", "nm"), ("y [µm]", "µm"), ("y [um]", "µm"),
             ("position_y", ""), ("y", ""))
FRAME_COLUMNS = (("frame", ""), ("frame_number", ""), ("frames", ""), ("t", ""))
PRECISION_COLUMNS = (("uncertainty_xy [nm]", "nm"), ("uncertainty [nm]", "nm"), ("uncertainty_x [nm]", "nm"),
                     ("locprecnm", "nm"), ("precision [nm]", "nm"), ("uncertainty_xy [µm]", "µm"),
                     ("uncertainty [µm]", "µm"), ("uncertainty_x", ""), ("uncertainty", ""), ("precision", ""),
                     ("localization_precision", ""))
ROLES = ("x", "y", "frame", "precision")
_CANDIDATES = dict(zip(ROLES, (X_COLUMNS, Y_COLUMNS, FRAME_COLUMNS, PRECISION_COLUMNS)))
#: Length units the readers know, in nm.
_NANOMETRES = {"nm": 1.0, "µm": 1000.0}
#: rapidSTORM's field identifiers, by role.
_RAPIDSTORM = {"Position-0-0": "x", "Position-1-0": "y", "ImageNumber-0-0": "frame",
               "Position-0-0-uncertainty": "precision"}
_RAPIDSTORM_UNITS = {"nanometer": "nm", "micrometer": "µm", "frame": ""}
#: How a rapidSTORM file starts.
_RAPIDSTORM_MARK = "# <localizations"
#: File suffixes each reader takes.
TEXT_SUFFIXES = (".csv", ".txt", ".tsv", ".dat")
HDF5_SUFFIXES = (".hdf5", ".h5")
SUFFIXES = (*TEXT_SUFFIXES, *HDF5_SUFFIXES, ".mat", ".asdf")


class Localizations(NamedTuple):
    """A table of 2-D localisations, in one length unit.

    Attributes
    ----------
    x, y : ndarray of float64, shape (N,)
        Positions.
    frame : ndarray of float64, shape (N,), or None
        Frame (time) of each localisation, when known.
    precision : ndarray of float64, shape (N,), or None
        Localisation precision per axis (standard deviation), same unit as x and y, when known.
    unit : str
        Unit of x, y and precision ("nm", "µm" or "" when the table does not say).
    source : str
        Where the columns came from (a format, or the columns used).
    columns : dict or None
        Role ("x", "y", "frame", "precision") -> the name of the table's column it was read from (a table with
        named columns: a DataFrame or a file); None for an array.
    """

    x: np.ndarray
    y: np.ndarray
    frame: np.ndarray | None
    precision: np.ndarray | None
    unit: str
    source: str
    columns: dict | None = None


@result_dataclass
class LocalizationResult(CorrelationResult):
    """The FRC of a table of localisations: a :class:`~.correlation.CorrelationResult` whose line also names the
    split, the localisations, the rendering pixel and Q (:func:`localization_summary`)."""

    def summary(self, unit: str = "", *, view: str = "correlation") -> str:
        """The line the CLI prints and the widget shows (:func:`localization_summary`; ``unit`` empty: the
        table's); with ``view="ssnr"``, the SSNR crossing's (:meth:`CorrelationResult.summary`)."""
        if view == "ssnr":
            return super().summary(unit, view=view)
        return localization_summary(self, unit or None)


# ----------------------------------------------------------------------------- reading
def read_localizations(table, *, columns=None, camera_pixel=None) -> Localizations:
    """The localisations of ``table``, whatever form it has.

    Parameters
    ----------
    table : array, DataFrame, LocData, str or Path
        * an array of shape (N, >= 2): x, y[, frame[, precision]] in one unit;
        * a pandas DataFrame whose columns are named as ThunderSTORM
          (``x [nm]``, ``y [nm]``, ``frame``, ``uncertainty [nm]``), SMAP
          (``xnm``, ``ynm``, ``frame``, ``locprecnm``), locan
          (``position_x``, ``position_y``, ``frame``, ``uncertainty``) or
          plainly (``x``, ``y``, ``frame``, ``precision``) name them;
        * a locan ``LocData`` (its ``data`` frame);
        * a file: ThunderSTORM CSV, rapidSTORM TXT, any delimited text with a
          header row, Picasso HDF5 (``locs``; positions and ``lpx`` in camera
          pixels: nm with ``camera_pixel`` or the pixel size of its ``.yaml``),
          SMAP MAT (``saveloc.loc``), locan ASDF (needs locan).
    columns : dict or sequence, optional
        The columns to use: ``{"x": ..., "y": ..., "frame": ..., "precision": ...}`` (names, or indices for an
        array; frame and precision may be left out or None), or a sequence in that order.
    camera_pixel : float, optional
        Camera pixel size in nm, for tables in camera pixels (Picasso).

    Returns
    -------
    Localizations

    Raises
    ------
    ValueError
        An unknown file type or unreadable file, missing columns (naming ``columns``), NaN or Inf in the
        used columns, fewer than 2 localisations, a non-positive precision or camera pixel.
    """
    wanted = _check_columns(columns)
    if camera_pixel is not None:
        camera_pixel = check_number(camera_pixel, "camera_pixel", 0.0, above=True)
    if isinstance(table, (str, Path)):
        return _from_file(Path(table), wanted, camera_pixel)
    frame = getattr(table, "data", None)
    if _is_frame(frame) and not _is_frame(table):  # a locan LocData
        return _from_frame(frame, wanted, camera_pixel, "locan LocData")
    if _is_frame(table):
        return _from_frame(table, wanted, camera_pixel, "DataFrame")
    return _from_array(table, wanted, camera_pixel)


def _check_columns(columns) -> dict:
    """``columns`` as {role: name or index}, or a ValueError naming columns."""
    if columns is None:
        return {}
    if isinstance(columns, dict):
        unknown = set(columns) - set(ROLES)
        if unknown:
            raise ValueError(f"columns may name {', '.join(ROLES)}, got {shown(sorted(unknown))}")
        chosen = dict(columns)
    elif isinstance(columns, (list, tuple)) and 2 <= len(columns) <= len(ROLES):
        chosen = dict(zip(ROLES, columns))
    else:
        raise ValueError(f"columns must be a dict {{'x': ..., 'y': ..., 'frame': ..., 'precision': ...}} or a "
                         f"sequence (x, y[, frame[, precision]]), got {shown(columns)}")
    if chosen.get("x") is None or chosen.get("y") is None:
        raise ValueError(f"columns must name x and y, got {shown(columns)}")
    return {role: name for role, name in chosen.items() if name is not None}


def _is_frame(value) -> bool:
    """Whether ``value`` is a pandas DataFrame (without importing pandas when it is not loaded)."""
    return type(value).__name__ == "DataFrame" and hasattr(value, "columns")


def _from_array(table, wanted: dict, camera_pixel) -> Localizations:
    """Localisations from an (N, >= 2) array: x, y[, frame[, precision]] or the ``columns`` indices."""
    try:
        values = np.asarray(table)
    except ValueError:
        raise ValueError("table must be an (N, >= 2) array of x, y[, frame[, precision]], got a ragged "
                         "sequence") from None
    if values.ndim != 2 or values.shape[1] < 2 or values.dtype.kind not in "biuf":
        raise ValueError(f"table must be an (N, >= 2) array of numbers (x, y[, frame[, precision]]), a DataFrame "
                         f"or a file, got {type(table).__name__} of shape {getattr(values, 'shape', None)} and "
                         f"dtype {values.dtype}")
    roles = wanted or dict(zip(ROLES, range(min(values.shape[1], len(ROLES)))))
    picked = {}
    for role, index in roles.items():
        if isinstance(index, bool) or not isinstance(index, Integral) or not -values.shape[1] <= index < \
                values.shape[1]:
            raise ValueError(f"columns: {role} must be a column index of the table's {values.shape[1]} columns, "
                             f"got {shown(index)}")
        picked[role] = values[:, index].astype(np.float64)
    scale = 1.0 if camera_pixel is None else camera_pixel
    return _localizations(picked, scale, "nm" if camera_pixel is not None else "", "array")


def _from_frame(frame, wanted: dict, camera_pixel, source: str) -> Localizations:
    """Localisations from a DataFrame: the ``columns`` given, else the names of :data:`X_COLUMNS` and kin."""
    recognised = recognised_columns(frame.columns)
    picked, units = {}, {}
    for role in ROLES:
        if role in wanted:
            name = wanted[role]
            if name not in frame.columns:
                raise ValueError(f"columns: {role} column {shown(name)} is not in the table (it has "
                                 f"{shown([str(c) for c in frame.columns])})")
            picked[role], units[role] = name, _unit_of(str(name))
        elif role in recognised:
            picked[role], units[role] = recognised[role]
    missing = [role for role in ("x", "y") if role not in picked]
    if missing:
        names = shown([str(c) for c in frame.columns])
        raise ValueError(f"table has no {' and '.join(missing)} column (columns: {names}): name them with columns "
                         "(on the command line --columns X,Y[,FRAME[,PRECISION]])")
    unit = units["x"]
    scale = 1.0
    if camera_pixel is not None:
        if unit:
            raise ValueError(f"camera_pixel is for tables in camera pixels; this table's x is in {unit}")
        scale, unit = camera_pixel, "nm"
    values = {}
    for role, name in picked.items():
        column = np.asarray(frame[name], dtype=np.float64)
        if role == "precision" and units[role] and unit and units[role] != unit:
            column = column * _NANOMETRES[units[role]] / _NANOMETRES[unit]
        values[role] = column
    return _localizations(values, scale, unit, f"{source} columns {', '.join(map(str, picked.values()))}",
                          picked)


def recognised_columns(names) -> dict:
    """The columns a table with the column ``names`` is read from when none are named (:data:`X_COLUMNS` and kin).

    Parameters
    ----------
    names : iterable
        Column names (compared stripped and in lower case).

    Returns
    -------
    dict
        Role ("x", "y", "frame", "precision") -> (the column's name as given, the unit its name says or "");
        roles without a recognised column are left out.
    """
    lowered = {str(name).strip().lower(): name for name in names}
    found = {}
    for role in ROLES:
        match = next(((lowered[name], unit) for name, unit in _CANDIDATES[role] if name in lowered), None)
        if match is not None:
            found[role] = match
    return found


def _unit_of(name: str) -> str:
    """The length unit a column name carries ("x [nm]" -> "nm"), or ""."""
    lowered = name.lower()
    for label, unit in (("nm", "nm"), ("µm", "µm"), ("um]", "µm"), ("(um)", "µm")):
        if label in lowered:
            return unit
    return ""


def _localizations(values: dict, scale: float, unit: str, source: str, columns=None) -> Localizations:
    """Check the picked columns (finite, enough rows, positive precision) and scale positions to ``unit``;
    ``columns``: the table's names of them."""
    count = values["x"].size
    if count < 2:
        raise ValueError(f"table has {count} localisation{'s' if count != 1 else ''}: nothing to split")
    for role, column in values.items():
        bad = ~np.isfinite(column)
        if bad.any():
            raise ValueError(f"table has NaN or Inf {role} values in {int(bad.sum())} of {count} rows: remove "
                             "those localisations first")
    precision = values.get("precision")
    if precision is not None and not np.all(precision > 0):
        raise ValueError(f"table has non-positive precision values in {int(np.sum(precision <= 0))} rows")
    return Localizations(values["x"] * scale, values["y"] * scale, values.get("frame"),
                         None if precision is None else precision * scale, unit, source, columns)


def _from_file(path: Path, wanted: dict, camera_pixel) -> Localizations:
    """Localisations from a file, by its suffix."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"table: cannot read {suffix or 'a name without suffix'!r} files (localisation tables: "
                         f"{', '.join(SUFFIXES)})")
    if not path.is_file():
        raise ValueError(f"table: there is no file {path}")
    if suffix in HDF5_SUFFIXES:
        frame, camera_pixel, source = _read_picasso(path, camera_pixel)
    elif suffix == ".mat":
        frame, source = _read_smap(path), "SMAP"
    elif suffix == ".asdf":
        frame, source = _read_asdf(path), "locan ASDF"
    else:
        frame, source = _read_text(path)
    located = _from_frame(frame, wanted, camera_pixel, f"{source} {path.name}")
    return located


def _pandas():
    """pandas, or a ValueError saying how to install it."""
    try:
        import pandas
    except ImportError:  # pragma: no cover - pandas comes with napari and the smlm extra
        raise ValueError("reading localisation files needs pandas: pip install 'napari-resolution[smlm]'") from None
    return pandas


def is_localization_table(path) -> bool:
    """Whether ``path`` is a file :func:`read_localizations` reads without ``columns``, from its header only.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    bool
        True for a delimited text table (:data:`TEXT_SUFFIXES`) whose header row names x and y columns
        (:func:`recognised_columns`) that hold numbers in the first row, or is rapidSTORM's; a Picasso HDF5
        file (a ``locs`` table); a SMAP MAT file (``saveloc``). False for any other file, or one that cannot
        be read.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in TEXT_SUFFIXES:
            return _is_text_table(path)
        if suffix in HDF5_SUFFIXES:
            return _holds(path, "locs")
        if suffix == ".mat":
            return _is_smap(path)
    except (OSError, ValueError):
        return False
    return False


def _is_text_table(path: Path) -> bool:
    """Whether a text file is rapidSTORM's, or a table whose header names x and y and whose first row has a
    number in each of them."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        first, row = handle.readline(65536), handle.readline(65536)
    if first.startswith(_RAPIDSTORM_MARK):
        return True
    names, values = _fields(first, first), _fields(row, first)
    found = recognised_columns(names)
    if not {"x", "y"} <= set(found) or len(values) != len(names):
        return False
    cells = dict(zip(names, values))
    return all(math.isfinite(float(cells[found[role][0]])) for role in ("x", "y"))  # a ValueError: no number


def _first_line(path: Path) -> str:
    """The first line of a text file."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.readline()


def _delimiter(first: str) -> str:
    """The delimiter of a text table with the header row ``first``: tab, comma, else white space."""
    return "\t" if "\t" in first else "," if "," in first else r"\s+"


def _fields(line: str, first: str) -> list:
    """The fields of a line of a text table with the header row ``first`` (quotes removed)."""
    delimiter = _delimiter(first)
    if delimiter == r"\s+":
        return line.split()
    return next(csv.reader([line.strip()], delimiter=delimiter), [])


def _holds(path: Path, name: str) -> bool:
    """Whether the HDF5 file ``path`` has an entry ``name`` (False without h5py)."""
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py comes with the smlm extra
        return False
    with h5py.File(path, "r") as handle:
        return name in handle


def _is_smap(path: Path) -> bool:
    """Whether the MATLAB file ``path`` holds SMAP's ``saveloc`` (MATLAB 7.3 files are HDF5)."""
    import scipy.io

    try:
        return any(entry[0] == "saveloc" for entry in scipy.io.whosmat(path))
    except NotImplementedError:
        return _holds(path, "saveloc/loc")


def _read_text(path: Path):
    """A delimited text table (ThunderSTORM CSV, any CSV/TSV with a header row) or a rapidSTORM TXT."""
    pandas = _pandas()
    first = _first_line(path)
    if first.startswith(_RAPIDSTORM_MARK):
        names, units = _rapidstorm_header(first[1:], path)
        frame = pandas.read_csv(path, sep=r"\s+", header=None, skiprows=1, names=names)
        for name, unit in units.items():
            frame = frame.rename(columns={name: f"{name} [{unit}]" if unit else name})
        return frame, "rapidSTORM"
    try:
        return pandas.read_csv(path, sep=_delimiter(first)), "ThunderSTORM" if "x [nm]" in first else "text"
    except (ValueError, pandas.errors.ParserError) as err:
        raise ValueError(f"table: cannot read {path.name} as a delimited table ({err})") from None


def _rapidstorm_header(text: str, path: Path) -> tuple[list, dict]:
    """Column names (roles where rapidSTORM's identifiers say, else the identifiers) and their units."""
    try:
        root = ElementTree.fromstring(text.strip())
    except ElementTree.ParseError as err:
        raise ValueError(f"table: {path.name} has a broken rapidSTORM header ({err})") from None
    names, units = [], {}
    for field in root.iter("field"):
        identifier = field.get("identifier", f"column{len(names)}")
        name = _RAPIDSTORM.get(identifier, identifier)
        names.append(name)
        unit = _RAPIDSTORM_UNITS.get(field.get("unit", ""), "")
        if name in ("x", "y", "precision"):
            units[name] = unit
    return names, units


def _read_picasso(path: Path, camera_pixel):
    """Picasso's HDF5 ``locs`` table (positions and ``lpx``/``lpy`` in camera pixels) and its camera pixel (nm)."""
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py comes with the smlm extra
        raise ValueError("reading HDF5 localisations needs h5py: pip install 'napari-resolution[smlm]'") from None
    pandas = _pandas()
    try:
        with h5py.File(path, "r") as handle:
            if "locs" not in handle:
                raise ValueError(f"table: {path.name} has no 'locs' table (Picasso's); it holds {shown(list(handle))}")
            locs = handle["locs"][()]
    except OSError as err:
        raise ValueError(f"table: cannot read {path.name} as HDF5 ({err})") from None
    frame = pandas.DataFrame({name: locs[name] for name in locs.dtype.names})
    if "lpx" in frame and "precision" not in frame:
        frame["precision"] = (frame["lpx"] + frame["lpy"]) / 2 if "lpy" in frame else frame["lpx"]
    if camera_pixel is None:
        camera_pixel = _picasso_pixel(path.with_suffix(".yaml"))
    if camera_pixel is None:
        raise ValueError(f"camera_pixel is needed: {path.name} (Picasso) holds positions in camera pixels and no "
                         f"{path.with_suffix('.yaml').name} gives its pixel size: give the camera pixel in nm "
                         "(--camera-pixel)")
    return frame, camera_pixel, "Picasso"


def _picasso_pixel(path: Path):
    """The camera pixel size (nm) of a Picasso ``.yaml`` beside the HDF5 file: its "Pixelsize", or None."""
    try:
        import yaml
    except ImportError:  # pragma: no cover - pyyaml comes with napari and the smlm extra
        return None
    if not path.is_file():
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            documents = [d for d in yaml.safe_load_all(handle) if isinstance(d, dict)]
    except yaml.YAMLError:
        return None
    sizes = [d["Pixelsize"] for d in documents if isinstance(d.get("Pixelsize"), Real)]
    return float(sizes[-1]) if sizes else None


def _read_smap(path: Path):
    """SMAP's ``saveloc.loc`` fields (``xnm``, ``ynm``, ``frame``, ``locprecnm``, ...) as a DataFrame."""
    import scipy.io

    pandas = _pandas()
    try:
        content = scipy.io.loadmat(path, simplify_cells=True)
        loc = content.get("saveloc", {}).get("loc") if isinstance(content.get("saveloc"), dict) else None
        fields = loc if isinstance(loc, dict) else None
    except NotImplementedError:  # MATLAB 7.3 files are HDF5
        fields = _read_mat73(path)
    except (ValueError, OSError) as err:
        raise ValueError(f"table: cannot read {path.name} as a MATLAB file ({err})") from None
    if fields is None:
        raise ValueError(f"table: {path.name} has no saveloc.loc (SMAP's localisations)")
    columns = {name: np.ravel(values) for name, values in fields.items()
               if isinstance(values, np.ndarray) and values.dtype.kind in "biuf"}
    lengths = {values.size for values in columns.values()}
    if len(lengths) != 1:
        columns = {name: values for name, values in columns.items() if values.size == columns.get("xnm", values).size}
    return pandas.DataFrame(columns)


def _read_mat73(path: Path):
    """``saveloc/loc`` of a MATLAB 7.3 (HDF5) file as {field: array}, or None."""
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py comes with the smlm extra
        raise ValueError("reading MATLAB 7.3 files needs h5py: pip install 'napari-resolution[smlm]'") from None
    with h5py.File(path, "r") as handle:
        group = handle.get("saveloc/loc")
        if group is None:
            return None
        return {name: np.asarray(item[()]) for name, item in group.items() if isinstance(item, h5py.Dataset)}


def _read_asdf(path: Path):
    """A locan ASDF file's localisations (through locan's reader)."""
    try:
        import locan
    except ImportError:
        raise ValueError("reading .asdf localisations needs locan (pip install locan), whose format it is") from None
    return locan.load_asdf_file(path).data  # pragma: no cover - locan is not a test dependency


# ----------------------------------------------------------------------------- splitting and rendering
def split_halves(locs: Localizations, split: str, *, n_blocks: int = DEFAULT_BLOCKS, seed=None) -> np.ndarray:
    """Which half each localisation goes to.

    Parameters
    ----------
    locs : Localizations
    split : {"random", "blocks"}
        "random": each localisation to either half with probability 1/2;
        "blocks": the frames cut into ``n_blocks`` equal time blocks, dealt alternately to the halves.
    n_blocks : int
        Time blocks (>= 2) of the "blocks" split.
    seed : int or Generator, optional
        Seed of the random split.

    Returns
    -------
    ndarray of bool, shape (N,)
        True for the first half.

    Raises
    ------
    ValueError
        An unknown split; "blocks" without frames, with fewer than 2 blocks or frames.
    """
    check_choice(split, "split", SPLITS)
    if split == "random":
        return np.random.default_rng(seed).random(locs.x.size) < 0.5
    n_blocks = check_int(n_blocks, "n_blocks", minimum=2)
    if locs.frame is None:
        raise ValueError("split='blocks' needs the frame of each localisation: the table has no frame column "
                         "(name it with columns=) or use split='random' with correct_repeats=True")
    first, last = float(locs.frame.min()), float(locs.frame.max())
    if last == first:
        raise ValueError("split='blocks' needs localisations from more than one frame: every one is in frame "
                         f"{first:g}; use split='random'")
    block = np.minimum(((locs.frame - first) / (last - first) * n_blocks).astype(np.int64), n_blocks - 1)
    return block % 2 == 0


class Field(NamedTuple):
    """Where the rendered images lie: ``origin`` (y, x) of pixel (0, 0)'s corner, ``shape`` (rows, columns)."""

    origin: tuple[float, float]
    shape: tuple[int, int]
    pixel_size: float


def render_field(locs: Localizations, pixel_size: float) -> Field:
    """The field every localisation falls into, at ``pixel_size``, each side extended to a length the FFT
    transforms fast (a prime side would take several times longer); a ValueError when it is too small or too
    large for memory."""
    origin = (float(locs.y.min()), float(locs.x.min()))
    extent = (float(locs.y.max()) - origin[0], float(locs.x.max()) - origin[1])
    shape = tuple(scipy.fft.next_fast_len(int(span // pixel_size) + 1) for span in extent)  # no prime sides
    if min(shape) < MIN_FIELD:
        raise ValueError(f"pixel_size {pixel_size:g} renders the field ({extent[1]:g} x {extent[0]:g}) on "
                         f"{shape[1]} x {shape[0]} pixels: at least {MIN_FIELD} are needed along each axis; give a "
                         "smaller pixel_size")
    check_allocation(math.prod(shape) * BYTES_PER_PIXEL,
                     f"pixel_size {pixel_size:g} ({shape[1]} x {shape[0]} pixels over the field)",
                     "give a larger pixel_size or a smaller part of the table")
    return Field(origin, shape, pixel_size)


def render_halves(locs: Localizations, first: np.ndarray, field: Field) -> tuple[np.ndarray, np.ndarray]:
    """Histograms of the two halves over ``field``: localisations per pixel, float32, shape ``field.shape``."""
    flat = _pixel_indices(locs, field)
    return _histogram(flat[first], field.shape), _histogram(flat[~first], field.shape)


def rendered_image(table, result: CorrelationResult, *, columns=None, camera_pixel=None) -> np.ndarray:
    """Every localisation of ``table`` rendered as :func:`localization_frc` rendered its halves for ``result``.

    The sum of the two halves (without the edge taper): localisations per
    pixel over ``result.parameters["field"]``, whose pixel (0, 0) has its
    corner at ``field["origin"]`` (y, x) and whose pixels are
    ``result.parameters["pixel_size"]`` wide, in the unit of the positions.

    Parameters
    ----------
    table : array, DataFrame, LocData, str or Path
        The table ``result`` was computed from.
    result : CorrelationResult
        What :func:`localization_frc` returned for ``table``.
    columns, camera_pixel : optional
        As given to :func:`localization_frc`.

    Returns
    -------
    ndarray of float32, shape ``result.parameters["field"]["shape"]``
    """
    locs = read_localizations(table, columns=columns, camera_pixel=camera_pixel)
    parameters = result.parameters
    field = Field(tuple(parameters["field"]["origin"]), tuple(parameters["field"]["shape"]),
                  parameters["pixel_size"])
    return _histogram(_pixel_indices(locs, field), field.shape)


def _pixel_indices(locs: Localizations, field: Field) -> np.ndarray:
    """The flat index of the pixel of ``field`` each localisation falls into (clipped to the field), shape (N,)."""
    rows = ((locs.y - field.origin[0]) / field.pixel_size).astype(np.int64)
    cols = ((locs.x - field.origin[1]) / field.pixel_size).astype(np.int64)
    np.clip(rows, 0, field.shape[0] - 1, out=rows)
    np.clip(cols, 0, field.shape[1] - 1, out=cols)
    return rows * field.shape[1] + cols


def _histogram(flat: np.ndarray, shape: tuple) -> np.ndarray:
    """Localisations per pixel of an image of ``shape`` from their flat pixel indices, float32."""
    image = np.zeros(math.prod(shape), np.float32)
    np.add.at(image, flat, np.float32(1))
    return image.reshape(shape)


# ----------------------------------------------------------------------------- repeats
def repeat_statistics(locs: Localizations, radius: float, *, sample: int = REPEAT_SAMPLE, seed=0) -> dict:
    """How many localisations reappear near themselves in the next frame, beyond chance.

    Pairs (a localisation, one in the next frame within ``radius`` along each
    axis) are counted; chance pairs are estimated from the same count at long
    time lags, scaled by the frames' occupancy. For bursts of consecutive
    frames, a fraction ``f`` of localisations with a successor means bursts
    of ``1 / (1 - f)`` localisations on average.

    Parameters
    ----------
    locs : Localizations
        With frames.
    radius : float
        Half-side of the square searched around each localisation (the unit of the positions).
    sample : int
        The count is made in a central strip of the field holding about this many localisations.
    seed : int
        Seed of the long lags.

    Returns
    -------
    dict
        ``next_frame_fraction`` (the fraction reappearing, beyond chance), ``burst_length``,
        ``pairs``, ``chance_pairs``, ``localizations`` (those examined), ``radius``.
    """
    from scipy.spatial import cKDTree

    frame = np.round(locs.frame).astype(np.int64)
    inside = np.ones(frame.size, bool)
    if frame.size > sample:
        low, high = np.quantile(locs.x, [0.5 - sample / frame.size / 2, 0.5 + sample / frame.size / 2])
        inside = (locs.x >= low) & (locs.x <= high)
    x, y, frame = locs.x[inside], locs.y[inside], frame[inside]
    frame = frame - frame.min()
    span = int(frame.max()) + 1
    step = 4.0 * radius  # frames this far apart along the third axis never pair
    tree = cKDTree(np.column_stack([x, y, frame * step]))

    def pairs_at(lag: int) -> float:
        shifted = cKDTree(np.column_stack([x, y, (frame - lag) * step]))
        return float(tree.count_neighbors(shifted, radius, p=np.inf))

    frames, occupancy = np.unique(frame, return_counts=True)  # (frames may be sparse time stamps)

    def coincidences(lag: int) -> float:
        """Pairs of localisations ``lag`` frames apart, wherever they are."""
        later = np.minimum(np.searchsorted(frames, frames + lag), frames.size - 1)
        matched = frames[later] == frames + lag
        return float(occupancy[matched].astype(np.float64) @ occupancy[later[matched]])

    near = pairs_at(1) if span > 1 else 0.0
    rng = np.random.default_rng(seed)
    lags = sorted({int(lag) for lag in rng.integers(max(span // 4, 2), max(span // 2, 3), 2)})
    far = [(pairs_at(lag), coincidences(lag)) for lag in lags if coincidences(lag) > 0]
    chance = (sum(p for p, _ in far) / sum(c for _, c in far) * coincidences(1)) if far and span > 1 else 0.0
    fraction = max(near - chance, 0.0) / x.size
    return {"next_frame_fraction": fraction, "burst_length": 1 / max(1 - fraction, 1e-3), "pairs": near,
            "chance_pairs": chance, "localizations": int(x.size), "radius": radius}


def _ring_sinc_squared(frequency: np.ndarray, count: int = 64) -> np.ndarray:
    """Ring mean of ``(sinc(f_y) sinc(f_x))^2`` at ``frequency`` (cycles/pixel): the pixel's blur of a pair's
    difference, averaged over the ring's directions."""
    angles = (np.arange(count) + 0.5) * (np.pi / 2 / count)
    fy, fx = frequency[:, None] * np.sin(angles), frequency[:, None] * np.cos(angles)
    return np.mean((np.sinc(fy) * np.sinc(fx)) ** 2, axis=1)


def _pair_decay(precision: np.ndarray, frequency: np.ndarray) -> np.ndarray:
    """``E[exp(-2 pi^2 s^2 q^2)]^2`` over the localisations' precisions ``s`` at physical ``frequency``: the
    decay of two independent localisations' difference."""
    levels = np.quantile(precision, (np.arange(64) + 0.5) / 64)
    return np.mean(np.exp(-2 * np.pi**2 * np.outer(frequency**2, levels**2)), axis=1) ** 2


def estimate_spurious(numerator, variance, shape: np.ndarray, n_bands: int = Q_BANDS) -> tuple[float, dict]:
    """The amplitude ``c`` of the repeats' term ``c * shape`` in the FRC numerator, from where it levels off.

    ``numerator / (n * shape)`` (``n`` Fourier voxels per shell) is the
    structure's term, falling with frequency, plus ``c``. Shells are grouped
    into ``n_bands`` bands; the bands measured to :data:`PLATEAU_PRECISION`
    get a decreasing (isotonic) fit, and ``c`` is the fit at the highest of
    them: where the structure has fallen furthest. When the structure still
    falls there (detail finer than the localisation precision), ``c`` is an
    upper bound: the correction then reads coarse, never optimistic.

    Parameters
    ----------
    numerator : ndarray, shape (n_shells,)
        The FRC numerator per shell (a sum over its voxels).
    variance : ndarray, shape (n_shells,)
        Its noise variance per shell.
    shape : ndarray, shape (n_shells,)
        Per voxel, the repeats' term for ``c = 1`` (precision decay times the pixel's sinc^2), times the voxel
        counts: ``numerator`` expects ``c * shape`` from the repeats.

    Returns
    -------
    c : float
        >= 0.
    plateau : dict
        ``shells`` (first and last shell of the band read), ``relative_error`` (of ``c``), ``levelled``
        (False when the level still falls significantly into that band: ``c`` is an upper bound).
    """
    from scipy.optimize import isotonic_regression

    n_shells = numerator.size
    width = max(1, (n_shells - 1) // n_bands)
    edges = np.arange(1, n_shells, width)
    expected = np.add.reduceat(shape[1:], edges - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        level = np.add.reduceat(numerator[1:], edges - 1) / expected
        error = np.sqrt(np.add.reduceat(variance[1:], edges - 1)) / expected
    usable = np.flatnonzero(np.isfinite(level) & (expected > 0) & (error < PLATEAU_PRECISION * level))
    if usable.size == 0:
        return 0.0, {"shells": None, "relative_error": None, "levelled": False}
    fit = isotonic_regression(level[usable], weights=error[usable] ** -2.0, increasing=False).x
    block = fit == fit[-1]
    pooled_error = float(np.sum(error[usable][block] ** -2.0) ** -0.5)
    last, before = usable[-1], usable[-2] if usable.size > 1 else usable[-1]
    falling = level[before] - level[last] > 2 * math.hypot(error[before], error[last])
    start = int(edges[last])
    return float(fit[-1]), {"shells": (start, min(start + width, n_shells) - 1),
                            "relative_error": pooled_error / float(fit[-1]), "levelled": not falling}


# ----------------------------------------------------------------------------- the estimator
def localization_frc(
    table,
    *,
    pixel_size=None,
    split: str | None = None,
    n_blocks: int = DEFAULT_BLOCKS,
    columns=None,
    camera_pixel=None,
    precision=None,
    correct_repeats: bool = False,
    threshold="1/7",
    apodization: int | None = None,
    confidence=None,
    seed=None,
    device=None,
    progress=None,
) -> LocalizationResult:
    """Fourier ring correlation of a table of localisations split into two halves.

    Parameters
    ----------
    table : array, DataFrame, LocData, str or Path
        The localisations (see :func:`read_localizations`): positions x, y in
        one unit (nm for the formats that say so), optionally the frame and
        the localisation precision of each.
    pixel_size : float, optional
        Rendering pixel in the unit of the positions. Default: half the median
        localisation precision (an error when the table has none).
    split : {"random", "blocks"}, optional
        How the halves are made. "blocks" (the default when the table has
        frames): ``n_blocks`` equal time blocks dealt alternately, so the
        bursts of repeated localisations of one emitter stay in one half.
        "random" (the default without frames): each localisation to either
        half; with repeats it reads optimistic unless ``correct_repeats``,
        and it warns when the frames show repeats.
    n_blocks : int
        Time blocks of the "blocks" split (>= 2; default 20).
    columns : dict or sequence, optional
        The table's columns (see :func:`read_localizations`).
    camera_pixel : float, optional
        Camera pixel in nm, for tables in camera pixels (Picasso).
    precision : float, optional
        Localisation precision (per axis, the unit of the positions) to use
        instead of the table's column, or for a table without one.
    correct_repeats : bool
        Remove the spurious correlation of repeated localisations (the
        Q-correction of Nieuwenhuizen et al. 2013); needs the precision.
    threshold : str or float
        Criterion (default "1/7", 0.143; see :func:`~.correlation.fourier_correlation`).
    apodization : int, optional
        Edge taper width in pixels (0: none). Default: an eighth of the
        smaller side of the field, as in FIRE (the rendered field is not
        periodic).
    confidence : float, optional
        E.g. 0.95: also give ``resolution_interval`` from the rings' statistics
        (:func:`~.correlation.fourier_correlation`).
    seed : int, optional
        Seed of the random split.
    device : {None, "cpu", "gpu"}
        Where to correlate (the rendering runs on the CPU).
    progress : callable, optional
        Called with the completed fraction in [0, 1].

    Returns
    -------
    LocalizationResult
        A :class:`~.correlation.CorrelationResult` whose ``summary`` is the
        whole line (:func:`localization_summary`). The (corrected) curve and
        resolution in the unit of the positions.
        ``parameters`` holds the split, the localisations in each half, the
        field (origin, shape, extent), the pixel size, the repeats
        (``repeats``: the next-frame statistics when the table has frames;
        with ``correct_repeats``, ``q`` and the uncorrected resolution), and
        the unit.

    Raises
    ------
    ValueError
        An unreadable table or missing columns, NaN coordinates, fewer than
        100 localisations (or a half of fewer than 25), no pixel size and no
        precision to default it from, a field too small or too large,
        ``correct_repeats`` without a precision, an unknown split or threshold.
    """
    check_progress(progress)
    report = progress_of(progress)
    parse_threshold(threshold)
    locs = read_localizations(table, columns=columns, camera_pixel=camera_pixel)
    if locs.x.size < MIN_LOCALIZATIONS:
        raise ValueError(f"table has {locs.x.size} localisations: the FRC needs at least {MIN_LOCALIZATIONS}")
    if precision is not None:
        precision = check_number(precision, "precision", 0.0, above=True)
        locs = locs._replace(precision=np.full(locs.x.size, precision))
    if not isinstance(correct_repeats, (bool, np.bool_)):
        raise ValueError(f"correct_repeats must be True or False, got {shown(correct_repeats)}")
    if correct_repeats and locs.precision is None:
        raise ValueError("correct_repeats needs the localisation precision: the table has no precision column; "
                         "give precision= (per axis, the unit of the positions) or name the column in columns=")
    split = ("blocks" if locs.frame is not None else "random") if split is None else split
    check_choice(split, "split", SPLITS)
    pixel_size = _pixel_size(pixel_size, locs)
    first = split_halves(locs, split, n_blocks=n_blocks, seed=seed)
    halves = (int(first.sum()), int(first.size - first.sum()))
    if min(halves) < MIN_LOCALIZATIONS // 4:
        raise ValueError(f"split '{split}' leaves {min(halves)} localisations in one half (of {first.size}): "
                         f"each needs at least {MIN_LOCALIZATIONS // 4}"
                         + ("; use fewer n_blocks or split='random'" if split == "blocks" else ""))
    field = render_field(locs, pixel_size)
    width = _taper_width(apodization, field.shape)
    report(0.02)
    half1, half2 = render_halves(locs, first, field)
    report(0.15)
    xp = resolve_device(device)
    path = compute_path(xp)
    geometry = shell_geometry(field.shape, pixel_size)
    windows = [tukey_window(n, width) for n in field.shape]
    sums = to_host(correlation_sums(to_device(half1, xp), to_device(half2, xp), geometry, xp, path,
                                    windows=windows, progress=report.part(0.15, 0.95)))
    del half1, half2
    repeats = _repeats(locs, pixel_size)
    notes = _repeat_warnings(repeats, split, correct_repeats)
    if correct_repeats:
        sums, corrected = _corrected_sums(sums, geometry, locs, first, field, windows, threshold)
        repeats.update(corrected)
        notes += _plateau_warnings(corrected, geometry.frequency)
    issue_warnings(notes)
    result = result_from_sums(sums, geometry, threshold, "first-below", {
        "split": split, "n_blocks": n_blocks if split == "blocks" else None, "seed": seed,
        "n_localizations": int(first.size), "halves": halves, "unit": locs.unit, "source": locs.source,
        "pixel_size": pixel_size, "field": {"origin": field.origin, "shape": field.shape,
                                            "extent": tuple(n * pixel_size for n in field.shape)},
        "precision": None if locs.precision is None else float(np.median(locs.precision)),
        "correct_repeats": bool(correct_repeats), "repeats": repeats,
        "shape": field.shape, "apodization": width, "apodization_axes": (width, width),
        "taper": "all", "tapered_axes": (width > 0, width > 0), "crossing_rule": "first-below",
        "dtype": "float32", "path": path, "ring_thickness": 1,
    }, confidence, kind=LocalizationResult)
    report(1.0)
    return dataclasses.replace(result, warnings=notes + result.warnings) if notes else result


def default_pixel_size(precision) -> float | None:
    """The rendering pixel :func:`localization_frc` takes when none is given: :data:`PIXEL_FRACTION` of the median
    of ``precision`` (per-localisation precisions, shape (N,), or None); None when there is no precision."""
    if precision is None or np.size(precision) == 0:
        return None
    return float(np.median(precision)) * PIXEL_FRACTION


def _pixel_size(pixel_size, locs: Localizations) -> float:
    """``pixel_size`` checked, or the default from the precision (:func:`default_pixel_size`)."""
    if pixel_size is not None:
        return check_number(pixel_size, "pixel_size", 0.0, above=True)
    if locs.precision is None:
        raise ValueError("pixel_size is needed: the table has no localisation precision to choose it from; give "
                         "a rendering pixel a few times finer than the resolution you expect (e.g. half the "
                         "localisation precision)")
    return default_pixel_size(locs.precision)


def localization_summary(result: CorrelationResult, unit: str | None = None) -> str:
    """The result line of a localisation FRC: the resolution (with its interval), the split, the localisations,
    the rendering pixel and, with the Q-correction, Q (the table's; with a blocks split also ``q_split``, the part
    the halves share, which is all the correction removes: time blocks already separate most repeats).

    E.g. ``66.6 nm [61.8, 71.5] (0.143, full period) · 33.3 nm half period · blocks split of 148,757
    localisations at 5 nm pixels · status resolved``.

    Parameters
    ----------
    result : CorrelationResult
        What :func:`localization_frc` returned.
    unit : str, optional
        The unit of the positions (default: the table's, ``result.parameters["unit"]``).
    """
    parameters = result.parameters
    unit = parameters["unit"] if unit is None else unit
    extra = (f" · {parameters['split']} split of {parameters['n_localizations']:,} localisations at "
             f"{parameters['pixel_size']:.3g}{' ' + unit if unit else ''} pixels{_q_text(parameters)}")
    return resolution_summary(result.resolution, result.status, result.criterion, unit, extra=extra,
                              interval=result.resolution_interval)


def _q_text(parameters: dict) -> str:
    """`` · Q 3.55`` with the Q-correction ("" without); a blocks split adds the part of Q its halves share, all
    that the correction removed (``q_split``): `` · Q 3.55 (blocks split: 0.02 across the halves, removed)``."""
    repeats = parameters["repeats"]
    if "q" not in repeats:
        return ""
    shared = f" (blocks split: {repeats['q_split']:.2f} across the halves, removed)" \
        if parameters["split"] == "blocks" else ""
    return f" · Q {repeats['q']:.2f}{shared}"


def _taper_width(apodization, shape) -> int:
    """The edge taper in pixels: :data:`TAPER_FRACTION` of the smaller side, or ``apodization`` checked."""
    if apodization is None:
        return int(min(shape) * TAPER_FRACTION)
    width = check_int(apodization, "apodization", minimum=0)
    if width > min(shape) // 2:
        raise ValueError(f"apodization ({width} pixels) is wider than half the rendered field "
                         f"({shape[1]} x {shape[0]} pixels)")
    return width


def _repeats(locs: Localizations, pixel_size: float) -> dict:
    """The next-frame repeat statistics (:func:`repeat_statistics`) when the table has frames, else {}."""
    if locs.frame is None:
        return {}
    radius = (REPEAT_RADIUS * float(np.median(locs.precision)) if locs.precision is not None
              else REPEAT_RADIUS_PIXELS * pixel_size)
    return repeat_statistics(locs, radius)


def _repeat_warnings(repeats: dict, split: str, correct_repeats: bool) -> tuple:
    """A warning for a random split that repeats make optimistic (or that cannot be checked for them)."""
    if split != "random" or correct_repeats:
        return ()
    if not repeats:
        return ("a random split of a table without frames: if emitters were localised in several frames, the "
                "halves share them and the FRC reads optimistic; give the frames to split by time blocks, or "
                "correct the repeats (ignore this when every emitter was localised once, e.g. merged tables)",)
    fraction = repeats["next_frame_fraction"]
    if fraction <= REPEAT_FRACTION:
        return ()
    return (f"a random split with repeated localisations: {fraction:.0%} of the localisations reappear in the next "
            f"frame (bursts of about {repeats['burst_length']:.1f}): both halves hold the same emitters and the FRC "
            "reads optimistic; split by time blocks, or correct the repeats",)


def _plateau_warnings(corrected: dict, frequency) -> tuple:
    """A warning when the Q-correction read its level where the structure's term still falls (an upper bound)."""
    if corrected["plateau_levelled"]:
        return ()
    where = ("no band measured it" if corrected["plateau_shells"] is None
             else f"it still falls at {frequency[corrected['plateau_shells'][0]]:.3f} cycles/pixel")
    return (f"the FRC numerator does not level off where it is measured ({where}): the structure has detail near "
            f"the localisation precision, so Q = {corrected['q']:.2f} is an upper bound and the corrected "
            "resolution may read coarse; prefer the time-block split when the repeats are consecutive frames",)


def _corrected_sums(sums, geometry, locs: Localizations, first, field: Field, windows, threshold):
    """The shell sums with the repeats' spurious term removed, and what the correction found (Q, ...).

    The repeats' level of the whole table, ``c_all``, is read (:func:`estimate_spurious`) from the numerator
    averaged over every split into halves of these sizes, ``(|F1 + F2|^2 - shot) N1 N2 / N^2`` (half the noise
    of one split's). The split's own numerator differs from that average by its share of the repeats only
    (the structure's term is the same in both, in expectation, for any split that does not depend on the
    positions): ``c = c_all + Δ``, with Δ fitted to the difference over every shell. A random split has
    ``Δ ≈ 0``; time blocks remove the repeats they separate.
    """
    frequency = geometry.frequency
    counts, cross, power1, power2 = sums
    shape = counts * _pair_decay(locs.precision, frequency / field.pixel_size) * _ring_sinc_squared(frequency)
    weights = _window_at(locs, field, windows) ** 2
    shots = weights[first].sum(), weights[~first].sum()
    share = shots[0] * shots[1] / sum(shots) ** 2
    total = power1 + power2 + 2 * cross
    filled = counts > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        average = (total - sum(shots) * counts) * share
        c_all, plateau = estimate_spurious(average, np.where(filled, total**2 * share**2 / counts, 0), shape)
        variance = np.where(filled, power1 * power2 / counts, np.inf)
    fitted = filled & (shape > 0) & (variance > 0) & (np.arange(counts.size) > 0)
    weight = shape[fitted] / variance[fitted]
    difference = float(np.sum((cross - average)[fitted] * weight) / np.sum(shape[fitted] * weight))
    c = max(c_all + difference, 0.0)
    corrected = sums.copy()
    corrected[1] -= c * shape
    corrected[2:] += c * shape
    n_points, correlation = curve_from_sums(sums)
    crossing, status = find_crossing(frequency, correlation, threshold_curve(threshold, n_points))
    return corrected, {"q": c_all * (1 / shots[0] + 1 / shots[1]), "q_split": c * (1 / shots[0] + 1 / shots[1]),
                       **{f"plateau_{key}": value for key, value in plateau.items()},
                       "uncorrected_resolution": resolution_from_crossing(crossing, status, geometry.reference_pixel),
                       "uncorrected_status": status}


def _window_at(locs: Localizations, field: Field, windows) -> np.ndarray:
    """The separable window's value at each localisation's pixel."""
    rows = np.clip(((locs.y - field.origin[0]) / field.pixel_size).astype(np.int64), 0, field.shape[0] - 1)
    cols = np.clip(((locs.x - field.origin[1]) / field.pixel_size).astype(np.int64), 0, field.shape[1] - 1)
    return np.asarray(windows[0])[rows] * np.asarray(windows[1])[cols]
