"""Property-based tests of the readers with corrupt, truncated, mislabelled and random files.

``napari_resolution.io.read_image`` (MRC, TIFF, NPY), the napari reader built on it
(``gui.reader.read_layers``, Qt-free), and the streaming readers ``io.map_image`` (memory-mapped) and
``io.lazy_image`` (dask, computed here) must, for any file, either return an image that keeps its
contract (an array; a pixel size that is None or one positive number per axis; axis letters that
match the array) or raise a ``ValueError`` whose message names the file: never another exception
type, never a warning, never a hang. The corrupt files start from valid ones of every kind the
readers know (written by the package's writers, mrcfile, tifffile and numpy), then get cut, have
bytes overwritten, zeroed or inserted, or carry another format's extension.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import warnings

import mrcfile
import numpy as np
import pytest
import tifffile
from hang import no_hang
from hypothesis import example, given, settings
from hypothesis import strategies as st

from napari_resolution import io
from napari_resolution.gui import reader

#: A read that has not returned after this many seconds is a hang.
SUFFIXES = (*io.MRC_SUFFIXES, *io.TIFF_SUFFIXES, ".npy", ".MRC", ".TIF", ".NPY", ".png", ".txt", "",
            ".ome.tif", ".hspy", ".emd", ".dm3", ".dm4", ".ser")
#: The start of each format: random bytes behind one of these get past the first check.
MAGICS = (b"", b"II*\0", b"MM\0*", b"II+\0\x08\0\0\0", b"\x93NUMPY\x01\x00", b"\x93NUMPY\x02\x00",
          b"\0" * 208 + b"MAP ")


def budget(fraction: float):
    """``settings`` with ``fraction`` of the profile's number of examples (at least 5)."""
    return settings(max_examples=max(5, round(settings().max_examples * fraction)))


# ----------------------------------------------------------------------------- valid files
def _write_mrc(path, data, voxel_size=None):
    with mrcfile.new(path, overwrite=True) as mrc:
        mrc.set_data(data)
        if voxel_size is not None:
            mrc.voxel_size = voxel_size


def _npy_v2(path, data):
    with open(path, "wb") as handle:
        np.lib.format.write_array(handle, data, version=(2, 0))


def _write_hspy(path, data):
    from rsciio.hspy import file_writer

    axes = [{"name": name, "size": size, "scale": 0.5, "offset": 0.0, "units": "nm", "navigate": False}
            for name, size in zip("zyx", data.shape)]
    file_writer(str(path), {"data": data, "axes": axes, "metadata": {"General": {"title": "fuzz"}, "Signal": {}},
                            "original_metadata": {}, "tmp_parameters": {}, "attributes": {"_lazy": False},
                            "package_info": {"name": "fuzz", "version": "0"}, "learning_results": {}, "models": {}},
                show_progressbar=False)


_RNG = np.random.default_rng(0)
_IMAGE = _RNG.standard_normal((12, 10)).astype(np.float32)
_VOLUME = _RNG.standard_normal((4, 9, 8)).astype(np.float32)
_OME = {"axes": "ZYX", "PhysicalSizeX": 0.2, "PhysicalSizeXUnit": "µm", "PhysicalSizeY": 0.25,
        "PhysicalSizeZ": 500.0, "PhysicalSizeZUnit": "nm"}

#: Every kind of valid file: name -> (suffix, writer(path)).
VALID = {
    "mrc 2-D (io.write_mrc)": (".mrc", lambda p: io.write_mrc(p, _IMAGE, (0.5, 0.7))),
    "mrc 3-D (io.write_mrc)": (".map", lambda p: io.write_mrc(p, _VOLUME, 1.25)),
    "mrc int16": (".mrc", lambda p: _write_mrc(p, (_VOLUME * 100).astype(np.int16), (2.0, 2.0, 2.0))),
    "mrc float16": (".rec", lambda p: _write_mrc(p, _IMAGE.astype(np.float16))),
    "mrc complex64": (".mrc", lambda p: _write_mrc(p, _IMAGE.astype(np.complex64))),
    "mrcs volume stack": (".mrcs", lambda p: _write_mrc(p, np.stack([_VOLUME, _VOLUME]))),
    "tiff ImageJ 2-D (io.write_tiff)": (".tif", lambda p: io.write_tiff(p, _IMAGE, 0.1, "µm")),
    "tiff ImageJ 3-D uint16 (io.write_tiff)": (".tiff", lambda p: io.write_tiff(p, (_VOLUME * 100 + 500)
                                                                                .astype(np.uint16), (0.3, 0.1, 0.1),
                                                                                "nm")),
    "tiff plain": (".tif", lambda p: tifffile.imwrite(p, _IMAGE)),
    "tiff OME 3-D": (".tif", lambda p: tifffile.imwrite(p, _VOLUME, ome=True, metadata=_OME)),
    "tiff zlib tiles": (".tif", lambda p: tifffile.imwrite(p, np.zeros((32, 32), np.float32) + _IMAGE[0, 0],
                                                           compression="zlib", tile=(16, 16))),
    "tiff BigTIFF stack": (".tif", lambda p: tifffile.imwrite(p, (_VOLUME * 10).astype(np.int16), bigtiff=True)),
    "tiff RGB": (".tif", lambda p: tifffile.imwrite(p, (np.abs(_VOLUME[:3]) * 50).astype(np.uint8)
                                                    .transpose(1, 2, 0), photometric="rgb")),
    "ome-tiff (bioio)": (".ome.tif", lambda p: tifffile.imwrite(p, _VOLUME, ome=True, metadata=_OME)),
    "hspy (rosettasciio)": (".hspy", lambda p: _write_hspy(p, _VOLUME)),
    "npy float64": (".npy", lambda p: np.save(p, _IMAGE.astype(np.float64))),
    "npy Fortran big-endian int16": (".npy", lambda p: np.save(p, np.asfortranarray(_VOLUME * 100)
                                                               .astype(">i2"))),
    "npy version 2.0 bool": (".npy", lambda p: _npy_v2(p, _IMAGE > 0)),
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzzed files")


@pytest.fixture(scope="module")
def originals(folder) -> dict:
    """The bytes of every valid file of :data:`VALID`."""
    contents = {}
    for name, (suffix, write) in VALID.items():
        path = folder / f"original{len(contents)}{suffix}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tifffile's notes on writing, not what is tested
            write(path)
        contents[name] = path.read_bytes()
        path.unlink()
    return contents


_NUMBERS = itertools.count()


def _file(folder, content: bytes, suffix: str):
    """A new file with ``content`` and ``suffix`` in ``folder`` (a fresh name each time)."""
    path = folder / f"fuzz{next(_NUMBERS)}{suffix}"
    path.write_bytes(content)
    return path


# ----------------------------------------------------------------------------- the property
#: The warnings a reader gives on purpose (each naming the file): a legacy MRC header read permissively, int16
#: data that looks like wrapped unsigned counts, a pixel size of 1 Å on an FEI file.
READER_WARNINGS = ("legacy MRC header without the 'MAP' ID", "looks like unsigned counts", "probably unset",
                   "its OME-XML does not validate", "signals")


def outcome(read, path):
    """``read(path)``: its result, or None after a ValueError naming ``path``; fails on anything else or a warning
    other than the readers' own (:data:`READER_WARNINGS`, naming ``path``)."""
    with no_hang(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = read(path)
        except ValueError as error:
            assert str(path) in str(error), f"the ValueError does not name the file: {error}"
            result = None
    leaked = [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in caught
              if not (w.category is RuntimeWarning and str(path) in str(w.message)
                      and any(kind in str(w.message) for kind in READER_WARNINGS))]
    assert not leaked, f"warnings leaked: {leaked}"
    return result


def _check_image(image) -> None:
    """What a LoadedImage promises."""
    assert isinstance(image, io.LoadedImage) and isinstance(image.data, np.ndarray)
    assert image.pixel_size is None or (len(image.pixel_size) == image.data.ndim
                                        and all(math.isfinite(p) and p > 0 for p in image.pixel_size))
    assert (image.pixel_size is None) == (image.unit == ""), (image.pixel_size, image.unit)
    assert image.axes == "" or len(image.axes) == image.data.ndim, (image.axes, image.data.shape)


def _check_layers(layers) -> None:
    """What the napari reader promises: one image layer per file, a scale per (non-colour) axis."""
    for data, kwargs, kind in layers:
        assert kind == "image" and isinstance(data, np.ndarray)
        assert len(kwargs["scale"]) == data.ndim - kwargs["rgb"], (kwargs["scale"], data.shape)
        assert "units" not in kwargs or len(kwargs["units"]) == len(kwargs["scale"])


def check_read(path) -> None:
    """The property, for read_image and, for MRC and TIFF names, the napari reader."""
    image = outcome(io.read_image, path)
    if image is not None:
        _check_image(image)
    if reader.get_reader(str(path)) is not None:
        layers = outcome(reader.read_layers, str(path))
        if layers is not None:
            _check_layers(layers)


def _lazy_read(path):
    """:func:`io.lazy_image` with its dask array computed (the file is read then)."""
    image = io.lazy_image(path)
    return dataclasses.replace(image, data=np.asarray(image.data))


def check_streamed(path) -> None:
    """The property for the streaming readers: map_image and lazy_image, computed."""
    for read in (io.map_image, _lazy_read):
        image = outcome(read, path)
        if image is not None:
            _check_image(image)


# ----------------------------------------------------------------------------- corruptions
#: Where a change goes: ("header", byte) within the first 1100 bytes, or ("anywhere", fraction of the length).
WHERE = st.one_of(st.tuples(st.just("header"), st.integers(0, 1099)),
                  st.tuples(st.just("anywhere"), st.floats(0, 1, exclude_max=True)))
#: One change: ("cut", where), ("overwrite" or "insert", where, bytes), ("zero", where, count).
CHANGES = st.one_of(st.tuples(st.just("cut"), WHERE),
                    st.tuples(st.sampled_from(("overwrite", "insert")), WHERE, st.binary(min_size=1, max_size=16)),
                    st.tuples(st.just("zero"), WHERE, st.integers(1, 64)))


def corrupted(content: bytes, change) -> bytes:
    """``content`` after one change of :data:`CHANGES`."""
    kind, (region, value) = change[:2]
    size = max(len(content), 1)
    at = value % size if region == "header" else int(value * size)
    if kind == "cut":
        return content[:at]
    if kind == "zero":
        return content[:at] + bytes(min(change[2], len(content) - at)) + content[at + change[2]:]
    if kind == "insert":
        return content[:at] + change[2] + content[at:]
    return content[:at] + change[2] + content[at + len(change[2]):]


# ----------------------------------------------------------------------------- tests
@pytest.mark.parametrize("name", list(VALID))
def test_valid_files_read_back(name, folder, originals):
    """The starting points are valid: each reads back with its shape."""
    path = _file(folder, originals[name], VALID[name][0])
    image = outcome(io.read_image, path)
    _check_image(image)
    assert image.data.size > 0


@budget(1.0)
@given(name=st.sampled_from(tuple(VALID)), changes=st.lists(CHANGES, min_size=1, max_size=3),
       other_suffix=st.integers(0, 3), suffix=st.sampled_from(SUFFIXES))
@example(name="tiff ImageJ 2-D (io.write_tiff)", changes=[("overwrite", ("header", 42), b"\x07")], other_suffix=1,
         suffix="")
def test_damaged_files(name, changes, other_suffix, suffix, folder, originals):
    """Up to three changes to a valid file, under its own extension (or, once in four, any other).

    The example: a TIFF whose samples tifffile cannot decode (BitsPerSample 7) read as an empty (0, Y, X)
    array with the axes and pixel size of the 2-D image (fixed in io.py).
    """
    content = originals[name]
    for change in changes:
        content = corrupted(content, change)
    check_read(_file(folder, content, suffix if other_suffix == 0 else VALID[name][0]))


@budget(0.6)
@given(name=st.sampled_from(tuple(VALID)), data=st.data())
def test_files_cut_after_a_valid_header(name, data, folder, originals):
    """A whole header, then part of the data: the classic interrupted copy."""
    content = originals[name]
    header = {".npy": 128}.get(VALID[name][0], 1024 if VALID[name][0] in io.MRC_SUFFIXES else 8)
    cut = data.draw(st.integers(min(header, len(content) - 1), len(content) - 1))
    check_read(_file(folder, content[:cut], VALID[name][0]))


@budget(0.6)
@given(magic=st.sampled_from(MAGICS), body=st.binary(max_size=2048), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes(magic, body, suffix, folder):
    check_read(_file(folder, magic + body, suffix))


@pytest.mark.parametrize("name", list(VALID))
def test_valid_files_stream_back(name, folder, originals):
    """The starting points, memory-mapped and lazily: each reads back as read_image reads it."""
    path = _file(folder, originals[name], VALID[name][0])
    whole = io.read_image(path)
    for read in (io.map_image, _lazy_read):
        image = outcome(read, path)
        _check_image(image)
        np.testing.assert_array_equal(image.data, whole.data)
        assert image.pixel_size == whole.pixel_size and image.unit == whole.unit


@budget(0.5)
@given(name=st.sampled_from(tuple(VALID)), changes=st.lists(CHANGES, min_size=1, max_size=3),
       cut=st.booleans(), magic=st.sampled_from(MAGICS), body=st.binary(max_size=512))
@example(name="mrc 3-D (io.write_mrc)", changes=[("insert", ("anywhere", 0.015625), b"\x00")], cut=False, magic=b"",
         body=b"")
def test_damaged_and_random_files_stream(name, changes, cut, magic, body, folder, originals):
    """map_image and lazy_image of a damaged valid file (its header whole, its data cut, when ``cut``), and of
    random bytes behind a format's magic.

    The example: a shifted legacy-looking MRC header whose sizes describe an empty (0, 1024, 9, 8) array, which
    dask could not chunk (ZeroDivisionError; lazy_image now says the file holds no data).
    """
    content = originals[name]
    for change in changes:
        content = corrupted(content, change)
    if cut:
        header = {".npy": 128}.get(VALID[name][0], 1024 if VALID[name][0] in io.MRC_SUFFIXES else 8)
        content = originals[name][:max(header, len(originals[name]) - len(body) - 1)]
    check_streamed(_file(folder, content, VALID[name][0]))
    check_streamed(_file(folder, magic + body, VALID[name][0]))


@budget(0.3)
@given(name=st.sampled_from(tuple(VALID)), suffix=st.sampled_from(SUFFIXES))
def test_wrong_extensions(name, suffix, folder, originals):
    check_read(_file(folder, originals[name], suffix))


@pytest.mark.parametrize("suffix", (*SUFFIXES, ".zarr"))
def test_empty_missing_and_directory_paths(suffix, folder):
    for path in (_file(folder, b"", suffix), folder / f"missing{suffix}"):
        check_read(path)
        check_streamed(path)
    directory = folder / f"directory{next(_NUMBERS)}{suffix}"
    directory.mkdir()
    check_read(directory)
    check_streamed(directory)
