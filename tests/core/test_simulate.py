import numpy as np
import pytest

from napari_resolution.core.simulate import expected_correlation, phantom_pair


def test_seeded_and_reproducible():
    first = phantom_pair((32, 48), seed=5)
    second = phantom_pair((32, 48), seed=5)
    other = phantom_pair((32, 48), seed=6)
    np.testing.assert_array_equal(first.half1, second.half1)
    assert not np.allclose(first.half1, other.half1)


def test_signal_has_unit_variance_and_noise_the_given_std():
    pair = phantom_pair((64, 64, 64), sigma=1.5, noise=0.7, seed=0)
    signal = (pair.half1 + pair.half2) / 2
    noise = (pair.half1 - pair.half2) / np.sqrt(2)
    assert np.std(noise) == pytest.approx(0.7, rel=0.02)
    assert np.var(signal) - np.var(noise) / 2 == pytest.approx(1.0, rel=0.1)


def test_signal_is_periodic_and_kept_in_dtype():
    pair = phantom_pair((64, 80), noise=0.0, seed=0, dtype=np.float32)
    assert pair.half1.dtype == np.float32
    # periodic: the jump across the border is no larger than inside the image
    inside = np.abs(np.diff(pair.half1, axis=1)).mean()
    across = np.abs(pair.half1[:, 0] - pair.half1[:, -1]).mean()
    assert across < 1.5 * inside


def test_expected_curve_formula_and_noise_free_truth():
    k = np.array([0.0, 0.1, 0.2])
    curve = expected_correlation(k, sigma=2.0, noise=0.5, mean_power=0.02)
    signal = np.exp(-16 * np.pi**2 * k**2)
    np.testing.assert_allclose(curve, signal / (signal + 0.25 * 0.02))
    truth = phantom_pair((32, 32), noise=0.0, seed=0).truth
    assert truth.status == "bound" and truth.resolution == 2.0


def test_truth_resolution_shrinks_with_sharper_signal():
    blurry = phantom_pair((128, 128), sigma=3.0, seed=0).truth
    sharp = phantom_pair((128, 128), sigma=1.5, seed=0).truth
    assert blurry.resolution > sharp.resolution
    assert blurry.crossing == pytest.approx(1 / blurry.resolution)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"shape": (64,)}, "shape"), ({"shape": (4, 64)}, "shape"), ({"sigma": 0}, "sigma"),
     ({"noise": -1}, "noise"), ({"pixel_size": -1}, "pixel_size")],
)
def test_bad_parameters(kwargs, match):
    arguments = {"shape": (32, 32)} | kwargs
    with pytest.raises(ValueError, match=match):
        phantom_pair(**arguments)


def test_band_limited_noise_has_no_power_beyond_its_cutoff():
    from napari_resolution.core.simulate import band_limited_noise

    image = band_limited_noise((64, 80), 0.2, seed=0)
    power = np.abs(np.fft.fft2(image)) ** 2
    radius = np.hypot(np.fft.fftfreq(64)[:, None], np.fft.fftfreq(80)[None, :])
    assert power[radius > 0.2].max() < 1e-20 * power.max()
    assert power[(radius > 0.15) & (radius < 0.2)].mean() > 0.5 * power[(radius > 0) & (radius < 0.05)].mean()
    with pytest.raises(ValueError, match="cutoff"):
        band_limited_noise((64, 64), 0.7)
