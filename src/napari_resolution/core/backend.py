"""Array back-end: numpy on the CPU or cupy on a GPU, through one code path.

The namespace is taken from the input arrays; every estimator calls
:func:`get_namespace` once and then uses ``xp``, :func:`rfftn` and
:func:`to_host`. cupy is imported only when an input already is a cupy array,
so ``import napari_resolution`` never needs it.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import math
import os
import types

import numpy as np
import scipy.fft

from .validation import shown

__all__ = [
    "fftn_inplace",
    "available_memory",
    "check_allocation",
    "fits_in_memory",
    "format_bytes",
    "get_namespace",
    "gpu_available",
    "in_memory",
    "is_lazy",
    "ifftn_inplace",
    "irfftn",
    "is_cupy",
    "resolve_device",
    "rfftn",
    "to_device",
    "to_host",
]


def is_cupy(array) -> bool:
    """Return True when ``array`` is a cupy array (without importing cupy)."""
    return type(array).__module__.split(".")[0] == "cupy"


def get_namespace(*arrays) -> types.ModuleType:
    """Return ``cupy`` if any of ``arrays`` lives on the GPU, else ``numpy``.

    ``None`` entries are ignored, so optional arguments can be passed as they are.
    """
    for array in arrays:
        if array is not None and is_cupy(array):
            import cupy

            return cupy
    return np


DEVICES = (None, "cpu", "gpu")


def resolve_device(device, *arrays) -> types.ModuleType:
    """The namespace an estimator computes in: where ``arrays`` live, or the ``device`` asked for.

    Parameters
    ----------
    device : {None, "cpu", "gpu"}
        None: numpy, or cupy if any input is a cupy array. "cpu": numpy.
        "gpu": cupy (inputs are copied there by :func:`to_device`).
    *arrays : arrays or None
        The estimator's inputs.

    Raises
    ------
    ValueError
        An unknown device, or "gpu" without cupy and a CUDA device.
    """
    if not (device is None or isinstance(device, str) and device in DEVICES):  # (an array has no truth value)
        raise ValueError(f"device must be None, 'cpu' or 'gpu', got {shown(device)}")
    if device == "cpu":
        return np
    if device == "gpu":
        if not gpu_available():
            raise ValueError("device='gpu' needs cupy and a CUDA GPU (pip install 'napari-resolution[gpu]')")
        import cupy

        return cupy
    return get_namespace(*arrays)


def to_device(array, xp: types.ModuleType):
    """Move ``array`` into namespace ``xp`` (no copy when it is already there)."""
    if array is None:
        return None
    if xp is np:
        return to_host(array)
    return xp.asarray(array)


def to_host(array) -> np.ndarray:
    """Return ``array`` as a numpy array (copying from the GPU when needed)."""
    if is_cupy(array):
        return array.get()
    return np.asarray(array)


#: Elements per slab of a transform that reports progress (64 MiB of complex64, about 0.3 s on two cores).
SLAB_ELEMENTS = 2**23


def _workers() -> int:
    """Threads for a CPU transform: every core, or ``OMP_NUM_THREADS`` when set lower (a batch worker's share)."""
    cores = os.cpu_count() or 1
    limit = os.environ.get("OMP_NUM_THREADS", "")
    return min(cores, int(limit)) if limit.isdigit() and int(limit) >= 1 else cores


def rfftn(array, axes=None, shape=None):
    """Real-input N-D FFT on the array's own device; CPU transforms use all cores.

    ``shape`` (one length per transformed axis) zero-pads the array to it first.
    """
    if is_cupy(array):
        import cupyx.scipy.fft as cufft

        return cufft.rfftn(array, s=shape, axes=axes)
    return scipy.fft.rfftn(array, s=shape, axes=axes, workers=_workers())


def irfftn(spectrum, shape):
    """Inverse of :func:`rfftn` to real-space ``shape``, on the spectrum's device (CPU: all cores)."""
    if is_cupy(spectrum):
        import cupyx.scipy.fft as cufft

        return cufft.irfftn(spectrum, s=shape)
    return scipy.fft.irfftn(spectrum, s=shape, workers=_workers())


def _lines_along(array, axis: int, support):
    """View of ``array`` whose axes after ``axis`` are cut to ``support``: the lines a pruned pass transforms."""
    return array[tuple(support[other] if other > axis else slice(None) for other in range(array.ndim))]


def _in_place(transform, view, **axes) -> None:
    """``transform`` of the array ``view`` (any strides), written back into it."""
    result = transform(view, overwrite_x=True, workers=_workers(), **axes)
    if not np.may_share_memory(result, view):  # scipy declined to work in place
        view[...] = result


def _slabs(view, axis: int) -> list:
    """``view`` cut across an axis other than ``axis`` into parts of about :data:`SLAB_ELEMENTS` elements."""
    across = 1 if axis == 0 else 0
    length = view.shape[across]
    step = max(1, SLAB_ELEMENTS * length // max(1, view.size))
    return [view[(slice(None),) * across + (slice(start, start + step),)] for start in range(0, length, step)]


def _transform_in_place(array, support, transform_n, transform_1, axis_order, progress=None):
    """N-D transform of ``array`` in place; with a ``support``, 1-D passes over the lines that matter.

    ``transform_n`` does the whole array; with ``support``, ``transform_1``
    runs axis by axis in ``axis_order`` along the lines :func:`_lines_along`
    selects. With ``progress`` and more than :data:`SLAB_ELEMENTS` elements,
    each axis pass runs in slabs and ``progress`` gets the fraction done after each.
    """
    sliced = progress is not None and array.size > SLAB_ELEMENTS
    if support is None and not sliced:
        _in_place(transform_n, array)
        return array
    support = support or (slice(None),) * array.ndim
    passes = [(axis, part) for axis in axis_order
              for part in (_slabs(_lines_along(array, axis, support), axis) if sliced
                           else [_lines_along(array, axis, support)])]
    for done, (axis, part) in enumerate(passes, 1):
        _in_place(transform_1, part, axis=axis)
        if progress is not None:
            progress(done / len(passes))
    return array


def fftn_inplace(array, support=None, progress=None):
    """Complex N-D FFT of a numpy array, overwriting it (CPU, all cores).

    Parameters
    ----------
    array : complex ndarray
        Transformed in place.
    support : tuple of slice, optional
        Per axis, a range outside which ``array`` is zero. The axes are then
        transformed one at a time, first to last, each only along the lines
        that are not all zero yet: for a mask filling 3/4 of each axis, a
        256^3 transform takes 0.8 of the time.
    progress : callable, optional
        Called with the fraction done; a large array is then transformed in
        slabs, reporting after each (about every 0.3 s on two cores).
    """
    return _transform_in_place(array, support, scipy.fft.fftn, scipy.fft.fft, range(array.ndim), progress)


def ifftn_inplace(array, support=None):
    """Inverse complex N-D FFT of a numpy array, overwriting it (CPU, all cores).

    Parameters
    ----------
    array : complex ndarray
        Transformed in place.
    support : tuple of slice, optional
        Per axis, the range of the result that is needed. The axes are then
        transformed last to first, each only along the lines that reach it;
        values outside ``support`` are left half-transformed (meaningless).
    """
    return _transform_in_place(array, support, scipy.fft.ifftn, scipy.fft.ifft, reversed(range(array.ndim)))


def gpu_available() -> bool:
    """True when cupy is installed and sees at least one CUDA device."""
    if importlib.util.find_spec("cupy") is None:
        return False
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # any CUDA/driver failure means no usable GPU
        return False


def is_lazy(array) -> bool:
    """True for arrays read on demand: dask arrays and zarr arrays."""
    if array is None or isinstance(array, np.ndarray) or is_cupy(array):
        return False
    is_dask = hasattr(array, "compute") and hasattr(array, "chunks") and hasattr(array, "dask")
    return is_dask or type(array).__module__.split(".")[0] == "zarr"


def available_memory() -> int:
    """Bytes of memory available to this process now (``MemAvailable`` on Linux, else the free pages)."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")  # pragma: no cover - not Linux


def in_memory(*names):
    """Decorator: the estimator's arguments ``names``, when lazy (dask, zarr), are read into memory once.

    Estimators that need the whole array at once (a global FFT) use it:
    without it, each numpy operation on a dask array would compute its graph
    (read the file) again. ValueError naming the arguments when, together,
    they would not fit in the memory available.
    """
    def decorate(estimator):
        signature = inspect.signature(estimator)

        @functools.wraps(estimator)
        def wrapper(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            lazy = {name: bound.arguments[name] for name in names if is_lazy(bound.arguments.get(name))}
            if lazy:
                _check_fits(lazy, estimator.__name__)
                for name, array in lazy.items():
                    bound.arguments[name] = np.asarray(array)
            return estimator(*bound.args, **bound.kwargs)

        return wrapper

    return decorate


def check_allocation(n_bytes, what: str, advice: str = "") -> None:
    """ValueError, before anything is allocated, when ``n_bytes`` would not fit in the memory available.

    The rule of the lazy inputs (:func:`in_memory`): what is needed must not
    exceed :func:`available_memory`. Every entry point whose arguments decide
    how much it allocates (a shape, a count, a box) asks this first, so that a
    huge value gets one clear line instead of a MemoryError or the kernel's
    out-of-memory kill.

    Parameters
    ----------
    n_bytes : int or float
        The memory needed: the largest arrays the arguments imply, held at once.
    what : str
        What needs it, starting with the argument at fault, e.g.
        ``"shape (100000, 100000, 100000)"`` (the error message starts with it).
    advice : str, optional
        How to need less, appended to the message.

    Raises
    ------
    ValueError
        ``"<what> needs 7.1 PiB, more than the 12.3 GiB of memory available: <advice>"``.
    """
    available = available_memory()
    if not n_bytes <= available:  # (NaN: an overflowed estimate, refused too)
        raise ValueError(f"{what} needs {format_bytes(n_bytes)}, more than the {format_bytes(available)} of memory "
                         f"available{': ' + advice if advice else ''}")


def format_bytes(n_bytes) -> str:
    """``n_bytes`` in binary units for a message: ``512 B``, ``1.5 KiB`` ... ``7.11 PiB``, ``8.67e+03 EiB``."""
    value, unit = float(n_bytes) if n_bytes < 2.0**1000 else math.inf, "B"  # (a Python int may pass float's range)
    if not math.isfinite(value):
        return "more than 1e308 bytes"
    for larger in ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if value < 1024:
            break
        value, unit = value / 1024, larger
    return f"{value:.3g} {unit}"


def fits_in_memory(arrays) -> bool:
    """True when ``arrays`` (lazy or not) would fit together in the memory available (unknown sizes: True)."""
    return _needed_bytes(arrays) <= available_memory()


def _needed_bytes(arrays) -> int:
    """Bytes of ``arrays`` once in memory; 0 when a size is unknown (dask chunks not yet known)."""
    if any(not np.isfinite(n) for a in arrays for n in a.shape):
        return 0
    return sum(int(np.prod(a.shape)) * np.dtype(a.dtype).itemsize for a in arrays)


def _check_fits(lazy: dict, estimator: str) -> None:
    """ValueError when the lazy arrays ``lazy`` (name -> array) would not fit in memory together.

    Arrays of unknown size (dask chunks not yet known) are not checked: reading them says.
    """
    needed = _needed_bytes(lazy.values())
    available = available_memory()
    if needed > available:
        described = ", ".join(f"{name} {tuple(a.shape)} {np.dtype(a.dtype)}" for name, a in lazy.items())
        raise ValueError(f"{' and '.join(lazy)} ({described}: {format_bytes(needed)}) would not fit in the "
                         f"memory available ({format_bytes(available)}): {estimator} needs the whole array at "
                         "once; crop or bin it first (blink_psf streams over frames)")
