import json

import mrcfile
import numpy as np
import pytest
import tifffile

from napari_resolution import io, tomography_frc
from napari_resolution.cli import main
from napari_resolution.core.simulate import tomography_sinogram


@pytest.fixture(scope="module")
def sinogram_file(tmp_path_factory):
    """A 64-px sinogram (detector, angles) over 0:180:202 at a dose where noise limits the FRC, as TIFF."""
    sim = tomography_sinogram(64, np.linspace(0, 180, 202, endpoint=False), phantom="random", dose=300, seed=1)
    path = tmp_path_factory.mktemp("tomo") / "sino.tif"
    tifffile.imwrite(path, sim.sinogram)
    return path, sim


def test_tomo_reports_what_the_api_computes(sinogram_file, tmp_path, capsys):
    path, sim = sinogram_file
    out_json, out_csv, out_png = tmp_path / "t.json", tmp_path / "t.csv", tmp_path / "t.png"
    code = main(["tomo", str(path), "--angles", "0:180:202", "--pixel-size", "2", "--unit", "nm",
                 "--json", str(out_json), "--csv", str(out_csv), "--plot", str(out_png)])
    assert code == 0
    assert "nm (half-bit, full period, even/odd split)" in capsys.readouterr().out
    payload = json.loads(out_json.read_text())
    direct = tomography_frc(sim.sinogram, sim.theta, pixel_size=2.0)
    assert payload["resolution"] == pytest.approx(direct.resolution)
    assert payload["reconstructions"][0]["shape"] == [64, 64] and payload["parameters"]["n_angles"] == [101, 101]
    assert out_csv.read_text().splitlines()[0].startswith("frequency_cycles_per_pixel,correlation")
    assert out_png.stat().st_size > 0


def test_angles_file_and_layout_options(sinogram_file, tmp_path, capsys):
    path, sim = sinogram_file
    order = np.random.default_rng(0).permutation(sim.theta.size)
    stack = tmp_path / "stack.npy"  # (rows, detector, angles): the angles last, shuffled, as a CSV column
    np.save(stack, np.repeat(sim.sinogram[None, :, order], 8, axis=0))
    angles = tmp_path / "angles.csv"
    angles.write_text("# degrees\n" + "\n".join(f"{a:.12g}" for a in sim.theta[order]))
    saved = tmp_path / "recons"
    code = main(["tomo", str(stack), "--angles-file", str(angles), "--angle-axis", "2", "--threshold", "one-bit",
                 "--filter", "hann", "--save-reconstructions", str(saved), "--json", "-"])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["criterion"] == "one-bit" and payload["parameters"]["filter"] == "hann"
    even = io.read_image(saved / "stack_even.tif").data
    assert even.shape == (8, 64, 64) and (saved / "stack_odd.tif").is_file()
    direct = tomography_frc(sim.sinogram, sim.theta, filter="hann")
    np.testing.assert_allclose(even[3], direct.reconstructions[0], rtol=1e-5, atol=1e-6)


def test_undersampling_is_a_warning_line(sinogram_file, tmp_path, capsys):
    sim = tomography_sinogram(64, np.linspace(0, 180, 40, endpoint=False), phantom="random", seed=0)
    path = tmp_path / "few.npy"
    np.save(path, sim.sinogram)
    assert main(["tomo", str(path), "--angles", "0:180:40"]) == 0
    assert "warning: each half has 20 projection directions" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv_tail", "match"),
    [
        (["--angles", "0:180"], "--angles must be START:STOP:COUNT"),
        (["--angles", "0:180:100"], "--angles 0:180:100 has 100 angles"),
        (["--angles", "0:180:202", "--center", "99"], "center"),
        (["--angles", "0:180:202", "--angle-axis", "3"], "angle_axis"),
        (["--angles", "0:180:202", "--filter", "ram-lak"], "filter"),
        (["--angles", "0:180:202", "--angles-file", "x.txt"], "not allowed with"),
        ([], "one of the arguments --angles --angles-file is required"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(sinogram_file, capsys, argv_tail, match):
    path, _ = sinogram_file
    code = main(["tomo", str(path), *argv_tail])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("napari-resolution: error:") and err.count("\n") == 1
    assert match in err


def test_bad_angles_file_and_nan_name_the_file(sinogram_file, tmp_path, capsys):
    path, sim = sinogram_file
    angles = tmp_path / "angles.txt"
    angles.write_text("0 1 two")
    assert main(["tomo", str(path), "--angles-file", str(angles)]) == 2
    assert f"--angles-file {angles}: expected numbers" in capsys.readouterr().err
    bad = tmp_path / "nan.npy"
    data = sim.sinogram.copy()
    data[3, 4] = np.nan
    np.save(bad, data)
    assert main(["tomo", str(bad), "--angles", "0:180:202"]) == 2
    assert f"{bad} contains NaN" in capsys.readouterr().err


def test_pixel_size_from_the_header_drops_the_angle_axis(tmp_path, capsys):
    sim = tomography_sinogram(48, np.linspace(0, 180, 160, endpoint=False), phantom="random", dose=300, rows=8,
                              seed=2)
    path = tmp_path / "projections.mrc"
    with mrcfile.new(path) as mrc:
        mrc.set_data(sim.sinogram)  # (angles, rows, detector)
        mrc.voxel_size = 1.5
    assert main(["tomo", str(path), "--angles", "0:180:160", "--json", "-"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["pixel_size"] == [1.5, 1.5, 1.5] and payload["correlation"]["pixel_size"] == [1.5, 1.5, 1.5]
    assert payload["parameters"]["frc"]["shape"] == [8, 48, 48]


def test_the_filter_choices_are_the_estimators():
    from napari_resolution.cli import tomography as command
    from napari_resolution.core import tomography

    assert command.FILTERS == tomography.FILTERS


@pytest.fixture(scope="module")
def stack_along_x(tmp_path_factory):
    """A projection stack (angles, Y, X) whose tilt axis runs along x, as MRC with pitches Y 3, X 2 (header)."""
    sim = tomography_sinogram(48, np.linspace(0, 180, 160, endpoint=False), phantom="random", dose=300, rows=12,
                              seed=3)
    path = tmp_path_factory.mktemp("tomo") / "along_x.mrc"
    with mrcfile.new(path) as mrc:
        mrc.set_data(np.ascontiguousarray(np.swapaxes(sim.sinogram, 1, 2)))
        mrc.voxel_size = (2.0, 3.0, 1.0)  # x, y, z
    return path, sim


def test_the_tilt_axis_is_detected_and_a_wrong_one_is_a_warning_line(stack_along_x, capsys):
    path, sim = stack_along_x
    assert main(["tomo", str(path), "--angles", "0:180:160", "--json", "-"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["parameters"]["tilt_axis"] == "x" and payload["parameters"]["tilt_axis_from"] == "detected"
    assert payload["pixel_size"] == [2.0, 3.0, 3.0]  # rows along the tilt axis (x), slices across it (y)
    direct = tomography_frc(sim.sinogram, sim.theta, pixel_size=(2.0, 3.0, 3.0))
    assert payload["resolution"] == pytest.approx(direct.resolution)
    assert main(["tomo", str(path), "--angles", "0:180:160", "--tilt-axis", "y", "--pixel-size", "1"]) == 0
    assert "warning: tilt_axis='y' disagrees with the data" in capsys.readouterr().err
    assert main(["tomo", str(path), "--angles", "0:180:160", "--tilt-axis", "90", "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["resolution"] == pytest.approx(payload["resolution"])


def test_a_wedge_is_a_warning_line_and_the_weighting_an_option(tmp_path, capsys):
    theta = np.arange(-60, 60.5, 1.0)
    sim = tomography_sinogram(48, theta, phantom="random", dose=300, seed=0)
    path = tmp_path / "wedge.npy"
    np.save(path, sim.sinogram)
    angles = tmp_path / "wedge.tlt"
    angles.write_text("\n".join(f"{a:g}" for a in theta))
    assert main(["tomo", str(path), "--angles-file", str(angles), "--weighting", "gaps", "--json", "-"]) == 0
    captured = capsys.readouterr()
    assert "warning: angles span ±60°: a 60° missing wedge" in captured.err
    payload = json.loads(captured.out)
    assert payload["parameters"]["missing_wedge"] == 60 and payload["parameters"]["weighting"] == "gaps"


@pytest.mark.parametrize(("argv_tail", "match"), [(["--tilt-axis", "z"], "tilt_axis must be 'auto', 'y', 'x'"),
                                                  (["--tilt-axis", "x"], "tilt_axis 'x' applies to a 3-D"),
                                                  (["--weighting", "cosine"], "invalid choice")])
def test_bad_tilt_axis_or_weighting_is_one_line(sinogram_file, capsys, argv_tail, match):
    path, _ = sinogram_file
    assert main(["tomo", str(path), "--angles", "0:180:202", *argv_tail]) == 2
    assert match in capsys.readouterr().err


def test_the_weighting_choices_are_the_estimators():
    from napari_resolution.cli import tomography as command
    from napari_resolution.core import tomography

    assert command.WEIGHTINGS == tomography.WEIGHTINGS
