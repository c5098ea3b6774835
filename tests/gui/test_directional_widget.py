"""The "Directional FSC" dock widget (issue #28): curves and histogram, the 3DFSC volume and the resolution surface
as layers, a click on the volume picks a direction, stale marking, 2-D layers refused by name."""

from types import SimpleNamespace

import numpy as np
import pytest
from napari.layers import Image, Surface
from napari.utils.interactions import mouse_press_callbacks, mouse_release_callbacks

from napari_resolution.core.directional import directional_fsc
from napari_resolution.core.simulate import anisotropic_pair
from napari_resolution.gui.layers import output_kind
from napari_resolution.gui.widgets.base import STALE
from napari_resolution.gui.widgets.directional import nearest_direction, parse_direction

SHAPE, SCALE = (48, 48, 48), (2.0, 1.0, 1.0)


@pytest.fixture(scope="module")
def pair():
    return anisotropic_pair(SHAPE, sigma=(3.0, 1.5, 1.5), noise=0.5, pixel_size=SCALE, seed=0)


class _Event:
    """A mouse event as napari hands it to callbacks (the press event's proxy follows the later events)."""

    def __init__(self, **fields):
        self.__wrapped__ = SimpleNamespace(is_dragging=False, dims_displayed=[1, 2], view_direction=None, **fields)

    def __getattr__(self, name):
        return getattr(self.__wrapped__, name)


def _click(layer, data_position):
    world = tuple(np.asarray(data_position) * np.asarray(layer.scale) + np.asarray(layer.translate))
    mouse_press_callbacks(layer, _Event(type="mouse_press", position=world))
    mouse_release_callbacks(layer, _Event(type="mouse_release", position=world))


def _run(make_napari_viewer, wait_idle, pair, **options):
    viewer = make_napari_viewer()
    for number, half in enumerate((pair.half1, pair.half2), 1):
        viewer.add_image(half, name=f"half {number}", scale=SCALE)
    _, widget = viewer.window.add_plugin_dock_widget("napari-resolution", "Directional FSC")
    widget.directions.value = 60
    for name, value in options.items():
        getattr(widget, name).value = value
    widget.run()
    wait_idle(widget)
    assert widget.result is not None
    return viewer, widget


def _legend(panel) -> list:
    return [label.text for _, label in panel.legend.items]


def test_a_run_shows_curves_histogram_summary_and_the_fourier_layers(make_napari_viewer, wait_idle, pair):
    viewer, widget = _run(make_napari_viewer, wait_idle, pair)
    assert widget.pixel_size.value == "2, 1, 1"  # the layers' anisotropic scale
    with pytest.warns(RuntimeWarning, match="never rise above the threshold"):  # 48³: some thin cones
        expected = directional_fsc(pair.half1, pair.half2, directions=60, pixel_size=SCALE, seed=0)
    result = widget.result
    np.testing.assert_allclose(result.resolutions, expected.resolutions, equal_nan=True)
    assert result.pixel_size == SCALE and result.cone_angle == 20 and result.criterion == "0.143"
    text = widget.result_line.text()
    assert "over 60 directions" in text and " · lateral " in text and " · axial " in text
    assert _legend(widget.panel)[:3] == ["FSC all directions", "FSC lateral", "FSC axial"]
    assert widget.curve_panels[1].latest.y_label == "directions"  # the histogram
    volume, surface = viewer.layers["half 1 3DFSC"], viewer.layers["half 1 resolution surface"]
    assert isinstance(volume, Image) and volume.data.shape == SHAPE
    np.testing.assert_allclose(volume.scale, SCALE)  # the maps' grid: the slice slider keeps the maps' step
    np.testing.assert_allclose(volume.metadata["frequency_step"], 1 / (np.array(SHAPE) * SCALE))
    assert viewer.dims.range[0].step == pytest.approx(SCALE[0])  # the maps' step along z, not a frequency step
    # the surface sits in the volume: a direction's vertex lies at its crossing, in Fourier voxels from the centre
    vertex = surface.data[0][0] * np.asarray(surface.scale) + np.asarray(surface.translate)
    crossing_voxels = result.directions[0] * np.array(SHAPE) * SCALE / result.resolutions[0]
    np.testing.assert_allclose(vertex, (crossing_voxels + np.array(SHAPE) // 2) * SCALE, rtol=1e-6)
    assert isinstance(surface, Surface) and surface.data[0].shape == (120, 3) and surface.data[2].shape == (120,)
    assert np.isnan(result.resolutions).any() and np.isfinite(surface.data[2]).all()  # unresolved: coarsest
    assert surface.data[2].max() == np.nanmax(result.resolutions)
    assert output_kind(volume) == "fsc_volume" and output_kind(surface) == "resolution_surface"
    for spec in widget.layer_inputs:  # outputs are never offered as inputs
        assert [layer.name for layer in widget.usable_layers(spec)] == ["half 1", "half 2"]
    assert "'half 1 3DFSC' is a 3DFSC volume" in widget.half1.tooltip
    widget.run()  # a re-run updates the same layers
    wait_idle(widget)
    assert len(viewer.layers) == 4


def test_a_click_on_the_volume_and_the_direction_box_add_that_direction(make_napari_viewer, wait_idle, pair):
    viewer, widget = _run(make_napari_viewer, wait_idle, pair)
    volume = viewer.layers["half 1 3DFSC"]
    viewer.layers.selection.active = volume
    _click(volume, (24 + 10, 24, 24))  # above the centre along z
    index = int(widget.direction.value)
    assert widget.result.directions[index][0] > 0.95
    assert widget.direction_line.text().startswith(f"direction {index} (z, y, x) = (0.99")
    assert any(name.startswith("FSC (0.99") for name in _legend(widget.panel))
    _click(volume, (24, 24 + 1, 24 + 12))  # along x (nearly)
    along_x = widget.result.directions[int(widget.direction.value)]
    assert abs(along_x[2]) > 0.9 and abs(along_x[0]) < 0.3
    widget.direction.value = "5"  # the field picks one too: by its index
    z, y, x = widget.result.directions[5]
    assert f"FSC ({z:.2f}, {y:.2f}, {x:.2f})" in _legend(widget.panel)
    assert not widget.result_line.stale  # the direction only changes the drawing
    widget.direction.value = "0, 0, -1"  # or the nearest to a vector
    z, y, x = widget.result.directions[nearest_direction(widget.result.directions, (0, 0, 1))]
    assert f"FSC ({z:.2f}, {y:.2f}, {x:.2f})" in _legend(widget.panel) and abs(x) > 0.9
    widget.direction.value = "up"
    assert widget.direction_line.text().startswith("direction must be an index from 0 to 59 or a vector z, y, x")
    assert not any(name.startswith("FSC (") for name in _legend(widget.panel))
    widget.direction.value = ""
    assert not any(name.startswith("FSC (") for name in _legend(widget.panel))


def test_nearest_direction_takes_either_sign_and_the_field_an_index_or_a_vector():
    directions = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]])
    assert nearest_direction(directions, (-0.1, -2.0, 0.3)) == 1
    assert nearest_direction(directions, (0, 0, 0)) is None
    assert parse_direction(" 2 ", directions) == 2 and parse_direction("0.1; 0; -3", directions) == 2
    assert parse_direction("", directions) is None
    for bad in ("3", "1.5", "0, 0, 0", "1, 2", "z"):
        with pytest.raises(ValueError, match="direction must be an index from 0 to 2"):
            parse_direction(bad, directions)


def test_the_result_goes_stale_when_an_input_changes(make_napari_viewer, wait_idle, pair):
    viewer, widget = _run(make_napari_viewer, wait_idle, pair)
    widget.cone_angle.value = 30
    assert widget.result_line.stale and widget.panel.stale_note == STALE
    widget.cone_angle.value = 20
    assert not widget.result_line.stale
    viewer.layers["half 2"].data = pair.half2 * 2
    assert widget.result_line.stale and all(panel.stale_note == STALE for panel in widget.curve_panels)


def test_2d_layers_are_named_and_randomisation_needs_a_mask(make_napari_viewer, notifications, pair):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((32, 32), np.float32), name="flat")
    _, widget = viewer.window.add_plugin_dock_widget("napari-resolution", "Directional FSC")
    assert widget.half1.value is None and "'flat' is 2-D, not 3-D" in widget.half1.tooltip
    widget.run()
    assert notifications[-1] == ("error", "choose a layer for Half-map 1: 'flat' is 2-D, not 3-D")
    for number, half in enumerate((pair.half1, pair.half2), 1):
        viewer.add_image(half, name=f"half {number}")
    widget.randomize.value = True
    widget.run()
    assert "phase randomisation needs a mask" in notifications[-1][1]
    assert not widget.runner.busy
