import numpy as np
import pyqtgraph as pg
import pytest

import napari_resolution.gui.widgets.mtf as mtf_module
from napari_resolution.core.figures import PALETTE
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
    expected = mtf_edge(image, roi=(40, 50, 201, 171), pixel_size=0.5)  # pixels whose centres are inside
    assert widget.results[widget.key(widget.rois()[0])].roi == expected.roi
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
    assert len(widget.panel.plot_item.listDataItems()) == 4  # MTF and noise level of both ROIs
    widget.show_profile.value = True
    assert not widget.profile_panel.isHidden()
    assert len(widget.profile_panel.plot_item.listDataItems()) == 4  # ESF and LSF of both ROIs


def _flat_beside_an_edge(make_napari_viewer):
    """A viewer with a flat half beside a slanted edge, and an MTF widget picking ROIs on it."""
    viewer = make_napari_viewer()
    image = np.hstack([0.5 + 0.01 * np.random.default_rng(0).standard_normal((128, 128)),
                       slanted_edge((128, 128), 80, 1.0, seed=0)])
    viewer.add_image(image, name="mixed")
    widget = MTFWidget(viewer)
    widget.start_picking()
    return viewer, widget


def test_flat_roi_is_a_notification_not_a_crash(make_napari_viewer, wait_idle, notifications):
    viewer, widget = _flat_beside_an_edge(make_napari_viewer)
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


def test_roi_outside_the_image_is_rejected_by_number(make_napari_viewer, wait_idle, notifications):
    viewer, widget, _ = _edge_viewer(make_napari_viewer)
    widget.start_picking()
    layer = viewer.layers["chart MTF edges"]
    layer.add_rectangles(np.array([[40, 50], [200, 170]]))
    wait_idle(widget)
    layer.add_rectangles(np.array([[100, 200], [240, 300]]))  # columns run past the image's 256
    wait_idle(widget)
    errors = [text for kind, text in notifications if kind == "error"]
    assert len(errors) == 1 and errors[0].startswith("MTF ROI 2: ") and "extends outside the image" in errors[0]
    assert "extends outside the image" in widget.table.item(1, 5).text()
    assert widget.table.item(0, 1).text() != "—"  # the ROI inside is still measured
    layer.add_rectangles(np.array([[-0.5, 60], [255.5, 180]]))  # along the image border (pixel centres 0 ... 255)
    wait_idle(widget)
    along_border = widget.results[widget.key(widget.rois()[2])]
    assert not isinstance(along_border, str) and along_border.roi == (0, 60, 256, 181)


def test_failing_roi_notifies_once(make_napari_viewer, wait_idle, notifications):
    viewer, widget = _flat_beside_an_edge(make_napari_viewer)
    layer = viewer.layers["mixed MTF edges"]
    layer.add_rectangles(np.array([[10, 10], [110, 110]]))
    wait_idle(widget)
    assert len(notifications) == 1
    viewer.add_image(np.zeros((32, 32)), name="unrelated")  # layer events refill the pickers
    viewer.add_points([[5, 5]], name="more")
    wait_idle(widget)
    assert len(notifications) == 1 and widget.image.value is viewer.layers["mixed"]
    assert "no edge found" in widget.table.item(0, 5).text()
    layer.data = [layer.data[0] + np.array([1.0, 0.0])]  # the ROI changed: computed, and notified, again
    wait_idle(widget)
    assert len(notifications) == 2


def test_point_mode_shows_the_bead_profile(make_napari_viewer, wait_idle):
    viewer = make_napari_viewer()
    image = gaussian_spot((128, 128), (40.3, 50.6), 1.5, background=0.1, noise=0.005, seed=0)
    image += gaussian_spot((128, 128), (90.2, 80.7), 2.0, noise=0.0)
    viewer.add_image(image, name="beads")
    widget = MTFWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.mode.value = "Point"
    assert not widget.show_profile.native.isHidden() and widget.show_profile.text == "Show bead profile"
    assert widget.profile_panel.plot_item.getAxis("bottom").labelText == "distance from the bead centre (pixels)"
    widget.show_profile.value = True
    widget.start_picking()
    viewer.layers["beads MTF beads"].add([[40, 51], [90, 81]])
    wait_idle(widget)
    assert not widget.profile_panel.isHidden()
    plot = widget.profile_panel.latest
    assert plot.title == "radial profile" and plot.y_label == "PSF (normalised)"
    fwhm = [widget.results[widget.key(roi)].fwhm for roi in widget.rois()]
    assert [curve.label for curve in plot.curves] == [  # an unscaled image: sizes in px
        "radial profile 1", f"Gaussian fit, FWHM {fwhm[0]:.3g} px 1", "radial profile 2",
        f"Gaussian fit, FWHM {fwhm[1]:.3g} px 2"]
    assert len(widget.profile_panel.plot_item.listDataItems()) == 4
    widget.mode.value = "Edge"
    assert widget.show_profile.text == "Show ESF / LSF"
    assert widget.profile_panel.plot_item.getAxis("bottom").labelText == "distance from the edge (pixels)"


def test_table_notes_are_readable(make_napari_viewer, wait_idle):
    viewer = make_napari_viewer()
    viewer.add_image(slanted_edge((256, 256), 44.5, 1.2, noise=0.004, seed=0), name="diagonal")
    widget = MTFWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.start_picking()
    viewer.layers["diagonal MTF edges"].add_rectangles(np.array([[60, 60], [196, 196]]))
    wait_idle(widget)
    result = widget.results[widget.key(widget.rois()[0])]
    assert result.warnings  # the angle warning, a long sentence
    note = widget.table.item(0, 5)
    assert note.text() == note.toolTip() == "\n".join(result.warnings)  # each note on its line, all of it on hover
    assert widget.table.item(0, 1).toolTip() == f"{result.f50:.4f}"
    assert widget.table.wordWrap() and widget.table.horizontalHeader().stretchLastSection()
    assert widget.table.rowHeight(0) >= widget.table.sizeHintForRow(0)  # rows grow with the wrapped note


def test_mtf50_mtf10_and_noise_floor_markers_in_the_panel(make_napari_viewer, wait_idle):
    viewer, widget, _ = _edge_viewer(make_napari_viewer)
    widget.start_picking()
    layer = viewer.layers["chart MTF edges"]
    layer.add_rectangles(np.array([[40, 50], [200, 170]]))
    layer.add_rectangles(np.array([[20, 60], [240, 190]]))
    wait_idle(widget)
    results = [widget.results[widget.key(roi)] for roi in widget.rois()]
    markers = {marker.label: marker for marker in widget.panel.latest.markers}
    for number, result in enumerate(results, 1):
        assert result.noise_floor is not None  # noise 0.004: a floor near 0.4 cycles/pixel
        for name, x in ((f"MTF50 {result.f50:.3f}", result.f50), (f"MTF10 {result.f10:.3f}", result.f10),
                        (f"noise floor {result.noise_floor:.3f}", result.noise_floor)):
            marker = markers[f"{number}: {name}"]
            assert marker.x == x and marker.color == PALETTE[number - 1]
    assert [label for label in markers if "Nyquist" in label] == ["Nyquist"]
    lines = [item for item in widget.panel.plot_item.items
             if isinstance(item, pg.InfiniteLine) and item is not widget.panel._crosshair]
    assert len(lines) == len(markers) == 7
    assert [curve.label for curve in widget.panel.latest.curves] == ["MTF 1", "noise level 1", "MTF 2",
                                                                     "noise level 2"]


def test_point_mode_measures_a_bead_in_a_z_stack(make_napari_viewer, wait_idle):
    from napari_resolution.core.mtf import BeadStackResult
    from napari_resolution.core.simulate import bead_stack

    viewer = make_napari_viewer()
    stack = bead_stack((31, 64, 64), (15.2, 30.4, 33.6), (3.0, 1.5, 1.5), amplitude=1000, background=100, noise=3,
                       seed=0)
    viewer.add_image(stack, name="bead", scale=(0.3, 0.1, 0.1))
    widget = MTFWidget(viewer)
    assert widget.image.value is viewer.layers["bead"] and widget.pixel_size.value == "0.3, 0.1, 0.1"
    widget.mode.value = "Point"
    widget.start_picking()
    layer = viewer.layers["bead MTF beads"]
    layer.add([[15, 30, 34]])  # the bead, clicked in its z plane (the points layer has the image's scale)
    wait_idle(widget)
    (result,) = [widget.results[widget.key(roi)] for roi in widget.rois()]
    assert isinstance(result, BeadStackResult)
    assert result.lateral_fwhm == pytest.approx(2.3548 * 0.15, rel=0.02)
    assert result.axial_fwhm == pytest.approx(2.3548 * 0.9, rel=0.02)
    assert widget.table.item(0, 4).text().startswith("0.35") and " / z 2.1" in widget.table.item(0, 4).text()
    widget.unit.value = "µm"  # a length: the FWHM with its unit, the MTF50 period and lp/mm
    widget.refresh_views()
    assert widget.table.columns[4:6] == ["period\n(µm)", "lp/\nmm"]
    assert widget.table.item(0, 6).text().endswith(" / z 2.12 µm")


# ------------------------------------------------------------------------------------------------ issue #27


def _sample_widget(make_napari_viewer, sample):
    """The MTF widget docked in a 1280 x 800 window on a sample."""
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1280, 800)
    viewer.open_sample("napari-resolution", sample)
    _, widget = viewer.window.add_plugin_dock_widget("napari-resolution", "MTF")
    return viewer, widget


def _table_fits(table) -> bool:
    return sum(table.columnWidth(c) for c in range(table.columnCount())) <= table.viewport().width() and \
        not table.horizontalScrollBar().isVisible()


def test_a_length_unit_adds_the_mtf50_period_and_lp_per_mm(make_napari_viewer, wait_idle, qtbot):
    viewer, widget = _sample_widget(make_napari_viewer, "edge_chart")
    assert widget.unit.value == "µm"
    widget.start_picking()
    row0, col0, row1, col1 = viewer.layers["slanted edges"].metadata["known_answer"]["rois"][0]
    viewer.layers["slanted edges MTF edges"].add_rectangles(np.array([[row0 + 2, col0 + 2], [row1 - 3, col1 - 3]]))
    wait_idle(widget)
    qtbot.wait(50)
    result = widget.results[widget.key(widget.rois()[0])]
    assert widget.table.columns == ["ROI", "MTF50\nc/px", "MTF10\nc/px", "MTF\nNyq.", "period\n(µm)", "lp/\nmm",
                                    "angle/\nFWHM", "note"]
    period = float(widget.table.item(0, 4).text())
    assert period == pytest.approx(result.resolution_50, rel=0.01)
    assert float(widget.table.item(0, 5).text()) == pytest.approx(1000 / result.resolution_50, rel=0.01)
    assert _table_fits(widget.table)  # every column in view, in a dock on a 1280-pixel screen
    widget.unit.value = ""  # no unit: the default columns
    widget.refresh_views()
    assert widget.table.columns == list(mtf_module.COLUMNS) and _table_fits(widget.table)


def test_beads_are_coloured_and_numbered_like_the_rows_and_their_fwhm_has_its_unit(make_napari_viewer, wait_idle):
    viewer, widget = _sample_widget(make_napari_viewer, "beads")
    widget.mode.value = "Point"
    widget.start_picking()
    layer = viewer.layers["beads MTF beads"]
    layer.add(np.array(viewer.layers["beads"].metadata["known_answer"]["centers"][:3]))
    wait_idle(widget)
    from napari.utils.colormaps.standardize_color import transform_color

    np.testing.assert_allclose(layer.border_color, transform_color(PALETTE[:3]))
    assert list(layer.features["number"]) == [1, 2, 3] and layer.text.visible
    assert layer.text.string.format == "{number}"
    assert [widget.table.item(row, 0).text() for row in range(3)] == ["● 1", "● 2", "● 3"]
    assert [widget.table.item(row, 0).foreground().color().name() for row in range(3)] == list(PALETTE[:3])
    result = widget.results[widget.key(widget.rois()[0])]
    assert widget.table.item(0, 6).text() == f"{result.fwhm:.3g} nm"
    assert _table_fits(widget.table)


def test_esf_and_lsf_are_drawn_in_different_colours(make_napari_viewer, wait_idle):
    viewer, widget, _ = _edge_viewer(make_napari_viewer)
    widget.show_profile.value = True
    widget.start_picking()
    viewer.layers["chart MTF edges"].add_rectangles(np.array([[40, 50], [200, 170]]))
    wait_idle(widget)
    esf, lsf = widget.profile_panel.latest.curves
    assert esf.label.startswith("ESF") and lsf.label.startswith("LSF")
    assert esf.color == PALETTE[0] and lsf.color != esf.color
