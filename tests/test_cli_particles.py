"""``simulate particles``: cryo-EM half-maps, the volume, the expected FSC and the particles, written to a folder."""

import json

import numpy as np
import pytest

from napari_resolution import fsc, io
from napari_resolution.cli import main


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    out = tmp_path_factory.mktemp("particles") / "sim"
    code = main(["simulate", "particles", "--box", "32", "--particles", "600", "--pixel-size", "2.5",
                 "--defocus", "8000,16000", "--interpolation", "linear", "--out", str(out)])
    assert code == 0
    return out


def test_writes_the_maps_the_volume_and_the_particles(simulated, capsys):
    half1, volume = io.read_image(simulated / "half1.mrc"), io.read_image(simulated / "truth.mrc")
    assert half1.data.shape == volume.data.shape == (32, 32, 32)
    assert half1.pixel_size == pytest.approx((2.5,) * 3) and half1.unit == "Å"
    particles = np.load(simulated / "particles.npz")
    assert particles["rotations"].shape == (600, 3, 3)
    assert np.all((particles["defocus_u"] >= 8000) & (particles["defocus_u"] <= 16000))
    expected = json.loads((simulated / "expected.json").read_text())
    assert expected["parameters"]["n_particles"] == 600 and expected["criterion"] == "0.143"
    half2 = io.read_image(simulated / "half2.mrc").data
    measured = fsc(half1.data, half2, pixel_size=2.5, threshold="0.143", apodization=0)
    assert measured.resolution == pytest.approx(expected["expected_resolution"], rel=0.1)


def test_projects_a_given_volume_with_its_voxel_size(simulated, tmp_path, capsys):
    out = tmp_path / "again"
    code = main(["simulate", "particles", "--volume", str(simulated / "truth.mrc"), "--particles", "40",
                 "--orientation", "preferred", "--out", str(out)])
    assert code == 0
    assert "expected resolution" in capsys.readouterr().out
    assert io.read_image(out / "half1.mrc").pixel_size == pytest.approx((2.5,) * 3)  # from the volume's header
    rotations = np.load(out / "particles.npz")["rotations"]
    assert np.degrees(np.arccos(rotations[:36, 2, 2])).max() <= 15 + 1e-6  # 90 % top views


@pytest.mark.parametrize(("argv", "message"), [
    (["--defocus", "20000,10000"], "defocus_range"),
    (["--volume", "missing.mrc"], "missing.mrc"),
    (["--particles", "1"], "--particles"),
])
def test_bad_input_is_one_line(tmp_path, capsys, argv, message):
    code = main(["simulate", "particles", "--box", "16", "--particles", "8", *argv, "--out", str(tmp_path / "o")])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_never_writes_over_its_volume(simulated, capsys):
    code = main(["simulate", "particles", "--volume", str(simulated / "half1.mrc"), "--particles", "8",
                 "--out", str(simulated)])
    assert code == 2
    assert "is the input" in capsys.readouterr().err
