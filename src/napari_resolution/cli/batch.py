"""``napari-resolution batch <estimator>``: one estimator on many inputs, serially or on dask.distributed.

The inputs come from a CSV of pairs (``--pairs``: columns half1, half2 and
optionally mask, pixel_size), a folder of half-map pairs (``--pairs``: e.g.
RELION's jobs, every ``*half1*`` file with its ``*half2*``, recursively) or from
file patterns (``--inputs``). Each input is
one task, :func:`run_task`: the estimator's job (:func:`.jobs.run_job`, the
same function the one-input subcommands run) writing ``<name>.json`` (and with
``--plot`` ``<name>.png``) into ``--out``, and returning one row of
``--out/summary.csv``. A failing input is an error row, never the end of the
batch.

Where the tasks run: in this process, one after the other (the default; dask
is not needed); with ``--workers N`` on a ``distributed.LocalCluster`` of N
worker processes with one thread each, whose kernels share the machine's cores
(``NUMBA_NUM_THREADS`` = cores // N); with ``--scheduler ADDRESS`` (or
``DASK_SCHEDULER_ADDRESS``) on an existing cluster, whose workers must see the
input files and ``--out`` at the same paths (see docs/scaling.md). Importing
this module does not import dask.
"""

from __future__ import annotations

import argparse
import csv
import glob
import math
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .. import io
from ..core.validation import renamed
from . import blink, correlation, decorrelation, local_fsc, local_res, mtf
from .cluster import cluster_client
from .jobs import device_of, file_names, input_files, option_outputs, refuse_overwrites, run_job
from .options import Parser, add_cluster_options

__all__ = ["SUMMARY_NAME", "Task", "register", "run_batch", "run_task"]

#: The summary table written into ``--out``.
SUMMARY_NAME = "summary.csv"
#: Columns of a ``--pairs`` CSV: required, then optional.
PAIR_COLUMNS = ("half1", "half2")
OPTIONAL_PAIR_COLUMNS = ("mask", "pixel_size")
#: Columns of the summary after the input columns.
RESULT_COLUMNS = ("status", "quantity", "value", "unit", "warnings", "seconds", "error")
#: Parsed arguments that steer the batch itself, not the estimator's job.
_BATCH_ARGUMENTS = ("pairs", "inputs", "out", "plot", "workers", "scheduler", "progress", "handler", "command",
                    "estimator", "table")


@dataclass(frozen=True)
class Task:
    """One input of a batch.

    Attributes
    ----------
    name : str
        Stem of its output files, unique in the batch.
    inputs : dict of str to str
        Its summary columns naming the input, as the user wrote them (e.g. half1, half2).
    paths : dict of str to str or None
        The job's file arguments (absolute paths), see :func:`.jobs.run_job`.
    options : dict
        The job's options for this input (output files, a per-pair pixel size).
    """

    name: str
    inputs: dict
    paths: dict
    options: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------- the subcommand
def register(commands) -> None:
    """Add ``batch <estimator>`` to ``commands`` (argparse subparsers): one estimator on many inputs."""
    batch = commands.add_parser(
        "batch", help="run an estimator on many inputs: a JSON (and PNG) per input and summary.csv",
        description="Run an estimator on every pair of a CSV (--pairs) or every file matching --inputs: one JSON "
                    "(and with --plot a PNG) per input in --out, and --out/summary.csv with one row per input. A "
                    "bad file is an error row and the batch goes on; the exit code is 1 when some input failed. "
                    "Serial in this process by default; --workers N: a dask LocalCluster of N processes; "
                    "--scheduler: an existing dask cluster (needs pip install 'napari-resolution[dask]').")
    kinds = batch.add_subparsers(dest="estimator", required=True, parser_class=Parser, help="the estimator")
    for name, ndim, axes in (("fsc", 3, "Z,Y,X"), ("frc", 2, "Y,X")):
        pairs = _add_kind(kinds, name, f"{name.upper()} of every pair of a CSV", "pairs",
                          job=correlation.run_correlation)
        correlation.add_correlation_options(pairs, name.upper(), axes, ndim)
    local_fsc.add_local_fsc_options(_add_kind(kinds, "local-fsc", "local FSC map of every pair of a CSV", "pairs",
                                              job=local_fsc.run_local_fsc))
    local_res.add_local_res_options(_add_kind(kinds, "local-res", "single-map local resolution of every input",
                                              "inputs", job=local_res.run_local_res))
    decorrelation.add_decorrelation_options(_add_kind(kinds, "decorr", "decorrelation analysis of every input",
                                                      "inputs", job=decorrelation.run_decorrelation))
    mtf.add_mtf_options(_add_kind(kinds, "mtf", "MTF of every input, at the same --roi or --point", "inputs",
                                  job=mtf.run_mtf))
    blink.add_blink_options(_add_kind(kinds, "blink-psf", "PSF of every blinking movie (one channel each)",
                                      "inputs", job=blink.run_blink))


def _add_kind(kinds, name: str, help_text: str, table: str, *, job):
    """``batch <name>`` with the options every batch shares; returns its parser for the estimator's options.

    Parameters
    ----------
    kinds : argparse subparsers
        The estimators of ``batch``.
    name, help_text : str
        Estimator and description.
    table : {"pairs", "inputs"}
        What lists the inputs: a CSV of pairs (``--pairs``) or file patterns (``--inputs``).
    job : callable
        The estimator's job (see :func:`.jobs.run_job`).
    """
    parser = kinds.add_parser(name, help=help_text, description=help_text)
    if table == "pairs":
        parser.add_argument("--pairs", required=True,
                            help="CSV with columns half1, half2 and optionally mask, pixel_size (P or Z,Y,X); "
                                 "relative paths are relative to the CSV's folder. Or a folder (e.g. of RELION jobs): "
                                 "every file named with half1 and its half2 beside it, in all its subfolders "
                                 "(RELION's single iterations left out where final maps are)")
    else:
        parser.add_argument("--inputs", required=True, nargs="+", metavar="PATTERN",
                            help="files or quoted patterns, e.g. 'data/*.tif' ('**' for subfolders)")
    parser.add_argument("--out", required=True, help="folder for one JSON (and PNG) per input and summary.csv")
    parser.add_argument("--plot", action="store_true", help="also write a PNG per input")
    add_cluster_options(parser, "run on a dask LocalCluster of this many worker processes (default: serially here)")
    parser.set_defaults(handler=run_batch, job=job, table=table)
    return parser


# ----------------------------------------------------------------------------- one input
def run_task(task: Task, options: dict) -> dict:
    """Run one input's job and return its summary row; any failure is recorded in the row, never raised.

    Parameters
    ----------
    task : Task
        The input.
    options : dict
        The estimator's options shared by every input (:func:`.jobs.run_job`).

    Returns
    -------
    dict
        ``name``, the input columns and :data:`RESULT_COLUMNS`; ``warnings`` counts
        the distinct warnings (the result's and the RuntimeWarnings issued while it ran).
    """
    start = time.perf_counter()
    row = {"name": task.name, **task.inputs, **dict.fromkeys(RESULT_COLUMNS, "")}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            outcome = run_job(task.paths, {**options, **task.options})
    except Exception as error:  # noqa: BLE001 - one bad input is an error row; the batch goes on
        row.update(status="error", error=_message(error, task.paths))
    else:
        issued = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
        row.update({key: outcome[key] for key in ("status", "quantity", "value", "unit")},
                   warnings=len(dict.fromkeys([*outcome["warnings"], *issued])))
    row["seconds"] = round(time.perf_counter() - start, 3)
    return row


def _message(error: Exception, paths: dict) -> str:
    """The error of one input in one line: the core's argument names replaced by the files."""
    text = renamed(str(error), file_names(paths))
    if isinstance(error, (ValueError, OSError)):
        return text
    return f"{type(error).__name__}: {text}"


# ----------------------------------------------------------------------------- the inputs
def _tasks(args) -> list[Task]:
    """The batch's inputs, from ``--pairs`` or ``--inputs``, with their output files in ``--out``."""
    if args.table == "pairs":
        listed = _read_pairs(Path(args.pairs))
        firsts = [paths["half1"] for paths, _, _ in listed]
    else:
        listed = [({_input_argument(args): path}, {"input": shown}, {}) for shown, path in _expand(args.inputs)]
        firsts = [next(iter(paths.values())) for paths, _, _ in listed]
    out = Path(args.out).resolve()
    return [Task(name, inputs, _job_paths(args, paths), {**options, **_outputs(args, out, name, first)})
            for (paths, inputs, options), name, first in zip(listed, _output_names(firsts), firsts)]


def _input_argument(args) -> str:
    """The job's argument for one input file of ``--inputs``."""
    return {"local-res": "half1", "blink-psf": "movies"}.get(args.estimator, "image")


def _job_paths(args, paths: dict) -> dict:
    """``paths`` completed with the job's other file arguments (None), in the form the job expects."""
    if args.estimator == "blink-psf":
        return {"movies": [paths["movies"]], "psf_out": None, "spline_out": None}
    if args.estimator == "local-res":
        return {"half2": None, "mask": None, **paths}
    return paths


def _outputs(args, out: Path, name: str, first: str) -> dict:
    """The job's output options for the input called ``name`` (whose first file is ``first``)."""
    outputs = {"json": str(out / f"{name}.json"), "csv": None,
               "plot": str(out / f"{name}.png") if args.plot else None}
    if args.estimator in ("local-fsc", "local-res"):  # the map: MRC beside MRC inputs, else TIFF
        suffix = ".mrc" if Path(first).suffix.lower() in io.MRC_SUFFIXES else ".tif"
        outputs["out"] = str(out / f"{name}_map{suffix}")
    return outputs


def _read_pairs(path: Path) -> list[tuple[dict, dict, dict]]:
    """The pairs of a ``--pairs`` CSV (or folder: :func:`_folder_pairs`): (job paths, summary columns, job options)
    per row.

    Raises
    ------
    ValueError
        The file cannot be read, lacks a required column, has an unknown
        column, an empty half1/half2 or a bad pixel_size; the message names
        the file, the row and the column.
    """
    if path.is_dir():
        return _folder_pairs(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"--pairs {path}: cannot read it ({error})") from None
    reader = csv.reader(text.splitlines())
    header = [name.strip().lower() for name in next(reader, [])]
    missing = [name for name in PAIR_COLUMNS if name not in header]
    unknown = [name for name in header if name not in PAIR_COLUMNS + OPTIONAL_PAIR_COLUMNS]
    if missing or unknown:
        problem = f"no {' and '.join(missing)} column" if missing else f"unknown column {unknown[0]!r}"
        raise ValueError(f"--pairs {path}: {problem} (columns: half1, half2, optionally mask and pixel_size; "
                         f"found: {', '.join(header) or 'none'})")
    pairs = [_pair(path, number, header, values) for number, values in enumerate(reader, start=2)
             if any(value.strip() for value in values)]
    if not pairs:
        raise ValueError(f"--pairs {path}: no pairs (only a header)")
    return pairs


def _folder_pairs(folder: Path) -> list[tuple[dict, dict, dict]]:
    """The half-map pairs found in ``folder`` and its subfolders (:func:`.io.half_map_pairs`), named in the summary
    by their paths in the folder.

    Raises
    ------
    ValueError
        The folder holds no pair.
    """
    pairs = io.half_map_pairs(folder, io.IMAGE_SUFFIXES)
    if not pairs:
        raise ValueError(f"--pairs {folder}: no half-map pairs in it or its subfolders (files named with half1 and "
                         "half2, as RELION's run_half1_class001_unfil.mrc and run_half2_class001_unfil.mrc)")
    return [({"half1": str(first.resolve()), "half2": str(second.resolve()), "mask": None},
             {"half1": str(first.relative_to(folder)), "half2": str(second.relative_to(folder))}, {})
            for first, second in pairs]


def _pair(path: Path, number: int, header: list, values: list) -> tuple[dict, dict, dict]:
    """One row of a ``--pairs`` CSV: (job paths, summary columns, job options)."""
    where = f"--pairs {path}, row {number}"
    if len(values) > len(header):
        raise ValueError(f"{where}: {len(values)} fields but {len(header)} columns")
    row = dict.fromkeys(PAIR_COLUMNS + OPTIONAL_PAIR_COLUMNS, "")
    row.update((name, value.strip()) for name, value in zip(header, values))
    for name in PAIR_COLUMNS:
        if not row[name]:
            raise ValueError(f"{where}: empty {name}")
    paths = {name: _beside(path, row[name], f"{where}, {name}") if row[name] else None
             for name in ("half1", "half2", "mask")}
    options = {"pixel_size": _pixel_size(row["pixel_size"], f"{where}, pixel_size")} if row["pixel_size"] else {}
    return paths, {"half1": row["half1"], "half2": row["half2"]}, options


def _beside(table: Path, path: str, where: str) -> str:
    """``path`` as an absolute path; a relative one is relative to the folder of ``table``; ValueError naming
    ``where`` (the table's cell) for a path the system cannot hold (e.g. a NUL byte)."""
    try:
        return str((table.parent / Path(path).expanduser()).resolve())
    except (ValueError, OSError) as err:
        raise ValueError(f"{where}: not a usable path {path!r} ({err})") from None


def _pixel_size(text: str, where: str) -> tuple[float, ...]:
    """A pixel_size cell: one or more finite, positive numbers separated by commas."""
    try:
        values = tuple(float(value) for value in text.split(","))
    except ValueError:
        values = ()
    if not values or not all(math.isfinite(v) and v > 0 for v in values):
        raise ValueError(f"{where} must be one or more positive numbers (P or Z,Y,X), got {text!r}")
    return values


def _expand(patterns) -> list[tuple[str, str]]:
    """The files of ``--inputs``: (as shown, absolute path), each once, in order.

    A pattern with wildcards (``*``, ``?``, ``[``; ``**`` for subfolders) must
    match a file; a plain path is taken as it is (a missing one is an error row).

    Raises
    ------
    ValueError
        A pattern that matches no file.
    """
    found = {}
    for pattern in patterns:
        if glob.has_magic(pattern):
            matches = sorted(m for m in glob.glob(os.path.expanduser(pattern), recursive=True) if not os.path.isdir(m))
            if not matches:
                raise ValueError(f"--inputs {pattern!r} matches no file (run from {os.getcwd()})")
        else:
            matches = [pattern]
        found.update((match, str(Path(match).expanduser().resolve())) for match in matches)
    return list(found.items())


def _output_names(paths) -> list[str]:
    """Unique names of the inputs' outputs: each stem, prefixed by as many parent folders as it takes, else numbered.

    ``run1/half1.mrc`` and ``run2/half1.mrc`` become ``run1_half1`` and ``run2_half1``.
    """
    parts = [Path(path).parts[1:] for path in paths]  # absolute paths: the root is no name
    for depth in range(max(len(p) for p in parts)):
        names = ["_".join((*p[max(0, len(p) - 1 - depth):-1], Path(p[-1]).stem)) for p in parts]
        if len(set(names)) == len(names):
            return names
    return [f"{Path(p[-1]).stem}_{index}" for index, p in enumerate(parts, start=1)]


# ----------------------------------------------------------------------------- running
class _Progress:
    """A one-line counter on stderr, redrawn with ``\\r``: done / total, failed, elapsed seconds."""

    def __init__(self, total: int, shown: bool):
        self.total, self.shown, self.done, self.failed = total, shown, 0, 0
        self.start = time.perf_counter()

    def step(self, row: dict) -> dict:
        """Count ``row`` (a finished input) and redraw; returns ``row``."""
        self.done += 1
        self.failed += row["status"] == "error"
        if self.shown:
            failed = f", {self.failed} failed" if self.failed else ""
            print(f"\r{self.done}/{self.total} inputs{failed} · {time.perf_counter() - self.start:.0f} s",
                  end="", file=sys.stderr, flush=True)
        return row

    def close(self) -> None:
        """End the line."""
        if self.shown and self.done:
            print(file=sys.stderr)


def _run_serially(tasks, options: dict, rows: list, progress: _Progress) -> None:
    """Run every task here, one after the other, filling ``rows`` in order."""
    for index, task in enumerate(tasks):
        rows[index] = progress.step(run_task(task, options))


def _run_on(client, tasks, options: dict, rows: list, progress: _Progress) -> None:
    """Submit one future per task to ``client`` and fill ``rows`` as they complete; Ctrl-C cancels them."""
    from distributed import as_completed

    futures = {client.submit(run_task, task, options, pure=False): index for index, task in enumerate(tasks)}
    try:
        for future in as_completed(futures):
            index = futures[future]
            rows[index] = progress.step(_row_of(future, tasks[index]))
    except BaseException:  # Ctrl-C, or an error here: the workers stop the unfinished tasks
        client.cancel(list(futures))
        raise


def _row_of(future, task: Task) -> dict:
    """A done future's row; a task the cluster could not run (e.g. its worker died) is an error row."""
    if future.status == "finished":
        return future.result()
    if future.status == "error":
        error = future.exception()
        reason = f"{type(error).__name__}: {error}"
    else:
        reason = f"the task was {future.status}"  # e.g. cancelled by another client of the cluster
    return {"name": task.name, **task.inputs, **dict.fromkeys(RESULT_COLUMNS, ""), "status": "error",
            "error": f"dask: {reason}"}


def _execute(args, tasks, options: dict) -> list:
    """Run ``tasks`` where ``args`` says; returns their rows in input order (None for those never run)."""
    rows = [None] * len(tasks)
    progress = _Progress(len(tasks), args.progress or sys.stderr.isatty())
    address = args.scheduler or (None if args.workers else os.environ.get("DASK_SCHEDULER_ADDRESS"))
    try:
        if args.workers is None and not address:
            _run_serially(tasks, options, rows, progress)
        else:
            with cluster_client(args.workers, address) as client:
                _run_on(client, tasks, options, rows, progress)
    except KeyboardInterrupt:
        pass  # Ctrl-C: the inputs not run are "cancelled" rows of the summary
    finally:
        progress.close()
    return rows


def _check_shared_options(args, tasks) -> None:
    """Refuse, once for every input, the shared options that the inputs cannot change: ``--gpu`` without a GPU,
    ``--randomize`` with a pair without a mask (the other options are checked as they are parsed)."""
    if getattr(args, "gpu", False):
        device_of(args)
    unmasked = [task.name for task in tasks if getattr(args, "randomize", False) and not task.paths.get("mask")]
    if unmasked:
        where = "a folder's pairs have none: list them in a CSV" if Path(args.pairs).is_dir() else \
            f"the mask column of {args.pairs}"
        raise ValueError(f"--randomize needs a mask for every pair: {', '.join(unmasked[:3])}"
                         f"{', ...' if len(unmasked) > 3 else ''} has none ({where})")


def _check_outputs(args, tasks, out: Path) -> None:
    """Refuse a ``--out`` that is a file, or whose files (every input's JSON, PNG and map, and the summary) would
    replace an input of the batch (:func:`.jobs.refuse_overwrites`)."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file: batch writes its results into a folder")
    inputs = [("--pairs", args.pairs)] if args.table == "pairs" and not Path(args.pairs).is_dir() else []
    outputs = [("--out", str(out / SUMMARY_NAME))]
    for task in tasks:
        inputs += input_files(argparse.Namespace(**task.paths))
        outputs += [("--out", path) for _, path in option_outputs(argparse.Namespace(**task.options))]
    refuse_overwrites(outputs, inputs)


def _write_summary(path: Path, tasks, rows: list) -> None:
    """``summary.csv``: one row per input, in input order; an input never run has status "cancelled"."""
    columns = ["name", *tasks[0].inputs, *RESULT_COLUMNS]
    with io.written_aside(path) as temporary, open(temporary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for task, row in zip(tasks, rows):
            row = row or {"name": task.name, **task.inputs, "status": "cancelled"}
            writer.writerow({name: "" if row.get(name) is None else row.get(name, "") for name in columns})


def run_batch(args: argparse.Namespace) -> int:
    """``napari-resolution batch <estimator>``: run every input, write the summary, return the exit code.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``batch`` arguments (see :func:`register`) and the estimator's options.

    Returns
    -------
    int
        0 when every input ran, 1 when some failed (how many is said on stderr),
        130 when interrupted.

    Raises
    ------
    ValueError
        Bad batch arguments (an unreadable or malformed CSV, a pattern without
        a match, ``--gpu`` without a GPU, ``--randomize`` without masks,
        ``--out`` a file or an output that would replace an input): nothing
        has run (exit code 2 from :func:`.main.main`). The estimator's options
        are checked as they are parsed, once for every input.
    """
    tasks = _tasks(args)
    _check_shared_options(args, tasks)
    out = Path(args.out)
    _check_outputs(args, tasks, out)
    out.mkdir(parents=True, exist_ok=True)
    options = {key: value for key, value in vars(args).items() if key not in _BATCH_ARGUMENTS}
    start = time.perf_counter()
    rows = _execute(args, tasks, options)
    _write_summary(out / SUMMARY_NAME, tasks, rows)
    done = [row for row in rows if row is not None]
    failed = [row["name"] for row in done if row["status"] == "error"]
    print(f"batch {args.estimator}: {len(done) - len(failed)} of {len(tasks)} inputs measured in "
          f"{time.perf_counter() - start:.1f} s; summary in {out / SUMMARY_NAME}")
    if failed:
        print(f"napari-resolution: {len(failed)} of {len(tasks)} inputs failed ({', '.join(failed[:5])}"
              f"{', ...' if len(failed) > 5 else ''}): see the error column of {out / SUMMARY_NAME}",
              file=sys.stderr)
    if len(done) < len(tasks):
        print(f"napari-resolution: interrupted: {len(tasks) - len(done)} of {len(tasks)} inputs not run "
              f"(status cancelled in {out / SUMMARY_NAME})", file=sys.stderr)
        return 130
    return 1 if failed else 0
