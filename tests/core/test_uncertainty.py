"""Resolution intervals from the shells' statistics: coverage of an analytic truth over independent realisations."""

import numpy as np
import pytest

from napari_resolution import fourier_correlation
from napari_resolution.core.correlation import correlation_band
from napari_resolution.core.simulate import phantom_pair
from napari_resolution.core.single_image import single_image_frc


@pytest.mark.parametrize(("shape", "threshold"), [((256, 256), "half-bit"), ((48, 48, 48), "0.143")])
def test_interval_covers_the_truth_and_matches_the_spread(shape, threshold):
    """Over 20 noise realisations the 95 % interval covers the truth in >= 16 and its width is the spread within 2x."""
    readings, covered, widths = [], 0, []
    for seed in range(20):
        pair = phantom_pair(shape, sigma=2.0, noise=0.7, threshold=threshold, seed=seed)
        result = fourier_correlation(pair.half1, pair.half2, threshold=threshold, confidence=0.95)
        finest, coarsest = result.resolution_interval
        assert finest <= result.resolution <= coarsest
        covered += finest <= pair.truth.resolution <= coarsest
        readings.append(result.resolution)
        widths.append(coarsest - finest)
    spread = 2 * 1.96 * np.std(readings)
    assert covered >= 16
    assert 0.5 < np.mean(widths) / spread < 2.0


def test_interval_in_summary_plot_and_json():
    pair = phantom_pair((128, 128), sigma=2.0, noise=0.5, seed=0)
    result = fourier_correlation(pair.half1, pair.half2, confidence=0.9)
    finest, coarsest = result.resolution_interval
    assert f"[{finest:.3g}, {coarsest:.3g}]" in result.summary("nm")
    assert any(curve.label == "90% band" for curve in result.plots()[0].curves)
    assert result.to_dict()["resolution_interval"] == [finest, coarsest]
    plain = fourier_correlation(pair.half1, pair.half2)
    assert plain.resolution_interval is None and "[" not in plain.summary()


def test_band_is_the_noise_spread():
    """On independent noise images C sqrt(n) spreads by 1: the 68 % band's half width is 1/sqrt(n - 3) in z."""
    band = correlation_band(np.zeros(3), np.array([103.0, 403.0, 10003.0]), 0.6827)
    np.testing.assert_allclose(np.arctanh(band[1]), [0.1, 0.05, 0.01], rtol=1e-3)


def test_single_image_frc_gives_an_interval():
    scene = phantom_pair((128, 128), sigma=2.0, noise=0.0, seed=0).half1
    counts = np.random.default_rng(0).poisson(20.0 * (scene - scene.min()))
    result = single_image_frc(counts, seed=0, confidence=0.95)
    assert result.resolution_interval is not None


@pytest.mark.parametrize("confidence", [0, 1, 1.5, True, "0.95"])
def test_bad_confidence_is_named(confidence):
    pair = phantom_pair((32, 32), sigma=1.0, noise=0.5, seed=0)
    with pytest.raises(ValueError, match="confidence"):
        fourier_correlation(pair.half1, pair.half2, confidence=confidence)


def test_localization_frc_gives_an_interval():
    from napari_resolution.core.localization import localization_frc
    from napari_resolution.core.simulate import smlm_localizations

    locs = smlm_localizations(3000.0, repeats=1.0, frames=2000, seed=0)
    result = localization_frc(locs.table, pixel_size=5.0, confidence=0.95)
    finest, coarsest = result.resolution_interval
    assert finest <= result.resolution <= coarsest
