"""Property-based tests of the writers and of the batch's pairs table (issue #24, item 8).

``io.write_image``, ``write_json``, ``write_csv`` and ``write_npz``, with any data, pixel size, unit and
file name: either a file that reads back what was written, or a ``ValueError`` that leaves no file and an
older file at the path untouched; never another exception, a leaked warning, or a partial file beside it.
``cli.batch``'s ``--pairs`` CSV parser, with any table: the pairs, or a ``ValueError`` naming the table.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import warnings

import numpy as np
import pytest
from hang import no_hang
from hypothesis import example, given
from hypothesis import strategies as st
from test_core_fuzz import ANY_REAL, JUNK, arrays, budget, pixel_sizes, texts

from napari_resolution import io
from napari_resolution.cli.batch import _read_pairs
from napari_resolution.units import convert, short_unit

#: The file names the writers get: every format they know, in any case, and names they do not.
SUFFIXES = (".mrc", ".map", ".rec", ".mrcs", ".tif", ".tiff", ".npy", ".MRC", ".TIF", ".NPY", ".png", ".txt", "")
UNITS = ("µm", "nm", "Å", "", "um", "micron", "angstrom", "nanometer", "m", "pm", "px", "pixel", "µ", "Å ", "inch")
OLD = b"an older file, to be kept unless replaced whole"
_NUMBERS = itertools.count()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("written files")


def _target(folder, suffix: str, older: bool):
    """A fresh path in its own folder (so that leftovers are seen), holding :data:`OLD` when ``older``."""
    place = folder / f"case{next(_NUMBERS)}"
    place.mkdir()
    path = place / f"out{suffix}"
    if older:
        path.write_bytes(OLD)
    return path


def written(write, path, *args, allowed=()):
    """``write(path, *args)``: True when it wrote, False after a ValueError; the files beside are checked.

    Fails on any other exception, a warning not in ``allowed`` (message prefixes), a file left beside
    ``path``, a file at ``path`` after a ValueError unless it is the untouched older one.
    """
    older = path.read_bytes() if path.exists() else None
    with no_hang(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            write(path, *args)
            wrote = True
        except ValueError:
            wrote = False
    leaked = [f"{w.category.__name__}: {w.message}" for w in caught
              if not any(str(w.message).startswith(prefix) for prefix in allowed)]
    assert not leaked, f"warnings leaked: {leaked}"
    beside = sorted(p.name for p in path.parent.iterdir() if p != path)
    assert not beside, f"files left beside {path.name}: {beside}"
    if not wrote:
        assert (path.read_bytes() if path.exists() else None) == older, "a failed write changed the file"
    return wrote


# ----------------------------------------------------------------------------- images
def _check_image_back(path, data, pixel_size, unit) -> None:
    """What was written reads back: shape, values (as float32 in MRC and TIFF), and the pixel size."""
    suffix = path.suffix.lower()
    if suffix not in (*io.MRC_SUFFIXES, *io.TIFF_SUFFIXES, ".npy"):
        return
    image = io.read_image(path)
    data = np.asarray(data)
    assert image.data.shape == data.shape, (image.data.shape, data.shape)
    if suffix == ".npy":
        assert image.data.dtype == data.dtype and np.array_equal(image.data, data, equal_nan=data.dtype.kind in "fc")
        return
    kept = data.dtype in (np.uint8, np.uint16) and suffix in io.TIFF_SUFFIXES
    expected = data if kept else data.astype(np.float32)
    assert np.array_equal(image.data, expected, equal_nan=True)
    sizes = np.broadcast_to(np.asarray(pixel_size, float), (data.ndim,))
    unit = "" if unit == io.PIXEL_UNIT else unit  # pixels: no physical unit, written as none
    if suffix in io.MRC_SUFFIXES:
        assert image.pixel_size is not None and image.unit == "Å"
        assert np.allclose(image.pixel_size, [convert(s, short_unit(unit or "Å"), "Å") for s in sizes],
                           rtol=1e-4)
    elif unit:
        assert image.pixel_size is not None and np.allclose(image.pixel_size, sizes, rtol=1e-4)


@budget(0.5)
@given(data=arrays(min_axes=1, max_axes=4, sizes=(1, 2, 3, 8, 9), max_elements=9 * 9 * 3),
       pixel_size=pixel_sizes(3), unit=st.one_of(st.sampled_from(UNITS), texts()),
       suffix=st.sampled_from(SUFFIXES), older=st.booleans())
@example(data=np.zeros((4, 4), bool), pixel_size=1.0, unit="nm", suffix=".tif", older=True)
@example(data=np.ones((4, 4), complex), pixel_size=1.0, unit="Å", suffix=".mrc", older=True)
@example(data=np.full((4, 4), 1e300), pixel_size=1.0, unit="Å", suffix=".mrc", older=False)
@example(data=np.ones((4, 4)), pixel_size=1e-300, unit="m", suffix=".mrc", older=True)
def test_write_image_any_data(data, pixel_size, unit, suffix, older, folder):
    path = _target(folder, suffix, older)
    if written(io.write_image, path, data, pixel_size, unit, allowed=(f"{path}: pixel size",)):
        _check_image_back(path, data, pixel_size, unit)


# ----------------------------------------------------------------------------- results
LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), ANY_REAL, st.text(max_size=8),
                   st.sampled_from((np.float32(1.5), np.int64(3), np.bool_(True), np.nan, np.inf, 1j, b"bytes",
                                    np.complex64(1j), np.array(2.0), np.array([1.0, np.nan]), np.zeros((2, 2), int),
                                    np.array(["a", "b"]), np.array([None, 1.0], dtype=object), {1, 2},
                                    frozenset(), object(), Ellipsis, np.datetime64("2024-01-01"))))
PAYLOADS = st.recursive(LEAVES, lambda children: st.one_of(st.lists(children, max_size=3),
                                                         st.lists(children, max_size=3).map(tuple),
                                                         st.dictionaries(st.one_of(st.text(max_size=5),
                                                                                   st.integers(), st.none()),
                                                                         children, max_size=3)),
                        max_leaves=8)


@budget(0.5)
@given(payload=st.dictionaries(st.text(max_size=8), PAYLOADS, max_size=4), suffix=st.sampled_from((".json", "")),
       older=st.booleans())
@example(payload={"a": np.array(2.0)}, suffix=".json", older=True)
@example(payload={"a": 1j}, suffix=".json", older=True)
@example(payload={"a": {1, 2}}, suffix=".json", older=True)
def test_write_json_any_payload(payload, suffix, older, folder):
    path = _target(folder, suffix, older)
    if written(io.write_json, path, payload):
        loaded = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(loaded, dict) and len(loaded) == len(payload)


COLUMN_VALUES = st.one_of(st.lists(st.one_of(ANY_REAL, st.integers(), st.text(max_size=6), st.none()), max_size=4),
                          arrays(min_axes=1, max_axes=2, sizes=(1, 2, 3), max_elements=9), st.just(np.array([])),
                          st.sampled_from(JUNK))


@budget(0.4)
@given(columns=st.dictionaries(st.text(max_size=6), COLUMN_VALUES, max_size=4), older=st.booleans())
@example(columns={"a": [1.0, 2.0], "b": [1.0]}, older=True)
@example(columns={"a": np.zeros((2, 2))}, older=True)
@example(columns={'x,"y"\n': ["1,2", "a\nb"]}, older=False)
def test_write_csv_any_columns(columns, older, folder):
    path = _target(folder, ".csv", older)
    if written(io.write_csv, path, columns):
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == list(columns) if columns else rows in ([], [[]])
        lengths = {len(np.asarray(values)) for values in columns.values()}
        assert len(rows) - 1 == (lengths.pop() if lengths else 0)


@budget(0.3)
@given(arrays_in=st.dictionaries(st.text(min_size=1, max_size=6).filter(str.isidentifier),
                                 st.one_of(arrays(max_axes=3, sizes=(1, 3), max_elements=27, not_array_chance=4),
                                           st.just(np.zeros((0, 3)))),
                                 max_size=3),
       older=st.booleans())
def test_write_npz_any_arrays(arrays_in, older, folder):
    path = _target(folder, ".npz", older)
    if written(io.write_npz, path, arrays_in):
        with np.load(path, allow_pickle=False) as loaded:
            assert sorted(loaded.files) == sorted(arrays_in)
            for name, value in arrays_in.items():
                value = np.asarray(value)
                assert np.array_equal(loaded[name], value, equal_nan=value.dtype.kind in "fc")


# ----------------------------------------------------------------------------- the batch's pairs table
HEADERS = ("half1", "half2", "mask", "pixel_size", "HALF1", " half2 ", "Pixel_Size", "extra", "", "half1,half2")
CELLS = st.one_of(st.sampled_from(("a.mrc", "sub/b.mrc", "~/c.tif", "/abs/d.mrc", "1.5", "1,2,3", "0", "-1", "nan",
                                   "inf", "1e400", " ", "", '"quoted, comma"', "é.mrc")),
                  st.text(st.characters(exclude_characters="\x00"), max_size=10))


@st.composite
def pair_tables(draw):
    """The bytes of a pairs CSV: mostly a header of known columns and rows of cells; else any text or bytes."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.binary(max_size=80)).replace(b"\x00", b"")
    if kind == 1:
        return draw(st.text(st.characters(exclude_characters="\x00"), max_size=80)).encode("utf-8", "surrogatepass")
    header = draw(st.lists(st.sampled_from(HEADERS), min_size=draw(st.integers(0, 2)), max_size=5))
    if draw(st.integers(0, 2)):
        header = ["half1", "half2", *header]
    rows = draw(st.lists(st.lists(CELLS, max_size=len(header) + 1), max_size=4))
    bom = "\ufeff" if draw(st.booleans()) else ""
    newline = draw(st.sampled_from(("\n", "\r\n", "\r")))
    lines = [",".join(header)] + [",".join(row) for row in rows]
    return (bom + newline.join(lines)).encode(draw(st.sampled_from(("utf-8", "utf-8", "latin-1", "utf-16"))),
                                              "replace")


@budget(0.5)
@given(table=pair_tables())
@example(table=b"half1,half2\na.mrc,b.mrc,c.mrc\n")
@example(table=b"half1,half2,pixel_size\na.mrc,b.mrc,1e400\n")
def test_pairs_table_any_content(table, folder):
    path = _target(folder, ".csv", False)
    path.write_bytes(table)
    with no_hang(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            pairs = _read_pairs(path)
        except ValueError as error:
            assert str(error).startswith(f"--pairs {path}"), error
            pairs = None
    assert not caught, [str(w.message) for w in caught]
    for paths, shown, options in pairs or ():
        assert set(paths) == {"half1", "half2", "mask"} and paths["half1"] and paths["half2"]
        assert set(shown) == {"half1", "half2"}
        assert set(options) <= {"pixel_size"} and all(math.isfinite(s) and s > 0 for s in options.get("pixel_size",
                                                                                                       ()))


def test_a_nul_byte_in_a_path_cell_names_the_table(folder):
    path = _target(folder, ".csv", False)
    path.write_bytes(b"half1,half2\nx\x00y,b.mrc\n")
    with pytest.raises(ValueError, match=f"^--pairs {path}"):
        _read_pairs(path)
