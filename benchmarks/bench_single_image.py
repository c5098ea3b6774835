"""Benchmark the one-image FRC (binomial and checkerboard splits) against the two-image FRC of the same size.

Case: 2048² Poisson images (20 photons per pixel on average); target: at most 1.5× the two-image FRC.
Run: ``python benchmarks/bench_single_image.py``.
"""

from __future__ import annotations

import time

import numpy as np

from napari_resolution import frc
from napari_resolution.core.single_image import single_image_frc


def main() -> None:
    rng = np.random.default_rng(0)
    first, second = rng.poisson(20.0, (2048, 2048)), rng.poisson(20.0, (2048, 2048))
    cases = {"two-image FRC": lambda: frc(first, second),
             "binomial split": lambda: single_image_frc(first, seed=0),
             "checkerboard split": lambda: single_image_frc(first, method="checkerboard")}
    for run in cases.values():
        run()  # compile and warm the FFT plans
    times = {name: [] for name in cases}
    for _ in range(5):  # interleaved: every candidate sees the same machine noise
        for name, run in cases.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    best = {name: min(values) for name, values in times.items()}
    print("2048² int Poisson images, best of 5")
    for name, seconds in best.items():
        print(f"  {name:20s} {seconds:6.3f} s   {seconds / best['two-image FRC']:4.2f}× the two-image FRC")


if __name__ == "__main__":
    main()
