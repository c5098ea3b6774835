import numpy as np
import pytest

from napari_resolution.core.masks import (
    make_mask,
    mask_from_half_maps,
    raised_cosine_mask,
    soft_mask_outside_map,
    soften_mask,
    spherical_mask,
)
from napari_resolution.core.simulate import phantom_pair


def _particle(shape=(64, 64, 64), radius=14, noise=0.3, seed=0, center=None):
    """A uniform ball of density 1 in Gaussian noise, and its true support."""
    support = spherical_mask(shape, radius=radius, center=center) > 0.5
    rng = np.random.default_rng(seed)
    return support + noise * rng.standard_normal(shape), support


def _dice(a, b) -> float:
    return 2 * np.sum(a & b) / (a.sum() + b.sum())


@pytest.mark.parametrize("center", [None, (28, 36, 30)])
def test_make_mask_recovers_a_particle(center):
    volume, support = _particle(center=center)
    soft, binary = make_mask(volume, extend=0, soft_edge=4, return_binary=True)
    assert _dice(binary, support) > 0.9
    assert soft.dtype == np.float32 and soft.min() >= 0 and soft.max() == 1
    assert np.all(soft[binary] == 1)


def test_soft_edge_is_monotone_and_outside():
    volume, _ = _particle()
    soft, binary = make_mask(volume, extend=2, soft_edge=5, return_binary=True)
    from scipy import ndimage

    distance = ndimage.distance_transform_edt(~binary)
    edge = (distance > 0) & (distance < 5)
    assert np.all(soft[edge] < 1) and np.all(soft[edge] > 0)
    assert np.all(soft[distance >= 5] == 0)
    order = np.argsort(distance[edge])
    assert np.all(np.diff(soft[edge][order]) <= 1e-6)  # never rises with distance


def test_extension_grows_by_the_distance():
    volume, _ = _particle()
    _, tight = make_mask(volume, extend=0, soft_edge=0, return_binary=True)
    _, grown = make_mask(volume, extend=3, soft_edge=0, return_binary=True)
    radius_tight = (tight.sum() * 3 / (4 * np.pi)) ** (1 / 3)
    radius_grown = (grown.sum() * 3 / (4 * np.pi)) ** (1 / 3)
    assert radius_grown - radius_tight == pytest.approx(3, abs=0.5)


def test_cleanup_removes_specks_and_fills_holes():
    volume, support = _particle(noise=0.05)
    volume[31:34, 31:34, 52:55] = 1.0  # a speck inside the box's sphere, apart from the particle
    volume[32, 32, 32] = 0.0  # a hole inside
    _, clean = make_mask(volume, extend=0, soft_edge=0, lowpass_sigma=0, return_binary=True)
    _, raw = make_mask(volume, extend=0, soft_edge=0, lowpass_sigma=0, cleanup=False, return_binary=True)
    assert not clean[32, 32, 53] and raw[32, 32, 53]
    assert clean[32, 32, 32] and not raw[32, 32, 32]


def test_fixed_threshold_and_half_maps():
    volume, support = _particle(noise=0.2)
    rng = np.random.default_rng(3)
    half1, half2 = volume + 0.2 * rng.standard_normal(volume.shape), volume - 0.1
    mask = mask_from_half_maps(half1, half2, threshold=0.4, extend=0, soft_edge=0)
    assert _dice(mask > 0.5, support) > 0.9


def test_2d_and_anisotropic_pixels():
    image, support = _particle(shape=(96, 96), radius=20, noise=0.2)
    soft, binary = make_mask(image, extend=0, soft_edge=3, return_binary=True)
    assert soft.shape == (96, 96) and _dice(binary, support) > 0.9
    sphere = spherical_mask((32, 64, 64), radius=20, pixel_size=(2.0, 1.0, 1.0))
    assert sphere[16, 32, 32] == 1 and sphere[16, 32, 51] == 1 and sphere[16, 32, 53] == 0
    assert sphere[25, 32, 32] == 1 and sphere[27, 32, 32] == 0  # 11 slices of 2 units = 22 > 20


def test_spherical_and_raised_cosine_masks():
    sphere = spherical_mask((40, 40, 40), radius=10, soft_edge=4)
    profile = sphere[20, 20, 20:]
    assert np.all(profile[:11] == 1) and np.all(profile[14:] == 0)
    assert 0 < profile[12] < 1 and np.all(np.diff(profile) <= 0)
    assert profile[12] == pytest.approx(0.5 * (1 + np.cos(np.pi * 2 / 4)))
    disc = spherical_mask((50, 60))
    assert disc.shape == (50, 60) and disc[25, 30] == 1 and disc[0, 0] == 0
    cosine = raised_cosine_mask((30, 30), 5, 9, center=(10, 12))
    assert cosine[10, 12] == 1 and cosine[10, 22] == 0
    with pytest.raises(ValueError, match="radius_p"):
        raised_cosine_mask((30, 30), 5, 3)
    with pytest.raises(ValueError, match="center"):
        spherical_mask((30, 30), center=(1, 2, 3))


def test_soften_mask_and_soft_mask_outside_map():
    binary = np.zeros((30, 30), bool)
    binary[10:20, 10:20] = True
    soft = soften_mask(binary, 3)
    assert soft[15, 15] == 1 and soft[15, 20] == pytest.approx(0.75) and soft[15, 21] == pytest.approx(0.25)
    assert soft[15, 23] == 0
    volume = phantom_pair((48, 48, 48), seed=0).half1 + 5.0
    original = volume.copy()
    masked, mask = soft_mask_outside_map(volume, radius=15, width=3)
    np.testing.assert_array_equal(volume, original)
    assert masked[24, 24, 24] == pytest.approx(volume[24, 24, 24], rel=1e-6)
    assert np.allclose(masked[0, 0, 0], masked[0, 47, 47])  # background is one value
    with pytest.raises(ValueError, match="empty"):
        soften_mask(np.zeros((8, 8), bool), 2)


@pytest.mark.parametrize(
    ("volume", "kwargs", "match"),
    [
        (np.ones((32, 32, 32)), {}, "constant"),
        (np.full((32, 32, 32), np.nan), {}, "NaN"),
        (np.zeros(32), {}, "2-D or 3-D"),
        (None, {"threshold": 100.0}, "selects no voxel"),
        (None, {"threshold": "median"}, "threshold"),
        (None, {"soft_edge": -1}, "soft_edge"),
    ],
)
def test_bad_input(volume, kwargs, match):
    if volume is None:
        volume, _ = _particle()
    with pytest.raises(ValueError, match=match):
        make_mask(volume, **kwargs)


def test_half_maps_must_match():
    with pytest.raises(ValueError, match="same shape"):
        mask_from_half_maps(np.zeros((16, 16, 16)), np.zeros((16, 16, 8)))
