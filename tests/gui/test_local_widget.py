"""The "Local resolution" dock widget: map layer, histogram, colour bar, click-to-inspect, clean-up."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from napari.layers import Shapes
from napari.utils.interactions import mouse_move_callbacks, mouse_press_callbacks, mouse_release_callbacks

from napari_resolution.core.local import local_fsc
from napari_resolution.core.simulate import phantom_pair
from napari_resolution.core.single_map import SingleMapResult, local_resolution
from napari_resolution.gui.widgets.local import (
    HALF_MAPS,
    NOISE_LEVEL,
    SINGLE_MAP,
    LocalResolutionWidget,
    contrast_limits,
)

SCALE, TRANSLATE = (1.5, 1.5, 1.5), (3.0, 0.0, -6.0)


@pytest.fixture(scope="module")
def pair3():
    return phantom_pair((48, 48, 48), sigma=2.0, noise=0.5, seed=0, dtype=np.float32)


@pytest.fixture(scope="module")
def pair2():
    return phantom_pair((128, 128), sigma=2.0, noise=0.5, seed=0, dtype=np.float32)


class _Event:
    """A mouse event as napari hands it to callbacks: the press event's proxy follows the later events."""

    def __init__(self, **fields):
        self.__wrapped__ = SimpleNamespace(is_dragging=False, **fields)

    def __getattr__(self, name):
        return getattr(self.__wrapped__, name)


def _mouse(layer, world, *, moves=(), dims_displayed=(1, 2), view_direction=None):
    """Press on ``layer`` at ``world`` (world coordinates), move through ``moves``, release at the last point."""
    fields = {"dims_displayed": list(dims_displayed), "view_direction": view_direction}
    mouse_press_callbacks(layer, _Event(type="mouse_press", position=tuple(world), **fields))
    for point in moves:
        mouse_move_callbacks(layer, _Event(type="mouse_move", position=tuple(point), **fields))
    mouse_release_callbacks(layer, _Event(type="mouse_release", position=tuple(moves[-1] if moves else world),
                                          **fields))


def _world(layer, data_position):
    return tuple(np.asarray(data_position) * np.asarray(layer.scale) + np.asarray(layer.translate))


def _docked(viewer, halves, **placement):
    for number, half in enumerate(halves, 1):
        viewer.add_image(half, name=f"half {number}", **placement)
    return viewer.window.add_plugin_dock_widget("napari-resolution", "Local resolution")[1]


def _run(widget, wait_idle):
    widget.run()
    wait_idle(widget)


def test_the_map_layer_overlays_the_half_maps(make_napari_viewer, wait_idle, pair3):
    viewer = make_napari_viewer()
    widget = _docked(viewer, (pair3.half1, pair3.half2), scale=SCALE, translate=TRANSLATE)
    assert isinstance(widget, LocalResolutionWidget) and widget.supports_gpu
    assert widget.half1.value is viewer.layers["half 1"] and widget.half2.value is viewer.layers["half 2"]
    assert widget.mask.value is None and widget.pixel_size.value == "1.5" and widget.threshold.value == "0.143"
    _run(widget, wait_idle)
    expected = local_fsc(pair3.half1, pair3.half2, pixel_size=1.5)
    layer = viewer.layers["half 1 local resolution"]
    assert layer.data.shape == (48, 48, 48) and np.isfinite(layer.data).all()
    np.testing.assert_allclose(layer.data, expected.map, rtol=1e-6)
    assert tuple(layer.scale) == SCALE and tuple(layer.translate) == TRANSLATE
    assert layer.colormap.name == "turbo_r" and layer.blending == "translucent" and layer.opacity == pytest.approx(0.6)
    first, last = layer.colormap.map(np.array([0.0, 1.0]))
    assert first[0] > first[2] and last[2] > last[0]  # fine (low values) warm, coarse blue
    assert layer.colormap.nan_color[3] == 0  # NaN (outside a mask) is transparent
    np.testing.assert_allclose(layer.contrast_limits, np.percentile(expected.map, (2, 98)), rtol=1e-5)
    assert layer.metadata["estimator"] == "local resolution" and layer.metadata["box"] == expected.box
    assert widget.result_line.text().startswith(expected.summary(""))
    (x, y), = [item.getOriginalDataset() for item in widget.panel.plot_item.listDataItems()]
    np.testing.assert_allclose(y, expected.statistics["histogram"][0])
    assert widget.box_panel.isHidden() and not widget.colour_bar.isHidden()
    assert widget.colour_bar.low.text() == f"{layer.contrast_limits[0]:.3g}"
    assert widget.box.value == expected.box and not widget.box.enabled  # what "automatic" chose
    layer.contrast_limits = (2.0, 9.0)  # the user changes the display: the colour bar follows
    assert widget.colour_bar.high.text() == "9"
    assert [item.name for item in viewer.layers] == ["half 1", "half 2", "half 1 local resolution"]


def test_a_rerun_updates_the_map_in_place(make_napari_viewer, wait_idle, pair3):
    viewer = make_napari_viewer()
    widget = _docked(viewer, (pair3.half1, pair3.half2))
    widget.unit.value = "Å"
    _run(widget, wait_idle)
    layer = viewer.layers["half 1 local resolution"]
    assert widget.half1.value is viewer.layers["half 1"]  # the map is not offered as a half-map
    assert "half 1 local resolution" not in [layer.name for layer in widget.half1.choices if layer is not None]
    widget.threshold.value = "half-bit"
    widget.auto_box.value, widget.box.value = False, 16
    widget.auto_step.value, widget.step.value = False, 8
    assert widget.result_line.stale
    _run(widget, wait_idle)
    assert viewer.layers["half 1 local resolution"] is layer and len(viewer.layers) == 3
    assert layer.metadata["threshold"] == "half-bit" and layer.metadata["box"] == 16 and layer.metadata["step"] == 8
    assert widget.result.box == 16 and widget.result.step == 8 and widget.result.criterion == "half-bit"
    assert "Box (px): 16" in widget.result_line.text() and "Threshold: half-bit" in widget.result_line.text()
    np.testing.assert_allclose(layer.contrast_limits, contrast_limits(widget.result.map), rtol=1e-5)
    assert widget.colour_bar.high.text().endswith(" Å")
    widget.threshold.value = "custom"
    widget.custom.value = 0.3
    _run(widget, wait_idle)
    assert widget.result.criterion == "0.3" and len(viewer.layers) == 3


def test_a_click_on_the_map_shows_that_box(make_napari_viewer, wait_idle, pair3):
    viewer = make_napari_viewer()
    widget = _docked(viewer, (pair3.half1, pair3.half2), scale=SCALE, translate=TRANSLATE)
    _run(widget, wait_idle)
    layer = viewer.layers["half 1 local resolution"]
    viewer.dims.set_point(0, _world(layer, (20, 0, 0))[0])  # the slice the user looks at
    _mouse(layer, _world(layer, (20, 11, 30)))
    result = widget.result
    index = result.box_index((20, 11, 30))
    centre = tuple(int(c) for c in result.centres[index])
    expected = result.curve_at((20, 11, 30))
    assert not widget.box_panel.isHidden()
    curve = widget.box_panel.plot_item.listDataItems()[0].getOriginalDataset()
    np.testing.assert_allclose(curve[1], expected.correlation)
    assert f"box at (z, y, x) = ({', '.join(map(str, centre))}), {result.box} px: {expected.summary('')}" in \
        widget.result_line.text()
    box = viewer.layers["half 1 local box"]
    assert isinstance(box, Shapes) and box.ndim == 3 and tuple(box.scale) == SCALE
    corners = box.data[0]
    np.testing.assert_allclose(corners[:, 0], 20)  # in the viewed slice
    low = np.array(centre[1:]) - result.box // 2 - 0.5
    np.testing.assert_allclose(corners[:, 1:].min(axis=0), low)
    np.testing.assert_allclose(corners[:, 1:].max(axis=0), low + result.box)
    assert viewer.layers.selection.active is layer  # the next click goes to the map again
    _mouse(layer, _world(layer, (20, 40, 5)), moves=[_world(layer, (20, 30, 10))])  # a drag (pan): no change
    np.testing.assert_allclose(viewer.layers["half 1 local box"].data[0], corners)
    _mouse(layer, _world(layer, (20, 40, 5)))
    assert viewer.layers["half 1 local box"] is box and len(viewer.layers) == 4
    assert box.data[0][:, 1:].max(axis=0)[0] > corners[:, 1:].max(axis=0)[0]  # moved down
    _mouse(layer, _world(layer, (20, 200, 5)))  # outside the map: nothing
    assert len(viewer.layers) == 4 and "box at" in widget.result_line.text()


def test_a_click_in_3d_view_takes_the_first_voxel_along_the_line_of_sight(make_napari_viewer, wait_idle, pair3):
    viewer = make_napari_viewer()
    widget = _docked(viewer, (pair3.half1, pair3.half2))
    _run(widget, wait_idle)
    layer = viewer.layers["half 1 local resolution"]
    viewer.dims.ndisplay = 3
    _mouse(layer, (-10.0, 12.0, 30.0), dims_displayed=(0, 1, 2), view_direction=(1.0, 0.0, 0.0))
    centre = widget.result.centres[widget.result.box_index((-0.5, 12, 30))]
    assert f"({', '.join(str(int(c)) for c in centre)})" in widget.result_line.text()
    assert viewer.layers["half 1 local box"].ndim == 3


def test_a_2d_pair_and_its_box(make_napari_viewer, wait_idle, pair2):
    viewer = make_napari_viewer()
    widget = _docked(viewer, (pair2.half1, pair2.half2), scale=(0.5, 0.5))
    widget.unit.value = "nm"
    _run(widget, wait_idle)
    layer = viewer.layers["half 1 local resolution"]
    assert layer.data.shape == (128, 128) and np.isfinite(layer.data).all() and tuple(layer.scale) == (0.5, 0.5)
    _mouse(layer, _world(layer, (64, 64)))
    result = widget.result
    centre = result.centres[result.box_index((64, 64))]
    assert "box at (y, x) = " in widget.result_line.text() and " nm" in widget.result_line.text()
    box = viewer.layers["half 1 local box"]
    np.testing.assert_allclose(box.data[0].min(axis=0), centre - result.box // 2 - 0.5)
    assert box.shape_type == ["rectangle"]
    assert widget.box_panel.plot_item.listDataItems()
    widget.pixel_size.value = "0.6"  # stale: the box panel and the result line say so
    assert widget.result_line.stale and widget.box_panel.stale_note
    _run(widget, wait_idle)  # the new result shows the same box again
    assert not widget.box_panel.isHidden() and widget.box_panel.stale_note is None
    assert "box at (y, x) = " in widget.result_line.text()


def test_a_mask_leaves_the_map_empty_outside(make_napari_viewer, wait_idle, pair3):
    viewer = make_napari_viewer()
    widget = _docked(viewer, (pair3.half1, pair3.half2))
    grid = np.indices((48, 48, 48)) - 23.5
    mask = viewer.add_image((np.sqrt((grid**2).sum(axis=0)) < 16).astype(np.float32), name="sphere")
    widget.mask.value = mask
    _run(widget, wait_idle)
    data = viewer.layers["half 1 local resolution"].data
    assert np.isnan(data[0, 0, 0]) and np.isfinite(data[24, 24, 24])
    assert np.array_equal(np.isfinite(data), mask.data > 0.5)
    assert "Mask: sphere" in widget.result_line.text()


def test_closing_leaves_the_user_layers_alone(make_napari_viewer, wait_idle, pair3, qtbot):
    viewer = make_napari_viewer()
    widget = _docked(viewer, (pair3.half1, pair3.half2))
    _run(widget, wait_idle)
    layer = viewer.layers["half 1 local resolution"]
    _mouse(layer, (24, 24, 24))
    assert widget.on_map_click in layer.mouse_drag_callbacks
    viewer.window.remove_dock_widget(widget.parent())  # what napari's close button does
    qtbot.wait(10)
    assert widget.on_map_click not in layer.mouse_drag_callbacks
    _mouse(layer, (24, 10, 10))  # a click after closing: nothing happens, nothing fails
    assert viewer.layers["half 1"].data is pair3.half1 and viewer.layers["half 2"].data is pair3.half2
    np.testing.assert_array_equal(viewer.layers["half 1"].data,
                                  phantom_pair((48, 48, 48), sigma=2.0, noise=0.5, seed=0, dtype=np.float32).half1)
    viewer.layers["half 1 local resolution"].contrast_limits = (1, 2)  # no longer followed
    assert [item.name for item in viewer.layers] == ["half 1", "half 2", "half 1 local resolution",
                                                     "half 1 local box"]


def test_bad_input_names_the_layer(make_napari_viewer, wait_idle, notifications, pair3):
    viewer = make_napari_viewer()
    broken = pair3.half2.copy()
    broken[3, 4, 5] = np.nan
    viewer.add_image(pair3.half1, name="half 1")
    viewer.add_image(broken, name="broken")
    _, widget = viewer.window.add_plugin_dock_widget("napari-resolution", "Local resolution")
    _run(widget, wait_idle)
    errors = [text for kind, text in notifications if kind == "error"]
    assert any("layer 'broken'" in text and "NaN" in text for text in errors), errors
    assert "half 1 local resolution" not in viewer.layers and widget.inputs.native.isEnabled()
    viewer.add_image(pair3.half1[:40], name="short")
    widget.half2.value = viewer.layers["short"]
    _run(widget, wait_idle)
    assert any("layer 'half 1'" in text and "layer 'short'" in text for kind, text in notifications if kind == "error")


def test_contrast_limits():
    assert contrast_limits(np.full(4, np.nan)) == (0.0, 1.0)
    low, high = contrast_limits(np.array([3.0, 3.0, np.nan]))
    assert low < 3 < high
    values = np.linspace(1, 100, 1000)
    assert contrast_limits(values) == pytest.approx(tuple(np.percentile(values, (2, 98))))


def _shown(option):
    return not option.native.isHidden()


def test_the_single_map_method_and_its_options(make_napari_viewer, wait_idle, pair2):
    """One map: the widget starts in the single-map method, its options shown instead of the FSC's, the same
    overlay and inspection; the result line says how many voxels got a value and what the noise came from."""
    viewer = make_napari_viewer()
    viewer.add_image(pair2.half1, name="map", scale=(0.5, 0.5))
    widget = viewer.window.add_plugin_dock_widget("napari-resolution", "Local resolution")[1]
    shown = _shown
    assert widget.method.value == SINGLE_MAP and widget.half2.value is None
    assert shown(widget.noise) and shown(widget.significance) and shown(widget.reading) and not shown(widget.box)
    assert widget.half1.label == "Map (or half-map 1)" and not widget.window.enabled
    widget.noise.value = NOISE_LEVEL
    assert shown(widget.noise_level)
    widget.noise_level.value = 0.5
    _run(widget, wait_idle)
    expected = local_resolution(pair2.half1, noise=0.5, pixel_size=0.5)
    layer = viewer.layers["map local resolution"]
    np.testing.assert_allclose(layer.data, expected.map, rtol=1e-5, equal_nan=True)
    assert isinstance(widget.result, SingleMapResult) and "bands, white noise of std 0.5" in widget.result_line.text()
    assert f"{100 * expected.filled:.3g} % of voxels with a value" in widget.result_line.text()
    _mouse(layer, _world(layer, (64, 64)))
    result = widget.result
    index = result.box_index((64, 64))
    curve = widget.box_panel.plot_item.listDataItems()[0].getOriginalDataset()
    np.testing.assert_allclose(curve[1], result.curve_at((64, 64)).power)
    assert "window at (y, x) = " in widget.result_line.text()
    box = viewer.layers["map local box"]
    side = box.data[0].max(axis=0) - box.data[0].min(axis=0)
    np.testing.assert_allclose(side, result.window_at(index))


def test_single_map_with_a_second_half_uses_their_difference(make_napari_viewer, wait_idle, pair2):
    viewer = make_napari_viewer()
    widget = _docked(viewer, (pair2.half1, pair2.half2))
    widget.method.value = SINGLE_MAP
    assert widget.half2.value is None  # optional now: not filled for the user
    widget.half2.value = viewer.layers["half 2"]
    widget.significance.value = 0.01
    _run(widget, wait_idle)
    expected = local_resolution(pair2.half1, half2=pair2.half2, significance=0.01)
    np.testing.assert_allclose(viewer.layers["half 1 local resolution"].data, expected.map, rtol=1e-5,
                               equal_nan=True)
    assert widget.result.parameters["noise_source"] == "difference"
    assert "Significance: 0.01" in widget.result_line.text()


def test_single_map_reading_bands_and_p_value_layer(make_napari_viewer, wait_idle, pair3):
    """The significance test alone, typed bands, a set window and the p-value layer (bands along its first axis,
    placed on the map); a run without p-values removes the layer of the earlier one."""
    viewer = make_napari_viewer()
    widget = _docked(viewer, (pair3.half1, pair3.half2), scale=SCALE, translate=TRANSLATE)
    assert widget.method.value == HALF_MAPS  # two maps: the half-maps
    widget.method.value = SINGLE_MAP
    widget.half2.value = viewer.layers["half 2"]
    widget.reading.value = "significance only"
    widget.auto_window.value = False
    widget.window.value = 1.0
    widget.bands.value = "12, 9, 6, 4.5, 3"
    widget.p_layer.value = True
    _run(widget, wait_idle)
    expected = local_resolution(pair3.half1, half2=pair3.half2, threshold=None, window=1.0, pixel_size=1.5,
                                resolutions=[12, 9, 6, 4.5, 3], p_values=True)
    np.testing.assert_allclose(viewer.layers["half 1 local resolution"].data, expected.map, rtol=1e-5,
                               equal_nan=True)
    p_layer = viewer.layers["half 1 local p-value"]
    np.testing.assert_allclose(p_layer.data, expected.p_values, rtol=1e-5)
    assert tuple(p_layer.scale) == (1.0, *SCALE) and tuple(p_layer.translate) == (0.0, *TRANSLATE)
    assert p_layer.metadata["resolutions"] == [12.0, 9.0, 6.0, 4.5, 3.0]
    assert tuple(p_layer.contrast_limits) == (0.0, 0.05)
    assert viewer.layers.selection.active is viewer.layers["half 1 local resolution"]
    assert "p-value" not in [layer.name for layer in widget.half1.choices if layer is not None]
    widget.p_layer.value = False
    widget.bands.value = "12, x"
    widget.run()
    wait_idle(widget)
    assert "half 1 local p-value" in viewer.layers  # the bad run left everything as it was
    widget.bands.value = ""
    _run(widget, wait_idle)
    assert "half 1 local p-value" not in viewer.layers


def test_single_map_keeps_the_second_half_empty_and_refuses_the_map_twice(make_napari_viewer, wait_idle,
                                                                          notifications, pair2):
    viewer = make_napari_viewer()
    widget = _docked(viewer, (pair2.half1, pair2.half2))
    widget.method.value = SINGLE_MAP
    viewer.add_image(pair2.half1 > 0, name="a mask")  # a new layer: the optional pickers stay empty
    assert widget.half2.value is None and widget.mask.value is None
    widget.half2.value = viewer.layers["half 1"]
    widget.run()
    wait_idle(widget)
    assert any("is the same layer as the map" in text for kind, text in notifications if kind == "error")
    widget.half2.value = None
    widget.method.value = "Half-maps (local FSC)"  # required again: the base fills it
    assert widget.half2.value is viewer.layers["half 2"]


def test_lazy_half_maps_too_large_for_memory_give_a_zarr_backed_map(make_napari_viewer, wait_idle, monkeypatch,
                                                                     pair3):
    """Computed block by block into a zarr map that the layer reads chunk by chunk; the user's layers untouched."""
    da = pytest.importorskip("dask.array")
    pytest.importorskip("zarr")
    viewer = make_napari_viewer()
    lazy = [da.from_array(half, chunks=(20, 48, 48)) for half in (pair3.half1, pair3.half2)]
    widget = _docked(viewer, lazy, scale=SCALE, translate=TRANSLATE)
    widget.auto_box.value = False
    widget.box.value = 16
    monkeypatch.setattr("napari_resolution.core.local.streamed.fits_in_memory", lambda arrays: False)  # none fits
    _run(widget, wait_idle)
    layer = viewer.layers["half 1 local resolution"]
    assert type(layer.data).__module__.split(".")[0] == "zarr" and widget.result.parameters["streamed"]
    expected = local_fsc(pair3.half1, pair3.half2, box=16, pixel_size=1.5)
    np.testing.assert_allclose(layer.data[...], expected.map, rtol=1e-5)
    low, high = layer.contrast_limits
    assert expected.values.min() <= low < high <= expected.values.max()
    assert all(isinstance(viewer.layers[f"half {n}"].data, da.Array) for n in (1, 2))
    from napari_resolution.gui.widgets.local import _SESSION_FOLDER

    folder = Path(_SESSION_FOLDER[0].name)
    first = sorted(folder.glob("*.zarr"))
    _run(widget, wait_idle)  # a re-run: the layer shows the new map, the replaced one is removed
    maps = sorted(folder.glob("*.zarr"))
    assert len(maps) == len(first) and maps != first
    np.testing.assert_allclose(viewer.layers["half 1 local resolution"].data[...], expected.map, rtol=1e-5)
