"""The compiled CPU paths against plain numpy: pruned FFTs, padded buffers, paired phase randomisation."""

import time

import numpy as np
import pytest

from napari_resolution.core import kernels
from napari_resolution.core.backend import fftn_inplace, ifftn_inplace
from napari_resolution.core.frequency import shell_geometry, shell_index

pytestmark = pytest.mark.skipif(not kernels.jit_enabled(), reason="numba not available")

SHAPES = [(24, 30, 27), (32, 32, 32), (40, 35), (64, 64)]


def _support(shape, rng):
    """A random box per axis; the first axis' box touches the array's edge."""
    slices = []
    for axis, n in enumerate(shape):
        start = 0 if axis == 0 else int(rng.integers(1, n // 3))
        slices.append(slice(start, int(rng.integers(start + 2, n))))
    return tuple(slices)


@pytest.mark.parametrize("shape", SHAPES)
def test_pruned_transforms_match_full_ones(shape):
    rng = np.random.default_rng(len(shape))
    support = _support(shape, rng)
    data = np.zeros(shape, np.complex128)
    data[support] = rng.standard_normal(data[support].shape) + 1j * rng.standard_normal(data[support].shape)
    buffer = kernels.fft_buffer(shape, np.complex128)
    buffer[...] = data
    assert fftn_inplace(buffer, support) is buffer
    np.testing.assert_allclose(buffer, np.fft.fftn(data), atol=1e-9)
    spectrum = np.fft.fftn(rng.standard_normal(shape))
    buffer[...] = spectrum
    ifftn_inplace(buffer, support)
    np.testing.assert_allclose(buffer[support], np.fft.ifftn(spectrum)[support], atol=1e-12)


@pytest.mark.parametrize("shape", [(256, 256, 256), (4096, 4096), (10, 12, 14)])
def test_fft_buffer_is_a_padded_view(shape):
    buffer = kernels.fft_buffer(shape, np.complex64)  # untouched pages cost no memory
    assert buffer.shape == shape and not buffer.flags.c_contiguous
    assert buffer.strides[-1] == 8 and buffer.strides[0] % 4096 != 0
    with pytest.raises(ValueError, match="fft_buffer"):
        kernels.pack_pair(np.ones((8, 8)), np.ones((8, 8)), np.ones((8, 16), np.complex64)[:, ::2])


def _packed_spectrum(shape, seed=0):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(shape), rng.standard_normal(shape)
    buffer = kernels.fft_buffer(shape, np.complex128)
    kernels.pack_pair(a, b, buffer)
    return a, b, fftn_inplace(buffer)


@pytest.mark.parametrize("shape", [(24, 30, 27), (32, 32, 32), (31, 33), (64, 64)])
def test_paired_randomisation_keeps_both_maps_real_with_their_amplitudes(shape):
    a, b, spectrum = _packed_spectrum(shape)
    geometry = shell_geometry(shape)
    cutoff = geometry.n_shells // 4
    kernels.randomize_packed_pairs(spectrum, geometry.squared_coordinates("packed"), cutoff, seed=11)
    randomized = ifftn_inplace(spectrum)
    kept = shell_index(geometry, half=True) <= cutoff
    changes = []
    for original, new in ((a, randomized.real), (b, randomized.imag)):
        before, after = np.fft.rfftn(original), np.fft.rfftn(new)
        # the inverse of the randomised spectrum splits into two real maps: its real part carries
        # all of A and its imaginary part all of B only if every pair (k, -k) was kept Hermitian
        np.testing.assert_allclose(np.abs(after), np.abs(before), rtol=1e-9, atol=1e-9 * np.abs(before).max())
        np.testing.assert_allclose(after[kept], before[kept], rtol=1e-9, atol=1e-9 * np.abs(before).max())
        change = np.angle(after[~kept] / before[~kept])
        tolerance = 4 / np.sqrt(change.size)  # 4 standard deviations of the mean of random unit phasors
        assert abs(np.mean(np.exp(1j * change))) < tolerance  # uniform phases
        assert np.mean(np.abs(change) < 1e-6) < 0.01  # every pair randomised (by chance unchanged: 1 in 4096)
        changes.append(change)
    assert abs(np.mean(np.exp(1j * (changes[0] - changes[1])))) < tolerance  # independent for the two maps


def test_paired_randomisation_is_reproducible():
    shape = (20, 22, 24)
    squared = shell_geometry(shape).squared_coordinates("packed")
    results = []
    for seed in (5, 5, 6):
        spectrum = _packed_spectrum(shape)[2]
        kernels.randomize_packed_pairs(spectrum, squared, 2, seed)
        results.append(spectrum.copy())
    np.testing.assert_array_equal(results[0], results[1])
    assert not np.allclose(results[0], results[2])


def test_masked_packing_zeroes_outside_the_support_and_removes_weighted_means():
    rng = np.random.default_rng(3)
    shape = (20, 24, 28)
    a, b = rng.standard_normal(shape) + 5, rng.standard_normal(shape) - 2
    mask = np.zeros(shape)
    mask[3:9, 0:24, 10:12] = rng.uniform(0.1, 1, (6, 24, 2))
    mask[5, 7, 20] = 0.5  # one row reaches further right, with zeros inside its range
    rows = kernels.mask_rows(a, b, mask)
    assert rows.valid and rows.support == (slice(3, 9), slice(0, 24), slice(10, 21))
    assert (rows.starts[5 * 24 + 7], rows.stops[5 * 24 + 7]) == (10, 21)
    assert rows.starts[0] == rows.stops[0]  # a row of zeros
    packed = kernels.pack_masked(a, b, mask, rows, np.complex128)
    mean_a, mean_b = (a * mask).sum() / mask.sum(), (b * mask).sum() / mask.sum()
    np.testing.assert_allclose(packed, (a - mean_a) * mask + 1j * (b - mean_b) * mask, atol=1e-12)
    in_place = a + 1j * b
    in_place[mask == 0] = np.nan  # never read where the mask is zero at a row's ends,
    in_place[5, 7, 10:21] = a[5, 7, 10:21] + 1j * b[5, 7, 10:21]  # but read inside a row's range
    kernels.mask_packed_inplace(in_place, mask, rows)
    np.testing.assert_allclose(in_place, packed, atol=1e-12)


@pytest.mark.parametrize("value", [np.nan, np.inf, -0.1, 1.5])
def test_mask_rows_flags_any_value_outside_zero_one(value):
    mask = np.zeros((8, 9, 10), np.float32)
    mask[2:6, 3:7, 1:9] = 1
    rows = kernels.mask_rows(mask, mask, mask)
    assert rows.valid and rows.sums[2] == 4 * 4 * 8
    for where in [(0, 0, 0), (4, 4, 9), (4, 4, 5)]:  # a row's end, another row's end, inside a row
        bad = mask.copy()
        bad[where] = value
        assert not kernels.mask_rows(mask, mask, bad).valid
    assert not kernels.mask_rows(mask, mask, np.zeros_like(mask)).valid


def _fresh_kernel():
    """A tiny uncached numba function: its first call in this process compiles."""
    import numba

    return numba.njit(lambda values: values.sum() + 1.0)


def test_a_compiling_call_is_announced_once(monkeypatch, caplog):
    monkeypatch.setattr(kernels, "_run", kernels._KernelRunner())
    kernel, values = _fresh_kernel(), np.ones(4)
    with caplog.at_level("INFO", logger="napari_resolution"):
        assert kernels._run(kernel, values) == 5.0
        first = [record.getMessage() for record in caplog.records]
        kernels._run(kernel, values)  # compiled now: nothing to announce
    assert kernels.COMPILING_MESSAGE in first[0] and "first run only" in first[0]
    assert len(caplog.records) == 1


class _SlowCachedKernel:
    """A kernel numba loads from its on-disk cache slowly (a busy machine): a new specialisation, no compiling."""

    overloads: dict = {}

    @staticmethod
    def typeof_pyval(value):
        import numba

        return numba.typeof(value)

    def __call__(self, values):
        time.sleep(0.5)
        return values.sum()


def test_a_slow_call_that_compiles_nothing_is_not_announced(monkeypatch, caplog):
    """Announced when numba compiles, never by how long a call takes (#27: every run of a busy machine)."""
    monkeypatch.setattr(kernels, "_run", kernels._KernelRunner())
    with caplog.at_level("INFO", logger="napari_resolution"):
        assert kernels._run(_SlowCachedKernel(), np.ones(4)) == 4.0
    assert not caplog.records


def test_the_kernels_one_run_compiles_are_announced_once(monkeypatch, caplog):
    monkeypatch.setattr(kernels, "_run", kernels._KernelRunner())
    with caplog.at_level("INFO", logger="napari_resolution"):
        for _ in range(3):
            kernels._run(_fresh_kernel(), np.ones(4))
    assert len(caplog.records) == 1
