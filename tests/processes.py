"""Real processes for tests: a Celery worker on the Redis broker, a throw-away redis-server."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def require_services() -> str:
    """Returns REDIS_URL, or skips (a failure in CI) when the real services are not configured."""
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        pytest.skip("needs REDIS_URL (a real Redis) to run a Celery worker")
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL (PostgreSQL) so that a worker process shares the database")
    return redis_url


def shared_database_url() -> str:
    """The URL of the test database pytest-django created, for other processes to use."""
    params = connection.settings_dict
    user = params.get("USER") or ""
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{params['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate: Callable[[], bool], *, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class CeleryWorker:
    """A `celery worker` process on its own queue, in its own process group so it can be killed."""

    def __init__(
        self,
        *,
        redis_url: str,
        queue: str,
        extra_env: dict[str, str] | None = None,
        # As production runs workers (README, docs/deploy/systemd): gossip and mingle serve
        # nothing here, and their shutdown on a lost connection is where workers have crashed.
        options: tuple[str, ...] = ("--without-gossip", "--without-mingle"),
    ):
        self.queue = queue
        # A file, not a pipe: a pipe nobody reads fills up and blocks the worker's logging.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115  (open for the process's life)
        self.name = f"test-{uuid.uuid4().hex[:8]}@localhost"
        env = {
            **os.environ,
            "DATABASE_URL": shared_database_url(),
            "REDIS_URL": redis_url,
            "DJANGO_SETTINGS_MODULE": "copilot.settings",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "PYTHONPATH": str(PROJECT_ROOT),
            **(extra_env or {}),
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "copilot",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                *options,
                "--queues",
                queue,
                "--hostname",
                self.name,
                "--include",
                "tests.worker_tasks",
                "--loglevel",
                "INFO",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """Kills the worker and its pool children at once, as a crash or an OOM kill would."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> str:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.output()

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


class RedisServer:
    """A redis-server of our own on a free port, so a test can stop it."""

    def __init__(self):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("needs the redis-server program")
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.start()

    def start(self) -> None:
        """Starts (or starts again, empty) the server on its port."""
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_until(self._accepts_connections, timeout=10):
            self.stop()
            raise RuntimeError("redis-server did not start")

    def _accepts_connections(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def kill(self) -> None:
        """Ends the server at once (SIGKILL), as a crash or an OOM kill would: clients see their
        connections reset, without the goodbye of a shutdown."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class CeleryBeat:
    """A `celery beat` process: the scheduler that runs the sweep of queued work."""

    def __init__(self, *, redis_url: str, extra_env: dict[str, str] | None = None):
        self.schedule = Path(tempfile.mkdtemp()) / "beat-schedule"
        self.log = tempfile.TemporaryFile()  # noqa: SIM115  (open for the process's life)
        env = {
            **os.environ,
            "DATABASE_URL": shared_database_url(),
            "REDIS_URL": redis_url,
            "DJANGO_SETTINGS_MODULE": "copilot.settings",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "PYTHONPATH": str(PROJECT_ROOT),
            **(extra_env or {}),
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "copilot",
                "beat",
                "--schedule",
                str(self.schedule),
                "--loglevel",
                "INFO",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> str:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        shutil.rmtree(self.schedule.parent, ignore_errors=True)
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


@contextlib.contextmanager
def publishing_to(redis_url: str):
    """Points this process's Celery publishers at another broker (a Redis a test can stop)."""
    from copilot import celery_app

    previous = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)
    celery_app.conf.broker_url = redis_url
    celery_app.conf.task_always_eager = False
    _forget_connections(celery_app)
    try:
        yield
    finally:
        celery_app.conf.broker_url, celery_app.conf.task_always_eager = previous
        _forget_connections(celery_app)


def _forget_connections(app) -> None:
    # Celery keeps its connection and producer pools: forget them (kombu keeps one per broker
    # URL, unclosed, for whoever uses that URL again) so the next publish uses the new URL.
    app._pool = None
    app.amqp._producer_pool = None
