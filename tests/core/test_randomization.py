import json
import warnings

import numpy as np
import pytest

from napari_resolution import fourier_correlation
from napari_resolution.core import kernels
from napari_resolution.core.frequency import shell_geometry, shell_index
from napari_resolution.core.masks import spherical_mask
from napari_resolution.core.randomization import phase_randomized_fsc, randomize_phases
from napari_resolution.core.simulate import phantom_pair


@pytest.fixture(params=["compiled", "array"])
def path(request, monkeypatch):
    """Run a test on the numba kernels and on the numpy/cupy array path."""
    if request.param == "array":
        monkeypatch.setattr(kernels, "jit_enabled", lambda: False)
    elif not kernels.jit_enabled():
        pytest.skip("numba not available")
    return request.param


@pytest.mark.parametrize("shape", [(40, 48, 36), (33, 35, 37), (64, 50)])
def test_randomisation_keeps_amplitudes_and_low_phases(path, shape):
    volume = phantom_pair(shape, seed=1).half1
    beyond = 0.15
    randomized = randomize_phases(volume, beyond, seed=4)
    assert randomized.dtype == np.float64 and randomized.shape == shape
    before, after = np.fft.rfftn(volume), np.fft.rfftn(randomized)
    amplitude = np.abs(before)
    significant = amplitude > 1e-9 * amplitude.max()
    relative = np.abs(np.abs(after) - amplitude)[significant] / amplitude[significant]
    assert relative.max() < 1e-6  # also proves the spectrum was Hermitian (else irfftn would alter it)
    geometry = shell_geometry(shape)
    kept = shell_index(geometry, half=True) <= round(beyond / geometry.frequency[1])
    np.testing.assert_allclose(after[kept], before[kept], rtol=1e-9, atol=1e-9 * amplitude.max())
    change = np.angle(after[~kept] / before[~kept])
    assert abs(np.mean(np.cos(change))) < 0.05 and abs(np.mean(np.sin(change))) < 0.05  # uniform


def test_randomisation_is_reproducible(path):
    volume = phantom_pair((32, 32, 32), seed=0).half1
    first = randomize_phases(volume, 0.1, seed=7)
    np.testing.assert_array_equal(first, randomize_phases(volume, 0.1, seed=7))
    assert not np.allclose(first, randomize_phases(volume, 0.1, seed=8))


def test_randomize_phases_rejects_bad_frequency():
    with pytest.raises(ValueError, match="beyond"):
        randomize_phases(np.random.default_rng(0).standard_normal((16, 16)), 0.7)


def _particle_halves(shape=(128, 128, 128), noise=0.6, seed=1):
    signal = phantom_pair(shape, sigma=2.0, noise=0.0, seed=seed).half1
    truth = phantom_pair(shape, sigma=2.0, noise=noise, seed=seed).truth
    support = spherical_mask(shape, radius=0.42 * shape[0], soft_edge=4)
    rng = np.random.default_rng(100 + seed)
    halves = [signal * support + noise * rng.standard_normal(shape) for _ in range(2)]
    return halves, truth


@pytest.mark.parametrize("seed", [0, 1])
def test_correction_recovers_the_truth_of_the_masked_region(seed):
    (h1, h2), truth = _particle_halves(seed=seed)
    tight = spherical_mask(h1.shape, radius=0.3 * h1.shape[0], soft_edge=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = phase_randomized_fsc(h1, h2, tight, threshold="half-bit", seed=0)
    assert result.status == "resolved"
    assert result.resolution == pytest.approx(truth.resolution, rel=0.03)
    assert result.masked_resolution < truth.resolution * 0.96  # uncorrected: optimistic
    cutoff = result.randomization_shell
    np.testing.assert_array_equal(result.corrected[: cutoff + 1], result.masked[: cutoff + 1])
    beyond = slice(cutoff + 1, None)
    expected = (result.masked[beyond] - result.randomized[beyond]) / (1 - result.randomized[beyond])
    np.testing.assert_allclose(result.corrected[beyond], expected)
    assert result.unmasked[cutoff] < 0.8 <= result.unmasked[cutoff - 1]


def test_sharp_mask_warns_and_soft_mask_does_not():
    (h1, h2), _ = _particle_halves(shape=(96, 96, 96))
    sharp = spherical_mask(h1.shape, radius=30, soft_edge=0)
    with pytest.warns(RuntimeWarning) as emitted:
        result = phase_randomized_fsc(h1, h2, sharp, seed=0)
    assert any("too sharp" in note for note in result.warnings)
    assert [str(w.message) for w in emitted] == list(result.warnings)  # each note emitted once
    soft = spherical_mask(h1.shape, radius=28, soft_edge=8)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert phase_randomized_fsc(h1, h2, soft, seed=0).warnings == ()


def test_randomize_at_a_resolution_and_json(path):
    (h1, h2), _ = _particle_halves(shape=(64, 64, 64))
    mask = spherical_mask(h1.shape, radius=20, soft_edge=6)
    result = phase_randomized_fsc(h1, h2, mask, randomize_at=8.0, pixel_size=1.0, seed=1)
    assert result.randomization_frequency == pytest.approx(1 / 8, abs=1 / 128)
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert {"unmasked", "masked", "randomized", "corrected"} <= set(payload)
    assert "phase-randomisation corrected" in result.summary("Å")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"mask": None}, "mask is required"),
        ({"mask": np.ones((16, 16, 8))}, "mask must have"),
        ({"mask": np.zeros((16, 16, 16))}, "mask is zero"),
        ({"mask": np.full((16, 16, 16), np.nan)}, "mask contains NaN"),
        ({"mask": np.full((16, 16, 16), 1.5)}, r"mask values must lie in \[0, 1\]"),
        ({"randomize_at": 0}, "randomize_at"),
        ({"randomize_at": "0.8"}, "randomize_at"),
        ({"randomize_at": 1.5}, "finer than Nyquist"),
        ({"threshold": "two-bit"}, "threshold"),
    ],
)
def test_bad_input(kwargs, match):
    rng = np.random.default_rng(0)
    arguments = {"half1": rng.standard_normal((16, 16, 16)), "half2": rng.standard_normal((16, 16, 16)),
                 "mask": np.ones((16, 16, 16))} | kwargs
    h1, h2, mask = arguments.pop("half1"), arguments.pop("half2"), arguments.pop("mask")
    with pytest.raises(ValueError, match=match):
        phase_randomized_fsc(h1, h2, mask, **arguments)


def test_compiled_and_array_paths_agree_for_an_off_centre_mask(monkeypatch):
    """The packed path (pruned FFTs inside the mask's box, paired phases) against the array path."""
    (h1, h2), _ = _particle_halves(shape=(64, 72, 60))
    mask = spherical_mask(h1.shape, radius=14, soft_edge=5, center=(18, 40, 50))  # box touches one edge
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        compiled = phase_randomized_fsc(h1, h2, mask, seed=3)
        monkeypatch.setattr(kernels, "jit_enabled", lambda: False)
        reference = phase_randomized_fsc(h1, h2, mask, seed=3)
    assert compiled.randomization_shell == reference.randomization_shell
    np.testing.assert_allclose(compiled.unmasked, reference.unmasked, atol=1e-6)
    np.testing.assert_allclose(compiled.masked, reference.masked, atol=1e-6)
    # different random phases: the curves agree within their noise, 1 / sqrt(independent voxels per shell)
    beyond = slice(compiled.randomization_shell + 1, None)
    independent = compiled.n_points[beyond] * np.mean(mask**2)
    difference = np.abs(compiled.randomized[beyond] - reference.randomized[beyond])
    assert np.all(difference < 4 * np.sqrt(2 / independent))


@pytest.mark.parametrize("mask_dtype", [">f4", "<f8", "f2", "?", "u1"])
def test_any_mask_dtype_gives_the_same_curves(mask_dtype):
    (h1, h2), _ = _particle_halves(shape=(32, 32, 32))
    binary = mask_dtype in ("?", "u1")
    mask = spherical_mask(h1.shape, radius=10, soft_edge=0 if binary else 4)
    with warnings.catch_warnings(record=True):  # masks this small and sharp warn: compared below
        warnings.simplefilter("always", RuntimeWarning)
        reference = phase_randomized_fsc(h1, h2, mask.astype(np.float64), seed=2)
        result = phase_randomized_fsc(h1, h2, mask.astype(mask_dtype), seed=2)
    assert result.warnings == reference.warnings
    np.testing.assert_allclose(result.masked, reference.masked, atol=2e-3)  # float16 rounds the mask
    np.testing.assert_allclose(result.corrected, reference.corrected, atol=2e-3)
    masked_fsc = fourier_correlation(h1, h2, mask=mask.astype(mask_dtype))
    np.testing.assert_allclose(masked_fsc.correlation, reference.masked, atol=2e-3)
