"""Shared pytest configuration: a deterministic hypothesis profile.

``derandomize=True`` (and no example database) makes every run draw the same examples,
so a CI failure reproduces locally; the example counts keep the whole suite within a few
minutes on 2 cores.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "perpsbook",
    derandomize=True,
    database=None,
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "perpsbook"))
