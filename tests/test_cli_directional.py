"""``napari-resolution dfsc``: the directional FSC from files, its outputs and its errors."""

import json

import numpy as np
import pytest

from napari_resolution import io
from napari_resolution.cli import main
from napari_resolution.core.directional import directional_fsc
from napari_resolution.core.simulate import anisotropic_pair


@pytest.fixture(scope="module")
def halves(tmp_path_factory):
    """64³ half-maps at 1.1 Å, blurred twice as much along z as in-plane."""
    folder = tmp_path_factory.mktemp("dfsc")
    pair = anisotropic_pair((64, 64, 64), sigma=(2.4, 1.2, 1.2), noise=0.3, pixel_size=1.1, seed=0)
    paths = folder / "h1.mrc", folder / "h2.mrc"
    for path, data in zip(paths, (pair.half1, pair.half2)):
        io.write_mrc(path, data, 1.1)
    return pair, paths


@pytest.mark.filterwarnings("ignore:.*directions never rise above:RuntimeWarning")
def test_dfsc_writes_every_output(halves, tmp_path, capsys):
    pair, (first, second) = halves
    out = {name: tmp_path / name for name in ("d.json", "d.csv", "d.png", "volume.mrc")}
    code = main(["dfsc", str(first), str(second), "--json", str(out["d.json"]), "--csv", str(out["d.csv"]),
                 "--plot", str(out["d.png"]), "--out", str(out["volume.mrc"]), "--directions", "120"])
    assert code == 0
    line = capsys.readouterr().out
    assert "over 120 directions" in line and "lateral" in line and "axial" in line and "Å" in line
    payload = json.loads(out["d.json"].read_text())
    direct = directional_fsc(pair.half1, pair.half2, directions=120, pixel_size=1.1)
    assert payload["resolution"] == pytest.approx(direct.resolution)
    assert payload["cones"]["axial"]["resolution"] > 1.5 * payload["cones"]["lateral"]["resolution"]
    assert out["d.csv"].read_text().splitlines()[0].startswith("z,y,x,resolution")
    assert out["d.png"].read_bytes()[:4] == b"\x89PNG"
    volume = io.read_image(out["volume.mrc"])
    assert volume.data.shape == (64, 64, 64) and np.nanmax(volume.data) <= 1


def test_dfsc_errors_are_one_line(halves, tmp_path, capsys):
    _, (first, second) = halves
    assert main(["dfsc", str(first), str(second), "--randomize"]) == 2
    assert "--randomize needs --mask" in capsys.readouterr().err
    assert main(["dfsc", str(first), str(second), "--cone-angle", "0"]) == 2
    assert "--cone-angle" in capsys.readouterr().err
    assert main(["dfsc", str(first), str(second), "--out", str(first)]) == 2
    assert "half1" in capsys.readouterr().err
