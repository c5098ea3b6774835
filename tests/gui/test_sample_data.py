import numpy as np
import pytest
from napari.utils.notifications import notification_manager

from napari_resolution.core.decorrelation import decorrelation
from napari_resolution.core.mtf import mtf_edge, mtf_point
from napari_resolution.gui.layers import layer_pixel_size
from napari_resolution.gui.sample_data import band_limited_image, bead_image, slanted_edge_chart

SAMPLES = {"half_maps": ((1.1,) * 3, "Å"), "image_pair": ((10.0,) * 2, "nm"), "edge_chart": ((0.5,) * 2, "µm"),
           "beads": ((65.0,) * 2, "nm"), "band_limited": ((10.0,) * 2, "nm")}


def _inconsistent_units_notes():
    return [note for note in notification_manager.records if "Inconsistent units" in str(note.message)]


@pytest.mark.parametrize("key", SAMPLES)
def test_plain_layer_added_after_a_sample_gives_no_units_warning(make_napari_viewer, key):
    viewer = make_napari_viewer(show=True)
    before = len(_inconsistent_units_notes())
    viewer.open_sample("napari-resolution", key)
    viewer.add_image(np.zeros((32, 32)), name="mine")
    assert viewer.layers.extent.units is not None  # napari warns when this is None
    viewer.screenshot(canvas_only=True)  # a draw: when napari checks the units
    assert len(_inconsistent_units_notes()) == before
    sizes, unit = SAMPLES[key]
    for layer in viewer.layers[:-1]:  # the widgets still read the physical pixel size
        assert tuple(layer.scale) == pytest.approx(sizes)
        assert layer_pixel_size(layer) == (pytest.approx(sizes), unit)
        assert "known_answer" in layer.metadata


@pytest.mark.parametrize(("sample", "name"), [(slanted_edge_chart, "slanted edges"), (bead_image, "beads"),
                                              (band_limited_image, "band-limited")])
def test_new_samples_load_with_their_known_answer(sample, name):
    [(data, kwargs, kind)] = sample()
    assert kind == "image" and data.dtype == np.float32 and np.isfinite(data).all()
    assert kwargs["name"] == name and "units" not in kwargs
    metadata = kwargs["metadata"]
    assert metadata["pixel_size"] == kwargs["scale"]
    assert metadata["known_resolution"] > 0 and metadata["known_criterion"]
    assert metadata["known_answer"]


def test_edge_chart_answer_is_what_mtf_edge_measures():
    [(image, kwargs, _)] = slanted_edge_chart()
    answer, pixel = kwargs["metadata"]["known_answer"], kwargs["scale"][0]
    assert len(answer["rois"]) == len(answer["angles"]) == 4
    assert answer["f50"] == pytest.approx(np.sqrt(np.log(2) / 2) / (np.pi * answer["sigma"]))
    for roi, angle in zip(answer["rois"], answer["angles"]):
        result = mtf_edge(image, roi=roi, pixel_size=pixel)
        assert result.f50 == pytest.approx(answer["f50"], rel=0.02)
        assert result.f10 == pytest.approx(answer["f10"], rel=0.03)
        assert result.resolution_50 == pytest.approx(kwargs["metadata"]["known_resolution"], rel=0.02)
        assert result.edge_angle == pytest.approx(angle, abs=0.2)
        assert result.warnings == ()


def test_bead_answer_is_what_mtf_point_measures():
    [(image, kwargs, _)] = bead_image()
    answer = kwargs["metadata"]["known_answer"]
    assert len(answer["centers"]) == 9
    assert answer["fwhm"] == pytest.approx(2.3548 * 1.6 * 65.0, rel=1e-4)
    for center in answer["centers"]:
        result = mtf_point(image, center=tuple(np.round(center).astype(int)), pixel_size=kwargs["scale"][0])
        assert result.f50 == pytest.approx(answer["f50"], rel=0.03)
        assert result.fwhm == pytest.approx(answer["fwhm"], rel=0.02)
        assert np.hypot(*np.subtract(result.center, center)) < 0.2


def test_band_limited_answer_is_what_decorrelation_measures():
    [(image, kwargs, _)] = band_limited_image()
    answer = kwargs["metadata"]["known_answer"]
    result = decorrelation(image, pixel_size=kwargs["scale"][0])
    assert result.status == "resolved"
    assert result.resolution == pytest.approx(answer["resolution"], rel=0.03)
    assert result.kc_max == pytest.approx(answer["kc"], rel=0.03)
