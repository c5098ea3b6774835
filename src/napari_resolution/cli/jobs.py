"""What the subcommands and every input of ``batch`` run: a job, and the report of its result.

A job, ``run_<estimator>(args)`` in the estimator's module, reads its input with
:func:`load` or :func:`read` (an RGB image refused), takes the pixel size and unit from
:func:`pixel_size_and_unit`, calls the core (imported inside the job, so that
building the parser imports no estimator) with ``device=device_of(args)``, and
ends with :func:`report`: the output files and the summary it returns.
:func:`run_job` runs a job for the subcommand itself (:func:`run_subcommand`
prints its summary and warnings) and for every input of ``batch``. Before any
job runs, :func:`refuse_overwrites` refuses an output that would replace an
input (:func:`check_outputs` for a subcommand; ``batch`` checks all its inputs
at once).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from pathlib import Path

import numpy as np

from .. import io
from ..core.results import length

__all__ = ["MAP_SUFFIXES", "check_outputs", "complete_pair", "device_of", "file_names", "input_files", "load",
           "load_pair", "one_or_all", "option_outputs", "output_files", "pixel_size_and_unit", "read",
           "refuse_overwrites", "report", "run_job", "run_subcommand", "second_half_map", "user_names", "write_map"]

#: The job arguments that name one input file, by the core's name for it.
_FILE_ARGUMENTS = ("half1", "half2", "mask", "image", "sinogram", "volume", "table")
#: The options naming one file a job writes: (attribute, option).
_OUTPUT_OPTIONS = (("json", "--json"), ("csv", "--csv"), ("plot", "--plot"), ("out", "--out"),
                   ("psf_out", "--psf-out"), ("spline_out", "--spline-out"))
_OPTION_NAMES = {option for _, option in _OUTPUT_OPTIONS}
#: The suffixes of the image files a job writes (``io.write_image``: maps, PSF images; .zarr for a zarr array or,
#: named .ome.zarr, an OME-Zarr image).
MAP_SUFFIXES = (*io.MRC_SUFFIXES, *io.TIFF_SUFFIXES, ".npy", io.ZARR_SUFFIX)
#: Where the notes go (``main`` prints the package's INFO lines as ``note: ...``).
_LOG = logging.getLogger(__name__)


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
    complete_pair(args)
    check_outputs(args)
    outcome = run_job({}, vars(args))
    print(outcome["summary"], file=sys.stderr if args.json == "-" else sys.stdout)
    for note in outcome["warnings"]:
        warnings.warn(note, RuntimeWarning, stacklevel=2)
    return 0


def complete_pair(args) -> None:
    """Fill in the second half-map of a pair command given only the first (``fsc run_half1_class001_unfil.mrc``):
    :func:`second_half_map`.

    Raises
    ------
    ValueError
        No such file: naming the first and what was looked for.
    """
    if not getattr(args, "find_half2", False):
        return
    if getattr(args, "split", None):  # frc --split: one image
        if args.half2 is not None:
            raise ValueError(f"--split {args.split} measures one image: give one image, not two")
        return
    if args.half2 is None:
        args.half2 = second_half_map(args.half1)


def second_half_map(half1: str) -> str:
    """The other half-map of ``half1``: the file beside it named with half2 for half1 (:func:`.io.half_map_partner`);
    a note says which.

    Raises
    ------
    ValueError
        No such file: naming ``half1`` and what was looked for.
    """
    partner = io.half_map_partner(half1)
    if partner is None:
        raise ValueError(f"{half1}: one half-map given, and no second one named like it beside it (half2 for "
                         "half1, as RELION's run_half1_class001_unfil.mrc and run_half2_class001_unfil.mrc; half_B "
                         "for half_A): give both")
    _LOG.info("second half-map: %s (named like %s)", partner, half1)
    return str(partner)


def check_outputs(args) -> None:
    """Refuse, before anything is computed, an output of a subcommand that could not be written or would replace an
    input: each of its :func:`output_files` must name a file in a folder that exists, not a folder, with a suffix
    its writer knows (``--plot``: a matplotlib format; ``--out``, ``--psf-out``: an image format, or the
    subcommand's ``map_suffixes``), then :func:`refuse_overwrites`."""
    outputs = output_files(args)
    for option, path in outputs:
        if option in _OPTION_NAMES:
            _check_writable(option, Path(path), getattr(args, "map_suffixes", MAP_SUFFIXES))
    refuse_overwrites(outputs, input_files(args))


def _check_writable(option: str, path: Path, map_suffixes) -> None:
    """ValueError naming ``option`` when ``path`` is a folder, is in no folder, or has a suffix its writer lacks."""
    if path.is_dir() and not (option == "--out" and path.suffix.lower() == io.ZARR_SUFFIX in map_suffixes):
        raise ValueError(f"{option} {path} is a folder: name a file")
    if not path.parent.is_dir():
        raise ValueError(f"{option} {path}: there is no folder {path.parent} to write it into")
    suffixes = map_suffixes if option in ("--out", "--psf-out") else _plot_suffixes() if option == "--plot" else None
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise ValueError(f"{option} {path}: cannot write {path.suffix or 'a name without suffix'!r} files "
                         f"(supported: {', '.join(suffixes)})")


def _plot_suffixes() -> tuple[str, ...]:
    """The suffixes of the image formats matplotlib writes (``--plot``)."""
    from matplotlib.backend_bases import FigureCanvasBase

    return tuple(f".{name}" for name in FigureCanvasBase.get_supported_filetypes())


def output_files(args) -> list[tuple[str, str]]:
    """The files a job will write, as (option, path): what its ``written`` default lists (a subcommand that
    writes more than its options name, e.g. per-channel files), else :func:`option_outputs`."""
    written = getattr(args, "written", None)
    return option_outputs(args) if written is None else written(args)


def option_outputs(args) -> list[tuple[str, str]]:
    """The files named by a job's ``--json`` (but "-", stdout), ``--csv``, ``--plot``, ``--out``, ``--psf-out``
    and ``--spline-out``, as (option, path)."""
    return [(option, getattr(args, name)) for name, option in _OUTPUT_OPTIONS
            if getattr(args, name, None) and (option, getattr(args, name)) != ("--json", "-")]


def input_files(args) -> list[tuple[str, str]]:
    """The files a job reads, as (what the user calls them, path): its positional files, ``--mask``,
    ``--half2``, ``--angles-file``, ``--pixel-size-from``."""
    listed = [("--mask" if name == "mask" else name, path) for name, path in file_names(vars(args)).items()]
    for name in ("angles_file", "pixel_size_from"):
        if getattr(args, name, None):
            listed.append((f"--{name.replace('_', '-')}", getattr(args, name)))
    return listed


def refuse_overwrites(outputs, inputs) -> None:
    """Refuse, before anything is computed, an output that would replace an input.

    An output is refused when it is an input (the same path once symlinks
    are resolved, or the same file: a hard link), lies inside an input
    folder (a zarr array), or is a folder holding an input.

    Parameters
    ----------
    outputs, inputs : iterable of (str, str)
        (option or name, path) of every file written and read; empty paths are left out.

    Raises
    ------
    ValueError
        Naming both, e.g. ``--json a.mrc is the input a.mrc (half1): choose another file``.
    """
    read, holders = _index(inputs)
    for option, path in outputs:
        real = Path(os.path.realpath(path))
        hit = next((read[key] for key in _identities(path) if key in read), None)
        if hit:
            raise ValueError(f"{option} {path} is the input {hit[1]} ({hit[0]}): choose another file")
        if str(real) in holders:
            name, held = holders[str(real)]
            raise ValueError(f"{option} {path} is the folder of the input {held} ({name}): choose another path")
        inside = next((read[str(folder)] for folder in real.parents if str(folder) in read), None)
        if inside:
            raise ValueError(f"{option} {path} is inside the input {inside[1]} ({inside[0]}): choose another path")


def _index(inputs) -> tuple[dict, dict]:
    """The inputs (name, path) by each of their :func:`_identities`, and by every folder above them."""
    read, holders = {}, {}
    for name, path in inputs:
        if path:
            for key in _identities(path):
                read.setdefault(key, (name, path))
            for folder in Path(os.path.realpath(path)).parents:
                holders.setdefault(str(folder), (name, path))
    return read, holders


def _identities(path) -> list:
    """What makes ``path`` one file: its resolved path, and its device and inode when it exists."""
    keys = [os.path.realpath(path)]
    try:
        status = os.stat(path)
    except (OSError, ValueError):  # missing, or a name the system refuses (e.g. with a NUL)
        return keys
    return [*keys, (status.st_dev, status.st_ino)]


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


def read(path: str, reader=None, **keywords) -> io.LoadedImage:
    """``reader(path, **keywords)`` (default :func:`.io.read_image`; or ``io.map_image``, ``io.lazy_image``),
    refusing an RGB image with what to do: :func:`.io.grey_image`."""
    return io.grey_image((reader or io.read_image)(path, **keywords), path)


def load(path: str, name: str, ndim=None, *, unsigned: bool = False) -> io.LoadedImage:
    """Read ``path`` (:func:`read`; int16 as uint16 with ``unsigned``: ``--unsigned``), checking its rank against
    ``ndim`` (None: any); errors name the argument ``name``. A file without a pixel size beside a RELION STAR file
    that holds one (:func:`.io.star_beside`: ``run_model.star``) gets that one, in Å, with a note."""
    image = read(path, unsigned=unsigned)
    if ndim is not None and image.data.ndim != ndim:
        raise ValueError(f"{name} ({path}) is {image.data.ndim}-D; expected {ndim}-D")
    star = None if image.pixel_size else io.star_beside(path)
    if star is None:
        return image
    try:
        size = io.star_pixel_size(star)
    except ValueError as err:  # a STAR file not asked for: said, not fatal
        warnings.warn(f"{err}: its pixel size is not used", RuntimeWarning, stacklevel=2)
        return image
    axes = image.axes or "ZYX"[-image.data.ndim:]
    sizes = tuple(size if axis in "ZYX" else 1.0 for axis in axes.rjust(image.data.ndim, "Q"))
    return io.LoadedImage(image.data, sizes, "Å", image.axes, str(star))


def load_pair(args, ndim=None):
    """The two images of a pair command (``half1``, ``half2``, of rank ``ndim``; None: any) and its ``--mask``
    data (None without one)."""
    first = load(args.half1, "half1", ndim, unsigned=args.unsigned)
    second = load(args.half2, "half2", ndim, unsigned=args.unsigned)
    mask = None if args.mask is None else read(args.mask).data
    return first, second, mask


def pixel_size_and_unit(args, image: io.LoadedImage):
    """The pixel size to measure with and its unit: ``--pixel-size``, else ``--pixel-size-from`` (a RELION STAR
    file, Å), else the file header (or the STAR file beside it, see :func:`load`), else 1.

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
    elif getattr(args, "pixel_size_from", None):
        pixel_size, unit = io.star_pixel_size(args.pixel_size_from), "Å"
    elif image.pixel_size:
        pixel_size, unit = image.pixel_size, image.unit
        if image.pixel_size_source:
            _LOG.info("pixel size %s from %s", length(max(pixel_size), unit), image.pixel_size_source)
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


def user_names(arguments: dict) -> dict:
    """:func:`file_names`, and the options that stand for a core argument: ``theta`` (the projection angles) is
    ``--angles-file FILE`` or ``--angles START:STOP:COUNT``."""
    names = file_names(arguments)
    if arguments.get("angles_file"):
        names["theta"] = f"--angles-file {arguments['angles_file']}"
    elif arguments.get("angles"):
        names["theta"] = f"--angles {arguments['angles']}"
    return names
