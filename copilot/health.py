"""Readiness checks behind `/readyz`: each answers quickly, even when its service is down."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from .models import WorkerHeartbeat

# How long a readiness check waits for Redis, on a connection of its own: a hung Redis (stopped,
# or its machine gone, while the kernel still accepts connections) makes /readyz answer "not
# ready" in about a second, not after the cache's REDIS_SOCKET_TIMEOUT and redis-py's retries.
READINESS_REDIS_TIMEOUT_SECONDS = 0.4


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str
    latency_ms: float = 0.0
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        latency_ms = round(self.latency_ms, 1)
        return {"ok": self.ok, "detail": self.detail, "latency_ms": latency_ms, **self.extra}


def _timed(check: Callable[[], CheckResult]) -> CheckResult:
    started = time.perf_counter()
    try:
        result = check()
    except Exception as error:
        result = CheckResult(ok=False, detail=f"{type(error).__name__}: {error}")
    return CheckResult(
        ok=result.ok,
        detail=result.detail,
        latency_ms=(time.perf_counter() - started) * 1000,
        extra=result.extra,
    )


def check_database() -> CheckResult:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return CheckResult(ok=True, detail=connection.vendor)


def _redis_client(url: str) -> redis.Redis:
    """A client of its own for one check: bounded timeouts and no retry."""
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=READINESS_REDIS_TIMEOUT_SECONDS,
        socket_timeout=READINESS_REDIS_TIMEOUT_SECONDS,
        retry=None,
    )


def check_cache() -> CheckResult:
    backend = settings.CACHES["default"]["BACKEND"]
    if backend == "django.core.cache.backends.redis.RedisCache":
        # Through a connection of its own: the cache's pool waits REDIS_SOCKET_TIMEOUT.
        client = _redis_client(settings.CACHES["default"]["LOCATION"])
        try:
            client.set("copilot:readyz", "1", ex=10)
            written = client.get("copilot:readyz") == b"1"
        finally:
            client.close()
    else:
        cache.set("readyz", "1", timeout=10)
        written = cache.get("readyz") == "1"
    if not written:
        return CheckResult(ok=False, detail="the cache did not return what was written")
    return CheckResult(ok=True, detail=backend.rsplit(".", 1)[-1])


def check_broker() -> CheckResult:
    if not settings.REDIS_URL:
        return CheckResult(ok=True, detail="in process (no broker configured)")
    client = _redis_client(settings.REDIS_URL)
    try:
        client.ping()
    finally:
        client.close()
    return CheckResult(ok=True, detail="redis")


@dataclass(frozen=True)
class WorkerStatus:
    """Whether a worker is consuming: one ran the beat-scheduled heartbeat lately."""

    consuming: bool
    last_seen: datetime | None
    age_seconds: float | None
    hostname: str = ""

    @property
    def sentence(self) -> str:
        if self.consuming:
            return f"A worker ran a task {self.age_seconds:.0f} seconds ago."
        if self.last_seen is None:
            return (
                "No Celery worker has ever run a task: messages are stored but not "
                "classified or written back. Start a worker and beat."
            )
        return (
            f"No Celery worker has run a task for {self.age_seconds:.0f} seconds: messages are "
            "stored but wait. Check that a worker and beat are running (and Redis)."
        )


def worker_status() -> WorkerStatus:
    """Read from the database: whether a worker ran the heartbeat within
    COPILOT_WORKER_STALE_SECONDS (beat queues it every COPILOT_HEARTBEAT_SECONDS)."""
    latest = WorkerHeartbeat.objects.order_by("-seen_at").first()
    if latest is None:
        return WorkerStatus(consuming=False, last_seen=None, age_seconds=None)
    age = (timezone.now() - latest.seen_at).total_seconds()
    return WorkerStatus(
        consuming=age < settings.COPILOT_WORKER_STALE_SECONDS,
        last_seen=latest.seen_at,
        age_seconds=max(age, 0.0),
        hostname=latest.hostname,
    )


def worker_warning() -> str:
    """The sentence for staff pages when no worker is consuming (empty when all is well), read
    at most every few seconds per process. Not in the embedded default, where tasks run in
    process."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return ""
    warning = cache.get("copilot:worker-warning")
    if warning is None:
        try:
            status = worker_status()
        except Exception:
            return ""
        warning = "" if status.consuming else status.sentence
        cache.set("copilot:worker-warning", warning, timeout=5)
    return warning


def readiness_checks() -> dict[str, Callable[[], CheckResult]]:
    # Imported here: the intents app builds on this module, not the other way round.
    from intents.health import check_active_model

    return {
        "database": check_database,
        "cache": check_cache,
        "broker": check_broker,
        "intent_model": check_active_model,
    }


def readiness() -> tuple[bool, dict]:
    results = {name: _timed(check) for name, check in readiness_checks().items()}
    ok = all(result.ok for result in results.values())
    report = {name: result.as_dict() for name, result in results.items()}
    if results["database"].ok:
        status = worker_status()
        report["worker"] = {
            "consuming": status.consuming,
            "last_seen": status.last_seen.isoformat() if status.last_seen else None,
            "hostname": status.hostname,
        }
    return ok, report
