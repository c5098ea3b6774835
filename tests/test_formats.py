"""The field's readers (formats.py through io.read_image), RELION's STAR files and half-map pairs, and the CLI on them.

Every file is written here by the format's own library (RosettaSciIO for HyperSpy and Berkeley EMD, tifffile for
OME-TIFF, pylibCZIrw for CZI, ome-zarr for OME-Zarr); no library ships a sample file and nothing is downloaded.
DigitalMicrograph, TIA (.ser), ND2 and LIF have no writer: their dispatch, the conversion of their calibration and
the missing-plugin error are tested with the library's reader replaced by a stand-in that returns what it returns.
"""

import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import tifffile

from napari_resolution import formats, io
from napari_resolution.cli import main
from napari_resolution.core.simulate import phantom_pair
from napari_resolution.gui import reader
from napari_resolution.units import common_unit, readable_unit

RNG = np.random.default_rng(0)
VOLUME = RNG.standard_normal((4, 6, 8)).astype(np.float32)


def _axis(name, size, scale, units, navigate=False):
    return {"name": name, "size": size, "scale": scale, "offset": 0.0, "units": units, "navigate": navigate}


def _signal(data, axes, title="image"):
    """A signal as RosettaSciIO's readers return it and its writers take it (HyperSpy's dictionary)."""
    return {"data": data, "axes": axes, "metadata": {"General": {"title": title}, "Signal": {}},
            "original_metadata": {}, "tmp_parameters": {}, "attributes": {"_lazy": False},
            "package_info": {"name": "napari-resolution", "version": "test"}, "learning_results": {}, "models": {}}


# ----------------------------------------------------------------------------- electron microscopy (RosettaSciIO)
def test_hspy_written_by_rosettasciio_reads_its_calibration_in_one_unit(tmp_path):
    from rsciio.hspy import file_writer

    path = tmp_path / "volume.hspy"
    file_writer(str(path), _signal(VOLUME, [_axis("z", 4, 0.5, "nm"), _axis("y", 6, 2.0, "Å"),
                                            _axis("x", 8, 2.0, "Å")]), show_progressbar=False)
    image = io.read_image(path)
    np.testing.assert_array_equal(image.data, VOLUME)
    assert image.pixel_size == pytest.approx((5.0, 2.0, 2.0)) and image.unit == "Å" and image.axes == "ZYX"
    lazy = io.lazy_image(path)
    np.testing.assert_array_equal(lazy.data.compute(), VOLUME)
    assert lazy.pixel_size == image.pixel_size


def test_emd_written_by_rosettasciio_keeps_a_stack_axis_apart(tmp_path):
    from rsciio.emd import file_writer

    path = tmp_path / "series.emd"
    file_writer(str(path), _signal(VOLUME, [_axis("time", 4, 0.1, "s", navigate=True), _axis("y", 6, 0.25, "µm"),
                                            _axis("x", 8, 0.25, "µm")]))
    image = io.read_image(path)
    np.testing.assert_array_equal(image.data, VOLUME)
    assert image.axes == "QYX" and image.pixel_size == pytest.approx((1.0, 0.25, 0.25)) and image.unit == "µm"


@pytest.fixture
def em_reader(monkeypatch):
    """Replace RosettaSciIO's reader of a plugin by one returning given signals; returns the setter."""
    def use(plugin, signals):
        import importlib

        module = importlib.import_module(f"rsciio.{plugin}")
        monkeypatch.setattr(module, "file_reader", lambda filename, lazy=False: signals)
    return use


@pytest.mark.parametrize(("name", "plugin", "scale", "units", "sizes", "unit"), [
    ("image.dm3", "digitalmicrograph", 0.0426137, "µm", (0.0426137, 0.0426137), "µm"),
    ("image.DM4", "digitalmicrograph", 1.5, "nm", (1.5, 1.5), "nm"),
    ("image.ser", "tia", 1.2e-10, "m", (1.2, 1.2), "Å"),  # TIA in metres: made readable
    ("image.emd", "emd", 5e-9, "m", (5.0, 5.0), "nm"),
])
def test_em_formats_dispatch_to_rosettasciio_and_convert_the_calibration(tmp_path, em_reader, name, plugin, scale,
                                                                         units, sizes, unit):
    data = RNG.random((6, 8)).astype(np.float32)
    em_reader(plugin, [_signal(data, [_axis("y", 6, scale, units), _axis("x", 8, scale, units)])])
    path = tmp_path / name
    path.write_bytes(b"stand-in")
    image = io.read_image(path)
    assert image.data is data and image.axes == "YX"
    assert image.pixel_size == pytest.approx(sizes) and image.unit == unit


def test_a_diffraction_pattern_has_no_pixel_size_and_spectra_are_left_out(tmp_path, em_reader):
    pattern = RNG.random((6, 8))
    spectrum = _signal(RNG.random(100), [_axis("energy", 100, 0.1, "eV")], title="EDS")
    em_reader("emd", [spectrum, _signal(pattern, [_axis("ky", 6, 0.1, "1/nm"), _axis("kx", 8, 0.1, "1/nm")],
                                        title="DP")])
    path = tmp_path / "velox.emd"
    path.write_bytes(b"stand-in")
    with pytest.warns(RuntimeWarning, match=r"holds 2 signals \(EDS, DP\): read the first image, DP"):
        image = io.read_image(path)
    assert image.data is pattern and image.pixel_size is None and image.unit == "" and image.axes == "QQ"


def test_an_em_file_without_an_image_and_a_corrupt_one_name_the_file(tmp_path, em_reader):
    em_reader("digitalmicrograph", [_signal(RNG.random(100), [_axis("energy", 100, 0.1, "eV")])])
    path = tmp_path / "spectrum.dm3"
    path.write_bytes(b"stand-in")
    with pytest.raises(ValueError, match=r"spectrum.dm3: holds no image \(its 1 signal\(s\)"):
        io.read_image(path)
    corrupt = tmp_path / "corrupt.hspy"
    corrupt.write_bytes(b"not HDF5 at all")
    with pytest.raises(ValueError, match="corrupt.hspy: cannot read file"):
        io.read_image(corrupt)


# ----------------------------------------------------------------------------- light microscopy (bioio)
def test_ome_tiff_is_read_by_bioio_with_its_dimensions_and_units(tmp_path, monkeypatch):
    path = tmp_path / "cells.ome.tiff"
    data = RNG.integers(0, 4000, (3, 2, 5, 7), dtype=np.uint16)  # T, C, Y, X
    tifffile.imwrite(path, data, ome=True, metadata={"axes": "TCYX", "PhysicalSizeX": 65.0, "PhysicalSizeXUnit": "nm",
                                                     "PhysicalSizeY": 0.065})  # Y in µm (OME's default unit)
    read, read_bioio = [], formats.read_bioio
    monkeypatch.setattr(formats, "read_bioio", lambda path, **kw: read.append(path) or read_bioio(path, **kw))
    image = io.read_image(path)
    assert read == [path]
    np.testing.assert_array_equal(image.data, data)
    assert image.axes == "TCYX" and image.pixel_size == pytest.approx((1.0, 1.0, 65.0, 65.0)) and image.unit == "nm"
    mapped = io.map_image(path)  # tifffile's memory map, the same calibration through ome-types
    assert mapped.pixel_size == pytest.approx(image.pixel_size) and mapped.unit == "nm"


def test_czi_written_by_pylibczirw_is_read_by_bioio_czi(tmp_path):
    pytest.importorskip("bioio_czi")
    pyczi = pytest.importorskip("pylibCZIrw.czi")
    path = tmp_path / "stack.czi"
    data = RNG.integers(0, 4000, (3, 16, 20), dtype=np.uint16)
    with pyczi.create_czi(str(path)) as writer:
        for z, plane in enumerate(data):
            writer.write(plane, plane={"Z": z, "C": 0, "T": 0})
        writer.write_metadata(scale_x=0.1e-6, scale_y=0.1e-6, scale_z=0.5e-6)  # metres in the file
    image = io.read_image(path)
    np.testing.assert_array_equal(image.data, data)
    assert image.axes == "ZYX" and image.pixel_size == pytest.approx((0.5, 0.1, 0.1)) and image.unit == "µm"


class _StandInReader:
    """What a bioio plugin's Reader offers: dims (T, C, Z, Y, X), the data in an order, sizes in µm."""

    data = RNG.random((1, 2, 3, 6, 8))

    def __init__(self, path):
        self.path = path
        self.dims = types.SimpleNamespace(order="TCZYX", shape=self.data.shape)
        self.physical_pixel_sizes = types.SimpleNamespace(Z=0.4, Y=0.108, X=0.108)
        none = types.SimpleNamespace(unit=None)
        self.dimension_properties = types.SimpleNamespace(T=none, C=none, Z=none, Y=none, X=none)

    def get_image_data(self, order):
        assert order == "CZYX"
        return self.data[0]


@pytest.mark.parametrize("suffix", [".nd2", ".lif", ".czi"])
def test_nd2_lif_czi_dispatch_to_their_bioio_plugin(tmp_path, monkeypatch, suffix):
    _, module = formats.BIOIO_PLUGINS[suffix]
    monkeypatch.setitem(sys.modules, module, types.SimpleNamespace(Reader=_StandInReader))
    path = tmp_path / f"cells{suffix}"
    path.write_bytes(b"stand-in")
    image = io.read_image(path)
    np.testing.assert_array_equal(image.data, _StandInReader.data[0])
    assert image.axes == "CZYX" and image.pixel_size == pytest.approx((1.0, 0.4, 0.108, 0.108))
    assert image.unit == "µm"


@pytest.mark.parametrize("suffix", [".nd2", ".lif", ".czi"])
def test_a_missing_bioio_plugin_names_the_extra_to_install(tmp_path, monkeypatch, suffix):
    distribution, module = formats.BIOIO_PLUGINS[suffix]
    monkeypatch.setitem(sys.modules, module, None)  # import fails as when it is not installed
    path = tmp_path / f"cells{suffix}"
    path.write_bytes(b"stand-in")
    with pytest.raises(ValueError) as caught:
        io.read_image(path)
    assert str(caught.value) == (f"{path}: reading {suffix} files needs the bioio plugin {distribution}: "
                                 "pip install 'napari-resolution[formats]'")


# ----------------------------------------------------------------------------- OME-Zarr (ome-zarr)
def test_ome_zarr_written_by_ome_zarr_is_read_with_its_scale_and_units(tmp_path):
    import zarr

    with formats._quiet():
        from ome_zarr.writer import write_image
    path = tmp_path / "written_by_ome_zarr.ome.zarr"
    write_image(VOLUME, zarr.open_group(str(path), mode="w"), axes="zyx", scale_factors=[],
                scale={"z": 0.5, "y": 0.25, "x": 0.25}, axes_units={"z": "micrometer", "y": "micrometer",
                                                                   "x": "micrometer"})
    image = io.read_image(path)
    np.testing.assert_array_equal(image.data, VOLUME)
    assert image.axes == "ZYX" and image.pixel_size == pytest.approx((0.5, 0.25, 0.25)) and image.unit == "µm"
    lazy = io.lazy_image(path)
    assert type(lazy.data).__name__ == "Array" and lazy.pixel_size == image.pixel_size


def test_write_image_ome_zarr_holds_the_scale_as_ngff_coordinate_transformations(tmp_path):
    import zarr

    path = tmp_path / "map.ome.zarr"
    io.write_image(path, VOLUME, (1.5, 1.25, 1.0), "Å")
    metadata = zarr.open_group(str(path), mode="r").attrs.asdict()
    multiscale = metadata.get("ome", metadata)["multiscales"][0]
    assert multiscale["datasets"][0]["coordinateTransformations"] == [{"type": "scale", "scale": [1.5, 1.25, 1.0]}]
    assert [axis["unit"] for axis in multiscale["axes"]] == ["angstrom"] * 3
    image = io.read_image(path)
    np.testing.assert_array_equal(image.data, VOLUME)
    assert image.pixel_size == pytest.approx((1.5, 1.25, 1.0)) and image.unit == "Å"
    io.write_image(path, VOLUME[0], 2.0, "nm")  # replaced whole, nothing left beside it
    assert io.read_image(path).pixel_size == pytest.approx((2.0, 2.0))
    assert [p.name for p in tmp_path.iterdir()] == ["map.ome.zarr"]
    plain = tmp_path / "map.zarr"  # a plain zarr array, as before
    io.write_image(plain, VOLUME, 0.5, "nm")
    assert io.read_image(plain).pixel_size == pytest.approx((0.5, 0.5, 0.5)) and not formats.is_ome_zarr(plain)


def test_the_napari_reader_opens_the_new_formats_and_zarr_folders_lazily(tmp_path):
    path = tmp_path / "map.ome.zarr"
    io.write_image(path, VOLUME, (1.5, 1.25, 1.0), "Å")
    for name in ("a.dm4", "b.emd", "c.ser", "d.hspy", "e.nd2", "f.czi", "g.LIF", "h.ome.tif", str(path) + "/"):
        assert reader.get_reader(str(tmp_path / name)) is reader.read_layers, name
    assert reader.get_reader(str(tmp_path / "x.npy")) is None
    [(data, kwargs, kind)] = reader.read_layers(str(path))
    assert type(data).__name__ == "Array" and kind == "image" and kwargs["name"] == "map"
    assert kwargs["scale"] == pytest.approx((1.5, 1.25, 1.0)) and kwargs["units"] == ("angstrom",) * 3


def test_units_are_made_readable_and_common():
    assert readable_unit(1.2e-10, "m") == "Å" and readable_unit(2e-7, "m") == "nm" and readable_unit(0.5, "mm") == "µm"
    assert readable_unit(0.0426, "µm") == "µm"
    assert common_unit({"Z": (0.5, "micrometer"), "X": (100, "nanometre"), "Y": (0.1, "µm")}) == \
        ({"Z": 500.0, "X": 100.0, "Y": 100.0}, "nm")
    assert common_unit({"Y": (1.0, "nm")}) is None and common_unit({"X": (1.0, "inch")}) is None
    assert common_unit({"X": (0.0, "nm")}) is None


# ----------------------------------------------------------------------------- RELION: STAR files and pairs
MODEL_STAR = """
data_model_general

_rlnReferenceDimensionality                        3
_rlnOriginalImageSize                            256
_rlnPixelSize                               1.060000

data_model_classes

loop_
_rlnReferenceImage #1
_rlnClassDistribution #2
Refine3D/job012/run_class001.mrc     1.000000
"""
DATA_STAR = """
data_optics

loop_
_rlnOpticsGroupName #1
_rlnOpticsGroup #2
_rlnImagePixelSize #3
opticsGroup1 1 {first}
opticsGroup2 2 {second}

data_particles

loop_
_rlnImageName #1
_rlnOpticsGroup #2
000001@Extract/job007/particles.mrcs 1
"""


def test_star_pixel_size_from_the_model_and_from_the_optics_groups(tmp_path):
    (tmp_path / "run_model.star").write_text(MODEL_STAR)
    (tmp_path / "run_data.star").write_text(DATA_STAR.format(first=0.83, second=0.83))
    assert io.star_pixel_size(tmp_path / "run_model.star") == pytest.approx(1.06)
    assert io.star_pixel_size(tmp_path / "run_data.star") == pytest.approx(0.83)


@pytest.mark.parametrize(("content", "message"), [
    (DATA_STAR.format(first=0.83, second=1.06), "_rlnImagePixelSize must be one positive number, got 0.83, 1.06"),
    ("data_x\n\nloop_\n_rlnImageName #1\na.mrcs\n", "no pixel size in it"),
    (None, "no such STAR file"),
])
def test_star_pixel_size_says_why_there_is_none(tmp_path, content, message):
    path = tmp_path / "run_data.star"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ValueError, match=f"^{path}: {message}"):
        io.star_pixel_size(path)


def _job(folder, *names, data=None):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        if data is None:
            (folder / name).write_bytes(b"")
        else:
            io.write_image(folder / name, data[name.count("half2")], 1.0, "")
    return folder


def test_half_map_partners_by_relion_and_cryosparc_names(tmp_path):
    job = _job(tmp_path / "half1", "run_half1_class001_unfil.mrc", "run_half2_class001_unfil.mrc",
               "J12_map_half_A.mrc", "J12_map_half_B.mrc", "lonely_half1.mrc")
    assert io.half_map_partner(job / "run_half1_class001_unfil.mrc") == job / "run_half2_class001_unfil.mrc"
    assert io.half_map_partner(job / "run_half2_class001_unfil.mrc") == job / "run_half1_class001_unfil.mrc"
    assert io.half_map_partner(job / "J12_map_half_A.mrc") == job / "J12_map_half_B.mrc"
    assert io.half_map_partner(job / "lonely_half1.mrc") is None  # the folder's name is not swapped
    assert io.half_map_names(job / "lonely_half1.mrc") == [job / "lonely_half2.mrc"]  # what it would be named
    assert io.half_map_names(job / "J12_map.mrc") == []  # no half-map's name


def test_half_map_pairs_in_a_folder_of_relion_jobs(tmp_path):
    _job(tmp_path / "Refine3D" / "job012", "run_half1_class001_unfil.mrc", "run_half2_class001_unfil.mrc",
         "run_it010_half1_class001.mrc", "run_it010_half2_class001.mrc", "run_half1_model.star")
    _job(tmp_path / "Refine3D" / "job020", "run_it003_half1_class001.mrc", "run_it003_half2_class001.mrc")
    pairs = io.half_map_pairs(tmp_path, io.IMAGE_SUFFIXES)
    assert [(first.relative_to(tmp_path).as_posix(), second.name) for first, second in pairs] == [
        ("Refine3D/job012/run_half1_class001_unfil.mrc", "run_half2_class001_unfil.mrc"),
        ("Refine3D/job020/run_it003_half1_class001.mrc", "run_it003_half2_class001.mrc")]  # a job still running


@pytest.fixture(scope="module")
def halves():
    pair = phantom_pair((32, 32, 32), seed=3)
    return pair.half1.astype(np.float32), pair.half2.astype(np.float32)


def test_fsc_finds_the_second_half_map_and_the_pixel_size_of_run_model_star(tmp_path, halves, capsys):
    job = _job(tmp_path / "job012", "run_half1_class001_unfil.npy", "run_half2_class001_unfil.npy", data=halves)
    (job / "run_model.star").write_text(MODEL_STAR)
    assert main(["fsc", str(job / "run_half1_class001_unfil.npy"), "--json", str(tmp_path / "r.json")]) == 0
    out, err = capsys.readouterr()
    assert "Å (half-bit, full period)" in out
    assert f"note: second half-map: {job / 'run_half2_class001_unfil.npy'}" in err
    assert f"note: pixel size 1.06 Å from {job / 'run_model.star'}" in err
    assert json.loads((tmp_path / "r.json").read_text())["pixel_size"] == pytest.approx([1.06] * 3)


@pytest.mark.parametrize("command", ["fsc", "ssnr", "local-fsc", "dfsc"])
def test_one_half_map_without_a_partner_is_a_usage_error(tmp_path, halves, capsys, command):
    _job(tmp_path, "map_half1.npy", data=halves)
    outputs = ["--out", str(tmp_path / "m.tif")] if command == "local-fsc" else []
    assert main([command, str(tmp_path / "map_half1.npy"), *outputs]) == 2
    assert capsys.readouterr().err == (f"napari-resolution: error: {tmp_path / 'map_half1.npy'}: one half-map given, "
                                       "and no second one named like it beside it (half2 for half1, as RELION's "
                                       "run_half1_class001_unfil.mrc and run_half2_class001_unfil.mrc; half_B for "
                                       "half_A): give both\n")


def test_pixel_size_from_a_star_file_and_its_errors(tmp_path, halves, capsys):
    _job(tmp_path, "h_half1.npy", "h_half2.npy", data=halves)
    (tmp_path / "run_data.star").write_text(DATA_STAR.format(first=0.83, second=0.83))
    args = [str(tmp_path / "h_half1.npy"), str(tmp_path / "h_half2.npy")]
    assert main(["fsc", *args, "--pixel-size-from", str(tmp_path / "run_data.star"),
                 "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["pixel_size"] == pytest.approx([0.83] * 3)
    assert main(["fsc", *args, "--pixel-size-from", str(tmp_path / "run_data.star"), "--json",
                 str(tmp_path / "run_data.star")]) == 2
    assert "is the input" in capsys.readouterr().err
    assert main(["fsc", *args, "--pixel-size-from", str(tmp_path / "missing.star")]) == 2
    assert "missing.star: no such STAR file" in capsys.readouterr().err


def test_batch_fsc_on_a_folder_of_relion_jobs(tmp_path, halves, capsys):
    names = ("run_half1_class001_unfil.npy", "run_half2_class001_unfil.npy")
    for job in ("job012", "job020"):
        _job(tmp_path / "Refine3D" / job, *names, data=halves)
    out = tmp_path / "Refine3D" / "results"  # inside the folder of pairs: it holds none of them
    assert main(["batch", "fsc", "--pairs", str(tmp_path / "Refine3D"), "--out", str(out)]) == 0
    rows = (out / "summary.csv").read_text().splitlines()
    assert rows[0].startswith("name,half1,half2,status")
    assert [row.split(",")[:3] for row in rows[1:]] == [
        ["job012_run_half1_class001_unfil", str(Path("job012", names[0])), str(Path("job012", names[1]))],
        ["job020_run_half1_class001_unfil", str(Path("job020", names[0])), str(Path("job020", names[1]))]]
    assert all(",resolved,resolution," in row for row in rows[1:])
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["batch", "fsc", "--pairs", str(empty), "--out", str(out)]) == 2
    assert "no half-map pairs in it or its subfolders" in capsys.readouterr().err


def test_local_fsc_writes_an_ome_zarr_map_with_its_scale(tmp_path, halves):
    _job(tmp_path, "h_half1.npy", "h_half2.npy", data=halves)
    out = tmp_path / "local.ome.zarr"
    assert main(["local-fsc", str(tmp_path / "h_half1.npy"), "--out", str(out), "--box", "16",
                 "--pixel-size", "1.5", "--unit", "Å"]) == 0
    image = io.read_image(out)
    assert image.data.shape == (32, 32, 32) and image.pixel_size == pytest.approx((1.5,) * 3) and image.unit == "Å"
    assert formats.is_ome_zarr(out) and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
