"""Property-based tests of the public core functions with arbitrary input.

Whatever the shape (1 to 4 axes, tiny, odd, non-square), dtype (bool, integers, float16 to
longdouble, complex, object, text), values (NaN, Inf, constant, huge, denormal) and parameters
(zero, negative or NaN pixel sizes, thresholds out of range, bad strings), every call must either
return a result that keeps its contract or raise a ``ValueError`` whose message names an argument
at fault: never another exception type, never a warning other than the estimator's own
(``RuntimeWarning`` entries of ``result.warnings``), never a hang.

Arrays are built with numpy from a few drawn numbers (shape, dtype, kind of values, seed), so that
hypothesis stays fast; ``budget`` scales every test's number of examples with the profile
(tests/conftest.py: "ci" by default, "thorough" for ten times more).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import warnings
from typing import NamedTuple

import dask.array as da
import numpy as np
import pytest
from hang import no_hang
from hypothesis import currently_in_test_context, event, example, given, settings
from hypothesis import strategies as st
from scipy import ndimage

from napari_resolution.core import (
    blink,
    correlation,
    decorrelation,
    local,
    masks,
    mtf,
    randomization,
    simulate,
    single_map,
    thresholds,
    tomography,
)
from napari_resolution.core.results import STATUSES, jsonable

#: A call that has not returned after this many seconds is a hang.


def budget(fraction: float):
    """``settings`` with ``fraction`` of the profile's number of examples (at least 5)."""
    return settings(max_examples=max(5, round(settings().max_examples * fraction)))


# ----------------------------------------------------------------------------- the property
def _tally(outcome_kind: str) -> None:
    """Count the outcome in hypothesis's statistics (--hypothesis-show-statistics), inside a hypothesis test."""
    if currently_in_test_context():
        event(outcome_kind)


def _names_one(message: str, names) -> bool:
    return _first_named(message, names) is not None


def _first_named(message: str, names):
    """The first of ``names`` (sorted) that ``message`` names as a word, or None."""
    return next((name for name in sorted(names)
                 if re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", message, re.IGNORECASE)), None)


def outcome(function, *args, names, check=None, **kwargs):
    """``function(*args, **kwargs)``: its result, or None after a ValueError naming one of ``names``.

    Fails on any other exception, on a ValueError that names none of ``names``, on a hang and on
    any warning that is not one of the result's own ``warnings`` emitted as RuntimeWarning.
    ``check(result)`` (and the result protocol, where the result has one) runs under the same watch.
    """
    with no_hang(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = function(*args, **kwargs)
        except ValueError as error:
            assert _names_one(str(error), names), f"ValueError names none of {sorted(names)}: {error}"
            _tally(f"{function.__name__}: ValueError naming {_first_named(str(error), names)}")
            result = None
        else:
            _tally(f"{function.__name__}: result, status {getattr(result, 'status', '-')}")
        if result is not None:
            _check_protocol(result)
            if check is not None:
                check(result)
    own = set(getattr(result, "warnings", ()) or ())
    leaked = [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in caught
              if not (w.category is RuntimeWarning and str(w.message) in own)]
    assert not leaked, f"warnings leaked: {leaked}"
    return result


def _check_protocol(result) -> None:
    """What every estimator's result promises: a known status, a positive resolution, a summary, JSON."""
    if not hasattr(result, "summary"):
        return
    assert result.status in STATUSES
    for name in ("resolution", "resolution_half", "resolution_50", "resolution_10", "median"):
        value = getattr(result, name, None)
        assert value is None or (math.isfinite(value) and value > 0), f"{name} = {value}"
    assert isinstance(result.summary("Å"), str)
    json.dumps(jsonable(result.to_dict()), allow_nan=False)
    result.plots("Å")


# ----------------------------------------------------------------------------- arrays
SIZES = (1, 2, 3, 5, 7, 8, 9, 12, 16, 17, 31, 32, 33, 40)
DTYPES = ("bool", "int8", "uint8", "int16", "uint16", "int32", "int64", "uint64", "float16", "float32",
          "float64", "longdouble", "complex64", "complex128", "object", "str", ">f8", ">f4")
REAL_DTYPES = ("bool", "uint8", "int16", "uint16", "int32", "int64", "float16", "float32", "float64", ">f8")
KINDS = ("noise", "smooth", "constant", "zeros", "nan", "inf", "-inf", "huge", "extreme", "tiny", "denormal",
         "step", "spot", "sparse")
LIKELY_KINDS = ("noise", "smooth", "step", "spot")
LAYOUTS = ("C", "F", "reversed", "read-only")
#: Anything that is not an array.
NOT_ARRAYS = (None, 3.0, "image", [[1.0, 2.0], [3.0, 4.0]], (), {"a": 1}, b"\x00" * 64)
MAX_ELEMENTS = 40 * 40 * 12


class Spec(NamedTuple):
    """How to build one test array: shape, dtype, kind of values, seeds, memory layout."""

    shape: tuple
    dtype: str
    kind: str
    signal_seed: int
    noise_seed: int
    layout: str


@st.composite
def specs(draw, min_axes=1, max_axes=4, sizes=SIZES, dtypes=DTYPES, kinds=KINDS, max_elements=MAX_ELEMENTS,
          likely_axes=(2, 3), likely_size=8):
    """Mostly (7 in 10) an array the function may accept: ``likely_axes`` axes of at least ``likely_size``, real,
    of :data:`LIKELY_KINDS` values (if ``kinds`` has some); else anything ``min_axes`` to ``max_axes`` allow."""
    likely = draw(st.integers(0, 9)) < 7
    axes = [n for n in range(min_axes, max_axes + 1) if n in likely_axes] if likely else []
    ndim = draw(st.sampled_from(axes)) if axes else draw(st.integers(min_axes, max_axes))
    sizes = [n for n in sizes if n >= likely_size] or sizes if likely else sizes
    dtypes = [d for d in dtypes if d in REAL_DTYPES] or dtypes if likely else dtypes
    kinds = [k for k in kinds if k in LIKELY_KINDS] or kinds if likely else kinds
    shape = [draw(st.sampled_from(sizes)) for _ in range(ndim)]
    while math.prod(shape) > max_elements:  # keep the arrays small: shrink the longest axis
        longest = int(np.argmax(shape))
        shape[longest] = max(1, shape[longest] // 3)
    return Spec(tuple(shape), draw(st.sampled_from(dtypes)), draw(st.sampled_from(kinds)),
                draw(st.integers(0, 2**16)), draw(st.integers(0, 2**16)), draw(st.sampled_from(LAYOUTS)))


def _values(spec: Spec) -> np.ndarray:
    """float64 values of ``spec.kind``: a signal shared by every spec with the same signal_seed, plus noise."""
    shape, kind = spec.shape, spec.kind
    signal = np.random.default_rng(spec.signal_seed).standard_normal(shape)
    noise = np.random.default_rng(spec.noise_seed).standard_normal(shape)
    if kind == "constant":
        return np.full(shape, signal.flat[0])
    if kind == "zeros":
        return np.zeros(shape)
    if kind == "smooth":
        return 10 * ndimage.gaussian_filter(signal, 2.0, mode="wrap") + 0.3 * noise
    if kind in ("step", "spot"):
        return _shape_image(shape, kind, spec.signal_seed) + 0.02 * noise
    if kind == "sparse":
        return np.where(noise > 2.0, 5.0 + signal, 0.0)
    values = np.clip(signal + noise, -8, 8)
    scale = {"huge": 1e300, "tiny": 1e-12, "denormal": 5e-320, "extreme": np.finfo(np.float64).max / 8}.get(kind)
    if kind == "tiny":
        return 1 + scale * values
    if scale is not None:
        return scale * values
    if kind in ("nan", "inf", "-inf"):
        values.flat[spec.noise_seed % values.size] = float(kind)
    return values


def _shape_image(shape, kind, seed) -> np.ndarray:
    """A tilted step (an edge) or a Gaussian spot on the last two axes."""
    rng = np.random.default_rng(seed)
    grids = np.indices(shape, dtype=float)
    if len(shape) < 2:
        return (grids[0] > shape[0] / 2).astype(float)
    rows, cols = grids[-2] - shape[-2] / 2, grids[-1] - shape[-1] / 2
    if kind == "step":
        angle = rng.uniform(0, np.pi)
        return 0.2 + 0.6 * (np.cos(angle) * rows + np.sin(angle) * cols > 0)
    return np.exp(-(rows**2 + cols**2) / (2 * rng.uniform(0.7, 3.0) ** 2))


def _cast(values: np.ndarray, dtype: str) -> np.ndarray:
    """``values`` in ``dtype``: integers clipped to their range, booleans as ``> 0``, complex with an imaginary part."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dtype == "bool":
            return values > 0
        if np.dtype(dtype).kind in "iu":
            info = np.iinfo(dtype)
            return np.clip(np.nan_to_num(values), info.min, info.max).astype(dtype)
        if np.dtype(dtype).kind == "c":
            return (values + 1j * values[::-1]).astype(dtype)
        return values.astype(dtype)


def build(spec: Spec) -> np.ndarray:
    array = _cast(_values(spec), spec.dtype)
    if spec.layout == "F":
        return np.asfortranarray(array)
    if spec.layout == "reversed":
        return array[tuple(slice(None, None, -1) for _ in array.shape)]
    if spec.layout == "read-only":
        array.flags.writeable = False
    return array


@st.composite
def arrays(draw, not_array_chance=12, **kwargs):
    """An array from :func:`specs` (keywords go there), or once in ``not_array_chance`` something else."""
    if draw(st.integers(0, not_array_chance - 1)) == 0:
        return draw(st.sampled_from(NOT_ARRAYS))
    return build(draw(specs(**kwargs)))


@st.composite
def array_pairs(draw, **kwargs):
    """Two arrays: mostly one signal with independent noise; sometimes the same array, a mismatch, junk."""
    first = draw(specs(**kwargs))
    relation = draw(st.sampled_from(("noisy copies", "noisy copies", "other dtype", "other kind", "same",
                                     "negated", "independent", "not an array")))
    a = build(first)
    if relation == "same":
        return a, a
    if relation == "negated":
        return a, -a if a.dtype.kind in "fic" else a
    if relation == "independent":
        return a, build(draw(specs(**kwargs)))
    if relation == "not an array":
        return a, draw(st.sampled_from(NOT_ARRAYS))
    second = first._replace(noise_seed=draw(st.integers(0, 2**16)))
    if relation == "other dtype":
        second = second._replace(dtype=draw(st.sampled_from(kwargs.get("dtypes", DTYPES))))
    if relation == "other kind":
        second = second._replace(kind=draw(st.sampled_from(kwargs.get("kinds", KINDS))))
    return a, build(second)


def _mask_values(shape, kind: str, seed: int):
    rng = np.random.default_rng(seed)
    if kind == "soft":
        grids = np.indices(shape, dtype=float)
        radius = np.sqrt(sum((g - n / 2) ** 2 for g, n in zip(grids, shape)))
        return np.clip((min(shape) / 2 - radius) / 3, 0, 1)
    if kind == "random":
        return rng.uniform(0, 1, shape)
    if kind == "one pixel":
        values = np.zeros(shape)
        values.flat[seed % values.size] = 1
        return values
    fill = {"ones": 1.0, "zeros": 0.0, "above one": 1.5, "negative": -0.2, "nan": np.nan, "inf": np.inf,
            "denormal": 5e-320}[kind]
    return np.full(shape, fill)


MASK_KINDS = ("soft", "soft", "random", "one pixel", "ones", "zeros", "above one", "negative", "nan", "inf",
              "denormal")


@st.composite
def masks_for(draw, shape):
    """A mask for data of ``shape``: soft, binary, all ones or zeros, out of [0, 1], NaN, wrong shape, junk."""
    choice = draw(st.integers(0, 15))
    if choice == 0:
        return draw(st.sampled_from(NOT_ARRAYS))
    if choice == 1:
        return np.ones(tuple(n + 1 for n in shape))
    kind = draw(st.sampled_from(MASK_KINDS if choice < 8 else ("soft", "random", "ones")))
    values = _mask_values(shape, kind, draw(st.integers(0, 2**16)))
    return _cast(values, draw(st.sampled_from(("float32", "float64", "bool", "uint8", "float16", "complex64",
                                               ">f4", "int64"))))


# ----------------------------------------------------------------------------- parameter values
NAN, INF = float("nan"), float("inf")
JUNK = (None, "", "x", "NaN", "1e400", [], [1.0], (1, 2, 3), {}, b"1", 1j, True, False, object(),
        np.array([1.0, 2.0]), np.float32("nan"))
SPECIAL_FLOATS = (0.0, -0.0, -1.0, NAN, INF, -INF, 5e-324, 1e-310, 1e-300, 1e-30, 1e30, 1e300,
                  np.finfo(np.float64).max)


@st.composite
def mostly(draw, good, bad, bad_chance: int = 4):
    """From ``good``, or once in ``bad_chance`` from ``bad``: most calls then reach past the argument checks."""
    return draw(bad if draw(st.integers(0, bad_chance - 1)) == 0 else good)


ANY_REAL = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(SPECIAL_FLOATS),
                     st.sampled_from(JUNK))


def reals(*valid):
    """A float parameter: mostly one of ``valid``, else any float (NaN, Inf), a special float or junk."""
    return mostly(st.sampled_from(valid), ANY_REAL) if valid else ANY_REAL


def integers(*valid, low=-5, high=200):
    """An integer parameter: mostly one of ``valid``, else an integer in [low, high], a numpy one, a float, junk."""
    bad = st.one_of(st.integers(low, high), st.integers(low, min(high, 2**62)).map(np.int64),
                    st.sampled_from((2.0, 2.5, NAN)), st.sampled_from(JUNK))
    return mostly(st.sampled_from(valid), bad) if valid else bad


def texts(*valid):
    """A string parameter: mostly one of ``valid`` (sometimes in capitals, spaced), else any text or junk."""
    bad = st.one_of(st.text(max_size=12), st.sampled_from(JUNK))
    if not valid:
        return bad
    return mostly(st.one_of(st.sampled_from(valid), st.sampled_from(valid).map(lambda s: f" {s.upper()} ")), bad)


def pixel_sizes(ndim: int = 3):
    """A pixel size: mostly positive, else zero, negative, NaN, huge or tiny, a sequence of any length, junk."""
    good = st.sampled_from((1.0, 0.5, 1.7, 3, np.float32(2.0), 1e-30, 1e30))
    sequences = st.lists(st.one_of(st.sampled_from((1.0, 0.8, 2.0)), ANY_REAL), min_size=0, max_size=ndim + 1)
    numbers = st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=ndim + 1)
    return mostly(good, st.one_of(ANY_REAL, sequences, sequences.map(tuple), numbers.map(np.array)))


THRESHOLDS = (*thresholds.CRITERIA, "halfbit", "1/7", "1-bit", "3sigma", 0.143, 0.5, 0.9, 1e-9, 1 - 1e-9)


def threshold_values():
    return mostly(st.sampled_from(THRESHOLDS), st.one_of(texts(), ANY_REAL))


def points(*coordinates, ndim: int = 2):
    """A point: mostly ``ndim`` of ``coordinates`` (list or tuple), else too few or many, non-finite, junk."""
    good = st.lists(st.sampled_from(coordinates), min_size=ndim, max_size=ndim)
    bad = st.one_of(st.lists(ANY_REAL, max_size=ndim + 1), st.sampled_from(JUNK))
    return mostly(st.one_of(good, good.map(tuple)), bad)


@st.composite
def optional(draw, name: str, strategy, into: dict):
    """Put ``name`` into ``into`` half of the time (drawn from ``strategy``); return whether it was."""
    if draw(st.booleans()):
        into[name] = draw(strategy)
        return True
    return False


@st.composite
def keywords(draw, **strategies):
    """A dict with some of the keywords of ``strategies``, each drawn from its strategy."""
    chosen = {}
    for name, strategy in strategies.items():
        draw(optional(name, strategy, chosen))
    return chosen


def device_values():
    return mostly(st.sampled_from((None, "cpu")), st.one_of(st.sampled_from(("CPU", "gpu", "tpu", 0, True)), texts()))


def progress_values():
    return mostly(st.sampled_from((None, lambda fraction: None, float)), st.sampled_from((3, "progress", [])))


@contextlib.contextmanager
def compute_path(path: str):
    """Run the estimators on the "numba" (compiled) or "numpy" (array) CPU path."""
    saved = os.environ.pop("NAPARI_RESOLUTION_NO_JIT", None)
    if path == "numpy":
        os.environ["NAPARI_RESOLUTION_NO_JIT"] = "1"
    try:
        yield
    finally:
        os.environ.pop("NAPARI_RESOLUTION_NO_JIT", None)
        if saved is not None:
            os.environ["NAPARI_RESOLUTION_NO_JIT"] = saved


PATHS = st.sampled_from(("numba", "numpy"))


# ----------------------------------------------------------------------------- FRC / FSC / SSNR
FOURIER = {"fourier_correlation": correlation.fourier_correlation, "frc": correlation.frc, "fsc": correlation.fsc}


def _check_correlation(result) -> None:
    assert result.frequency.shape == result.correlation.shape == result.n_points.shape
    assert np.all(np.isnan(result.correlation) | (np.abs(result.correlation) <= 1 + 1e-6))
    assert result.parameters["path"] in ("numba", "numpy")


@budget(0.6)
@given(pair=array_pairs(min_axes=1, max_axes=4), apodization=st.sampled_from((0, 1, 3)),
       name=st.sampled_from(sorted(FOURIER)), path=PATHS)
def test_fourier_correlation_any_arrays(pair, apodization, name, path):
    with compute_path(path):
        outcome(FOURIER[name], *pair, apodization=apodization, names={"half1", "half2", "apodization"},
                check=_check_correlation)


@budget(0.6)
@given(pair=array_pairs(min_axes=2, max_axes=3, sizes=(8, 9, 12, 16, 17), dtypes=("float32", "float64"),
                        kinds=("noise", "smooth")),
       data=st.data(), path=PATHS)
def test_fourier_correlation_any_parameters(pair, data, path):
    a, b = pair
    kwargs = data.draw(keywords(pixel_size=pixel_sizes(), threshold=threshold_values(),
                                ring_thickness=integers(1, 2, 3), apodization=integers(0, 2, 4),
                                taper=texts("auto", "all"), crossing_rule=texts("first-below", "last-above"),
                                device=device_values(), progress=progress_values()))
    if data.draw(st.booleans()) and hasattr(a, "shape"):
        kwargs["mask"] = data.draw(masks_for(a.shape))
    with compute_path(path):
        outcome(correlation.fourier_correlation, a, b, names={"half1", "half2", *kwargs}, check=_check_correlation,
                **kwargs)


@budget(0.2)
@given(criterion=threshold_values())
@example(criterion="halfbit")
def test_ssnr_limit_any_criterion(criterion):
    outcome(correlation.ssnr_limit, criterion, names={"criterion", "threshold"})


@budget(0.2)
@given(values=st.one_of(st.lists(reals(0.5, 1.0, -1.0), max_size=6), arrays(max_axes=2)))
@example(values=[1.0, NAN, 0.5])
def test_ssnr_from_correlation_any_curve(values):
    def check(ssnr):
        c = np.asarray(values, dtype=np.float64)
        assert np.array_equal(np.isnan(ssnr), np.isnan(c)), "a NaN correlation (no shell) must give a NaN SSNR"

    outcome(correlation.ssnr_from_correlation, values, names={"correlation"}, check=check)


# ----------------------------------------------------------------------------- local resolution
def _check_local(result) -> None:
    assert result.map.shape == tuple(result.parameters["shape"])
    finite = result.values[np.isfinite(result.values)]
    assert np.all(finite > 0) and set(result.statuses) <= set(STATUSES)


@budget(0.4)
@given(pair=array_pairs(min_axes=1, max_axes=4, sizes=(1, 7, 8, 12, 16, 17, 24)), path=PATHS)
def test_local_fsc_any_arrays(pair, path):
    with compute_path(path):
        outcome(local.local_fsc, *pair, box=8, names={"half1", "half2", "box"}, check=_check_local)


@budget(0.4)
@given(pair=array_pairs(min_axes=2, max_axes=3, sizes=(16, 17, 24), dtypes=("float32", "float64"),
                        kinds=("noise", "smooth")),
       data=st.data(), path=PATHS)
def test_local_fsc_any_parameters(pair, data, path):
    a, b = pair
    kwargs = data.draw(keywords(box=integers(8, 12, 16, low=-2, high=40), step=integers(2, 4, 8, low=-2, high=30),
                                threshold=threshold_values(), pixel_size=pixel_sizes(a.ndim if hasattr(a, "ndim")
                                                                                      else 3),
                                window=texts(*local.WINDOWS), progress=progress_values()))
    if data.draw(st.booleans()) and hasattr(a, "shape"):
        kwargs["mask"] = data.draw(masks_for(a.shape))
    with compute_path(path):
        outcome(local.local_fsc, a, b, names={"half1", "half2", *kwargs}, check=_check_local, **kwargs)


# ----------------------------------------------------------------------------- phase randomisation
def _check_randomized(result) -> None:
    assert 0 <= result.randomization_shell < result.frequency.size
    assert result.parameters["path"] in ("numba", "numpy")


@budget(0.5)
@given(pair=array_pairs(min_axes=1, max_axes=4), data=st.data(), path=PATHS)
def test_phase_randomized_fsc_any_arrays(pair, data, path):
    h1, h2 = pair
    mask = data.draw(masks_for(getattr(h1, "shape", (8, 8))))
    with compute_path(path):
        outcome(randomization.phase_randomized_fsc, h1, h2, mask, seed=0, names={"half1", "half2", "mask"},
                check=_check_randomized)


@budget(0.4)
@given(pair=array_pairs(min_axes=2, max_axes=3, sizes=(8, 9, 12, 16), dtypes=("float32", "float64"),
                        kinds=("smooth",)),
       data=st.data(), path=PATHS)
def test_phase_randomized_fsc_any_parameters(pair, data, path):
    h1, h2 = pair
    kwargs = data.draw(keywords(randomize_at=reals(0.8, 0.5, 2.0, 3.5), pixel_size=pixel_sizes(),
                                threshold=threshold_values(), seed=integers(None, 0, 7, low=-3, high=2**70),
                                device=device_values(), progress=progress_values()))
    mask = data.draw(masks_for(getattr(h1, "shape", (8, 8))))
    with compute_path(path):
        outcome(randomization.phase_randomized_fsc, h1, h2, mask, names={"half1", "half2", "mask", *kwargs},
                check=_check_randomized, **kwargs)


@budget(0.4)
@given(volume=arrays(max_axes=4), data=st.data(), path=PATHS)
def test_randomize_phases_any_input(volume, data, path):
    kwargs = data.draw(keywords(pixel_size=pixel_sizes(), seed=integers(None, 0, 7, low=-3, high=2**70)))
    beyond = data.draw(reals(0.0, 0.1, 0.25, 0.5))

    def check(randomized):
        assert randomized.shape == volume.shape and np.isfinite(randomized).all()

    with compute_path(path):
        outcome(randomization.randomize_phases, volume, beyond, names={"volume", "beyond", *kwargs}, check=check,
                **kwargs)


# ----------------------------------------------------------------------------- decorrelation
DECORRELATION_SIZES = (1, 5, 16, 31, 32, 33, 40)


@budget(0.3)
@given(image=arrays(max_axes=4, sizes=DECORRELATION_SIZES, max_elements=40 * 40 * 3, likely_size=32),
       apodization=st.sampled_from((0, 5, 16)))
def test_decorrelation_any_image(image, apodization):
    outcome(decorrelation.decorrelation, image, apodization=apodization, n_radii=20, n_highpass=3,
            names={"image", "apodization"})


@budget(0.3)
@given(image=arrays(min_axes=2, max_axes=3, sizes=(32, 33), dtypes=("float32", "float64", "uint16"),
                    kinds=("smooth", "noise", "constant"), max_elements=33 * 33 * 3, not_array_chance=1000),
       data=st.data())
def test_decorrelation_any_parameters(image, data):
    kwargs = data.draw(keywords(pixel_size=pixel_sizes(), n_radii=integers(10, 20, low=-2, high=60),
                                n_highpass=integers(2, 3, low=-2, high=12), r_min=reals(0.0, 0.1, 0.5),
                                r_max=reals(1.0, 0.6, 0.9), apodization=integers(0, 5, low=-2, high=40),
                                axis=integers(0, 1, 2, -1, low=-4, high=4),
                                slices=mostly(st.sampled_from((None, [0], [-1, 2], np.arange(3))),
                                              st.one_of(st.lists(st.integers(-40, 40), max_size=3),
                                                        st.sampled_from(JUNK))),
                                device=device_values(), progress=progress_values()))
    kwargs.setdefault("n_radii", 20)
    kwargs.setdefault("n_highpass", 3)
    outcome(decorrelation.decorrelation, image, names={"image", *kwargs}, **kwargs)


@budget(0.2)
@given(curve=mostly(st.lists(st.floats(0, 1), min_size=1, max_size=60),
                    st.one_of(st.lists(ANY_REAL, max_size=8), arrays(max_axes=2))))
def test_local_maximum_any_curve(curve):
    def check(found):
        index, value = found
        assert isinstance(index, int) and isinstance(value, float)

    outcome(decorrelation.local_maximum, curve, names={"curve"}, check=check)


# ----------------------------------------------------------------------------- masks
def _is_mask(mask, shape=None) -> None:
    assert mask.dtype == np.float32, mask.dtype
    assert shape is None or mask.shape == tuple(shape)
    assert np.isfinite(mask).all() and mask.min() >= 0 and mask.max() <= 1


BAD_SHAPES = st.one_of(st.lists(st.one_of(st.integers(-1, 20), st.sampled_from((2.5, NAN, "8", None))), max_size=4),
                       st.sampled_from(JUNK))


def shapes(sizes):
    """Mostly a 2-D or 3-D shape (list or tuple) of ``sizes``, else a bad one."""
    good = st.lists(st.sampled_from(sizes), min_size=2, max_size=3)
    return mostly(st.one_of(good, good.map(tuple)), BAD_SHAPES)


MASK_SHAPES = shapes((1, 2, 5, 8, 9, 12, 16, 17))
MASK_SIZES = (1, 2, 3, 5, 8, 9, 12, 16, 17)


@budget(0.4)
@given(volume=arrays(max_axes=4, sizes=MASK_SIZES), data=st.data())
def test_make_mask_any_input(volume, data):
    kwargs = data.draw(keywords(threshold=st.one_of(st.sampled_from(("auto", "Auto", 0.0, 0.5)), reals()),
                                lowpass_sigma=reals(None, 0, 1.0, 2.5), extend=reals(None, 0, 1.0, 3),
                                soft_edge=reals(0, 1.0, 3), cleanup=st.sampled_from((True, False, 0, None, "no")),
                                pixel_size=pixel_sizes(), return_binary=st.booleans()))

    def check(made):
        soft, binary = made if kwargs.get("return_binary") else (made, None)
        _is_mask(soft, volume.shape)
        assert binary is None or (binary.dtype == bool and binary.shape == volume.shape)

    # soft_edge's default (3) is in pixel_size units: a tiny pixel size makes it longer than the box
    outcome(masks.make_mask, volume, names={"volume", "threshold", "soft_edge", *kwargs}, check=check, **kwargs)


@budget(0.2)
@given(pair=array_pairs(max_axes=4, sizes=MASK_SIZES), threshold=st.sampled_from(("auto", 0.0)))
def test_mask_from_half_maps_any_input(pair, threshold):
    outcome(masks.mask_from_half_maps, *pair, threshold=threshold, names={"half1", "half2", "threshold"},
            check=lambda soft: _is_mask(soft, pair[0].shape))


@budget(0.3)
@given(volume=arrays(max_axes=4, sizes=MASK_SIZES), data=st.data())
def test_lowpass_map_and_threshold_any_input(volume, data):
    sigma = data.draw(reals(None, 0, 1.0, 2.5))
    pixel_size = data.draw(pixel_sizes())
    threshold = data.draw(st.one_of(st.sampled_from(("auto", 0.5)), reals()))

    def check(smooth):
        assert smooth.dtype == np.float32 and smooth.shape == np.shape(volume)
        level = outcome(masks.mask_threshold, smooth, threshold, pixel_size=pixel_size,
                        names={"smooth", "threshold", "pixel_size"})
        if level is not None:
            region = outcome(masks.thresholded_region, smooth, level, pixel_size=pixel_size,
                             names={"smooth", "level", "pixel_size"})
            assert region.dtype == bool and region.shape == smooth.shape

    outcome(masks.lowpass_map, volume, sigma, pixel_size=pixel_size, names={"volume", "lowpass_sigma", "pixel_size"},
            check=check)


@budget(0.3)
@given(shape=MASK_SHAPES, data=st.data())
def test_spherical_masks_any_parameters(shape, data):
    kwargs = data.draw(keywords(radius=reals(None, 0, 2.0, 4.5), soft_edge=reals(0, 1.0, 3),
                                center=points(0, 3.5, 9.0, ndim=len(shape) if isinstance(shape, list) else 2),
                                pixel_size=pixel_sizes()))
    outcome(masks.spherical_mask, shape, names={"shape", *kwargs}, check=lambda m: _is_mask(m, shape), **kwargs)
    radius, radius_p = data.draw(reals(0, 2.0)), data.draw(reals(3.0, 5.0))
    kwargs.pop("radius", None)
    kwargs.pop("soft_edge", None)
    outcome(masks.raised_cosine_mask, shape, radius, radius_p, names={"shape", "radius", "radius_p", *kwargs},
            check=lambda m: _is_mask(m, shape), **kwargs)


@budget(0.3)
@given(binary=arrays(max_axes=4, sizes=MASK_SIZES, kinds=("sparse", "noise", "zeros", "nan", "step")),
       width=reals(0, 1.0, 3.0), pixel_size=pixel_sizes())
def test_soften_mask_any_input(binary, width, pixel_size):
    outcome(masks.soften_mask, binary, width, pixel_size=pixel_size, names={"binary", "width", "pixel_size"},
            check=lambda m: _is_mask(m, np.shape(binary)))


@budget(0.3)
@given(volume=arrays(max_axes=4, sizes=MASK_SIZES), data=st.data())
def test_soft_mask_outside_map_any_input(volume, data):
    kwargs = data.draw(keywords(radius=reals(None, 2.0, 4.0), width=reals(0, 1.0, 3.0), noise=reals(None, 0.0, 1.0),
                                pixel_size=pixel_sizes()))

    def check(made):
        masked, mask = made
        _is_mask(mask, volume.shape)
        assert masked.shape == volume.shape and np.isfinite(masked).all()

    outcome(masks.soft_mask_outside_map, volume, names={"volume", "radius", "width", *kwargs}, check=check, **kwargs)


# ----------------------------------------------------------------------------- MTF
MTF_SIZES = (1, 7, 8, 12, 16, 17, 24, 33, 40)


def _check_mtf(result) -> None:
    if isinstance(result, mtf.BeadStackResult):  # a z-stack: the in-focus plane's MTF and the axial profile
        assert np.isfinite(result.axial_mtf).all() and np.isfinite(result.axial_profile).all()
        assert result.axial_fwhm is None or (math.isfinite(result.axial_fwhm) and result.axial_fwhm > 0)
        result = result.lateral
    assert np.isfinite(result.mtf).all() and np.isfinite(result.mtf_nyquist)
    for value in (result.f50, result.f10):
        assert value is None or (math.isfinite(value) and value > 0)


def _step(shape=(40, 40)) -> np.ndarray:
    """A noiseless step along the columns: an edge at exactly 0 degrees."""
    image = np.zeros(shape)
    image[:, shape[1] // 2:] = 1
    return image


def _dots(shape, points) -> np.ndarray:
    image = np.zeros(shape)
    for (row, col), value in points.items():
        image[row, col] = value
    return image


EDGE_KEYWORDS = keywords(
    roi=st.one_of(st.lists(st.one_of(st.integers(-5, 45), reals(0.0, 20.0)), min_size=3, max_size=5),
                  st.sampled_from(JUNK)),
    pixel_size=pixel_sizes(2), oversample=integers(1, 4, 8, low=-1, high=20), window=texts(*mtf.WINDOWS))
POINT_KEYWORDS = keywords(center=points(4.0, 10.5, 20.0),
                          box=integers(8, 12, 16, low=-1, high=48), pixel_size=pixel_sizes(2))
#: The @example images of the MTF tests are bugs these tests found in core/mtf.py (fixed there): a complex image
#: (ComplexWarning), a noiseless axis-aligned step (IndexError), one bright pixel (IndexError), an image under 16
#: pixels (RuntimeWarning), values near 1e300 (overflow), center={} (KeyError), sparse images (divide warnings).
SPARSE_EDGE = {(0, 0): 5, (4, 15): 6, (7, 0): 5, (16, 3): 4, (16, 4): 5, (18, 9): 6, (21, 9): 5, (23, 3): 4,
               (23, 10): 4}
SPARSE_SPOTS = {(0, 0): 5, (0, 9): 3, (6, 7): 5, (7, 5): 4, (8, 6): 5, (10, 9): 4, (10, 11): 3, (14, 9): 7,
                (14, 14): 6}


@budget(0.4)
@given(image=arrays(max_axes=3, sizes=MTF_SIZES, kinds=("step", "step", "spot", *KINDS), likely_axes=(2,),
                   likely_size=16), kwargs=EDGE_KEYWORDS)
@example(image=simulate.slanted_edge((40, 40), 5, 1.0).astype(complex), kwargs={})
@example(image=_step(), kwargs={})
@example(image=_dots((16, 16), {(5, 7): 1}), kwargs={})
@example(image=np.random.default_rng(0).random((12, 1)), kwargs={})
@example(image=simulate.slanted_edge((40, 40), 5, 1.0) * 1e300, kwargs={})
@example(image=_dots((24, 17), SPARSE_EDGE), kwargs={})
def test_mtf_edge_any_input(image, kwargs):
    outcome(mtf.mtf_edge, image, names={"image", "roi", *kwargs}, check=_check_mtf, **kwargs)


@budget(0.4)
@given(image=arrays(max_axes=3, sizes=MTF_SIZES, kinds=("spot", "spot", "step", *KINDS), likely_axes=(2,),
                   likely_size=16), kwargs=POINT_KEYWORDS)
@example(image=simulate.gaussian_spot((40, 40), (20, 20), 1.5).astype(complex), kwargs={})
@example(image=simulate.gaussian_spot((40, 40), (20, 20), 1.5), kwargs={"center": {}})
@example(image=simulate.gaussian_spot((40, 40), (20, 20), 1.5) * 1e300, kwargs={})
@example(image=_dots((17, 17), SPARSE_SPOTS), kwargs={"box": 8})
def test_mtf_point_any_input(image, kwargs):
    kwargs = {"box": 8, **kwargs}
    outcome(mtf.mtf_point, image, names={"image", "center", *kwargs}, check=_check_mtf, **kwargs)


@budget(0.3)
@given(angle=reals(3.0, 30.0, 85.0), sigma=reals(0.8, 1.5), noise=reals(0.0, 0.01), size=st.sampled_from((24, 40)),
       point=st.booleans())
@example(angle=0.0, sigma=0.8, noise=0.0, size=24, point=False)
def test_mtf_of_simulated_data_any_parameters(angle, sigma, noise, size, point):
    """The simulators' own images, whatever their parameters: each step gives a result or names its argument."""
    if point:
        image = outcome(simulate.gaussian_spot, (size, size), (size / 2, size / 2), sigma, noise=noise, seed=1,
                        names={"sigma", "noise", "center"})
    else:
        image = outcome(simulate.slanted_edge, (size, size), angle, sigma, noise=noise, seed=1,
                        names={"angle", "sigma", "noise"})
    if image is not None:
        estimator = mtf.mtf_point if point else mtf.mtf_edge
        outcome(estimator, image, names={"image", "roi", "center", "box"}, check=_check_mtf)


# ----------------------------------------------------------------------------- thresholds
COUNTS = st.one_of(st.lists(st.one_of(st.integers(-3, 10**6), reals(4.0, 100.0)), max_size=6),
                   arrays(max_axes=2), st.sampled_from(JUNK))


@budget(0.2)
@given(threshold=threshold_values(), n_points=COUNTS)
def test_threshold_curves_any_input(threshold, n_points):
    def check(curve):
        assert curve.shape == np.shape(n_points)

    outcome(thresholds.parse_threshold, threshold, names={"threshold"})
    outcome(thresholds.threshold_curve, threshold, n_points, names={"threshold", "n_points"}, check=check)
    outcome(thresholds.all_threshold_curves, n_points, names={"n_points"})


CURVES = mostly(st.lists(st.sampled_from((0.1, 0.5, 0.9, 0.0, 1.0)), min_size=1, max_size=6),
                st.one_of(st.lists(ANY_REAL, max_size=6), arrays(max_axes=2, sizes=(1, 2, 5, 8))))


@st.composite
def crossing_inputs(draw):
    """(frequency, curve, threshold, decidable): mostly of one length, else any of CURVES."""
    if draw(st.integers(0, 3)) == 0:
        return draw(CURVES), draw(CURVES), draw(st.one_of(CURVES, st.sampled_from((0.5, 0.143)))), None
    n = draw(st.integers(1, 8))
    values = st.one_of(st.floats(-1, 1.5), st.sampled_from((NAN, INF, -INF, 1e308, -1e308)))
    curve = draw(st.lists(values, min_size=n, max_size=n))
    threshold = draw(st.one_of(st.sampled_from((0.5, 0.143)), st.lists(values, min_size=n, max_size=n)))
    decidable = draw(st.one_of(st.none(), st.lists(st.booleans(), min_size=n, max_size=n)))
    return np.linspace(0, 0.5, n), curve, threshold, decidable


@budget(0.3)
@given(inputs=crossing_inputs(), rule=texts("first-below", "last-above"))
def test_find_crossing_any_input(inputs, rule):
    frequency, curve, threshold, decidable = inputs
    names = {"frequency", "curve", "curves", "threshold", "thresholds", "rule", "crossing_rule", "decidable"}

    def check(found):
        crossing, status = found
        assert status in STATUSES and (crossing is None) == (status != "resolved")
        assert crossing is None or np.min(frequency) <= crossing <= np.max(frequency), crossing

    outcome(thresholds.find_crossing, frequency, curve, threshold, rule, decidable, names=names, check=check)
    outcome(thresholds.find_crossings, frequency, curve, threshold, rule, decidable, names=names)
    outcome(thresholds.decidable_shells, curve, threshold, names={"curve", "threshold"})
    outcome(thresholds.check_crossing_rule, rule, names={"rule", "crossing_rule"})


@budget(0.2)
@given(crossing=reals(None, 0.1, 0.25), status=texts(*STATUSES), reference_pixel=reals(1.0, 0.5))
def test_resolution_from_crossing_any_input(crossing, status, reference_pixel):
    def check(resolution):
        assert resolution is None or (math.isfinite(resolution) and resolution > 0)

    outcome(thresholds.resolution_from_crossing, crossing, status, reference_pixel,
            names={"crossing", "status", "reference_pixel"}, check=check)


# ----------------------------------------------------------------------------- simulate
SIM_SHAPES = shapes((7, 8, 9, 12, 16, 8.0, np.int64(9)))


@budget(0.4)
@given(shape=SIM_SHAPES, data=st.data())
def test_phantom_pair_any_parameters(shape, data):
    kwargs = data.draw(keywords(sigma=reals(2.0, 0.5), noise=reals(0.5, 0.0), pixel_size=pixel_sizes(),
                                threshold=threshold_values(), ring_thickness=integers(1, 2),
                                seed=integers(None, 0, low=-3, high=2**70),
                                dtype=st.sampled_from((np.float64, np.float32, "float16", int, "complex64", None,
                                                       "x"))))

    def check(pair):
        assert pair.half1.shape == pair.half2.shape == tuple(shape)
        assert np.isfinite(pair.half1).all() and np.isfinite(pair.half2).all()
        assert pair.truth.status in STATUSES

    outcome(simulate.phantom_pair, shape, names={"shape", *kwargs}, check=check, **kwargs)


@budget(0.2)
@given(frequency=CURVES, sigma=reals(2.0), noise=reals(0.5), mean_power=reals(0.1, 1.0))
def test_expected_correlation_any_parameters(frequency, sigma, noise, mean_power):
    outcome(simulate.expected_correlation, frequency, sigma, noise, mean_power,
            names={"spatial_frequency", "sigma", "noise", "mean_power"})


@budget(0.3)
@given(shape=SIM_SHAPES, data=st.data())
def test_image_simulators_any_parameters(shape, data):
    seed = data.draw(integers(None, 0, low=-3, high=2**70))
    cutoff = data.draw(reals(0.25, 0.5))
    dtype = data.draw(st.sampled_from((np.float64, np.float32, int, None, "x")))

    def finite_image(image):
        assert image.shape == tuple(shape) and np.isfinite(image).all()

    outcome(simulate.band_limited_noise, shape, cutoff, seed=seed, dtype=dtype,
            names={"shape", "cutoff", "seed", "dtype"}, check=finite_image)
    edge = data.draw(keywords(low=reals(0.1), high=reals(0.9), noise=reals(0.0, 0.01), seed=st.just(seed),
                              center=points(4.0, 8.5, -3.0)))
    outcome(simulate.slanted_edge, shape, data.draw(reals(5.0, 30.0)), data.draw(reals(1.0, 2.0)),
            names={"shape", "angle", "sigma", *edge}, check=finite_image, **edge)
    spot = data.draw(keywords(amplitude=reals(1.0), background=reals(0.0), noise=reals(0.0, 0.01),
                              seed=st.just(seed)))
    center = data.draw(points(4.0, 8.5, 100.0))
    outcome(simulate.gaussian_spot, shape, center, data.draw(reals(1.0, 2.0)),
            names={"shape", "center", "sigma", *spot}, check=finite_image, **spot)


@budget(0.3)
@given(shape=SIM_SHAPES, data=st.data())
def test_bead_field_any_parameters(shape, data):
    centers = data.draw(mostly(st.lists(points(4.0, 8.5, 30.0), min_size=1, max_size=3),
                               st.one_of(st.lists(points(4.0), max_size=3), arrays(max_axes=3, sizes=(1, 2, 3)),
                                         st.sampled_from(JUNK))))
    kwargs = data.draw(keywords(amplitude=reals(1.0), background=reals(0.0), noise=reals(0.0, 0.01),
                                seed=integers(None, 0, low=-3, high=2**70)))

    def check(image):
        assert image.shape == tuple(shape) and np.isfinite(image).all()

    outcome(simulate.bead_field, shape, centers, data.draw(reals(1.0, 2.0)),
            names={"shape", "centers", "sigma", *kwargs}, check=check, **kwargs)


@budget(0.2)
@given(data=st.data())
def test_edge_chart_and_mtf_answer_any_parameters(data):
    kwargs = data.draw(keywords(angles=st.one_of(st.lists(reals(5.0, 30.0), max_size=3), st.sampled_from(JUNK)),
                                sigma=reals(1.5), tile=integers(32, 33, low=-1, high=40), noise=reals(0.0, 0.01),
                                seed=integers(None, 0, low=-3, high=2**70)))
    kwargs.setdefault("tile", 32)

    def check_chart(made):
        image, rois = made
        assert np.isfinite(image).all() and len(rois) == len(kwargs.get("angles", (1, 2, 3, 4)))

    def check_answer(answer):
        assert all(math.isfinite(value) and value >= 0 for value in answer.values())

    outcome(simulate.edge_chart, names={*kwargs}, check=check_chart, **kwargs)
    outcome(simulate.gaussian_mtf_answer, data.draw(reals(1.0, 2.0)), data.draw(reals(1.0, 0.5)),
            names={"sigma", "pixel_size"}, check=check_answer)


# ----------------------------------------------------------------------------- fixed bugs
_RNG = np.random.default_rng(7)
_X = _RNG.standard_normal((16, 16))
_Y = _X + _RNG.standard_normal((16, 16))
_V = _RNG.standard_normal((12, 12, 12))
_BIG = _RNG.standard_normal((40, 40))
_SOFT = masks.spherical_mask((16, 16), soft_edge=3)
_ONE_PIXEL = _dots((16, 16), {(8, 8): 1.0})
_V3D = _RNG.standard_normal((3, 32, 32))
_ANGLES = np.linspace(0.0, 180.0, 16, endpoint=False)
_SINOGRAM = _RNG.random((16, 16))
_ONE_RAY = np.zeros((16, 16))
_ONE_RAY[0, ::2] = 1  # the even projections reconstruct to zero inside the circle
_REGIONS = simulate.two_region_pair((48, 40), (1.0, 3.0), 0.3, seed=5)[0]
_LAZY_REGIONS = da.from_array(_REGIONS, chunks=16)
_READ_ONLY_MAP = np.empty(_REGIONS.shape, np.float32)
_READ_ONLY_MAP.flags.writeable = False
_COMPLEX_LAZY_MASK = da.ones(_REGIONS.shape, dtype=complex, chunks=16)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    _MOVIE = simulate.blinking_movie((32, 16, 24), sigma=(2.0, 1.2), theta=30.0, n_emitters=40, on_probability=0.1,
                                     dtype=np.float32, seed=2).movie

def _on_numpy_path(function):
    """``function`` run on the "numpy" compute path (:func:`compute_path`)."""

    def on_numpy_path(*args, **kwargs):
        with compute_path("numpy"):
            return function(*args, **kwargs)

    return on_numpy_path


#: What the fuzz tests found and the core now handles, one example each: (id, function, args, kwargs, names).
#: With ``names`` the call must raise a ValueError naming one of them, without it return a result.
FIXED = [
    ("FSC of values near 1e300 (edge-wrap test and spectra overflowed)", correlation.fourier_correlation,
     (_X * 1e300, _Y * 1e300), {"apodization": 2}, ()),
    ("FSC of denormal values (powers underflowed to 0)", correlation.fourier_correlation,
     (_X * 5e-320, _Y * 5e-320), {"apodization": 2}, ()),
    ("FSC of values near 1e150 (power1 * power2 overflowed)", correlation.fourier_correlation,
     (_X * 1e150, _Y * 1e150), {"apodization": 2}, ()),
    ("FSC of float32 images whose powers pass the float32 maximum (overflow in the range check)",
     correlation.fourier_correlation, ((_X * 1e18).astype(np.float32), (_Y * 1e18).astype(np.float32)),
     {"apodization": 2}, ()),
    ("decorrelation axis 2.0 (TypeError in swapaxes)", decorrelation.decorrelation, (_V3D,), {"axis": 2.0},
     ("axis",)),
    ("phase-randomised FSC with NaN shells past the randomisation shell (All-NaN slice)",
     randomization.phase_randomized_fsc, (_X, _Y, _ONE_PIXEL), {"seed": 0, "randomize_at": 0.99}, ()),
    ("randomize_at a resolution of Nyquist on an odd box (randomisation shell past the last: IndexError)",
     randomization.phase_randomized_fsc, (_X[:8, :9], _Y[:8, :9], np.ones((8, 9))), {"randomize_at": 2.0}, ()),
    ("sphere of radius 1e308 and a soft edge (radius_p overflowed, named radius_p)", masks.spherical_mask,
     ((8, 8),), {"radius": 1e308, "soft_edge": 1e308}, ("radius", "soft_edge")),
    ("Nyquist bound of a reference pixel near the float maximum (inf)", thresholds.resolution_from_crossing,
     (None, "bound", 1.7e308), {}, ("reference_pixel",)),
    ("float64 mask of denormal weights with float32 images, numpy path (zero in float32: 0/0)",
     _on_numpy_path(correlation.fourier_correlation), (_X.astype(np.float32), _Y.astype(np.float32)),
     {"mask": np.full((16, 16), 5e-320)}, ("mask",)),
    ("device given as an array (ambiguous truth value)", correlation.fourier_correlation, (_X, _Y),
     {"device": np.array(["cpu", "gpu"])}, ("device",)),
    ("background given as 1e300 (overflow in cast)", masks.soft_mask_outside_map, (_V,), {"noise": 1e300},
     ("noise",)),
    ("FSC with pixel sizes 1e50 apart (shell index overflowed in the kernel)", correlation.fourier_correlation,
     (_X, _Y), {"apodization": 0, "pixel_size": (1.0, 1e-50)}, ()),
    ("pixel size 1e-300 (overflowed)", correlation.fourier_correlation, (_X, _Y), {"pixel_size": 1e-300},
     ("pixel_size",)),
    ("pixel size as text '12' read as (1, 2)", correlation.fourier_correlation, (_X, _Y), {"pixel_size": "12"},
     ("pixel_size",)),
    ("complex mask (ComplexWarning)", correlation.fourier_correlation, (_X, _Y), {"mask": _SOFT.astype(complex)},
     ("mask",)),
    ("phase-randomised FSC of values near 1e300", randomization.phase_randomized_fsc, (_X * 1e300, _Y * 1e300, _SOFT),
     {"seed": 0}, ()),
    ("negative seed (numpy's unnamed ValueError)", randomization.phase_randomized_fsc, (_X, _Y, _SOFT), {"seed": -1},
     ("seed",)),
    ("float seed (TypeError)", randomization.randomize_phases, (_X, 0.2), {"seed": 1.5}, ("seed",)),
    ("random phases of values near the float64 maximum", randomization.randomize_phases, (_X * 1e307, 0.2), {}, ()),
    ("decorrelation of values near 1e300 (|I|^2 overflowed)", decorrelation.decorrelation, (_BIG * 1e300,),
     {"n_radii": 10, "n_highpass": 2}, ()),
    ("decorrelation of an object array (TypeError)", decorrelation.decorrelation, (_BIG.astype(object),), {},
     ("image",)),
    ("complex r_min (TypeError)", decorrelation.decorrelation, (_BIG,), {"r_min": 1j}, ("r_min",)),
    ("local maximum of an empty curve (numpy's argmax error)", decorrelation.local_maximum, ([],), {}, ("curve",)),
    ("mask threshold None (TypeError)", masks.make_mask, (_V,), {"threshold": None}, ("threshold",)),
    ("low-pass wider than the box (huge kernel; numpy's size error)", masks.make_mask, (_V,),
     {"lowpass_sigma": 1e6}, ("lowpass_sigma",)),
    ("soft edge as text (TypeError)", masks.make_mask, (_V,), {"soft_edge": "3"}, ("soft_edge",)),
    ("soft edge of a few denormals (overflow)", masks.make_mask, (_V,), {"soft_edge": 1e-320}, ()),
    ("float64 map beyond float32 (overflow in cast)", masks.make_mask, (_V * 1e300,), {}, ("volume",)),
    ("numeric threshold beyond float32 (overflow in cast)", masks.make_mask, (_V,), {"threshold": -1e300}, ()),
    ("low-pass of a complex map (ComplexWarning)", masks.lowpass_map, (_V.astype(complex),), {}, ("volume",)),
    ("threshold of a list (AttributeError)", masks.mask_threshold, (_V.tolist(),), {}, ("smooth",)),
    ("average of a list and a map (AttributeError)", masks.average_maps, (_V.tolist(), _V), {}, ("half1",)),
    ("half-maps averaging to a constant ('volume is constant')", masks.mask_from_half_maps, (_V, -_V), {},
     ("half1", "half2")),
    ("sphere centre NaN (a NaN mask)", masks.spherical_mask, ((8, 8),), {"center": (NAN, 1.0)}, ("center",)),
    ("sphere centre 1e300 (overflow)", masks.spherical_mask, ((8, 8),), {"center": (1e300, 1.0)}, ()),
    ("sphere radius as text (TypeError)", masks.spherical_mask, ((8, 8),), {"radius": "3"}, ("radius",)),
    ("softening a 0-d mask (RuntimeError)", masks.soften_mask, (np.True_, 2.0), {}, ("binary",)),
    ("background NaN (a NaN map)", masks.soft_mask_outside_map, (_V,), {"noise": NAN}, ("noise",)),
    ("width too wide, named soft_edge", masks.soft_mask_outside_map, (_V,), {"width": 7.0}, ("width",)),
    ("level as text (UFuncTypeError)", masks.thresholded_region, (_V, "0.5"), {}, ("level",)),
    ("negative shell counts (invalid sqrt)", thresholds.threshold_curve, ("half-bit", [-1, 4]), {}, ("n_points",)),
    ("empty shells (0/0 in half-bit)", thresholds.threshold_curve, ("half-bit", [0, 4]), {}, ()),
    ("no shells (IndexError)", thresholds.find_crossing, ([], [], 0.5), {}, ("curves", "frequency")),
    ("curve longer than frequency (unnamed broadcast error)", thresholds.find_crossing, ([0, 0.5], [1, 0.4, 0.1],
                                                                                          0.5), {}, ("curves",)),
    ("crossing 0 (ZeroDivisionError)", thresholds.resolution_from_crossing, (0.0, "resolved", 1.0), {},
     ("crossing",)),
    ("rule as an array (ambiguous truth value)", thresholds.check_crossing_rule, (np.array(["a", "b"]),), {},
     ("crossing_rule",)),
    ("infinite margin before the crossing (NaN crossing, 'resolved')", thresholds.find_crossing,
     ([0, 0.25, 0.5], [1, np.inf, 0.0], 0.5), {}, ()),
    ("huge margins (overflow)", thresholds.find_crossing, ([0, 0.25, 0.5], [1, 1e308, -1e308], 0.5), {}, ()),
    ("phantom sigma 1e200 (OverflowError; NaN truth)", simulate.phantom_pair, ((8, 8),), {"sigma": 1e200}, ()),
    ("phantom integer dtype (numpy's unnamed ValueError)", simulate.phantom_pair, ((8, 8),), {"dtype": int},
     ("dtype",)),
    ("expected correlation, noise 1e200 (OverflowError)", simulate.expected_correlation, ([0.1], 2.0, 1e200, 1.0),
     {}, ()),
    ("band-limited noise of shape (0, 5) (scipy's unnamed ValueError)", simulate.band_limited_noise, ((0, 5), 0.25),
     {}, ("shape",)),
    ("edge at an infinite angle (invalid value)", simulate.slanted_edge, ((16, 16), INF, 1.0), {}, ("angle",)),
    ("edge of a 1-D shape (unpacking error)", simulate.slanted_edge, ((16,), 5.0, 1.0), {}, ("shape",)),
    ("spot of sigma 1e-200 (division by zero)", simulate.gaussian_spot, ((16, 16), (8, 8), 1e-200), {}, ()),
    ("beads at {} (TypeError)", simulate.bead_field, ((16, 16), {}, 1.0), {}, ("centers",)),
    ("chart of one angle, not a list (TypeError)", simulate.edge_chart, (5.0,), {"tile": 32}, ("angles",)),
    ("MTF answer of sigma 1e200 (OverflowError)", simulate.gaussian_mtf_answer, (1e200,), {}, ("sigma",)),
    # found by test_estimators_fuzz.py (#24)
    ("angles as complex numbers (ComplexWarning, imaginary parts dropped)", tomography.tomography_frc,
     (_SINOGRAM, _ANGLES * 1j), {}, ("theta",)),
    ("back-projection of an object stack (TypeError)", tomography.filtered_back_projection,
     (_SINOGRAM.T[None].astype(object), _ANGLES), {}, ("stack",)),
    ("a reconstruction that is constant (named half1, not an argument)", tomography.tomography_frc,
     (_ONE_RAY, _ANGLES), {}, ("sinogram",)),
    ("angles file holding 1e400 (Inf angles accepted)", tomography.parse_angles, ("0 1e400",), {}, ("angles",)),
    ("tomography phantom of size 0 (named shape)", simulate.tomography_sinogram, (0,), {}, ("size",)),
    ("dose of a denormal (Inf line integrals)", simulate.tomography_sinogram, (16,), {"dose": 2.2e-309}, ("dose",)),
    ("dose of 9.2e18 (numpy's unnamed 'lam value too large')", simulate.tomography_sinogram, (16,), {"dose": 9.2e18},
     ("dose",)),
    ("blinking background of 9.2e18 (numpy's unnamed 'lam value too large')", simulate.blinking_movie, ((2, 8, 8),),
     {"background": 9.2e18}, ("background",)),
    ("blinking with a bleaching time of a denormal (overflow in divide)", simulate.blinking_movie, ((2, 8, 8),),
     {"bleach_frames": 2.225073858507203e-309}, ()),
    ("blinking read noise of 1.8e308 (overflow)", simulate.blinking_movie, ((2, 8, 8),), {"read_noise": 1.8e308},
     ("read_noise",)),
    ("two regions of noise 1.2e38 in float32 (Inf halves)", simulate.two_region_pair, ((16, 16),), {"noise": 1.2e38},
     ("noise",)),
    ("attenuation of 3.4e38 (float32 data overflowed to Inf)", simulate.tomography_sinogram, (16,),
     {"attenuation": 3.4028235677973366e38}, ("attenuation",)),
    ("single-map white noise of 1e-30 (ZeroDivisionError in its gamma model)", single_map.local_resolution,
     (_REGIONS,), {"noise": 1e-30}, ("noise",)),
    ("single-map white noise of 1.3e154 (OverflowError)", single_map.local_resolution, (_REGIONS,),
     {"noise": 1.3e154}, ("noise",)),
    ("single-map white noise of 2.3e10 (overflow in its square)", single_map.local_resolution, (_REGIONS,),
     {"noise": 2.3e10}, ("noise",)),
    ("single-map test of a map of 1e-20 (float32 squares underflowed)", single_map.local_resolution,
     (_REGIONS * np.float32(1e-20),), {"noise": 3e-21}, ()),
    ("two regions of sigmas None (TypeError)", simulate.two_region_pair, ((16, 16),), {"sigmas": None}, ("sigmas",)),
    ("two regions of no sigmas (unnamed unpacking error)", simulate.two_region_pair, ((16, 16),), {"sigmas": []},
     ("sigmas",)),
    ("camera given as an array (ambiguous truth value)", simulate.blinking_movie, ((2, 8, 8),),
     {"camera": np.array([1.0, 2.0])}, ("camera",)),
    ("blinking with an on-time of 1e18 frames (int64 overflow: a simulation that never ended)",
     simulate.blinking_movie, ((16, 8, 8),), {"n_emitters": 5, "on_time": 1e18}, ("on_time",)),
    ("blinking with an on-probability of 1e-300 (numpy's unnamed 'negative dimensions')", simulate.blinking_movie,
     ((16, 8, 8),), {"n_emitters": 5, "on_probability": 1e-300}, ("on_probability",)),
    ("a PSF of 1.5 at pixels of 1e-30 (memory refused, named n_emitters)", simulate.blinking_movie, ((2, 8, 8),),
     {"pixel_size": 1e-30}, ("sigma", "pixel_size")),
    ("single-map window of a denormal (OverflowError)", single_map.local_resolution, (_REGIONS,),
     {"noise": 0.5, "window": 5e-324}, ("window",)),
    ("single-map window of 3.8e307 (overflow in cast)", single_map.local_resolution, (_REGIONS,),
     {"noise": 0.5, "window": 3.8e307}, ("window",)),
    ("local FSC into out=3.0 (AttributeError)", local.local_fsc, (_REGIONS, _REGIONS + _X.mean()), {"out": 3.0},
     ("out",)),
    ("local FSC into a read-only out (unnamed 'assignment destination is read-only')", local.local_fsc,
     (_LAZY_REGIONS, _LAZY_REGIONS + 1.0), {"box": 16, "out": _READ_ONLY_MAP}, ("out",)),
    ("local FSC block by block with mask=3.0 (AttributeError)", local.local_fsc,
     (_LAZY_REGIONS, _LAZY_REGIONS + 1.0), {"box": 16, "mask": 3.0, "out": np.empty(_REGIONS.shape, np.float32)},
     ("mask",)),
    ("local FSC block by block with a complex lazy mask (ComplexWarning)", local.local_fsc,
     (_LAZY_REGIONS, _LAZY_REGIONS + 1.0), {"box": 16, "mask": _COMPLEX_LAZY_MASK,
                                            "out": np.empty(_REGIONS.shape, np.float32)}, ("mask",)),
    ("local FSC block by block of boolean halves (unnamed 'got a boolean array')", local.local_fsc,
     (_LAZY_REGIONS > 0, _LAZY_REGIONS < 0), {"box": 16, "out": np.empty(_REGIONS.shape, np.float32)}, ("half1",)),
    ("blink PSF at a pixel size of 1e30 (0/0 in the PSF image)", blink.blink_psf, (_MOVIE,), {"pixel_size": 1e30}, ()),
]


@pytest.mark.parametrize(("function", "args", "kwargs", "names"),
                         [pytest.param(*row[1:], id=row[0]) for row in FIXED])
def test_fixed_bugs_stay_fixed(function, args, kwargs, names):
    result = outcome(function, *args, names=set(names), **kwargs)
    assert (result is None) == bool(names), "expected a ValueError" if names else "expected a result"


@pytest.mark.parametrize("size", [8, 9])
def test_fuzz_helpers_build_what_they_say(size):
    """The array builder itself: shapes, dtypes and the special values land where promised."""
    spec = Spec((size, 3), "float64", "nan", 1, 2, "C")
    assert np.isnan(build(spec)).sum() == 1
    assert np.ptp(build(spec._replace(kind="constant"))) == 0
    assert build(spec._replace(dtype=">f4", layout="F")).dtype == np.dtype(">f4")
    assert not build(spec._replace(layout="read-only")).flags.writeable
