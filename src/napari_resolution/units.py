"""Length units of pixel sizes: their names in files' metadata, conversions, and the one unit of an image.

Every reader of :mod:`.io` (MRC, TIFF, and the libraries' readers of :mod:`.formats`) gives a pixel size in
one of the short units of :data:`LENGTH_EXPONENTS`, the same way: the X axis' unit, converted from metres (or
cm, mm, pm) to the readable one of µm, nm, Å.
"""

from __future__ import annotations

import math
import re

__all__ = ["LENGTH_EXPONENTS", "LENGTH_NAMES", "common_unit", "convert", "readable_unit", "short_unit"]

#: Length units by short name, as powers of ten of a metre.
LENGTH_EXPONENTS = {"m": 0, "cm": -2, "mm": -3, "µm": -6, "nm": -9, "Å": -10, "pm": -12}
#: Short unit -> its full name, as pint (napari's layer ``units``) and OME-NGFF spell it.
LENGTH_NAMES = {"m": "meter", "cm": "centimeter", "mm": "millimeter", "µm": "micrometer", "nm": "nanometer",
                "Å": "angstrom", "pm": "picometer"}
#: Lower-case unit names found in ImageJ, OME, HyperSpy and NGFF metadata and in napari's ``units`` -> short name.
_ALIASES = {
    **{name.lower(): name for name in LENGTH_EXPONENTS},
    **{long: short for short, long in LENGTH_NAMES.items()},
    "um": "µm", "\u03bcm": "µm", "micron": "µm", "microns": "µm", "micrometre": "µm", "micrometers": "µm",
    "nanometre": "nm", "nanometers": "nm", "angstroms": "Å", "\u212b": "Å", "metre": "m", "meters": "m",
}
#: The units an image's pixel size is given in (others, e.g. metres, are converted to one of these).
_READABLE = ("µm", "nm", "Å")


def short_unit(name) -> str | None:
    """"µm", "nm", "Å"... for a unit name (any case; ImageJ ``\\uXXXX`` escapes decoded); None if not a length."""
    if not isinstance(name, str):
        name = getattr(name, "value", None)  # an enum of units (ome-types)
        if not isinstance(name, str):
            return None
    name = re.sub(r"\\u([0-9a-fA-F]{4})", lambda match: chr(int(match.group(1), 16)), name)
    return _ALIASES.get(name.strip().lower())


def convert(value: float, source: str, target: str) -> float:
    """``value`` in unit ``source`` expressed in unit ``target`` (short names; exact for whole powers of ten)."""
    step = LENGTH_EXPONENTS[source] - LENGTH_EXPONENTS[target]
    return value * 10.0**step if step >= 0 else value / 10.0**-step


def readable_unit(size: float, unit: str) -> str:
    """``unit`` when it is µm, nm or Å; else (m, cm, mm, pm) the first of those in which ``size`` is at least 1,
    e.g. 1.2e-10 m -> Å, 5e-9 m -> nm, 3e-6 m -> µm."""
    if unit in _READABLE:
        return unit
    return next((target for target in _READABLE if convert(size, unit, target) >= 1), _READABLE[-1])


def common_unit(calibration: dict) -> tuple[dict, str] | None:
    """Pixel sizes in one unit, from sizes each with its own unit.

    Parameters
    ----------
    calibration : dict of str to (float, unit name)
        Axis letter ("X", "Y", "Z") -> its size and unit name, as a file's metadata holds them.

    Returns
    -------
    (dict of str to float, str) or None
        The sizes in X's unit (made readable: :func:`readable_unit`) and that unit; None when X has no size,
        a unit is not a length, or a size is not finite and positive.
    """
    found = {axis: (size, short_unit(unit)) for axis, (size, unit) in calibration.items()}
    if "X" not in found or any(short is None or size is None for size, short in found.values()):
        return None
    try:
        sizes = {axis: float(size) for axis, (size, _) in found.items()}
    except (TypeError, ValueError):
        return None
    if not all(math.isfinite(size) and size > 0 for size in sizes.values()):
        return None
    unit = readable_unit(sizes["X"], found["X"][1])
    return {axis: convert(sizes[axis], short, unit) for axis, (_, short) in found.items()}, unit
