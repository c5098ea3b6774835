"""``napari-resolution batch``: a pairs CSV or file patterns, serially and on a dask LocalCluster."""

import contextlib
import csv
import json
import subprocess
import sys
from io import StringIO

import numpy as np
import pytest

from napari_resolution import io
from napari_resolution.cli import main
from napari_resolution.cli.batch import _output_names
from napari_resolution.core.masks import spherical_mask
from napari_resolution.core.simulate import blinking_movie, phantom_pair, slanted_edge

SHAPE = (64, 64, 64)


def _summary(folder):
    with open(folder / "summary.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _results(folder, rows):
    """Each row's JSON, and the row without its timing."""
    return [[json.loads((folder / f"{row['name']}.json").read_text()) if row["status"] != "error" else None,
             {key: value for key, value in row.items() if key not in ("seconds", "value")},
             float(row["value"] or "nan")] for row in rows]


def _same(found, expected) -> bool:
    """Equal JSON values, numbers within float rounding (the kernels' thread count orders the sums)."""
    if isinstance(expected, dict):
        return isinstance(found, dict) and found.keys() == expected.keys() and all(
            _same(found[key], expected[key]) for key in expected)
    if isinstance(expected, list):
        return isinstance(found, list) and len(found) == len(expected) and all(map(_same, found, expected))
    if isinstance(expected, float):
        return found == pytest.approx(expected, rel=1e-12, abs=1e-12, nan_ok=True)
    return found == expected


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """Six half-map pairs listed in pairs.csv with paths relative to it: MRC, one TIFF, one masked, one with a
    pixel size, one corrupt; and for each good pair the arguments of the same measurement by ``fsc``."""
    root = tmp_path_factory.mktemp("project")
    (root / "maps").mkdir()
    rows, single = [], {}
    for index in range(5):
        pair = phantom_pair(SHAPE, sigma=2.0, noise=0.5 + 0.1 * index, pixel_size=1.2, seed=index,
                            dtype=np.float32)
        suffix = ".tif" if index == 3 else ".mrc"
        halves = [f"maps/run{index}_half{half}{suffix}" for half in (1, 2)]
        for path, data in zip(halves, (pair.half1, pair.half2)):
            io.write_image(root / path, data, 1.2, "Å")
        mask = pixel_size = ""
        options = []
        if index == 1:
            mask = "maps/mask.mrc"
            io.write_mrc(root / mask, spherical_mask(SHAPE, radius=24, soft_edge=4).astype(np.float32), 1.2)
            options = ["--mask", str(root / mask)]
        if index == 2:
            pixel_size = "1.5"
            options = ["--pixel-size", "1.5"]
        rows.append([*halves, mask, pixel_size])
        single[f"run{index}_half1"] = [str(root / halves[0]), str(root / halves[1]), *options]
    (root / "maps" / "corrupt_half1.mrc").write_bytes(b"not a map" * 100)
    rows.insert(2, ["maps/corrupt_half1.mrc", "maps/run0_half2.mrc", "", ""])
    with open(root / "pairs.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["half1", "half2", "mask", "pixel_size"], *rows])
    return root, single


@pytest.fixture(scope="module")
def cluster_run(project):
    """The batch on a LocalCluster of two worker processes: its exit code, stderr and output folder."""
    root, _ = project
    out = root / "cluster"
    stderr = StringIO()  # capsys is function-scoped; the cluster run is shared by the module
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(StringIO()):
        code = main(["batch", "fsc", "--pairs", str(root / "pairs.csv"), "--out", str(out), "--workers", "2"])
    return code, stderr.getvalue(), out


@pytest.mark.slow
def test_cluster_batch_records_the_corrupt_file_and_goes_on(project, cluster_run, tmp_path):
    root, single = project
    code, stderr, out = cluster_run
    assert code == 1
    assert "1 of 6 inputs failed (corrupt_half1)" in stderr
    rows = _summary(out)
    assert [row["name"] for row in rows] == ["run0_half1", "run1_half1", "corrupt_half1", "run2_half1",
                                             "run3_half1", "run4_half1"]
    assert list(rows[0]) == ["name", "half1", "half2", "status", "quantity", "value", "unit", "warnings",
                             "seconds", "error"]
    bad = rows[2]
    assert bad["status"] == "error" and bad["half1"] == "maps/corrupt_half1.mrc"
    assert "corrupt_half1.mrc" in bad["error"] and "not an MRC file" in bad["error"]
    good = [row for row in rows if row["status"] != "error"]
    assert len(good) == 5 and len(list(out.glob("*.json"))) == 5
    for row in good:  # the numbers are the single-file subcommand's, to the last digit
        assert row["error"] == "" and float(row["seconds"]) > 0
        assert main(["fsc", *single[row["name"]], "--json", str(tmp_path / "one.json")]) == 0
        expected = json.loads((tmp_path / "one.json").read_text())
        assert _same(json.loads((out / f"{row['name']}.json").read_text()), expected)
        assert (row["status"], row["quantity"]) == ("resolved", "resolution")
        assert float(row["value"]) == pytest.approx(expected["resolution"], rel=1e-12)
    units = {row["name"]: row["unit"] for row in good}
    assert units["run2_half1"] == "" and units["run0_half1"] == "Å"  # a CSV pixel size, like --pixel-size
    assert json.loads((out / "run1_half1.json").read_text())["parameters"]["masked"] is True


def test_serial_batch_equals_the_cluster_batch(project, cluster_run, capsys):
    root, _ = project
    _, _, cluster_out = cluster_run
    out = root / "serial"
    assert main(["batch", "fsc", "--pairs", str(root / "pairs.csv"), "--out", str(out), "--plot"]) == 1
    assert "1 of 6 inputs failed" in capsys.readouterr().err
    assert _same(_results(out, _summary(out)), _results(cluster_out, _summary(cluster_out)))
    assert len(list(out.glob("*.png"))) == 5


@pytest.mark.slow
def test_batch_on_an_existing_cluster_by_its_address(project, tmp_path, monkeypatch, capsys):
    distributed = pytest.importorskip("distributed")
    root, _ = project
    (tmp_path / "two.csv").write_text(f"half1,half2\n{root}/maps/run0_half1.mrc,{root}/maps/run0_half2.mrc\n"
                                      f"{root}/maps/missing.mrc,{root}/maps/run0_half2.mrc\n")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
        code = main(["batch", "fsc", "--pairs", str(tmp_path / "two.csv"), "--out", str(tmp_path / "out")])
    assert code == 1
    rows = _summary(tmp_path / "out")
    assert [row["status"] for row in rows] == ["resolved", "error"]
    assert "missing.mrc" in rows[1]["error"]
    assert "1 of 2 inputs failed" in capsys.readouterr().err


def test_batch_decorr_over_a_glob(tmp_path, capsys):
    for index in range(3):
        image = phantom_pair((128, 128), sigma=1.5 + index, noise=0.2, seed=index, dtype=np.float32).half1
        io.write_tiff(tmp_path / f"cell{index}.tif", image, pixel_size=0.065, unit="µm")
    (tmp_path / "notes.txt").write_text("not an image")
    out = tmp_path / "out"
    assert main(["batch", "decorr", "--inputs", str(tmp_path / "cell*.tif"), "--out", str(out)]) == 0
    assert "3 of 3 inputs measured" in capsys.readouterr().out
    rows = _summary(out)
    assert [row["input"] for row in rows] == [str(tmp_path / f"cell{index}.tif") for index in range(3)]
    assert {row["unit"] for row in rows} == {"µm"}
    assert main(["decorr", str(tmp_path / "cell1.tif"), "--json", str(tmp_path / "one.json")]) == 0
    expected = json.loads((tmp_path / "one.json").read_text())
    assert json.loads((out / "cell1.json").read_text()) == expected  # serial: the same computation
    assert float(rows[1]["value"]) == expected["resolution"]


def _write_inputs(folder, estimator):
    """One small input of ``estimator`` with a known kind of answer; returns the batch arguments naming it."""
    if estimator == "local-fsc":
        pair = phantom_pair((96, 96), sigma=1.5, noise=0.5, seed=0, dtype=np.float32)
        io.write_mrc(folder / "h1.mrc", pair.half1, 1.0)
        io.write_mrc(folder / "h2.mrc", pair.half2, 1.0)
        (folder / "pairs.csv").write_text("half1,half2\nh1.mrc,h2.mrc\n")
        return ["--pairs", str(folder / "pairs.csv"), "--box", "32"]
    if estimator == "local-res":
        io.write_mrc(folder / "h1.mrc", phantom_pair((96, 96), sigma=1.5, noise=0.3, seed=0).half1, 1.0)
        return ["--inputs", str(folder / "*.mrc"), "--noise", "0.3"]  # structure everywhere: no corners to read
    if estimator == "mtf":
        io.write_tiff(folder / "edge.tif", slanted_edge((200, 200), 80, 1.2, noise=0.004, seed=0), 0.5, "µm")
        return ["--inputs", str(folder / "edge.tif"), "--roi", "30,40,170,160"]
    movie = blinking_movie((600, 32, 32), sigma=150.0, pixel_size=100.0, n_emitters=200, seed=0)
    io.write_tiff(folder / "movie.tif", movie.movie, 100.0, "nm")
    return ["--inputs", str(folder / "movie.tif")]


@pytest.mark.parametrize(("estimator", "quantity", "files"), [
    ("local-fsc", "median local resolution", {"h1.json", "h1_map.mrc"}),
    ("local-res", "median local resolution", {"h1.json", "h1_map.mrc"}),
    ("mtf", "resolution at MTF50", {"edge.json"}),
    ("blink-psf", "PSF FWHM", {"movie.json"}),
])
def test_every_estimator_has_a_batch(tmp_path, estimator, quantity, files):
    out = tmp_path / "out"
    assert main(["batch", estimator, *_write_inputs(tmp_path, estimator), "--out", str(out)]) == 0
    (row,) = _summary(out)
    assert row["status"] in ("resolved", "bound") and row["quantity"] == quantity
    assert np.isfinite(float(row["value"])) and row["error"] == ""
    assert {path.name for path in out.iterdir()} == files | {"summary.csv"}


def test_pairs_csv_without_a_required_column_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "pairs.csv").write_text("half1,mask\na.mrc,m.mrc\n")
    assert main(["batch", "fsc", "--pairs", str(tmp_path / "pairs.csv"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "pairs.csv: no half2 column" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("text", "message"), [
    ("half1,half2,pixelsize\na.mrc,b.mrc,1\n", "unknown column 'pixelsize'"),
    ("half1,half2,pixel_size\na.mrc,b.mrc,-1\n", "row 2, pixel_size must be one or more positive numbers"),
    ("half1,half2\n,b.mrc\n", "row 2: empty half1"),
    ("half1,half2\n", "no pairs"),
])
def test_malformed_pairs_csv_names_the_row_and_column(tmp_path, capsys, text, message):
    (tmp_path / "pairs.csv").write_text(text)
    assert main(["batch", "local-fsc", "--pairs", str(tmp_path / "pairs.csv"), "--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


def test_a_pattern_without_a_match_is_a_usage_error(tmp_path, capsys):
    code = main(["batch", "local-res", "--inputs", str(tmp_path / "*.mrc"), "--out", str(tmp_path / "out")])
    assert code == 2
    assert "matches no file" in capsys.readouterr().err


def test_mtf_batch_needs_an_roi_or_a_point(tmp_path, capsys):
    assert main(["batch", "mtf", "--inputs", "a.tif", "--out", str(tmp_path)]) == 2
    assert "--roi" in capsys.readouterr().err


def test_output_names_are_told_apart_by_their_folders():
    assert _output_names(["/d/job1/run_half1.mrc", "/d/job2/run_half1.mrc", "/d/job2/x.mrc"]) == [
        "job1_run_half1", "job2_run_half1", "job2_x"]
    assert _output_names(["/d/a.mrc", "/d/a.mrc"]) == ["a_1", "a_2"]


def test_importing_the_package_and_its_cli_does_not_import_dask_distributed():
    code = ("import sys, napari_resolution, napari_resolution.cli, napari_resolution.cli.batch; "
            "sys.exit('distributed' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
