"""Benchmark the directional FSC against the plain FSC of the same pair and against its FFT floor.

Case: a 192³ float32 pair (``--quick``: 128³), 300 directions, cones of 20°.

* ratio to the plain FSC (:func:`~napari_resolution.fsc`, warm) in the same run, the issue's target (≤ 3×);
* cold: the first call for a shape (it builds the voxels' (shell, angle) index and the cone matrix, kept for
  reruns); warm: a rerun on the same shape and directions (a widget's second click, a batch of one box size);
* floor: the two real FFTs of the inputs.

3DFSC (Tan et al. 2017), the reference implementation, computes one FSC per cone: its users report minutes on
a CPU for a 144³ box (as stated in our issue #28); there is no peer to install here for a same-machine time.

Run: ``python benchmarks/bench_directional.py [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import time

import scipy.fft

from napari_resolution import fsc
from napari_resolution.core import directional
from napari_resolution.core.simulate import anisotropic_pair


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="128³ instead of 192³")
    size = 128 if parser.parse_args().quick else 192
    pair = anisotropic_pair((size,) * 3, sigma=(3.0, 1.5, 1.5), noise=0.5, seed=0)
    a, b = pair.half1, pair.half2
    fsc(a, b)  # compile the FSC kernels
    directional._INDEX_CACHE.clear()
    directional._cached_membership.cache_clear()
    cold = timed(lambda: directional.directional_fsc(a, b))
    rounds = [(timed(lambda: fsc(a, b)), timed(lambda: directional.directional_fsc(a, b)),
               timed(lambda: [scipy.fft.rfftn(x, workers=os.cpu_count()) for x in (a, b)])) for _ in range(5)]
    plain, warm, floor = (min(column) for column in zip(*rounds))
    print(f"{size}³ float32, 300 directions, 20° cones, {os.cpu_count()} cores")
    print(f"  plain FSC          {plain:7.3f} s")
    print(f"  directional, warm  {warm:7.3f} s   {warm / plain:5.2f}× the FSC   {warm / floor:5.2f}× the FFT floor")
    print(f"  directional, cold  {cold:7.3f} s   {cold / plain:5.2f}× the FSC   (first call for this shape)")
    print(f"  FFT floor          {floor:7.3f} s")


if __name__ == "__main__":
    main()
