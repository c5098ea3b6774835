"""``napari-resolution blink-psf``: calibrated TIFF stacks (memory-mapped), several channels, outputs, bad input."""

import json
import re

import numpy as np
import pytest
import tifffile

from napari_resolution import blink_psf, io
from napari_resolution.cli import main
from napari_resolution.core.simulate import blinking_movie


@pytest.fixture(scope="module")
def simulated():
    return blinking_movie((2000, 48, 48), sigma=(150.0, 110.0), theta=20.0, pixel_size=(100.0, 90.0),
                          n_emitters=600, seed=0)


@pytest.fixture
def calibrated_tiff(tmp_path, simulated):
    path = tmp_path / "movie.tif"
    tifffile.imwrite(path, simulated.movie, imagej=True, resolution=(1 / 0.090, 1 / 0.100),
                     metadata={"unit": "um", "axes": "TYX"})
    return path


def test_a_calibrated_tiff_is_memory_mapped_with_its_pixel_size(calibrated_tiff):
    image = io.map_image(str(calibrated_tiff))
    assert isinstance(image.data, np.memmap) and image.data.shape == (2000, 48, 48)
    assert image.pixel_size[-2:] == pytest.approx((0.1, 0.09)) and image.unit == "µm"


def test_blink_psf_round_trip(calibrated_tiff, simulated, tmp_path, capsys):
    out = {name: tmp_path / name for name in ("r.json", "r.png", "psf.tif", "spline.npz")}
    code = main(["blink-psf", str(calibrated_tiff), "--json", str(out["r.json"]), "--plot", str(out["r.png"]),
                 "--psf-out", str(out["psf.tif"]), "--spline-out", str(out["spline.npz"]), "--exposure-ms", "10"])
    assert code == 0
    line = capsys.readouterr().out.strip()
    expected = blink_psf(simulated.movie, pixel_size=(0.1, 0.09), exposure_ms=10.0)
    assert line == expected.summary("µm")
    payload = json.loads(out["r.json"].read_text())
    assert payload["sigma_x"] == pytest.approx(0.150, rel=0.03) and payload["sigma_y"] == pytest.approx(0.110,
                                                                                                        rel=0.03)
    assert payload["theta"] == pytest.approx(20.0, abs=2.0)
    assert out["r.png"].stat().st_size > 10_000
    psf = io.read_image(out["psf.tif"])
    np.testing.assert_allclose(psf.data, expected.psf, rtol=1e-5, atol=1e-7)
    assert psf.pixel_size == pytest.approx((0.1, 0.09)) and psf.unit == "µm"
    spline = np.load(out["spline.npz"])
    np.testing.assert_allclose(spline["coefficients"], expected.spline_coefficients)
    assert spline["pixel_size"].tolist() == pytest.approx([0.1, 0.09])


def test_two_channels_get_one_pixel_size_each_and_suffixed_files(tmp_path, simulated, capsys):
    first, second = tmp_path / "green.npy", tmp_path / "red.npy"
    np.save(first, simulated.movie)
    other = blinking_movie((2000, 40, 44), sigma=130.0, pixel_size=110.0, n_emitters=500, seed=1)
    np.save(second, other.movie)
    code = main(["blink-psf", str(first), str(second), "--pixel-size", "100,90", "--pixel-size", "110",
                 "--unit", "nm", "--json", str(tmp_path / "r.json"), "--psf-out", str(tmp_path / "psf.npy")])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith(f"channel 1 ({first}): PSF σ") and lines[1].startswith(f"channel 2 ({second}):")
    channels = json.loads((tmp_path / "r.json").read_text())["channels"]
    assert channels[0]["pixel_size"] == [100.0, 90.0] and channels[1]["pixel_size"] == [110.0, 110.0]
    assert channels[1]["sigma"] == pytest.approx(130.0, rel=0.03)
    assert (tmp_path / "psf_c1.npy").is_file() and (tmp_path / "psf_c2.npy").is_file()


def test_warnings_are_printed_once_with_their_channel(tmp_path, simulated, capsys):
    path = tmp_path / "short.npy"
    np.save(path, simulated.movie[:300])
    assert main(["blink-psf", str(path), str(path), "--pixel-size", "100,90"]) == 0
    err = capsys.readouterr().err
    assert err.count("warning: channel 1: only 300 frames") == 1 and err.count("channel 2: only 300 frames") == 1
    assert "warning: only 300 frames" not in err


def test_background_option(tmp_path, simulated, capsys):
    path = tmp_path / "movie.npy"
    np.save(path, simulated.movie)
    assert main(["blink-psf", str(path), "--background", "moving:100", "--json", "-"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["parameters"]["background"] == "moving" and payload["parameters"]["window"] == 100


def test_line_noise_is_left_out_by_default_and_reported(tmp_path, capsys):
    """The default exclusion is "auto": the JSON says what was left out and why; --exclude-center forces one."""
    movie = blinking_movie((1500, 48, 48), sigma=150.0, pixel_size=100.0, n_emitters=600, row_noise=8.0,
                           seed=2).movie
    path = tmp_path / "movie.npy"
    np.save(path, movie)
    assert main(["blink-psf", str(path), "--pixel-size", "100", "--json", "-"]) == 0
    captured = capsys.readouterr()
    parameters = json.loads(captured.out)["parameters"]
    assert parameters["exclude_center"] == "auto" and parameters["excluded"] == "row"
    assert parameters["ridges"]["row"] > 6 and parameters["background"] == "auto"
    assert "warning: the autocorrelation has a ridge along its central row" in captured.err
    assert main(["blink-psf", str(path), "--pixel-size", "100", "--exclude-center", "cross", "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["parameters"]["excluded"] == "cross"


@pytest.mark.parametrize(("extra", "message"), [
    (["--crop", "40"], "argument --crop: expected an odd whole number >= 5, got '40'"),
    (["--background", "moving"],
     "argument --background: expected auto, mean, moving:N \\(N >= 3 frames\\) or median-clip"),
    (["--exclude-center", "diagonal"], "argument --exclude-center: invalid choice: 'diagonal'"),
    (["--pixel-size", "1", "--pixel-size", "2"], "--pixel-size must be given once or once per movie \\(1\\)"),
    (["--lags", "2"], "argument --lags: expected a whole number >= 4, got '2'"),
])
def test_bad_options_are_one_line_and_exit_code_2(tmp_path, simulated, capsys, extra, message):
    path = tmp_path / "movie.npy"
    np.save(path, simulated.movie[:50])
    assert main(["blink-psf", str(path), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("napari-resolution: error:")
    assert re.search(message, err)


def test_errors_name_the_file_of_the_channel(tmp_path, capsys):
    good, flat = tmp_path / "good.npy", tmp_path / "flat.npy"
    np.save(good, np.random.default_rng(0).poisson(100, (20, 32, 32)).astype(np.uint16))
    np.save(flat, np.zeros((20, 32), np.uint16))
    assert main(["blink-psf", str(good), str(flat)]) == 2
    assert f"{flat} must be a (T, Y, X) array" in capsys.readouterr().err
