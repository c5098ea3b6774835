"""Benchmark dask scale-out: the batch CLI on a LocalCluster, and the block-wise local FSC on 1 vs 2 workers.

**Batch**: 16 FSC pairs, serially in one process vs on a dask LocalCluster of 2 workers.

Every run is the whole command (``napari-resolution batch fsc --pairs ...``):
with ``--workers 2`` its time includes starting the cluster, its workers
importing the package and loading the cached kernels; with ``--scheduler`` it
runs on an already started LocalCluster of 2 workers that has run the batch
once (the steady state of a long-lived cluster). Each worker runs one input at a time with
cores // workers kernel threads; the serial run's kernels use every core. The
speed-up therefore comes from overlapping the parts of a job that use one core
(reading, the curve analysis, JSON and PNG writing) with the multi-threaded FFTs
and shell sums of another, and is bounded by the core count.

**Local FSC on workers**: a zarr pair of 384^3 float32, box 32, step 8, its map written into a zarr
array (``local_fsc(..., out=...)``: blocks of the inputs grown by half a box, ``map_overlap``), on a
LocalCluster of 1 worker process (every core to its kernels) and of 2 (half the cores each); and the
peak memory, all processes together (the client and the workers; sampled every 0.1 s), of a 512^3
pair (1 GiB) on 2 workers (target: under 3 GiB).

Run: ``python benchmarks/bench_scale.py [--batch-size 128] [--local-size 384] [--memory-size 512]``
(a size of 0 skips that part; needs the [dask] extra).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io as text_io
import os
import tempfile
import threading
import time
import warnings
from pathlib import Path

import dask.array as da
import numpy as np
import psutil
import zarr
from bench_fsc import interleaved_times

from napari_resolution import io, local_fsc
from napari_resolution.cli import main
from napari_resolution.cli.cluster import cluster_client
from napari_resolution.core.simulate import phantom_pair

PAIRS = 16


def write_pairs(folder: Path, size: int) -> Path:
    """``PAIRS`` simulated half-map pairs of ``size``³ (float32 MRC) and the CSV listing them."""
    rows = [["half1", "half2"]]
    for index in range(PAIRS):
        pair = phantom_pair((size,) * 3, sigma=2.0, noise=0.5, pixel_size=1.1, seed=index, dtype=np.float32)
        for half, data in (("half1", pair.half1), ("half2", pair.half2)):
            io.write_mrc(folder / f"run{index:02d}_{half}.mrc", data, 1.1)
        rows.append([f"run{index:02d}_half1.mrc", f"run{index:02d}_half2.mrc"])
    with open(folder / "pairs.csv", "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return folder / "pairs.csv"


def batch(pairs: Path, out: Path, *options: str):
    """A function running the batch quietly; it asserts that every input ran."""
    def run():
        with contextlib.redirect_stdout(text_io.StringIO()):
            assert main(["batch", "fsc", "--pairs", str(pairs), "--out", str(out), *options]) == 0
    return run


def batch_serial_vs_cluster(size: int = 128) -> None:
    """Print the wall times of the batch of 16 FSC pairs of ``size``³: serial, on 2 new workers, on 2 warm ones."""
    with tempfile.TemporaryDirectory() as folder, cluster(2) as client:
        running = client.cluster
        folder = Path(folder)
        pairs = write_pairs(folder, size)
        warm = batch(pairs, folder / "warm", "--scheduler", running.scheduler_address)
        print(f"batch of {PAIRS} FSC pairs {size}^3 float32, {os.cpu_count()} cores; wall seconds, best of 3, "
              f"interleaved; speed-up = serial / time")
        print(f"{'outputs':12s} {'serial':>8s} {'--workers 2':>12s} {'speed-up':>9s} {'warm 2 workers':>15s} "
              f"{'speed-up':>9s}")
        batch(pairs, folder / "warm-up")()  # compiles or loads the kernels once
        warm()  # the workers import the package and load the kernels once
        for label, options in (("JSON", ()), ("JSON + PNG", ("--plot",))):
            serial, cold, steady = (min(times) for times in interleaved_times(
                [batch(pairs, folder / "serial", *options), batch(pairs, folder / "new", "--workers", "2", *options),
                 batch(pairs, folder / "warm", "--scheduler", running.scheduler_address, *options)], repeats=3))
            print(f"{label:12s} {serial:8.2f} {cold:12.2f} {serial / cold:8.2f}x {steady:15.2f} "
                  f"{serial / steady:8.2f}x")


def write_zarr_pair(folder: Path, size: int) -> list[Path]:
    """A simulated half-map pair of ``size``³ float32 as two zarr arrays (chunks of 64³), written a slab at a time."""
    paths = [folder / f"half{half}.zarr" for half in (1, 2)]
    arrays = [zarr.open_array(str(path), mode="w", shape=(size,) * 3, chunks=(64,) * 3, dtype=np.float32)
              for path in paths]
    pair = phantom_pair((size,) * 3, sigma=2.0, noise=0.5, seed=0, dtype=np.float32)
    for array, data in zip(arrays, (pair.half1, pair.half2)):
        array[...] = data
    return paths


def cluster(workers: int):
    """A client of a LocalCluster of ``workers`` processes of one thread, their kernels sharing the cores: the
    CLI's ``--workers`` (:func:`~napari_resolution.cli.cluster.cluster_client`)."""
    return cluster_client(workers, None)


def local_map(paths, out: Path, box: int, step: int):
    """A function computing the local FSC of the zarr pair ``paths`` into a new zarr map at ``out``."""
    def run():
        halves = [da.from_zarr(str(path)) for path in paths]
        target = zarr.open_array(str(out), mode="w", shape=halves[0].shape, chunks=(64,) * 3, dtype=np.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            local_fsc(*halves, box=box, step=step, out=target)
    return run


class PeakMemory:
    """Peak of the summed resident memory of this process and the given worker processes, sampled every 0.1 s."""

    def __init__(self, pids):
        self.processes = [psutil.Process(pid) for pid in {os.getpid(), *pids}]
        self.peak, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, sum(p.memory_info().rss for p in self.processes))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def local_fsc_on_workers(size: int, box: int = 32, step: int = 8) -> None:
    """Print the local FSC's wall time on 1 and on 2 workers (best of 2 each) for a zarr pair of ``size``³."""
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        paths = write_zarr_pair(folder, size)
        small = write_zarr_pair(folder / "small", 64)
        times = {}
        for workers in (1, 2):
            with cluster(workers):
                local_map(small, folder / "warm.zarr", box, step)()  # the workers load the kernels once
                times[workers] = min(interleaved_times([local_map(paths, folder / "map.zarr", box, step)], 2)[0])
        print(f"local FSC {size}^3 zarr pair -> zarr map, box {box}, step {step}, {os.cpu_count()} cores: "
              f"1 worker {times[1]:.1f} s, 2 workers {times[2]:.1f} s: speed-up {times[1] / times[2]:.2f}x")


def local_fsc_memory(size: int, box: int = 32, step: int = 8) -> None:
    """Print the time and the peak memory of all processes of the local FSC of a ``size``³ zarr pair on 2 workers."""
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        paths = write_zarr_pair(folder, size)
        with cluster(2) as client:
            local_map(write_zarr_pair(folder / "small", 64), folder / "warm.zarr", box, step)()
            pids = client.run(os.getpid).values()
            start = time.perf_counter()
            with PeakMemory(pids) as memory:
                local_map(paths, folder / "map.zarr", box, step)()
            elapsed = time.perf_counter() - start
        pair_bytes = 2 * size**3 * 4
        print(f"local FSC {size}^3 zarr pair ({pair_bytes / 2**30:.2f} GiB) on 2 workers: {elapsed:.1f} s; peak "
              f"memory of the client and workers {memory.peak / 2**30:.2f} GiB (target < 3 GiB)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=128, help="cube side of the batch's pairs (0: skip)")
    parser.add_argument("--local-size", type=int, default=384, help="cube side of the 1 vs 2 workers case (0: skip)")
    parser.add_argument("--memory-size", type=int, default=512, help="cube side of the memory case (0: skip)")
    args = parser.parse_args()
    if args.batch_size:
        batch_serial_vs_cluster(args.batch_size)
    if args.local_size:
        local_fsc_on_workers(args.local_size)
    if args.memory_size:
        local_fsc_memory(args.memory_size)
