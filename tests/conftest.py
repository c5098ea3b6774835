"""Shared test configuration: the test tiers' markers and the hypothesis profiles of the property-based tests.

Every test in tests/gui is marked ``gui`` and every test in tests/fuzz ``slow`` (other slow tests carry the
marker themselves), so the quick tier is ``pytest -m "not slow and not gui"``.

"ci" (the default) is deterministic and bounded, so every run tries the same cases; "thorough"
tries ten times as many, freshly drawn, to look for rarer failures::

    HYPOTHESIS_PROFILE=thorough .venv/bin/python -m pytest tests/fuzz --hypothesis-show-statistics
"""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

_SHARED = {"deadline": None, "database": None, "print_blob": True,
           "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}

settings.register_profile("ci", derandomize=True, max_examples=400, **_SHARED)
settings.register_profile("thorough", derandomize=False, max_examples=4000, **_SHARED)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


_TIERS = {"gui": pytest.mark.gui, "fuzz": pytest.mark.slow}


def pytest_collection_modifyitems(items):
    """Mark the tests of tests/gui ``gui`` and those of tests/fuzz ``slow``."""
    for item in items:
        folder = Path(str(item.fspath)).parent.name
        if folder in _TIERS:
            item.add_marker(_TIERS[folder])
