"""Benchmark the cryo-EM forward model: 10,000 particles of 64² projected and back-projected, against 30 s.

Cases (a 64³ model volume, uniform rotations, a CTF per particle, defocus 1-2 µm at 2 Å):

* ``64²``: central slices of 64² (cubic B-spline, and trilinear) from the 2x-padded spectrum, times their CTF,
  back-projected with it into the padded accumulators and reconstructed (Wiener): the issue's target, < 30 s;
* ``128²``: the same with the images spanning the padded field (128², what :func:`particle_half_maps` records
  and back-projects: four times the pixels), for reference;
* ``simulate``: :func:`particle_half_maps` of 10,000 particles (two channels back-projected, noisy and noise-free,
  the noise, the expected FSC) with ``--simulate``.

Each time is the best of ``--repeats`` runs (wall, and the process's CPU time); the kernels are compiled (or
loaded from numba's cache) before timing. Printed with the thread count numba uses: on a shared machine, say
what else was running.

Run: ``python benchmarks/bench_particles.py [--particles 10000] [--repeats 2] [--simulate]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from napari_resolution.core import kernels
from napari_resolution.core.ctf import evaluate_ctf
from napari_resolution.core.particles import (
    BackProjector,
    central_slices,
    model_volume,
    prepare_volume,
    random_rotations,
    wiener_regularization,
)
from napari_resolution.core.simulate import particle_half_maps

SIZE, PIXEL, TARGET = 64, 2.0, 30.0
#: Particles per batch: the slices and their CTFs of one batch are held at once.
BATCH = 1000


def forward_and_back(volume, rotations, defoci, interpolation: str, image_size: int) -> None:
    """Project every rotation, apply its CTF, back-project with it, reconstruct."""
    prepared = prepare_volume(volume, interpolation=interpolation)
    projector = BackProjector(SIZE)
    ky, kx = (np.fft.fftfreq(image_size) / PIXEL).astype(np.float32), (np.fft.rfftfreq(image_size) / PIXEL)
    for start in range(0, len(rotations), BATCH):
        part = slice(start, start + BATCH)
        ctf = evaluate_ctf(ky[:, None], kx[None, :].astype(np.float32), defocus_u=defoci[part])
        projector.add(central_slices(prepared, rotations[part], image_size=image_size) * ctf, rotations[part], ctf)
    projector.reconstruct(wiener_regularization(volume, 1.0))


def best(function, repeats: int, *args, **kwargs) -> tuple[float, float]:
    """Smallest wall time of ``function(*args, **kwargs)`` and the CPU time of that run, seconds."""
    runs = []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        function(*args, **kwargs)
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    return min(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--particles", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--simulate", action="store_true", help="also time particle_half_maps")
    args = parser.parse_args()
    volume = model_volume(SIZE, seed=0)
    rotations = random_rotations(args.particles, seed=1)
    defoci = np.random.default_rng(2).uniform(10000, 20000, args.particles)
    forward_and_back(volume, rotations[:8], defoci[:8], "cubic", SIZE)  # compile or load the kernels
    print(f"{args.particles} particles of {SIZE}², numba threads: {kernels.splat_chunks()}, "
          f"path: {'numba' if kernels.jit_enabled() else 'numpy'}")
    for image_size in (SIZE, 2 * SIZE):
        for interpolation in ("cubic", "linear"):
            wall, cpu = best(forward_and_back, args.repeats, volume, rotations, defoci, interpolation, image_size)
            print(f"  {image_size}² slices, {interpolation:6s}: {wall:6.2f} s wall ({cpu:6.2f} s CPU), "
                  f"{wall / TARGET:.2f} of the {TARGET:.0f} s target")
    if args.simulate:
        wall, cpu = best(particle_half_maps, 1, volume, args.particles, pixel_size=PIXEL, snr=0.05,
                         defocus_range=(10000, 20000), seed=0)
        print(f"  particle_half_maps: {wall:6.2f} s wall ({cpu:6.2f} s CPU)")


if __name__ == "__main__":
    main()
