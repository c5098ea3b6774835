"""Split-dataset tomography on what real tilt series do: the measurements behind docs/tomography.md.

``--part weighting``: uniform against gap-weighted projections on simulated tilt series with a missing
wedge (and two unevenly spaced sets), against scikit-image ``iradon``. 128-px slices, Shepp-Logan and
the random phantom, Poisson noise at 10^4 and 300 photons per ray, 3 seeds each. Printed per case and
weighting (means over the seeds; "uniform / gaps" in each cell):
* ``r truth``: Pearson correlation of the reconstruction from all the projections with the phantom,
  inside the circle (6 px from its rim);
* ``FRC truth``: where the FRC of that reconstruction with the phantom falls below 0.5 (cycles/pixel;
  "-" when it never does), inside the estimator's soft disc (8-px raised-cosine edge at the circle);
* ``even/odd``: the crossing of :func:`tomography_frc` (half-bit, cycles/pixel);
* ``r with iradon``: Pearson correlation of the gap-weighted reconstruction with scikit-image ``iradon``
  of the same projections; then the largest difference between "uniform" and ``iradon`` over all cases.

``--part axis``: how reliably :func:`detect_tilt_axis` finds the tilt axis: both phantoms, three angle
sets (full, ±60°, ±76°), noise-free and 300, 30, 10 photons per ray, 8 and 48 rows, each stored with
the tilt axis along y and along x; then perturbed series (exposure changes, a slab's 1/cos
thickening, misalignment, the axis rotated in the plane, a slab wider than the field). Prints the
right / wrong / undecided counts and the smallest evidence (how many times more the profiles change
across the right axis than along it), and the detection's time against :func:`tomography_frc`.

Run: ``python benchmarks/bench_tomography_real.py [--part weighting|axis]`` (about a minute each on 2 cores).
"""

from __future__ import annotations

import argparse
import itertools
import time
import warnings

import numpy as np
from scipy import ndimage
from skimage.transform import iradon, radon

from napari_resolution import fourier_correlation, tomography_frc
from napari_resolution.core.masks import raised_cosine_mask
from napari_resolution.core.simulate import tomography_sinogram
from napari_resolution.core.tomography import detect_tilt_axis

SIZE, SEEDS = 128, 3


def saxton(limit: float, step: float) -> np.ndarray:
    """Saxton's scheme: steps of ``step * cos(angle)`` from 0 up to ±``limit`` degrees."""
    angles = [0.0]
    while angles[-1] + step * np.cos(np.deg2rad(angles[-1])) <= limit:
        angles.append(angles[-1] + step * np.cos(np.deg2rad(angles[-1])))
    half = np.array(angles)
    return np.r_[-half[:0:-1], half]


WEDGES = {
    "±60° by 1°": np.arange(-60, 60.5, 1.0),
    "±76° by 2°": np.arange(-76, 76.5, 2.0),
    "±60° by 3°": np.arange(-60, 60.5, 3.0),
    "Saxton ±70° (2°)": saxton(70, 2.0),
    "0–90° by 0.375°, 90–180° by 1.5°": np.r_[np.linspace(0, 90, 240, endpoint=False),
                                             np.linspace(90, 180, 60, endpoint=False)],
}


def _pearson(a: np.ndarray, b: np.ndarray, inside: np.ndarray) -> float:
    a, b = a[inside] - a[inside].mean(), b[inside] - b[inside].mean()
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))


def weighting_table() -> None:
    """The weighting measurement (see the module docstring)."""
    from napari_resolution.core.tomography import filtered_back_projection

    inside = np.hypot(*(np.mgrid[:SIZE, :SIZE] - SIZE // 2)) < SIZE // 2 - 6
    mask = raised_cosine_mask((SIZE, SIZE), SIZE // 2 - 8, SIZE // 2)  # the estimator's soft disc
    tomography_frc(*_one_slice())  # warm-up (compiles the kernel)
    print("| angles | phantom | dose | r truth: uniform / gaps | FRC truth 0.5: uniform / gaps | "
          "even/odd: uniform / gaps | r with iradon: gaps |")
    print("|---|---|---|---|---|---|---|")
    farthest = 0.0  # uniform against iradon: the largest difference of r truth or FRC truth over all cases
    for (name, theta), phantom, dose in itertools.product(WEDGES.items(), ("shepp-logan", "random"), (1e4, 300)):
        rows = {"uniform": [], "gaps": [], "iradon": []}
        for seed in range(SEEDS):
            sim = tomography_sinogram(SIZE, theta, phantom=phantom, dose=dose, seed=seed)
            reference = iradon(sim.sinogram.astype(np.float64), theta)
            for weighting in ("uniform", "gaps"):
                recon = filtered_back_projection(sim.sinogram.T[None], theta, weighting=weighting)[0][0]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # wedge, undersampling: expected here
                    split = tomography_frc(sim.sinogram, theta, weighting=weighting)
                truth = fourier_correlation(recon, sim.phantom, threshold=0.5, mask=mask)
                rows[weighting].append((_pearson(recon, sim.phantom, inside), truth.crossing, split.crossing,
                                        _pearson(recon, reference, inside)))
            truth = fourier_correlation(reference, sim.phantom, threshold=0.5, mask=mask)
            rows["iradon"].append((_pearson(reference, sim.phantom, inside), truth.crossing, None, 1.0))
        means = {weighting: [_mean([v[i] for v in values]) for i in range(4)] for weighting, values in rows.items()}
        uniform, gaps, peer = means["uniform"], means["gaps"], means["iradon"]
        differences = [abs(a - b) for a, b in zip(uniform[:2], peer[:2]) if a is not None and b is not None]
        farthest = max(farthest, *differences)
        cells = [f"{_shown(uniform[i])} / {_shown(gaps[i])}" for i in range(3)]
        print(f"| {name} | {'S-L' if phantom == 'shepp-logan' else phantom} | {dose:g} | {' | '.join(cells)} | "
              f"{_shown(gaps[3])} |")
    print(f"uniform against iradon: r truth and FRC truth within {farthest:.1e} in every case")


def _mean(values: list):
    """The mean, or None when a value is (no crossing)."""
    return None if any(value is None for value in values) else float(np.mean(values))


def _shown(value) -> str:
    return "–" if value is None else f"{value:.4f}"


def _one_slice():
    sim = tomography_sinogram(64, phantom="random", dose=300, seed=0)
    return sim.sinogram, sim.theta


def _extended_slab(theta: np.ndarray, rng, particles: bool) -> np.ndarray:
    """Projections (angles, 16 rows, 64) of a slab three times wider than the field, the tilt axis along y."""
    rows, width, field = 16, 192, 64
    volume = ndimage.gaussian_filter(rng.standard_normal((rows, width, width)), 1.5)
    depth = np.abs(np.arange(width) - width // 2)[:, None] < 10
    volume = (1 + 0.5 * volume / volume.std()) * depth
    if particles:
        yy, xx = np.mgrid[:width, :width]
        for _ in range(20):
            z, x, r = rng.integers(-8, 8), rng.integers(width // 2 - 40, width // 2 + 40), rng.integers(0, rows)
            volume[max(0, r - 2):r + 3] += 3 * (np.hypot(yy - width // 2 - z, xx - x) < 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # radon: the slab reaches beyond the circle, as it does
        projections = np.stack([radon(plane, theta, circle=True).T for plane in volume], axis=1)
    middle = width // 2
    projections = projections[:, :, middle - field // 2:middle + field // 2]
    return projections / projections.max() * 2


def _perturbed(stack: np.ndarray, theta: np.ndarray, kind: str, rng) -> np.ndarray:
    """A stack (tilt axis along y) with what real series add."""
    if kind == "exposure ±10 %":
        return stack * (1 + 0.1 * rng.standard_normal(theta.size))[:, None, None]
    if kind == "slab offset 0.3/cos":
        return stack + (0.3 / np.cos(np.deg2rad(theta)))[:, None, None]
    if kind == "misaligned (1 px rms)":
        return np.stack([ndimage.shift(p, rng.normal(0, 1.0, 2), order=1, mode="nearest") for p in stack])
    angle = float(kind.split()[1].rstrip("°"))  # "axis 10° off y"
    return ndimage.rotate(stack, angle, axes=(1, 2), reshape=False, order=1, mode="nearest")


def axis_table() -> None:
    """The tilt-axis detection's reliability and cost (see the module docstring)."""
    rng = np.random.default_rng(0)
    angle_sets = {"0–180° (160)": np.linspace(0, 180, 160, endpoint=False), "±60° by 2°": np.arange(-60, 60.5, 2.0),
                  "±76° by 2°": np.arange(-76, 76.5, 2.0)}
    tally = {"right": 0, "wrong": 0, "undecided": 0}
    weakest = (np.inf, "")
    print("clean series: both phantoms x 3 angle sets x 4 doses x 2 row counts x 2 orientations")
    for phantom, (name, theta), dose, rows in itertools.product(("shepp-logan", "random"), angle_sets.items(),
                                                              (None, 300, 30, 10), (8, 48)):
        sim = tomography_sinogram(48, theta, phantom=phantom, dose=dose, rows=rows, seed=1)
        for truth, stack in (("y", sim.sinogram), ("x", np.swapaxes(sim.sinogram, 1, 2))):
            found = detect_tilt_axis(stack)
            outcome = ("undecided" if found["tilt_axis_from"] == "assumed"
                       else "right" if found["tilt_axis"] == truth else "wrong")
            tally[outcome] += 1
            evidence = _evidence(found, truth)
            if evidence < weakest[0]:
                weakest = (evidence, f"{phantom}, {name}, dose {dose}, {rows} rows, along {truth}")
    print(f"  {tally}; weakest evidence {weakest[0]:.3g} ({weakest[1]})")
    print("perturbed series (48 px, 16 rows, ±60° by 2°, dose 100), tilt axis along y:")
    theta = np.arange(-60, 60.5, 2.0)
    for phantom in ("shepp-logan", "random"):
        stack = tomography_sinogram(48, theta, phantom=phantom, dose=100, rows=16, seed=2).sinogram.astype(np.float64)
        for kind in ("exposure ±10 %", "slab offset 0.3/cos", "misaligned (1 px rms)", "axis 5° off y",
                     "axis 10° off y", "axis 20° off y"):
            found = detect_tilt_axis(_perturbed(stack, theta, kind, rng))
            print(f"  {phantom:12s} {kind:24s} -> {found['tilt_axis']} ({found['tilt_axis_from']}), "
                  f"evidence {_evidence(found, 'y'):.3g}")
    for particles in (False, True):
        clean = _extended_slab(np.arange(-60, 60.5, 3.0), rng, particles)
        noisy = -np.log(np.maximum(rng.poisson(100 * np.exp(-clean)), 0.5) / 100)
        for label, stack in (("noise-free", clean), ("dose 100", noisy)):
            found = detect_tilt_axis(stack)
            print(f"  slab 3x wider than the field{' + particles' if particles else ''}, {label}: "
                  f"{found['tilt_axis']} ({found['tilt_axis_from']}), evidence {_evidence(found, 'y'):.3g}")
    _cost()


def _evidence(found: dict, truth: str) -> float:
    """How many times more the profiles change across the true axis than along it."""
    variation = found["profile_variation"]
    other = "x" if truth == "y" else "y"
    return variation[other] / variation[truth] if variation[truth] > 0 else np.inf


def _cost() -> None:
    """The detection's and an in-plane rotation's time against the estimator, on bench_tomography's stack."""
    theta = np.linspace(0, 180, 720, endpoint=False)
    stack = tomography_sinogram(512, theta, phantom="shepp-logan", dose=1e4, rows=64, seed=0).sinogram
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # angular undersampling: expected for this case
        tomography_frc(stack[:, :8], theta)  # warm-up
        times = {"tomography_frc": [], "detect_tilt_axis": [], "tomography_frc(tilt_axis=5.0)": []}
        for _ in range(3):  # interleaved: the machine's noise hits all alike
            for name, call in (("tomography_frc", lambda: tomography_frc(stack, theta)),
                               ("detect_tilt_axis", lambda: detect_tilt_axis(stack)),
                               ("tomography_frc(tilt_axis=5.0)", lambda: tomography_frc(stack, theta, tilt_axis=5.0))):
                start = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - start)
    best = {name: min(values) for name, values in times.items()}
    base = best["tomography_frc"]
    print(f"cost on {stack.shape} (angles, rows, detector):")
    for name, seconds in best.items():
        print(f"  {name:32s} {seconds:7.3f} s   ({seconds / base:.1%} of tomography_frc)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("weighting", "axis"), help="one part only (default both)")
    args = parser.parse_args()
    if args.part in (None, "weighting"):
        weighting_table()
    if args.part in (None, "axis"):
        axis_table()


if __name__ == "__main__":
    main()
