"""Time the README's "your own file in napari" path: from the command to the first number.

Run under a (virtual) display::

    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python scripts/time_first_number.py [--runs 3] [--shots DIR]

Writes two realistic files to a temporary folder: two simulated half-maps
(256³, float32, 1.06 Å voxels in the MRC header) and one 2-D TIFF (2048², 65 nm
pixels in its ImageJ calibration). For each file set and each run, a fresh
Python process does what ``napari-resolution view FILES`` does
(:func:`napari_resolution.gui.launch.open_viewer`, the function the CLI calls),
checks that the docked widget picked the layers and the pixel size of the file,
clicks its Run button and waits for the result line. Printed per run: seconds
from the process start to the viewer showing the layers and the widget, from
the click to the number, and in all. The first run uses an empty numba cache
(``NUMBA_CACHE_DIR``), so it includes compiling the CPU kernels, as a first
run after installing does; later runs load them from that cache.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: The file sets timed: name -> (files, the widget ``view`` docks for them, the pixel size it must pick).
CASES = {
    "half-maps": (("half1.mrc", "half2.mrc"), "FourierCorrelationWidget", "1.06"),
    "one image": (("cells.tif",), "DecorrelationWidget", "0.065"),
}
#: Window size of the timed viewer (a laptop screen).
WINDOW = (1280, 800)


def write_files(folder: Path) -> None:
    """Two simulated half-maps as MRC (voxel size in the header) and a band-limited image as ImageJ TIFF."""
    import numpy as np

    from napari_resolution import io
    from napari_resolution.core.simulate import band_limited_noise, phantom_pair

    pair = phantom_pair((256, 256, 256), sigma=2.0, noise=0.5, pixel_size=1.06, seed=0, dtype=np.float32)
    io.write_mrc(folder / "half1.mrc", pair.half1, 1.06)
    io.write_mrc(folder / "half2.mrc", pair.half2, 1.06)
    image = band_limited_noise((2048, 2048), 0.2, seed=1) + 0.3 * np.random.default_rng(2).standard_normal((2048,) * 2)
    io.write_tiff(folder / "cells.tif", image.astype(np.float32), 0.065, "µm")


def child(paths: list[str], started: float, shot: str | None) -> dict:
    """In a fresh process: open the viewer as ``view`` does, click Run, wait for the number.

    Parameters
    ----------
    paths : list of str
        The files given to ``view``.
    started : float
        ``time.time()`` when the parent started this process.
    shot : str or None
        Where to save a screenshot of the viewer with the number.

    Returns
    -------
    dict
        Wall-clock seconds ``viewer`` (start to the viewer with layers and widget), ``number`` (Run to the
        number shown) and ``total``; the widget's inputs (``layers``, ``pixel_size``, ``unit``) and result line.
    """
    from qtpy.QtWidgets import QApplication

    from napari_resolution.gui import launch
    from napari_resolution.gui.widgets.base import EstimatorWidget

    viewer = launch.open_viewer(paths, show=True)
    viewer.window._qt_window.resize(*WINDOW)
    (widget,) = [w for w in viewer.window.dock_widgets.values() if isinstance(w, EstimatorWidget)]
    _settle(QApplication)
    shown = time.time()
    widget.run_button.native.click()
    while widget.runner.busy or widget.result is None:
        QApplication.processEvents()
        time.sleep(0.005)
    _settle(QApplication)
    done = time.time()
    if shot:
        viewer.screenshot(shot, canvas_only=False, flash=False)
    return {"viewer": shown - started, "number": done - shown, "total": done - started,
            "layers": [layer.name for layer in widget.picked_layers()], "pixel_size": widget.pixel_size.value,
            "unit": widget.unit.value, "widget": type(widget).__name__,
            "result": widget.result_line.text().splitlines()[0]}


def _settle(application) -> None:
    """Let Qt draw what is pending (the window, the dock, the result line)."""
    for _ in range(5):
        application.processEvents()


def time_case(folder: Path, name: str, numba_cache: Path, shot: Path | None) -> dict:
    """Run one case in a fresh Python process (numba's cache in ``numba_cache``); its timings and inputs."""
    files, _, _ = CASES[name]
    environment = {**os.environ, "NUMBA_CACHE_DIR": str(numba_cache)}
    command = [sys.executable, __file__, "--child", json.dumps([str(folder / f) for f in files]),
               "--started", repr(time.time()), *(["--shot", str(shot)] if shot else [])]
    finished = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    lines = [text for text in finished.stdout.splitlines() if text.startswith("{")]
    if finished.returncode or not lines:
        raise RuntimeError(f"{name}: the timed process failed:\n{finished.stderr[-3000:]}")
    return json.loads(lines[-1])


def check(name: str, timing: dict) -> None:
    """RuntimeError unless the README's widget was docked with every file and the file's pixel size."""
    files, widget, pixel_size = CASES[name]
    if timing["widget"] != widget or len(timing["layers"]) != len(files) or timing["pixel_size"] != pixel_size:
        raise RuntimeError(f"{name}: {widget} did not pick the files and their pixel size: {timing}")


def line(name: str, run: int, load: float, timing: dict) -> str:
    """One run's report: its case, the numba cache, the load, the three times, the result and the inputs."""
    cache = "empty numba cache" if run == 1 else "numba cache filled"
    return (f"{name} run {run} ({cache}, load {load:.2f}): start → viewer {timing['viewer']:.1f} s · "
            f"Run → number {timing['number']:.1f} s · total {timing['total']:.1f} s · {timing['result']} "
            f"[{', '.join(timing['layers'])}; pixel size {timing['pixel_size']} {timing['unit']}]")


def time_all(runs: int, shots: Path | None) -> None:
    """Write the files, time every case ``runs`` times and print each run (:func:`line`)."""
    with tempfile.TemporaryDirectory(prefix="first-number-") as temporary:
        folder = Path(temporary)
        write_files(folder)
        if shots is not None:
            shots.mkdir(parents=True, exist_ok=True)
        print(f"{os.cpu_count()} cores; load: the 1-minute load average before each run", flush=True)
        for name in CASES:
            numba_cache = folder / f"numba-{name.replace(' ', '-')}"
            for run in range(1, runs + 1):
                shot = shots / f"first_number_{name.replace(' ', '_')}.png" if shots and run == runs else None
                load = os.getloadavg()[0]
                timing = time_case(folder, name, numba_cache, shot)
                check(name, timing)
                print(line(name, run, load, timing), flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per file set (the first with an empty numba cache)")
    parser.add_argument("--shots", type=Path, help="folder for a screenshot of each file set's last run")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--started", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--shot", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child), args.started, args.shot)))
    else:
        time_all(args.runs, args.shots)


if __name__ == "__main__":
    main()
