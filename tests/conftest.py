"""Test set-up shared by every test.

The suite runs against PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set (always in CI)
and against SQLite otherwise. In CI (`CI=true`) a skipped test counts as a failure, so that no
test can hide behind a missing service.
"""

import contextlib
import os

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"Skipped in CI, where every service must be present: {reason}"


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    from copilot.integrations.ratelimit import forget_shared_rate_limiters

    forget_shared_rate_limiters()
    yield
    with contextlib.suppress(Exception):  # a test may have pointed the cache at a stopped Redis
        cache.clear()
