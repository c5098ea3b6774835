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


def test_gaussian_mtf_answer_is_where_the_gaussian_mtf_crosses():
    from napari_resolution.core.simulate import gaussian_mtf_answer

    answer = gaussian_mtf_answer(1.5, pixel_size=0.5)
    rate = 2 * np.pi**2 * 1.5**2  # MTF(f) = exp(-rate f^2)
    assert np.exp(-rate * answer["f50"] ** 2) == pytest.approx(0.5)
    assert np.exp(-rate * answer["f10"] ** 2) == pytest.approx(0.1)
    assert answer["mtf_nyquist"] == pytest.approx(np.exp(-rate * 0.25))
    assert answer["resolution_50"] == pytest.approx(0.5 / answer["f50"])
    assert answer["resolution_10"] == pytest.approx(0.5 / answer["f10"])
    assert answer["fwhm"] == pytest.approx(2.35482 * 1.5 * 0.5, rel=1e-5)
    with pytest.raises(ValueError, match="sigma"):
        gaussian_mtf_answer(0.0)


def test_bead_field_is_a_sum_of_gaussian_spots():
    from napari_resolution.core.simulate import bead_field, gaussian_spot

    centers = [(10.2, 20.7), (40.5, 9.1), (30.0, 50.25)]
    field = bead_field((64, 72), centers, 1.4, amplitude=2.0, background=0.3)
    spots = sum(gaussian_spot((64, 72), center, 1.4, amplitude=2.0) for center in centers)
    np.testing.assert_allclose(field, 0.3 + spots, atol=1e-12)
    noisy = bead_field((64, 72), centers, 1.4, noise=0.1, seed=3)
    assert np.std(noisy - bead_field((64, 72), centers, 1.4)) == pytest.approx(0.1, rel=0.05)
    for bad, match in (({"centers": [1.0, 2.0]}, "centers"), ({"centers": np.zeros((0, 2))}, "centers"),
                       ({"sigma": -1.0}, "sigma")):
        with pytest.raises(ValueError, match=match):
            bead_field(**({"shape": (8, 8), "centers": [(4, 4)], "sigma": 1.0} | bad))


def test_edge_chart_tiles_are_slanted_edges_and_rois_frame_them():
    from napari_resolution.core.simulate import edge_chart, slanted_edge

    image, rois = edge_chart((5.0, 30.0, 80.0), 1.2, tile=64)
    assert image.shape == (128, 128)
    assert rois == ((0, 0, 64, 64), (0, 64, 64, 128), (64, 0, 128, 64))
    for (row0, col0, row1, col1), angle in zip(rois, (5.0, 30.0, 80.0)):
        np.testing.assert_array_equal(image[row0:row1, col0:col1], slanted_edge((64, 64), angle, 1.2))
    np.testing.assert_array_equal(image[64:, 64:], 0.5)  # an odd count leaves a grey tile
    noisy, _ = edge_chart((5.0, 30.0), 1.2, tile=64, noise=0.05, seed=0)
    assert np.std(noisy - edge_chart((5.0, 30.0), 1.2, tile=64)[0]) == pytest.approx(0.05, rel=0.05)
    with pytest.raises(ValueError, match="angle"):
        edge_chart((), 1.0)
    with pytest.raises(ValueError, match="tile"):
        edge_chart((5.0,), 1.0, tile=16)
