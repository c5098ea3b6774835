"""The CTF against its formula: wavelength, zeros at 1-3 µm, astigmatism along its angle, the exact envelope,
recovar's convention, stacks and bad input."""

import math

import numpy as np
import pytest

from napari_resolution.core.ctf import ctf, ctf_zeros, electron_wavelength, evaluate_ctf


def _sign_changes(k, values):
    """Frequencies where ``values`` changes sign, linearly interpolated between the samples."""
    where = np.flatnonzero(np.sign(values[:-1]) != np.sign(values[1:]))
    return k[where] - values[where] * (k[where + 1] - k[where]) / (values[where + 1] - values[where])


def test_relativistic_wavelength():
    assert electron_wavelength(300) == pytest.approx(0.0197, abs=5e-5)
    assert electron_wavelength(200) == pytest.approx(0.02508, abs=5e-5)
    assert electron_wavelength(100) == pytest.approx(0.03701, abs=5e-5)


@pytest.mark.parametrize("defocus", [10000.0, 20000.0, 30000.0])
def test_first_zeros_on_the_grid_match_the_formula_within_one_percent(defocus):
    # 1024² at 1 Å: along +x (row 0 of the rfft half), the zeros found on the grid against the formula
    grid = ctf((1024, 1024), pixel_size=1.0, defocus_u=defocus, half=True)
    measured = _sign_changes(np.fft.rfftfreq(1024, 1.0), grid[0])[:4]
    expected = ctf_zeros(defocus, 4)
    np.testing.assert_allclose(measured, expected, rtol=0.01)
    # the formula itself: chi(k) + asin(A) = n pi at each zero
    wavelength = electron_wavelength(300)
    chi = math.pi * wavelength * defocus * expected**2 - 0.5 * math.pi * 2.7e7 * wavelength**3 * expected**4
    np.testing.assert_allclose(chi + math.asin(0.1), math.pi * np.arange(1, 5), rtol=1e-9)


def test_zeros_of_a_phase_plate_and_of_overfocus():
    # 90° phase shift, no amplitude contrast: CTF = -cos(chi): zeros at chi = pi/2 + n pi
    k = ctf_zeros(15000.0, 2, amplitude_contrast=0.0, phase_shift=90.0)
    values = evaluate_ctf(np.zeros_like(k), k, defocus_u=15000.0, amplitude_contrast=0.0, phase_shift=90.0)
    np.testing.assert_allclose(values, 0, atol=1e-9)
    over = ctf_zeros(-10000.0, 3)
    assert np.all(np.diff(over) > 0)
    np.testing.assert_allclose(evaluate_ctf(np.zeros_like(over), over, defocus_u=-10000.0), 0, atol=1e-9)


def test_astigmatism_lies_along_its_angle():
    du, dv, angle = 18000.0, 12000.0, 30.0
    k = np.linspace(0, 0.3, 30001)
    for phi, defocus in ((angle, du), (angle + 90, dv), (angle + 180, du)):
        ky, kx = k * math.sin(math.radians(phi)), k * math.cos(math.radians(phi))
        values = evaluate_ctf(ky, kx, defocus_u=du, defocus_v=dv, astigmatism_angle=angle)
        np.testing.assert_allclose(_sign_changes(k, values)[:3], ctf_zeros(defocus, 3), rtol=1e-4)
    # on the grid: phi is measured from +x (columns) towards +y (rows)
    grid = ctf((512, 512), pixel_size=1.0, defocus_u=du, defocus_v=dv, astigmatism_angle=90.0)
    k_axis = np.fft.fftfreq(512)[:256]
    along_rows = _sign_changes(k_axis, grid[:256, 0])[0]
    along_cols = _sign_changes(k_axis, grid[0, :256])[0]
    assert along_rows == pytest.approx(ctf_zeros(du, 1)[0], rel=0.01)
    assert along_cols == pytest.approx(ctf_zeros(dv, 1)[0], rel=0.01)


def test_envelope_is_exactly_the_b_factor():
    sharp = ctf((128, 96), pixel_size=1.5, defocus_u=15000.0, defocus_v=14000.0, astigmatism_angle=20.0)
    blurred = ctf((128, 96), pixel_size=1.5, defocus_u=15000.0, defocus_v=14000.0, astigmatism_angle=20.0,
                  bfactor=80.0)
    ky, kx = np.fft.fftfreq(128, 1.5)[:, None], np.fft.fftfreq(96, 1.5)[None, :]
    np.testing.assert_allclose(blurred, sharp * np.exp(-80.0 * (ky**2 + kx**2) / 4), rtol=1e-12, atol=1e-15)


def test_low_frequency_sign_and_layout():
    full = ctf((64, 48), pixel_size=2.0, defocus_u=12000.0)
    half = ctf((64, 48), pixel_size=2.0, defocus_u=12000.0, half=True)
    assert full.shape == (64, 48) and half.shape == (64, 25)
    np.testing.assert_array_equal(half, full[:, :25])
    assert full[0, 0] == pytest.approx(-0.1)  # -A at DC: negative contrast
    plate = ctf((8, 8), pixel_size=1.0, defocus_u=0.0, amplitude_contrast=0.0, phase_shift=90.0)
    assert plate[0, 0] == pytest.approx(-1.0)


def test_recovar_convention_is_the_same_function():
    """recovar's evaluate_ctf, written out: gamma = 2 pi (-dz lambda s^2 / 2 + cs lambda^3 s^4 / 4) - phase,
    sqrt(1 - w^2) sin gamma - w cos gamma, exp(-B s^2 / 4); x the column frequency, on a centred grid."""
    shape, pixel, du, dv, angle, w, phase, b = (40, 40), 1.3, 16000.0, 13000.0, 35.0, 0.07, 20.0, 60.0
    ours = np.fft.fftshift(ctf(shape, pixel_size=pixel, defocus_u=du, defocus_v=dv, astigmatism_angle=angle,
                               amplitude_contrast=w, phase_shift=phase, bfactor=b))
    grid = (np.arange(40) - 20) / (40 * pixel)
    x, y = np.meshgrid(grid, grid, indexing="xy")
    s2 = x * x + y * y
    df = 0.5 * (du + dv + (du - dv) * np.cos(2 * (np.arctan2(y, x) - np.deg2rad(angle))))
    lam = 12.2643247 / np.sqrt(300e3 * (1 + 300e3 * 0.978466e-6))
    gamma = 2 * np.pi * (-0.5 * df * lam * s2 + 0.25 * 2.7e7 * lam**3 * s2**2) - np.deg2rad(phase)
    theirs = (np.sqrt(1 - w**2) * np.sin(gamma) - w * np.cos(gamma)) * np.exp(-b / 4 * s2)
    np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_one_ctf_per_image():
    defoci = np.array([10000.0, 15000.0, 22000.0])
    stack = ctf((32, 32), pixel_size=1.0, defocus_u=defoci, defocus_v=defoci - 500, astigmatism_angle=[0, 45, 90])
    assert stack.shape == (3, 32, 32)
    for i, (d, a) in enumerate(zip(defoci, (0, 45, 90))):
        np.testing.assert_allclose(stack[i], ctf((32, 32), pixel_size=1.0, defocus_u=d, defocus_v=d - 500,
                                                 astigmatism_angle=a), atol=1e-12)
    single = evaluate_ctf(np.float32(0.1), np.float32(0.05), defocus_u=12000.0)
    assert single.dtype == np.float32


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"pixel_size": 0}, "pixel_size"), ({"pixel_size": np.inf}, "pixel_size"), ({"voltage": -1}, "voltage"),
    ({"cs": -0.1}, "cs"), ({"amplitude_contrast": 1.0}, "amplitude_contrast"),
    ({"defocus_u": [1e4, np.nan]}, "defocus_u"), ({"defocus_u": [1e4, 2e4], "defocus_v": [1e4, 2e4, 3e4]}, "one value"),
    ({"shape": (8, 8, 8)}, "shape"), ({"bfactor": "a lot"}, "bfactor"),
])
def test_bad_input_names_the_argument(kwargs, match):
    arguments = {"shape": (16, 16), "pixel_size": 1.0, "defocus_u": 1e4} | kwargs
    shape = arguments.pop("shape")
    with pytest.raises(ValueError, match=match):
        ctf(shape, **arguments)
