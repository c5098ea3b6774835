"""Issue #29: the "Localisation FRC" widget on a Points layer."""

import re
from pathlib import Path

import numpy as np
import pytest

from napari_resolution import localization_frc
from napari_resolution.core.simulate import smlm_localizations
from napari_resolution.gui.layers import TAG, output_kind
from napari_resolution.gui.sample_data import SMLM, simulated_localizations
from napari_resolution.gui.widgets.localization import IMAGE_KIND, LocalizationFRCWidget

#: The page that quotes the sample's reading.
DOCS = Path(__file__).resolve().parents[2] / "docs" / "localization_frc.md"


@pytest.fixture
def notifications(notifications, monkeypatch):
    """The conftest's capture, with this widget's module too."""
    import napari_resolution.gui.widgets.localization as localization

    for kind in ("error", "info", "warning"):
        monkeypatch.setattr(localization, f"show_{kind}", lambda text, kind=kind: notifications.append((kind, text)),
                            raising=False)
    return notifications


@pytest.fixture(scope="module")
def sample():
    return simulated_localizations()[0]


def _widget(viewer):
    widget = LocalizationFRCWidget(viewer)
    viewer.window.add_dock_widget(widget)
    return widget


def _legend(panel) -> list:
    return [label.text for _, label in panel.legend.items]


def test_the_sample_reads_the_known_answer_with_its_interval(make_napari_viewer, wait_idle, sample):
    """Within 15 % of two independent acquisitions (the core tests' tolerance per structure); the interval holds the
    number, the band is drawn, the rendered image is an output over the points and the points are untouched. The
    docs quote the reading, and its interval, which leaves out the known answer (the split's bias is not in it)."""
    data, kwargs, _ = sample
    viewer = make_napari_viewer()
    points = viewer.add_points(data, **kwargs)
    before = points.data.copy()
    widget = _widget(viewer)
    assert widget.points.value is points and widget.unit.value == "nm" and widget.pixel_size.value == "1"
    assert widget.split.value == "blocks" and widget.render_pixel.native.placeholderText() == "auto: 5 nm"
    widget.interval.value = True
    widget.add_image.value = True
    widget.run()
    wait_idle(widget)
    result = widget.result
    known = kwargs["metadata"]["known_resolution"]
    assert result.parameters["split"] == "blocks" and result.parameters["pixel_size"] == 5.0
    assert abs(result.resolution / known - 1) < 0.15, (result.resolution, known)
    low, high = result.resolution_interval
    assert low <= result.resolution <= high
    line = widget.result_line.text()
    assert re.match(rf"{result.resolution:.3g} nm \[{low:.3g}, {high:.3g}\] \(0\.143, full period\)", line), line
    assert f"blocks split of {len(data):,} localisations at 5 nm pixels" in line
    assert {"FRC", "95% band", "0.143"} <= set(_legend(widget.panel))
    image = viewer.layers[f"{points.name} rendered"]
    assert output_kind(image) == IMAGE_KIND and image.metadata[TAG]["source"] == points.name
    assert image.data.sum() == len(data) and tuple(image.scale) == (5.0, 5.0)
    origin = np.asarray(result.parameters["field"]["origin"])
    np.testing.assert_allclose(image.translate, origin + 2.5)  # pixel centres: the points they count lie within
    first = np.floor((data[0] - origin) / 5.0).astype(int)
    assert image.data[tuple(first)] >= 1
    np.testing.assert_array_equal(points.data, before)
    assert widget.points.choices == (None, points)  # the rendered image is no input here
    sample_text = next(paragraph for paragraph in DOCS.read_text(encoding="utf-8").split("\n\n")
                       if "known_resolution" in paragraph)
    sample_text = " ".join(sample_text.split())
    assert f"reads {result.resolution:.3g} nm" in sample_text and f"({known:.3g} nm)" in sample_text
    assert f"[{low:.3g}, {high:.3g}] nm" in sample_text and not low <= known <= high  # why: said there


def test_a_3d_points_layer_splits_by_its_frames(make_napari_viewer, wait_idle):
    """(frame, y, x) points in camera pixels of 20 nm: time blocks from the first coordinate, positions scaled."""
    table = smlm_localizations(2000.0, filaments=10, density=200.0, width=15.0, frames=2000, seed=1).table
    viewer = make_napari_viewer()
    points = viewer.add_points(np.column_stack([table[:, 2], table[:, 1] / 20, table[:, 0] / 20]), name="movie",
                               scale=(1.0, 20.0, 20.0))
    widget = _widget(viewer)
    assert widget.pixel_size.value == "20" and widget.split.value == "blocks"
    assert widget.render_pixel.native.placeholderText() == "needed: no precision known"
    widget.unit.value = "nm"
    widget.precision.value = "10"
    assert widget.render_pixel.native.placeholderText() == "auto: 5 nm"
    widget.n_blocks.value = 10
    widget.run()
    wait_idle(widget)
    expected = localization_frc(table[:, :3], precision=10.0, n_blocks=10)
    assert widget.result.parameters["split"] == "blocks" and widget.result.parameters["n_blocks"] == 10
    assert widget.result.parameters["halves"] == expected.parameters["halves"]
    assert widget.result.resolution == pytest.approx(expected.resolution, rel=1e-6)
    assert widget.result.parameters["repeats"]["next_frame_fraction"] > 0.5  # the frames were read
    points.data = points.data[::2]
    assert widget.result_line.stale


def test_a_3d_layer_whose_first_coordinate_is_z_is_not_split_by_it(make_napari_viewer, wait_idle, notifications):
    """(z, y, x) points: z (not whole numbers) is no frame; the frames come from the frame feature, else the split
    is random, and a warning says why."""
    table = smlm_localizations(2000.0, filaments=10, density=200.0, width=15.0, frames=2000, seed=1).table
    z = np.random.default_rng(0).normal(0.0, 300.0, len(table))
    viewer = make_napari_viewer()
    data = np.column_stack([z, table[:, 1], table[:, 0]])
    framed = viewer.add_points(data, name="z framed", features={"frame": table[:, 2]})
    widget = _widget(viewer)
    widget.unit.value, widget.precision.value = "nm", "10"
    assert widget.split.value == "blocks"
    widget.run()
    wait_idle(widget)
    expected = localization_frc(table[:, :3], precision=10.0)
    assert widget.result.parameters["halves"] == expected.parameters["halves"]
    assert widget.result.resolution == pytest.approx(expected.resolution, rel=1e-6)
    assert notifications.count(("warning", "layer 'z framed': its first coordinate holds values that are not whole "
                                           "numbers, so it is not taken as the frame (the first coordinate of a 3-D "
                                           "Points layer must be the frame number for the time-block split); its "
                                           "frame feature gives the frames")) == 1
    viewer.layers.remove(framed)
    viewer.add_points(data, name="z only")
    assert widget.split.value == "random"
    assert notifications[-1][0] == "warning" and notifications[-1][1].startswith("layer 'z only': its first "
                                                                                 "coordinate holds values")
    assert notifications[-1][1].endswith("; the split is random")
    widget.split.value = "blocks"
    widget.run()
    wait_idle(widget)
    assert notifications[-1][0] == "error" and notifications[-1][1].startswith("split='blocks' needs the frame")


def test_rescaling_the_layer_keeps_the_split_and_unit_chosen(make_napari_viewer):
    """The Scale follows the layer's scale; the split and the unit are set again only for another layer."""
    viewer = make_napari_viewer()
    rng = np.random.default_rng(0)
    frames = viewer.add_points(np.column_stack([rng.integers(0, 50, 200), rng.uniform(0, 100, (200, 2))]),
                               name="frames", scale=(1.0, 20.0, 20.0))
    flat = viewer.add_points(rng.uniform(0, 100, (200, 2)), name="flat")
    widget = _widget(viewer)
    widget.points.value = frames
    assert widget.split.value == "blocks"
    widget.split.value, widget.unit.value = "random", "nm"
    frames.scale = (1.0, 10.0, 10.0)
    assert widget.pixel_size.value == "10" and widget.split.value == "random" and widget.unit.value == "nm"
    widget.points.value = flat
    widget.points.value = frames
    assert widget.split.value == "blocks" and widget.pixel_size.value == "10"


def test_random_split_with_repeats_warns(make_napari_viewer, wait_idle, notifications, sample):
    data, kwargs, _ = sample
    viewer = make_napari_viewer()
    viewer.add_points(data[::3], **{**kwargs, "features": {key: value[::3] for key, value in
                                                           kwargs["features"].items()}})
    widget = _widget(viewer)
    widget.split.value = "random"
    assert widget.seed.native.isVisibleTo(widget) and not widget.n_blocks.native.isVisibleTo(widget)
    widget.run()
    wait_idle(widget)
    assert widget.result.parameters["split"] == "random"
    assert any(kind == "warning" and "repeated localisations" in text for kind, text in notifications)
    widget.correct.value = True
    widget.run()
    wait_idle(widget)
    assert "· Q " in widget.result_line.text()


def test_a_thunderstorm_table_opened_as_points(make_napari_viewer, wait_idle):
    """Positions in nm with ThunderSTORM's features: the unit, frames and precision come from the features."""
    pd = pytest.importorskip("pandas")
    table = smlm_localizations(2000.0, filaments=10, density=200.0, width=15.0, frames=2000, seed=2).table
    features = pd.DataFrame({"id": np.arange(len(table)), "frame": table[:, 2].astype(int),
                             "x [nm]": table[:, 0], "y [nm]": table[:, 1], "uncertainty [nm]": table[:, 3]})
    viewer = make_napari_viewer()
    viewer.add_points(table[:, [1, 0]], features=features, name="thunderstorm")
    widget = _widget(viewer)
    assert widget.unit.value == "nm" and widget.split.value == "blocks"
    widget.run()
    wait_idle(widget)
    assert widget.result.resolution == pytest.approx(localization_frc(table).resolution, rel=1e-6)


def test_a_precision_feature_that_names_its_unit_is_not_scaled(make_napari_viewer, wait_idle, notifications):
    """Points in 160 nm camera pixels with 'uncertainty [nm]': the precision is in nm as it is (converted to another
    length unit; taken as it is, with a warning, when the unit is no length)."""
    pd = pytest.importorskip("pandas")
    table = smlm_localizations(2000.0, filaments=10, density=200.0, width=15.0, frames=2000, seed=2).table
    features = pd.DataFrame({"frame": table[:, 2].astype(int), "uncertainty [nm]": table[:, 3]})
    viewer = make_napari_viewer()
    viewer.add_points(table[:, [1, 0]] / 160, features=features, name="camera", scale=(160.0, 160.0))
    widget = _widget(viewer)
    assert widget.pixel_size.value == "160" and widget.unit.value == ""
    widget.unit.value = "nm"
    assert widget.render_pixel.native.placeholderText() == "auto: 5 nm"
    widget.run()
    wait_idle(widget)
    scaled = np.column_stack([table[:, :2] / 160 * 160, table[:, 2:]])
    expected = localization_frc(scaled).resolution
    assert widget.result.parameters["pixel_size"] == 5.0
    assert widget.result.resolution == pytest.approx(expected, rel=1e-6)
    widget.pixel_size.value, widget.unit.value = "0.16", "µm"
    assert widget.render_pixel.native.placeholderText() == "auto: 0.005 µm"
    widget.pixel_size.value, widget.unit.value = "160", ""
    widget.run()
    wait_idle(widget)
    assert widget.result.resolution == pytest.approx(expected, rel=1e-6)
    assert ("warning", "layer 'camera': its precision feature 'uncertainty [nm]' is in nm, and Unit '' is no length "
                       "unit: the precision is taken in nm as it is; set Unit to the unit of Scale") in notifications


def test_bad_input_is_said_in_the_widget(make_napari_viewer, wait_idle, notifications):
    viewer = make_napari_viewer()
    image = viewer.add_image(np.zeros((32, 32)), name="picture")
    widget = _widget(viewer)
    assert widget.points.value is None and widget.points.choices == (None,)
    widget.run()
    assert notifications[-1] == ("error", "choose a layer for Points: 'picture' is an Image layer, not a Points layer")
    assert "last run failed: choose a layer" in widget.result_line.text()
    for data, count in ((np.zeros((0, 2)), "0 points"), (np.array([[3.0, 4.0]]), "1 point")):
        viewer.add_points(data, name=f"{count} layer")
        widget.points.value = viewer.layers[f"{count} layer"]
        widget.run()
        assert notifications[-1] == ("error", f"layer '{count} layer' has {count}: the FRC needs at least 100 "
                                              "localisations")
    viewer.add_points(np.random.default_rng(0).uniform(0, 500, (400, 2)), name="no precision")
    widget.points.value = viewer.layers["no precision"]
    widget.run()
    assert "has none (no precision or uncertainty feature): fill in Precision or Render pixel" in notifications[-1][1]
    widget.render_pixel.value = "-2"
    widget.run()
    assert notifications[-1] == ("error", "render pixel must be positive, got '-2'")
    widget.render_pixel.value = "5"
    widget.split.value = "blocks"
    widget.run()
    wait_idle(widget)
    assert notifications[-1][0] == "error" and notifications[-1][1].startswith("split='blocks' needs the frame")
    assert widget.inputs.native.isEnabled() and image.data.sum() == 0


def test_the_sample_carries_its_known_answer(sample):
    data, kwargs, kind = sample
    assert kind == "points" and data.shape[1] == 2
    assert set(kwargs["features"]) == {"frame", "precision"}
    metadata = kwargs["metadata"]
    assert metadata["unit"] == "nm" and metadata["known_criterion"] == "0.143"
    assert 50 < metadata["known_resolution"] < 100 and metadata["known_answer"]["width"] == SMLM["width"]
