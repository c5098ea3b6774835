"""Benchmark the mask-corrected (phase-randomised) FSC against the plain FSC.

Case: two 256^3 float32 half-maps and a soft spherical mask. The corrected FSC
needs the unmasked FSC, two phase randomisations with their inverse FFTs, the
masked FSC and the randomised-masked FSC: eight real-FFT equivalents against
the plain FSC's two, done as four in-place complex FFTs against one, three of
them pruned to the mask's bounding box. Target: at most 3x the plain FSC (same
run, interleaved). Also printed: the same ratio for those transforms alone,
the part of the cost no implementation of the method avoids.

Run: ``python benchmarks/bench_masked_fsc.py [--quick]`` (``--quick``: 128^3).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from napari_resolution import fourier_correlation
from napari_resolution.core.backend import fftn_inplace, ifftn_inplace
from napari_resolution.core.kernels import fft_buffer, mask_rows
from napari_resolution.core.masks import spherical_mask
from napari_resolution.core.randomization import phase_randomized_fsc
from napari_resolution.core.simulate import phantom_pair

sys.path.insert(0, os.path.dirname(__file__))
from bench_fsc import interleaved_times  # noqa: E402


def transforms(shape, mask):
    """The FFTs of the plain FSC (one complex FFT) and of the corrected one (one full, three pruned)."""
    buffer = fft_buffer(shape, np.complex64)
    buffer[...] = 1
    support = mask_rows(mask, mask, mask).support

    def corrected():
        fftn_inplace(buffer, support)
        fftn_inplace(buffer)
        ifftn_inplace(buffer, support)
        fftn_inplace(buffer, support)

    return (lambda: fftn_inplace(buffer)), corrected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="128^3 instead of 256^3")
    args = parser.parse_args()
    shape = (128,) * 3 if args.quick else (256,) * 3
    pair = phantom_pair(shape, seed=0, dtype=np.float32)
    mask = spherical_mask(shape, radius=0.35 * shape[0], soft_edge=6)
    plain = lambda: fourier_correlation(pair.half1, pair.half2)  # noqa: E731
    plain_masked = lambda: fourier_correlation(pair.half1, pair.half2, mask=mask)  # noqa: E731
    corrected = lambda: phase_randomized_fsc(pair.half1, pair.half2, mask, seed=0)  # noqa: E731
    start = time.perf_counter()
    corrected()  # warm-up: numba kernels, FFT plans
    plain()
    print(f"{os.cpu_count()} CPU cores; first call (incl. compilation) {time.perf_counter() - start:.2f} s")
    plain_times, masked_times, corrected_times = interleaved_times([plain, plain_masked, corrected], 7)
    best_plain, best_masked, best_corrected = min(plain_times), min(masked_times), min(corrected_times)
    print(f"masked + phase-randomised FSC {shape} float32: {best_corrected:.3f} s; plain FSC {best_plain:.3f} s; "
          f"ratio {best_corrected / best_plain:.2f}x (target <= 3.0x; medians "
          f"{np.median(corrected_times):.3f} / {np.median(plain_times):.3f} s)")
    print(f"  against the plain masked FSC ({best_masked:.3f} s): {best_corrected / best_masked:.2f}x")
    plain_fft_times, corrected_fft_times = interleaved_times(list(transforms(shape, mask)), 7)
    plain_fft, corrected_fft = min(plain_fft_times), min(corrected_fft_times)
    print(f"  FFTs alone: {corrected_fft:.3f} s against {plain_fft:.3f} s, {corrected_fft / plain_fft:.2f}x; "
          f"everything else: {best_corrected - corrected_fft:.3f} s against {best_plain - plain_fft:.3f} s, "
          f"{(best_corrected - corrected_fft) / (best_plain - plain_fft):.2f}x")


if __name__ == "__main__":
    main()
