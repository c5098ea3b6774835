import numpy as np
import pytest

from napari_resolution.core.frequency import (
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
