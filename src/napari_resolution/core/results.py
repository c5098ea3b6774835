"""Helpers shared by the frozen result dataclasses: read-only arrays and JSON export."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

__all__ = ["ResultMixin", "ShellResultMixin", "jsonable", "resolution_summary"]


def jsonable(value):
    """Convert ``value`` to plain JSON types; NaN and +/-Inf become None."""
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


class ResultMixin:
    """Mixin for frozen dataclasses: arrays made read-only, ``to_dict()`` for JSON."""

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
            elif isinstance(value, dict):
                for item in value.values():
                    if isinstance(item, np.ndarray):
                        item.flags.writeable = False

    def to_dict(self) -> dict:
        """Every field as JSON-ready values (lists, floats, None for NaN/Inf)."""
        return {f.name: jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}


def resolution_summary(resolution, status: str, criterion: str, unit: str = "", *, curve: str = "correlation",
                       qualifier: str = "", extra: str = "") -> str:
    """One copyable line, e.g. ``3.42 Å (half-bit, full period) · 1.71 Å half period · status crossed``.

    Parameters
    ----------
    resolution : float or None
        Full-period resolution (the Nyquist bound for "never_below").
    status : str
        "crossed", "never_below" or "never_above".
    criterion : str
        Threshold name.
    unit : str
        Unit of the resolution.
    curve : str
        What was read ("correlation", "corrected FSC"), for the no-resolution message.
    qualifier : str
        Added inside the parentheses, e.g. "phase-randomisation corrected".
    extra : str
        Appended before the status, e.g. " · masked 3.1 Å".
    """
    unit = f" {unit}" if unit else ""
    if status == "never_above":
        return f"no resolution: the {curve} is never above {criterion} · status never_above"
    bound = "≤ " if status == "never_below" else ""
    qualifier = f", {qualifier}" if qualifier else ""
    return (f"{bound}{resolution:.3g}{unit} ({criterion}, full period{qualifier}) · "
            f"{bound}{resolution / 2:.3g}{unit} half period{extra} · status {status}")


class ShellResultMixin(ResultMixin):
    """Results on frequency shells: physical frequencies from ``frequency`` and ``reference_pixel_size``."""

    @property
    def spatial_frequency(self) -> np.ndarray:
        """Shell centres in cycles per physical unit (``frequency / reference_pixel_size``)."""
        return self.frequency / self.reference_pixel_size
