"""A worker survives its broker restarting under load, and goes on working."""

import contextlib
import threading
import time
import uuid

import pytest

from copilot.models import WorkerHeartbeat
from copilot.tasks import record_worker_heartbeat
from tests.processes import CeleryWorker, RedisServer, publishing_to, require_services, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_same_worker_works_after_five_redis_restarts_during_a_burst():
    require_services()
    redis_server = RedisServer()
    queue = f"test-{uuid.uuid4().hex}"
    # With the options production runs it with (README, docs/deploy/systemd).
    worker = CeleryWorker(redis_url=redis_server.url, queue=queue)
    stop = threading.Event()

    def burst() -> None:
        # About 20 tasks a second, whatever the broker's state (a refused publish is dropped).
        while not stop.is_set():
            # While the broker is down publishing fails, as it would for any sender.
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
            for _ in range(5):
                time.sleep(1.5)
                redis_server.stop()
                time.sleep(1.0)
                redis_server.start()
            stop.set()
            sender.join(timeout=10)

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
