import mrcfile
import numpy as np
import pytest
from npe2 import PluginManifest

from napari_resolution.gui.reader import get_reader, read_mrc
from napari_resolution.gui.widgets.base import EstimatorWidget

WIDGETS = ["Fourier shell correlation", "SSNR", "Mask", "Decorrelation analysis", "MTF"]


def test_manifest_is_valid():
    manifest = PluginManifest.from_distribution("napari-resolution")
    manifest.validate_imports()
    assert {w.display_name for w in manifest.contributions.widgets} == set(WIDGETS)


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
    assert get_reader(str(path)) is read_mrc
    assert get_reader(str(tmp_path / "image.png")) is None
    viewer = make_napari_viewer()
    viewer.open(str(path), plugin="napari-resolution")
    layer = viewer.layers["map"]
    np.testing.assert_allclose(layer.scale, (1.5, 1.5, 1.5))
    assert layer.metadata["unit"] == "Å"
    assert layer.data.shape == (16, 20, 24)


def test_reader_rejects_corrupt_file_with_a_clear_message(make_napari_viewer, tmp_path):
    path = tmp_path / "broken.mrc"
    with mrcfile.new(path) as mrc:
        mrc.set_data(np.zeros((8, 8, 8), np.float32))
    path.write_bytes(path.read_bytes()[:1100])  # truncate the data block
    with pytest.raises(ValueError, match="broken.mrc"):
        read_mrc(str(path))
    viewer = make_napari_viewer()
    with pytest.raises(Exception, match="broken.mrc"):
        viewer.open(str(path), plugin="napari-resolution")
    assert len(viewer.layers) == 0
