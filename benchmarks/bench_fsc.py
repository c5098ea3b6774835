"""Benchmark the FSC/FRC engine against its floor and against peers.

Cases: FSC of a 256^3 float32 pair, FRC of a 4096^2 float32 pair.

* floor: the two real FFTs of the inputs (scipy.fft.rfftn, all cores), the
  work no FSC can avoid, timed in the same run.
* peers: a per-shell Python loop over the full spectrum (how toupy computes
  its FSC; 3-D case), and the ``frc`` package from PyPI (diplib radial sums,
  2-D only) when it is importable. Neither is a dependency.
* peak memory: the largest resident-memory increase during one call, measured
  in a fresh child process, as a multiple of one input's size.

Run: ``python benchmarks/bench_fsc.py [--quick]`` (``--quick``: 128^3 and 1024^2).
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

from napari_resolution import fourier_correlation
from napari_resolution.core.simulate import phantom_pair


def best_time(function, repeats: int = 3) -> float:
    """Smallest wall time of ``repeats`` calls, in seconds."""
    return min(interleaved_times([function], repeats)[0])


def interleaved_times(functions, repeats: int) -> list[list[float]]:
    """Wall times of each function, calling them in turn ``repeats`` times.

    Interleaving exposes every candidate to the same machine noise (this
    virtual machine's FFT times vary 2-4x from one buffer to the next).
    """
    times = [[] for _ in functions]
    for _ in range(repeats):
        for slot, function in zip(times, functions):
            start = time.perf_counter()
            function()
            slot.append(time.perf_counter() - start)
    return times


def floor(a, b) -> None:
    """The two real FFTs every FSC needs."""
    scipy.fft.rfftn(a, workers=os.cpu_count())
    scipy.fft.rfftn(b, workers=os.cpu_count())


def shell_loop_fsc(a, b) -> np.ndarray:
    """Peer: a boolean mask per shell over the full complex spectrum (toupy's approach)."""
    f1, f2 = np.fft.fftn(a), np.fft.fftn(b)
    grids = np.meshgrid(*[np.fft.fftfreq(n) * n for n in a.shape], indexing="ij")
    radius = np.rint(np.sqrt(sum(g**2 for g in grids))).astype(int)
    curve = []
    for shell in range(a.shape[0] // 2 + 1):
        inside = radius == shell
        x, y = f1[inside], f2[inside]
        curve.append(np.real(np.vdot(y, x)) / np.sqrt(np.vdot(x, x).real * np.vdot(y, y).real))
    return np.array(curve)


def frc_package(a, b):
    """Peer: the ``frc`` package (PyPI), 2-D only."""
    import frc

    return frc.two_frc(a, b)


def memory_status(field: str) -> int:
    """A ``/proc/self/status`` memory field (VmRSS, VmHWM) in bytes."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def memory_probe(folder: str) -> None:
    """Child process: load the saved pair, print the peak RSS increase of one call (bytes).

    The resident high-water mark is reset after loading (``/proc/self/clear_refs``),
    so VmHWM afterwards is the call's own peak. (``ru_maxrss`` would not do:
    it keeps the parent's peak across fork and exec.)
    """
    a, b = (np.load(os.path.join(folder, f"{name}.npy")) for name in "ab")
    fourier_correlation(a[:16, :16], b[:16, :16], apodization=0)  # warm imports
    before = memory_status("VmRSS")
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    fourier_correlation(a, b)
    print(memory_status("VmHWM") - before)


def measured_peak(a, b) -> int:
    with tempfile.TemporaryDirectory() as folder:
        np.save(os.path.join(folder, "a.npy"), a)
        np.save(os.path.join(folder, "b.npy"), b)
        output = subprocess.run([sys.executable, __file__, "--memory-probe", folder],
                                capture_output=True, text=True, check=True)
    return int(output.stdout.strip())


def run_case(label: str, shape, peers) -> None:
    pair = phantom_pair(shape, seed=0, dtype=np.float32)
    a, b = pair.half1, pair.half2
    fourier_correlation(a, b)  # warm-up (FFT plans, imports)
    ours_times, base_times = interleaved_times([lambda: fourier_correlation(a, b), lambda: floor(a, b)], 9)
    ours, base = min(ours_times), min(base_times)
    peak = measured_peak(a, b)
    print(f"{label}: {ours:.3f} s; floor (2 rfftn) {base:.3f} s; ratio {ours / base:.2f}x "
          f"(target <= 2.0x; medians {np.median(ours_times):.3f} / {np.median(base_times):.3f} s); "
          f"peak memory {peak / a.nbytes:.2f}x one input "
          f"({peak / 2**20:.0f} MiB; target < 5x)")
    for name, peer in peers:
        try:
            elapsed = best_time(lambda peer=peer: peer(a, b), repeats=1)
        except ImportError:
            print(f"  peer {name}: not installed, skipped")
            continue
        print(f"  peer {name}: {elapsed:.3f} s ({elapsed / ours:.1f}x ours)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes for a smoke run")
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        memory_probe(args.memory_probe)
        return
    volume, image = ((128,) * 3, (1024,) * 2) if args.quick else ((256,) * 3, (4096,) * 2)
    print(f"{os.cpu_count()} CPU cores, numpy {np.__version__}, scipy {scipy.__version__}")
    run_case(f"FSC {volume} float32", volume, [("per-shell loop (toupy-style)", shell_loop_fsc)])
    run_case(f"FRC {image} float32", image, [("frc (PyPI)", frc_package)])


if __name__ == "__main__":
    main()
