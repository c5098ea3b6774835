import mrcfile
import numpy as np
import pytest
import tifffile
from npe2 import PluginManifest

from napari_resolution import io
from napari_resolution.gui.reader import get_reader, read_layers
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
