"""The cryo-EM forward model: central slices against the Fourier slice theorem and analytic projections, the
compiled kernels against the array code, back-projection, rotations, and simulated particle half-maps."""

import numpy as np
import pytest

from napari_resolution import directional_fsc, fsc
from napari_resolution.core import kernels, particles
from napari_resolution.core.particles import (
    BackProjector,
    central_slices,
    image_frequencies,
    image_spectra,
    model_volume,
    particle_images,
    preferred_rotations,
    prepare_volume,
    random_rotations,
)
from napari_resolution.core.simulate import particle_half_maps

NO_JIT = "NAPARI_RESOLUTION_NO_JIT"
needs_numba = pytest.mark.skipif(not kernels.jit_enabled(), reason="numba not available")


@pytest.fixture(scope="module")
def volume():
    return model_volume(32, seed=0)


def _inside(size):
    ky, kx = image_frequencies(size)
    return ky[:, None] ** 2 + kx[None, :] ** 2 <= (size / 2) ** 2


def _atoms(size, sigma, seed):
    """A volume of Gaussian atoms at known voxels (offsets (z, y, x) from the centre), built as model_volume is."""
    rng = np.random.default_rng(seed)
    offsets = rng.integers(-10, 11, (400, 3))
    offsets = offsets[(offsets**2).sum(axis=1) <= 100]
    counts = np.zeros((size,) * 3)
    np.add.at(counts, tuple((offsets + size // 2).T), 1)
    k, kr = np.fft.fftfreq(size), np.fft.rfftfreq(size)
    blur = np.exp(-2 * np.pi**2 * sigma**2 * (k[:, None, None] ** 2 + k[None, :, None] ** 2 + kr ** 2))
    return np.fft.irfftn(np.fft.rfftn(counts) * blur, s=counts.shape, axes=(0, 1, 2)), offsets


def _analytic_slices(offsets, rotations, size, sigma):
    """The continuous spectra of the atoms' projections at the images' frequencies."""
    ky, kx = image_frequencies(size)
    fx, fy = np.meshgrid(kx, ky)
    out = []
    for r in rotations:
        q = np.stack([r[axis, 0] * fx + r[axis, 1] * fy for axis in range(3)]) / size  # (x, y, z) cycles/voxel
        phases = np.exp(-2j * np.pi * np.tensordot(offsets[:, ::-1], q, axes=(1, 0)))
        out.append(np.exp(-2 * np.pi**2 * sigma**2 * (q**2).sum(axis=0)) * phases.sum(axis=0))
    return np.stack(out)


@pytest.mark.parametrize(("interpolation", "tolerance"), [("cubic", 2e-3), ("linear", 0.1)])
def test_slice_theorem_at_grid_points(volume, interpolation, tolerance):
    """The identity and a quarter turn about x: the slice is the DFT of the projection along z and y."""
    quarter = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])
    slices = central_slices(volume, np.stack([np.eye(3), quarter]), interpolation=interpolation)
    inside = _inside(32)
    images = particle_images(slices)
    for spectrum, image, axis in zip(slices, images, (0, 1)):
        reference = np.fft.rfft2(np.fft.ifftshift(volume.sum(axis=axis)))
        assert np.abs(spectrum - reference)[inside].max() < tolerance * np.abs(reference).max()
        assert np.all(spectrum[~inside] == 0)  # beyond the Nyquist circle
        within = np.fft.fftshift(np.fft.irfft2(reference * inside, s=(32, 32)))
        np.testing.assert_allclose(image, within, atol=tolerance * within.max())


@pytest.mark.parametrize(("interpolation", "padding", "tolerance"),
                         [("cubic", 2, 1e-3), ("cubic", 1, 0.02), ("linear", 2, 0.05)])
def test_slices_at_random_rotations_match_the_analytic_projections(interpolation, padding, tolerance):
    atoms, offsets = _atoms(32, 1.0, seed=0)
    rotations = random_rotations(12, seed=3)
    slices = central_slices(atoms, rotations, interpolation=interpolation, padding=padding)
    truth = _analytic_slices(offsets, rotations, 32, 1.0)
    inside = _inside(32)
    error = np.sqrt(np.mean(np.abs(slices - truth)[:, inside] ** 2) / np.mean(np.abs(truth)[:, inside] ** 2))
    assert error < tolerance


@needs_numba
@pytest.mark.parametrize("interpolation", ["cubic", "linear"])
@pytest.mark.parametrize("image_size", [None, 48, 64])
def test_compiled_slices_match_the_array_code(volume, monkeypatch, interpolation, image_size):
    prepared = prepare_volume(volume, interpolation=interpolation)
    rotations = random_rotations(20, seed=1)
    compiled = central_slices(prepared, rotations, image_size=image_size)
    monkeypatch.setenv(NO_JIT, "1")
    reference = central_slices(prepared, rotations, image_size=image_size)
    assert np.abs(compiled - reference).max() < 1e-5 * np.abs(reference).max()


@needs_numba
@pytest.mark.parametrize("image_size", [32, 64])
def test_compiled_back_projection_matches_the_array_code(volume, monkeypatch, image_size):
    rotations = random_rotations(30, seed=2)
    spectra = central_slices(volume, rotations, image_size=image_size)
    ctf = np.random.default_rng(0).uniform(-1, 1, spectra.shape).astype(np.float32)
    stacked = np.stack([spectra, 1j * spectra[::-1]])
    compiled = BackProjector(32, channels=2)
    compiled.add(stacked, rotations, ctf)
    monkeypatch.setenv(NO_JIT, "1")
    reference = BackProjector(32, channels=2)
    reference.add(stacked, rotations, ctf)
    assert (compiled.path, reference.path) == ("numba", "numpy")
    for ours, theirs in zip(compiled.sums(), reference.sums()):
        assert np.abs(ours - theirs).max() < 1e-5 * np.abs(theirs).max()
    for ours, theirs in zip(compiled.reconstruct(0.1), reference.reconstruct(0.1)):
        np.testing.assert_allclose(ours, theirs, atol=1e-5 * np.abs(theirs).max())


def test_reconstruction_from_noise_free_slices_is_the_volume(volume):
    from napari_resolution.core.frequency import shell_geometry
    from napari_resolution.core.spectral import spectra_sums

    rotations = random_rotations(1500, seed=1)
    projector = BackProjector(32)
    projector.add(central_slices(volume, rotations, image_size=64), rotations)
    assert projector.count == 1500
    [reconstruction] = projector.reconstruct(1e-3)
    result = fsc(reconstruction, volume, apodization=0)
    assert result.correlation[1:15].min() > 0.995  # up to 7/8 of Nyquist
    sums = spectra_sums(np.fft.rfftn(reconstruction), np.fft.rfftn(volume), shell_geometry((32,) * 3))
    np.testing.assert_allclose(np.sqrt(sums[2] / sums[3])[:15], 1, atol=0.06)  # the amplitudes, shell by shell


def test_ctf_weighted_back_projection_undoes_the_ctf(volume):
    from napari_resolution.core.ctf import evaluate_ctf

    rotations = random_rotations(1500, seed=4)
    size = 64  # images padded to the accumulation grid, as the simulator records them
    ky, kx = (np.fft.fftfreq(size) / 2.0)[:, None], (np.fft.rfftfreq(size) / 2.0)[None, :]
    ctf = evaluate_ctf(ky, kx, defocus_u=np.random.default_rng(0).uniform(8000, 15000, 1500))
    projector = BackProjector(32)
    projector.add(central_slices(volume, rotations, image_size=size) * ctf, rotations, ctf)
    [reconstruction] = projector.reconstruct(1e-2)
    assert fsc(reconstruction, volume, apodization=0).correlation[1:13].min() > 0.98


def test_image_padding_round_trip():
    rng = np.random.default_rng(0)
    for small, large in ((32, 64), (33, 66), (31, 40)):
        images = rng.standard_normal((2, small, small)).astype(np.float32)
        np.testing.assert_allclose(particle_images(image_spectra(images, large), small), images, atol=1e-5)
        np.testing.assert_allclose(image_spectra(images)[0], np.fft.rfft2(np.fft.ifftshift(images[0])), atol=1e-3)


def test_rotations_uniform_and_preferred():
    uniform = random_rotations(4000, seed=0)
    np.testing.assert_allclose(uniform @ uniform.transpose(0, 2, 1), np.broadcast_to(np.eye(3), uniform.shape),
                               atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(uniform), 1, atol=1e-12)
    views = uniform[:, :, 2]  # the viewing directions: uniform on the sphere
    assert np.abs(views.mean(axis=0)).max() < 0.05
    np.testing.assert_allclose((views**2).mean(axis=0), 1 / 3, atol=0.03)
    preferred = preferred_rotations(1000, spread=15.0, fraction=0.9, seed=0)
    tilt = np.degrees(np.arccos(np.clip(preferred[:, 2, 2], -1, 1)))
    assert tilt[:900].max() <= 15.0 + 1e-9 and tilt[900:].max() > 30
    np.testing.assert_allclose(np.linalg.det(preferred), 1, atol=1e-12)


def test_model_volume_has_its_atoms_in_a_ball():
    volume = model_volume(32, seed=1)
    assert volume.shape == (32, 32, 32) and volume.dtype == np.float32
    assert volume.sum() == pytest.approx(max(1, np.count_nonzero(_ball(32, 0.35 * 32)) // 20), rel=1e-4)
    assert np.abs(volume[~_ball(32, 0.35 * 32 + 3)]).max() < 0.01 * volume.max()


def _ball(size, radius):
    c = np.arange(size) - size // 2
    return c[:, None, None] ** 2 + c[None, :, None] ** 2 + c[None, None, :] ** 2 <= radius**2


SIMULATION = {"pixel_size": 3.0, "snr": 0.05, "defocus_range": (10000.0, 20000.0), "bfactor": 200.0}


@pytest.fixture(scope="module")
def uniform_maps():
    return particle_half_maps(model_volume(40, seed=0), 2000, seed=1, **SIMULATION)


def test_half_maps_read_as_their_expected_fsc(uniform_maps):
    half1, half2, info = uniform_maps
    assert half1.shape == half2.shape == (40, 40, 40) and half1.dtype == np.float32
    measured = fsc(half1, half2, pixel_size=3.0, threshold="0.143", apodization=0)
    expected = info["expected_fsc"]
    np.testing.assert_allclose(measured.frequency, expected["frequency"])
    assert np.abs(measured.correlation - expected["correlation"]).max() < 0.1
    assert measured.resolution == pytest.approx(info["expected_resolution"], rel=0.05)
    assert info["expected_status"] == "resolved"


def test_half_maps_agree_with_the_known_volume_at_low_resolution(uniform_maps):
    half1, _, info = uniform_maps
    volume = model_volume(40, seed=0)
    against_truth = fsc(half1, volume, pixel_size=3.0, apodization=0).correlation
    assert against_truth[1:6].min() > 0.8  # to 1/4 of Nyquist (24 Å)
    assert fsc(info["signal1"], volume, apodization=0).correlation[1:10].min() > 0.9


def test_info_describes_the_particles(uniform_maps):
    _, _, info = uniform_maps
    assert info["rotations"].shape == (2000, 3, 3)
    assert np.bincount(info["half"]).tolist() == [1000, 1000]
    assert np.all((info["defocus_u"] >= 1e4) & (info["defocus_u"] <= 2e4))
    np.testing.assert_allclose(info["defocus_u"], info["defocus_v"])
    assert info["noise_sigma"] == pytest.approx(np.sqrt(info["signal_variance"] / 0.05))
    assert info["parameters"]["path"] in ("numba", "numpy")


def test_more_particles_read_finer():
    volume = model_volume(32, seed=0)
    resolutions = []
    for count in (300, 3000):
        half1, half2, info = particle_half_maps(volume, count, seed=2, interpolation="linear", **SIMULATION)
        resolutions.append(fsc(half1, half2, pixel_size=3.0, threshold="0.143", apodization=0).resolution)
        assert resolutions[-1] == pytest.approx(info["expected_resolution"], rel=0.1)
    assert resolutions[1] < 0.85 * resolutions[0]


def test_preferred_orientation_reads_anisotropic(uniform_maps):
    h1, h2, _ = particle_half_maps(model_volume(40, seed=0), 2000, seed=1, orientation="preferred", **SIMULATION)
    with pytest.warns(RuntimeWarning, match="bounds"):  # most views are top views: laterally, Nyquist is reached
        biased = directional_fsc(h1, h2, pixel_size=3.0, apodization=0)
    uniform = directional_fsc(*uniform_maps[:2], pixel_size=3.0, apodization=0)
    assert uniform.sphericity > 0.9
    assert biased.sphericity < uniform.sphericity - 0.1
    assert biased.axial > 1.3 * biased.lateral  # the views along z leave k_z sparse: coarse along z


def test_a_single_defocus_leaves_ctf_dips_in_the_fsc():
    from napari_resolution.core.ctf import ctf_zeros

    volume = model_volume(32, seed=0)
    _, _, info = particle_half_maps(volume, 1000, seed=3, pixel_size=3.0, snr=0.05, defocus_range=25000.0,
                                    interpolation="linear")
    frequency, curve = info["expected_fsc"]["frequency"], info["expected_fsc"]["correlation"]
    zero = ctf_zeros(25000.0, 1)[0] * 3.0  # cycles/pixel
    near = np.argmin(np.abs(frequency - zero))
    assert curve[near] < curve[near - 2] - 0.05  # a dip at the first zero that the defocus spread would fill


def test_given_rotations_and_seed_reproduce(volume):
    rotations = random_rotations(64, seed=5)
    first = particle_half_maps(volume, 64, seed=7, orientation=rotations, pixel_size=2.0, snr=0.1,
                               defocus_range=15000.0, interpolation="linear")
    second = particle_half_maps(volume, 64, seed=7, orientation=rotations, pixel_size=2.0, snr=0.1,
                                defocus_range=15000.0, interpolation="linear")
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[2]["rotations"], rotations)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"volume": np.zeros((16, 16, 16))}, "volume"), ({"volume": np.ones((16, 16, 20))}, "volume"),
    ({"n_particles": 1}, "n_particles"), ({"snr": 0}, "snr"), ({"pixel_size": -1}, "pixel_size"),
    ({"defocus_range": (2e4, 1e4)}, "defocus_range"), ({"defocus_range": "far"}, "defocus_range"),
    ({"orientation": "sideways"}, "orientation"), ({"orientation": np.ones((4, 3, 3))}, "orientation"),
    ({"orientation": random_rotations(3, seed=0)}, "orientation"), ({"interpolation": "nearest"}, "interpolation"),
    ({"padding": 9}, "padding"),
])
def test_bad_input_names_the_argument(volume, kwargs, match):
    arguments = {"volume": volume, "n_particles": 4, "pixel_size": 2.0, "snr": 0.1, "defocus_range": 1e4} | kwargs
    with pytest.raises(ValueError, match=match):
        particle_half_maps(**arguments)


def test_bad_slicing_input(volume):
    with pytest.raises(ValueError, match="rotations"):
        central_slices(volume, np.diag([1.0, 1.0, -1.0]))
    with pytest.raises(ValueError, match="image_size"):
        central_slices(volume, np.eye(3), image_size=100)
    with pytest.raises(ValueError, match="volume"):
        central_slices(np.zeros((8, 8)), np.eye(3))
    projector = BackProjector(32)
    with pytest.raises(ValueError, match="spectra"):
        projector.add(np.zeros((2, 16, 9), np.complex64), random_rotations(2, seed=0))
    assert particles.INTERPOLATIONS == ("cubic", "linear")


@needs_numba
def test_the_array_path_simulates_the_same_maps(volume, monkeypatch):
    arguments = {"pixel_size": 2.0, "snr": 0.1, "defocus_range": (1e4, 2e4), "seed": 4}
    compiled = particle_half_maps(volume, 96, **arguments)
    monkeypatch.setenv(NO_JIT, "1")
    reference = particle_half_maps(volume, 96, **arguments)
    assert reference[2]["parameters"]["path"] == "numpy"
    for ours, theirs in zip(compiled[:2], reference[:2]):
        np.testing.assert_allclose(ours, theirs, atol=1e-4 * np.abs(theirs).max())
