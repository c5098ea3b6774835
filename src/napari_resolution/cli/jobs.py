"""What the subcommands and every input of ``batch`` run: a job, and the report of its result.

A job, ``run_<estimator>(args)`` in the estimator's module, reads its input with
:func:`load` (or ``io``), takes the pixel size and unit from
:func:`pixel_size_and_unit`, calls the core (imported inside the job, so that
building the parser imports no estimator) with ``device=device_of(args)``, and
ends with :func:`report`: the output files and the summary it returns.
:func:`run_job` runs a job for the subcommand itself (:func:`run_subcommand`
prints its summary and warnings) and for every input of ``batch``.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

from .. import io

__all__ = ["device_of", "file_names", "load", "one_or_all", "pixel_size_and_unit", "report", "run_job",
           "run_subcommand", "write_map"]

#: The job arguments that name one input file, by the core's name for it.
_FILE_ARGUMENTS = ("half1", "half2", "mask", "image", "sinogram", "volume")


def run_job(paths: dict, options: dict) -> dict:
    """Run one input of an estimator subcommand: read it, measure, write its outputs, return its summary.

    Parameters
    ----------
    paths : dict of str to str or None
        The subcommand's input files by argument name, e.g. ``{"half1": "h1.mrc", "half2": "h2.mrc", "mask": None}``.
    options : dict
        Its other parsed arguments, including ``job`` (the estimator's ``run``) and the outputs
        ``json``, ``csv``, ``plot`` (paths or None).

    Returns
    -------
    dict
        What :func:`report` returns.

    Raises
    ------
    ValueError, OSError
        Bad input, named by the core's argument names (see :func:`file_names`) or by file.
    """
    args = argparse.Namespace(**{**options, **paths})
    return args.job(args)


def run_subcommand(args) -> int:
    """Handler of the subcommands on one input: :func:`run_job`, its summary, the result's warnings.

    The summary goes to stdout, or to stderr when the JSON does; the warnings
    are issued as RuntimeWarning for ``main`` to print once each.
    """
    outcome = run_job({}, vars(args))
    print(outcome["summary"], file=sys.stderr if args.json == "-" else sys.stdout)
    for note in outcome["warnings"]:
        warnings.warn(note, RuntimeWarning, stacklevel=2)
    return 0


def report(result, args, unit: str, *, summary: str = "", figures=None, **view) -> dict:
    """Write ``--json``, ``--csv`` and ``--plot`` of ``result``; the end of every job.

    Parameters
    ----------
    result : Result
        Any estimator's result.
    args : argparse.Namespace
        Parsed arguments with ``json``, ``csv`` and ``plot`` (None when not given).
    unit : str
        Unit of the pixel size.
    summary : str
        What is printed (default ``result.summary(unit)``); it also titles the PNG.
    figures : sequence of (path, Result, str), optional
        The PNGs to write, each a result's plots and their title (default:
        ``result`` into ``--plot``, titled by ``summary``).
    **view
        Passed to the result's ``summary``, ``columns`` and ``plots`` (e.g. ``view="ssnr"``).

    Returns
    -------
    dict
        ``status`` (one of :data:`~..core.results.STATUSES`), ``quantity`` and
        ``value`` (``result.headline()``, e.g. "resolution" and a float or None),
        ``unit``, ``summary`` and ``warnings`` (list of str, the result's).
    """
    summary = summary or result.summary(unit, **view)
    if args.json:
        io.write_json(args.json, result.to_dict())
    if args.csv:
        io.write_csv(args.csv, result.columns(**view))
    if figures is None:
        figures = [(args.plot, result, summary)] if args.plot else []
    if figures:
        from ..plotting import save_result_plot

        for path, shown, title in figures:
            save_result_plot(shown, path, unit=unit, title=title, **view)
    quantity, value = result.headline()
    return {"status": result.status, "quantity": quantity, "value": value, "unit": unit, "summary": summary,
            "warnings": list(result.warnings)}


def load(path: str, name: str, ndim=None) -> io.LoadedImage:
    """Read ``path``, checking its rank against ``ndim`` (None: any); errors name the argument ``name``."""
    image = io.read_image(path)
    if ndim is not None and image.data.ndim != ndim:
        raise ValueError(f"{name} ({path}) is {image.data.ndim}-D; expected {ndim}-D")
    return image


def pixel_size_and_unit(args, image: io.LoadedImage):
    """The pixel size to measure with and its unit: ``--pixel-size``, else the file header, else 1.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments with ``pixel_size`` (None when not given) and ``unit``.
    image : io.LoadedImage
        The (first) input image, with its header pixel size.

    Returns
    -------
    pixel_size : float or tuple of float
        One value, or one per axis.
    unit : str
        ``--unit``; else the header's unit when the pixel size came from the header; else "px" when no pixel
        size is known (the numbers are in pixels, and say so); else "" (a ``--pixel-size`` without ``--unit``).
    """
    if args.pixel_size is not None:
        pixel_size, unit = one_or_all(args.pixel_size), ""
    elif image.pixel_size:
        pixel_size, unit = image.pixel_size, image.unit
    else:
        pixel_size, unit = 1.0, io.PIXEL_UNIT
    return pixel_size, unit if args.unit is None else args.unit


def one_or_all(values: tuple):
    """One value as a float, several as the tuple (the core's ``pixel_size``)."""
    return values[0] if len(values) == 1 else values


def device_of(args):
    """The core's ``device``: "gpu" with ``--gpu``, else None (where the data lives).

    Raises
    ------
    ValueError
        ``--gpu`` without cupy and a CUDA GPU.
    """
    if not args.gpu:
        return None
    from ..core.backend import gpu_available

    if not gpu_available():
        raise ValueError("--gpu needs cupy and a CUDA GPU (pip install 'napari-resolution[gpu]')")
    return "gpu"


def write_map(path: str, local_map, source: str, pixel_size, unit: str) -> None:
    """Write ``local_map``; as MRC placed on the ``source`` map (same voxel size and origin) when that is MRC.

    MRC has no NaN convention viewers agree on: outside the mask it holds 0.
    """
    if Path(path).suffix.lower() in io.MRC_SUFFIXES:
        placement = io.mrc_placement(source) if Path(source).suffix.lower() in io.MRC_SUFFIXES else None
        io.write_mrc(path, np.nan_to_num(local_map, nan=0.0), pixel_size, placement=placement)
    else:
        io.write_image(path, local_map, pixel_size, unit)


def file_names(arguments: dict) -> dict:
    """The core's argument names -> the files the user gave for them, for its error messages.

    Parameters
    ----------
    arguments : dict
        A job's arguments (``vars(args)``, or a batch input's paths).

    Returns
    -------
    dict of str to str
        E.g. ``{"half1": "h1.mrc", "half2": "h2.mrc"}``; ``mask``'s maps are ``half1``,
        ``half2`` (two) or ``volume`` (one); ``blink-psf``'s movies ``movie[0]``, ...
    """
    files = {name: arguments.get(name) for name in _FILE_ARGUMENTS}
    maps = arguments.get("maps") or []
    files.update(zip(("half1", "half2"), maps) if len(maps) == 2 else zip(("volume",), maps))
    files.update((f"movie[{index}]", path) for index, path in enumerate(arguments.get("movies") or []))
    return {name: str(path) for name, path in files.items() if path is not None}
