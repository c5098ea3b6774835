"""Benchmark the localisation FRC: 10⁶ localisations rendered at 5 nm over a 50 µm field (10,000² pixels).

The issue's target: under 2 s on 2 cores. Printed: the whole call (blocks split, the default with frames), and
its parts timed alone: the rendering of both halves, the shell sums (window, one complex FFT of both halves
packed, the ring sums), the next-frame repeat statistics, and the Q-correction's extra (a random split with
``correct_repeats=True``); the floor is the one complex FFT of the packed field.

Run: ``python benchmarks/bench_localization.py [--quick]`` (``--quick``: 2.5·10⁵ localisations, 25 µm).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from napari_resolution.core import kernels
from napari_resolution.core.backend import fftn_inplace
from napari_resolution.core.frequency import shell_geometry, tukey_window
from napari_resolution.core.localization import (
    localization_frc,
    read_localizations,
    render_field,
    render_halves,
    repeat_statistics,
    split_halves,
)
from napari_resolution.core.simulate import smlm_localizations
from napari_resolution.core.spectral import correlation_sums


def best(function, rounds: int = 3) -> float:
    """The shortest of ``rounds`` timed calls (s)."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def parts(half1, half2, grid) -> tuple[float, float]:
    """The shortest times of the shell sums of the two rendered halves, and of the complex FFT alone."""
    geometry = shell_geometry(grid.shape, 5.0)
    windows = [tukey_window(n, min(grid.shape) // 8) for n in grid.shape]
    sums = best(lambda: correlation_sums(half1, half2, geometry, np, "numba", windows=windows))
    floors = []
    for _ in range(3):
        packed = kernels.pack_windowed(half1, half2, windows, np.complex64)
        start = time.perf_counter()
        fftn_inplace(packed)
        floors.append(time.perf_counter() - start)
    return sums, min(floors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2.5e5 localisations over 25 µm")
    quick = parser.parse_args().quick
    field, filaments, density = (25_000.0, 100, 25.0) if quick else (50_000.0, 400, 14.0)
    data = smlm_localizations(field, filaments=filaments, density=density, width=15.0, precision=10.0, repeats=4.0,
                              frames=20_000, seed=0)
    table = data.table
    locs = read_localizations(table)
    first = split_halves(locs, "blocks")
    grid = render_field(locs, 5.0)
    localization_frc(table, pixel_size=5.0)  # compile the kernels
    whole = best(lambda: localization_frc(table, pixel_size=5.0))
    render = best(lambda: render_halves(locs, first, grid))
    sums, floor = parts(*render_halves(locs, first, grid), grid)
    repeats = best(lambda: repeat_statistics(locs, 30.0))
    corrected = best(lambda: localization_frc(table, pixel_size=5.0, split="random", correct_repeats=True, seed=0))
    print(f"{len(table):,} localisations, {grid.shape[1]:,} x {grid.shape[0]:,} pixels of 5 nm, "
          f"{os.cpu_count()} cores")
    print(f"  localization_frc (blocks)        {whole:6.2f} s")
    print(f"    render both halves             {render:6.2f} s")
    print(f"    shell sums (window, FFT, rings) {sums:6.2f} s   of which the FFT floor {floor:6.2f} s")
    print(f"    repeat statistics              {repeats:6.2f} s")
    print(f"  random split, correct_repeats    {corrected:6.2f} s")


if __name__ == "__main__":
    main()
