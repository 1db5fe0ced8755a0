import os
import signal
import socket
import threading
import time

import pytest

from tests.processes import RedisServer


def test_healthz_answers_without_touching_dependencies(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["X-Request-ID"]


@pytest.mark.django_db
def test_readyz_reports_every_dependency(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {"database", "cache", "broker"} <= set(body["checks"])
    assert all(check["ok"] for check in body["checks"].values() if "ok" in check)


def _point_redis_at(settings, url: str, *, timeout: float) -> None:
    settings.REDIS_URL = url
    settings.REDIS_SOCKET_TIMEOUT = timeout
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": timeout, "socket_timeout": timeout},
        }
    }


@pytest.mark.django_db
def test_readyz_reports_a_stopped_redis_as_down_quickly(admin_client, settings):
    client = admin_client  # staff see why a dependency is down
    redis_server = RedisServer()
    try:
        _point_redis_at(settings, redis_server.url, timeout=1.0)
        assert client.get("/readyz").status_code == 200

        redis_server.stop()
        started = time.monotonic()
        response = client.get("/readyz")
        elapsed = time.monotonic() - started
    finally:
        redis_server.stop()

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is True
    assert checks["cache"]["ok"] is False
    assert checks["broker"]["ok"] is False
    assert "Connection" in checks["broker"]["detail"]
    assert elapsed < 3


@pytest.mark.django_db
def test_readyz_does_not_hang_on_a_redis_that_never_answers(client, settings):
    # A listening socket that accepts connections and never replies, like a wedged server.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept_forever():
        silent.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(silent.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    try:
        _point_redis_at(settings, f"redis://127.0.0.1:{silent.getsockname()[1]}/0", timeout=0.5)
        started = time.monotonic()
        response = client.get("/readyz")
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        silent.close()

    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False
    assert elapsed < 3


@pytest.mark.django_db
def test_readyz_answers_in_about_a_second_when_redis_hangs(admin_client, settings):
    redis_server = RedisServer()
    try:
        # The application's own Redis timeouts, as production sets them (REDIS_SOCKET_TIMEOUT).
        _point_redis_at(settings, redis_server.url, timeout=2.0)
        assert admin_client.get("/readyz").status_code == 200

        # A hung server: the kernel still accepts connections, nothing ever answers.
        os.kill(redis_server.process.pid, signal.SIGSTOP)
        started = time.monotonic()
        response = admin_client.get("/readyz")
        elapsed = time.monotonic() - started
    finally:
        os.kill(redis_server.process.pid, signal.SIGCONT)
        redis_server.stop()

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is True
    assert checks["cache"]["ok"] is False
    assert checks["broker"]["ok"] is False
    assert "Timeout" in checks["broker"]["detail"]
    assert elapsed < 1.5


@pytest.mark.django_db
def test_readyz_tells_anonymous_callers_only_ok_or_not(client, settings, caplog):
    redis_server = RedisServer()
    try:
        _point_redis_at(settings, redis_server.url, timeout=1.0)
        redis_server.stop()
        response = client.get("/readyz")
    finally:
        redis_server.stop()

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["broker"] == {"ok": False}
    assert checks["database"] == {"ok": True}
    assert str(redis_server.port) not in response.content.decode()
    # The reason goes to the log, for operators.
    assert "broker is down" in caplog.text and str(redis_server.port) in caplog.text


@pytest.mark.django_db
def test_worker_status_says_when_no_worker_is_consuming(client, settings):
    from datetime import timedelta

    from django.utils import timezone

    from copilot.models import WorkerHeartbeat

    settings.COPILOT_WORKER_STALE_SECONDS = 45
    assert client.get("/status/workers").status_code == 503

    WorkerHeartbeat.objects.create(hostname="w1", seen_at=timezone.now() - timedelta(seconds=5))
    healthy = client.get("/status/workers")
    WorkerHeartbeat.objects.update(seen_at=timezone.now() - timedelta(seconds=90))
    stale = client.get("/status/workers")

    assert healthy.status_code == 200 and healthy.json()["consuming"] is True
    assert stale.status_code == 503
    assert stale.json()["consuming"] is False
    assert stale.json()["detail"].startswith("No Celery worker has run a task for 9")
    # Readiness does not depend on workers: web processes stay in rotation.
    assert client.get("/readyz").json()["checks"]["worker"] == {"consuming": False}


@pytest.mark.django_db
def test_the_admin_shows_a_banner_when_no_worker_is_consuming(admin_client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a deployment with workers

    page = admin_client.get("/admin/").content.decode()

    assert 'role="alert">No Celery worker has ever run a task' in page


def test_no_page_may_be_framed(client):
    response = client.get("/healthz")

    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
