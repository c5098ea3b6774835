import json

import numpy as np
import pytest

from napari_resolution.core.decorrelation import decorrelation, local_maximum
from napari_resolution.core.simulate import band_limited_noise

# Most images here are noise-free band-limited noise, whose spectrum has no white-noise floor beyond the cut-off
# (the warning is tested in test_decorrelation_interval.py); the known-answer test adds noise and checks no warning.
pytestmark = pytest.mark.filterwarnings("ignore:.*the noise beyond the cut-off is not white:RuntimeWarning")


@pytest.mark.parametrize("shape", [(256, 256), (512, 512), (384, 512)])
@pytest.mark.parametrize("cutoff", [0.10, 0.15, 0.20, 0.30])
def test_band_limited_noise_gives_its_cutoff(shape, cutoff):
    signal = band_limited_noise(shape, cutoff, seed=0)
    result = decorrelation(signal + 0.2 * signal.std() * np.random.default_rng(1).standard_normal(shape),
                           pixel_size=0.1)
    assert result.status == "resolved" and result.warnings == ()
    measured = result.kc_max / 2  # normalised to Nyquist -> cycles/pixel
    assert 0.9 <= measured / cutoff <= 1.15
    assert result.resolution == pytest.approx(2 * 0.1 / result.kc_max)
    assert result.resolution_half == pytest.approx(result.resolution / 2)


@pytest.mark.parametrize("pedestal", [10.0, 1000.0])
def test_dc_pedestal_barely_matters(pedestal):
    rng = np.random.default_rng(1)
    image = band_limited_noise((256, 256), 0.2, seed=1) + 0.3 * rng.standard_normal((256, 256)) * 0.05
    base = decorrelation(image).resolution
    assert decorrelation(image + pedestal).resolution == pytest.approx(base, rel=0.05)


def test_pure_noise_and_constant_images_have_no_resolution():
    noise = decorrelation(np.random.default_rng(2).standard_normal((256, 256)))
    assert noise.status == "unresolved" and noise.resolution is None and noise.kc_max is None
    assert "no resolution" in noise.summary()
    constant = decorrelation(np.full((64, 64), 7.0))
    assert constant.status == "unresolved"


def test_noisier_image_has_lower_amplitude_and_coarser_resolution():
    rng = np.random.default_rng(3)
    signal = band_limited_noise((256, 256), 0.25, seed=3)
    clean = decorrelation(signal + 0.2 * signal.std() * rng.standard_normal(signal.shape))
    noisy = decorrelation(signal + 1.0 * signal.std() * rng.standard_normal(signal.shape))
    assert noisy.status == "resolved"
    assert noisy.amplitude < clean.amplitude
    assert noisy.resolution >= clean.resolution


def _brute_force_d0(image, radii):
    """d(r) from its definition on the full spectrum: sum_{|k|<r} |I| / (||I||_{|k|<1} sqrt(N(r)))."""
    spectrum = np.abs(np.fft.fft2(image - image.mean()))
    rows, cols = image.shape
    ky = np.fft.fftfreq(rows)[:, None] * 2  # normalised frequency, 1 = Nyquist
    kx = np.fft.fftfreq(cols)[None, :] * 2
    radius = np.sqrt(ky**2 + kx**2)
    norm = np.sqrt(np.sum(spectrum[radius < 1] ** 2))
    return np.array([spectrum[radius < r].sum() / (norm * np.sqrt(np.count_nonzero(radius < r))) if r > 0 else 0
                     for r in radii])


@pytest.mark.filterwarnings("ignore:the analysed plane is:RuntimeWarning")  # a 128-pixel image: the small-field warning
def test_curves_shapes_json_and_the_unfiltered_curve_from_its_definition():
    image = band_limited_noise((128, 96), 0.2, seed=3)
    result = decorrelation(image, n_radii=40, n_highpass=6, apodization=0)
    assert result.radii.shape == result.d0.shape == (40,)
    assert result.curves.shape == (7, 40) and result.refined_curves.shape == (6, 40)
    assert result.highpass_widths.shape == (13,) and result.peaks.shape == (14, 2)
    expected = _brute_force_d0(image, result.radii)
    np.testing.assert_allclose(result.d0, np.floor(1000 * expected) / 1000, atol=1.001e-3)  # quantised to 0.001
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert payload["status"] == "resolved"


@pytest.mark.filterwarnings("ignore:the analysed plane is:RuntimeWarning")  # a 128-pixel image: the small-field warning
def test_float32_and_input_untouched():
    image = band_limited_noise((128, 128), 0.2, seed=2).astype(np.float32)
    copy = image.copy()
    single = decorrelation(image)
    np.testing.assert_array_equal(image, copy)
    assert single.resolution == pytest.approx(decorrelation(image.astype(np.float64)).resolution, rel=0.02)


@pytest.mark.filterwarnings("ignore:the analysed plane is:RuntimeWarning")  # a small image: the small-field warning
def test_stack_per_slice_along_any_axis():
    cutoffs = [0.1, 0.2, 0.3]
    volume = np.stack([band_limited_noise((96, 128), c, seed=i) for i, c in enumerate(cutoffs)])
    stack = decorrelation(volume, pixel_size=(5.0, 2.0, 2.0))
    assert stack.status == "resolved" and stack.n_resolved == 3
    np.testing.assert_array_equal(stack.slice_indices, [0, 1, 2])
    np.testing.assert_allclose(2 * 2.0 / stack.resolutions / 2 / np.array(cutoffs), 1.0, atol=0.15)
    assert stack.median == pytest.approx(np.median(stack.resolutions))
    assert "median" in stack.summary("nm")
    chosen = decorrelation(volume, slices=[2], pixel_size=(5.0, 2.0, 2.0))
    assert chosen.resolutions[0] == pytest.approx(stack.resolutions[2])
    transposed = decorrelation(np.moveaxis(volume, 0, 2), axis=2, pixel_size=(2.0, 2.0, 5.0))
    np.testing.assert_allclose(transposed.resolutions, stack.resolutions)


def test_local_maximum_rules():
    assert local_maximum([0, 0.2, 0.5, 0.4, 0.3]) == (2, 0.5)
    assert local_maximum([0, 0.2, 0.3, 0.4]) == (0, 0.0)  # rising to the end: no peak
    index, value = local_maximum([0, 0.5, 0.2, 0.6])  # the end is higher but is not a peak
    assert (index, value) == (1, 0.5)
    assert local_maximum([0, 0.3, 0.3005, 0.3, 0.4]) == (0, 0.0)  # only a bump within numerical noise


@pytest.mark.parametrize(
    ("image", "kwargs", "match"),
    [
        (np.zeros(64), {}, "2-D or 3-D"),
        (np.zeros((16, 64)), {}, "at least 32"),
        (np.full((64, 64), np.nan), {}, "NaN"),
        (None, {"n_radii": 5}, "n_radii"),
        (None, {"r_min": 0.6, "r_max": 0.5}, "r_min"),
        (None, {"apodization": 40}, "apodization"),
        (None, {"pixel_size": (1.0, 2.0)}, "square pixels"),
        (np.zeros((4, 64, 64)), {"axis": 3}, "axis"),
        (np.zeros((4, 64, 64)), {"slices": [7]}, "slices"),
        (np.zeros((64, 64)), {"slices": [0]}, "slices picks slices of a 3-D image; image is 2-D"),
        (np.zeros((64, 64)), {"axis": 1}, "axis picks the slicing axis of a 3-D image; image is 2-D"),
    ],
)
def test_bad_input(image, kwargs, match):
    image = np.random.default_rng(0).standard_normal((64, 64)) if image is None else image
    with pytest.raises(ValueError, match=match):
        decorrelation(image, **kwargs)


@pytest.mark.filterwarnings("ignore:the analysed plane is:RuntimeWarning")  # a small image: the small-field warning
def test_a_stack_reports_progress_after_each_chunk_and_chunking_changes_nothing(monkeypatch):
    from napari_resolution.core import decorrelation as module

    stack = np.random.default_rng(0).standard_normal((12, 48, 48))
    with pytest.warns(RuntimeWarning, match="11 of 12 slices"):  # white noise: one slice has a chance peak
        whole = decorrelation(stack)
    monkeypatch.setattr(module, "CHUNK_PIXELS", 48 * 48 * 5)  # chunks of 5, 5 and 2 slices
    fractions = []
    with pytest.warns(RuntimeWarning, match="11 of 12 slices"):
        chunked = decorrelation(stack, progress=fractions.append)
    np.testing.assert_array_equal(chunked.resolutions, whole.resolutions)
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert len(fractions) == 3 * 3 + 1  # three reports per chunk, then done


def _sharp(cutoff, shape=(256, 256), seed=1):
    """Band-limited noise up to ``cutoff`` (cycles/pixel) with a little white noise: a peak near the cutoff."""
    image = band_limited_noise(shape, cutoff, seed=seed)
    return image / image.std() + 0.05 * np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize(("cutoff", "r_max"), [(0.49, 1.0), (0.485, 1.0), (0.39, 0.8)])
def test_a_peak_at_the_end_of_the_range_is_only_a_bound(cutoff, r_max):
    with pytest.warns(RuntimeWarning, match="peak lies at the end of the searched range") as caught:
        result = decorrelation(_sharp(cutoff), pixel_size=0.1, r_max=r_max)
    assert result.status == "bound" and result.kc_max == r_max
    assert result.resolution == pytest.approx(2 * 0.1 / r_max)
    assert result.summary("µm").startswith("≤ ") and "status bound" in result.summary("µm")
    assert ("raise r_max" in str(caught[0].message)) == (r_max < 1)


def test_a_peak_inside_the_range_stays_resolved():
    result = decorrelation(_sharp(0.45), pixel_size=0.1)
    assert result.status == "resolved" and result.warnings == ()
    assert result.resolution == pytest.approx(0.2 / 0.9, rel=0.05)


@pytest.mark.filterwarnings("ignore:the analysed plane is:RuntimeWarning")  # a 128-pixel image: the small-field warning
def test_a_stack_of_bounds_is_a_bound():
    stack = np.stack([_sharp(0.49, (96, 96), seed) for seed in range(3)])
    with pytest.warns(RuntimeWarning, match="end of the searched range"):
        result = decorrelation(stack)
    assert result.status == "bound" and result.n_resolved == 0 and result.median == pytest.approx(2.0)
    assert result.summary().startswith("≤ 2 ") and "status bound" in result.summary()


def test_the_compiled_peaks_equal_local_maximum_curve_by_curve(monkeypatch):
    from napari_resolution.core import decorrelation as module

    rng = np.random.default_rng(0)
    curves = np.floor(1000 * np.cumsum(0.05 * rng.standard_normal((2, 300, 30)), axis=-1)) / 1000
    curves[0, :3] = [np.zeros(30), np.arange(30.0), np.full(30, 0.5)]  # no peak, rising to the end, flat
    radii = np.broadcast_to(np.linspace(0, 1, 30), (2, 30))
    compiled = module._peaks(curves, radii)
    monkeypatch.setenv("NAPARI_RESOLUTION_NO_JIT", "1")
    np.testing.assert_array_equal(compiled, module._peaks(curves, radii))
    assert compiled[0, 1, 1] == 0 and compiled[0, 2, 1] == 0.5
