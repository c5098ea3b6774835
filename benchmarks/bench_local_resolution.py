"""Benchmark the single-map local resolution (20 bands) against the FFTs it cannot avoid.

Case: a 256^3 float32 map (the average of two-region half-maps), the default 20 bands and window, read
as the FSC's 0.143 would read it, the noise from a known level and from the half-map difference (whose
noise spectrum is measured once: one more transform).

* floor: the transforms the method needs, timed alone in the same run: one rfftn of the map, and per
  band the inverse transforms of the band-passed map and of its Riesz components on the band's grid,
  the window's forward/inverse pair there, and the inverse transform back to the map's grid (for
  bands on a cropped grid). The difference adds one rfftn of the difference.
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
from napari_resolution.core.local.bands import BandGrid
from napari_resolution.core.simulate import two_region_pair


def floor(volume, difference=None) -> None:
    """The method's unavoidable transforms, on random spectra of the right sizes (one more rfftn with the
    half-map difference, whose noise spectrum is measured)."""
    shape = volume.shape
    workers = os.cpu_count()
    scipy.fft.rfftn(volume, workers=workers)
    if difference is not None:
        scipy.fft.rfftn(difference, workers=workers)
    window = single_map.WINDOW_PERIODS[len(shape)]
    for frequency in 1 / single_map.default_resolutions(shape):
        band = BandGrid(shape, (1.0,) * len(shape), frequency, window, np, np.dtype(np.float32), {})
        spectrum = np.ones((*band.shape[:-1], band.shape[-1] // 2 + 1), np.complex64)
        for _ in range(1 + len(shape)):
            real = scipy.fft.irfftn(spectrum, s=band.shape, workers=workers)
        smoothed = scipy.fft.rfftn(real, workers=workers)
        scipy.fft.irfftn(band.embed(smoothed, shape), s=shape, workers=workers)


def run_case(shape, repeats: int) -> None:
    half1, half2, _ = two_region_pair(shape, noise=0.5, seed=0)
    average, difference = (half1 + half2) / 2, (half1 - half2) / 2
    warnings.simplefilter("ignore", RuntimeWarning)
    local_resolution(average[(slice(0, 32),) * len(shape)], noise=0.35)  # warm up
    times = interleaved_times([
        lambda: local_resolution(average, noise=0.5 / np.sqrt(2)),
        lambda: local_resolution(half1, half2=half2),
        lambda: floor(average),
        lambda: floor(average, difference),
        lambda: scipy.fft.rfftn(average, workers=os.cpu_count()),
    ], repeats=repeats)
    level, pair, floor1, floor2, one = (min(t) for t in times)
    print(f"single-map local resolution {shape} float32, 20 bands, FSC 0.143 equivalent:")
    print(f"  noise level:          {level:.2f} s; FFT floor {floor1:.2f} s; ratio {level / floor1:.1f}x; "
          f"{level / one:.0f}x one rfftn ({one:.3f} s); target < 10 s")
    print(f"  half-map difference:  {pair:.2f} s; FFT floor {floor2:.2f} s; ratio {pair / floor2:.1f}x")
    print(f"  (all runs: level {', '.join(f'{t:.2f}' for t in times[0])} s; difference "
          f"{', '.join(f'{t:.2f}' for t in times[1])} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="128^3 only")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each case, interleaved (default 2)")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPU cores, numpy {np.__version__}, scipy {scipy.__version__}")
    run_case((128, 128, 128) if args.quick else (256, 256, 256), args.repeats)


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"({time.perf_counter() - start:.0f} s in all)")
