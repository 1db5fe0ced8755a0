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
    from intents.models import intent_titles_forget

    forget_shared_rate_limiters()
    intent_titles_forget()  # a renamed intent's title must not outlive its test's transaction
    yield
    with contextlib.suppress(Exception):  # a test may have pointed the cache at a stopped Redis
        cache.clear()


class Broker:
    """The Celery broker as publishers see it: records what is published instead of running it,
    and refuses while `down` is set, as Redis does when it is stopped."""

    def __init__(self) -> None:
        self.published: list[tuple[str, tuple]] = []
        self.down = False

    def send_task(self, name, args=(), **_):
        if self.down:
            from kombu.exceptions import OperationalError

            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        self.published.append((name, tuple(args)))

    def tasks(self, name: str) -> list[tuple]:
        return [args for task, args in self.published if task == name]


@pytest.fixture
def broker(monkeypatch):
    """Queued work is published to a recording broker instead of running in process."""
    from copilot.celery import app

    broker = Broker()
    # Celery's settings object cannot be monkeypatched (it cannot delete what it did not set).
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    monkeypatch.setattr("copilot.queueing.current_app.send_task", broker.send_task)
    yield broker
    app.conf.task_always_eager = eager
