"""Issue #27, widget papercuts: the compiling notice, docks that fit their width, tabified docks."""

import logging
import threading

import numpy as np
import pytest

from napari_resolution.core import kernels
from napari_resolution.gui.launch import WIDGETS

RNG = np.random.default_rng(0)


def test_the_compiling_notice_goes_with_the_run(make_napari_viewer, wait_idle, monkeypatch, qtbot):
    import napari_resolution.gui.notices as notices

    shown = []
    monkeypatch.setattr(notices, "show_info", shown.append)
    viewer = make_napari_viewer()
    viewer.open_sample("napari-resolution", "image_pair")
    _, widget = viewer.window.add_plugin_dock_widget("napari-resolution", "Fourier shell correlation")
    gate = threading.Event()
    compute = widget.compute

    def compiling(parameters, progress):
        kernels.logger.info(kernels.COMPILING_MESSAGE)  # what numba's compile event logs, in the worker
        assert gate.wait(30)
        return compute(parameters, progress)

    monkeypatch.setattr(widget, "compute", compiling)
    widget.run()
    qtbot.waitUntil(lambda: widget.runner.note.text() == kernels.COMPILING_MESSAGE, timeout=10_000)
    assert widget.runner.note.isVisibleTo(widget) and not shown  # under the bar, not a toast on the canvas
    gate.set()
    wait_idle(widget)
    assert not widget.runner.note.isVisibleTo(widget) and widget.runner.note.text() == ""
    logging.getLogger("napari_resolution.core.kernels").info(kernels.COMPILING_MESSAGE)  # nothing runs
    assert shown == [kernels.COMPILING_MESSAGE]


# ------------------------------------------------------------------------ every dock fits its width at 1280 x 800


def _fits(widget) -> bool:
    """The dock's content needs no more than the width it is given, so there is no horizontal scroll bar (and a
    results table shows all its columns)."""
    content = widget.body.parentWidget()
    tables = [table for table in (getattr(widget, "table", None),) if table is not None and table.columnCount()]
    return (content.minimumSizeHint().width() <= widget.scroll.viewport().width()
            and not widget.scroll.horizontalScrollBar().isVisible()
            and all(sum(table.columnWidth(c) for c in range(table.columnCount())) <= table.viewport().width()
                    for table in tables))


@pytest.mark.parametrize("key", list(WIDGETS))
def test_every_dock_fits_its_width_on_a_1280_by_800_screen(make_napari_viewer, wait_idle, qtbot, key):
    name, sample = WIDGETS[key]
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1280, 800)
    viewer.open_sample("napari-resolution", sample)
    _, widget = viewer.window.add_plugin_dock_widget("napari-resolution", name)
    qtbot.wait(50)
    assert _fits(widget), key
    if widget.run_text:  # with its result: the result line, tables, layers
        widget.run()
        wait_idle(widget, timeout=120_000)
        assert widget.result is not None
        qtbot.wait(50)
        assert _fits(widget), key


def test_the_single_map_dock_fits_its_width_with_a_box_inspected(make_napari_viewer, wait_idle, qtbot):
    from napari_resolution.gui.widgets.local import SINGLE_MAP

    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1280, 800)
    viewer.open_sample("napari-resolution", "half_maps")
    _, widget = viewer.window.add_plugin_dock_widget("napari-resolution", "Local resolution")
    widget.method.value = SINGLE_MAP
    widget.half2.value = viewer.layers["half-map 2"]  # every single-map option shown
    widget.run()
    wait_idle(widget, timeout=120_000)
    widget.inspect((64, 64, 30))
    qtbot.wait(50)
    assert _fits(widget)


def test_the_dock_fits_its_width_with_a_results_warnings(make_napari_viewer, wait_idle, qtbot):
    from napari_resolution.core.simulate import band_limited_noise

    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1280, 800)
    viewer.add_image(band_limited_noise((96, 96), 0.2, seed=0), name="small field")
    _, widget = viewer.window.add_plugin_dock_widget("napari-resolution", "Decorrelation analysis")
    widget.run()
    wait_idle(widget)
    qtbot.wait(50)
    assert "⚠ the analysed plane is 96 x 96 pixels …" in widget.result_line.text()
    assert _fits(widget)


def _cut_choices(widget) -> list:
    """The choices of the widget's drop-down lists that the closed list cuts: the text is wider than the list's text
    field (the list less its arrow and padding), as "label: text"."""
    from magicgui.widgets import ComboBox
    from qtpy.QtWidgets import QStyle, QStyleOptionComboBox

    cut = []
    for combo in (item for item in widget.inputs if isinstance(item, ComboBox)):
        native = combo.native
        option = QStyleOptionComboBox()
        native.initStyleOption(option)
        field = native.style().subControlRect(QStyle.CC_ComboBox, option, QStyle.SC_ComboBoxEditField, native)
        texts = [native.itemText(index) for index in range(native.count())]
        cut += [f"{combo.label}: {text}" for text in texts
                if native.fontMetrics().horizontalAdvance(text) > field.width() - 2]  # the text's 1-pixel margins
    return cut


@pytest.mark.parametrize("key", [*WIDGETS, "single map"])
def test_every_choice_fits_its_drop_down_list_on_a_1280_by_800_screen(make_napari_viewer, qtbot, key):
    from qtpy.QtCore import Qt

    from napari_resolution.gui.widgets.local import SINGLE_MAP

    name, sample = WIDGETS["local" if key == "single map" else key]
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1280, 800)
    viewer.open_sample("napari-resolution", sample)
    _, widget = viewer.window.add_plugin_dock_widget("napari-resolution", name)
    if key == "single map":  # its pickers' longer labels leave the lists less room
        widget.method.value = SINGLE_MAP
    widget.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOn)  # as when a result makes the dock scroll
    for item in widget.inputs:
        item.visible = True  # every option, also those of another choice: as wide as when shown
    qtbot.wait(50)
    assert _cut_choices(widget) == []


# --------------------------------------------------------------------------------------- docks, tabs and panels


def test_plugin_docks_open_as_tabs_not_stacked(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(show=True)
    viewer.add_image(RNG.random((64, 64)).astype(np.float32), name="image")
    docks = [viewer.window.add_plugin_dock_widget("napari-resolution", name)[0]
             for name in ("Fourier shell correlation", "SSNR", "Mask")]
    qtbot.wait(50)
    window = viewer.window._qt_window
    assert set(window.tabifiedDockWidgets(docks[0])) == set(docks[1:])
    assert not docks[2].visibleRegion().isEmpty()  # the last one opened is the tab shown


def test_a_click_scrolls_the_box_fsc_into_view(make_napari_viewer, wait_idle, qtbot):
    from qtpy.QtCore import QPoint

    from napari_resolution.core.simulate import phantom_pair

    pair = phantom_pair((48, 48, 48), sigma=2.0, noise=0.5, seed=0, dtype=np.float32)
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1280, 800)
    for number, half in enumerate((pair.half1, pair.half2), 1):
        viewer.add_image(half, name=f"half {number}")
    _, widget = viewer.window.add_plugin_dock_widget("napari-resolution", "Local resolution")
    widget.run()
    wait_idle(widget)
    widget.inspect((24, 20, 20))
    qtbot.wait(100)
    viewport = widget.scroll.viewport()
    top = widget.box_panel.mapTo(viewport, QPoint(0, 0)).y()
    plot_bottom = widget.box_panel.plot_widget.mapTo(viewport, QPoint(0, widget.box_panel.plot_widget.height())).y()
    assert 0 <= top and plot_bottom <= viewport.height() + 1  # the box's FSC in view, under the histogram


def test_computed_from_leaves_empty_fields_out():
    from napari_resolution.gui.widgets.base import Run

    inputs = {"Map": "m", "Mask": "none", "Unit": "", "Resolutions (periods)": "", "p-value layer": "off"}
    assert Run("m", inputs).description == "Map: m"  # no "Resolutions (periods): " left hanging


# ------------------------------------------------------------------- labels and legends in a dock-wide panel


@pytest.fixture
def panel(qtbot):
    """A curve panel as wide as a dock's (360 pixels), shown."""
    from napari_resolution.gui.plots import CurvePanel

    made = CurvePanel()
    qtbot.addWidget(made)
    made.resize(360, 480)
    made.show()
    return made


def _shown(panel, plot, qtbot):
    panel.show_run(plot)
    qtbot.wait(50)


def test_marker_labels_stay_inside_the_plot(panel, qtbot):
    from napari_resolution.core.figures import Curve, Marker, Plot
    from napari_resolution.core.randomization import RANDOMIZED_LABEL

    x = np.linspace(0, 0.5, 50)
    markers = (Marker(0.19, RANDOMIZED_LABEL), Marker(0.236, "4.6 Å"),
               Marker(0.29, "would pass the right edge."))
    _shown(panel, Plot("p", (Curve("FSC", x, 1 - 2 * x),), markers, unit="Å"), qtbot)
    view = panel.plot_item.vb.sceneBoundingRect()
    for label in panel.marker_labels:
        box = label.sceneBoundingRect()
        assert view.left() <= box.left() and box.right() <= view.right(), label.textItem.toPlainText()


def test_legend_labels_are_whole_and_inside_the_panel(panel, qtbot):
    from napari_resolution.core.figures import Curve, Plot

    x = np.linspace(0.05, 0.5, 20)
    names = ["local band power / noise power", "threshold (FSC 0.143 equivalent, p < 0.05)",
             "FRC — run 2, Threshold: 0.143, Ring thickness: 2, Apodization (px): 20 & more"]
    curves = (Curve(names[0], x, 1 / x), *(Curve(name, x, 1 + x, "threshold") for name in names[1:]))
    _shown(panel, Plot("p", curves, y_label="power < noise & more", log_y=True), qtbot)
    assert [label.item.toPlainText() for _, label in panel.legend.items] == names  # "<" and "&" are no markup
    assert panel.plot_item.getAxis("left").label.toPlainText().strip() == "power < noise & more"
    shown = panel.plot_widget.viewport().rect()
    for _, label in panel.legend.items:  # the longest wraps
        box = panel.plot_widget.mapFromScene(label.mapRectToScene(label.item.boundingRect())).boundingRect()
        assert shown.contains(box), label.item.toPlainText()


def test_a_histograms_peak_and_its_median_label_are_both_in_view(panel, qtbot):
    import pyqtgraph as pg

    from napari_resolution.core.figures import Curve, Marker, Plot

    x = np.linspace(2.8, 4.2, 40)
    counts = 330000 * np.exp(-(((x - 3.6) / 0.2) ** 2))
    plot = Plot("local resolution", (Curve("voxels", x, counts),), (Marker(3.6, "median 3.6 Å"),),
                x_label="local resolution, full period (Å)", y_label="voxels", frequency_axis=False, x_range=None)
    _shown(panel, plot, qtbot)
    view = panel.plot_item.vb
    assert view.viewRange()[1][1] > counts.max()
    (label,) = panel.marker_labels
    peak = view.mapViewToScene(pg.Point(x[counts.argmax()], counts.max())).y()
    assert label.sceneBoundingRect().bottom() < peak  # the label above the peak, not on it


def _tick_texts(axis) -> list:
    """The tick labels a pyqtgraph axis draws now: (rectangle, text)."""
    from qtpy.QtGui import QImage, QPainter

    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        _, _, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [(rect, text) for rect, _, text in texts]


def test_log_axis_labels_do_not_overlap(panel, qtbot):
    from napari_resolution.core.figures import Curve, Plot

    x = np.linspace(0.05, 0.5, 20)
    _shown(panel, Plot("p", (Curve("power", x, 0.6 + 20 * (0.5 - x)),), log_y=True), qtbot)  # 0.6 to 20
    texts = sorted(_tick_texts(panel.plot_item.getAxis("left")), key=lambda item: item[0].top())
    assert len(texts) >= 3
    for (upper, a), (lower, b) in zip(texts, texts[1:]):
        assert upper.bottom() <= lower.top(), (a, b)


@pytest.mark.filterwarnings("ignore:the analysed plane is:RuntimeWarning")  # a small image: the small-field warning
@pytest.mark.filterwarnings("ignore:.*the noise beyond the cut-off is not white:RuntimeWarning")  # noise-free
def test_the_per_slice_plot_ticks_whole_slices_only(panel, qtbot):
    from napari_resolution import decorrelation
    from napari_resolution.core.simulate import band_limited_noise
    from napari_resolution.gui.plots import whole_ticks

    stack = np.stack([band_limited_noise((64, 64), c, seed=i) for i, c in enumerate((0.15, 0.2, 0.25))])
    per_slice, _ = decorrelation(stack, apodization=8).plots("nm")
    _shown(panel, per_slice, qtbot)
    assert [text for _, text in _tick_texts(panel.plot_item.getAxis("bottom"))] == ["0", "1", "2"]
    assert [value for value, _ in whole_ticks(-4.0, 199.5)] == [0, 50, 100, 150]  # a long stack: every 50th
