import argparse
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import napari_resolution
from napari_resolution import cli, fourier_correlation, io
from napari_resolution.cli import main
from napari_resolution.core import backend, correlation, decorrelation, randomization


@pytest.fixture
def simulated(tmp_path):
    out = tmp_path / "sim"
    code = main(["simulate", "fsc", "--shape", "48,64,64", "--sigma", "2", "--noise", "0.5",
                 "--pixel-size", "1.25", "--out", str(out)])
    assert code == 0
    return out


def test_simulate_writes_halves_with_voxel_size(simulated):
    half = io.read_image(simulated / "half1.mrc")
    assert half.data.shape == (48, 64, 64)
    assert half.pixel_size == pytest.approx((1.25, 1.25, 1.25))
    assert half.unit == "Å"
    expected = json.loads((simulated / "expected.json").read_text())
    assert expected["status"] == "resolved"


def test_fsc_round_trip(simulated, tmp_path, capsys):
    out_json, out_csv, out_png = tmp_path / "r.json", tmp_path / "r.csv", tmp_path / "r.png"
    code = main(["fsc", str(simulated / "half1.mrc"), str(simulated / "half2.mrc"),
                 "--json", str(out_json), "--csv", str(out_csv), "--plot", str(out_png)])
    assert code == 0
    line = capsys.readouterr().out
    assert "Å (half-bit, full period)" in line
    payload = json.loads(out_json.read_text())
    expected = json.loads((simulated / "expected.json").read_text())
    assert payload["resolution"] == pytest.approx(expected["resolution"], rel=0.04)
    assert payload["pixel_size"] == [1.25, 1.25, 1.25]
    # the CLI reports exactly what the API computes on the same files
    a = io.read_image(simulated / "half1.mrc").data
    b = io.read_image(simulated / "half2.mrc").data
    direct = fourier_correlation(a, b, pixel_size=1.25)
    assert payload["resolution"] == pytest.approx(direct.resolution)
    header = out_csv.read_text().splitlines()[0]
    assert header.startswith("frequency_cycles_per_pixel,correlation,ssnr,n_points,threshold_half-bit")
    assert out_png.read_bytes()[:4] == b"\x89PNG"


def test_json_to_stdout_and_options(simulated, capsys):
    code = main(["fsc", str(simulated / "half1.mrc"), str(simulated / "half2.mrc"), "--json", "-",
                 "--threshold", "one-bit", "--pixel-size", "2", "--apodization", "0", "--ring-thickness", "2"])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["criterion"] == "one-bit"
    assert payload["parameters"]["ring_thickness"] == 2
    assert payload["pixel_size"] == [2.0, 2.0, 2.0]


def test_frc_reads_tiff_and_npy(tmp_path, capsys):
    import tifffile

    from napari_resolution.core.simulate import phantom_pair

    pair = phantom_pair((128, 128), seed=0)
    tifffile.imwrite(tmp_path / "a.tif", pair.half1.astype(np.float32))
    np.save(tmp_path / "b.npy", pair.half2)
    assert main(["frc", str(tmp_path / "a.tif"), str(tmp_path / "b.npy"), "--pixel-size", "0.1"]) == 0
    assert "full period" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv_tail",
    [
        ["--threshold", "quarter-bit"],
        ["--apodization", "500"],
        ["--pixel-size", "1,2"],
        ["--pixel-size", "abc"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(simulated, capsys, argv_tail):
    code = main(["fsc", str(simulated / "half1.mrc"), str(simulated / "half2.mrc"), *argv_tail])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("napari-resolution: error:") and err.count("\n") == 1


def test_missing_corrupt_and_wrong_rank_files(tmp_path, simulated, capsys):
    corrupt = tmp_path / "bad.mrc"
    corrupt.write_bytes(b"not an mrc file at all" * 10)
    image2d = tmp_path / "flat.npy"
    np.save(image2d, np.zeros((32, 32)))
    pickled = tmp_path / "obj.npy"
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    for argv in (["fsc", "missing.mrc", "missing2.mrc"],
                 ["fsc", str(corrupt), str(corrupt)],
                 ["fsc", str(image2d), str(image2d)],
                 ["frc", str(pickled), str(pickled)],
                 ["nonsense"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err


def test_demo_prints_measured_and_known(tmp_path, capsys):
    assert main(["demo", "--shape", "64,64,64", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "measured resolution" in out and "known resolution" in out
    payload = json.loads((tmp_path / "fsc.json").read_text())
    measured, known = payload["measured"]["resolution"], payload["expected"]["resolution"]
    assert measured == pytest.approx(known, rel=0.04)
    assert (tmp_path / "fsc.png").stat().st_size > 10_000


@pytest.fixture
def mask_path(simulated, tmp_path, capsys):
    path = tmp_path / "mask.mrc"
    code = main(["mask", str(simulated / "half1.mrc"), str(simulated / "half2.mrc"), "--out", str(path),
                 "--threshold", "-0.2", "--soft-edge", "4", "--extend", "0", "--lowpass-sigma", "3"])
    assert code == 0 and "inside" in capsys.readouterr().out
    return path


def test_mask_command_and_randomised_fsc(simulated, mask_path, tmp_path, capsys):
    mask = io.read_image(mask_path)
    assert mask.data.shape == (48, 64, 64) and mask.pixel_size == pytest.approx((1.25,) * 3)
    assert 0 <= mask.data.min() and mask.data.max() == 1
    out_json, out_png = tmp_path / "r.json", tmp_path / "r.png"
    code = main(["fsc", str(simulated / "half1.mrc"), str(simulated / "half2.mrc"), "--mask", str(mask_path),
                 "--randomize", "--randomize-at", "0.8", "--json", str(out_json), "--plot", str(out_png)])
    assert code == 0
    assert "phase-randomisation corrected" in capsys.readouterr().out
    payload = json.loads(out_json.read_text())
    for curve in ("unmasked", "masked", "randomized", "corrected"):
        assert len(payload[curve]) == len(payload["frequency"])
    assert payload["randomization_shell"] > 0
    assert out_png.stat().st_size > 10_000


def test_randomize_needs_a_mask_and_mask_needs_maps(simulated, tmp_path, capsys):
    assert main(["fsc", str(simulated / "half1.mrc"), str(simulated / "half2.mrc"), "--randomize"]) == 2
    assert "--randomize needs --mask" in capsys.readouterr().err
    assert main(["mask", str(simulated / "half1.mrc"), "--out", str(tmp_path / "m.mrc"), "--threshold", "x"]) == 2
    assert "--threshold" in capsys.readouterr().err


def test_decorrelation_command(tmp_path, capsys):
    import tifffile

    from napari_resolution.core.simulate import band_limited_noise

    image_path = tmp_path / "image.tif"
    tifffile.imwrite(image_path, band_limited_noise((256, 256), 0.2, seed=0).astype(np.float32))
    out_json, out_png = tmp_path / "d.json", tmp_path / "d.png"
    assert main(["decorr", str(image_path), "--pixel-size", "65", "--json", str(out_json), "--plot", str(out_png)]) == 0
    assert "decorrelation, full period" in capsys.readouterr().out
    payload = json.loads(out_json.read_text())
    assert payload["resolution"] == pytest.approx(2 * 65 / payload["kc_max"])
    assert 0.9 <= payload["kc_max"] / 2 / 0.2 <= 1.15
    assert out_png.stat().st_size > 10_000
    stack_path = tmp_path / "stack.npy"
    np.save(stack_path, np.stack([band_limited_noise((96, 96), c, seed=i) for i, c in enumerate((0.1, 0.3))]))
    assert main(["decorr", str(stack_path), "--slices", "0,1", "--json", "-", "--plot", str(out_png)]) == 0
    stack = json.loads(capsys.readouterr().out)
    assert stack["n_resolved"] == 2 and len(stack["resolutions"]) == 2
    assert main(["decorr", str(stack_path), "--axis", "5"]) == 2
    assert "axis" in capsys.readouterr().err


def test_decorrelation_command_with_an_interval(tmp_path, capsys):
    import tifffile

    from napari_resolution.core.decorrelation import decorrelation
    from napari_resolution.core.simulate import band_limited_noise

    image = band_limited_noise((160, 160), 0.2, seed=0).astype(np.float32)
    image += 0.5 * image.std() * np.random.default_rng(1).standard_normal(image.shape).astype(np.float32)
    tifffile.imwrite(tmp_path / "image.tif", image)
    assert main(["decorr", str(tmp_path / "image.tif"), "--pixel-size", "65", "--confidence", "0.95", "--seed", "3",
                 "--json", "-"]) == 0
    payload = json.loads(capsys.readouterr().out)
    expected = decorrelation(image, pixel_size=65, confidence=0.95, seed=3).resolution_interval
    assert payload["confidence"] == 0.95 and payload["resolution_interval"] == pytest.approx(list(expected))
    assert main(["decorr", str(tmp_path / "image.tif"), "--confidence", "1"]) == 2
    assert "--confidence" in capsys.readouterr().err


def test_mtf_command_edge_and_point(tmp_path, capsys):
    import tifffile

    from napari_resolution.core.simulate import gaussian_spot, slanted_edge

    edge_path, spot_path = tmp_path / "edge.tif", tmp_path / "spot.npy"
    tifffile.imwrite(edge_path, slanted_edge((200, 200), 80, 1.2, noise=0.004, seed=0).astype(np.float32))
    np.save(spot_path, gaussian_spot((80, 80), (40.3, 39.6), 1.5, background=0.1, noise=0.005, seed=0))
    out_json, out_png = tmp_path / "m.json", tmp_path / "m.png"
    assert main(["mtf", str(edge_path), "--roi", "30,40,170,160", "--pixel-size", "0.5",
                 "--json", str(out_json), "--plot", str(out_png)]) == 0
    assert "MTF50" in capsys.readouterr().out
    payload = json.loads(out_json.read_text())
    truth = np.sqrt(np.log(2) / (2 * np.pi**2 * 1.2**2))
    assert payload["f50"] == pytest.approx(truth, rel=0.03) and payload["edge_angle"] == pytest.approx(80, abs=0.3)
    assert out_png.stat().st_size > 10_000
    assert main(["mtf", str(spot_path), "--point", "40,40", "--json", "-", "--plot", str(out_png)]) == 0
    spot = json.loads(capsys.readouterr().out)
    assert spot["kind"] == "point" and spot["fwhm"] == pytest.approx(2.3548 * 1.5, rel=0.03)
    assert main(["mtf", str(edge_path), "--roi", "0,0,10,10"]) == 2
    assert "too small" in capsys.readouterr().err
    assert main(["mtf", str(edge_path)]) == 2


@pytest.fixture
def images_2d(tmp_path):
    from napari_resolution.core.simulate import phantom_pair

    pair = phantom_pair((96, 96), seed=0)
    paths = tmp_path / "a.npy", tmp_path / "b.npy"
    for path, image in zip(paths, (pair.half1, pair.half2)):
        np.save(path, image)
    return [str(path) for path in paths]


@pytest.mark.parametrize("command", ["fsc", "mtf", "mask"])
@pytest.mark.parametrize("value", ["0", "-1", "1,0,1", "-1,2,3", "nan"])
def test_pixel_size_must_be_positive(simulated, tmp_path, capsys, command, value):
    half = str(simulated / "half1.mrc")
    argv = {"fsc": ["fsc", half, half], "mtf": ["mtf", half, "--point", "1,1"],
            "mask": ["mask", half, "--out", str(tmp_path / "m.mrc")]}[command]
    assert main([*argv, "--pixel-size", value]) == 2
    err = capsys.readouterr().err
    assert err.startswith("napari-resolution: error: argument --pixel-size:") and err.count("\n") == 1


def test_core_warnings_are_printed_once(simulated, mask_path, capsys):
    with warnings.catch_warnings(record=True) as raw:
        warnings.simplefilter("always")
        code = main(["fsc", str(simulated / "half1.mrc"), str(simulated / "half2.mrc"), "--mask", str(mask_path),
                     "--randomize"])
    assert code == 0
    assert not raw  # no raw Python warning with its source line
    lines = capsys.readouterr().err.splitlines()
    assert lines and all(line.startswith("warning: ") for line in lines)
    assert len(set(lines)) == len(lines)
    assert any("too sharp" in line for line in lines)


def test_result_warnings_reach_stderr_with_json_on_stdout(tmp_path, capsys):
    from napari_resolution.core.simulate import slanted_edge

    path = tmp_path / "edge.npy"
    np.save(path, slanted_edge((200, 200), 89.5, 1.2, noise=0.004, seed=0))
    assert main(["mtf", str(path), "--roi", "30,30,170,170", "--json", "-"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["warnings"]
    summary, warning = captured.err.splitlines()
    assert "MTF50" in summary and warning.startswith("warning: edge angle 89.50°")


def test_json_to_stdout_alone_with_the_summary_on_stderr(images_2d, capsys):
    assert main(["frc", *images_2d, "--json", "-"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["status"] == "resolved"
    assert "(half-bit, full period)" in captured.err and captured.err.count("\n") == 1


def test_closed_stdout_exits_quietly(images_2d):
    reader, writer = os.pipe()
    os.close(reader)  # like `... --json - | head -c 10`, but the reader is gone before anything is written
    try:
        run = subprocess.run([sys.executable, "-m", "napari_resolution.cli", "frc", *images_2d, "--json", "-"],
                             stdout=writer, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(writer)
    assert run.returncode == 1
    assert [line for line in run.stderr.splitlines() if not line.startswith("note: compiling")] == []


@pytest.mark.parametrize("roi", [["--roi", "-10,-10,20,20"], ["--roi=-10,-10,20,20"]])
def test_negative_roi_reaches_the_roi_check(tmp_path, capsys, roi):
    path = tmp_path / "flat.npy"
    np.save(path, np.zeros((64, 64)))
    assert main(["mtf", str(path), *roi]) == 2
    err = capsys.readouterr().err
    assert "outside the image" in err and err.count("\n") == 1


@pytest.mark.parametrize("command", ["fsc", "frc", "ssnr", "decorr"])
def test_gpu_without_a_gpu_is_one_line(monkeypatch, simulated, images_2d, capsys, command):
    monkeypatch.setattr(backend, "gpu_available", lambda: False)
    half = str(simulated / "half1.mrc")
    inputs = {"fsc": [half, half], "frc": images_2d, "ssnr": images_2d, "decorr": images_2d[:1]}[command]
    assert main([command, *inputs, "--gpu"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("napari-resolution: error: --gpu needs cupy and a CUDA GPU") and err.count("\n") == 1


@pytest.mark.parametrize("command, module, function", [("frc", correlation, "fourier_correlation"),
                                                       ("ssnr", correlation, "fourier_correlation"),
                                                       ("decorr", decorrelation, "decorrelation")])
def test_gpu_flag_selects_the_gpu_device(monkeypatch, images_2d, capsys, command, module, function):
    devices = []
    real = getattr(module, function)

    def recording(*args, device, **kwargs):
        devices.append(device)
        return real(*args, **kwargs)

    monkeypatch.setattr(backend, "gpu_available", lambda: True)
    monkeypatch.setattr(module, function, recording)
    inputs = images_2d[:1] if command == "decorr" else images_2d
    assert main([command, *inputs, "--gpu"]) == 0
    assert main([command, *inputs]) == 0
    assert devices == ["gpu", None]


def test_gpu_flag_reaches_phase_randomisation(monkeypatch, simulated, mask_path, capsys):
    devices = []
    real = randomization.phase_randomized_fsc

    def recording(*args, device, **kwargs):
        devices.append(device)
        return real(*args, **kwargs)

    monkeypatch.setattr(backend, "gpu_available", lambda: True)
    monkeypatch.setattr(randomization, "phase_randomized_fsc", recording)
    assert main(["fsc", str(simulated / "half1.mrc"), str(simulated / "half2.mrc"), "--mask", str(mask_path),
                 "--randomize", "--gpu"]) == 0
    assert devices == ["gpu"]


@pytest.mark.parametrize("shape", [(96, 96), (40, 40, 40)])
def test_ssnr_command(tmp_path, capsys, shape):
    from napari_resolution.core.simulate import phantom_pair

    pair = phantom_pair(shape, seed=0, pixel_size=0.5)
    a, b = tmp_path / "a.mrc", tmp_path / "b.mrc"
    io.write_mrc(a, pair.half1, 0.5)
    io.write_mrc(b, pair.half2, 0.5)
    out_csv, out_png, out_json = tmp_path / "s.csv", tmp_path / "s.png", tmp_path / "s.json"
    assert main(["ssnr", str(a), str(b), "--csv", str(out_csv), "--plot", str(out_png),
                 "--json", str(out_json)]) == 0
    line = capsys.readouterr().out
    direct = fourier_correlation(pair.half1, pair.half2, pixel_size=0.5)
    expected = direct.reference_pixel_size / direct.ssnr_crossing
    assert line.startswith(f"{expected:.3g} Å (half-bit, full period, SSNR crossing)")
    assert line.rstrip().endswith("status resolved")
    assert out_csv.read_text().splitlines()[0] == "frequency_cycles_per_pixel,ssnr,ssnr_threshold"
    assert len(out_csv.read_text().splitlines()) == len(direct.frequency) + 1
    assert json.loads(out_json.read_text())["ssnr_crossing"] == pytest.approx(direct.ssnr_crossing)
    assert out_png.stat().st_size > 10_000


def _help(argv, capsys) -> str:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0
    return capsys.readouterr().out


def test_frc_help_is_for_2d_images(capsys):
    text = _help(["frc", "--help"], capsys)
    assert "P or Y,X" in text and "FRC" in text
    assert "half-map" not in text and "Z,Y,X" not in text and "FSC" not in text


def _parsers(parser, name="napari-resolution"):
    """``parser`` and every subcommand's parser, with their command lines."""
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command, sub in action.choices.items():
                yield from _parsers(sub, f"{name} {command}")


def test_every_option_has_help():
    missing = [f"{name} {action.dest}" for name, parser in _parsers(cli.build_parser())
               for action in parser._actions if not action.help]
    assert missing == []


def test_version(capsys):
    assert napari_resolution.__version__ in _help(["--version"], capsys)


@pytest.mark.parametrize("module", ["napari_resolution", "napari_resolution.cli"])
def test_python_dash_m_runs_the_command_line(module):
    run = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("usage: napari-resolution")


def test_compiling_is_a_note_on_stderr(monkeypatch, simulated, capsys):
    from napari_resolution.core import kernels

    def compiling_fsc(*args, **kwargs):
        kernels.logger.info(kernels.COMPILING_MESSAGE)
        return fourier_correlation(*args, **kwargs)

    monkeypatch.setattr(correlation, "fourier_correlation", compiling_fsc)
    assert main(["fsc", str(simulated / "half1.mrc"), str(simulated / "half2.mrc")]) == 0
    captured = capsys.readouterr()
    assert f"note: {kernels.COMPILING_MESSAGE}" in captured.err
    assert "compiling" not in captured.out


@pytest.mark.parametrize("suffix", [".mrc", ".tif", ".npy"])
def test_mask_out_writes_the_format_its_extension_names(simulated, tmp_path, suffix, capsys):
    out = tmp_path / f"m{suffix}"
    assert main(["mask", str(simulated / "half1.mrc"), "--out", str(out), "--soft-edge", "3"]) == 0
    written = io.read_image(out)
    assert written.data.shape == (48, 64, 64)
    if suffix != ".npy":  # .npy has no place for a pixel size
        assert written.pixel_size == pytest.approx((1.25, 1.25, 1.25))
        assert written.unit == "Å"


def test_mask_out_with_an_unknown_extension_is_refused(simulated, tmp_path, capsys):
    assert main(["mask", str(simulated / "half1.mrc"), "--out", str(tmp_path / "m.png")]) == 2
    assert "m.png: cannot write '.png' files" in capsys.readouterr().err
    assert not (tmp_path / "m.png").exists()


def test_unit_overrides_the_file_unit(simulated, capsys):
    assert main(["fsc", str(simulated / "half1.mrc"), str(simulated / "half2.mrc"), "--pixel-size", "0.125",
                 "--unit", "nm"]) == 0
    assert " nm (half-bit, full period)" in capsys.readouterr().out


def test_errors_name_the_files_not_the_arguments(simulated, tmp_path, capsys):
    broken = tmp_path / "broken.mrc"
    data = io.read_image(simulated / "half1.mrc").data.copy()
    data[0, 0, 0] = np.inf
    with warnings.catch_warnings():  # mrcfile's own complaints about writing an Inf
        warnings.simplefilter("ignore", RuntimeWarning)
        io.write_mrc(broken, data, 1.25)
    assert main(["fsc", str(broken), str(simulated / "half2.mrc")]) == 2
    err = capsys.readouterr().err
    assert f"{broken} contains NaN or Inf values" in err
    other = tmp_path / "other.mrc"
    io.write_mrc(other, np.random.default_rng(0).random((48, 64, 60), np.float32), 1.25)
    assert main(["fsc", str(simulated / "half1.mrc"), str(other)]) == 2
    assert f"{simulated / 'half1.mrc'} and {other} must have the same shape" in capsys.readouterr().err
    assert "np.float64" not in err


def test_the_same_file_twice_is_a_warning(simulated, capsys):
    half = str(simulated / "half1.mrc")
    assert main(["fsc", half, half]) == 0
    assert "warning: the correlation is 1 in every shell: the two inputs are the same image" in capsys.readouterr().err


def test_local_fsc_writes_a_map_placed_on_the_first_half_map(tmp_path, capsys):
    from napari_resolution.core.simulate import two_region_pair

    half1, half2, _ = two_region_pair((48, 48, 48), noise=0.3, seed=0)
    for name, half in (("h1.mrc", half1), ("h2.mrc", half2)):
        io.write_mrc(tmp_path / name, half, 1.3, placement={"origin": (10.0, 20.0, 30.0), "start": (1, 2, 3)})
    out, table = tmp_path / "locres.mrc", tmp_path / "stats.json"
    assert main(["local-fsc", str(tmp_path / "h1.mrc"), str(tmp_path / "h2.mrc"), "--box", "24", "--step", "8",
                 "--out", str(out), "--json", str(table), "--plot", str(tmp_path / "hist.png")]) == 0
    assert "Å local resolution (0.143" in capsys.readouterr().out
    written = io.read_image(out)
    assert written.data.shape == (48, 48, 48) and written.pixel_size == pytest.approx((1.3, 1.3, 1.3))
    assert io.mrc_placement(out) == {"origin": (10.0, 20.0, 30.0), "start": (1, 2, 3)}
    stats = json.loads(table.read_text())
    assert stats["statistics"]["median"] == pytest.approx(float(np.median(written.data)), rel=1e-5)
    assert len(stats["centres"]) == len(stats["values"]) == 4**3  # starts 0, 8, 16, 24 per axis
    assert (tmp_path / "hist.png").stat().st_size > 0


@pytest.mark.slow
def test_local_fsc_into_zarr_and_on_workers_equals_the_in_memory_map(tmp_path, capsys):
    """A .zarr map (block by block on local threads) and --workers 2 (a LocalCluster) give the in-memory map."""
    pytest.importorskip("distributed")
    pytest.importorskip("zarr")
    from napari_resolution.core.simulate import two_region_pair

    half1, half2, _ = two_region_pair((40, 44, 36), noise=0.3, seed=1)
    for name, half in (("h1.mrc", half1), ("h2.mrc", half2)):
        io.write_mrc(tmp_path / name, half, 1.3)
    halves = [str(tmp_path / "h1.mrc"), str(tmp_path / "h2.mrc")]
    options = ["--box", "16", "--step", "6"]
    assert main(["local-fsc", *halves, *options, "--out", str(tmp_path / "memory.mrc")]) == 0
    assert main(["local-fsc", *halves, *options, "--out", str(tmp_path / "map.zarr"), "--progress",
                 "--json", str(tmp_path / "zarr.json")]) == 0
    assert "100 % done" in capsys.readouterr().err
    assert main(["local-fsc", *halves, *options, "--out", str(tmp_path / "workers.mrc"), "--workers", "2"]) == 0
    expected = io.read_image(tmp_path / "memory.mrc").data
    stored = io.lazy_image(tmp_path / "map.zarr")
    assert stored.pixel_size == pytest.approx((1.3, 1.3, 1.3)) and stored.unit == "Å"
    np.testing.assert_allclose(np.nan_to_num(stored.data.compute()), expected, rtol=1e-5)
    np.testing.assert_allclose(io.read_image(tmp_path / "workers.mrc").data, expected, rtol=1e-5)
    assert json.loads((tmp_path / "zarr.json").read_text())["parameters"]["streamed"]


def test_local_fsc_block_by_block_needs_a_box_and_no_gpu(tmp_path, capsys):
    pytest.importorskip("zarr")
    pair = [np.random.default_rng(seed).standard_normal((32, 32, 32)).astype(np.float32) for seed in (0, 1)]
    for name, half in zip(("h1.npy", "h2.npy"), pair):
        np.save(tmp_path / name, half)
    halves = [str(tmp_path / "h1.npy"), str(tmp_path / "h2.npy")]
    assert main(["local-fsc", *halves, "--out", str(tmp_path / "map.zarr")]) == 2
    assert "box must be given when lazy inputs are computed block by block" in capsys.readouterr().err
    assert main(["local-fsc", *halves, "--box", "16", "--out", str(tmp_path / "map.zarr"), "--gpu"]) == 2
    assert "--gpu computes in memory" in capsys.readouterr().err


def test_local_fsc_into_zarr_keeps_inputs_and_old_maps_safe(tmp_path, capsys):
    """An --out naming an input is refused; a failed run leaves an existing map as it was; batch takes .zarr."""
    pytest.importorskip("zarr")
    pair = [np.random.default_rng(seed).standard_normal((24, 24, 24)).astype(np.float32) for seed in (0, 1)]
    for name, half in zip(("h1.zarr", "h2.zarr"), pair):
        io.new_zarr_map(tmp_path / name, half.shape, 1.0, "Å")[...] = half
    halves = [str(tmp_path / "h1.zarr"), str(tmp_path / "h2.zarr")]
    assert main(["local-fsc", *halves, "--box", "16", "--out", halves[0]]) == 2
    assert f"--out {halves[0]} is the input {halves[0]} (half1): choose another file" in capsys.readouterr().err
    np.testing.assert_array_equal(io.lazy_image(halves[0]).data.compute(), pair[0])
    assert main(["local-fsc", *halves, "--box", "16", "--out", str(tmp_path / "map.zarr")]) == 0
    before = io.lazy_image(tmp_path / "map.zarr").data.compute()
    broken = pair[1].copy()
    broken[3, 3, 3] = np.nan
    io.new_zarr_map(tmp_path / "broken.zarr", broken.shape, 1.0, "Å")[...] = broken
    assert main(["local-fsc", halves[0], str(tmp_path / "broken.zarr"), "--box", "16",
                 "--out", str(tmp_path / "map.zarr")]) == 2
    assert "broken.zarr contains NaN or Inf values" in capsys.readouterr().err  # the file, not the argument
    np.testing.assert_array_equal(io.lazy_image(tmp_path / "map.zarr").data.compute(), before)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["broken.zarr", "h1.zarr", "h2.zarr", "map.zarr"]
    (tmp_path / "pairs.csv").write_text("half1,half2\nh1.zarr,h2.zarr\n")
    assert main(["batch", "local-fsc", "--pairs", str(tmp_path / "pairs.csv"), "--box", "16",
                 "--out", str(tmp_path / "batch")]) == 0
    summary = (tmp_path / "batch" / "summary.csv").read_text().splitlines()
    assert len(summary) == 2 and ",error," not in summary[1]


def test_local_res_of_a_half_map_pair_writes_a_placed_map(tmp_path, capsys):
    from napari_resolution.core.simulate import two_region_pair

    half1, half2, _ = two_region_pair((48, 64, 64), noise=0.3, seed=2)
    for name, half in (("h1.mrc", half1), ("h2.mrc", half2)):
        io.write_mrc(tmp_path / name, half, 1.1, placement={"origin": (5.0, 6.0, 7.0), "start": (0, 0, 0)})
    out, table = tmp_path / "locres.mrc", tmp_path / "stats.json"
    assert main(["local-res", str(tmp_path / "h1.mrc"), "--half2", str(tmp_path / "h2.mrc"), "--significance", "0.01",
                 "--out", str(out), "--json", str(table)]) == 0
    assert "Å local resolution (FSC 0.143 equivalent, p < 0.01" in capsys.readouterr().out
    written = io.read_image(out)
    assert written.data.shape == (48, 64, 64) and io.mrc_placement(out)["origin"] == (5.0, 6.0, 7.0)
    stats = json.loads(table.read_text())
    assert stats["parameters"]["noise_source"] == "difference" and stats["parameters"]["significance"] == 0.01
    assert stats["statistics"]["median"] == pytest.approx(float(np.median(written.data[written.data > 0])), rel=1e-5)


def test_local_res_noise_options_and_bad_input(tmp_path, capsys):
    from napari_resolution.core.simulate import two_region_pair

    half1, _, _ = two_region_pair((64, 80), noise=0.3, seed=3)
    io.write_tiff(tmp_path / "a.tif", half1, (0.1, 0.1), unit="µm")
    out = tmp_path / "map.tif"
    assert main(["local-res", str(tmp_path / "a.tif"), "--noise", "0.3", "--window", "0.5", "--out", str(out)]) == 0
    assert "white noise of std 0.3" in capsys.readouterr().out
    assert io.read_image(out).pixel_size == pytest.approx((0.1, 0.1))
    assert main(["local-res", str(tmp_path / "a.tif"), "--noise", "difference", "--out", str(out)]) == 2
    assert "needs half2" in capsys.readouterr().err
    assert main(["local-res", str(tmp_path / "a.tif"), "--noise", "elsewhere", "--out", str(out)]) == 2
    assert "argument --noise: expected auto, corners, outside-mask, difference or" in capsys.readouterr().err
    assert main(["local-res", str(tmp_path / "a.tif"), "--significance", "1", "--out", str(out)]) == 2
    assert "argument --significance: expected a finite number in (0, 1)" in capsys.readouterr().err


def test_local_res_bands_threshold_p_values_and_small_maps(tmp_path, capsys):
    """--resolutions, --threshold none, --p-values (an .npz: one map per band); a map too small for the default
    bands is told what works (and --resolutions does)."""
    from napari_resolution.core.simulate import two_region_pair

    half1, half2, _ = two_region_pair((40, 40, 40), noise=0.3, seed=4)
    for name, half in (("h1.mrc", half1), ("h2.mrc", half2)):
        io.write_mrc(tmp_path / name, half, 1.5)
    first, out, table = str(tmp_path / "h1.mrc"), str(tmp_path / "map.mrc"), tmp_path / "stats.json"
    assert main(["local-res", first, "--half2", str(tmp_path / "h2.mrc"), "--resolutions", "12,9,6,4.5,3",
                 "--threshold", "none", "--p-values", str(tmp_path / "p.npz"), "--out", out,
                 "--json", str(table)]) == 0
    assert "local resolution (p < 0.05;" in capsys.readouterr().out
    stats = json.loads(table.read_text())
    assert stats["parameters"]["resolutions"] == [12.0, 9.0, 6.0, 4.5, 3.0] and stats["parameters"]["threshold"] is None
    with np.load(tmp_path / "p.npz") as archive:
        assert archive["p_values"].shape == (5, 40, 40, 40)
        np.testing.assert_allclose(archive["resolutions"], [12, 9, 6, 4.5, 3])
    assert main(["local-res", first, "--p-values", first, "--noise", "0.2", "--out", out]) == 2
    assert f"--p-values {first} is the input {first} (half1)" in capsys.readouterr().err
    io.write_mrc(tmp_path / "small.mrc", half1[:20, :20, :20], 1.5)
    assert main(["local-res", str(tmp_path / "small.mrc"), "--out", out]) == 2
    err = capsys.readouterr().err
    assert "too small" in err and "give resolutions (at least 2 periods from 3 to 30" in err
    assert "a mask or noise=" in err
    assert main(["local-res", str(tmp_path / "small.mrc"), "--noise", "0.2", "--out", out]) == 0
    capsys.readouterr()
    io.write_mrc(tmp_path / "tiny.mrc", half1[:12, :12, :12], 1.5)
    assert main(["local-res", str(tmp_path / "tiny.mrc"), "--noise", "0.2", "--out", out]) == 2
    assert capsys.readouterr().err.rstrip().endswith("give resolutions (at least 2 periods from 3 to 18, pixel_size "
                                                     "units)")
    assert main(["local-res", str(tmp_path / "tiny.mrc"), "--noise", "0.2", "--resolutions", "9,6,3",
                 "--out", out]) == 0
    assert main(["local-res", first, "--threshold", "half-bit", "--out", out]) == 2
    assert "argument --threshold: expected 0.143, 0.5, none or a number in (0, 1)" in capsys.readouterr().err
    assert main(["local-res", first, "--resolutions", "8", "--out", out]) == 2
    assert "argument --resolutions: expected at least 2 comma-separated periods" in capsys.readouterr().err


def test_local_fsc_of_images_writes_a_calibrated_tiff_and_names_bad_input(tmp_path, capsys):
    from napari_resolution.core.simulate import two_region_pair

    half1, half2, _ = two_region_pair((64, 80), noise=0.3, seed=1)
    for name, half in (("a.tif", half1), ("b.tif", half2)):
        io.write_tiff(tmp_path / name, half, (0.1, 0.1), unit="µm")
    out = tmp_path / "map.tif"
    assert main(["local-fsc", str(tmp_path / "a.tif"), str(tmp_path / "b.tif"), "--box", "32", "--out", str(out)]) == 0
    assert "µm local resolution" in capsys.readouterr().out
    assert io.read_image(out).pixel_size == pytest.approx((0.1, 0.1))
    assert main(["local-fsc", str(tmp_path / "a.tif"), str(tmp_path / "b.tif"), "--box", "4", "--out", str(out)]) == 2
    assert "argument --box: expected a whole number >= 8, got '4'" in capsys.readouterr().err


def test_the_widget_choices_are_the_launchers():
    from napari_resolution.cli import view
    from napari_resolution.gui import launch

    assert view.WIDGETS == tuple(launch.WIDGETS)
    assert view.HALF_MAP_WIDGETS == tuple(key for key, (_, sample) in launch.WIDGETS.items() if sample == "half_maps")


@pytest.mark.parametrize(("command", "options", "first_column"), [
    ("decorr", [], "frequency_cycles_per_pixel"),
    ("mtf", ["--roi", "30,40,170,160"], "frequency_cycles_per_pixel"),
    ("local-res", ["--out", "map.tif"], "bin_low"),
])
def test_every_estimator_writes_its_table(tmp_path, monkeypatch, capsys, command, options, first_column):
    from napari_resolution.core.simulate import slanted_edge

    monkeypatch.chdir(tmp_path)
    np.save("edge.npy", slanted_edge((200, 200), 80, 1.2, noise=0.004, seed=0))
    assert main([command, "edge.npy", *options, "--csv", "table.csv"]) == 0
    header, *rows = (tmp_path / "table.csv").read_text().splitlines()
    assert header.split(",")[0] == first_column
    assert rows and all(len(row.split(",")) == len(header.split(",")) for row in rows)


def test_numbers_without_a_known_pixel_size_say_px(tmp_path, capsys):
    from napari_resolution.core.simulate import band_limited_noise

    path = tmp_path / "image.npy"  # NPY: no pixel size in the file
    np.save(path, band_limited_noise((128, 128), 0.2, seed=0).astype(np.float32))
    assert cli.main(["decorr", str(path)]) == 0
    assert " px (decorrelation, full period) · " in capsys.readouterr().out
    assert cli.main(["decorr", str(path), "--pixel-size", "0.1", "--unit", "µm"]) == 0
    assert " µm (decorrelation" in capsys.readouterr().out


def test_mtf_of_a_bead_z_stack(tmp_path, capsys):
    from napari_resolution.core.simulate import bead_stack

    stack = bead_stack((31, 48, 48), (15.2, 23.6, 24.2), (3.0, 1.5, 1.5), amplitude=1000, background=100, noise=3,
                       seed=0).astype(np.float32)
    io.write_tiff(tmp_path / "bead.tif", stack, (0.3, 0.1, 0.1), "µm")
    assert cli.main(["mtf", str(tmp_path / "bead.tif"), "--point", "15,24,24", "--csv", str(tmp_path / "z.csv"),
                     "--plot", str(tmp_path / "bead.png")]) == 0
    line = capsys.readouterr().out
    assert line.startswith("lateral FWHM 0.353 µm · axial FWHM 2.12 µm")
    assert (tmp_path / "z.csv").read_text().startswith("z,axial_profile")
    assert cli.main(["mtf", str(tmp_path / "bead.tif"), "--point", "24,24"]) == 2
    assert "or a z-stack with --point Z,ROW,COL" in capsys.readouterr().err


def test_wrapped_int16_counts_are_warned_and_read_unsigned_with_the_flag(tmp_path, capsys):
    from napari_resolution.core.simulate import band_limited_noise

    signal = 3000 * band_limited_noise((192, 192), 0.2, seed=0)
    counts = (40000 + signal + 0.2 * signal.std() * np.random.default_rng(1).standard_normal(signal.shape))
    counts = counts.astype(np.uint16)  # camera-like: a white noise floor
    import mrcfile

    with mrcfile.new(tmp_path / "counts.mrc", overwrite=True) as mrc:
        mrc.set_data(counts.view(np.int16))
        mrc.voxel_size = 2.0
    assert cli.main(["decorr", str(tmp_path / "counts.mrc")]) == 0
    assert "looks like unsigned counts" in capsys.readouterr().err
    assert cli.main(["decorr", str(tmp_path / "counts.mrc"), "--unsigned"]) == 0
    captured = capsys.readouterr()
    assert "warning" not in captured.err and "status resolved" in captured.out


def test_confidence_interval_from_the_command_line(simulated, capsys):
    code = main(["fsc", str(simulated / "half1.mrc"), str(simulated / "half2.mrc"), "--confidence", "0.95",
                 "--json", "-"])
    assert code == 0
    captured = capsys.readouterr()
    payload = json.loads(captured.out)
    finest, coarsest = payload["resolution_interval"]
    assert finest <= payload["resolution"] <= coarsest
    assert f"[{finest:.3g}, {coarsest:.3g}]" in captured.err


@pytest.mark.parametrize("split", ["binomial", "checkerboard"])
def test_one_image_frc_from_the_command_line(tmp_path, capsys, split):
    import tifffile

    from napari_resolution.core.simulate import phantom_pair

    scene = phantom_pair((128, 128), sigma=2.0, noise=0.0, seed=0).half1
    counts = np.random.default_rng(0).poisson(20 * (scene - scene.min()))
    adu = (counts * 2.0 + 100).astype(np.uint16)
    path = tmp_path / "one.tif"
    tifffile.imwrite(path, adu)
    options = ["--gain", "2", "--offset", "100"] if split == "binomial" else []
    code = main(["frc", str(path), "--split", split, *options, "--json", str(tmp_path / "r.json")])
    assert code == 0, capsys.readouterr().err
    payload = json.loads((tmp_path / "r.json").read_text())
    assert payload["parameters"]["split"] == split and payload["status"] == "resolved"
    assert main(["frc", str(path), str(path), "--split", split]) == 2
    assert "one image" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["decorr", "{}"], ["frc", "{}", "{}"], ["ssnr", "{}", "{}"],
                                  ["mtf", "{}", "--point", "32,32"], ["mask", "{}", "--out", "{out}"],
                                  ["blink-psf", "{}"], ["tomo", "{}", "--angles", "0:180:64"],
                                  ["local-res", "{}", "--out", "{out}"], ["local-fsc", "{}", "{}", "--out", "{out}"],
                                  ["frc", "{grey}", "{grey}", "--mask", "{}"]])
@pytest.mark.parametrize("name", ["astronaut.tif", "colours.npy"])
def test_an_rgb_image_is_refused_with_what_to_do(tmp_path, capsys, argv, name):
    import tifffile

    colour = tmp_path / name
    pixels = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    if name.endswith(".tif"):
        tifffile.imwrite(colour, pixels, photometric="rgb")
    else:
        np.save(colour, pixels)
    np.save(tmp_path / "grey.npy", pixels[..., 0])
    assert main([arg.format(colour, grey=tmp_path / "grey.npy", out=tmp_path / "out.mrc") for arg in argv]) == 2
    err = capsys.readouterr().err
    assert f"{colour}: is RGB (shape (64, 64, 3), colours on the last axis): split it into grey channels" in err
    assert "convert it to grey" in err and err.count("\n") == 1
