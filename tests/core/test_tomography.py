import json
import math

import numpy as np
import pytest
from skimage.transform import iradon

from napari_resolution import TomographyResult, fourier_correlation, split_dataset, tomography_frc
from napari_resolution.core.backend import gpu_available
from napari_resolution.core.simulate import tomography_sinogram
from napari_resolution.core.tomography import (
    angular_weights,
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


def test_non_uniform_angles_are_weighted():
    theta = np.r_[np.linspace(0, 90, 240, endpoint=False), np.linspace(90, 180, 60, endpoint=False)]
    sim = tomography_sinogram(64, theta, phantom="shepp-logan")
    ours, _ = filtered_back_projection(sim.sinogram.T[None], theta)
    plain = iradon(sim.sinogram.astype(np.float64), theta)  # every projection weighs pi / count
    inner = _inner(64, 4)
    assert np.abs(ours[0] - sim.phantom)[inner].mean() < 0.6 * np.abs(plain - sim.phantom)[inner].mean()


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
                       ({"theta": [0, 1]}, "theta"), ({"rows": 0}, "rows must be an integer >= 1, got 0")):
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
