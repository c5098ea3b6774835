import mrcfile
import numpy as np
import pytest
import tifffile
from napari.layers import Points
from npe2 import PluginManifest

from napari_resolution import io
from napari_resolution.gui.reader import get_localization_reader, get_reader, read_layers, read_localization_layers
from napari_resolution.gui.widgets.base import EstimatorWidget
from napari_resolution.gui.writer import write_image_layer

WIDGETS = ["Fourier shell correlation", "SSNR", "Mask", "Decorrelation analysis", "MTF", "Local resolution",
           "Tomography split", "Blink PSF", "Directional FSC", "Localisation FRC"]


def test_manifest_is_valid():
    manifest = PluginManifest.from_distribution("napari-resolution")
    manifest.validate_imports()
    assert {w.display_name for w in manifest.contributions.widgets} == set(WIDGETS)
    extensions = {ext for writer in manifest.contributions.writers for ext in writer.filename_extensions}
    assert extensions == {".mrc", ".map", ".rec", ".mrcs", ".tif", ".tiff"}
    assert {"*.tif", "*.tiff"} <= set(manifest.contributions.readers[0].filename_patterns)
    assert {"*.csv", "*.tsv", "*.txt", "*.hdf5", "*.mat"} <= set(manifest.contributions.readers[1].filename_patterns)


@pytest.mark.parametrize("name", WIDGETS)
def test_every_widget_docks(make_napari_viewer, name):
    viewer = make_napari_viewer()
    dock, widget = viewer.window.add_plugin_dock_widget("napari-resolution", name)
    assert isinstance(widget, EstimatorWidget)
    assert dock.widget().isAncestorOf(widget) or dock.widget() is widget
    assert widget.isVisibleTo(dock) and widget.inputs.native.isVisibleTo(dock)


def test_sample_data_carries_the_known_answer(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-resolution", "image_pair")
    assert [layer.name for layer in viewer.layers] == ["image 1", "image 2"]
    layer = viewer.layers["image 1"]
    assert tuple(layer.scale) == (10.0, 10.0)
    assert layer.metadata["unit"] == "nm"
    assert layer.metadata["known_resolution"] > 20


def test_reader_sets_scale_from_voxel_size(make_napari_viewer, tmp_path):
    path = tmp_path / "map.mrc"
    with mrcfile.new(path) as mrc:
        mrc.set_data(np.random.default_rng(0).standard_normal((16, 20, 24)).astype(np.float32))
        mrc.voxel_size = 1.5
    assert get_reader(str(path)) is read_layers
    assert get_reader(str(tmp_path / "image.png")) is None
    viewer = make_napari_viewer()
    viewer.open(str(path), plugin="napari-resolution")
    layer = viewer.layers["map"]
    np.testing.assert_allclose(layer.scale, (1.5, 1.5, 1.5))
    assert layer.metadata["unit"] == "Å"
    assert [str(unit) for unit in layer.units] == ["angstrom"] * 3
    assert layer.data.shape == (16, 20, 24)


def test_reader_rejects_corrupt_file_with_a_clear_message(make_napari_viewer, tmp_path):
    path = tmp_path / "broken.mrc"
    with mrcfile.new(path) as mrc:
        mrc.set_data(np.zeros((8, 8, 8), np.float32))
    path.write_bytes(path.read_bytes()[:1100])  # truncate the data block
    with pytest.raises(ValueError, match="broken.mrc"):
        read_layers(str(path))
    viewer = make_napari_viewer()
    with pytest.raises(Exception, match="broken.mrc"):
        viewer.open(str(path), plugin="napari-resolution")
    assert len(viewer.layers) == 0


# --- TIFF reader --------------------------------------------------------------------------------


def _imagej_stack(tmp_path):
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, np.zeros((3, 5, 7), np.float32), imagej=True, resolution=(1 / 0.25, 1 / 0.5),
                     metadata={"spacing": 2.0, "unit": "um", "axes": "ZYX"})
    return path


def test_reader_takes_tiff_files(tmp_path):
    assert get_reader(str(tmp_path / "a.tif")) is read_layers
    assert get_reader([str(tmp_path / "a.TIFF"), str(tmp_path / "b.mrc")]) is read_layers
    assert get_reader([str(tmp_path / "a.tif"), str(tmp_path / "b.png")]) is None


def test_tiff_reader_scale_and_units_from_imagej_calibration(tmp_path):
    path = _imagej_stack(tmp_path)
    [(data, kwargs, kind)] = read_layers(str(path))
    assert kind == "image" and data.shape == (3, 5, 7)
    assert kwargs["name"] == "stack"
    assert kwargs["scale"] == pytest.approx((2.0, 0.5, 0.25))
    assert kwargs["units"] == ("micrometer",) * 3
    assert kwargs["metadata"] == {"pixel_size": pytest.approx((2.0, 0.5, 0.25)), "unit": "µm", "source": str(path)}


def test_tiff_reader_scale_and_units_from_ome_metadata(tmp_path):
    path = tmp_path / "cells.ome.tif"
    tifffile.imwrite(path, np.zeros((2, 5, 7), np.uint16), ome=True, metadata={
        "axes": "CYX", "PhysicalSizeX": 65.0, "PhysicalSizeXUnit": "nm", "PhysicalSizeY": 70.0,
        "PhysicalSizeYUnit": "nm"})
    [(_, kwargs, _)] = read_layers(str(path))
    assert kwargs["name"] == "cells"
    assert kwargs["scale"] == pytest.approx((1.0, 70.0, 65.0))  # the channel axis is not in nm
    assert kwargs["units"] == ("pixel", "nanometer", "nanometer")
    assert kwargs["metadata"]["unit"] == "nm"


def test_tiff_reader_rgb_and_uncalibrated_files(tmp_path):
    colour = tmp_path / "colour.tif"
    tifffile.imwrite(colour, np.zeros((5, 7, 3), np.uint8), photometric="rgb")
    [(_, kwargs, _)] = read_layers(str(colour))
    assert kwargs["rgb"] is True and kwargs["scale"] == (1.0, 1.0) and "units" not in kwargs
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, np.zeros((5, 7), np.uint8))
    [(_, kwargs, _)] = read_layers(str(plain))
    assert kwargs["rgb"] is False and kwargs["metadata"]["unit"] == ""


def test_napari_opens_a_tiff_with_its_scale_and_units(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    viewer.open(str(_imagej_stack(tmp_path)), plugin="napari-resolution")
    layer = viewer.layers["stack"]
    np.testing.assert_allclose(layer.scale, (2.0, 0.5, 0.25))
    assert [str(unit) for unit in layer.units] == ["micrometer"] * 3
    assert layer.metadata["unit"] == "µm"


# --- writer -------------------------------------------------------------------------------------


def _state(layer):
    return layer.as_layer_data_tuple()[:2]


@pytest.mark.parametrize(("name", "read_sizes", "read_unit"), [
    ("out.mrc", (20.0, 1.0, 1.0), "Å"),  # nm -> Å
    ("out.tif", (2.0, 0.1, 0.1), "nm"),
])
def test_writer_keeps_the_pixel_size_of_a_layer_with_units(make_napari_viewer, tmp_path, name, read_sizes,
                                                            read_unit):
    viewer = make_napari_viewer()
    layer = viewer.add_image(np.random.default_rng(0).random((3, 5, 7)), scale=(2.0, 0.1, 0.1),
                             units=("nanometer",) * 3)
    path = str(tmp_path / name)
    assert write_image_layer(path, *_state(layer)) == [path]
    image = io.read_image(path)
    assert image.pixel_size == pytest.approx(read_sizes, rel=1e-6)
    assert image.unit == read_unit
    np.testing.assert_allclose(image.data, layer.data, rtol=1e-6)


def test_napari_saves_a_layer_through_the_writer(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    layer = viewer.add_image(np.ones((5, 7), np.float32), scale=(0.5, 0.5), units=("micrometer",) * 2)
    path = tmp_path / "saved.mrc"
    layer.save(str(path), plugin="napari-resolution")
    assert io.read_image(path).pixel_size == pytest.approx((5000.0, 5000.0))


def test_writer_takes_the_unit_from_metadata_when_the_layer_has_none(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    layer = viewer.add_image(np.ones((5, 7)), scale=(10.0, 10.0), metadata={"pixel_size": (10.0, 10.0), "unit": "nm"})
    write_image_layer(str(tmp_path / "out.mrc"), *_state(layer))
    assert io.read_image(tmp_path / "out.mrc").pixel_size == pytest.approx((100.0, 100.0))
    write_image_layer(str(tmp_path / "out.tif"), *_state(layer))
    image = io.read_image(tmp_path / "out.tif")
    assert image.pixel_size == pytest.approx((10.0, 10.0)) and image.unit == "nm"


def test_writer_refuses_rgb_layers_naming_the_file(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    layer = viewer.add_image(np.zeros((5, 7, 3), np.uint8), rgb=True)
    path = str(tmp_path / "colour.tif")
    with pytest.raises(ValueError, match="colour.tif.*RGB"):
        write_image_layer(path, *_state(layer))


# --- localisation tables ------------------------------------------------------------------------


def _thunderstorm_csv(path, rows=300):
    """A ThunderSTORM CSV (quoted header, columns beside the recognised ones) of ``rows`` localisations in nm."""
    rng = np.random.default_rng(0)
    table = {"id": np.arange(1, rows + 1), "frame": rng.integers(1, 50, rows), "x [nm]": rng.uniform(0, 2000, rows),
             "y [nm]": rng.uniform(0, 1000, rows), "sigma [nm]": np.full(rows, 120.0),
             "intensity [photon]": rng.uniform(500, 900, rows), "uncertainty [nm]": rng.uniform(5, 15, rows)}
    header = ",".join(f'"{name}"' for name in table)
    rows_text = "".join(",".join(f"{v:.17g}" for v in row) + "\n" for row in zip(*table.values()))
    path.write_text(f"{header}\n{rows_text}")
    return table


def test_localization_reader_opens_a_thunderstorm_csv_as_points(make_napari_viewer, tmp_path):
    """2-D (y, x) points in the table's unit, the frame and precision as features under their own names."""
    path = tmp_path / "locs.csv"
    table = _thunderstorm_csv(path)
    assert get_localization_reader(str(path)) is read_localization_layers
    [(data, kwargs, kind)] = read_localization_layers(str(path))
    assert kind == "points" and kwargs["name"] == "locs"
    np.testing.assert_allclose(data, np.column_stack([table["y [nm]"], table["x [nm]"]]))
    assert list(kwargs["features"]) == ["frame", "uncertainty [nm]"]
    np.testing.assert_allclose(kwargs["features"]["uncertainty [nm]"], table["uncertainty [nm]"])
    assert kwargs["units"] == ("nanometer", "nanometer") and kwargs["metadata"]["unit"] == "nm"
    viewer = make_napari_viewer()
    viewer.open(str(path), plugin="napari-resolution")
    layer = viewer.layers["locs"]
    assert isinstance(layer, Points) and layer.data.shape == (300, 2)
    np.testing.assert_array_equal(layer.features["frame"], table["frame"])


def test_localization_reader_converts_a_precision_named_in_another_unit(tmp_path):
    """Positions in µm, precision in nm: the feature keeps its name and its values (the name states its unit)."""
    path = tmp_path / "micrometres.tsv"
    path.write_text("x [µm]\ty [µm]\tuncertainty [nm]\n" + "".join(f"{i / 100}\t{i / 50}\t12\n" for i in range(5)))
    [(data, kwargs, _)] = read_localization_layers(str(path))
    np.testing.assert_allclose(data[:, 0], np.arange(5) / 50)
    assert kwargs["metadata"]["unit"] == "µm"
    np.testing.assert_allclose(kwargs["features"]["uncertainty [nm]"], 12.0)


def test_localization_reader_declines_other_files(tmp_path):
    """Only tables with recognised localisation columns (or Picasso, SMAP, rapidSTORM files) are claimed: other
    CSVs (napari's own points, any table), text and HDF5 files are left to other readers."""
    others = {"napari_points.csv": "index,axis-0,axis-1\n0,1.5,2.5\n", "measurements.csv": "area,mean\n3,4\n",
              "notes.txt": "x and y were measured\nin nm\n", "empty.csv": "",
              "words.csv": "frame,x,y\none,two,three\n"}
    for name, text in others.items():
        (tmp_path / name).write_text(text)
        assert get_localization_reader(str(tmp_path / name)) is None, name
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "image.h5", "w") as handle:
        handle.create_dataset("data", data=np.zeros((4, 4)))
    scipy_io = pytest.importorskip("scipy.io")
    scipy_io.savemat(tmp_path / "other.mat", {"image": np.zeros((4, 4))})
    for name in ("image.h5", "other.mat", "missing.csv", "locs.mrc"):
        assert get_localization_reader(str(tmp_path / name)) is None, name
    assert get_localization_reader([str(tmp_path / "measurements.csv")] * 2) is None


def test_localization_reader_takes_picasso_and_smap_files(tmp_path):
    h5py = pytest.importorskip("h5py")
    scipy_io = pytest.importorskip("scipy.io")
    rows = np.arange(1.0, 6.0)
    locs = np.rec.fromarrays([rows.astype(np.uint32), rows, 2 * rows, rows / 10, rows / 10],
                             names=("frame", "x", "y", "lpx", "lpy"))
    with h5py.File(tmp_path / "picasso.hdf5", "w") as handle:
        handle.create_dataset("locs", data=locs)
    (tmp_path / "picasso.yaml").write_text("Pixelsize: 130\n")
    [(data, kwargs, _)] = read_localization_layers(str(tmp_path / "picasso.hdf5"))
    np.testing.assert_allclose(data, np.column_stack([2 * rows, rows]) * 130)
    assert list(kwargs["features"]) == ["frame", "precision"] and kwargs["metadata"]["unit"] == "nm"
    np.testing.assert_allclose(kwargs["features"]["precision"], rows * 13)  # in the points' nm, as named (no unit)
    scipy_io.savemat(tmp_path / "smap_sml.mat", {"saveloc": {"loc": {"xnm": rows[:, None], "ynm": rows[:, None],
                                                                     "frame": rows[:, None]}}})
    assert get_localization_reader(str(tmp_path / "smap_sml.mat")) is read_localization_layers
    [(_, kwargs, _)] = read_localization_layers(str(tmp_path / "smap_sml.mat"))
    assert list(kwargs["features"]) == ["frame"] and "units" in kwargs
