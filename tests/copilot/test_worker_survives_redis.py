"""A worker survives its broker restarting under load, and goes on working."""

import contextlib
import threading
import time
import uuid

import pytest

from copilot.models import WorkerHeartbeat
from copilot.tasks import record_worker_heartbeat
from tests.processes import CeleryWorker, RedisServer, publishing_to, require_services, wait_until
from tests.worker_tasks import acknowledged_after_running

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_same_worker_works_after_five_redis_restarts_during_a_burst():
    require_services()
    redis_server = RedisServer()
    queue = f"test-{uuid.uuid4().hex}"
    # With the options production runs the default queue's worker with (README,
    # docs/deploy/systemd): four processes, so that several deliveries are in flight at once.
    worker = CeleryWorker(
        redis_url=redis_server.url,
        queue=queue,
        options=("--concurrency", "4", "--without-gossip", "--without-mingle"),
    )
    stop = threading.Event()

    def burst() -> None:
        # About 20 tasks a second, whatever the broker's state (a refused publish is dropped).
        # Half are acknowledged only after running, as the pipeline's are, so each restart
        # catches deliveries in flight (the unacknowledged ones kombu restores).
        while not stop.is_set():
            # While the broker is down publishing fails, as it would for any sender.
            with contextlib.suppress(Exception):
                acknowledged_after_running.apply_async((0.3,), queue=queue, retry=False)
            with contextlib.suppress(Exception):
                record_worker_heartbeat.apply_async(queue=queue, retry=False)
            time.sleep(0.05)

    try:
        with publishing_to(redis_server.url):
            record_worker_heartbeat.apply_async(queue=queue)
            assert wait_until(
                lambda: WorkerHeartbeat.objects.filter(hostname=worker.name).exists(), timeout=60
            ), worker.stop()
            sender = threading.Thread(target=burst, daemon=True)
            sender.start()
            # Outages of different lengths, ended by a crash (SIGKILL) rather than a shutdown:
            # celery 5.7.0's worker exits at the first or second of them (see pyproject.toml).
            for restart in range(5):
                time.sleep(1.5 + restart * 0.3)
                redis_server.kill()
                time.sleep(0.5 + restart * 0.4)
                redis_server.start()
            stop.set()
            sender.join(timeout=10)

            # The same process: nothing restarted it (no supervisor runs in a test).
            alive = worker.process.poll() is None
            WorkerHeartbeat.objects.all().delete()
            record_worker_heartbeat.apply_async(queue=queue)
            working = wait_until(
                lambda: WorkerHeartbeat.objects.filter(hostname=worker.name).exists(), timeout=60
            )
    finally:
        stop.set()
        log = worker.stop()
        redis_server.stop()

    assert alive, log[-3000:]
    assert working, log[-3000:]
    assert "Unrecoverable error" not in log
    # Each of the five restarts reached the worker while it was consuming.
    assert log.count("Connection to broker lost") == 5, log[-3000:]
