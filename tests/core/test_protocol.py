"""The result protocol (results.py) held by every estimator's result, end to end."""

import dataclasses
import json
import re

import numpy as np
import pytest

from napari_resolution import (
    STATUSES,
    CorrelationResult,
    DecorrelationResult,
    DecorrelationStackResult,
    EdgeMTFResult,
    PhaseRandomizedResult,
    PointMTFResult,
    decorrelation,
    fourier_correlation,
    io,
    mtf_edge,
    mtf_point,
    phantom_pair,
    phase_randomized_fsc,
)
from napari_resolution.core import kernels
from napari_resolution.core import results as results_module
from napari_resolution.core.blink import BlinkChannelsResult, BlinkPSFResult, blink_psf
from napari_resolution.core.figures import Curve, Marker, Plot
from napari_resolution.core.local import LocalResolutionResult, local_fsc
from napari_resolution.core.masks import spherical_mask
from napari_resolution.core.mtf import BeadStackResult
from napari_resolution.core.randomization import RANDOMIZED_LABEL
from napari_resolution.core.simulate import (
    band_limited_noise,
    bead_stack,
    blinking_movie,
    gaussian_spot,
    slanted_edge,
    tomography_sinogram,
    two_region_pair,
)
from napari_resolution.core.single_map import SingleMapResult, local_resolution
from napari_resolution.core.tomography import TomographyResult, tomography_frc
from napari_resolution.plotting import save_result_plot

NO_JIT = "NAPARI_RESOLUTION_NO_JIT"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
needs_numba = pytest.mark.skipif(kernels.numba is None, reason="numba not installed")

# The decorrelation results are read on noise-free band-limited images: no white-noise floor (a warning).
pytestmark = pytest.mark.filterwarnings("ignore:.*the noise beyond the cut-off is not white:RuntimeWarning")


@pytest.fixture(autouse=True)
def _default_path(monkeypatch):
    """Every test starts on the default compute path, whatever the environment says."""
    monkeypatch.delenv(NO_JIT, raising=False)


# ----------------------------------------------------------------------------- data


def _halves_and_mask(n=32):
    """Two noisy half-maps of a particle and a soft mask (no RuntimeWarning on either CPU path)."""
    shape = (n, n, n)
    signal = phantom_pair(shape, sigma=1.5, noise=0.0, seed=1).half1
    support = spherical_mask(shape, radius=0.42 * n, soft_edge=4)
    rng = np.random.default_rng(101)
    h1, h2 = (signal * support + 0.6 * rng.standard_normal(shape) for _ in range(2))
    return h1, h2, spherical_mask(shape, radius=0.35 * n, soft_edge=6)


def _build(name):
    if name == "frc":
        pair = phantom_pair((96, 96), seed=0)
        return fourier_correlation(pair.half1, pair.half2, pixel_size=0.5)
    if name == "fsc":
        pair = phantom_pair((32, 32, 32), seed=0)
        return fourier_correlation(pair.half1, pair.half2, pixel_size=(1.2, 1.0, 1.0), apodization=4)
    if name == "phase_randomized":
        h1, h2, mask = _halves_and_mask()
        return phase_randomized_fsc(h1, h2, mask, threshold="half-bit", seed=0, pixel_size=0.8)
    if name == "decorrelation":
        return decorrelation(band_limited_noise((160, 160), 0.2, seed=0), pixel_size=0.1)
    if name == "decorrelation_stack":
        # three band-limited slices and one of white noise (no resolution: a warning)
        rng = np.random.default_rng(3)  # white noise on the band-limited slices (else a warning: none beyond)
        slices = [image + 0.2 * image.std() * rng.standard_normal(image.shape) for image in
                  (band_limited_noise((160, 160), cutoff, seed=s) for s, cutoff in enumerate((0.15, 0.2, 0.25)))]
        slices.insert(1, np.random.default_rng(9).standard_normal((160, 160)))
        with pytest.warns(RuntimeWarning, match="1 of 4 slices"):
            return decorrelation(np.stack(slices), pixel_size=(0.3, 0.1, 0.1), apodization=8)
    if name == "edge_mtf":
        return mtf_edge(slanted_edge((128, 128), 5, 1.5, noise=0.005, seed=0), pixel_size=0.2)
    if name == "point_mtf":
        return mtf_point(gaussian_spot((64, 64), (31.3, 32.6), 2.0, noise=0.01, seed=0), pixel_size=0.2)
    if name == "bead_stack":
        stack = bead_stack((25, 48, 48), (12.3, 23.6, 24.2), (2.5, 1.5, 1.5), amplitude=500, background=50, noise=2,
                           seed=0)
        return mtf_point(stack, pixel_size=(0.3, 0.1, 0.1))
    if name == "local_fsc":
        half1, half2, _ = two_region_pair((48, 48, 48), noise=0.3, seed=0)
        return local_fsc(half1, half2, box=16, pixel_size=(1.2, 1.0, 1.0))
    if name == "single_map":
        half1, _, _ = two_region_pair((96, 96), noise=0.3, seed=0)
        return local_resolution(half1, noise=0.3, pixel_size=0.5)
    if name == "blink_psf":
        return blink_psf(blinking_movie((1500, 32, 32), sigma=1.5, n_emitters=400, seed=0).movie, pixel_size=0.1)
    if name == "blink_channels":
        movies = [blinking_movie(shape, sigma=1.5, n_emitters=400, seed=seed).movie
                  for seed, shape in enumerate([(1500, 32, 32), (1500, 40, 36)])]
        return blink_psf(movies, pixel_size=[0.1, (0.12, 0.11)])
    if name == "tomography":
        simulated = tomography_sinogram(48, phantom="random", dose=300, seed=1)
        return tomography_frc(simulated.sinogram, simulated.theta, pixel_size=0.5)
    raise KeyError(name)


#: name -> (type, number of analysed axes)
KINDS = {
    "frc": (CorrelationResult, 2),
    "fsc": (CorrelationResult, 3),
    "phase_randomized": (PhaseRandomizedResult, 3),
    "decorrelation": (DecorrelationResult, 2),
    "decorrelation_stack": (DecorrelationStackResult, 2),
    "edge_mtf": (EdgeMTFResult, 2),
    "point_mtf": (PointMTFResult, 2),
    "bead_stack": (BeadStackResult, 3),
    "local_fsc": (LocalResolutionResult, 3),
    "single_map": (SingleMapResult, 2),
    "blink_psf": (BlinkPSFResult, 2),
    "blink_channels": (BlinkChannelsResult, 2),
    "tomography": (TomographyResult, 2),
}
NAMES = list(KINDS)
#: Fields a result's JSON leaves out, by design: the map and the per-box sums (the CLI writes the map to a file).
LEFT_OUT_OF_JSON = {"local_fsc": {"map", "sums"}, "single_map": {"map", "sums", "p_values"}}
#: The results whose plots' main curves and resolution marker the tests below know.
CURVE_NAMES = NAMES[:7]


@pytest.fixture(scope="module")
def results():
    return {name: _build(name) for name in NAMES}


def _main_curves(result):
    """Per plot, the (x, y) its first measured curve must show (None for an image panel)."""
    if isinstance(result, CorrelationResult):
        return [(result.frequency, result.correlation)]
    if isinstance(result, PhaseRandomizedResult):
        return [(result.frequency, result.corrected)]
    if isinstance(result, DecorrelationResult):
        return [(result.radii / 2, result.d0)]
    if isinstance(result, DecorrelationStackResult):
        nearest = int(np.nanargmin(np.abs(result.resolutions - result.median)))
        chosen = result.slices[nearest]
        return [(result.slice_indices.astype(float), result.resolutions), (chosen.radii / 2, chosen.d0)]
    if isinstance(result, EdgeMTFResult):
        near = np.abs(result.esf_position) <= 20
        esf = result.esf[near]
        return [(result.frequency, result.mtf),
                (result.esf_position[near], (esf - result.esf.min()) / (result.esf.max() - result.esf.min()))]
    if isinstance(result, PointMTFResult):
        return [(result.frequency, result.mtf), None]
    raise TypeError(type(result))


def _resolution_marker(result, unit):
    """(plot number, x, label text) of the marker a resolved result must show."""
    if isinstance(result, (CorrelationResult, PhaseRandomizedResult)):
        return 0, result.crossing, f"{result.resolution:.3g} {unit}"
    if isinstance(result, DecorrelationResult):
        return 0, result.kc_max / 2, f"{result.resolution:.3g} {unit}"
    if isinstance(result, DecorrelationStackResult):
        nearest = int(np.nanargmin(np.abs(result.resolutions - result.median)))
        chosen = result.slices[nearest]
        return 1, chosen.kc_max / 2, f"{chosen.resolution:.3g} {unit}"
    return 0, result.f50, f"MTF50 {result.f50:.3f}"


# ----------------------------------------------------------------------------- shared fields


@pytest.mark.parametrize("name", NAMES)
def test_shared_fields(results, name):
    result = results[name]
    kind, n_axes = KINDS[name]
    assert type(result) is kind
    assert result.status in STATUSES
    assert result.status == "resolved"  # these inputs have a known, measurable answer
    assert isinstance(result.warnings, tuple) and all(isinstance(w, str) for w in result.warnings)
    assert isinstance(result.parameters, dict)
    assert isinstance(result.pixel_size, tuple) and len(result.pixel_size) == n_axes
    assert all(type(p) is float for p in result.pixel_size)


#: name -> the main number a result's headline() must report.
HEADLINES = {
    "frc": lambda r: r.resolution, "fsc": lambda r: r.resolution, "phase_randomized": lambda r: r.resolution,
    "decorrelation": lambda r: r.resolution, "decorrelation_stack": lambda r: r.median,
    "edge_mtf": lambda r: r.resolution_50, "point_mtf": lambda r: r.resolution_50,
    "bead_stack": lambda r: r.lateral_fwhm,
    "local_fsc": lambda r: r.statistics["median"], "single_map": lambda r: r.statistics["median"],
    "blink_psf": lambda r: r.fwhm, "blink_channels": lambda r: r.channels[0].fwhm,
    "tomography": lambda r: r.resolution,
}


def _result_classes(base=results_module.Result):
    """Every subclass of ``base`` the package defines, at any depth."""
    found = []
    for kind in base.__subclasses__():
        if kind.__module__.startswith("napari_resolution"):
            found.append(kind)
        found.extend(_result_classes(kind))
    return found


def test_protocol_fields_are_declared_once():
    shared = {field.name for field in dataclasses.fields(results_module.Result)}
    assert shared == {"status", "pixel_size", "warnings", "parameters"}
    classes = _result_classes()
    assert len(classes) >= len({kind for kind, _ in KINDS.values()})
    for kind in classes:
        assert not shared & set(kind.__dict__.get("__annotations__", {})), kind.__name__


@pytest.mark.parametrize("name", NAMES)
def test_every_result_records_its_compute_path(results, name):
    assert results[name].parameters["path"] in ("numba", "numpy", "cupy", "skimage")


@pytest.mark.parametrize("name", NAMES)
def test_headline_is_the_main_number(results, name):
    result = results[name]
    quantity, value = result.headline()
    assert isinstance(quantity, str) and quantity
    assert value == HEADLINES[name](result) and np.isfinite(value)


@pytest.mark.parametrize("name", NAMES)
def test_columns_are_one_table(results, name, tmp_path):
    columns = results[name].columns()
    lengths = {len(np.asarray(values)) for values in columns.values()}
    assert len(columns) >= 2 and len(lengths) == 1 and lengths.pop() > 1
    assert all(np.asarray(values).ndim == 1 for values in columns.values())
    io.write_csv(tmp_path / "table.csv", columns)
    rows = (tmp_path / "table.csv").read_text().splitlines()
    assert rows[0].split(",") == list(columns)


def test_specific_columns(results):
    fsc = results["fsc"]
    assert np.array_equal(fsc.columns()["correlation"], fsc.correlation)
    assert list(fsc.columns(view="ssnr")) == ["frequency_cycles_per_pixel", "ssnr", "ssnr_threshold"]
    assert "SSNR crossing" in fsc.summary("Å", view="ssnr")
    with pytest.raises(ValueError, match="view must be one of"):
        fsc.columns(view="ssrn")
    assert np.array_equal(results["phase_randomized"].columns()["corrected"], results["phase_randomized"].corrected)
    assert np.array_equal(results["tomography"].columns()["correlation"], results["tomography"].correlation.correlation)
    histogram = results["local_fsc"].columns()
    assert histogram["voxels"].sum() == np.isfinite(results["local_fsc"].map).sum()
    channels = results["blink_channels"].columns()
    assert set(channels) == {"channel1_radius", "channel1_psf", "channel2_radius", "channel2_psf"}


def test_channels_collect_the_channels(results):
    channels, first = results["blink_channels"], results["blink_channels"][0]
    assert len(channels) == 2 and list(channels) == list(channels.channels)
    assert channels.summary("nm").startswith(f"channel 1: {first.summary('nm')} | channel 2: ")
    assert all(note.startswith("channel ") for note in channels.warnings)
    assert len(channels.plots("nm")) == 2 * len(first.plots("nm"))


def test_pixel_sizes_are_those_given(results):
    assert results["frc"].pixel_size == (0.5, 0.5)
    assert results["fsc"].pixel_size == (1.2, 1.0, 1.0)
    assert results["phase_randomized"].pixel_size == (0.8, 0.8, 0.8)
    assert results["decorrelation"].pixel_size == (0.1, 0.1)
    assert results["decorrelation_stack"].pixel_size == (0.1, 0.1)  # the analysed plane, not the slice axis
    assert results["edge_mtf"].pixel_size == (0.2, 0.2)
    assert results["point_mtf"].pixel_size == (0.2, 0.2)
    assert results["local_fsc"].pixel_size == (1.2, 1.0, 1.0)
    assert results["bead_stack"].pixel_size == (0.3, 0.1, 0.1)
    assert results["single_map"].pixel_size == (0.5, 0.5)
    assert results["blink_psf"].pixel_size == (0.1, 0.1)
    assert results["blink_channels"].pixel_size == (0.1, 0.1)  # the first channel's
    assert results["blink_channels"][1].pixel_size == (0.12, 0.11)
    assert results["tomography"].pixel_size == (0.5, 0.5)


@pytest.mark.parametrize("name", NAMES)
def test_summary_is_one_line_with_the_status(results, name):
    result = results[name]
    line = result.summary("nm")
    assert isinstance(line, str) and line
    assert "\n" not in line
    assert f"status {result.status}" in line


def _in_pixels(result):
    """``result`` as if measured without a pixel size (every size 1), its channels or lateral part too."""
    changes = {"pixel_size": (1.0,) * len(result.pixel_size)}
    if hasattr(result, "channels"):
        changes["channels"] = tuple(_in_pixels(channel) for channel in result.channels)
    return dataclasses.replace(result, **changes)


@pytest.mark.parametrize("name", NAMES)
def test_lengths_without_a_pixel_size_are_said_to_be_pixels(results, name):
    """No pixel size (every size 1) and no unit: the lengths say "px"; a pixel size without a unit: bare numbers."""
    def pixels(line):  # the lengths said in px, not the box sizes (always pixels)
        return re.sub(r"box \d+ px", "", line).count(" px")

    result = results[name]
    line = _in_pixels(result).summary("")
    if result.status != "unresolved":
        assert pixels(line), line
    assert not pixels(result.summary(""))
    assert not pixels(_in_pixels(result).summary("nm"))  # a unit given is the unit
    assert not re.search(r"\de[+-]\d", line), line  # no scientific notation


def test_summaries_print_numbers_plainly_with_three_significant_digits(results):
    fsc = dataclasses.replace(results["fsc"], resolution=1432.7)
    assert fsc.summary("Å").startswith("1433 Å (half-bit, full period) · 716 Å half period")
    assert results_module.number(0.0426137) == "0.0426" and results_module.number(1.43e3) == "1430"
    assert results_module.number(5.0) == "5" and results_module.number(4.2431) == "4.24"
    assert results_module.number(9.996) == "10" and results_module.number(-0.5) == "-0.5"
    assert results_module.number(2.5e-9) == "2.5e-09" and results_module.number(float("nan")) == "nan"
    assert results_module.length(1430.2, "Å") == "1430 Å" and results_module.length(3.456, "") == "3.46"
    assert results_module.length(0.15019, "µm", 4) == "0.1502 µm"


@pytest.mark.parametrize("name", NAMES)
def test_to_dict_is_strict_json(results, name):
    result = results[name]
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert payload["status"] == result.status
    assert payload["pixel_size"] == list(result.pixel_size)
    assert payload["warnings"] == list(result.warnings)
    assert {f.name for f in dataclasses.fields(result)} - LEFT_OUT_OF_JSON.get(name, set()) <= set(payload)


@pytest.mark.parametrize("name", CURVE_NAMES)
def test_plots_describe_the_result(results, name):
    result = results[name]
    plots = result.plots("nm")
    assert isinstance(plots, tuple) and plots and all(isinstance(p, Plot) for p in plots)
    expected = _main_curves(result)
    assert len(plots) == len(expected)
    for plot, main in zip(plots, expected):
        assert all(isinstance(c, Curve) for c in plot.curves)
        assert all(isinstance(m, Marker) for m in plot.markers)
        for curve in plot.curves:
            x, y = np.asarray(curve.x), np.asarray(curve.y)
            assert x.ndim == y.ndim == 1 and x.size == y.size > 0
            assert np.isfinite(x).all()
        if main is None:
            assert plot.image is not None and plot.image.ndim == 2 and not plot.curves
            continue
        measured = [c for c in plot.curves if c.role == "measured"]
        assert measured
        np.testing.assert_array_equal(measured[0].x, main[0])
        np.testing.assert_array_equal(measured[0].y, main[1])


@pytest.mark.parametrize("name", CURVE_NAMES)
def test_resolution_marker_sits_at_the_result(results, name):
    result = results[name]
    plot_number, x, label = _resolution_marker(result, "nm")
    markers = result.plots("nm")[plot_number].markers
    at_result = [m for m in markers if m.x == pytest.approx(x, rel=1e-12)]
    assert at_result, f"no marker at {x} among {markers}"
    assert any(label in m.label for m in at_result)


def test_stack_statistics_and_warning(results):
    stack = results["decorrelation_stack"]
    assert len(stack.slices) == 4 and stack.n_resolved == 3
    assert [r.status for r in stack.slices] == ["resolved", "unresolved", "resolved", "resolved"]
    assert np.isnan(stack.resolutions[1])
    resolved = stack.resolutions[[0, 2, 3]]
    np.testing.assert_array_equal(resolved, [stack.slices[i].resolution for i in (0, 2, 3)])
    assert stack.median == pytest.approx(sorted(resolved)[1])
    assert stack.mean == pytest.approx(sum(resolved) / 3)
    assert len(stack.warnings) == 1 and "1 of 4" in stack.warnings[0]
    nearest = int(np.nanargmin(np.abs(stack.resolutions - stack.median)))
    assert stack.plots("nm")[1].title == f"slice {stack.slice_indices[nearest]}"


def test_specific_marker_values(results):
    """The markers are where the numbers are, in cycles/pixel."""
    frc = results["frc"]
    assert frc.resolution == pytest.approx(frc.reference_pixel_size / frc.crossing)
    edge = results["edge_mtf"]
    assert edge.resolution_50 == pytest.approx(0.2 / edge.f50)
    randomized = results["phase_randomized"]
    labels = [m.label for m in randomized.plots("nm")[0].markers]
    assert RANDOMIZED_LABEL in labels
    phase_marker = randomized.plots("nm")[0].markers[labels.index(RANDOMIZED_LABEL)]
    assert phase_marker.x == randomized.frequency[randomized.randomization_shell]


@pytest.mark.parametrize("name", NAMES)
def test_save_result_plot_writes_a_png(results, name, tmp_path):
    path = tmp_path / f"{name}.png"
    save_result_plot(results[name], path, unit="nm")
    data = path.read_bytes()
    assert len(data) > 1000 and data.startswith(PNG_SIGNATURE)


# ----------------------------------------------------------------------------- broken results


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "change",
    [
        {"status": "crossed"},
        {"status": None},
        {"pixel_size": 1.0},
        {"pixel_size": [1.0, 1.0]},
        {"pixel_size": (1, 1)},
        {"warnings": ["doubtful"]},
        {"warnings": (1,)},
        {"parameters": [("path", "numpy")]},
    ],
)
def test_a_result_that_breaks_the_protocol_is_refused(results, name, change):
    result = results[name]
    copy = dataclasses.replace(result)  # an unchanged copy is fine
    assert copy.status == result.status
    with pytest.raises(TypeError, match=next(iter(change))):
        dataclasses.replace(result, **change)


# ----------------------------------------------------------------------------- statuses end to end


@pytest.mark.parametrize("shape", [(64, 64), (32, 32, 32)])
def test_fsc_of_pure_noise_is_unresolved(shape, tmp_path):
    rng = np.random.default_rng(11)
    result = fourier_correlation(rng.standard_normal(shape), rng.standard_normal(shape), apodization=4)
    assert result.status == "unresolved"
    assert result.crossing is None and result.resolution is None and result.resolution_half is None
    assert np.nanmax(np.abs(result.correlation[2:])) < 0.6
    assert "status unresolved" in result.summary("nm")
    assert result.plots("nm")[0].markers == ()
    json.dumps(result.to_dict(), allow_nan=False)
    save_result_plot(result, tmp_path / "noise.png", unit="nm")
    assert (tmp_path / "noise.png").read_bytes().startswith(PNG_SIGNATURE)


@pytest.mark.parametrize(
    ("shape", "pixel_size", "reference"),
    [((64, 64), 0.7, 0.7), ((32, 32, 32), (1.0, 0.5, 0.5), 1.0), ((33, 40), (0.4, 0.9), 0.9)],
)
def test_identical_noise_free_data_is_bound_at_nyquist(shape, pixel_size, reference):
    image = np.random.default_rng(3).standard_normal(shape)
    with pytest.warns(RuntimeWarning, match="the same image"):
        result = fourier_correlation(image, 3.0 * image + 2.0, pixel_size=pixel_size, apodization=4)
    np.testing.assert_allclose(result.correlation, 1.0, atol=1e-9)
    assert result.status == "bound"
    assert result.crossing is None
    assert result.resolution == pytest.approx(2 * reference)
    assert result.resolution_half == pytest.approx(reference)
    line = result.summary("nm")
    assert "status bound" in line and "≤" in line
    (marker,) = result.plots("nm")[0].markers
    assert marker.x == 0.5 and marker.label.startswith("≤")


def test_decorrelation_of_white_noise_is_unresolved(tmp_path):
    rng = np.random.default_rng(4)
    result = decorrelation(rng.standard_normal((128, 128)))
    assert result.status == "unresolved"
    assert result.kc_max is None and result.cutoff is None and result.resolution is None
    assert "status unresolved" in result.summary("nm")
    assert result.plots("nm")[0].markers == ()
    json.dumps(result.to_dict(), allow_nan=False)
    stack = decorrelation(rng.standard_normal((2, 64, 64)), apodization=8)
    assert stack.status == "unresolved" and stack.median is None and stack.n_resolved == 0
    assert "status unresolved" in stack.summary("nm")
    assert np.isnan(stack.resolutions).all()
    json.dumps(stack.to_dict(), allow_nan=False)
    save_result_plot(stack, tmp_path / "stack.png", unit="nm")
    assert (tmp_path / "stack.png").read_bytes().startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("sigma", [0.01, 0.05])
def test_mtf_of_a_very_sharp_edge_is_bound(sigma, tmp_path):
    result = mtf_edge(slanted_edge((128, 128), 5, sigma), pixel_size=0.2)
    assert result.mtf.min() >= 0.5  # never falls below 0.5 over the measured range (to twice Nyquist)
    assert 0.95 <= result.frequency.max() <= 1.0
    assert result.status == "bound"
    assert result.f50 is None and result.resolution_50 is None
    assert "status bound" in result.summary("nm")
    markers = result.plots("nm")[0].markers
    assert not any(m.label.startswith("MTF50") for m in markers)
    json.dumps(result.to_dict(), allow_nan=False)
    save_result_plot(result, tmp_path / "edge.png", unit="nm")
    assert (tmp_path / "edge.png").read_bytes().startswith(PNG_SIGNATURE)


# ----------------------------------------------------------------------------- compute paths


def _noisy_pair(shape, seed=5):
    pair = phantom_pair(shape, sigma=1.5, noise=0.5, seed=seed)
    return pair.half1, pair.half2


@needs_numba
@pytest.mark.parametrize("shape", [(64, 48), (24, 28, 32)])
def test_fourier_correlation_paths_agree(shape, monkeypatch):
    a, b = _noisy_pair(shape)
    mask = spherical_mask(shape, radius=0.3 * min(shape), soft_edge=4, center=tuple(0.45 * n for n in shape))
    compiled = [fourier_correlation(a, b, apodization=4), fourier_correlation(a, b, mask=mask)]
    monkeypatch.setenv(NO_JIT, "1")
    arrays = [fourier_correlation(a, b, apodization=4), fourier_correlation(a, b, mask=mask)]
    for fast, reference in zip(compiled, arrays):
        assert fast.parameters["path"] == "numba"
        assert reference.parameters["path"] == "numpy"
        np.testing.assert_array_equal(fast.n_points, reference.n_points)
        np.testing.assert_allclose(fast.correlation, reference.correlation, atol=1e-6)
        assert fast.status == reference.status


@pytest.mark.parametrize("path", ["numba", "numpy"])
def test_phase_randomized_same_seed_same_curves(path, monkeypatch):
    if path == "numpy":
        monkeypatch.setenv(NO_JIT, "1")
    elif kernels.numba is None:
        pytest.skip("numba not installed")
    h1, h2, mask = _halves_and_mask()
    first = phase_randomized_fsc(h1, h2, mask, seed=12)
    second = phase_randomized_fsc(h1, h2, mask, seed=12)
    assert first.parameters["path"] == second.parameters["path"] == path
    assert first.parameters["seed"] == 12
    for field in ("unmasked", "masked", "randomized", "corrected"):
        np.testing.assert_array_equal(getattr(first, field), getattr(second, field))
    other = phase_randomized_fsc(h1, h2, mask, seed=13)
    beyond = slice(first.randomization_shell + 1, None)
    assert not np.array_equal(first.randomized[beyond], other.randomized[beyond])


@needs_numba
def test_phase_randomized_paths_agree(monkeypatch):
    h1, h2, mask = _halves_and_mask()
    compiled = phase_randomized_fsc(h1, h2, mask, seed=3)
    monkeypatch.setenv(NO_JIT, "1")
    reference = phase_randomized_fsc(h1, h2, mask, seed=3)
    assert compiled.parameters["path"] == "numba" and reference.parameters["path"] == "numpy"
    np.testing.assert_array_equal(compiled.n_points, reference.n_points)
    np.testing.assert_allclose(compiled.unmasked, reference.unmasked, atol=1e-6)
    np.testing.assert_allclose(compiled.masked, reference.masked, atol=1e-6)
    assert compiled.randomization_shell == reference.randomization_shell
    # independent random phases: equal only within the noise of a correlation, 1 / sqrt(independent voxels)
    beyond = slice(compiled.randomization_shell + 1, None)
    independent = compiled.n_points[beyond] * np.mean(mask**2)
    difference = np.abs(compiled.randomized[beyond] - reference.randomized[beyond])
    assert np.all(difference < 5 * np.sqrt(2 / independent))


@needs_numba
@pytest.mark.filterwarnings("ignore:the analysed plane is:RuntimeWarning")  # a 96-pixel image: the small-field warning
def test_decorrelation_paths_agree(monkeypatch):
    image = band_limited_noise((96, 96), 0.2, seed=2) + 0.05 * np.random.default_rng(0).standard_normal((96, 96))
    compiled = decorrelation(image)
    monkeypatch.setenv(NO_JIT, "1")
    reference = decorrelation(image)
    assert compiled.parameters["path"] == "numba" and reference.parameters["path"] == "numpy"
    np.testing.assert_allclose(compiled.d0, reference.d0, atol=1e-6)
    np.testing.assert_allclose(compiled.curves, reference.curves, atol=1e-6)
    assert compiled.kc_max == pytest.approx(reference.kc_max)


@pytest.mark.filterwarnings("ignore:the analysed plane is:RuntimeWarning")  # a small image: the small-field warning
def test_numpy_path_is_recorded_without_numba(monkeypatch):
    monkeypatch.setenv(NO_JIT, "1")
    a, b = _noisy_pair((48, 48))
    assert fourier_correlation(a, b).parameters["path"] == "numpy"
    h1, h2, mask = _halves_and_mask()
    assert phase_randomized_fsc(h1, h2, mask, seed=0).parameters["path"] == "numpy"
    assert decorrelation(a).parameters["path"] == "numpy"


# ----------------------------------------------------------------------------- devices


def _estimators():
    a, b = _noisy_pair((48, 48))
    h1, h2, mask = _halves_and_mask()
    return {
        "fourier_correlation": lambda **kw: fourier_correlation(a, b, **kw),
        "phase_randomized_fsc": lambda **kw: phase_randomized_fsc(h1, h2, mask, seed=4, **kw),
        "decorrelation": lambda **kw: decorrelation(a, **kw),
    }


@pytest.mark.parametrize("estimator", ["fourier_correlation", "phase_randomized_fsc", "decorrelation"])
@pytest.mark.parametrize("device", ["tpu", "GPU ", 0])
def test_unknown_device_is_a_value_error(estimator, device):
    with pytest.raises(ValueError, match="device"):
        _estimators()[estimator](device=device)


@pytest.mark.parametrize("estimator", ["fourier_correlation", "phase_randomized_fsc", "decorrelation"])
@pytest.mark.filterwarnings("ignore:the analysed plane is:RuntimeWarning")  # a small image: the small-field warning
def test_cpu_device_equals_the_default_for_numpy_input(estimator):
    run = _estimators()[estimator]
    default, cpu = run(), run(device="cpu")
    assert cpu.parameters == default.parameters
    assert cpu.status == default.status
    for field in dataclasses.fields(default):
        value = getattr(default, field.name)
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(getattr(cpu, field.name), value)
    assert cpu.summary("nm") == default.summary("nm")


def test_every_threshold_shown_has_its_own_colour():
    from napari_resolution.core.simulate import phantom_pair

    pair = phantom_pair((64, 64), seed=0)
    plot = fourier_correlation(pair.half1, pair.half2).plots(all_thresholds=True)[0]
    colours = [curve.color for curve in plot.curves if curve.role == "threshold"]
    assert len(colours) == 5 and len(set(colours)) == 5
