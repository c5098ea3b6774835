"""Single-map local resolution: known answers of a sharp/blurred map, calibration on noise, invariants, bad input."""

import json

import numpy as np
import pytest

from napari_resolution import local_fsc, local_resolution
from napari_resolution.core import single_map
from napari_resolution.core.simulate import blur_crossing, two_region_pair

SIGMAS = (1.5, 3.0)


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


@pytest.fixture(scope="module", params=[((512, 512), 0.3), ((128, 128, 128), 0.5)], ids=["2d", "3d"])
def phantom(request):
    """Two-region half-maps, their single-map results (from the difference and from a known noise level)."""
    shape, noise = request.param
    half1, half2, _ = two_region_pair(shape, SIGMAS, noise, seed=1)
    from_difference = local_resolution(half1, half2=half2)
    from_level = local_resolution((half1 + half2) / 2, noise=noise / np.sqrt(2))
    return shape, noise, half1, half2, from_difference, from_level


def test_blurred_region_reads_coarser_by_the_analytic_ratio(phantom):
    """Blur 3 px against 1.5 px: at any fixed SNR the resolution doubles (white signal, white noise)."""
    *_, from_difference, from_level = phantom
    for result in (from_difference, from_level):
        sharp, blurred = _region_medians(result.map)
        assert blurred / sharp == pytest.approx(2.0, rel=0.2)
        assert result.status == "resolved"


def test_regions_agree_with_the_local_fsc_at_05(phantom):
    """With the default window each region reads within 25 % of the half-map local FSC at 0.5 (a little finer).

    A wider window reads finer (window 1: about the local FSC at 0.143; see the docs).
    """
    shape, noise, half1, half2, from_difference, from_level = phantom
    box = 48 if len(shape) == 2 else 32
    fsc = local_fsc(half1, half2, box=box, threshold="0.5")
    for result in (from_difference, from_level):
        for single, reference, sigma in zip(_region_medians(result.map), _region_medians(fsc.map), SIGMAS):
            assert single == pytest.approx(reference, rel=0.25)
            assert blur_crossing(sigma, noise, 0.143) < single < blur_crossing(sigma, noise, 0.5)


def test_kept_curves_match_the_map(phantom):
    """curve_at reads the same crossing and status as the map at the kept voxels."""
    *_, result, _ = phantom
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


@pytest.mark.parametrize("shape", [(256, 256), (96, 96, 96)], ids=["2d", "3d"])
@pytest.mark.parametrize(("colour", "source"), [("white", "corners"), ("white", "difference"), ("white", "level"),
                                                ("1/f", "corners"), ("1/f", "difference")])
def test_noise_alone_almost_never_gets_a_resolution(shape, colour, source):
    """Calibration: on noise, few voxels (about the significance level or fewer) get a resolution."""
    claimed = []
    for seed in (11, 12):
        make = (lambda s: np.random.default_rng(s).standard_normal(shape).astype(np.float32)) if colour == "white" \
            else (lambda s: _coloured(shape, s))
        first = make(seed)
        if source == "corners":
            result = local_resolution(first, noise="corners")
        elif source == "difference":
            result = local_resolution(first, half2=make(seed + 100))
        else:
            result = local_resolution(first, noise=1.0)
        claimed.append(np.isfinite(result.map).mean())
    assert max(claimed) <= 0.10
    assert np.mean(claimed) <= 0.05


def test_crop_of_noise_is_tapered_and_calibrated():
    """A crop of a larger noise field (edges that do not wrap) gets the taper and no edge artefacts."""
    field = _coloured((320, 320), 21)[:256, 32:288]
    result = local_resolution(field, noise="corners")
    assert any(result.parameters["tapered_axes"])
    assert np.isfinite(result.map).mean() <= 0.10
    edge = np.ones(field.shape, bool)
    edge[16:-16, 16:-16] = False
    assert np.isfinite(result.map[edge]).mean() <= 0.10


def test_pixel_size_scales_the_map_and_mask_gives_nan_outside():
    half1, half2, _ = two_region_pair((128, 128), SIGMAS, 0.3, seed=2)
    plain = local_resolution(half1, half2=half2)
    scaled = local_resolution(half1, half2=half2, pixel_size=2.5)
    np.testing.assert_allclose(scaled.map, 2.5 * plain.map, rtol=1e-5)
    assert scaled.pixel_size == (2.5, 2.5)
    mask = np.zeros((128, 128), np.float32)
    mask[20:100, 30:110] = 1
    masked = local_resolution(half1, half2=half2, mask=mask)
    assert np.isnan(masked.map[mask == 0]).all()
    assert np.isfinite(masked.map[mask == 1]).mean() > 0.9
    assert all(mask[tuple(point)] == 1 for point in masked.centres)


def test_noise_from_outside_the_mask():
    """An object in a noisy box: the noise read outside the mask; the object resolved, the solvent not."""
    half1, half2, _ = two_region_pair((64, 128, 128), (1.5, 1.5), 0.3, seed=3)
    rng = np.random.default_rng(4)
    zz, yy, xx = np.indices(half1.shape)
    inside = ((zz - 32) / 24) ** 2 + ((yy - 64) / 40) ** 2 + ((xx - 64) / 40) ** 2 < 1
    solvent = rng.standard_normal(half1.shape).astype(np.float32) * 0.3 / np.sqrt(2)  # the average's noise
    signal = np.where(inside, (half1 + half2) / 2, solvent)
    result = local_resolution(signal, mask=inside.astype(np.float32))
    assert result.parameters["noise_source"] == "outside-mask"
    assert np.isnan(result.map[~inside]).all()
    assert np.isfinite(result.map[inside]).mean() > 0.9


def test_scale_and_dtype_do_not_change_the_map():
    half1, half2, _ = two_region_pair((96, 96), SIGMAS, 0.3, seed=5)
    reference = local_resolution(half1, half2=half2)
    scaled = local_resolution(1e6 * half1, half2=1e6 * half2)
    double = local_resolution(half1.astype(np.float64), half2=half2.astype(np.float64))
    np.testing.assert_allclose(scaled.map, reference.map, rtol=1e-3, equal_nan=True)
    assert reference.map.dtype == np.float32 and double.map.dtype == np.float64
    agree = np.isclose(double.map, reference.map, rtol=1e-3) | (np.isnan(double.map) & np.isnan(reference.map))
    assert agree.mean() > 0.999


def test_inputs_are_not_modified_and_result_is_json_ready():
    half1, half2, _ = two_region_pair((64, 64), SIGMAS, 0.3, seed=6)
    copies = half1.copy(), half2.copy()
    result = local_resolution(half1, half2=half2, progress=lambda fraction: None)
    np.testing.assert_array_equal(half1, copies[0])
    np.testing.assert_array_equal(half2, copies[1])
    table = json.loads(json.dumps(result.to_dict()))
    assert "map" not in table and table["parameters"]["noise_source"] == "difference"
    assert "bands, noise from difference" in result.summary("Å")
    assert result.statistics["median"] is not None


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


def test_anisotropic_pixels_odd_axes_and_a_crop_stay_calibrated():
    """A z-stack of 33 slices at twice the in-plane pixel: runs, and a crop of noise is not liberal at its edges."""
    field = np.random.default_rng(31).standard_normal((41, 150, 150)).astype(np.float32)[4:37, 11:139, 7:135]
    result = local_resolution(field, pixel_size=(2.0, 1.0, 1.0), noise=1.0)
    edge = np.ones(field.shape, bool)
    edge[:, 16:-16, 16:-16] = False
    assert np.isfinite(result.map).mean() <= 0.10
    assert np.isfinite(result.map[edge]).mean() <= 0.10
    assert result.window_at(0)[1] == result.window_at(0)[2] >= result.window_at(0)[0]


def test_a_wide_window_and_a_small_map():
    half1, half2, _ = two_region_pair((64, 64), SIGMAS, 0.3, seed=8)
    assert local_resolution(half1, half2=half2, window=4).status in ("resolved", "bound")
    with pytest.raises(ValueError, match="half1 is too small"):
        local_resolution(half1[:24, :24])


@pytest.mark.parametrize(("arguments", "message"), [
    ({"half1": np.zeros(10)}, "half1"),
    ({"half1": np.full((32, 32), np.nan)}, "half1"),
    ({"significance": 0}, "significance"),
    ({"significance": 1.5}, "significance"),
    ({"significance": "0.05"}, "significance"),
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
    ({"half1": "zero corners", "noise": "corners"}, "noise: a corner of the map is constant"),
    ({"half1": "zero outside", "noise": "outside-mask", "mask": np.pad(np.ones((32, 32)), 16)},
     "noise: the background .* is constant"),
])
def test_bad_input_names_the_argument(arguments, message):
    volume = np.random.default_rng(0).standard_normal((64, 64)).astype(np.float32)
    named = {"zero corners": np.pad(volume[16:48, 16:48], 16), "zero outside": np.pad(volume[16:48, 16:48], 16)}
    arguments = {"half1": volume, **arguments}
    if isinstance(arguments["half1"], str):
        arguments["half1"] = named[arguments["half1"]]
    if isinstance(arguments.get("half2"), str):
        arguments["half2"] = volume.copy()
    with pytest.raises(ValueError, match=message):
        local_resolution(**arguments)
