"""Property-based test of the command line: random argv built from every subcommand's options.

The subcommands and their options are read from the parser :func:`napari_resolution.cli.build_parser` builds
(a new option is fuzzed without editing this file). Each option gets valid and invalid values: numbers,
negatives, huge values, empty strings, words, lists; file arguments get small good files written here, bad files
(empty, truncated, boolean, complex, 4-D, text), a missing path, a folder, symlinks and hard links to inputs;
outputs get new files, inputs (which must be refused), "-" and a folder. ``main(argv)`` runs in this process and
must: exit with 0, 1 or 2 (never raise), print no traceback, print exactly one line starting
``napari-resolution: error:`` (besides ``note:`` lines) when it exits with 2, and leave every input file as it was.

``view`` runs with a stand-in for napari (no Qt): its files are still checked by the real code. ``--workers`` and
``--scheduler`` (which start a dask cluster) are left out, and so are the huge values of the options whose memory
is the core's guard (:data:`CORE_MEMORY`). The "ci" profile (tests/conftest.py) tries :data:`EXAMPLES` argv per
subcommand; ``HYPOTHESIS_PROFILE=thorough`` ten times as many.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io as text_io
import os
import sys
import types
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import tifffile
from hang import no_hang
from hypothesis import given, settings
from hypothesis import strategies as st

from napari_resolution import io
from napari_resolution.cli import build_parser, main
from napari_resolution.core.simulate import (
    blinking_movie,
    phantom_pair,
    slanted_edge,
    smlm_localizations,
    tomography_sinogram,
)

#: Options left out: they start a dask cluster (or wait for one).
SKIPPED = {"workers", "scheduler"}
#: (subcommand, option) whose huge values would allocate without bound: the core's memory guard, not the CLI's.
CORE_MEMORY = {("decorr", "n_radii"), ("decorr", "n_highpass"), ("batch decorr", "n_radii"),
               ("batch decorr", "n_highpass"), ("simulate fsc", "shape"), ("simulate frc", "shape"),
               ("demo", "shape"), ("simulate particles", "particles")}
#: The options naming files read and files written (argparse ``dest``).
INPUTS = {"half1", "half2", "mask", "image", "sinogram", "maps", "movies", "files", "angles_file", "pairs", "inputs",
          "table", "volume"}
OUTPUTS = {"json", "csv", "plot", "out", "psf_out", "spline_out", "save_reconstructions"}
#: Subcommands whose --out is a folder.
FOLDER_OUT = {"simulate fsc", "simulate frc", "simulate particles", "demo"}
#: Seconds after which one run counts as a hang.
HANG_SECONDS = 60


def examples() -> int:
    """Argv tried per subcommand: a twentieth of the profile's examples (20 in "ci"), at least 5."""
    return max(5, settings().max_examples // 20)


EXAMPLES = examples()


# ----------------------------------------------------------------------------- the subcommands
def _subcommands(parser, prefix=()):
    """(name, parser) of every leaf subcommand, e.g. ("batch fsc", ...)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _subcommands(sub, (*prefix, name))
            return
    yield " ".join(prefix), parser


SUBCOMMANDS = dict(_subcommands(build_parser()))


def _arguments(parser) -> list[argparse.Action]:
    """The parser's arguments, without --help and the skipped options."""
    return [action for action in parser._actions
            if not isinstance(action, (argparse._HelpAction, argparse._VersionAction)) and action.dest not in SKIPPED]


# ----------------------------------------------------------------------------- the files
class Files:
    """The files of the fuzz: good inputs of every kind, bad files, links, a folder; and their checksums."""

    def __init__(self, root: Path):
        self.inputs, self.folder = root / "inputs", root / "folder"
        self.outputs = root / "outputs"
        for path in (self.inputs, self.folder, self.outputs):
            path.mkdir()
        self.good = self._write_good()
        self.bad = self._write_bad()
        os.symlink(self.good["volume"], self.inputs / "volume_link.mrc")
        os.link(self.good["image"], self.inputs / "image_hardlink.tif")
        self.links = [str(self.inputs / "volume_link.mrc"), str(self.inputs / "image_hardlink.tif")]
        self.missing = str(root / "missing.mrc")
        self.checksums = self._checksums()

    def _write_good(self) -> dict:
        folder = self.inputs
        pair2, pair3 = phantom_pair((64, 64), seed=0), phantom_pair((32, 32, 32), seed=1)
        io.write_tiff(folder / "image.tif", pair2.half1.astype(np.float32), 0.1, "µm")
        np.save(folder / "image2.npy", pair2.half2.astype(np.float32))
        io.write_mrc(folder / "volume.mrc", pair3.half1, 1.5)
        io.write_mrc(folder / "volume2.mrc", pair3.half2, 1.5)
        io.write_mrc(folder / "mask.mrc", np.ones((32, 32, 32), np.float32))
        io.write_tiff(folder / "edge.tif", slanted_edge((64, 64), 5.0, 1.5).astype(np.float32))
        np.save(folder / "movie.npy", blinking_movie((60, 24, 24), n_emitters=20, seed=0).movie)
        sinogram = tomography_sinogram(32, np.arange(0, 180, 4.0), seed=0)
        np.save(folder / "sinogram.npy", sinogram.sinogram.astype(np.float32))
        (folder / "angles.txt").write_text("\n".join(f"{a:g}" for a in sinogram.theta))
        (folder / "pairs.csv").write_text("half1,half2\nvolume.mrc,volume2.mrc\n")
        (folder / "pairs2d.csv").write_text("half1,half2\nimage.tif,image2.npy\n")
        locs = smlm_localizations(1000.0, filaments=5, density=100.0, frames=200, seed=0).table
        (folder / "locs.csv").write_text("frame,x [nm],y [nm],uncertainty [nm]\n"
                                         + "".join(f"{f:g},{x:.2f},{y:.2f},{p:g}\n" for x, y, f, p in locs))
        return {path.stem: str(path) for path in folder.iterdir()}

    def _write_bad(self) -> list[str]:
        folder = self.inputs
        (folder / "empty.mrc").write_bytes(b"")
        (folder / "truncated.mrc").write_bytes(Path(self.good["volume"]).read_bytes()[:2000])
        tifffile.imwrite(folder / "boolean.tif", np.eye(32, dtype=bool))
        np.save(folder / "complex.npy", np.ones((32, 32), np.complex64))
        np.save(folder / "four.npy", np.ones((2, 2, 16, 16), np.float32))
        (folder / "text.txt").write_text("not an image\n")
        return [str(folder / name) for name in ("empty.mrc", "truncated.mrc", "boolean.tif", "complex.npy",
                                                "four.npy", "text.txt")]

    def over(self, inputs) -> list[str]:
        """What an output may name to land on one of ``inputs``: each, a link to it, the files a pairs CSV lists."""
        named = set(inputs)
        if named & {self.good["pairs"], self.good["pairs2d"]}:
            named |= {self.good[name] for name in ("volume", "volume2", "image", "image2")}
        links = {self.links[0]: self.good["volume"], self.links[1]: self.good["image"]}
        named |= {link for link, target in links.items() if target in named}
        return sorted(path for path in named if Path(path).is_file())

    def _checksums(self) -> dict:
        return {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in self.inputs.iterdir()}

    def changed(self) -> list[Path]:
        """The input files that are no longer there with their bytes (new files beside them do not count)."""
        return [path for path, checksum in self.checksums.items()
                if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != checksum]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return Files(tmp_path_factory.mktemp("cli fuzz"))


#: The good inputs each subcommand's positional files and --inputs are most often drawn from.
PREFERRED = {"fsc": ("volume", "volume2"), "frc": ("image", "image2"), "ssnr": ("image", "image2", "volume"),
             "mask": ("volume", "volume2"), "decorr": ("image", "volume"), "local-fsc": ("volume", "volume2", "image"),
             "local-res": ("volume", "image"), "mtf": ("edge",), "blink-psf": ("movie",), "tomo": ("sinogram",),
             "view": ("image", "volume"), "loc-frc": ("locs",)}


# ----------------------------------------------------------------------------- values
#: Values that run, by option (``dest``), for the options without a default or whose default is slow.
PLAUSIBLE = {"pixel_size": ("1", "0.5"), "unit": ("nm", "Å", "µm"), "box": ("16",), "step": ("4", "8"),
             "apodization": ("0", "4"), "roi": ("8,20,56,44",), "point": ("32,32",), "angles": ("0:180:45",),
             "angle_axis": ("1",), "center": ("16",), "slices": ("0,1",), "axis": ("0",), "crop": ("9",),
             "exposure_ms": ("10",), "lowpass_sigma": ("2",), "extend": ("1",), "soft_edge": ("2",),
             "window": ("0.3",), "shape": ("16,16,16", "32,32"), "background": ("mean", "moving:5"),
             "threshold": ("half-bit", "0.143", "auto")}
NUMBERS = st.one_of(
    st.integers(-5, 70).map(str),
    st.floats(-2, 70, allow_nan=False).map(lambda v: f"{v:.3g}"),
    st.sampled_from(["0", "1", "-1", "0.5", "1e9", "100000000", "-100000000", "nan", "inf", "-inf", "1e-300"]),
)
HUGE = {"1e9", "100000000", "-100000000"}
WORDS = st.sampled_from(["", " ", "foo", "auto", "-", "mean", "moving:5", "moving:1", "median-clip", "nm", "Å",
                         "half-bit", "0.143", "1/7", "one-bit", "3-sigma", "0:180:45", "0:3.1:45", "10:10:45",
                         "0:180:100000000", "0:180", "x:y:z", "corners", "difference", "outside-mask", "α"])


def _number_list(numbers):
    return st.lists(numbers, min_size=1, max_size=4).map(",".join)


def _value(command: str, action: argparse.Action, files: Files, inputs: list[str]):
    """A strategy for one value of ``action``; an output may be one of the ``inputs`` drawn before it."""
    if action.dest in INPUTS:
        return _input_path(command, files)
    if action.dest in OUTPUTS:
        return _output_path(command, action.dest, files, inputs)
    numbers = NUMBERS.filter(lambda text: text not in HUGE) if (command, action.dest) in CORE_MEMORY else NUMBERS
    wild = st.one_of(numbers, _number_list(numbers), WORDS)
    plausible = _plausible(command, action)
    return st.integers(0, 5).flatmap(lambda n: wild if n == 5 else st.sampled_from(plausible)) if plausible else wild


def _plausible(command: str, action: argparse.Action) -> list[str]:
    """Values ``command`` should run with: the choices, else :data:`PLAUSIBLE`, else the default."""
    if action.choices:
        return [str(choice) for choice in action.choices]
    if action.dest in PLAUSIBLE:
        return list(PLAUSIBLE[action.dest])
    default = action.default
    if isinstance(default, tuple):
        return [",".join(str(value) for value in default)]
    return [] if default in (None, argparse.SUPPRESS) else [str(default)]


def _input_path(command: str, files: Files):
    preferred = [files.good[name] for name in PREFERRED.get(command.removeprefix("batch "), ())]
    pairs = [files.good["pairs"], files.good["pairs2d"]] if command.startswith("batch") else []
    anything = [*files.good.values(), *files.bad, *files.links, files.missing, str(files.folder),
                str(files.inputs)]
    return st.integers(0, 3).flatmap(lambda n: st.sampled_from(anything if n == 3 else preferred + pairs or anything))


def _output_path(command: str, dest: str, files: Files, inputs: list[str]):
    """A new file (or folder), an input of the command or a link to one (to be refused), "-", "" or a folder."""
    if dest == "save_reconstructions" or (dest == "out" and (command in FOLDER_OUT or command.startswith("batch"))):
        new = st.integers(0, 5).map(lambda n: str(files.outputs / f"folder{n}"))
    else:
        suffixes = {"json": ".json", "csv": ".csv", "plot": ".png", "spline_out": ".npz"}
        suffix = st.just(suffixes[dest]) if dest in suffixes else st.sampled_from([".mrc", ".tif", ".npy", ".zarr"])
        new = st.tuples(st.integers(0, 5), suffix).map(lambda n: str(files.outputs / f"out{n[0]}{n[1]}"))
    others = ["-", "", str(files.folder), str(files.inputs)]
    over = files.over(inputs)
    return st.one_of(new, new, st.sampled_from(over or others), st.sampled_from(others))


@st.composite
def argvs(draw, command: str, files: Files) -> list[str]:
    """An argv for ``command``: its positional arguments, then its required options (most often) and a few others,
    in random order.

    The inputs are drawn first, so that an output can name one of them.
    """
    parser = SUBCOMMANDS[command]
    required = {draw(st.sampled_from(group._group_actions)) for group in parser._mutually_exclusive_groups
                if group.required}  # one of --roi / --point, of --angles / --angles-file
    chosen = [action for action in _arguments(parser)
              if not action.option_strings or (draw(st.integers(0, 7)) < 7 if action.required or action in required
                                               else draw(st.integers(0, 5)) == 5)]
    chosen.sort(key=lambda action: action.dest in OUTPUTS)  # stable: positionals keep their order
    inputs, positional, options = [], [], []
    for action in chosen:
        flag = draw(st.sampled_from(action.option_strings)) if action.option_strings else None
        count = {0: 0, "?": draw(st.integers(0, 1)), "*": draw(st.integers(0, 3)),
                 "+": draw(st.integers(1, 3))}.get(action.nargs, 1)
        values = [draw(_value(command, action, files, inputs)) for _ in range(count)]
        if action.dest in INPUTS:
            inputs += values
        if flag is None:
            positional += values
        else:
            options.append([flag, *values])
    return [*command.split(), *positional, *(arg for option in draw(st.permutations(options)) for arg in option)]


# ----------------------------------------------------------------------------- the property
class Hang(BaseException):
    """A run that did not end in :data:`HANG_SECONDS` (not an Exception: ``main`` must not catch it)."""


def _napari_stand_in():
    """A module standing in for napari: ``view`` gets past every check and opens nothing."""
    return types.SimpleNamespace(Viewer=lambda show=True: mock.MagicMock(), run=lambda: None)


def run(argv: list[str], cwd: Path) -> tuple[int, str]:
    """``main(argv)`` in ``cwd``: its exit code and stderr."""
    err = text_io.StringIO()
    with no_hang(HANG_SECONDS, Hang), contextlib.redirect_stdout(text_io.StringIO()), contextlib.redirect_stderr(err), \
            pytest.MonkeyPatch.context() as patch, contextlib.chdir(cwd):
        patch.setitem(sys.modules, "napari", _napari_stand_in())  # this key only: numba's lazy imports stay
        try:
            code = main(argv)
        except SystemExit as exit_:  # --help, --version
            code = exit_.code
    return code, err.getvalue()


def check(argv: list[str], files: Files) -> None:
    """The property: exit 0, 1 or 2; no traceback; exit 2 is one error line; inputs unchanged."""
    code, err = run(argv, files.outputs)
    shown = f"argv: {argv}\nexit code {code}, stderr:\n{err}"
    assert code in (0, 1, 2), shown
    assert "Traceback" not in err, shown
    if code == 2:
        lines = [line for line in err.splitlines() if not line.startswith("note: ")]
        assert len(lines) == 1 and lines[0].startswith("napari-resolution: error: "), shown
    assert not files.changed(), f"{shown}\nchanged: {files.changed()}"


@pytest.mark.parametrize("command", sorted(SUBCOMMANDS))
def test_any_argv_exits_cleanly_and_keeps_the_inputs(files, command):
    @settings(max_examples=EXAMPLES)
    @given(argvs(command, files))
    def fuzz(argv):
        check(argv, files)

    fuzz()
