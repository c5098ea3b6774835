import csv
import json

import mrcfile
import numpy as np
import pytest
import tifffile

from napari_resolution import io
from napari_resolution.core.figures import Curve, Plot
from napari_resolution.plotting import save_plots

RNG = np.random.default_rng(0)


def _raises_naming(path, *words):
    """Context: read_image(path) must raise a ValueError naming ``path`` and containing ``words``."""
    with pytest.raises(ValueError) as caught:
        io.read_image(path)
    message = str(caught.value)
    assert str(path) in message
    for word in words:
        assert word in message
    return message


# --- MRC ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("shape", "sizes"), [((6, 8), (1.5, 2.0)), ((4, 6, 8), (3.0, 1.5, 2.0))])
def test_mrc_round_trip_keeps_data_and_voxel_size_per_axis(tmp_path, shape, sizes):
    data = RNG.normal(size=shape)
    path = tmp_path / "map.mrc"
    io.write_mrc(path, data, sizes)
    image = io.read_image(path)
    assert image.data.dtype == np.float32
    np.testing.assert_array_equal(image.data, data.astype(np.float32))
    assert image.pixel_size == pytest.approx(sizes)
    assert image.unit == "Å"
    assert image.axes == "ZYX"[-len(shape):]
    with mrcfile.open(path) as mrc:  # the header stores X first: the last array axis
        assert float(mrc.voxel_size.x) == pytest.approx(sizes[-1])


def test_mrc_scalar_pixel_size_and_upper_case_suffix(tmp_path):
    path = tmp_path / "MAP.MRC"
    io.write_mrc(path, np.zeros((3, 4, 5)), 1.25)
    assert io.read_image(path).pixel_size == pytest.approx((1.25, 1.25, 1.25))


def test_mrc_volume_stack_has_a_size_per_axis(tmp_path):
    path = tmp_path / "stack.mrc"
    with mrcfile.new(path) as mrc:
        mrc.set_data(np.zeros((2, 3, 4, 5), np.float32))
        mrc.voxel_size = 1.5
    image = io.read_image(path)
    assert image.pixel_size == pytest.approx((1.0, 1.5, 1.5, 1.5))
    assert image.axes == "QZYX"


def test_mrc_without_voxel_size_has_no_pixel_size(tmp_path):
    path = tmp_path / "bare.mrc"
    with mrcfile.new(path) as mrc:
        mrc.set_data(np.ones((4, 5), dtype=np.float32))
    image = io.read_image(path)
    assert image.pixel_size is None
    assert image.unit == ""


# --- TIFF --------------------------------------------------------------------------------------


def test_plain_tiff_round_trip_without_metadata(tmp_path):
    data = RNG.integers(0, 1000, size=(3, 5, 7), dtype=np.uint16)
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, data, photometric="minisblack")
    image = io.read_image(path)
    assert image.data.dtype == np.uint16
    np.testing.assert_array_equal(image.data, data)
    assert image.pixel_size is None
    assert image.unit == ""


def test_imagej_tiff_pixel_size_from_resolution_tags_and_spacing(tmp_path):
    path = tmp_path / "stack.tif"
    data = RNG.random((3, 5, 7)).astype(np.float32)
    tifffile.imwrite(path, data, imagej=True, resolution=(1 / 0.25, 1 / 0.5),
                     metadata={"spacing": 2.0, "unit": "um", "axes": "ZYX"})
    image = io.read_image(path)
    np.testing.assert_array_equal(image.data, data)
    assert image.pixel_size == pytest.approx((2.0, 0.5, 0.25))
    assert image.unit == "µm"


@pytest.mark.parametrize(("written", "unit"), [("micron", "µm"), ("\\u00B5m", "µm"), ("nm", "nm"),
                                               ("\\u00C5", "Å"), ("angstrom", "Å")])
def test_imagej_tiff_unit_names(tmp_path, written, unit):
    path = tmp_path / "image.tif"
    tifffile.imwrite(path, np.zeros((4, 6), np.float32), imagej=True, resolution=(1 / 0.3, 1 / 0.3),
                     metadata={"unit": written})
    image = io.read_image(path)
    assert image.pixel_size == pytest.approx((0.3, 0.3))
    assert image.unit == unit


def test_imagej_stack_without_spacing_is_one_unit_deep_like_imagej(tmp_path):
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, np.zeros((2, 4, 6), np.uint8), imagej=True, resolution=(2.0, 2.0),
                     metadata={"unit": "nm", "axes": "ZYX"})
    assert io.read_image(path).pixel_size == pytest.approx((1.0, 0.5, 0.5))


def test_imagej_tiff_without_unit_has_no_pixel_size(tmp_path):
    path = tmp_path / "image.tif"
    tifffile.imwrite(path, np.zeros((4, 6), np.float32), imagej=True, resolution=(4.0, 4.0))
    image = io.read_image(path)
    assert image.pixel_size is None
    assert image.unit == ""


def test_ome_tiff_pixel_size_in_the_x_unit(tmp_path):
    path = tmp_path / "stack.ome.tif"
    data = RNG.random((3, 5, 7)).astype(np.float32)
    tifffile.imwrite(path, data, ome=True, metadata={
        "axes": "ZYX", "PhysicalSizeX": 0.1, "PhysicalSizeXUnit": "nm", "PhysicalSizeY": 0.2,
        "PhysicalSizeYUnit": "nm", "PhysicalSizeZ": 0.5,  # no unit: µm per OME
    })
    image = io.read_image(path)
    np.testing.assert_array_equal(image.data, data)
    assert image.pixel_size == pytest.approx((500.0, 0.2, 0.1))
    assert image.unit == "nm"


def test_ome_tiff_default_unit_is_micrometre(tmp_path):
    path = tmp_path / "image.ome.tiff"
    tifffile.imwrite(path, np.zeros((4, 6), np.uint8), ome=True,
                     metadata={"axes": "YX", "PhysicalSizeX": 0.65, "PhysicalSizeY": 0.7})
    image = io.read_image(path)
    assert image.pixel_size == pytest.approx((0.7, 0.65))
    assert image.unit == "µm"


def test_ome_tiff_without_sizes_has_no_pixel_size(tmp_path):
    path = tmp_path / "image.ome.tif"
    tifffile.imwrite(path, np.zeros((4, 6), np.uint8), ome=True, metadata={"axes": "YX"})
    image = io.read_image(path)
    assert image.pixel_size is None
    assert image.unit == ""


@pytest.mark.parametrize("name", ["image.ome.tif", "image.tif"])
def test_ome_tiff_whose_xml_does_not_validate_is_read_without_pixel_size_and_says_so(tmp_path, name):
    """"inch" is no unit of the OME schema: bioio-ome-tiff refuses the file; it is read as a plain TIFF."""
    path = tmp_path / name
    tifffile.imwrite(path, np.ones((4, 6), np.uint8), ome=True,
                     metadata={"axes": "YX", "PhysicalSizeX": 0.5, "PhysicalSizeXUnit": "inch"})
    with pytest.warns(RuntimeWarning, match="its OME-XML does not validate against the OME schema"):
        image = io.read_image(path)
    assert image.pixel_size is None and image.unit == "" and image.data.shape == (4, 6)


def test_ome_stack_without_z_size_has_no_pixel_size(tmp_path):
    path = tmp_path / "stack.ome.tif"
    tifffile.imwrite(path, np.zeros((2, 4, 6), np.uint8), ome=True,
                     metadata={"axes": "ZYX", "PhysicalSizeX": 0.5, "PhysicalSizeY": 0.5})
    assert io.read_image(path).pixel_size is None


@pytest.mark.parametrize(("shape", "sizes", "unit"), [
    ((5, 7), (0.5, 0.25), "µm"),
    ((3, 5, 7), (2.0, 0.3, 0.7), "nm"),
    ((3, 5, 7), (1.5, 1.5, 1.5), "Å"),
])
def test_write_tiff_round_trip_keeps_pixel_size(tmp_path, shape, sizes, unit):
    data = RNG.random(shape)
    path = tmp_path / "out.tif"
    io.write_tiff(path, data, sizes, unit)
    image = io.read_image(path)
    assert image.data.dtype == np.float32
    np.testing.assert_array_equal(image.data, data.astype(np.float32))
    assert image.pixel_size == pytest.approx(sizes, rel=1e-6)
    assert image.unit == unit
    with tifffile.TiffFile(path) as tif:  # an ImageJ file: ImageJ reads the calibration too
        assert tif.is_imagej
        assert tif.series[0].axes == "ZYX"[-len(shape):]
        assert ("spacing" in tif.imagej_metadata) == (len(shape) == 3)


def test_write_tiff_scalar_size_unit_alias_and_integer_dtype(tmp_path):
    data = RNG.integers(0, 60000, size=(2, 4, 6), dtype=np.uint16)
    path = tmp_path / "out.tiff"
    io.write_tiff(path, data, 0.1, "micron")
    image = io.read_image(path)
    assert image.data.dtype == np.uint16
    np.testing.assert_array_equal(image.data, data)
    assert image.pixel_size == pytest.approx((0.1, 0.1, 0.1))
    assert image.unit == "µm"
    with tifffile.TiffFile(path) as tif:
        assert tif.imagej_metadata["unit"] == "micron"


def test_write_tiff_without_pixel_size(tmp_path):
    path = tmp_path / "out.tif"
    io.write_tiff(path, np.ones((4, 6)))
    image = io.read_image(path)
    assert image.pixel_size is None
    assert image.unit == ""


@pytest.mark.parametrize(("data", "sizes", "unit", "words"), [
    (np.zeros((2, 2, 4, 6)), 1.0, "µm", "2-D or 3-D"),
    (np.zeros((4, 6)), 1.0, "parsec", "unknown length unit"),
    (np.zeros((4, 6)), (0.0, 1.0), "nm", "positive"),
])
def test_write_tiff_refuses_bad_arguments(tmp_path, data, sizes, unit, words):
    with pytest.raises(ValueError, match=words):
        io.write_tiff(tmp_path / "out.tif", data, sizes, unit)


def test_tiff_axes_name_channel_and_colour_axes(tmp_path):
    channels = tmp_path / "channels.ome.tif"
    tifffile.imwrite(channels, np.zeros((2, 5, 7), np.uint8), ome=True,
                     metadata={"axes": "CYX", "PhysicalSizeX": 0.5, "PhysicalSizeY": 0.5})
    image = io.read_image(channels)
    assert image.axes == "CYX"
    assert image.pixel_size == pytest.approx((1.0, 0.5, 0.5))
    colour = tmp_path / "colour.tif"
    tifffile.imwrite(colour, np.zeros((5, 7, 3), np.uint8), photometric="rgb")
    assert io.read_image(colour).axes == "YXS"
    assert io.map_image(colour).axes == "YXS"  # memory-mapped too


def test_colour_images_are_told_from_grey_stacks(tmp_path):
    colour = tmp_path / "colour.tif"
    tifffile.imwrite(colour, np.zeros((4, 16, 16, 3), np.uint8), photometric="rgb")  # a stack of RGB images
    assert io.is_rgb(io.read_image(colour))
    assert io.is_rgb(io.LoadedImage(np.zeros((64, 64, 4), np.float32), None, ""))  # RGBA without axes: Y, X, colour
    for grey in (np.zeros((3, 64, 64)), np.zeros((64, 64)), np.zeros((4, 4, 3))):
        assert not io.is_rgb(io.LoadedImage(grey, None, ""))
        assert io.grey_image(io.LoadedImage(grey, None, ""), "grey.npy").data is grey
    with pytest.raises(ValueError, match=r"colour.tif: is RGB \(shape \(4, 16, 16, 3\), colours on the last axis\)"):
        io.grey_image(io.read_image(colour), colour)


# --- NPY ---------------------------------------------------------------------------------------


def test_npy_round_trip(tmp_path):
    data = RNG.integers(-100, 100, size=(3, 4, 5)).astype(np.int16)
    path = tmp_path / "data.npy"
    np.save(path, data)
    image = io.read_image(path)
    assert image.data.dtype == np.int16
    np.testing.assert_array_equal(image.data, data)
    assert image.pixel_size is None
    assert image.unit == ""


def test_object_npy_is_refused(tmp_path):
    path = tmp_path / "objects.npy"
    np.save(path, np.array([{"a": 1}, None], dtype=object))
    _raises_naming(path, "pickled (object) .npy files are refused")


def test_truncated_and_foreign_npy(tmp_path):
    path = tmp_path / "cut.npy"
    np.save(path, np.zeros((8, 8)))
    path.write_bytes(path.read_bytes()[:-10])
    _raises_naming(path, "truncated .npy")
    other = tmp_path / "other.npy"
    other.write_bytes(b"just some text, not numpy")
    _raises_naming(other, "not a .npy file")


# --- bad files -----------------------------------------------------------------------------------


def test_missing_file_and_directory(tmp_path):
    _raises_naming(tmp_path / "missing.mrc", "no such file")
    folder = tmp_path / "folder.mrc"
    folder.mkdir()
    _raises_naming(folder, "is a directory")


@pytest.mark.parametrize("content", [b"hello", RNG.bytes(3000)])
def test_non_mrc_file_named_mrc(tmp_path, content):
    path = tmp_path / "x.mrc"
    path.write_bytes(content)
    _raises_naming(path, "not an MRC file")


def test_random_bytes_named_tif(tmp_path):
    path = tmp_path / "x.tif"
    path.write_bytes(RNG.bytes(500))
    _raises_naming(path, "not a TIFF file")


@pytest.fixture
def mrc_bytes(tmp_path):
    path = tmp_path / "whole.mrc"
    io.write_mrc(path, np.ones((4, 8, 8)), 1.0)
    return path.read_bytes()


@pytest.mark.parametrize("keep", [600, 1024 + 100])
def test_truncated_mrc(tmp_path, mrc_bytes, keep):
    path = tmp_path / "cut.mrc"
    path.write_bytes(mrc_bytes[:keep])
    _raises_naming(path, "truncated")


def test_mrc_with_corrupt_mode_gives_value_error(tmp_path, mrc_bytes):
    header = bytearray(mrc_bytes)
    header[12:16] = np.int32(99).tobytes()  # the data mode: not one MRC defines
    path = tmp_path / "corrupt.mrc"
    path.write_bytes(bytes(header))
    _raises_naming(path, "corrupt")


def test_truncated_imagej_tiff(tmp_path):
    path = tmp_path / "cut.tif"
    io.write_tiff(path, np.ones((4, 32, 32)), 0.5, "nm")
    path.write_bytes(path.read_bytes()[:-3000])
    _raises_naming(path, "truncated", "4 images")


def test_unsupported_extension(tmp_path):
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG")
    _raises_naming(path, "unsupported file type '.png'")


# --- writers -------------------------------------------------------------------------------------


def test_write_json_writes_nan_and_inf_as_null(tmp_path):
    path = tmp_path / "out.json"
    io.write_json(path, {"a": float("nan"), "b": [1.0, float("inf"), -np.inf], "c": np.array([0.5, np.nan]),
                         "d": {"e": np.float32(2.0)}, "unit": "Å"})
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "a": None, "b": [1.0, None, None], "c": [0.5, None], "d": {"e": 2.0}, "unit": "Å"}


def test_write_json_dash_prints_to_stdout(tmp_path, capsys):
    io.write_json("-", {"resolution": np.float64(3.5), "bad": np.nan})
    assert json.loads(capsys.readouterr().out) == {"resolution": 3.5, "bad": None}
    assert not (tmp_path / "-").exists()


def test_write_csv_columns_round_trip(tmp_path):
    columns = {"frequency": np.linspace(0, 0.5, 6), "correlation": RNG.random(6), "n_points": np.arange(6)}
    path = tmp_path / "out.csv"
    io.write_csv(path, columns)
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(columns)
    for name, values in columns.items():
        np.testing.assert_array_equal([float(row[name]) for row in rows], values)


def test_write_csv_refuses_columns_of_different_lengths(tmp_path):
    path = tmp_path / "out.csv"
    with pytest.raises(ValueError, match="one length"):
        io.write_csv(path, {"a": [1, 2, 3], "b": [1, 2]})
    assert not path.exists()


# --- write_image: the format from the extension ------------------------------------------------


@pytest.mark.parametrize(("name", "unit", "read_sizes", "read_unit"), [
    ("out.mrc", "Å", (2.0, 1.5, 1.5), "Å"),
    ("out.map", "nm", (20.0, 15.0, 15.0), "Å"),  # MRC holds Å: converted
    ("out.rec", "micrometer", (2e4, 1.5e4, 1.5e4), "Å"),
    ("OUT.MRCS", "", (2.0, 1.5, 1.5), "Å"),  # no unit: taken as Å, the MRC convention
    ("out.tif", "nm", (2.0, 1.5, 1.5), "nm"),
    ("out.TIFF", "µm", (2.0, 1.5, 1.5), "µm"),
    ("out.tif", "angstrom", (2.0, 1.5, 1.5), "Å"),
])
def test_write_image_round_trip_keeps_pixel_size(tmp_path, name, unit, read_sizes, read_unit):
    data = RNG.random((3, 5, 7))
    path = tmp_path / name
    io.write_image(path, data, (2.0, 1.5, 1.5), unit)
    image = io.read_image(path)
    np.testing.assert_array_equal(image.data, data.astype(np.float32))
    assert image.pixel_size == pytest.approx(read_sizes, rel=1e-6)
    assert image.unit == read_unit


def test_write_image_npy_keeps_data_and_dtype(tmp_path):
    data = RNG.integers(0, 9, size=(4, 6)).astype(np.int16)
    path = tmp_path / "out.npy"
    io.write_image(path, data, 0.5, "nm")
    image = io.read_image(path)
    assert image.data.dtype == np.int16
    np.testing.assert_array_equal(image.data, data)
    assert image.pixel_size is None


def test_write_image_tiff_without_unit_warns_that_the_size_is_lost(tmp_path):
    path = tmp_path / "out.tif"
    with pytest.warns(RuntimeWarning, match="unit is unknown"):
        io.write_image(path, np.ones((4, 6)), 0.5, "")
    assert io.read_image(path).pixel_size is None
    io.write_image(tmp_path / "plain.tif", np.ones((4, 6)), 1.0, "")  # nothing to lose: no warning


@pytest.mark.parametrize("name", ["out.png", "out.h5", "out"])
def test_write_image_refuses_other_extensions_naming_the_path(tmp_path, name):
    path = tmp_path / name
    with pytest.raises(ValueError, match="cannot write") as caught:
        io.write_image(path, np.ones((4, 6)), 1.0, "nm")
    assert str(path) in str(caught.value)
    assert not path.exists()


@pytest.mark.parametrize(("data", "sizes", "unit", "words"), [
    (np.zeros((2, 2, 4, 6)), 1.0, "nm", "2-D or 3-D"),
    (np.zeros(6), 1.0, "nm", "2-D or 3-D"),
    (np.zeros((4, 6)), 1.0, "parsec", "unknown length unit"),
    (np.zeros((4, 6)), (0.0, 1.0), "nm", "positive"),
])
@pytest.mark.parametrize("name", ["out.mrc", "out.tif", "out.npy"])
def test_write_image_refuses_bad_arguments_naming_the_path(tmp_path, name, data, sizes, unit, words):
    path = tmp_path / name
    with pytest.raises(ValueError, match=words) as caught:
        io.write_image(path, data, sizes, unit)
    assert str(path) in str(caught.value)
    assert not path.exists()


def test_map_image_maps_what_it_can_and_reads_the_rest(tmp_path):
    movie = np.arange(4 * 6 * 8, dtype=np.uint16).reshape(4, 6, 8)
    np.save(tmp_path / "movie.npy", movie)
    io.write_tiff(tmp_path / "movie.tif", movie, (1.0, 0.1, 0.1), unit="µm")
    tifffile.imwrite(tmp_path / "packed.tif", movie, compression="zlib", photometric="minisblack")
    mapped_npy = io.map_image(tmp_path / "movie.npy")
    mapped_tif = io.map_image(tmp_path / "movie.tif")
    packed = io.map_image(tmp_path / "packed.tif")
    assert isinstance(mapped_npy.data, np.memmap) and isinstance(mapped_tif.data, np.memmap)
    assert not isinstance(packed.data, np.memmap)
    for image in (mapped_npy, mapped_tif, packed):
        np.testing.assert_array_equal(image.data, movie)
    assert mapped_tif.pixel_size[-2:] == pytest.approx((0.1, 0.1)) and mapped_tif.unit == "µm"
    with pytest.raises(ValueError, match="no such file"):
        io.map_image(tmp_path / "missing.npy")


def test_lazy_image_reads_on_demand_and_sends_workers_the_path_not_the_data(tmp_path):
    import pickle

    da = pytest.importorskip("dask.array")
    pytest.importorskip("zarr")
    volume = np.random.default_rng(0).standard_normal((24, 20, 16)).astype(np.float32)
    io.write_mrc(tmp_path / "map.mrc", volume, (1.5, 1.25, 1.0))
    np.save(tmp_path / "map.npy", volume)
    io.write_tiff(tmp_path / "map.tif", volume, (2.0, 0.5, 0.5), unit="µm")
    stored = io.new_zarr_map(tmp_path / "map.zarr", volume.shape, (1.5, 1.25, 1.0), "Å")
    stored[...] = volume
    expected = {"map.mrc": ((1.5, 1.25, 1.0), "Å"), "map.npy": (None, ""), "map.tif": ((2.0, 0.5, 0.5), "µm"),
                "map.zarr": ((1.5, 1.25, 1.0), "Å")}
    for name, (sizes, unit) in expected.items():
        image = io.lazy_image(tmp_path / name)
        assert isinstance(image.data, da.Array), name
        np.testing.assert_array_equal(image.data.compute(), volume)
        assert (image.pixel_size is None) if sizes is None else image.pixel_size == pytest.approx(sizes), name
        assert image.unit == unit, name
        assert len(pickle.dumps(image.data.dask)) < volume.nbytes / 4, name  # the graph holds no copy of the data
    np.save(tmp_path / "fortran.npy", np.asfortranarray(volume))
    np.testing.assert_array_equal(io.lazy_image(tmp_path / "fortran.npy").data.compute(), volume)


def test_lazy_image_and_new_zarr_map_name_bad_paths(tmp_path):
    pytest.importorskip("zarr")
    with pytest.raises(ValueError, match="no such zarr array"):
        io.lazy_image(tmp_path / "missing.zarr")
    (tmp_path / "empty.zarr").mkdir()
    with pytest.raises(ValueError, match="empty.zarr: cannot read zarr array"):
        io.lazy_image(tmp_path / "empty.zarr")
    with pytest.raises(ValueError, match="map.mrc: no such file"):
        io.lazy_image(tmp_path / "map.mrc")
    (tmp_path / "bad.mrc").write_bytes(b"x" * 2000)
    with pytest.raises(ValueError, match="bad.mrc: not an MRC file"):
        io.lazy_image(tmp_path / "bad.mrc")
    with pytest.raises(ValueError, match="must end in .zarr"):
        io.new_zarr_map(tmp_path / "map.n5", (8, 8), 1.0, "")


# ----------------------------------------------------------------------------- atomic writes

_IMAGE = np.arange(64, dtype=np.float32).reshape(8, 8)
#: Every file writer, as (file name, a call writing it).
_WRITERS = {
    "mrc": ("map.mrc", lambda path: io.write_mrc(path, _IMAGE, 1.5)),
    "tiff": ("image.tif", lambda path: io.write_tiff(path, _IMAGE, 0.1)),
    "image npy": ("image.npy", lambda path: io.write_image(path, _IMAGE, 1.0, "")),
    "image mrc": ("image.map", lambda path: io.write_image(path, _IMAGE, 1.0, "nm")),
    "json": ("result.json", lambda path: io.write_json(path, {"a": 1})),
    "csv": ("table.csv", lambda path: io.write_csv(path, {"x": [1, 2]})),
    "npz": ("spline.npz", lambda path: io.write_npz(path, {"knots": np.arange(3)})),
    "png": ("plot.png", lambda path: save_plots((Plot("p", (Curve("c", [0, 1], [1, 0]),)),), path)),
}


@pytest.mark.parametrize("kind", list(_WRITERS))
def test_writers_replace_a_file_whole_and_leave_nothing_else(kind, tmp_path):
    name, write = _WRITERS[kind]
    target = tmp_path / name
    target.write_bytes(b"older file")
    write(target)
    assert target.read_bytes() != b"older file" and target.stat().st_size > 0
    assert [p.name for p in tmp_path.iterdir()] == [name]


@pytest.mark.parametrize("kind", list(_WRITERS))
def test_an_interrupted_write_keeps_the_older_file(kind, tmp_path, monkeypatch):
    name, write = _WRITERS[kind]
    target = tmp_path / name
    target.write_bytes(b"older file")

    def interrupted(source, destination):
        assert source != target and str(destination) == str(target)
        raise KeyboardInterrupt

    monkeypatch.setattr(io.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write(target)
    assert target.read_bytes() == b"older file"
    assert [p.name for p in tmp_path.iterdir()] == [name]  # the partial file is removed


def test_a_failed_first_write_leaves_no_file(tmp_path):
    with pytest.raises(ValueError, match="1-D columns"):
        io.write_csv(tmp_path / "t.csv", {"x": [1, 2], "y": [1]})
    with pytest.raises(RuntimeError), io.written_aside(tmp_path / "t.bin") as temporary:
        temporary.write_bytes(b"half")
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- files from old instruments

def _fei_counts_mrc(path, *, legacy=False, pixel_size=1.0):
    """An MRC file as some FEI programs write it: uint16 counts in int16 (mode 1), an FEI extended header, a
    header pixel size of 1 Å; ``legacy`` removes the 'MAP' ID and the machine stamp (pre-2000 header)."""
    counts = np.random.default_rng(0).integers(30000, 45000, (64, 64)).astype(np.uint16)
    with mrcfile.new(path, overwrite=True) as mrc:
        mrc.set_data(counts.view(np.int16))
        mrc.set_extended_header(np.zeros(128, dtype=np.uint8))
        mrc.header.exttyp = b"FEI1"
        mrc.voxel_size = pixel_size
    if legacy:
        raw = bytearray(path.read_bytes())
        raw[208:216] = bytes(8)
        path.write_bytes(bytes(raw))
    return counts


def test_a_legacy_mrc_header_is_read_permissively_with_a_warning(tmp_path):
    counts = _fei_counts_mrc(tmp_path / "old.mrc", legacy=True, pixel_size=3.36)
    with pytest.warns(RuntimeWarning, match="legacy MRC header without the 'MAP' ID") as caught:
        image = io.read_image(tmp_path / "old.mrc", unsigned=True)
    assert np.array_equal(image.data, counts) and image.pixel_size == pytest.approx((3.36, 3.36))
    assert str(tmp_path / "old.mrc") in str(caught[0].message)
    with pytest.warns(RuntimeWarning, match="legacy MRC header"):
        assert np.array_equal(io.map_image(tmp_path / "old.mrc", unsigned=True).data, counts)


def test_a_file_without_the_map_id_whose_header_does_not_fit_is_refused(tmp_path):
    path = tmp_path / "noise.mrc"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(ValueError, match="not an MRC file .*do not describe this file"):
        io.read_image(path)


def test_wrapped_int16_counts_are_flagged_and_read_unsigned_on_request(tmp_path):
    counts = _fei_counts_mrc(tmp_path / "counts.mrc", pixel_size=2.0)
    with pytest.warns(RuntimeWarning, match=r"int16 data with \d+ % negative values looks like unsigned counts"):
        signed = io.read_image(tmp_path / "counts.mrc")
    assert signed.data.dtype == np.int16 and (signed.data < 0).mean() > 0.5
    unsigned = io.read_image(tmp_path / "counts.mrc", unsigned=True)
    assert unsigned.data.dtype == np.uint16 and np.array_equal(unsigned.data, counts)


@pytest.mark.parametrize("values", [np.random.default_rng(2).normal(0, 3000, 10000),  # a signed map
                                    np.random.default_rng(3).integers(100, 20000, 10000)])  # counts that fit
def test_real_signed_or_small_int16_data_is_not_flagged(values):
    assert io.wrapped_int16(np.clip(values, -32768, 32767).astype(np.int16)) is None


def test_int16_counts_that_all_wrapped_are_flagged():
    """Every value negative: counts all above 32767, or a signed image without a positive value (both doubtful)."""
    counts = np.random.default_rng(5).integers(40000, 45000, 10000).astype(np.uint16)
    assert io.wrapped_int16(counts.view(np.int16)) == 1.0


def test_a_pixel_size_of_exactly_one_angstrom_with_an_fei_header_is_probably_unset(tmp_path):
    _fei_counts_mrc(tmp_path / "fei.mrc")
    with pytest.warns(RuntimeWarning) as caught:
        io.read_image(tmp_path / "fei.mrc", unsigned=True)
    assert [str(w.message) for w in caught] == [f"{tmp_path / 'fei.mrc'}: the header's pixel size is exactly 1 Å on a "
                                                "file with an extended (FEI) header: probably unset; give the real "
                                                "one (pixel_size, CLI --pixel-size)"]
    io.write_mrc(tmp_path / "plain.mrc", np.ones((8, 8), np.float32) + np.eye(8, dtype=np.float32), 1.0)
    io.read_image(tmp_path / "plain.mrc")  # 1 Å without an extended header: no warning (errors are raised here)


# --- found by the fuzz tests (#24) ----------------------------------------------------------------
@pytest.mark.parametrize(("name", "data", "pixel_size", "unit", "match"), [
    ("complex.mrc", np.ones((4, 4), complex), 1.0, "Å", "data must hold real numbers, got dtype complex128"),
    ("huge.mrc", np.full((4, 4), 1e300), 1.0, "Å", "data has values beyond the float32 range"),
    ("huge.tif", np.full((4, 4), -1e300), 1.0, "nm", "data has values beyond the float32 range"),
    ("tiny.mrc", np.ones((4, 4)), 1e-300, "m", r"pixel_size \[1e-290, 1e-290\] Å cannot be stored in an MRC header"),
    ("wide.tif", np.ones((4, 4)), 1e10, "nm", r"pixel_size \[10000000000.0, 10000000000.0\] nm cannot be stored"),
    ("listed.tif", np.ones((4, 4)), 1.0, ["nm"], "unknown length unit"),
])
def test_write_image_refuses_what_would_not_read_back(name, data, pixel_size, unit, match, tmp_path):
    """Complex data (ComplexWarning, imaginary part dropped), values or pixel sizes beyond what the file holds
    (written as Inf, or read back as no pixel size), a unit that is not text (TypeError): no file is written."""
    path = tmp_path / name
    with pytest.raises(ValueError, match=f"^{path}: {match}"):
        io.write_image(path, data, pixel_size, unit)
    assert list(tmp_path.iterdir()) == []


def test_write_json_takes_0d_arrays_and_refuses_what_json_cannot_hold(tmp_path):
    io.write_json(tmp_path / "scalar.json", {"a": np.array(2.0), "b": np.array(np.nan)})  # was a TypeError
    assert json.loads((tmp_path / "scalar.json").read_text()) == {"a": 2.0, "b": None}
    for value in (1j, {1, 2}, b"bytes"):
        with pytest.raises(ValueError, match="^payload cannot be written as JSON"):
            io.write_json(tmp_path / "bad.json", {"a": value})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scalar.json"]


def test_write_npz_refuses_python_objects(tmp_path):
    """np.savez pickled them: the file could not be read without unpickling."""
    with pytest.raises(ValueError, match=r"arrays\['a'\] holds Python objects"):
        io.write_npz(tmp_path / "a.npz", {"a": None})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("name", "field", "content"), [("empty.npy", None, b""), ("magic.tif", None, b"II*\0"),
                                                        ("mode.mrc", 12, 99), ("columns.mrc", 0, -5)])
def test_the_streaming_readers_name_a_corrupt_file(name, field, content, tmp_path):
    """np.load's EOFError, tifffile's struct.error, mrcfile's warnings escaped map_image and lazy_image."""
    path = tmp_path / name
    if field is None:
        path.write_bytes(content)
    else:  # a valid MRC file with one header field overwritten
        io.write_mrc(path, np.ones((4, 4), np.float32))
        data = bytearray(path.read_bytes())
        data[field:field + 4] = np.int32(content).tobytes()
        path.write_bytes(bytes(data))
    for read in (io.map_image, io.lazy_image):
        with pytest.raises(ValueError, match=str(path)):
            read(path)
