"""Helpers shared by the frozen result dataclasses: read-only arrays and JSON export."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

__all__ = ["ResultMixin", "jsonable"]


def jsonable(value):
    """Convert ``value`` to plain JSON types; NaN and +/-Inf become None."""
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
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
