import numpy as np
import pytest

from napari_resolution.core.frequency import (
    FourierGrid,
    frequency_axes,
    hermitian_weights,
    normalize_pixel_size,
    shell_counts,
    shell_geometry,
    shell_index,
    tukey_window,
)


@pytest.mark.parametrize("shape", [(64, 64), (63, 65), (40, 64), (16, 32, 30), (15, 16, 17)])
def test_half_spectrum_counts_equal_full_spectrum(shape):
    geometry = shell_geometry(shape)
    half = shell_index(geometry, half=True)
    weights = hermitian_weights(shape[-1])
    weighted = np.bincount(half.ravel(), weights=np.broadcast_to(weights, half.shape).ravel())
    full = np.bincount(shell_index(geometry, half=False).ravel())
    np.testing.assert_allclose(weighted, full)
    assert full.sum() == np.prod(shape)


def test_cubic_geometry_runs_dc_to_nyquist():
    geometry = shell_geometry((64, 64, 64))
    assert geometry.n_shells == 33
    assert geometry.frequency[0] == 0 and geometry.frequency[-1] == pytest.approx(0.5)
    counts = shell_counts(geometry)
    # shell 1 holds |k| in [0.5, 1.5): 6 face neighbours (1) and 12 edge neighbours (sqrt 2)
    assert counts[0] == 1 and counts[1] == 18


def test_square_ring_one_has_eight_points():
    counts = shell_counts(shell_geometry((64, 64)))
    assert list(counts[:2]) == [1, 8]


def test_non_square_and_anisotropic_geometry():
    geometry = shell_geometry((300, 512))
    assert geometry.spacing == pytest.approx(1 / 512)
    assert geometry.n_shells == 257
    anisotropic = shell_geometry((64, 128, 128), pixel_size=(2.0, 1.0, 1.0))
    assert anisotropic.reference_pixel == 2.0
    assert anisotropic.n_shells == 33  # Nyquist of the 2.0 axis: 0.25 / (1/128)
    assert anisotropic.frequency[-1] == pytest.approx(0.5)


def test_ring_thickness_groups_shells():
    thin, thick = shell_geometry((64, 64)), shell_geometry((64, 64), ring_thickness=2)
    assert thick.n_shells == 17
    assert thick.spacing == pytest.approx(2 * thin.spacing)
    with pytest.raises(ValueError, match="ring_thickness"):
        shell_geometry((64, 64), ring_thickness=0)
    with pytest.raises(ValueError, match="ring_thickness"):
        shell_geometry((64, 64), ring_thickness=1.5)


def test_hermitian_weights():
    assert list(hermitian_weights(8)) == [1, 2, 2, 2, 1]
    assert list(hermitian_weights(7)) == [1, 2, 2, 2]


def test_tukey_window():
    np.testing.assert_array_equal(tukey_window(16, 0), np.ones(16))
    window = tukey_window(40, 10)
    np.testing.assert_allclose(window, window[::-1])
    assert np.all(window[10:30] == 1)
    assert 0 < window[0] < 0.01 and np.all(np.diff(window[:10]) > 0)


def test_pixel_size_normalisation():
    assert normalize_pixel_size(2, 3) == (2.0, 2.0, 2.0)
    assert normalize_pixel_size((1, 2), 2) == (1.0, 2.0)
    for bad in ((1, 2), -1, 0, float("nan"), "abc"):
        with pytest.raises(ValueError, match="pixel_size"):
            normalize_pixel_size(bad, 3)


def test_edges_wrap_per_axis():
    from napari_resolution.core.frequency import edges_wrap
    from napari_resolution.core.simulate import phantom_pair

    pair = phantom_pair((64, 96, 80), sigma=3.0, noise=0.5, seed=0)
    assert edges_wrap(pair.half1, pair.half2) == (True, True, True)
    big = phantom_pair((128, 96, 80), sigma=3.0, noise=0.5, seed=0)  # periodic along axes 1 and 2 only
    assert edges_wrap(big.half1[20:84], big.half2[20:84]) == (False, True, True)
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((2, 64, 64))  # independent noise: nothing common jumps at the edges
    assert edges_wrap(noise[0], noise[1]) == (True, True)
    ramp = np.add.outer(np.arange(64.0), np.zeros(64))  # a common gradient jumps at the wrap of axis 0
    assert edges_wrap(ramp + noise[0], ramp + noise[1]) == (False, True)


# ----------------------------------------------------------------------------- the Fourier grid
@pytest.mark.parametrize(("shape", "spacing"), [((8, 7), 1.0), ((5, 6, 9), (0.5, 2.0, 1.5)), ((10,), 0.25)])
def test_frequency_axes_are_the_sampled_frequencies(shape, spacing):
    spacings = np.broadcast_to(spacing, len(shape))
    for half in (True, False):
        axes = frequency_axes(shape, spacing, half)
        for axis, (k, n, h) in enumerate(zip(axes, shape, spacings)):
            indices = np.arange(n // 2 + 1) if half and axis == len(shape) - 1 else \
                np.concatenate([np.arange((n + 1) // 2), np.arange(-(n // 2), 0)])  # FFT order
            np.testing.assert_allclose(k, indices / (n * h), rtol=1e-15, atol=0)
    with pytest.raises(ValueError, match="spacing has 1 values but the data has 2 axes"):
        frequency_axes((4, 4), (1.0,))


@pytest.mark.parametrize(("shape", "spacing", "scale"), [((6, 9), (1.0, 1.0), 1.0), ((5, 4, 7), (0.5, 2.0, 1.5), 2.0),
                                                          ((12, 12), (3.0, 3.0), 12.0)])
def test_fourier_grid_radius_is_the_frequency_of_every_rfft_sample(shape, spacing, scale):
    grid = FourierGrid(shape, spacing, scale)
    spectrum_shape = (*shape[:-1], shape[-1] // 2 + 1)
    assert grid.radius.shape == spectrum_shape and grid.size == np.prod(shape)
    for index in np.ndindex(*spectrum_shape):  # brute force: the signed index of each sample over the extent
        signed = [i if i <= n // 2 or axis == len(shape) - 1 else i - n for axis, (i, n) in enumerate(zip(index,
                                                                                                           shape))]
        expected = scale * np.sqrt(sum((k / (n * h)) ** 2 for k, n, h in zip(signed, shape, spacing)))
        assert grid.radius[index] == pytest.approx(expected, rel=1e-12, abs=1e-15)
        inverse = 0.0 if expected == 0 else 1 / expected
        assert grid.inverse_radius[index] == pytest.approx(inverse, rel=1e-12)
    np.testing.assert_allclose(grid.squared_radius(), grid.radius**2, rtol=1e-12)
    np.testing.assert_array_equal(grid.weights, hermitian_weights(shape[-1]))


def test_a_cropped_grid_samples_the_low_frequencies_of_the_full_one():
    """A grid over the same extent with a coarser spacing holds exactly the full grid's frequencies up to its
    Nyquist: the crop of a spectrum."""
    full, cropped = FourierGrid((32, 24), (1.0, 1.5)), FourierGrid((8, 6), (4.0, 6.0))
    rows = np.r_[0:4, 28:32]
    np.testing.assert_allclose(cropped.radius, full.radius[rows][:, :4], rtol=1e-15)


def test_fourier_grid_dtype():
    grid = FourierGrid((8, 8, 8), 0.7, dtype=np.float32)
    assert grid.radius.dtype == grid.inverse_radius.dtype == grid.components[0].dtype == np.float32
    assert [c.shape for c in grid.components] == [(8, 1, 1), (1, 8, 1), (1, 1, 5)]
