import re

import numpy as np
import pytest

from napari_resolution import decorrelation
from napari_resolution.core.simulate import band_limited_noise
from napari_resolution.gui.widgets.decorrelation import DecorrelationWidget, parse_slices


def _widget(viewer):
    widget = DecorrelationWidget(viewer)
    viewer.window.add_dock_widget(widget)
    return widget


@pytest.mark.filterwarnings("ignore:.*the noise beyond the cut-off is not white:RuntimeWarning")  # noise-free
def test_single_image_matches_core(make_napari_viewer, wait_idle):
    viewer = make_napari_viewer()
    image = band_limited_noise((256, 256), 0.2, seed=0)
    viewer.add_image(image, name="cells", scale=(65, 65))
    widget = _widget(viewer)
    assert widget.pixel_size.value == "65" and widget.slice_panel.isHidden()
    widget.run()
    wait_idle(widget)
    expected = decorrelation(image, pixel_size=65)
    assert widget.result.resolution == pytest.approx(expected.resolution)
    first = widget.panel.plot_item.listDataItems()[0].getOriginalDataset()
    np.testing.assert_allclose(first[0], expected.radii / 2)
    np.testing.assert_allclose(first[1], expected.d0)
    names = [item.name() for item in widget.panel.plot_item.listDataItems() if item.name()]
    assert names == ["unfiltered d(r)", "high-pass", "refined", "peaks (amplitude ≥ 0.05)"]
    assert f"{expected.resolution:.3g}" in widget.result_line.text()


def test_stack_modes(make_napari_viewer, wait_idle):
    viewer = make_napari_viewer()
    stack = np.stack([band_limited_noise((96, 96), c, seed=i) for i, c in enumerate((0.1, 0.2, 0.3))])
    viewer.add_image(stack, name="frames")
    widget = _widget(viewer)
    assert not widget.slice_panel.isHidden()
    widget.run()
    wait_idle(widget)
    assert widget.result.n_resolved == 3
    x, y = widget.slice_panel.plot_item.listDataItems()[0].getOriginalDataset()
    np.testing.assert_array_equal(x, [0, 1, 2])
    np.testing.assert_allclose(y, widget.result.resolutions)
    viewer.dims.set_current_step(0, 2)
    widget.slice_mode.value = "current slice"
    widget.run()
    wait_idle(widget)
    np.testing.assert_array_equal(widget.result.slice_indices, [2])
    widget.slice_mode.value = "listed slices"
    widget.slices.value = "0:2"
    widget.run()
    wait_idle(widget)
    np.testing.assert_array_equal(widget.result.slice_indices, [0, 1])


def test_errors_and_no_resolution(make_napari_viewer, notifications, wait_idle):
    viewer = make_napari_viewer()
    viewer.add_image(np.random.default_rng(0).random((16, 16)), name="tiny")
    widget = _widget(viewer)
    widget.run()
    wait_idle(widget)
    assert any("at least 32" in text for kind, text in notifications if kind == "error")
    viewer.add_image(np.random.default_rng(1).standard_normal((128, 128)), name="noise")
    widget.image.value = viewer.layers["noise"]
    widget.run()
    wait_idle(widget)
    assert "no resolution" in widget.result_line.text()
    assert widget.inputs.native.isEnabled()


def test_parse_slices():
    assert parse_slices("3, 5,9") == [3, 5, 9]
    assert parse_slices("0:10:4") == [0, 4, 8]
    assert parse_slices(":3") == [0, 1, 2]
    with pytest.raises(ValueError, match="slices"):
        parse_slices("a:b")


def test_current_slice_says_which_slice_and_shows_no_empty_panel(make_napari_viewer, wait_idle):
    viewer = make_napari_viewer()
    stack = np.stack([band_limited_noise((96, 96), c, seed=i) for i, c in enumerate((0.1, 0.2, 0.3))])
    viewer.add_image(stack, name="frames", scale=(1, 65, 65))
    widget = _widget(viewer)
    widget.unit.value = "nm"
    viewer.dims.set_current_step(0, 2)
    widget.slice_mode.value = "current slice"
    assert widget.slice_panel.isHidden()
    widget.run()
    wait_idle(widget)
    assert widget.slice_panel.isHidden() and widget.panel.runs
    expected = widget.result.slices[0]
    assert widget.result_line.text().startswith(f"slice 2 along axis 0: {expected.resolution:.3g} nm")
    assert "Current slice: 2" in widget.result_line.text()
    viewer.dims.set_current_step(0, 1)  # another slice is shown: the result is not the current slice's
    assert widget.result_line.stale
    widget.slice_mode.value = "all slices"
    widget.run()
    wait_idle(widget)
    assert not widget.slice_panel.isHidden() and len(widget.slice_panel.runs) == 1
    assert f"curves of slice {widget.result.slice_indices[widget.result.median_slice]} along axis 0" in \
        widget.result_line.text()


def test_the_interval_shows_in_the_summary_and_as_a_bar_on_the_peak(make_napari_viewer, wait_idle):
    viewer = make_napari_viewer()
    signal = band_limited_noise((160, 160), 0.2, seed=0)
    image = signal + 0.5 * signal.std() * np.random.default_rng(1).standard_normal(signal.shape)
    viewer.add_image(image, name="cells", scale=(65, 65))
    widget = _widget(viewer)
    widget.unit.value = "nm"
    widget.interval.value = True
    widget.run()
    wait_idle(widget)
    finest, coarsest = widget.result.resolution_interval
    assert widget.result.confidence == 0.95 and finest <= widget.result.resolution <= coarsest
    assert widget.result.resolution_interval == decorrelation(image, pixel_size=65, confidence=0.95,
                                                              seed=0).resolution_interval
    assert re.match(r"[\d.]+ nm \[[\d.]+, [\d.]+\] \(decorrelation", widget.result_line.text())
    bar = next(item for item in widget.panel.plot_item.listDataItems() if item.name() == "95% interval")
    np.testing.assert_allclose(bar.getOriginalDataset()[0], [65 / coarsest, 65 / finest])
