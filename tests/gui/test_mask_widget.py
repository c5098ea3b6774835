import numpy as np

from napari_resolution.core.masks import spherical_mask
from napari_resolution.core.randomization import RANDOMIZED_LABEL
from napari_resolution.gui.widgets.fourier import FourierCorrelationWidget
from napari_resolution.gui.widgets.mask import MaskWidget


def _particle_viewer(make_napari_viewer, shape=(64, 64, 64)):
    viewer = make_napari_viewer()
    rng = np.random.default_rng(0)
    ball = spherical_mask(shape, radius=14)
    for name in ("half 1", "half 2"):
        viewer.add_image(ball + 0.3 * rng.standard_normal(shape), name=name, scale=(1.5, 1.5, 1.5),
                         units=("angstrom",) * 3)
    return viewer, ball


def test_mask_widget_makes_and_updates_a_mask_layer(make_napari_viewer, wait_idle):
    viewer, ball = _particle_viewer(make_napari_viewer)
    originals = [layer.data.copy() for layer in viewer.layers]
    widget = MaskWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.second.value = viewer.layers["half 2"]
    assert widget.pixel_size.value == "1.5"
    widget.extend.value, widget.soft_edge.value = 0.0, 3.0
    widget.run()
    wait_idle(widget)
    layer = viewer.layers["half 1 mask"]
    assert tuple(layer.scale) == (1.5, 1.5, 1.5) and layer.opacity == 0.4
    assert layer.units == viewer.layers["half 1"].units  # else napari warns of inconsistent units
    assert layer.data.min() >= 0 and layer.data.max() == 1
    inside = layer.data > 0.5
    assert 2 * np.sum(inside & (ball > 0.5)) / (inside.sum() + (ball > 0.5).sum()) > 0.9
    assert layer.metadata["threshold"] == "auto" and layer.metadata["source"] == "half 1"
    widget.soft_edge.value = 6.0
    widget.run()
    wait_idle(widget)
    assert len(viewer.layers) == 3 and viewer.layers["half 1 mask"].metadata["soft_edge"] == 6.0
    for layer, original in zip(list(viewer.layers)[:2], originals):
        np.testing.assert_array_equal(layer.data, original)
    assert "half 1 mask" not in [layer.name for layer in widget.usable_layers(widget.layer_inputs[0])]


def test_live_threshold_preview(make_napari_viewer):
    viewer, _ = _particle_viewer(make_napari_viewer)
    widget = MaskWidget(viewer)
    widget.auto_threshold.value = False
    widget.preview.value = True
    widget.threshold.value = 0.5
    low = viewer.layers["half 1 mask"].data.sum()
    widget.threshold.value = 0.9
    assert viewer.layers["half 1 mask"].data.sum() < low
    assert viewer.layers["half 1 mask"].metadata["estimator"] == "mask preview"
    viewer.layers["half 1"].data = np.zeros((64, 64, 64))  # new data: the preview is of it
    assert not viewer.layers["half 1 mask"].data.any()


def test_mask_errors_are_notifications(make_napari_viewer, notifications, wait_idle):
    viewer = make_napari_viewer()
    viewer.add_image(np.ones((32, 32, 32)), name="flat")
    widget = MaskWidget(viewer)
    widget.run()
    wait_idle(widget)
    assert any("constant" in text for kind, text in notifications if kind == "error")
    assert widget.inputs.native.isEnabled()


def test_fsc_widget_phase_randomisation(make_napari_viewer, wait_idle, notifications):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-resolution", "half_maps")
    widget = FourierCorrelationWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.randomize.value = True
    assert not widget.randomize_at.native.isHidden() and not widget.apodization.enabled
    widget.run()
    assert any("needs a mask" in text for _, text in notifications)
    viewer.add_image(spherical_mask((128, 128, 128), radius=50, soft_edge=6), name="sphere", scale=(1.1,) * 3)
    widget.reset_choices()
    widget.mask.value = viewer.layers["sphere"]
    widget.run()
    wait_idle(widget)
    result = widget.result
    assert result.status == "resolved"
    labels = [item.name() for item in widget.panel.plot_item.listDataItems()]
    assert labels[:4] == ["corrected", "masked", "phase-randomised masked", "unmasked"]
    assert "phase-randomisation corrected" in widget.result_line.text()
    assert any(marker.label == RANDOMIZED_LABEL for marker in widget.panel.runs[-1].markers)
