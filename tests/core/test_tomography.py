import json
import math
import re

import numpy as np
import pytest
from skimage.transform import iradon

from napari_resolution import TomographyResult, fourier_correlation, split_dataset, tomography_frc
from napari_resolution.core.backend import gpu_available
from napari_resolution.core.simulate import tomography_sinogram
from napari_resolution.core.tomography import (
    AXIS_EVIDENCE,
    angular_weights,
    detect_tilt_axis,
    filtered_back_projection,
    parse_angles,
    reconstruction_pixel_size,
)

UNDERSAMPLED = "angular undersampling"


@pytest.fixture(scope="module")
def random_64():
    """A textured random object, 64 px, 2 * ceil(pi/2 * 64) = 202 angles, at a dose where noise limits the FRC."""
    return tomography_sinogram(64, phantom="random", dose=300, seed=1)


def _inner(size: int, margin: int = 2) -> np.ndarray:
    """Pixels more than ``margin`` inside the reconstruction circle (its rim depends on the detector's ends)."""
    return np.hypot(*(np.mgrid[:size, :size] - size // 2)) < size // 2 - margin


def test_split_sorts_then_deals_even_and_odd():
    theta = np.array([30.0, 0.0, 50.0, 10.0, 40.0, 20.0, 70.0, 60.0, 80.0])
    sinogram = np.tile(theta, (12, 1)) + np.arange(12)[:, None]  # (detector, angles): each column holds its angle
    first, second, theta1, theta2 = split_dataset(sinogram, theta)
    np.testing.assert_array_equal(theta1, [0, 20, 40, 60, 80])
    np.testing.assert_array_equal(theta2, [10, 30, 50, 70])
    np.testing.assert_array_equal(first[0], theta1)
    np.testing.assert_array_equal(second[0], theta2)
    stack = np.moveaxis(sinogram, 1, 0)[:, None, :].repeat(8, axis=1)  # (angles, rows, detector)
    first3, second3, *_ = split_dataset(stack, theta)
    np.testing.assert_array_equal(first3[:, 0, 0], theta1)
    assert first3.shape == (5, 8, 12) and second3.shape == (4, 8, 12)


def test_weights_are_the_angular_intervals():
    np.testing.assert_allclose(angular_weights(np.linspace(0, 180, 90, endpoint=False)), np.pi / 90)
    np.testing.assert_allclose(angular_weights(np.linspace(0, 360, 180, endpoint=False)), np.pi / 180)
    weights = angular_weights([0, 10, 30, 60, 100, 120, 150, 170])
    np.testing.assert_allclose(weights, np.deg2rad([10, 15, 25, 35, 30, 25, 25, 15]))
    assert math.isclose(weights.sum(), np.pi)
    wedge = angular_weights(np.arange(121.0))  # 0 to 120 degrees: the 60-degree gap counts as 4 mean gaps
    np.testing.assert_allclose(np.rad2deg(wedge[[0, 60, 120]]), [(1 + 4 * 180 / 121) / 2, 1, (1 + 4 * 180 / 121) / 2])


def test_fbp_agrees_with_scikit_image_iradon():
    sim = tomography_sinogram(64, np.linspace(0, 180, 120, endpoint=False), phantom="shepp-logan")
    stack = sim.sinogram.T[None]
    inner = _inner(64)
    for name in ("ramp", "hann"):
        reference = iradon(sim.sinogram.astype(np.float64), sim.theta, filter_name=name)
        ours, path = filtered_back_projection(stack, sim.theta, filter=name)
        threads, threaded = filtered_back_projection(stack, sim.theta, filter=name, backend="skimage")
        assert path in ("numba", "numpy") and threaded == "skimage"
        np.testing.assert_allclose(ours[0][inner], reference[inner], atol=1e-5 * np.abs(reference).max())
        np.testing.assert_allclose(threads[0], reference, atol=1e-6 * np.abs(reference).max())


def test_array_path_agrees_with_the_compiled_one(monkeypatch):
    sim = tomography_sinogram(48, phantom="random", rows=3, seed=0)
    stack = np.moveaxis(sim.sinogram, 1, 0)
    compiled, path = filtered_back_projection(stack, sim.theta, center=23.5)
    monkeypatch.setenv("NAPARI_RESOLUTION_NO_JIT", "1")
    array, array_path = filtered_back_projection(stack, sim.theta, center=23.5)
    assert (path, array_path) == ("numba", "numpy")
    np.testing.assert_allclose(array, compiled, atol=1e-5 * np.abs(compiled).max())


def test_uniform_weights_by_default_and_gaps_for_uneven_angles():
    theta = np.r_[np.linspace(0, 90, 240, endpoint=False), np.linspace(90, 180, 60, endpoint=False)]
    sim = tomography_sinogram(64, theta, phantom="shepp-logan")
    plain = iradon(sim.sinogram.astype(np.float64), theta)  # every projection weighs pi / count
    uniform, _ = filtered_back_projection(sim.sinogram.T[None], theta)
    gaps, _ = filtered_back_projection(sim.sinogram.T[None], theta, weighting="gaps")
    inner = _inner(64, 4)
    np.testing.assert_allclose(uniform[0][inner], plain[inner], atol=1e-5 * np.abs(plain).max())
    assert np.abs(gaps[0] - sim.phantom)[inner].mean() < 0.6 * np.abs(plain - sim.phantom)[inner].mean()
    skimage, _ = filtered_back_projection(sim.sinogram.T[None], theta, weighting="gaps", backend="skimage")
    np.testing.assert_allclose(skimage[0][inner], gaps[0][inner], atol=1e-5 * np.abs(gaps).max())
    result = tomography_frc(sim.sinogram, theta, weighting="gaps")
    assert result.parameters["weighting"] == "gaps"
    assert tomography_frc(sim.sinogram, theta).parameters["weighting"] == "uniform"


def test_noise_free_with_enough_angles_correlates_up_to_nyquist():
    sim = tomography_sinogram(128, phantom="random", seed=0)  # 404 angles: 202 >= pi/2 * 128 per half
    result = tomography_frc(sim.sinogram, sim.theta)
    below = result.correlation.frequency <= 0.45
    assert result.correlation.correlation[below].min() >= 0.9
    assert result.status == "bound" and result.warnings == ()
    assert isinstance(result, TomographyResult) and result.reconstructions[0].shape == (128, 128)


def test_resolution_gets_coarser_as_the_dose_falls():
    resolutions = []
    for dose in (1000, 100, 10):
        sim = tomography_sinogram(64, phantom="random", dose=dose, seed=2)
        result = tomography_frc(sim.sinogram, sim.theta)
        assert result.status == "resolved"
        resolutions.append(result.resolution)
    assert resolutions[0] < resolutions[1] < resolutions[2]
    assert resolutions[2] > 1.5 * resolutions[0]


def test_angle_order_changes_nothing(random_64):
    order = np.random.default_rng(0).permutation(random_64.theta.size)
    sorted_result = tomography_frc(random_64.sinogram, random_64.theta)
    shuffled = tomography_frc(random_64.sinogram[:, order], random_64.theta[order])
    np.testing.assert_array_equal(shuffled.correlation.correlation, sorted_result.correlation.correlation)
    np.testing.assert_array_equal(shuffled.reconstructions[1], sorted_result.reconstructions[1])


def test_both_layouts_give_the_same_answer():
    sim = tomography_sinogram(48, phantom="random", dose=200, rows=8, seed=4)
    stack = tomography_frc(sim.sinogram, sim.theta)  # (angles, rows, detector)
    moved = tomography_frc(np.moveaxis(sim.sinogram, 0, 2), sim.theta, angle_axis=2)  # (rows, detector, angles)
    np.testing.assert_array_equal(moved.correlation.correlation, stack.correlation.correlation)
    assert stack.correlation.name == "FSC" and stack.reconstructions[0].shape == (8, 48, 48)
    row = tomography_frc(sim.sinogram[:, 5].T, sim.theta)  # one row as a 2-D sinogram (detector, angles)
    transposed = tomography_frc(sim.sinogram[:, 5], sim.theta, angle_axis=0)
    for result in (row, transposed):
        np.testing.assert_allclose(result.reconstructions[0], stack.reconstructions[0][5], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(transposed.correlation.correlation, row.correlation.correlation)


@pytest.mark.parametrize("dose", [300, 30])
def test_ramp_and_hann_give_the_same_crossing(dose):
    sim = tomography_sinogram(128, phantom="random", dose=dose, seed=1)
    ramp = tomography_frc(sim.sinogram, sim.theta, filter="ramp")
    hann = tomography_frc(sim.sinogram, sim.theta, filter="hann")
    assert ramp.status == hann.status == "resolved"
    assert hann.crossing == pytest.approx(ramp.crossing, rel=0.02)


def test_undersampled_angles_warn():
    sim = tomography_sinogram(64, np.linspace(0, 180, 60, endpoint=False), phantom="random", seed=0)
    with pytest.warns(RuntimeWarning, match=UNDERSAMPLED):
        result = tomography_frc(sim.sinogram, sim.theta)
    assert any(UNDERSAMPLED in note for note in result.warnings)


def test_full_turn_counts_directions_modulo_180():
    theta = np.linspace(0, 360, 360, endpoint=False)  # each half: 180 angles over 360 degrees, 90 directions
    sim = tomography_sinogram(64, theta, phantom="random", seed=0)
    with pytest.warns(RuntimeWarning, match="90 projection directions, fewer than pi/2 \\* N = 101"):
        tomography_frc(sim.sinogram, sim.theta)


def test_circle_correlates_inside_a_soft_disc(random_64):
    result = tomography_frc(random_64.sinogram, random_64.theta)
    assert result.parameters["mask_edge"] == 4 and result.parameters["frc"]["masked"]
    square = tomography_frc(random_64.sinogram, random_64.theta, circle=False)
    assert square.reconstructions[0].shape == (45, 45) and not square.parameters["frc"]["masked"]
    plain = fourier_correlation(*result.reconstructions, mask=np.ones((64, 64)))
    assert plain.correlation[-4:].mean() > result.correlation.correlation[-4:].mean()  # the hard rim correlates


def test_result_protocol_and_options(random_64):
    seen = []
    result = tomography_frc(random_64.sinogram, random_64.theta, pixel_size=0.5, threshold="one-bit",
                            ring_thickness=2, progress=seen.append)
    assert result.criterion == "one-bit" and result.parameters["frc"]["ring_thickness"] == 2
    assert result.pixel_size == (0.5, 0.5) and result.parameters["path"] in ("numba", "numpy")
    assert result.parameters["n_angles"] == (101, 101) and seen[-1] == 1.0 and seen == sorted(seen)
    assert result.summary("nm").endswith(f"status {result.status}") and "even/odd split" in result.summary()
    (plot,) = result.plots("nm")
    assert plot.title.startswith("split-dataset") and plot.curves[0].label == "FRC even/odd"
    data = json.loads(json.dumps(result.to_dict()))
    assert data["reconstructions"][0]["shape"] == [64, 64] and data["correlation"]["criterion"] == "one-bit"
    assert random_64.sinogram.flags.writeable  # the input is not touched
    assert not result.reconstructions[0].flags.writeable


def test_progress_can_cancel(random_64):
    def cancel(fraction):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tomography_frc(random_64.sinogram, random_64.theta, progress=cancel)


def test_input_is_not_modified(random_64):
    sinogram, theta = random_64.sinogram.copy(), random_64.theta.copy()
    tomography_frc(random_64.sinogram, random_64.theta, center=31.5)
    np.testing.assert_array_equal(random_64.sinogram, sinogram)
    np.testing.assert_array_equal(random_64.theta, theta)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"theta": np.linspace(0, 180, 100)}, "theta has 100 angles"),
        ({"theta": np.linspace(0, 180, 6), "sinogram": np.ones((64, 6))}, "theta must have at least 8"),
        ({"theta": np.r_[np.nan, np.arange(201.0)]}, "theta contains NaN"),
        ({"sinogram": np.full((64, 202), np.nan)}, "sinogram contains NaN"),
        ({"sinogram": np.zeros(202)}, "sinogram must be a 2-D"),
        ({"sinogram": np.ones((64, 202))}, "sinogram is constant"),
        ({"center": 70.0}, "center"),
        ({"center": -1}, "center"),
        ({"angle_axis": 2}, "angle_axis"),
        ({"angle_axis": 0}, "theta has 202 angles but sinogram has 64"),
        ({"filter": "ram-lak"}, "filter"),
        ({"backend": "tomopy"}, "backend"),
        ({"threshold": "quarter-bit"}, "threshold"),
        ({"circle": "yes"}, "circle"),
        ({"progress": 3}, "progress"),
        ({"device": "tpu"}, "device"),
    ],
)
def test_bad_input_names_the_argument(random_64, change, match):
    arguments = {"sinogram": random_64.sinogram, "theta": random_64.theta, **change}
    with pytest.raises(ValueError, match=match):
        tomography_frc(arguments.pop("sinogram"), arguments.pop("theta"), **arguments)


def test_simulator_dose_and_layouts():
    clean = tomography_sinogram(32, phantom="shepp-logan", seed=0)
    assert clean.sinogram.shape == (32, 2 * math.ceil(math.pi / 2 * 32)) and clean.sinogram.max() == pytest.approx(2)
    noisy = tomography_sinogram(32, clean.theta, phantom="shepp-logan", dose=1e4, seed=0)
    again = tomography_sinogram(32, clean.theta, phantom="shepp-logan", dose=1e4, seed=0)
    np.testing.assert_array_equal(noisy.sinogram, again.sinogram)
    error = np.std(noisy.sinogram - clean.sinogram)
    assert 0.5 < error * math.sqrt(1e4) < 3  # about 1 / sqrt(dose * transmission)
    stack = tomography_sinogram(32, clean.theta, rows=3)
    assert stack.sinogram.shape == (clean.theta.size, 3, 32) and stack.phantom.shape == (3, 32, 32)
    np.testing.assert_allclose(stack.sinogram[:, 1].T, clean.sinogram, rtol=1e-6)
    for bad, match in (({"size": 8}, "size must be an integer >= 16, got 8"), ({"dose": -1}, "dose"),
                       ({"dose": 1e19}, "dose must lie from 1e-300 to 1e"), ({"phantom": "cat"}, "phantom"),
                       ({"theta": [0, 1]}, "theta"), ({"rows": 0}, "rows must be an integer >= 1, got 0"),
                       ({"tilt_axis": "z"}, "tilt_axis")):
        with pytest.raises(ValueError, match=match):
            tomography_sinogram(**{"size": 32, **bad})


def test_thin_stack_fsc_runs_with_the_default_taper():
    rng = np.random.default_rng(0)
    signal = rng.standard_normal((16, 256, 256))
    a, b = (signal + rng.standard_normal(signal.shape) for _ in range(2))
    result = fourier_correlation(a, b, taper="all")
    assert result.parameters["apodization_axes"] == (4, 20, 20) and result.parameters["apodization"] == 20
    assert fourier_correlation(a, b, apodization=20).parameters["apodization_axes"] == (4, 20, 20)
    assert fourier_correlation(a[:3].repeat(3, axis=0), b[:3].repeat(3, axis=0), taper="all",
                               apodization=20).parameters["tapered_axes"] == (True, True, True)
    cube = [x[:, :64, :64].repeat(4, axis=0) for x in (a, b)]  # 64^3: every axis keeps the common width
    default, explicit = fourier_correlation(*cube, taper="all"), fourier_correlation(*cube, taper="all", apodization=16)
    np.testing.assert_array_equal(default.correlation, explicit.correlation)
    assert default.parameters["apodization_axes"] == (16, 16, 16)
    with pytest.raises(ValueError, match="apodization"):
        fourier_correlation(a, b, apodization=200)


def test_parse_angles_and_reconstruction_pixel_size():
    np.testing.assert_array_equal(parse_angles("# tilt\n0, 1.5;3\n 4.5\t6\n"), [0, 1.5, 3, 4.5, 6])
    for text, match in (("0 1 x", "angles.txt: expected numbers"), ("# nothing", "angles.txt: no angles")):
        with pytest.raises(ValueError, match=match):
            parse_angles(text, "angles.txt")
    assert reconstruction_pixel_size((2.0, 1.0), 2) == 2.0  # (detector, angles)
    assert reconstruction_pixel_size((1.0, 3.0, 2.0), 3) == (3.0, 2.0, 2.0)  # (angles, rows, detector)
    assert reconstruction_pixel_size((3.0, 2.0, 1.0), 3, angle_axis=2) == (3.0, 2.0, 2.0)
    assert reconstruction_pixel_size(0.5, 3) == 0.5 and reconstruction_pixel_size((0.5, 0.5, 0.5), 2) == (0.5,) * 3
    with pytest.raises(ValueError, match="angle_axis"):
        reconstruction_pixel_size((1.0, 1.0), 2, angle_axis=3)
    assert reconstruction_pixel_size((1.0, 3.0, 2.0), 3, tilt_axis="x") == (2.0, 3.0, 3.0)  # rows along x
    assert reconstruction_pixel_size((1.0, 3.0, 2.0), 3, tilt_axis=100.0) == (2.0, 3.0, 3.0)
    assert reconstruction_pixel_size((1.0, 3.0, 2.0), 3, tilt_axis=30.0) == (3.0, 2.0, 2.0)
    stack = tomography_sinogram(32, np.linspace(0, 180, 60, endpoint=False), phantom="random", rows=8, seed=0)
    along_x = np.swapaxes(stack.sinogram, 1, 2)
    assert reconstruction_pixel_size((1.0, 3.0, 2.0), 3, tilt_axis="auto", sinogram=along_x) == (2.0, 3.0, 3.0)
    assert reconstruction_pixel_size((1.0, 3.0, 2.0), 3, tilt_axis="auto") == (3.0, 2.0, 2.0)


def test_cpu_device_equals_the_default_and_gpu_needs_cupy(random_64):
    default = tomography_frc(random_64.sinogram, random_64.theta)
    cpu = tomography_frc(random_64.sinogram, random_64.theta, device="cpu")
    np.testing.assert_array_equal(cpu.correlation.correlation, default.correlation.correlation)
    if not gpu_available():
        with pytest.raises(ValueError, match="device='gpu' needs cupy"):
            tomography_frc(random_64.sinogram, random_64.theta, device="gpu")


@pytest.mark.skipif(not gpu_available(), reason="needs cupy and a CUDA GPU")
def test_gpu_path_agrees_with_the_cpu(random_64):
    cpu = tomography_frc(random_64.sinogram, random_64.theta)
    gpu = tomography_frc(random_64.sinogram, random_64.theta, device="gpu")
    assert gpu.parameters["path"] == "cupy"
    peak = np.abs(cpu.reconstructions[0]).max()
    np.testing.assert_allclose(gpu.reconstructions[0], cpu.reconstructions[0], atol=1e-5 * peak)
    assert gpu.crossing == pytest.approx(cpu.crossing, rel=1e-3)


@pytest.mark.parametrize(
    ("theta", "message"),
    [
        (np.full(60, 30.0), "every angle is 30°"),
        (np.r_[np.linspace(0, 179, 59), 179.0], "repeats angles"),
        (np.deg2rad(np.linspace(0, 180, 60, endpoint=False)), "look like radians"),
        (np.deg2rad(np.linspace(-60, 60, 60)), "numpy.degrees"),
    ],
)
def test_angles_that_cannot_be_degrees_of_a_tilt_series_are_refused(theta, message):
    simulated = tomography_sinogram(48, theta=np.linspace(0, 180, theta.size, endpoint=False), seed=0)
    with pytest.raises(ValueError, match=message):
        tomography_frc(simulated.sinogram, theta)
    with pytest.raises(ValueError, match=message):
        split_dataset(simulated.sinogram, theta)


# ----------------------------------------------------------------------------- real data: tilt axis, wedge
DISAGREES = "disagrees with the data"


@pytest.fixture(scope="module")
def random_stack():
    """A 3-D random texture, 48 px, 16 rows, 160 angles over [0, 180): (angles, rows, detector), tilt axis along y."""
    return tomography_sinogram(48, np.linspace(0, 180, 160, endpoint=False), phantom="random", dose=300, rows=16,
                               seed=5)


def test_a_tilt_axis_along_x_is_detected_and_gives_the_y_stacks_answer(random_stack):
    along_y = tomography_frc(random_stack.sinogram, random_stack.theta)
    assert along_y.parameters["tilt_axis"] == "y" and along_y.parameters["tilt_axis_from"] == "detected"
    along_x = tomography_sinogram(48, random_stack.theta, phantom="random", dose=300, rows=16, seed=5,
                                  tilt_axis="x").sinogram  # the same projections, the tilt axis along x
    np.testing.assert_array_equal(along_x, np.swapaxes(random_stack.sinogram, 1, 2))
    detected = tomography_frc(along_x, random_stack.theta)
    assert detected.parameters["tilt_axis"] == "x" and detected.parameters["tilt_axis_evidence"] > 2
    assert not any(DISAGREES in note for note in detected.warnings)
    np.testing.assert_array_equal(detected.correlation.correlation, along_y.correlation.correlation)
    np.testing.assert_array_equal(detected.reconstructions[0], along_y.reconstructions[0])
    given = tomography_frc(along_x, random_stack.theta, tilt_axis="x")
    assert given.parameters["tilt_axis_from"] == "given" and given.warnings == detected.warnings
    np.testing.assert_array_equal(given.correlation.correlation, along_y.correlation.correlation)
    right = tomography_frc(along_x, random_stack.theta, tilt_axis=90)  # an angle: 90° from y is x
    np.testing.assert_array_equal(right.correlation.correlation, along_y.correlation.correlation)


def test_a_given_tilt_axis_that_disagrees_warns_and_reconstructs_rings(random_stack):
    along_x = np.swapaxes(random_stack.sinogram, 1, 2)
    with pytest.warns(RuntimeWarning, match="tilt_axis='y' disagrees with the data.*pass tilt_axis='x' or 'auto'"):
        wrong = tomography_frc(along_x, random_stack.theta, tilt_axis="y")
    assert wrong.parameters["tilt_axis_from"] == "given" and wrong.parameters["tilt_axis_evidence"] < 0.5
    assert any(DISAGREES in note for note in wrong.warnings)
    # as before the tilt axis was known: 48 slices of 16 pixels across the wrong axis, still an FSC and a number
    assert wrong.reconstructions[0].shape == (48, 16, 16) and wrong.crossing is not None


def test_an_in_plane_tilt_axis_angle_rotates_the_projections(random_stack):
    from scipy.ndimage import rotate

    stack = random_stack.sinogram
    turned = rotate(stack, 10, axes=(1, 2), reshape=False, order=1, mode="nearest")  # the axis 10° from y towards x
    along_y = tomography_frc(stack, random_stack.theta)
    given = tomography_frc(turned, random_stack.theta, tilt_axis=10.0)
    assert given.parameters["tilt_axis"] == 10.0 and given.parameters["tilt_axis_evidence"] > 2
    assert given.warnings == along_y.warnings
    inner = _inner(48, 6)
    middle = slice(5, 11)  # rows away from the corners the rotation brings in
    recon, truth = given.reconstructions[0][middle], along_y.reconstructions[0][middle]
    assert np.corrcoef(recon[:, inner].ravel(), truth[:, inner].ravel())[0, 1] > 0.9
    with pytest.warns(RuntimeWarning, match="tilt_axis=100.0 disagrees.*looks at 10°.*pass tilt_axis=10"):
        tomography_frc(turned, random_stack.theta, tilt_axis=100.0)


def test_when_the_data_cannot_tell_y_is_assumed_with_a_warning():
    noise = np.random.default_rng(0).standard_normal((120, 32, 32)).astype(np.float32)  # no object: no evidence
    found = detect_tilt_axis(noise)
    assert found["tilt_axis"] == "y" and found["tilt_axis_from"] == "assumed"
    assert 1 / AXIS_EVIDENCE < found["tilt_axis_evidence"] < AXIS_EVIDENCE
    with pytest.warns(RuntimeWarning, match="the data do not tell the tilt axis.*pass tilt_axis='x'"):
        result = tomography_frc(noise, np.linspace(0, 180, 120, endpoint=False))
    assert result.parameters["tilt_axis_from"] == "assumed"


def test_detect_tilt_axis_on_both_phantoms_and_layouts():
    theta = np.linspace(-60, 60, 41)
    for phantom in ("shepp-logan", "random"):
        stack = tomography_sinogram(32, theta, phantom=phantom, dose=100, rows=12, seed=3).sinogram
        assert detect_tilt_axis(stack)["tilt_axis"] == "y"
        assert detect_tilt_axis(np.swapaxes(stack, 1, 2))["tilt_axis"] == "x"
        assert detect_tilt_axis(np.moveaxis(stack, 0, 2), angle_axis=2)["tilt_axis"] == "y"
    with pytest.raises(ValueError, match="sinogram must be a 3-D projection stack"):
        detect_tilt_axis(stack[:, 0])


def test_a_sinogram_has_no_tilt_axis(random_64):
    result = tomography_frc(random_64.sinogram, random_64.theta, tilt_axis="y")
    assert result.parameters["tilt_axis"] is None
    for bad, match in (("x", "tilt_axis 'x' applies to a 3-D projection stack"), ("z", "tilt_axis must be 'auto'"),
                       (np.nan, "tilt_axis must be"), (True, "tilt_axis must be")):
        with pytest.raises(ValueError, match=match):
            tomography_frc(random_64.sinogram, random_64.theta, tilt_axis=bad)


@pytest.mark.parametrize(
    ("theta", "message", "wedge"),
    [
        (np.arange(-76, 76.5, 2.0), "angles span ±76°: a 28° missing wedge", 28.0),
        (np.arange(-60, 60.5, 2.0), "angles span ±60°: a 60° missing wedge", 60.0),
        (np.arange(0, 120.5, 1.5), "angles span 0° to 120°: a 60° missing wedge.*middle tilt, 60°", 60.0),
    ],
)
def test_a_missing_wedge_is_named(theta, message, wedge):
    sim = tomography_sinogram(48, theta, phantom="random", dose=300, seed=0)
    with pytest.warns(RuntimeWarning) as caught:
        result = tomography_frc(sim.sinogram, theta)
    assert re.match(message, str(caught[0].message)) and re.match(message, result.warnings[0])
    assert result.parameters["missing_wedge"] == pytest.approx(wedge)
    assert result.parameters["angle_span"] == pytest.approx(180 - wedge)
    assert "worse along the beam" in result.warnings[0]


def test_full_range_and_full_turn_have_no_wedge(random_64):
    assert tomography_frc(random_64.sinogram, random_64.theta).parameters["missing_wedge"] == 0
    sim = tomography_sinogram(32, np.arange(0, 360, 1.5), phantom="random", seed=0)  # 120 directions, twice each
    result = tomography_frc(sim.sinogram, sim.theta)
    assert result.parameters["missing_wedge"] == 0 and result.parameters["angle_span"] == 180
    assert not any("missing wedge" in note for note in result.warnings)


def test_with_a_wedge_undersampling_counts_the_step_within_the_span():
    fine = tomography_sinogram(48, np.arange(-60, 60.5, 1.0), phantom="random", seed=0)  # 61 per half >= 50
    with pytest.warns(RuntimeWarning, match="missing wedge"):
        assert len(tomography_frc(fine.sinogram, fine.theta).warnings) == 1
    coarse = tomography_sinogram(48, np.arange(-60, 60.5, 2.0), phantom="random", seed=0)  # 30 and 31 per half
    with pytest.warns(RuntimeWarning) as caught:
        result = tomography_frc(coarse.sinogram, coarse.theta)
    assert [str(w.message) for w in caught] == list(result.warnings) and "missing wedge" in result.warnings[0]
    assert "30 projection directions, fewer than pi/2 * N * 120/180 = 50" in result.warnings[1]
