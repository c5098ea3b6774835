"""Local FSC: known answers of a sharp/blurred pair, invariants, both compute paths, bad input."""

import json

import numpy as np
import pytest

from napari_resolution import local_fsc
from napari_resolution.core import local
from napari_resolution.core.correlation import CorrelationResult
from napari_resolution.core.simulate import blur_crossing, two_region_pair

SIGMAS = (1.5, 3.0)


def _region_medians(result, shape, box):
    """Median of the map in the interior of the sharp and of the blurred region (away from transitions)."""
    n = shape[-1]
    x = np.arange(n)
    margin = n / 4 - box / 2 - 6
    sharp = np.minimum(x, n - x) < margin
    blurred = np.abs(x - n / 2) < margin
    return np.nanmedian(result.map[..., sharp]), np.nanmedian(result.map[..., blurred])


@pytest.mark.parametrize(("shape", "box", "noise", "tolerance"),
                         [((512, 512), 48, 0.3, 0.05), ((128, 128, 128), 32, 0.5, 0.10),
                          ((128, 128, 128), 32, 0.3, 0.10)])
@pytest.mark.parametrize("threshold", [0.143, 0.5])
def test_sharp_and_blurred_regions_read_their_analytic_resolution(shape, box, noise, tolerance, threshold):
    half1, half2, _ = two_region_pair(shape, SIGMAS, noise, seed=1)
    result = local_fsc(half1, half2, box=box, threshold=threshold)
    for measured, sigma in zip(_region_medians(result, shape, box), SIGMAS):
        assert measured == pytest.approx(blur_crossing(sigma, noise, threshold), rel=tolerance)


def test_the_map_is_finite_and_within_the_box_values_borders_included():
    half1, half2, _ = two_region_pair((96, 112), SIGMAS, 0.3, seed=2)
    result = local_fsc(half1, half2, box=32, step=10, threshold=0.5)
    assert np.isfinite(result.map).all()
    values = result.values[np.isfinite(result.values)]
    assert values.min() * (1 - 1e-6) <= result.map.min() and result.map.max() <= values.max() * (1 + 1e-6)
    assert result.map.shape == (96, 112) and result.map.dtype == np.float32  # the inputs' precision


def test_identical_halves_are_bound_at_nyquist_everywhere():
    half, _, _ = two_region_pair((64, 64, 64), SIGMAS, 0.3, seed=3)
    result = local_fsc(half, half.copy(), box=16, pixel_size=1.5)
    assert set(result.statuses) == {"bound"} and result.status == "bound"
    np.testing.assert_allclose(result.map, 3.0)  # 2 x the pixel size


def test_independent_noise_has_no_crossing_in_almost_every_box():
    rng = np.random.default_rng(4)
    result = local_fsc(rng.standard_normal((64, 64, 64)), rng.standard_normal((64, 64, 64)), box=16,
                       threshold="half-bit")
    unresolved = np.mean([status == "unresolved" for status in result.statuses])
    assert unresolved >= 0.95


def test_compiled_and_array_paths_agree(monkeypatch):
    half1, half2, _ = two_region_pair((40, 48, 56), SIGMAS, 0.5, seed=5)
    compiled = local_fsc(half1, half2, box=24, step=6)
    monkeypatch.setattr(local.fsc, "compute_path", lambda xp: "numpy")
    array = local_fsc(half1, half2, box=24, step=6)
    assert compiled.parameters["path"] == "numba" and array.parameters["path"] == "numpy"
    np.testing.assert_allclose(compiled.sums, array.sums, rtol=1e-4, atol=1e-3 * np.abs(array.sums).max())
    np.testing.assert_allclose(compiled.map, array.map, rtol=1e-4)


@pytest.mark.parametrize("path", ["numba", "numpy"])
def test_an_offset_and_a_scale_change_nothing(monkeypatch, path):
    """Each box loses its own mean, so a large common offset (a camera's) and a scale leave the map as it is."""
    monkeypatch.setattr(local.fsc, "compute_path", lambda xp: path)
    half1, half2, _ = two_region_pair((128, 128), SIGMAS, 0.3, seed=15)
    plain = local_fsc(half1, half2, box=32)
    offset = local_fsc(half1 * 40 + 10000, half2 * 40 + 10000, box=32)
    np.testing.assert_allclose(offset.map, plain.map, rtol=1e-3)


def test_a_mask_limits_the_boxes_and_the_map():
    half1, half2, _ = two_region_pair((64, 64), SIGMAS, 0.3, seed=6)
    mask = np.zeros((64, 64), np.float32)
    mask[16:48, 8:40] = 1
    result = local_fsc(half1, half2, box=16, step=4, mask=mask)
    assert np.all(mask[tuple(result.centres.T)] > 0.5)
    assert np.isnan(result.map[mask == 0]).all() and np.isfinite(result.map[mask == 1]).all()
    assert result.parameters["masked"]


def test_curve_at_gives_the_fsc_of_the_nearest_box():
    half1, half2, _ = two_region_pair((128, 128), SIGMAS, 0.3, seed=7)
    result = local_fsc(half1, half2, box=32, step=8, threshold=0.143, pixel_size=2.0)
    curve = result.curve_at((61.0, 3.0))
    index = result.box_index((61.0, 3.0))
    assert isinstance(curve, CorrelationResult)
    assert tuple(result.centres[index]) == (64, 16)
    assert curve.resolution == pytest.approx(result.values[index])
    with pytest.raises(ValueError, match="position must have 2 coordinates"):
        result.box_index((1, 2, 3))


def test_summary_statistics_plots_and_json():
    half1, half2, _ = two_region_pair((96, 96), SIGMAS, 0.3, seed=8)
    result = local_fsc(half1, half2, box=32, pixel_size=0.5)
    stats = result.statistics
    assert stats["p5"] <= stats["p25"] <= stats["median"] <= stats["p75"] <= stats["p95"]
    assert sum(stats["histogram"][0]) == result.map.size
    assert result.summary("nm").startswith(f"median {stats['median']:.3g} nm local resolution (0.143")
    (plot,) = result.plots("nm")
    assert plot.markers[0].x == pytest.approx(stats["median"])
    table = json.loads(json.dumps(result.to_dict()))
    assert "map" not in table and "sums" not in table
    assert len(table["values"]) == len(table["centres"]) == table["parameters"]["n_boxes"]


def test_default_box_follows_the_global_resolution():
    assert local.default_box(4.0, (256, 256)) == 20
    assert local.default_box(1.0, (256, 256)) == 16
    assert local.default_box(30.0, (256, 256)) == 64
    assert local.default_box(30.0, (40, 40)) == 40
    half1, half2, _ = two_region_pair((64, 64), SIGMAS, 0.3, seed=9)
    result = local_fsc(half1, half2)
    assert result.box == local.default_box(result.global_result.resolution, (64, 64)) and result.step == result.box // 4


def test_progress_is_reported_chunk_by_chunk(monkeypatch):
    monkeypatch.setattr(local.boxes, "CHUNK_BYTES", (6 * 16**2 * 4 * 10,) * 2)  # ten 16x16 float32 boxes per chunk
    half1, half2, _ = two_region_pair((64, 64), SIGMAS, 0.3, seed=10)
    fractions = []
    local_fsc(half1, half2, box=16, step=4, progress=fractions.append)
    assert len(fractions) >= 10 and fractions == sorted(fractions) and fractions[-1] == 1.0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"box": 4}, "box must be an integer >= 8"),
    ({"box": 80}, r"box \(80 pixels\) is larger than the image"),
    ({"step": 0}, "step must be an integer >= 1"),
    ({"threshold": "best"}, "threshold must be one of"),
    ({"window": "gauss"}, "window must be one of"),
    ({"mask": np.ones((10, 10))}, "mask must have the data's shape"),
    ({"mask": np.zeros((64, 64))}, "mask is zero everywhere"),
])
def test_bad_input_names_the_argument(kwargs, message):
    half1, half2, _ = two_region_pair((64, 64), SIGMAS, 0.3, seed=11)
    with pytest.raises(ValueError, match=message):
        local_fsc(half1, half2, **kwargs)


def test_bad_halves_name_the_half():
    half1, half2, _ = two_region_pair((64, 64), SIGMAS, 0.3, seed=12)
    with pytest.raises(ValueError, match="half1 and half2 must have the same shape"):
        local_fsc(half1, half2[:, :60])
    broken = half2.copy()
    broken[3, 3] = np.nan
    with pytest.raises(ValueError, match="half2 contains NaN"):
        local_fsc(half1, broken)


def test_doubtful_settings_are_warned_and_recorded():
    half1, half2, _ = two_region_pair((64, 64), (3.0, 3.0), 0.3, seed=13)  # global resolution about 9 px
    with pytest.warns(RuntimeWarning, match=r"box \(16 px\) is smaller than twice the global resolution"):
        small = local_fsc(half1, half2, box=16)
    assert any("smaller than twice" in note for note in small.warnings)
    with pytest.warns(RuntimeWarning, match=r"too few boxes \(1, fewer than 20\)"):
        local_fsc(half1, half2, box=64, step=64)
    half1, half2, _ = two_region_pair((128, 128), (3.0, 3.0), 0.3, seed=14)
    mask = np.zeros((128, 128))
    mask[63:66, 63:66] = 1  # 9 box centres at step 1
    with pytest.warns(RuntimeWarning, match="the mask covers 0.055 %"), \
            pytest.warns(RuntimeWarning, match=r"too few boxes \(9, fewer than 20\)"):
        local_fsc(half1, half2, box=32, step=1, mask=mask)


def test_curve_at_agrees_with_the_box_table_on_noise():
    rng = np.random.default_rng(15)
    result = local_fsc(rng.standard_normal((48, 48, 48)), rng.standard_normal((48, 48, 48)), box=16,
                       threshold="half-bit")
    for index in range(len(result.values)):
        curve = result.curve_at(result.centres[index])
        assert curve.status == result.statuses[index]
        assert (curve.resolution is None) == np.isnan(result.values[index])
