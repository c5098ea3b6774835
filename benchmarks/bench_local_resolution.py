"""Benchmark the single-map local resolution (20 bands) against the FFTs it cannot avoid.

Case: a 256^3 float32 map (the average of two-region half-maps), the default 20 bands, the noise from
a known level (the gamma model) and from the half-map difference (the test run twice: on the map and
on the difference).

* floor: the transforms the method needs, timed alone in the same run: one rfftn of the map, and per
  band the inverse transforms of the band-passed map and of its Riesz components on the band's grid,
  the window's forward/inverse pair there, and the inverse transform back to the map's grid (for
  bands on a cropped grid). The difference doubles them.
* also the ratio to one full-size rfftn.

Run: ``python benchmarks/bench_local_resolution.py [--quick]`` (``--quick``: 128^3).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import scipy
import scipy.fft
from bench_fsc import interleaved_times

from napari_resolution import local_resolution
from napari_resolution.core import single_map
from napari_resolution.core.simulate import two_region_pair


def floor(volume, runs: int = 1) -> None:
    """The method's unavoidable transforms (``runs`` = 2 with the difference), on random spectra of the right sizes."""
    shape = volume.shape
    workers = os.cpu_count()
    scipy.fft.rfftn(volume, workers=workers)
    frequencies = 1 / single_map.default_resolutions(shape)
    for _ in range(runs):
        for frequency in frequencies:
            band = single_map._BandGrid(shape, (1.0,) * len(shape), frequency, single_map.WINDOW_PERIODS, np,
                                        np.dtype(np.float32), {})
            spectrum = np.ones((*band.shape[:-1], band.shape[-1] // 2 + 1), np.complex64)
            for _ in range(1 + len(shape)):
                real = scipy.fft.irfftn(spectrum, s=band.shape, workers=workers)
            smoothed = scipy.fft.rfftn(real, workers=workers)
            if band.full:
                scipy.fft.irfftn(smoothed, s=shape, workers=workers)
            else:
                scipy.fft.irfftn(band.embed(smoothed, shape), s=shape, workers=workers)


def run_case(shape) -> None:
    half1, half2, _ = two_region_pair(shape, noise=0.5, seed=0)
    average = (half1 + half2) / 2
    warnings.simplefilter("ignore", RuntimeWarning)
    local_resolution(average[(slice(0, 32),) * len(shape)], noise=0.35)  # warm up
    times = interleaved_times([
        lambda: local_resolution(average, noise=0.5 / np.sqrt(2)),
        lambda: local_resolution(half1, half2=half2),
        lambda: floor(average, 1),
        lambda: floor(average, 2),
        lambda: scipy.fft.rfftn(average, workers=os.cpu_count()),
    ], repeats=2)
    level, difference, floor1, floor2, one = (min(t) for t in times)
    print(f"single-map local resolution {shape} float32, 20 bands:")
    print(f"  noise level (gamma model): {level:.2f} s; floor {floor1:.2f} s; ratio {level / floor1:.1f}x; "
          f"{level / one:.0f}x one rfftn ({one:.3f} s); target < 10 s")
    print(f"  half-map difference:       {difference:.2f} s; floor {floor2:.2f} s; ratio {difference / floor2:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="128^3 only")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPU cores, numpy {np.__version__}, scipy {scipy.__version__}")
    run_case((128, 128, 128) if args.quick else (256, 256, 256))


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"({time.perf_counter() - start:.0f} s in all)")
