"""Benchmark the batch CLI: 16 FSC pairs, serially in one process vs on a dask LocalCluster of 2 workers.

Every run is the whole command (``napari-resolution batch fsc --pairs ...``):
with ``--workers 2`` its time includes starting the cluster, its workers
importing the package and loading the cached kernels; with ``--scheduler`` it
runs on an already started LocalCluster of 2 workers that has run the batch
once (the steady state of a long-lived cluster). Each worker runs one input at a time with
cores // workers kernel threads; the serial run's kernels use every core. The
speed-up therefore comes from overlapping the parts of a job that use one core
(reading, the curve analysis, JSON and PNG writing) with the multi-threaded FFTs
and shell sums of another, and is bounded by the core count.

Run: ``python benchmarks/bench_scale.py [SIZE]`` (cubes of SIZE, default 128; needs the [dask] extra).
"""

from __future__ import annotations

import contextlib
import csv
import io as text_io
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from bench_fsc import interleaved_times
from distributed import LocalCluster

from napari_resolution import io
from napari_resolution.cli import main
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
    with tempfile.TemporaryDirectory() as folder, \
            LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0",
                         env={"NUMBA_NUM_THREADS": str(max(1, (os.cpu_count() or 1) // 2))}) as cluster:
        folder = Path(folder)
        pairs = write_pairs(folder, size)
        warm = batch(pairs, folder / "warm", "--scheduler", cluster.scheduler_address)
        print(f"batch of {PAIRS} FSC pairs {size}^3 float32, {os.cpu_count()} cores; wall seconds, best of 3, "
              f"interleaved; speed-up = serial / time")
        print(f"{'outputs':12s} {'serial':>8s} {'--workers 2':>12s} {'speed-up':>9s} {'warm 2 workers':>15s} "
              f"{'speed-up':>9s}")
        batch(pairs, folder / "warm-up")()  # compiles or loads the kernels once
        warm()  # the workers import the package and load the kernels once
        for label, options in (("JSON", ()), ("JSON + PNG", ("--plot",))):
            serial, cold, steady = (min(times) for times in interleaved_times(
                [batch(pairs, folder / "serial", *options), batch(pairs, folder / "new", "--workers", "2", *options),
                 batch(pairs, folder / "warm", "--scheduler", cluster.scheduler_address, *options)], repeats=3))
            print(f"{label:12s} {serial:8.2f} {cold:12.2f} {serial / cold:8.2f}x {steady:15.2f} "
                  f"{serial / steady:8.2f}x")


if __name__ == "__main__":
    batch_serial_vs_cluster(int(sys.argv[1]) if len(sys.argv) > 1 else 128)
