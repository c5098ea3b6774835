"""The decorrelation's resolution interval (issue #29 item 3): noise resamples of the image's spectrum."""

import json

import numpy as np
import pytest

from napari_resolution.core.decorrelation import RESAMPLES, decorrelation
from napari_resolution.core.simulate import band_limited_noise


def _noisy(shape, cutoff, noise, seed, signal_seed=0):
    """A fixed band-limited signal (the known cut-off) plus white noise ``noise`` x its standard deviation."""
    signal = band_limited_noise(shape, cutoff, seed=signal_seed)
    return signal + noise * signal.std() * np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.slow
@pytest.mark.parametrize(("shape", "cutoff", "noise"), [((256, 256), 0.1, 1.0), ((256, 256), 0.1, 2.0)])
def test_over_20_noise_realisations_the_interval_covers_the_truth_and_matches_their_spread(shape, cutoff, noise):
    truth = 1 / cutoff
    results = [decorrelation(_noisy(shape, cutoff, noise, seed), confidence=0.95, seed=seed) for seed in range(20)]
    assert all(r.status == "resolved" for r in results)
    resolutions = np.array([r.resolution for r in results])
    intervals = np.array([r.resolution_interval for r in results], dtype=float)
    assert np.sum((intervals[:, 0] <= truth) & (truth <= intervals[:, 1])) >= 16
    assert np.all((intervals[:, 0] <= resolutions) & (resolutions <= intervals[:, 1]))
    spread = np.subtract(*np.quantile(resolutions, [0.975, 0.025]))
    # the cut-off is read on discs 1/49 of Nyquist apart (10 % of it at 0.1 cycles/pixel): the interval holds a
    # step, so it is wider than the realisations' spread where their spread is less than a few steps
    assert 0.5 <= np.median(intervals[:, 1] - intervals[:, 0]) / spread <= 2.6


def test_with_little_noise_the_interval_is_the_radius_step_around_the_band_edge():
    image = _noisy((256, 256), 0.15, 0.05, 3, signal_seed=2)
    result = decorrelation(image, pixel_size=0.1, confidence=0.95, seed=0)
    finest, coarsest = result.resolution_interval
    step = 1 / 49 / 2  # the first pass's radius step in cycles/pixel
    assert finest <= result.resolution <= coarsest and finest <= 0.1 / 0.15 <= coarsest
    assert 0.1 / finest - 0.1 / coarsest == pytest.approx(step, rel=0.01)


def test_more_noise_widens_the_interval():
    widths = []
    for noise in (0.5, 2.0):
        finest, coarsest = decorrelation(_noisy((256, 256), 0.1, noise, 1), confidence=0.95,
                                         seed=0).resolution_interval
        widths.append(coarsest - finest)
    assert widths[1] > 1.3 * widths[0]


@pytest.mark.filterwarnings("ignore:the analysed plane is:RuntimeWarning")  # a 128-pixel image: the small-field warning
def test_summary_json_seed_and_input():
    image = _noisy((128, 128), 0.2, 1.0, 3).astype(np.float32)
    copy = image.copy()
    result = decorrelation(image, pixel_size=65, confidence=0.95, seed=4)
    np.testing.assert_array_equal(image, copy)
    finest, coarsest = result.resolution_interval
    assert f"[{finest:.3g}, {coarsest:.3g}] (decorrelation" in result.summary("nm")
    assert json.loads(json.dumps(result.to_dict()))["resolution_interval"] == pytest.approx([finest, coarsest])
    assert decorrelation(image, pixel_size=65, confidence=0.95, seed=4).resolution_interval == (finest, coarsest)
    assert result.parameters["resamples"] == RESAMPLES and result.parameters["seed"] == 4
    plain = decorrelation(image, pixel_size=65)
    assert plain.resolution_interval is None and plain.confidence is None and "[" not in plain.summary("nm")
    assert plain.resolution == result.resolution
    bar = [curve for curve in result.plots("nm")[0].curves if curve.label == "95% interval"]
    np.testing.assert_allclose(bar[0].x, [65 / coarsest, 65 / finest])


def test_no_interval_without_a_resolution_and_none_edges_where_resamples_lose_the_peak():
    noise = decorrelation(np.random.default_rng(2).standard_normal((128, 128)), confidence=0.95, seed=0)
    assert noise.status == "unresolved" and noise.resolution_interval is None and noise.confidence == 0.95
    marginal = decorrelation(_noisy((512, 512), 0.2, 1.5, 2), confidence=0.95, seed=0)  # A0 near 0.05
    assert marginal.status == "resolved" and marginal.resolution_interval[1] is None
    assert marginal.summary().split(" (")[0].endswith(", …]")


def test_each_slice_of_a_stack_is_resampled_from_its_own_spectrum():
    stack = np.stack([_noisy((192, 192), cutoff, 0.5, i, signal_seed=i) for i, cutoff in enumerate((0.08, 0.3))])
    result = decorrelation(stack, pixel_size=(1.0, 1.0, 1.0), confidence=0.95, seed=0)
    for one, truth in zip(result.slices, (1 / 0.08, 1 / 0.3)):
        assert one.resolution_interval[0] <= truth <= one.resolution_interval[1]
    assert result.slices[1].resolution_interval[1] < result.slices[0].resolution_interval[0]  # far apart
    np.testing.assert_array_equal(result.columns()["finest"], [s.resolution_interval[0] for s in result.slices])
    per_slice = result.plots()[0]
    assert [curve.label for curve in per_slice.curves][:2] == ["resolution", "95% interval"]


def test_a_peak_only_at_r_min_is_no_resolution():
    image = _noisy((256, 256), 0.15, 0.7, 0)
    with pytest.warns(RuntimeWarning, match="peak only at the start of the searched range"):
        result = decorrelation(image, r_min=0.5, confidence=0.9, seed=0)
    assert result.status == "unresolved" and result.resolution_interval is None
    inside = decorrelation(image, r_min=0.1, confidence=0.9, seed=0)
    assert inside.status == "resolved" and inside.resolution_interval[0] <= 1 / 0.15 <= inside.resolution_interval[1]


def test_a_small_plane_warns_that_the_cut_off_reads_high():
    with pytest.warns(RuntimeWarning, match="the analysed plane is 96 x 120 pixels") as caught:
        small = decorrelation(_noisy((96, 120), 0.2, 0.5, 0))
    assert len(caught) == 1 and small.warnings == (str(caught[0].message),)
    assert decorrelation(_noisy((160, 160), 0.2, 0.5, 0)).warnings == ()
    with pytest.warns(RuntimeWarning, match="the analysed plane is 96 x 96") as caught:
        decorrelation(np.stack([_noisy((96, 96), 0.2, 0.5, i) for i in range(3)]))
    assert len(caught) == 1  # once for the stack, not per slice


@pytest.mark.parametrize(("kwargs", "match"), [({"confidence": 1.5}, "confidence"),
                                               ({"confidence": True}, "confidence"),
                                               ({"confidence": 0.9, "seed": -1}, "seed")])
def test_bad_confidence_or_seed(kwargs, match):
    with pytest.raises(ValueError, match=match):
        decorrelation(np.random.default_rng(0).standard_normal((64, 64)), **kwargs)


def test_noise_that_is_not_white_warns_and_gets_no_interval():
    from scipy import ndimage

    smoothed = ndimage.gaussian_filter(np.random.default_rng(0).standard_normal((256, 256)), 1.5)  # no signal at all
    with pytest.warns(RuntimeWarning, match="noise beyond the cut-off is not white"):
        result = decorrelation(smoothed, confidence=0.95, seed=0)
    assert result.status == "resolved" and result.noise_falloff < 0.01 and result.resolution_interval is None
    assert "[no interval: noise not white]" in result.summary()
    white = decorrelation(_noisy((256, 256), 0.2, 1.0, 0), confidence=0.95, seed=0)
    assert 0.8 < white.noise_falloff < 1.2 and white.warnings == () and white.resolution_interval is not None
    with pytest.warns(RuntimeWarning, match="^2 of 3 slices: the noise beyond the cut-off is not white"):
        decorrelation(np.stack([smoothed, _noisy((256, 256), 0.2, 1.0, 0), smoothed]))
