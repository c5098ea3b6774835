"""Issue #31 items 2-6: a result whose inputs changed (during its run too) is marked stale; result layers follow a
renamed input and keep the scale they were computed with; the pickers say which layers they leave out and why, and
offer the plugin's own outputs only where they are inputs."""

import threading

import numpy as np
import pytest

from napari_resolution.core.local import local_fsc
from napari_resolution.core.simulate import phantom_pair
from napari_resolution.gui.widgets.base import STALE

RNG = np.random.default_rng(0)


@pytest.fixture(scope="module")
def pair():
    return phantom_pair((96, 96), sigma=2.0, noise=0.5, seed=0, dtype=np.float32)


def _viewer(make_napari_viewer, pair, **placement):
    viewer = make_napari_viewer()
    for number, half in enumerate((pair.half1, pair.half2), 1):
        viewer.add_image(half, name=f"half {number}", **placement)
    return viewer


def _gated(widget, monkeypatch) -> threading.Event:
    """Hold the widget's computation until the returned event is set (then it computes as usual)."""
    gate = threading.Event()
    compute = widget.compute

    def held(parameters, progress):
        assert gate.wait(30)
        return compute(parameters, progress)

    monkeypatch.setattr(widget, "compute", held)
    return gate


def _during_a_run(widget, monkeypatch, wait_idle, change) -> None:
    """Start a run, ``change()`` something while it runs, let it finish."""
    gate = _gated(widget, monkeypatch)
    widget.run()
    assert widget.runner.busy
    change()
    gate.set()
    wait_idle(widget)


def _choices(picker) -> list:
    """The names a picker shows, its empty choice left out."""
    return [picker.native.itemText(i) for i in range(picker.native.count()) if picker.native.itemData(i) is not None]


def _stale(widget) -> bool:
    return widget.result_line.stale and all(panel.stale_note for panel in widget.curve_panels if panel.runs)


# ----------------------------------------------------------------------------------------- item 2: stale results


def _rename(viewer):
    viewer.layers["half 2"].name = "renamed"


def _remove(viewer):
    viewer.layers.remove("half 2")


def _new_data(viewer):
    viewer.layers["half 2"].data = RNG.random((96, 96)).astype(np.float32)


def _rescale(viewer):
    viewer.layers["half 2"].scale = (2.0, 2.0)


@pytest.mark.parametrize("change", ["rename", "remove", "new data", "rescale", "pixel size", "threshold"])
def test_a_change_during_an_fsc_run_marks_its_result_stale(make_napari_viewer, wait_idle, monkeypatch, notifications,
                                                           pair, change):
    viewer = _viewer(make_napari_viewer, pair)
    viewer.add_image(pair.half2.copy(), name="spare")  # what the picker falls back to when "half 2" goes
    _, widget = viewer.window.add_plugin_dock_widget("napari-resolution", "Fourier shell correlation")
    changes = {"rename": _rename, "remove": _remove, "new data": _new_data, "rescale": _rescale,
               "pixel size": lambda _: setattr(widget.pixel_size, "value", "2"),  # as from the console
               "threshold": lambda _: setattr(widget.threshold, "value", "0.143")}
    _during_a_run(widget, monkeypatch, wait_idle, lambda: changes[change](viewer))
    assert widget.result is not None and _stale(widget)
    assert f"({STALE})" in widget.result_line.text() and widget.panel.stale_note == STALE
    if change == "remove":
        assert any("was removed during the run" in text for _, text in notifications)
    widget.run()  # a run from the inputs as they are now is current
    wait_idle(widget)
    assert not _stale(widget)


def test_replacing_renaming_or_rescaling_a_picked_layer_marks_the_result_stale(make_napari_viewer, wait_idle, pair):
    viewer = _viewer(make_napari_viewer, pair)
    _, widget = viewer.window.add_plugin_dock_widget("napari-resolution", "Local resolution")
    widget.run()
    wait_idle(widget)
    assert not _stale(widget)
    layer = viewer.layers["half 1"]
    layer.data = pair.half1 * 2  # the same shape, new values: the map shown is of the old data
    assert _stale(widget)
    widget.run()
    wait_idle(widget)
    assert not _stale(widget)
    layer.name = "first"
    assert _stale(widget) and sorted(_choices(widget.half1)) == ["first", "half 2"]  # the picker shows the new name
    assert widget.half1.value is layer
    layer.name = "half 1"  # back to what the result was computed from
    assert not _stale(widget)
    viewer.layers["half 2"].scale = (3.0, 3.0)
    assert _stale(widget)
    viewer.add_image(RNG.random((8, 8)), name="unrelated").data = RNG.random((8, 8))
    viewer.layers["half 2"].scale = (1.0, 1.0)
    assert not _stale(widget)  # a layer that is not an input changes nothing


def test_a_renamed_layer_stays_picked(make_napari_viewer, pair):
    viewer = _viewer(make_napari_viewer, pair)
    spare = viewer.add_image(pair.half2.copy(), name="spare")
    _, widget = viewer.window.add_plugin_dock_widget("napari-resolution", "Fourier shell correlation")
    widget.second.value = spare  # not the layer the picker would fill itself with
    spare.name = "renamed"
    assert widget.second.value is spare and _choices(widget.second) == ["half 1", "half 2", "renamed"]


def test_every_widget_marks_its_result_stale_when_its_input_gets_new_data(make_napari_viewer, wait_idle):
    viewer = make_napari_viewer()
    image = viewer.add_image(RNG.random((64, 64)).astype(np.float32), name="image")
    widgets = [viewer.window.add_plugin_dock_widget("napari-resolution", name)[1]
               for name in ("Decorrelation analysis", "Mask")]
    for widget in widgets:
        widget.run()
        wait_idle(widget)
        assert not widget.result_line.stale
    image.data = RNG.random((64, 64)).astype(np.float32)
    assert all(widget.result_line.stale for widget in widgets)


# ------------------------------------------------------------------ items 3-5: the local-resolution map during a run


def test_a_rescale_during_a_local_run_keeps_the_map_consistent(make_napari_viewer, wait_idle, monkeypatch, pair):
    viewer = _viewer(make_napari_viewer, pair)
    _, widget = viewer.window.add_plugin_dock_widget("napari-resolution", "Local resolution")
    assert widget.pixel_size.value == "1"

    def rescale():
        for layer in viewer.layers:
            layer.scale = (2.0, 2.0)
        assert widget.pixel_size.value == "2"  # the field follows the first half-map, during the run too

    _during_a_run(widget, monkeypatch, wait_idle, rescale)
    layer = viewer.layers["half 1 local resolution"]
    assert tuple(layer.scale) == (1.0, 1.0) and layer.metadata["pixel_size"] == 1.0  # as it was computed
    assert _stale(widget) and "Pixel size: 1" in widget.result_line.text()
    widget.run()
    wait_idle(widget)
    assert tuple(layer.scale) == (2.0, 2.0) and layer.metadata["pixel_size"] == 2.0 and not _stale(widget)
    np.testing.assert_allclose(layer.data, local_fsc(pair.half1, pair.half2, pixel_size=2.0).map, rtol=1e-6)
    assert len(viewer.layers) == 3


def test_renaming_an_input_during_a_local_run_keeps_one_map_layer(make_napari_viewer, wait_idle, monkeypatch, pair):
    viewer = _viewer(make_napari_viewer, pair)
    _, widget = viewer.window.add_plugin_dock_widget("napari-resolution", "Local resolution")
    widget.run()
    wait_idle(widget)
    layer = viewer.layers["half 1 local resolution"]
    _during_a_run(widget, monkeypatch, wait_idle, lambda: setattr(viewer.layers["half 1"], "name", "first"))
    assert [item.name for item in viewer.layers] == ["first", "half 2", "first local resolution"]
    assert viewer.layers["first local resolution"] is layer and widget.map_layer is layer and _stale(widget)
    widget.run()
    wait_idle(widget)
    assert len(viewer.layers) == 3 and not _stale(widget)


def test_the_local_widget_says_when_an_input_is_removed_during_a_run(make_napari_viewer, wait_idle, monkeypatch,
                                                                     notifications, pair):
    viewer = _viewer(make_napari_viewer, pair)
    _, widget = viewer.window.add_plugin_dock_widget("napari-resolution", "Local resolution")
    _during_a_run(widget, monkeypatch, wait_idle, lambda: viewer.layers.remove("half 2"))
    assert ("info", "Layer 'half 2' was removed during the run; the result refers to its data when the run "
                    "started.") in notifications
    assert widget.result is not None and _stale(widget)


# -------------------------------------------------------------------------------------------- item 6: the pickers


def test_layers_a_picker_cannot_take_are_named_with_why(make_napari_viewer, notifications):
    viewer = make_napari_viewer()
    viewer.add_labels(np.zeros((32, 32), dtype=np.uint8), name="cells")
    viewer.add_image(RNG.random((32, 32, 3)), name="photo", rgb=True)
    viewer.add_image(RNG.random((2, 4, 16, 16)), name="movie")
    _, widget = viewer.window.add_plugin_dock_widget("napari-resolution", "Fourier shell correlation")
    assert widget.first.value is None and widget.second.value is None
    widget.run()
    (kind, text), = notifications
    assert kind == "error" and text.startswith("choose a layer for Image 1: ")
    assert "'cells' is a Labels layer, not an image" in text
    assert "'photo' is RGB" in text and "Split RGB" in text
    assert "'movie' is 4-D: pick a time point" in text
    assert "'movie' is 4-D" in widget.first.tooltip
    _, blink = viewer.window.add_plugin_dock_widget("napari-resolution", "Blink PSF")
    viewer.add_image(RNG.random((16, 16)), name="still")
    with pytest.raises(ValueError, match="choose a layer for Channel 1: .*'still' is 2-D, not 3-D"):
        blink.parameters()


def test_no_layer_open_is_said(make_napari_viewer):
    viewer = make_napari_viewer()
    _, widget = viewer.window.add_plugin_dock_widget("napari-resolution", "Decorrelation analysis")
    with pytest.raises(ValueError, match="^choose a layer for Image: no layer is open$"):
        widget.parameters()


def test_plugin_outputs_are_offered_only_where_they_are_inputs(make_napari_viewer, wait_idle):
    from napari_resolution.core.masks import spherical_mask

    viewer = make_napari_viewer()
    rng = np.random.default_rng(0)
    ball = spherical_mask((48, 48, 48), radius=12)
    for name in ("half 1", "half 2"):
        viewer.add_image(ball + 0.3 * rng.standard_normal(ball.shape), name=name)
    _, mask = viewer.window.add_plugin_dock_widget("napari-resolution", "Mask")
    mask.run()
    wait_idle(mask)
    _, local = viewer.window.add_plugin_dock_widget("napari-resolution", "Local resolution")
    local.run()
    wait_idle(local)
    assert {layer.name for layer in viewer.layers} == {"half 1", "half 2", "half 1 mask", "half 1 local resolution"}
    assert viewer.layers["half 1 mask"].metadata["napari_resolution"]["kind"] == "mask"
    _, fsc = viewer.window.add_plugin_dock_widget("napari-resolution", "Fourier shell correlation")
    assert _choices(fsc.first) == _choices(fsc.second) == ["half 1", "half 2"]
    assert _choices(fsc.mask) == ["half 1", "half 2", "half 1 mask"]  # a mask is a mask, a map is no input
    assert _choices(mask.map) == ["half 1", "half 2"] and _choices(local.mask)[-1] == "half 1 mask"
    assert "'half 1 local resolution' is a local-resolution map, not an input here" in fsc.first.tooltip


def test_tomography_reconstructions_are_half_maps_elsewhere(make_napari_viewer, wait_idle):
    from napari_resolution.core.simulate import tomography_sinogram

    viewer = make_napari_viewer()
    sim = tomography_sinogram(48, np.linspace(0, 180, 152, endpoint=False), phantom="random", dose=300, seed=1)
    viewer.add_image(sim.sinogram, name="sino")
    _, tomo = viewer.window.add_plugin_dock_widget("napari-resolution", "Tomography split")
    tomo.run()
    wait_idle(tomo)
    assert _choices(tomo.sinogram) == ["sino"]
    _, fsc = viewer.window.add_plugin_dock_widget("napari-resolution", "Fourier shell correlation")
    assert _choices(fsc.first) == ["sino", "sino even", "sino odd"]


def test_the_mtf_widget_names_unusable_layers_and_follows_its_image(make_napari_viewer, wait_idle, notifications):
    from napari_resolution.core.simulate import slanted_edge

    viewer = make_napari_viewer()
    viewer.add_image(RNG.random((2, 2, 16, 16)), name="movie")
    _, widget = viewer.window.add_plugin_dock_widget("napari-resolution", "MTF")
    widget.start_picking()
    assert any(kind == "error" and "'movie' is 4-D" in text for kind, text in notifications)
    image = viewer.add_image(slanted_edge((128, 128), 80, 1.2, noise=0.004, seed=0), name="chart")
    widget.start_picking()
    rois = viewer.layers["chart MTF edges"]
    rois.add_rectangles(np.array([[20, 30], [108, 90]]))
    wait_idle(widget)
    sharp = float(widget.table.item(0, 1).text())
    image.data = slanted_edge((128, 128), 80, 2.4, noise=0.004, seed=0)  # new data: the ROI is measured again
    wait_idle(widget)
    assert float(widget.table.item(0, 1).text()) < 0.7 * sharp
    image.name = "renamed"  # the ROIs stay the image's
    wait_idle(widget)
    assert widget.image.value is image and widget.roi_layer() is rois and widget.table.rowCount() == 1

