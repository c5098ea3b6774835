"""Benchmark the local FSC against its floor and against a per-box Python loop (toupy's LocalFSC algorithm).

Cases: 256^3 float32 half-maps, box 32, step 8, threshold 0.143, no mask (24,389 boxes); a 2048^2
float32 pair, box 64, step 4 (247,009 boxes).

* floor: the two real FFTs of the whole inputs (scipy.fft.rfftn, all cores), timed in the same run.
* peer: toupy's LocalFSC algorithm, a Python loop over the boxes with one FSC per box (numpy FFTs,
  a boolean mask per shell), timed on the first 200 boxes of a 128^3 case and scaled to all of them.
* peak memory: the largest resident-memory increase during one call, in a fresh child process, as a
  multiple of one input's size.

Run: ``python benchmarks/bench_local_fsc.py [--quick]`` (``--quick``: 128^3 and 512^2).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy.fft
from bench_fsc import interleaved_times, memory_status

from napari_resolution import local_fsc
from napari_resolution.core.simulate import two_region_pair

PEER_BOXES = 200


def floor(a, b) -> None:
    """The two real FFTs of the whole inputs."""
    scipy.fft.rfftn(a, workers=os.cpu_count())
    scipy.fft.rfftn(b, workers=os.cpu_count())


def per_box_loop(a, b, box: int, step: int, limit: int) -> int:
    """Peer: toupy's LocalFSC algorithm on the first ``limit`` boxes; returns how many boxes there are in all."""
    starts = [np.arange(0, n - box + 1, step) for n in a.shape]
    grid = np.stack(np.meshgrid(*starts, indexing="ij"), axis=-1).reshape(-1, a.ndim)
    window = np.hanning(box)
    window = np.multiply.outer(np.multiply.outer(window, window), window) if a.ndim == 3 else np.outer(window, window)
    radius = np.sqrt(sum(np.meshgrid(*[np.fft.fftfreq(box) ** 2] * a.ndim, indexing="ij"))) * box
    shells = [np.abs(radius - k) < 0.5 for k in range(box // 2 + 1)]
    for start in grid[:limit]:
        where = tuple(slice(s, s + box) for s in start)
        f1, f2 = (np.fft.fftn((x[where] - x[where].mean()) * window) for x in (a, b))
        [np.real((f1[s] * np.conj(f2[s])).sum()) / np.sqrt((np.abs(f1[s]) ** 2).sum() * (np.abs(f2[s]) ** 2).sum())
         for s in shells]
    return len(grid)


def memory_probe(folder: str, box: int, step: int) -> None:
    """Child process: load the saved pair, print the peak RSS increase of one local FSC (bytes)."""
    a, b = (np.load(os.path.join(folder, f"{name}.npy")) for name in "ab")
    local_fsc(a[(slice(0, 32),) * a.ndim], b[(slice(0, 32),) * b.ndim], box=16)  # warm imports and kernels
    before = memory_status("VmRSS")
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    local_fsc(a, b, box=box, step=step, threshold="0.143")
    print(memory_status("VmHWM") - before)


def measured_peak(a, b, box: int, step: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        np.save(os.path.join(folder, "a.npy"), a)
        np.save(os.path.join(folder, "b.npy"), b)
        output = subprocess.run([sys.executable, __file__, "--memory-probe", folder, str(box), str(step)],
                                capture_output=True, text=True, check=True)
    return int(output.stdout.strip())


def run_case(shape, box: int, step: int) -> None:
    a, b, _ = two_region_pair(shape, seed=0)
    local_fsc(a[(slice(0, 32),) * a.ndim], b[(slice(0, 32),) * b.ndim], box=16)  # compile or load the kernels
    ours, floors = interleaved_times([lambda: local_fsc(a, b, box=box, step=step, threshold="0.143"),
                                      lambda: floor(a, b)], repeats=2)
    result = local_fsc(a, b, box=box, step=step, threshold="0.143")
    peak = measured_peak(a, b, box, step)
    targets = (" (target <= 100x)", "; target <= 6x") if a.ndim == 3 else ("", "")  # the targets are 3-D
    print(f"local FSC {shape} float32, box {box}, step {step}, {len(result.values)} boxes: {min(ours):.2f} s; "
          f"floor (2 rfftn) {min(floors):.3f} s; ratio {min(ours) / min(floors):.0f}x{targets[0]}; "
          f"peak memory {peak / a.nbytes:.1f}x one input ({peak / 2**20:.0f} MiB{targets[1]}); "
          f"path {result.parameters['path']}")


def run_peer(shape, box: int, step: int) -> None:
    a, b, _ = two_region_pair(shape, seed=0)
    start = time.perf_counter()
    total = per_box_loop(a, b, box, step, PEER_BOXES)
    peer = (time.perf_counter() - start) * total / PEER_BOXES
    ours = min(interleaved_times([lambda: local_fsc(a, b, box=box, step=step, threshold="0.143")], 2)[0])
    print(f"peer per-box loop (toupy's LocalFSC algorithm) on {shape}, box {box}, step {step}: {peer:.1f} s "
          f"(scaled from {PEER_BOXES} of {total} boxes); ours {ours:.2f} s: {peer / ours:.0f}x faster")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="128^3 and 512^2 only")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPU cores, numpy {np.__version__}, scipy {scipy.__version__}")
    if args.quick:
        run_case((128, 128, 128), 32, 8)
        run_case((512, 512), 64, 4)
    else:
        run_case((256, 256, 256), 32, 8)
        run_case((2048, 2048), 64, 4)
    run_peer((128, 128, 128), 32, 8)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--memory-probe":
        memory_probe(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
