"""Shell sums and crossings against independent references (plain loops, the full FFT)."""

import math

import numpy as np
import pytest

from napari_resolution import fsc
from napari_resolution.core.frequency import FourierGrid, shell_geometry
from napari_resolution.core.simulate import phantom_pair
from napari_resolution.core.spectral import binned_sums, curve_from_sums, radial_profile, ring_means, spectra_sums
from napari_resolution.core.thresholds import STATUSES, find_crossing, find_crossings

# ----------------------------------------------------------------------------- crossings


def _reference_crossing(frequency, curve, threshold, rule, decidable=None):
    """One curve, shell by shell, following find_crossing's docstring.

    Decidable shells: above DC, finite curve value, threshold below 1 (unless
    ``decidable`` is given). first-below: the first decidable shell below the
    threshold, interpolated linearly with the previous decidable shell
    (unresolved if there is none); bound if no decidable shell is below.
    last-above: the last decidable shell at or above the threshold, not
    interpolated; bound if it is the last decidable shell, unresolved if there is none.
    """
    n = len(curve)
    if decidable is None:
        shells = [i for i in range(1, n) if math.isfinite(curve[i]) and threshold[i] < 1]
    else:
        shells = [i for i in range(n) if decidable[i]]
    if not shells:
        return None, "unresolved"
    if rule == "first-below":
        previous = None
        for i in shells:
            if curve[i] - threshold[i] < 0:
                if previous is None:
                    return None, "unresolved"
                m0 = curve[previous] - threshold[previous]
                m1 = curve[i] - threshold[i]
                f0, f1 = frequency[previous], frequency[i]
                return f0 + (f1 - f0) * m0 / (m0 - m1), "resolved"
            previous = i
        return None, "bound"
    above = [i for i in shells if curve[i] - threshold[i] >= 0]
    if not above:
        return None, "unresolved"
    if above[-1] == shells[-1]:
        return None, "bound"
    return frequency[above[-1]], "resolved"


def _random_batch(seed, n_curves=300, n_shells=24):
    """Noisy falling curves and thresholds, with NaNs, undecidable thresholds and special rows."""
    rng = np.random.default_rng(seed)
    frequency = np.linspace(0.0, 0.5, n_shells)
    start = rng.uniform(0.3, 1.2, (n_curves, 1))
    slope = rng.uniform(0.5, 4.0, (n_curves, 1))
    curves = start - slope * frequency + rng.normal(0, 0.15, (n_curves, n_shells))
    curves[:, 0] = 1.0
    thresholds = rng.uniform(0.1, 0.6, (n_curves, n_shells))
    # thresholds at or above 1 (3-sigma on small shells), inf, and NaN curve values
    thresholds[rng.random((n_curves, n_shells)) < 0.12] = 1.0
    thresholds[rng.random((n_curves, n_shells)) < 0.05] = rng.uniform(1.0, 3.0)
    thresholds[rng.random((n_curves, n_shells)) < 0.03] = np.inf
    curves[rng.random((n_curves, n_shells)) < 0.08] = np.nan
    # special rows: never crossing, starting below, all undecidable, one decidable shell,
    # exactly at the threshold, first shells undecidable then below
    curves[0] = 2.0
    curves[1, 1:] = -0.5
    curves[2, 1:] = np.nan
    thresholds[3, :] = 1.5
    thresholds[3, 7] = 0.3
    curves[4, 1:] = thresholds[4, 1:]
    thresholds[5, 1:4] = 1.0
    curves[5, 4:] = -1.0
    curves[6, 1:] = np.where(np.arange(1, n_shells) % 2 == 0, 0.9, 0.05)  # oscillating across the threshold
    thresholds[6, 1:] = 0.5
    return frequency, curves, thresholds


def _reference_batch(frequency, curves, thresholds, rule, decidable=None):
    crossings, statuses = [], []
    for row, (curve, threshold) in enumerate(zip(curves, thresholds)):
        crossing, status = _reference_crossing(frequency, list(curve), list(threshold), rule,
                                               None if decidable is None else list(decidable[row]))
        crossings.append(np.nan if crossing is None else crossing)
        statuses.append(status)
    return np.array(crossings), statuses


@pytest.mark.parametrize("rule", ["first-below", "last-above"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_find_crossings_equals_a_per_curve_loop(rule, seed):
    frequency, curves, thresholds = _random_batch(seed)
    crossings, statuses = find_crossings(frequency, curves, thresholds, rule)
    expected_crossings, expected_statuses = _reference_batch(frequency, curves, thresholds, rule)
    assert crossings.shape == statuses.shape == (len(curves),)
    assert [STATUSES[s] for s in statuses] == expected_statuses
    np.testing.assert_allclose(crossings, expected_crossings, rtol=1e-12, atol=1e-15, equal_nan=True)
    # every status occurs, so the batch exercises every branch
    assert set(expected_statuses) == {"resolved", "bound", "unresolved"}
    # the special rows
    assert expected_statuses[0] == "bound"  # never crosses
    assert expected_statuses[1] == "unresolved"  # starts below
    assert expected_statuses[2] == "unresolved"  # nothing decidable
    # the single-curve wrapper agrees with the batch
    for row in range(12):
        crossing, status = find_crossing(frequency, curves[row], thresholds[row], rule)
        assert status == expected_statuses[row]
        if status == "resolved":
            assert crossing == pytest.approx(expected_crossings[row], rel=1e-12)
        else:
            assert crossing is None


@pytest.mark.parametrize("rule", ["first-below", "last-above"])
def test_find_crossings_with_one_threshold_for_all_curves(rule):
    frequency, curves, thresholds = _random_batch(3, n_curves=80)
    shared = thresholds[10]
    crossings, statuses = find_crossings(frequency, curves, shared, rule)
    expected_crossings, expected_statuses = _reference_batch(frequency, curves, np.tile(shared, (80, 1)), rule)
    assert [STATUSES[s] for s in statuses] == expected_statuses
    np.testing.assert_allclose(crossings, expected_crossings, rtol=1e-12, atol=1e-15, equal_nan=True)


@pytest.mark.parametrize("rule", ["first-below", "last-above"])
def test_find_crossings_with_given_decidable_shells(rule):
    rng = np.random.default_rng(7)
    n_curves, n_shells = 150, 20
    frequency = np.linspace(0.0, 0.5, n_shells)
    curves = 1.1 - 2.5 * frequency + rng.normal(0, 0.2, (n_curves, n_shells))
    thresholds = rng.uniform(0.1, 0.6, (n_curves, n_shells))
    decidable = rng.random((n_curves, n_shells)) < 0.6
    decidable[0] = False
    crossings, statuses = find_crossings(frequency, curves, thresholds, rule, decidable)
    expected_crossings, expected_statuses = _reference_batch(frequency, curves, thresholds, rule, decidable)
    assert [STATUSES[s] for s in statuses] == expected_statuses
    np.testing.assert_allclose(crossings, expected_crossings, rtol=1e-12, atol=1e-15, equal_nan=True)


def test_find_crossing_known_values():
    frequency = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    curve = np.array([1.0, 0.9, 0.6, 0.2, 0.1, 0.0])
    # margin 0.1 at 0.2, -0.3 at 0.3: a quarter of the way
    crossing, status = find_crossing(frequency, curve, np.full(6, 0.5))
    assert status == "resolved" and crossing == pytest.approx(0.225)
    assert find_crossing(frequency, curve, np.full(6, 0.5), "last-above") == (pytest.approx(0.2), "resolved")
    # an undecidable shell (NaN) is skipped: interpolation between 0.1 and 0.3
    holed = curve.copy()
    holed[2] = np.nan
    crossing, status = find_crossing(frequency, holed, np.full(6, 0.5))
    assert status == "resolved" and crossing == pytest.approx(0.1 + 0.2 * 0.4 / 0.7)
    assert find_crossing(frequency, curve, np.full(6, 0.95)) == (None, "unresolved")
    assert find_crossing(frequency, np.ones(6), np.full(6, 0.5)) == (None, "bound")
    assert find_crossing(frequency, np.ones(6), np.full(6, 0.5), "last-above") == (None, "bound")


# ----------------------------------------------------------------------------- binned sums


@pytest.mark.parametrize(("n_terms", "n_voxels", "n_bins", "high"), [(3, 500, 10, 14), (1, 64, 8, 8), (5, 300, 40, 12)])
def test_binned_sums_equals_a_loop(n_terms, n_voxels, n_bins, high):
    rng = np.random.default_rng(n_voxels)
    index = rng.integers(0, high, n_voxels)  # some >= n_bins (dropped) when high > n_bins
    terms = rng.standard_normal((n_terms, n_voxels))
    result = binned_sums(index, terms, n_bins)
    expected = np.zeros((n_terms, n_bins))
    for s in range(n_terms):
        for v in range(n_voxels):
            if index[v] < n_bins:
                expected[s, index[v]] += terms[s, v]
    assert result.shape == (n_terms, n_bins) and result.dtype == np.float64
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-12)
    # the same with np.add.at
    kept = index < n_bins
    other = np.zeros((n_terms, n_bins))
    for s in range(n_terms):
        np.add.at(other[s], index[kept], terms[s, kept])
    np.testing.assert_allclose(result, other, rtol=1e-12, atol=1e-12)


def test_binned_sums_float32_terms_and_empty_bins():
    index = np.array([0, 2, 2, 5, 9, 2], dtype=np.intp)
    terms = np.array([[1, 2, 3, 4, 5, 6], [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]], dtype=np.float32)
    result = binned_sums(index, terms, 6)
    assert result.dtype == np.float64
    np.testing.assert_allclose(result, [[1, 0, 11, 0, 0, 4], [0.5, 0, 1.5, 0, 0, 0.5]])


# ----------------------------------------------------------------------------- radial profile


@pytest.mark.parametrize("centred", [True, False])
def test_radial_profile_equals_a_loop(centred):
    rng = np.random.default_rng(3)
    radius = rng.uniform(0, 5, (7, 9))
    values = rng.standard_normal((2, 7, 9))
    weights = rng.uniform(0.5, 2, 9)
    width, reach = 0.7, 4.2
    counts, means, centres = radial_profile(radius, values, width, weights=weights, centred=centred, reach=reach)
    offset = 0.5 if centred else 0.0
    n_bins = int(np.floor(radius[radius <= reach].max() / width + offset)) + 1
    expected_counts, expected_sums = np.zeros(n_bins), np.zeros((2, n_bins))
    for (row, col), r in np.ndenumerate(radius):
        if r <= reach:
            k = int(np.floor(r / width + offset))
            expected_counts[k] += weights[col]
            expected_sums[:, k] += weights[col] * values[:, row, col]
    filled = expected_counts > 0
    np.testing.assert_allclose(counts, expected_counts, rtol=1e-12)
    np.testing.assert_allclose(means[:, filled], expected_sums[:, filled] / expected_counts[filled], rtol=1e-12)
    assert np.isnan(means[:, ~filled]).all() and means.shape == (2, n_bins)
    np.testing.assert_allclose(centres, (np.arange(n_bins) + (0 if centred else 0.5)) * width)


def test_radial_profile_of_a_known_ring_image():
    """Rings of a radial function give its values at their mean radii; counts without weights are sample numbers,
    ``n_bins`` drops the farther samples, and no values give counts only."""
    offsets = np.arange(-20, 21)
    radius = np.hypot(*np.meshgrid(offsets, offsets, indexing="ij"))
    counts, (mean_radius, mean_value), _ = radial_profile(radius, np.stack([radius, 3 * radius + 1]), 1.0)
    filled = counts > 0
    np.testing.assert_allclose(mean_value[filled], 3 * mean_radius[filled] + 1, rtol=1e-12)
    assert counts.sum() == radius.size
    assert radial_profile(radius, n_bins=3).means is None
    assert radial_profile(radius, n_bins=3).counts.tolist() == [1, 8, 12]  # DC; 4 (1) + 4 (sqrt 2); 4 (2) + 8 (sqrt 5)


@pytest.mark.parametrize(("centre", "pixel_size", "centred"), [((7.0, 7.0), 1.0, True),
                                                               ((6.3, 8.6), (0.5, 1.5), False)])
def test_ring_means_equal_a_loop_over_pixels(centre, pixel_size, centred):
    image = np.random.default_rng(5).standard_normal((15, 17))
    sizes = np.broadcast_to(pixel_size, 2)
    width, reach = 0.4, 6.0
    rings = {}
    for (row, col), value in np.ndenumerate(image):
        r = np.hypot((row - centre[0]) * sizes[0], (col - centre[1]) * sizes[1])
        if r <= reach:
            rings.setdefault(int(np.floor(r / width + (0.5 if centred else 0))), []).append((r, value))
    expected = np.array([np.mean(rings[k], axis=0) for k in sorted(rings)])
    radii, means = ring_means(image, centre, width, pixel_size=pixel_size, centred=centred, reach=reach)
    np.testing.assert_allclose(radii, expected[:, 0], rtol=1e-12)
    np.testing.assert_allclose(means, expected[:, 1], rtol=1e-12)


def test_radial_profile_of_an_rfft_spectrum_with_hermitian_weights_is_the_full_spectrum_profile():
    image = np.random.default_rng(4).standard_normal((12, 15))
    half = FourierGrid((12, 15))
    full_radius = np.hypot(np.fft.fftfreq(12)[:, None], np.fft.fftfreq(15)[None, :])
    power_half, power_full = np.abs(np.fft.rfft2(image)) ** 2, np.abs(np.fft.fft2(image)) ** 2
    weighted = radial_profile(half.radius, power_half, 1 / 15, weights=half.weights)
    expected = radial_profile(full_radius, power_full, 1 / 15)
    np.testing.assert_allclose(weighted.counts, expected.counts)
    np.testing.assert_allclose(weighted.means, expected.means, rtol=1e-12)


# ----------------------------------------------------------------------------- spectra sums


def _full_spectrum_sums(a, b):
    """Counts, Re F1 F2*, |F1|^2, |F2|^2 per shell over the FULL fftn spectrum.

    Shell of a voxel: round(|k| * N) with k in cycles/pixel and N the longest
    axis (the finest Fourier step); shells 0 .. floor(N / 2) are kept (up to Nyquist).
    """
    f1, f2 = np.fft.fftn(a), np.fft.fftn(b)
    size = max(a.shape)
    n_shells = size // 2 + 1
    counts = np.zeros(n_shells)
    sums = np.zeros((3, n_shells))
    frequencies = [np.fft.fftfreq(n) for n in a.shape]
    for position in np.ndindex(a.shape):
        radius = math.sqrt(sum(frequencies[axis][i] ** 2 for axis, i in enumerate(position)))
        shell = math.floor(radius * size + 0.5)
        if shell >= n_shells:
            continue
        x, y = f1[position], f2[position]
        counts[shell] += 1
        sums[0, shell] += (x * np.conj(y)).real
        sums[1, shell] += abs(x) ** 2
        sums[2, shell] += abs(y) ** 2
    return counts, sums


@pytest.mark.parametrize("shape", [(10, 10, 10), (12, 12, 12), (15, 15), (13, 17)])
def test_spectra_sums_equal_full_spectrum_sums(shape):
    rng = np.random.default_rng(sum(shape))
    a = rng.standard_normal(shape)
    b = 0.6 * a + rng.standard_normal(shape)
    geometry = shell_geometry(shape)
    sums = spectra_sums(np.fft.rfftn(a), np.fft.rfftn(b), geometry)
    counts, expected = _full_spectrum_sums(a, b)
    assert sums.shape == (4, counts.size)
    np.testing.assert_array_equal(sums[0], counts)
    scale = np.abs(expected).max()
    np.testing.assert_allclose(sums[1:], expected, rtol=1e-6, atol=1e-9 * scale)
    assert counts[0] == 1
    if len(set(shape)) == 1:  # shell 1 of a square/cubic grid: integer vectors of |v|^2 in {1, 2}
        assert counts[1] == {2: 4 + 4, 3: 6 + 12}[len(shape)]


def test_spectra_sums_float32_spectra():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((2, 12, 12, 12))
    geometry = shell_geometry(a.shape)
    single = spectra_sums(np.fft.rfftn(a).astype(np.complex64), np.fft.rfftn(b).astype(np.complex64), geometry)
    counts, expected = _full_spectrum_sums(a, b)
    np.testing.assert_array_equal(single[0], counts)
    np.testing.assert_allclose(single[1:], expected, rtol=1e-3, atol=1e-4 * np.abs(expected).max())


# ----------------------------------------------------------------------------- curves from sums


@pytest.mark.parametrize("shape", [(12, 12, 12), (15, 15)])
def test_correlation_of_an_image_with_itself_is_one(shape):
    rng = np.random.default_rng(1)
    a = rng.standard_normal(shape)
    spectrum = np.fft.rfftn(a)
    n_points, correlation = curve_from_sums(spectra_sums(spectrum, spectrum, shell_geometry(shape)))
    counts, power = _full_spectrum_sums(a, a)
    np.testing.assert_array_equal(n_points, counts.astype(np.int64))
    assert n_points.dtype == np.int64
    with_power = power[1] > 0
    assert with_power.all()
    np.testing.assert_allclose(correlation[with_power], 1.0, rtol=1e-12)


@pytest.mark.parametrize("shape", [(12, 12, 12), (13, 17)])
def test_correlation_is_symmetric_and_equals_the_full_spectrum_ratio(shape):
    rng = np.random.default_rng(2)
    a = rng.standard_normal(shape)
    b = 0.5 * a + rng.standard_normal(shape)
    geometry = shell_geometry(shape)
    fa, fb = np.fft.rfftn(a), np.fft.rfftn(b)
    n_ab, c_ab = curve_from_sums(spectra_sums(fa, fb, geometry))
    n_ba, c_ba = curve_from_sums(spectra_sums(fb, fa, geometry))
    np.testing.assert_array_equal(n_ab, n_ba)
    np.testing.assert_allclose(c_ab, c_ba, rtol=1e-12, atol=1e-15)
    counts, (cross, p1, p2) = _full_spectrum_sums(a, b)
    expected = cross / np.sqrt(p1 * p2)
    expected[0] = 1.0  # DC-only shell: 1 by convention
    np.testing.assert_allclose(c_ab, expected, rtol=1e-9, atol=1e-12)
    assert np.all(np.abs(c_ab) <= 1 + 1e-12)


def test_curve_from_sums_known_values():
    sums = np.array([
        [1.0, 4.0, 8.0, 6.0, 2.0],  # counts
        [2.0, 0.0, 3.0, -2.0, 1.0],  # cross
        [4.0, 0.0, 9.0, 4.0, 0.0],  # power 1
        [9.0, 2.0, 4.0, 4.0, 5.0],  # power 2
    ])
    n_points, correlation = curve_from_sums(sums)
    np.testing.assert_array_equal(n_points, [1, 4, 8, 6, 2])
    assert correlation[0] == 1.0  # DC-only first shell: 1 by convention (its own value is 1/3)
    assert np.isnan(correlation[1])  # no power
    assert correlation[2] == pytest.approx(0.5)
    assert correlation[3] == pytest.approx(-0.5)
    assert np.isnan(correlation[4])  # 1 / 0: no power in one map
    # a first shell of more than one voxel keeps its value
    sums[0, 0] = 3.0
    assert curve_from_sums(sums)[1][0] == pytest.approx(1 / 3)


def test_a_large_transform_reports_progress_slab_by_slab_and_slabs_change_nothing(monkeypatch):
    from napari_resolution.core import backend

    pair = phantom_pair((40, 48, 56), seed=2)
    whole = fsc(pair.half1, pair.half2)
    monkeypatch.setattr(backend, "SLAB_ELEMENTS", 40 * 48 * 56 // 6)
    fractions = []
    sliced = fsc(pair.half1, pair.half2, progress=fractions.append)
    np.testing.assert_allclose(sliced.correlation, whole.correlation, atol=1e-6)
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert len(fractions) > 10
