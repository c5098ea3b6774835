"""``napari-resolution loc-frc``: the localisation FRC of a table file, its outputs and its errors."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from napari_resolution import localization_frc
from napari_resolution.cli import main
from napari_resolution.core.simulate import smlm_localizations


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """A ThunderSTORM-style CSV of 2 µm of filaments, each emitter localised about 4 times."""
    data = smlm_localizations(2000.0, filaments=10, density=200.0, width=15.0, repeats=4.0, frames=2000, seed=0)
    path = tmp_path_factory.mktemp("loc-frc") / "locs.csv"
    pd.DataFrame({"frame": data.table[:, 2].astype(int), "x [nm]": data.table[:, 0], "y [nm]": data.table[:, 1],
                  "uncertainty [nm]": data.table[:, 3]}).to_csv(path, index=False)
    return data.table, path


def test_loc_frc_writes_every_output(table, tmp_path, capsys):
    values, path = table
    out = {name: tmp_path / name for name in ("r.json", "r.csv", "r.png")}
    code = main(["loc-frc", str(path), "--pixel-size", "5", "--json", str(out["r.json"]), "--csv",
                 str(out["r.csv"]), "--plot", str(out["r.png"])])
    assert code == 0
    line = capsys.readouterr().out
    assert "nm (0.143, full period)" in line and "blocks split of" in line and "status resolved" in line
    payload = json.loads(out["r.json"].read_text())
    assert payload["resolution"] == pytest.approx(localization_frc(values, pixel_size=5.0).resolution)
    assert payload["parameters"]["unit"] == "nm"
    assert out["r.csv"].read_text().startswith("frequency_cycles_per_pixel,correlation")
    assert out["r.png"].read_bytes()[:4] == b"\x89PNG"


def test_loc_frc_random_split_warns_and_corrects(table, capsys):
    _, path = table
    assert main(["loc-frc", str(path), "--split", "random", "--seed", "1"]) == 0
    captured = capsys.readouterr()
    assert "warning: a random split with repeated localisations" in captured.err
    assert "split by time blocks, or correct the repeats" in captured.err
    assert "split='blocks'" not in captured.err and "correct_repeats=True" not in captured.err  # no Python names
    assert main(["loc-frc", str(path), "--split", "random", "--seed", "1", "--correct-repeats"]) == 0
    random = capsys.readouterr().out
    assert "· Q " in random and "across the halves" not in random  # a random split: its Q is the split's
    assert main(["loc-frc", str(path), "--correct-repeats"]) == 0
    assert re.search(r"· Q [\d.]+ \(blocks split: [\d.]+ across the halves, removed\) ·", capsys.readouterr().out)


def test_loc_frc_columns_and_errors(table, tmp_path, capsys):
    values, _ = table
    renamed = tmp_path / "renamed.csv"
    pd.DataFrame({"t": values[:, 2], "a": values[:, 0], "b": values[:, 1]}).to_csv(renamed, index=False)
    assert main(["loc-frc", str(renamed), "--pixel-size", "5"]) == 2
    assert f"error: {renamed} has no x and y column" in capsys.readouterr().err
    assert main(["loc-frc", str(renamed), "--pixel-size", "5", "--columns", "a,b,t", "--unit", "nm"]) == 0
    assert main(["loc-frc", str(renamed), "--columns", "a,b"]) == 2
    assert "pixel_size is needed" in capsys.readouterr().err
    assert main(["loc-frc", str(renamed), "--columns", "a,b,t", "--precision", "10"]) == 0
    nan = tmp_path / "nan.csv"
    broken = values.copy()
    broken[5, 0] = np.nan
    pd.DataFrame({"x [nm]": broken[:, 0], "y [nm]": broken[:, 1]}).to_csv(nan, index=False)
    assert main(["loc-frc", str(nan), "--pixel-size", "5"]) == 2
    assert f"{nan} has NaN or Inf x values in 1 of" in capsys.readouterr().err
    assert main(["loc-frc", str(tmp_path / "locs.xyz"), "--pixel-size", "5"]) == 2
    assert "cannot read '.xyz' files" in capsys.readouterr().err


def test_loc_frc_random_split_is_reproducible_by_default(table, tmp_path, capsys):
    """``--seed`` defaults to 0, as decorr's and the widget's: the same file reads the same number."""
    _, path = table
    out = tmp_path / "r.json"
    lines = []
    for _ in range(2):
        assert main(["loc-frc", str(path), "--split", "random", "--pixel-size", "5", "--json", str(out)]) == 0
        lines.append(capsys.readouterr().out)
    assert lines[0] == lines[1] and json.loads(out.read_text())["parameters"]["seed"] == 0
