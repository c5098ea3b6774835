import numpy as np
import pytest

from napari_resolution import tomography_frc
from napari_resolution.core.simulate import tomography_sinogram
from napari_resolution.gui.runner import Cancelled
from napari_resolution.gui.widgets.base import core_warnings
from napari_resolution.gui.widgets.tomography import TomographyWidget


@pytest.fixture(scope="module")
def sim():
    return tomography_sinogram(64, np.linspace(0, 180, 202, endpoint=False), phantom="random", dose=300, seed=1)


def _widget(viewer):
    widget = TomographyWidget(viewer)
    viewer.window.add_dock_widget(widget)
    return widget


def test_sinogram_with_a_range_matches_the_core(make_napari_viewer, wait_idle, sim):
    viewer = make_napari_viewer()
    viewer.add_image(sim.sinogram, name="sino", scale=(2.0, 1.0))
    widget = _widget(viewer)
    assert widget.count.value == 202 and widget.angle_source.value == "start / stop / count"
    assert widget.pixel_size.value == "2"  # the detector axis: the angle axis has no pixel size
    widget.run()
    wait_idle(widget)
    expected = tomography_frc(sim.sinogram, sim.theta, pixel_size=2.0)
    assert widget.result.resolution == pytest.approx(expected.resolution)
    even, odd = viewer.layers["sino even"], viewer.layers["sino odd"]
    np.testing.assert_array_equal(even.data, expected.reconstructions[0])
    np.testing.assert_array_equal(odd.data, expected.reconstructions[1])
    assert tuple(even.scale) == (2.0, 2.0) and even.metadata["estimator"] == "tomography split"
    right_edge = viewer.layers["sino"].data.shape[-1] * viewer.layers["sino"].scale[-1]
    assert right_edge < even.translate[-1] < odd.translate[-1] - even.data.shape[-1] * 2.0  # beside it, side by side
    names = [item.name() for item in widget.panel.plot_item.listDataItems() if item.name()]
    assert names[:2] == ["FRC even/odd", "half-bit"]
    assert f"{expected.resolution:.3g}" in widget.result_line.text()
    widget.run()  # a second run updates the layers in place
    wait_idle(widget)
    assert [layer.name for layer in viewer.layers] == ["sino", "sino even", "sino odd"]
    np.testing.assert_array_equal(viewer.layers["sino"].data, sim.sinogram)  # the input is untouched


def test_stack_with_angles_from_the_layer_and_a_file(make_napari_viewer, wait_idle, tmp_path):
    stack = tomography_sinogram(48, np.linspace(0, 180, 160, endpoint=False), phantom="random", dose=300,
                                rows=8, seed=2)
    viewer = make_napari_viewer()
    viewer.add_image(stack.sinogram, name="projections", metadata={"theta": stack.theta.tolist()})
    widget = _widget(viewer)
    assert widget.angle_source.value == "from the layer"
    widget.threshold.value = "one-bit"
    widget.run()
    wait_idle(widget)
    expected = tomography_frc(stack.sinogram, stack.theta, threshold="one-bit")
    assert widget.result.correlation.name == "FSC" and widget.result.resolution == pytest.approx(expected.resolution)
    assert viewer.layers["projections even"].data.shape == (8, 48, 48)
    angles = tmp_path / "angles.txt"
    angles.write_text("\n".join(f"{a:.12g}" for a in stack.theta))
    widget.angle_source.value = "file"
    widget.angles_file.value = angles
    widget.run()
    wait_idle(widget)
    assert widget.result.resolution == pytest.approx(expected.resolution)


def test_bad_input_is_a_notification(make_napari_viewer, notifications, wait_idle, sim):
    viewer = make_napari_viewer()
    viewer.add_image(sim.sinogram, name="sino")
    widget = _widget(viewer)
    widget.count.value = 100
    widget.run()
    wait_idle(widget)
    assert any("theta has 100 angles" in text for kind, text in notifications if kind == "error")
    widget.count.value = 202
    widget.center.value = "abc"
    widget.run()
    assert any("rotation axis must be a number" in text for kind, text in notifications if kind == "error")
    widget.center.value = "80"
    widget.run()
    wait_idle(widget)
    assert any("center must be a detector position" in text for kind, text in notifications if kind == "error")
    widget.angle_source.value = "from the layer"
    widget.run()
    assert any("has no angles in its metadata" in text for kind, text in notifications if kind == "error")
    assert widget.inputs.native.isEnabled() and widget.result is None
    assert [layer.name for layer in viewer.layers] == ["sino"]


def test_undersampling_warns_and_cancel_stops(make_napari_viewer, notifications, wait_idle, qtbot):
    few = tomography_sinogram(64, np.linspace(0, 180, 40, endpoint=False), phantom="random", seed=0)
    viewer = make_napari_viewer()
    viewer.add_image(few.sinogram, name="few")
    widget = _widget(viewer)
    widget.run()
    wait_idle(widget)
    assert any("angular undersampling" in text for kind, text in notifications if kind == "warning")
    calls = []

    def cancel(fraction):
        calls.append(fraction)
        raise Cancelled

    with core_warnings():  # as the base runs compute: the result carries the warnings
        widget.compute({**widget.parameters()}, lambda fraction: None)  # runs to the end with a progress callback
        with pytest.raises(Cancelled):
            widget.compute(widget.parameters(), cancel)
    assert calls == [0.5]


def test_sample_sinogram_opens_with_its_angles(make_napari_viewer, wait_idle):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-resolution", "sinogram")
    layer = viewer.layers["sinogram"]
    assert layer.data.shape == (256, 806) and len(layer.metadata["theta"]) == 806
    widget = _widget(viewer)
    assert widget.angle_source.value == "from the layer" and widget.pixel_size.value == "50"
    assert widget.unit.value == "nm"


def test_a_stack_with_the_tilt_axis_along_x(make_napari_viewer, notifications, wait_idle):
    stack = tomography_sinogram(48, np.linspace(0, 180, 160, endpoint=False), phantom="random", dose=300,
                                rows=12, seed=3)
    viewer = make_napari_viewer()
    viewer.add_image(np.swapaxes(stack.sinogram, 1, 2), name="along x", metadata={"theta": stack.theta.tolist()},
                     scale=(1.0, 3.0, 2.0))
    widget = _widget(viewer)
    assert not widget.tilt_axis.native.isHidden() and widget.tilt_angle.native.isHidden()
    assert widget.tilt_axis.value == "auto"
    assert widget.pixel_size.value == "2, 3, 3"  # rows along the detected tilt axis (x), slices across it
    widget.weighting.value = "gaps"
    widget.run()
    wait_idle(widget)
    expected = tomography_frc(stack.sinogram, stack.theta, pixel_size=(2.0, 3.0, 3.0), weighting="gaps")
    assert widget.result.parameters["tilt_axis"] == "x" and widget.result.parameters["weighting"] == "gaps"
    assert widget.result.resolution == pytest.approx(expected.resolution)
    assert viewer.layers["along x even"].data.shape == (12, 48, 48)
    widget.tilt_axis.value = "angle"
    assert not widget.tilt_angle.native.isHidden()
    widget.tilt_angle.value = 90.0
    assert widget.parameters()["tilt_axis"] == 90.0
    widget.tilt_axis.value = "y"
    widget.run()
    wait_idle(widget)
    assert any("tilt_axis='y' disagrees with the data" in text for kind, text in notifications if kind == "warning")
    viewer.layers.selection.clear()
    viewer.add_image(stack.sinogram[:, 0].T, name="sinogram", metadata={"theta": stack.theta.tolist()})
    widget.sinogram.value = viewer.layers["sinogram"]
    assert widget.tilt_axis.native.isHidden() and widget.parameters()["tilt_axis"] == "auto"
