import numpy as np
import pytest

import napari_resolution.gui.widgets.mtf as mtf_module
from napari_resolution.core.mtf import mtf_edge
from napari_resolution.core.simulate import gaussian_spot, slanted_edge
from napari_resolution.gui.widgets.mtf import MTFWidget


@pytest.fixture
def counted(monkeypatch):
    """Count the core MTF calls the widget makes."""
    calls = []
    original = mtf_module.mtf_edge

    def counting(*args, **kwargs):
        calls.append(kwargs.get("roi"))
        return original(*args, **kwargs)

    monkeypatch.setattr(mtf_module, "mtf_edge", counting)
    return calls


def _edge_viewer(make_napari_viewer):
    viewer = make_napari_viewer()
    image = slanted_edge((256, 256), 80, 1.2, noise=0.004, seed=0)
    viewer.add_image(image, name="chart", scale=(0.5, 0.5))
    widget = MTFWidget(viewer)
    viewer.window.add_dock_widget(widget)
    return viewer, widget, image


def test_drawing_a_rectangle_shows_its_mtf(make_napari_viewer, wait_idle, counted):
    viewer, widget, image = _edge_viewer(make_napari_viewer)
    widget.start_picking()
    layer = viewer.layers["chart MTF edges"]
    assert layer.mode == "add_rectangle" and tuple(layer.scale) == (0.5, 0.5)
    layer.add_rectangles(np.array([[40, 50], [200, 170]]))  # the layer shares the image scale: image pixels
    wait_idle(widget)
    expected = mtf_edge(image, roi=(40, 50, 200, 170), pixel_size=0.5)
    (x, y) = widget.panel.plot_item.listDataItems()[0].getOriginalDataset()
    np.testing.assert_allclose(y, expected.mtf)
    assert widget.table.rowCount() == 1
    assert widget.table.item(0, 1).text() == f"{expected.f50:.4f}"
    assert widget.table.item(0, 4).text() == f"{expected.edge_angle:.2f}°"
    assert len(counted) == 1


def test_only_changed_rois_are_recomputed(make_napari_viewer, wait_idle, counted):
    viewer, widget, _ = _edge_viewer(make_napari_viewer)
    widget.start_picking()
    layer = viewer.layers["chart MTF edges"]
    layer.add_rectangles(np.array([[40, 50], [200, 170]]))
    wait_idle(widget)
    layer.add_rectangles(np.array([[20, 60], [240, 190]]))
    wait_idle(widget)
    assert len(counted) == 2 and widget.table.rowCount() == 2
    moved = [shape.copy() for shape in layer.data]
    moved[0] = moved[0] + np.array([2.0, 1.0])
    layer.data = moved
    wait_idle(widget)
    assert len(counted) == 3  # the moved ROI only
    assert len(widget.panel.plot_item.listDataItems()) == 2
    widget.show_esf.value = True
    assert not widget.profile_panel.isHidden()
    assert len(widget.profile_panel.plot_item.listDataItems()) == 4  # ESF and LSF of both ROIs


def test_flat_roi_is_a_notification_not_a_crash(make_napari_viewer, wait_idle, notifications):
    viewer = make_napari_viewer()
    image = np.hstack([0.5 + 0.01 * np.random.default_rng(0).standard_normal((128, 128)),
                       slanted_edge((128, 128), 80, 1.0, seed=0)])
    viewer.add_image(image, name="mixed")
    widget = MTFWidget(viewer)
    widget.start_picking()
    viewer.layers["mixed MTF edges"].add_rectangles(np.array([[10, 10], [110, 110]]))
    wait_idle(widget)
    assert any("no edge found" in text for kind, text in notifications if kind == "error")
    assert "no edge found" in widget.table.item(0, 5).text()
    assert widget.inputs.native.isEnabled()


def test_point_mode_measures_beads(make_napari_viewer, wait_idle):
    viewer = make_napari_viewer()
    image = gaussian_spot((128, 128), (40.3, 50.6), 1.5, background=0.1, noise=0.005, seed=0)
    image += gaussian_spot((128, 128), (90.2, 80.7), 2.0, noise=0.0)
    viewer.add_image(image, name="beads")
    widget = MTFWidget(viewer)
    widget.mode.value = "Point"
    widget.start_picking()
    layer = viewer.layers["beads MTF beads"]
    assert layer.mode == "add"
    layer.add([[40, 51], [90, 81]])
    wait_idle(widget)
    assert widget.table.rowCount() == 2
    fwhm = [widget.results[widget.key(roi)].fwhm for roi in widget.rois()]
    np.testing.assert_allclose(fwhm, [2.3548 * 1.5, 2.3548 * 2.0], rtol=0.03)
