"""``napari-resolution view``: the viewer opens with the files (or a sample) and the widget docked."""

import numpy as np
import pytest

from napari_resolution import io
from napari_resolution.cli import main
from napari_resolution.gui import launch
from napari_resolution.gui.widgets.decorrelation import DecorrelationWidget
from napari_resolution.gui.widgets.fourier import FourierCorrelationWidget


@pytest.fixture
def opened(qtbot):
    """Calls open_viewer(show=False) and closes every viewer it opened."""
    viewers = []

    def open_(*args, **kwargs):
        viewers.append(launch.open_viewer(*args, show=False, **kwargs))
        return viewers[-1]

    yield open_
    for viewer in viewers:
        viewer.close()


def _docked(viewer, widget_class):
    return [widget for widget in viewer.window.dock_widgets.values() if isinstance(widget, widget_class)]


def test_two_maps_open_with_their_voxel_size_and_the_fsc_docked(opened, tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for name in ("half1.mrc", "half2.mrc"):
        io.write_mrc(tmp_path / name, rng.standard_normal((16, 16, 16)).astype(np.float32), (1.5, 1.5, 1.5))
        paths.append(tmp_path / name)
    viewer = opened(paths)
    assert [layer.name for layer in viewer.layers] == ["half1", "half2"]
    assert tuple(viewer.layers[0].scale) == pytest.approx((1.5, 1.5, 1.5))
    (dock,) = _docked(viewer, FourierCorrelationWidget)
    assert dock.pixel_size.value == "1.5"


def test_one_image_docks_decorrelation(opened, tmp_path):
    np.save(tmp_path / "cells.npy", np.random.default_rng(1).standard_normal((64, 64)))
    viewer = opened([tmp_path / "cells.npy"])
    assert len(viewer.layers) == 1
    assert _docked(viewer, DecorrelationWidget)


def test_no_file_opens_the_sample_with_a_known_answer(opened):
    viewer = opened([])
    assert [layer.name for layer in viewer.layers] == ["half-map 1", "half-map 2"]
    assert "known_resolution" in viewer.layers[0].metadata


def test_the_local_resolution_widget_docks_on_the_sample(opened):
    from napari_resolution.gui.widgets.local import LocalResolutionWidget

    viewer = opened([], "local")
    (dock,) = _docked(viewer, LocalResolutionWidget)
    assert dock.half1.value.name == "half-map 1" and dock.half2.value.name == "half-map 2"


def test_missing_file_and_unknown_widget_are_errors_naming_them(tmp_path, capsys):
    with pytest.raises(ValueError, match="nothing.mrc: no such file"):
        launch.open_viewer([tmp_path / "nothing.mrc"], show=False)
    with pytest.raises(ValueError, match="is a directory"):
        launch.open_viewer([tmp_path], show=False)
    with pytest.raises(ValueError, match="widget must be one of"):
        launch.open_viewer([], "fft", show=False)
    assert main(["view", str(tmp_path / "nothing.mrc")]) == 2
    assert "nothing.mrc: no such file" in capsys.readouterr().err


def test_one_map_docks_local_resolution_in_single_map_mode(opened, tmp_path):
    from napari_resolution.gui.widgets.local import SINGLE_MAP, LocalResolutionWidget

    rng = np.random.default_rng(2)
    io.write_mrc(tmp_path / "map.mrc", rng.standard_normal((16, 16, 16)).astype(np.float32), (1.5, 1.5, 1.5))
    viewer = opened([tmp_path / "map.mrc"], "local")
    (widget,) = _docked(viewer, LocalResolutionWidget)
    assert widget.method.value == SINGLE_MAP and widget.half1.value is viewer.layers["map"]
    assert widget.half2.value is None
