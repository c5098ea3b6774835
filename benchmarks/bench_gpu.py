"""Benchmark the GPU path of the estimators against the GPU's FFT floor (the figures of docs/performance.md).

Cases (the issue's): FSC of a 512^3 float32 pair; local FSC of a 256^3 pair, box 32, step 4; PSF from a
blinking 512^2 movie (frames/s); tomography of a 64-row stack, 512-pixel detector, 720 angles.

* The inputs are moved to the device first (``cupy.asarray``); each call computes on it
  (``device="gpu"``) and the clock stops after ``cupy.cuda.Device().synchronize()``.
* floor: the FFTs no method can avoid, on the same device, timed interleaved with the estimator: the
  two ``rfftn`` of an FSC pair; one ``rfft2`` per frame (blink); the ``rfft`` of each half's filtered
  projections (tomography). The local FSC's floor is the FSC's (two rfftn of the inputs).
* ``--device cpu`` runs the same script on numpy (a dry run, and the CPU figures of the same cases).

Run on a machine with cupy and a CUDA GPU: ``python benchmarks/bench_gpu.py`` (``--quick``: smaller cases).
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from bench_fsc import interleaved_times

from napari_resolution import blink_psf, fourier_correlation, local_fsc, tomography_frc
from napari_resolution.core.backend import gpu_available
from napari_resolution.core.simulate import blinking_movie, phantom_pair, tomography_sinogram


class Device:
    """numpy or cupy, its FFTs, and a clock-safe synchronisation."""

    def __init__(self, name: str):
        if name == "gpu":
            import cupy
            import cupyx.scipy.fft as fft

            self.xp, self.fft, self.sync = cupy, fft, cupy.cuda.Device().synchronize
        else:
            import scipy.fft as fft

            self.xp, self.fft, self.sync = np, fft, lambda: None
        self.device = name

    def timed(self, functions, repeats: int = 3) -> list[float]:
        """Best wall time of each function, synchronised, interleaved."""
        def synchronised(function):
            def run():
                function()
                self.sync()
            return run

        for function in functions:  # warm-up: plans, kernels, memory pools
            synchronised(function)()
        return [min(times) for times in interleaved_times([synchronised(f) for f in functions], repeats)]


def fsc_case(device: Device, size: int) -> str:
    pair = phantom_pair((size,) * 3, sigma=2.0, noise=0.5, seed=0, dtype=np.float32)
    a, b = device.xp.asarray(pair.half1), device.xp.asarray(pair.half2)
    ours, floor = device.timed([lambda: fourier_correlation(a, b, device=device.device),
                                lambda: (device.fft.rfftn(a), device.fft.rfftn(b))])
    return f"FSC {size}^3 float32: {ours:.4f} s; floor (2 rfftn) {floor:.4f} s; ratio {ours / floor:.1f}x"


def local_fsc_case(device: Device, size: int, box: int = 32, step: int = 4) -> str:
    pair = phantom_pair((size,) * 3, sigma=2.0, noise=0.5, seed=0, dtype=np.float32)
    a, b = device.xp.asarray(pair.half1), device.xp.asarray(pair.half2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ours, floor = device.timed([lambda: local_fsc(a, b, box=box, step=step, device=device.device),
                                    lambda: (device.fft.rfftn(a), device.fft.rfftn(b))], repeats=2)
    return (f"local FSC {size}^3, box {box}, step {step}: {ours:.2f} s; floor (2 rfftn) {floor:.4f} s; "
            f"ratio {ours / floor:.0f}x")


def blink_case(device: Device, size: int, frames: int) -> str:
    movie = blinking_movie((frames, size, size), sigma=1.5, n_emitters=20 * frames, seed=0).movie
    on_device = device.xp.asarray(movie)
    frames_float = device.xp.asarray(movie, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ours, floor = device.timed([lambda: blink_psf(on_device, device=device.device),
                                    lambda: device.fft.rfftn(frames_float, axes=(1, 2))])
    return (f"blink PSF {frames} x {size}^2 uint16: {frames / ours:,.0f} frames/s; floor (rfft2 per frame) "
            f"{frames / floor:,.0f} frames/s; ratio {ours / floor:.1f}x")


def tomography_case(device: Device, rows: int, detector: int, angles: int) -> str:
    simulated = tomography_sinogram(detector, np.linspace(0, 180, angles, endpoint=False), phantom="random",
                                    rows=rows, seed=0)
    stack = device.xp.asarray(simulated.sinogram)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ours, floor = device.timed([lambda: tomography_frc(stack, simulated.theta, device=device.device),
                                    lambda: device.fft.rfft(stack, n=2 * detector, axis=-1)], repeats=2)
    return (f"tomography {rows} rows x {detector} px x {angles} angles: {ours:.2f} s; floor (rfft of the "
            f"projections) {floor:.4f} s; ratio {ours / floor:.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("gpu", "cpu"), default="gpu")
    parser.add_argument("--quick", action="store_true", help="smaller cases (a dry run)")
    args = parser.parse_args()
    if args.device == "gpu" and not gpu_available():
        raise SystemExit("bench_gpu.py needs cupy and a CUDA GPU (or --device cpu for a dry run)")
    device = Device(args.device)
    quick = args.quick
    print(f"device {args.device}")
    print(fsc_case(device, 128 if quick else 512))
    print(local_fsc_case(device, 64 if quick else 256, box=16 if quick else 32, step=4))
    print(blink_case(device, 128 if quick else 512, 200 if quick else 2000))
    print(tomography_case(device, 8 if quick else 64, 128 if quick else 512, 180 if quick else 720))


if __name__ == "__main__":
    main()
