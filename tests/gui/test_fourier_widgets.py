import csv
import re
import time

import numpy as np
import pytest

from napari_resolution import fourier_correlation
from napari_resolution.core.single_image import single_image_frc
from napari_resolution.gui.widgets.fourier import FourierCorrelationWidget, SSNRWidget

RNG = np.random.default_rng(0)


def _docked(viewer, cls):
    widget = cls(viewer)
    viewer.window.add_dock_widget(widget)
    return widget


def _plotted(widget):
    return [item.getOriginalDataset() for item in widget.panel.plot_item.listDataItems()]


@pytest.mark.parametrize(("sample", "unit"), [("half_maps", "Å"), ("image_pair", "nm")])
def test_end_to_end_matches_core_and_known_answer(make_napari_viewer, wait_idle, sample, unit):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-resolution", sample)
    widget = _docked(viewer, FourierCorrelationWidget)
    first, second = viewer.layers
    assert widget.first.value is first and widget.second.value is second
    assert widget.unit.value == unit
    widget.run_button.native.click()
    wait_idle(widget)
    expected = fourier_correlation(first.data, second.data, pixel_size=first.scale[0])
    x, y = _plotted(widget)[0]
    np.testing.assert_allclose(x, expected.frequency)
    np.testing.assert_allclose(y, expected.correlation, equal_nan=True)
    text = widget.result_line.text()
    measured = float(re.match(r"([\d.]+) " + unit, text).group(1))
    known = first.metadata["known_resolution"]
    assert measured == pytest.approx(known, rel=0.02)
    assert "half-bit, full period" in text and "status resolved" in text


def test_ssnr_widget_plots_ssnr_threshold_and_asymptote(make_napari_viewer, wait_idle):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-resolution", "image_pair")
    widget = _docked(viewer, SSNRWidget)
    widget.run()
    wait_idle(widget)
    result = widget.result
    curves = _plotted(widget)
    positive = np.where(result.ssnr > 0, result.ssnr, np.nan)  # a log axis cannot show the rest
    np.testing.assert_allclose(curves[0][1][1:], positive[1:])
    np.testing.assert_allclose(curves[1][1][1:], result.ssnr_threshold[1:])
    np.testing.assert_allclose(curves[2][1], np.sqrt(2) - 1, rtol=1e-3)
    assert abs(result.ssnr_crossing - result.crossing) < result.frequency[1] / 2


def test_threshold_choice_and_show_all(make_napari_viewer, wait_idle):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-resolution", "image_pair")
    widget = _docked(viewer, FourierCorrelationWidget)
    widget.threshold.value = "custom"
    assert not widget.custom.native.isHidden()
    widget.custom.value = 0.3
    widget.show_all.value = True
    widget.run()
    wait_idle(widget)
    assert widget.result.criterion == "0.3"
    assert len(_plotted(widget)) == 2 + 5
    widget.show_all.value = False
    assert len(_plotted(widget)) == 2


def _overlaid_first_run(make_napari_viewer, wait_idle):
    """The FSC widget on the image-pair sample, "Overlay runs" ticked, after one run."""
    viewer = make_napari_viewer()
    viewer.open_sample("napari-resolution", "image_pair")
    widget = _docked(viewer, FourierCorrelationWidget)
    widget.panel.overlay_box.setChecked(True)
    widget.run()
    wait_idle(widget)
    return widget


def test_overlay_export_and_theme(make_napari_viewer, wait_idle, tmp_path):
    widget = _overlaid_first_run(make_napari_viewer, wait_idle)
    widget.apodization.value = 0
    widget.run()
    wait_idle(widget)
    assert len(widget.panel.runs) == 2
    widget.panel.export_png(tmp_path / "plot.png")
    widget.panel.export_csv(tmp_path / "curves.csv")
    assert (tmp_path / "plot.png").read_bytes()[:4] == b"\x89PNG"
    rows = (tmp_path / "curves.csv").read_text().splitlines()
    assert rows[0] == "run,curve,frequency_cycles_per_pixel,value"
    assert len(rows) > 2 * 257
    readout = widget.panel.readout_text(0.25)
    assert "40 nm (full period)" in readout and "FRC = " in readout
    dark = widget.panel.plot_widget.backgroundBrush().color().name()
    widget.viewer.theme = "light"
    assert widget.panel.plot_widget.backgroundBrush().color().name() != dark
    widget.panel.clear()
    assert widget.panel.runs == []


def test_mismatched_shapes_are_refused(make_napari_viewer, notifications):
    viewer = make_napari_viewer()
    viewer.add_image(RNG.random((64, 64)), name="a")
    viewer.add_image(RNG.random((64, 80)), name="b")
    widget = _docked(viewer, FourierCorrelationWidget)
    widget.run()
    assert not widget.runner.busy
    assert notifications and "must have the same shape" in notifications[-1][1]


def test_nan_data_gives_a_notification_and_controls_come_back(make_napari_viewer, notifications, wait_idle):
    viewer = make_napari_viewer()
    data = RNG.random((64, 64))
    data[3, 3] = np.nan
    viewer.add_image(data, name="a")
    viewer.add_image(RNG.random((64, 64)), name="b")
    widget = _docked(viewer, FourierCorrelationWidget)
    widget.run()
    wait_idle(widget)
    assert ("error", "layer 'a' contains NaN or Inf values") in notifications
    assert widget.inputs.native.isEnabled()
    assert np.isnan(viewer.layers["a"].data[3, 3])  # user data untouched


def test_bad_pixel_size_is_a_notification(make_napari_viewer, notifications):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-resolution", "image_pair")
    widget = _docked(viewer, FourierCorrelationWidget)
    widget.pixel_size.value = "ten"
    widget.run()
    assert "pixel size" in notifications[-1][1]


def _slow_compute(parameters, progress):
    for step in range(200):
        progress(step / 200)
        time.sleep(0.02)
    return fourier_correlation(parameters["half1"], parameters["half2"])


def test_cancel_stops_a_long_run(make_napari_viewer, notifications, wait_idle, monkeypatch, qtbot):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-resolution", "image_pair")
    widget = _docked(viewer, FourierCorrelationWidget)
    monkeypatch.setattr(widget, "compute", _slow_compute)
    start = time.perf_counter()
    widget.run()
    assert widget.runner.busy and not widget.inputs.native.isEnabled()
    qtbot.wait(100)
    widget.runner.cancel_button.click()
    wait_idle(widget, timeout=3000)
    assert time.perf_counter() - start < 3.5
    assert ("info", "Computation cancelled.") in notifications
    assert widget.result is None
    assert widget.inputs.native.isEnabled()


def test_layer_deleted_while_running(make_napari_viewer, notifications, wait_idle, monkeypatch):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-resolution", "image_pair")
    widget = _docked(viewer, FourierCorrelationWidget)

    def compute_after_a_pause(parameters, progress):
        time.sleep(0.5)
        return _slow_compute(parameters, lambda fraction: None)

    monkeypatch.setattr(widget, "compute", compute_after_a_pause)
    widget.run()
    viewer.layers.remove("image 2")
    wait_idle(widget)
    assert any("was removed during the run" in text for _, text in notifications)
    assert widget.result is not None
    assert widget.second.value is None or widget.second.value.name != "image 2"
    assert widget.inputs.native.isEnabled()


def _legend(panel) -> list:
    return [label.text for _, label in panel.legend.items]


def test_overlaid_runs_are_told_apart_in_the_legend(make_napari_viewer, wait_idle, tmp_path):
    widget = _overlaid_first_run(make_napari_viewer, wait_idle)
    widget.threshold.value = "0.143"
    widget.run()
    wait_idle(widget)
    assert _legend(widget.panel)[:2] == ["FRC — Threshold: half-bit", "FRC — Threshold: 0.143"]
    widget.run()  # the same inputs again
    wait_idle(widget)
    assert _legend(widget.panel)[:3] == ["FRC — Threshold: half-bit", "FRC — run 2, Threshold: 0.143",
                                         "FRC — run 3, Threshold: 0.143"]
    widget.panel.export_csv(tmp_path / "curves.csv")
    with open(tmp_path / "curves.csv", newline="", encoding="utf-8") as handle:
        runs = {row[0] for row in list(csv.reader(handle))[1:]}
    assert runs == {"Threshold: half-bit", "run 2, Threshold: 0.143", "run 3, Threshold: 0.143"}


@pytest.mark.parametrize("cls", [FourierCorrelationWidget, SSNRWidget])
def test_show_all_lists_every_thresholds_resolution(make_napari_viewer, wait_idle, cls):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-resolution", "image_pair")
    widget = _docked(viewer, cls)
    widget.run()
    wait_idle(widget)
    assert widget.panel.notes.isHidden()
    shown = len(_plotted(widget))
    widget.show_all.value = True
    assert len(_plotted(widget)) == shown + 4  # the four other criteria's curves
    lines = widget.panel.notes.text().splitlines()
    assert [line.split(":")[0] for line in lines] == ["half-bit", "one-bit", "0.143", "0.5", "3-sigma"]
    assert lines[0] == f"half-bit: {widget.result.resolution:.3g} nm (resolved)"
    assert all(line.endswith(("(resolved)", "(bound)", "(unresolved)")) for line in lines)
    assert not widget.panel.notes.isHidden() and not widget.result_line.stale


def test_frequency_plots_get_a_resolution_axis(make_napari_viewer, wait_idle):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-resolution", "image_pair")
    widget = _docked(viewer, FourierCorrelationWidget)
    widget.run()
    wait_idle(widget)
    top = widget.panel.plot_item.getAxis("top")
    assert top.isVisible() and "resolution, full period (nm)" in top.labelText
    ticks = top._tickLevels[0]
    assert len(ticks) >= 3
    for frequency, text in ticks:
        assert float(text) == pytest.approx(10 / frequency, rel=1e-3)  # pixel 10 nm
    widget.unit.value = ""  # no unit: no physical axis
    widget.run()
    wait_idle(widget)
    assert not widget.panel.plot_item.getAxis("top").isVisible()


def test_errors_name_the_layers_and_the_compile_note_is_shown(make_napari_viewer, qtbot, wait_idle, notifications):
    import logging

    viewer = make_napari_viewer()
    noisy = np.random.default_rng(0).standard_normal((48, 48)).astype(np.float32)
    broken = noisy.copy()
    broken[3, 3] = np.nan
    viewer.add_image(broken, name="frame A")
    viewer.add_image(noisy, name="frame B")
    widget = FourierCorrelationWidget(viewer)
    qtbot.addWidget(widget)
    widget.run()
    wait_idle(widget)
    assert ("error", "layer 'frame A' contains NaN or Inf values") in notifications
    logging.getLogger("napari_resolution.core.kernels").info("compiling the CPU kernels")
    from napari.utils.notifications import notification_manager

    assert any("compiling the CPU kernels" in str(record.message) for record in notification_manager.records)


def test_apodization_fits_a_small_image(make_napari_viewer, qtbot, wait_idle, notifications):
    viewer = make_napari_viewer()
    rng = np.random.default_rng(1)
    viewer.add_image(rng.standard_normal((32, 36)).astype(np.float32), name="small 1")
    viewer.add_image(rng.standard_normal((32, 36)).astype(np.float32), name="small 2")
    widget = FourierCorrelationWidget(viewer)
    qtbot.addWidget(widget)
    assert widget.apodization.value == 8 and widget.apodization.max == 16
    widget.run()
    wait_idle(widget)
    assert widget.result is not None
    assert not [text for kind, text in notifications if kind == "error"]


def test_a_thin_stack_keeps_the_in_plane_apodization(make_napari_viewer, qtbot, wait_idle, notifications):
    """A 16-slice stack: the taper width follows the in-plane axes; the core narrows the slice axis's own."""
    viewer = make_napari_viewer()
    rng = np.random.default_rng(2)
    for number in (1, 2):
        viewer.add_image(rng.standard_normal((16, 96, 96)).astype(np.float32), name=f"stack {number}")
    widget = FourierCorrelationWidget(viewer)
    qtbot.addWidget(widget)
    assert widget.apodization.value == 20 and widget.apodization.max == 48
    widget.run()
    wait_idle(widget)
    assert widget.result.parameters["apodization_axes"] == (4, 20, 20)
    assert not [text for kind, text in notifications if kind == "error"]


# ------------------------------------------------------------------- issue #29 item 1: one image, and the interval


def _counts(size=256, photons=20, seed=1):
    """A photon-count image of a blurred positive texture (Poisson, uint16)."""
    rng = np.random.default_rng(seed)
    blurred = np.fft.irfft2(np.fft.rfft2(rng.standard_normal((size, size))) *
                            np.exp(-2 * np.pi**2 * 4.0 * (np.fft.fftfreq(size)[:, None] ** 2 +
                                                          np.fft.rfftfreq(size)[None] ** 2)), s=(size, size))
    scene = (blurred - blurred.min()) / (blurred - blurred.min()).mean()
    return rng.poisson(scene * photons).astype(np.uint16)


def _visible(widget) -> bool:
    return not widget.native.isHidden()


def test_one_layer_runs_the_one_image_frc_with_the_chosen_split(make_napari_viewer, wait_idle):
    viewer = make_napari_viewer()
    layer = viewer.add_image(_counts(), name="counts", scale=(10.0, 10.0))
    widget = _docked(viewer, FourierCorrelationWidget)
    assert widget.first.value is layer and widget.second.value is None and widget.single()
    assert _visible(widget.split) and _visible(widget.gain) and _visible(widget.offset)
    assert not widget.ring_thickness.enabled and not _visible(widget.randomize)
    widget.threshold.value = "0.143"
    widget.run()
    wait_idle(widget)
    expected = single_image_frc(layer.data, pixel_size=10.0, threshold="0.143", seed=0)
    assert widget.result.parameters["split"] == "binomial"
    assert widget.result.resolution == pytest.approx(expected.resolution)
    assert widget.result_line.text().startswith(expected.summary(widget.unit.value).split(" · ")[0])
    assert "Split: binomial" in widget.result_line.text()
    widget.split.value = "checkerboard"
    assert widget.result_line.stale and not _visible(widget.gain)
    widget.run()
    wait_idle(widget)
    assert widget.result.parameters["split"] == "checkerboard" and widget.result.reference_pixel_size == 20.0


def test_one_image_ticked_keeps_the_second_picker_empty(make_napari_viewer, wait_idle):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-resolution", "image_pair")
    widget = _docked(viewer, FourierCorrelationWidget)
    assert widget.second.value is not None and not widget.single() and not _visible(widget.split)
    widget.one_image.value = True
    widget.split.value = "checkerboard"
    assert widget.second.value is None and not _visible(widget.second) and widget.single()
    viewer.add_image(np.zeros((8, 8)), name="another")  # the base fills empty pickers, not this one
    assert widget.second.value is None
    widget.run()
    wait_idle(widget)
    assert widget.result.parameters["split"] == "checkerboard"
    assert "Image 2" not in widget.result_line.text()
    widget.one_image.value = False
    assert _visible(widget.second) and widget.second.value is not None and not widget.single()
    assert widget.result_line.stale


def test_one_image_errors_name_the_layer_and_the_field(make_napari_viewer, wait_idle, notifications):
    viewer = make_napari_viewer()
    viewer.add_image(RNG.random((64, 64)), name="camera")
    widget = _docked(viewer, FourierCorrelationWidget)
    widget.run()  # binomial of values that are not photon counts
    wait_idle(widget)
    assert notifications[-1][0] == "error" and notifications[-1][1].startswith("layer 'camera' must hold photon counts")
    widget.gain.value = "two"
    widget.run()
    assert notifications[-1] == ("error", "gain must be a number (ADU per photon), or empty for photon counts, "
                                          "got 'two'")
    widget.gain.value = "0.01"
    widget.mask.value = viewer.layers["camera"]
    widget.run()
    assert "takes no mask" in notifications[-1][1]
    widget.one_image.value = True
    viewer.add_image(RNG.random((16, 16, 16)), name="stack")
    widget.first.value, widget.mask.value = viewer.layers["stack"], None  # 3-D: two half-maps, no one-image option
    assert not widget.one_image.value and not _visible(widget.one_image) and not widget.single()
    widget.run()
    assert notifications[-1][1].startswith("choose a layer for Image 2")


@pytest.mark.parametrize("one_image", [False, True])
def test_the_interval_shows_in_the_summary_and_as_a_band(make_napari_viewer, wait_idle, one_image):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-resolution", "image_pair")
    widget = _docked(viewer, FourierCorrelationWidget)
    widget.one_image.value = one_image
    widget.split.value = "checkerboard"
    widget.interval.value = True
    widget.run()
    wait_idle(widget)
    low, high = widget.result.resolution_interval
    assert widget.result.confidence == 0.95 and low <= widget.result.resolution <= high
    assert re.match(r"[\d.]+ nm \[[\d.]+, [\d.]+\] \(", widget.result_line.text())
    assert "95% band" in _legend(widget.panel)
    widget.randomize.value = True  # the phase-randomised FSC has no interval
    assert _visible(widget.interval) is one_image
