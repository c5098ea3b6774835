"""The shared plumbing of every estimator: progress parts, warnings at the user's line, the choice checks."""

import warnings

import numpy as np
import pytest

from napari_resolution import STATUSES, blink_psf, decorrelation, fourier_correlation, local_resolution, tomography_frc
from napari_resolution.core.progress import Progress, progress_of
from napari_resolution.core.results import issue_warnings
from napari_resolution.core.simulate import band_limited_noise, blinking_movie, tomography_sinogram
from napari_resolution.core.validation import check_choice, check_same_shape


def test_parts_compose_into_the_callers_range():
    seen = []
    report = progress_of(seen.append)
    second = report.part(0.5, 1.0)
    second(0.5)
    second.part(0.0, 0.5)(1.0)
    second.parts(4)[3](0.0)
    second.counter(10)(5)
    report(2.0)  # clipped
    assert seen == pytest.approx([0.75, 0.75, 0.875, 0.75, 1.0])


def test_no_callback_reports_nothing_and_progress_is_checked():
    silent = progress_of(None)
    assert not silent.reports and not silent.part(0.2, 0.4).reports
    silent(0.5)  # no-op
    assert progress_of(silent) is silent
    with pytest.raises(ValueError, match="progress must be a callable"):
        progress_of(3)


def test_a_raising_callback_cancels_through_every_part():
    def cancel(fraction):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Progress(cancel).parts(3)[1].part(0.5, 1)(0.5)


def _monotonic_to_one(seen):
    return seen and all(b >= a for a, b in zip(seen, seen[1:])) and seen[-1] == pytest.approx(1.0) \
        and all(0 <= f <= 1 for f in seen)


@pytest.mark.parametrize("estimator", ["decorrelation_stack", "tomography", "blink_channels"])
def test_estimators_report_one_rising_progress(estimator):
    seen = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if estimator == "decorrelation_stack":
            stack = np.stack([band_limited_noise((64, 64), 0.2, seed=s) for s in range(5)])
            decorrelation(stack, progress=seen.append)
        elif estimator == "tomography":
            simulated = tomography_sinogram(48, phantom="random", dose=300, seed=1)
            tomography_frc(simulated.sinogram, simulated.theta, progress=seen.append)
        else:
            movie = blinking_movie((300, 24, 24), sigma=1.5, n_emitters=100, seed=0).movie
            blink_psf([movie, movie], chunk_frames=50, progress=seen.append)
            assert min(seen) < 0.5 < max(seen) and any(f == pytest.approx(0.5) for f in seen)
    assert _monotonic_to_one(seen), seen


def test_warnings_point_at_the_users_line():
    image = np.random.default_rng(0).standard_normal((64, 64))
    with pytest.warns(RuntimeWarning) as caught:
        fourier_correlation(image, image)  # identical inputs: a warning
    assert {record.filename for record in caught} == {__file__}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        issue_warnings(("first", "second"), UserWarning)
    assert [str(w.message) for w in caught] == ["first", "second"]
    assert {w.filename for w in caught} == {__file__} and {w.category for w in caught} == {UserWarning}


def test_choice_and_shape_checks_name_the_arguments():
    assert check_choice("ramp", "filter", ("ramp", "hann")) == "ramp"
    with pytest.raises(ValueError, match=r"filter must be one of ramp, hann, got 'rampe'"):
        check_choice("rampe", "filter", ("ramp", "hann"))
    with pytest.raises(ValueError, match="filter must be one of"):
        check_choice(None, "filter", ("ramp",))
    assert check_same_shape(np.zeros((2, 3)), np.ones((2, 3)), ("half1", "half2")) == (2, 3)
    with pytest.raises(ValueError, match=r"half1 and half2 must have the same shape, got \(2, 3\) and \(3, 2\)"):
        check_same_shape(np.zeros((2, 3)), np.zeros((3, 2)), ("half1", "half2"))


def _estimator_calls(image):
    """Each estimator called on ``image`` (2-D) or a stack of it, with the argument that must be named."""
    from napari_resolution import local_fsc, make_mask, mtf_edge, phase_randomized_fsc

    cube = np.repeat(image[None, :32, :32], 32, axis=0)
    ones = np.ones((32, 32, 32))
    return {
        "fourier_correlation": (lambda: fourier_correlation(image, image.astype(float)), "half1"),
        "phase_randomized_fsc": (lambda: phase_randomized_fsc(cube, ones, ones), "half1"),
        "decorrelation": (lambda: decorrelation(image), "image"),
        "mtf_edge": (lambda: mtf_edge(image), "image"),
        "local_fsc": (lambda: local_fsc(cube, ones, box=16), "half1"),
        "local_resolution": (lambda: local_resolution(cube, noise=1.0), "half1"),
        "make_mask": (lambda: make_mask(cube), "volume"),
        "blink_psf": (lambda: blink_psf(cube), "movie"),
        "tomography_frc": (lambda: tomography_frc(image, np.linspace(0, 180, 64, endpoint=False)), "sinogram"),
    }


@pytest.mark.parametrize("estimator", list(_estimator_calls(np.zeros((2, 2)))))
def test_boolean_images_are_refused_naming_the_argument(estimator):
    image = np.random.default_rng(0).random((64, 64)) > 0.5
    call, argument = _estimator_calls(image)[estimator]
    with pytest.raises(ValueError, match=rf"^{argument}\b.*boolean .*mask, not an image"):
        call()


def test_old_pair_keywords_still_work_with_a_deprecation_warning():
    from napari_resolution import frc, phase_randomized_fsc

    rng = np.random.default_rng(3)
    first, second = (band_limited_noise((64, 64), 0.2, seed=0) + 0.3 * rng.standard_normal((64, 64))
                     for _ in range(2))
    expected = fourier_correlation(first, second)
    with pytest.warns(DeprecationWarning) as caught:
        old = fourier_correlation(a=first, b=second)
    assert [str(w.message) for w in caught] == ["fourier_correlation(a=...) is deprecated: call it half1=",
                                                "fourier_correlation(b=...) is deprecated: call it half2="]
    assert np.array_equal(old.correlation, expected.correlation)
    with pytest.warns(DeprecationWarning, match=r"frc\(b=\.\.\.\)"):
        assert np.array_equal(frc(first, b=second).correlation, expected.correlation)
    with pytest.raises(TypeError, match="got both a= .* and half1="):
        fourier_correlation(a=first, half1=first, half2=second)
    cube = rng.standard_normal((16, 16, 16))
    mask = np.ones_like(cube)
    with pytest.warns(DeprecationWarning, match=r"phase_randomized_fsc\(h1=\.\.\.\)"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a mask of ones is no solvent mask: not the point here
        phase_randomized_fsc(h1=cube, half2=cube + rng.standard_normal(cube.shape), mask=mask, seed=0)
    with pytest.warns(DeprecationWarning, match=r"local_resolution\(volume=\.\.\.\) is deprecated: call it half1="), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a noise cube padded with zeros: its doubts are not the point
        assert local_resolution(volume=np.pad(cube, 8), noise=1.0).status in STATUSES
