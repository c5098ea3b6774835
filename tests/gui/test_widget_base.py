"""What every estimator widget gets from the base: pickers, pixel size, GPU option, clean-up on close."""

import numpy as np
import pytest

from napari_resolution.core.figures import Curve, Marker, Plot
from napari_resolution.gui.layers import add_or_update_layer, layer_data

WIDGETS = ["Fourier shell correlation", "SSNR", "Mask", "Decorrelation analysis", "MTF", "Local resolution"]
RNG = np.random.default_rng(0)


def _names(picker) -> list:
    return [name for name, _ in picker.choices] if picker.choices and isinstance(picker.choices[0], tuple) \
        else [layer.name for layer in picker.choices if layer is not None]


@pytest.mark.parametrize("name", WIDGETS)
def test_a_widget_docked_first_picks_layers_opened_later(make_napari_viewer, name):
    viewer = make_napari_viewer()
    _, widget = viewer.window.add_plugin_dock_widget("napari-resolution", name)
    first = widget.pickers()[0]
    assert first.value is None
    viewer.add_image(RNG.random((64, 64)).astype(np.float32), name="one", scale=(2.5, 2.5))
    viewer.add_image(RNG.random((64, 64)).astype(np.float32), name="two", scale=(2.5, 2.5))
    assert first.value is viewer.layers["one"]
    assert widget.pixel_size.value == "2.5"
    required = [p for spec, p in zip(widget.layer_inputs, widget.pickers()) if not spec.optional]
    assert len({id(p.value) for p in required}) == len(required)  # two required pickers get two layers


@pytest.mark.parametrize("name", WIDGETS)
def test_a_closed_widget_no_longer_follows_the_viewer(make_napari_viewer, name, qtbot):
    viewer = make_napari_viewer()
    viewer.add_image(RNG.random((64, 64)).astype(np.float32), name="one")
    dock, widget = viewer.window.add_plugin_dock_widget("napari-resolution", name)
    viewer.add_image(RNG.random((64, 64)).astype(np.float32), name="two")
    assert "two" in [layer.name for layer in widget.usable_layers(widget.layer_inputs[0])]
    assert "two" in _names(widget.pickers()[0])
    viewer.window.remove_dock_widget(dock)  # what napari's close button does
    qtbot.wait(10)
    viewer.add_image(RNG.random((64, 64)).astype(np.float32), name="three")
    assert "three" not in _names(widget.pickers()[0])  # the picker stopped following the layer list
    viewer.layers.remove("one")  # a closed widget must not fail on later viewer events
    viewer.theme = "light"
    assert [layer.name for layer in viewer.layers] == ["two", "three"]


def test_use_gpu_maps_to_the_core_device(make_napari_viewer, monkeypatch, notifications, wait_idle):
    import napari_resolution.gui.widgets.base as base
    from napari_resolution.gui.widgets.fourier import FourierCorrelationWidget

    viewer = make_napari_viewer()
    viewer.open_sample("napari-resolution", "image_pair")
    monkeypatch.setattr(base, "gpu_available", lambda: False)
    widget = FourierCorrelationWidget(viewer)
    widget.use_gpu.value = True  # ticked although disabled: ignored
    assert not widget.use_gpu.enabled and widget.parameters()["device"] is None
    monkeypatch.setattr(base, "gpu_available", lambda: True)  # pretend: the core then needs cupy
    widget = FourierCorrelationWidget(viewer)
    widget.use_gpu.value = True
    assert widget.parameters()["device"] == "gpu"
    if not __import__("napari_resolution.core.backend", fromlist=["x"]).gpu_available():
        widget.run()
        wait_idle(widget)
        assert any("cupy" in text for kind, text in notifications if kind == "error")


def test_add_or_update_image_takes_and_refreshes_placement(make_napari_viewer):
    viewer = make_napari_viewer()
    source = viewer.add_image(RNG.random((32, 32)), name="map", scale=(2.0, 2.0), translate=(5.0, 5.0))
    layer = add_or_update_layer(viewer, np.zeros((16, 16)), source=source, estimator="local", kind="mask",
                                metadata={"a": 1}, scale=(4.0, 4.0))
    assert tuple(layer.scale) == (4.0, 4.0) and tuple(layer.translate) == (5.0, 5.0)
    again = add_or_update_layer(viewer, np.ones((32, 32)), source=source, estimator="local", kind="mask",
                                metadata={"a": 2})
    assert again is layer and len(viewer.layers) == 2
    assert tuple(layer.scale) == (2.0, 2.0) and layer.metadata["a"] == 2 and layer.data.shape == (32, 32)
    assert layer.metadata["napari_resolution"] == {"kind": "mask", "source": "map", "source_id": str(source.unique_id)}
    assert source.data.shape == (32, 32)  # the source layer is untouched


def test_a_result_layer_beside_its_source_is_updated_in_place(make_napari_viewer):
    from napari_resolution.gui.layers import beside

    viewer = make_napari_viewer()
    movie = viewer.add_image(RNG.random((4, 32, 40)), name="movie", scale=(1.0, 2.0, 3.0), translate=(0.0, 5.0, 7.0),
                             units=("s", "nm", "nm"))
    place = beside(movie, 10.0, 2)
    assert place == (5.0, 7.0 + 40 * 3.0 + 10.0)  # level with its top, right of its right edge
    layer = add_or_update_layer(viewer, np.zeros((9, 9)), source=movie, estimator="psf", kind="psf",
                                metadata={"run": 1}, scale=(2.0, 3.0), translate=place, colormap="magma")
    assert layer.name == "movie psf" and tuple(layer.translate) == place
    assert tuple(str(unit) for unit in layer.units) == ("nanometer", "nanometer")  # the source's, for its axes
    again = add_or_update_layer(viewer, np.ones((11, 11)), source=movie, estimator="psf", kind="psf",
                                metadata={"run": 2}, scale=(2.0, 3.0), translate=beside(movie, 20.0, 2),
                                colormap="gray")
    assert again is layer and len(viewer.layers) == 2 and layer.data.shape == (11, 11)
    assert layer.metadata["run"] == 2 and layer.translate[1] == place[1] + 10.0
    assert layer.colormap.name == "magma"  # display keywords only when created: the rest is the user's


def test_a_shapes_result_is_updated_in_place_and_a_foreign_layer_is_left_alone(make_napari_viewer):
    viewer = make_napari_viewer()
    source = viewer.add_image(RNG.random((32, 32)), name="map", scale=(2.0, 2.0))
    corners = np.array([[0.0, 0.0], [0.0, 4.0], [4.0, 4.0], [4.0, 0.0]])
    box = add_or_update_layer(viewer, [(corners, "rectangle")], source=source, estimator="box", kind="local_box",
                              layer_type="shapes")
    moved = add_or_update_layer(viewer, [(corners + 1, "rectangle")], source=source, estimator="box",
                                kind="local_box", layer_type="shapes")
    assert moved is box and len(viewer.layers) == 2 and tuple(box.scale) == (2.0, 2.0)
    np.testing.assert_allclose(box.data[0], corners + 1)
    users = viewer.add_points(np.zeros((1, 2)), name="map mask")
    mask = add_or_update_layer(viewer, np.ones((32, 32)), source=source, estimator="mask", kind="mask")
    assert mask is not users and len(users.data) == 1 and len(viewer.layers) == 4
    own = viewer.add_image(np.zeros((32, 32)), name="map local resolution")  # a user's image of a result's name
    again = add_or_update_layer(viewer, np.ones((32, 32)), source=source, estimator="local resolution",
                                kind="local_resolution_map")
    assert again is not own and not own.data.any()  # never written into


def test_results_table_fills_texts_tooltips_and_colours(qtbot):
    from napari_resolution.gui.widgets.base import ResultsTable

    table = ResultsTable(("ROI", "value", "note"), 90)
    qtbot.addWidget(table)
    table.fill([("1", "0.25", "fine"), ("2", "n/a", "no edge\nfound")], tips=[("1", "0.25 ± 0.01", "fine"),
                                                                           ("2", "n/a", "no edge\nfound")],
               colors=["#2f8fff", "#f0a000"])
    assert table.rowCount() == 2 and not table.verticalHeader().isVisible()
    assert table.item(1, 2).text() == "no edge\nfound" and table.item(0, 1).toolTip() == "0.25 ± 0.01"
    assert table.item(1, 0).foreground().color().name() == "#f0a000"
    table.fill([("3", "0.5", "")])  # refilled: fewer rows; the tooltip is the text
    assert table.rowCount() == 1 and table.item(0, 1).toolTip() == "0.5"


def test_core_warnings_are_silenced_or_notified_once(monkeypatch):
    import warnings

    import napari_resolution.gui.widgets.base as base

    shown = []
    monkeypatch.setattr(base, "show_warning", shown.append)
    with base.core_warnings():  # the result carries them (pytest turns an escaping warning into an error)
        warnings.warn("few frames", RuntimeWarning, stacklevel=1)
    assert shown == []
    with base.core_warnings(show=True):
        for text in ("unit unknown", "no pixel size", "unit unknown"):
            warnings.warn(text, RuntimeWarning, stacklevel=1)
    assert shown == ["unit unknown", "no pixel size"]


def test_layer_data_stays_lazy(make_napari_viewer):
    da = pytest.importorskip("dask.array")
    viewer = make_napari_viewer()
    lazy = da.zeros((4, 32, 32), chunks=(1, 32, 32))
    layer = viewer.add_image(lazy, name="lazy")
    assert layer_data(layer) is lazy


# ------------------------------------------------------------------ layout, stale results, labels


@pytest.mark.parametrize("name", WIDGETS)
def test_every_widget_is_narrow_and_scrolls(make_napari_viewer, name):
    from qtpy.QtWidgets import QScrollArea

    viewer = make_napari_viewer()
    viewer.add_image(RNG.random((8, 64, 64)).astype(np.float32), name="stack")
    viewer.add_image(RNG.random((64, 64)).astype(np.float32), name="image")
    dock, widget = viewer.window.add_plugin_dock_widget("napari-resolution", name)
    for size in (widget.sizeHint(), widget.minimumSizeHint(), dock.sizeHint(), dock.minimumSizeHint()):
        assert size.width() <= 420  # the dock (title bar, margins) around a widget of at most 400 pixels
    assert widget.sizeHint().width() <= 400 and widget.minimumSizeHint().width() <= 400
    scroll = widget.findChild(QScrollArea)
    assert scroll is not None and scroll.widget() is widget.body.parentWidget()
    assert widget.minimumSizeHint().height() < scroll.widget().minimumSizeHint().height()  # tall content scrolls


def _fsc_widget(viewer, wait_idle):
    from napari_resolution.gui.widgets.fourier import FourierCorrelationWidget

    viewer.open_sample("napari-resolution", "image_pair")
    widget = FourierCorrelationWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.run()
    wait_idle(widget)
    return widget


def test_result_says_what_it_was_computed_from_and_goes_stale(make_napari_viewer, wait_idle):
    from napari_resolution.gui.widgets.base import STALE

    viewer = make_napari_viewer()
    widget = _fsc_widget(viewer, wait_idle)
    text = widget.result_line.text()
    assert "computed from: Image 1: image 1 · Image 2: image 2 · Pixel size: 10 · Unit: nm" in text
    assert "Threshold: half-bit" in text and "Ring thickness: 1" in text and "Mask" not in text
    assert not widget.result_line.stale and widget.panel.stale_note is None
    widget.show_all.value = True  # a display option: the result stays current
    assert not widget.result_line.stale
    widget.ring_thickness.value = 2
    assert widget.result_line.stale and f"({STALE})" in widget.result_line.text()
    assert widget.panel.stale_note == STALE
    assert all(item.opacity() < 1 for item in widget.panel.plot_item.listDataItems())
    widget.ring_thickness.value = 1  # back to what the result was computed from
    assert not widget.result_line.stale and widget.panel.stale_note is None
    widget.pixel_size.value = "12"
    assert widget.result_line.stale
    widget.run()
    wait_idle(widget)
    assert not widget.result_line.stale and widget.panel.stale_note is None
    assert "Pixel size: 12" in widget.result_line.text()
    viewer.layers.remove("image 2")  # the picked layer goes: the picker changes
    assert widget.result_line.stale


def test_unscaled_layers_are_measured_in_px(make_napari_viewer, wait_idle):
    viewer = make_napari_viewer()
    for name in ("one", "two"):
        viewer.add_image(RNG.random((64, 64)).astype(np.float32), name=name)
    _, widget = viewer.window.add_plugin_dock_widget("napari-resolution", "Fourier shell correlation")
    assert widget.pixel_size.value == "1" and widget.unit.value == "px"  # as the CLI: no pixel size known
    widget.run()
    wait_idle(widget)
    assert widget.result_line.text().startswith(widget.result.summary("px")) and " px " in widget.result_line.text()
    assert widget.panel.latest.resolution_axis.endswith("(px)")
    widget.pixel_size.value = "0.5"  # a pixel size other than 1: no longer in pixels, the user names the unit
    assert widget.unit.value == ""
    viewer.add_image(RNG.random((16, 16)), name="scaled", scale=(2.0, 2.0))
    widget.first.value = viewer.layers["scaled"]
    assert widget.pixel_size.value == "2" and widget.unit.value == ""  # a pixel size, no unit known


def test_cancel_and_failure_mark_the_shown_result(make_napari_viewer, wait_idle, notifications, monkeypatch, qtbot):
    import time

    viewer = make_napari_viewer()
    widget = _fsc_widget(viewer, wait_idle)
    shown = widget.result

    def slow(parameters, progress):
        for step in range(200):
            progress(step / 200)
            time.sleep(0.02)

    monkeypatch.setattr(widget, "compute", slow)
    widget.run()
    qtbot.wait(100)
    widget.runner.cancel_button.click()
    wait_idle(widget)
    assert "(last run cancelled)" in widget.result_line.text() and widget.panel.stale_note == "last run cancelled"

    def broken(parameters, progress):
        raise ValueError("the core said no")

    monkeypatch.setattr(widget, "compute", broken)
    widget.run()
    wait_idle(widget)
    assert "(last run failed: the core said no)" in widget.result_line.text()
    widget.pixel_size.value = "ten"
    widget.run()
    assert "(last run failed: pixel size must be a number" in widget.result_line.text()
    assert widget.result is shown  # the old result is still what is shown, marked


@pytest.mark.parametrize("name", ["SSNR", "Mask", "Decorrelation analysis", "Local resolution"])
def test_every_widget_marks_a_stale_result(make_napari_viewer, wait_idle, name):
    viewer = make_napari_viewer()
    viewer.add_image(RNG.random((48, 48, 48)).astype(np.float32), name="one")
    viewer.add_image(RNG.random((48, 48, 48)).astype(np.float32), name="two")
    _, widget = viewer.window.add_plugin_dock_widget("napari-resolution", name)
    if name == "Decorrelation analysis":
        widget.slices.value, widget.slice_mode.value = "0:2", "listed slices"
    widget.run()
    wait_idle(widget)
    assert "computed from: " in widget.result_line.text() and not widget.result_line.stale
    widget.pixel_size.value = "2"
    assert widget.result_line.stale and "(stale: inputs changed since this run)" in widget.result_line.text()
    assert all(panel.stale_note for panel in widget.curve_panels if panel.runs)


def test_overlaid_runs_are_named_by_what_differs():
    from napari_resolution.gui.plots import run_names

    plots = [Plot("a vs b"), Plot("a vs b"), Plot("a vs b")]
    first = {"Image 1": "a", "Threshold": "half-bit", "Ring thickness": "1"}
    second = {**first, "Threshold": "0.143"}
    assert run_names(plots[:2], [first, second]) == ["Threshold: half-bit", "Threshold: 0.143"]
    third = {**second, "Ring thickness": "2"}
    assert run_names(plots, [first, second, third]) == [
        "Threshold: half-bit, Ring thickness: 1", "Threshold: 0.143, Ring thickness: 1",
        "Threshold: 0.143, Ring thickness: 2"]
    assert run_names(plots[:2], [first, first]) == ["run 1", "run 2"]
    assert run_names([Plot("a vs b"), Plot("c vs d")], [None, None]) == ["a vs b", "c vs d"]


def test_close_marker_labels_do_not_overlap_in_the_panel(qtbot):
    from napari_resolution.gui.plots import CurvePanel

    panel = CurvePanel()
    qtbot.addWidget(panel)
    panel.resize(360, 420)
    panel.show()
    x = np.linspace(0, 0.5, 50)
    panel.show_run(Plot("p", (Curve("FRC", x, 1 - 2 * x),), (Marker(0.2, "3.42 Å"), Marker(0.205, "≤ 3.3 Å"),
                                                             Marker(0.5, "≤ 2 Å (Nyquist)"))))
    qtbot.wait(50)
    boxes = [label.sceneBoundingRect() for label in panel.marker_labels]
    assert len(boxes) == 3
    assert not any(a.intersects(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    view = panel.plot_item.vb.sceneBoundingRect()
    assert all(view.contains(box) for box in boxes)  # the Nyquist label turns left, inside the plot
    assert all(box.top() < view.top() + view.height() / 3 for box in boxes)  # at the top of the lines


def test_a_results_warnings_stay_under_its_line_until_the_next_run(make_napari_viewer, wait_idle, notifications,
                                                                   monkeypatch):
    import dataclasses

    viewer = make_napari_viewer()
    widget = _fsc_widget(viewer, wait_idle)
    clean = widget.result
    assert "⚠" not in widget.result_line.text() and widget.result_line.toolTip() == ""
    long = ("the analysed plane is 128 x 128 pixels: on planes under 256 pixels the cut-off reads too high. "
            "Analyse a larger field")
    bound = "the peak lies at the end of the searched range (0.9); the number is only a bound"
    monkeypatch.setattr(widget, "compute", lambda parameters, progress: dataclasses.replace(
        clean, warnings=(long, bound)))
    widget.run()
    wait_idle(widget)
    lines = widget.result_line.text().splitlines()
    assert "⚠ the analysed plane is 128 x 128 pixels …" in lines
    assert "⚠ the peak lies at the end of the searched range (0.9) …" in lines
    assert lines[-1].startswith("computed from: ")
    tip = widget.result_line.toolTip()
    assert "Analyse a larger field" in tip and "only a bound" in tip  # every warning in full on hover
    assert [text for kind, text in notifications if kind == "warning"] == [long, bound]  # notified too
    widget.pixel_size.value = "12"
    assert widget.result_line.stale and "⚠ the analysed plane" in widget.result_line.text()  # greyed with it
    monkeypatch.setattr(widget, "compute", lambda parameters, progress: clean)
    widget.run()
    wait_idle(widget)
    assert "⚠" not in widget.result_line.text() and widget.result_line.toolTip() == ""  # a new run clears them


def test_a_warnings_headline_ends_at_its_first_clause():
    from napari_resolution.gui.plots import headline

    assert headline("few frames: 300, e.g. a short movie") == "few frames …"
    assert headline("a bound, e.g. sparse spots; lower r_min") == "a bound, e.g. sparse spots …"
    assert headline("pixel size not stored") == "pixel size not stored"
