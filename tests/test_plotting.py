"""The PNG writer (plotting.py) and the plot descriptions it draws: labels, second axis, notes, legends."""

import itertools

import numpy as np
import pytest

from napari_resolution import decorrelation, fourier_correlation, phantom_pair
from napari_resolution.core.figures import Curve, Marker, Plot, resolution_ticks
from napari_resolution.core.randomization import RANDOMIZED_LABEL
from napari_resolution.core.simulate import band_limited_noise
from napari_resolution.core.thresholds import CRITERIA
from napari_resolution.plotting import _x_label, plot_figure


@pytest.fixture(scope="module")
def frc():
    pair = phantom_pair((128, 128), seed=0)
    return pair, fourier_correlation(pair.half1, pair.half2, pixel_size=1.1)


def _drawn(plots):
    figure = plot_figure(plots)
    figure.canvas.draw()
    return figure, figure.canvas.get_renderer()


def _label_boxes(axes, markers, renderer):
    texts = {marker.label for marker in markers}
    return [text.get_bbox_patch().get_window_extent(renderer) for text in axes.texts if text.get_text() in texts]


def test_close_marker_labels_do_not_overlap():
    x = np.linspace(0, 0.5, 101)
    markers = (Marker(0.2, "3.42 Å"), Marker(0.203, RANDOMIZED_LABEL), Marker(0.21, "≤ 3.1 Å"),
               Marker(0.5, "≤ 2.2 Å (Nyquist)"))
    figure, renderer = _drawn([Plot("p", (Curve("FSC", x, np.exp(-((x / 0.2) ** 4))),), markers, unit="Å")])
    axes = figure.axes[0]
    boxes = _label_boxes(axes, markers, renderer)
    assert len(boxes) == 4
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)
    inside = axes.get_window_extent(renderer)
    assert all(inside.x0 <= box.x0 and box.x1 <= inside.x1 for box in boxes)  # the Nyquist label turns left


def test_marker_labels_keep_off_the_curves(frc):
    _, result = frc
    plots = result.plots("Å", all_thresholds=True)
    figure, renderer = _drawn(plots)
    axes = figure.axes[0]
    (box,) = _label_boxes(axes, plots[0].markers, renderer)
    for line in axes.lines:
        if line.get_label() == "FRC":
            path = line.get_transform().transform_path(line.get_path())
            assert not path.intersects_bbox(box, filled=False)


def test_png_has_a_resolution_axis_where_the_unit_is_known(frc):
    _, result = frc
    figure, _ = _drawn(result.plots("Å"))
    (top,) = figure.axes[0].child_axes
    assert top.get_xlabel() == "resolution, full period (Å)"
    ticks = [(f, label.get_text()) for f, label in zip(top.get_xticks(), top.get_xticklabels())]
    assert len(ticks) >= 3
    for frequency, text in ticks:
        assert float(text) == pytest.approx(1.1 / frequency, rel=1e-6)
    figure, _ = _drawn(result.plots(""))
    assert not figure.axes[0].child_axes


def test_resolution_ticks_are_round_and_spaced():
    ticks = resolution_ticks(1.1, 0.0, 0.5)
    assert [text for _, text in ticks] == ["2.5", "4", "6", "12"]
    assert all(f == pytest.approx(1.1 / float(text)) for f, text in ticks)
    assert all(a - b >= 0.5 / 6 for (a, _), (b, _) in itertools.pairwise(ticks))
    assert len(resolution_ticks(1.1, 0.2, 0.22)) == 3  # zoomed in between round values: evenly spaced
    assert resolution_ticks(1.0, 0.3, 0.2) == []


def test_every_thresholds_resolution_is_listed(frc):
    pair, result = frc
    notes = result.plots("Å", all_thresholds=True)[0].notes
    assert notes == result.plots("Å", view="ssnr", all_thresholds=True)[0].notes
    assert len(notes) == len(CRITERIA)
    for name, note in zip(CRITERIA, notes):
        alone = fourier_correlation(pair.half1, pair.half2, pixel_size=1.1, threshold=name)
        value = "none" if alone.resolution is None else f"{'≤ ' if alone.status == 'bound' else ''}" \
                                                        f"{alone.resolution:.3g} Å"
        assert note == f"{name}: {value} ({alone.status})"
    assert result.plots("Å")[0].notes == ()
    figure, _ = _drawn(result.plots("Å", all_thresholds=True))
    shown = " ".join(text.get_text() for text in figure.axes[0].texts)
    assert all(note in shown.replace("\n", " ") for note in notes)


@pytest.mark.filterwarnings("ignore:the analysed plane is:RuntimeWarning")  # a 128-pixel image: the small-field warning
@pytest.mark.filterwarnings("ignore:.*the noise beyond the cut-off is not white:RuntimeWarning")  # noise-free
def test_decorrelation_png_legend_shows_every_kind_of_curve():
    result = decorrelation(band_limited_noise((128, 128), 0.2, seed=0), pixel_size=0.1)
    figure, _ = _drawn(result.plots("nm"))
    legend = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert legend == ["unfiltered d(r)", "high-pass", "refined", "peaks (amplitude ≥ 0.05)"]


@pytest.mark.filterwarnings("ignore:the analysed plane is:RuntimeWarning")  # a small image: the small-field warning
@pytest.mark.filterwarnings("ignore:.*the noise beyond the cut-off is not white:RuntimeWarning")  # noise-free
def test_one_slice_of_a_stack_has_no_per_slice_plot():
    stack = np.stack([band_limited_noise((64, 64), c, seed=i) for i, c in enumerate((0.15, 0.25))])
    one = decorrelation(stack, slices=[1], apodization=8)
    (plot,) = one.plots("nm")
    assert plot.title == "slice 1" and plot.frequency_axis
    assert len(decorrelation(stack, apodization=8).plots("nm")) == 2


@pytest.mark.filterwarnings("ignore:the analysed plane is:RuntimeWarning")  # a small image: the small-field warning
@pytest.mark.filterwarnings("ignore:.*the noise beyond the cut-off is not white:RuntimeWarning")  # noise-free
def test_the_per_slice_png_ticks_whole_slices_only():
    stack = np.stack([band_limited_noise((64, 64), c, seed=i) for i, c in enumerate((0.15, 0.2, 0.25))])
    per_slice, _ = decorrelation(stack, apodization=8).plots("nm")
    figure, _ = _drawn([per_slice])
    axes = figure.axes[0]
    low, high = axes.get_xlim()
    ticks = [tick for tick in axes.get_xticks() if low <= tick <= high]
    assert per_slice.integer_x and ticks == [0, 1, 2]


def test_the_pixel_size_under_a_frequency_axis_has_three_significant_digits():
    plot = Plot("FRC", (), x_label="spatial frequency (cycles/pixel)", pixel_size=0.0426137, unit="µm")
    assert _x_label(plot) == "spatial frequency (cycles/pixel; pixel = 0.0426 µm)"


def _histogram(peak: float = 70000.0) -> Plot:
    """A local-resolution histogram as the map results describe it: voxels per resolution, the median marked."""
    x = np.linspace(2.8, 4.2, 40)
    counts = peak * np.exp(-(((x - 3.6) / 0.2) ** 2))
    return Plot("local resolution", (Curve("voxels", x, counts),), (Marker(3.6, "median 3.6 Å"),),
                x_label="local resolution, full period (Å)", y_label="voxels", frequency_axis=False, x_range=None,
                unit="Å")


def test_a_label_that_would_pass_the_right_edge_turns_left():
    x = np.linspace(0, 0.5, 101)
    markers = (Marker(0.29, "a label long enough to pass the plot's right edge"),)
    figure, renderer = _drawn([Plot("p", (Curve("FSC", x, 1 - 2 * x),), markers)])
    axes = figure.axes[0]
    (box,) = _label_boxes(axes, markers, renderer)
    inside = axes.get_window_extent(renderer)
    assert inside.x0 <= box.x0 and box.x1 <= inside.x1


def test_a_histograms_peak_stays_under_its_median_label():
    plot = _histogram()
    figure, renderer = _drawn([plot])
    axes = figure.axes[0]
    assert axes.get_ylim()[1] > plot.curves[0].y.max()
    (box,) = _label_boxes(axes, plot.markers, renderer)
    (line,) = [line for line in axes.lines if line.get_label() == "voxels"]
    assert not line.get_transform().transform_path(line.get_path()).intersects_bbox(box, filled=False)
