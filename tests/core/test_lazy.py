"""Lazy inputs (dask arrays): every whole-array estimator reads them once and gives the numpy answer."""

import os
import warnings

import numpy as np
import pytest

from napari_resolution import (
    decorrelation,
    fourier_correlation,
    local_fsc,
    local_resolution,
    make_mask,
    mtf_point,
    phase_randomized_fsc,
    tomography_frc,
)
from napari_resolution.core import backend
from napari_resolution.core.local import streams
from napari_resolution.core.simulate import gaussian_spot, phantom_pair, tomography_sinogram

da = pytest.importorskip("dask.array")


class _CountedReads:
    """An array-like that counts how often its voxels are read (the file a dask graph would read)."""

    def __init__(self, array):
        self.array, self.reads = array, 0
        self.shape, self.dtype, self.ndim = array.shape, array.dtype, array.ndim

    def __getitem__(self, index):
        self.reads += 1
        return self.array[index]


def _lazy(array, chunks):
    counted = _CountedReads(array)
    lazy = da.from_array(counted, chunks=chunks, asarray=True)
    counted.reads = 0  # dask probes the array once when it wraps it
    return lazy, counted


@pytest.fixture(scope="module")
def pair():
    return phantom_pair((30, 34, 38), sigma=2.0, noise=0.5, seed=0, dtype=np.float32)  # odd-ish, not chunk multiples


def _same(lazy_result, eager_result, field):
    np.testing.assert_array_equal(np.asarray(getattr(lazy_result, field)), np.asarray(getattr(eager_result, field)))


@pytest.mark.parametrize("chunks", [(7, 9, 11), (30, 34, 38), (4, 34, 5)])
def test_half_map_estimators_read_dask_once_and_agree(pair, chunks):
    """Chunks smaller than a box, not multiples of anything: the same numbers, each chunk read once."""
    mask = make_mask((pair.half1 + pair.half2) / 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        cases = [
            (fourier_correlation, {}, "correlation"),
            (local_fsc, {"box": 16}, "map"),
            (lambda a, b: local_resolution(a, half2=b), {}, "map"),
            (lambda a, b: phase_randomized_fsc(a, b, mask, seed=1), {}, "corrected"),
        ]
        for estimator, options, field in cases:
            (lazy1, counted1), (lazy2, counted2) = _lazy(pair.half1, chunks), _lazy(pair.half2, chunks)
            eager = estimator(pair.half1, pair.half2, **options)
            lazy = estimator(lazy1, lazy2, **options)
            _same(lazy, eager, field)
            assert counted1.reads == counted2.reads == lazy1.npartitions


@pytest.mark.filterwarnings("ignore:the analysed plane is:RuntimeWarning")  # a 128-pixel image: the small-field warning
def test_single_image_estimators_take_dask(pair):
    image = phantom_pair((97, 101), sigma=2.0, noise=0.3, seed=4, dtype=np.float32).half1
    lazy, counted = _lazy(image, (25, 30))
    _same(decorrelation(lazy), decorrelation(image), "kc_max")
    assert counted.reads == lazy.npartitions
    spot = gaussian_spot((48, 48), (24.3, 23.6), 1.8, noise=0.01, seed=2)
    _same(mtf_point(da.from_array(spot, chunks=20), center=(24, 24)), mtf_point(spot, center=(24, 24)), "mtf")
    mask = make_mask(da.from_array(pair.half1, chunks=10))
    np.testing.assert_array_equal(mask, make_mask(pair.half1))


def test_tomography_takes_a_dask_sinogram():
    simulated = tomography_sinogram(64, phantom="random", dose=1e4, seed=3)
    lazy = da.from_array(simulated.sinogram, chunks=(17, 50))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _same(tomography_frc(lazy, simulated.theta).correlation, tomography_frc(simulated.sinogram,
                                                                              simulated.theta).correlation,
              "correlation")


def test_a_lazy_input_too_large_for_memory_is_refused_by_name(pair, monkeypatch):
    monkeypatch.setattr(backend, "available_memory", lambda: 1000)
    lazy1, lazy2 = da.from_array(pair.half1, chunks=10), da.from_array(pair.half2, chunks=10)
    with pytest.raises(ValueError, match=r"half1 and half2 \(half1 \(30, 34, 38\) float32, half2 .*would not fit in "
                                         r"the memory "
                                         r"available .*fourier_correlation needs the whole array"):
        fourier_correlation(lazy1, lazy2)
    with pytest.raises(ValueError, match=r"half1 and half2 \(\(30, 34, 38\) voxels, computed in float32\) needs "
                                         r"[\d.]+ KiB, more than the 1e\+03 B of memory available"):
        fourier_correlation(pair.half1, pair.half2)  # in memory: only the memory the correlation adds is counted


@pytest.fixture
def no_room(monkeypatch):
    """Pretend lazy inputs never fit in memory: those of the local FSC are then computed block by block."""
    monkeypatch.setattr("napari_resolution.core.local.streamed.fits_in_memory", lambda arrays: False)
    monkeypatch.setattr("napari_resolution.core.local.streamed.BLOCK_BYTES", 2**16)  # blocks of a few boxes
    monkeypatch.setattr("napari_resolution.core.local.streamed.SLAB_BYTES", 2**16)  # map slabs of a few rows


def test_streams_when_some_input_is_lazy_and_out_is_given_or_memory_is_short(pair, monkeypatch):
    """The one decision of the local FSC between reading lazy inputs once and computing them block by block."""
    lazy = da.from_array(pair.half1, chunks=(15, 34, 38))
    out = np.empty(pair.half1.shape, np.float32)
    assert not streams((pair.half1, pair.half2, None))
    assert not streams((pair.half1, pair.half2, None), out)  # in memory: out is only where the map goes
    assert not streams((lazy, pair.half2, None))  # fits: read once
    assert streams((lazy, pair.half2, None), out)
    monkeypatch.setattr(backend, "available_memory", lambda: lazy.nbytes - 1)
    assert streams((lazy, pair.half2, None)) and streams((pair.half1, None, lazy))
    assert not streams((pair.half1, pair.half2, None))


@pytest.mark.parametrize(("shape", "box", "step", "chunks"), [((45, 52, 38), 16, 5, (7, 52, 9)),
                                                              ((150, 133), 32, 7, (40, 50))])
def test_local_fsc_of_lazy_inputs_too_large_streams_the_same_map(shape, box, step, chunks, no_room, tmp_path):
    """Odd shapes, a step that divides nothing, chunks smaller than a box: the same boxes, values and map."""
    pair = phantom_pair(shape, sigma=1.5, noise=0.4, seed=5, dtype=np.float32)
    eager = local_fsc(pair.half1, pair.half2, box=box, step=step)
    out = np.lib.format.open_memmap(tmp_path / "map.npy", mode="w+", dtype=np.float32, shape=shape)
    lazy1, counted = _lazy(pair.half1, chunks)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        streamed = local_fsc(lazy1, da.from_array(pair.half2, chunks=chunks), box=box, step=step, out=out)
    assert streamed.parameters["streamed"] and streamed.global_result is None and streamed.map is out
    np.testing.assert_array_equal(streamed.centres, eager.centres)
    np.testing.assert_allclose(streamed.sums, eager.sums, rtol=1e-5, atol=1e-6 * np.abs(eager.sums).max())
    np.testing.assert_allclose(streamed.values, eager.values, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(out), eager.map, rtol=1e-5)
    assert streamed.statistics["median"] == pytest.approx(eager.statistics["median"], rel=1e-3)
    assert counted.reads >= lazy1.npartitions  # read block by block (grown blocks read a chunk again)


def test_streamed_local_fsc_with_a_lazy_mask_and_its_errors(no_room):
    pair = phantom_pair((40, 44, 48), sigma=1.5, noise=0.4, seed=6, dtype=np.float32)
    grid = np.indices(pair.half1.shape) - np.array(pair.half1.shape)[:, None, None, None] / 2
    mask = (np.sqrt((grid**2).sum(axis=0)) < 16).astype(np.float32)
    eager = local_fsc(pair.half1, pair.half2, box=16, step=4, mask=mask)
    lazy = [da.from_array(a, chunks=(9, 20, 20)) for a in (pair.half1, pair.half2, mask)]
    streamed = local_fsc(lazy[0], lazy[1], box=16, step=4, mask=lazy[2])
    np.testing.assert_array_equal(streamed.centres, eager.centres)
    np.testing.assert_allclose(streamed.map, eager.map, rtol=1e-5, equal_nan=True)
    with pytest.raises(ValueError, match="box must be given when lazy inputs are computed block by block"):
        local_fsc(lazy[0], lazy[1])
    broken = pair.half1.copy()
    broken[30, 5, 5] = np.nan
    with pytest.raises(ValueError, match=r"half1 contains NaN or Inf values \(in the block of pixels \d+-\d+, 0-"):
        local_fsc(da.from_array(broken, chunks=10), lazy[1], box=16)


@pytest.mark.slow
def test_local_fsc_into_zarr_on_a_local_cluster_equals_the_in_memory_map(tmp_path, monkeypatch):
    """``out`` given: the blocks run on the workers of the active client; same map, progress from the futures."""
    monkeypatch.setattr("napari_resolution.core.local.streamed.BLOCK_BYTES", 2**16)  # blocks of a few boxes
    distributed = pytest.importorskip("distributed")
    zarr = pytest.importorskip("zarr")
    pair = phantom_pair((44, 40, 36), sigma=1.5, noise=0.4, seed=7, dtype=np.float32)
    eager = local_fsc(pair.half1, pair.half2, box=16, step=6)
    out = zarr.open_array(str(tmp_path / "map.zarr"), mode="w", shape=pair.half1.shape, chunks=(16, 16, 16),
                          dtype=np.float32)
    fractions = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") \
            as cluster, distributed.Client(cluster):
        lazy = [da.from_array(h, chunks=(20, 40, 13)) for h in (pair.half1, pair.half2)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            streamed = local_fsc(*lazy, box=16, step=6, out=out, progress=fractions.append)

            def cancel(fraction):
                raise KeyboardInterrupt("cancelled")

            with pytest.raises(KeyboardInterrupt, match="cancelled"):  # the futures left are cancelled
                local_fsc(*lazy, box=16, step=6, out=np.empty(out.shape, np.float32), progress=cancel)
    assert streamed.parameters["streamed"] and streamed.map is out
    np.testing.assert_allclose(streamed.values, eager.values, rtol=1e-5)
    np.testing.assert_allclose(zarr.open_array(str(tmp_path / "map.zarr"), mode="r")[...], eager.map, rtol=1e-5)
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(set(fractions)) > 2


def test_blockwise_local_fsc_reports_progress_and_cancels_on_local_threads(no_room):
    pair = phantom_pair((40, 40, 40), sigma=1.5, noise=0.4, seed=8, dtype=np.float32)
    lazy = [da.from_array(h, chunks=20) for h in (pair.half1, pair.half2)]
    fractions = []
    local_fsc(*lazy, box=16, step=8, progress=fractions.append)
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(set(fractions)) > 2

    def cancel(fraction):
        raise KeyboardInterrupt("cancelled")

    with pytest.raises(KeyboardInterrupt, match="cancelled"):
        local_fsc(*lazy, box=16, step=8, progress=cancel)


def test_blockwise_local_fsc_checks_the_mask_and_refuses_the_gpu(no_room):
    pair = phantom_pair((32, 32, 32), sigma=1.5, noise=0.4, seed=9, dtype=np.float32)
    lazy = [da.from_array(h, chunks=16) for h in (pair.half1, pair.half2)]
    with pytest.raises(ValueError, match=r"mask values must lie in \[0, 1\]"):
        local_fsc(*lazy, box=16, mask=np.full(pair.half1.shape, 255, np.uint8))
    with pytest.raises(ValueError, match=r"mask values must be finite and lie in \[0, 1\]"):
        local_fsc(*lazy, box=16, mask=da.full(pair.half1.shape, 2.0, chunks=16))
    with pytest.raises(ValueError, match="gpu"):
        local_fsc(*lazy, box=16, device="gpu")


def test_cli_clusters_start_workers_without_the_malloc_trim_setting(monkeypatch):
    """distributed's nannies set MALLOC_TRIM_THRESHOLD_, which made the kernels page-fault (1.6x slower)."""
    pytest.importorskip("distributed")
    from napari_resolution.cli.cluster import cluster_client

    # a nanny also sets it in the process that makes it (an earlier test's cluster did): start clean
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)

    with cluster_client(1, None) as client:
        environment = next(iter(client.run(lambda: dict(os.environ)).values()))
    assert "MALLOC_TRIM_THRESHOLD_" not in environment and environment["OMP_NUM_THREADS"] == str(os.cpu_count())
