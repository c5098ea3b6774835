"""PSF from blinking movies: known answers of the simulator, the autocorrelation model, streaming, bad input."""

import json
import math

import dask.array as da
import numpy as np
import pytest
from scipy import signal

from napari_resolution import blink_psf
from napari_resolution.core import blink, kernels
from napari_resolution.core.blink import BlinkChannelsResult, BlinkPSFResult, autocorrelation_model
from napari_resolution.core.figures import Plot
from napari_resolution.core.simulate import bead_field, blinking_movie

SHAPE = (3000, 64, 64)


def _sim(shape=SHAPE, **options):
    options = {"n_emitters": 1000, "seed": 0, **options}
    return blinking_movie(shape, **options)


def _quiet(movie, **options):
    """blink_psf when no warning is expected (pytest turns a warning into an error)."""
    return blink_psf(movie, **options)


def _assert_psf(result, truth, tolerance=0.03, angle=2.0):
    assert result.status == "resolved"
    assert result.sigma_x == pytest.approx(truth["sigma_x"], rel=tolerance)
    assert result.sigma_y == pytest.approx(truth["sigma_y"], rel=tolerance)
    assert result.sigma == pytest.approx(truth["sigma"], rel=tolerance)
    if truth["sigma_x"] > 1.2 * truth["sigma_y"]:
        difference = (result.theta - truth["theta"] + 90) % 180 - 90
        assert abs(difference) < angle


@pytest.fixture(scope="module")
def movie15():
    return _sim(sigma=1.5)


# ----------------------------------------------------------------------------- the model
@pytest.mark.parametrize(("sigma", "theta", "pixel"), [((1.2, 0.7), 25.0, (1.0, 0.8)), ((0.8, 0.8), 0.0, (1.0, 1.0))])
def test_model_is_the_mean_pixelated_autocorrelation_of_a_pixel_integrated_gaussian(sigma, theta, pixel):
    """Brute force: render the pixel-integrated PSF at a grid of sub-pixel positions, autocorrelate, average."""
    fine, half = 12, 8  # sub-samples per pixel per axis, patch half-width (pixels)
    c, s = math.cos(math.radians(theta)), math.sin(math.radians(theta))
    sub = (np.arange(fine) + 0.5) / fine
    centres = np.arange(-half, half + 1)
    y = ((centres[:, None] + sub[None, :] - 0.5) * pixel[0]).ravel()  # sub-sample positions, (pixel, sample)
    x = ((centres[:, None] + sub[None, :] - 0.5) * pixel[1]).ravel()
    total = np.zeros((4 * half + 1, 4 * half + 1))
    positions = [(a * pixel[0], b * pixel[1]) for a in sub - 0.5 for b in sub - 0.5]
    for py, px in positions:
        dy, dx = np.meshgrid(y - py, x - px, indexing="ij")
        u, w = c * dx + s * dy, -s * dx + c * dy
        density = np.exp(-u**2 / (2 * sigma[0] ** 2) - w**2 / (2 * sigma[1] ** 2))
        image = density.reshape(2 * half + 1, fine, 2 * half + 1, fine).sum(axis=(1, 3))
        image /= image.sum()
        total += signal.correlate(image, image, mode="full")
    measured = total / len(positions)
    lags = np.arange(-2 * half, 2 * half + 1)
    lag_y, lag_x = np.meshgrid(lags * pixel[0], lags * pixel[1], indexing="ij")
    expected = autocorrelation_model(lag_y, lag_x, *sigma, theta, pixel)
    assert expected.sum() == pytest.approx(1.0, rel=1e-4)
    np.testing.assert_allclose(measured, expected, atol=2e-3 * expected.max())
    naive = autocorrelation_model(lag_y, lag_x, *sigma, theta, (1e-6, 1e-6)) * pixel[0] * pixel[1] / 1e-12
    assert np.abs(naive - measured).max() > 10 * np.abs(expected - measured).max()  # pixel integration matters


def test_the_jacobian_of_the_model_is_its_derivative():
    from napari_resolution.core.blink import _fit_mask, _Model

    model = _Model(15, (1.0, 0.8), np.linspace(0.9, 1.1, 225).reshape(15, 15))
    used = _fit_mask(15, "row")
    params = np.array([1.7, 1.1, 0.4, 250.0, 3.0])
    steps = 1e-6 * np.maximum(np.abs(params), 1)
    numeric = np.stack([(model.values(params + step, used) - model.values(params - step, used)) / (2 * steps[k])
                        for k, step in enumerate(np.diag(steps))], axis=1)
    np.testing.assert_allclose(model.jacobian(params, used), numeric, rtol=1e-6, atol=1e-8 * np.abs(numeric).max())


# ----------------------------------------------------------------------------- known answers
@pytest.mark.parametrize("sigma", [0.8, 1.0, 1.5, 2.0, 3.0])
def test_isotropic_widths_are_recovered(sigma):
    simulated = _sim(sigma=sigma, seed=1)
    _assert_psf(_quiet(simulated.movie), simulated.truth)


@pytest.mark.slow
@pytest.mark.parametrize(("n_emitters", "frames"), [(100, 6000), (2500, 3000)])  # 2 and 50 emitters per frame
def test_sparse_and_dense_blinking(n_emitters, frames):
    simulated = _sim((frames, 64, 64), sigma=1.5, n_emitters=n_emitters, seed=2)
    assert simulated.truth["emitters_per_frame"] == pytest.approx(n_emitters / 51, rel=1e-6)
    _assert_psf(_quiet(simulated.movie), simulated.truth)


@pytest.mark.parametrize("sigma", [1.5, 2.0])
def test_dense_filament_labelling(sigma):
    simulated = _sim((4000, 64, 64), sigma=sigma, structure="filaments", n_emitters=5000, on_probability=0.002,
                     seed=3)
    assert simulated.truth["emitters_per_frame"] > 35
    _assert_psf(_quiet(simulated.movie), simulated.truth)


def test_rotated_anisotropic_psf_with_per_axis_pixel_sizes():
    pixel = (100.0, 80.0)
    simulated = _sim((4000, 64, 64), sigma=(200.0, 100.0), theta=30.0, pixel_size=pixel, seed=4)
    result = _quiet(simulated.movie, pixel_size=pixel)
    _assert_psf(result, simulated.truth)
    assert result.pixel_size == pixel
    assert result.fwhm == pytest.approx(2 * math.sqrt(2 * math.log(2)) * result.sigma)


@pytest.mark.slow
def test_theta_convention_from_x_towards_y():
    """A PSF elongated along the rows (+y) has theta 90; along the diagonal y = x, 45."""
    for theta in (90.0, 45.0, 135.0):
        simulated = _sim(sigma=(2.0, 1.0), theta=theta, seed=5)
        result = _quiet(simulated.movie)
        assert abs((result.theta - theta + 90) % 180 - 90) < 2


@pytest.mark.parametrize("on_time", [3.0, 10.0])
def test_on_time_is_recovered(on_time):
    simulated = _sim(sigma=1.5, on_time=on_time, seed=6)
    result = _quiet(simulated.movie, lags=40, exposure_ms=20.0)
    assert result.on_time == pytest.approx(on_time, rel=0.10)
    assert result.on_time == pytest.approx(simulated.truth["correlation_frames"], rel=0.05)
    assert result.on_time_ms == pytest.approx(20.0 * result.on_time)
    assert 0 < result.on_time_error < 0.1 * result.on_time


@pytest.mark.slow
def test_two_channels_with_different_pixel_sizes():
    first = _sim((3000, 64, 64), sigma=130.0, pixel_size=100.0, seed=7)
    second = _sim((3000, 48, 56), sigma=(160.0, 120.0), theta=60.0, pixel_size=(110.0, 105.0), seed=8)
    results = _quiet([first.movie, second.movie], pixel_size=[100.0, (110.0, 105.0)])
    assert isinstance(results, BlinkChannelsResult) and len(results) == 2
    _assert_psf(results[0], first.truth)
    _assert_psf(results[1], second.truth)
    assert results[1].pixel_size == (110.0, 105.0)
    shared = _quiet([first.movie, first.movie], pixel_size=100.0)
    assert shared[0].sigma == pytest.approx(shared[1].sigma) == pytest.approx(results[0].sigma)


def test_odd_and_even_frame_sizes_give_the_same_answer():
    simulated = _sim((4000, 65, 63), sigma=1.5, seed=9)
    odd = _quiet(simulated.movie)
    even = _quiet(simulated.movie[:, :64, :62])
    assert odd.sigma == pytest.approx(even.sigma, rel=0.01)
    assert odd.autocorrelation.shape == even.autocorrelation.shape == (41, 41)


def test_small_frames_are_not_biased_by_the_border():
    """Pairs that wrap around the frame are independent: dividing by the pair count at each lag is unbiased."""
    simulated = _sim((6000, 24, 24), sigma=2.0, n_emitters=150, seed=10)
    result = _quiet(simulated.movie, crop=23)
    assert result.sigma == pytest.approx(2.0, abs=3 * result.sigma_error)
    assert result.sigma == pytest.approx(2.0, rel=0.03)


def test_airy_psf_reads_its_gaussian_equivalent():
    simulated = _sim(sigma=1.5, psf="airy", seed=11)
    assert simulated.truth["psf"] == "airy"
    assert _quiet(simulated.movie).sigma == pytest.approx(1.5, rel=0.10)


def test_emccd_movie(movie15):
    simulated = _sim(sigma=1.5, camera="emccd", gain=30.0, read_noise=20.0, seed=12, dtype=np.float32)
    assert simulated.movie.dtype == np.float32
    _assert_psf(_quiet(simulated.movie), simulated.truth)


# ----------------------------------------------------------------------------- backgrounds and noise
def test_a_static_sample_is_unresolved_with_a_warning():
    """Beads that do not blink, with shot noise: the mean removes them, the noise is uncorrelated."""
    rng = np.random.default_rng(0)
    beads = bead_field((48, 48), rng.uniform(5, 43, (20, 2)), 1.5, amplitude=500.0, background=100.0)
    static = rng.poisson(np.broadcast_to(beads, (1000, 48, 48))).astype(np.uint16)
    with pytest.warns(RuntimeWarning) as caught:
        result = blink_psf(static)
    assert any("is the sample blinking" in str(w.message) for w in caught)
    assert any("on-time is not measured" in str(w.message) for w in caught)
    assert result.status == "unresolved" and result.sigma is None and result.on_time is None
    assert "status unresolved" in result.summary()


def test_identical_frames_are_an_error():
    frames = np.broadcast_to(np.random.default_rng(0).random((32, 32)), (50, 32, 32))
    with pytest.raises(ValueError, match="movie has no temporal fluctuations"):
        blink_psf(frames)


def test_a_uniform_bleaching_background_is_left_out():
    """Each frame's spatial mean goes, and no pair joins pixels across the frame's edges: no bias, no warning."""
    simulated = _sim((4000, 64, 64), sigma=1.5, background=200.0, bleach_frames=1500.0, seed=13)
    result = _quiet(simulated.movie)
    _assert_psf(result, simulated.truth, tolerance=0.01)
    assert result.parameters["background_used"] == "mean"
    moving = _quiet(simulated.movie, background=("moving", 50))
    _assert_psf(moving, simulated.truth)
    assert moving.parameters["background"] == "moving" and moving.parameters["window"] == 50
    assert moving.parameters["drift"] is None  # the moving mean is the user's choice: no test


@pytest.fixture(scope="module")
def drifting():
    """A non-uniform background (20 % rms) that bleaches by 18 % over the movie: the temporal mean reads wide."""
    return _sim(sigma=1.5, background=200.0, background_pattern=0.2, bleach_frames=15000.0, seed=13)


def test_a_drifting_background_is_detected_and_corrected(drifting):
    with pytest.warns(RuntimeWarning, match="the background drifts .*: each 8th's own mean was subtracted") as caught:
        result = blink_psf(drifting.movie)
    assert len(caught) == 1
    _assert_psf(result, drifting.truth, tolerance=0.01)
    assert result.parameters["background"] == "auto" and result.parameters["background_used"] == "blocks"
    assert result.parameters["drift"] > 10


def test_the_temporal_mean_warns_under_a_drifting_background(drifting):
    with pytest.warns(RuntimeWarning, match="the background drifts .*: use background='auto' or \\('moving'"):
        biased = blink_psf(drifting.movie, background="mean")
    assert biased.sigma > 1.03 * drifting.truth["sigma"] and biased.parameters["background_used"] == "mean"
    _assert_psf(_quiet(drifting.movie, background=("moving", 200)), drifting.truth, tolerance=0.01)


@pytest.mark.parametrize(("noise", "line"), [({"row_noise": 8.0}, "row"), ({"column_noise": 4.0}, "column"),
                                             ({"row_noise": 6.0, "column_noise": 2.0}, "cross")])
def test_line_noise_is_detected_and_left_out(noise, line):
    """sCMOS line noise: a ridge along the central row (column) of the autocorrelation, left out automatically."""
    simulated = _sim((3000, 64, 64), sigma=1.5, seed=14, **noise)
    with pytest.warns(RuntimeWarning, match="a ridge along its central .* was left out of the fit") as caught:
        result = blink_psf(simulated.movie)
    assert len(caught) == (2 if line == "cross" else 1)
    _assert_psf(result, simulated.truth, tolerance=0.01)
    assert result.parameters["exclude_center"] == "auto" and result.parameters["excluded"] == line
    ridges = result.parameters["ridges"]
    assert all((ridges[name] > 6) == (line in (name, "cross")) for name in ("row", "column"))
    with pytest.warns(RuntimeWarning, match="use exclude_center='auto'"):
        kept = blink_psf(simulated.movie, exclude_center="pixel")  # the ridge stays in the fit
    assert max(abs(kept.sigma_x / 1.5 - 1), abs(kept.sigma_y / 1.5 - 1)) > 0.02
    _assert_psf(_quiet(simulated.movie, exclude_center="cross"), simulated.truth, tolerance=0.01)


def test_clean_data_keep_the_temporal_mean_and_every_line(movie15):
    """No ridge, no drift: the default is the temporal mean with only the zero lag left out, and says why."""
    result = _quiet(movie15.movie)
    explicit = _quiet(movie15.movie, background="mean", exclude_center="pixel")
    assert result.parameters["excluded"] == "pixel" and result.parameters["background_used"] == "mean"
    assert max(result.parameters["ridges"].values()) < 6 and result.parameters["drift"] < 10
    assert (result.sigma_x, result.sigma_y, result.theta, result.sigma_error) == \
        (explicit.sigma_x, explicit.sigma_y, explicit.theta, explicit.sigma_error)


@pytest.mark.parametrize(("sigma", "frames"), [(0.8, 3000), (2.5, 3000), (3.0, 3000), (3.0, 500)])
def test_fields_that_do_not_blink_to_their_edges(sigma, frames):
    """Emitters kept 2 sigma inside a 64² frame (PSFs cut at the edges): the mean per pair falls off faster than
    PSF ⋆ PSF (+3.5 % wide at σ 2.5-3 px without the field weight); the model includes the field."""
    simulated = _sim((frames, 64, 64), sigma=sigma, margin=-2 * sigma, seed=15)
    assert np.all((simulated.truth["positions"] >= 2 * sigma) & (simulated.truth["positions"] <= 64 - 2 * sigma))
    result = _quiet(simulated.movie) if frames >= 500 else blink_psf(simulated.movie)
    assert result.sigma == pytest.approx(sigma, rel=max(0.01, 3 * result.sigma_error / sigma))
    assert result.psf.sum() == pytest.approx(1.0)


def test_median_clip_option_runs_for_comparison(movie15):
    result = _quiet(movie15.movie, background="median-clip")
    assert result.status == "resolved" and result.parameters["background"] == "median-clip"


# ----------------------------------------------------------------------------- streaming inputs
class _SliceOnly:
    """An array that only supports slicing (as zarr arrays do)."""

    def __init__(self, data):
        self._data = data
        self.shape, self.dtype = data.shape, data.dtype

    def __getitem__(self, key):
        return np.array(self._data[key])


def test_memmap_dask_and_zarr_like_inputs_agree(movie15, tmp_path):
    data = movie15.movie[:1000]
    before = data.copy()
    reference = _quiet(data)
    path = tmp_path / "movie.npy"
    np.save(path, data)
    inputs = [np.load(path, mmap_mode="r"), da.from_array(data, chunks=(100, 64, 64)), _SliceOnly(data)]
    for movie in inputs:
        result = _quiet(movie)
        assert result.sigma == pytest.approx(reference.sigma, rel=1e-6)
        np.testing.assert_allclose(result.autocorrelation, reference.autocorrelation, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(data, before)


def test_chunking_does_not_change_the_answer(movie15):
    whole = _quiet(movie15.movie)
    chunked = _quiet(movie15.movie, chunk_frames=37)
    np.testing.assert_allclose(chunked.autocorrelation, whole.autocorrelation, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(chunked.temporal_autocorrelation, whole.temporal_autocorrelation, rtol=1e-4)
    assert chunked.parameters["chunk_frames"] == 37


def _direct_autocorrelation(fluctuations, crop):
    """Mean over frames and pixel pairs of e(x) e(x + d), pairs inside the frame, by brute force, lags within ``crop``.

    Each frame's spatial mean is removed first.
    """
    fluctuations = fluctuations - fluctuations.mean(axis=(1, 2), keepdims=True)
    frames, rows, cols = fluctuations.shape
    half = crop // 2
    out = np.empty((crop, crop))
    for i, dy in enumerate(range(-half, half + 1)):
        for j, dx in enumerate(range(-half, half + 1)):
            first = fluctuations[:, max(0, -dy):rows - max(0, dy), max(0, -dx):cols - max(0, dx)]
            second = fluctuations[:, max(0, dy):rows - max(0, -dy), max(0, dx):cols - max(0, -dx)]
            out[i, j] = (first * second).sum() / (frames * (rows - abs(dy)) * (cols - abs(dx)))
    return out


@pytest.mark.parametrize("background", ["mean", ("moving", 5), "median-clip"])
def test_autocorrelation_is_that_of_the_fluctuations(background):
    """The one-pass spectral sums give the brute-force autocorrelation of what each background leaves."""
    movie = np.random.default_rng(3).poisson(50.0, (40, 16, 18)).astype(np.float64)
    frames = movie.shape[0]
    if background == "mean":
        fluctuations = movie - movie.mean(axis=0)
    elif background == "median-clip":
        fluctuations = np.maximum(movie - np.median(movie, axis=0), 0)
    else:
        means = [movie[max(0, t - 2):min(frames, t + 3)].mean(axis=0) for t in range(frames)]
        fluctuations = movie - np.array(means)
        fluctuations -= fluctuations.mean(axis=0)  # what is left of a static part goes too
    with pytest.warns(RuntimeWarning):  # few frames, no PSF in noise
        result = blink_psf(movie, crop=9, background=background, chunk_frames=7)
    np.testing.assert_allclose(result.autocorrelation, _direct_autocorrelation(fluctuations, 9), rtol=1e-9,
                               atol=1e-9 * fluctuations.var())


def _pass_sums(movie, background):
    """The streaming pass's sums of ``movie`` (chunks of 7 frames, crop 9)."""
    options = blink._options(9, background, "auto", 6, None, 7, None)
    padded = blink._padded(*movie.shape[1:], 9)
    return blink._Accumulator(movie, "movie", np, options, 7, padded).run(lambda fraction: None)


@pytest.mark.skipif(not kernels.jit_enabled(), reason="numba not available")
@pytest.mark.parametrize("background", ["mean", ("moving", 5), "median-clip"])
@pytest.mark.parametrize("dtype", ["uint16", ">f4", "float16", "float64"])
def test_the_compiled_pass_is_the_array_code(background, dtype, monkeypatch):
    """The numba kernels (numpy movies) and the array code (their reference, the GPU path) agree."""
    movie = np.random.default_rng(4).poisson(50.0, (40, 16, 18)).astype(dtype)
    compiled = _pass_sums(movie, background)
    monkeypatch.setenv("NAPARI_RESOLUTION_NO_JIT", "1")
    reference = _pass_sums(movie, background)
    tolerance = 1e-10 if dtype == "float64" else 1e-5
    for name in ("power", "spectrum", "neighbours"):
        expected = getattr(reference, name)
        np.testing.assert_allclose(getattr(compiled, name), expected, rtol=tolerance,
                                   atol=tolerance * np.abs(expected).max())
    np.testing.assert_allclose(compiled.temporal(6), reference.temporal(6), rtol=tolerance)


def test_a_window_longer_than_the_movie_is_the_temporal_mean(movie15):
    short = movie15.movie[:600]
    mean = _quiet(short)
    moving = _quiet(short, background=("moving", 1200))
    np.testing.assert_allclose(moving.autocorrelation, mean.autocorrelation, rtol=1e-4, atol=1e-4)


def test_progress_reaches_one_in_order(movie15):
    fractions = []
    _quiet(movie15.movie, chunk_frames=500, progress=fractions.append)
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) == 6


# ----------------------------------------------------------------------------- the result
def test_psf_image_model_and_spline_agree(movie15):
    result = _quiet(movie15.movie)
    assert isinstance(result, BlinkPSFResult)
    assert result.psf.shape == result.psf_model.shape == (41, 41)
    assert result.psf.sum() == pytest.approx(1.0) and result.psf_model.sum() == pytest.approx(1.0)
    assert np.abs(result.psf - result.psf_model).max() < 0.05 * result.psf_model.max()
    offsets = np.arange(-20, 21)
    grid_y, grid_x = np.meshgrid(offsets, offsets, indexing="ij")
    np.testing.assert_allclose(result.psf_at(grid_y, grid_x), result.psf, atol=1e-9)
    assert result.psf_at(100.0, 0.0) == 0.0
    assert result.noise_spike > 0  # shot and read noise at zero lag


def test_result_protocol(movie15):
    result = _quiet(movie15.movie)
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["status"] == "resolved" and payload["sigma"] == pytest.approx(result.sigma)
    assert result.summary("nm").endswith("status resolved") and "nm" in result.summary("nm")
    plots = result.plots("nm")
    assert len(plots) == 2 and all(isinstance(plot, Plot) for plot in plots)
    assert [curve.label for curve in plots[0].curves] == ["PSF from autocorrelation", "Gaussian fit", "spline"]
    assert result.parameters["path"] in ("numpy", "numba") and result.parameters["crop"] == 41
    assert not result.autocorrelation.flags.writeable


def test_few_frames_and_a_narrow_crop_warn(movie15):
    with pytest.warns(RuntimeWarning) as caught:
        result = blink_psf(movie15.movie[:300], crop=9)
    messages = [str(w.message) for w in caught]
    assert any("only 300 frames" in m for m in messages) and any("wider than a quarter of the crop" in m
                                                                   for m in messages)
    assert set(result.warnings) == set(messages)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(("kwargs", "match"), [
    ({"movie": np.zeros((32, 32))}, "movie must be a \\(T, Y, X\\) array"),
    ({"movie": np.zeros((15, 32, 32))}, "movie must have at least 16 frames \\(the PSF's errors come from 8 "
                                        "blocks"),
    ({"movie": np.zeros((16, 32, 32), complex)}, "movie: expected real-valued data"),
    ({"movie": np.full((16, 32, 32), np.nan)}, "movie contains NaN or Inf"),
    ({"movie": np.full((16, 32, 32), 1e200)}, "movie has values of magnitude 1e\\+200: too large"),
    ({"movie": np.full((16, 32, 32), 1e20, np.float32)}, "too large or too small to square in float32"),
    ({"crop": 3}, "crop must be an integer >= 5"),
    ({"crop": 20}, "crop must be odd"),
    ({"crop": 65}, "crop must be at most 63"),
    ({"crop": 2.5}, "crop must be an integer"),
    ({"background": "median"}, "background must be"),
    ({"background": ("moving", 1)}, "background must be"),
    ({"exclude_center": "diagonal"}, "exclude_center must be"),
    ({"lags": 2}, "lags must be an integer >= 4"),
    ({"exposure_ms": -1}, "exposure_ms must be"),
    ({"pixel_size": (1.0, 2.0, 3.0)}, "pixel_size"),
    ({"movie": [np.zeros((16, 32, 32))] * 2, "pixel_size": [1.0, 2.0, 3.0]}, "one entry .* per channel \\(2\\)"),
    ({"movie": [np.zeros((16, 32, 32)), np.zeros((16, 32))]}, "movie\\[1\\] must be a \\(T, Y, X\\) array"),
    ({"movie": []}, "non-empty list"),
    ({"progress": 3}, "progress must be a callable"),
])
def test_bad_input_names_the_argument(kwargs, match):
    arguments = {"movie": np.random.default_rng(0).random((16, 64, 64)), **kwargs}
    with pytest.raises(ValueError, match=match):
        blink_psf(arguments.pop("movie"), **arguments)


# ----------------------------------------------------------------------------- the simulator
def test_simulator_is_seeded_and_carries_its_truth():
    first = blinking_movie((50, 32, 32), sigma=(1.0, 2.0), theta=10.0, seed=3)
    second = blinking_movie((50, 32, 32), sigma=(1.0, 2.0), theta=10.0, seed=3)
    np.testing.assert_array_equal(first.movie, second.movie)
    assert first.movie.dtype == np.uint16 and first.movie.shape == (50, 32, 32)
    truth = first.truth
    assert (truth["sigma_x"], truth["sigma_y"], truth["theta"]) == (2.0, 1.0, 100.0)  # the major axis first
    assert truth["sigma"] == pytest.approx(math.sqrt(2.0))
    assert truth["duty_cycle"] == pytest.approx(0.005 / (0.005 + 0.25))


def test_simulated_blinking_is_the_asked_markov_chain():
    """Duty cycle, mean on- and off-times of the telegraph states (a private helper: the truth's source)."""
    from napari_resolution.core.simulate import _telegraph

    states = _telegraph(20000, 60, 0.02, 0.2, np.random.default_rng(5)).toarray()
    assert set(np.unique(states)) == {0.0, 1.0}
    assert states.mean() == pytest.approx(0.02 / 0.22, rel=0.05)
    padded = np.pad(states, ((1, 1), (0, 0)))
    switches = np.diff(padded, axis=0)
    starts, stops = np.nonzero(switches.T == 1), np.nonzero(switches.T == -1)
    on_runs = stops[1] - starts[1]  # complete and cut runs, in emitter order
    assert on_runs.mean() == pytest.approx(5.0, rel=0.05)
    off_fraction = 1 - states.mean()
    assert off_fraction * states.size / on_runs.size == pytest.approx(50.0, rel=0.08)  # mean off-time 1 / 0.02


def test_simulated_camera_artefacts():
    """Line noise is shared along a row (column) and drawn per frame; a background pattern bleaches with the rest;
    a negative margin keeps the emitters inside; none of them changes the other draws of a seed."""
    plain = blinking_movie((400, 16, 24), n_emitters=1, photons=0.0, read_noise=0.0, dtype=np.float32, seed=2)
    rows = blinking_movie((400, 16, 24), n_emitters=1, photons=0.0, read_noise=0.0, row_noise=3.0,
                          dtype=np.float32, seed=2)
    columns = blinking_movie((400, 16, 24), n_emitters=1, photons=0.0, read_noise=0.0, column_noise=3.0,
                             dtype=np.float32, seed=2)
    for movie, axis in ((rows.movie, 2), (columns.movie, 1)):
        line = movie - plain.movie  # the Poisson draws come first: the same for the three
        assert np.allclose(line, line.take([0], axis=axis), atol=1e-3)  # one value per line and frame
        assert line.std() == pytest.approx(3.0, rel=0.05)
    pattern = blinking_movie((200, 32, 32), n_emitters=1, photons=0.0, background=1000.0, background_pattern=0.3,
                             bleach_frames=100.0, read_noise=0.0, dtype=np.float32, seed=2).movie - 100.0
    first, last = pattern[:20].mean(axis=0), pattern[-20:].mean(axis=0)
    assert first.std() / first.mean() == pytest.approx(0.3, rel=0.1)
    assert last.mean() / first.mean() == pytest.approx(math.exp(-180 / 100), rel=0.05)
    assert np.corrcoef(first.ravel(), last.ravel())[0, 1] > 0.9  # the same pattern, fading
    inside = blinking_movie((2, 32, 40), n_emitters=500, margin=-5.0, seed=2).truth["positions"]
    assert inside.min() >= 5.0 and inside[:, 0].max() <= 27.0 and inside[:, 1].max() <= 35.0


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"shape": (10, 16)}, "shape must be 3-D"),
    ({"margin": -8.0}, "margin must lie in \\(-8, "),
    ({"row_noise": -1.0}, "row_noise must be"),
    ({"background_pattern": float("nan")}, "background_pattern must be"),
    ({"sigma": -1.0}, "sigma must be a finite number > 0"),
    ({"sigma": (1.0, 2.0, 3.0)}, "sigma must be one width or"),
    ({"psf": "airy", "sigma": (1.0, 2.0)}, "sigma must be one width for psf='airy'"),
    ({"psf": "moffat"}, "psf must be"),
    ({"structure": "grid"}, "structure must be"),
    ({"on_probability": 1.5}, "on_probability must lie in"),
    ({"on_time": 0.5}, "on_time must be a finite number >= 1"),
    ({"camera": "ccd"}, "camera must be"),
    ({"dtype": np.int8}, "dtype must be uint16 or float32"),
    ({"n_emitters": 0}, "n_emitters must be an integer >= 1"),
    ({"seed": -1}, "seed must be"),
])
def test_simulator_bad_input(kwargs, match):
    arguments = {"shape": (10, 16, 16), **kwargs}
    with pytest.raises(ValueError, match=match):
        blinking_movie(arguments.pop("shape"), **arguments)


# ----------------------------------------------------------------------------- found by the fuzz tests (#24)
@pytest.mark.parametrize("pixel", [1e15, 1e-30, (1e-20, 2e-20)])
def test_the_fit_does_not_depend_on_the_unit_of_the_pixel_size(pixel):
    """It ran in physical units: at 1e15 (or 1e-30) per pixel it read noise as a PSF, and its PSF image was 0/0."""
    movies = [_sim((32, 16, 24), sigma=(2.0, 1.2), theta=30.0, n_emitters=40, on_probability=0.1, seed=2).movie,
              _sim((400, 32, 32), sigma=(2.0, 1.2), theta=30.0, n_emitters=80, on_probability=0.05, seed=2).movie]
    scale = max(np.atleast_1d(pixel))
    for movie in movies:
        with pytest.warns(RuntimeWarning):  # few frames
            unit, scaled = blink_psf(movie, pixel_size=np.asarray(pixel) / scale), blink_psf(movie, pixel_size=pixel)
        assert scaled.status == unit.status and np.isfinite(scaled.psf).all()
        if unit.status == "resolved":
            assert scaled.sigma == pytest.approx(unit.sigma * scale, rel=1e-6)
            assert scaled.theta == pytest.approx(unit.theta, abs=1e-6)


def test_the_warnings_of_several_channels_say_which_channel():
    """Each channel issued its own warnings, without saying which channel they were about."""
    movie = _sim((32, 16, 16), n_emitters=30, seed=4).movie
    with pytest.warns(RuntimeWarning) as caught:
        result = blink_psf([movie, movie[::-1]])
    issued = {str(w.message) for w in caught}
    assert issued == set(result.warnings) and all(note.startswith(("channel 1: ", "channel 2: ")) for note in issued)
