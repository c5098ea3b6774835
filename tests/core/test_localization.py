"""Localisation FRC: splits and the Q-correction against two independent acquisitions of one structure; readers."""

import json

import numpy as np
import pandas as pd
import pytest
import scipy.io

from napari_resolution import localization_frc
from napari_resolution.core.correlation import CorrelationResult
from napari_resolution.core.localization import (
    default_pixel_size,
    is_localization_table,
    localization_summary,
    read_localizations,
    recognised_columns,
    rendered_image,
    repeat_statistics,
)
from napari_resolution.core.simulate import smlm_localizations, smlm_reference_table

#: Filaments whose labels spread 15 nm around the axis (antibody-labelled), 10 nm precision, 4 localisations
#: per emitter on average in consecutive frames.
SAMPLE = {"field": 5000.0, "filaments": 40, "density": 200.0, "width": 15.0, "precision": 10.0, "repeats": 4.0,
          "frames": 5000}


def _acquisition(structure: int, seed: int, **changes):
    return smlm_localizations(**{**SAMPLE, **changes}, structure_seed=structure, seed=seed)


def _reference(structure: int, **changes) -> float:
    """The FRC of two independent acquisitions of the structure, each with half the emitters."""
    table = smlm_reference_table(structure, (1000 + structure, 2000 + structure), **{**SAMPLE, **changes})
    result = localization_frc(table, pixel_size=5.0, split="blocks", n_blocks=2)
    first = int(np.sum(table[:, 2] < SAMPLE["frames"]))  # later frames: two time blocks are the two acquisitions
    assert result.parameters["halves"] == (first, len(table) - first) and 0 < first < len(table)
    return result.resolution


@pytest.fixture(scope="module")
def runs():
    """Per structure: the reference, and the blocks, random and Q-corrected random splits of one acquisition."""
    out = []
    for structure in range(3):
        table = _acquisition(structure, structure).table
        with pytest.warns(RuntimeWarning, match="repeated localisations"):
            random = localization_frc(table, pixel_size=5.0, split="random", seed=0)
        out.append({"reference": _reference(structure),
                    "blocks": localization_frc(table, pixel_size=5.0),
                    "random": random,
                    "corrected": localization_frc(table, pixel_size=5.0, split="random", seed=0,
                                                  correct_repeats=True)})
    return out


@pytest.mark.parametrize("kind", ["blocks", "corrected"])
def test_blocks_and_q_corrected_random_split_read_independent_acquisitions(runs, kind):
    """Within 10 % of two independent acquisitions on average over three structures (15 % each)."""
    ratios = np.array([run[kind].resolution / run["reference"] for run in runs])
    assert abs(ratios.mean() - 1) < 0.10, ratios
    assert np.all(np.abs(ratios - 1) < 0.15), ratios


def test_random_split_with_repeats_reads_finer(runs):
    """The halves share emitters: the uncorrected random split reads at least 15 % finer."""
    ratios = np.array([run["random"].resolution / run["reference"] for run in runs])
    assert np.all(ratios < 0.85), ratios
    assert all("repeated localisations" in run["random"].warnings[0] for run in runs)


def test_repeats_are_estimated(runs):
    """Q (Nieuwenhuizen's localisations per emitter, Poisson) near the simulated 1 + Poisson(3): E n(n-1)/E n = 3.75;
    the next-frame fraction near (n - 1) / n of the bursts seen within 3 precisions."""
    for run in runs:
        repeats = run["corrected"].parameters["repeats"]
        assert 3.0 < repeats["q"] < 4.7
        assert repeats["uncorrected_resolution"] == pytest.approx(run["random"].resolution)
        assert 0.6 < repeats["next_frame_fraction"] < 0.8
        assert run["corrected"].status == "resolved" and not run["corrected"].warnings


def test_q_correction_of_time_blocks_leaves_them_as_they_are(runs):
    """Time blocks already separate the bursts: the correction removes (almost) nothing; Q is still the table's."""
    table = _acquisition(0, 0).table
    corrected = localization_frc(table, pixel_size=5.0, correct_repeats=True)
    assert corrected.resolution == pytest.approx(runs[0]["blocks"].resolution, rel=0.03)
    repeats = corrected.parameters["repeats"]
    assert 3.0 < repeats["q"] < 4.7 and repeats["q_split"] < 0.3
    assert f"· Q {repeats['q']:.2f} (blocks split: {repeats['q_split']:.2f} across the halves, removed) ·" in \
        corrected.summary("nm")  # the table's Q, and the part the blocks left, all the correction removed


def test_without_repeats_random_split_is_quiet():
    """One localisation per emitter: no warning, the random split reads as the blocks do, Q near 0."""
    table = _acquisition(0, 7, repeats=1.0, density=600.0).table
    random = localization_frc(table, pixel_size=5.0, split="random", seed=1)
    blocks = localization_frc(table, pixel_size=5.0)
    assert random.warnings == ()
    assert random.resolution == pytest.approx(blocks.resolution, rel=0.10)
    assert random.parameters["repeats"]["next_frame_fraction"] < 0.02
    with pytest.warns(RuntimeWarning, match="upper bound"):
        corrected = localization_frc(table, pixel_size=5.0, split="random", seed=1, correct_repeats=True)
    assert corrected.parameters["repeats"]["q"] < 1.0  # read where the structure still falls: a bound
    assert 0.97 < corrected.resolution / blocks.resolution < 1.15  # never optimistic, a little coarse


def test_default_pixel_is_half_the_precision_and_fine_enough():
    """Half the median precision by default; a pixel half as large again reads the same within 5 % on average over
    three structures (measured: +3 %, +6.5 %, 0 %; a quarter and an eighth of the precision agree within 0.3 %)."""
    ratios = []
    for structure in range(3):
        table = _acquisition(structure, 3).table
        default = localization_frc(table)
        assert default.parameters["pixel_size"] == pytest.approx(5.0)
        ratios.append(default.resolution / localization_frc(table, pixel_size=2.5).resolution)
    assert abs(np.mean(ratios) - 1) < 0.05 and max(np.abs(np.array(ratios) - 1)) < 0.08, ratios


def test_result_is_a_correlation_result_with_its_parameters():
    table = _acquisition(2, 4).table
    result = localization_frc(table, pixel_size=5.0, n_blocks=10)
    assert isinstance(result, CorrelationResult) and result.name == "FRC"
    assert result.pixel_size == (5.0, 5.0)
    parameters = result.parameters
    assert parameters["split"] == "blocks" and parameters["n_blocks"] == 10
    assert sum(parameters["halves"]) == parameters["n_localizations"] == len(table)
    assert parameters["field"]["shape"] == result.parameters["shape"]
    assert parameters["apodization"] == min(parameters["shape"]) // 8
    json.dumps(result.to_dict())


def test_repeat_statistics_of_bursts():
    """Bursts of exactly 3 consecutive frames: two localisations in three have a successor."""
    data = _acquisition(0, 5, repeats=1.0, frames=20000)
    table = np.repeat(data.table, 3, axis=0)
    table[:, 2] += np.tile([0, 1, 2], len(data.table))
    table[:, :2] += np.random.default_rng(0).normal(0, 10.0, (len(table), 2))
    stats = repeat_statistics(read_localizations(table), 40.0)
    assert stats["next_frame_fraction"] == pytest.approx(2 / 3, abs=0.03)
    assert stats["burst_length"] == pytest.approx(3, rel=0.1)


def test_rendered_image_is_the_sum_of_the_halves(small):
    """Every localisation counted once, in the pixel of the field the FRC rendered; the default pixel and the
    result line."""
    result = localization_frc(small, confidence=0.95)
    assert result.parameters["pixel_size"] == default_pixel_size(small[:, 3]) == pytest.approx(5.0)
    image = rendered_image(small, result)
    assert image.shape == result.parameters["field"]["shape"] and image.dtype == np.float32
    assert image.sum() == len(small)
    origin, pixel = result.parameters["field"]["origin"], result.parameters["pixel_size"]
    row, col = int((small[0, 1] - origin[0]) // pixel), int((small[0, 0] - origin[1]) // pixel)
    assert image[row, col] >= 1
    assert default_pixel_size(None) is None and default_pixel_size(np.array([])) is None
    low, high = result.resolution_interval
    line = localization_summary(result, "nm")
    assert line.startswith(f"{result.resolution:.3g} nm [{low:.3g}, {high:.3g}] (0.143, full period)")
    assert f"blocks split of {len(small):,} localisations at 5 nm pixels" in line
    assert result.summary("nm") == line  # the result's own line is the whole line, as the CLI and widget print it
    assert result.summary() == localization_summary(result)  # the table's unit (an array's: none) by default


def test_recognised_columns_name_roles_and_units():
    names = ["id", "frame", "x [nm]", "Y [nm]", "uncertainty [nm]", "intensity"]
    assert recognised_columns(names) == {"x": ("x [nm]", "nm"), "y": ("Y [nm]", "nm"), "frame": ("frame", ""),
                                         "precision": ("uncertainty [nm]", "nm")}
    assert recognised_columns(["frame", "sigma"]) == {"frame": ("frame", "")}


def test_reference_table_is_two_acquisitions_one_after_the_other():
    table = smlm_reference_table(1, (5, 6), field=2000.0, frames=100)
    first = smlm_localizations(2000.0, density=50.0, frames=100, structure_seed=1, seed=5).table
    np.testing.assert_array_equal(table[:len(first)], first)
    assert table[:len(first), 2].max() < 100 <= table[len(first):, 2].min()


# ----------------------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def small():
    return _acquisition(0, 9, field=2000.0).table


@pytest.mark.parametrize(("change", "kwargs", "match"), [
    (lambda t: t[:50], {"pixel_size": 5.0}, "table has 50 localisations"),
    (lambda t: np.where(np.arange(len(t))[:, None] == 3, np.nan, t), {"pixel_size": 5.0}, "table has NaN"),
    (lambda t: t[:, :2], {}, "pixel_size is needed"),
    (lambda t: t[:, :2], {"pixel_size": 5.0, "split": "blocks"}, "split='blocks' needs the frame"),
    (lambda t: t[:, :2], {"pixel_size": 5.0, "correct_repeats": True}, "correct_repeats needs the localisation"),
    (lambda t: t, {"pixel_size": 5.0, "split": "halves"}, "split"),
    (lambda t: t, {"pixel_size": -1.0}, "pixel_size"),
    (lambda t: t, {"pixel_size": 500.0}, "pixel_size 500 renders"),
    (lambda t: t, {"pixel_size": 5.0, "n_blocks": 1}, "n_blocks"),
    (lambda t: t, {"pixel_size": 5.0, "threshold": "2-bit"}, "threshold"),
    (lambda t: t, {"pixel_size": 5.0, "columns": {"x": 0}}, "columns must name x and y"),
    (lambda t: t, {"pixel_size": 5.0, "columns": {"x": 0, "y": 9}}, "columns: y"),
    (lambda t: t, {"pixel_size": 5.0, "apodization": 10_000}, "apodization"),
    (lambda t: t[:, 0], {"pixel_size": 5.0}, "table must be an"),
])
def test_bad_input_names_the_argument(small, change, kwargs, match):
    with pytest.raises(ValueError, match=match):
        localization_frc(change(small.copy()), **kwargs)


def test_missing_columns_are_named():
    frame = pd.DataFrame({"xpos": np.arange(200.0), "ypos": np.arange(200.0)})
    with pytest.raises(ValueError, match="table has no x and y column"):
        read_localizations(frame)
    with pytest.raises(ValueError, match="columns: y column 'nope'"):
        read_localizations(frame, columns={"x": "xpos", "y": "nope"})
    located = read_localizations(frame, columns=("xpos", "ypos"))
    assert located.frame is None and located.unit == ""


# ----------------------------------------------------------------------------- readers
@pytest.fixture(scope="module")
def table():
    """300 localisations in nm: x, y, frame, precision."""
    rng = np.random.default_rng(3)
    return np.column_stack([rng.uniform(0, 3000, 300), rng.uniform(0, 2000, 300), np.arange(300) // 3,
                            rng.uniform(5, 15, 300)])


def _check(located, table, unit="nm"):
    np.testing.assert_allclose(located.x, table[:, 0], rtol=1e-6)
    np.testing.assert_allclose(located.y, table[:, 1], rtol=1e-6)
    np.testing.assert_allclose(located.frame, table[:, 2])
    np.testing.assert_allclose(located.precision, table[:, 3], rtol=1e-6)
    assert located.unit == unit


def test_thunderstorm_csv(tmp_path, table):
    path = tmp_path / "locs.csv"
    pd.DataFrame({"id": np.arange(1, 301), "frame": table[:, 2], "x [nm]": table[:, 0], "y [nm]": table[:, 1],
                  "sigma [nm]": 120.0, "intensity [photon]": 900.0, "uncertainty [nm]": table[:, 3]}).to_csv(
        path, index=False, quoting=2)
    located = read_localizations(path)
    _check(located, table)
    assert located.columns == {"x": "x [nm]", "y": "y [nm]", "frame": "frame", "precision": "uncertainty [nm]"}
    assert is_localization_table(path) and not is_localization_table(tmp_path / "none.csv")
    (tmp_path / "other.csv").write_text("area,mean\n3,4\n")
    (tmp_path / "words.txt").write_text("x y\nnot numbers\n")
    assert not is_localization_table(tmp_path / "other.csv") and not is_localization_table(tmp_path / "words.txt")


def test_frc_of_a_file_reads_as_of_its_table(tmp_path, small):
    path = tmp_path / "acquisition.csv"
    pd.DataFrame({"frame": small[:, 2], "x [nm]": small[:, 0], "y [nm]": small[:, 1],
                  "uncertainty [nm]": small[:, 3]}).to_csv(path, index=False)
    result = localization_frc(path)
    assert result.resolution == pytest.approx(localization_frc(small).resolution)
    assert result.parameters["unit"] == "nm" and "ThunderSTORM" in result.parameters["source"]


def test_rapidstorm_txt(tmp_path, table):
    header = ('# <localizations insequence="true" repetitions="variable"><field identifier="Position-0-0" '
              'syntax="floating point" semantic="position in sample space in X" unit="nanometer" />'
              '<field identifier="Position-0-0-uncertainty" syntax="floating point" unit="nanometer" />'
              '<field identifier="Position-1-0" syntax="floating point" unit="nanometer" />'
              '<field identifier="ImageNumber-0-0" syntax="integer" unit="frame" />'
              '<field identifier="Amplitude-0-0" syntax="floating point" unit="A/D count" /></localizations>\n')
    rows = "\n".join(f"{x} {p} {y} {int(f)} 1000" for x, y, f, p in table)
    path = tmp_path / "locs.txt"
    path.write_text(header + rows + "\n")
    _check(read_localizations(path), table)


def test_picasso_hdf5(tmp_path, table):
    h5py = pytest.importorskip("h5py")
    camera = 130.0
    locs = np.rec.fromarrays([table[:, 2].astype(np.uint32), table[:, 0] / camera, table[:, 1] / camera,
                              np.full(300, 500.0, np.float32), table[:, 3] / camera, table[:, 3] / camera],
                             names=("frame", "x", "y", "photons", "lpx", "lpy"))
    path = tmp_path / "locs.hdf5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("locs", data=locs)
    with pytest.raises(ValueError, match="camera_pixel is needed"):
        read_localizations(path)
    _check(read_localizations(path, camera_pixel=camera), table)
    (tmp_path / "locs.yaml").write_text("Byte Order: <\nFrames: 100\n---\nGenerated by: Picasso Localize\n"
                                        f"Pixelsize: {camera}\n")
    _check(read_localizations(path), table)


def test_smap_mat(tmp_path, table):
    path = tmp_path / "locs_sml.mat"
    loc = {"xnm": table[:, :1], "ynm": table[:, 1:2], "frame": table[:, 2:3], "locprecnm": table[:, 3:4],
           "phot": np.full((300, 1), 800.0)}
    scipy.io.savemat(path, {"saveloc": {"loc": loc, "file": "movie.tif"}})
    _check(read_localizations(path), table)


def test_frames_of_other_tools(table):
    """SMAP, locan and plain names; a locan LocData by its data frame; arrays in camera pixels."""
    smap = pd.DataFrame({"xnm": table[:, 0], "ynm": table[:, 1], "frame": table[:, 2], "locprecnm": table[:, 3]})
    _check(read_localizations(smap), table)
    locan = pd.DataFrame({"position_x": table[:, 0], "position_y": table[:, 1], "frame": table[:, 2],
                          "uncertainty": table[:, 3]})
    _check(read_localizations(locan), table, unit="")

    class LocData:  # what locan's LocData offers a reader: its data frame
        data = locan

    _check(read_localizations(LocData()), table, unit="")
    _check(read_localizations(table / [100, 100, 1, 100], camera_pixel=100.0), table)
    micrometres = pd.DataFrame({"x [µm]": table[:, 0] / 1000, "y [µm]": table[:, 1] / 1000, "frame": table[:, 2],
                                "uncertainty [nm]": table[:, 3]})
    located = read_localizations(micrometres)
    assert located.unit == "µm"
    np.testing.assert_allclose(located.precision, table[:, 3] / 1000)


def test_unreadable_files_are_named(tmp_path):
    with pytest.raises(ValueError, match="cannot read '.xyz'"):
        read_localizations(tmp_path / "locs.xyz")
    with pytest.raises(ValueError, match="there is no file"):
        read_localizations(tmp_path / "missing.csv")
    empty = tmp_path / "empty_sml.mat"
    scipy.io.savemat(empty, {"other": np.ones(3)})
    with pytest.raises(ValueError, match="saveloc"):
        read_localizations(empty)
    with pytest.raises(ValueError, match="locan"):
        (tmp_path / "locs.asdf").write_text("#ASDF 1.0.0\n")
        read_localizations(tmp_path / "locs.asdf")


def test_repeat_statistics_take_large_frame_numbers():
    """Frames numbered from 10^12: counted on the frames that occur, without an array over every frame number."""
    data = _acquisition(0, 5, repeats=1.0, frames=20000)
    table = np.repeat(data.table, 2, axis=0)
    table[:, 2] += np.tile([0, 1], len(data.table)) + 10**12
    stats = repeat_statistics(read_localizations(table), 40.0)
    assert stats["next_frame_fraction"] == pytest.approx(1 / 2, abs=0.03)
