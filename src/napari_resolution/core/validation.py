"""Input checks shared by every estimator: each failure is a ValueError naming the argument."""

from __future__ import annotations

import functools
import math
import re
import reprlib
import warnings
from numbers import Integral, Real

import numpy as np

__all__ = ["check_choice", "check_image", "check_int", "check_mask", "check_number", "check_progress",
           "check_same_shape", "is_number", "random_generator", "renamed", "renamed_keywords", "shown",
           "working_dtype"]



def _short_repr() -> reprlib.Repr:
    """How values are abbreviated in error messages (long sequences and strings end in "...")."""
    short = reprlib.Repr()
    short.maxlist = short.maxtuple = 8
    short.maxstring = short.maxother = 60
    return short


_SHORT = _short_repr()

#: The argument names an error message starts with: "a must ...", "a and b must ...", "movie[1] must ...".
_LEADING_ARGUMENTS = re.compile(r"^(\w+(?:\[\d+\])?)(?: and (\w+(?:\[\d+\])?))?(?!\w)")


def _plain(value):
    """``value`` with numpy scalars and arrays (also inside tuples and lists) as Python numbers and lists."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    if isinstance(value, (tuple, list)):
        return type(value)(_plain(item) for item in value)
    return value


def renamed(message: str, names: dict) -> str:
    """``message`` with the argument names it starts with replaced by what the user calls them.

    Every error of the core starts with the argument at fault ("a contains
    NaN", "a and b must have the same shape"); the CLI and the widgets name
    the user's file or layer instead.

    Parameters
    ----------
    message : str
        An error message of the core.
    names : dict of str to str
        Argument name -> the user's name (e.g. {"a": "half1.mrc"}).

    Returns
    -------
    str
    """
    def replace(match) -> str:
        return " and ".join(names.get(name, name) for name in match.groups() if name)

    return _LEADING_ARGUMENTS.sub(replace, message, count=1)


def shown(value) -> str:
    """``repr(value)`` for an error message: numpy scalars as plain numbers (``2.5``, not ``np.float64(2.5)``),
    long sequences and strings abbreviated with "..."."""
    return _SHORT.repr(_plain(value))


def working_dtype(dtype) -> np.dtype:
    """Floating dtype used for computing on data of ``dtype``.

    float32 and float64 are kept; small integers become float32, other real
    types float64. Booleans are refused: a True/False array is a mask, not
    data (a thresholded image has lost what every estimator measures).
    """
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        raise ValueError("got a boolean (True/False) array: that is a mask, not an image to measure")
    if dtype.kind == "f":
        return np.dtype(np.float32) if dtype.itemsize <= 4 else np.dtype(np.float64)
    if dtype.kind in "iu":
        return np.dtype(np.float32) if dtype.itemsize <= 2 else np.dtype(np.float64)
    raise ValueError(f"expected real-valued data, got dtype {dtype}")


def check_image(array, name: str, ndims=(2, 3), min_size: int = 8):
    """Check that ``array`` is a finite, non-constant real array of allowed rank.

    Parameters
    ----------
    array : numpy or cupy array
        Data to check (not modified, not copied).
    name : str
        Argument name used in error messages.
    ndims : tuple of int
        Allowed numbers of dimensions.
    min_size : int
        Smallest allowed length of every axis.

    Raises
    ------
    ValueError
        Wrong rank, too small, non-real dtype, NaN/Inf values or a constant image.
    """
    shape = getattr(array, "shape", None)
    if shape is None or not hasattr(array, "dtype"):
        raise ValueError(f"{name} must be an array, got {type(array).__name__}")
    if len(shape) not in ndims:
        allowed = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"{name} must be {allowed}, got {len(shape)}-D array of shape {shape}")
    if min(shape) < min_size:
        raise ValueError(f"{name} must be at least {min_size} pixels on every axis, got shape {shape}")
    try:
        working_dtype(array.dtype)
    except ValueError as err:
        raise ValueError(f"{name}: {err}") from None
    low, high = float(array.min()), float(array.max())
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(f"{name} contains NaN or Inf values")
    if low == high:
        raise ValueError(f"{name} is constant (every value is {low:g}): nothing to correlate")


def check_mask(mask, shape, name: str = "mask", *, values: bool = True):
    """Check a real-space weight map: same ``shape``, finite, in [0, 1], not all zero.

    ``values=False`` checks the shape only, for a caller whose first pass
    over the mask checks its values.
    """
    if getattr(mask, "shape", None) != tuple(shape):
        raise ValueError(f"{name} must have the data's shape {tuple(shape)}, got {getattr(mask, 'shape', None)}")
    if np.dtype(getattr(mask, "dtype", object)).kind not in "biuf":
        raise ValueError(f"{name} must hold real weights in [0, 1], got dtype {mask.dtype}")
    if not values:
        return
    low, high = float(mask.min()), float(mask.max())
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(f"{name} contains NaN or Inf values")
    if low < 0 or high > 1:
        raise ValueError(f"{name} values must lie in [0, 1], got [{low:g}, {high:g}]")
    if high == 0:
        raise ValueError(f"{name} is zero everywhere")


def check_int(value, name: str, minimum: int = 0) -> int:
    """Return ``value`` as int, or raise ValueError if it is not an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {shown(value)}")
    return int(value)


def random_generator(seed) -> np.random.Generator:
    """``np.random.default_rng(seed)`` for None, an integer >= 0 or a Generator; else a ValueError naming seed."""
    if seed is not None and not isinstance(seed, np.random.Generator) and (
            isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0):
        raise ValueError(f"seed must be None, an integer >= 0 or a numpy Generator, got {shown(seed)}")
    return np.random.default_rng(seed)


def check_number(value, name: str, low: float = -math.inf, *, above: bool = False) -> float:
    """``value`` as a finite float >= ``low`` (> with ``above``), or a ValueError naming ``name``."""
    if not (is_number(value) and (value > low if above else value >= low)):
        bound = "" if low == -math.inf else f" {'>' if above else '>='} {low:g}"
        raise ValueError(f"{name} must be a finite number{bound}, got {shown(value)}")
    return float(value)


def is_number(value) -> bool:
    """True for a finite real number (a Python or numpy scalar; not a bool)."""
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def check_choice(value, name: str, choices) -> str:
    """``value`` when it is one of ``choices`` (strings), else a ValueError naming ``name`` and the choices."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {shown(value)}")
    return value


def check_same_shape(first, second, names: tuple[str, str]) -> tuple[int, ...]:
    """The common shape of two arrays, or a ValueError naming both arguments (``names``) and both shapes."""
    shapes = tuple(tuple(getattr(array, "shape", ())) for array in (first, second))
    if shapes[0] != shapes[1]:
        raise ValueError(f"{names[0]} and {names[1]} must have the same shape, got {shapes[0]} and {shapes[1]}")
    return shapes[0]


def renamed_keywords(**renames):
    """Decorator: keyword arguments renamed in this release (``old="new"``) still work, with a DeprecationWarning.

    The pair arguments of every estimator are ``half1`` and ``half2``
    (docs/conventions.md); the old names (``a``/``b``, ``h1``/``h2``,
    ``volume``) are accepted for one release.
    """
    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{function.__name__}() got both {old}= (its old name) and {new}=")
                    warnings.warn(f"{function.__name__}({old}=...) is deprecated: call it {new}=", DeprecationWarning,
                                  stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return function(*args, **kwargs)

        return wrapper

    return decorate


def check_progress(progress):
    """Check that ``progress`` is None or callable."""
    if progress is not None and not callable(progress):
        raise ValueError(f"progress must be a callable taking a fraction in [0, 1], got {progress!r}")
