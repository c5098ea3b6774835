import json

import numpy as np
import pytest

from napari_resolution.core.mtf import BeadStackResult, mtf_edge, mtf_point
from napari_resolution.core.simulate import bead_stack, gaussian_spot, slanted_edge


def gaussian_mtf(frequency, sigma):
    return np.exp(-2 * np.pi**2 * sigma**2 * np.asarray(frequency) ** 2)


def gaussian_crossing(level, sigma):
    """Frequency where exp(-2 pi^2 sigma^2 f^2) equals ``level``."""
    return np.sqrt(np.log(1 / level) / (2 * np.pi**2 * sigma**2))


ANGLES = [3, 5, 10, 30, 80, 85, 95, 175]


@pytest.mark.parametrize("sigma", [0.8, 1.5, 3.0])
@pytest.mark.parametrize("angle", ANGLES)
def test_slanted_edge_matches_the_gaussian_mtf(sigma, angle):
    # a long edge (1024 px) at SNR 50: contrast 0.8, noise 0.016
    image = slanted_edge((1024, 1024), angle, sigma, noise=0.8 / 50, seed=angle)
    result = mtf_edge(image)
    assert result.f50 == pytest.approx(gaussian_crossing(0.5, sigma), rel=0.02)
    assert result.f10 == pytest.approx(gaussian_crossing(0.1, sigma), rel=0.02)
    assert abs((result.edge_angle - angle + 90) % 180 - 90) < 0.2
    band = result.frequency <= 0.4
    truth = gaussian_mtf(result.frequency[band], sigma)
    error = np.abs(result.mtf[band] - truth)
    measurable = truth >= 0.01  # beyond, the true MTF is below the SNR-50 noise floor (see docs/mtf.md)
    assert error[measurable].max() < 0.02
    assert error.max() < 0.03
    assert result.warnings == ()


def test_edge_polarity_roi_and_pixel_size():
    image = slanted_edge((200, 300), 80, 1.2, noise=0.005, seed=1)
    inverted = 1 - image
    roi = (40, 90, 160, 210)
    first = mtf_edge(image, roi=roi, pixel_size=0.5)
    second = mtf_edge(inverted, roi=roi, pixel_size=0.5)
    np.testing.assert_allclose(first.mtf, second.mtf, atol=1e-4)
    assert first.edge_angle == pytest.approx(second.edge_angle, abs=1e-6)
    assert first.resolution_50 == pytest.approx(0.5 / first.f50)
    assert first.esf[0] < first.esf[-1] and second.esf[0] < second.esf[-1]  # always dark to bright
    assert first.lsf.max() == pytest.approx(1.0)
    assert first.roi == roi
    payload = json.loads(json.dumps(first.to_dict(), allow_nan=False))
    assert payload["kind"] == "edge" and "MTF50" in first.summary("µm")


def test_edge_windows_and_oversampling():
    image = slanted_edge((512, 512), 12, 1.0, noise=0.002, seed=2)
    truth = gaussian_crossing(0.5, 1.0)
    for window in ("hamming", "hann", "tukey", "none"):
        assert mtf_edge(image, window=window).f50 == pytest.approx(truth, rel=0.04)
    assert mtf_edge(image, oversample=8).f50 == pytest.approx(truth, rel=0.02)


def test_edge_warnings():
    near_45 = mtf_edge(slanted_edge((256, 256), 44.5, 1.0, seed=0))
    assert any("45" in note for note in near_45.warnings)
    near_0 = mtf_edge(slanted_edge((256, 256), 1.0, 1.0, seed=0))
    assert any("0°" in note for note in near_0.warnings)
    touching = slanted_edge((128, 128), 86, 1.0, center=(64, 4), seed=0)
    assert any("border" in note for note in mtf_edge(touching).warnings)
    assert mtf_edge(slanted_edge((128, 128), 86, 1.0, seed=0)).warnings == ()
    short = mtf_edge(slanted_edge((300, 300), 80, 1.0), roi=(140, 100, 156, 200))
    assert any("scan lines" in note for note in short.warnings)


def test_point_source_matches_the_gaussian_mtf():
    for sigma in (1.0, 2.0):
        for index, center in enumerate([(40.3, 51.7), (63.5, 20.25), (70.45, 88.55)]):
            image = gaussian_spot((128, 128), center, sigma, amplitude=1.0, background=0.2, noise=0.01, seed=index)
            result = mtf_point(image, center=(int(center[0]), int(center[1])), box=32, pixel_size=0.1)
            assert result.f50 == pytest.approx(gaussian_crossing(0.5, sigma), rel=0.03)
            assert result.fwhm == pytest.approx(0.1 * 2.3548 * sigma, rel=0.03)
            assert np.hypot(*(np.array(result.center) - center)) < 0.2
            assert result.kind == "point" and not hasattr(result, "esf") and result.psf.shape == (32, 32)


def test_point_source_found_automatically():
    image = gaussian_spot((96, 96), (30.3, 60.6), 1.5, amplitude=2.0, background=1.0, noise=0.01, seed=0)
    result = mtf_point(image)
    assert np.hypot(result.center[0] - 30.3, result.center[1] - 60.6) < 0.2
    assert result.f50 == pytest.approx(gaussian_crossing(0.5, 1.5), rel=0.03)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"roi": (0, 0, 400, 40)}, "outside the image"),
        ({"roi": (10, 10, 18, 60)}, "too small"),
        ({"roi": "abc"}, "roi must be"),
        ({"roi": (10, 10, float("nan"), 60)}, "roi must be finite"),
        ({"window": "kaiser"}, "window"),
        ({"oversample": 0}, "oversample"),
        ({"pixel_size": (1.0, 2.0)}, "square pixels"),
    ],
)
def test_edge_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mtf_edge(slanted_edge((128, 128), 10, 1.0), **kwargs)


def test_flat_region_several_edges_and_bad_images():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="no edge found"):
        mtf_edge(0.5 + 0.01 * rng.standard_normal((128, 128)))
    two = slanted_edge((128, 128), 80, 1.0, center=(64, 40)) - slanted_edge((128, 128), 80, 1.0, center=(64, 90))
    with pytest.raises(ValueError, match="several edges"):
        mtf_edge(two + 0.1)
    with pytest.raises(ValueError, match="2-D"):
        mtf_edge(np.zeros((4, 64, 64)))
    with pytest.raises(ValueError, match="NaN"):
        mtf_edge(np.full((64, 64), np.nan))


def test_point_bad_input():
    image = gaussian_spot((64, 64), (32, 32), 1.5)
    with pytest.raises(ValueError, match="outside the image"):
        mtf_point(image, center=(80, 10))
    with pytest.raises(ValueError, match="box"):
        mtf_point(image, box=4)
    with pytest.raises(ValueError, match="larger than the image"):
        mtf_point(image, box=128)
    with pytest.raises(ValueError, match="no bead"):
        mtf_point(np.random.default_rng(0).standard_normal((64, 64)) * 0.01 + 3)


@pytest.mark.parametrize("roi", [(-3, 10, 100, 100), (10, 10, 100, 130), (-0.4, 10, 100, 100), (10, 10, 128.3, 100)])
def test_roi_partly_outside_the_image_is_rejected(roi):
    """No part of an ROI is cut off silently, not even a fraction of a pixel (issue #12)."""
    image = slanted_edge((128, 128), 10, 1.0, noise=0.01, seed=0)
    with pytest.raises(ValueError, match=r"roi .* extends outside the image of shape \(128, 128\)"):
        mtf_edge(image, roi=roi)


def test_roi_inside_the_image_keeps_the_pixels_whose_centres_it_covers():
    image = slanted_edge((128, 128), 10, 1.0, noise=0.01, seed=0)
    assert mtf_edge(image, roi=(0, 0, 128, 128)).roi == (0, 0, 128, 128)
    assert mtf_edge(image, roi=(0.5, 10.4, 100.5, 100.6)).roi == (0, 10, 101, 101)  # centres 0.5 ... 100.5


def _departure(result, sigma):
    """First frequency where the measured MTF is off the analytic one by more than half of it."""
    truth = gaussian_mtf(result.frequency, sigma)
    return result.frequency[np.argmax(np.abs(result.mtf - truth) > 0.5 * truth)]


def _noise_floor_is_where_the_mtf_departs(noisy, sigma):
    """The floor lies below Nyquist where the measured MTF leaves the analytic one (on average over seeds)."""
    floors = np.array([result.noise_floor for result in noisy])
    assert (floors < 0.5).all()
    assert np.mean(floors) == pytest.approx(np.mean([_departure(result, sigma) for result in noisy]), abs=0.05)
    for result in noisy:  # below the floor the curve is signal: close to the truth
        below = (result.frequency > 0.05) & (result.frequency <= 0.8 * result.noise_floor)
        truth = gaussian_mtf(result.frequency[below], sigma)
        assert np.median(np.abs(result.mtf[below] - truth) / truth) < 0.1
        assert result.to_dict()["noise_floor"] == result.noise_floor
        assert f"noise floor from {result.noise_floor:.4f}" in result.summary()
    return floors


def test_edge_noise_floor_noisy_vs_noise_free():
    clean = mtf_edge(slanted_edge((256, 256), 10, 1.5))
    assert clean.noise_floor is None and clean.status == "resolved" and clean.warnings == ()
    assert "noise floor" not in clean.summary()
    # SNR 16 (contrast 0.8, noise 0.05): floor 0.266 ± 0.012 cycles/pixel, the MTF departs at 0.285 (6 seeds)
    noisy = [mtf_edge(slanted_edge((256, 256), 10, 1.5, noise=0.05, seed=seed)) for seed in range(6)]
    _noise_floor_is_where_the_mtf_departs(noisy, 1.5)
    # the noise amplitude is propagated from the image noise: where the truth is ~0 the MTF is noise alone
    measured, predicted = (np.concatenate([getattr(r, name)[r.frequency > 0.5] for r in noisy])
                           for name in ("mtf", "mtf_noise"))
    assert np.sqrt(np.mean(measured**2)) == pytest.approx(np.sqrt(np.mean(predicted**2)), rel=0.15)


def test_point_noise_floor_noisy_vs_noise_free():
    clean = mtf_point(gaussian_spot((96, 96), (48.3, 47.6), 1.5))
    assert clean.noise_floor is None and clean.status == "resolved"
    # peak SNR 50: floor 0.307 ± 0.015 cycles/pixel, the MTF departs at 0.316 (6 seeds)
    noisy = [mtf_point(gaussian_spot((96, 96), (48.3, 47.6), 1.5, noise=0.02, seed=seed)) for seed in range(6)]
    _noise_floor_is_where_the_mtf_departs(noisy, 1.5)


def test_mtf10_beyond_the_noise_floor_is_a_bound():
    # SNR 10 edge: MTF10 reads 0.516 (truth 0.427), just past the floor at 0.508
    edge = mtf_edge(slanted_edge((256, 256), 10, 0.8, noise=0.08, seed=0))
    assert edge.f10 > edge.noise_floor and edge.f50 < edge.noise_floor
    assert edge.status == "bound" and "status bound" in edge.summary()
    assert any(note.startswith("MTF10") and "beyond the noise floor" in note for note in edge.warnings)
    # a faint bead (peak SNR 7): MTF10 far past the floor
    bead = mtf_point(gaussian_spot((128, 128), (60.3, 50.6), 1.0, background=0.1, noise=0.15, seed=1), center=(60, 50))
    assert bead.f10 > bead.noise_floor and bead.status == "bound"
    assert any("MTF10" in note and "noise floor" in note for note in bead.warnings)


def test_mtf_plot_shows_markers_and_the_noise_level():
    result = mtf_edge(slanted_edge((256, 256), 10, 0.8, noise=0.08, seed=1))
    for plot in (result.mtf_plot("µm"), result.plots("µm")[0]):  # the CLI PNG and the widget draw the same
        labels = {marker.label: marker.x for marker in plot.markers}
        assert labels[f"MTF50 {result.f50:.3f}"] == result.f50 and labels[f"MTF10 {result.f10:.3f}"] == result.f10
        assert labels[f"noise floor {result.noise_floor:.3f}"] == result.noise_floor and labels["Nyquist"] == 0.5
        noise = [curve for curve in plot.curves if curve.label == "noise level"]
        assert len(noise) == 1 and noise[0].role == "reference"
    clean = mtf_edge(slanted_edge((256, 256), 10, 0.8))
    assert [curve.label for curve in clean.mtf_plot().curves] == ["MTF"]
    assert not any(marker.label.startswith("noise") for marker in clean.mtf_plot().markers)


def test_bead_radial_profile_follows_its_gaussian():
    result = mtf_point(gaussian_spot((96, 96), (48.3, 47.6), 1.5, noise=0.002, seed=0), pixel_size=0.2)
    assert np.all(np.diff(result.profile_radius) > 0) and result.profile_radius.max() <= 16
    np.testing.assert_allclose(result.profile, np.exp(-result.profile_radius**2 / (2 * 1.5**2)), atol=0.02)
    plot = result.profile_plot("µm")
    assert plot.title == "radial profile" and not plot.frequency_axis
    assert plot.x_label == "distance from the bead centre (pixels)"
    assert [curve.role for curve in plot.curves] == ["measured", "reference"]
    assert plot.curves[1].label == f"Gaussian fit, FWHM {result.fwhm:.3g} µm"
    edge = mtf_edge(slanted_edge((128, 128), 10, 1.0, seed=0))
    assert edge.profile_plot().title == "ESF / LSF" and edge.plots()[1].title == "ESF / LSF"


@pytest.mark.parametrize(
    ("image", "match"),
    [
        (slanted_edge((40, 40), 5, 1.0).astype(complex), "image must be real-valued, got complex128"),
        (slanted_edge((40, 40), 5, 1.0).astype(str), "image must be real-valued"),
        (np.random.default_rng(0).random((12, 1)), "image is too small"),
        (np.full((40, 40), 1e308), "image values are too large"),
    ],
)
def test_bad_images_are_named(image, match):
    for estimator in (mtf_edge, mtf_point):
        with pytest.raises(ValueError, match=match):
            estimator(image)


def test_edge_without_sub_pixel_phases_or_line_is_rejected():
    step = np.zeros((40, 40))
    step[:, 20:] = 1  # exactly 90°: every pixel at a whole-pixel distance from the edge
    for image in (step, step.T):
        with pytest.raises(ValueError, match="too close to (0|90)°.*slant the edge"):
            mtf_edge(image)
    dot = np.zeros((16, 16))
    dot[5, 7] = 1
    with pytest.raises(ValueError, match="no edge found in the ROI"):
        mtf_edge(dot)


def test_results_do_not_depend_on_the_image_scale():
    """Huge and denormal values are measured like any others (the data are scaled by a power of two)."""
    edge = slanted_edge((40, 40), 5, 1.0)
    reference = mtf_edge(edge)
    for scale in (1e300, 1e-300):
        result = mtf_edge(edge * scale)
        np.testing.assert_allclose(result.mtf, reference.mtf, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(result.esf, reference.esf * scale, rtol=1e-9)
    assert mtf_edge(edge * 5e-320).f50 == pytest.approx(reference.f50, rel=1e-3)  # denormal: ~14 bits left
    spot = gaussian_spot((40, 40), (20, 20), 1.5)
    reference = mtf_point(spot)
    result = mtf_point(spot * 1e300)
    assert result.f50 == pytest.approx(reference.f50, rel=1e-9)
    assert result.fwhm == pytest.approx(reference.fwhm, rel=1e-9)
    np.testing.assert_allclose(result.psf, reference.psf * 1e300, rtol=1e-9, atol=1e290)


def test_point_center_must_be_a_pair_and_sparse_boxes_have_no_bead():
    with pytest.raises(ValueError, match="center must be"):
        mtf_point(gaussian_spot((40, 40), (20, 20), 1.5), center={})
    sparse = np.zeros((17, 17))
    for (row, col), value in {(0, 0): 5, (0, 9): 3, (6, 7): 5, (7, 5): 4, (8, 6): 5, (10, 9): 4, (10, 11): 3,
                              (14, 9): 7, (14, 14): 6}.items():
        sparse[row, col] = value
    with pytest.raises(ValueError, match="no bead found"):
        mtf_point(sparse, box=8)


# ----------------------------------------------------------------------------- bead z-stacks

@pytest.mark.parametrize(("sigma", "pixel_size"), [((3.0, 1.5, 1.5), (0.3, 0.1, 0.1)),
                                                   ((2.0, 1.2, 1.2), (0.2, 0.065, 0.065)),
                                                   ((4.0, 2.0, 2.0), (0.25, 0.1, 0.1))])
def test_a_bead_stack_reads_its_lateral_and_axial_fwhm(sigma, pixel_size):
    stack = bead_stack((41, 64, 64), (20.3, 31.6, 32.2), sigma, amplitude=1000, background=100, noise=5, seed=0)
    result = mtf_point(stack, pixel_size=pixel_size)
    fwhm = [2 * np.sqrt(2 * np.log(2)) * s * p for s, p in zip(sigma, pixel_size)]
    assert isinstance(result, BeadStackResult) and result.status == "resolved" and result.warnings == ()
    assert result.lateral_fwhm == pytest.approx(fwhm[1], rel=0.01)
    assert result.axial_fwhm == pytest.approx(fwhm[0], rel=0.01)
    assert result.center == pytest.approx((20.3, 31.6, 32.2), abs=0.05)
    assert result.pixel_size == pixel_size and result.anisotropy == pytest.approx(fwhm[0] / fwhm[1], rel=0.02)
    assert "lateral FWHM" in result.summary("µm") and "axial FWHM" in result.summary("µm")
    # the axial MTF of a Gaussian profile: exp(-2 pi^2 sigma_z^2 f^2) (cycles per plane), at MTF ~ 0.5
    f50 = np.sqrt(np.log(2) / (2 * np.pi**2)) / sigma[0]
    assert np.interp(f50, result.axial_frequency, result.axial_mtf) == pytest.approx(0.5, abs=0.05)


def test_a_bead_cut_by_the_end_of_the_stack_has_no_axial_fwhm():
    stack = bead_stack((15, 48, 48), (2.0, 24.0, 24.0), (4.0, 1.5, 1.5), amplitude=1000, background=100, noise=5,
                       seed=1)
    with pytest.warns(RuntimeWarning, match="no Gaussian fits the axial profile"):
        result = mtf_point(stack, pixel_size=(0.3, 0.1, 0.1))
    assert result.axial_fwhm is None and result.lateral_fwhm == pytest.approx(2.3548 * 0.15, rel=0.02)
    assert "axial FWHM n/a" in result.summary("µm")


@pytest.mark.parametrize(("stack", "kwargs", "message"), [
    (np.zeros((5, 48, 48)), {}, "at least 7 planes"),
    ("bead", {"center": (3.0, 4.0)}, r"center must be \(z, row, col\)"),
    ("bead", {"center": (99.0, 4.0, 4.0)}, "outside the stack"),
    ("bead", {"pixel_size": (0.3, 0.1)}, "pixel_size"),
    ("bead", {"pixel_size": (0.3, 0.1, 0.12)}, "square pixels"),
])
def test_bad_bead_stacks_are_named(stack, kwargs, message):
    if isinstance(stack, str):
        stack = bead_stack((21, 48, 48), (10.0, 24.0, 24.0), (3.0, 1.5, 1.5), amplitude=100, noise=1, seed=0)
    with pytest.raises(ValueError, match=message):
        mtf_point(stack, **kwargs)
