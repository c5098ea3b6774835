"""Benchmark decorrelation analysis: speed against the FFT floor, agreement with NanoPyx.

Images (known answers where possible):
* band-limited white noise, hard cut-off at 0.10 / 0.20 / 0.30 cycles/pixel (512^2);
* a microscopy-like image: random point emitters blurred by a Gaussian PSF (sigma 2 px),
  Poisson photon noise (512^2);
* for speed: a 2048^2 image and a stack of 32 frames of 512^2; the resolution interval
  (``confidence=0.95``: 50 noise resamples) against the analysis alone and the FFT floor.

Peer: NanoPyx's ``calculate_decorr_analysis`` (PyPI ``nanopyx``, not a dependency; run this
script in an environment that has it). Floor: one real FFT of the image (what the method
cannot avoid), timed in the same run.

Run: ``python benchmarks/bench_decorrelation.py``.
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np
import scipy.fft
from bench_fsc import best_time
from scipy import ndimage

from napari_resolution.core.decorrelation import decorrelation
from napari_resolution.core.simulate import band_limited_noise


def emitters_image(shape=(512, 512), sigma: float = 2.0, photons: float = 200.0, seed: int = 0) -> np.ndarray:
    """Random point emitters blurred by a Gaussian PSF, with Poisson noise and a background."""
    rng = np.random.default_rng(seed)
    points = np.zeros(shape)
    points[rng.integers(0, shape[0], 3000), rng.integers(0, shape[1], 3000)] = photons
    return rng.poisson(ndimage.gaussian_filter(points, sigma) + 5.0).astype(np.float64)


def nanopyx_resolution(image):
    """NanoPyx's resolution (pixels) and time, or None if NanoPyx is not importable."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from nanopyx import calculate_decorr_analysis
    except ImportError:
        return None
    calculate_decorr_analysis(image.astype(np.float32))  # warm-up
    start = time.perf_counter()
    resolution = calculate_decorr_analysis(image.astype(np.float32), pixel_size=1)
    return float(resolution), time.perf_counter() - start


def agreement() -> None:
    cases = [(f"band-limited noise, cut-off {c:.2f}", band_limited_noise((512, 512), c, seed=1), 1 / c)
             for c in (0.10, 0.20, 0.30)]
    cases.append(("emitters, Gaussian PSF sigma 2 px, Poisson", emitters_image(), None))
    print(f"{'image':46s} {'truth':>8s} {'ours':>8s} {'NanoPyx':>8s} {'diff':>7s}   (resolution, pixels, full period)")
    for label, image, truth in cases:
        ours = decorrelation(image).resolution
        peer = nanopyx_resolution(image)
        peer_text = "n/a" if peer is None else f"{peer[0]:8.3f}"
        diff = "" if peer is None or ours is None else f"{100 * (ours / peer[0] - 1):+6.1f}%"
        truth_text = "" if truth is None else f"{truth:8.3f}"
        ours_text = "no peak" if ours is None else f"{ours:8.3f}"
        print(f"{label:46s} {truth_text:>8s} {ours_text:>8s} {peer_text:>8s} {diff:>7s}")


def speed() -> None:
    for label, image in (("2048^2 image", emitters_image((2048, 2048))),
                         ("512^2 image", emitters_image())):
        decorrelation(image)
        ours = best_time(lambda image=image: decorrelation(image))
        floor = best_time(lambda image=image: scipy.fft.rfft2(image, workers=os.cpu_count()))
        peer = nanopyx_resolution(image)
        peer_text = "" if peer is None else f"; NanoPyx {peer[1]:.3f} s ({peer[1] / ours:.1f}x ours)"
        print(f"{label}: {ours:.3f} s, {ours / floor:.1f}x one rfft2 ({floor * 1000:.1f} ms){peer_text}")
    stack = np.stack([emitters_image(seed=i) for i in range(32)])
    decorrelation(stack)
    batched = best_time(lambda: decorrelation(stack), repeats=3)
    one = best_time(lambda: decorrelation(stack[0]), repeats=3)
    print(f"stack of 32 x 512^2 frames: {batched:.3f} s batched ({batched / 32 * 1000:.1f} ms per frame; "
          f"one frame alone {one * 1000:.1f} ms)")


def interval_speed() -> None:
    """The resolution interval's cost: 50 resamples, each an analysis of the image's spectrum (no FFT)."""
    for size in (256, 512, 1024):
        signal = band_limited_noise((size, size), 0.2, seed=0)  # resolved (sparse emitters read a bound: no interval)
        image = signal + signal.std() * np.random.default_rng(1).standard_normal(signal.shape)
        assert decorrelation(image, confidence=0.95, seed=0).resolution_interval is not None
        alone = best_time(lambda image=image: decorrelation(image))
        with_interval = best_time(lambda image=image: decorrelation(image, confidence=0.95, seed=0), repeats=3)
        floor = best_time(lambda image=image: scipy.fft.rfft2(image, workers=os.cpu_count()))
        print(f"interval, {size}^2: {with_interval:.3f} s, {with_interval / alone:.1f}x the analysis alone "
              f"({alone * 1000:.1f} ms), {with_interval / floor:.0f}x one rfft2")


if __name__ == "__main__":
    print(f"{os.cpu_count()} CPU cores")
    agreement()
    speed()
    interval_speed()
