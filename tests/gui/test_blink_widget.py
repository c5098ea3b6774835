"""The "Blink PSF" dock widget: channels, pixel sizes, result layers, table, panels, export, errors, cancel."""

import numpy as np
import pytest

from napari_resolution import blink_psf, io
from napari_resolution.core.blink import BlinkChannelsResult
from napari_resolution.core.simulate import blinking_movie
from napari_resolution.gui.widgets import blink as blink_widget
from napari_resolution.gui.widgets.blink import BlinkPSFWidget


@pytest.fixture(scope="module")
def green():
    return blinking_movie((2000, 48, 48), sigma=(150.0, 110.0), theta=20.0, pixel_size=(100.0, 90.0),
                          n_emitters=600, seed=0)


@pytest.fixture(scope="module")
def red():
    return blinking_movie((2000, 40, 44), sigma=140.0, pixel_size=110.0, n_emitters=500, seed=1)


@pytest.fixture
def messages(monkeypatch):
    caught = []
    import napari_resolution.gui.runner as runner
    import napari_resolution.gui.widgets.base as base

    for module in (runner, base, blink_widget):
        for kind in ("error", "info", "warning"):
            monkeypatch.setattr(module, f"show_{kind}", lambda text, kind=kind: caught.append((kind, text)),
                                raising=False)
    return caught


def _docked(viewer):
    return viewer.window.add_plugin_dock_widget("napari-resolution", "Blink PSF")[1]


def _run(widget, wait_idle):
    widget.run()
    wait_idle(widget)


def test_one_channel_matches_the_core(make_napari_viewer, wait_idle, green, messages):
    viewer = make_napari_viewer()
    viewer.add_image(green.movie, name="green", scale=(1.0, 100.0, 90.0))
    widget = _docked(viewer)
    assert isinstance(widget, BlinkPSFWidget)
    assert widget.movie.value is viewer.layers["green"] and widget.pixel_size.value == "100, 90"
    assert widget.window.native.isHidden()
    _run(widget, wait_idle)
    expected = blink_psf(green.movie, pixel_size=(100.0, 90.0))
    assert widget.result.sigma == pytest.approx(expected.sigma)
    assert widget.result.sigma_x == pytest.approx(150.0, rel=0.03)
    assert widget.result_line.text().startswith(expected.summary(""))
    psf = viewer.layers["green blink PSF"]
    np.testing.assert_allclose(psf.data, expected.psf)
    movie = viewer.layers["green"]
    assert tuple(psf.scale) == (100.0, 90.0) and psf.translate[0] == movie.translate[-2]
    assert psf.translate[1] > movie.translate[-1] + movie.data.shape[-1] * movie.scale[-1]  # beside, not over it
    assert psf.metadata["estimator"] == "blink PSF" and psf.metadata["source"] == "green"
    assert viewer.layers["green blink autocorrelation"].data.shape == (41, 41)
    assert widget.table.rowCount() == 1
    assert widget.table.item(0, 1).text() == f"{expected.sigma_x:.4g}"
    assert widget.table.item(0, 6).text() == f"{expected.on_time:.4g}"
    names = [item.name() for item in widget.panel.plot_item.listDataItems() if item.name()]
    assert names == ["PSF from autocorrelation", "Gaussian fit", "spline"]
    temporal = [item.name() for item in widget.curve_panels[1].plot_item.listDataItems() if item.name()]
    assert temporal[0] == "temporal autocorrelation"
    np.testing.assert_array_equal(viewer.layers["green"].data, green.movie)  # the user's layer untouched
    _run(widget, wait_idle)  # a second run updates the layers in place
    assert [layer.name for layer in viewer.layers].count("green blink PSF") == 1


def test_two_channels_each_with_its_pixel_size(make_napari_viewer, wait_idle, green, red, tmp_path, messages):
    viewer = make_napari_viewer()
    viewer.add_image(green.movie, name="green", scale=(1.0, 100.0, 90.0))
    viewer.add_image(red.movie, name="red", scale=(1.0, 110.0, 110.0))
    widget = _docked(viewer)
    widget.add_channel()
    picker, field = widget.channels[0]
    assert picker.value is viewer.layers["red"] and field.value == "110"
    assert widget.remove_channel_button.enabled
    _run(widget, wait_idle)
    assert isinstance(widget.result, BlinkChannelsResult) and len(widget.results) == 2
    assert widget.results[1].pixel_size == (110.0, 110.0)
    assert widget.results[1].sigma == pytest.approx(140.0, rel=0.03)
    assert widget.table.rowCount() == 2 and "red blink PSF" in viewer.layers
    names = [item.name() for item in widget.panel.plot_item.listDataItems() if item.name()]
    assert names[0] == "ch 1: PSF from autocorrelation" and "ch 2: Gaussian fit" in names
    assert widget.result_line.text().startswith("channel 1: PSF σ")
    widget.unit.value = "nm"
    written = widget.export_psf(tmp_path / "psf.tif")
    assert [path.rsplit("/", 1)[-1] for path in written] == ["psf_c1.tif", "psf_c2.tif"]
    exported = io.read_image(written[1])
    np.testing.assert_allclose(exported.data, widget.results[1].psf, rtol=1e-5, atol=1e-7)
    assert exported.pixel_size == pytest.approx((110.0, 110.0)) and exported.unit == "nm"
    splines = widget.export_spline(tmp_path / "spline.npz")
    assert np.load(splines[0])["coefficients"].shape == widget.results[0].spline_coefficients.shape
    widget.remove_channel()
    assert widget.channels == [] and not widget.remove_channel_button.enabled
    assert widget.result_line.stale  # the inputs changed since the run


def test_background_window_and_options(make_napari_viewer, green):
    viewer = make_napari_viewer()
    viewer.add_image(green.movie, name="green")
    widget = _docked(viewer)
    assert widget.parameters()["background"] == "auto" and widget.parameters()["exclude_center"] == "auto"
    widget.background.value = "moving mean"
    assert not widget.window.native.isHidden()
    widget.window.value = 150
    assert widget.parameters()["crop"] is None and not widget.crop.enabled
    widget.auto_crop.value = False
    widget.crop.value = 31
    widget.exposure.value = 20.0
    parameters = widget.parameters()
    assert parameters["background"] == ("moving", 150) and parameters["crop"] == 31
    assert parameters["exposure_ms"] == 20.0 and parameters["pixel_size"] == 1.0
    widget.background.value = "clipped median"
    assert widget.parameters()["background"] == "median-clip"


def test_bad_input_is_a_notification_naming_the_layer(make_napari_viewer, wait_idle, messages):
    viewer = make_napari_viewer()
    data = np.random.default_rng(0).random((20, 32, 32))
    data[3, 4, 5] = np.nan
    viewer.add_image(data, name="broken")
    widget = _docked(viewer)
    _run(widget, wait_idle)
    assert ("error", "layer 'broken' contains NaN or Inf values") in messages
    assert [layer.name for layer in viewer.layers] == ["broken"]
    widget.add_channel()
    widget.channels[0][0].value = None
    assert widget.parameters is not None
    with pytest.raises(ValueError, match="choose a layer for Channel 2"):
        widget.parameters()


def test_bad_input_in_a_second_channel_names_its_layer(make_napari_viewer, wait_idle, messages):
    viewer = make_napari_viewer()
    rng = np.random.default_rng(0)
    viewer.add_image(rng.random((20, 32, 32)), name="fine")
    broken = rng.random((20, 32, 32))
    broken[3, 4, 5] = np.nan
    viewer.add_image(broken, name="broken")
    widget = _docked(viewer)
    widget.add_channel()
    assert widget.channels[0][0].value is viewer.layers["broken"]
    _run(widget, wait_idle)
    assert ("error", "layer 'broken' contains NaN or Inf values") in messages


def test_warnings_become_notifications(make_napari_viewer, wait_idle, green, messages):
    viewer = make_napari_viewer()
    viewer.add_image(green.movie[:300], name="short")
    widget = _docked(viewer)
    _run(widget, wait_idle)
    assert any(kind == "warning" and "only 300 frames" in text for kind, text in messages)
    assert "only 300 frames" in widget.table.item(0, 7).text()


def test_cancel_marks_the_result_stale(make_napari_viewer, wait_idle, messages):
    viewer = make_napari_viewer()
    viewer.add_image(np.random.default_rng(0).poisson(100, (20000, 64, 64)).astype(np.uint16), name="long")
    widget = _docked(viewer)
    widget.run()
    widget.runner.cancel()
    wait_idle(widget)
    assert widget.result is None and ("info", "Computation cancelled.") in messages
    assert "last run cancelled" in widget.result_line.text()


def test_the_sample_movie_reads_its_known_psf(make_napari_viewer, wait_idle, messages):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-resolution", "blinking")
    layer = viewer.layers["blinking movie"]
    assert tuple(layer.scale) == (1.0, 100.0, 100.0) and layer.metadata["unit"] == "nm"
    truth = layer.metadata["known_answer"]
    widget = _docked(viewer)
    assert widget.pixel_size.value == "100" and widget.unit.value == "nm"
    _run(widget, wait_idle)
    result = widget.result
    assert result.sigma_x == pytest.approx(truth["sigma_x"], rel=0.03)
    assert result.sigma_y == pytest.approx(truth["sigma_y"], rel=0.03)
    assert result.theta == pytest.approx(truth["theta"], abs=2.0)
    assert result.on_time == pytest.approx(truth["on_time"], rel=0.1)


def test_export_buttons_ask_for_a_file_and_notify(make_napari_viewer, wait_idle, green, tmp_path, messages,
                                                   monkeypatch):
    viewer = make_napari_viewer()
    viewer.add_image(green.movie, name="green", scale=(1.0, 100.0, 90.0))
    widget = _docked(viewer)
    widget._ask_psf()
    assert ("info", "Run first: there is no PSF to export yet.") in messages
    _run(widget, wait_idle)
    target = tmp_path / "psf.tif"
    monkeypatch.setattr(blink_widget.QFileDialog, "getSaveFileName", lambda *args: (str(target), ""))
    widget._ask_psf()
    assert target.is_file() and ("info", f"wrote {target}") in messages
    assert any(kind == "warning" and "unit is unknown" in text for kind, text in messages)

