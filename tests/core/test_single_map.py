"""Single-map local resolution: known answers (two regions, a ramp), calibration on noise, the noise reference's
checks, p-values, invariants, bad input."""

import json

import numpy as np
import pytest

from napari_resolution import local_resolution
from napari_resolution.core import single_map
from napari_resolution.core.simulate import blur_crossing, ramp_pair, two_region_pair

SIGMAS = (1.5, 3.0)
FSC_0143 = 1 / 7


def _region_medians(local_map, margin: int = 10):
    """Median of the map in the interior of the sharp and of the blurred region of a two-region phantom."""
    n = local_map.shape[-1]
    x = np.arange(n)
    sharp = np.minimum(x, n - x) < n / 4 - margin
    blurred = np.abs(x - n / 2) < n / 4 - margin
    return np.nanmedian(local_map[..., sharp]), np.nanmedian(local_map[..., blurred])


def _coloured(shape, seed):
    """Gaussian noise whose amplitude falls as 1/f (power as 1/f^2), unit scale."""
    white = np.random.default_rng(seed).standard_normal(shape)
    radius = np.sqrt(sum(np.meshgrid(*[np.fft.fftfreq(n) ** 2 for n in shape[:-1]], np.fft.rfftfreq(shape[-1]) ** 2,
                                     indexing="ij")))
    radius.flat[0] = 1.0
    return np.fft.irfftn(np.fft.rfftn(white) / radius, s=shape, axes=range(len(shape))).astype(np.float32)


def _object_in_solvent(shape=(96, 96, 96), noise=0.5, seed=3):
    """Two-region half-maps inside an ellipsoid, independent noise of the same level outside (the solvent)."""
    half1, half2, _ = two_region_pair(shape, SIGMAS, noise, seed=seed)
    grid = np.indices(shape) - np.reshape([n / 2 for n in shape], (-1, 1, 1, 1))
    inside = ((grid / np.reshape([0.3 * n for n in shape], (-1, 1, 1, 1))) ** 2).sum(axis=0) < 1
    rng = np.random.default_rng(seed + 100)
    solvent = [noise * rng.standard_normal(shape).astype(np.float32) for _ in range(2)]
    return np.where(inside, half1, solvent[0]), np.where(inside, half2, solvent[1]), inside


@pytest.fixture(scope="module", params=[0.3, 0.5, 0.8], ids=["noise0.3", "noise0.5", "noise0.8"])
def regions(request):
    """Two-region 96^3 half-maps and their single-map results: from the difference and from a known level."""
    noise = request.param
    half1, half2, _ = two_region_pair((96, 96, 96), SIGMAS, noise, seed=1)
    from_difference = local_resolution(half1, half2=half2)
    from_level = local_resolution((half1 + half2) / 2, noise=noise / np.sqrt(2))
    return noise, half1, half2, from_difference, from_level


def test_regions_read_what_the_fsc_at_0143_reads(regions):
    """The default reads each region's analytic 0.143 resolution within 10 % (measured: within 4.1 %)."""
    noise, *_, from_difference, from_level = regions
    for result in (from_difference, from_level):
        for measured, sigma in zip(_region_medians(result.map), SIGMAS):
            assert measured == pytest.approx(blur_crossing(sigma, noise, FSC_0143), rel=0.10)
        assert result.status == "resolved" and result.filled > 0.95 and result.criterion.startswith("FSC 0.143")


def test_a_smooth_ramp_reads_its_local_truth():
    """Blur rising smoothly from 1.5 to 3 px: every position's median within 10 % of its 0.143 truth (measured:
    -7.6 to +4 %)."""
    noise = 0.5
    half1, half2, sigma = ramp_pair((96, 96, 96), SIGMAS, noise, seed=2)
    result = local_resolution(half1, half2=half2)
    truth = np.array([blur_crossing(s, noise, FSC_0143) for s in sigma])
    measured = np.nanmedian(result.map.reshape(-1, sigma.size), axis=0)
    np.testing.assert_allclose(measured, truth, rtol=0.10)


def test_the_ramp_blends_blurs_with_the_answer_of_their_blend():
    """The blend of two blur levels 0.05 px apart crosses within 0.1 % of the single blur between them."""
    from scipy.optimize import brentq

    def excess(k, sigma, level):
        """The blend's signal power over the noise's at the threshold, minus 1 (0 at the crossing)."""
        blend = 0.5 * np.exp(-2 * np.pi**2 * sigma**2 * k**2) + 0.5 * np.exp(-2 * np.pi**2 * (sigma + 0.05)**2 * k**2)
        return blend**2 - level

    for sigma in (1.2, 2.0, 3.5):
        for noise in (0.3, 0.8):
            level = FSC_0143 * noise**2 / (1 - FSC_0143)
            crossing = brentq(excess, 1e-4, 2, args=(sigma, level))
            assert 1 / crossing == pytest.approx(blur_crossing(sigma + 0.025, noise, FSC_0143), rel=1e-3)


def test_the_05_reading_and_the_significance_test_alone():
    """threshold 0.5 reads the 0.5 truth; the test alone (threshold None) reads finer the wider its window."""
    noise = 0.3
    half1, half2, _ = two_region_pair((96, 96, 96), SIGMAS, noise, seed=4)
    at_05 = local_resolution(half1, half2=half2, threshold="0.5")
    for measured, sigma in zip(_region_medians(at_05.map), SIGMAS):
        assert measured == pytest.approx(blur_crossing(sigma, noise, 0.5), rel=0.10)
    narrow, wide = (local_resolution(half1, half2=half2, threshold=None, window=w) for w in (0.3, 1.0))
    assert narrow.criterion == "p < 0.05" and narrow.parameters["threshold"] is None
    for coarse, fine in zip(_region_medians(narrow.map), _region_medians(wide.map)):
        assert fine < coarse


def test_blurred_region_reads_coarser_by_the_analytic_ratio(regions):
    """Blur 3 px against 1.5 px: at any fixed SNR the resolution doubles (white signal, white noise)."""
    *_, from_difference, from_level = regions
    for result in (from_difference, from_level):
        sharp, blurred = _region_medians(result.map)
        assert blurred / sharp == pytest.approx(2.0, rel=0.1)


def test_kept_curves_match_the_map(regions):
    """curve_at reads the same crossing and status as the map at the kept voxels."""
    *_, result, _ = regions
    for index in np.linspace(0, len(result.values) - 1, 25).astype(int):
        point = result.centres[index]
        curve = result.curve_at(point)
        assert curve.status == result.statuses[index]
        assert curve.position == tuple(point)
        if curve.status == "unresolved":
            assert np.isnan(result.map[tuple(point)])
        else:
            assert curve.resolution == pytest.approx(float(result.map[tuple(point)]), rel=1e-4)
    assert result.curve_at(result.centres[0]).plots()[0].log_y


@pytest.mark.filterwarnings("ignore:only .* of the voxels have a value:RuntimeWarning")
@pytest.mark.parametrize("shape", [(256, 256), (96, 96, 96)], ids=["2d", "3d"])
@pytest.mark.parametrize(("colour", "source"), [("white", "corners"), ("white", "difference"), ("white", "level"),
                                                ("1/f", "corners"), ("1/f", "difference")])
@pytest.mark.parametrize("threshold", ["0.143", None], ids=["fsc", "test"])
def test_noise_alone_almost_never_gets_a_resolution(shape, colour, source, threshold):
    """Calibration: on noise, few voxels (about the significance level or fewer) get a resolution."""
    claimed = []
    for seed in (11, 12):
        make = (lambda s: np.random.default_rng(s).standard_normal(shape).astype(np.float32)) if colour == "white" \
            else (lambda s: _coloured(shape, s))
        first = make(seed)
        if source == "corners":
            result = local_resolution(first, noise="corners", threshold=threshold)
        elif source == "difference":
            result = local_resolution(first, half2=make(seed + 100), threshold=threshold)
        else:
            result = local_resolution(first, noise=1.0, threshold=threshold)
        claimed.append(result.filled)
        assert result.filled > 0.05 or result.status == "unresolved"
    assert max(claimed) <= 0.10
    assert np.mean(claimed) <= 0.05


@pytest.mark.filterwarnings("ignore:only .* of the voxels have a value:RuntimeWarning")
def test_crop_of_noise_is_tapered_and_calibrated():
    """A crop of a larger noise field (edges that do not wrap) gets the taper and no edge artefacts."""
    field = _coloured((320, 320), 21)[:256, 32:288]
    result = local_resolution(field, noise="corners", threshold=None)
    assert any(result.parameters["tapered_axes"])
    assert np.isfinite(result.map).mean() <= 0.10
    edge = np.ones(field.shape, bool)
    edge[16:-16, 16:-16] = False
    assert np.isfinite(result.map[edge]).mean() <= 0.10


def test_edges_that_do_not_wrap_read_the_truth(monkeypatch):
    """A crop of two-region half-maps, tapered on every axis: near the edges the blurred region reads as in the
    middle (the rim the taper leaves unmeasured takes its nearest measured value), no spurious coarse values
    (measured: medians -6 to +4 %, the largest value +19 to +27 % at every depth)."""
    monkeypatch.setattr(single_map, "edges_wrap", lambda a, b, xp: (False,) * a.ndim)
    noise, crop = 0.3, (slice(16, 112),) * 3
    half1, half2, _ = two_region_pair((128, 128, 128), SIGMAS, noise, seed=3)
    result = local_resolution(half1[crop], half2=half2[crop])
    assert all(result.parameters["tapered_axes"])
    blurred = np.abs(np.arange(16, 112) - 64) < 22  # the blurred region's interior, in the crop's columns
    truth = blur_crossing(SIGMAS[1], noise, FSC_0143)
    depth = np.minimum.reduce([np.minimum(i, 95 - i) for i in np.indices(result.map.shape)])
    for near in (depth < 4, (depth >= 4) & (depth < 12), depth >= 12):
        values = result.map[near & blurred]
        assert np.nanmedian(values) == pytest.approx(truth, rel=0.10)
        assert np.nanmax(values) < 1.3 * truth and np.isfinite(values).all()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the corners of this map hold its structure
def test_pixel_size_only_scales_the_map():
    """The map scales exactly (float32 rounding) and no voxel gains or loses a value, with any noise reference."""
    half1, half2, _ = two_region_pair((96, 96, 96), SIGMAS, 0.5, seed=5)
    average = (half1 + half2) / 2
    mask = np.zeros(half1.shape, np.float32)
    mask[10:86, 12:84, 8:88] = 1
    for arguments in ({"half2": half2}, {}, {"mask": mask}, {"noise": 0.35}):
        first = half1 if "half2" in arguments else average
        plain = local_resolution(first, **arguments)
        scaled = local_resolution(first, pixel_size=1.7, **arguments)
        assert np.array_equal(np.isnan(scaled.map), np.isnan(plain.map))
        np.testing.assert_allclose(scaled.map, 1.7 * plain.map, rtol=1e-6)
        assert scaled.pixel_size == (1.7,) * 3 and scaled.status == plain.status
    anisotropic = local_resolution(half1, half2=half2, pixel_size=(2.0, 1.0, 1.0))
    both = local_resolution(half1, half2=half2, pixel_size=(3.0, 1.5, 1.5))
    assert np.array_equal(np.isnan(both.map), np.isnan(anisotropic.map))
    np.testing.assert_allclose(both.map, 1.5 * anisotropic.map, rtol=1e-5)


def test_a_mask_gives_nan_outside_and_noise_from_outside_it():
    """An object in solvent: the noise read outside the mask (or from the difference); the object resolved."""
    half1, half2, inside = _object_in_solvent()
    mask = inside.astype(np.float32)
    for result in (local_resolution((half1 + half2) / 2, mask=mask), local_resolution(half1, half2=half2, mask=mask)):
        assert result.parameters["noise_source"] in ("outside-mask", "difference")
        assert np.isnan(result.map[~inside]).all() and result.filled > 0.5 and result.status == "resolved"
        assert not result.warnings
        assert all(inside[tuple(point)] for point in result.centres)


def test_zeroed_solvent_is_refused_with_the_way_out():
    """A deposited map whose solvent is exactly 0 (85 % of the voxels outside its mask): no noise to read there."""
    half1, half2, inside = _object_in_solvent()
    grid = np.indices(inside.shape) - 48
    deposited = ((grid / np.reshape([34, 34, 34], (-1, 1, 1, 1))) ** 2).sum(axis=0) < 1
    zeroed = np.where(deposited, (half1 + half2) / 2, 0).astype(np.float32)
    assert (zeroed[~inside] == 0).mean() > 0.8
    for arguments in ({"mask": inside.astype(np.float32)}, {}):
        with pytest.raises(ValueError, match=r"^noise: .* is exactly 0 \(solvent flattened or zeroed.*give half2"):
            local_resolution(zeroed, **arguments)
    partly = zeroed.copy()
    partly[~inside] = np.where(np.random.default_rng(0).random((~inside).sum()) < 0.1, 0.0,
                               0.35 * np.random.default_rng(1).standard_normal((~inside).sum()))
    with pytest.warns(RuntimeWarning, match="of the voxels outside the mask is exactly 0"):
        local_resolution(partly, mask=inside.astype(np.float32))


def test_a_map_without_solvent_is_not_read_against_its_corners():
    """Structure everywhere: the corners hold it too; few voxels get a value, the status says so, warnings say
    why and what to give instead; with both halves, their correlation in the corners is named."""
    half1, half2, _ = two_region_pair((96, 96, 96), SIGMAS, 0.3, seed=6)
    with pytest.warns(RuntimeWarning, match="give half2"):
        result = local_resolution((half1 + half2) / 2)  # noqa: PT031
    assert result.parameters["noise_source"] == "corners"
    assert result.status == "unresolved" and result.filled <= 0.05
    assert any("holds more than noise" in note for note in result.warnings)
    assert any("no more than noise alone gives" in note for note in result.warnings)
    with pytest.warns(RuntimeWarning) as caught:
        local_resolution(half1, half2=half2, noise="corners")
    assert any("the half-maps correlate in the corners of the map (r = 0." in str(w.message) for w in caught)


def test_the_fraction_with_a_value_is_reported():
    half1, half2, _ = two_region_pair((64, 64, 64), SIGMAS, 0.3, seed=7)
    result = local_resolution(half1, half2=half2)
    table = json.loads(json.dumps(result.to_dict()))
    assert table["filled"] == pytest.approx(np.isfinite(result.map).mean())
    assert "map" not in table and "p_values" not in table and table["parameters"]["noise_source"] == "difference"
    assert table["parameters"]["threshold"] == "0.143"
    assert f"{100 * result.filled:.3g} % of voxels with a value · 20 bands, noise from difference" in result.summary()
    assert result.summary("Å").startswith("median ") and "FSC 0.143 equivalent, p < 0.05" in result.summary("Å")


def test_the_p_value_map():
    """One map per band, non-decreasing over the bands (a fixed-sequence test), NaN outside the mask; with the
    test alone, a voxel has a value exactly where its first band's p-value is within the significance level."""
    half1, half2, _ = two_region_pair((48, 48, 48), SIGMAS, 0.5, seed=8)
    mask = np.ones(half1.shape, np.float32)
    mask[:4] = 0
    result = local_resolution(half1, half2=half2, threshold=None, p_values=True, mask=mask)
    p_values = result.p_values
    assert p_values.shape == (20, 48, 48, 48) and p_values.dtype == np.float32
    assert np.isnan(p_values[:, :4]).all() and np.all(np.diff(p_values[:, 4:], axis=0) >= 0)
    assert np.all((p_values[:, 4:] > 0) & (p_values[:, 4:] <= 1))
    np.testing.assert_array_equal(np.isfinite(result.map[4:]), p_values[0, 4:] <= 0.05)
    assert local_resolution(half1, half2=half2).p_values is None


@pytest.mark.filterwarnings("ignore:only .* of the voxels have a value:RuntimeWarning")
def test_compiled_and_array_paths_agree(monkeypatch):
    half1, half2, _ = two_region_pair((40, 48, 56), SIGMAS, 0.5, seed=9)
    crop = (slice(2, 38), slice(3, 47), slice(0, 55))  # tapered: the spread correction too
    compiled = local_resolution(half1[crop], half2=half2[crop])
    monkeypatch.setattr(single_map, "compute_path", lambda xp: "numpy")
    array = local_resolution(half1[crop], half2=half2[crop])
    assert compiled.parameters["path"] == "numba" and array.parameters["path"] == "numpy"
    assert np.array_equal(np.isnan(compiled.map), np.isnan(array.map))
    np.testing.assert_allclose(compiled.map, array.map, rtol=1e-4)
    np.testing.assert_allclose(compiled.sums, array.sums, rtol=1e-4, atol=1e-5)


def test_scale_and_dtype_do_not_change_the_map():
    half1, half2, _ = two_region_pair((96, 96), SIGMAS, 0.3, seed=5)
    reference = local_resolution(half1, half2=half2)
    scaled = local_resolution(1e6 * half1, half2=1e6 * half2)
    double = local_resolution(half1.astype(np.float64), half2=half2.astype(np.float64))
    np.testing.assert_allclose(scaled.map, reference.map, rtol=1e-3, equal_nan=True)
    assert reference.map.dtype == np.float32 and double.map.dtype == np.float64
    agree = np.isclose(double.map, reference.map, rtol=1e-3) | (np.isnan(double.map) & np.isnan(reference.map))
    assert agree.mean() > 0.999


def test_inputs_are_not_modified():
    half1, half2, _ = two_region_pair((64, 64), SIGMAS, 0.3, seed=6)
    copies = half1.copy(), half2.copy()
    local_resolution(half1, half2=half2, progress=lambda fraction: None)
    np.testing.assert_array_equal(half1, copies[0])
    np.testing.assert_array_equal(half2, copies[1])


def test_default_bands_span_a_coarse_limit_to_nyquist():
    periods = single_map.default_resolutions((240, 240, 300), pixel_size=1.5)
    assert periods[0] == pytest.approx(240 * 1.5 / single_map.COARSE_DIVISOR)
    assert periods[-1] == pytest.approx(2 * 1.5)
    assert np.all(np.diff(periods) < 0) and len(periods) == single_map.DEFAULT_BANDS


def test_a_finer_window_and_explicit_bands_run():
    half1, half2, _ = two_region_pair((64, 64), SIGMAS, 0.3, seed=7)
    result = local_resolution(half1, half2=half2, window=0, resolutions=[16, 8, 4, 2])
    assert result.parameters["resolutions"] == [16.0, 8.0, 4.0, 2.0]
    assert result.status in ("resolved", "bound")


@pytest.mark.filterwarnings("ignore:only .* of the voxels have a value:RuntimeWarning")
def test_anisotropic_pixels_odd_axes_and_a_crop_stay_calibrated():
    """A z-stack of 33 slices at twice the in-plane pixel: runs, and a crop of noise is not liberal at its edges."""
    field = np.random.default_rng(31).standard_normal((41, 150, 150)).astype(np.float32)[4:37, 11:139, 7:135]
    result = local_resolution(field, pixel_size=(2.0, 1.0, 1.0), noise=1.0, threshold=None)
    edge = np.ones(field.shape, bool)
    edge[:, 16:-16, 16:-16] = False
    assert np.isfinite(result.map).mean() <= 0.10
    assert np.isfinite(result.map[edge]).mean() <= 0.10
    assert result.window_at(0)[1] == result.window_at(0)[2] >= result.window_at(0)[0]


@pytest.mark.filterwarnings("ignore:only .* of the voxels have a value:RuntimeWarning")
def test_small_maps_are_told_what_works():
    """20^3: the corners' bands do not fit, a mask's or a level's do (the message says so); 12^3: only
    resolutions, which then work."""
    volume = np.random.default_rng(0).standard_normal((20, 20, 20)).astype(np.float32)
    with pytest.raises(ValueError, match=r"^half1 is too small .* give resolutions \(at least 2 periods from 2 to 20, "
                                         r"pixel_size units\), or half2, a mask or noise="):
        local_resolution(volume)
    assert local_resolution(volume, noise=1.0).parameters["resolutions"][0] == pytest.approx(20 / 6)
    small = volume[:12, :12, :12]
    with pytest.raises(ValueError, match=r"give resolutions \(at least 2 periods from 3 to 18, pixel_size units\)$"):
        local_resolution(small, noise=1.0, pixel_size=1.5)
    assert local_resolution(small, noise=1.0, pixel_size=1.5, resolutions=[9, 6, 3]).status == "unresolved"


@pytest.mark.parametrize(("arguments", "message"), [
    ({"half1": np.zeros(10)}, "half1"),
    ({"half1": np.full((32, 32), np.nan)}, "half1"),
    ({"significance": 0}, "significance"),
    ({"significance": 1.5}, "significance"),
    ({"significance": "0.05"}, "significance"),
    ({"threshold": "half-bit"}, "threshold must be 0.143, 0.5, an FSC value"),
    ({"threshold": 1.5}, "threshold"),
    ({"mask": np.ones((16, 16))}, "mask"),
    ({"noise": "outside"}, "noise"),
    ({"noise": -1.0}, "noise"),
    ({"noise": "difference"}, "half2"),
    ({"noise": "outside-mask"}, "mask"),
    ({"noise": "outside-mask", "mask": np.ones((64, 64))}, "noise"),
    ({"half2": np.ones((16, 16))}, "half2"),
    ({"resolutions": [4.0]}, "resolutions"),
    ({"resolutions": [1.0, 4.0]}, "resolutions"),
    ({"resolutions": "fine"}, "resolutions"),
    ({"window": -1}, "window"),
    ({"mask": np.full((64, 64), 0.3)}, "mask has no voxel above 0.5"),
    ({"half2": "half1"}, "half2 equals half1"),
    ({"half1": "zero corners", "noise": "corners"}, "noise: 100 % of the corners of the map is exactly 0"),
    ({"half1": "one zero corner", "noise": "corners"}, "noise: a corner of the map is constant"),
    ({"half1": "zero outside", "noise": "outside-mask", "mask": np.pad(np.ones((32, 32)), 16)},
     "noise: 100 % of the voxels outside the mask is exactly 0"),
])
def test_bad_input_names_the_argument(arguments, message):
    volume = np.random.default_rng(0).standard_normal((64, 64)).astype(np.float32)
    named = {"zero corners": np.pad(volume[16:48, 16:48], 16), "zero outside": np.pad(volume[16:48, 16:48], 16),
             "one zero corner": np.where(np.add.outer(np.arange(64), np.arange(64)) < 2 * 16, 0, volume)}
    arguments = {"half1": volume, **arguments}
    if isinstance(arguments["half1"], str):
        arguments["half1"] = named[arguments["half1"]]
    if isinstance(arguments.get("half2"), str):
        arguments["half2"] = volume.copy()
    with pytest.raises(ValueError, match=message):
        local_resolution(**arguments)
