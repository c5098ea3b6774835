"""Property-based tests of the estimators test_core_fuzz.py leaves out (issue #24, item 8).

``blink_psf``, ``local_resolution``, ``tomography_frc``, ``split_dataset``, ``filtered_back_projection``,
``parse_angles`` (the CLI's ``--angles-file``), the local FSC computed block by block (dask inputs, ``out=``)
and the simulators of their data: whatever the input, a result that keeps its contract or a ``ValueError``
naming an argument; never another exception, a leaked warning, a hang, or a changed input. The property and
the strategies are test_core_fuzz.py's.
"""

from __future__ import annotations

import warnings

import dask.array as da
import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st
from test_core_fuzz import (
    ANY_REAL,
    JUNK,
    NOT_ARRAYS,
    PATHS,
    arrays,
    budget,
    build,
    compute_path,
    device_values,
    integers,
    keywords,
    masks_for,
    mostly,
    outcome,
    pixel_sizes,
    progress_values,
    reals,
    specs,
    texts,
    threshold_values,
)

from napari_resolution.core import local, simulate, single_map, tomography
from napari_resolution.core.blink import blink_psf
from napari_resolution.core.results import STATUSES


def unchanged(*inputs):
    """Copies of the numeric array inputs, and a check that they still hold the same values."""
    saved = [(value, np.array(value, copy=True)) for value in inputs
             if isinstance(value, np.ndarray) and value.dtype.kind in "biufc"]

    def check() -> None:
        for value, copy in saved:
            assert np.array_equal(value, copy, equal_nan=value.dtype.kind in "fc"), "an input was modified"

    return check


# ----------------------------------------------------------------------------- blink PSF
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the simulators are not what is tested here
    _MOVIES = {"uint16": simulate.blinking_movie((400, 20, 24), n_emitters=60, on_probability=0.02, photons=3000,
                                                 seed=1).movie,
               "float32 anisotropic": simulate.blinking_movie((300, 24, 20), sigma=(2.0, 1.2), theta=30.0,
                                                              n_emitters=80, on_probability=0.02, photons=3000,
                                                              dtype=np.float32, seed=2).movie}
BACKGROUNDS = ("auto", "mean", "median-clip", ("moving", 3), ("moving", 50), ["moving", 5])


def _check_blink(result) -> None:
    for channel in getattr(result, "channels", (result,)):
        assert channel.status in ("resolved", "unresolved")
        assert (channel.sigma is None) == (channel.status == "unresolved")
        assert channel.psf.shape == channel.autocorrelation.shape and np.isfinite(channel.autocorrelation).all()
        assert channel.sigma is None or (channel.sigma_y <= channel.sigma_x and 0 <= channel.theta < 180)


@budget(0.15)
@given(movie=arrays(min_axes=2, max_axes=4, sizes=(1, 8, 9, 15, 16, 17, 20), likely_axes=(3,),
                    max_elements=20 * 16 * 16),
       channels=st.integers(0, 5))
def test_blink_psf_any_movie(movie, channels):
    """Any array, or (once in six) a list of two of them, with the default options."""
    if channels == 0 and isinstance(movie, np.ndarray):
        movie = [movie, movie[::-1]]
    check = unchanged(*(movie if isinstance(movie, list) else [movie]))
    outcome(blink_psf, movie, names={"movie"}, check=_check_blink)
    check()


@budget(0.25)
@given(name=st.sampled_from(sorted(_MOVIES)), data=st.data())
def test_blink_psf_any_parameters(name, data):
    """A simulated movie with any options: crops, backgrounds, lags, chunks, pixel sizes, devices."""
    movie = _MOVIES[name]
    kwargs = data.draw(keywords(
        pixel_size=pixel_sizes(2), crop=integers(None, 5, 9, 15, low=-3, high=40),
        background=mostly(st.sampled_from(BACKGROUNDS), st.one_of(st.tuples(st.sampled_from(("moving", "mean")),
                                                                            integers(3, low=-2, high=10**9)),
                                                                  texts("mean"), st.sampled_from(JUNK))),
        exclude_center=texts("auto", "pixel", "row", "column", "cross"), lags=integers(4, 20, low=-2, high=10**9),
        exposure_ms=reals(None, 10.0), chunk_frames=integers(None, 1, 7, 100, low=-1, high=10**9),
        device=device_values(), progress=progress_values()))
    outcome(blink_psf, movie, names={"movie", *kwargs}, check=_check_blink, **kwargs)


# ----------------------------------------------------------------------------- single-map local resolution
NOISES = (0.5, 1.0, "auto", "corners", "outside-mask", "difference")


def _check_single_map(result) -> None:
    assert result.map.shape == tuple(result.parameters["shape"])
    finite = result.map[np.isfinite(result.map)]
    assert np.all(finite > 0) and set(result.statuses) <= set(STATUSES)


@budget(0.2)
@given(half1=arrays(min_axes=1, max_axes=4, sizes=(1, 7, 8, 24, 25, 32, 48), max_elements=24 * 24 * 24,
                   likely_size=24),
       path=PATHS)
def test_local_resolution_any_map(half1, path):
    """Any array, tested against white noise of a known level."""
    check = unchanged(half1)
    with compute_path(path):
        outcome(single_map.local_resolution, half1, noise=0.5, names={"half1"}, check=_check_single_map)
    check()


with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    _REGIONS = simulate.two_region_pair((48, 40), (1.0, 3.0), 0.3, seed=5)[:2]
    _REGIONS_3D = simulate.two_region_pair((24, 24, 28), (1.0, 3.0), 0.3, seed=6)[:2]


@budget(0.2)
@given(three_d=st.booleans(), data=st.data(), path=PATHS)
def test_local_resolution_any_parameters(three_d, data, path):
    """A sharp and blurred pair with any noise source, mask, second half, bands, window, significance, threshold,
    p-values."""
    half1, half2 = _REGIONS_3D if three_d else _REGIONS
    kwargs = data.draw(keywords(
        pixel_size=pixel_sizes(half1.ndim), noise=mostly(st.sampled_from(NOISES), st.one_of(texts(), ANY_REAL)),
        significance=reals(0.05, 0.01, 0.5), window=reals(None, 0.0, 0.3, 1.0),
        threshold=mostly(st.sampled_from(("0.143", "0.5", None, 0.3)), st.one_of(texts("half-bit"), ANY_REAL)),
        p_values=mostly(st.booleans(), st.sampled_from(JUNK)),
        resolutions=mostly(st.sampled_from((None, [4.0, 8.0], (2.0, 3.0, 6.0), np.array([16.0, 2.5]))),
                           st.one_of(st.lists(ANY_REAL, max_size=4), st.sampled_from(JUNK))),
        half2=mostly(st.sampled_from((None, half2, half2)), st.sampled_from((half1, half2[..., :-1], *NOT_ARRAYS))),
        device=device_values(), progress=progress_values()))
    if data.draw(st.booleans()):
        kwargs["mask"] = data.draw(masks_for(half1.shape))
    check = unchanged(half1, half2, kwargs.get("mask"))
    with compute_path(path):
        outcome(single_map.local_resolution, half1, names={"half1", *kwargs}, check=_check_single_map, **kwargs)
    check()


# ----------------------------------------------------------------------------- tomography
@st.composite
def angles_for(draw, count):
    """Angles for ``count`` projections: mostly uniform over 180° (sometimes another range, order, spacing), else
    radians, repeated or equal angles, the wrong count, NaN, junk."""
    kind = draw(st.sampled_from(("uniform", "uniform", "uniform", "shuffled", "wedge", "radians", "repeated",
                                 "equal", "count", "nan", "junk")))
    uniform = np.linspace(0.0, 180.0, count, endpoint=False)
    if kind == "shuffled":
        return np.random.default_rng(draw(st.integers(0, 99))).permutation(uniform).tolist()
    if kind == "wedge":
        return np.linspace(-60.0, 60.0, count)
    if kind == "radians":
        return np.deg2rad(uniform)
    if kind == "repeated":
        return np.concatenate([uniform[:-1], uniform[:1]])
    if kind == "equal":
        return np.full(count, 12.5)
    if kind == "count":
        return np.linspace(0.0, 180.0, max(0, count + draw(st.sampled_from((-1, 1, -count)))), endpoint=False)
    if kind == "nan":
        return np.where(np.arange(count) == count // 2, np.nan, uniform)
    if kind == "junk":
        return draw(st.sampled_from(JUNK))
    return uniform


with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    _SINOGRAM = simulate.tomography_sinogram(24, phantom="random", dose=1e4, seed=3)
    _STACK = simulate.tomography_sinogram(16, np.linspace(0.0, 180.0, 26, endpoint=False), phantom="random", rows=9,
                                          dose=1e4, seed=4)
TOMOGRAPHY_DATA = {"sinogram": (_SINOGRAM.sinogram, 1), "stack": (_STACK.sinogram, 0),
                   "stack, angles last": (np.moveaxis(_STACK.sinogram, 0, -1), 2)}


def _check_tomography(result) -> None:
    assert result.status in STATUSES and result.reconstructions[0].shape == result.reconstructions[1].shape
    assert all(np.isfinite(r).all() for r in result.reconstructions)


@budget(0.3)
@given(sinogram=arrays(min_axes=1, max_axes=4, sizes=(1, 7, 8, 9, 12, 16, 17, 24), max_elements=24 * 24 * 8),
       data=st.data())
def test_tomography_any_sinogram(sinogram, data):
    """Any array with angles for its (presumed) angle axis: split, reconstruct, correlate."""
    shape = getattr(sinogram, "shape", ())
    axis = 1 if len(shape) == 2 else 0
    theta = data.draw(angles_for(shape[axis] if len(shape) > axis else 8))
    check = unchanged(sinogram, theta)
    outcome(tomography.split_dataset, sinogram, theta, names={"sinogram", "theta"})
    outcome(tomography.tomography_frc, sinogram, theta, names={"sinogram", "theta"}, check=_check_tomography)
    check()


@budget(0.2)
@given(name=st.sampled_from(sorted(TOMOGRAPHY_DATA)), data=st.data())
def test_tomography_any_parameters(name, data):
    sinogram, axis = TOMOGRAPHY_DATA[name]
    theta = data.draw(angles_for(sinogram.shape[axis]))
    kwargs = data.draw(keywords(
        angle_axis=integers(axis, axis - sinogram.ndim, None, low=-4, high=4), pixel_size=pixel_sizes(sinogram.ndim),
        filter=texts(*tomography.FILTERS), threshold=threshold_values(), center=reals(None, 8.0, 11.5, 0.0, 23.0),
        circle=st.sampled_from((True, False, True, np.True_, 0, "yes", None)),
        backend=texts(*tomography.BACKENDS), device=device_values(), progress=progress_values(),
        ring_thickness=integers(1, 2), crossing_rule=texts("first-below", "last-above"),
        apodization=integers(None, 0, 2, low=-1, high=30)))
    check = unchanged(sinogram, theta)
    outcome(tomography.tomography_frc, sinogram, theta, names={"sinogram", "theta", *kwargs},
            check=_check_tomography, **kwargs)
    split = {key: kwargs[key] for key in ("angle_axis",) if key in kwargs}
    outcome(tomography.split_dataset, sinogram, theta, names={"sinogram", "theta", *split}, **split)
    check()


@budget(0.15)
@given(stack=arrays(min_axes=2, max_axes=4, sizes=(1, 2, 8, 9, 16, 24), likely_axes=(3,),
                    max_elements=24 * 24 * 8),
       data=st.data())
def test_filtered_back_projection_any_input(stack, data):
    count = stack.shape[1] if getattr(stack, "ndim", 0) == 3 else 8
    theta = data.draw(angles_for(count))
    kwargs = data.draw(keywords(filter=texts(*tomography.FILTERS), center=reals(None, 4.0, 7.5, -1.0, 1e9),
                                circle=st.sampled_from((True, False)), backend=texts(*tomography.BACKENDS),
                                device=device_values()))

    def check(made):
        volume, path = made
        assert volume.ndim == 3 and volume.shape[0] == stack.shape[0] and np.isfinite(volume).all()
        assert path in ("numba", "numpy", "skimage")

    still = unchanged(stack, theta)
    outcome(tomography.filtered_back_projection, stack, theta, names={"stack", "theta", *kwargs}, check=check,
            **kwargs)
    still()


NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-400, 400).map(str),
                    st.sampled_from(("1e400", "-0", "0x10", "1_000", "nan", "inf", "½", "٣", "1,5", "--1", "+7")))
SEPARATORS = st.sampled_from((" ", ",", ";", "\n", "\t", ", ", "\r\n", " # ", "\n# note\n", "\x00", "|"))


@st.composite
def angle_texts(draw):
    """The text of an angles file: numbers and separators, sometimes comments, blank lines, or any text."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.text(max_size=60))
    parts = draw(st.lists(st.tuples(NUMBERS, SEPARATORS), max_size=12))
    return "".join(number + separator for number, separator in parts)


@budget(0.4)
@given(text=angle_texts(), source=st.sampled_from(("angles", "--angles-file tilt.txt", "theta.rawtlt")))
@example(text="nan 10 20", source="angles")
@example(text="0 1e400", source="angles")
def test_parse_angles_any_text(text, source):
    """An angles file's text: finite angles in degrees, or a ValueError naming the file."""
    def check(angles):
        assert isinstance(angles, np.ndarray) and angles.ndim == 1 and angles.size >= 1
        assert angles.dtype == np.float64 and np.isfinite(angles).all()

    angles = outcome(tomography.parse_angles, text, source, names={source}, check=check)
    if angles is not None and angles.size >= tomography.MIN_ANGLES:
        outcome(tomography.split_dataset, np.ones((8, angles.size)), angles, names={"theta", "sinogram"})


# ----------------------------------------------------------------------------- local FSC block by block
def _check_streamed(result) -> None:
    assert result.parameters.get("streamed") and result.map.shape == tuple(result.parameters["shape"])
    finite = result.values[np.isfinite(result.values)]
    assert np.all(finite > 0) and set(result.statuses) <= set(STATUSES)


def _out(data, shape):
    """Where the map goes: mostly a float32 array of ``shape``; else float64, the wrong shape, read-only, junk."""
    kind = data.draw(st.sampled_from(("float32", "float32", "float32", "float64", "wrong shape", "read-only",
                                      "junk")))
    if kind == "junk":
        return data.draw(st.sampled_from([value for value in NOT_ARRAYS if value is not None]))
    out = np.full(shape if kind != "wrong shape" else (*shape, 2), np.nan, np.float64 if kind == "float64"
                  else np.float32)
    out.flags.writeable = kind != "read-only"
    return out


@budget(0.2)
@given(spec=specs(min_axes=1, max_axes=4, sizes=(1, 7, 8, 16, 17, 24), max_elements=24 * 24 * 12),
       chunks=st.sampled_from((4, 8, 9, 16, -1)), data=st.data())
def test_local_fsc_of_dask_inputs_into_out_any_arrays(spec, chunks, data):
    """Lazy halves of any array (any chunks) computed block by block into ``out``."""
    half1, half2 = build(spec), build(spec._replace(noise_seed=spec.noise_seed + 1))
    lazy1, lazy2 = (da.from_array(h, chunks=chunks) for h in (half1, half2))
    check = unchanged(half1, half2)
    outcome(local.local_fsc, lazy1, lazy2, box=8, out=_out(data, half1.shape), names={"half1", "half2", "out"},
            check=_check_streamed)
    check()


@budget(0.25)
@given(three_d=st.booleans(), chunks=st.sampled_from((8, 9, 16, -1)), data=st.data())
def test_local_fsc_of_dask_inputs_into_out_any_parameters(three_d, chunks, data):
    """A sharp and blurred pair, lazy, with any box, step, threshold, mask (lazy or not), pixel size, window."""
    half1, half2 = _REGIONS_3D if three_d else _REGIONS
    kwargs = data.draw(keywords(box=integers(8, 12, 16, low=-2, high=60), step=integers(2, 4, 8, low=-2, high=30),
                                threshold=threshold_values(), pixel_size=pixel_sizes(half1.ndim),
                                window=texts(*local.WINDOWS), device=device_values(), progress=progress_values()))
    kwargs.setdefault("box", 8)
    if data.draw(st.booleans()):
        mask = data.draw(masks_for(half1.shape))
        lazy_mask = isinstance(mask, np.ndarray) and data.draw(st.booleans())
        kwargs["mask"] = da.from_array(mask, chunks=chunks) if lazy_mask else mask
    lazy1, lazy2 = (da.from_array(h, chunks=chunks) for h in (half1, half2))
    check = unchanged(half1, half2)
    outcome(local.local_fsc, lazy1, lazy2, out=_out(data, half1.shape), names={"half1", "half2", "out", *kwargs},
            check=_check_streamed, **kwargs)
    check()


# ----------------------------------------------------------------------------- their simulators
@budget(0.2)
@given(data=st.data())
def test_blinking_movie_any_parameters(data):
    shape = data.draw(mostly(st.tuples(st.sampled_from((2, 16)), st.sampled_from((8, 12)), st.sampled_from((8, 13)))
                             .map(list), st.one_of(st.lists(integers(8, low=-1, high=20), max_size=4),
                                                   st.sampled_from(JUNK))))
    kwargs = data.draw(keywords(
        sigma=mostly(st.sampled_from((1.5, (2.0, 1.0), [1.0, 1.0])), st.one_of(ANY_REAL, st.lists(ANY_REAL,
                                                                                              max_size=3))),
        theta=reals(0.0, 45.0), psf=texts("gaussian", "airy"), pixel_size=pixel_sizes(2),
        n_emitters=integers(1, 20, low=-1, high=200), structure=texts("uniform", "filaments"),
        on_probability=reals(0.05, 1.0), on_time=reals(4.0, 1.0), photons=reals(100.0, 0.0),
        background=reals(10.0, 0.0), bleach_frames=reals(None, 50.0), camera=texts("scmos", "emccd"),
        gain=reals(1.0, 2.0), offset=reals(100.0), read_noise=reals(1.5, 0.0), margin=reals(None, -2.0, 0.0),
        background_pattern=reals(0.0, 0.5), row_noise=reals(0.0, 2.0), column_noise=reals(0.0, 2.0),
        dtype=st.sampled_from((np.uint16, np.float32, "uint16", "float32", np.float64, int, None, "x")),
        seed=integers(None, 0, low=-3, high=2**70)))

    def check(simulated):
        assert simulated.movie.shape == tuple(shape) and np.isfinite(simulated.movie).all()

    outcome(simulate.blinking_movie, shape, names={"shape", *kwargs}, check=check, **kwargs)


@budget(0.2)
@given(data=st.data())
def test_two_region_and_ramp_pairs_and_tomography_sinogram_any_parameters(data):
    shape = data.draw(mostly(st.lists(st.sampled_from((16, 17, 24)), min_size=2, max_size=3),
                             st.one_of(st.lists(integers(16, low=-1, high=20), max_size=4), st.sampled_from(JUNK))))
    kwargs = data.draw(keywords(
        sigmas=mostly(st.sampled_from(((1.5, 3.0), [1.0, 2.0])), st.one_of(st.lists(ANY_REAL, max_size=3),
                                                                          st.sampled_from(JUNK))),
        noise=reals(0.5, 0.1), seed=integers(None, 0, low=-3, high=2**70),
        dtype=st.sampled_from((np.float32, np.float64, int, None, "x"))))

    def check(made):
        half1, half2, sharpness = made
        assert half1.shape == half2.shape == tuple(shape) and sharpness.shape == (shape[-1],)
        assert np.isfinite(half1).all() and np.isfinite(half2).all()

    outcome(simulate.two_region_pair, shape, names={"shape", *kwargs}, check=check, **kwargs)
    outcome(simulate.ramp_pair, shape, names={"shape", *kwargs}, check=check, **kwargs)
    size = data.draw(integers(16, 20, low=-1, high=40))
    options = data.draw(keywords(
        theta=mostly(st.sampled_from((None, np.linspace(0.0, 180.0, 12, endpoint=False))),
                     st.one_of(st.lists(ANY_REAL, max_size=10), st.sampled_from(JUNK))),
        phantom=texts(*simulate.TOMOGRAPHY_PHANTOMS), dose=reals(None, 1e3, 1e9), rows=integers(None, 1, 3, low=-1,
                                                                                               high=5),
        attenuation=reals(2.0, 0.5), seed=integers(None, 0, low=-3, high=2**70)))

    def check_sinogram(simulated):
        assert np.isfinite(simulated.sinogram).all() and np.isfinite(simulated.phantom).all()
        assert simulated.sinogram.shape[0 if simulated.sinogram.ndim == 2 else -1] == size

    outcome(simulate.tomography_sinogram, size, names={"size", *options}, check=check_sinogram, **options)
