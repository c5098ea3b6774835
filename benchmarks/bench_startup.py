"""Benchmark the command line's start-up: ``napari-resolution --help`` and ``fsc --help`` against the floor.

The floor is a bare ``python -c "import numpy, argparse"``: what any numpy
command line pays before it parses its arguments. Each command runs in a fresh
interpreter, as the console script does (``from napari_resolution.cli import
main``); the runs are interleaved and each time is the median of ``--runs``.
The target (issue #23): both within 2x of the floor, which holds while building
the parser imports no estimator (the estimators, numba, scipy and matplotlib
are imported when a subcommand runs).

Run: ``python benchmarks/bench_startup.py [--runs 11]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

#: What the console script ``napari-resolution`` runs.
ENTRY_POINT = "import sys; from napari_resolution.cli import main; sys.exit(main())"

#: label -> the command timed.
COMMANDS = {
    "floor: import numpy, argparse": [sys.executable, "-c", "import numpy, argparse"],
    "napari-resolution --help": [sys.executable, "-c", ENTRY_POINT, "--help"],
    "napari-resolution fsc --help": [sys.executable, "-c", ENTRY_POINT, "fsc", "--help"],
}


def elapsed(command: list[str]) -> float:
    """Wall-clock seconds of one run of ``command`` (its output discarded; it must succeed)."""
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def median_times(runs: int) -> dict[str, float]:
    """The median seconds of every command over ``runs`` interleaved rounds (after one warm-up round)."""
    times = {label: [] for label in COMMANDS}
    for round_ in range(runs + 1):
        for label, command in COMMANDS.items():
            seconds = elapsed(command)
            if round_:  # the first round fills the file cache
                times[label].append(seconds)
    return {label: statistics.median(values) for label, values in times.items()}


def main() -> None:
    """Print each command's median time and its ratio to the floor."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="timed runs of each command (default 11)")
    runs = parser.parse_args().runs
    medians = median_times(runs)
    floor = medians.pop("floor: import numpy, argparse")
    print(f"Python {sys.version.split()[0]}, median of {runs} runs; floor (import numpy, argparse) {floor:.3f} s")
    for label, seconds in medians.items():
        verdict = "within" if seconds <= 2 * floor else "OVER"
        print(f"{label}: {seconds:.3f} s; ratio {seconds / floor:.2f}x the floor ({verdict} the 2x target)")


if __name__ == "__main__":
    main()
