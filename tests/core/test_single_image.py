"""One-image FRC: the binomial and checkerboard splits against the two-image FRC of independent exposures."""

import numpy as np
import pytest
import scipy.fft

from napari_resolution import frc
from napari_resolution.core.frequency import FourierGrid
from napari_resolution.core.single_image import binomial_split, photon_counts, single_image_frc


def _scene(size: int, sigma: float, seed: int = 1) -> np.ndarray:
    """A positive texture blurred by ``sigma`` px with mean 1 (periodic: no edges)."""
    rng = np.random.default_rng(seed)
    squared = FourierGrid((size, size)).squared_radius()
    field = scipy.fft.irfftn(scipy.fft.rfftn(rng.standard_normal((size, size))) *
                             np.exp(-2 * np.pi**2 * sigma**2 * squared), s=(size, size))
    field -= field.min()
    return field / field.mean()


@pytest.mark.parametrize(("sigma", "photons"), [(2.0, 5), (3.0, 20), (5.0, 5)])
def test_binomial_split_reads_two_half_dose_exposures(sigma, photons):
    """A 2N-photon image split binomially reads the two-image FRC of two N-photon exposures within 5 %."""
    rng = np.random.default_rng(int(sigma * 10 + photons))
    scene = _scene(512, sigma)
    two = frc(rng.poisson(scene * photons), rng.poisson(scene * photons), threshold="1/7")
    one = single_image_frc(rng.poisson(scene * 2 * photons), seed=0)
    assert one.status == two.status == "resolved"
    assert one.resolution == pytest.approx(two.resolution, rel=0.05)
    assert one.parameters["split"] == "binomial" and one.parameters["photons"] > 0


@pytest.mark.parametrize(("sigma", "photons"), [(2.0, 20), (3.0, 5), (5.0, 20)])
def test_checkerboard_reads_two_exposures_like_the_image(sigma, photons):
    """The checkerboard split of one N-photon image reads the two-image FRC of two like it within 10 %."""
    rng = np.random.default_rng(int(sigma * 10 + photons) + 1)
    scene = _scene(512, sigma)
    two = frc(rng.poisson(scene * photons), rng.poisson(scene * photons), threshold="1/7")
    one = single_image_frc(rng.poisson(scene * photons), method="checkerboard")
    assert one.resolution == pytest.approx(two.resolution, rel=0.10)
    assert one.reference_pixel_size == 2.0  # frequencies per sub-image pixel


def test_checkerboard_undoes_the_half_pixel_shift():
    """A noise-free smooth image: the diagonal sub-images correlate fully (a shift left in would lower it)."""
    result = single_image_frc(_scene(256, 4.0) * 100, method="checkerboard")
    strong = result.frequency < 0.15  # cycles per sub-image pixel, where the scene has most of its power
    assert np.nanmin(result.correlation[1:][strong[1:]]) > 0.99


def test_binomial_split_is_exact_and_reproducible():
    counts = np.random.default_rng(0).poisson(7.0, (64, 64))
    first, second = binomial_split(counts, seed=3)
    np.testing.assert_array_equal(first + second, counts)
    assert abs(first.mean() - counts.mean() / 2) < 0.1
    again, _ = binomial_split(counts, seed=3)
    np.testing.assert_array_equal(first, again)


def test_camera_values_need_gain_and_offset():
    rng = np.random.default_rng(1)
    photons = rng.poisson(_scene(128, 2.0) * 10)
    adu = photons * 2.1 + 100.0 + rng.normal(0, 0.1, photons.shape)
    with pytest.raises(ValueError, match="gain and offset"):
        single_image_frc(adu)
    np.testing.assert_array_equal(photon_counts(adu, gain=2.1, offset=100.0), photons)
    result = single_image_frc(adu, gain=2.1, offset=100.0, seed=0)
    assert result.parameters["gain"] == 2.1
    with pytest.warns(RuntimeWarning, match="below the offset"):
        photon_counts(adu, gain=2.1, offset=150.0)
    with pytest.raises(ValueError, match="offset needs gain"):
        photon_counts(photons, offset=100.0)
    with pytest.raises(ValueError, match="gain"):
        photon_counts(adu, gain=0)


@pytest.mark.parametrize(("image", "kwargs", "match"), [
    (np.ones((8, 32, 32)), {}, "image"),
    (np.zeros((32, 32)), {}, "image"),
    (np.arange(1024.0).reshape(32, 32), {"method": "halves"}, "method"),
    (np.arange(1024.0).reshape(32, 32), {"method": "checkerboard", "gain": 2.0}, "gain"),
])
def test_bad_input_names_the_argument(image, kwargs, match):
    with pytest.raises(ValueError, match=match):
        single_image_frc(image, **kwargs)


def test_binomial_split_of_large_counts_is_binomial():
    """Counts of 64 and more go through numpy's sampler: halves still sum exactly, with binomial spread."""
    counts = np.full((200, 200), 1000)
    counts[:, :100] = 40
    first, second = binomial_split(counts, seed=1)
    np.testing.assert_array_equal(first + second, counts)
    for column, n in ((slice(0, 100), 40), (slice(100, 200), 1000)):
        half = first[:, column]
        assert half.mean() == pytest.approx(n / 2, rel=0.01)
        assert half.var() == pytest.approx(n / 4, rel=0.05)


def test_binomial_split_of_data_that_are_not_counts_warns():
    """A smooth image of large integers (a processed 8-bit picture) has far less noise than counts would."""
    smooth = np.round(_scene(256, 8.0) * 100).astype(np.uint16)  # neighbours' variance 0.08x the mean
    with pytest.warns(RuntimeWarning, match="not photon counts"):
        single_image_frc(smooth, seed=0)
    counts = np.random.default_rng(2).poisson(_scene(256, 8.0) * 100)
    single_image_frc(counts, seed=0)  # Poisson counts: no warning (every warning is an error here)
