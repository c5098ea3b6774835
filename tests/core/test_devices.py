"""Every estimator with a ``device``: the GPU (cupy) path gives the CPU's numbers; without cupy it says so.

The MTF and the masks compute on the CPU (small ROIs, host morphology): they take cupy inputs as they are.

The GPU tests run where cupy and a CUDA GPU are present (``pip install
'napari-resolution[gpu]'``) and are skipped elsewhere; the same inputs go
through ``device="gpu"`` with numpy inputs and through cupy inputs.
"""

import warnings

import numpy as np
import pytest

from napari_resolution import (
    blink_psf,
    decorrelation,
    fourier_correlation,
    local_fsc,
    local_resolution,
    make_mask,
    mtf_edge,
    phantom_pair,
    phase_randomized_fsc,
    tomography_frc,
)
from napari_resolution.core.backend import gpu_available
from napari_resolution.core.masks import spherical_mask
from napari_resolution.core.simulate import (
    band_limited_noise,
    blinking_movie,
    slanted_edge,
    tomography_sinogram,
    two_region_pair,
)

needs_gpu = pytest.mark.skipif(not gpu_available(), reason="needs cupy and a CUDA GPU")


def _pair_3d():
    pair = phantom_pair((40, 40, 40), sigma=1.5, noise=0.5, seed=3, dtype=np.float32)
    return pair.half1, pair.half2, spherical_mask((40, 40, 40), radius=15, soft_edge=4).astype(np.float32)


def _cases():
    """name -> (call(device, as_array), the numbers that must agree, relative tolerance)."""
    h1, h2, mask = _pair_3d()
    image = (band_limited_noise((96, 96), 0.2, seed=2) + 0.05 * np.random.default_rng(0).standard_normal((96, 96)))
    r1, r2, _ = two_region_pair((48, 48, 48), noise=0.3, seed=0)
    movie = blinking_movie((400, 32, 32), sigma=1.5, n_emitters=300, seed=0).movie
    sinogram = tomography_sinogram(48, phantom="random", dose=300, seed=1)
    return {
        "fourier_correlation": (lambda device, a: fourier_correlation(a(h1), a(h2), device=device),
                                lambda r: r.correlation, 1e-4),
        "phase_randomized_fsc": (lambda device, a: phase_randomized_fsc(a(h1), a(h2), a(mask), seed=4, device=device),
                                 lambda r: r.corrected, 1e-3),
        "decorrelation": (lambda device, a: decorrelation(a(image), device=device), lambda r: r.curves, 1e-4),
        "local_fsc": (lambda device, a: local_fsc(a(r1), a(r2), box=16, step=8, device=device),
                      lambda r: r.values, 1e-3),
        "local_resolution": (lambda device, a: local_resolution(a(r1), noise=0.3, device=device),
                             lambda r: r.map, 1e-3),
        "blink_psf": (lambda device, a: blink_psf(a(movie), device=device),
                      lambda r: [r.sigma_x, r.sigma_y], 1e-3),
        "tomography_frc": (lambda device, a: tomography_frc(a(sinogram.sinogram), sinogram.theta, device=device),
                           lambda r: r.correlation.correlation, 1e-3),
    }


ESTIMATORS = list(_cases())


def _quietly(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the CPU and GPU runs warn alike; the numbers are compared
        return call()


@pytest.mark.skipif(gpu_available(), reason="a GPU is present")
@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_gpu_without_cupy_is_a_value_error_naming_cupy(estimator):
    call, _, _ = _cases()[estimator]
    with pytest.raises(ValueError, match="cupy"):
        call("gpu", np.asarray)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_cpu_device_is_the_default(estimator):
    call, numbers, _ = _cases()[estimator]
    default, cpu = (_quietly(lambda device=device: call(device, np.asarray)) for device in (None, "cpu"))
    np.testing.assert_array_equal(np.asarray(numbers(cpu), float), np.asarray(numbers(default), float))


@needs_gpu
@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("inputs", ["numpy inputs, device='gpu'", "cupy inputs"])
def test_gpu_gives_the_cpu_numbers(estimator, inputs):
    import cupy

    call, numbers, tolerance = _cases()[estimator]
    cpu = _quietly(lambda: call(None, np.asarray))
    if inputs == "cupy inputs":
        gpu = _quietly(lambda: call(None, cupy.asarray))
    else:
        gpu = _quietly(lambda: call("gpu", np.asarray))
    expected, found = _on_host(numbers(cpu)), _on_host(numbers(gpu))
    np.testing.assert_allclose(found, expected, rtol=tolerance, atol=tolerance * np.nanmax(np.abs(expected)),
                               equal_nan=True)


@needs_gpu
def test_cpu_only_estimators_take_cupy_inputs():
    import cupy

    h1, _, _ = _pair_3d()
    edge = slanted_edge((96, 96), angle=5.0, sigma=1.2, seed=0)
    np.testing.assert_array_equal(make_mask(cupy.asarray(h1)), make_mask(h1))
    assert mtf_edge(cupy.asarray(edge)).f50 == pytest.approx(mtf_edge(edge).f50)

def _on_host(numbers) -> np.ndarray:
    """A result's numbers (an array on either device, or a list of scalars) as a float64 numpy array."""
    import cupy

    if isinstance(numbers, list):
        return np.array([float(value) for value in numbers])
    return cupy.asnumpy(cupy.asarray(numbers)).astype(float)
