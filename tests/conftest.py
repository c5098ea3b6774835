"""Shared test configuration: the hypothesis profiles of the property-based tests (tests/fuzz).

"ci" (the default) is deterministic and bounded, so every run tries the same cases; "thorough"
tries ten times as many, freshly drawn, to look for rarer failures::

    HYPOTHESIS_PROFILE=thorough .venv/bin/python -m pytest tests/fuzz --hypothesis-show-statistics
"""

import os

from hypothesis import HealthCheck, settings

_SHARED = {"deadline": None, "database": None, "print_blob": True,
           "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}

settings.register_profile("ci", derandomize=True, max_examples=400, **_SHARED)
settings.register_profile("thorough", derandomize=False, max_examples=4000, **_SHARED)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
