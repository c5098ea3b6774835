"""Benchmark split-dataset tomography: the whole estimator against serial scikit-image ``iradon``.

Data: a projection stack of 64 rows, 512-pixel detector, 720 angles over [0, 180) (a Shepp–Logan
head repeated along the rows, Poisson noise at 10^4 photons per ray). Each half has 360 angles, fewer
than pi/2 * 512 = 804: the estimator warns of angular undersampling (expected here; it is a timing case).

Printed:
* the wall time of ``tomography_frc`` (split, two reconstructions of 64 slices, FSC);
* the FBP alone (:func:`filtered_back_projection` of both halves) and the estimator's ratio to it;
* serial scikit-image ``iradon`` on the same halves, slice by slice (the target: the estimator >= 3x
  faster), timed on ``--skimage-slices`` slices per half and scaled to 64 (default: all of them);
* ASTRA Toolbox's CPU FBP on the same halves, serial, when ``astra`` imports (PyPI ``astra-toolbox``,
  not a dependency);
* the largest difference between our FBP and ``iradon`` inside the reconstruction circle.

Run: ``python benchmarks/bench_tomography.py [--skimage-slices 8]``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from bench_fsc import best_time
from skimage.transform import iradon

from napari_resolution import tomography_frc
from napari_resolution.core.simulate import tomography_sinogram
from napari_resolution.core.tomography import filtered_back_projection, split_dataset

ROWS, DETECTOR, ANGLES = 64, 512, 720



def halves(stack, theta):
    """The two half stacks as (rows, angles, detector), and their angles."""
    first, second, theta1, theta2 = split_dataset(stack, theta)
    return [(np.ascontiguousarray(h.transpose(1, 0, 2)), t) for h, t in ((first, theta1), (second, theta2))]


def skimage_serial(parts, n_slices: int) -> float:
    """Seconds for serial ``iradon`` of ``n_slices`` slices of each half."""
    start = time.perf_counter()
    for stack, theta in parts:
        for row in stack[:n_slices]:
            iradon(row.T.astype(np.float64), theta, filter_name="ramp", circle=True)
    return time.perf_counter() - start


def astra_serial(parts) -> float | None:
    """Seconds for ASTRA's CPU FBP (linear projector, Ram-Lak) of every slice of each half, or None."""
    try:
        import astra
    except ImportError:
        return None
    start = time.perf_counter()
    for stack, theta in parts:
        volume = astra.create_vol_geom(DETECTOR, DETECTOR)
        projection = astra.create_proj_geom("parallel", 1.0, DETECTOR, np.deg2rad(theta))
        projector = astra.create_projector("linear", projection, volume)
        for row in stack:
            sinogram = astra.data2d.create("-sino", projection, row.astype(np.float32))
            out = astra.data2d.create("-vol", volume)
            config = astra.astra_dict("FBP")
            config.update(ReconstructionDataId=out, ProjectionDataId=sinogram, ProjectorId=projector)
            algorithm = astra.algorithm.create(config)
            astra.algorithm.run(algorithm)
            astra.data2d.get(out)
            astra.algorithm.delete(algorithm)
            astra.data2d.delete([sinogram, out])
        astra.projector.delete(projector)
    return time.perf_counter() - start


def agreement(parts) -> float:
    """Largest |ours - iradon| inside the circle (2 px from its rim), relative to iradon's largest value."""
    stack, theta = parts[0]
    ours, _ = filtered_back_projection(stack[:1], theta)
    reference = iradon(stack[0].T.astype(np.float64), theta, filter_name="ramp", circle=True)
    inner = np.hypot(*(np.mgrid[:DETECTOR, :DETECTOR] - DETECTOR // 2)) < DETECTOR // 2 - 2
    return float(np.abs(ours[0] - reference)[inner].max() / np.abs(reference).max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skimage-slices", type=int, default=ROWS,
                        help=f"slices per half timed with iradon, scaled to {ROWS} (default all)")
    args = parser.parse_args()
    theta = np.linspace(0, 180, ANGLES, endpoint=False)
    stack = tomography_sinogram(DETECTOR, theta, phantom="shepp-logan", dose=1e4, rows=ROWS, seed=0).sinogram
    parts = halves(stack, theta)
    print(f"stack (angles, rows, detector) = {stack.shape}, {ANGLES // 2} angles per half")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # angular undersampling: expected for this case
        result = tomography_frc(stack, theta)  # warm-up (compiles the kernel on a first run)
        ours = best_time(lambda: tomography_frc(stack, theta))
    fbp = best_time(lambda: [filtered_back_projection(s, t) for s, t in parts])
    print(f"tomography_frc: {ours:7.2f} s   ({result.parameters['path']}; {result.summary()})")
    print(f"FBP alone     : {fbp:7.2f} s   -> estimator / FBP = {ours / fbp:.2f}")
    n = max(1, min(args.skimage_slices, ROWS))
    serial = skimage_serial(parts, n) * ROWS / n
    scaled = "" if n == ROWS else f" (timed on {n} slices per half, scaled)"
    print(f"skimage iradon, serial: {serial:7.2f} s{scaled}   -> speed-up {serial / ours:.1f}x (target >= 3x)")
    astra = astra_serial(parts)
    if astra is None:
        print("ASTRA Toolbox: not importable (pip install astra-toolbox)")
    else:
        print(f"ASTRA CPU FBP, serial : {astra:7.2f} s   -> speed-up {astra / ours:.1f}x")
    print(f"ours vs iradon, one slice: max |difference| inside the circle = {agreement(parts):.1e} of its peak")


if __name__ == "__main__":
    main()
