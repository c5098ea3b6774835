"""Directional (conical) FSC: known answers on anisotropic phantoms, invariants, masks, anisotropic voxels, errors."""

import json
import math

import numpy as np
import pytest

from napari_resolution import fsc
from napari_resolution.core import directional
from napari_resolution.core.directional import directional_fsc, hemisphere_directions, sphericity
from napari_resolution.core.masks import spherical_mask
from napari_resolution.core.simulate import anisotropic_pair

#: Small test maps leave a few cones without enough voxels to decide: their warning is expected there.
FEW_VOXELS = pytest.mark.filterwarnings("ignore:.*directions never rise above:RuntimeWarning")

AXES = {"z": (1.0, 0.0, 0.0), "y": (0.0, 1.0, 0.0), "x": (0.0, 0.0, 1.0)}


def _nearest(result, axis) -> int:
    return int(np.argmax(np.abs(result.directions @ np.asarray(axis))))


@pytest.fixture(scope="module")
def anisotropic():
    """192³ half-maps blurred 3 px along z and 1.5 px in-plane: the axes' resolutions are known."""
    pair = anisotropic_pair((192, 192, 192), sigma=(3.0, 1.5, 1.5), noise=0.5, seed=0)
    return pair, directional_fsc(pair.half1, pair.half2)


@pytest.fixture(scope="module")
def isotropic():
    pair = anisotropic_pair((192, 192, 192), sigma=(2.0, 2.0, 2.0), noise=0.5, seed=1)
    return pair, directional_fsc(pair.half1, pair.half2)


@pytest.mark.slow
@pytest.mark.parametrize("axis", list(AXES))
def test_axes_read_the_analytic_resolution(anisotropic, axis):
    """Along each axis within 6 % of sigma_eff's answer (and of the cone-averaged expectation)."""
    pair, result = anisotropic
    index = _nearest(result, AXES[axis])
    assert result.statuses[index] == "resolved"
    assert result.resolutions[index] == pytest.approx(pair.resolution(AXES[axis]), rel=0.06)
    assert result.resolutions[index] == pytest.approx(
        pair.resolution(result.directions[index], cone_angle=result.cone_angle), rel=0.06)


@pytest.mark.slow
def test_lateral_and_axial_cones(anisotropic):
    pair, result = anisotropic
    assert result.axial == pytest.approx(pair.resolution(AXES["z"], cone_angle=20), rel=0.06)
    assert result.lateral < result.axial / 1.6  # 1.5 px in-plane against 3 px along z
    assert result.sphericity < 0.93
    assert "lateral" in result.summary("Å") and "axial" in result.summary("Å")


@pytest.mark.slow
def test_isotropic_pair_is_round(isotropic):
    """Every direction within 12 % of the truth, sphericity >= 0.95, the median within 4 % of the global FSC."""
    pair, result = isotropic
    truth = pair.resolution(AXES["x"])
    assert set(result.statuses) == {"resolved"}
    assert np.abs(result.resolutions / truth - 1).max() < 0.12
    assert result.sphericity >= 0.95
    overall = fsc(pair.half1, pair.half2, threshold="0.143")
    assert result.resolution == pytest.approx(overall.resolution, rel=0.04)


def test_the_all_cone_is_the_global_fsc():
    pair = anisotropic_pair((48, 48, 48), sigma=(2.0, 1.0, 1.0), noise=0.4, seed=2)
    result = directional_fsc(pair.half1, pair.half2)
    overall = fsc(pair.half1, pair.half2, threshold="0.143")
    shells = overall.frequency.size
    np.testing.assert_allclose(result.cones["all"]["correlation"][1:shells], overall.correlation[1:], atol=1e-5)
    np.testing.assert_allclose(result.cones["all"]["n_points"][1:shells], overall.n_points[1:])


@FEW_VOXELS
def test_one_cone_matches_a_direct_computation():
    """The binned cones agree with an explicit cone mask over the voxels (pooled over three shells)."""
    pair = anisotropic_pair((48, 48, 48), sigma=(2.0, 1.0, 1.0), noise=0.4, seed=3)
    axis = np.array([0.6, 0.0, 0.8])
    result = directional_fsc(pair.half1, pair.half2, directions=axis[None], cone_angle=25)
    spectra = [np.fft.fftn(h - h.mean()) for h in (pair.half1, pair.half2)]
    k = np.stack(np.meshgrid(*[np.fft.fftfreq(48)] * 3, indexing="ij"))
    radius = np.sqrt((k**2).sum(0))
    with np.errstate(invalid="ignore", divide="ignore"):
        inside = np.abs(np.tensordot(axis, k, axes=1)) / radius >= math.cos(math.radians(25))
    shell = np.floor(radius * 48 + 0.5).astype(int)
    cross, p1, p2 = ((a * np.conj(b)).real for a, b in ((spectra[0], spectra[1]), (spectra[0], spectra[0]),
                                                        (spectra[1], spectra[1])))
    sums = [np.bincount(shell[inside], weights=term[inside], minlength=25)[:25] for term in (cross, p1, p2)]
    pooled = [np.convolve(s, np.ones(3), mode="same") for s in sums]
    direct = pooled[0] / np.sqrt(pooled[1] * pooled[2])
    np.testing.assert_allclose(result.correlation[0, 3:20], direct[3:20], atol=0.03)


@FEW_VOXELS
def test_invariants():
    pair = anisotropic_pair((40, 40, 40), sigma=(1.5, 1.5, 1.5), noise=0.5, seed=4)
    forward = directional_fsc(pair.half1, pair.half2, directions=60)
    backward = directional_fsc(pair.half2, pair.half1, directions=60)
    np.testing.assert_allclose(forward.correlation, backward.correlation, equal_nan=True)
    assert np.nanmax(np.abs(forward.correlation)) <= 1
    with pytest.warns(RuntimeWarning, match="Nyquist"):
        same = directional_fsc(pair.half1, pair.half1, directions=60)
    assert set(same.statuses) == {"bound"} and same.status == "bound"
    assert "≤" in same.summary()


@FEW_VOXELS
def test_opposite_directions_are_the_same_cone():
    pair = anisotropic_pair((32, 32, 32), sigma=(1.0, 1.0, 1.0), noise=0.5, seed=5)
    vectors = np.array([[0.3, 0.4, 0.5], [-0.3, -0.4, -0.5]])
    result = directional_fsc(pair.half1, pair.half2, directions=vectors)
    np.testing.assert_allclose(result.directions[0], result.directions[1])
    np.testing.assert_allclose(result.correlation[0], result.correlation[1], equal_nan=True)


def test_anisotropic_voxels_reach_each_directions_nyquist():
    """(0.3, 0.1, 0.1) µm voxels of sharp data: lateral bound 0.2 µm, axial 0.6 µm."""
    sizes = (0.3, 0.1, 0.1)
    pair = anisotropic_pair((32, 64, 64), sigma=(0.05, 0.02, 0.02), noise=0.01, pixel_size=sizes, seed=6)
    with pytest.warns(RuntimeWarning, match="bounds"):
        result = directional_fsc(pair.half1, pair.half2, pixel_size=sizes)
    x, z = _nearest(result, AXES["x"]), _nearest(result, AXES["z"])
    assert result.statuses[x] == result.statuses[z] == "bound"
    assert result.resolutions[x] == pytest.approx(0.2, rel=0.01)
    assert result.resolutions[z] == pytest.approx(0.6, rel=0.01)
    assert result.lateral == pytest.approx(0.2) and result.axial == pytest.approx(0.6)
    assert result.frequency.max() > 1.4  # cycles per reference (0.3 µm) pixel: lateral shells past 0.5


def test_mask_with_phase_randomisation_is_corrected_per_direction():
    pair = anisotropic_pair((96, 96, 96), sigma=(1.5, 1.5, 1.5), noise=0.3, seed=0)
    mask = spherical_mask((96, 96, 96), radius=30)
    corrected = directional_fsc(pair.half1, pair.half2, mask=mask, randomize_at=0.8, seed=0)
    details = corrected.parameters["randomization"]
    assert details["shell"] > 5 and corrected.parameters["masked"]
    assert corrected.resolution == pytest.approx(pair.resolution(AXES["x"]), rel=0.06)
    with pytest.raises(ValueError, match="randomize_at needs a mask"):
        directional_fsc(pair.half1, pair.half2, randomize_at=0.8)


@FEW_VOXELS
def test_outputs_for_layers_tables_and_json():
    pair = anisotropic_pair((32, 32, 32), sigma=(2.0, 1.0, 1.0), noise=0.3, seed=7)
    result = directional_fsc(pair.half1, pair.half2, directions=80, pixel_size=1.5)
    volume = result.fsc_volume()
    assert volume.shape == (32, 32, 32) and volume.dtype == np.float32
    assert np.nanmax(volume) <= 1 and np.isnan(volume[16, 16, 16])  # DC in the middle, no value
    vertices, faces, values = result.surface()
    assert vertices.shape == (160, 3) and faces.shape[1] == 3 and values.shape == (160,)
    np.testing.assert_allclose(np.linalg.norm(vertices[:80], axis=1), np.nan_to_num(1 / result.resolutions))
    assert len(result.columns()["resolution"]) == 80
    json.dumps(result.to_dict())
    curves, histogram = result.plots("Å", direction=3)
    assert any(curve.label.startswith("FSC (") for curve in curves.curves)
    assert histogram.curves[0].y.sum() == np.isfinite(result.resolutions).sum()
    assert result.headline() == ("median directional resolution", result.resolution)


def test_sphericity_of_shapes():
    directions = hemisphere_directions(400)
    assert sphericity(directions, np.ones(400)) > 0.99
    stretched = 1 / np.sqrt((directions**2 * np.array([4.0, 1.0, 1.0])).sum(1))  # an ellipsoid 2:1
    assert 0.85 < sphericity(directions, stretched) < 0.95


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"cone_angle": 0.5}, "cone_angle"),
    ({"cone_angle": True}, "cone_angle"),
    ({"directions": np.zeros((2, 3))}, "zero vector"),
    ({"directions": np.ones((4, 2))}, "directions"),
    ({"directions": 3}, "count"),
    ({"threshold": "two-bit"}, "threshold"),
    ({"pixel_size": (1, 1)}, "pixel_size"),
    ({"ring_thickness": 9}, "ring_thickness"),
])
def test_bad_arguments_name_themselves(kwargs, match):
    pair = anisotropic_pair((32, 32, 32), sigma=(1.0, 1.0, 1.0), noise=0.5, seed=8)
    with pytest.raises(ValueError, match=match):
        directional_fsc(pair.half1, pair.half2, **kwargs)


def test_two_dimensional_input_is_refused():
    image = np.random.default_rng(0).standard_normal((32, 32))
    with pytest.raises(ValueError, match="half1"):
        directional_fsc(image, image)


@FEW_VOXELS
def test_index_cache_holds_one_shape():
    pair = anisotropic_pair((24, 24, 24), sigma=(1.0, 1.0, 1.0), noise=0.5, seed=9)
    directional_fsc(pair.half1, pair.half2, directions=20)
    directional_fsc(pair.half1[:, :, :20], pair.half2[:, :, :20], directions=20)
    assert len(directional._INDEX_CACHE) == 1


@pytest.mark.parametrize(("shape", "sizes"), [((24, 30, 31), (1.0, 1.0, 1.0)), ((16, 40, 40), (0.3, 0.1, 0.12))])
def test_compiled_index_matches_the_array_code(monkeypatch, shape, sizes):
    """The numba kernel bins every voxel as the reference array code (the GPU's path) does."""
    compiled, _ = directional._new_bin_index(shape, sizes, 1, np)
    monkeypatch.setenv("NAPARI_RESOLUTION_NO_JIT", "1")
    reference, _ = directional._new_bin_index(shape, sizes, 1, np)
    np.testing.assert_array_equal(compiled, reference)
