"""Nothing lost, nothing crashes (#24): outputs never over inputs, Ctrl-C, ``view`` before Qt, options checked once.

See docs/reliability.md for what each bad input gets.
"""

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from napari_resolution import io
from napari_resolution.cli import main

ERROR = "napari-resolution: error: "


@pytest.fixture
def files(tmp_path):
    """Small valid inputs of every subcommand, in ``tmp_path``: name without suffix -> path (str)."""
    rng = np.random.default_rng(0)
    for name in ("v1.mrc", "v2.mrc", "m.mrc"):
        io.write_mrc(tmp_path / name, rng.random((32, 32, 32), np.float32))
    for name in ("i1.tif", "i2.tif", "x.tif", "x_map.tif"):
        io.write_tiff(tmp_path / name, rng.random((64, 64), np.float32))
    for name in ("movie.npy", "psf_c2.npy"):
        np.save(tmp_path / name, rng.random((20, 16, 16), np.float32))
    io.write_tiff(tmp_path / "sino.tif", rng.random((64, 90), np.float32))
    (tmp_path / "angles.txt").write_text("\n".join(str(a) for a in range(0, 180, 2)))
    (tmp_path / "rec").mkdir()
    (tmp_path / "rec" / "sino_odd.tif").write_text("0\n")  # read as --angles-file below
    (tmp_path / "summary.csv").write_text("half1,half2\nv1.mrc,v2.mrc\n")
    return {path.stem: str(path) for path in tmp_path.iterdir()}


def _checksums(folder: Path) -> dict:
    return {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in folder.rglob("*") if path.is_file()}


#: (argv with {names} of ``files``, the option whose value is the input it would replace, "(name of that input)").
OVER_INPUTS = [
    ("fsc {v1} {v2} --json {v1}", "--json", "(half1)"),
    ("fsc {v1} {v2} --mask {m} --csv {m}", "--csv", "(--mask)"),
    ("frc {i1} {i2} --plot {i2}", "--plot", "(half2)"),
    ("ssnr {i1} {i2} --json {i1}", "--json", "(half1)"),
    ("mask {v1} {v2} --out {v2}", "--out", "(half2)"),
    ("decorr {i1} --plot {i1}", "--plot", "(image)"),
    ("local-fsc {v1} {v2} --out {v1}", "--out", "(half1)"),
    ("local-res {v1} --half2 {v2} --out {v2}", "--out", "(half2)"),
    ("mtf {i1} --point 32,32 --json {i1}", "--json", "(image)"),
    ("blink-psf {movie} --spline-out {movie}", "--spline-out", "(movie[0])"),
    ("tomo {sino} --angles-file {angles} --json {angles}", "--json", "(--angles-file)"),
]
#: Outputs derived from an option: per-channel files, reconstructions, the files of a batch's --out.
DERIVED = [
    ("blink-psf {movie} {psf_c2} --psf-out {dir}/psf.npy", "--psf-out {psf_c2} is the input "
                                                                    "{psf_c2} (movie[1])"),
    ("tomo {sino} --angles-file {rec}/sino_odd.tif --save-reconstructions {rec}",
     "--save-reconstructions {rec}/sino_odd.tif is the input {rec}/sino_odd.tif (--angles-file)"),
    ("batch local-res --inputs {x} {x_map} --out {dir}", "--out {x_map} is the input {x_map} (half1)"),
    ("batch fsc --pairs {summary} --out {dir}", "--out {summary} is the input {summary} (--pairs)"),
]


def _refused(argv: list, tmp_path: Path, capsys, expected: str) -> None:
    """``argv`` exits with 2 and one line ending in ``expected``; no file in ``tmp_path`` changed or was added."""
    before = _checksums(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(ERROR) and err.count("\n") == 1 and err.rstrip().endswith(expected), err
    assert _checksums(tmp_path) == before


@pytest.mark.parametrize("link", ["same path", "symlink", "hard link"])
@pytest.mark.parametrize(("command", "option", "name"), OVER_INPUTS, ids=[case[0].split()[0] for case in OVER_INPUTS])
def test_an_output_over_an_input_is_refused_before_anything_runs(files, tmp_path, capsys, monkeypatch, command,
                                                                 option, name, link):
    argv = command.format(**files).split()
    output = target = argv[argv.index(option) + 1]
    if link != "same path":
        output = argv[argv.index(option) + 1] = str(tmp_path / f"link{Path(target).suffix}")
        (os.symlink if link == "symlink" else os.link)(target, output)
    monkeypatch.setattr(io, "read_image", _never_called)  # checked before any file is read
    monkeypatch.setattr(io, "map_image", _never_called)
    _refused(argv, tmp_path, capsys, f"{option} {output} is the input {target} {name}: choose another file")


def _never_called(*args, **kwargs):
    raise AssertionError("an input was read before the outputs were checked")


@pytest.mark.parametrize(("command", "expected"), DERIVED, ids=["per channel", "reconstructions", "batch map",
                                                                "batch summary"])
def test_derived_outputs_over_inputs_are_refused(files, tmp_path, capsys, command, expected):
    names = {**files, "dir": str(tmp_path), "rec": str(tmp_path / "rec")}
    _refused(command.format(**names).split(), tmp_path, capsys, f"{expected.format(**names)}: choose another file")


def test_an_input_linked_to_the_output_is_refused_and_the_message_names_both(files, tmp_path, capsys):
    os.symlink(files["v1"], tmp_path / "link.mrc")
    _refused(["fsc", str(tmp_path / "link.mrc"), files["v2"], "--json", files["v1"]], tmp_path, capsys,
             f"--json {files['v1']} is the input {tmp_path / 'link.mrc'} (half1): choose another file")


def test_a_zarr_map_over_the_folder_of_an_input_is_refused(files, tmp_path, capsys):
    pytest.importorskip("zarr")
    inside = tmp_path / "data.zarr"
    inside.mkdir()
    io.write_mrc(inside / "h1.mrc", np.ones((8, 8, 8), np.float32))
    _refused(["local-fsc", str(inside / "h1.mrc"), files["v2"], "--box", "16", "--out", str(inside)], tmp_path,
             capsys, f"--out {inside} is the folder of the input {inside / 'h1.mrc'} (half1): choose another path")


def test_batch_out_naming_a_file_is_refused(files, tmp_path, capsys):
    _refused(["batch", "decorr", "--inputs", files["i1"], "--out", files["angles"]], tmp_path, capsys,
             f"--out {files['angles']} is a file: batch writes its results into a folder")


@pytest.mark.parametrize(("command", "expected"), [
    ("fsc {v1} {v2} --plot {dir}/r.mrc", "--plot {dir}/r.mrc: cannot write '.mrc' files (supported: .eps, "),
    ("fsc {v1} {v2} --json {rec}", "--json {rec} is a folder: name a file"),
    ("fsc {v1} {v2} --csv {dir}/nowhere/r.csv", "--csv {dir}/nowhere/r.csv: there is no folder {dir}/nowhere to "
                                                "write it into"),
    ("local-res {v1} --out {dir}/map.h5", "--out {dir}/map.h5: cannot write '.h5' files (supported: .mrc, "),
    ("mask {v1} --out -", "--out -: cannot write 'a name without suffix' files (supported: .mrc, "),
], ids=["plot suffix", "folder", "no folder", "map suffix", "no suffix"])
def test_an_output_that_cannot_be_written_is_refused_before_anything_runs(files, tmp_path, capsys, monkeypatch,
                                                                          command, expected):
    names = {**files, "dir": str(tmp_path), "rec": str(tmp_path / "rec")}
    monkeypatch.setattr(io, "read_image", _never_called)
    assert main(command.format(**names).split()) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{ERROR}{expected.format(**names)}") and err.count("\n") == 1, err


def test_the_angles_are_named_by_the_option_that_gave_them(files, tmp_path, capsys):
    assert main(["tomo", files["sino"], "--angles", "0:3.14:90"]) == 2
    assert capsys.readouterr().err.startswith(f"{ERROR}--angles 0:3.14:90 spans only 3.11° (0 to 3.11): these look "
                                              "like radians")
    assert main(["tomo", files["sino"], "--angles-file", files["movie"]]) == 2
    assert capsys.readouterr().err == f"{ERROR}--angles-file {files['movie']}: not a text file of angles (invalid " \
                                      "start byte)\n"


# ----------------------------------------------------------------------------- Ctrl-C
def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


def _interrupted(err: str) -> bool:
    """Whether stderr is the one line of an interrupt, after any ``note:`` (e.g. "compiling the CPU kernels")."""
    lines = err.splitlines()
    return lines[-1] == "napari-resolution: interrupted" and all(line.startswith("note: ") for line in lines[:-1])


def test_ctrl_c_is_one_line_and_exit_code_130(files, monkeypatch, capsys):
    from napari_resolution.core import decorrelation

    monkeypatch.setattr(decorrelation, "decorrelation", _interrupt)
    assert main(["decorr", files["i1"]]) == 130
    assert _interrupted(capsys.readouterr().err)


def test_ctrl_c_while_a_map_is_written_keeps_the_old_map_and_leaves_no_partial_file(files, tmp_path, monkeypatch,
                                                                                       capsys):
    import mrcfile.mrcfile

    out = tmp_path / "map.mrc"
    io.write_mrc(out, np.full((32, 32, 32), 7, np.float32))
    before = _checksums(tmp_path)
    monkeypatch.setattr(mrcfile.mrcfile.MrcFile, "set_data", _interrupt)  # the file is open, half written
    assert main(["local-fsc", files["v1"], files["v2"], "--box", "16", "--out", str(out)]) == 130
    assert _interrupted(capsys.readouterr().err)
    assert _checksums(tmp_path) == before  # the old map as it was, and no hidden .partial file


def test_ctrl_c_in_a_block_by_block_zarr_map_removes_the_partial_map(tmp_path, monkeypatch, capsys):
    pytest.importorskip("zarr")
    from napari_resolution.core import local

    rng = np.random.default_rng(0)
    halves = []
    for name in ("h1.npy", "h2.npy"):
        np.save(tmp_path / name, rng.random((24, 24, 24), np.float32))
        halves.append(str(tmp_path / name))

    def write_then_interrupt(*args, out, **kwargs):
        out[:8] = 1.0
        raise KeyboardInterrupt

    monkeypatch.setattr(local, "local_fsc", write_then_interrupt)
    assert main(["local-fsc", *halves, "--box", "16", "--out", str(tmp_path / "map.zarr")]) == 130
    assert _interrupted(capsys.readouterr().err)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["h1.npy", "h2.npy"]


def test_ctrl_c_in_a_batch_writes_the_summary_with_the_inputs_not_run(files, tmp_path, monkeypatch, capsys):
    from napari_resolution.core import decorrelation

    real = decorrelation.decorrelation
    calls = []

    def second_interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(decorrelation, "decorrelation", second_interrupted)
    out = tmp_path / "out"
    assert main(["batch", "decorr", "--inputs", files["i1"], files["i2"], files["x"],
                 "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (f"napari-resolution: interrupted: 2 of 3 inputs not run (status cancelled in "
                                    f"{out / 'summary.csv'})")
    statuses = [line.split(",")[2] for line in (out / "summary.csv").read_text().splitlines()[1:]]
    assert statuses[0] in ("resolved", "bound", "unresolved") and statuses[1:] == ["cancelled", "cancelled"]
    assert sorted(path.name for path in out.iterdir()) == ["i1.json", "summary.csv"]


def test_sigint_in_a_real_process_is_one_line_and_exit_code_130(files):
    """A real SIGINT, sent once the job is running (it says "ready"), to ``python -c`` running ``main``."""
    script = textwrap.dedent(f"""
        import sys, time
        from napari_resolution.core import decorrelation
        from napari_resolution.cli import main

        def wait(*args, **kwargs):
            print("ready", file=sys.stderr, flush=True)
            time.sleep(60)

        decorrelation.decorrelation = wait
        sys.exit(main(["decorr", {files["i1"]!r}]))
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True, env=env) as process:
        assert process.stderr.readline() == "ready\n"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 130
        assert _interrupted(process.stderr.read())


def test_a_memory_error_is_one_line_and_exit_code_2(files, monkeypatch, capsys):
    """The core refuses what would not fit before allocating (#24 item 4); a MemoryError that still happens is no
    traceback."""
    from napari_resolution.core import decorrelation

    def too_big(*args, **kwargs):
        raise MemoryError("Unable to allocate 3.55 PiB for an array with shape (100000, 100000, 100000)")

    monkeypatch.setattr(decorrelation, "decorrelation", too_big)
    assert main(["decorr", files["i1"]]) == 2
    assert capsys.readouterr().err == (f"{ERROR}not enough memory (Unable to allocate 3.55 PiB for an array with "
                                       "shape (100000, 100000, 100000))\n")


# ----------------------------------------------------------------------------- view
def _bad_files(folder: Path) -> dict:
    """A file of every kind ``view`` refuses before Qt starts: path -> what the message says."""
    io.write_mrc(folder / "good.mrc", np.ones((8, 8, 8), np.float32))
    (folder / "truncated.mrc").write_bytes((folder / "good.mrc").read_bytes()[:1500])
    (folder / "empty.tif").write_bytes(b"")
    np.save(folder / "complex.npy", np.zeros((8, 8), np.complex64))
    np.save(folder / "four.npy", np.zeros((2, 3, 8, 8), np.float32))
    np.save(folder / "none.npy", np.zeros((0, 8), np.float32))
    np.save(folder / "mask.npy", np.zeros((8, 8), bool))
    return {folder / "truncated.mrc": "truncated", folder / "empty.tif": "empty.tif:",
            folder / "complex.npy": "expected real-valued data", folder / "four.npy": "is 4-D",
            folder / "none.npy": "is empty", folder / "mask.npy": "boolean", folder / "missing.mrc": "no such file",
            folder: "is a directory"}


def test_view_checks_every_file_before_napari_and_qt_are_imported(tmp_path):
    bad = _bad_files(tmp_path)
    script = textwrap.dedent(f"""
        import sys
        from napari_resolution.cli import main

        for path in {[str(path) for path in bad]!r}:
            assert main(["view", {str(tmp_path / "good.mrc")!r}, path]) == 2
        gui = sorted(name for name in sys.modules if name.split(".")[0] in ("napari", "qtpy", "PyQt5", "PyQt6",
                                                                              "PySide2", "PySide6", "vispy"))
        assert not gui, gui
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == len(bad)
    for line, (path, message) in zip(lines, bad.items()):
        assert line.startswith(f"{ERROR}{path}") and message in line, line


# ----------------------------------------------------------------------------- options checked once
@pytest.mark.parametrize(("options", "message"), [
    (["--threshold", "foo"], "argument --threshold: must be one of"),
    (["--threshold", "2"], "argument --threshold: must lie in (0, 1), got 2.0"),
    (["--pixel-size", "-1"], "argument --pixel-size: pixel sizes must be finite and positive"),
    (["--ring-thickness", "0"], "argument --ring-thickness: expected a whole number >= 1, got '0'"),
    (["--randomize-at", "nan"], "argument --randomize-at: expected a finite number > 0, got 'nan'"),
    (["--seed", "-1"], "argument --seed: expected a whole number >= 0, got '-1'"),
])
def test_batch_refuses_a_bad_shared_option_once_before_any_input(files, tmp_path, capsys, options, message):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(f"half1,half2\n{files['v1']},{files['v2']}\n{files['v2']},{files['v1']}\n")
    assert main(["batch", "fsc", "--pairs", str(pairs), "--out", str(tmp_path / "out"), *options]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{ERROR}{message}"), err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("command", "options", "message"), [
    ("decorr", ["--n-radii", "5"], "argument --n-radii: expected a whole number >= 10"),
    ("decorr", ["--n-highpass", "1"], "argument --n-highpass: expected a whole number >= 2"),
    ("decorr", ["--axis", "3"], "argument --axis: invalid choice: 3"),
    ("local-res", ["--significance", "0"], "argument --significance: expected a finite number in (0, 1)"),
    ("local-res", ["--noise", "-1"], "argument --noise: expected auto, corners, outside-mask, difference or"),
    ("mtf", ["--roi", "1,2,3"], "argument --roi: expected 4 numbers ROW0,COL0,ROW1,COL1, got '1,2,3'"),
    ("mtf", ["--point", "1,2", "--oversample", "17"], "argument --oversample: expected a whole number in [1, 16]"),
    ("blink-psf", ["--exposure-ms", "0"], "argument --exposure-ms: expected a finite number > 0, got '0'"),
    ("local-fsc", ["--step", "0"], "argument --step: expected a whole number >= 1"),
])
def test_estimator_options_are_checked_as_they_are_parsed(files, tmp_path, capsys, command, options, message):
    listed = ["--pairs", str(tmp_path / "pairs.csv")] if command == "local-fsc" else ["--inputs", files["i1"]]
    assert main(["batch", command, *listed, "--out", str(tmp_path / "out"), *options]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{ERROR}{message}"), err


def test_batch_randomize_needs_a_mask_on_every_pair(files, tmp_path, capsys):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(f"half1,half2,mask\n{files['v1']},{files['v2']},{files['m']}\n"
                     f"{files['v2']},{files['v1']},\n")
    assert main(["batch", "fsc", "--pairs", str(pairs), "--out", str(tmp_path / "out"), "--randomize"]) == 2
    assert capsys.readouterr().err == (f"{ERROR}--randomize needs a mask for every pair: v2 has none (the mask "
                                       f"column of {pairs})\n")


@pytest.mark.parametrize("option", [["--slices", "0,1"], ["--axis", "1"]])
def test_decorr_stack_options_on_a_2d_image_are_refused(files, capsys, option):
    assert main(["decorr", files["i1"], *option]) == 2
    assert capsys.readouterr().err == (f"{ERROR}{option[0]} selects slices of a 3-D stack; {files['i1']} is "
                                       f"2-D: leave {option[0]} out\n")


def test_the_noise_sources_written_out_for_help_are_the_cores():
    from napari_resolution.cli import local_res
    from napari_resolution.core import single_map

    assert local_res.NOISE_SOURCES == single_map.NOISE_SOURCES
