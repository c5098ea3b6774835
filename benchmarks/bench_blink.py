"""Benchmark the PSF from blinking movies: speed against the FFT floor, peak memory, accuracy, smlmLP.

* Speed: uint16 movies of 128² (10,000 frames) and 512² (1,000 frames); frames/s of
  ``blink_psf`` and of its floor, one ``rfft2`` per frame (with the conversion to float32, in the
  same chunks, all cores), timed in the same run (best of 3, interleaved).
* Memory: a 20,000 x 256² uint16 movie (2.6 GB) memory-mapped from disk, analysed in a fresh
  process; its peak resident memory (VmHWM, which counts the mapped file pages it holds) with and
  without the release of the pages already read.
* Accuracy: simulated movies with a known PSF (``core.simulate.blinking_movie``): σ 0.8 to 3 px,
  uniform and dense filament labelling, anisotropic (2, 1) px at 30°; errors of σx, σy (%), θ (°)
  and the on-time (%), for the temporal mean (default) and the clipped median (smlmLP's background).
* Real data (#25): what a camera and a sample add, each with the default and the alternative: fields that
  do not blink to their edges (64² and 128², emitters 2 σ inside the border), with and without the field
  weight of the model (without: the previous estimator); sCMOS row noise (default "auto" against the zero
  lag alone); a non-uniform background that bleaches ("auto", the temporal mean, a moving mean).
* Fitting cost: 4,000 and 16,000 frames of 128² Poisson noise (no PSF), the time of the whole run and of its
  fits (which do not depend on the movie's length).
* Peer: with ``--smlmlp PYTHON`` (a Python >= 3.12 environment with ``pip install smlmLP``, never a
  dependency of this project), ``smlmlp.blink_spatial_psf`` runs on the same movies (saved as .npy)
  in that interpreter: its σx, σy, θ and time.

Run: ``python benchmarks/bench_blink.py [--smlmlp /path/to/python] [--skip-memory]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.fft
from bench_fsc import best_time

from napari_resolution.core import blink
from napari_resolution.core.blink import CHUNK_PIXELS, blink_psf
from napari_resolution.core.simulate import blinking_movie

MEMORY_SHAPE = (20_000, 256, 256)

#: Run in a fresh interpreter: analyse a memory-mapped movie, print frames/s and peak RSS (MB). The peak is
#: VmHWM of /proc/self/status: ru_maxrss would carry the parent's peak across exec (Linux keeps it).
MEMORY_SCRIPT = """
import sys, time, warnings
import numpy as np
from napari_resolution.core import blink
if sys.argv[2] == "keep-pages":
    blink._release = lambda movie: None
movie = np.load(sys.argv[1], mmap_mode="r")
start = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    result = blink.blink_psf(movie)
elapsed = time.perf_counter() - start
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM")).split()[1]
print(movie.shape[0] / elapsed, int(peak) / 1024, result.sigma)
"""

#: Run with smlmLP's interpreter: its PSF widths of each .npy movie (pixels) and the time.
SMLMLP_SCRIPT = """
import json, sys, time, warnings
import numpy as np
warnings.simplefilter("ignore")
from smlmlp import blink_spatial_psf
for path in sys.argv[1:]:
    movie = np.load(path)
    blink_spatial_psf([movie[:50]], crop_pix=41, channels_pixels_nm=1.0)  # compile / warm up
    start = time.perf_counter()
    _, info = blink_spatial_psf([movie], crop_pix=41, channels_pixels_nm=1.0)
    elapsed = time.perf_counter() - start
    print(json.dumps({"path": path, "sigx": float(info["sigx"][0]), "sigy": float(info["sigy"][0]),
                      "theta": float(info["theta"][0]), "seconds": elapsed}))
"""

#: (name, simulator options): 3000 frames of 64², about 20 emitters on per frame unless stated.
CASES = [
    *((f"uniform σ {s:g}", {"sigma": s}) for s in (0.8, 1.0, 1.5, 2.0, 3.0)),
    ("uniform σ 1.5, 2 per frame", {"sigma": 1.5, "n_emitters": 100, "shape": (6000, 64, 64)}),
    ("uniform σ 1.5, 50 per frame", {"sigma": 1.5, "n_emitters": 2550}),
    *((f"filaments σ {s:g}, 40 per frame", {"sigma": s, "structure": "filaments", "n_emitters": 5000,
                                             "on_probability": 0.002}) for s in (1.5, 2.0, 3.0)),
    ("anisotropic (2, 1) at 30°", {"sigma": (2.0, 1.0), "theta": 30.0}),
]



#: (name, simulator options, [(label, blink_psf options)]): movies with what real data add (#25).
REAL_CASES = [
    *((f"{side}² σ {sigma:g}, emitters 2σ inside", {"shape": (3000, side, side), "sigma": sigma,
                                                      "margin": -2 * sigma, "n_emitters": side * side // 4},
       [("default", {}), ("no field weight", {"field_weight": False})])
      for side in (64, 128) for sigma in (1.0, 2.5, 3.0)),
    ("row noise 4 ADU rms", {"sigma": 1.5, "row_noise": 4.0},
     [("default (auto)", {}), ("zero lag only", {"exclude_center": "pixel"})]),
    ("background 20 % rms bleaching 18 %", {"sigma": 1.5, "background": 200.0, "background_pattern": 0.2,
                                           "bleach_frames": 15000.0},
     [("default (auto)", {}), ("temporal mean", {"background": "mean"}),
      ("moving 200", {"background": ("moving", 200)})]),
]


def floor(movie: np.ndarray) -> None:
    """One rfft2 per frame (after the conversion to float32), in the chunks blink_psf uses."""
    chunk = max(1, CHUNK_PIXELS // (movie.shape[1] * movie.shape[2]))
    for start in range(0, movie.shape[0], chunk):
        scipy.fft.rfft2(movie[start:start + chunk].astype(np.float32), workers=-1)


def tiled_movie(side: int, frames: int, simulated: int) -> np.ndarray:
    """A uint16 blinking movie of ``frames`` frames: ``simulated`` simulated frames repeated."""
    block = blinking_movie((simulated, side, side), sigma=1.5, n_emitters=side * side // 16, seed=0).movie
    return np.concatenate([block] * -(-frames // simulated))[:frames]


def speed() -> None:
    print("speed (uint16 movies, frames/s; floor: one rfft2 per frame)")
    for side, frames, simulated in ((128, 10_000, 2000), (512, 1000, 200)):
        movie = tiled_movie(side, frames, simulated)
        ours, fft = [], []
        for _ in range(3):  # interleaved: the load of a shared machine changes both alike
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                ours.append(best_time(lambda movie=movie: blink_psf(movie), repeats=1))
            fft.append(best_time(lambda movie=movie: floor(movie), repeats=1))
        ours, fft = min(ours), min(fft)
        print(f"  {side}² x {frames}: {frames / ours:8.0f} frames/s   floor {frames / fft:8.0f} frames/s   "
              f"ratio {ours / fft:.2f}")


def memory(folder: Path) -> None:
    path = folder / "movie_20000x256x256.npy"
    movie = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint16, shape=MEMORY_SHAPE)
    block = blinking_movie((1000, 256, 256), sigma=1.5, n_emitters=4000, seed=0).movie
    for start in range(0, MEMORY_SHAPE[0], block.shape[0]):
        movie[start:start + block.shape[0]] = block
    movie.flush()
    del movie
    print(f"memory: {MEMORY_SHAPE} uint16 memmap ({path.stat().st_size / 1e9:.1f} GB), fresh process")
    for mode in ("release-pages", "keep-pages"):
        output = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(path), mode], capture_output=True,
                                text=True, check=True).stdout.split()
        rate, peak, sigma = (float(value) for value in output)
        print(f"  {mode:14s} {rate:7.0f} frames/s   peak RSS {peak:7.0f} MB   σ {sigma:.3f} px")


def simulate_cases(folder: Path) -> list:
    cases = []
    for index, (name, options) in enumerate(CASES):
        options = dict(options)
        shape = options.pop("shape", (3000, 64, 64))
        simulated = blinking_movie(shape, **{"n_emitters": 1000, "seed": 100 + index, **options})
        path = folder / f"case{index}.npy"
        np.save(path, simulated.movie)
        cases.append((name, simulated, path))
    return cases


def errors(sigma_x, sigma_y, theta, truth) -> str:
    """σx, σy errors (%) and θ error (°, when the PSF is anisotropic) as table cells."""
    cells = [f"{100 * (sigma_x / truth['sigma_x'] - 1):+6.1f}", f"{100 * (sigma_y / truth['sigma_y'] - 1):+6.1f}"]
    anisotropic = truth["sigma_x"] > 1.2 * truth["sigma_y"]
    cells.append(f"{(theta - truth['theta'] + 90) % 180 - 90:+5.1f}" if anisotropic else "    -")
    return " | ".join(cells)


def smlmlp_results(python: str, cases) -> dict:
    """smlmLP's σx, σy, θ (converted to our convention) and time per case, from its own interpreter."""
    output = subprocess.run([python, "-c", SMLMLP_SCRIPT, *(str(path) for _, _, path in cases)],
                            capture_output=True, text=True, check=True).stdout
    found = {}
    for line in output.splitlines():
        row = json.loads(line)
        major, minor = max(row["sigx"], row["sigy"]), min(row["sigx"], row["sigy"])
        # smlmLP's sigy runs at theta + 90 degrees with y pointing the other way (checked on the anisotropic case)
        direction = row["theta"] + (90.0 if row["sigy"] > row["sigx"] else 0.0)
        found[row["path"]] = (major, minor, (-direction) % 180, row["seconds"])
    return found


def accuracy(folder: Path, smlmlp: str | None) -> None:
    cases = simulate_cases(folder)
    peer = smlmlp_results(smlmlp, cases) if smlmlp else {}
    print("accuracy: errors of σx, σy (%) and θ (°); on-time (%); time (s) — ours mean | ours median-clip"
          + (" | smlmLP" if peer else ""))
    for name, simulated, path in cases:
        truth = simulated.truth
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            start = time.perf_counter()
            mean = blink_psf(simulated.movie)
            seconds = time.perf_counter() - start
            clipped = blink_psf(simulated.movie, background="median-clip")
        on_time = "  n/a" if mean.on_time is None else f"{100 * (mean.on_time / truth['on_time'] - 1):+5.1f}"
        row = (f"  {name:34s} | {errors(mean.sigma_x, mean.sigma_y, mean.theta, truth)} | on {on_time} | "
               f"{seconds:5.2f} s || {errors(clipped.sigma_x, clipped.sigma_y, clipped.theta, truth)}")
        if str(path) in peer:
            major, minor, theta, peer_seconds = peer[str(path)]
            row += f" || {errors(major, minor, theta, truth)} | {peer_seconds:5.2f} s"
        print(row)


def uniform_field(sums, crop, mode):
    """The previous estimator's model: every pair of the field carries the same blinking."""
    return np.ones((crop, crop))


def real_data() -> None:
    print("real data: errors of σx, σy (%), σ (%) ± its error; the warnings each run gave")
    for index, (name, options, runs) in enumerate(REAL_CASES):
        options = dict(options)
        shape = options.pop("shape", (3000, 64, 64))
        simulated = blinking_movie(shape, **{"n_emitters": 1000, "seed": 200 + index, **options})
        for label, kwargs in runs:
            kwargs = dict(kwargs)
            weight = blink._field_weight
            if not kwargs.pop("field_weight", True):
                blink._field_weight = uniform_field
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    result = blink_psf(simulated.movie, **kwargs)
            finally:
                blink._field_weight = weight
            error = "unresolved" if result.sigma is None else \
                f"{errors(result.sigma_x, result.sigma_y, result.theta, simulated.truth)} | σ " \
                f"{100 * (result.sigma / simulated.truth['sigma'] - 1):+5.1f} ± " \
                f"{100 * result.sigma_error / simulated.truth['sigma']:.1f}"
            notes = "; ".join(str(note.message)[:50] for note in caught) or "-"
            print(f"  {name:36s} {label:16s} {error}   {notes}")


def fitting() -> None:
    """Time of blink_psf on Poisson noise and of its fits (the spatial ones and the on-time's)."""
    spent = []

    def timed(function):
        def run(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent.append(time.perf_counter() - start)
        return run

    originals = {name: getattr(blink, name) for name in ("_background_fit", "_fit_without", "_fit_temporal")}
    rng = np.random.default_rng(0)
    try:
        for name, function in originals.items():
            setattr(blink, name, timed(function))
        for frames in (4000, 16000):
            movie = rng.poisson(100.0, (frames, 128, 128)).astype(np.uint16)
            totals, fits = [], []
            for _ in range(3):
                spent.clear()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    totals.append(best_time(lambda movie=movie: blink_psf(movie), repeats=1))
                fits.append(sum(spent))
            print(f"fitting: {frames} frames of 128² noise: {min(totals):.2f} s in all, fits {min(fits):.3f} s")
    finally:
        for name, function in originals.items():
            setattr(blink, name, function)


def peer_speed(folder: Path, python: str) -> None:
    """Frames/s of smlmLP and of blink_psf on one 128² x 2000 uint16 movie."""
    movie = tiled_movie(128, 2000, 2000)
    path = folder / "speed128.npy"
    np.save(path, movie)
    row = json.loads(subprocess.run([python, "-c", SMLMLP_SCRIPT, str(path)], capture_output=True, text=True,
                                    check=True).stdout)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ours = best_time(lambda: blink_psf(movie))
    print(f"peer speed, 128² x 2000: smlmLP {2000 / row['seconds']:.0f} frames/s, blink_psf {2000 / ours:.0f} "
          f"frames/s ({row['seconds'] / ours:.0f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smlmlp", help="a Python interpreter that has smlmLP (compared on the same movies)")
    parser.add_argument("--skip-memory", action="store_true", help="skip the 2.6 GB memory-mapped movie")
    args = parser.parse_args()
    print(f"CPU cores: {len(os.sched_getaffinity(0))}")
    speed()
    fitting()
    real_data()
    with tempfile.TemporaryDirectory() as folder:
        if not args.skip_memory:
            memory(Path(folder))
        accuracy(Path(folder), args.smlmlp)
        if args.smlmlp:
            peer_speed(Path(folder), args.smlmlp)


if __name__ == "__main__":
    main()
