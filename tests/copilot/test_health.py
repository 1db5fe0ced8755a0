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
def test_readyz_reports_a_stopped_redis_as_down_quickly(client, settings):
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
