"""``napari-resolution view``: the viewer opens with the files (or a sample) and the widget docked."""

import re
from pathlib import Path

import numpy as np
import pytest

from napari_resolution import io
from napari_resolution.cli import main
from napari_resolution.cli.main import build_parser
from napari_resolution.gui import launch
from napari_resolution.gui.widgets.decorrelation import DecorrelationWidget
from napari_resolution.gui.widgets.fourier import FourierCorrelationWidget


@pytest.fixture
def opened(qtbot):
    """Calls open_viewer(show=False) and closes every viewer it opened."""
    viewers = []
    open_viewer = launch.open_viewer  # the launcher's own, also where a test replaces it with this

    def open_(*args, **kwargs):
        viewers.append(open_viewer(*args, show=False, **kwargs))
        return viewers[-1]

    yield open_
    for viewer in viewers:
        viewer.close()


def _docked(viewer, widget_class):
    return [widget for widget in viewer.window.dock_widgets.values() if isinstance(widget, widget_class)]


def test_two_maps_open_with_their_voxel_size_and_the_fsc_docked(opened, tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for name in ("half1.mrc", "half2.mrc"):
        io.write_mrc(tmp_path / name, rng.standard_normal((16, 16, 16)).astype(np.float32), (1.5, 1.5, 1.5))
        paths.append(tmp_path / name)
    viewer = opened(paths)
    assert [layer.name for layer in viewer.layers] == ["half1", "half2"]
    assert tuple(viewer.layers[0].scale) == pytest.approx((1.5, 1.5, 1.5))
    (dock,) = _docked(viewer, FourierCorrelationWidget)
    assert dock.pixel_size.value == "1.5"


def test_one_image_docks_decorrelation(opened, tmp_path):
    np.save(tmp_path / "cells.npy", np.random.default_rng(1).standard_normal((64, 64)))
    viewer = opened([tmp_path / "cells.npy"])
    assert len(viewer.layers) == 1
    assert _docked(viewer, DecorrelationWidget)


def test_one_relion_half_map_opens_with_its_other_half_and_the_fsc(opened, tmp_path, monkeypatch, capsys):
    import napari

    job = tmp_path / "Refine3D" / "job012"
    job.mkdir(parents=True)
    rng = np.random.default_rng(3)
    for half in (1, 2):
        io.write_mrc(job / f"run_half{half}_class001_unfil.mrc", rng.standard_normal((16, 16, 16)).astype(np.float32),
                     1.06)
    viewers = []
    monkeypatch.setattr(launch, "open_viewer", lambda *args: viewers.append(opened(*args)))
    monkeypatch.setattr(napari, "run", lambda: None)
    first = job / "run_half1_class001_unfil.mrc"
    assert main(["view", str(first)]) == 0
    assert f"note: second half-map: {job / 'run_half2_class001_unfil.mrc'}" in capsys.readouterr().err
    assert main(["view", str(first), "--widget", "decorr"]) == 0  # one image asked for: one image
    paired, alone = viewers
    (dock,) = _docked(paired, FourierCorrelationWidget)
    assert [dock.first.value.name, dock.second.value.name] == ["run_half1_class001_unfil", "run_half2_class001_unfil"]
    assert dock.pixel_size.value == "1.06"
    assert [layer.name for layer in alone.layers] == ["run_half1_class001_unfil"]
    assert _docked(alone, DecorrelationWidget)


def test_a_lone_half_map_docks_the_single_map_local_resolution_with_a_note(opened, tmp_path, monkeypatch,
                                                                             capsys):
    import napari

    from napari_resolution.gui.widgets.local import SINGLE_MAP, LocalResolutionWidget

    lone = tmp_path / "lone"
    lone.mkdir()
    half1 = lone / "run_half1_class001_unfil.mrc"
    io.write_mrc(half1, np.random.default_rng(4).standard_normal((16, 16, 16)).astype(np.float32), 1.06)
    viewers = []
    monkeypatch.setattr(launch, "open_viewer", lambda *args: viewers.append(opened(*args)))
    monkeypatch.setattr(napari, "run", lambda: None)
    assert main(["view", str(half1)]) == 0
    err = capsys.readouterr().err
    assert f"note: {half1} is named like a half-map, and its other half {lone / 'run_half2_class001_unfil.mrc'} is " \
           "not beside it: docking the single-map local resolution" in err
    (viewer,) = viewers
    (widget,) = _docked(viewer, LocalResolutionWidget)
    assert widget.method.value == SINGLE_MAP and widget.half1.value.name == "run_half1_class001_unfil"
    assert not _docked(viewer, DecorrelationWidget)
    assert main(["view", str(half1), "--widget", "decorr"]) == 0  # asked for: decorrelation, no note
    assert _docked(viewers[1], DecorrelationWidget) and "note:" not in capsys.readouterr().err


def test_view_without_a_display_says_how_to_get_one_before_qt_starts(monkeypatch, capsys, tmp_path):
    import napari

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setattr(napari, "Viewer", lambda *args, **kwargs: pytest.fail("Qt started"))
    assert main(["view"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no display" in err and "ssh -X" in err
    assert "xvfb-run -a napari-resolution view" in err and "--plot fsc.png --json fsc.json" in err
    assert main(["view", str(tmp_path / "nothing.mrc")]) == 2  # a bad file is said first
    assert "nothing.mrc: no such file" in capsys.readouterr().err
    for name, value in (("DISPLAY", ":10.0"), ("WAYLAND_DISPLAY", "wayland-0"), ("QT_QPA_PLATFORM", "offscreen")):
        launch.check_display({name: value}, "linux")
    launch.check_display({}, "darwin")  # a Mac or Windows always has its window system
    with pytest.raises(ValueError, match="no display"):
        launch.check_display({"DISPLAY": ""}, "linux")


def test_no_file_opens_the_sample_with_a_known_answer(opened):
    viewer = opened([])
    assert [layer.name for layer in viewer.layers] == ["half-map 1", "half-map 2"]
    assert "known_resolution" in viewer.layers[0].metadata


def test_the_local_resolution_widget_docks_on_the_sample(opened):
    from napari_resolution.gui.widgets.local import LocalResolutionWidget

    viewer = opened([], "local")
    (dock,) = _docked(viewer, LocalResolutionWidget)
    assert dock.half1.value.name == "half-map 1" and dock.half2.value.name == "half-map 2"


def test_missing_file_and_unknown_widget_are_errors_naming_them(tmp_path, capsys):
    with pytest.raises(ValueError, match="nothing.mrc: no such file"):
        launch.open_viewer([tmp_path / "nothing.mrc"], show=False)
    with pytest.raises(ValueError, match="is a directory"):
        launch.open_viewer([tmp_path], show=False)
    with pytest.raises(ValueError, match="widget must be one of"):
        launch.open_viewer([], "fft", show=False)
    assert main(["view", str(tmp_path / "nothing.mrc")]) == 2
    assert "nothing.mrc: no such file" in capsys.readouterr().err


def test_one_map_docks_local_resolution_in_single_map_mode(opened, tmp_path):
    from napari_resolution.gui.widgets.local import SINGLE_MAP, LocalResolutionWidget

    rng = np.random.default_rng(2)
    io.write_mrc(tmp_path / "map.mrc", rng.standard_normal((16, 16, 16)).astype(np.float32), (1.5, 1.5, 1.5))
    viewer = opened([tmp_path / "map.mrc"], "local")
    (widget,) = _docked(viewer, LocalResolutionWidget)
    assert widget.method.value == SINGLE_MAP and widget.half1.value is viewer.layers["map"]
    assert widget.half2.value is None


def test_a_localisation_table_docks_the_localisation_frc_and_reads_as_loc_frc(opened, tmp_path, monkeypatch, capsys,
                                                                              qtbot):
    """``view locs.csv`` (ThunderSTORM): the table as points in nm with its frames and precision, the Localisation
    FRC docked on it; Run gives the line ``loc-frc`` prints for the file."""
    import napari
    import pandas as pd

    from napari_resolution.core.simulate import smlm_localizations
    from napari_resolution.gui.widgets.localization import LocalizationFRCWidget

    table = smlm_localizations(2000.0, filaments=10, density=200.0, width=15.0, repeats=4.0, frames=2000,
                               seed=0).table
    path = tmp_path / "locs.csv"
    pd.DataFrame({"frame": table[:, 2].astype(int), "x [nm]": table[:, 0], "y [nm]": table[:, 1],
                  "uncertainty [nm]": table[:, 3]}).to_csv(path, index=False)
    viewers = []
    monkeypatch.setattr(launch, "open_viewer", lambda *args: viewers.append(opened(*args)))
    monkeypatch.setattr(napari, "run", lambda: None)
    assert main(["view", str(path)]) == 0
    (viewer,) = viewers
    (widget,) = _docked(viewer, LocalizationFRCWidget)
    assert widget.points.value is viewer.layers["locs"] and len(viewer.layers) == 1
    assert (widget.pixel_size.value, widget.unit.value, widget.split.value) == ("1", "nm", "blocks")
    widget.run_button.native.click()
    qtbot.waitUntil(lambda: not widget.runner.busy and widget.result is not None, timeout=60_000)
    capsys.readouterr()
    assert main(["loc-frc", str(path)]) == 0
    assert widget.result_line.text().splitlines()[0] == capsys.readouterr().out.strip()


# ------------------------------------------------------------------------- the README's "three steps", true

README = Path(__file__).resolve().parents[2] / "README.md"
THREE_STEPS = "## Your own file in napari: three steps"
#: The result line of the FSC widget, as the README shows it.
FSC_LINE = re.compile(r"[\d.]+ Å \(half-bit, full period\) · [\d.]+ Å half period · status resolved")


def _three_steps() -> str:
    return README.read_text(encoding="utf-8").split(THREE_STEPS)[1].split("\n## ")[0]


def _write_own_files(folder: Path) -> None:
    """The README's files, small: two half-maps with their voxel size (Å) and an image with its pixel size (µm)."""
    from napari_resolution.core.simulate import band_limited_noise, phantom_pair

    pair = phantom_pair((32, 32, 32), seed=0, pixel_size=1.06, dtype=np.float32)
    io.write_mrc(folder / "half1.mrc", pair.half1, 1.06)
    io.write_mrc(folder / "half2.mrc", pair.half2, 1.06)
    io.write_tiff(folder / "cells.tif", band_limited_noise((128, 128), 0.2, seed=0).astype(np.float32), 0.065)


def test_the_readmes_three_steps_give_a_number(opened, tmp_path, qtbot):
    from napari_resolution.gui.widgets.base import EstimatorWidget

    text = _three_steps()
    commands = [line.split("#")[0].split()[1:] for line in text.splitlines()
                if line.strip().startswith("napari-resolution view")]
    assert len(commands) == 2 and FSC_LINE.search(text)
    _write_own_files(tmp_path)
    for command, (widget_class, pixel_size, unit) in zip(commands, [(FourierCorrelationWidget, "1.06", "Å"),
                                                                     (DecorrelationWidget, "0.065", "µm")]):
        args = build_parser().parse_args(command)
        viewer = opened([tmp_path / name for name in args.files], args.widget)  # step 1
        (widget,) = [w for w in viewer.window.dock_widgets.values() if isinstance(w, EstimatorWidget)]
        assert isinstance(widget, widget_class)
        assert [layer.name for layer in widget.picked_layers()] == [Path(name).stem for name in args.files]  # 2
        assert (widget.pixel_size.value, widget.unit.value) == (pixel_size, unit)
        widget.run_button.native.click()  # step 3
        qtbot.waitUntil(lambda widget=widget: not widget.runner.busy and widget.result is not None, timeout=60_000)
        line = widget.result_line.text().splitlines()[0]
        assert line.endswith("status resolved")
        assert FSC_LINE.fullmatch(line) or widget_class is DecorrelationWidget
